//! The badge through the SDK: a session verified against the platform root,
//! the same safety number on both sides, and the badge taken away in the
//! open chat (with the reason) when the customer's app learns a revocation.

mod common;

use std::sync::{Arc, RwLock};

use common::*;
use hotline::IdentityKeyPair;
use hotline::business::{
    Badge, BusinessCertificateRequest, BusinessId, CertificateChain, IssuerAuthority, LevelSet,
    RootAuthority, TemplateCategory, TemplateError, TemplatedNotification, TrustStore, Validity,
    VerificationLevel,
};
use hotline::relay::{
    Clock, ConsentScope, MemoryStore, MessageClass, Relay, RelayStore, SystemClock,
};
use hotline::store::StorageKey;
use hotline_client::{Event, Role};

const DAY: u64 = 86_400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_learned_in_the_open_chat_takes_the_badge_away_with_the_reason() {
    let mut rng = rand::rng();
    let now = SystemClock.now();
    let validity = Validity {
        not_before: now - DAY,
        not_after: now + 365 * DAY,
    };
    let root = RootAuthority::generate(1, validity, &mut rng);
    let (seed, key) = IssuerAuthority::generate_key(&mut rng);
    let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
    let issuer = IssuerAuthority::new(
        &seed,
        root.certify_issuer(7, &key, levels, validity).unwrap(),
    )
    .unwrap();
    let identity = IdentityKeyPair::generate(&mut rng);
    let certificate = issuer
        .issue(&BusinessCertificateRequest {
            serial: 55,
            business_id: BusinessId([0x55; 16]),
            identity_key: *identity.public().signing_key(),
            name: "Example Bank".into(),
            localized: vec![],
            level: VerificationLevel::Verified,
            validity,
        })
        .unwrap();
    let chain = CertificateChain::new(issuer.certificate().clone(), certificate);

    let mut trust = TrustStore::new();
    trust.add_root(root.trust_root()).unwrap();
    let store: Box<dyn RelayStore> = Box::new(MemoryStore::new());
    let server = Server::serve(Relay::new(store, SystemClock, Arc::new(RwLock::new(trust)))).await;

    let mut bconfig = config(&server.url, &StorageKey::generate(&mut rng)).role(Role::Business {
        certificate_chain: Some(Box::new(chain)),
    });
    bconfig.identity = Some(identity);
    let (business, mut bevents) = open(bconfig).await;
    wait_for(&mut bevents, |e| {
        matches!(e, Event::Connected).then_some(())
    })
    .await;

    let (customer, mut cevents) =
        open(config(&server.url, &StorageKey::generate(&mut rng)).trust_root(root.trust_root()))
            .await;
    customer
        .consent(business.account(), ConsentScope::ALL)
        .await
        .unwrap();
    let info = customer.start_session(business.account()).await.unwrap();
    let Badge::Verified { business: b, .. } = &info.badge else {
        panic!("not verified: {:?}", info.badge);
    };
    assert_eq!(b.name(), "Example Bank");
    customer
        .send(
            business.account(),
            MessageClass::Chat,
            b"Is my card blocked?".to_vec(),
        )
        .await
        .unwrap();
    let m = wait_for(&mut bevents, |e| match e {
        Event::Message(m) => Some(m),
        _ => None,
    })
    .await;
    assert_eq!(
        business.safety_number(m.from).await.unwrap(),
        Some(info.safety_number.clone())
    );

    // Notifications: an approved template renders; free text does not.
    let template = issuer
        .approve_template(
            BusinessId([0x55; 16]),
            3,
            TemplateCategory::Authentication,
            "en",
            "Your code is {{1}}.",
            validity,
        )
        .unwrap();
    let coded = TemplatedNotification::new(&template, &["123456"]).unwrap();
    business
        .send(m.from, MessageClass::Notification, coded.to_bytes())
        .await
        .unwrap();
    let note = wait_for(&mut cevents, |e| match e {
        Event::Message(m) => Some(m),
        _ => None,
    })
    .await;
    let shown = customer.render_notification(&note).await.unwrap();
    assert_eq!(
        (shown.category, shown.text.as_str()),
        (TemplateCategory::Authentication, "Your code is 123456.")
    );
    business
        .send(
            m.from,
            MessageClass::Notification,
            b"Your code is 999999.".to_vec(),
        )
        .await
        .unwrap();
    let free = wait_for(&mut cevents, |e| match e {
        Event::Message(m) => Some(m),
        _ => None,
    })
    .await;
    assert!(matches!(
        customer.render_notification(&free).await,
        Err(hotline_client::Error::Template(TemplateError::Decode(_)))
    ));

    // The issuer revokes the bank; the customer's app learns the list.
    let list = issuer.revoke(now, now, now + 7 * DAY, &[55]).unwrap();
    let issuer_cert = issuer.certificate().clone();
    customer
        .update_trust(move |t| {
            t.apply_revocation_list(&list, Some(&issuer_cert), now)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .await
        .unwrap();
    let (badge, reason) = wait_for(&mut cevents, |e| match e {
        Event::BadgeChanged { badge, reason, .. } => Some((badge, reason)),
        _ => None,
    })
    .await;
    assert!(matches!(badge, Some(Badge::Revoked { .. })), "{badge:?}");
    assert!(reason.contains("revoked by issuer 7"), "{reason}");
    assert!(matches!(
        customer.badge(business.account()).await.unwrap(),
        Some(Badge::Revoked { .. })
    ));
    // The same approved template from a business whose badge is gone is
    // not shown.
    assert!(matches!(
        customer.render_notification(&note).await,
        Err(hotline_client::Error::Template(TemplateError::NotVerified))
    ));
    customer.shutdown().await;
    business.shutdown().await;
    server.stop().await;
}

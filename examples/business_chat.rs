//! A customer and an airline talk through a relay that holds only
//! ciphertext and enforces the rules of business messaging.
//!
//! Run with `cargo run --example business_chat`. Each step prints what the
//! customer's app, the airline's console and the relay each see:
//!
//! 1. the platform's root certifies an issuer, which certifies the airline;
//! 2. the relay checks the airline's certificate chain when it registers,
//!    and staples the short-lived status the airline publishes;
//! 3. the customer opts in, 4. asks about a booking and sees the verified
//!    badge, 5. the airline answers; 6. 25 hours later a free-form message is
//!    refused, 7. a notification goes through and is metered; 8. the issuer
//!    revokes the airline and the badge goes in the open chat, with the
//!    reason, and the list published through the relay stops the airline; 9. the customer blocks the airline and its next message is
//!    refused; 10. the airline keeps the signed consent as evidence.
//!
//! Both apps are `hotline::store::Client`s: each keeps its keys, sessions,
//! request counter, blocks and trust state in its own encrypted store.

use hotline::business::{
    Badge, BusinessCertificateRequest, BusinessId, CertificateChain, Expiry, IssuerAuthority,
    LevelSet, RevokedBy, RootAuthority, TemplateCategory, TemplatedNotification, TrustStore,
    Validity, VerificationLevel,
};
use hotline::relay::{
    CertificateRefused, Clock, ConsentScope, Delivery, Envelope, ManualClock, MemoryStore,
    MessageClass, PreKeyUpload, Relay, RelayError, RelayStore, Request, Response,
};
use hotline::store::{Client, MemoryStore as AppStore, PeerId, StorageKey};
use hotline::{IdentityKeyPair, PreKeyStore};
use std::sync::{Arc, RwLock};

type Error = Box<dyn std::error::Error>;
type App = Client<AppStore>;

/// Mon 1 Jun 2026 09:00 UTC, the relay's clock at the start.
const START: u64 = 1_780_304_400;
const DAY: u64 = 86_400;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the relay can see of an envelope: metadata and opaque bytes.
fn relay_sees(e: &Envelope) {
    let h = &e.header;
    println!(
        "   relay sees     {:?} {} -> {}, {} bytes of ciphertext …{}",
        h.class,
        h.sender.short(),
        h.recipient.short(),
        e.ciphertext.len(),
        hex(&e.ciphertext[e.ciphertext.len() - 8..])
    );
}

/// The badge the customer's app shows for the airline, computed now from
/// its own trust state, never from anything the relay says.
fn badge(app: &mut App, peer: &PeerId, now: u64) -> Result<String, Error> {
    Ok(match app.badge(peer, now)? {
        Some(Badge::Verified { business, until }) => format!(
            "verified business: {} ({}), good until {until}",
            business.name(),
            business.level()
        ),
        Some(Badge::Revoked { business, by }) => match by {
            RevokedBy::Certificate {
                issuer_id,
                sequence,
            } => format!(
                "NOT verified: {}'s certificate was revoked by issuer {issuer_id} (list {sequence})",
                business.name()
            ),
            other => format!("NOT verified: revoked ({other:?})"),
        },
        Some(Badge::Expired { what, since, .. }) => match what {
            Expiry::Certificate => format!("NOT verified: certificate expired at {since}"),
            _ => format!("NOT verified: no fresh proof of good standing since {since}"),
        },
        Some(Badge::Unverified) => "unverified".into(),
        Some(other) => format!("{other:?}"),
        None => "no session".into(),
    })
}

struct Demo {
    relay: Relay,
    clock: ManualClock,
}

impl Demo {
    fn now(&self) -> u64 {
        self.clock.now()
    }
    /// A request through the byte-level API, as any transport would carry
    /// it, signed by the app (its request counter is stored with it).
    fn call(&self, who: &mut App, req: Request) -> Result<Response, Error> {
        let bytes = who.sign_request(req, self.now())?.to_bytes();
        Ok(Response::decode_result(&self.relay.handle(&bytes))?.map_err(|r| format!("{r:?}"))?)
    }
    /// A request through the typed API, to show the relay's precise refusal.
    fn try_call(&self, who: &mut App, req: Request) -> Result<Response, String> {
        let signed = who
            .sign_request(req, self.now())
            .map_err(|e| e.to_string())?;
        self.relay
            .handle_request(&signed)
            .map_err(|e| e.to_string())
    }
    /// Fetches and acknowledges the mailbox.
    fn inbox(&self, who: &mut App) -> Result<Vec<Delivery>, Error> {
        let Response::Mailbox { deliveries, .. } =
            self.call(who, Request::FetchMailbox { max: 10 })?
        else {
            return Err("unexpected response".into());
        };
        let ids = deliveries.iter().map(|d| d.id).collect();
        self.call(who, Request::Acknowledge { ids })?;
        Ok(deliveries)
    }
}

fn app(rng: &mut rand::rngs::ThreadRng) -> Result<App, Error> {
    Ok(Client::create(
        AppStore::in_memory(StorageKey::generate(rng)),
        0,
        0,
        rng,
    )?)
}

fn main() -> Result<(), Error> {
    let mut rng = rand::rng();

    println!("1. The platform certifies the airline.");
    let years = |n: u64| n * 365 * DAY;
    let root = RootAuthority::generate(
        1,
        Validity {
            not_before: START - years(1),
            not_after: START + years(10),
        },
        &mut rng,
    );
    let (issuer_seed, issuer_key) = IssuerAuthority::generate_key(&mut rng);
    let levels = LevelSet::new(&[VerificationLevel::Verified, VerificationLevel::Official])
        .ok_or("no levels")?;
    let issuer_validity = Validity {
        not_before: START - years(1),
        not_after: START + years(3),
    };
    let issuer_cert = root.certify_issuer(7, &issuer_key, levels, issuer_validity)?;
    let issuer = IssuerAuthority::new(&issuer_seed, issuer_cert)?;
    println!("   platform       root 1 certifies issuer 7 for levels verified and official");

    let airline_identity = IdentityKeyPair::generate(&mut rng);
    let certificate = issuer.issue(&BusinessCertificateRequest {
        serial: 1001,
        business_id: BusinessId([0xEA; 16]),
        identity_key: *airline_identity.public().signing_key(),
        name: "Example Air".into(),
        localized: vec![],
        level: VerificationLevel::Official,
        validity: Validity {
            not_before: START - 30 * DAY,
            not_after: START + years(1),
        },
    })?;
    let chain = CertificateChain::new(issuer.certificate().clone(), certificate);
    println!(
        "   platform       issuer 7 certifies identity {} as \"Example Air\" (official), serial 1001",
        airline_identity.public().short_id()
    );

    println!("\n2. The airline registers with the relay, which checks its chain.");
    // The relay and the customers' apps hold the same root.
    let mut relay_trust = TrustStore::new();
    relay_trust.add_root(root.trust_root())?;
    // The relay's trust store takes the lists and statuses published to it.
    let relay_trust = Arc::new(RwLock::new(relay_trust));
    let clock = ManualClock::new(START);
    let demo = Demo {
        relay: Relay::new(MemoryStore::new(), clock.clone(), relay_trust),
        clock,
    };
    let mut airline_prekeys = PreKeyStore::new(&airline_identity, 20, 20, &mut rng);
    airline_prekeys.set_certificate_chain(chain.clone())?;
    // The airline's console keeps its identity, prekeys and sessions in its
    // own encrypted store.
    let mut airline = Client::create_with(
        AppStore::in_memory(StorageKey::generate(&mut rng)),
        airline_identity,
        airline_prekeys.clone(),
    )?;
    let identity = airline.identity();
    demo.call(
        &mut airline,
        Request::RegisterBusiness {
            identity,
            certificate_chain: chain.to_bytes(),
        },
    )?;
    let upload = PreKeyUpload {
        signed_prekey: Some(airline_prekeys.signed_prekey()),
        last_resort_kem_prekey: Some(airline_prekeys.last_resort_kem_prekey()),
        one_time_prekeys: airline_prekeys.one_time_prekeys(),
        kem_prekeys: airline_prekeys.kem_prekeys(),
    };
    demo.call(&mut airline, Request::UploadPreKeys(upload))?;
    let record = demo
        .relay
        .store()
        .account(&airline.account_id())?
        .ok_or("not registered")?;
    println!(
        "   relay sees     business {} registered as {:?} (chain valid under root 1), 20 + 20 one-time prekeys",
        airline.account_id().short(),
        record.name
    );
    // The airline fetches a short-lived status of good standing from its
    // issuer and publishes it; the relay staples it to its bundles.
    let status = issuer.certify_status(1001, demo.now(), demo.now() + 3 * 86_400)?;
    demo.call(&mut airline, Request::PublishStatus(status.clone()))?;
    println!(
        "   relay sees     a status of certificate 1001 signed by issuer 7, good until {} (stapled to bundles)",
        status.next_update()
    );
    // Someone else presenting the airline's certificate is turned away.
    let mut impostor = app(&mut rng)?;
    let identity = impostor.identity();
    let request = Request::RegisterBusiness {
        identity,
        certificate_chain: chain.to_bytes(),
    };
    let refused = demo
        .relay
        .handle_request(&impostor.sign_request(request, demo.now())?);
    if let Err(RelayError::CertificateRefused(CertificateRefused::Invalid(reason))) = refused {
        println!("   relay refuses  an impostor presenting the airline's chain: {reason:?}");
    }

    println!("\n3. A customer installs the app and opts in to messages from the airline.");
    let mut customer = app(&mut rng)?;
    // The app ships with the platform's root, kept in its own trust state.
    customer.update_trust(|t| t.add_root(root.trust_root()))?;
    let identity = customer.identity();
    demo.call(&mut customer, Request::RegisterCustomer { identity })?;
    let consent = customer.consent_record(airline.account_id(), ConsentScope::ALL, START);
    demo.call(&mut customer, Request::Consent(consent))?;
    println!(
        "   relay sees     consent {} -> {}: chat + notifications, signed by the customer",
        customer.account_id().short(),
        airline.account_id().short()
    );
    let to_airline = PeerId::account(&airline.account_id());

    println!("\n4. The customer asks about a booking.");
    let Response::Bundle { bundle, status } = demo.call(
        &mut customer,
        Request::FetchBundle {
            owner: airline.account_id(),
        },
    )?
    else {
        return Err("no bundle".into());
    };
    println!(
        "   relay sees     {} fetched the bundle of {} (one-time prekeys handed out once)",
        customer.account_id().short(),
        airline.account_id().short()
    );
    // The app validates the chain in the bundle itself and binds it into
    // the handshake; the relay's word counts for nothing here.
    let verified = customer.trust_store().verify_bundle(&bundle, demo.now())?;
    customer.start_verified_session(&to_airline, &bundle, &verified, &mut rng)?;
    // The stapled status is checked against the business just verified: it
    // bounds the badge to a few days, whatever the certificate says.
    if let Some(status) = status {
        customer.learn_status(&to_airline, &status, demo.now())?;
    }
    println!(
        "   customer sees  [{}]",
        badge(&mut customer, &to_airline, demo.now())?
    );
    let question = "Hi, can I move booking ZX81QK to Friday?";
    let envelope = customer.seal(
        &to_airline,
        MessageClass::Chat,
        demo.now(),
        question.as_bytes(),
        &mut rng,
    )?;
    demo.call(&mut customer, Request::Send(envelope))?;
    println!("   customer wrote {question:?}");

    let delivery = demo.inbox(&mut airline)?.remove(0);
    relay_sees(&delivery.envelope);
    // The airline's app checks that the message was made by the sender
    // account's own identity before it runs the handshake.
    let got = airline.open_envelope(&delivery.envelope)?;
    println!(
        "   airline reads  {:?} (from {}, a customer)",
        String::from_utf8(got.plaintext)?,
        delivery.envelope.header.sender.short()
    );
    let to_customer = got.peer;

    println!("\n5. The airline answers within the 24-hour window.");
    let answer = "Yes: Friday 09:40, seat 14A. Your booking is changed.";
    let envelope = airline.seal(
        &to_customer,
        MessageClass::Chat,
        demo.now(),
        answer.as_bytes(),
        &mut rng,
    )?;
    demo.call(&mut airline, Request::Send(envelope))?;
    println!("   airline wrote  {answer:?}");
    for d in demo.inbox(&mut customer)? {
        relay_sees(&d.envelope);
        let got = customer.open_envelope(&d.envelope)?;
        println!(
            "   customer reads [{}, {:?}] {:?}",
            badge(&mut customer, &to_airline, demo.now())?,
            got.class,
            String::from_utf8(got.plaintext)?
        );
    }

    println!("\n6. 25 hours later, the airline tries a free-form follow-up.");
    demo.clock.advance(25 * 3600);
    let late = airline.seal(
        &to_customer,
        MessageClass::Chat,
        demo.now(),
        b"Anything else we can help with?",
        &mut rng,
    )?;
    println!(
        "   relay refuses  {}",
        demo.try_call(&mut airline, Request::Send(late))
            .unwrap_err()
    );
    println!("   airline sees   the refusal; the customer sees nothing");

    println!(
        "\n7. A notification still goes through, as a template the issuer approved, and is metered."
    );
    // The platform reviewed this text once; the relay never sees it, so
    // the customer's app is where the approval is checked.
    let check_in = issuer.approve_template(
        BusinessId([0xEA; 16]),
        1,
        TemplateCategory::Utility,
        "en",
        "Flight {{1}} on {{2}}: check-in is open.",
        Validity {
            not_before: 0,
            not_after: u64::MAX,
        },
    )?;
    println!(
        "   issuer 7 signs template 1 (utility, en): {:?}",
        check_in.body()
    );
    let content = TemplatedNotification::new(&check_in, &["EA212", "Friday"])?;
    let envelope = airline.seal(
        &to_customer,
        MessageClass::Notification,
        demo.now(),
        &content.to_bytes(),
        &mut rng,
    )?;
    demo.call(&mut airline, Request::Send(envelope))?;
    println!("   airline sends  template 1 with parameters [\"EA212\", \"Friday\"]");
    for d in demo.inbox(&mut customer)? {
        relay_sees(&d.envelope);
        // Had the relay relabelled the class, this decryption would fail.
        let got = customer.open_envelope(&d.envelope)?;
        let shown = customer.render_notification(&got, demo.now())??;
        println!(
            "   customer reads [{}, {:?}, {:?}] {:?}",
            badge(&mut customer, &to_airline, demo.now())?,
            got.class,
            shown.category,
            shown.text
        );
    }
    // Free text as a notification: delivered (the relay cannot tell), but
    // the customer's app refuses to show it.
    let free = airline.seal(
        &to_customer,
        MessageClass::Notification,
        demo.now(),
        b"Upgrade now, 50% off!",
        &mut rng,
    )?;
    demo.call(&mut airline, Request::Send(free))?;
    for d in demo.inbox(&mut customer)? {
        let got = customer.open_envelope(&d.envelope)?;
        println!(
            "   customer's app drops a notification that is no approved template: {}",
            customer.render_notification(&got, demo.now())?.unwrap_err()
        );
    }
    println!(
        "   operator reads business {} has sent {} notification(s) to bill",
        airline.account_id().short(),
        demo.relay.notification_count(&airline.account_id())?
    );

    println!(
        "\n8. The issuer revokes the airline's certificate; the badge goes, in the open chat."
    );
    let list = issuer.revoke(demo.now(), demo.now(), demo.now() + 7 * 86_400, &[1001])?;
    customer
        .update_trust(|t| t.apply_revocation_list(&list, Some(issuer.certificate()), demo.now()))?;
    println!(
        "   customer's app applies issuer 7's signed list and keeps it (no rollback after a restart)"
    );
    let content = TemplatedNotification::new(&check_in, &["EA212", "Saturday"])?;
    let envelope = airline.seal(
        &to_customer,
        MessageClass::Notification,
        demo.now(),
        &content.to_bytes(),
        &mut rng,
    )?;
    demo.call(&mut airline, Request::Send(envelope))?;
    for d in demo.inbox(&mut customer)? {
        let got = customer.open_envelope(&d.envelope)?;
        println!(
            "   customer sees  [{}] and the app refuses the notification: {}",
            badge(&mut customer, &to_airline, demo.now())?,
            customer.render_notification(&got, demo.now())?.unwrap_err()
        );
    }
    // The platform publishes the same list through the relay, which
    // applies it to its trust store at once: the airline can no longer
    // send; its customers can still write to it.
    demo.call(
        &mut customer,
        Request::PublishRevocationList {
            list: list.clone(),
            issuer: Some(issuer.certificate().clone()),
        },
    )?;
    let late = airline.seal(
        &to_customer,
        MessageClass::Notification,
        demo.now(),
        b"Upgrade now!",
        &mut rng,
    )?;
    println!(
        "   relay refuses  {}",
        demo.try_call(&mut airline, Request::Send(late))
            .unwrap_err()
    );

    println!("\n9. The customer blocks the airline too: the relay and the app both refuse it.");
    let block = customer.block_record(airline.account_id(), true, demo.now());
    demo.call(&mut customer, Request::Block(block))?;
    customer.block(&airline.account_id())?;
    println!(
        "   relay sees     block {} -> {}, signed by the customer",
        customer.account_id().short(),
        airline.account_id().short()
    );
    let spam = airline.seal(
        &to_customer,
        MessageClass::Notification,
        demo.now(),
        b"Last chance: 20% off upgrades!",
        &mut rng,
    )?;
    println!(
        "   relay refuses  {}",
        demo.try_call(&mut airline, Request::Send(spam.clone()))
            .unwrap_err()
    );
    println!(
        "   customer's app would drop it even if delivered: {}",
        customer.open_envelope(&spam).unwrap_err()
    );

    println!("\n10. The airline keeps its evidence of consent.");
    if let Response::ConsentEvidence(records) = demo.call(
        &mut airline,
        Request::ExportConsent {
            customer: customer.account_id(),
        },
    )? {
        for r in records {
            println!(
                "   airline holds  consent of {} at {}, scope {:?} ({} bytes signed by the customer)",
                r.customer().short(),
                r.time(),
                r.scope(),
                r.to_bytes().len()
            );
        }
    }
    Ok(())
}

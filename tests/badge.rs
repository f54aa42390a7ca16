//! The verified badge over time: computed at the moment asked from the
//! newest trust state, lost in an open chat when the business is revoked,
//! never brought back by replaying older state, and kept fresh by
//! short-lived statuses so that a withheld revocation costs at most one
//! status lifetime.

mod common;

use hotline::business::*;
use hotline::constants::{CLOCK_SKEW_SECS, MAX_STATUS_LIFETIME_SECS};
use hotline::hazmat::ed25519::Ed25519Secret;
use hotline::relay::MessageClass;
use hotline::store::{Client, MemoryStore, PeerId, StorageKey, TrustUpdateError};
use rand_chacha::ChaCha20Rng;

type C = Client<MemoryStore>;

const NOW: u64 = 1_800_000_000;
const DAY: u64 = 86_400;
const ISSUER_SEED: [u8; 32] = [0x15; 32];

struct Platform {
    root: RootAuthority,
    issuer: IssuerAuthority,
}

fn platform() -> Platform {
    let always = Validity {
        not_before: 0,
        not_after: u64::MAX,
    };
    let root = RootAuthority::from_seed(&[0x11; 32], 1, always);
    let key = Ed25519Secret::from_seed(&ISSUER_SEED).public_key();
    let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
    let cert = root.certify_issuer(7, &key, levels, always).unwrap();
    let issuer = IssuerAuthority::new(&ISSUER_SEED, cert).unwrap();
    Platform { root, issuer }
}

fn new_client(r: &mut ChaCha20Rng) -> C {
    Client::create(MemoryStore::in_memory(StorageKey::generate(r)), 5, 5, r).unwrap()
}

/// A certified business and a customer with a verified session to it.
fn chat(p: &Platform, r: &mut ChaCha20Rng, not_after: u64) -> (C, C, PeerId) {
    let mut business = new_client(r);
    let cert = p
        .issuer
        .issue(&BusinessCertificateRequest {
            serial: 1001,
            business_id: BusinessId([0x4b; 16]),
            identity_key: *business.identity().signing_key(),
            name: "Example Air".into(),
            localized: vec![],
            level: VerificationLevel::Verified,
            validity: Validity {
                not_before: 0,
                not_after,
            },
        })
        .unwrap();
    let chain = CertificateChain::new(p.issuer.certificate().clone(), cert);
    business
        .update_prekeys(|pk| pk.set_certificate_chain(chain.clone()))
        .unwrap()
        .unwrap();
    let mut customer = new_client(r);
    customer
        .update_trust(|t| t.add_root(p.root.trust_root()))
        .unwrap();
    let to_business = hotline::store::PeerId::account(&business.account_id());
    let bundle = business.bundle().unwrap();
    let verified = customer.trust_store().verify_bundle(&bundle, NOW).unwrap();
    customer
        .start_verified_session(&to_business, &bundle, &verified, r)
        .unwrap();
    let env = customer
        .seal(&to_business, MessageClass::Chat, NOW, b"hello", r)
        .unwrap();
    business.open_envelope(&env).unwrap();
    (business, customer, to_business)
}

#[test]
fn a_revoked_business_loses_its_badge_in_an_open_chat_and_after_a_restart() {
    let mut r = common::rng(1101);
    let p = platform();
    let (mut business, mut customer, to_business) = chat(&p, &mut r, u64::MAX);
    assert!(matches!(
        customer.badge(&to_business, NOW).unwrap(),
        Some(Badge::Verified {
            until: u64::MAX,
            ..
        })
    ));

    let list = p.issuer.revoke(2, NOW, &[1001]).unwrap();
    customer
        .update_trust(|t| t.apply_revocation_list(&list, Some(p.issuer.certificate()), NOW))
        .unwrap();
    let revoked = |c: &mut C| match c.badge(&to_business, NOW + 1).unwrap() {
        Some(Badge::Revoked {
            by:
                RevokedBy::Certificate {
                    issuer_id,
                    sequence,
                },
            business,
        }) => {
            assert_eq!((issuer_id, sequence), (7, 2));
            assert_eq!(business.name(), "Example Air");
        }
        other => panic!("expected a revoked badge, got {other:?}"),
    };
    revoked(&mut customer);
    // The chat goes on (the customer can still read what arrives)...
    let to_customer = PeerId::account(&customer.account_id());
    let env = business
        .seal(&to_customer, MessageClass::Chat, NOW, b"still here", &mut r)
        .unwrap();
    assert_eq!(
        customer.open_envelope(&env).unwrap().plaintext,
        b"still here"
    );
    // ... but the badge never comes back, also after a restart.
    let mut customer = Client::open(customer.into_store()).unwrap();
    revoked(&mut customer);
}

#[test]
fn a_restarted_client_refuses_an_older_revocation_list() {
    let mut r = common::rng(1102);
    let p = platform();
    let (_business, mut customer, to_business) = chat(&p, &mut r, u64::MAX);
    let old = p.issuer.revoke(1, NOW - 10, &[]).unwrap();
    let new = p.issuer.revoke(2, NOW, &[1001]).unwrap();
    let issuer = p.issuer.certificate().clone();
    customer
        .update_trust(|t| t.apply_revocation_list(&old, Some(&issuer), NOW))
        .unwrap();
    customer
        .update_trust(|t| t.apply_revocation_list(&new, Some(&issuer), NOW))
        .unwrap();
    let mut customer = Client::open(customer.into_store()).unwrap();
    match customer.update_trust(|t| t.apply_revocation_list(&old, Some(&issuer), NOW)) {
        Err(TrustUpdateError::Refused(RevocationError::Stale { current, offered })) => {
            assert_eq!((current, offered), (2, 1));
        }
        other => panic!("an older list was not refused: {other:?}"),
    }
    assert!(matches!(
        customer.badge(&to_business, NOW).unwrap(),
        Some(Badge::Revoked { .. })
    ));
}

#[test]
fn a_withheld_revocation_costs_at_most_one_status_lifetime() {
    let mut r = common::rng(1103);
    let p = platform();
    let (_business, mut customer, to_business) = chat(&p, &mut r, u64::MAX);
    customer
        .update_trust(|t| {
            t.require_status(true);
            Ok::<_, StatusError>(())
        })
        .unwrap();
    // Without any status, a required one is missing.
    assert!(matches!(
        customer.badge(&to_business, NOW).unwrap(),
        Some(Badge::Expired {
            what: Expiry::NoStatus,
            ..
        })
    ));
    let status = p.issuer.certify_status(1001, NOW, NOW + 3 * DAY).unwrap();
    let issuer = p.issuer.certificate().clone();
    customer
        .update_trust(|t| t.apply_status(&status, &issuer, NOW))
        .unwrap();
    assert!(matches!(
        customer.badge(&to_business, NOW + DAY).unwrap(),
        Some(Badge::Verified { until, .. }) if until == NOW + 3 * DAY
    ));
    // The issuer revokes, and the relay withholds the list: the client sees
    // no newer status either, and the badge goes when the status ends.
    let late = NOW + 3 * DAY + CLOCK_SKEW_SECS + 1;
    match customer.badge(&to_business, late).unwrap() {
        Some(Badge::Expired {
            what: Expiry::Status,
            since,
            ..
        }) => assert_eq!(since, NOW + 3 * DAY),
        other => panic!("expected an expired status, got {other:?}"),
    }
    // A fresh status brings it back, and survives a restart.
    let fresh = p.issuer.certify_status(1001, late, late + DAY).unwrap();
    customer
        .update_trust(|t| t.apply_status(&fresh, &issuer, late))
        .unwrap();
    let mut customer = Client::open(customer.into_store()).unwrap();
    assert!(
        customer
            .badge(&to_business, late)
            .unwrap()
            .unwrap()
            .is_verified()
    );
    // The older status cannot be replayed over it.
    assert!(matches!(
        customer.update_trust(|t| t.apply_status(&status, &issuer, late)),
        Err(TrustUpdateError::Refused(StatusError::Stale { .. }))
    ));
}

#[test]
fn statuses_are_checked_before_they_count() {
    let p = platform();
    let mut trust = TrustStore::new();
    trust.add_root(p.root.trust_root()).unwrap();
    let issuer = p.issuer.certificate().clone();
    // Windows: empty or longer than the maximum are never signed...
    assert!(p.issuer.certify_status(1, NOW, NOW).is_err());
    assert!(
        p.issuer
            .certify_status(1, NOW, NOW + MAX_STATUS_LIFETIME_SECS + 1)
            .is_err()
    );
    let ok = p
        .issuer
        .certify_status(1, NOW, NOW + MAX_STATUS_LIFETIME_SECS)
        .unwrap();
    // ... nor accepted when forged.
    let mut bytes = ok.to_bytes();
    bytes[30] ^= 1; // inside next_update
    let forged = CertificateStatus::from_bytes(&bytes).unwrap();
    assert_eq!(
        trust.apply_status(&forged, &issuer, NOW),
        Err(StatusError::BadSignature)
    );
    // Another issuer's certificate.
    let other_seed = [0x16; 32];
    let other_key = Ed25519Secret::from_seed(&other_seed).public_key();
    let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
    let always = Validity {
        not_before: 0,
        not_after: u64::MAX,
    };
    let other = p
        .root
        .certify_issuer(8, &other_key, levels, always)
        .unwrap();
    assert_eq!(
        trust.apply_status(&ok, &other, NOW),
        Err(StatusError::IssuerCertificateNeeded(7))
    );
    // From the future.
    let future = p
        .issuer
        .certify_status(1, NOW + CLOCK_SKEW_SECS + 1, NOW + DAY)
        .unwrap();
    assert!(matches!(
        trust.apply_status(&future, &issuer, NOW),
        Err(StatusError::InFuture { .. })
    ));
    // At the skew, accepted; then not again.
    assert_eq!(trust.apply_status(&ok, &issuer, NOW), Ok(()));
    assert_eq!(
        trust.apply_status(&ok, &issuer, NOW),
        Err(StatusError::Stale {
            current: NOW,
            offered: NOW
        })
    );
    assert_eq!(
        trust.status_until(7, 1),
        Some(NOW + MAX_STATUS_LIFETIME_SECS)
    );
    // Truncated and trailing bytes are typed errors.
    let good = ok.to_bytes();
    assert_eq!(good.len(), CERT_STATUS_LEN);
    for n in 0..good.len() {
        assert!(CertificateStatus::from_bytes(&good[..n]).is_err());
    }
    let mut long = good.clone();
    long.push(0);
    assert!(CertificateStatus::from_bytes(&long).is_err());
}

#[test]
fn a_leaked_issuer_key_cannot_freeze_its_lists() {
    let p = platform();
    let mut trust = TrustStore::new();
    trust.add_root(p.root.trust_root()).unwrap();
    let issuer = p.issuer.certificate().clone();
    // The authority refuses to sign a sequence above the issue time...
    assert!(matches!(
        p.issuer.revoke(u64::MAX, NOW, &[]),
        Err(IssueError::SequenceAhead { .. })
    ));
    // ... and a client refuses one signed by a leaked key anyway: lists
    // whose sequence runs ahead of their time never apply.
    let leaked = hotline::business::IssuerAuthority::new(&ISSUER_SEED, issuer.clone()).unwrap();
    let at_skew = leaked
        .revoke(NOW + CLOCK_SKEW_SECS, NOW + CLOCK_SKEW_SECS, &[])
        .unwrap();
    assert!(
        trust
            .apply_revocation_list(&at_skew, Some(&issuer), NOW)
            .is_ok()
    );
    // The genuine issuer, once its clock passes the leaked sequence, is
    // heard again: the freeze lasts no longer than the clock skew.
    let later = NOW + CLOCK_SKEW_SECS + 1;
    let genuine = p.issuer.revoke(later, later, &[1001]).unwrap();
    assert!(
        trust
            .apply_revocation_list(&genuine, Some(&issuer), later)
            .is_ok()
    );
    assert_eq!(
        trust.revocation_sequence(RevocationScope::BusinessCertificates, 7),
        Some(later)
    );
}

#[test]
fn expired_certificates_lose_the_badge_at_their_end() {
    let mut r = common::rng(1104);
    let p = platform();
    let end = NOW + 10 * DAY;
    let (_business, mut customer, to_business) = chat(&p, &mut r, end);
    assert!(matches!(
        customer.badge(&to_business, end).unwrap(),
        Some(Badge::Verified { until, .. }) if until == end
    ));
    assert!(matches!(
        customer.badge(&to_business, end + CLOCK_SKEW_SECS + 1).unwrap(),
        Some(Badge::Expired { what: Expiry::Certificate, since, .. }) if since == end
    ));
    // A session that was never verified has no badge to lose.
    let mut other = new_client(&mut r);
    let peer = PeerId::new("someone").unwrap();
    let b = new_client(&mut r);
    other
        .start_session(&peer, &b.bundle().unwrap(), &mut r)
        .unwrap();
    assert_eq!(other.badge(&peer, NOW).unwrap(), Some(Badge::Unverified));
    assert_eq!(
        other.badge(&PeerId::new("nobody").unwrap(), NOW).unwrap(),
        None
    );
}

/// A certificate whose display name is harmless but whose localized name
/// imitates a pinned business is reported as a look-alike: an app in that
/// language would show the localized name.
#[test]
fn localized_names_are_checked_for_look_alikes_too() {
    let p = platform();
    let mut trust = TrustStore::new();
    trust.add_root(p.root.trust_root()).unwrap();
    let issue = |serial: u64, id: u8, name: &str, localized: Vec<(String, String)>| {
        let key = hotline::IdentityKeyPair::from_secret_bytes(&[id; 32], &[id; 32]);
        let cert = p
            .issuer
            .issue(&BusinessCertificateRequest {
                serial,
                business_id: BusinessId([id; 16]),
                identity_key: *key.public().signing_key(),
                name: name.into(),
                localized,
                level: VerificationLevel::Verified,
                validity: Validity {
                    not_before: 0,
                    not_after: u64::MAX,
                },
            })
            .unwrap();
        trust
            .validate_chain(
                &CertificateChain::new(p.issuer.certificate().clone(), cert),
                NOW,
            )
            .unwrap()
    };
    let klm = issue(1, 1, "KLM", vec![]);
    let mut known = KnownBusinesses::new();
    known.pin(&klm).unwrap();
    let skyline = issue(2, 2, "Skyline Travel BV", vec![("en".into(), "K1M".into())]);
    match known.check(&skyline).unwrap() {
        PinStatus::FirstContact { confusable_with } => {
            assert_eq!(confusable_with.len(), 1);
            assert_eq!(confusable_with[0].business_id, BusinessId([1; 16]));
        }
        other => panic!("expected a first contact, got {other:?}"),
    }
    // And the other way round: a pinned business's localized names count.
    let mut known = KnownBusinesses::new();
    known.pin(&skyline).unwrap();
    assert!(matches!(
        known.check(&klm).unwrap(),
        PinStatus::FirstContact { confusable_with } if confusable_with.len() == 1
    ));
    // Forgetting removes every name's entry.
    assert!(known.forget(BusinessId([2; 16])));
    assert!(matches!(
        known.check(&klm).unwrap(),
        PinStatus::FirstContact { confusable_with } if confusable_with.is_empty()
    ));
}

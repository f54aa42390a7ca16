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

    let list = p.issuer.revoke(2, NOW, NOW + 604_800, &[1001]).unwrap();
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
    let old = p
        .issuer
        .revoke(1, NOW - 10, NOW - 10 + 604_800, &[])
        .unwrap();
    let new = p.issuer.revoke(2, NOW, NOW + 604_800, &[1001]).unwrap();
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
        p.issuer.revoke(u64::MAX, NOW, NOW + 604_800, &[]),
        Err(IssueError::SequenceAhead { .. })
    ));
    // ... and a client refuses one signed by a leaked key anyway: lists
    // whose sequence runs ahead of their time never apply.
    let leaked = hotline::business::IssuerAuthority::new(&ISSUER_SEED, issuer.clone()).unwrap();
    let at_skew = leaked
        .revoke(
            NOW + CLOCK_SKEW_SECS,
            NOW + CLOCK_SKEW_SECS,
            NOW + CLOCK_SKEW_SECS + 604_800,
            &[],
        )
        .unwrap();
    assert!(
        trust
            .apply_revocation_list(&at_skew, Some(&issuer), NOW)
            .is_ok()
    );
    // The genuine issuer, once its clock passes the leaked sequence, is
    // heard again: the freeze lasts no longer than the clock skew.
    let later = NOW + CLOCK_SKEW_SECS + 1;
    let genuine = p
        .issuer
        .revoke(later, later, later + 604_800, &[1001])
        .unwrap();
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

// ---- Issuer revocation by key, list freshness (SPEC.md 13.9, 13.16).

/// The issue's attack: issuer revocation keyed by (root id, issuer id) let
/// an issuer re-certified under another root, or another id, escape it.
/// Revocation is by key: every certificate of the key stays revoked.
#[test]
fn a_revoked_issuer_key_stays_revoked_under_another_root_and_another_id() {
    let p = platform();
    let always = Validity {
        not_before: 0,
        not_after: u64::MAX,
    };
    let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
    let key = *p.issuer.certificate().key();
    let root2 = RootAuthority::from_seed(&[0x12; 32], 2, always);
    let mut trust = TrustStore::new();
    trust.add_root(p.root.trust_root()).unwrap();
    trust.add_root(root2.trust_root()).unwrap();
    let list = p
        .root
        .revoke_issuers(NOW - 10, NOW - 10, NOW + 7 * DAY, &[key])
        .unwrap();
    trust.apply_revocation_list(&list, None, NOW).unwrap();
    let business = Ed25519Secret::from_seed(&[0x20; 32]).public_key();
    for (root, issuer_id) in [(&p.root, 7), (&root2, 7), (&root2, 70), (&p.root, 71)] {
        let cert = root
            .certify_issuer(issuer_id, &key, levels, always)
            .unwrap();
        let issuer = IssuerAuthority::new(&ISSUER_SEED, cert).unwrap();
        let leaf = issuer
            .issue(&BusinessCertificateRequest {
                serial: 9,
                business_id: BusinessId([9; 16]),
                identity_key: business,
                name: "Example Air".into(),
                localized: vec![],
                level: VerificationLevel::Verified,
                validity: always,
            })
            .unwrap();
        let chain = CertificateChain::new(issuer.certificate().clone(), leaf);
        assert_eq!(
            trust.validate_chain(&chain, NOW),
            Err(ValidationError::IssuerRevoked(issuer_id)),
            "issuer {issuer_id} under root {}",
            chain.issuer().root_id()
        );
        assert_eq!(
            trust.chain_standing(&chain, NOW),
            Badge::Revoked {
                business: match trust.chain_standing(&chain, NOW) {
                    Badge::Revoked { business, .. } => business,
                    other => panic!("{other:?}"),
                },
                by: RevokedBy::Issuer {
                    root_id: 1,
                    sequence: NOW - 10
                },
            }
        );
        // A revoked key changes nothing any more: its lists (which could
        // un-revoke its certificates) and statuses are refused.
        let clear = issuer.revoke(NOW, NOW, NOW + DAY, &[]).unwrap();
        assert_eq!(
            trust.apply_revocation_list(&clear, Some(issuer.certificate()), NOW),
            Err(RevocationError::IssuerNotTrusted(
                ValidationError::IssuerRevoked(issuer_id)
            ))
        );
        let status = issuer.certify_status(9, NOW, NOW + DAY).unwrap();
        assert!(matches!(
            trust.apply_status(&status, issuer.certificate(), NOW),
            Err(StatusError::IssuerNotTrusted(
                ValidationError::IssuerRevoked(_)
            ))
        ));
    }
}

/// The issue's attack: a relay that withholds the newest revocation list
/// kept a revoked certificate valid until it expired. A list proves nothing
/// after its `next_update`: without a fresh status the badge goes.
#[test]
fn a_withheld_revocation_list_takes_the_badge_at_its_next_update() {
    let mut r = common::rng(1131);
    let p = platform();
    let (_business, mut customer, to_business) = chat(&p, &mut r, u64::MAX);
    let issuer = p.issuer.certificate().clone();
    let list = p.issuer.revoke(NOW, NOW, NOW + 2 * DAY, &[5]).unwrap();
    customer
        .update_trust(|t| t.apply_revocation_list(&list, Some(&issuer), NOW))
        .unwrap();
    // In force: the badge holds until the list's next update.
    assert!(matches!(
        customer.badge(&to_business, NOW + DAY).unwrap(),
        Some(Badge::Verified { until, .. }) if until == NOW + 2 * DAY
    ));
    // Still within the clock skew.
    assert!(
        customer
            .badge(&to_business, NOW + 2 * DAY + CLOCK_SKEW_SECS)
            .unwrap()
            .unwrap()
            .is_verified()
    );
    // The newer list (which would revoke 1001) is withheld: once the list
    // held runs out, it proves nothing and the badge says why.
    let later = NOW + 2 * DAY + CLOCK_SKEW_SECS + 1;
    let badge = customer.badge(&to_business, later).unwrap().unwrap();
    assert!(
        matches!(
            badge,
            Badge::Expired {
                what: Expiry::RevocationList {
                    scope: RevocationScope::BusinessCertificates,
                    signer_id: 7
                },
                since,
                ..
            } if since == NOW + 2 * DAY
        ),
        "{badge:?}"
    );
    assert!(
        badge
            .to_string()
            .contains("revocation list of issuer 7 ran out")
    );
    // A fresh status proves good standing again ...
    let status = p.issuer.certify_status(1001, later, later + DAY).unwrap();
    customer
        .update_trust(|t| t.apply_status(&status, &issuer, later))
        .unwrap();
    assert!(matches!(
        customer.badge(&to_business, later).unwrap(),
        Some(Badge::Verified { until, .. }) if until == later + DAY
    ));
    // ... but not past a root list that ran out: a revoked issuer key
    // could have signed that status.
    let root_list = p.root.revoke_issuers(NOW, NOW, later - 10, &[]).unwrap();
    customer
        .update_trust(|t| t.apply_revocation_list(&root_list, None, NOW))
        .unwrap();
    assert!(matches!(
        customer.badge(&to_business, later).unwrap(),
        Some(Badge::Verified { until, .. }) if until == later - 10
    ));
    let much_later = later + CLOCK_SKEW_SECS;
    assert!(matches!(
        customer.badge(&to_business, much_later).unwrap(),
        Some(Badge::Expired {
            what: Expiry::RevocationList {
                scope: RevocationScope::Issuers,
                signer_id: 1
            },
            ..
        })
    ));
    // The state survives a restart: the stale lists still prove nothing.
    let store = customer.into_store();
    let mut reopened = C::open(store).unwrap();
    assert!(
        !reopened
            .badge(&to_business, much_later)
            .unwrap()
            .unwrap()
            .is_verified()
    );
}

/// Lists with an empty or over-long window are refused, at issuance and
/// when applied (a leaked key could sign one).
#[test]
fn revocation_list_windows_are_bounded() {
    use hotline::constants::MAX_REVOCATION_LIST_LIFETIME_SECS as MAX;
    let p = platform();
    for next in [NOW, NOW - 1, NOW + MAX + 1] {
        assert_eq!(
            p.issuer.revoke(NOW, NOW, next, &[]).unwrap_err(),
            IssueError::ListWindow
        );
        assert_eq!(
            p.root.revoke_issuers(NOW, NOW, next, &[]).unwrap_err(),
            IssueError::ListWindow
        );
    }
    assert!(p.issuer.revoke(NOW, NOW, NOW + MAX, &[]).is_ok());
    assert!(p.issuer.revoke(NOW, NOW, NOW + 1, &[]).is_ok());
}

/// Sessions learn statuses as they arrive (stapled to bundles and mailbox
/// batches): the customer's client checks one against the business its
/// session was verified as, with no issuer certificate at hand, and the
/// badge of the open chat follows it (SPEC.md 13.15).
#[test]
fn an_open_session_learns_stapled_statuses() {
    let mut r = common::rng(1141);
    let p = platform();
    let (_business, mut customer, to_business) = chat(&p, &mut r, u64::MAX);
    customer
        .update_trust(|t| {
            t.require_status(true);
            Ok::<_, StatusError>(())
        })
        .unwrap();
    assert!(matches!(
        customer.badge(&to_business, NOW).unwrap(),
        Some(Badge::Expired {
            what: Expiry::NoStatus,
            ..
        })
    ));
    let status = p.issuer.certify_status(1001, NOW, NOW + DAY).unwrap();
    customer.learn_status(&to_business, &status, NOW).unwrap();
    assert!(matches!(
        customer.badge(&to_business, NOW).unwrap(),
        Some(Badge::Verified { until, .. }) if until == NOW + DAY
    ));
    // Kept across a restart.
    let mut customer = C::open(customer.into_store()).unwrap();
    assert!(
        customer
            .badge(&to_business, NOW)
            .unwrap()
            .unwrap()
            .is_verified()
    );
    // Refused: another certificate's status, a forged one, an older one, a
    // peer that is not a verified business.
    let other = p.issuer.certify_status(1002, NOW + 1, NOW + DAY).unwrap();
    assert!(matches!(
        customer.learn_status(&to_business, &other, NOW),
        Err(TrustUpdateError::Refused(StatusError::WrongCertificate {
            issuer_id: 7,
            serial: 1002
        }))
    ));
    let rogue_cert = p
        .root
        .certify_issuer(
            7,
            &Ed25519Secret::from_seed(&[0x66; 32]).public_key(),
            LevelSet::new(&[VerificationLevel::Verified]).unwrap(),
            Validity {
                not_before: 0,
                not_after: u64::MAX,
            },
        )
        .unwrap();
    let rogue = IssuerAuthority::new(&[0x66; 32], rogue_cert).unwrap();
    let forged = rogue.certify_status(1001, NOW + 1, NOW + DAY).unwrap();
    assert_eq!(
        customer
            .learn_status(&to_business, &forged, NOW)
            .unwrap_err()
            .to_string(),
        TrustUpdateError::<StatusError>::Refused(StatusError::BadSignature).to_string()
    );
    assert!(matches!(
        customer.learn_status(&to_business, &status, NOW),
        Err(TrustUpdateError::Refused(StatusError::Stale { .. }))
    ));
    let nobody = PeerId::account(&hotline::relay::AccountId([9; 32]));
    assert!(matches!(
        customer.learn_status(&nobody, &status, NOW),
        Err(TrustUpdateError::Refused(
            StatusError::WrongCertificate { .. }
        ))
    ));
    // Once the issuer's key is revoked, its statuses are refused.
    let list = p
        .root
        .revoke_issuers(NOW, NOW, NOW + DAY, &[*p.issuer.certificate().key()])
        .unwrap();
    customer
        .update_trust(|t| t.apply_revocation_list(&list, None, NOW))
        .unwrap();
    let newer = p.issuer.certify_status(1001, NOW + 2, NOW + DAY).unwrap();
    assert!(matches!(
        customer.learn_status(&to_business, &newer, NOW),
        Err(TrustUpdateError::Refused(StatusError::IssuerNotTrusted(
            ValidationError::IssuerRevoked(7)
        )))
    ));
}

/// Boundaries of the freshness rules (SPEC.md 13.16): a root's list holds
/// up to `next_update + 300` exactly, and a status that ran out counts for
/// nothing when statuses are not required (the badge falls back on the
/// certificate, not on `Expired`).
#[test]
fn freshness_boundaries_are_exact() {
    let p = platform();
    let mut r = common::rng(1151);
    let (_business, mut customer, to_business) = chat(&p, &mut r, u64::MAX);
    let issuer = p.issuer.certificate().clone();
    // An old status, not required: verified, until the certificate's end.
    let status = p
        .issuer
        .certify_status(1001, NOW - 2 * DAY, NOW - DAY)
        .unwrap();
    customer
        .update_trust(|t| t.apply_status(&status, &issuer, NOW))
        .unwrap();
    assert!(matches!(
        customer.badge(&to_business, NOW).unwrap(),
        Some(Badge::Verified {
            until: u64::MAX,
            ..
        })
    ));
    // A root list: good up to next_update + 300 inclusive, not a second more.
    let root_list = p.root.revoke_issuers(NOW, NOW, NOW + DAY, &[]).unwrap();
    customer
        .update_trust(|t| t.apply_revocation_list(&root_list, None, NOW))
        .unwrap();
    let edge = NOW + DAY + CLOCK_SKEW_SECS;
    assert!(matches!(
        customer.badge(&to_business, edge).unwrap(),
        Some(Badge::Verified { until, .. }) if until == NOW + DAY
    ));
    assert!(matches!(
        customer.badge(&to_business, edge + 1).unwrap(),
        Some(Badge::Expired {
            what: Expiry::RevocationList {
                scope: RevocationScope::Issuers,
                ..
            },
            ..
        })
    ));
}

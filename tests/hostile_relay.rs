//! What a hostile relay, or a second process on the same database, tries
//! against the persistent client: misbinding a sender, forking a stored
//! session, rolling state back, replacing a verified session, reusing a
//! request counter. Each attack is refused, and nothing is saved by it.

mod common;

use std::sync::{Arc, Mutex};

use hotline::business::*;
use hotline::hazmat::ed25519::Ed25519Secret;
use hotline::relay::{AccountId, Envelope, EnvelopeHeader, MessageClass, MessageId, Request};
use hotline::store::IdentityStore;
use hotline::store::{
    Client, EncryptedStore, MemoryBackend, MemoryStore, Notice, PeerId, ReceiveError,
    RollbackGuard, SendError, StartError, StorageKey, StoreError,
};
use hotline::{IdentityKeyPair, PreKeyStore, Session};
use rand_chacha::ChaCha20Rng;

type C = Client<MemoryStore>;
type Shared = EncryptedStore<Arc<Mutex<MemoryBackend>>>;

const NOW: u64 = 1_800_000_000;

fn new_client(r: &mut ChaCha20Rng) -> C {
    Client::create(MemoryStore::in_memory(StorageKey::generate(r)), 5, 5, r).unwrap()
}

fn header(from: AccountId, to: AccountId, r: &mut ChaCha20Rng) -> EnvelopeHeader {
    EnvelopeHeader {
        sender: from,
        recipient: to,
        message_id: MessageId::random(r),
        class: MessageClass::Chat,
        sent_at: NOW,
        franking: Default::default(),
    }
}

/// A relay delivers an initial message made with the attacker's identity
/// under the victim's account: refused before the handshake, and nothing
/// (no prekey, no trusted identity, no session) is saved.
#[test]
fn initial_message_under_another_sender_is_refused_and_saves_nothing() {
    let mut r = common::rng(1201);
    let mut business = new_client(&mut r);
    let victim = new_client(&mut r);
    let attacker = IdentityKeyPair::generate(&mut r);

    let mut session = Session::initiate(&attacker, &business.bundle().unwrap(), &mut r).unwrap();
    let h = header(victim.account_id(), business.account_id(), &mut r);
    let ciphertext = session
        .encrypt(b"refund to my IBAN", &h.associated_data())
        .unwrap();
    let before: Vec<_> = business
        .store()
        .backend()
        .records()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    let err = business
        .open_envelope(&Envelope {
            header: h,
            ciphertext,
        })
        .unwrap_err();
    match err {
        ReceiveError::SenderMismatch { claimed, actual } => {
            assert_eq!(claimed, victim.account_id());
            assert_eq!(actual, AccountId::of(&attacker.public()));
        }
        e => panic!("expected SenderMismatch, got {e:?}"),
    }
    let after: Vec<_> = business
        .store()
        .backend()
        .records()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(before, after, "a refused message saved something");
    let victim_peer = PeerId::account(&victim.account_id());
    assert_eq!(business.trusted_identity(&victim_peer).unwrap(), None);
    assert!(business.sessions(&victim_peer).unwrap().is_none());
}

/// The same misbinding through the generic address API: an account address
/// never gets a session of another identity, from either side.
#[test]
fn account_addresses_only_ever_hold_the_accounts_own_identity() {
    let mut r = common::rng(1202);
    let mut business = new_client(&mut r);
    let mut customer = new_client(&mut r);
    let other = new_client(&mut r);
    // Starting a session under another account's address is refused.
    let wrong = PeerId::account(&other.account_id());
    match customer.start_session(&wrong, &business.bundle().unwrap(), &mut r) {
        Err(StartError::AccountMismatch { expected, actual }) => {
            assert_eq!(expected, other.account_id());
            assert_eq!(actual, business.account_id());
        }
        e => panic!("expected AccountMismatch, got {e:?}"),
    }
    // Under its own address it works, and the envelope round trip binds.
    let to_business = PeerId::account(&business.account_id());
    customer
        .start_session(&to_business, &business.bundle().unwrap(), &mut r)
        .unwrap();
    let env = customer
        .seal(&to_business, MessageClass::Chat, NOW, b"hello", &mut r)
        .unwrap();
    assert_eq!(env.header.sender, customer.account_id());
    assert_eq!(env.header.recipient, business.account_id());
    let got = business.open_envelope(&env).unwrap();
    assert_eq!(got.plaintext, b"hello");
    assert_eq!(got.peer, PeerId::account(&customer.account_id()));

    // The relay relabels the sender of a genuine envelope: the header is the
    // associated data, so it no longer decrypts, and nothing changes.
    let mut env2 = customer
        .seal(&to_business, MessageClass::Chat, NOW, b"second", &mut r)
        .unwrap();
    env2.header.sender = other.account_id();
    assert!(business.open_envelope(&env2).is_err());
    env2.header.sender = customer.account_id();
    assert_eq!(business.open_envelope(&env2).unwrap().plaintext, b"second");
}

#[test]
fn envelopes_for_others_and_from_blocked_accounts_are_dropped_unread() {
    let mut r = common::rng(1203);
    let mut business = new_client(&mut r);
    let mut customer = new_client(&mut r);
    let to_business = PeerId::account(&business.account_id());
    customer
        .start_session(&to_business, &business.bundle().unwrap(), &mut r)
        .unwrap();
    let env = customer
        .seal(&to_business, MessageClass::Chat, NOW, b"hi", &mut r)
        .unwrap();
    let mut misaddressed = env.clone();
    misaddressed.header.recipient = customer.account_id();
    assert!(matches!(
        business.open_envelope(&misaddressed),
        Err(ReceiveError::NotForMe)
    ));
    business.block(&customer.account_id()).unwrap();
    assert!(business.is_blocked(&customer.account_id()));
    assert!(matches!(
        business.open_envelope(&env),
        Err(ReceiveError::Blocked)
    ));
    // The block is stored: it survives a restart.
    let mut business = Client::open(business.into_store()).unwrap();
    assert!(matches!(
        business.open_envelope(&env),
        Err(ReceiveError::Blocked)
    ));
    let to_customer = PeerId::account(&customer.account_id());
    assert!(matches!(
        business.seal(&to_customer, MessageClass::Chat, NOW, b"x", &mut r),
        Err(SendError::Blocked)
    ));
    business.unblock(&customer.account_id()).unwrap();
    assert_eq!(business.open_envelope(&env).unwrap().plaintext, b"hi");
}

/// The request counter is committed before a request is returned: a
/// restarted client, or a second client on the same store, never signs two
/// requests with one counter.
#[test]
fn relay_request_counters_survive_restarts_and_are_never_shared() {
    let mut r = common::rng(1204);
    let backend = Arc::new(Mutex::new(MemoryBackend::default()));
    let key = StorageKey::generate(&mut r);
    let mut a: Client<Shared> = Client::create(
        EncryptedStore::new(key.clone(), backend.clone()),
        0,
        0,
        &mut r,
    )
    .unwrap();
    let mut b: Client<Shared> =
        Client::open(EncryptedStore::new(key.clone(), backend.clone())).unwrap();
    let mut seen = std::collections::HashSet::new();
    for i in 0..20 {
        let c = if i % 3 == 0 { &mut b } else { &mut a };
        let req = c.sign_request(Request::PreKeyStatus, NOW).unwrap();
        assert!(
            seen.insert(req.counter()),
            "counter {} signed twice",
            req.counter()
        );
    }
    drop(a);
    let mut a: Client<Shared> = Client::open(EncryptedStore::new(key, backend)).unwrap();
    let req = a.sign_request(Request::PreKeyStatus, NOW).unwrap();
    assert_eq!(req.counter(), 21);
}

/// Two writers on one store, both encrypting to the same peer: the second
/// loses each race, reloads, and encrypts from the newer state, so no two
/// ciphertexts share a message key; the peer decrypts every one, each once.
#[test]
fn two_writers_on_one_store_never_reuse_a_message_key() {
    let mut r = common::rng(1205);
    let backend = Arc::new(Mutex::new(MemoryBackend::default()));
    let key = StorageKey::generate(&mut r);
    let mut w1: Client<Shared> = Client::create(
        EncryptedStore::new(key.clone(), backend.clone()),
        0,
        0,
        &mut r,
    )
    .unwrap();
    let mut peer = new_client(&mut r);
    let to_peer = PeerId::new("peer").unwrap();
    let from_business = PeerId::new("business").unwrap();
    w1.start_session(&to_peer, &peer.bundle().unwrap(), &mut r)
        .unwrap();
    let first = w1.encrypt(&to_peer, b"m0", b"").unwrap();
    assert_eq!(peer.decrypt(&from_business, &first, b"").unwrap(), b"m0");
    // The second writer opens now: both hold the same session in memory.
    let mut w2: Client<Shared> = Client::open(EncryptedStore::new(key, backend)).unwrap();
    let mut wires = Vec::new();
    for i in 1..=40 {
        let w = if i % 2 == 0 { &mut w1 } else { &mut w2 };
        wires.push((
            format!("m{i}"),
            w.encrypt(&to_peer, format!("m{i}").as_bytes(), b"")
                .unwrap(),
        ));
    }
    // A message key (and its nonce) is fixed by its chain and counter, and
    // the receiver accepts each chain position once: had two ciphertexts
    // shared a key, the second would be refused. Every one decrypts.
    for (text, w) in &wires {
        assert_eq!(
            peer.decrypt(&from_business, w, b"").unwrap(),
            text.as_bytes()
        );
        // Exactly once.
        assert!(peer.decrypt(&from_business, w, b"").is_err());
    }
}

/// The application's monotonic counter catches a restored backup: the
/// client refuses to send from it instead of reusing message keys.
#[test]
fn a_restored_backup_is_refused_under_a_rollback_guard() {
    #[derive(Clone, Default)]
    struct Counter(Arc<Mutex<u64>>);
    impl RollbackGuard for Counter {
        fn current(&self) -> Result<u64, StoreError> {
            Ok(*self.0.lock().unwrap())
        }
        fn advance(&mut self, generation: u64) -> Result<(), StoreError> {
            let mut g = self.0.lock().unwrap();
            assert!(generation > *g, "the guard never goes back");
            *g = generation;
            Ok(())
        }
    }
    let mut r = common::rng(1206);
    let counter = Counter::default();
    let key = StorageKey::generate(&mut r);
    let mut a = Client::create(MemoryStore::in_memory(key.clone()), 0, 0, &mut r)
        .unwrap()
        .with_rollback_guard(Box::new(counter.clone()))
        .unwrap();
    let mut peer = new_client(&mut r);
    let to_peer = PeerId::new("peer").unwrap();
    a.start_session(&to_peer, &peer.bundle().unwrap(), &mut r)
        .unwrap();
    let backup = a.store().backend().clone();
    let w = a.encrypt(&to_peer, b"after the backup", b"").unwrap();
    peer.decrypt(&PeerId::new("a").unwrap(), &w, b"").unwrap();
    let generation = *counter.0.lock().unwrap();
    assert_eq!(generation, 2, "one generation per commit");

    // The disk is rolled back to the backup.
    let restored = Client::open(EncryptedStore::new(key, backup)).unwrap();
    let mut restored = match restored.with_rollback_guard(Box::new(counter.clone())) {
        Err(StoreError::RolledBack { stored, guard }) => {
            assert!(stored < guard);
            assert_eq!(guard, generation);
            return;
        }
        Ok(c) => c,
        Err(e) => panic!("unexpected {e:?}"),
    };
    // Without the check the old session would encrypt under a used key.
    panic!(
        "rolled-back store accepted: {:?}",
        restored.encrypt(&to_peer, b"x", b"").is_ok()
    );
}

struct Platform {
    issuer: IssuerAuthority,
    trust: TrustStore,
}

fn platform() -> Platform {
    let always = Validity {
        not_before: 0,
        not_after: u64::MAX,
    };
    let root = RootAuthority::from_seed(&[0x11; 32], 1, always);
    let seed = [0x15; 32];
    let key = Ed25519Secret::from_seed(&seed).public_key();
    let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
    let cert = root.certify_issuer(7, &key, levels, always).unwrap();
    let issuer = IssuerAuthority::new(&seed, cert).unwrap();
    let mut trust = TrustStore::new();
    trust.add_root(root.trust_root()).unwrap();
    Platform { issuer, trust }
}

fn certify(p: &Platform, business: &mut C, serial: u64) {
    let identity = business.identity();
    let cert = p
        .issuer
        .issue(&BusinessCertificateRequest {
            serial,
            business_id: BusinessId([0x4b; 16]),
            identity_key: *identity.signing_key(),
            name: "Example Air".into(),
            localized: vec![],
            level: VerificationLevel::Verified,
            validity: Validity {
                not_before: 0,
                not_after: u64::MAX,
            },
        })
        .unwrap();
    let chain = CertificateChain::new(p.issuer.certificate().clone(), cert);
    business
        .update_prekeys(|pk| pk.set_certificate_chain(chain.clone()))
        .unwrap()
        .unwrap();
}

/// The persistent client starts verified sessions, and a session the
/// business starts later never takes the badge away silently.
#[test]
fn verified_sessions_are_persisted_and_never_replaced_silently() {
    let mut r = common::rng(1207);
    let p = platform();
    let mut business = new_client(&mut r);
    certify(&p, &mut business, 1001);
    let mut customer = new_client(&mut r);
    let to_business = PeerId::account(&business.account_id());
    let to_customer = PeerId::account(&customer.account_id());
    let bundle = business.bundle().unwrap();
    let verified = p.trust.verify_bundle(&bundle, NOW).unwrap();
    customer
        .start_verified_session(&to_business, &bundle, &verified, &mut r)
        .unwrap();
    let env = customer
        .seal(
            &to_business,
            MessageClass::Chat,
            NOW,
            b"my booking?",
            &mut r,
        )
        .unwrap();
    business.open_envelope(&env).unwrap();
    let mut customer = Client::open(customer.into_store()).unwrap();
    let badge = |c: &mut C| {
        c.peer(&to_business)
            .unwrap()
            .and_then(|p| p.verified_business().map(|b| b.name().to_owned()))
    };
    assert_eq!(badge(&mut customer).as_deref(), Some("Example Air"));

    // The business (its state lost) starts a new session to the customer.
    let mut business2 = business_with_same_identity(&business, &mut r);
    business2
        .start_session(&to_customer, &customer.bundle().unwrap(), &mut r)
        .unwrap();
    let env = business2
        .seal(
            &to_customer,
            MessageClass::Chat,
            NOW,
            b"new session",
            &mut r,
        )
        .unwrap();
    let got = customer.open_envelope(&env).unwrap();
    assert_eq!(got.plaintext, b"new session");
    assert_eq!(got.notices, vec![Notice::NewUnverifiedSession]);
    // The badge stays: the verified session is still the active one.
    assert_eq!(badge(&mut customer).as_deref(), Some("Example Air"));
    // The application decides to switch: the badge goes, explicitly.
    assert!(customer.adopt_peer_session(&to_business).unwrap());
    assert_eq!(badge(&mut customer), None);
}

fn business_with_same_identity(business: &C, r: &mut ChaCha20Rng) -> C {
    let identity = business.store().local_identity().unwrap().unwrap();
    let prekeys = PreKeyStore::new(&identity, 2, 2, r);
    Client::create_with(
        MemoryStore::in_memory(StorageKey::generate(r)),
        identity,
        prekeys,
    )
    .unwrap()
}

/// A verified business blocked by the customer stays blocked when it comes
/// back under a new identity key with a certificate for the same business.
#[test]
fn a_blocked_business_cannot_return_under_another_account() {
    let mut r = common::rng(1208);
    let p = platform();
    let mut business = new_client(&mut r);
    certify(&p, &mut business, 1001);
    let mut customer = new_client(&mut r);
    let to_business = PeerId::account(&business.account_id());
    let bundle = business.bundle().unwrap();
    let verified = p.trust.verify_bundle(&bundle, NOW).unwrap();
    customer
        .start_verified_session(&to_business, &bundle, &verified, &mut r)
        .unwrap();
    customer.block(&business.account_id()).unwrap();

    // The same business under a new key and account.
    let mut again = new_client(&mut r);
    certify(&p, &mut again, 1002);
    let to_again = PeerId::account(&again.account_id());
    let bundle = again.bundle().unwrap();
    let verified = p.trust.verify_bundle(&bundle, NOW).unwrap();
    customer
        .start_verified_session(&to_again, &bundle, &verified, &mut r)
        .unwrap();
    let env = customer
        .seal(&to_again, MessageClass::Chat, NOW, b"hello?", &mut r)
        .unwrap();
    let to_customer = PeerId::account(&customer.account_id());
    again.open_envelope(&env).unwrap();
    let reply = again
        .seal(&to_customer, MessageClass::Chat, NOW, b"buy now", &mut r)
        .unwrap();
    assert!(matches!(
        customer.open_envelope(&reply),
        Err(ReceiveError::Blocked)
    ));
}

/// The franking tag (SPEC.md 14.17) is bound to the message: a relay that
/// swaps it makes the message fail to decrypt, and a sender that commits to
/// other content than it sends has its message refused. Neither saves
/// anything; the honest message then opens, with the key that opens its tag.
#[test]
fn a_franking_tag_cannot_be_swapped_or_left_unopened() {
    use hotline::relay::{FrankingKey, FrankingTag};
    let mut r = common::rng(1211);
    let mut business = new_client(&mut r);
    let customer = IdentityKeyPair::generate(&mut r);
    let records = |c: &C| -> Vec<_> {
        c.store()
            .backend()
            .records()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let before = records(&business);
    // A sender that commits to one text and sends another.
    let mut session = Session::initiate(&customer, &business.bundle().unwrap(), &mut r).unwrap();
    let key = FrankingKey::random(&mut r);
    let mut h = header(
        AccountId::of(&customer.public()),
        business.account_id(),
        &mut r,
    );
    h.franking = key.commit(b"I never said that");
    let framed = [&key.to_bytes()[..], b"refund to my IBAN"].concat();
    let ciphertext = session.encrypt(&framed, &h.associated_data()).unwrap();
    let lying = Envelope {
        header: h,
        ciphertext,
    };
    assert!(matches!(
        business.open_envelope(&lying),
        Err(ReceiveError::BadFranking)
    ));
    assert_eq!(
        records(&business),
        before,
        "a refused message saved something"
    );
    // A relay that swaps the tag of an honest message.
    let mut session = Session::initiate(&customer, &business.bundle().unwrap(), &mut r).unwrap();
    let mut h = header(
        AccountId::of(&customer.public()),
        business.account_id(),
        &mut r,
    );
    h.franking = key.commit(b"refund to my IBAN");
    let ciphertext = session.encrypt(&framed, &h.associated_data()).unwrap();
    let honest = Envelope {
        header: h,
        ciphertext,
    };
    let mut swapped = honest.clone();
    swapped.header.franking = FrankingTag([0x42; 32]);
    assert!(matches!(
        business.open_envelope(&swapped),
        Err(ReceiveError::Handshake(_))
    ));
    assert_eq!(
        records(&business),
        before,
        "a tampered message saved something"
    );
    let opened = business.open_envelope(&honest).unwrap();
    assert_eq!(opened.plaintext, b"refund to my IBAN");
    let k = opened.franking_key.expect("a franking key");
    assert!(k.opens(&honest.header.franking, &opened.plaintext));
    assert_ne!(records(&business), before);
}

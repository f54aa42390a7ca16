//! What the client commits survives a reopen of its store: the identity
//! trusted on a first message, prekey changes, and everything saved through
//! the `commit` of a store an application wrote itself (held to the same
//! compare-and-swap contract). Also the session record's own pickle and its
//! `Debug`.

mod common;
#[path = "store_support/map_store.rs"]
mod map_store;

use hotline::store::{
    Client, ClientState, ClientStore, MemoryStore, PeerId, PreKeyRepository, ReceiveError,
    SessionRecord, SessionRepository, StorageKey, StoreError, StoreUpdate,
};
use hotline::{IdentityKeyPair, PreKeyStore};
use map_store::MapStore;
use rand_chacha::ChaCha20Rng;

fn peer(name: &str) -> PeerId {
    PeerId::new(name).unwrap()
}

fn new_client(r: &mut ChaCha20Rng) -> Client<MemoryStore> {
    Client::create(MemoryStore::in_memory(StorageKey::generate(r)), 4, 4, r).unwrap()
}

/// Drops the client and opens its store again: only what was committed
/// is still there.
fn reopen<S: ClientStore>(c: Client<S>) -> Client<S> {
    Client::open(c.into_store()).unwrap()
}

/// The responder trusts the initiator's identity from its first message,
/// durably: after a reopen an initial message under another identity for
/// the same peer is an identity change, not a new trust.
#[test]
fn identity_trusted_on_a_first_message_survives_a_reopen() {
    let mut r = common::rng(81);
    let (pa, pb) = (peer("alice"), peer("airline"));
    let mut a = new_client(&mut r);
    let mut b = new_client(&mut r);
    a.start_session(&pb, &b.bundle().unwrap(), &mut r).unwrap();
    let w = a.encrypt(&pb, b"first", b"").unwrap();
    assert_eq!(b.trusted_identity(&pa).unwrap(), None);
    assert_eq!(b.decrypt(&pa, &w, b"").unwrap(), b"first");

    let mut b = reopen(b);
    assert_eq!(b.trusted_identity(&pa).unwrap(), Some(a.identity()));

    let mut impostor = new_client(&mut r);
    assert_ne!(impostor.identity(), a.identity());
    impostor
        .start_session(&pb, &b.bundle().unwrap(), &mut r)
        .unwrap();
    let w = impostor.encrypt(&pb, b"it is me, new phone", b"").unwrap();
    let err = b.decrypt(&pa, &w, b"").unwrap_err();
    let ReceiveError::IdentityChanged(change) = err else {
        panic!("{err:?}")
    };
    assert_eq!(change.trusted, a.identity());
    assert_eq!(change.received, impostor.identity());
}

/// `update_prekeys` commits the changed prekey store: added one-time
/// prekeys are still there (and usable) after a reopen.
#[test]
fn prekey_updates_survive_a_reopen() {
    let mut r = common::rng(82);
    let mut b = new_client(&mut r);
    let before = b
        .store()
        .load_prekeys()
        .unwrap()
        .unwrap()
        .value
        .one_time_count();
    let mut rng = common::rng(83);
    let added = b
        .update_prekeys(|p| p.add_one_time_prekeys(3, &mut rng))
        .unwrap();
    assert_eq!(added.len(), 3);

    let b = reopen(b);
    let stored = b.store().load_prekeys().unwrap().unwrap().value;
    assert_eq!(stored.one_time_count(), before + added.len());
    let ids: Vec<u32> = stored.one_time_prekeys().iter().map(|k| k.id).collect();
    for k in &added {
        assert!(ids.contains(&k.id), "prekey {} lost on reopen", k.id);
    }
}

/// A conversation between two clients on stores an application wrote, each
/// reopened after every operation: every message decrypts once, and the
/// trusted identities, prekeys and sessions all persisted.
#[test]
fn an_application_store_persists_every_change() {
    let mut r = common::rng(84);
    let (pc, pb) = (peer("customer"), peer("business"));
    let mut business = Client::create(MapStore::new(StorageKey::generate(&mut r)), 3, 3, &mut r)
        .expect("create commits the identity and the prekeys");
    let mut customer =
        Client::create(MapStore::new(StorageKey::generate(&mut r)), 0, 0, &mut r).unwrap();
    let (business_id, customer_id) = (business.identity(), customer.identity());
    business = reopen(business);
    customer = reopen(customer);
    assert_eq!(business.identity(), business_id);
    assert_eq!(customer.identity(), customer_id);
    let one_time = |c: &Client<MapStore>| {
        c.store()
            .load_prekeys()
            .unwrap()
            .unwrap()
            .value
            .one_time_count()
    };
    assert_eq!(one_time(&business), 3);

    customer
        .start_session(&pb, &business.bundle().unwrap(), &mut r)
        .unwrap();
    customer = reopen(customer);
    assert_eq!(customer.trusted_identity(&pb).unwrap(), Some(business_id));
    let w = customer.encrypt(&pb, b"where is my bag?", b"").unwrap();
    customer = reopen(customer);
    assert_eq!(business.decrypt(&pc, &w, b"").unwrap(), b"where is my bag?");
    business = reopen(business);
    assert_eq!(business.trusted_identity(&pc).unwrap(), Some(customer_id));
    assert_eq!(one_time(&business), 2, "the consumed prekey stays consumed");
    // The same initial message again is refused: its one-time prekey is gone
    // and the session that consumed it was saved.
    assert!(business.decrypt(&pc, &w, b"").is_err());

    for i in 0..4u8 {
        let w = business.encrypt(&pc, &[b'b', i], b"").unwrap();
        business = reopen(business);
        assert_eq!(customer.decrypt(&pb, &w, b"").unwrap(), [b'b', i]);
        customer = reopen(customer);
        let w = customer.encrypt(&pb, &[b'c', i], b"").unwrap();
        customer = reopen(customer);
        assert_eq!(business.decrypt(&pc, &w, b"").unwrap(), [b'c', i]);
        business = reopen(business);
        // A saved message key is used once: replaying after a reopen fails.
        assert!(business.decrypt(&pc, &w, b"").is_err());
    }

    let added = business
        .update_prekeys(|p| p.add_one_time_prekeys(2, &mut common::rng(85)))
        .unwrap();
    business = reopen(business);
    assert_eq!(one_time(&business), 2 + added.len());
}

/// A record restored from its pickle is the same record: same sessions,
/// same states, and it goes on decrypting.
#[test]
fn session_record_pickle_round_trips() {
    let mut r = common::rng(86);
    let (pc, pb) = (peer("customer"), peer("business"));
    let key = StorageKey::generate(&mut r);
    let mut customer = new_client(&mut r);
    let mut business = new_client(&mut r);
    // Two sessions in the customer's record: the second start keeps the
    // first as a previous session.
    for _ in 0..2 {
        customer
            .start_session(&pb, &business.bundle().unwrap(), &mut r)
            .unwrap();
        let w = customer.encrypt(&pb, b"hi", b"").unwrap();
        business.decrypt(&pc, &w, b"").unwrap();
    }
    let record = customer.sessions(&pb).unwrap().unwrap();
    assert_eq!(record.len(), 2);

    let sealed = record.pickle(&key, &pb, &mut r);
    let restored = SessionRecord::from_pickle(&sealed, &key, &pb).unwrap();
    assert_eq!(restored.len(), record.len());
    assert_eq!(
        restored.active().state_digest(),
        record.active().state_digest()
    );
    let digests = |rec: &SessionRecord| -> Vec<[u8; 32]> {
        rec.previous().map(|s| s.state_digest()).collect()
    };
    assert_eq!(digests(&restored), digests(&record));
    // Sealed for one peer, it does not open as another's.
    assert!(SessionRecord::from_pickle(&sealed, &key, &pc).is_err());

    // The restored record decrypts the business's reply.
    let reply = business.encrypt(&pc, b"hello", b"").unwrap();
    let version = customer
        .store()
        .load_sessions(&pb)
        .unwrap()
        .unwrap()
        .version;
    customer
        .store_mut()
        .commit(&StoreUpdate {
            sessions: Some((&pb, &restored, version)),
            ..StoreUpdate::default()
        })
        .unwrap();
    assert_eq!(customer.decrypt(&pb, &reply, b"").unwrap(), b"hello");
}

/// The record's `Debug` names the type, shows its active session and how
/// many previous ones it holds, and never a secret byte of the identity.
#[test]
fn session_record_debug_names_the_record_and_hides_secrets() {
    let mut r = common::rng(87);
    let pb = peer("business");
    let (ed_seed, x_secret) = ([0x6A; 32], [0x6B; 32]);
    let identity = IdentityKeyPair::from_secret_bytes(&ed_seed, &x_secret);
    let store = MemoryStore::in_memory(StorageKey::generate(&mut r));
    let prekeys = PreKeyStore::new(&identity, 0, 0, &mut r);
    let mut customer = Client::create_with(store, identity, prekeys).unwrap();
    let business = new_client(&mut r);
    for _ in 0..2 {
        customer
            .start_session(&pb, &business.bundle().unwrap(), &mut r)
            .unwrap();
    }
    let record = customer.sessions(&pb).unwrap().unwrap();
    let shown = format!("{record:?}");
    assert!(shown.starts_with("SessionRecord"), "{shown}");
    assert!(shown.contains(&format!("{:?}", record.active())), "{shown}");
    assert!(shown.contains("previous: 1"), "{shown}");
    let hex = |b: &[u8]| -> String { b.iter().map(|b| format!("{b:02x}")).collect() };
    assert!(!shown.contains(&hex(&ed_seed[..8])), "{shown}");
    assert!(!shown.contains(&hex(&x_secret[..8])), "{shown}");
    assert!(!shown.contains("106, 106, 106"), "{shown}");
}

/// The contract every store keeps: a commit whose version is stale fails
/// with `Conflict` and writes nothing, on the crate's stores and on an
/// application's own.
#[test]
fn stale_commits_are_refused_and_write_nothing() {
    fn check<S: ClientStore>(mut store: S, r: &mut ChaCha20Rng) {
        let identity = IdentityKeyPair::generate(r);
        let prekeys = PreKeyStore::new(&identity, 1, 1, r);
        store
            .commit(&StoreUpdate {
                local_identity: Some(&identity),
                prekeys: Some((&prekeys, 0)),
                ..StoreUpdate::default()
            })
            .unwrap();
        // A second creation is a conflict on the identity.
        assert!(matches!(
            store.commit(&StoreUpdate {
                local_identity: Some(&identity),
                ..StoreUpdate::default()
            }),
            Err(StoreError::Conflict { .. })
        ));
        let peer = PeerId::new("p").unwrap();
        let other = IdentityKeyPair::generate(r).public();
        store
            .commit(&StoreUpdate {
                trusted_identity: Some((&peer, &other, 0)),
                ..StoreUpdate::default()
            })
            .unwrap();
        let fewer = PreKeyStore::new(&identity, 0, 0, r);
        // Stale prekeys (version 0 after a write at 1) together with a fresh
        // identity change: neither is written.
        let third = IdentityKeyPair::generate(r).public();
        assert!(matches!(
            store.commit(&StoreUpdate {
                prekeys: Some((&fewer, 0)),
                trusted_identity: Some((&peer, &third, 1)),
                ..StoreUpdate::default()
            }),
            Err(StoreError::Conflict { .. })
        ));
        assert_eq!(store.trusted_identity(&peer).unwrap().unwrap().value, other);
        let stored = store.load_prekeys().unwrap().unwrap();
        assert_eq!((stored.version, stored.value.one_time_count()), (1, 1));
        // At the right versions both are written, each one version up.
        store
            .commit(&StoreUpdate {
                prekeys: Some((&fewer, 1)),
                trusted_identity: Some((&peer, &third, 1)),
                ..StoreUpdate::default()
            })
            .unwrap();
        let stored = store.load_prekeys().unwrap().unwrap();
        assert_eq!((stored.version, stored.value.one_time_count()), (2, 0));
        let trusted = store.trusted_identity(&peer).unwrap().unwrap();
        assert_eq!((trusted.version, trusted.value), (2, third));
        // A read-only condition that no longer holds blocks the write too.
        let state = ClientState::default();
        assert!(matches!(
            store.commit(&StoreUpdate {
                client_state: Some((&state, 0)),
                unchanged_identity: Some((&peer, 1)),
                ..StoreUpdate::default()
            }),
            Err(StoreError::Conflict { .. })
        ));
        assert!(store.load_client_state().unwrap().is_none());
    }
    let mut r = common::rng(89);
    let key = StorageKey::generate(&mut r);
    check(MemoryStore::in_memory(key.clone()), &mut r);
    check(MapStore::new(key.clone()), &mut r);
    #[cfg(feature = "sqlite")]
    check(
        hotline::store::EncryptedStore::new(
            key,
            hotline::store::SqliteBackend::open_in_memory().unwrap(),
        ),
        &mut r,
    );
}

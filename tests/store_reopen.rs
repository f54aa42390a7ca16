//! What the client commits survives a reopen of its store: the identity
//! trusted on a first message, prekey changes, and everything saved through
//! the default `ClientStore::commit` of a store that only implements the
//! per-object traits. Also the session record's own pickle and its `Debug`.

mod common;

use std::collections::HashMap;

use hotline::store::{
    Client, ClientStore, IdentityStore, MemoryStore, PeerId, PreKeyRepository, ReceiveError,
    SessionRecord, SessionRepository, StorageKey, StoreError,
};
use hotline::{IdentityKey, IdentityKeyPair, PreKeyStore};
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
    let before = b.store().load_prekeys().unwrap().unwrap().one_time_count();
    let mut rng = common::rng(83);
    let added = b
        .update_prekeys(|p| p.add_one_time_prekeys(3, &mut rng))
        .unwrap();
    assert_eq!(added.len(), 3);

    let b = reopen(b);
    let stored = b.store().load_prekeys().unwrap().unwrap();
    assert_eq!(stored.one_time_count(), before + added.len());
    let ids: Vec<u32> = stored.one_time_prekeys().iter().map(|k| k.id).collect();
    for k in &added {
        assert!(ids.contains(&k.id), "prekey {} lost on reopen", k.id);
    }
}

/// A store as an application might write it: one map per object kind,
/// each object pickled under a storage key, and no `commit` of its own.
/// Everything it keeps went through the default `ClientStore::commit`.
struct MapStore {
    key: StorageKey,
    identity: Option<Vec<u8>>,
    prekeys: Option<Vec<u8>>,
    trusted: HashMap<PeerId, IdentityKey>,
    sessions: HashMap<PeerId, Vec<u8>>,
}

impl MapStore {
    fn new(key: StorageKey) -> Self {
        Self {
            key,
            identity: None,
            prekeys: None,
            trusted: HashMap::new(),
            sessions: HashMap::new(),
        }
    }
}

fn refused(what: &'static str) -> impl Fn(hotline::store::RestoreError) -> StoreError {
    move |error| StoreError::Restore { what, error }
}

impl IdentityStore for MapStore {
    fn local_identity(&self) -> Result<Option<IdentityKeyPair>, StoreError> {
        self.identity
            .as_deref()
            .map(|b| IdentityKeyPair::from_pickle(b, &self.key).map_err(refused("identity")))
            .transpose()
    }
    fn save_local_identity(&mut self, identity: &IdentityKeyPair) -> Result<(), StoreError> {
        self.identity = Some(identity.pickle(&self.key, &mut rand::rng()));
        Ok(())
    }
    fn trusted_identity(&self, peer: &PeerId) -> Result<Option<IdentityKey>, StoreError> {
        Ok(self.trusted.get(peer).copied())
    }
    fn save_trusted_identity(
        &mut self,
        peer: &PeerId,
        identity: &IdentityKey,
    ) -> Result<(), StoreError> {
        self.trusted.insert(peer.clone(), *identity);
        Ok(())
    }
}

impl PreKeyRepository for MapStore {
    fn load_prekeys(&self) -> Result<Option<PreKeyStore>, StoreError> {
        self.prekeys
            .as_deref()
            .map(|b| PreKeyStore::from_pickle(b, &self.key).map_err(refused("prekeys")))
            .transpose()
    }
    fn save_prekeys(&mut self, prekeys: &PreKeyStore) -> Result<(), StoreError> {
        self.prekeys = Some(prekeys.pickle(&self.key, &mut rand::rng()));
        Ok(())
    }
}

impl SessionRepository for MapStore {
    fn load_sessions(&self, peer: &PeerId) -> Result<Option<SessionRecord>, StoreError> {
        self.sessions
            .get(peer)
            .map(|b| SessionRecord::from_pickle(b, &self.key, peer).map_err(refused("sessions")))
            .transpose()
    }
    fn save_sessions(&mut self, peer: &PeerId, record: &SessionRecord) -> Result<(), StoreError> {
        self.sessions.insert(
            peer.clone(),
            record.pickle(&self.key, peer, &mut rand::rng()),
        );
        Ok(())
    }
}

/// Relies on the trait's default `commit`.
impl ClientStore for MapStore {}

/// A conversation between two clients on stores with the default commit,
/// each reopened after every operation: every message decrypts once, and
/// the trusted identities, prekeys and sessions all persisted.
#[test]
fn the_default_commit_persists_every_change() {
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
    let one_time =
        |c: &Client<MapStore>| c.store().load_prekeys().unwrap().unwrap().one_time_count();
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
    customer.store_mut().save_sessions(&pb, &restored).unwrap();
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
    let mut store = MemoryStore::in_memory(StorageKey::generate(&mut r));
    store.save_local_identity(&identity).unwrap();
    store
        .save_prekeys(&PreKeyStore::new(&identity, 0, 0, &mut r))
        .unwrap();
    let mut customer = Client::open(store).unwrap();
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

/// The encrypted store's per-object save methods (for applications that
/// drive the store without a `Client`) each make their object durable.
#[test]
fn encrypted_store_saves_each_object_on_its_own() {
    let mut r = common::rng(88);
    let (pa, pb) = (peer("a"), peer("b"));
    let mut a = new_client(&mut r);
    let b = new_client(&mut r);
    a.start_session(&pb, &b.bundle().unwrap(), &mut r).unwrap();
    let record = a.sessions(&pb).unwrap().unwrap();
    let prekeys = PreKeyStore::new(&IdentityKeyPair::generate(&mut r), 2, 1, &mut r);

    let mut store = MemoryStore::in_memory(StorageKey::generate(&mut r));
    store.save_trusted_identity(&pa, &b.identity()).unwrap();
    store.save_prekeys(&prekeys).unwrap();
    store.save_sessions(&pa, &record).unwrap();
    assert_eq!(store.trusted_identity(&pa).unwrap(), Some(b.identity()));
    let loaded = store.load_prekeys().unwrap().unwrap();
    assert_eq!(loaded.signed_prekey(), prekeys.signed_prekey());
    assert_eq!(loaded.one_time_prekeys(), prekeys.one_time_prekeys());
    let loaded = store.load_sessions(&pa).unwrap().unwrap();
    assert_eq!(
        loaded.active().state_digest(),
        record.active().state_digest()
    );
    // Each record went under its own peer only.
    assert_eq!(store.trusted_identity(&pb).unwrap(), None);
    assert!(store.load_sessions(&pb).unwrap().is_none());
}

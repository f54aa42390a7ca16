//! The contract of `ClientStore` (SPEC.md 15.13), as checks any backend
//! runs: a backend is a [`Fixture`] that opens an empty store and reopens
//! it (for a durable store, from its file; for a store in memory, from
//! what it holds), and `store_conformance.rs` runs every check below on
//! each backend of the crate and on stores an application could write.
//!
//! What every store must show:
//! - an empty store holds nothing, and an empty update changes nothing;
//! - the local identity is written once;
//! - every other record starts at version 1 and grows by one per write;
//! - a write at a stale version, or at a version the record never had, is
//!   a conflict; a conflict in any part of an update writes no part of it;
//! - a read-only condition (`unchanged_identity`) blocks the update when
//!   it no longer holds and writes nothing itself;
//! - records are kept per peer;
//! - what was committed reads back the same, after a reopen too;
//! - a `Client` on the store keeps every change across reopens.

use hotline::business::{RootAuthority, TrustStore, Validity};
use hotline::relay::AccountId;
use hotline::store::{
    Client, ClientState, ClientStateRepository, ClientStore, IdentityStore, MemoryStore, PeerId,
    PreKeyRepository, SessionRecord, SessionRepository, StorageKey, StoreError, StoreUpdate,
};
use hotline::{IdentityKey, IdentityKeyPair, PreKeyStore};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// A backend under test.
pub trait Fixture {
    /// The store type.
    type Store: ClientStore;
    /// A new, empty store.
    fn open(&mut self) -> Self::Store;
    /// The same store as a new process would find it: only what was
    /// committed is there.
    fn reopen(&mut self, store: Self::Store) -> Self::Store;
}

const ALWAYS: Validity = Validity {
    not_before: 1_600_000_000,
    not_after: 2_000_000_000,
};

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn peer(name: &str) -> PeerId {
    PeerId::new(name).unwrap()
}

fn is_conflict(r: Result<(), StoreError>) -> bool {
    matches!(r, Err(StoreError::Conflict { .. }))
}

/// A session record with `n` sessions (the customer's side, with a peer
/// that has its own store): built through the public API only.
fn session_record(n: usize, seed: u64) -> SessionRecord {
    let mut r = rng(seed);
    let mut customer = Client::create(
        MemoryStore::in_memory(StorageKey::generate(&mut r)),
        0,
        0,
        &mut r,
    )
    .unwrap();
    let business = Client::create(
        MemoryStore::in_memory(StorageKey::generate(&mut r)),
        2,
        2,
        &mut r,
    )
    .unwrap();
    let pb = peer("business");
    for _ in 0..n {
        customer
            .start_session(&pb, &business.bundle().unwrap(), &mut r)
            .unwrap();
    }
    customer.sessions(&pb).unwrap().unwrap()
}

fn digests(record: &SessionRecord) -> Vec<[u8; 32]> {
    std::iter::once(record.active())
        .chain(record.previous())
        .map(|s| s.state_digest())
        .collect()
}

fn prekey_ids(p: &PreKeyStore) -> Vec<u32> {
    p.one_time_prekeys().iter().map(|k| k.id).collect()
}

fn client_state(counter: u64) -> ClientState {
    let mut s = ClientState {
        relay_counter: counter,
        generation: counter * 2,
        ..ClientState::default()
    };
    s.blocked_accounts.insert(AccountId([counter as u8; 32]));
    s
}

fn trust_store(root_ids: &[u32]) -> TrustStore {
    let mut t = TrustStore::new();
    for &id in root_ids {
        let root = RootAuthority::from_seed(&[id as u8; 32], id, ALWAYS);
        t.add_root(root.trust_root()).unwrap();
    }
    t.require_status(true);
    t
}

fn root_ids(t: &TrustStore) -> Vec<u32> {
    t.roots().map(|r| r.root_id()).collect()
}

fn identity(seed: u64) -> IdentityKeyPair {
    IdentityKeyPair::generate(&mut rng(seed))
}

fn public(seed: u64) -> IdentityKey {
    identity(seed).public()
}

/// A new store holds nothing, and committing an empty update leaves it so.
pub fn empty_store_holds_nothing<F: Fixture>(mut f: F) {
    let mut s = f.open();
    let check = |s: &F::Store| {
        assert!(s.local_identity().unwrap().is_none());
        assert!(s.trusted_identity(&peer("p")).unwrap().is_none());
        assert!(s.load_prekeys().unwrap().is_none());
        assert!(s.load_sessions(&peer("p")).unwrap().is_none());
        assert!(s.load_client_state().unwrap().is_none());
        assert!(s.load_trust_state().unwrap().is_none());
    };
    check(&s);
    s.commit(&StoreUpdate::default()).unwrap();
    check(&s);
    let s = f.reopen(s);
    check(&s);
}

/// The local identity is written once: a second write is a conflict and
/// the first stays, across a reopen.
pub fn the_local_identity_is_written_once<F: Fixture>(mut f: F) {
    let mut s = f.open();
    let first = identity(1);
    s.commit(&StoreUpdate {
        local_identity: Some(&first),
        ..StoreUpdate::default()
    })
    .unwrap();
    let mut s = f.reopen(s);
    assert_eq!(
        s.local_identity().unwrap().unwrap().public(),
        first.public()
    );
    let second = identity(2);
    assert!(is_conflict(s.commit(&StoreUpdate {
        local_identity: Some(&second),
        ..StoreUpdate::default()
    })));
    let s = f.reopen(s);
    assert_eq!(
        s.local_identity().unwrap().unwrap().public(),
        first.public()
    );
}

/// Every versioned record starts at version 1 and grows by one with every
/// write; the value read is the last one written, after a reopen too.
pub fn versions_start_at_one_and_grow_by_one<F: Fixture>(mut f: F) {
    let mut s = f.open();
    let owner = identity(3);
    let p = peer("peer");
    for v in 0..3u64 {
        let prekeys = PreKeyStore::new(&owner, v as usize, 1, &mut rng(10 + v));
        let trusted = public(20 + v);
        let record = session_record(1, 30 + v);
        let state = client_state(v + 1);
        let trust = trust_store(&[(v + 1) as u32]);
        s.commit(&StoreUpdate {
            prekeys: Some((&prekeys, v)),
            trusted_identity: Some((&p, &trusted, v)),
            sessions: Some((&p, &record, v)),
            client_state: Some((&state, v)),
            trust_state: Some((&trust, v)),
            ..StoreUpdate::default()
        })
        .unwrap();
        s = f.reopen(s);
        let got = s.load_prekeys().unwrap().unwrap();
        assert_eq!(got.version, v + 1);
        assert_eq!(prekey_ids(&got.value), prekey_ids(&prekeys));
        let got = s.trusted_identity(&p).unwrap().unwrap();
        assert_eq!((got.version, got.value), (v + 1, trusted));
        let got = s.load_sessions(&p).unwrap().unwrap();
        assert_eq!(got.version, v + 1);
        assert_eq!(digests(&got.value), digests(&record));
        let got = s.load_client_state().unwrap().unwrap();
        assert_eq!((got.version, got.value), (v + 1, state));
        let got = s.load_trust_state().unwrap().unwrap();
        assert_eq!(got.version, v + 1);
        assert_eq!(root_ids(&got.value), root_ids(&trust));
        assert!(got.value.status_required());
    }
}

/// A write at a stale version, or at a version the record never had, is a
/// conflict, for every kind of record, and writes nothing.
pub fn wrong_versions_are_conflicts<F: Fixture>(mut f: F) {
    let mut s = f.open();
    let owner = identity(4);
    let p = peer("peer");
    let prekeys = PreKeyStore::new(&owner, 1, 1, &mut rng(40));
    let trusted = public(41);
    let record = session_record(1, 42);
    let state = client_state(1);
    let trust = trust_store(&[1]);
    // Records that do not exist yet: only version 0 creates them.
    for v in [1, 2, u64::MAX] {
        assert!(is_conflict(s.commit(&StoreUpdate {
            prekeys: Some((&prekeys, v)),
            ..StoreUpdate::default()
        })));
        assert!(is_conflict(s.commit(&StoreUpdate {
            trusted_identity: Some((&p, &trusted, v)),
            ..StoreUpdate::default()
        })));
        assert!(is_conflict(s.commit(&StoreUpdate {
            sessions: Some((&p, &record, v)),
            ..StoreUpdate::default()
        })));
        assert!(is_conflict(s.commit(&StoreUpdate {
            client_state: Some((&state, v)),
            ..StoreUpdate::default()
        })));
        assert!(is_conflict(s.commit(&StoreUpdate {
            trust_state: Some((&trust, v)),
            ..StoreUpdate::default()
        })));
    }
    let mut s = f.reopen(s);
    assert!(s.load_prekeys().unwrap().is_none());
    assert!(s.trusted_identity(&p).unwrap().is_none());
    assert!(s.load_sessions(&p).unwrap().is_none());
    assert!(s.load_client_state().unwrap().is_none());
    assert!(s.load_trust_state().unwrap().is_none());

    // Written once (version 1): 0 is stale, 2 is ahead; both conflict.
    s.commit(&StoreUpdate {
        prekeys: Some((&prekeys, 0)),
        trusted_identity: Some((&p, &trusted, 0)),
        sessions: Some((&p, &record, 0)),
        client_state: Some((&state, 0)),
        trust_state: Some((&trust, 0)),
        ..StoreUpdate::default()
    })
    .unwrap();
    let (prekeys2, trusted2, record2) = (
        PreKeyStore::new(&owner, 3, 1, &mut rng(43)),
        public(44),
        session_record(2, 45),
    );
    let (state2, trust2) = (client_state(9), trust_store(&[1, 2]));
    for v in [0, 2] {
        assert!(is_conflict(s.commit(&StoreUpdate {
            prekeys: Some((&prekeys2, v)),
            ..StoreUpdate::default()
        })));
        assert!(is_conflict(s.commit(&StoreUpdate {
            trusted_identity: Some((&p, &trusted2, v)),
            ..StoreUpdate::default()
        })));
        assert!(is_conflict(s.commit(&StoreUpdate {
            sessions: Some((&p, &record2, v)),
            ..StoreUpdate::default()
        })));
        assert!(is_conflict(s.commit(&StoreUpdate {
            client_state: Some((&state2, v)),
            ..StoreUpdate::default()
        })));
        assert!(is_conflict(s.commit(&StoreUpdate {
            trust_state: Some((&trust2, v)),
            ..StoreUpdate::default()
        })));
    }
    let s = f.reopen(s);
    let got = s.load_prekeys().unwrap().unwrap();
    assert_eq!(
        (got.version, prekey_ids(&got.value)),
        (1, prekey_ids(&prekeys))
    );
    let got = s.trusted_identity(&p).unwrap().unwrap();
    assert_eq!((got.version, got.value), (1, trusted));
    let got = s.load_sessions(&p).unwrap().unwrap();
    assert_eq!((got.version, digests(&got.value)), (1, digests(&record)));
    let got = s.load_client_state().unwrap().unwrap();
    assert_eq!((got.version, got.value), (1, state));
    let got = s.load_trust_state().unwrap().unwrap();
    assert_eq!((got.version, root_ids(&got.value)), (1, vec![1]));
}

/// An update is all or nothing: one stale part, whichever, keeps every
/// other part of the same update from being written.
pub fn a_conflict_in_any_part_writes_no_part<F: Fixture>(mut f: F) {
    let mut s = f.open();
    let owner = identity(5);
    let p = peer("peer");
    let prekeys = PreKeyStore::new(&owner, 1, 1, &mut rng(50));
    let (trusted, record) = (public(51), session_record(1, 52));
    let (state, trust) = (client_state(1), trust_store(&[1]));
    s.commit(&StoreUpdate {
        prekeys: Some((&prekeys, 0)),
        trusted_identity: Some((&p, &trusted, 0)),
        sessions: Some((&p, &record, 0)),
        client_state: Some((&state, 0)),
        trust_state: Some((&trust, 0)),
        ..StoreUpdate::default()
    })
    .unwrap();
    let prekeys2 = PreKeyStore::new(&owner, 4, 1, &mut rng(53));
    let (trusted2, record2) = (public(54), session_record(2, 55));
    let (state2, trust2) = (client_state(7), trust_store(&[1, 3]));
    let other = identity(56);
    for stale in 0..6 {
        let v = |i: u64| if i == stale { 0 } else { 1 };
        let update = StoreUpdate {
            // The identity part is stale whenever it is present: it exists.
            local_identity: (stale == 5).then_some(&other),
            prekeys: Some((&prekeys2, v(0))),
            trusted_identity: Some((&p, &trusted2, v(1))),
            sessions: Some((&p, &record2, v(2))),
            client_state: Some((&state2, v(3))),
            trust_state: Some((&trust2, v(4))),
            ..StoreUpdate::default()
        };
        if stale == 5 {
            // No identity was written yet: create it, so the part is stale.
            s.commit(&StoreUpdate {
                local_identity: Some(&owner),
                ..StoreUpdate::default()
            })
            .unwrap();
        }
        assert!(is_conflict(s.commit(&update)), "stale part {stale}");
        s = f.reopen(s);
        let got = s.load_prekeys().unwrap().unwrap();
        assert_eq!(
            (got.version, prekey_ids(&got.value)),
            (1, prekey_ids(&prekeys))
        );
        let got = s.trusted_identity(&p).unwrap().unwrap();
        assert_eq!((got.version, got.value), (1, trusted));
        let got = s.load_sessions(&p).unwrap().unwrap();
        assert_eq!((got.version, digests(&got.value)), (1, digests(&record)));
        let got = s.load_client_state().unwrap().unwrap();
        assert_eq!((got.version, got.value), (1, state.clone()));
        let got = s.load_trust_state().unwrap().unwrap();
        assert_eq!((got.version, root_ids(&got.value)), (1, vec![1]));
    }
    assert_eq!(
        s.local_identity().unwrap().unwrap().public(),
        owner.public()
    );
}

/// `unchanged_identity` is a condition, not a write: it lets an update
/// through while the peer's identity record is at the version given (0:
/// there is none), blocks it otherwise, and never changes the record.
pub fn an_unchanged_identity_condition_guards_without_writing<F: Fixture>(mut f: F) {
    let mut s = f.open();
    let p = peer("peer");
    let (state1, state2, state3) = (client_state(1), client_state(2), client_state(3));
    // No identity record: version 0 holds, 1 does not.
    assert!(is_conflict(s.commit(&StoreUpdate {
        client_state: Some((&state1, 0)),
        unchanged_identity: Some((&p, 1)),
        ..StoreUpdate::default()
    })));
    assert!(s.load_client_state().unwrap().is_none());
    s.commit(&StoreUpdate {
        client_state: Some((&state1, 0)),
        unchanged_identity: Some((&p, 0)),
        ..StoreUpdate::default()
    })
    .unwrap();
    assert!(s.trusted_identity(&p).unwrap().is_none());
    let trusted = public(60);
    s.commit(&StoreUpdate {
        trusted_identity: Some((&p, &trusted, 0)),
        ..StoreUpdate::default()
    })
    .unwrap();
    // The record is now at version 1: 0 no longer holds.
    assert!(is_conflict(s.commit(&StoreUpdate {
        client_state: Some((&state2, 1)),
        unchanged_identity: Some((&p, 0)),
        ..StoreUpdate::default()
    })));
    s.commit(&StoreUpdate {
        client_state: Some((&state2, 1)),
        unchanged_identity: Some((&p, 1)),
        ..StoreUpdate::default()
    })
    .unwrap();
    // The condition alone commits nothing and changes no version.
    s.commit(&StoreUpdate {
        unchanged_identity: Some((&p, 1)),
        ..StoreUpdate::default()
    })
    .unwrap();
    let mut s = f.reopen(s);
    let got = s.trusted_identity(&p).unwrap().unwrap();
    assert_eq!((got.version, got.value), (1, trusted));
    let got = s.load_client_state().unwrap().unwrap();
    assert_eq!((got.version, got.value), (2, state2));
    // Another peer's record is another condition.
    assert!(is_conflict(s.commit(&StoreUpdate {
        client_state: Some((&state3, 2)),
        unchanged_identity: Some((&peer("other"), 1)),
        ..StoreUpdate::default()
    })));
    assert_eq!(s.load_client_state().unwrap().unwrap().version, 2);
}

/// Peer records are kept per peer: writing one peer's identity or
/// sessions neither shows nor changes another's.
pub fn records_are_kept_per_peer<F: Fixture>(mut f: F) {
    let mut s = f.open();
    let (a, b) = (peer("alice"), peer("bob"));
    let (ka, kb) = (public(70), public(71));
    let (ra, rb) = (session_record(1, 72), session_record(2, 73));
    s.commit(&StoreUpdate {
        trusted_identity: Some((&a, &ka, 0)),
        sessions: Some((&a, &ra, 0)),
        ..StoreUpdate::default()
    })
    .unwrap();
    assert!(s.trusted_identity(&b).unwrap().is_none());
    assert!(s.load_sessions(&b).unwrap().is_none());
    // Bob's records start at version 0 whatever Alice's are at.
    s.commit(&StoreUpdate {
        trusted_identity: Some((&b, &kb, 0)),
        sessions: Some((&b, &rb, 0)),
        ..StoreUpdate::default()
    })
    .unwrap();
    let s = f.reopen(s);
    let (ga, gb) = (
        s.trusted_identity(&a).unwrap().unwrap(),
        s.trusted_identity(&b).unwrap().unwrap(),
    );
    assert_eq!((ga.version, ga.value, gb.version, gb.value), (1, ka, 1, kb));
    let (ga, gb) = (
        s.load_sessions(&a).unwrap().unwrap(),
        s.load_sessions(&b).unwrap().unwrap(),
    );
    assert_eq!(digests(&ga.value), digests(&ra));
    assert_eq!(digests(&gb.value), digests(&rb));
    assert_eq!((ga.value.len(), gb.value.len()), (1, 2));
    // An account address is a peer of its own, distinct from any text
    // address.
    assert!(
        s.trusted_identity(&PeerId::account(&AccountId([0x61; 32])))
            .unwrap()
            .is_none()
    );
}

/// A `Client` on the store keeps every change across reopens: the trust
/// from a first message, consumed and added prekeys, sessions whose
/// message keys are used once, and its relay counter.
pub fn a_client_keeps_every_change_across_reopens<F: Fixture>(mut f: F) {
    let mut r = rng(80);
    let (pc, pb) = (peer("customer"), peer("business"));
    let mut business = Client::create(f.open(), 2, 2, &mut r).unwrap();
    let mut customer = Client::create(
        MemoryStore::in_memory(StorageKey::generate(&mut r)),
        0,
        0,
        &mut r,
    )
    .unwrap();
    let one_time = |c: &Client<F::Store>| {
        c.store()
            .load_prekeys()
            .unwrap()
            .unwrap()
            .value
            .one_time_count()
    };
    let identity = business.identity();
    business = Client::open(f.reopen(business.into_store())).unwrap();
    assert_eq!(business.identity(), identity);
    assert_eq!(one_time(&business), 2);

    customer
        .start_session(&pb, &business.bundle().unwrap(), &mut r)
        .unwrap();
    let first = customer.encrypt(&pb, b"first", b"").unwrap();
    assert_eq!(business.decrypt(&pc, &first, b"").unwrap(), b"first");
    business = Client::open(f.reopen(business.into_store())).unwrap();
    assert_eq!(
        business.trusted_identity(&pc).unwrap(),
        Some(customer.identity())
    );
    assert_eq!(one_time(&business), 1, "the consumed prekey stays consumed");
    assert!(business.decrypt(&pc, &first, b"").is_err());

    for i in 0..3u8 {
        let w = business.encrypt(&pc, &[b'b', i], b"").unwrap();
        business = Client::open(f.reopen(business.into_store())).unwrap();
        assert_eq!(customer.decrypt(&pb, &w, b"").unwrap(), [b'b', i]);
        let w = customer.encrypt(&pb, &[b'c', i], b"").unwrap();
        assert_eq!(business.decrypt(&pc, &w, b"").unwrap(), [b'c', i]);
        business = Client::open(f.reopen(business.into_store())).unwrap();
        assert!(business.decrypt(&pc, &w, b"").is_err(), "replay {i}");
    }

    let added = business
        .update_prekeys(|p| p.add_one_time_prekeys(3, &mut rng(81)))
        .unwrap();
    business
        .sign_request(
            hotline::relay::Request::FetchMailbox { max: 1 },
            1_800_000_000,
        )
        .unwrap();
    let counter = business.relay_counter();
    business = Client::open(f.reopen(business.into_store())).unwrap();
    assert_eq!(one_time(&business), 1 + added.len());
    assert_eq!(business.relay_counter(), counter);
    assert!(counter > 0);
}

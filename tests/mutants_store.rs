//! Client commits that mutation testing found unchecked: trust updates
//! survive a reopen, and under a rollback guard every commit raises the
//! store's generation, so a restored backup is refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hotline::business::{RootAuthority, Validity};
use hotline::store::{
    Client, ClientStateRepository, EncryptedStore, MemoryStore, RollbackGuard, StorageKey,
    StoreError,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const ALWAYS: Validity = Validity {
    not_before: 1_600_000_000,
    not_after: 2_000_000_000,
};

fn reopen(c: Client<MemoryStore>) -> Client<MemoryStore> {
    Client::open(c.into_store()).unwrap()
}

/// Every trust update is committed: after a reopen the client has each
/// root it installed and the status requirement it set.
#[test]
fn trust_updates_survive_a_reopen() {
    let mut r = ChaCha20Rng::seed_from_u64(91);
    let mut c = Client::create(
        MemoryStore::in_memory(StorageKey::generate(&mut r)),
        1,
        1,
        &mut r,
    )
    .unwrap();
    let first = RootAuthority::from_seed(&[0x51; 32], 501, ALWAYS).trust_root();
    c.update_trust(|t| t.add_root(first.clone())).unwrap();
    let mut c = reopen(c);
    let ids: Vec<u32> = c.trust_store().roots().map(|r| r.root_id()).collect();
    assert_eq!(ids, [501]);
    let second = RootAuthority::from_seed(&[0x52; 32], 502, ALWAYS).trust_root();
    c.update_trust(|t| {
        t.require_status(true);
        t.add_root(second.clone())
    })
    .unwrap();
    let c = reopen(c);
    let ids: Vec<u32> = c.trust_store().roots().map(|r| r.root_id()).collect();
    assert_eq!(ids, [501, 502]);
    assert!(c.trust_store().status_required());
    assert_eq!(c.store().load_trust_state().unwrap().unwrap().version, 2);
}

/// A monotonic counter kept outside the store.
#[derive(Clone, Default)]
struct Counter(Arc<AtomicU64>);

impl RollbackGuard for Counter {
    fn current(&self) -> Result<u64, StoreError> {
        Ok(self.0.load(Ordering::SeqCst))
    }
    fn advance(&mut self, generation: u64) -> Result<(), StoreError> {
        self.0.fetch_max(generation, Ordering::SeqCst);
        Ok(())
    }
}

/// Under a guard, each commit (here, prekey updates that carry no client
/// state of their own) raises the generation by one and the guard with
/// it; a backup from before those commits is then refused as rolled back.
#[test]
fn guarded_commits_raise_the_generation_and_a_backup_is_refused() {
    let mut r = ChaCha20Rng::seed_from_u64(92);
    let key = StorageKey::generate(&mut r);
    let c = Client::create(MemoryStore::in_memory(key.clone()), 1, 1, &mut r).unwrap();
    let guard = Counter::default();
    let mut c = c.with_rollback_guard(Box::new(guard.clone())).unwrap();
    let backup = c.store().backend().clone();
    let generation = |c: &Client<MemoryStore>| {
        c.store()
            .load_client_state()
            .unwrap()
            .map_or(0, |s| s.value.generation)
    };
    let start = generation(&c);
    for i in 1..=3u64 {
        c.update_prekeys(|p| p.add_one_time_prekeys(1, &mut ChaCha20Rng::seed_from_u64(i)))
            .unwrap();
        assert_eq!(generation(&c), start + i);
        assert_eq!(guard.current().unwrap(), start + i);
    }
    let restored = Client::open(EncryptedStore::new(key, backup)).unwrap();
    let err = restored
        .with_rollback_guard(Box::new(guard.clone()))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::RolledBack { stored, guard } if stored == start && guard == start + 3),
        "{err:?}"
    );
}

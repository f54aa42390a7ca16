//! The shared conformance suite of `ClientStore` (tests/store_support/
//! contract.rs), run on every backend: the in-memory store, the SQLite
//! store reopened from its file, a backend shared between clients
//! (`Arc<Mutex<_>>`), `EncryptedStore` over a minimal record backend an
//! application could write (only `get` and `put_all`, everything else the
//! crate's), and a whole store an application wrote itself. A new backend
//! (PostgreSQL, a platform keychain...) adds one line to `backends!`.

mod common;
#[path = "store_support/contract.rs"]
mod contract;
#[path = "store_support/map_store.rs"]
mod map_store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use contract::Fixture;
use hotline::store::{
    EncryptedStore, MemoryBackend, MemoryStore, RecordBackend, RecordWrite, StorageKey, StoreError,
    StoredRecord,
};

fn key(seed: u64) -> StorageKey {
    StorageKey::generate(&mut common::rng(seed))
}

/// The crate's in-memory store, reopened from a copy of its records under
/// the same key (so nothing cached outside the records survives).
struct Memory;

impl Fixture for Memory {
    type Store = MemoryStore;
    fn open(&mut self) -> MemoryStore {
        MemoryStore::in_memory(key(1))
    }
    fn reopen(&mut self, store: MemoryStore) -> MemoryStore {
        EncryptedStore::new(key(1), store.backend().clone())
    }
}

/// One backend behind a lock, as clients of one process share it.
struct Shared;

impl Fixture for Shared {
    type Store = EncryptedStore<Arc<Mutex<MemoryBackend>>>;
    fn open(&mut self) -> Self::Store {
        EncryptedStore::new(key(2), Arc::new(Mutex::new(MemoryBackend::default())))
    }
    fn reopen(&mut self, store: Self::Store) -> Self::Store {
        let shared = Arc::clone(store.backend());
        drop(store);
        EncryptedStore::new(key(2), shared)
    }
}

/// A record backend as small as the trait allows, written the way an
/// application would: a map, a version per record, every version checked
/// before anything is written.
#[derive(Default, Clone)]
struct MinimalBackend {
    records: HashMap<(u8, Vec<u8>), (Vec<u8>, u64)>,
}

impl RecordBackend for MinimalBackend {
    fn get(&self, kind: u8, name: &[u8]) -> Result<Option<StoredRecord>, StoreError> {
        Ok(self
            .records
            .get(&(kind, name.to_vec()))
            .map(|(record, version)| StoredRecord {
                record: record.clone(),
                version: *version,
            }))
    }

    fn put_all(&mut self, writes: &[RecordWrite]) -> Result<(), StoreError> {
        for w in writes {
            let now = self
                .records
                .get(&(w.kind, w.name.clone()))
                .map_or(0, |(_, v)| *v);
            if now != w.expected_version {
                return Err(StoreError::Conflict { kind: w.kind });
            }
        }
        for w in writes {
            if let Some(record) = &w.record {
                self.records.insert(
                    (w.kind, w.name.clone()),
                    (record.clone(), w.expected_version + 1),
                );
            }
        }
        Ok(())
    }
}

struct Minimal;

impl Fixture for Minimal {
    type Store = EncryptedStore<MinimalBackend>;
    fn open(&mut self) -> Self::Store {
        EncryptedStore::new(key(3), MinimalBackend::default())
    }
    fn reopen(&mut self, store: Self::Store) -> Self::Store {
        EncryptedStore::new(key(3), store.backend().clone())
    }
}

/// A whole store written by an application, without `EncryptedStore`.
struct Application;

impl Fixture for Application {
    type Store = map_store::MapStore;
    fn open(&mut self) -> Self::Store {
        map_store::MapStore::new(key(4))
    }
    fn reopen(&mut self, store: Self::Store) -> Self::Store {
        store
    }
}

/// The SQLite store in a file of its own, reopened from the file.
#[cfg(feature = "sqlite")]
struct Sqlite {
    path: std::path::PathBuf,
}

#[cfg(feature = "sqlite")]
impl Sqlite {
    fn new() -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!("hotline-conformance-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.db", N.fetch_add(1, Ordering::SeqCst)));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        Self { path }
    }
}

#[cfg(feature = "sqlite")]
impl Drop for Sqlite {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

#[cfg(feature = "sqlite")]
impl Fixture for Sqlite {
    type Store = hotline::store::SqliteStore;
    fn open(&mut self) -> Self::Store {
        hotline::store::SqliteStore::open(&self.path, key(5)).unwrap()
    }
    fn reopen(&mut self, store: Self::Store) -> Self::Store {
        drop(store);
        hotline::store::SqliteStore::open(&self.path, key(5)).unwrap()
    }
}

/// One module per backend, one test per clause of the contract.
macro_rules! backends {
    ($($(#[$attr:meta])* $name:ident => $fixture:expr;)*) => {$(
        $(#[$attr])*
        mod $name {
            use super::*;

            #[test]
            fn empty_store_holds_nothing() {
                contract::empty_store_holds_nothing($fixture);
            }
            #[test]
            fn the_local_identity_is_written_once() {
                contract::the_local_identity_is_written_once($fixture);
            }
            #[test]
            fn versions_start_at_one_and_grow_by_one() {
                contract::versions_start_at_one_and_grow_by_one($fixture);
            }
            #[test]
            fn wrong_versions_are_conflicts() {
                contract::wrong_versions_are_conflicts($fixture);
            }
            #[test]
            fn a_conflict_in_any_part_writes_no_part() {
                contract::a_conflict_in_any_part_writes_no_part($fixture);
            }
            #[test]
            fn an_unchanged_identity_condition_guards_without_writing() {
                contract::an_unchanged_identity_condition_guards_without_writing($fixture);
            }
            #[test]
            fn records_are_kept_per_peer() {
                contract::records_are_kept_per_peer($fixture);
            }
            #[test]
            fn a_client_keeps_every_change_across_reopens() {
                contract::a_client_keeps_every_change_across_reopens($fixture);
            }
        }
    )*};
}

backends! {
    memory => Memory;
    shared => Shared;
    minimal_backend => Minimal;
    application_store => Application;
    #[cfg(feature = "sqlite")]
    sqlite => Sqlite::new();
}

//! An in-memory record backend: sealed records in a map. Useful for tests
//! and for applications that persist the records themselves.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::store::record::StorageKey;
use crate::store::traits::{EncryptedStore, RecordBackend, RecordWrite, StoreError, StoredRecord};

/// Sealed records in memory, keyed by (kind, name).
#[derive(Debug, Clone, Default)]
pub struct MemoryBackend {
    records: BTreeMap<(u8, Vec<u8>), StoredRecord>,
}

impl MemoryBackend {
    /// Every stored record: ((kind, name), sealed bytes).
    pub fn records(&self) -> impl Iterator<Item = (&(u8, Vec<u8>), &Vec<u8>)> {
        self.records.iter().map(|(k, v)| (k, &v.record))
    }

    /// Replaces a stored record's bytes (to simulate corruption or
    /// rollback), as a write: its version grows by one.
    pub fn set_record(&mut self, kind: u8, name: &[u8], record: Vec<u8>) {
        let version = self
            .records
            .get(&(kind, name.to_vec()))
            .map_or(0, |r| r.version);
        self.records.insert(
            (kind, name.to_vec()),
            StoredRecord {
                record,
                version: version.saturating_add(1),
            },
        );
    }
}

impl RecordBackend for MemoryBackend {
    fn get(&self, kind: u8, name: &[u8]) -> Result<Option<StoredRecord>, StoreError> {
        Ok(self.records.get(&(kind, name.to_vec())).cloned())
    }

    fn put_all(&mut self, records: &[RecordWrite]) -> Result<(), StoreError> {
        // Check every version first, so a conflict writes nothing.
        for w in records {
            let current = self
                .records
                .get(&(w.kind, w.name.clone()))
                .map_or(0, |r| r.version);
            if current != w.expected_version {
                return Err(StoreError::Conflict { kind: w.kind });
            }
        }
        for w in records {
            if let Some(record) = &w.record {
                self.records.insert(
                    (w.kind, w.name.clone()),
                    StoredRecord {
                        record: record.clone(),
                        version: w.expected_version.saturating_add(1),
                    },
                );
            }
        }
        Ok(())
    }
}

/// A backend shared by several clients in one process (as two processes
/// share one database): each operation locks it, so every compare-and-swap
/// is atomic. A poisoned lock is reported as a backend error.
impl<B: RecordBackend> RecordBackend for Arc<Mutex<B>> {
    fn get(&self, kind: u8, name: &[u8]) -> Result<Option<StoredRecord>, StoreError> {
        self.lock().map_err(|_| poisoned())?.get(kind, name)
    }

    fn put_all(&mut self, records: &[RecordWrite]) -> Result<(), StoreError> {
        self.lock().map_err(|_| poisoned())?.put_all(records)
    }
}

fn poisoned() -> StoreError {
    StoreError::Backend("a writer panicked while holding the backend lock".into())
}

/// The client stores in memory, sealed under a storage key.
pub type MemoryStore = EncryptedStore<MemoryBackend>;

impl EncryptedStore<MemoryBackend> {
    /// An empty in-memory store sealing under `key`.
    ///
    /// ```
    /// use hotline::store::{MemoryStore, StorageKey};
    /// let store = MemoryStore::in_memory(StorageKey::generate(&mut rand::rng()));
    /// assert_eq!(store.backend().records().count(), 0);
    /// ```
    pub fn in_memory(key: StorageKey) -> Self {
        Self::new(key, MemoryBackend::default())
    }
}

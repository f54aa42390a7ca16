//! An in-memory record backend: sealed records in a map. Useful for tests
//! and for applications that persist the records themselves.

use std::collections::BTreeMap;

use crate::store::record::StorageKey;
use crate::store::traits::{EncryptedStore, RecordBackend, RecordWrite, StoreError};

/// Sealed records in memory, keyed by (kind, name).
#[derive(Debug, Clone, Default)]
pub struct MemoryBackend {
    records: BTreeMap<(u8, Vec<u8>), Vec<u8>>,
}

impl MemoryBackend {
    /// Every stored record: ((kind, name), sealed bytes).
    pub fn records(&self) -> impl Iterator<Item = (&(u8, Vec<u8>), &Vec<u8>)> {
        self.records.iter()
    }

    /// Replaces a stored record's bytes (to simulate corruption or rollback).
    pub fn set_record(&mut self, kind: u8, name: &[u8], record: Vec<u8>) {
        self.records.insert((kind, name.to_vec()), record);
    }
}

impl RecordBackend for MemoryBackend {
    fn get(&self, kind: u8, name: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.records.get(&(kind, name.to_vec())).cloned())
    }

    fn put_all(&mut self, records: &[RecordWrite]) -> Result<(), StoreError> {
        for w in records {
            self.records
                .insert((w.kind, w.name.clone()), w.record.clone());
        }
        Ok(())
    }
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

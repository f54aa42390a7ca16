//! The relay through its public API, on the in-memory store: authentication,
//! directory, mailboxes, the rules of business messaging, and
//! ciphertext-only storage.

fn new_store() -> Box<dyn hotline::relay::RelayStore> {
    Box::new(hotline::relay::MemoryStore::new())
}

include!("relay_suite/suite.rs");

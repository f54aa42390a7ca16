//! The relay's whole test suite on the SQLite store, plus the
//! kill-and-reopen durability test. Run with `cargo test --features sqlite`.
#![cfg(feature = "sqlite")]

/// A fresh database file per relay, removed at process exit by the OS temp
/// cleaner (each file is small).
fn new_store() -> Box<dyn hotline::relay::RelayStore> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("hotline-relay-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.db", N.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_file(&path);
    Box::new(hotline::relay::SqliteStore::open(path).unwrap())
}

include!("relay_suite/suite.rs");

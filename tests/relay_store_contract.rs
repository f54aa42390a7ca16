//! The `RelayStore` contract (tests/relay_suite/store_contract.rs) on the
//! in-memory store and, with the `sqlite` feature, on the SQLite store.

mod memory {
    fn new_store() -> Box<dyn hotline::relay::RelayStore> {
        Box::new(hotline::relay::MemoryStore::new())
    }

    include!("relay_suite/store_contract.rs");
}

#[cfg(feature = "sqlite")]
mod sqlite {
    fn new_store() -> Box<dyn hotline::relay::RelayStore> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!("hotline-contract-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.db", N.fetch_add(1, Ordering::SeqCst)));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        Box::new(hotline::relay::SqliteStore::open(path).unwrap())
    }

    include!("relay_suite/store_contract.rs");
}

//! A hostile account against the relay's fairness and the order of its
//! records (SPEC.md 14.5, 14.6, 14.8, 14.11): one sender filling a shared
//! mailbox, draining one-time prekeys, flooding initial messages, and
//! records dated in the same second or in the future. Every test runs on
//! the in-memory store and, with `--features sqlite`, on the SQLite store.

mod memory {
    fn new_store() -> Box<dyn hotline::relay::RelayStore> {
        Box::new(hotline::relay::MemoryStore::new())
    }

    include!("relay_fairness/suite.rs");
}

#[cfg(feature = "sqlite")]
mod sqlite {
    /// A fresh database file per relay, in a directory of this process.
    fn new_store() -> Box<dyn hotline::relay::RelayStore> {
        Box::new(hotline::relay::SqliteStore::open(db_path()).unwrap())
    }

    fn db_path() -> std::path::PathBuf {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir =
            std::env::temp_dir().join(format!("hotline-fairness-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.db", N.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_file(&path);
        path
    }

    include!("relay_fairness/suite.rs");

    /// The effective time of a record from the future is what the database
    /// keeps: after a restart, the later change still takes effect.
    #[test]
    fn a_record_from_the_future_is_ordered_at_relay_time_across_a_restart() {
        let path = db_path();
        let relay_on = |clock: &ManualClock, biz: &IdentityKeyPair| {
            let mut trust = AllowList::new();
            trust.allow(&biz.public(), "Example Air");
            Relay::new(
                hotline::relay::SqliteStore::open(&path).unwrap(),
                clock.clone(),
                trust,
            )
        };
        let mut rng = ChaCha20Rng::seed_from_u64(77);
        let biz = IdentityKeyPair::generate(&mut rng);
        let customer = IdentityKeyPair::generate(&mut rng);
        let clock = ManualClock::new(T0);
        let mut c = RequestSigner::new(customer, 0);
        let mut b = RequestSigner::new(biz.clone(), 0);
        {
            let relay = relay_on(&clock, &biz);
            let identity = c.identity().public();
            relay
                .handle_request(&c.sign(Request::RegisterCustomer { identity }, T0))
                .unwrap();
            let req = Request::RegisterBusiness {
                identity: biz.public(),
                certificate_chain: Vec::new(),
            };
            relay.handle_request(&b.sign(req, T0)).unwrap();
            let block = BlockRecord::sign(c.identity(), b.id(), true, T0 + 299);
            assert_eq!(
                relay.handle_request(&c.sign(Request::Block(block), T0)),
                Ok(Response::BlockStored)
            );
        }
        clock.advance(10);
        let relay = relay_on(&clock, &biz);
        let unblock = BlockRecord::sign(c.identity(), b.id(), false, T0 + 10);
        assert_eq!(
            relay.handle_request(&c.sign(Request::Block(unblock), T0 + 10)),
            Ok(Response::BlockStored)
        );
        let pair = relay.store().pair(&c.id(), &b.id()).unwrap();
        assert_eq!(pair.block.map(|r| r.blocked()), Some(false));
    }
}

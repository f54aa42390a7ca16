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

/// A store written before erasure existed: it implements every method
/// but `delete_account` and `deleted_at`, and inherits their defaults. The
/// relay over it refuses an erasure as "unavailable" and erases nothing,
/// rather than answer that the account is gone.
mod before_erasure {
    use hotline::IdentityKeyPair;
    use hotline::relay::{
        AccountId, AccountRecord, AllowList, BlockRecord, BundleParts, ConsentRecord, Delivery,
        EnqueueOutcome, MailboxLimits, ManualClock, MemoryStore, MessageId, PairState,
        PreKeyUpload, Refusal, Relay, RelayStore, Request, RequestSigner, Response, SendEffects,
        StoreError, StoredEnvelope, StoredReport, UploadOutcome,
    };

    struct Legacy(MemoryStore);

    impl RelayStore for Legacy {
        fn register(&self, a: &AccountRecord, c: u64) -> Result<bool, StoreError> {
            self.0.register(a, c)
        }
        fn renew_business(&self, id: &AccountId, c: &[u8], n: &str) -> Result<bool, StoreError> {
            self.0.renew_business(id, c, n)
        }
        fn businesses(&self) -> Result<Vec<AccountRecord>, StoreError> {
            self.0.businesses()
        }
        fn put_status(&self, id: &AccountId, t: u64, s: &[u8]) -> Result<bool, StoreError> {
            self.0.put_status(id, t, s)
        }
        fn status(&self, id: &AccountId) -> Result<Option<Vec<u8>>, StoreError> {
            self.0.status(id)
        }
        fn account(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
            self.0.account(id)
        }
        fn advance_counter(&self, id: &AccountId, c: u64) -> Result<Result<(), u64>, StoreError> {
            self.0.advance_counter(id, c)
        }
        fn add_prekeys(
            &self,
            id: &AccountId,
            u: &PreKeyUpload,
            m: usize,
        ) -> Result<UploadOutcome, StoreError> {
            self.0.add_prekeys(id, u, m)
        }
        fn take_bundle_parts(
            &self,
            id: &AccountId,
            one_time: bool,
        ) -> Result<Option<BundleParts>, StoreError> {
            self.0.take_bundle_parts(id, one_time)
        }
        fn prekey_counts(&self, id: &AccountId) -> Result<(usize, usize), StoreError> {
            self.0.prekey_counts(id)
        }
        fn is_stored(
            &self,
            r: &AccountId,
            s: &AccountId,
            m: &MessageId,
            l: &MailboxLimits,
            now: u64,
        ) -> Result<bool, StoreError> {
            self.0.is_stored(r, s, m, l, now)
        }
        fn enqueue(
            &self,
            e: &StoredEnvelope,
            f: SendEffects,
            l: &MailboxLimits,
            now: u64,
        ) -> Result<EnqueueOutcome, StoreError> {
            self.0.enqueue(e, f, l, now)
        }
        fn fetch(
            &self,
            r: &AccountId,
            max: usize,
            l: &MailboxLimits,
            now: u64,
        ) -> Result<(Vec<Delivery>, bool), StoreError> {
            self.0.fetch(r, max, l, now)
        }
        fn acknowledge(
            &self,
            r: &AccountId,
            ids: &[u64],
            l: &MailboxLimits,
            now: u64,
        ) -> Result<usize, StoreError> {
            self.0.acknowledge(r, ids, l, now)
        }
        fn expire(&self, l: &MailboxLimits, now: u64) -> Result<usize, StoreError> {
            self.0.expire(l, now)
        }
        fn pair(&self, c: &AccountId, b: &AccountId) -> Result<PairState, StoreError> {
            self.0.pair(c, b)
        }
        fn put_consent(&self, r: &ConsentRecord, e: u64, h: usize) -> Result<bool, StoreError> {
            self.0.put_consent(r, e, h)
        }
        fn put_block(&self, r: &BlockRecord, e: u64) -> Result<bool, StoreError> {
            self.0.put_block(r, e)
        }
        fn consent_history(
            &self,
            c: &AccountId,
            b: &AccountId,
        ) -> Result<Vec<ConsentRecord>, StoreError> {
            self.0.consent_history(c, b)
        }
        fn notification_counts(&self) -> Result<Vec<(AccountId, u64)>, StoreError> {
            self.0.notification_counts()
        }
        fn put_report(&self, r: &StoredReport) -> Result<bool, StoreError> {
            self.0.put_report(r)
        }
        fn reporters(&self, b: &AccountId, since: u64) -> Result<u64, StoreError> {
            self.0.reporters(b, since)
        }
        fn reach(
            &self,
            b: &AccountId,
            c: &AccountId,
            since: u64,
        ) -> Result<(bool, u64), StoreError> {
            self.0.reach(b, c, since)
        }
        fn note_reach(&self, b: &AccountId, c: &AccountId, now: u64) -> Result<(), StoreError> {
            self.0.note_reach(b, c, now)
        }
        fn dump(&self) -> Result<Vec<u8>, StoreError> {
            self.0.dump()
        }
    }

    #[test]
    fn a_store_without_erasure_refuses_it_and_keeps_the_account() {
        let clock = ManualClock::new(1_700_000_000);
        let relay = Relay::new(Legacy(MemoryStore::new()), clock, AllowList::new());
        let identity = IdentityKeyPair::generate(&mut rand::rng());
        let mut customer = RequestSigner::new(identity.clone(), 0);
        let id = customer.id();
        let mut call = |request| {
            let signed = customer.sign(request, 1_700_000_000);
            Response::decode_result(&relay.handle(&signed.to_bytes())).unwrap()
        };
        let public = identity.public();
        assert_eq!(
            call(Request::RegisterCustomer { identity: public }),
            Ok(Response::Registered)
        );
        assert_eq!(call(Request::DeleteAccount), Err(Refusal::Unavailable));
        assert!(relay.store().account(&id).unwrap().is_some());
        assert_eq!(relay.store().deleted_at(&id), Ok(None));
        assert!(matches!(
            call(Request::PreKeyStatus),
            Ok(Response::PreKeyStatus(_))
        ));
        // Registering again is "already registered", never "deleted".
        assert_eq!(
            call(Request::RegisterCustomer { identity: public }),
            Err(Refusal::AlreadyRegistered)
        );
    }
}

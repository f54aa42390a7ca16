//! A PostgreSQL schema of its own for each test, dropped afterwards.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use hotline::relay::RelayStore;
use hotline_relay::{PostgresConfig, PostgresStore};

/// The database the PostgreSQL tests run on.
pub fn url() -> String {
    std::env::var("HOTLINE_TEST_POSTGRES").expect("HOTLINE_TEST_POSTGRES names the test database")
}

/// A schema name no other test (or test process) uses.
pub fn fresh_schema(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "t_{tag}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Drops its schema (and everything in it) when dropped.
pub struct Schema {
    pub config: PostgresConfig,
}

impl Schema {
    pub fn new(tag: &str) -> Self {
        let mut config = PostgresConfig::new(url()).with_schema(fresh_schema(tag));
        config.pool_size = 8;
        Self { config }
    }

    /// A store on this schema (opened on a thread of its own, so that it
    /// may be called from async tests too).
    pub fn store(&self) -> PostgresStore {
        let config = self.config.clone();
        std::thread::spawn(move || PostgresStore::open(&config))
            .join()
            .expect("open thread")
            .expect("open the PostgreSQL store")
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let url = url();
        let schema = self.config.schema.clone();
        // On a thread of its own: the blocking client may not run inside an
        // async task.
        let dropped = std::thread::spawn(move || -> Result<(), postgres::Error> {
            let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
            client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}", self.config.schema);
        }
    }
}

/// A store that drops its schema when it is dropped (after the store).
pub struct ScopedStore {
    pub store: Option<PostgresStore>,
    pub schema: Schema,
}

impl ScopedStore {
    pub fn new(tag: &str) -> Self {
        let schema = Schema::new(tag);
        Self {
            store: Some(schema.store()),
            schema,
        }
    }
    fn s(&self) -> &PostgresStore {
        self.store.as_ref().expect("open")
    }
}

impl Drop for ScopedStore {
    fn drop(&mut self) {
        // Every connection closed before the schema is dropped.
        self.store.take();
    }
}

use hotline::relay::{
    AccountId, AccountRecord, BlockRecord, BundleParts, ConsentRecord, Delivery, EnqueueOutcome,
    MailboxLimits, MessageId, PairState, PreKeyUpload, SendEffects, StoreError, StoredEnvelope,
    StoredReport, UploadOutcome,
};

impl RelayStore for ScopedStore {
    fn register(&self, a: &AccountRecord, c: u64) -> Result<bool, StoreError> {
        self.s().register(a, c)
    }
    fn renew_business(&self, id: &AccountId, c: &[u8], n: &str) -> Result<bool, StoreError> {
        self.s().renew_business(id, c, n)
    }
    fn businesses(&self) -> Result<Vec<AccountRecord>, StoreError> {
        self.s().businesses()
    }
    fn put_status(&self, id: &AccountId, t: u64, st: &[u8]) -> Result<bool, StoreError> {
        self.s().put_status(id, t, st)
    }
    fn status(&self, id: &AccountId) -> Result<Option<Vec<u8>>, StoreError> {
        self.s().status(id)
    }
    fn account(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        self.s().account(id)
    }
    fn advance_counter(&self, id: &AccountId, c: u64) -> Result<Result<(), u64>, StoreError> {
        self.s().advance_counter(id, c)
    }
    fn add_prekeys(
        &self,
        id: &AccountId,
        u: &PreKeyUpload,
        m: usize,
    ) -> Result<UploadOutcome, StoreError> {
        self.s().add_prekeys(id, u, m)
    }
    fn take_bundle_parts(
        &self,
        id: &AccountId,
        one_time: bool,
    ) -> Result<Option<BundleParts>, StoreError> {
        self.s().take_bundle_parts(id, one_time)
    }
    fn prekey_counts(&self, id: &AccountId) -> Result<(usize, usize), StoreError> {
        self.s().prekey_counts(id)
    }
    fn is_stored(
        &self,
        r: &AccountId,
        se: &AccountId,
        m: &MessageId,
        l: &MailboxLimits,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.s().is_stored(r, se, m, l, now)
    }
    fn enqueue(
        &self,
        e: &StoredEnvelope,
        f: SendEffects,
        l: &MailboxLimits,
        now: u64,
    ) -> Result<EnqueueOutcome, StoreError> {
        self.s().enqueue(e, f, l, now)
    }
    fn fetch(
        &self,
        r: &AccountId,
        max: usize,
        l: &MailboxLimits,
        now: u64,
    ) -> Result<(Vec<Delivery>, bool), StoreError> {
        self.s().fetch(r, max, l, now)
    }
    fn acknowledge(
        &self,
        r: &AccountId,
        ids: &[u64],
        l: &MailboxLimits,
        now: u64,
    ) -> Result<usize, StoreError> {
        self.s().acknowledge(r, ids, l, now)
    }
    fn expire(&self, l: &MailboxLimits, now: u64) -> Result<usize, StoreError> {
        self.s().expire(l, now)
    }
    fn pair(&self, c: &AccountId, b: &AccountId) -> Result<PairState, StoreError> {
        self.s().pair(c, b)
    }
    fn put_consent(&self, r: &ConsentRecord, e: u64, h: usize) -> Result<bool, StoreError> {
        self.s().put_consent(r, e, h)
    }
    fn put_block(&self, r: &BlockRecord, e: u64) -> Result<bool, StoreError> {
        self.s().put_block(r, e)
    }
    fn consent_history(
        &self,
        c: &AccountId,
        b: &AccountId,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        self.s().consent_history(c, b)
    }
    fn notification_counts(&self) -> Result<Vec<(AccountId, u64)>, StoreError> {
        self.s().notification_counts()
    }
    fn put_report(&self, r: &StoredReport) -> Result<bool, StoreError> {
        self.s().put_report(r)
    }
    fn reporters(&self, b: &AccountId, since: u64) -> Result<u64, StoreError> {
        self.s().reporters(b, since)
    }
    fn reach(&self, b: &AccountId, c: &AccountId, since: u64) -> Result<(bool, u64), StoreError> {
        self.s().reach(b, c, since)
    }
    fn note_reach(&self, b: &AccountId, c: &AccountId, now: u64) -> Result<(), StoreError> {
        self.s().note_reach(b, c, now)
    }
    fn dump(&self) -> Result<Vec<u8>, StoreError> {
        self.s().dump()
    }
    fn delete_account(&self, id: &AccountId, now: u64) -> Result<bool, StoreError> {
        self.s().delete_account(id, now)
    }
    fn deleted_at(&self, id: &AccountId) -> Result<Option<u64>, StoreError> {
        self.s().deleted_at(id)
    }
    fn states(
        &self,
        s: &AccountId,
        after: u64,
        max: usize,
    ) -> Result<(Vec<hotline::relay::StateEntry>, bool), StoreError> {
        self.s().states(s, after, max)
    }
    fn billed(
        &self,
        s: &AccountId,
        period: u32,
    ) -> Result<Vec<hotline::relay::StateEntry>, StoreError> {
        self.s().billed(s, period)
    }
}

//! A [`RelayStore`] on PostgreSQL, shared by any number of relay nodes, and
//! the listener that carries "an envelope arrived" from node to node.
//!
//! Every rule the store keeps is kept by the database, so it holds across
//! nodes: each method is one statement (atomic by itself), or one
//! transaction that first locks the recipient's mailbox row (sends, blocks,
//! consents: READ COMMITTED, each statement seeing what the lock's previous
//! holder committed), or one `SERIALIZABLE` transaction (the prekey
//! directory). A transaction that PostgreSQL rolled back for a
//! serialization failure or a deadlock is retried from the start. No rule
//! depends on a lock held in a relay process.
//! A method returns only after its commit, so a node killed at any moment
//! loses nothing it acknowledged.
//!
//! Any failure (no connection within the timeout, a statement over its
//! timeout, a lost connection, retries exhausted) is a
//! [`StoreError::Backend`]: the relay answers "unavailable", never a wrong
//! answer. Everything read back is decoded again; a row that does not
//! decode is [`StoreError::Corrupt`].
//!
//! The schema is versioned: the `hotline_schema_version` table lists the
//! migrations applied, each applied once, in order, under a transaction
//! lock so that nodes starting together do not race.

use std::sync::Arc;
use std::time::Duration;

use hotline::constants::{
    CHAT_WINDOW_SECS, CONSENT_RETENTION_SECS, REACH_WINDOW_SECS, REPORT_RETENTION_SECS,
    STATE_RETENTION_SECS,
};
use hotline::relay::{
    AccountId, AccountKind, AccountRecord, BlockRecord, BundleParts, ConsentRecord, Delivery,
    DeliveryState, EnqueueOutcome, Envelope, MailboxLimits, MessageClass, MessageId, PairState,
    PreKeyUpload, RelayStore, SendEffects, StateEntry, StoreError, StoredEnvelope, StoredReport,
    UploadOutcome, state_entry,
};
use hotline::{IdentityKey, KemPreKeyPublic, OneTimePreKeyPublic, SignedPreKeyPublic};
use postgres::error::SqlState;
use postgres::{IsolationLevel, NoTls};
use r2d2_postgres::PostgresConnectionManager;

use crate::hub::Hub;

/// Where and how to reach PostgreSQL.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresConfig {
    /// A libpq-style URL, `postgres://user@host:port/database`.
    /// `application_name` may be given as a query parameter (the default
    /// is `hotline-relay`).
    pub url: String,
    /// The schema that holds the relay's tables (created if missing):
    /// lowercase letters, digits and `_`, at most 40 characters.
    pub schema: String,
    /// Most connections this node keeps open.
    pub pool_size: u32,
    /// Longest wait for a connection (new or from the pool).
    pub connect_timeout: Duration,
    /// Longest time one statement may run, and one lock wait.
    pub statement_timeout: Duration,
}

impl core::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The URL may carry a password: only what follows the `@`.
        let shown = match self.url.rsplit_once('@') {
            Some((_, host)) => format!("postgres://…@{host}"),
            None => self.url.clone(),
        };
        f.debug_struct("PostgresConfig")
            .field("url", &shown)
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .finish_non_exhaustive()
    }
}

impl PostgresConfig {
    /// `url` with the default schema (`hotline`) and limits.
    ///
    /// ```
    /// let c = hotline_relay::PostgresConfig::new("postgres://root@127.0.0.1/test");
    /// assert_eq!(c.schema, "hotline");
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            schema: "hotline".to_owned(),
            pool_size: 16,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(5),
        }
    }

    /// The same with another schema.
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The NOTIFY channel of this schema's relay nodes.
    fn channel(&self) -> String {
        format!("hotline_{}", self.schema)
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        let ok = !self.schema.is_empty()
            && self.schema.len() <= 40
            && self
                .schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !self.schema.as_bytes()[0].is_ascii_digit();
        if ok {
            Ok(())
        } else {
            Err(StoreError::Backend(format!(
                "schema name {:?}: use lowercase letters, digits and _",
                self.schema
            )))
        }
    }

    /// The client configuration: timeouts, keepalives, the schema on the
    /// search path, an application name to find the node's sessions by.
    fn client_config(&self) -> Result<tokio_postgres::Config, StoreError> {
        self.check_schema()?;
        let mut c: tokio_postgres::Config = self
            .url
            .parse()
            .map_err(|e| StoreError::Backend(format!("database URL: {e}")))?;
        let ms = self.statement_timeout.as_millis().max(1);
        c.connect_timeout(self.connect_timeout)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(10))
            .tcp_user_timeout(self.statement_timeout + self.connect_timeout)
            .options(format!(
                "-c search_path={} -c statement_timeout={ms} -c lock_timeout={ms} \
                 -c idle_in_transaction_session_timeout={}",
                self.schema,
                ms.saturating_mul(2)
            ));
        if c.get_application_name().is_none() {
            c.application_name("hotline-relay");
        }
        Ok(c)
    }
}

/// The migrations, in order: version `i + 1` is `MIGRATIONS[i]`. A
/// released migration is never edited; a change is a new one.
///
/// Times, counters and marks are `u64` kept in `bigint` with the sign bit
/// flipped ([`ord`]), so that SQL compares them as Rust does.
const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE accounts(
    id bytea PRIMARY KEY, kind smallint NOT NULL, identity bytea NOT NULL,
    chain bytea NOT NULL, name text NOT NULL, counter bigint NOT NULL);
CREATE TABLE prekeys(
    account bytea NOT NULL, slot smallint NOT NULL, id bigint NOT NULL, data bytea NOT NULL,
    PRIMARY KEY(account, slot, id));
CREATE TABLE spent_prekeys(
    account bytea NOT NULL, slot smallint NOT NULL, high bigint NOT NULL,
    PRIMARY KEY(account, slot));
CREATE TABLE mailbox(
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, recipient bytea NOT NULL,
    sender bytea NOT NULL, message_id bytea NOT NULL, received_at bigint NOT NULL,
    envelope bytea NOT NULL, UNIQUE(recipient, sender, message_id));
CREATE INDEX mailbox_by_recipient ON mailbox(recipient, seq);
CREATE INDEX mailbox_by_time ON mailbox(received_at);
CREATE TABLE delivered(
    recipient bytea NOT NULL, sender bytea NOT NULL, message_id bytea NOT NULL,
    at bigint NOT NULL, n bigserial NOT NULL, PRIMARY KEY(recipient, sender, message_id));
CREATE INDEX delivered_by_time ON delivered(at);
CREATE TABLE consents(
    customer bytea NOT NULL, business bytea NOT NULL, time bigint NOT NULL, record bytea NOT NULL,
    PRIMARY KEY(customer, business, time));
CREATE TABLE blocks(
    customer bytea NOT NULL, business bytea NOT NULL, time bigint NOT NULL, record bytea NOT NULL,
    PRIMARY KEY(customer, business));
CREATE TABLE windows(
    customer bytea NOT NULL, business bytea NOT NULL, last bigint NOT NULL,
    PRIMARY KEY(customer, business));
CREATE TABLE metering(business bytea PRIMARY KEY, notifications bigint NOT NULL);
CREATE TABLE statuses(
    account bytea PRIMARY KEY, this_update bigint NOT NULL, status bytea NOT NULL);
",
    "
CREATE TABLE mailbox_heads(recipient bytea PRIMARY KEY);
",
    "
CREATE TABLE business_blocks(
    customer bytea NOT NULL, business bytea NOT NULL, time bigint NOT NULL, record bytea NOT NULL,
    PRIMARY KEY(customer, business));
",
    "
CREATE TABLE erased(id bytea PRIMARY KEY, at bigint NOT NULL);
CREATE INDEX erased_by_time ON erased(at);
CREATE INDEX windows_by_time ON windows(last);
",
    "
CREATE TABLE states(
    sender bytea NOT NULL, seq bigint NOT NULL, recipient bytea NOT NULL,
    message_id bytea NOT NULL, class smallint NOT NULL, state smallint NOT NULL,
    time bigint NOT NULL, period bigint, PRIMARY KEY(sender, seq));
CREATE INDEX states_billed ON states(sender, period, seq) WHERE period IS NOT NULL;
CREATE INDEX states_by_time ON states(time);
CREATE TABLE state_heads(sender bytea PRIMARY KEY, next bigint NOT NULL);
",
    "
CREATE TABLE reports(
    business bytea NOT NULL, customer bytea NOT NULL, message_id bytea NOT NULL,
    time bigint NOT NULL, report bytea NOT NULL,
    PRIMARY KEY(business, customer, message_id));
CREATE INDEX reports_by_time ON reports(time);
CREATE TABLE reaches(
    business bytea NOT NULL, customer bytea NOT NULL, time bigint NOT NULL,
    PRIMARY KEY(business, customer));
",
];

/// The answer to a write that lost a race with the erasure of an account it
/// names: the relay answers "unavailable", and a retry is refused as from or
/// to an unknown account (SPEC.md 14.15).
const ERASED_DURING: &str = "an account of the request was erased during it";

const SLOT_SIGNED: i16 = 0;
const SLOT_LAST_RESORT: i16 = 1;
const SLOT_ONE_TIME: i16 = 2;
const SLOT_KEM: i16 = 3;

/// Attempts of a transaction that PostgreSQL rolled back for a
/// serialization failure or a deadlock.
const MAX_ATTEMPTS: u32 = 30;

/// The pause before retrying a transaction that lost a serialization
/// race: exponential from 200 µs, capped at 50 ms, times a random factor
/// in [0.5, 1.5), so that contenders that collided spread out instead of
/// colliding again. Thirty attempts wait at most about 1.2 s in all, which
/// rides out a burst of contenders on a loaded machine; past that the
/// store answers a retryable failure.
fn retry_delay(attempt: u32) -> Duration {
    let base = (200u64 << attempt.min(8)).min(50_000);
    let factor = 500 + hotline::rand::random::<u64>() % 1000;
    Duration::from_micros(base * factor / 1000)
}

/// `u64` to `bigint`, order-preserving.
fn ord(x: u64) -> i64 {
    (x ^ (1 << 63)) as i64
}
/// The inverse of [`ord`].
fn unord(x: i64) -> u64 {
    (x as u64) ^ (1 << 63)
}

/// Why a transaction body stopped.
enum Fail {
    Db(postgres::Error),
    Store(StoreError),
}

impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Self {
        Self::Db(e)
    }
}
impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

fn backend(e: impl core::fmt::Display) -> StoreError {
    StoreError::Backend(format!("postgres: {e}"))
}

fn is_retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

fn account_id(bytes: &[u8]) -> Result<AccountId, StoreError> {
    Ok(AccountId(
        bytes
            .try_into()
            .map_err(|_| StoreError::Corrupt("account id"))?,
    ))
}

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// A [`RelayStore`] in a PostgreSQL schema, safe to share between relay
/// nodes.
///
/// ```no_run
/// use hotline::relay::RelayStore;
/// use hotline_relay::{PostgresConfig, PostgresStore};
/// let store = PostgresStore::open(&PostgresConfig::new("postgres://root@127.0.0.1/test"))?;
/// assert!(store.notification_counts().is_ok());
/// # Ok::<(), hotline::relay::StoreError>(())
/// ```
pub struct PostgresStore {
    /// `None` only while being dropped.
    pool: Option<Pool>,
    channel: String,
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // A blocking client closes its connection by running its own
        // runtime, which may not start inside an async task: there, the
        // pool is dropped on a thread of its own.
        if let Some(pool) = self.pool.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

impl core::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects, creates the schema if missing and applies the migrations
    /// it lacks. Fails if the database was migrated by a newer relay.
    ///
    /// Blocking: inside an async runtime, call it on a blocking thread
    /// (`tokio::task::spawn_blocking`), as every store method.
    pub fn open(config: &PostgresConfig) -> Result<Self, StoreError> {
        let client_config = postgres::Config::from(config.client_config()?);
        migrate(&client_config, &config.schema)?;
        let manager = PostgresConnectionManager::new(client_config, NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(config.pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(config.connect_timeout)
            // Checked before use: a connection broken by a database
            // restart is replaced, not handed to a request.
            .test_on_check_out(true)
            .build(manager)
            .map_err(backend)?;
        Ok(Self {
            pool: Some(pool),
            channel: config.channel(),
        })
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>, StoreError> {
        self.pool
            .as_ref()
            .ok_or_else(|| StoreError::Backend("postgres: store closed".into()))?
            .get()
            .map_err(backend)
    }

    /// Runs `f` in one transaction at `level`, retried (a fresh start each
    /// time) while PostgreSQL rolls it back for a serialization failure or
    /// a deadlock. Commits before returning.
    fn tx<T>(
        &self,
        level: IsolationLevel,
        mut f: impl FnMut(&mut postgres::Transaction<'_>) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        for attempt in 0..MAX_ATTEMPTS {
            let result = (|| {
                let mut tx = conn.build_transaction().isolation_level(level).start()?;
                let out = f(&mut tx)?;
                tx.commit()?;
                Ok(out)
            })();
            match result {
                Ok(out) => return Ok(out),
                Err(Fail::Store(e)) => return Err(e),
                Err(Fail::Db(e)) if is_retryable(&e) => {
                    std::thread::sleep(retry_delay(attempt));
                }
                Err(Fail::Db(e)) => return Err(backend(e)),
            }
        }
        Err(StoreError::Backend(
            "postgres: too many serialization conflicts".into(),
        ))
    }

    fn serializable<T>(
        &self,
        f: impl FnMut(&mut postgres::Transaction<'_>) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        self.tx(IsolationLevel::Serializable, f)
    }
}

/// Creates the schema and applies the missing migrations in one
/// transaction, under a transaction-scoped advisory lock on the schema's
/// name so that nodes starting together apply each migration once.
fn migrate(config: &postgres::Config, schema: &str) -> Result<(), StoreError> {
    let mut client = config.connect(NoTls).map_err(backend)?;
    let mut tx = client.transaction().map_err(backend)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('hotline-migrate:' || $1::text))",
        &[&schema],
    )
    .map_err(backend)?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {schema};
         CREATE TABLE IF NOT EXISTS {schema}.hotline_schema_version(
             version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());"
    ))
    .map_err(backend)?;
    let current: i32 = tx
        .query_one(
            &format!("SELECT COALESCE(MAX(version), 0) FROM {schema}.hotline_schema_version"),
            &[],
        )
        .map_err(backend)?
        .get(0);
    let known = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    if current > known {
        return Err(StoreError::Backend(format!(
            "the database schema is at version {current}, newer than this relay's {known}"
        )));
    }
    tx.batch_execute(&format!("SET LOCAL search_path = {schema}"))
        .map_err(backend)?;
    for (version, sql) in (1..)
        .zip(MIGRATIONS)
        .skip(usize::try_from(current).unwrap_or(0))
    {
        tx.batch_execute(sql).map_err(backend)?;
        tx.execute(
            "INSERT INTO hotline_schema_version(version) VALUES ($1)",
            &[&version],
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

fn decode_account(
    id: &AccountId,
    kind: i16,
    identity: &[u8],
    chain: Vec<u8>,
    name: String,
) -> Result<AccountRecord, StoreError> {
    let kind = match kind {
        0 => AccountKind::Customer,
        1 => AccountKind::Business,
        _ => return Err(StoreError::Corrupt("account kind")),
    };
    let identity =
        IdentityKey::from_bytes(identity).map_err(|_| StoreError::Corrupt("identity"))?;
    if AccountId::of(&identity) != *id {
        return Err(StoreError::Corrupt("identity"));
    }
    Ok(AccountRecord {
        kind,
        identity,
        certificate_chain: chain,
        name,
    })
}

fn u32_id(x: i64) -> Result<u32, StoreError> {
    u32::try_from(x).map_err(|_| StoreError::Corrupt("prekey id"))
}

fn count(x: i64) -> usize {
    usize::try_from(x).unwrap_or(usize::MAX)
}

fn limit(x: usize) -> i64 {
    i64::try_from(x).unwrap_or(i64::MAX)
}

fn is_notification(bytes: &[u8]) -> bool {
    Envelope::from_bytes(bytes).is_ok_and(|e| e.header.class == MessageClass::Notification)
}

/// Logs `state` at `now` for each deleted envelope in `deleted`, and bills
/// the states that bill (SPEC.md 14.16), in the transaction that deleted
/// them.
///
/// Each sender's states are numbered from its row in `state_heads`, whose
/// update holds the row until the transaction ends: a sender's states
/// commit in the order of their sequences, on any node, so a sender that
/// reads "everything after n" never misses a state that commits later
/// with a smaller sequence. Senders are taken in ascending order, so two
/// transactions logging for the same senders cannot deadlock.
fn log_states(
    tx: &mut postgres::Transaction<'_>,
    deleted: &[postgres::Row],
    state: DeliveryState,
    time: impl Fn(u64) -> u64,
) -> Result<(), Fail> {
    // Rows are (seq, received_at, envelope); RETURNING yields them in no
    // stated order, and states are logged in delivery id order (SPEC.md
    // 14.16), then grouped by sender (a stable sort keeps that order).
    let mut rows: Vec<(i64, u64, &[u8])> = deleted
        .iter()
        .map(|r| (r.get(0), unord(r.get(1)), r.get(2)))
        .collect();
    rows.sort_by_key(|r| r.0);
    let mut entries = rows
        .iter()
        .map(|(_, at, b)| state_entry(b, state, time(*at)).ok_or(StoreError::Corrupt("envelope")))
        .collect::<Result<Vec<StateEntry>, _>>()?;
    entries.sort_by_key(|e| e.sender);
    for e in entries {
        let seq: i64 = tx
            .query_one(
                "INSERT INTO state_heads(sender, next) VALUES ($1, 1)
                 ON CONFLICT (sender) DO UPDATE SET next = state_heads.next + 1
                 RETURNING next",
                &[&&e.sender.0[..]],
            )?
            .get(0);
        let period = e.billed_period().map(i64::from);
        tx.execute(
            "INSERT INTO states(sender, seq, recipient, message_id, class, state, time, period)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &&e.sender.0[..],
                &seq,
                &&e.recipient.0[..],
                &&e.message_id.0[..],
                &i16::from(e.class.to_byte()),
                &i16::from(e.state.to_byte()),
                &ord(e.time),
                &period,
            ],
        )?;
        if period.is_some() {
            tx.execute(
                "INSERT INTO metering(business, notifications) VALUES ($1, 1)
                 ON CONFLICT (business) DO UPDATE SET notifications = metering.notifications + 1",
                &[&&e.sender.0[..]],
            )?;
        }
    }
    Ok(())
}

/// Decodes the rows of `states` (columns `seq, sender, recipient,
/// message_id, class, state, time`) strictly.
fn read_states(rows: &[postgres::Row]) -> Result<Vec<StateEntry>, StoreError> {
    let corrupt = || StoreError::Corrupt("state");
    rows.iter()
        .map(|r| {
            let seq: i64 = r.get(0);
            let class: i16 = r.get(4);
            let state: i16 = r.get(5);
            Ok(StateEntry {
                sequence: u64::try_from(seq).map_err(|_| corrupt())?,
                sender: account_id(r.get(1))?,
                recipient: account_id(r.get(2))?,
                message_id: MessageId(r.get::<_, &[u8]>(3).try_into().map_err(|_| corrupt())?),
                class: u8::try_from(class)
                    .ok()
                    .and_then(|c| MessageClass::from_byte(c).ok())
                    .ok_or_else(corrupt)?,
                state: u8::try_from(state)
                    .ok()
                    .and_then(DeliveryState::from_byte)
                    .ok_or_else(corrupt)?,
                time: unord(r.get(6)),
            })
        })
        .collect()
}

/// Locks `recipient`'s mailbox (its row in `mailbox_heads`, created on
/// first use) until the transaction ends, in one statement: either this
/// statement inserted the row (and holds it) or `FOR UPDATE` waits for
/// whoever holds it. Every write that must see the mailbox and the pair's
/// records as they are (enqueue, block, consent) takes it first, on any
/// node, so under READ COMMITTED each of its later statements sees what
/// the previous holder committed: no lost update, no stale quota, a
/// delivery id order that is the commit order, and no serialization
/// failures to retry on the hot path.
fn lock_mailbox(tx: &mut postgres::Transaction<'_>, recipient: &[u8]) -> Result<(), Fail> {
    tx.execute(
        "WITH created AS (INSERT INTO mailbox_heads(recipient) VALUES ($1)
                          ON CONFLICT (recipient) DO NOTHING RETURNING 1)
         SELECT 1 FROM mailbox_heads WHERE recipient = $1 FOR UPDATE",
        &[&recipient],
    )?;
    Ok(())
}

/// Deletes `recipient`'s expired envelopes and remembered ids.
fn expire_recipient(
    tx: &mut postgres::Transaction<'_>,
    recipient: &[u8],
    cutoff: i64,
    ttl: u64,
) -> Result<(), Fail> {
    let gone = tx.query(
        "DELETE FROM mailbox WHERE recipient = $1 AND received_at <= $2
         RETURNING seq, received_at, envelope",
        &[&recipient, &cutoff],
    )?;
    log_states(tx, &gone, DeliveryState::Expired, |at| {
        at.saturating_add(ttl)
    })?;
    tx.execute(
        "DELETE FROM delivered WHERE recipient = $1 AND at <= $2",
        &[&recipient, &cutoff],
    )?;
    Ok(())
}

fn cutoff(limits: &MailboxLimits, now: u64) -> i64 {
    ord(now.saturating_sub(limits.ttl_secs))
}

impl RelayStore for PostgresStore {
    fn register(&self, account: &AccountRecord, counter: u64) -> Result<bool, StoreError> {
        let kind: i16 = match account.kind {
            AccountKind::Customer => 0,
            AccountKind::Business => 1,
        };
        let n = self
            .conn()?
            .execute(
                "INSERT INTO accounts(id, kind, identity, chain, name, counter)
                 SELECT $1, $2, $3, $4, $5, $6
                 WHERE NOT EXISTS (SELECT 1 FROM erased WHERE id = $1)
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &&account.id().0[..],
                    &kind,
                    &&account.identity.to_bytes()[..],
                    &account.certificate_chain,
                    &account.name,
                    &ord(counter),
                ],
            )
            .map_err(backend)?;
        Ok(n == 1)
    }

    fn renew_business(&self, id: &AccountId, chain: &[u8], name: &str) -> Result<bool, StoreError> {
        // One statement: the renewal and the dropped status together.
        let row = self
            .conn()?
            .query_one(
                "WITH renewed AS (
                     UPDATE accounts SET chain = $2, name = $3 WHERE id = $1 AND kind = 1
                     RETURNING id),
                 dropped AS (DELETE FROM statuses WHERE account IN (SELECT id FROM renewed))
                 SELECT COUNT(*) FROM renewed",
                &[&&id.0[..], &chain, &name],
            )
            .map_err(backend)?;
        Ok(row.get::<_, i64>(0) == 1)
    }

    fn businesses(&self) -> Result<Vec<AccountRecord>, StoreError> {
        let rows = self
            .conn()?
            .query(
                "SELECT id, kind, identity, chain, name FROM accounts WHERE kind = 1 ORDER BY id",
                &[],
            )
            .map_err(backend)?;
        rows.into_iter()
            .map(|r| {
                let id = account_id(r.get(0))?;
                decode_account(&id, r.get(1), r.get(2), r.get(3), r.get(4))
            })
            .collect()
    }

    fn put_status(
        &self,
        id: &AccountId,
        this_update: u64,
        status: &[u8],
    ) -> Result<bool, StoreError> {
        let n = self
            .conn()?
            .execute(
                "INSERT INTO statuses(account, this_update, status) VALUES ($1, $2, $3)
                 ON CONFLICT (account) DO UPDATE
                 SET this_update = excluded.this_update, status = excluded.status
                 WHERE statuses.this_update < excluded.this_update",
                &[&&id.0[..], &ord(this_update), &status],
            )
            .map_err(backend)?;
        Ok(n == 1)
    }

    fn status(&self, id: &AccountId) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT status FROM statuses WHERE account = $1",
                &[&&id.0[..]],
            )
            .map_err(backend)?;
        Ok(row.map(|r| r.get(0)))
    }

    fn account(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT kind, identity, chain, name FROM accounts WHERE id = $1",
                &[&&id.0[..]],
            )
            .map_err(backend)?;
        row.map(|r| decode_account(id, r.get(0), r.get(1), r.get(2), r.get(3)))
            .transpose()
    }

    fn advance_counter(&self, id: &AccountId, counter: u64) -> Result<Result<(), u64>, StoreError> {
        let mut conn = self.conn()?;
        // Under READ COMMITTED an UPDATE re-checks its condition on the
        // newest row version after waiting for a concurrent writer: of two
        // requests with the same counter, on any nodes, one wins.
        let n = conn
            .execute(
                "UPDATE accounts SET counter = $2 WHERE id = $1 AND counter < $2",
                &[&&id.0[..], &ord(counter)],
            )
            .map_err(backend)?;
        if n == 1 {
            return Ok(Ok(()));
        }
        // Counters only grow: the one read now is at or above `counter`.
        let row = conn
            .query_opt("SELECT counter FROM accounts WHERE id = $1", &[&&id.0[..]])
            .map_err(backend)?
            .ok_or(StoreError::Corrupt("account"))?;
        Ok(Err(unord(row.get(0))))
    }

    fn add_prekeys(
        &self,
        id: &AccountId,
        upload: &PreKeyUpload,
        max_per_kind: usize,
    ) -> Result<UploadOutcome, StoreError> {
        let account = &id.0[..];
        self.serializable(|tx| {
            // Serializable with the erasure: prekeys never outlive it.
            if tx
                .query_opt("SELECT 1 FROM erased WHERE id = $1", &[&account])?
                .is_some()
            {
                return Err(StoreError::Backend(ERASED_DURING.into()).into());
            }
            let mut spent = [None, None];
            for row in tx.query(
                "SELECT slot, high FROM spent_prekeys WHERE account = $1",
                &[&account],
            )? {
                let slot: i16 = row.get(0);
                let high = u32_id(row.get(1))
                    .map_err(|_| StoreError::Corrupt("handed-out prekey mark"))?;
                match slot {
                    SLOT_ONE_TIME => spent[0] = Some(high),
                    SLOT_KEM => spent[1] = Some(high),
                    _ => return Err(StoreError::Corrupt("handed-out prekey mark").into()),
                }
            }
            if let Some(refused) = UploadOutcome::check_spent(upload, spent[0], spent[1]) {
                return Ok(refused);
            }
            // After the upload, each one-time kind holds what it holds now
            // plus the ids it does not hold yet.
            let after = |tx: &mut postgres::Transaction<'_>,
                         slot: i16,
                         ids: Vec<i64>|
             -> Result<usize, Fail> {
                let row = tx.query_one(
                    "SELECT COUNT(*), COUNT(*) FILTER (WHERE id = ANY($3))
                     FROM prekeys WHERE account = $1 AND slot = $2",
                    &[&account, &slot, &ids],
                )?;
                let mut distinct = ids;
                distinct.sort_unstable();
                distinct.dedup();
                let held: i64 = row.get(0);
                let again: i64 = row.get(1);
                Ok(count(held) + distinct.len().saturating_sub(count(again)))
            };
            let one_time: Vec<i64> = upload
                .one_time_prekeys
                .iter()
                .map(|k| i64::from(k.id))
                .collect();
            let kem: Vec<i64> = upload.kem_prekeys.iter().map(|k| i64::from(k.id)).collect();
            if after(tx, SLOT_ONE_TIME, one_time)? > max_per_kind
                || after(tx, SLOT_KEM, kem)? > max_per_kind
            {
                return Ok(UploadOutcome::TooMany);
            }
            let mut rows: Vec<(i16, i64, Vec<u8>)> = Vec::new();
            if let Some(k) = &upload.signed_prekey {
                rows.push((SLOT_SIGNED, i64::from(k.id), k.to_bytes()));
            }
            if let Some(k) = &upload.last_resort_kem_prekey {
                rows.push((SLOT_LAST_RESORT, i64::from(k.id), k.to_bytes()));
            }
            for (slot, _, _) in &rows {
                tx.execute(
                    "DELETE FROM prekeys WHERE account = $1 AND slot = $2",
                    &[&account, slot],
                )?;
            }
            rows.extend(
                upload
                    .one_time_prekeys
                    .iter()
                    .map(|k| (SLOT_ONE_TIME, i64::from(k.id), k.to_bytes())),
            );
            rows.extend(
                upload
                    .kem_prekeys
                    .iter()
                    .map(|k| (SLOT_KEM, i64::from(k.id), k.to_bytes())),
            );
            if !rows.is_empty() {
                let slots: Vec<i16> = rows.iter().map(|r| r.0).collect();
                let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
                let data: Vec<&[u8]> = rows.iter().map(|r| &r.2[..]).collect();
                // One statement for the whole upload; a repeated id keeps
                // the last copy, as a replacing insert would.
                tx.execute(
                    "INSERT INTO prekeys(account, slot, id, data)
                     SELECT DISTINCT ON (slot, id) $1, slot, id, data
                     FROM unnest($2::smallint[], $3::bigint[], $4::bytea[])
                          WITH ORDINALITY AS u(slot, id, data, i)
                     ORDER BY slot, id, i DESC
                     ON CONFLICT (account, slot, id) DO UPDATE SET data = excluded.data",
                    &[&account, &slots, &ids, &data],
                )?;
            }
            Ok(UploadOutcome::Stored)
        })
    }

    fn take_bundle_parts(
        &self,
        id: &AccountId,
        one_time: bool,
    ) -> Result<Option<BundleParts>, StoreError> {
        let account = &id.0[..];
        self.serializable(|tx| {
            let mut signed = None;
            let mut last_resort = None;
            for row in tx.query(
                "SELECT slot, data FROM prekeys WHERE account = $1 AND slot IN ($2, $3)
                 ORDER BY slot, id",
                &[&account, &SLOT_SIGNED, &SLOT_LAST_RESORT],
            )? {
                let slot: i16 = row.get(0);
                let data: Vec<u8> = row.get(1);
                let held = if slot == SLOT_SIGNED {
                    &mut signed
                } else {
                    &mut last_resort
                };
                held.get_or_insert(data);
            }
            let (Some(signed), Some(last_resort)) = (signed, last_resort) else {
                return Ok(None);
            };
            let corrupt = |_| StoreError::Corrupt("prekey");
            let signed_prekey = SignedPreKeyPublic::from_bytes(&signed).map_err(corrupt)?;
            if !one_time {
                return Ok(Some(BundleParts {
                    signed_prekey,
                    one_time_prekey: None,
                    kem_prekey: KemPreKeyPublic::from_bytes(&last_resort).map_err(corrupt)?,
                }));
            }
            // The lowest id of a kind, deleted and returned in one
            // statement, and the kind's handed-out mark raised in the same
            // transaction (SPEC.md 14.8).
            let mut take = |slot: i16| -> Result<Option<Vec<u8>>, Fail> {
                let row = tx.query_opt(
                    "DELETE FROM prekeys WHERE account = $1 AND slot = $2 AND id =
                        (SELECT MIN(id) FROM prekeys WHERE account = $1 AND slot = $2)
                     RETURNING id, data",
                    &[&account, &slot],
                )?;
                let Some(row) = row else { return Ok(None) };
                let kid: i64 = row.get(0);
                tx.execute(
                    "INSERT INTO spent_prekeys(account, slot, high) VALUES ($1, $2, $3)
                     ON CONFLICT (account, slot)
                     DO UPDATE SET high = GREATEST(spent_prekeys.high, excluded.high)",
                    &[&account, &slot, &kid],
                )?;
                Ok(Some(row.get(1)))
            };
            let one_time_prekey = take(SLOT_ONE_TIME)?
                .map(|d| OneTimePreKeyPublic::from_bytes(&d).map_err(corrupt))
                .transpose()?;
            let kem_prekey = match take(SLOT_KEM)? {
                Some(d) => KemPreKeyPublic::from_bytes(&d),
                None => KemPreKeyPublic::from_bytes(&last_resort),
            }
            .map_err(corrupt)?;
            Ok(Some(BundleParts {
                signed_prekey,
                one_time_prekey,
                kem_prekey,
            }))
        })
    }

    fn prekey_counts(&self, id: &AccountId) -> Result<(usize, usize), StoreError> {
        let row = self
            .conn()?
            .query_one(
                "SELECT COUNT(*) FILTER (WHERE slot = $2), COUNT(*) FILTER (WHERE slot = $3)
                 FROM prekeys WHERE account = $1",
                &[&&id.0[..], &SLOT_ONE_TIME, &SLOT_KEM],
            )
            .map_err(backend)?;
        Ok((count(row.get(0)), count(row.get(1))))
    }

    fn is_stored(
        &self,
        recipient: &AccountId,
        sender: &AccountId,
        message_id: &MessageId,
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<bool, StoreError> {
        // What expired does not count; deleting it is left to the writes.
        let row = self
            .conn()?
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM mailbox WHERE recipient = $1 AND sender = $2
                               AND message_id = $3 AND received_at > $4)
                     OR EXISTS(SELECT 1 FROM delivered WHERE recipient = $1 AND sender = $2
                               AND message_id = $3 AND at > $4)",
                &[
                    &&recipient.0[..],
                    &&sender.0[..],
                    &&message_id.0[..],
                    &cutoff(limits, now),
                ],
            )
            .map_err(backend)?;
        Ok(row.get(0))
    }

    fn enqueue(
        &self,
        envelope: &StoredEnvelope,
        effects: SendEffects,
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<EnqueueOutcome, StoreError> {
        let r = &envelope.recipient.0[..];
        let s = &envelope.sender.0[..];
        let m = &envelope.message_id.0[..];
        let len = envelope.bytes.len();
        self.tx(IsolationLevel::ReadCommitted, |tx| {
            lock_mailbox(tx, r)?;
            expire_recipient(tx, r, cutoff(limits, now), limits.ttl_secs)?;
            // The duplicate check, the pair's records (read again here: the
            // relay checked them before this transaction, maybe on another
            // node) and the mailbox's usage, in one statement.
            let row = tx.query_one(
                "SELECT
                   EXISTS(SELECT 1 FROM mailbox WHERE recipient = $1 AND sender = $2 AND message_id = $3)
                   OR EXISTS(SELECT 1 FROM delivered WHERE recipient = $1 AND sender = $2 AND message_id = $3),
                   (SELECT record FROM blocks WHERE customer = $1 AND business = $2),
                   (SELECT record FROM consents WHERE customer = $1 AND business = $2
                    ORDER BY time DESC LIMIT 1),
                   u.n, u.bytes, u.sender_n, u.sender_bytes,
                   (SELECT record FROM business_blocks WHERE customer = $2 AND business = $1),
                   EXISTS(SELECT 1 FROM erased WHERE id = $1 OR id = $2)
                 FROM (SELECT COUNT(*) AS n, COALESCE(SUM(octet_length(envelope)), 0)::bigint AS bytes,
                              COUNT(*) FILTER (WHERE sender = $2) AS sender_n,
                              COALESCE(SUM(octet_length(envelope)) FILTER (WHERE sender = $2), 0)::bigint
                                AS sender_bytes
                       FROM mailbox WHERE recipient = $1) u",
                &[&r, &s, &m],
            )?;
            if row.get::<_, bool>(0) {
                return Ok(EnqueueOutcome::Duplicate);
            }
            // The erasure locks the mailbox too: one committed before this
            // transaction took the lock is seen here.
            if row.get::<_, bool>(8) {
                return Err(StoreError::Backend(ERASED_DURING.into()).into());
            }
            // A business's send to a customer: a block or a withdrawal
            // committed since the relay's check (on any node) wins, as
            // the relay's pair lock makes it win on one node. The relay
            // answers "unavailable"; a retry meets the new rules.
            let block: Option<Vec<u8>> = row.get(1);
            if let Some(b) = block {
                let b = BlockRecord::from_bytes(&b).map_err(|_| StoreError::Corrupt("block"))?;
                if b.blocked() {
                    return Err(StoreError::Backend("the pair was blocked during the send".into()).into());
                }
            }
            // A customer's send to a business: likewise, a block by the
            // business committed since the relay's check wins.
            let business_block: Option<Vec<u8>> = row.get(7);
            if let Some(b) = business_block {
                let b = BlockRecord::from_bytes(&b).map_err(|_| StoreError::Corrupt("block"))?;
                if b.blocked() && effects.open_window.is_some() {
                    return Err(StoreError::Backend("the pair was blocked during the send".into()).into());
                }
            }
            // A notification (only businesses send them): a withdrawal
            // committed since the relay's check wins likewise.
            if is_notification(&envelope.bytes) {
                let consent: Option<Vec<u8>> = row.get(2);
                let allowed = consent
                    .map(|c| ConsentRecord::from_bytes(&c).map_err(|_| StoreError::Corrupt("consent")))
                    .transpose()?
                    .is_some_and(|c| c.scope().allows(MessageClass::Notification));
                if !allowed {
                    return Err(StoreError::Backend("consent changed during the send".into()).into());
                }
            }
            let all = (count(row.get(3)), count(row.get(4)));
            let share = (count(row.get(5)), count(row.get(6)));
            if let Some(refused) = EnqueueOutcome::check_limits(limits, len, all, share) {
                return Ok(refused);
            }
            let seq: i64 = tx
                .query_one(
                    "INSERT INTO mailbox(recipient, sender, message_id, received_at, envelope)
                     VALUES ($1, $2, $3, $4, $5) RETURNING seq",
                    &[&r, &s, &m, &ord(envelope.received_at), &envelope.bytes],
                )?
                .get(0);
            if let Some((c, b)) = effects.open_window {
                tx.execute(
                    "INSERT INTO windows(customer, business, last) VALUES ($1, $2, $3)
                     ON CONFLICT (customer, business) DO UPDATE SET last = excluded.last",
                    &[&&c.0[..], &&b.0[..], &ord(envelope.received_at)],
                )?;
            }
            // Delivered to the listening nodes at commit, not before.
            tx.execute(
                "SELECT pg_notify($1, encode($2, 'hex'))",
                &[&self.channel, &r],
            )?;
            Ok(EnqueueOutcome::Stored(
                u64::try_from(seq).map_err(|_| StoreError::Corrupt("delivery id"))?,
            ))
        })
    }

    fn fetch(
        &self,
        recipient: &AccountId,
        max: usize,
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<(Vec<Delivery>, bool), StoreError> {
        let rows = self
            .conn()?
            .query(
                "SELECT seq, received_at, envelope FROM mailbox
                 WHERE recipient = $1 AND received_at > $2 ORDER BY seq LIMIT $3",
                &[
                    &&recipient.0[..],
                    &cutoff(limits, now),
                    &limit(max).saturating_add(1),
                ],
            )
            .map_err(backend)?;
        let more = rows.len() > max;
        let mut out = Vec::with_capacity(rows.len().min(max));
        for row in rows.into_iter().take(max) {
            let seq: i64 = row.get(0);
            let bytes: Vec<u8> = row.get(2);
            let envelope =
                Envelope::from_bytes(&bytes).map_err(|_| StoreError::Corrupt("envelope"))?;
            if envelope.header.recipient != *recipient {
                return Err(StoreError::Corrupt("envelope"));
            }
            out.push(Delivery {
                id: u64::try_from(seq).map_err(|_| StoreError::Corrupt("delivery id"))?,
                received_at: unord(row.get(1)),
                stamp: Default::default(),
                envelope,
            });
        }
        Ok((out, more))
    }

    fn acknowledge(
        &self,
        recipient: &AccountId,
        ids: &[u64],
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<usize, StoreError> {
        let r = &recipient.0[..];
        let ids: Vec<i64> = ids.iter().filter_map(|&i| i64::try_from(i).ok()).collect();
        self.tx(IsolationLevel::ReadCommitted, |tx| {
            // Deleted and remembered in one statement: of two nodes
            // acknowledging the same delivery, one deletes it.
            let gone = tx.query(
                "WITH gone AS (DELETE FROM mailbox WHERE recipient = $1 AND seq = ANY($2)
                               RETURNING seq, received_at, sender, message_id, envelope),
                      kept AS (INSERT INTO delivered(recipient, sender, message_id, at)
                               SELECT $1, sender, message_id, $3 FROM gone
                               ON CONFLICT (recipient, sender, message_id)
                               DO UPDATE SET at = excluded.at, n = excluded.n)
                 SELECT seq, received_at, envelope FROM gone",
                &[&r, &ids, &ord(now)],
            )?;
            let removed = gone.len();
            log_states(tx, &gone, DeliveryState::Delivered, |_| now)?;
            if removed > 0 {
                tx.execute(
                    "DELETE FROM delivered WHERE recipient = $1 AND n NOT IN
                     (SELECT n FROM delivered WHERE recipient = $1 ORDER BY at DESC, n DESC LIMIT $2)",
                    &[&r, &limit(limits.remembered_ids)],
                )?;
            }
            Ok(removed)
        })
    }

    fn expire(&self, limits: &MailboxLimits, now: u64) -> Result<usize, StoreError> {
        let cut = cutoff(limits, now);
        self.tx(IsolationLevel::ReadCommitted, |tx| {
            let gone = tx.query(
                "DELETE FROM mailbox WHERE received_at <= $1 RETURNING seq, received_at, envelope",
                &[&cut],
            )?;
            let ttl = limits.ttl_secs;
            log_states(tx, &gone, DeliveryState::Expired, |at| {
                at.saturating_add(ttl)
            })?;
            tx.execute("DELETE FROM delivered WHERE at <= $1", &[&cut])?;
            if let Some(kept) = now.checked_sub(STATE_RETENTION_SECS) {
                tx.execute("DELETE FROM states WHERE time <= $1", &[&ord(kept)])?;
            }
            // Minimisation (SPEC.md 14.15): closed windows, and the consent
            // evidence of accounts erased longer ago than the retention.
            if let Some(closed) = now.checked_sub(CHAT_WINDOW_SECS) {
                tx.execute("DELETE FROM windows WHERE last < $1", &[&ord(closed)])?;
            }
            if let Some(kept) = now.checked_sub(CONSENT_RETENTION_SECS) {
                tx.execute(
                    "DELETE FROM consents WHERE customer IN (SELECT id FROM erased WHERE at <= $1)",
                    &[&ord(kept)],
                )?;
            }
            Ok(gone.len())
        })
    }

    fn pair(&self, customer: &AccountId, business: &AccountId) -> Result<PairState, StoreError> {
        // One statement: one snapshot of the three.
        let row = self
            .conn()?
            .query_one(
                "SELECT
                   (SELECT record FROM consents WHERE customer = $1 AND business = $2
                    ORDER BY time DESC LIMIT 1),
                   (SELECT record FROM blocks WHERE customer = $1 AND business = $2),
                   (SELECT last FROM windows WHERE customer = $1 AND business = $2),
                   (SELECT record FROM business_blocks WHERE customer = $1 AND business = $2)",
                &[&&customer.0[..], &&business.0[..]],
            )
            .map_err(backend)?;
        let consent: Option<Vec<u8>> = row.get(0);
        let block: Option<Vec<u8>> = row.get(1);
        let last: Option<i64> = row.get(2);
        let business_block: Option<Vec<u8>> = row.get(3);
        let decode_block =
            |b: Vec<u8>| BlockRecord::from_bytes(&b).map_err(|_| StoreError::Corrupt("block"));
        Ok(PairState {
            consent: consent
                .map(|b| ConsentRecord::from_bytes(&b).map_err(|_| StoreError::Corrupt("consent")))
                .transpose()?,
            block: block.map(decode_block).transpose()?,
            business_block: business_block.map(decode_block).transpose()?,
            last_customer_message: last.map(unord),
        })
    }

    fn put_consent(
        &self,
        record: &ConsentRecord,
        effective: u64,
        history: usize,
    ) -> Result<bool, StoreError> {
        let c = &record.customer().0[..];
        let b = &record.business().0[..];
        let bytes = record.to_bytes();
        self.tx(IsolationLevel::ReadCommitted, |tx| {
            lock_mailbox(tx, c)?;
            let last = tx.query_opt(
                "SELECT record, time FROM consents WHERE customer = $1 AND business = $2
                 ORDER BY time DESC LIMIT 1",
                &[&c, &b],
            )?;
            if let Some(row) = last {
                let last = ConsentRecord::from_bytes(row.get(0))
                    .map_err(|_| StoreError::Corrupt("consent"))?;
                if !record.supersedes(effective, &last, unord(row.get(1))) {
                    return Ok(false);
                }
            }
            // A record that wins a tie of effective times replaces the one
            // it beat: the history is keyed by effective time.
            tx.execute(
                "INSERT INTO consents(customer, business, time, record) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (customer, business, time) DO UPDATE SET record = excluded.record",
                &[&c, &b, &ord(effective), &bytes],
            )?;
            tx.execute(
                "DELETE FROM consents WHERE customer = $1 AND business = $2 AND time NOT IN
                 (SELECT time FROM consents WHERE customer = $1 AND business = $2
                  ORDER BY time DESC LIMIT $3)",
                &[&c, &b, &limit(history.max(1))],
            )?;
            Ok(true)
        })
    }

    fn put_block(&self, record: &BlockRecord, effective: u64) -> Result<bool, StoreError> {
        let c = &record.customer().0[..];
        let b = &record.business().0[..];
        let bytes = record.to_bytes();
        // The blocker's mailbox holds what the block deletes; locking it
        // orders the block with the blocked party's sends to the blocker.
        let (table, mailbox, sender) = match record.blocker() {
            AccountKind::Customer => ("blocks", c, b),
            AccountKind::Business => ("business_blocks", b, c),
        };
        self.tx(IsolationLevel::ReadCommitted, |tx| {
            lock_mailbox(tx, mailbox)?;
            let last = tx.query_opt(
                &format!("SELECT record, time FROM {table} WHERE customer = $1 AND business = $2"),
                &[&c, &b],
            )?;
            if let Some(row) = last {
                let last = BlockRecord::from_bytes(row.get(0))
                    .map_err(|_| StoreError::Corrupt("block"))?;
                if !record.supersedes(effective, &last, unord(row.get(1))) {
                    return Ok(false);
                }
            }
            tx.execute(
                &format!(
                    "INSERT INTO {table}(customer, business, time, record) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (customer, business)
                     DO UPDATE SET time = excluded.time, record = excluded.record"
                ),
                &[&c, &b, &ord(effective), &bytes],
            )?;
            if record.blocked() {
                // In the same transaction: the blocked party's undelivered
                // envelopes to the blocker go, each logged for its sender
                // (SPEC.md 14.6, 14.16). None was billed: billing happens
                // at delivery.
                let gone = tx.query(
                    "DELETE FROM mailbox WHERE recipient = $1 AND sender = $2
                     RETURNING seq, received_at, envelope",
                    &[&mailbox, &sender],
                )?;
                log_states(tx, &gone, DeliveryState::DeletedByBlock, |_| effective)?;
            }
            Ok(true)
        })
    }

    fn consent_history(
        &self,
        customer: &AccountId,
        business: &AccountId,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        let rows = self
            .conn()?
            .query(
                "SELECT record FROM consents WHERE customer = $1 AND business = $2 ORDER BY time",
                &[&&customer.0[..], &&business.0[..]],
            )
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                ConsentRecord::from_bytes(r.get(0)).map_err(|_| StoreError::Corrupt("consent"))
            })
            .collect()
    }

    fn notification_counts(&self) -> Result<Vec<(AccountId, u64)>, StoreError> {
        let rows = self
            .conn()?
            .query(
                "SELECT business, notifications FROM metering ORDER BY business",
                &[],
            )
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let n: i64 = r.get(1);
                Ok((
                    account_id(r.get(0))?,
                    u64::try_from(n).map_err(|_| StoreError::Corrupt("notification count"))?,
                ))
            })
            .collect()
    }

    fn put_report(&self, report: &StoredReport) -> Result<bool, StoreError> {
        self.serializable(|tx| {
            if let Some(cut) = report.time.checked_sub(REPORT_RETENTION_SECS) {
                tx.execute("DELETE FROM reports WHERE time <= $1", &[&ord(cut)])?;
            }
            let n = tx.execute(
                "INSERT INTO reports(business, customer, message_id, time, report)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[
                    &&report.business.0[..],
                    &&report.customer.0[..],
                    &&report.message_id.0[..],
                    &ord(report.time),
                    &report.bytes,
                ],
            )?;
            Ok(n == 1)
        })
    }

    fn reporters(&self, business: &AccountId, since: u64) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn()?
            .query_one(
                "SELECT COUNT(DISTINCT customer) FROM reports WHERE business = $1 AND time >= $2",
                &[&&business.0[..], &ord(since)],
            )
            .map_err(backend)?
            .get(0);
        u64::try_from(n).map_err(|_| StoreError::Corrupt("report count"))
    }

    fn reach(
        &self,
        business: &AccountId,
        customer: &AccountId,
        since: u64,
    ) -> Result<(bool, u64), StoreError> {
        let row = self
            .conn()?
            .query_one(
                "SELECT COALESCE(bool_or(customer = $2), false), COUNT(*) FROM reaches
                 WHERE business = $1 AND time >= $3",
                &[&&business.0[..], &&customer.0[..], &ord(since)],
            )
            .map_err(backend)?;
        let count: i64 = row.get(1);
        Ok((
            row.get(0),
            u64::try_from(count).map_err(|_| StoreError::Corrupt("reach count"))?,
        ))
    }

    fn note_reach(
        &self,
        business: &AccountId,
        customer: &AccountId,
        now: u64,
    ) -> Result<(), StoreError> {
        self.serializable(|tx| {
            if let Some(cut) = now.checked_sub(REACH_WINDOW_SECS) {
                tx.execute(
                    "DELETE FROM reaches WHERE business = $1 AND time <= $2",
                    &[&&business.0[..], &ord(cut)],
                )?;
            }
            tx.execute(
                "INSERT INTO reaches(business, customer, time) VALUES ($1, $2, $3)
                 ON CONFLICT(business, customer) DO UPDATE
                 SET time = GREATEST(reaches.time, excluded.time)",
                &[&&business.0[..], &&customer.0[..], &ord(now)],
            )?;
            Ok(())
        })
    }

    fn states(
        &self,
        sender: &AccountId,
        after: u64,
        max: usize,
    ) -> Result<(Vec<StateEntry>, bool), StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let rows = self
            .conn()?
            .query(
                "SELECT seq, sender, recipient, message_id, class, state, time FROM states
                 WHERE sender = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[&&sender.0[..], &after, &limit(max).saturating_add(1)],
            )
            .map_err(backend)?;
        let mut out = read_states(&rows)?;
        let more = out.len() > max;
        out.truncate(max);
        Ok((out, more))
    }

    fn billed(&self, sender: &AccountId, period: u32) -> Result<Vec<StateEntry>, StoreError> {
        let rows = self
            .conn()?
            .query(
                "SELECT seq, sender, recipient, message_id, class, state, time FROM states
                 WHERE sender = $1 AND period = $2 ORDER BY seq",
                &[&&sender.0[..], &i64::from(period)],
            )
            .map_err(backend)?;
        let out = read_states(&rows)?;
        // The period column is derived; what the rows say decides.
        if out.iter().any(|e| e.billed_period() != Some(period)) {
            return Err(StoreError::Corrupt("state"));
        }
        Ok(out)
    }

    fn delete_account(&self, id: &AccountId, now: u64) -> Result<bool, StoreError> {
        let a = &id.0[..];
        self.serializable(|tx| {
            // The mailbox lock orders the erasure with sends to the account
            // (which take it too and then see the erasure).
            lock_mailbox(tx, a)?;
            if tx.execute("DELETE FROM accounts WHERE id = $1 AND kind = 0", &[&a])? == 0 {
                return Ok(false);
            }
            let gone = tx.query(
                "DELETE FROM mailbox WHERE recipient = $1 RETURNING seq, received_at, envelope",
                &[&a],
            )?;
            log_states(tx, &gone, DeliveryState::DeletedByErasure, |_| now)?;
            for sql in [
                "DELETE FROM prekeys WHERE account = $1",
                "DELETE FROM spent_prekeys WHERE account = $1",
                "DELETE FROM states WHERE sender = $1",
                "DELETE FROM state_heads WHERE sender = $1",
                "DELETE FROM delivered WHERE recipient = $1",
                "DELETE FROM windows WHERE customer = $1",
                "DELETE FROM blocks WHERE customer = $1",
                "DELETE FROM business_blocks WHERE customer = $1",
                "DELETE FROM statuses WHERE account = $1",
            ] {
                tx.execute(sql, &[&a])?;
            }
            tx.execute(
                "INSERT INTO erased(id, at) VALUES ($1, $2)",
                &[&a, &ord(now)],
            )?;
            Ok(true)
        })
    }

    fn deleted_at(&self, id: &AccountId) -> Result<Option<u64>, StoreError> {
        let row = self
            .conn()?
            .query_opt("SELECT at FROM erased WHERE id = $1", &[&&id.0[..]])
            .map_err(backend)?;
        Ok(row.map(|r| unord(r.get(0))))
    }

    fn dump(&self) -> Result<Vec<u8>, StoreError> {
        let mut conn = self.conn()?;
        let mut out = Vec::new();
        for (table, cols) in [
            ("accounts", "identity, chain, convert_to(name, 'UTF8')"),
            ("prekeys", "data, data, data"),
            ("mailbox", "envelope, sender, message_id"),
            ("consents", "record, record, record"),
            ("blocks", "record, record, record"),
            ("business_blocks", "record, record, record"),
            ("statuses", "status, status, status"),
            ("reports", "report, report, report"),
        ] {
            for row in conn
                .query(&format!("SELECT {cols} FROM {table}"), &[])
                .map_err(backend)?
            {
                for i in 0..3 {
                    out.extend_from_slice(row.get::<_, &[u8]>(i));
                }
            }
        }
        Ok(out)
    }
}

/// Listens on the schema's channel with its own connection and wakes the
/// hub's streams for each account an envelope was stored for, on any node.
/// Reconnects after a failure (with a growing pause, at most 2 s) and then
/// wakes every stream, since notifications sent meanwhile were lost.
/// Runs until the task is dropped.
pub(crate) async fn listen(config: PostgresConfig, hub: Arc<Hub>) {
    use futures_util::StreamExt;
    let mut pause = Duration::from_millis(50);
    loop {
        match listen_once(&config, &hub).await {
            Ok(()) => pause = Duration::from_millis(50),
            Err(e) => {
                tracing::warn!(error = %e, "cross-node listener lost its connection");
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }

    async fn listen_once(config: &PostgresConfig, hub: &Arc<Hub>) -> Result<(), String> {
        let client_config = config.client_config().map_err(|e| e.to_string())?;
        let (client, mut connection) = tokio::time::timeout(
            config.connect_timeout,
            client_config.connect(tokio_postgres::NoTls),
        )
        .await
        .map_err(|_| "connect timed out".to_owned())?
        .map_err(|e| e.to_string())?;
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
        let hub2 = hub.clone();
        let driver = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            let mut ready = Some(ready_tx);
            while let Some(message) = messages.next().await {
                match message {
                    Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                        if let Some(account) = parse_account(n.payload()) {
                            hub2.notify(&account);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => return Err(e.to_string()),
                }
                if let Some(r) = ready.take() {
                    let _ = r.send(());
                }
            }
            Ok(())
        });
        let channel = config.channel();
        let listened = tokio::time::timeout(
            config.statement_timeout,
            client.batch_execute(&format!("LISTEN \"{channel}\"")),
        )
        .await;
        drop(ready_rx);
        match listened {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                driver.abort();
                return Err(e.to_string());
            }
            Err(_) => {
                driver.abort();
                return Err("LISTEN timed out".into());
            }
        }
        // Whatever was stored while this node was not listening.
        hub.notify_all();
        tracing::info!(channel, "listening for envelopes stored by other nodes");
        // Keep the client (and so the connection) until the connection ends;
        // a ping now and then finds a connection that died silently.
        let mut driver = driver;
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                ended = &mut driver => {
                    return match ended {
                        Ok(Ok(())) => Err("connection closed".into()),
                        Ok(Err(e)) => Err(e),
                        Err(e) => Err(e.to_string()),
                    };
                }
                _ = tick.tick() => {
                    let ping = tokio::time::timeout(config.statement_timeout, client.simple_query("")).await;
                    if !matches!(ping, Ok(Ok(_))) {
                        driver.abort();
                        return Err("ping failed".into());
                    }
                }
            }
        }
    }
}

fn parse_account(payload: &str) -> Option<AccountId> {
    let mut id = [0u8; 32];
    hex_decode(payload, &mut id)?;
    Some(AccountId(id))
}

fn hex_decode(s: &str, out: &mut [u8; 32]) -> Option<()> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nibble(b[2 * i])? << 4) | nibble(b[2 * i + 1])?;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn retry_delays_grow_to_their_cap_and_stay_jittered_within_bounds() {
        for attempt in 0..40 {
            let base = (200u64 << attempt.min(8)).min(50_000);
            let d = u64::try_from(super::retry_delay(attempt).as_micros()).unwrap();
            assert!(
                d >= base / 2 && d < base * 3 / 2,
                "attempt {attempt}: {d} µs"
            );
        }
        let total: std::time::Duration = (0..super::MAX_ATTEMPTS).map(super::retry_delay).sum();
        assert!(total < std::time::Duration::from_secs(2), "{total:?}");
    }

    use super::*;

    #[test]
    fn ord_keeps_the_order_of_u64() {
        let xs = [0, 1, 5, (1 << 63) - 1, 1 << 63, u64::MAX - 1, u64::MAX];
        for w in xs.windows(2) {
            assert!(ord(w[0]) < ord(w[1]), "{} < {}", w[0], w[1]);
        }
        for x in xs {
            assert_eq!(unord(ord(x)), x);
        }
    }

    #[test]
    fn notification_payloads_parse_or_are_ignored() {
        let id = AccountId([0xab; 32]);
        assert_eq!(parse_account(&"ab".repeat(32)), Some(id));
        assert_eq!(parse_account(&"ab".repeat(31)), None);
        assert_eq!(parse_account(&"zz".repeat(32)), None);
        assert_eq!(parse_account(&"AB".repeat(32)), None);
    }

    #[test]
    fn schema_names_are_checked_before_use() {
        let c = PostgresConfig::new("postgres://x@127.0.0.1/test");
        assert!(c.clone().with_schema("relay_2").check_schema().is_ok());
        for bad in ["", "Relay", "a;drop", "1a", &"a".repeat(41)] {
            assert!(c.clone().with_schema(bad).check_schema().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_debug_form_hides_credentials() {
        let c = PostgresConfig::new("postgres://user:secret@db:5432/x");
        assert!(!format!("{c:?}").contains("secret"));
    }
}

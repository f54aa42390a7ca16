//! The gateway's own records, in `gateway.db`: conversations and their
//! messages, idempotency keys, and the webhook queue.
//!
//! Every write is one SQLite transaction (WAL, `synchronous=FULL`), made
//! before the caller is answered or the client is told the message is
//! handled.

use std::path::Path;
use std::sync::{Arc, Mutex};

use hotline::relay::{AccountId, MessageClass};
use rusqlite::{Connection, OptionalExtension, params};

/// The idempotency record of a request whose outcome is unknown: the
/// gateway stopped between queueing the message and recording it.
const STATUS_IN_DOUBT: i64 = -1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS conversations (
    customer BLOB PRIMARY KEY,
    last_inbound_at INTEGER,
    last_message_at INTEGER NOT NULL,
    blocked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer BLOB NOT NULL,
    direction TEXT NOT NULL,
    class TEXT NOT NULL,
    text BLOB NOT NULL,
    at INTEGER NOT NULL,
    remote_id BLOB,
    outbox_id INTEGER,
    state TEXT NOT NULL,
    reason TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_inbound ON messages (customer, remote_id)
    WHERE remote_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_by_customer ON messages (customer, id);
CREATE INDEX IF NOT EXISTS messages_by_outbox ON messages (outbox_id) WHERE outbox_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS idempotency (
    token TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    status INTEGER,
    response TEXT,
    created INTEGER NOT NULL,
    PRIMARY KEY (token, key)
);
CREATE INDEX IF NOT EXISTS idempotency_by_age ON idempotency (created);
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at_ms INTEGER NOT NULL,
    last_error TEXT,
    UNIQUE (event_id, endpoint)
);
CREATE INDEX IF NOT EXISTS webhooks_due ON webhooks (next_at_ms, id);
";

/// A failure of the gateway's database.
#[derive(Debug, thiserror::Error)]
#[error("gateway database: {0}")]
pub struct StoreError(String);

impl StoreError {
    /// A blocking task running a database operation failed.
    pub(crate) fn from_join(e: tokio::task::JoinError) -> Self {
        Self(format!("database task: {e}"))
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self(e.to_string())
    }
}

/// A conversation with one customer, as the gateway knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// The customer.
    pub customer: AccountId,
    /// When the customer's last message arrived (seconds since the epoch).
    pub last_inbound_at: Option<u64>,
    /// When the last message either way was recorded.
    pub last_message_at: u64,
    /// Whether the relay refused a message because the customer blocked
    /// the business (cleared when the customer writes again).
    pub blocked: bool,
}

/// A message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The gateway's id for it (grows by one, never reused).
    pub id: i64,
    /// The customer.
    pub customer: AccountId,
    /// `"in"` (from the customer) or `"out"` (to the customer).
    pub direction: &'static str,
    /// `"chat"` or `"notification"`.
    pub class: &'static str,
    /// The text.
    pub text: String,
    /// When it was recorded (seconds since the epoch).
    pub at: u64,
    /// `received`, `queued`, `accepted` or `refused`.
    pub state: String,
    /// Why it was refused.
    pub reason: Option<String>,
}

/// What an idempotency key holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotency {
    /// The key is new: it is now reserved for this request.
    Reserved,
    /// The same key came with another request body.
    Mismatch,
    /// The first request with this key is still being handled.
    InProgress,
    /// The gateway stopped while handling the first request: the message
    /// may or may not be queued.
    InDoubt,
    /// The first request's answer.
    Done {
        /// HTTP status.
        status: u16,
        /// JSON body.
        response: String,
    },
}

/// A webhook delivery waiting in the queue.
#[derive(Debug, Clone)]
pub struct QueuedWebhook {
    /// Row id.
    pub id: i64,
    /// The event's id (the same for every attempt).
    pub event_id: String,
    /// The endpoint URL.
    pub endpoint: String,
    /// The JSON body (the same for every attempt).
    pub body: Vec<u8>,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// An event to send to every webhook endpoint.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Its id.
    pub id: String,
    /// Its JSON body.
    pub body: Vec<u8>,
}

/// The gateway's database (cheap to clone; one connection behind a lock,
/// every operation short). Message texts and webhook bodies are sealed at
/// rest ([`Sealer`]).
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    sealer: Arc<Sealer>,
}

/// Seals the content columns of `gateway.db` (message texts, webhook
/// bodies) with ChaCha20-Poly1305 under a key derived from the storage key,
/// so that the file alone reveals no message. Each record gets its own key,
/// derived with HKDF-SHA256 from a random 16-byte salt, and the column's
/// name as associated data: `salt || tag || ciphertext`.
pub struct Sealer {
    key: [u8; 32],
}

impl core::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sealer").finish_non_exhaustive()
    }
}

const SALT_LEN: usize = 16;
const TAG_LEN: usize = 16;

impl Sealer {
    /// The sealer of `storage_key`.
    pub fn new(storage_key: &hotline::store::StorageKey) -> Self {
        let mut key = [0u8; 32];
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(None, storage_key.as_bytes());
        // 32 bytes is far below HKDF-SHA256's limit.
        let _ = hk.expand(b"hotline-gateway records v1", &mut key);
        Self { key }
    }

    fn record_key(&self, salt: &[u8], column: &str) -> chacha20poly1305::Key {
        let mut k = [0u8; 32];
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), &self.key);
        let _ = hk.expand(column.as_bytes(), &mut k);
        chacha20poly1305::Key::from(k)
    }

    /// Seals `plain` for `column`.
    pub fn seal(&self, column: &str, plain: &[u8]) -> Result<Vec<u8>, StoreError> {
        use chacha20poly1305::aead::{AeadInOut, KeyInit};
        let mut salt = [0u8; SALT_LEN];
        rand::fill(&mut salt[..]);
        let cipher = chacha20poly1305::ChaCha20Poly1305::new(&self.record_key(&salt, column));
        let mut buf = plain.to_vec();
        // A fresh key per record: the zero nonce is used once per key.
        let tag = cipher
            .encrypt_inout_detached(
                &chacha20poly1305::Nonce::default(),
                column.as_bytes(),
                buf.as_mut_slice().into(),
            )
            .map_err(|_| StoreError("record too long to seal".into()))?;
        let mut out = Vec::with_capacity(SALT_LEN + TAG_LEN + buf.len());
        out.extend_from_slice(&salt);
        out.extend_from_slice(&tag);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// A keyed digest of a request (HMAC-SHA256), so that the stored
    /// digest of an idempotent request confirms no guess of its text.
    pub fn digest(&self, parts: &[&[u8]]) -> [u8; 32] {
        use hmac::{KeyInit, Mac};
        // HMAC accepts keys of any length.
        let mut m = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!());
        m.update(b"idempotency");
        for p in parts {
            m.update(&(p.len() as u64).to_be_bytes());
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }

    /// Opens what [`Sealer::seal`] made for `column`.
    pub fn open(&self, column: &str, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        use chacha20poly1305::aead::{AeadInOut, KeyInit};
        let bad = || {
            StoreError(format!(
                "a sealed {column} does not open (wrong key or corrupted)"
            ))
        };
        if sealed.len() < SALT_LEN + TAG_LEN {
            return Err(bad());
        }
        let (salt, rest) = sealed.split_at(SALT_LEN);
        let (tag, ct) = rest.split_at(TAG_LEN);
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| bad())?;
        let cipher = chacha20poly1305::ChaCha20Poly1305::new(&self.record_key(salt, column));
        let mut buf = ct.to_vec();
        cipher
            .decrypt_inout_detached(
                &chacha20poly1305::Nonce::default(),
                column.as_bytes(),
                buf.as_mut_slice().into(),
                &chacha20poly1305::Tag::from(tag),
            )
            .map_err(|_| bad())?;
        Ok(buf)
    }
}

const COL_TEXT: &str = "messages.text";
const COL_BODY: &str = "webhooks.body";

impl core::fmt::Debug for Store {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

fn class_name(class: MessageClass) -> &'static str {
    match class {
        MessageClass::Notification => "notification",
        _ => "chat",
    }
}

fn intern_class(s: &str) -> &'static str {
    if s == "notification" {
        "notification"
    } else {
        "chat"
    }
}

fn account(bytes: &[u8]) -> Result<AccountId, StoreError> {
    <[u8; 32]>::try_from(bytes)
        .map(AccountId)
        .map_err(|_| StoreError("a stored account id is not 32 bytes".into()))
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Store {
    /// Opens (creating) the database at `path`, or one in memory. Requests
    /// that were being handled when the gateway last stopped are marked in
    /// doubt.
    pub fn open(
        path: Option<&Path>,
        storage_key: &hotline::store::StorageKey,
    ) -> Result<Self, StoreError> {
        let conn = match path {
            Some(p) => Connection::open(p)?,
            None => Connection::open_in_memory()?,
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        conn.execute(
            "UPDATE idempotency SET status = ?1 WHERE status IS NULL",
            params![STATUS_IN_DOUBT],
        )?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            sealer: Arc::new(Sealer::new(storage_key)),
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StoreError> {
        self.conn
            .lock()
            .map_err(|_| StoreError("lock poisoned".into()))
    }

    /// The keyed digest of a request's parts ([`Sealer::digest`]).
    pub fn request_digest(&self, parts: &[&[u8]]) -> [u8; 32] {
        self.sealer.digest(parts)
    }

    /// Looks up `key` of `token`, reserving it for a request hashed
    /// `hash` when it is new. Keys older than `ttl_secs` are forgotten.
    pub fn reserve_key(
        &self,
        token: &str,
        key: &str,
        hash: &[u8; 32],
        now: u64,
        ttl_secs: u64,
    ) -> Result<Idempotency, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "DELETE FROM idempotency WHERE created < ?1 AND status IS NOT NULL",
            params![to_i64(now.saturating_sub(ttl_secs))],
        )?;
        let row: Option<(Vec<u8>, Option<i64>, Option<String>)> = tx
            .query_row(
                "SELECT request_hash, status, response FROM idempotency WHERE token = ?1 AND key = ?2",
                params![token, key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let answer = match row {
            Some((h, _, _)) if h.as_slice() != hash.as_slice() => Idempotency::Mismatch,
            Some((_, None, _)) => Idempotency::InProgress,
            Some((_, Some(STATUS_IN_DOUBT), _)) => Idempotency::InDoubt,
            Some((_, Some(status), response)) => Idempotency::Done {
                status: u16::try_from(status).unwrap_or(500),
                response: response.unwrap_or_default(),
            },
            None => {
                tx.execute(
                    "INSERT INTO idempotency (token, key, request_hash, created) VALUES (?1, ?2, ?3, ?4)",
                    params![token, key, hash.as_slice(), to_i64(now)],
                )?;
                Idempotency::Reserved
            }
        };
        tx.commit()?;
        Ok(answer)
    }

    /// Forgets a reserved key (the request sent nothing, so a retry may).
    pub fn release_key(&self, token: &str, key: &str) -> Result<(), StoreError> {
        self.lock()?.execute(
            "DELETE FROM idempotency WHERE token = ?1 AND key = ?2 AND status IS NULL",
            params![token, key],
        )?;
        Ok(())
    }

    /// Marks a reserved key in doubt: its message was queued but the
    /// answer could not be recorded.
    pub fn mark_in_doubt(&self, token: &str, key: &str) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE idempotency SET status = ?3 WHERE token = ?1 AND key = ?2 AND status IS NULL",
            params![token, key, STATUS_IN_DOUBT],
        )?;
        Ok(())
    }

    /// The conversation with `customer`, if any message went either way.
    pub fn conversation(&self, customer: &AccountId) -> Result<Option<Conversation>, StoreError> {
        let conn = self.lock()?;
        conn.query_row(
            "SELECT customer, last_inbound_at, last_message_at, blocked FROM conversations WHERE customer = ?1",
            params![customer.0.as_slice()],
            row_conversation,
        )
        .optional()?
        .transpose()
    }

    /// Conversations, the most recent first.
    pub fn conversations(&self, limit: usize) -> Result<Vec<Conversation>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(
            "SELECT customer, last_inbound_at, last_message_at, blocked FROM conversations
             ORDER BY last_message_at DESC, customer LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![to_i64(limit as u64)], row_conversation)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }

    /// Messages with `customer` after the gateway id `after`, oldest first.
    pub fn messages(
        &self,
        customer: &AccountId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(
            "SELECT id, customer, direction, class, text, at, state, reason FROM messages
             WHERE customer = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![customer.0.as_slice(), after, to_i64(limit as u64)],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for r in rows {
            let (id, c, dir, class, text, at, state, reason) = r?;
            out.push(StoredMessage {
                id,
                customer: account(&c)?,
                direction: if dir == "in" { "in" } else { "out" },
                class: intern_class(&class),
                text: String::from_utf8_lossy(&self.sealer.open(COL_TEXT, &text)?).into_owned(),
                at: to_u64(at),
                state,
                reason,
            });
        }
        Ok(out)
    }

    /// Records a message queued in the client's outbox as `outbox_id`, and
    /// the answer to the request that queued it, in one transaction.
    /// Returns the gateway's id for the message.
    #[allow(clippy::too_many_arguments)]
    pub fn record_outbound(
        &self,
        customer: &AccountId,
        class: MessageClass,
        text: &str,
        outbox_id: u64,
        now: u64,
        idempotency: Option<(&str, &str)>,
        response: impl FnOnce(i64) -> String,
    ) -> Result<(i64, String), StoreError> {
        let sealed = self.sealer.seal(COL_TEXT, text.as_bytes())?;
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO conversations (customer, last_message_at) VALUES (?1, ?2)
             ON CONFLICT (customer) DO UPDATE SET last_message_at = excluded.last_message_at",
            params![customer.0.as_slice(), to_i64(now)],
        )?;
        tx.execute(
            "INSERT INTO messages (customer, direction, class, text, at, outbox_id, state)
             VALUES (?1, 'out', ?2, ?3, ?4, ?5, 'queued')",
            params![
                customer.0.as_slice(),
                class_name(class),
                sealed,
                to_i64(now),
                to_i64(outbox_id)
            ],
        )?;
        let id = tx.last_insert_rowid();
        let body = response(id);
        if let Some((token, key)) = idempotency {
            tx.execute(
                "UPDATE idempotency SET status = 202, response = ?3 WHERE token = ?1 AND key = ?2",
                params![token, key, body],
            )?;
        }
        tx.commit()?;
        Ok((id, body))
    }

    /// Records the relay's answer for the outbox entry `outbox_id`. Returns
    /// the message's gateway id and customer, if it was one of the
    /// gateway's, and queues `event(id)` for the webhooks.
    #[allow(clippy::too_many_arguments)]
    pub fn record_delivery(
        &self,
        outbox_id: u64,
        state: &str,
        reason: Option<&str>,
        blocked: bool,
        endpoints: &[String],
        now_ms: u64,
        event: impl FnOnce(i64, &AccountId) -> NewEvent,
    ) -> Result<Option<(i64, AccountId)>, StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let row: Option<(i64, Vec<u8>)> = tx
            .query_row(
                "SELECT id, customer FROM messages WHERE outbox_id = ?1 AND state = 'queued'
                 ORDER BY id DESC LIMIT 1",
                params![to_i64(outbox_id)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((id, customer)) = row else {
            return Ok(None);
        };
        let customer = account(&customer)?;
        tx.execute(
            "UPDATE messages SET state = ?2, reason = ?3 WHERE id = ?1",
            params![id, state, reason],
        )?;
        if blocked {
            tx.execute(
                "UPDATE conversations SET blocked = 1 WHERE customer = ?1",
                params![customer.0.as_slice()],
            )?;
        }
        let event = event(id, &customer);
        let sealed_body = self.sealer.seal(COL_BODY, &event.body)?;
        queue_event(&tx, &event.id, &sealed_body, endpoints, now_ms)?;
        tx.commit()?;
        Ok(Some((id, customer)))
    }

    /// Records a message from a customer (once per sender's message id:
    /// a message seen again is ignored) and queues its webhook event, in
    /// one transaction. Returns whether it was new.
    #[allow(clippy::too_many_arguments)]
    pub fn record_inbound(
        &self,
        customer: &AccountId,
        remote_id: &[u8],
        class: MessageClass,
        text: &str,
        now: u64,
        endpoints: &[String],
        event: &NewEvent,
    ) -> Result<bool, StoreError> {
        let sealed = self.sealer.seal(COL_TEXT, text.as_bytes())?;
        let sealed_body = self.sealer.seal(COL_BODY, &event.body)?;
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO messages (customer, direction, class, text, at, remote_id, state)
             VALUES (?1, 'in', ?2, ?3, ?4, ?5, 'received')",
            params![
                customer.0.as_slice(),
                class_name(class),
                sealed,
                to_i64(now),
                remote_id
            ],
        )?;
        if inserted == 0 {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO conversations (customer, last_inbound_at, last_message_at) VALUES (?1, ?2, ?2)
             ON CONFLICT (customer) DO UPDATE SET last_inbound_at = excluded.last_inbound_at,
               last_message_at = excluded.last_message_at, blocked = 0",
            params![customer.0.as_slice(), to_i64(now)],
        )?;
        queue_event(
            &tx,
            &event.id,
            &sealed_body,
            endpoints,
            now.saturating_mul(1000),
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Deliveries waiting in the webhook queue.
    pub fn webhook_queue_len(&self) -> Result<u64, StoreError> {
        let conn = self.lock()?;
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM webhooks", [], |r| r.get(0))?;
        Ok(to_u64(n))
    }

    /// Up to `limit` deliveries due at `now_ms`, the oldest first.
    pub fn due_webhooks(
        &self,
        now_ms: u64,
        limit: usize,
    ) -> Result<Vec<QueuedWebhook>, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare(
            "SELECT id, event_id, endpoint, body, attempts FROM webhooks
             WHERE next_at_ms <= ?1 ORDER BY next_at_ms, id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![to_i64(now_ms), to_i64(limit as u64)], |r| {
            Ok(QueuedWebhook {
                id: r.get(0)?,
                event_id: r.get(1)?,
                endpoint: r.get(2)?,
                body: r.get(3)?,
                attempts: u32::try_from(r.get::<_, i64>(4)?).unwrap_or(u32::MAX),
            })
        })?;
        let mut out = Vec::new();
        for row in rows {
            let mut w: QueuedWebhook = row?;
            w.body = self.sealer.open(COL_BODY, &w.body)?;
            out.push(w);
        }
        Ok(out)
    }

    /// When the next delivery is due, if any waits.
    pub fn next_webhook_due(&self) -> Result<Option<u64>, StoreError> {
        let conn = self.lock()?;
        let v: Option<i64> =
            conn.query_row("SELECT MIN(next_at_ms) FROM webhooks", [], |r| r.get(0))?;
        Ok(v.map(to_u64))
    }

    /// The receiver answered 2xx: the delivery leaves the queue.
    pub fn webhook_delivered(&self, id: i64) -> Result<(), StoreError> {
        self.lock()?
            .execute("DELETE FROM webhooks WHERE id = ?1", params![id])?;
        Ok(())
    }

    /// The attempt failed: tried again at `next_at_ms`.
    pub fn webhook_failed(&self, id: i64, next_at_ms: u64, error: &str) -> Result<(), StoreError> {
        self.lock()?.execute(
            "UPDATE webhooks SET attempts = attempts + 1, next_at_ms = ?2, last_error = ?3 WHERE id = ?1",
            params![id, to_i64(next_at_ms), error],
        )?;
        Ok(())
    }
}

fn queue_event(
    tx: &rusqlite::Transaction<'_>,
    event_id: &str,
    sealed_body: &[u8],
    endpoints: &[String],
    now_ms: u64,
) -> Result<(), StoreError> {
    for endpoint in endpoints {
        tx.execute(
            "INSERT OR IGNORE INTO webhooks (event_id, endpoint, body, next_at_ms) VALUES (?1, ?2, ?3, ?4)",
            params![event_id, endpoint, sealed_body, to_i64(now_ms)],
        )?;
    }
    Ok(())
}

#[allow(clippy::type_complexity)]
fn row_conversation(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Conversation, StoreError>> {
    let c: Vec<u8> = r.get(0)?;
    let inbound: Option<i64> = r.get(1)?;
    let last: i64 = r.get(2)?;
    let blocked: i64 = r.get(3)?;
    Ok(account(&c).map(|customer| Conversation {
        customer,
        last_inbound_at: inbound.map(to_u64),
        last_message_at: to_u64(last),
        blocked: blocked != 0,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline::store::StorageKey;

    #[test]
    fn sealed_records_open_only_with_their_key_and_column_and_untouched() {
        let key = StorageKey::generate(&mut rand::rng());
        let sealer = Sealer::new(&key);
        let sealed = sealer.seal(COL_TEXT, b"Where is my bag?").unwrap();
        assert!(!sealed.windows(5).any(|w| w == b"Where"));
        assert_eq!(sealer.open(COL_TEXT, &sealed).unwrap(), b"Where is my bag?");
        // Two seals of the same text differ (a fresh salt each).
        assert_ne!(sealer.seal(COL_TEXT, b"Where is my bag?").unwrap(), sealed);
        assert!(sealer.open(COL_BODY, &sealed).is_err(), "another column");
        let other = Sealer::new(&StorageKey::generate(&mut rand::rng()));
        assert!(other.open(COL_TEXT, &sealed).is_err(), "another key");
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 1;
            assert!(sealer.open(COL_TEXT, &t).is_err(), "byte {i} flipped");
        }
        for n in 0..SALT_LEN + TAG_LEN {
            assert!(
                sealer.open(COL_TEXT, &sealed[..n]).is_err(),
                "truncated to {n}"
            );
        }
    }

    #[test]
    fn an_inbound_message_is_recorded_once_with_its_events() {
        let store = Store::open(None, &StorageKey::generate(&mut rand::rng())).unwrap();
        let customer = AccountId([7; 32]);
        let event = NewEvent {
            id: "evt_1".into(),
            body: b"{\"x\":1}".to_vec(),
        };
        let endpoints = vec!["http://a/".to_owned(), "http://b/".to_owned()];
        for _ in 0..2 {
            store
                .record_inbound(
                    &customer,
                    b"m1",
                    MessageClass::Chat,
                    "hi",
                    10,
                    &endpoints,
                    &event,
                )
                .unwrap();
        }
        assert_eq!(store.messages(&customer, 0, 10).unwrap().len(), 1);
        let due = store.due_webhooks(u64::MAX / 2, 10).unwrap();
        assert_eq!(due.len(), 2, "one delivery per endpoint, once");
        assert!(
            due.iter()
                .all(|w| w.body == event.body && w.event_id == "evt_1")
        );
        store
            .webhook_failed(due[0].id, 5_000_000, "HTTP 500")
            .unwrap();
        assert_eq!(store.due_webhooks(4_999_999, 10).unwrap().len(), 1);
        store.webhook_delivered(due[1].id).unwrap();
        assert_eq!(store.webhook_queue_len().unwrap(), 1);
    }

    #[test]
    fn idempotency_keys_move_through_their_states_and_survive_a_restart() {
        let dir = std::env::temp_dir().join(format!(
            "hotline-gateway-keys-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("gateway.db");
        let key = StorageKey::generate(&mut rand::rng());
        let store = Store::open(Some(&path), &key).unwrap();
        let (h1, h2) = ([1u8; 32], [2u8; 32]);
        assert_eq!(
            store.reserve_key("t", "k", &h1, 100, 60).unwrap(),
            Idempotency::Reserved
        );
        assert_eq!(
            store.reserve_key("t", "k", &h1, 100, 60).unwrap(),
            Idempotency::InProgress
        );
        assert_eq!(
            store.reserve_key("t", "k", &h2, 100, 60).unwrap(),
            Idempotency::Mismatch
        );
        // Another token's key of the same name is another key.
        assert_eq!(
            store.reserve_key("u", "k", &h2, 100, 60).unwrap(),
            Idempotency::Reserved
        );
        store.release_key("u", "k").unwrap();
        assert_eq!(
            store.reserve_key("u", "k", &h1, 100, 60).unwrap(),
            Idempotency::Reserved
        );
        // A queued message records its answer with the key.
        store
            .record_outbound(
                &AccountId([3; 32]),
                MessageClass::Chat,
                "x",
                9,
                100,
                Some(("t", "k")),
                |id| format!("{{\"id\":{id}}}"),
            )
            .unwrap();
        assert_eq!(
            store.reserve_key("t", "k", &h1, 101, 60).unwrap(),
            Idempotency::Done {
                status: 202,
                response: "{\"id\":1}".into()
            }
        );
        drop(store);
        // Reopened: the request of "u" was cut short, so its key is in doubt;
        // answered keys are still answered, until they expire.
        let store = Store::open(Some(&path), &key).unwrap();
        assert_eq!(
            store.reserve_key("u", "k", &h1, 102, 60).unwrap(),
            Idempotency::InDoubt
        );
        assert!(matches!(
            store.reserve_key("t", "k", &h1, 102, 60).unwrap(),
            Idempotency::Done { .. }
        ));
        assert_eq!(
            store.reserve_key("t", "k", &h2, 1000, 60).unwrap(),
            Idempotency::Reserved
        );
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }
}

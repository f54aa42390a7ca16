//! The client's SQLite database: the protocol client's sealed records and,
//! in the same file and the same transactions, the outbox and the inbox.
//!
//! The protocol client ([`hotline::store::Client`]) commits every session
//! change before it returns a ciphertext or a plaintext. Here that commit
//! can be *held*: [`Db::hold`] opens a transaction, the protocol client's
//! commit writes into it, the SDK adds its outbox or inbox row, and
//! [`Held::commit`] makes both durable at once. A crash in between leaves
//! neither, and nothing derived from the held state (a ciphertext, a
//! plaintext) has left the process before the commit: an envelope is only
//! sent once its outbox row is durable, and a plaintext is only handed to
//! the application (and acknowledged to the relay) once its inbox row is.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce, Tag};
use hotline::relay::{
    AccountId, Delivery, ENVELOPE_HEADER_LEN, Envelope, EnvelopeHeader, FrankingKey, FrankingStamp,
    MessageClass, MessageId, Reportable,
};
use hotline::store::{RecordBackend, RecordWrite, StorageKey, StoreError, StoredRecord};
use rand::Rng as _;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use zeroize::Zeroizing;

use crate::error::Error;

/// Largest plaintext kept in the inbox (the protocol's own bound on a
/// message is lower).
const MAX_INBOX_BODY: usize = 1 << 20;

/// Schema of a fresh database. The record table is the protocol crate's
/// `SqliteBackend` schema, so the records are the same bytes.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS hotline_records (
    kind INTEGER NOT NULL,
    name BLOB NOT NULL,
    record BLOB NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS client_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    envelope BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS client_inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sender BLOB NOT NULL,
    message_id BLOB NOT NULL,
    class INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    body BLOB NOT NULL,
    UNIQUE (sender, message_id)
);
CREATE TABLE IF NOT EXISTS client_reportable (
    seq INTEGER PRIMARY KEY,
    evidence BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS client_meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
";

/// The shared connection and whether a held transaction is open.
#[derive(Clone)]
pub(crate) struct Db {
    conn: Arc<Mutex<Connection>>,
    held: Arc<AtomicBool>,
    inbox_key: Arc<[u8; 32]>,
}

impl core::fmt::Debug for Db {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// A message kept in the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InboxRow {
    pub seq: u64,
    pub sender: AccountId,
    pub message_id: MessageId,
    pub class: MessageClass,
    pub sent_at: u64,
    pub body: Vec<u8>,
}

impl Db {
    /// Opens (creating if needed) the database at `path`, or one in memory.
    pub(crate) fn open(path: Option<&Path>, key: &StorageKey) -> Result<Self, Error> {
        let conn = match path {
            Some(p) => {
                let c = Connection::open(p).map_err(backend)?;
                c.pragma_update(None, "journal_mode", "WAL")
                    .map_err(backend)?;
                c
            }
            None => Connection::open_in_memory().map_err(backend)?,
        };
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        let mut inbox_key = [0u8; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(None, key.as_bytes())
            .expand(b"hotline-client inbox v1", &mut inbox_key)
            .map_err(|_| Error::Corrupt("inbox key"))?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            held: Arc::new(AtomicBool::new(false)),
            inbox_key: Arc::new(inbox_key),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn
            .lock()
            .map_err(|_| StoreError::Backend("database lock poisoned".into()))
    }

    /// The record backend the protocol client writes through.
    pub(crate) fn backend(&self) -> SdkBackend {
        SdkBackend { db: self.clone() }
    }

    /// Opens a transaction that the protocol client's commits join; nothing
    /// is durable until [`Held::commit`]. Dropping the guard rolls back.
    pub(crate) fn hold(&self) -> Result<Held, StoreError> {
        self.lock()?
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(backend)?;
        self.held.store(true, Ordering::SeqCst);
        Ok(Held {
            db: self.clone(),
            done: false,
        })
    }

    pub(crate) fn meta(&self, key: &str) -> Result<Option<u64>, StoreError> {
        self.lock()?
            .query_row(
                "SELECT value FROM client_meta WHERE key = ?1",
                params![key],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|v| v.map(|v| v as u64))
            .map_err(backend)
    }

    pub(crate) fn set_meta(&self, key: &str, value: u64) -> Result<(), StoreError> {
        self.lock()?
            .execute(
                "INSERT OR REPLACE INTO client_meta (key, value) VALUES (?1, ?2)",
                params![key, value as i64],
            )
            .map(|_| ())
            .map_err(backend)
    }

    /// Adds an envelope to the outbox (inside a held transaction).
    pub(crate) fn push_outbox(&self, envelope: &Envelope) -> Result<u64, StoreError> {
        let conn = self.lock()?;
        conn.execute(
            "INSERT INTO client_outbox (envelope) VALUES (?1)",
            params![envelope.to_bytes()],
        )
        .map_err(backend)?;
        Ok(conn.last_insert_rowid() as u64)
    }

    /// The inbox message `seq` with what reporting it needs, if it is in
    /// the inbox with its franking evidence.
    pub(crate) fn reportable(&self, seq: u64) -> Result<Option<(Reportable, Vec<u8>)>, Error> {
        let Some(row) = self.inbox_after(seq.saturating_sub(1), 1)?.pop() else {
            return Ok(None);
        };
        if row.seq != seq {
            return Ok(None);
        }
        let sealed: Option<Vec<u8>> = self
            .lock()?
            .query_row(
                "SELECT evidence FROM client_reportable WHERE seq = ?1",
                params![seq as i64],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let evidence =
            Zeroizing::new(self.open_sealed(&evidence_ad(&row.sender, &row.message_id), &sealed)?);
        let bad = || Error::Corrupt("report evidence");
        if evidence.len() != EVIDENCE_LEN {
            return Err(bad());
        }
        let (header, rest) = evidence.split_at(ENVELOPE_HEADER_LEN);
        let (at, rest) = rest.split_at(8);
        let (stamp, key) = rest.split_at(32);
        let header = EnvelopeHeader::from_bytes(header).map_err(|_| bad())?;
        if (header.sender, header.message_id) != (row.sender, row.message_id) {
            return Err(bad());
        }
        Ok(Some((
            Reportable {
                header,
                received_at: u64::from_be_bytes(at.try_into().map_err(|_| bad())?),
                stamp: FrankingStamp(stamp.try_into().map_err(|_| bad())?),
                key: FrankingKey::from_bytes(key.try_into().map_err(|_| bad())?),
            },
            row.body,
        )))
    }

    /// The oldest envelope waiting in the outbox.
    pub(crate) fn next_outbox(&self) -> Result<Option<(u64, Envelope)>, Error> {
        let row: Option<(i64, Vec<u8>)> = self
            .lock()?
            .query_row(
                "SELECT id, envelope FROM client_outbox ORDER BY id LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(backend)?;
        match row {
            None => Ok(None),
            Some((id, bytes)) => {
                let envelope =
                    Envelope::from_bytes(&bytes).map_err(|_| Error::Corrupt("outbox envelope"))?;
                Ok(Some((id as u64, envelope)))
            }
        }
    }

    pub(crate) fn outbox_len(&self) -> Result<u64, StoreError> {
        self.lock()?
            .query_row("SELECT COUNT(*) FROM client_outbox", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(backend)
    }

    /// Removes an envelope the relay answered for.
    pub(crate) fn remove_outbox(&self, id: u64) -> Result<(), StoreError> {
        self.lock()?
            .execute(
                "DELETE FROM client_outbox WHERE id = ?1",
                params![id as i64],
            )
            .map(|_| ())
            .map_err(backend)
    }

    /// Whether the inbox already holds this message.
    pub(crate) fn in_inbox(&self, sender: &AccountId, id: &MessageId) -> Result<bool, StoreError> {
        self.lock()?
            .query_row(
                "SELECT 1 FROM client_inbox WHERE sender = ?1 AND message_id = ?2",
                params![sender.0, id.0],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
            .map_err(backend)
    }

    /// Seals `data` under the inbox key with `ad`: nonce, ciphertext, tag.
    fn seal(&self, ad: &[u8], data: &[u8]) -> Result<Vec<u8>, Error> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let mut body = data.to_vec();
        let tag: [u8; 16] = ChaCha20Poly1305::new(&Key::from(*self.inbox_key))
            .encrypt_inout_detached(&Nonce::from(nonce), ad, body.as_mut_slice().into())
            .map_err(|_| Error::Corrupt("inbox seal"))?
            .into();
        let mut sealed = Vec::with_capacity(12 + body.len() + 16);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&body);
        sealed.extend_from_slice(&tag);
        Ok(sealed)
    }

    /// Opens what [`seal`](Self::seal) made with the same `ad`.
    fn open_sealed(&self, ad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Error> {
        if sealed.len() < 28 {
            return Err(Error::Corrupt("inbox body"));
        }
        let (nonce, rest) = sealed.split_at(12);
        let (ct, tag) = rest.split_at(rest.len() - 16);
        let mut body = ct.to_vec();
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| Error::Corrupt("nonce"))?;
        let tag: [u8; 16] = tag.try_into().map_err(|_| Error::Corrupt("tag"))?;
        ChaCha20Poly1305::new(&Key::from(*self.inbox_key))
            .decrypt_inout_detached(
                &Nonce::from(nonce),
                ad,
                body.as_mut_slice().into(),
                &Tag::from(tag),
            )
            .map_err(|_| Error::Corrupt("inbox body does not open"))?;
        Ok(body)
    }

    /// Adds a received message to the inbox, its plaintext sealed under a
    /// key derived from the storage key (inside a held transaction), with
    /// what reporting it needs (SPEC.md 14.17): the delivery's header, time
    /// and stamp and the message's franking key, sealed likewise.
    pub(crate) fn push_inbox(
        &self,
        delivery: &Delivery,
        plaintext: &[u8],
        franking_key: Option<&FrankingKey>,
    ) -> Result<u64, Error> {
        if plaintext.len() > MAX_INBOX_BODY {
            return Err(Error::Corrupt("message too long for the inbox"));
        }
        let h = &delivery.envelope.header;
        let sealed = self.seal(&inbox_ad(&h.sender, &h.message_id), plaintext)?;
        let evidence = match franking_key {
            Some(key) => {
                let mut e = Zeroizing::new(Vec::with_capacity(EVIDENCE_LEN));
                e.extend_from_slice(&h.associated_data());
                e.extend_from_slice(&delivery.received_at.to_be_bytes());
                e.extend_from_slice(&delivery.stamp.0);
                e.extend_from_slice(&key.to_bytes());
                Some(self.seal(&evidence_ad(&h.sender, &h.message_id), &e)?)
            }
            None => None,
        };
        let conn = self.lock()?;
        conn.execute(
            "INSERT INTO client_inbox (sender, message_id, class, sent_at, body)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                h.sender.0,
                h.message_id.0,
                class_byte(h.class),
                h.sent_at as i64,
                sealed
            ],
        )
        .map_err(backend)?;
        let seq = conn.last_insert_rowid();
        if let Some(evidence) = evidence {
            conn.execute(
                "INSERT INTO client_reportable (seq, evidence) VALUES (?1, ?2)",
                params![seq, evidence],
            )
            .map_err(backend)?;
        }
        Ok(seq as u64)
    }

    /// Inbox messages with a sequence number above `after`, oldest first
    /// (at most `limit`).
    pub(crate) fn inbox_after(&self, after: u64, limit: usize) -> Result<Vec<InboxRow>, Error> {
        type Raw = (i64, Vec<u8>, Vec<u8>, u8, i64, Vec<u8>);
        let rows: Vec<Raw> = {
            let conn = self.lock()?;
            let mut stmt = conn
                .prepare_cached(
                    "SELECT seq, sender, message_id, class, sent_at, body FROM client_inbox
                     WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                )
                .map_err(backend)?;
            stmt.query_map(params![after as i64, limit as i64], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .map_err(backend)?
            .collect::<Result<_, _>>()
            .map_err(backend)?
        };
        rows.into_iter()
            .map(|(seq, sender, id, class, sent_at, sealed)| {
                let sender = AccountId(
                    sender
                        .try_into()
                        .map_err(|_| Error::Corrupt("inbox sender"))?,
                );
                let message_id = MessageId(id.try_into().map_err(|_| Error::Corrupt("inbox id"))?);
                let class = match class {
                    0 => MessageClass::Chat,
                    1 => MessageClass::Notification,
                    _ => return Err(Error::Corrupt("inbox class")),
                };
                let body = self.open_sealed(&inbox_ad(&sender, &message_id), &sealed)?;
                Ok(InboxRow {
                    seq: seq as u64,
                    sender,
                    message_id,
                    class,
                    sent_at: sent_at as u64,
                    body,
                })
            })
            .collect()
    }
}

fn class_byte(class: MessageClass) -> u8 {
    match class {
        MessageClass::Notification => 1,
        _ => 0,
    }
}

/// Length of a message's report evidence: header, received-at, stamp and
/// franking key.
const EVIDENCE_LEN: usize = ENVELOPE_HEADER_LEN + 8 + 32 + 32;

/// The associated data of a message's sealed report evidence: the inbox
/// body's, after a label, so neither opens as the other.
fn evidence_ad(sender: &AccountId, id: &MessageId) -> Vec<u8> {
    let mut ad = b"report evidence".to_vec();
    ad.extend_from_slice(&inbox_ad(sender, id));
    ad
}

fn inbox_ad(sender: &AccountId, id: &MessageId) -> Vec<u8> {
    let mut ad = Vec::with_capacity(48);
    ad.extend_from_slice(&sender.0);
    ad.extend_from_slice(&id.0);
    ad
}

/// An open held transaction; rolled back when dropped uncommitted.
pub(crate) struct Held {
    db: Db,
    done: bool,
}

impl Held {
    /// Makes everything written since [`Db::hold`] durable.
    pub(crate) fn commit(mut self) -> Result<(), StoreError> {
        self.done = true;
        self.db.held.store(false, Ordering::SeqCst);
        let conn = self.db.lock()?;
        if let Err(e) = conn.execute_batch("COMMIT") {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(backend(e));
        }
        Ok(())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if !self.done {
            self.db.held.store(false, Ordering::SeqCst);
            if let Ok(conn) = self.db.lock() {
                let _ = conn.execute_batch("ROLLBACK");
            }
        }
    }
}

/// The protocol client's record backend: the records table of [`Db`],
/// written in its own transaction, or inside the held one.
pub(crate) struct SdkBackend {
    db: Db,
}

impl RecordBackend for SdkBackend {
    fn get(&self, kind: u8, name: &[u8]) -> Result<Option<StoredRecord>, StoreError> {
        self.db
            .lock()?
            .prepare_cached(
                "SELECT record, version FROM hotline_records WHERE kind = ?1 AND name = ?2",
            )
            .map_err(backend)?
            .query_row(params![kind, name], |row| {
                Ok(StoredRecord {
                    record: row.get(0)?,
                    version: row.get::<_, i64>(1)? as u64,
                })
            })
            .optional()
            .map_err(backend)
    }

    fn put_all(&mut self, records: &[RecordWrite]) -> Result<(), StoreError> {
        let held = self.db.held.load(Ordering::SeqCst);
        let mut conn = self.db.lock()?;
        if held {
            // Inside the held transaction: a savepoint, so that a conflict
            // undoes only this commit.
            conn.execute_batch("SAVEPOINT put_all").map_err(backend)?;
            match write_records(&conn, records) {
                Ok(()) => conn.execute_batch("RELEASE put_all").map_err(backend),
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK TO put_all; RELEASE put_all");
                    Err(e)
                }
            }
        } else {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            write_records(&tx, records)?;
            tx.commit().map_err(backend)
        }
    }
}

/// Checks every expected version, then writes (the caller's transaction
/// makes it atomic).
fn write_records(conn: &Connection, records: &[RecordWrite]) -> Result<(), StoreError> {
    let mut check = conn
        .prepare_cached("SELECT version FROM hotline_records WHERE kind = ?1 AND name = ?2")
        .map_err(backend)?;
    for w in records {
        let current: Option<i64> = check
            .query_row(params![w.kind, w.name], |row| row.get(0))
            .optional()
            .map_err(backend)?;
        if current.map_or(0, |v| v as u64) != w.expected_version {
            return Err(StoreError::Conflict { kind: w.kind });
        }
    }
    let mut stmt = conn
        .prepare_cached(
            "INSERT OR REPLACE INTO hotline_records (kind, name, record, version)
             VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(backend)?;
    for w in records {
        if let Some(record) = &w.record {
            let version = i64::try_from(w.expected_version.saturating_add(1))
                .map_err(|_| StoreError::Conflict { kind: w.kind })?;
            stmt.execute(params![w.kind, w.name, record, version])
                .map_err(backend)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline::relay::EnvelopeHeader;

    fn write(kind: u8, expected_version: u64) -> RecordWrite {
        RecordWrite {
            kind,
            name: b"peer".to_vec(),
            expected_version,
            record: Some(vec![kind; 8]),
        }
    }

    fn envelope() -> Envelope {
        Envelope {
            header: EnvelopeHeader {
                sender: AccountId([1; 32]),
                recipient: AccountId([2; 32]),
                message_id: MessageId([3; 16]),
                class: MessageClass::Chat,
                sent_at: 7,
                franking: Default::default(),
            },
            ciphertext: vec![9; 40],
        }
    }

    fn delivery() -> Delivery {
        Delivery {
            id: 4,
            received_at: 1_700_000_000,
            stamp: FrankingStamp([6; 32]),
            envelope: envelope(),
        }
    }

    #[test]
    fn a_held_commit_dropped_leaves_neither_the_records_nor_the_row() {
        let db = Db::open(None, &StorageKey::from_bytes([5; 32])).unwrap();
        let mut backend = db.backend();
        let held = db.hold().unwrap();
        backend.put_all(&[write(1, 0)]).unwrap();
        db.push_outbox(&envelope()).unwrap();
        drop(held);
        assert_eq!(backend.get(1, b"peer").unwrap(), None);
        assert_eq!(db.outbox_len().unwrap(), 0);

        let held = db.hold().unwrap();
        backend.put_all(&[write(1, 0)]).unwrap();
        db.push_outbox(&envelope()).unwrap();
        held.commit().unwrap();
        assert_eq!(backend.get(1, b"peer").unwrap().map(|r| r.version), Some(1));
        assert_eq!(db.next_outbox().unwrap().map(|(_, e)| e), Some(envelope()));
    }

    #[test]
    fn a_conflict_inside_a_held_transaction_undoes_only_that_commit() {
        let db = Db::open(None, &StorageKey::from_bytes([5; 32])).unwrap();
        let mut backend = db.backend();
        let held = db.hold().unwrap();
        backend.put_all(&[write(1, 0)]).unwrap();
        // Expects version 3 of a record at version 1: nothing of it lands.
        assert!(matches!(
            backend.put_all(&[write(2, 0), write(1, 3)]),
            Err(StoreError::Conflict { kind: 1 })
        ));
        held.commit().unwrap();
        assert!(backend.get(1, b"peer").unwrap().is_some());
        assert_eq!(backend.get(2, b"peer").unwrap(), None);
    }

    #[test]
    fn inbox_bodies_are_sealed_at_rest_and_a_message_enters_once() {
        let db = Db::open(None, &StorageKey::from_bytes([5; 32])).unwrap();
        let held = db.hold().unwrap();
        db.push_inbox(
            &delivery(),
            b"my booking ZX81QK",
            Some(&FrankingKey::from_bytes([8; 32])),
        )
        .unwrap();
        held.commit().unwrap();
        let raw: Vec<u8> = db
            .lock()
            .unwrap()
            .query_row("SELECT body FROM client_inbox", [], |r| r.get(0))
            .unwrap();
        assert!(!raw.windows(6).any(|w| w == b"ZX81QK"), "plaintext at rest");
        let rows = db.inbox_after(0, 10).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].body, b"my booking ZX81QK");
        assert!(
            db.in_inbox(&AccountId([1; 32]), &MessageId([3; 16]))
                .unwrap()
        );
        // The same sender and message id cannot enter twice.
        assert!(db.push_inbox(&delivery(), b"again", None).is_err());
        // What a report needs comes back as it went in, sealed at rest.
        let (message, body) = db.reportable(1).unwrap().expect("reportable");
        assert_eq!(body, b"my booking ZX81QK");
        assert_eq!(message.header, envelope().header);
        assert_eq!(message.received_at, 1_700_000_000);
        assert_eq!(message.stamp, FrankingStamp([6; 32]));
        assert_eq!(message.key, FrankingKey::from_bytes([8; 32]));
        let raw: Vec<u8> = db
            .lock()
            .unwrap()
            .query_row("SELECT evidence FROM client_reportable", [], |r| r.get(0))
            .unwrap();
        assert!(!raw.windows(8).any(|w| w == [8; 8]), "franking key at rest");
        assert!(db.reportable(2).unwrap().is_none());
        assert!(db.reportable(0).unwrap().is_none());
        // Under another storage key the body does not open.
        let conn = db.conn.clone();
        let other = Db {
            conn,
            held: db.held.clone(),
            inbox_key: Arc::new([0; 32]),
        };
        assert!(matches!(other.inbox_after(0, 10), Err(Error::Corrupt(_))));
    }
}

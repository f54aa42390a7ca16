//! A durable [`RelayStore`] on SQLite (bundled, WAL, `synchronous=FULL`).
//!
//! Every method runs in one transaction and returns only after it
//! committed, so a process killed at any moment loses no envelope whose
//! `enqueue` returned `Stored` and no consent or block record whose `put_*`
//! returned `true`. Everything read back is decoded and verified again
//! (identities, prekey signatures, record signatures): an altered database
//! yields [`StoreError::Corrupt`], never a wrong answer.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{
    AccountRecord, BundleParts, ERASED_DURING_SEND, EnqueueOutcome, MailboxLimits, RelayStore,
    SendEffects, StoreError, StoredEnvelope, StoredReport, UploadOutcome, state_entry,
};
use crate::constants::{
    CHAT_WINDOW_SECS, CONSENT_RETENTION_SECS, REACH_WINDOW_SECS, REPORT_RETENTION_SECS,
    STATE_RETENTION_SECS,
};
use crate::keys::{IdentityKey, KemPreKeyPublic, OneTimePreKeyPublic, SignedPreKeyPublic};
use crate::relay::MessageId;
use crate::relay::auth::{AccountId, AccountKind};
use crate::relay::envelope::Envelope;
use crate::relay::envelope::MessageClass;
use crate::relay::policy::{BlockRecord, ConsentRecord, PairState};
use crate::relay::protocol::{Delivery, PreKeyUpload};
use crate::relay::receipt::{DeliveryState, StateEntry};
use crate::wire::Reader;

const SLOT_SIGNED: i64 = 0;
const SLOT_LAST_RESORT: i64 = 1;
const SLOT_ONE_TIME: i64 = 2;
const SLOT_KEM: i64 = 3;

/// `blocks` holds customers' block records, `business_blocks` businesses'
/// (SPEC.md 14.6). `states` is the log of delivery states (SPEC.md 14.16),
/// with `period` set only on the states that bill (and `metering` counts
/// those per sender). The `time` of `consents` and both block tables is the
/// effective time a record is
/// ordered at (SPEC.md 14.6), not necessarily the record's own time.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS accounts(
    id BLOB PRIMARY KEY, kind INTEGER NOT NULL, identity BLOB NOT NULL,
    chain BLOB NOT NULL, name TEXT NOT NULL, counter INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS prekeys(
    account BLOB NOT NULL, slot INTEGER NOT NULL, id INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY(account, slot, id));
CREATE TABLE IF NOT EXISTS mailbox(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, recipient BLOB NOT NULL, sender BLOB NOT NULL,
    message_id BLOB NOT NULL, received_at INTEGER NOT NULL, envelope BLOB NOT NULL,
    UNIQUE(recipient, sender, message_id));
CREATE INDEX IF NOT EXISTS mailbox_by_recipient ON mailbox(recipient, seq);
CREATE TABLE IF NOT EXISTS delivered(
    recipient BLOB NOT NULL, sender BLOB NOT NULL, message_id BLOB NOT NULL,
    at INTEGER NOT NULL, PRIMARY KEY(recipient, sender, message_id));
CREATE TABLE IF NOT EXISTS consents(
    customer BLOB NOT NULL, business BLOB NOT NULL, time INTEGER NOT NULL, record BLOB NOT NULL,
    PRIMARY KEY(customer, business, time));
CREATE TABLE IF NOT EXISTS blocks(
    customer BLOB NOT NULL, business BLOB NOT NULL, time INTEGER NOT NULL, record BLOB NOT NULL,
    PRIMARY KEY(customer, business));
CREATE TABLE IF NOT EXISTS business_blocks(
    customer BLOB NOT NULL, business BLOB NOT NULL, time INTEGER NOT NULL, record BLOB NOT NULL,
    PRIMARY KEY(customer, business));
CREATE TABLE IF NOT EXISTS windows(
    customer BLOB NOT NULL, business BLOB NOT NULL, last INTEGER NOT NULL,
    PRIMARY KEY(customer, business));
CREATE TABLE IF NOT EXISTS metering(business BLOB PRIMARY KEY, notifications INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS statuses(
    account BLOB PRIMARY KEY, this_update INTEGER NOT NULL, status BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS spent_prekeys(
    account BLOB NOT NULL, slot INTEGER NOT NULL, high INTEGER NOT NULL,
    PRIMARY KEY(account, slot));
CREATE TABLE IF NOT EXISTS erased(id BLOB PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS states(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, sender BLOB NOT NULL, recipient BLOB NOT NULL,
    message_id BLOB NOT NULL, class INTEGER NOT NULL, state INTEGER NOT NULL,
    time INTEGER NOT NULL, period INTEGER);
CREATE INDEX IF NOT EXISTS states_by_sender ON states(sender, seq);
CREATE INDEX IF NOT EXISTS states_billed ON states(sender, period, seq) WHERE period IS NOT NULL;
CREATE INDEX IF NOT EXISTS states_by_time ON states(time);
CREATE TABLE IF NOT EXISTS reports(
    business BLOB NOT NULL, customer BLOB NOT NULL, message_id BLOB NOT NULL,
    time INTEGER NOT NULL, report BLOB NOT NULL,
    PRIMARY KEY(business, customer, message_id));
CREATE INDEX IF NOT EXISTS reports_by_time ON reports(time);
CREATE TABLE IF NOT EXISTS reaches(
    business BLOB NOT NULL, customer BLOB NOT NULL, time INTEGER NOT NULL,
    PRIMARY KEY(business, customer));
";

/// A [`RelayStore`] in an SQLite database file. Available with the
/// `sqlite` feature.
///
/// ```
/// use hotline::relay::{RelayStore, SqliteStore};
/// let dir = std::env::temp_dir().join(format!("hotline-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let store = SqliteStore::open(dir.join("relay.db"))?;
/// assert!(store.notification_counts()?.is_empty());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SqliteStore(Mutex<Connection>);

impl core::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Times and counters are stored as SQLite's signed 64-bit integers, by
/// their bit pattern; comparisons that matter happen in Rust on `u64`.
fn to_sql(x: u64) -> i64 {
    x as i64
}
fn from_sql(x: i64) -> u64 {
    x as u64
}

fn account_id(bytes: Vec<u8>) -> Result<AccountId, StoreError> {
    Ok(AccountId(
        bytes
            .try_into()
            .map_err(|_| StoreError::Corrupt("account id"))?,
    ))
}

fn decode_prekey<T>(
    data: &[u8],
    read: impl FnOnce(&mut Reader<'_>) -> Result<T, crate::wire::DecodeError>,
) -> Result<T, StoreError> {
    let mut r = Reader::new(data);
    let v = read(&mut r).map_err(|_| StoreError::Corrupt("prekey"))?;
    r.finish().map_err(|_| StoreError::Corrupt("prekey"))?;
    Ok(v)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, in WAL mode with
    /// full synchronization.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        Ok(Self(Mutex::new(conn)))
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-transaction rolls the transaction back on drop, so a
        // poisoned connection is still consistent.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn tx<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(backend)?;
        let out = f(&tx)?;
        tx.commit().map_err(backend)?;
        Ok(out)
    }
}

fn expire_recipient(
    tx: &Transaction<'_>,
    recipient: &AccountId,
    limits: &MailboxLimits,
    now: u64,
) -> Result<usize, StoreError> {
    let cutoff = to_sql(now.saturating_sub(limits.ttl_secs));
    let n = delete_logged(
        tx,
        "DELETE FROM mailbox WHERE recipient = ?1 AND received_at <= ?2
         RETURNING seq, received_at, envelope",
        params![&recipient.0[..], cutoff],
        DeliveryState::Expired,
        |at| at.saturating_add(limits.ttl_secs),
    )?;
    tx.execute(
        "DELETE FROM delivered WHERE recipient = ?1 AND at <= ?2",
        params![&recipient.0[..], cutoff],
    )
    .map_err(backend)?;
    Ok(n)
}

/// Runs `sql`, a `DELETE FROM mailbox ... RETURNING seq, received_at,
/// envelope`, and logs `state` for every envelope it deleted, in delivery id
/// order, in the same transaction (SPEC.md 14.16), at `time(received_at)`.
/// Returns how many were deleted.
fn delete_logged(
    tx: &Transaction<'_>,
    sql: &str,
    p: impl rusqlite::Params,
    state: DeliveryState,
    time: impl Fn(u64) -> u64,
) -> Result<usize, StoreError> {
    let mut deleted: Vec<(i64, i64, Vec<u8>)> = {
        let mut stmt = tx.prepare(sql).map_err(backend)?;
        let rows = stmt
            .query_map(p, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)?
    };
    // RETURNING yields rows in no stated order.
    deleted.sort_by_key(|d| d.0);
    for (_, at, bytes) in &deleted {
        log_state(tx, bytes, state, time(from_sql(*at)))?;
    }
    Ok(deleted.len())
}

/// Logs `state` at `now` for the envelope `bytes`, and bills its sender
/// if the state bills (SPEC.md 14.16).
fn log_state(
    tx: &Transaction<'_>,
    bytes: &[u8],
    state: DeliveryState,
    now: u64,
) -> Result<(), StoreError> {
    let Some(e) = state_entry(bytes, state, now) else {
        return Err(StoreError::Corrupt("envelope"));
    };
    let period = e.billed_period();
    tx.execute(
        "INSERT INTO states(sender, recipient, message_id, class, state, time, period)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            &e.sender.0[..],
            &e.recipient.0[..],
            &e.message_id.0[..],
            e.class.to_byte(),
            e.state.to_byte(),
            to_sql(e.time),
            period
        ],
    )
    .map_err(backend)?;
    if period.is_some() {
        tx.execute(
            "INSERT INTO metering(business, notifications) VALUES (?1, 1)
             ON CONFLICT(business) DO UPDATE SET notifications = notifications + 1",
            params![&e.sender.0[..]],
        )
        .map_err(backend)?;
    }
    Ok(())
}

/// Reads the state entries a query selects (columns `seq, sender,
/// recipient, message_id, class, state, time`), decoding each strictly.
fn read_states(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
) -> Result<Vec<StateEntry>, StoreError> {
    type Row = (i64, Vec<u8>, Vec<u8>, Vec<u8>, u8, u8, i64);
    let mut stmt = conn.prepare(sql).map_err(backend)?;
    let rows = stmt
        .query_map(p, |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .map_err(backend)?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, sender, recipient, message_id, class, state, time): Row = row.map_err(backend)?;
        out.push(StateEntry {
            sequence: from_sql(seq),
            sender: account_id(sender)?,
            recipient: account_id(recipient)?,
            message_id: MessageId(
                message_id
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("state"))?,
            ),
            class: MessageClass::from_byte(class).map_err(|_| StoreError::Corrupt("state"))?,
            state: DeliveryState::from_byte(state).ok_or(StoreError::Corrupt("state"))?,
            time: from_sql(time),
        });
    }
    Ok(out)
}

fn erased_at(tx: &Connection, id: &AccountId) -> Result<Option<u64>, StoreError> {
    let at: Option<i64> = tx
        .query_row(
            "SELECT at FROM erased WHERE id = ?1",
            params![&id.0[..]],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    Ok(at.map(from_sql))
}

fn read_pair(
    tx: &Connection,
    customer: &AccountId,
    business: &AccountId,
) -> Result<PairState, StoreError> {
    let key = params![&customer.0[..], &business.0[..]];
    let consent: Option<Vec<u8>> = tx
        .query_row(
            "SELECT record FROM consents WHERE customer = ?1 AND business = ?2
             ORDER BY time DESC LIMIT 1",
            key,
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    let block = |table: &str| -> Result<Option<BlockRecord>, StoreError> {
        let bytes: Option<Vec<u8>> = tx
            .query_row(
                &format!("SELECT record FROM {table} WHERE customer = ?1 AND business = ?2"),
                key,
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        bytes
            .map(|b| BlockRecord::from_bytes(&b).map_err(|_| StoreError::Corrupt("block")))
            .transpose()
    };
    let last: Option<i64> = tx
        .query_row(
            "SELECT last FROM windows WHERE customer = ?1 AND business = ?2",
            key,
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    Ok(PairState {
        consent: consent
            .map(|b| ConsentRecord::from_bytes(&b).map_err(|_| StoreError::Corrupt("consent")))
            .transpose()?,
        block: block("blocks")?,
        business_block: block("business_blocks")?,
        last_customer_message: last.map(from_sql),
    })
}

/// The pair's record in force of one kind, with the effective time it is
/// ordered at (the `time` column, SPEC.md 14.6).
fn last_record(
    tx: &Connection,
    table: &str,
    customer: &AccountId,
    business: &AccountId,
) -> Result<Option<(Vec<u8>, u64)>, StoreError> {
    let row: Option<(Vec<u8>, i64)> = tx
        .query_row(
            &format!(
                "SELECT record, time FROM {table} WHERE customer = ?1 AND business = ?2
                 ORDER BY time DESC LIMIT 1"
            ),
            params![&customer.0[..], &business.0[..]],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(backend)?;
    Ok(row.map(|(b, t)| (b, from_sql(t))))
}

impl RelayStore for SqliteStore {
    fn register(&self, account: &AccountRecord, counter: u64) -> Result<bool, StoreError> {
        self.tx(|tx| {
            let kind = match account.kind {
                AccountKind::Customer => 0,
                AccountKind::Business => 1,
            };
            if erased_at(tx, &account.id())?.is_some() {
                return Ok(false);
            }
            let n = tx
                .execute(
                    "INSERT OR IGNORE INTO accounts(id, kind, identity, chain, name, counter)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        &account.id().0[..],
                        kind,
                        &account.identity.to_bytes()[..],
                        &account.certificate_chain,
                        &account.name,
                        to_sql(counter)
                    ],
                )
                .map_err(backend)?;
            Ok(n == 1)
        })
    }

    fn account(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        let conn = self.conn();
        let row: Option<(i64, Vec<u8>, Vec<u8>, String)> = conn
            .query_row(
                "SELECT kind, identity, chain, name FROM accounts WHERE id = ?1",
                params![&id.0[..]],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(backend)?;
        let Some((kind, identity, chain, name)) = row else {
            return Ok(None);
        };
        let kind = match kind {
            0 => AccountKind::Customer,
            1 => AccountKind::Business,
            _ => return Err(StoreError::Corrupt("account kind")),
        };
        let identity =
            IdentityKey::from_bytes(&identity).map_err(|_| StoreError::Corrupt("identity"))?;
        if AccountId::of(&identity) != *id {
            return Err(StoreError::Corrupt("identity"));
        }
        Ok(Some(AccountRecord {
            kind,
            identity,
            certificate_chain: chain,
            name,
        }))
    }

    fn renew_business(&self, id: &AccountId, chain: &[u8], name: &str) -> Result<bool, StoreError> {
        self.tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE accounts SET chain = ?2, name = ?3 WHERE id = ?1 AND kind = 1",
                    params![&id.0[..], chain, name],
                )
                .map_err(backend)?;
            if n == 1 {
                tx.execute(
                    "DELETE FROM statuses WHERE account = ?1",
                    params![&id.0[..]],
                )
                .map_err(backend)?;
            }
            Ok(n == 1)
        })
    }

    fn put_status(
        &self,
        id: &AccountId,
        this_update: u64,
        status: &[u8],
    ) -> Result<bool, StoreError> {
        self.tx(|tx| {
            let held: Option<i64> = tx
                .query_row(
                    "SELECT this_update FROM statuses WHERE account = ?1",
                    params![&id.0[..]],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            if held.is_some_and(|t| from_sql(t) >= this_update) {
                return Ok(false);
            }
            tx.execute(
                "INSERT OR REPLACE INTO statuses(account, this_update, status) VALUES (?1, ?2, ?3)",
                params![&id.0[..], to_sql(this_update), status],
            )
            .map_err(backend)?;
            Ok(true)
        })
    }

    fn status(&self, id: &AccountId) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn()
            .query_row(
                "SELECT status FROM statuses WHERE account = ?1",
                params![&id.0[..]],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)
    }

    fn businesses(&self) -> Result<Vec<AccountRecord>, StoreError> {
        let ids: Vec<Vec<u8>> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare("SELECT id FROM accounts WHERE kind = 1 ORDER BY id")
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| r.get::<_, Vec<u8>>(0))
                .map_err(backend)?;
            rows.collect::<Result<_, _>>().map_err(backend)?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let id = AccountId(
                id.try_into()
                    .map_err(|_| StoreError::Corrupt("account id"))?,
            );
            if let Some(a) = self.account(&id)? {
                out.push(a);
            }
        }
        Ok(out)
    }

    fn advance_counter(&self, id: &AccountId, counter: u64) -> Result<Result<(), u64>, StoreError> {
        self.tx(|tx| {
            let last: i64 = tx
                .query_row(
                    "SELECT counter FROM accounts WHERE id = ?1",
                    params![&id.0[..]],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            let last = from_sql(last);
            if counter <= last {
                return Ok(Err(last));
            }
            tx.execute(
                "UPDATE accounts SET counter = ?2 WHERE id = ?1",
                params![&id.0[..], to_sql(counter)],
            )
            .map_err(backend)?;
            Ok(Ok(()))
        })
    }

    fn add_prekeys(
        &self,
        id: &AccountId,
        upload: &PreKeyUpload,
        max_per_kind: usize,
    ) -> Result<UploadOutcome, StoreError> {
        self.tx(|tx| {
            if erased_at(tx, id)?.is_some() {
                return Err(StoreError::Backend(ERASED_DURING_SEND.into()));
            }
            let spent = |slot: i64| -> Result<Option<u32>, StoreError> {
                let high: Option<i64> = tx
                    .query_row(
                        "SELECT high FROM spent_prekeys WHERE account = ?1 AND slot = ?2",
                        params![&id.0[..], slot],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(backend)?;
                high.map(|h| u32::try_from(h).map_err(|_| StoreError::Corrupt("handed-out prekey mark")))
                    .transpose()
            };
            if let Some(refused) =
                UploadOutcome::check_spent(upload, spent(SLOT_ONE_TIME)?, spent(SLOT_KEM)?)
            {
                return Ok(refused);
            }
            let count = |slot: i64, ids: &mut dyn Iterator<Item = u32>| -> Result<usize, StoreError> {
                let existing: i64 = tx
                    .query_row(
                        "SELECT COUNT(*) FROM prekeys WHERE account = ?1 AND slot = ?2",
                        params![&id.0[..], slot],
                        |r| r.get(0),
                    )
                    .map_err(backend)?;
                let mut new = std::collections::HashSet::new();
                for k in ids {
                    let exists: bool = tx
                        .query_row(
                            "SELECT EXISTS(SELECT 1 FROM prekeys WHERE account = ?1 AND slot = ?2 AND id = ?3)",
                            params![&id.0[..], slot, i64::from(k)],
                            |r| r.get(0),
                        )
                        .map_err(backend)?;
                    if !exists {
                        new.insert(k);
                    }
                }
                Ok(usize::try_from(existing).unwrap_or(usize::MAX) + new.len())
            };
            if count(SLOT_ONE_TIME, &mut upload.one_time_prekeys.iter().map(|k| k.id))?
                > max_per_kind
                || count(SLOT_KEM, &mut upload.kem_prekeys.iter().map(|k| k.id))? > max_per_kind
            {
                return Ok(UploadOutcome::TooMany);
            }
            let put = |slot: i64, kid: u32, data: Vec<u8>| -> Result<(), StoreError> {
                tx.execute(
                    "INSERT OR REPLACE INTO prekeys(account, slot, id, data) VALUES (?1, ?2, ?3, ?4)",
                    params![&id.0[..], slot, i64::from(kid), data],
                )
                .map_err(backend)?;
                Ok(())
            };
            let replace_single = |slot: i64| -> Result<(), StoreError> {
                tx.execute(
                    "DELETE FROM prekeys WHERE account = ?1 AND slot = ?2",
                    params![&id.0[..], slot],
                )
                .map_err(backend)?;
                Ok(())
            };
            if let Some(k) = &upload.signed_prekey {
                replace_single(SLOT_SIGNED)?;
                let mut d = Vec::new();
                k.encode_into(&mut d);
                put(SLOT_SIGNED, k.id, d)?;
            }
            if let Some(k) = &upload.last_resort_kem_prekey {
                replace_single(SLOT_LAST_RESORT)?;
                let mut d = Vec::new();
                k.encode_into(&mut d);
                put(SLOT_LAST_RESORT, k.id, d)?;
            }
            for k in &upload.one_time_prekeys {
                let mut d = Vec::new();
                k.encode_into(&mut d);
                put(SLOT_ONE_TIME, k.id, d)?;
            }
            for k in &upload.kem_prekeys {
                let mut d = Vec::new();
                k.encode_into(&mut d);
                put(SLOT_KEM, k.id, d)?;
            }
            Ok(UploadOutcome::Stored)
        })
    }

    fn take_bundle_parts(
        &self,
        id: &AccountId,
        one_time: bool,
    ) -> Result<Option<BundleParts>, StoreError> {
        self.tx(|tx| {
            let first = |slot: i64| -> Result<Option<(i64, Vec<u8>)>, StoreError> {
                tx.query_row(
                    "SELECT id, data FROM prekeys WHERE account = ?1 AND slot = ?2
                     ORDER BY id LIMIT 1",
                    params![&id.0[..], slot],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(backend)
            };
            let take = |slot: i64, kid: i64| -> Result<(), StoreError> {
                tx.execute(
                    "DELETE FROM prekeys WHERE account = ?1 AND slot = ?2 AND id = ?3",
                    params![&id.0[..], slot, kid],
                )
                .map_err(backend)?;
                Ok(())
            };
            // The handed-out mark of SPEC.md 14.8: raised in the same
            // transaction that deletes the prekey.
            let mark = |slot: i64, kid: i64| -> Result<(), StoreError> {
                tx.execute(
                    "INSERT INTO spent_prekeys(account, slot, high) VALUES (?1, ?2, ?3)
                     ON CONFLICT(account, slot) DO UPDATE SET high = max(high, excluded.high)",
                    params![&id.0[..], slot, kid],
                )
                .map_err(backend)?;
                Ok(())
            };
            let (Some((_, signed)), Some((_, last_resort))) =
                (first(SLOT_SIGNED)?, first(SLOT_LAST_RESORT)?)
            else {
                return Ok(None);
            };
            let signed_prekey = decode_prekey(&signed, SignedPreKeyPublic::read)?;
            if !one_time {
                return Ok(Some(BundleParts {
                    signed_prekey,
                    one_time_prekey: None,
                    kem_prekey: decode_prekey(&last_resort, KemPreKeyPublic::read)?,
                }));
            }
            let one_time_prekey = match first(SLOT_ONE_TIME)? {
                Some((kid, data)) => {
                    take(SLOT_ONE_TIME, kid)?;
                    mark(SLOT_ONE_TIME, kid)?;
                    Some(decode_prekey(&data, OneTimePreKeyPublic::read)?)
                }
                None => None,
            };
            let kem_prekey = match first(SLOT_KEM)? {
                Some((kid, data)) => {
                    take(SLOT_KEM, kid)?;
                    mark(SLOT_KEM, kid)?;
                    decode_prekey(&data, KemPreKeyPublic::read)?
                }
                None => decode_prekey(&last_resort, KemPreKeyPublic::read)?,
            };
            Ok(Some(BundleParts {
                signed_prekey,
                one_time_prekey,
                kem_prekey,
            }))
        })
    }

    fn prekey_counts(&self, id: &AccountId) -> Result<(usize, usize), StoreError> {
        let conn = self.conn();
        let count = |slot: i64| -> Result<usize, StoreError> {
            let n: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM prekeys WHERE account = ?1 AND slot = ?2",
                    params![&id.0[..], slot],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            Ok(usize::try_from(n).unwrap_or(0))
        };
        Ok((count(SLOT_ONE_TIME)?, count(SLOT_KEM)?))
    }

    fn is_stored(
        &self,
        recipient: &AccountId,
        sender: &AccountId,
        message_id: &MessageId,
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.tx(|tx| {
            expire_recipient(tx, recipient, limits, now)?;
            tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM mailbox WHERE recipient = ?1 AND sender = ?2 AND message_id = ?3)
                 OR EXISTS(SELECT 1 FROM delivered WHERE recipient = ?1 AND sender = ?2 AND message_id = ?3)",
                params![&recipient.0[..], &sender.0[..], &message_id.0[..]],
                |row| row.get(0),
            )
            .map_err(backend)
        })
    }

    fn enqueue(
        &self,
        envelope: &StoredEnvelope,
        effects: SendEffects,
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<EnqueueOutcome, StoreError> {
        self.tx(|tx| {
            let r = &envelope.recipient.0[..];
            let s = &envelope.sender.0[..];
            let m = &envelope.message_id.0[..];
            if erased_at(tx, &envelope.recipient)?.is_some()
                || erased_at(tx, &envelope.sender)?.is_some()
            {
                return Err(StoreError::Backend(ERASED_DURING_SEND.into()));
            }
            expire_recipient(tx, &envelope.recipient, limits, now)?;
            let dup: bool = tx
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM mailbox WHERE recipient = ?1 AND sender = ?2 AND message_id = ?3)
                     OR EXISTS(SELECT 1 FROM delivered WHERE recipient = ?1 AND sender = ?2 AND message_id = ?3)",
                    params![r, s, m],
                    |row| row.get(0),
                )
                .map_err(backend)?;
            if dup {
                return Ok(EnqueueOutcome::Duplicate);
            }
            // Both counted in this transaction, so the quotas hold under
            // concurrent sends. The per-sender count uses the index of the
            // (recipient, sender, message_id) uniqueness constraint.
            let usage = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<(usize, usize), StoreError> {
                let (count, bytes): (i64, i64) = tx
                    .query_row(sql, p, |row| Ok((row.get(0)?, row.get(1)?)))
                    .map_err(backend)?;
                Ok((
                    usize::try_from(count).unwrap_or(usize::MAX),
                    usize::try_from(bytes).unwrap_or(usize::MAX),
                ))
            };
            let all = usage(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(envelope)), 0) FROM mailbox WHERE recipient = ?1",
                &[&r],
            )?;
            let share = usage(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(envelope)), 0) FROM mailbox
                 WHERE recipient = ?1 AND sender = ?2",
                &[&r, &s],
            )?;
            if let Some(refused) =
                EnqueueOutcome::check_limits(limits, envelope.bytes.len(), all, share)
            {
                return Ok(refused);
            }
            tx.execute(
                "INSERT INTO mailbox(recipient, sender, message_id, received_at, envelope)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![r, s, m, to_sql(envelope.received_at), &envelope.bytes],
            )
            .map_err(backend)?;
            let seq = from_sql(tx.last_insert_rowid());
            if let Some((c, b)) = effects.open_window {
                tx.execute(
                    "INSERT OR REPLACE INTO windows(customer, business, last) VALUES (?1, ?2, ?3)",
                    params![&c.0[..], &b.0[..], to_sql(envelope.received_at)],
                )
                .map_err(backend)?;
            }
            Ok(EnqueueOutcome::Stored(seq))
        })
    }

    fn fetch(
        &self,
        recipient: &AccountId,
        max: usize,
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<(Vec<Delivery>, bool), StoreError> {
        self.tx(|tx| {
            expire_recipient(tx, recipient, limits, now)?;
            let mut stmt = tx
                .prepare(
                    "SELECT seq, received_at, envelope FROM mailbox WHERE recipient = ?1
                     ORDER BY seq LIMIT ?2",
                )
                .map_err(backend)?;
            let limit = i64::try_from(max).unwrap_or(i64::MAX).saturating_add(1);
            let rows = stmt
                .query_map(params![&recipient.0[..], limit], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                    ))
                })
                .map_err(backend)?;
            let mut out = Vec::new();
            let mut more = false;
            for row in rows {
                let (seq, at, bytes) = row.map_err(backend)?;
                if out.len() == max {
                    more = true;
                    break;
                }
                let envelope =
                    Envelope::from_bytes(&bytes).map_err(|_| StoreError::Corrupt("envelope"))?;
                if envelope.header.recipient != *recipient {
                    return Err(StoreError::Corrupt("envelope"));
                }
                out.push(Delivery {
                    id: from_sql(seq),
                    received_at: from_sql(at),
                    stamp: Default::default(),
                    envelope,
                });
            }
            Ok((out, more))
        })
    }

    fn acknowledge(
        &self,
        recipient: &AccountId,
        ids: &[u64],
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<usize, StoreError> {
        self.tx(|tx| {
            let r = &recipient.0[..];
            let mut removed = 0;
            for id in ids {
                let row: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> = tx
                    .query_row(
                        "DELETE FROM mailbox WHERE recipient = ?1 AND seq = ?2
                         RETURNING sender, message_id, envelope",
                        params![r, to_sql(*id)],
                        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                    )
                    .optional()
                    .map_err(backend)?;
                if let Some((sender, message_id, envelope)) = row {
                    removed += 1;
                    log_state(tx, &envelope, DeliveryState::Delivered, now)?;
                    tx.execute(
                        "INSERT OR REPLACE INTO delivered(recipient, sender, message_id, at)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![r, sender, message_id, to_sql(now)],
                    )
                    .map_err(backend)?;
                }
            }
            if removed > 0 {
                tx.execute(
                    "DELETE FROM delivered WHERE recipient = ?1 AND rowid NOT IN
                     (SELECT rowid FROM delivered WHERE recipient = ?1
                      ORDER BY at DESC, rowid DESC LIMIT ?2)",
                    params![r, i64::try_from(limits.remembered_ids).unwrap_or(i64::MAX)],
                )
                .map_err(backend)?;
            }
            Ok(removed)
        })
    }

    fn expire(&self, limits: &MailboxLimits, now: u64) -> Result<usize, StoreError> {
        self.tx(|tx| {
            let cutoff = to_sql(now.saturating_sub(limits.ttl_secs));
            let n = delete_logged(
                tx,
                "DELETE FROM mailbox WHERE received_at <= ?1 RETURNING seq, received_at, envelope",
                params![cutoff],
                DeliveryState::Expired,
                |at| at.saturating_add(limits.ttl_secs),
            )?;
            if let Some(kept) = now.checked_sub(STATE_RETENTION_SECS) {
                tx.execute("DELETE FROM states WHERE time <= ?1", params![to_sql(kept)])
                    .map_err(backend)?;
            }
            tx.execute("DELETE FROM delivered WHERE at <= ?1", params![cutoff])
                .map_err(backend)?;
            // Minimisation (SPEC.md 14.15): closed windows, and the consent
            // evidence of accounts erased longer ago than the retention.
            if let Some(closed) = now.checked_sub(CHAT_WINDOW_SECS) {
                tx.execute(
                    "DELETE FROM windows WHERE last < ?1",
                    params![to_sql(closed)],
                )
                .map_err(backend)?;
            }
            if let Some(kept) = now.checked_sub(CONSENT_RETENTION_SECS) {
                tx.execute(
                    "DELETE FROM consents WHERE customer IN (SELECT id FROM erased WHERE at <= ?1)",
                    params![to_sql(kept)],
                )
                .map_err(backend)?;
            }
            Ok(n)
        })
    }

    fn pair(&self, customer: &AccountId, business: &AccountId) -> Result<PairState, StoreError> {
        read_pair(&self.conn(), customer, business)
    }

    fn put_consent(
        &self,
        record: &ConsentRecord,
        effective: u64,
        history: usize,
    ) -> Result<bool, StoreError> {
        self.tx(|tx| {
            let (c, b) = (&record.customer().0[..], &record.business().0[..]);
            if let Some((bytes, at)) =
                last_record(tx, "consents", &record.customer(), &record.business())?
            {
                let last = ConsentRecord::from_bytes(&bytes)
                    .map_err(|_| StoreError::Corrupt("consent"))?;
                if !record.supersedes(effective, &last, at) {
                    return Ok(false);
                }
            }
            // A record that wins a tie of effective times replaces the one
            // it beat: the history is keyed by effective time.
            tx.execute(
                "INSERT OR REPLACE INTO consents(customer, business, time, record)
                 VALUES (?1, ?2, ?3, ?4)",
                params![c, b, to_sql(effective), record.to_bytes()],
            )
            .map_err(backend)?;
            tx.execute(
                "DELETE FROM consents WHERE customer = ?1 AND business = ?2 AND time NOT IN
                 (SELECT time FROM consents WHERE customer = ?1 AND business = ?2
                  ORDER BY time DESC LIMIT ?3)",
                params![c, b, i64::try_from(history.max(1)).unwrap_or(i64::MAX)],
            )
            .map_err(backend)?;
            Ok(true)
        })
    }

    fn put_block(&self, record: &BlockRecord, effective: u64) -> Result<bool, StoreError> {
        let by_business = record.blocker() == AccountKind::Business;
        let table = if by_business {
            "business_blocks"
        } else {
            "blocks"
        };
        self.tx(|tx| {
            if let Some((bytes, at)) =
                last_record(tx, table, &record.customer(), &record.business())?
            {
                let last =
                    BlockRecord::from_bytes(&bytes).map_err(|_| StoreError::Corrupt("block"))?;
                if !record.supersedes(effective, &last, at) {
                    return Ok(false);
                }
            }
            tx.execute(
                &format!(
                    "INSERT OR REPLACE INTO {table}(customer, business, time, record)
                     VALUES (?1, ?2, ?3, ?4)"
                ),
                params![
                    &record.customer().0[..],
                    &record.business().0[..],
                    to_sql(effective),
                    record.to_bytes()
                ],
            )
            .map_err(backend)?;
            if record.blocked() {
                // In the same transaction: the blocked party's undelivered
                // envelopes to the blocker go, each logged for its sender
                // (SPEC.md 14.6, 14.16). None was billed: billing happens
                // at delivery.
                let (customer, business) = (&record.customer().0[..], &record.business().0[..]);
                let (c, b) = if by_business {
                    (business, customer)
                } else {
                    (customer, business)
                };
                delete_logged(
                    tx,
                    "DELETE FROM mailbox WHERE recipient = ?1 AND sender = ?2
                     RETURNING seq, received_at, envelope",
                    params![c, b],
                    DeliveryState::DeletedByBlock,
                    |_| effective,
                )?;
            }
            Ok(true)
        })
    }

    fn consent_history(
        &self,
        customer: &AccountId,
        business: &AccountId,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT record FROM consents WHERE customer = ?1 AND business = ?2 ORDER BY time",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![&customer.0[..], &business.0[..]], |r| {
                r.get::<_, Vec<u8>>(0)
            })
            .map_err(backend)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(
                ConsentRecord::from_bytes(&row.map_err(backend)?)
                    .map_err(|_| StoreError::Corrupt("consent"))?,
            );
        }
        Ok(out)
    }

    fn notification_counts(&self) -> Result<Vec<(AccountId, u64)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT business, notifications FROM metering ORDER BY business")
            .map_err(backend)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?)))
            .map_err(backend)?;
        let mut out = Vec::new();
        for row in rows {
            let (b, n) = row.map_err(backend)?;
            out.push((account_id(b)?, from_sql(n)));
        }
        Ok(out)
    }

    fn put_report(&self, report: &StoredReport) -> Result<bool, StoreError> {
        self.tx(|tx| {
            if let Some(cut) = report.time.checked_sub(REPORT_RETENTION_SECS) {
                tx.execute("DELETE FROM reports WHERE time <= ?1", params![to_sql(cut)])
                    .map_err(backend)?;
            }
            let n = tx
                .execute(
                    "INSERT INTO reports(business, customer, message_id, time, report)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                    params![
                        &report.business.0[..],
                        &report.customer.0[..],
                        &report.message_id.0[..],
                        to_sql(report.time),
                        &report.bytes
                    ],
                )
                .map_err(backend)?;
            Ok(n == 1)
        })
    }

    fn reporters(&self, business: &AccountId, since: u64) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn()
            .query_row(
                "SELECT COUNT(DISTINCT customer) FROM reports WHERE business = ?1 AND time >= ?2",
                params![&business.0[..], to_sql(since)],
                |r| r.get(0),
            )
            .map_err(backend)?;
        Ok(from_sql(n))
    }

    fn reach(
        &self,
        business: &AccountId,
        customer: &AccountId,
        since: u64,
    ) -> Result<(bool, u64), StoreError> {
        let (this, count): (i64, i64) = self
            .conn()
            .query_row(
                "SELECT COALESCE(SUM(customer = ?2), 0), COUNT(*) FROM reaches
                 WHERE business = ?1 AND time >= ?3",
                params![&business.0[..], &customer.0[..], to_sql(since)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(backend)?;
        Ok((this > 0, from_sql(count)))
    }

    fn note_reach(
        &self,
        business: &AccountId,
        customer: &AccountId,
        now: u64,
    ) -> Result<(), StoreError> {
        self.tx(|tx| {
            if let Some(cut) = now.checked_sub(REACH_WINDOW_SECS) {
                tx.execute(
                    "DELETE FROM reaches WHERE business = ?1 AND time <= ?2",
                    params![&business.0[..], to_sql(cut)],
                )
                .map_err(backend)?;
            }
            tx.execute(
                "INSERT INTO reaches(business, customer, time) VALUES (?1, ?2, ?3)
                 ON CONFLICT(business, customer) DO UPDATE SET time = MAX(time, excluded.time)",
                params![&business.0[..], &customer.0[..], to_sql(now)],
            )
            .map_err(backend)?;
            Ok(())
        })
    }

    fn states(
        &self,
        sender: &AccountId,
        after: u64,
        max: usize,
    ) -> Result<(Vec<StateEntry>, bool), StoreError> {
        let limit = i64::try_from(max).unwrap_or(i64::MAX).saturating_add(1);
        let mut out = read_states(
            &self.conn(),
            "SELECT seq, sender, recipient, message_id, class, state, time FROM states
             WHERE sender = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            params![&sender.0[..], to_sql(after), limit],
        )?;
        let more = out.len() > max;
        out.truncate(max);
        Ok((out, more))
    }

    fn billed(&self, sender: &AccountId, period: u32) -> Result<Vec<StateEntry>, StoreError> {
        let out = read_states(
            &self.conn(),
            "SELECT seq, sender, recipient, message_id, class, state, time FROM states
             WHERE sender = ?1 AND period = ?2 ORDER BY seq",
            params![&sender.0[..], period],
        )?;
        // The period column is derived; what the rows say decides.
        if out.iter().any(|e| e.billed_period() != Some(period)) {
            return Err(StoreError::Corrupt("state"));
        }
        Ok(out)
    }

    fn delete_account(&self, id: &AccountId, now: u64) -> Result<bool, StoreError> {
        self.tx(|tx| {
            let a = &id.0[..];
            let n = tx
                .execute(
                    "DELETE FROM accounts WHERE id = ?1 AND kind = 0",
                    params![a],
                )
                .map_err(backend)?;
            if n == 0 {
                return Ok(false);
            }
            delete_logged(
                tx,
                "DELETE FROM mailbox WHERE recipient = ?1 RETURNING seq, received_at, envelope",
                params![a],
                DeliveryState::DeletedByErasure,
                |_| now,
            )?;
            for sql in [
                "DELETE FROM prekeys WHERE account = ?1",
                "DELETE FROM spent_prekeys WHERE account = ?1",
                "DELETE FROM states WHERE sender = ?1",
                "DELETE FROM delivered WHERE recipient = ?1",
                "DELETE FROM windows WHERE customer = ?1",
                "DELETE FROM blocks WHERE customer = ?1",
                "DELETE FROM business_blocks WHERE customer = ?1",
                "DELETE FROM statuses WHERE account = ?1",
            ] {
                tx.execute(sql, params![a]).map_err(backend)?;
            }
            tx.execute(
                "INSERT INTO erased(id, at) VALUES (?1, ?2)",
                params![a, to_sql(now)],
            )
            .map_err(backend)?;
            Ok(true)
        })
    }

    fn deleted_at(&self, id: &AccountId) -> Result<Option<u64>, StoreError> {
        erased_at(&self.conn(), id)
    }

    fn dump(&self) -> Result<Vec<u8>, StoreError> {
        let conn = self.conn();
        let mut out = Vec::new();
        for (table, cols) in [
            ("accounts", "identity, chain, CAST(name AS BLOB)"),
            ("prekeys", "data, data, data"),
            ("mailbox", "envelope, sender, message_id"),
            ("consents", "record, record, record"),
            ("blocks", "record, record, record"),
            ("business_blocks", "record, record, record"),
            ("statuses", "status, status, status"),
            ("reports", "report, report, report"),
        ] {
            let mut stmt = conn
                .prepare(&format!("SELECT {cols} FROM {table}"))
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok([
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                    ])
                })
                .map_err(backend)?;
            for row in rows {
                for col in row.map_err(backend)? {
                    out.extend_from_slice(&col);
                }
            }
        }
        Ok(out)
    }
}

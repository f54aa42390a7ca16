//! A durable record backend on SQLite (the `sqlite` feature).
//!
//! One table of sealed records; [`RecordBackend::put_all`] is one
//! transaction, and the database runs in WAL mode with `synchronous = FULL`,
//! so a commit that returned survives a crash of the process or the machine,
//! and one that did not return left nothing behind.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::store::record::StorageKey;
use crate::store::traits::{EncryptedStore, RecordBackend, RecordWrite, StoreError, StoredRecord};

/// Sealed records in a SQLite database.
pub struct SqliteBackend {
    conn: Connection,
}

impl core::fmt::Debug for SqliteBackend {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SqliteBackend").finish_non_exhaustive()
    }
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Versioned schema migrations, applied in order inside one transaction
/// each; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: sealed records by (kind, name).
    "CREATE TABLE IF NOT EXISTS hotline_records (
        kind INTEGER NOT NULL,
        name BLOB NOT NULL,
        record BLOB NOT NULL,
        PRIMARY KEY (kind, name)
    ) WITHOUT ROWID;",
    // 2: a version per record, for compare-and-swap writes. Records written
    // before it start at version 1.
    "ALTER TABLE hotline_records ADD COLUMN version INTEGER NOT NULL DEFAULT 1;",
];

impl SqliteBackend {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(backend)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        Self::init(conn)
    }

    /// A database in memory (for tests).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(backend)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
        migrate(&mut conn)?;
        Ok(Self { conn })
    }
}

/// How long a writer waits for another process's transaction.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    let done: i64 = tx
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(backend)?;
    let done = usize::try_from(done).unwrap_or(usize::MAX);
    if done > MIGRATIONS.len() {
        return Err(StoreError::Backend(
            format!("database schema version {done} is newer than this build knows").into(),
        ));
    }
    // A database made before versioning has the table of migration 1 but
    // user_version 0; migration 1 is idempotent, and a table that already
    // has the version column skips migration 2.
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        if i == 1 && has_version_column(&tx)? {
            continue;
        }
        tx.execute_batch(sql).map_err(backend)?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)
        .map_err(backend)?;
    tx.commit().map_err(backend)
}

fn has_version_column(conn: &Connection) -> Result<bool, StoreError> {
    let mut stmt = conn
        .prepare("SELECT 1 FROM pragma_table_info('hotline_records') WHERE name = 'version'")
        .map_err(backend)?;
    stmt.exists([]).map_err(backend)
}

impl RecordBackend for SqliteBackend {
    fn get(&self, kind: u8, name: &[u8]) -> Result<Option<StoredRecord>, StoreError> {
        self.conn
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
        // IMMEDIATE takes the write lock before the version checks, so no
        // other process can write between the check and the write (a
        // deferred transaction would upgrade its read lock too late).
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        {
            let mut check = tx
                .prepare_cached("SELECT version FROM hotline_records WHERE kind = ?1 AND name = ?2")
                .map_err(backend)?;
            for w in records {
                let current: Option<i64> = check
                    .query_row(params![w.kind, w.name], |row| row.get(0))
                    .optional()
                    .map_err(backend)?;
                if current.map_or(0, |v| v as u64) != w.expected_version {
                    // Dropping the transaction rolls it back: nothing written.
                    return Err(StoreError::Conflict { kind: w.kind });
                }
            }
            let mut stmt = tx
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
        }
        tx.commit().map_err(backend)
    }
}

/// The client stores in a SQLite database, sealed under a storage key.
pub type SqliteStore = EncryptedStore<SqliteBackend>;

impl EncryptedStore<SqliteBackend> {
    /// Opens (creating if needed) the database at `path`, sealing under `key`.
    ///
    /// ```
    /// use hotline::store::{Client, SqliteStore, StorageKey};
    /// let dir = std::env::temp_dir().join(format!("hotline-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("client.db");
    /// let key = StorageKey::generate(&mut rand::rng());
    /// let client = Client::create(SqliteStore::open(&path, key.clone())?, 2, 2, &mut rand::rng())?;
    /// let identity = client.identity();
    /// drop(client);
    /// let client = Client::open(SqliteStore::open(&path, key)?)?;
    /// assert_eq!(client.identity(), identity);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(path: impl AsRef<Path>, key: StorageKey) -> Result<Self, StoreError> {
        Ok(Self::new(key, SqliteBackend::open(path)?))
    }
}

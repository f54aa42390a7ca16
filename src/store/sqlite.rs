//! A durable record backend on SQLite (the `sqlite` feature).
//!
//! One table of sealed records; [`RecordBackend::put_all`] is one
//! transaction, and the database runs in WAL mode with `synchronous = FULL`,
//! so a commit that returned survives a crash of the process or the machine,
//! and one that did not return left nothing behind.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::record::StorageKey;
use crate::store::traits::{EncryptedStore, RecordBackend, RecordWrite, StoreError};

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

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS hotline_records (
    kind INTEGER NOT NULL,
    name BLOB NOT NULL,
    record BLOB NOT NULL,
    PRIMARY KEY (kind, name)
) WITHOUT ROWID;";

impl SqliteBackend {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        Self::init(conn)
    }

    /// A database in memory (for tests).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        Ok(Self { conn })
    }
}

impl RecordBackend for SqliteBackend {
    fn get(&self, kind: u8, name: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn
            .prepare_cached("SELECT record FROM hotline_records WHERE kind = ?1 AND name = ?2")
            .map_err(backend)?
            .query_row(params![kind, name], |row| row.get::<_, Vec<u8>>(0))
            .optional()
            .map_err(backend)
    }

    fn put_all(&mut self, records: &[RecordWrite]) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(backend)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO hotline_records (kind, name, record) VALUES (?1, ?2, ?3)",
                )
                .map_err(backend)?;
            for w in records {
                stmt.execute(params![w.kind, w.name, w.record])
                    .map_err(backend)?;
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

//! What the server is configured with: the database and the limits.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::postgres::{PostgresConfig, PostgresStore};
use hotline::constants::MAX_REQUEST_BODY_LEN;
use hotline::relay::{
    CertificateValidator, MemoryStore, Relay, RelayStore, SqliteStore, SystemClock,
};

/// Where the relay keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// In memory: lost on restart (tests and demos).
    Memory,
    /// An SQLite database file, created if missing (WAL, full sync).
    Sqlite(PathBuf),
    /// A PostgreSQL database, shared by every node of the service.
    Postgres(PostgresConfig),
}

impl Database {
    /// The PostgreSQL configuration, for a database on PostgreSQL.
    pub fn postgres(&self) -> Option<&PostgresConfig> {
        match self {
            Self::Postgres(c) => Some(c),
            _ => None,
        }
    }
}

/// A `--db` value that names no database this relay can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseError {
    /// Neither `memory`, `sqlite:PATH` nor a PostgreSQL URL.
    #[error("unsupported database {0:?}: use sqlite:PATH, postgres://... or memory")]
    Unsupported(String),
    /// `sqlite:` with an empty path.
    #[error("sqlite: needs a path, as in sqlite:relay.db")]
    EmptyPath,
}

impl FromStr for Database {
    type Err = DatabaseError;

    /// `memory`, `sqlite:PATH` (also `sqlite://PATH`), or a PostgreSQL
    /// URL `postgres://...` (also `postgresql://...`; the relay's tables go
    /// to the schema `hotline`).
    ///
    /// ```
    /// use hotline_relay::{Database, PostgresConfig};
    /// assert_eq!("memory".parse(), Ok(Database::Memory));
    /// assert_eq!("sqlite:relay.db".parse(), Ok(Database::Sqlite("relay.db".into())));
    /// assert_eq!(
    ///     "postgres://root@127.0.0.1/test".parse(),
    ///     Ok(Database::Postgres(PostgresConfig::new("postgres://root@127.0.0.1/test")))
    /// );
    /// assert!("mysql://localhost/test".parse::<Database>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "memory" {
            return Ok(Self::Memory);
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Self::Postgres(PostgresConfig::new(s)));
        }
        let Some(path) = s.strip_prefix("sqlite:") else {
            return Err(DatabaseError::Unsupported(s.to_owned()));
        };
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            return Err(DatabaseError::EmptyPath);
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }
}

/// Limits the server applies before any expensive work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Largest request body (HTTP) or frame (WebSocket), in bytes. The
    /// default is the largest signed request the protocol allows.
    pub max_body: usize,
    /// Longest time a request may take, store work included.
    pub request_timeout: Duration,
    /// Most WebSocket connections at once; more are refused with 503.
    pub max_connections: usize,
    /// A WebSocket that neither sends nor answers a ping for this long is
    /// closed.
    pub idle_timeout: Duration,
    /// How often expired envelopes are deleted.
    pub expiry_interval: Duration,
    /// Most requests doing store work at once; more are answered 503
    /// ("busy") at once. With a slow database, this keeps queued work, and
    /// so memory, bounded: a request's store work runs to its end even
    /// after its deadline passed.
    pub max_in_flight: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            // Header (51) + body + signature (64), SPEC.md 14.2.
            max_body: 51 + MAX_REQUEST_BODY_LEN + 64,
            request_timeout: Duration::from_secs(10),
            max_connections: 10_000,
            idle_timeout: Duration::from_secs(120),
            expiry_interval: Duration::from_secs(60),
            max_in_flight: 256,
        }
    }
}

/// A relay over `db` on the system clock, judging businesses with
/// `validator`.
pub fn build_relay(
    db: &Database,
    validator: impl CertificateValidator + 'static,
) -> Result<Relay<Box<dyn RelayStore>>, hotline::relay::StoreError> {
    let store: Box<dyn RelayStore> = match db {
        Database::Memory => Box::new(MemoryStore::new()),
        Database::Sqlite(path) => Box::new(SqliteStore::open(path)?),
        Database::Postgres(config) => Box::new(PostgresStore::open(config)?),
    };
    Ok(Relay::new(store, SystemClock, validator))
}

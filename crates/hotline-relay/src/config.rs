//! What the server is configured with: the database and the limits.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::postgres::{PostgresConfig, PostgresStore};
use hotline::constants::MAX_REQUEST_BODY_LEN;
use hotline::relay::{
    CertificateValidator, MemoryStore, Relay, RelayKey, RelayStore, SqliteStore, SystemClock,
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

/// Why the relay's key file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file could not be read or created.
    #[error("relay key file {path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        error: std::io::Error,
    },
    /// The file does not hold 64 hexadecimal digits (a 32-byte seed).
    #[error("relay key file {0}: not 64 hexadecimal digits")]
    Malformed(PathBuf),
}

/// The relay's receipt key (SPEC.md 14.16) from `path`: the 32-byte seed as
/// 64 hexadecimal digits. A missing file is created, readable by its owner
/// only, with a fresh key, so receipts keep verifying across restarts;
/// every node of one service reads the same file.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("hotline-key-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("relay.key");
/// let first = hotline_relay::load_or_create_relay_key(&path)?;
/// let again = hotline_relay::load_or_create_relay_key(&path)?;
/// assert_eq!(first.public(), again.public());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_or_create_relay_key(path: &Path) -> Result<RelayKey, KeyFileError> {
    let io = |error| KeyFileError::Io {
        path: path.to_owned(),
        error,
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            let text =
                String::from_utf8(bytes).map_err(|_| KeyFileError::Malformed(path.into()))?;
            let mut seed = [0u8; 32];
            hex::decode_to_slice(text.trim(), &mut seed)
                .map_err(|_| KeyFileError::Malformed(path.into()))?;
            let key = RelayKey::from_seed(&seed);
            zeroize::Zeroize::zeroize(&mut seed);
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = RelayKey::generate(&mut hotline::rand::rng());
            // Written whole to a private temporary file, then linked into
            // place: a node starting at the same time never reads a
            // half-written key, and linking never replaces a key another
            // node put there first (that one is read instead).
            let mut tmp = path.as_os_str().to_owned();
            tmp.push(format!(
                ".{}.{:016x}.tmp",
                std::process::id(),
                hotline::rand::random::<u64>()
            ));
            let tmp = PathBuf::from(tmp);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let written = options.open(&tmp).and_then(|mut f| {
                use std::io::Write;
                let mut text = hex::encode(key.to_seed());
                text.push('\n');
                let result = f.write_all(text.as_bytes()).and_then(|()| f.sync_all());
                zeroize::Zeroize::zeroize(&mut text);
                result
            });
            let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
            let _ = std::fs::remove_file(&tmp);
            match linked {
                Ok(()) => Ok(key),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    load_or_create_relay_key(path)
                }
                Err(e) => Err(io(e)),
            }
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hotline-key-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("relay.key")
    }

    #[test]
    fn a_created_key_is_kept_private_and_read_back() {
        let path = temp("created");
        let key = load_or_create_relay_key(&path).unwrap();
        assert_eq!(
            load_or_create_relay_key(&path).unwrap().public(),
            key.public()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim(), hex::encode(key.to_seed()));
    }

    #[test]
    fn nodes_starting_together_agree_on_one_key() {
        let path = temp("race");
        let keys: Vec<[u8; 32]> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| load_or_create_relay_key(&path).unwrap().public().to_bytes()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(
            keys.windows(2).all(|w| w[0] == w[1]),
            "nodes disagree on the key"
        );
        let dir: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            dir,
            vec![std::ffi::OsString::from("relay.key")],
            "a temporary file stayed"
        );
    }

    #[test]
    fn a_malformed_key_file_is_refused_not_replaced() {
        let path = temp("malformed");
        for bad in ["", "zz", &"0".repeat(63), &"0".repeat(66)] {
            std::fs::write(&path, bad).unwrap();
            assert!(matches!(
                load_or_create_relay_key(&path),
                Err(KeyFileError::Malformed(_))
            ));
            assert_eq!(std::fs::read_to_string(&path).unwrap(), bad);
        }
        std::fs::write(&path, format!("{}\n", "ab".repeat(32))).unwrap();
        assert_eq!(
            load_or_create_relay_key(&path).unwrap().public(),
            RelayKey::from_seed(&[0xab; 32]).public()
        );
    }
}

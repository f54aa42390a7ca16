//! What a client is opened with.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hotline::IdentityKeyPair;
use hotline::business::{CertificateChain, TrustRoot};
use hotline::relay::{Clock, SystemClock};
use hotline::store::StorageKey;

/// Which kind of account the client holds at the relay.
#[derive(Debug, Clone)]
pub enum Role {
    /// A customer: registers with its identity alone.
    Customer,
    /// A business: registers with its certificate chain (empty for a relay
    /// that vouches for businesses by an allow list), which it also attaches
    /// to its prekey bundles so that customers verify it themselves.
    Business {
        /// The chain from an issuer to this business's identity key.
        certificate_chain: Option<Box<CertificateChain>>,
    },
}

/// How long to wait between reconnection attempts: `initial`, doubled after
/// every failure up to `max`, with up to a quarter of random jitter, and
/// back to `initial` once a connection works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(30),
        }
    }
}

/// Everything [`Client::open`](crate::Client::open) needs.
///
/// ```
/// use hotline_client::{Config, Role};
/// use hotline::store::StorageKey;
/// let config = Config::new("http://127.0.0.1:7400", StorageKey::generate(&mut rand::rng()))
///     .database("customer.db")
///     .role(Role::Customer);
/// assert_eq!(config.relay_url, "http://127.0.0.1:7400");
/// ```
#[derive(Clone)]
pub struct Config {
    /// The relay, as `http://host:port` (or `ws://host:port`).
    pub relay_url: String,
    /// The database file (created if missing); `None` keeps everything in
    /// memory, lost when the client stops (tests).
    pub database: Option<PathBuf>,
    /// The key every stored record is sealed with (keep it in the platform's
    /// keychain; the database alone reveals nothing).
    pub storage_key: StorageKey,
    /// The account's kind.
    pub role: Role,
    /// The identity of a new account (a business whose certificate was
    /// issued for it); `None` generates one. Ignored when the database
    /// already holds an identity.
    pub identity: Option<IdentityKeyPair>,
    /// Platform roots trusted to certify businesses, added to the client's
    /// trust state when it opens.
    pub trust_roots: Vec<TrustRoot>,
    /// The clock requests are signed with and badges are judged at.
    pub clock: Arc<dyn Clock>,
    /// Waits between reconnection attempts.
    pub backoff: Backoff,
    /// Longest wait for the relay's answer to one request before the
    /// connection is given up as broken.
    pub request_timeout: Duration,
    /// One-time prekeys of each kind uploaded at registration and whenever
    /// the relay reports them low (0 for customers, whom nobody starts
    /// sessions with).
    pub prekey_batch: usize,
    /// Capacity of the event queue (the background task waits when it is
    /// full, so read events from their own task).
    pub event_capacity: usize,
}

impl core::fmt::Debug for Config {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Config")
            .field("relay_url", &self.relay_url)
            .field("database", &self.database)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A customer's configuration in memory, on the system clock.
    pub fn new(relay_url: impl Into<String>, storage_key: StorageKey) -> Self {
        Self {
            relay_url: relay_url.into(),
            database: None,
            storage_key,
            role: Role::Customer,
            identity: None,
            trust_roots: Vec::new(),
            clock: Arc::new(SystemClock),
            backoff: Backoff::default(),
            request_timeout: Duration::from_secs(15),
            prekey_batch: 0,
            event_capacity: 256,
        }
    }

    /// Keeps the state in the SQLite file at `path`.
    pub fn database(mut self, path: impl Into<PathBuf>) -> Self {
        self.database = Some(path.into());
        self
    }

    /// Sets the account's kind (a business also gets 20 one-time prekeys
    /// per batch unless [`Config::prekey_batch`] is set after this).
    pub fn role(mut self, role: Role) -> Self {
        if matches!(role, Role::Business { .. }) && self.prekey_batch == 0 {
            self.prekey_batch = 20;
        }
        self.role = role;
        self
    }

    /// Trusts `root` to certify businesses.
    pub fn trust_root(mut self, root: TrustRoot) -> Self {
        self.trust_roots.push(root);
        self
    }

    /// Uses `clock` instead of the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The WebSocket URL of the relay's stream.
    pub(crate) fn stream_url(&self) -> Result<String, crate::Error> {
        let base = self.relay_url.trim_end_matches('/');
        let rest = if let Some(r) = base.strip_prefix("http://") {
            format!("ws://{r}")
        } else if let Some(r) = base.strip_prefix("https://") {
            format!("wss://{r}")
        } else if base.starts_with("ws://") || base.starts_with("wss://") {
            base.to_owned()
        } else {
            return Err(crate::Error::BadUrl(self.relay_url.clone()));
        };
        let rest = rest.trim_end_matches("/v1/stream");
        Ok(format!("{rest}/v1/stream"))
    }
}

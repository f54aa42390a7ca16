//! What a gateway is started with.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use hotline::IdentityKeyPair;
use hotline::business::CertificateChain;
use hotline::store::StorageKey;
use serde::Deserialize;

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// A human agent: reads conversations and answers in chat.
    Agent,
    /// An automated system: reads conversations, sends chat messages and
    /// notifications.
    Bot,
    /// Everything, including the gateway's status.
    Admin,
}

impl Scope {
    /// The scope's name in configuration files and error messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Bot => "bot",
            Self::Admin => "admin",
        }
    }
}

/// A bearer token the API accepts.
#[derive(Clone, Deserialize)]
pub struct ApiToken {
    /// A name for logs (never the secret).
    pub name: String,
    /// The secret the caller sends as `Authorization: Bearer <token>`.
    pub token: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
}

impl core::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ApiToken")
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// A URL the gateway POSTs events to, and the secret it signs them with.
#[derive(Clone, Deserialize)]
pub struct WebhookEndpoint {
    /// `http://host:port/path` (plain HTTP: TLS is not built in).
    pub url: String,
    /// The HMAC-SHA256 key of `X-Hotline-Signature`.
    pub secret: String,
}

impl core::fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebhookEndpoint")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// The part of the configuration kept in a JSON file: tokens and webhooks.
///
/// ```
/// let file: hotline_gateway::ConfigFile = serde_json::from_str(r#"{
///   "tokens": [{"name": "crm", "token": "s3cret-token-0123456789", "scopes": ["bot"]}],
///   "webhooks": [{"url": "http://127.0.0.1:9000/hotline", "secret": "whsec"}]
/// }"#).unwrap();
/// assert_eq!(file.tokens[0].scopes, [hotline_gateway::Scope::Bot]);
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// API tokens.
    #[serde(default)]
    pub tokens: Vec<ApiToken>,
    /// Webhook endpoints; every event goes to each.
    #[serde(default)]
    pub webhooks: Vec<WebhookEndpoint>,
}

/// Limits of the HTTP API and the webhook queue.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Largest message text, in bytes of UTF-8.
    pub max_text: usize,
    /// Longest time one API request may take.
    pub request_timeout: Duration,
    /// Most API requests handled at once; more are answered 503
    /// `overloaded` at once, before their body is read.
    pub max_in_flight: usize,
    /// Most webhook deliveries waiting; while the queue is full, incoming
    /// messages stay unconfirmed in the client's inbox (and at the relay).
    pub webhook_queue: u64,
    /// Longest wait for a webhook receiver's answer.
    pub webhook_timeout: Duration,
    /// First wait before retrying a failed webhook delivery; doubled after
    /// every failure up to `webhook_backoff_max`.
    pub webhook_backoff: Duration,
    /// Longest wait between two attempts of one delivery.
    pub webhook_backoff_max: Duration,
    /// How long an idempotency key is remembered.
    pub idempotency_ttl: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body: 64 * 1024,
            max_text: 16 * 1024,
            request_timeout: Duration::from_secs(20),
            max_in_flight: 256,
            webhook_queue: 100_000,
            webhook_timeout: Duration::from_secs(10),
            webhook_backoff: Duration::from_secs(1),
            webhook_backoff_max: Duration::from_secs(600),
            idempotency_ttl: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// Everything [`Gateway::start`](crate::Gateway::start) needs.
#[derive(Clone)]
pub struct GatewayConfig {
    /// The relay, `http://host:port`.
    pub relay_url: String,
    /// The directory of the gateway's two SQLite files (`client.db`, the
    /// business's sealed protocol state, and `gateway.db`, the API's
    /// records); `None` keeps everything in memory (tests).
    pub data_dir: Option<PathBuf>,
    /// The key the protocol state is sealed with.
    pub storage_key: StorageKey,
    /// The business's identity (used when the database holds none yet).
    pub identity: Option<IdentityKeyPair>,
    /// The chain certifying the identity; `None` for a relay that accepts
    /// the business by allow list.
    pub certificate_chain: Option<CertificateChain>,
    /// Where the API listens.
    pub listen: SocketAddr,
    /// Tokens and webhooks.
    pub file: ConfigFile,
    /// Limits.
    pub limits: Limits,
    /// The client's reconnection backoff.
    pub backoff: hotline_client::Backoff,
}

impl core::fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("relay_url", &self.relay_url)
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl GatewayConfig {
    /// A configuration with default limits and no tokens or webhooks.
    pub fn new(relay_url: impl Into<String>, storage_key: StorageKey, listen: SocketAddr) -> Self {
        Self {
            relay_url: relay_url.into(),
            data_dir: None,
            storage_key,
            identity: None,
            certificate_chain: None,
            listen,
            file: ConfigFile::default(),
            limits: Limits::default(),
            backoff: hotline_client::Backoff::default(),
        }
    }
}

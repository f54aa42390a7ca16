//! `hotline-gateway`: the business's on-premises Hotline endpoint.
//!
//! A gateway holds one business identity (its keys, certificate chain,
//! sessions and outbox, sealed in `client.db` by the client SDK), keeps a
//! connection to the relay (registering, uploading and replenishing
//! prekeys), and speaks HTTP to the business's own systems:
//!
//! * a **REST API** (JSON, described by [`api::OPENAPI`], served at
//!   `/v1/openapi.json`): send a chat message or a notification with an
//!   `Idempotency-Key` (a retried request returns the first answer and
//!   never sends twice), list conversations and their messages, read a
//!   customer's consent and the chat window's clock. What the relay would
//!   refuse and the gateway knows (a block, no consent for notifications,
//!   the 24-hour window closed for chat, no session) is refused locally
//!   with a precise `{code, message}`. Callers authenticate with bearer
//!   tokens carrying scopes ([`Scope`]).
//! * **webhooks**: every customer message and every delivery state is
//!   POSTed to each configured URL, signed
//!   (`X-Hotline-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
//!   see [`webhook::sign`] and [`webhook::verify`]) with an event id, from a
//!   durable queue in `gateway.db`, retried with exponential backoff until
//!   the receiver answers 2xx: at least once, across restarts.
//! * an **agent console** at `/console` ([`console`]): a page where a human
//!   agent signs in with an agent token, sees the open conversations, each
//!   customer's consent and the chat window's clock, reads and answers, and
//!   blocks an abusive customer. Plain HTML and JavaScript, served from the
//!   binary: nothing is fetched from a network.
//!
//! Message texts and webhook bodies are sealed at rest in `gateway.db`
//! under a key derived from the storage key ([`store::Sealer`]), as the SDK
//! seals `client.db`: the files alone reveal no message.
//!
//! A customer's message is recorded with its webhook events in one
//! transaction before the client is told it is handled, so a crash in
//! between records it again exactly once (the events keep their ids).
//!
//! ```no_run
//! # async fn run() -> Result<(), hotline_gateway::GatewayError> {
//! use hotline_gateway::{Gateway, GatewayConfig};
//! use hotline::store::StorageKey;
//! let config = GatewayConfig::new("http://127.0.0.1:7400",
//!     StorageKey::generate(&mut rand::rng()), "127.0.0.1:0".parse().unwrap());
//! let gateway = Gateway::start(config).await?;
//! gateway.shutdown().await;
//! # Ok(()) }
//! ```

pub mod api;
mod config;
pub mod console;
mod gateway;
pub mod store;
pub mod webhook;

pub use config::{ApiToken, ConfigFile, GatewayConfig, Limits, Scope, WebhookEndpoint};
pub use gateway::{Gateway, GatewayError};

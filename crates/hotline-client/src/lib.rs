//! The Hotline client SDK: what a customer's app or a business's console
//! links to talk to a `hotline-relay` server.
//!
//! A [`Client`] owns one account and everything it keeps: the protocol
//! client's identity, prekeys, sessions, blocks and trust state
//! ([`hotline::store::Client`]), sealed under the application's storage key
//! in one SQLite file, beside an **outbox** and an **inbox** in the same
//! file. A background task keeps a WebSocket open to the relay (SPEC.md
//! 14.14) and:
//!
//! * registers the account on its first connection and uploads its
//!   prekeys, and uploads more whenever the relay reports them low;
//! * sends the outbox in order. An envelope enters the outbox in the same
//!   transaction that saves the advanced session, so a crash either loses
//!   a message that was never encrypted or keeps one that is sent again,
//!   byte for byte: a message is never encrypted twice, and the relay
//!   answers a resent envelope "duplicate";
//! * opens each envelope the relay pushes and stores its plaintext in the
//!   inbox in the same transaction as the session change, then emits
//!   [`Event::Message`], and only then acknowledges it to the relay. A
//!   crash before the commit leaves the envelope at the relay, which pushes
//!   it again; a crash after it finds the message in the inbox and only
//!   acknowledges it. Each message enters the inbox exactly once, in the
//!   order the relay delivers it;
//! * reconnects with exponential backoff and jitter after any failure, and
//!   resumes: the relay pushes again what was not acknowledged, the outbox
//!   sends again what was not answered.
//!
//! Sessions with businesses are started from bundles the client verifies
//! itself: the certificate chain against the platform roots it trusts, the
//! stapled status of good standing, and the badge judged again from its own
//! trust state whenever asked ([`Client::badge`], [`Event::BadgeChanged`]).
//!
//! ```no_run
//! use hotline_client::{Client, Config, Event, Role};
//! use hotline::relay::MessageClass;
//! use hotline::store::StorageKey;
//! # async fn run(key: StorageKey) -> Result<(), hotline_client::Error> {
//! // A business: it answers every question.
//! let (business, mut events) = Client::open(
//!     Config::new("http://127.0.0.1:7400", key)
//!         .database("business.db")
//!         .role(Role::Business { certificate_chain: None }),
//! ).await?;
//! while let Some(event) = events.next().await {
//!     if let Event::Message(m) = event {
//!         business.send(m.from, MessageClass::Chat, b"Thanks, we are on it.".to_vec()).await?;
//!         business.confirm(m.seq).await?;
//!     }
//! }
//! # Ok(()) }
//! ```

mod client;
mod config;
mod db;
mod error;

pub use client::{
    Client, DeliveryState, Event, Events, Message, OutboxId, SessionInfo, Status, describe_badge,
};
pub use config::{Backoff, Config, Role};
pub use error::Error;

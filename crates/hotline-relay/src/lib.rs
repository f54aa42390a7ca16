//! The Hotline relay as a network server.
//!
//! The protocol crate's [`Relay`](hotline::relay::Relay) turns a signed
//! request into a response, bytes in and bytes out, and never touches the
//! network. This crate carries those bytes:
//!
//! * `POST /v1/request`: one signed request (SPEC.md 14.2) as the binary
//!   body, its response (14.3) as the binary answer;
//! * `GET /v1/stream`: a WebSocket on which a client sends signed requests
//!   (binary frames) and receives, besides their responses, its envelopes
//!   the moment they arrive (SPEC.md 14.14);
//! * `GET /healthz` and `GET /metrics` (Prometheus text format).
//!
//! Its state lives in memory, in an SQLite file, or in PostgreSQL
//! ([`PostgresStore`]), where several relay nodes share one database: an
//! envelope stored through one node wakes the recipient's streams on every
//! node (PostgreSQL `LISTEN`/`NOTIFY`, see [`serve_node`]).
//!
//! Limits come before any expensive work: the body size before the body is
//! read, the connection count before a WebSocket is accepted, a deadline on
//! every request. Store calls run on the blocking pool, so a slow disk never
//! stalls the connections; a request is answered only after the store
//! returned, that is after its write is durable.
//!
//! ```no_run
//! use hotline_relay::{Database, ServerLimits, build_relay, serve};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let relay = build_relay(&Database::Memory, hotline::relay::NoBusinesses)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let shutdown = async { let _ = tokio::signal::ctrl_c().await; };
//! serve(listener, relay, ServerLimits::default(), shutdown).await?;
//! # Ok(()) }
//! ```

mod config;
mod hub;
mod metrics;
mod postgres;
mod server;

pub use config::{
    Database, DatabaseError, KeyFileError, ServerLimits, build_relay, load_or_create_relay_key,
};
pub use postgres::{PostgresConfig, PostgresStore};
pub use server::{FRAME_PUSH, FRAME_RESPONSE, RelayHandle, router, serve, serve_node};

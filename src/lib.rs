//! # Hotline
//!
//! End-to-end encrypted chat between businesses and their customers.
//!
//! A customer starts a session from a business's published [`PreKeyBundle`]
//! with a hybrid post-quantum handshake (X25519 and ML-KEM-768, in the style
//! of Signal's PQXDH), then both sides exchange messages with a Double
//! Ratchet whose headers are encrypted, so the relay in between sees neither
//! content, nor ratchet keys, nor message counters, and only padded lengths.
//!
//! ## Threat model in brief
//! The relay stores and forwards every message and may drop, delay, reorder,
//! replay or alter any of them. It learns who talks to whom, when, and the
//! padded sizes; it cannot read, forge, relabel or replay a message into
//! acceptance. See SPEC.md for the full model and the byte layouts.
//!
//! ## Quick start
//! ```
//! use hotline::{IdentityKeyPair, PreKeyBundle, PreKeyStore, Session};
//! let mut rng = rand::rng();
//!
//! // The business publishes a bundle; the relay hands it to the customer.
//! let business = IdentityKeyPair::generate(&mut rng);
//! let mut business_prekeys = PreKeyStore::new(&business, 10, 10, &mut rng);
//! let published = business_prekeys.bundle().to_bytes();
//!
//! // The customer verifies the bundle (every signature, strictly) and starts.
//! let customer = IdentityKeyPair::generate(&mut rng);
//! let bundle = PreKeyBundle::from_bytes(&published)?;
//! let mut customer_session = Session::initiate(&customer, &bundle, &mut rng)?;
//! let wire = customer_session.encrypt(b"Where is my refund?", b"envelope v1")?;
//!
//! // The business accepts the first message and answers.
//! let (mut business_session, question) =
//!     Session::respond(&mut business_prekeys, &wire, b"envelope v1")?;
//! assert_eq!(question, b"Where is my refund?");
//! let answer = business_session.encrypt(b"It was sent today.", b"envelope v1")?;
//! assert_eq!(customer_session.decrypt(&answer, b"envelope v1")?, b"It was sent today.");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Where things live
//! - [`store`]: an app's own state at rest (identity, prekeys, sessions,
//!   trust state), with [`store::Client`], the one client type (sessions,
//!   relay envelopes and requests, blocks, the badge), over
//!   [`store::MemoryStore`] or `store::SqliteStore` (feature `sqlite`).
//! - [`relay`]: the relay server, with its own [`relay::MemoryStore`] and
//!   `relay::SqliteStore` (feature `sqlite`) for accounts and mailboxes.
//! - [`business`]: business certificates, validation, names and pinning.
//!
//! The stores and clients are not re-exported at the crate root, so their
//! paths always say which one is meant.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod business;
pub mod code;
pub mod constants;
mod error;
mod handshake;
mod keys;
mod primitives;
mod ratchet;
pub mod relay;
mod session;
pub mod store;
mod wire;

pub use error::{DecryptError, EncryptError, HandshakeError, IdentityError, PqError};
pub use keys::{
    BundleError, BundleField, IdentityKey, IdentityKeyPair, KemPreKeyKind, KemPreKeyPublic,
    OneTimePreKeyPublic, PreKeyBundle, PreKeyStore, SignedPreKeyPublic,
};
pub use ratchet::padding;
pub use session::{MessageType, PqStatus, Role, Session, message_type};
pub use wire::DecodeError;

/// Public key types that appear in the API.
pub mod types {
    pub use crate::primitives::ed25519::Ed25519Public;
    pub use crate::primitives::kem::KemPublic;
    pub use crate::primitives::x25519::X25519Public;
}

/// The primitive layer, exposed for conformance testing against external
/// vectors (Wycheproof). Not for casual use: nothing here knows the protocol.
/// Behind the `hazmat` feature (on by default).
#[cfg(feature = "hazmat")]
#[cfg_attr(docsrs, doc(cfg(feature = "hazmat")))]
pub mod hazmat {
    pub use crate::primitives::*;
}

#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;

/// The random number generator crates of the API, re-exported so that an
/// application passes `hotline::rand::rng()` (or any
/// [`rand_core::CryptoRng`]) without matching their versions.
pub use rand;
pub use rand_core;

/// The README's code examples are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

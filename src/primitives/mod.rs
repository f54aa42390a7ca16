//! The only module that calls the cryptographic crates.
//!
//! Everything above this layer works with the small set of operations here:
//! X25519 with a low-order check on every output, strict Ed25519,
//! ChaCha20-Poly1305 in place, HKDF/HMAC-SHA-256, SHA-256 and ML-KEM-768.
//! Nothing here knows about Hotline's protocol; the Wycheproof tests check
//! this layer against vectors written by others.

pub mod aead;
pub mod ed25519;
pub mod kdf;
pub mod kem;
pub mod x25519;

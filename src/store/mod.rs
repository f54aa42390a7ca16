//! State at rest: encrypted records, the client's stores, and the client.
//!
//! - [`StorageKey`] and the record format: every stored object is sealed
//!   with ChaCha20-Poly1305 under a caller's 32-byte key, with the record's
//!   version, kind and name authenticated (SPEC.md, section 15).
//!   [`Session::pickle`](crate::Session::pickle),
//!   [`IdentityKeyPair::pickle`](crate::IdentityKeyPair::pickle) and
//!   [`PreKeyStore::pickle`](crate::PreKeyStore::pickle) seal single
//!   objects; restoring refuses wrong keys, truncation, corruption and
//!   unknown versions with distinct [`RestoreError`]s.
//! - The store traits [`IdentityStore`], [`PreKeyRepository`],
//!   [`SessionRepository`] and [`ClientStore`] (atomic commits), implemented
//!   by [`EncryptedStore`] over a [`RecordBackend`]: [`MemoryBackend`], or
//!   `SqliteBackend` with the `sqlite` feature.
//! - [`Client`]: the one client type. It encrypts to and decrypts from
//!   peers with every change saved before its result is returned (a
//!   compare-and-swap, so several processes may share a store), keeps a
//!   bounded [`SessionRecord`] of sessions per peer, starts verified
//!   sessions and reports the badge as of now, seals and opens relay
//!   envelopes with the sender bound to its identity, signs relay requests
//!   with a stored counter, and keeps blocks and the trust state.
//!
//! These are the app's stores. The relay's stores for accounts and mailboxes
//! are [`crate::relay::MemoryStore`] and `relay::SqliteStore`.

mod client;
mod client_state;
pub(crate) mod constants;
mod memory;
pub(crate) mod pickle;
pub(crate) mod record;
mod sessions;
#[cfg(feature = "sqlite")]
mod sqlite;
pub(crate) mod state;
mod traits;

#[cfg(test)]
mod tests;

pub use client::{
    Client, IdentityChange, Notice, ReceiveError, Received, RollbackGuard, SendError, StartError,
    TrustUpdateError,
};
pub use client_state::ClientState;
pub use memory::{MemoryBackend, MemoryStore};
pub use record::{RestoreError, StorageKey};
pub use sessions::SessionRecord;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::{SqliteBackend, SqliteStore};
pub use traits::{
    ClientStateRepository, ClientStore, EncryptedStore, IdentityStore, PeerId, PreKeyRepository,
    RecordBackend, RecordWrite, SessionRepository, StoreError, StoreUpdate, StoredRecord,
    Versioned,
};

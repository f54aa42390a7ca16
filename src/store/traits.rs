//! The client's stores, in the spirit of libsignal's: identities, prekeys and
//! sessions, plus an atomic commit of several changes. [`EncryptedStore`]
//! implements all of them over any [`RecordBackend`] (a map from names to
//! encrypted records), so a backend never sees a secret.

use rand_core::CryptoRng;

use crate::keys::{IdentityKey, IdentityKeyPair, PreKeyStore};
use crate::store::constants::{
    MAX_RECORD_NAME_LEN, RECORD_IDENTITY, RECORD_PEER_IDENTITY, RECORD_PEER_SESSIONS,
    RECORD_PREKEYS,
};
use crate::store::pickle::{open_state, seal_state};
use crate::store::record::{RestoreError, StorageKey};
use crate::store::sessions::SessionRecord;
use crate::store::state::{encode_identity, read_identity};
use crate::wire::Reader;

/// A peer's address as the application knows it (an account id), at most
/// [`MAX_RECORD_NAME_LEN`] bytes. It names the peer's records and is bound
/// into them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(Vec<u8>);

impl PeerId {
    /// An address from its bytes; `None` if empty or longer than 255 bytes.
    ///
    /// ```
    /// let peer = hotline::store::PeerId::new("airline:support").unwrap();
    /// assert_eq!(peer.as_bytes(), b"airline:support");
    /// assert!(hotline::store::PeerId::new("").is_none());
    /// ```
    pub fn new(id: impl AsRef<[u8]>) -> Option<Self> {
        let id = id.as_ref();
        (!id.is_empty() && id.len() <= MAX_RECORD_NAME_LEN).then(|| Self(id.to_vec()))
    }

    /// The address's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Why a store could not load or save.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A stored record was refused (wrong key, corrupted, unknown version...).
    #[error("stored {what} refused: {error}")]
    Restore {
        /// Which record.
        what: &'static str,
        /// Why.
        error: RestoreError,
    },
    /// The store holds no local identity yet (see [`crate::store::Client::create`]).
    #[error("the store holds no identity")]
    NotInitialized,
    /// The store already holds an identity.
    #[error("the store already holds an identity")]
    AlreadyInitialized,
    /// The storage backend failed (I/O, database).
    #[error("storage backend failed: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

/// The party's own identity and the identities it trusts for its peers.
pub trait IdentityStore {
    /// The party's identity, if one was saved.
    fn local_identity(&self) -> Result<Option<IdentityKeyPair>, StoreError>;
    /// Saves the party's identity.
    fn save_local_identity(&mut self, identity: &IdentityKeyPair) -> Result<(), StoreError>;
    /// The identity trusted for `peer`, if any.
    fn trusted_identity(&self, peer: &PeerId) -> Result<Option<IdentityKey>, StoreError>;
    /// Trusts `identity` for `peer` (replacing any earlier one).
    fn save_trusted_identity(
        &mut self,
        peer: &PeerId,
        identity: &IdentityKey,
    ) -> Result<(), StoreError>;
}

/// The party's prekey store (X25519 and ML-KEM prekeys, consumed once).
pub trait PreKeyRepository {
    /// The prekey store, if one was saved.
    fn load_prekeys(&self) -> Result<Option<PreKeyStore>, StoreError>;
    /// Saves the prekey store.
    fn save_prekeys(&mut self, prekeys: &PreKeyStore) -> Result<(), StoreError>;
}

/// The sessions with each peer.
pub trait SessionRepository {
    /// The sessions with `peer`, if any.
    fn load_sessions(&self, peer: &PeerId) -> Result<Option<SessionRecord>, StoreError>;
    /// Saves the sessions with `peer`.
    fn save_sessions(&mut self, peer: &PeerId, record: &SessionRecord) -> Result<(), StoreError>;
}

/// Changes that must become durable together.
#[derive(Default)]
pub struct StoreUpdate<'a> {
    /// The party's own identity.
    pub local_identity: Option<&'a IdentityKeyPair>,
    /// The prekey store (for example with a one-time prekey consumed).
    pub prekeys: Option<&'a PreKeyStore>,
    /// A newly trusted peer identity.
    pub trusted_identity: Option<(&'a PeerId, &'a IdentityKey)>,
    /// A peer's sessions.
    pub sessions: Option<(&'a PeerId, &'a SessionRecord)>,
}

/// Everything a [`crate::store::Client`] needs.
pub trait ClientStore: IdentityStore + PreKeyRepository + SessionRepository {
    /// Makes every change of `update` durable before returning.
    ///
    /// Implementations SHOULD apply them atomically (the SQLite store uses
    /// one transaction). This default saves them one by one in the order that
    /// is safe when interrupted: the identity, then the prekey store, then the
    /// trusted identity, then the sessions. A crash in between then loses at
    /// worst a session that was just created, never reuses a one-time prekey.
    fn commit(&mut self, update: &StoreUpdate<'_>) -> Result<(), StoreError> {
        if let Some(identity) = update.local_identity {
            self.save_local_identity(identity)?;
        }
        if let Some(prekeys) = update.prekeys {
            self.save_prekeys(prekeys)?;
        }
        if let Some((peer, identity)) = update.trusted_identity {
            self.save_trusted_identity(peer, identity)?;
        }
        if let Some((peer, record)) = update.sessions {
            self.save_sessions(peer, record)?;
        }
        Ok(())
    }
}

/// One encrypted record to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordWrite {
    /// The record kind (`RECORD_*` in [`crate::constants`]).
    pub kind: u8,
    /// The record's name (empty, or a peer's address).
    pub name: Vec<u8>,
    /// The sealed record.
    pub record: Vec<u8>,
}

/// Durable storage of opaque encrypted records, keyed by (kind, name).
/// Backends only ever see sealed records.
pub trait RecordBackend {
    /// The record stored under (`kind`, `name`), if any.
    fn get(&self, kind: u8, name: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Writes all `records`, replacing earlier ones with the same (kind,
    /// name), atomically: after a crash either all or none are stored.
    fn put_all(&mut self, records: &[RecordWrite]) -> Result<(), StoreError>;
}

/// The store traits implemented over a [`RecordBackend`]: every object is
/// sealed with the storage key (with a fresh random nonce each time) before
/// it reaches the backend, and [`ClientStore::commit`] is one atomic write.
pub struct EncryptedStore<B> {
    key: StorageKey,
    backend: B,
}

impl<B> core::fmt::Debug for EncryptedStore<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EncryptedStore")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

fn restore<T>(what: &'static str, r: Result<T, RestoreError>) -> Result<T, StoreError> {
    r.map_err(|error| StoreError::Restore { what, error })
}

impl<B: RecordBackend> EncryptedStore<B> {
    /// A store over `backend` whose records are sealed under `key`.
    pub fn new(key: StorageKey, backend: B) -> Self {
        Self { key, backend }
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The backend, mutably (for tests that tamper with records).
    pub fn backend_mut(&mut self) -> &mut B {
        &mut self.backend
    }

    fn load<T>(
        &self,
        what: &'static str,
        kind: u8,
        name: &[u8],
        decode: impl FnOnce(&mut Reader<'_>, u8) -> Result<T, RestoreError>,
    ) -> Result<Option<T>, StoreError> {
        match self.backend.get(kind, name)? {
            None => Ok(None),
            Some(bytes) => {
                restore(what, open_state(&self.key, kind, name, &bytes, decode)).map(Some)
            }
        }
    }

    fn sealed(
        &self,
        kind: u8,
        name: &[u8],
        rng: &mut (impl CryptoRng + ?Sized),
        encode: impl FnOnce(&mut Vec<u8>),
    ) -> RecordWrite {
        RecordWrite {
            kind,
            name: name.to_vec(),
            record: seal_state(&self.key, kind, name, rng, encode),
        }
    }

    fn writes(&self, update: &StoreUpdate<'_>) -> Vec<RecordWrite> {
        let mut rng = rand::rng();
        let mut out = Vec::new();
        if let Some(identity) = update.local_identity {
            out.push(self.sealed(RECORD_IDENTITY, b"", &mut rng, |o| {
                encode_identity(identity, o)
            }));
        }
        if let Some(prekeys) = update.prekeys {
            out.push(self.sealed(RECORD_PREKEYS, b"", &mut rng, |o| prekeys.encode_state(o)));
        }
        if let Some((peer, identity)) = update.trusted_identity {
            out.push(
                self.sealed(RECORD_PEER_IDENTITY, peer.as_bytes(), &mut rng, |o| {
                    identity.encode_into(o)
                }),
            );
        }
        if let Some((peer, record)) = update.sessions {
            out.push(
                self.sealed(RECORD_PEER_SESSIONS, peer.as_bytes(), &mut rng, |o| {
                    record.encode_state(o)
                }),
            );
        }
        out
    }
}

impl<B: RecordBackend> IdentityStore for EncryptedStore<B> {
    fn local_identity(&self) -> Result<Option<IdentityKeyPair>, StoreError> {
        self.load("identity", RECORD_IDENTITY, b"", |r, _| read_identity(r))
    }
    fn save_local_identity(&mut self, identity: &IdentityKeyPair) -> Result<(), StoreError> {
        self.commit(&StoreUpdate {
            local_identity: Some(identity),
            ..StoreUpdate::default()
        })
    }
    fn trusted_identity(&self, peer: &PeerId) -> Result<Option<IdentityKey>, StoreError> {
        self.load(
            "peer identity",
            RECORD_PEER_IDENTITY,
            peer.as_bytes(),
            // Decoded strictly, its signature not verified again (SPEC.md
            // 15.4): the record's tag authenticates it, and it is read on
            // every message.
            |r, _| Ok(IdentityKey::read_stored(r)?),
        )
    }
    fn save_trusted_identity(
        &mut self,
        peer: &PeerId,
        identity: &IdentityKey,
    ) -> Result<(), StoreError> {
        self.commit(&StoreUpdate {
            trusted_identity: Some((peer, identity)),
            ..StoreUpdate::default()
        })
    }
}

impl<B: RecordBackend> PreKeyRepository for EncryptedStore<B> {
    fn load_prekeys(&self) -> Result<Option<PreKeyStore>, StoreError> {
        self.load("prekeys", RECORD_PREKEYS, b"", PreKeyStore::read_state)
    }
    fn save_prekeys(&mut self, prekeys: &PreKeyStore) -> Result<(), StoreError> {
        self.commit(&StoreUpdate {
            prekeys: Some(prekeys),
            ..StoreUpdate::default()
        })
    }
}

impl<B: RecordBackend> SessionRepository for EncryptedStore<B> {
    fn load_sessions(&self, peer: &PeerId) -> Result<Option<SessionRecord>, StoreError> {
        self.load(
            "sessions",
            RECORD_PEER_SESSIONS,
            peer.as_bytes(),
            |r, version| {
                crate::Session::check_version(RECORD_PEER_SESSIONS, version)?;
                SessionRecord::read_state(r)
            },
        )
    }
    fn save_sessions(&mut self, peer: &PeerId, record: &SessionRecord) -> Result<(), StoreError> {
        self.commit(&StoreUpdate {
            sessions: Some((peer, record)),
            ..StoreUpdate::default()
        })
    }
}

impl<B: RecordBackend> ClientStore for EncryptedStore<B> {
    fn commit(&mut self, update: &StoreUpdate<'_>) -> Result<(), StoreError> {
        let writes = self.writes(update);
        if writes.is_empty() {
            return Ok(());
        }
        self.backend.put_all(&writes)
    }
}

//! The client's stores, in the spirit of libsignal's: identities, prekeys and
//! sessions, plus an atomic commit of several changes. [`EncryptedStore`]
//! implements all of them over any [`RecordBackend`] (a map from names to
//! encrypted records), so a backend never sees a secret.

use rand_core::CryptoRng;

use crate::business::TrustStore;
use crate::keys::{IdentityKey, IdentityKeyPair, PreKeyStore};
use crate::relay::AccountId;
use crate::store::client_state::ClientState;
use crate::store::constants::{
    MAX_RECORD_NAME_LEN, RECORD_CLIENT_STATE, RECORD_IDENTITY, RECORD_PEER_IDENTITY,
    RECORD_PEER_SESSIONS, RECORD_PREKEYS, RECORD_TRUST_STATE,
};
use crate::store::pickle::{open_state, seal_state};
use crate::store::record::{RestoreError, StorageKey};
use crate::store::sessions::SessionRecord;
use crate::store::state::{IDENTITY_STATE_LEN, encode_identity, read_identity};
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

    /// The address of a relay account: `0x00 || account id` (33 bytes).
    /// Sessions kept under such an address are bound to that account: the
    /// client refuses to keep, under it, a session whose peer identity is
    /// not the account's identity (SPEC.md, section 15.14).
    ///
    /// ```
    /// use hotline::relay::AccountId;
    /// use hotline::store::PeerId;
    /// let peer = PeerId::account(&AccountId([7; 32]));
    /// assert_eq!(peer.as_account(), Some(AccountId([7; 32])));
    /// assert_eq!(PeerId::new("alice").unwrap().as_account(), None);
    /// ```
    pub fn account(account: &AccountId) -> Self {
        let mut id = Vec::with_capacity(33);
        id.push(PEER_ACCOUNT_TAG);
        id.extend_from_slice(&account.0);
        Self(id)
    }

    /// The relay account this address names, if it is an account address.
    pub fn as_account(&self) -> Option<AccountId> {
        match self.0.split_first() {
            Some((&PEER_ACCOUNT_TAG, rest)) => <[u8; 32]>::try_from(rest).ok().map(AccountId),
            _ => None,
        }
    }
}

/// First byte of an account address (never the first byte of a text address).
const PEER_ACCOUNT_TAG: u8 = 0x00;

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
    /// A compare-and-swap failed: another writer (a second process on the
    /// same database, or a restored copy) changed the record of `kind`
    /// since it was read. Nothing was written; reload and retry.
    #[error("record of kind {kind:#04x} was changed by another writer")]
    Conflict {
        /// The record kind whose version did not match.
        kind: u8,
    },
    /// The store is older than the application's monotonic counter says it
    /// must be (a restored backup or a rolled-back disk): nothing is sent or
    /// received from it, so no message key can be used twice.
    #[error("the store was rolled back: generation {stored} is below the guard's {guard}")]
    RolledBack {
        /// The store's generation.
        stored: u64,
        /// The generation the application's counter requires.
        guard: u64,
    },
    /// A bounded list in the client's state is full.
    #[error("{what} is full")]
    Full {
        /// Which list.
        what: &'static str,
    },
    /// The storage backend failed (I/O, database).
    #[error("storage backend failed: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

/// A value read from a store with the version of its record. Versions start
/// at 1 for the first write and grow by one with every write; 0 stands for
/// "no record", so a write expecting version 0 creates the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// The version of the record it was read from.
    pub version: u64,
}

/// The party's own identity and the identities it trusts for its peers.
pub trait IdentityStore {
    /// The party's identity, if one was saved. It is written once, by
    /// [`crate::store::Client::create`], and never changes.
    fn local_identity(&self) -> Result<Option<IdentityKeyPair>, StoreError>;
    /// The identity trusted for `peer`, if any.
    fn trusted_identity(&self, peer: &PeerId)
    -> Result<Option<Versioned<IdentityKey>>, StoreError>;
}

/// The party's prekey store (X25519 and ML-KEM prekeys, consumed once).
pub trait PreKeyRepository {
    /// The prekey store, if one was saved.
    fn load_prekeys(&self) -> Result<Option<Versioned<PreKeyStore>>, StoreError>;
}

/// The sessions with each peer.
pub trait SessionRepository {
    /// The sessions with `peer`, if any.
    fn load_sessions(&self, peer: &PeerId) -> Result<Option<Versioned<SessionRecord>>, StoreError>;
}

/// The client's own bookkeeping (relay request counter, blocks, the
/// store's generation).
pub trait ClientStateRepository {
    /// The client's state, if any was saved.
    fn load_client_state(&self) -> Result<Option<Versioned<ClientState>>, StoreError>;
    /// The client's trust state (roots, revocations, statuses), if saved.
    fn load_trust_state(&self) -> Result<Option<Versioned<TrustStore>>, StoreError>;
}

/// Changes that must become durable together, each a compare-and-swap: a
/// value is written only if its record is still at the version given with
/// it (0: the record must not exist), and then gets that version plus one.
#[derive(Default)]
pub struct StoreUpdate<'a> {
    /// The party's own identity (the record must not exist).
    pub local_identity: Option<&'a IdentityKeyPair>,
    /// The prekey store (for example with a one-time prekey consumed).
    pub prekeys: Option<(&'a PreKeyStore, u64)>,
    /// A newly trusted peer identity.
    pub trusted_identity: Option<(&'a PeerId, &'a IdentityKey, u64)>,
    /// A peer's sessions.
    pub sessions: Option<(&'a PeerId, &'a SessionRecord, u64)>,
    /// The client's state.
    pub client_state: Option<(&'a ClientState, u64)>,
    /// The client's trust state.
    pub trust_state: Option<(&'a TrustStore, u64)>,
    /// A peer identity record that must still be at this version (written
    /// or not): a session is only saved under the trust it was checked
    /// against.
    pub unchanged_identity: Option<(&'a PeerId, u64)>,
}

/// Everything a [`crate::store::Client`] needs.
///
/// The contract every implementation must keep (SPEC.md, section 15.13):
/// [`ClientStore::commit`] applies all of an update or nothing, and refuses
/// with [`StoreError::Conflict`] when any record is not at the version the
/// update expects, so that two writers that read the same state can never
/// both write what they derived from it. The shared conformance suite
/// (`tests/store_conformance.rs`) checks it on every backend of the crate.
pub trait ClientStore:
    IdentityStore + PreKeyRepository + SessionRepository + ClientStateRepository
{
    /// Makes every change of `update` durable, atomically, before returning,
    /// or fails with [`StoreError::Conflict`] having changed nothing.
    fn commit(&mut self, update: &StoreUpdate<'_>) -> Result<(), StoreError>;
}

/// One encrypted record to write, or to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordWrite {
    /// The record kind (`RECORD_*` in [`crate::constants`]).
    pub kind: u8,
    /// The record's name (empty, or a peer's address).
    pub name: Vec<u8>,
    /// The version the record must have now (0: it must not exist).
    pub expected_version: u64,
    /// The sealed record to store at `expected_version + 1`, or `None` to
    /// only require that the record is unchanged.
    pub record: Option<Vec<u8>>,
}

/// A stored record and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// The sealed record.
    pub record: Vec<u8>,
    /// Its version (at least 1).
    pub version: u64,
}

/// Durable storage of opaque encrypted records, keyed by (kind, name), each
/// with a version. Backends only ever see sealed records.
pub trait RecordBackend {
    /// The record stored under (`kind`, `name`), if any.
    fn get(&self, kind: u8, name: &[u8]) -> Result<Option<StoredRecord>, StoreError>;
    /// Checks every entry's `expected_version` and, only if all match,
    /// writes every entry that has a record (at version `expected_version +
    /// 1`), atomically: after a crash either all or none are stored. A
    /// mismatch fails with [`StoreError::Conflict`] and writes nothing.
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
    ) -> Result<Option<Versioned<T>>, StoreError> {
        match self.backend.get(kind, name)? {
            None => Ok(None),
            Some(stored) => {
                let value = restore(
                    what,
                    open_state(&self.key, kind, name, &stored.record, decode),
                )?;
                Ok(Some(Versioned {
                    value,
                    version: stored.version,
                }))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn sealed(
        &self,
        kind: u8,
        name: &[u8],
        expected_version: u64,
        len_bound: usize,
        rng: &mut (impl CryptoRng + ?Sized),
        encode: impl FnOnce(&mut Vec<u8>),
    ) -> RecordWrite {
        RecordWrite {
            kind,
            name: name.to_vec(),
            expected_version,
            record: Some(seal_state(&self.key, kind, name, len_bound, rng, encode)),
        }
    }

    fn writes(&self, update: &StoreUpdate<'_>) -> Vec<RecordWrite> {
        let mut rng = rand::rng();
        let mut out = Vec::with_capacity(6);
        if let Some(identity) = update.local_identity {
            out.push(
                self.sealed(RECORD_IDENTITY, b"", 0, IDENTITY_STATE_LEN, &mut rng, |o| {
                    encode_identity(identity, o)
                }),
            );
        }
        if let Some((prekeys, v)) = update.prekeys {
            out.push(self.sealed(
                RECORD_PREKEYS,
                b"",
                v,
                prekeys.state_len_bound(),
                &mut rng,
                |o| prekeys.encode_state(o),
            ));
        }
        if let Some((peer, identity, v)) = update.trusted_identity {
            out.push(self.sealed(
                RECORD_PEER_IDENTITY,
                peer.as_bytes(),
                v,
                256,
                &mut rng,
                |o| identity.encode_into(o),
            ));
        } else if let Some((peer, v)) = update.unchanged_identity {
            out.push(RecordWrite {
                kind: RECORD_PEER_IDENTITY,
                name: peer.as_bytes().to_vec(),
                expected_version: v,
                record: None,
            });
        }
        if let Some((peer, record, v)) = update.sessions {
            out.push(self.sealed(
                RECORD_PEER_SESSIONS,
                peer.as_bytes(),
                v,
                record.state_len_bound(),
                &mut rng,
                |o| record.encode_state(o),
            ));
        }
        if let Some((trust, v)) = update.trust_state {
            out.push(self.sealed(
                RECORD_TRUST_STATE,
                b"",
                v,
                trust.state_len_bound(),
                &mut rng,
                |o| trust.encode_state(o),
            ));
        }
        if let Some((state, v)) = update.client_state {
            out.push(self.sealed(
                RECORD_CLIENT_STATE,
                b"",
                v,
                state.state_len_bound(),
                &mut rng,
                |o| state.encode_state(o),
            ));
        }
        out
    }
}

impl<B: RecordBackend> IdentityStore for EncryptedStore<B> {
    fn local_identity(&self) -> Result<Option<IdentityKeyPair>, StoreError> {
        Ok(self
            .load("identity", RECORD_IDENTITY, b"", |r, _| read_identity(r))?
            .map(|v| v.value))
    }
    fn trusted_identity(
        &self,
        peer: &PeerId,
    ) -> Result<Option<Versioned<IdentityKey>>, StoreError> {
        self.load(
            "peer identity",
            RECORD_PEER_IDENTITY,
            peer.as_bytes(),
            // Decoded strictly, its signature not verified again (SPEC.md
            // 15.4): the record's tag authenticates it.
            |r, _| Ok(IdentityKey::read_stored(r)?),
        )
    }
}

impl<B: RecordBackend> PreKeyRepository for EncryptedStore<B> {
    fn load_prekeys(&self) -> Result<Option<Versioned<PreKeyStore>>, StoreError> {
        self.load("prekeys", RECORD_PREKEYS, b"", PreKeyStore::read_state)
    }
}

impl<B: RecordBackend> SessionRepository for EncryptedStore<B> {
    fn load_sessions(&self, peer: &PeerId) -> Result<Option<Versioned<SessionRecord>>, StoreError> {
        self.load(
            "sessions",
            RECORD_PEER_SESSIONS,
            peer.as_bytes(),
            |r, version| {
                crate::Session::check_version(RECORD_PEER_SESSIONS, version)?;
                SessionRecord::read_state(r, version)
            },
        )
    }
}

impl<B: RecordBackend> ClientStateRepository for EncryptedStore<B> {
    fn load_client_state(&self) -> Result<Option<Versioned<ClientState>>, StoreError> {
        self.load("client state", RECORD_CLIENT_STATE, b"", |r, _| {
            ClientState::read_state(r)
        })
    }
    fn load_trust_state(&self) -> Result<Option<Versioned<TrustStore>>, StoreError> {
        self.load("trust state", RECORD_TRUST_STATE, b"", |r, _| {
            Ok(TrustStore::read_state(r)?)
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

//! Encrypted pickles of single objects: `pickle` seals an object's stored
//! layout in a record, `from_pickle` is the only way back.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::keys::{IdentityKeyPair, PreKeyStore};
use crate::session::Session;
use crate::store::constants::{
    MAX_RECORD_NAME_LEN, RECORD_IDENTITY, RECORD_PREKEYS, RECORD_SESSION,
};
use crate::store::record::{RestoreError, StorageKey, open, seal};
use crate::store::state::{IDENTITY_STATE_LEN, encode_identity, read_identity};
use crate::wire::Reader;

/// Seals the layout `encode` writes as a record of `kind` under `name`.
/// The plaintext buffer is allocated once with `len_bound` bytes (an upper
/// bound of the layout's length), so it never reallocates and leaves no
/// freed copy of a secret behind, and is erased afterwards.
pub(crate) fn seal_state<R: CryptoRng + ?Sized>(
    key: &StorageKey,
    kind: u8,
    name: &[u8],
    len_bound: usize,
    rng: &mut R,
    encode: impl FnOnce(&mut Vec<u8>),
) -> Vec<u8> {
    let mut buf = Zeroizing::new(Vec::with_capacity(len_bound));
    encode(&mut buf);
    seal(key, kind, name, &buf, rng)
}

/// Opens a record of `kind` under `name` and decodes its plaintext with
/// `decode` (given the record's version), refusing trailing bytes.
pub(crate) fn open_state<T>(
    key: &StorageKey,
    kind: u8,
    name: &[u8],
    record: &[u8],
    decode: impl FnOnce(&mut Reader<'_>, u8) -> Result<T, RestoreError>,
) -> Result<T, RestoreError> {
    let opened = open(key, kind, name, record)?;
    let mut r = Reader::new(&opened.plaintext);
    let value = decode(&mut r, opened.version)?;
    r.finish()?;
    Ok(value)
}

/// A slot name as bound into a record: names of up to 255 bytes as they
/// are, longer ones by their SHA-256 (so two long names never share a slot).
fn slot_name(name: &[u8]) -> Vec<u8> {
    if name.len() <= MAX_RECORD_NAME_LEN {
        name.to_vec()
    } else {
        crate::primitives::kdf::sha256(name).to_vec()
    }
}

impl Session {
    /// Seals the complete session (keys, counters, skipped keys, pending
    /// handshake) under `key`. Save it before sending what
    /// [`Session::encrypt`] returned, so a restart never reuses a key
    /// (SPEC.md, section 15.11).
    ///
    /// ```
    /// use hotline::{IdentityKeyPair, PreKeyStore, Session, store::StorageKey};
    /// let mut rng = rand::rng();
    /// let key = StorageKey::generate(&mut rng);
    /// let business = IdentityKeyPair::generate(&mut rng);
    /// let mut prekeys = PreKeyStore::new(&business, 1, 1, &mut rng);
    /// let customer = IdentityKeyPair::generate(&mut rng);
    /// let mut session = Session::initiate(&customer, &prekeys.bundle(), &mut rng)?;
    ///
    /// let first = session.encrypt(b"hello", b"")?;
    /// let saved = session.pickle(&key, &mut rng); // saved before `first` is sent
    /// drop(session);
    ///
    /// let mut session = Session::from_pickle(&saved, &key)?;
    /// let second = session.encrypt(b"still there?", b"")?;
    /// let (mut business_session, text) = Session::respond(&mut prekeys, &first, b"")?;
    /// assert_eq!(text, b"hello");
    /// assert_eq!(business_session.decrypt(&second, b"")?, b"still there?");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pickle<R: CryptoRng + ?Sized>(&self, key: &StorageKey, rng: &mut R) -> Vec<u8> {
        seal_state(
            key,
            RECORD_SESSION,
            b"",
            self.state_len_bound(),
            rng,
            |out| self.encode_state(out),
        )
    }

    /// Like [`Session::pickle`], with the application's slot name (1 to 255
    /// bytes, for example the peer's address) bound into the record, so a
    /// pickle moved to another slot is refused by
    /// [`Session::from_pickle_named`] (SPEC.md, section 15.16).
    ///
    /// ```
    /// use hotline::{IdentityKeyPair, PreKeyStore, Session, store::{RestoreError, StorageKey}};
    /// let mut rng = rand::rng();
    /// let key = StorageKey::generate(&mut rng);
    /// let prekeys = PreKeyStore::new(&IdentityKeyPair::generate(&mut rng), 1, 1, &mut rng);
    /// let session = Session::initiate(&IdentityKeyPair::generate(&mut rng), &prekeys.bundle(), &mut rng)?;
    /// let saved = session.pickle_named(&key, b"peer:alice", &mut rng);
    /// assert!(Session::from_pickle_named(&saved, &key, b"peer:alice").is_ok());
    /// assert_eq!(
    ///     Session::from_pickle_named(&saved, &key, b"peer:bob").err(),
    ///     Some(RestoreError::AuthenticationFailed)
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pickle_named<R: CryptoRng + ?Sized>(
        &self,
        key: &StorageKey,
        name: &[u8],
        rng: &mut R,
    ) -> Vec<u8> {
        let name = slot_name(name);
        seal_state(
            key,
            RECORD_SESSION,
            &name,
            self.state_len_bound(),
            rng,
            |out| self.encode_state(out),
        )
    }

    /// Restores a session from [`Session::pickle_named`]'s output, refusing
    /// one sealed under another name.
    pub fn from_pickle_named(
        record: &[u8],
        key: &StorageKey,
        name: &[u8],
    ) -> Result<Self, RestoreError> {
        open_state(
            key,
            RECORD_SESSION,
            &slot_name(name),
            record,
            |r, version| {
                Session::check_version(RECORD_SESSION, version)?;
                Session::read_state(r, version)
            },
        )
    }

    /// Restores a session from [`Session::pickle`]'s output.
    pub fn from_pickle(record: &[u8], key: &StorageKey) -> Result<Self, RestoreError> {
        open_state(key, RECORD_SESSION, b"", record, |r, version| {
            Session::check_version(RECORD_SESSION, version)?;
            Session::read_state(r, version)
        })
    }
}

impl IdentityKeyPair {
    /// Seals the identity's two private keys under `key`.
    ///
    /// ```
    /// use hotline::{IdentityKeyPair, store::StorageKey};
    /// let mut rng = rand::rng();
    /// let key = StorageKey::generate(&mut rng);
    /// let identity = IdentityKeyPair::generate(&mut rng);
    /// let restored = IdentityKeyPair::from_pickle(&identity.pickle(&key, &mut rng), &key)?;
    /// assert_eq!(restored.public(), identity.public());
    /// # Ok::<(), hotline::store::RestoreError>(())
    /// ```
    pub fn pickle<R: CryptoRng + ?Sized>(&self, key: &StorageKey, rng: &mut R) -> Vec<u8> {
        seal_state(key, RECORD_IDENTITY, b"", IDENTITY_STATE_LEN, rng, |out| {
            encode_identity(self, out)
        })
    }

    /// Restores an identity from [`IdentityKeyPair::pickle`]'s output.
    pub fn from_pickle(record: &[u8], key: &StorageKey) -> Result<Self, RestoreError> {
        open_state(key, RECORD_IDENTITY, b"", record, |r, _| read_identity(r))
    }
}

impl PreKeyStore {
    /// Seals the prekey store (identity, every prekey secret, the replay
    /// caches) under `key`. Consumed one-time prekeys are gone from it for
    /// good, so save it before a handshake's plaintext is used.
    ///
    /// ```
    /// use hotline::{IdentityKeyPair, PreKeyStore, store::StorageKey};
    /// let mut rng = rand::rng();
    /// let key = StorageKey::generate(&mut rng);
    /// let business = IdentityKeyPair::generate(&mut rng);
    /// let prekeys = PreKeyStore::new(&business, 3, 3, &mut rng);
    /// let restored = PreKeyStore::from_pickle(&prekeys.pickle(&key, &mut rng), &key)?;
    /// assert_eq!(restored.bundle(), prekeys.bundle());
    /// # Ok::<(), hotline::store::RestoreError>(())
    /// ```
    pub fn pickle<R: CryptoRng + ?Sized>(&self, key: &StorageKey, rng: &mut R) -> Vec<u8> {
        seal_state(
            key,
            RECORD_PREKEYS,
            b"",
            self.state_len_bound(),
            rng,
            |out| self.encode_state(out),
        )
    }

    /// Restores a prekey store from [`PreKeyStore::pickle`]'s output
    /// (version 1 records are migrated).
    pub fn from_pickle(record: &[u8], key: &StorageKey) -> Result<Self, RestoreError> {
        open_state(key, RECORD_PREKEYS, b"", record, PreKeyStore::read_state)
    }
}

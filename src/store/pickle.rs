//! Encrypted pickles of single objects: `pickle` seals an object's stored
//! layout in a record, `from_pickle` is the only way back.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::keys::{IdentityKeyPair, PreKeyStore};
use crate::session::Session;
use crate::store::constants::{RECORD_IDENTITY, RECORD_PREKEYS, RECORD_SESSION};
use crate::store::record::{RestoreError, StorageKey, open, seal};
use crate::store::state::{encode_identity, read_identity};
use crate::wire::Reader;

/// Seals the layout `encode` writes as a record of `kind` under `name`;
/// the plaintext buffer is erased afterwards.
pub(crate) fn seal_state<R: CryptoRng + ?Sized>(
    key: &StorageKey,
    kind: u8,
    name: &[u8],
    rng: &mut R,
    encode: impl FnOnce(&mut Vec<u8>),
) -> Vec<u8> {
    let mut buf = Zeroizing::new(Vec::new());
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
        seal_state(key, RECORD_SESSION, b"", rng, |out| self.encode_state(out))
    }

    /// Restores a session from [`Session::pickle`]'s output.
    pub fn from_pickle(record: &[u8], key: &StorageKey) -> Result<Self, RestoreError> {
        open_state(key, RECORD_SESSION, b"", record, |r, version| {
            Session::check_version(RECORD_SESSION, version)?;
            Session::read_state(r)
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
        seal_state(key, RECORD_IDENTITY, b"", rng, |out| {
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
        seal_state(key, RECORD_PREKEYS, b"", rng, |out| self.encode_state(out))
    }

    /// Restores a prekey store from [`PreKeyStore::pickle`]'s output
    /// (version 1 records are migrated).
    pub fn from_pickle(record: &[u8], key: &StorageKey) -> Result<Self, RestoreError> {
        open_state(key, RECORD_PREKEYS, b"", record, PreKeyStore::read_state)
    }
}

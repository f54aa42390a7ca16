//! The encrypted record: the at-rest envelope of every stored object.
//!
//! ```text
//! version (1) || kind (1) || key id (8) || nonce (12) || u32 plaintext length
//! || ChaCha20-Poly1305 ciphertext || tag (16)
//! ```
//!
//! The associated data binds the label, the whole header and the record's
//! name (where it is stored, for example the peer's address), so a record can
//! neither be relabelled as another kind or version nor moved to another
//! peer's slot. The key id tells a wrong storage key apart from a corrupted
//! record; the declared length tells a truncated record apart from both.

use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::primitives::aead::{open_in_place, seal_in_place};
use crate::primitives::kdf::hmac_sha256;
use crate::store::constants::{
    LABEL_STORAGE_KEY_ID, LABEL_STORAGE_RECORD, MAX_RECORD_NAME_LEN, MAX_RECORD_PLAINTEXT_LEN,
    RECORD_CLIENT_STATE, RECORD_HEADER_LEN, RECORD_IDENTITY, RECORD_PEER_IDENTITY,
    RECORD_PEER_SESSIONS, RECORD_PREKEYS, RECORD_SESSION, RECORD_TRUST_STATE, STORAGE_KEY_ID_LEN,
    STORAGE_KEY_LEN, STORAGE_VERSION, STORAGE_VERSION_1, STORAGE_VERSION_2,
};
use crate::wire::DecodeError;

/// The caller's 32-byte key that encrypts stored state.
///
/// Applications keep it outside the store: in the platform keychain, or
/// derived from a user secret. Zeroized on drop; `Debug` prints only its
/// public key id.
///
/// ```
/// use hotline::store::StorageKey;
/// let key = StorageKey::generate(&mut rand::rng());
/// let same = StorageKey::from_bytes(*key.as_bytes());
/// assert_eq!(key.key_id(), same.key_id());
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct StorageKey([u8; STORAGE_KEY_LEN]);

impl StorageKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; STORAGE_KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// A fresh random key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut k = [0u8; STORAGE_KEY_LEN];
        rng.fill_bytes(&mut k);
        Self(k)
    }

    /// The key's bytes (to put into a keychain).
    pub fn as_bytes(&self) -> &[u8; STORAGE_KEY_LEN] {
        &self.0
    }

    /// The 8-byte key id written into every record: the first 8 bytes of
    /// HMAC-SHA-256(key, "Hotline storage key id"). Public; it reveals
    /// nothing usable about the key.
    pub fn key_id(&self) -> [u8; STORAGE_KEY_ID_LEN] {
        let mut mac = hmac_sha256(&self.0, LABEL_STORAGE_KEY_ID);
        let mut id = [0u8; STORAGE_KEY_ID_LEN];
        id.copy_from_slice(&mac[..STORAGE_KEY_ID_LEN]);
        mac.zeroize();
        id
    }
}

impl core::fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "StorageKey(id ")?;
        for b in self.key_id() {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// Why stored state could not be restored. Nothing is restored in any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// The record is shorter than its header and tag, or than the plaintext
    /// length it declares.
    #[error("record truncated")]
    Truncated,
    /// Bytes follow the end the record's declared length gives.
    #[error("{0} trailing bytes after the record")]
    TrailingBytes(usize),
    /// The record's version is not one this implementation reads.
    #[error("unknown record version {0:#04x}")]
    UnknownVersion(u8),
    /// The record's kind byte is unknown.
    #[error("unknown record kind {0:#04x}")]
    UnknownKind(u8),
    /// The record is of another kind than the one asked for.
    #[error("record is of kind {found:#04x}, expected {expected:#04x}")]
    WrongKind {
        /// The kind asked for.
        expected: u8,
        /// The kind found.
        found: u8,
    },
    /// The record was sealed under another storage key (its key id differs).
    #[error("record was sealed under another storage key")]
    WrongKey,
    /// The declared plaintext length exceeds the largest record accepted.
    #[error("declared record length {0} exceeds the maximum")]
    TooLong(usize),
    /// The ciphertext does not authenticate under this key: the record was
    /// corrupted or altered, or was moved from another name (peer).
    #[error("record authentication failed (corrupted, altered or moved)")]
    AuthenticationFailed,
    /// The record authenticated, but its content is malformed.
    #[error("malformed stored state: {0}")]
    Malformed(#[from] DecodeError),
    /// The record authenticated and parsed, but violates an invariant of
    /// the state it holds.
    #[error("inconsistent stored state: {0}")]
    Inconsistent(&'static str),
    /// A record version this kind no longer has a reader for (version 1
    /// sessions predate business identity; SPEC.md, section 15.8).
    #[error("record version {version:#04x} of kind {kind:#04x} is not read")]
    RetiredVersion {
        /// The record kind.
        kind: u8,
        /// The record's version.
        version: u8,
    },
}

/// The record kinds.
pub(crate) fn known_kind(kind: u8) -> bool {
    matches!(
        kind,
        RECORD_IDENTITY
            | RECORD_PREKEYS
            | RECORD_SESSION
            | RECORD_PEER_SESSIONS
            | RECORD_PEER_IDENTITY
            | RECORD_CLIENT_STATE
            | RECORD_TRUST_STATE
    )
}

/// The associated data: label || version || kind || key id || nonce ||
/// u32 plaintext length || u8 name length || name.
fn associated_data(header: &[u8], name: &[u8]) -> Vec<u8> {
    let mut ad = Vec::with_capacity(LABEL_STORAGE_RECORD.len() + header.len() + 1 + name.len());
    ad.extend_from_slice(LABEL_STORAGE_RECORD);
    ad.extend_from_slice(header);
    // Names are at most 255 bytes (checked by callers).
    ad.push(name.len() as u8);
    ad.extend_from_slice(name);
    ad
}

/// Seals `plaintext` as a record of `kind` under `key`, with a fresh random
/// nonce, at the current version.
pub(crate) fn seal<R: CryptoRng + ?Sized>(
    key: &StorageKey,
    kind: u8,
    name: &[u8],
    plaintext: &[u8],
    rng: &mut R,
) -> Vec<u8> {
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    seal_with_nonce(key, STORAGE_VERSION, kind, name, &nonce, plaintext)
}

/// [`seal`] with an explicit version and nonce (vectors, migration tests).
pub(crate) fn seal_with_nonce(
    key: &StorageKey,
    version: u8,
    kind: u8,
    name: &[u8],
    nonce: &[u8; 12],
    plaintext: &[u8],
) -> Vec<u8> {
    debug_assert!(name.len() <= MAX_RECORD_NAME_LEN);
    debug_assert!(plaintext.len() <= MAX_RECORD_PLAINTEXT_LEN);
    let mut out = Vec::with_capacity(RECORD_HEADER_LEN + plaintext.len() + 16);
    out.push(version);
    out.push(kind);
    out.extend_from_slice(&key.key_id());
    out.extend_from_slice(nonce);
    out.extend_from_slice(&(plaintext.len() as u32).to_be_bytes());
    let ad = associated_data(&out, name);
    let start = out.len();
    out.extend_from_slice(plaintext);
    // The length was checked above, far below the AEAD's limit.
    let tag = seal_in_place(&key.0, nonce, &ad, &mut out[start..])
        .unwrap_or_else(|_| unreachable!("record within AEAD limits"));
    out.extend_from_slice(&tag);
    out
}

/// An opened record's plaintext, zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct Opened {
    #[zeroize(skip)]
    pub(crate) version: u8,
    pub(crate) plaintext: Vec<u8>,
}

/// Opens a record of `kind` stored under `name`. Checks, in this order:
/// version, kind, key id, declared length, authentication.
pub(crate) fn open(
    key: &StorageKey,
    kind: u8,
    name: &[u8],
    record: &[u8],
) -> Result<Opened, RestoreError> {
    let version = *record.first().ok_or(RestoreError::Truncated)?;
    if version != STORAGE_VERSION && version != STORAGE_VERSION_2 && version != STORAGE_VERSION_1 {
        return Err(RestoreError::UnknownVersion(version));
    }
    let found = *record.get(1).ok_or(RestoreError::Truncated)?;
    if !known_kind(found) {
        return Err(RestoreError::UnknownKind(found));
    }
    if found != kind {
        return Err(RestoreError::WrongKind {
            expected: kind,
            found,
        });
    }
    if record.len() < RECORD_HEADER_LEN {
        return Err(RestoreError::Truncated);
    }
    let (header, body) = record.split_at(RECORD_HEADER_LEN);
    if header[2..2 + STORAGE_KEY_ID_LEN] != key.key_id() {
        return Err(RestoreError::WrongKey);
    }
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&header[10..22]);
    let len = u32::from_be_bytes([header[22], header[23], header[24], header[25]]) as usize;
    if len > MAX_RECORD_PLAINTEXT_LEN {
        return Err(RestoreError::TooLong(len));
    }
    let expected = len + 16;
    if body.len() < expected {
        return Err(RestoreError::Truncated);
    }
    if body.len() > expected {
        return Err(RestoreError::TrailingBytes(body.len() - expected));
    }
    if name.len() > MAX_RECORD_NAME_LEN {
        return Err(RestoreError::AuthenticationFailed);
    }
    let (ct, tag) = body.split_at(len);
    let mut tag_arr = [0u8; 16];
    tag_arr.copy_from_slice(tag);
    let mut opened = Opened {
        version,
        plaintext: ct.to_vec(),
    };
    open_in_place(
        &key.0,
        &nonce,
        &associated_data(header, name),
        &mut opened.plaintext,
        &tag_arr,
    )
    .map_err(|_| RestoreError::AuthenticationFailed)?;
    Ok(opened)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> StorageKey {
        StorageKey::from_bytes([b; 32])
    }

    #[test]
    fn every_failure_has_its_own_error() {
        let k = key(1);
        let rec = seal_with_nonce(
            &k,
            STORAGE_VERSION,
            RECORD_SESSION,
            b"peer",
            &[9; 12],
            b"state",
        );
        assert_eq!(
            open(&k, RECORD_SESSION, b"peer", &rec).unwrap().plaintext,
            b"state"
        );
        assert_eq!(
            open(&key(2), RECORD_SESSION, b"peer", &rec).err(),
            Some(RestoreError::WrongKey)
        );
        assert_eq!(
            open(&k, RECORD_SESSION, b"other", &rec).err(),
            Some(RestoreError::AuthenticationFailed)
        );
        assert_eq!(
            open(&k, RECORD_IDENTITY, b"peer", &rec).err(),
            Some(RestoreError::WrongKind {
                expected: RECORD_IDENTITY,
                found: RECORD_SESSION
            })
        );
        for cut in 0..rec.len() {
            assert_eq!(
                open(&k, RECORD_SESSION, b"peer", &rec[..cut]).err(),
                Some(RestoreError::Truncated),
                "cut at {cut}"
            );
        }
        let mut long = rec.clone();
        long.push(0);
        assert_eq!(
            open(&k, RECORD_SESSION, b"peer", &long).err(),
            Some(RestoreError::TrailingBytes(1))
        );
        let mut v = rec.clone();
        v[0] = 0x04;
        assert_eq!(
            open(&k, RECORD_SESSION, b"peer", &v).err(),
            Some(RestoreError::UnknownVersion(4))
        );
        let mut v = rec.clone();
        v[1] = 0x77;
        assert_eq!(
            open(&k, RECORD_SESSION, b"peer", &v).err(),
            Some(RestoreError::UnknownKind(0x77))
        );
        // Relabelling a record as the older version is caught by the tag.
        let mut v = rec.clone();
        v[0] = STORAGE_VERSION_1;
        assert_eq!(
            open(&k, RECORD_SESSION, b"peer", &v).err(),
            Some(RestoreError::AuthenticationFailed)
        );
        let mut v = rec.clone();
        v[22..26].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(
            open(&k, RECORD_SESSION, b"peer", &v).err(),
            Some(RestoreError::TooLong(u32::MAX as usize))
        );
        // Every byte after the key id is covered by the tag or the length check.
        for i in RECORD_HEADER_LEN - 16..rec.len() {
            let mut v = rec.clone();
            v[i] ^= 0x01;
            let err = open(&k, RECORD_SESSION, b"peer", &v).err();
            if (22..26).contains(&i) {
                assert!(
                    matches!(
                        err,
                        Some(
                            RestoreError::Truncated
                                | RestoreError::TrailingBytes(_)
                                | RestoreError::TooLong(_)
                        )
                    ),
                    "byte {i}: {err:?}"
                );
            } else {
                assert_eq!(err, Some(RestoreError::AuthenticationFailed), "byte {i}");
            }
        }
    }

    #[test]
    fn debug_prints_no_key_material() {
        let k = key(0xAB);
        let s = format!("{k:?}");
        assert!(!s.contains("abab"), "{s}");
        assert!(s.starts_with("StorageKey(id "), "{s}");
    }
}

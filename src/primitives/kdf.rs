//! HKDF-SHA-256, HMAC-SHA-256 and SHA-256.

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = hmac::Hmac<Sha256>;

/// The requested output is longer than HKDF-SHA-256 can produce (255 * 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfLength;

/// HKDF-SHA-256 (RFC 5869): extract with `salt`, expand with `info` into `out`.
pub fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) -> Result<(), KdfLength> {
    hkdf::Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, out)
        .map_err(|_| KdfLength)
}

/// HKDF-Expand only, from a 32-byte pseudorandom key.
pub fn hkdf_expand(prk: &[u8; 32], info: &[u8], out: &mut [u8]) -> Result<(), KdfLength> {
    hkdf::Hkdf::<Sha256>::from_prk(prk)
        .map_err(|_| KdfLength)?
        .expand(info, out)
        .map_err(|_| KdfLength)
}

/// HMAC-SHA-256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// An incremental SHA-256.
#[derive(Clone, Default)]
pub struct Sha256Hasher(Sha256);

impl Sha256Hasher {
    /// Starts a hash.
    pub fn new() -> Self {
        Self(Sha256::new())
    }
    /// Absorbs bytes.
    pub fn update(&mut self, data: &[u8]) {
        Digest::update(&mut self.0, data);
    }
    /// The 32-byte digest.
    pub fn finalize(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256Hasher::new();
    h.update(data);
    h.finalize()
}

//! Ed25519 signatures with strict verification only.

use ed25519_dalek::{Signer, SigningKey as DalekSigning, VerifyingKey as DalekVerifying};
use rand_core::CryptoRng;
use zeroize::Zeroize;

/// An Ed25519 signing key. Zeroized on drop (by ed25519-dalek); `Debug`
/// prints no key material.
#[derive(Clone)]
pub struct Ed25519Secret(DalekSigning);

/// An Ed25519 public key, checked on decoding to be a valid point that is not
/// of small order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ed25519Public(DalekVerifying);

/// A signature failed strict verification, or a public key was invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadSignature;

impl Ed25519Secret {
    /// A fresh random signing key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let key = Self::from_seed(&seed);
        seed.zeroize();
        key
    }

    /// A signing key from its 32-byte seed (RFC 8032 private key).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(DalekSigning::from_bytes(seed))
    }

    /// The 32-byte seed, for storage.
    pub fn to_seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public key.
    pub fn public_key(&self) -> Ed25519Public {
        Ed25519Public(self.0.verifying_key())
    }

    /// Signs `context || message` (pure Ed25519, deterministic).
    pub fn sign(&self, context: &[u8], message: &[u8]) -> [u8; 64] {
        let mut input = Vec::with_capacity(context.len() + message.len());
        input.extend_from_slice(context);
        input.extend_from_slice(message);
        self.0.sign(&input).to_bytes()
    }
}

impl core::fmt::Debug for Ed25519Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Ed25519Secret(<redacted>)")
    }
}

impl Ed25519Public {
    /// Decodes a public key; refuses encodings that do not decompress,
    /// non-canonical encodings (y >= p), and small-order (weak) keys, so
    /// every accepted key has exactly one encoding.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, BadSignature> {
        if !is_canonical_y(bytes) {
            return Err(BadSignature);
        }
        let key = DalekVerifying::from_bytes(bytes).map_err(|_| BadSignature)?;
        if key.is_weak() {
            return Err(BadSignature);
        }
        Ok(Self(key))
    }

    /// The 32-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Strict verification (canonical R and S, no small-order components) of
    /// a signature over `context || message`.
    pub fn verify(
        &self,
        context: &[u8],
        message: &[u8],
        signature: &[u8; 64],
    ) -> Result<(), BadSignature> {
        let mut input = Vec::with_capacity(context.len() + message.len());
        input.extend_from_slice(context);
        input.extend_from_slice(message);
        self.verify_raw(&input, signature)
    }

    /// Strict verification of a signature over `message` with no context
    /// (used for external test vectors).
    pub fn verify_raw(&self, message: &[u8], signature: &[u8; 64]) -> Result<(), BadSignature> {
        let sig = ed25519_dalek::Signature::from_bytes(signature);
        self.0
            .verify_strict(message, &sig)
            .map_err(|_| BadSignature)
    }
}

impl core::fmt::Debug for Ed25519Public {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Ed25519Public(")?;
        for b in self.0.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// Whether the y-coordinate of a compressed Edwards point (sign bit cleared)
/// is below p = 2^255 - 19. The only non-canonical values are p..2^255-1:
/// byte 0 at least 0xed, bytes 1..=30 all 0xff, byte 31 equal to 0x7f once
/// the sign bit is cleared.
fn is_canonical_y(bytes: &[u8; 32]) -> bool {
    let top = bytes[31] & 0x7f;
    !(top == 0x7f && bytes[1..31].iter().all(|&b| b == 0xff) && bytes[0] >= 0xed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_canonical_public_key_encodings_are_refused() {
        // y = p + 3 (non-canonical for y = 3, which is not even a point on
        // every curve model, so also check p + 9 .. p + 18 and 2^255 - 1).
        for low in [0xedu8, 0xf0, 0xff] {
            let mut enc = [0xffu8; 32];
            enc[0] = low;
            enc[31] = 0x7f;
            assert_eq!(
                Ed25519Public::from_bytes(&enc),
                Err(BadSignature),
                "{low:#x}"
            );
            enc[31] = 0xff;
            assert_eq!(
                Ed25519Public::from_bytes(&enc),
                Err(BadSignature),
                "{low:#x} signed"
            );
        }
        assert!(is_canonical_y(&{
            let mut e = [0xffu8; 32];
            e[0] = 0xec;
            e[31] = 0x7f;
            e
        }));
        // A real key still decodes.
        let k = Ed25519Secret::from_seed(&[1; 32]).public_key();
        assert_eq!(Ed25519Public::from_bytes(&k.to_bytes()), Ok(k));
    }
}

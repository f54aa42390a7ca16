//! X25519 Diffie-Hellman with contributory-behaviour checks.

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// An X25519 private key. Zeroized on drop (by x25519-dalek's `StaticSecret`);
/// `Debug` prints no key material. The public key is computed once, at
/// creation, because the ratchet needs it for every message header.
#[derive(Clone)]
pub struct X25519Secret {
    secret: x25519_dalek::StaticSecret,
    public: X25519Public,
}

/// An X25519 public key (its raw 32-byte u-coordinate).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct X25519Public(pub(crate) [u8; 32]);

/// The output of a Diffie-Hellman computation that was checked to be
/// contributory (not all-zero). Zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DhOutput(pub(crate) [u8; 32]);

/// The peer's public key is of low order: the shared secret would be all-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowOrderPoint;

impl X25519Secret {
    /// A fresh random private key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        let key = Self::from_bytes(bytes);
        bytes.zeroize();
        key
    }

    /// A private key from its 32 bytes (clamping happens inside X25519).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let secret = x25519_dalek::StaticSecret::from(bytes);
        let public = X25519Public(x25519_dalek::PublicKey::from(&secret).to_bytes());
        Self { secret, public }
    }

    /// The private key's bytes, for storage.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.secret.to_bytes()
    }

    /// The matching public key.
    pub fn public_key(&self) -> X25519Public {
        self.public
    }

    /// X25519(self, peer), refusing an all-zero output (a low-order or
    /// otherwise non-contributory peer key).
    pub fn diffie_hellman(&self, peer: &X25519Public) -> Result<DhOutput, LowOrderPoint> {
        let shared = self
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(peer.0));
        let out = DhOutput(shared.to_bytes());
        if bool::from(out.0.ct_eq(&[0u8; 32])) {
            return Err(LowOrderPoint);
        }
        Ok(out)
    }
}

impl core::fmt::Debug for X25519Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("X25519Secret(<redacted>)")
    }
}

impl X25519Public {
    /// A public key from its raw 32 bytes (no check; see [`Self::is_low_order`]).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether this point is of low order (so every DH with it is all-zero).
    ///
    /// X25519 multiplies by a clamped scalar `8·k'` with `0 < k' < 2^252`,
    /// below the prime order of both the curve's and the twist's large
    /// subgroups, so its output is all-zero exactly when `[8]P` is the
    /// identity, i.e. when the point lies in the small subgroup (on the curve
    /// or its twist; neither has a point of order 16, so `[8]P` cannot be the
    /// other point with u = 0). `[8]P` takes a four-step Montgomery ladder
    /// instead of a full 255-step DH. The test suite checks that this agrees
    /// with an actual DH on every Wycheproof and every known low-order key.
    pub fn is_low_order(&self) -> bool {
        const EIGHT_BE: [bool; 4] = [true, false, false, false];
        let eight_p = curve25519_dalek::MontgomeryPoint(self.0).mul_bits_be(EIGHT_BE.into_iter());
        eight_p.to_bytes() == [0u8; 32]
    }
}

impl core::fmt::Debug for X25519Public {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "X25519Public(")?;
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

impl DhOutput {
    /// The shared secret bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

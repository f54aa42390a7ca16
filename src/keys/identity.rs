//! Long-term identity: an Ed25519 signing key that certifies an X25519 key.

use rand_core::CryptoRng;

use crate::constants::SIG_CTX_IDENTITY;
use crate::primitives::ed25519::{Ed25519Public, Ed25519Secret};
use crate::primitives::x25519::{X25519Public, X25519Secret};
use crate::wire::{DecodeError, KeyEncoding, Reader};

/// Encoded length of an [`IdentityKey`]: Ed25519 key (33), X25519 key (33),
/// certificate signature (64).
pub const IDENTITY_KEY_LEN: usize = 33 + 33 + 64;

/// A party's long-term identity key pair.
///
/// The Ed25519 key signs prekeys (and, in the business layer, is what a
/// certificate names); the X25519 key takes part in the handshake. The
/// Ed25519 key certifies the X25519 key with a signature, so the two can only
/// be used together. Secrets are zeroized on drop and never printed.
#[derive(Clone)]
pub struct IdentityKeyPair {
    signing: Ed25519Secret,
    dh: X25519Secret,
    public: IdentityKey,
}

/// A party's public identity: Ed25519 key, X25519 key and the Ed25519
/// signature over the X25519 key. A value of this type has always had its
/// signature verified strictly and its X25519 key checked not to be of low order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IdentityKey {
    signing: Ed25519Public,
    dh: X25519Public,
    signature: [u8; 64],
}

impl IdentityKeyPair {
    /// A fresh identity from a cryptographically secure RNG.
    ///
    /// ```
    /// let identity = hotline::IdentityKeyPair::generate(&mut rand::rng());
    /// let public = identity.public();
    /// assert_eq!(hotline::IdentityKey::from_bytes(&public.to_bytes()).unwrap(), public);
    /// ```
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let signing = Ed25519Secret::generate(rng);
        let dh = X25519Secret::generate(rng);
        Self::from_parts(signing, dh)
    }

    /// An identity from its two 32-byte private keys (Ed25519 seed, X25519 scalar).
    pub fn from_secret_bytes(ed25519_seed: &[u8; 32], x25519_secret: &[u8; 32]) -> Self {
        Self::from_parts(
            Ed25519Secret::from_seed(ed25519_seed),
            X25519Secret::from_bytes(*x25519_secret),
        )
    }

    fn from_parts(signing: Ed25519Secret, dh: X25519Secret) -> Self {
        let signing_pub = signing.public_key();
        let dh_pub = dh.public_key();
        let signature = signing.sign(
            SIG_CTX_IDENTITY,
            &IdentityKey::signed_part(&signing_pub, &dh_pub),
        );
        Self {
            public: IdentityKey {
                signing: signing_pub,
                dh: dh_pub,
                signature,
            },
            signing,
            dh,
        }
    }

    /// The public identity.
    pub fn public(&self) -> IdentityKey {
        self.public
    }

    pub(crate) fn signing(&self) -> &Ed25519Secret {
        &self.signing
    }

    pub(crate) fn dh(&self) -> &X25519Secret {
        &self.dh
    }
}

impl core::fmt::Debug for IdentityKeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IdentityKeyPair")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl IdentityKey {
    fn signed_part(signing: &Ed25519Public, dh: &X25519Public) -> Vec<u8> {
        let mut m = Vec::with_capacity(66);
        signing.encode_into(&mut m);
        dh.encode_into(&mut m);
        m
    }

    /// The Ed25519 public key.
    pub fn signing_key(&self) -> &Ed25519Public {
        &self.signing
    }

    /// The X25519 public key.
    pub fn dh_key(&self) -> &X25519Public {
        &self.dh
    }

    /// The 130-byte encoding: typed Ed25519 key, typed X25519 key, signature.
    pub fn to_bytes(&self) -> [u8; IDENTITY_KEY_LEN] {
        let mut v = Vec::with_capacity(IDENTITY_KEY_LEN);
        self.encode_into(&mut v);
        let mut out = [0u8; IDENTITY_KEY_LEN];
        out.copy_from_slice(&v);
        out
    }

    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        self.signing.encode_into(out);
        self.dh.encode_into(out);
        out.extend_from_slice(&self.signature);
    }

    /// Decodes and verifies an identity (strict Ed25519, X25519 key not of low order).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdentityError> {
        let mut r = Reader::new(bytes);
        let id = Self::read(&mut r)?;
        r.finish()?;
        if id.dh.is_low_order() {
            return Err(IdentityError::LowOrderKey);
        }
        Ok(id)
    }

    /// Reads an identity and verifies its signature. The caller checks the
    /// X25519 key's order: bundles do it on decoding, and in an initial
    /// message DH1 with it fails as `LowOrderKey` (saving a scalar
    /// multiplication on the responder's hot path).
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, IdentityError> {
        let signing = r.ed25519("identity Ed25519 key")?;
        let dh = r.x25519("identity X25519 key")?;
        let signature = *r.array::<64>("identity signature")?;
        signing
            .verify(
                SIG_CTX_IDENTITY,
                &Self::signed_part(&signing, &dh),
                &signature,
            )
            .map_err(|_| IdentityError::BadSignature)?;
        Ok(Self {
            signing,
            dh,
            signature,
        })
    }

    /// Reads an identity from a stored session without checking its
    /// signature again. The keys are still decoded strictly (key tags,
    /// canonical and not-weak Ed25519 key). The record's AEAD tag already
    /// authenticates the bytes, the identity was verified when it was first
    /// received, and a holder of the storage key could store any identity
    /// with a valid self-signature anyway; the two signature checks were most
    /// of the cost of restoring a session (SPEC.md 15.6).
    pub(crate) fn read_stored(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let signing = r.ed25519("identity Ed25519 key")?;
        let dh = r.x25519("identity X25519 key")?;
        let signature = *r.array::<64>("identity signature")?;
        Ok(Self {
            signing,
            dh,
            signature,
        })
    }

    /// A short hex form of the Ed25519 key, for logs and display.
    pub fn short_id(&self) -> String {
        self.signing.to_bytes()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl core::fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "IdentityKey({})", self.short_id())
    }
}

/// Why an identity key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The bytes are malformed.
    #[error("malformed identity key: {0}")]
    Decode(#[from] DecodeError),
    /// The Ed25519 signature over the X25519 key failed strict verification.
    #[error("identity key signature is invalid")]
    BadSignature,
    /// The X25519 identity key is of low order.
    #[error("identity X25519 key is of low order")]
    LowOrderKey,
}

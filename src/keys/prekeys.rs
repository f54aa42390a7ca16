//! Signed X25519 prekeys, one-time X25519 prekeys and ML-KEM-768 prekeys.
//!
//! Every prekey, one-time ones included, carries an Ed25519 signature by the
//! owner's identity under its own context string, so the relay cannot
//! substitute keys of its own, and a signature for one kind of prekey never
//! verifies as another kind.

use rand_core::CryptoRng;

use crate::constants::{
    KEM_KIND_LAST_RESORT, KEM_KIND_ONE_TIME, SIG_CTX_KEM_PREKEY, SIG_CTX_ONE_TIME_PREKEY,
    SIG_CTX_SIGNED_PREKEY,
};
use crate::keys::identity::IdentityKeyPair;
use crate::primitives::ed25519::{BadSignature, Ed25519Public};
use crate::primitives::kem::{KemPublic, KemSecret};
use crate::primitives::x25519::{X25519Public, X25519Secret};
use crate::wire::{DecodeError, KeyEncoding, Reader};

/// Whether a KEM prekey is used once or kept as the last resort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KemPreKeyKind {
    /// Handed out at most once and deleted when used.
    OneTime,
    /// Reused when no one-time KEM prekey is left.
    LastResort,
}

impl KemPreKeyKind {
    pub(crate) fn to_byte(self) -> u8 {
        match self {
            Self::OneTime => KEM_KIND_ONE_TIME,
            Self::LastResort => KEM_KIND_LAST_RESORT,
        }
    }

    pub(crate) fn from_byte(b: u8) -> Result<Self, DecodeError> {
        match b {
            KEM_KIND_ONE_TIME => Ok(Self::OneTime),
            KEM_KIND_LAST_RESORT => Ok(Self::LastResort),
            value => Err(DecodeError::InvalidValue {
                field: "KEM prekey kind",
                value,
            }),
        }
    }
}

fn x25519_signed_part(id: u32, key: &X25519Public) -> Vec<u8> {
    let mut m = Vec::with_capacity(4 + 33);
    m.extend_from_slice(&id.to_be_bytes());
    key.encode_into(&mut m);
    m
}

fn kem_signed_part(id: u32, kind: KemPreKeyKind, key: &KemPublic) -> Vec<u8> {
    let mut m = Vec::with_capacity(5 + 1185);
    m.extend_from_slice(&id.to_be_bytes());
    m.push(kind.to_byte());
    key.encode_into(&mut m);
    m
}

/// The public half of a signed X25519 prekey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedPreKeyPublic {
    /// The prekey's id, chosen by its owner.
    pub id: u32,
    /// The X25519 public key.
    pub key: X25519Public,
    /// Ed25519 signature by the owner's identity.
    pub signature: [u8; 64],
}

/// The public half of a one-time X25519 prekey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OneTimePreKeyPublic {
    /// The prekey's id, chosen by its owner.
    pub id: u32,
    /// The X25519 public key.
    pub key: X25519Public,
    /// Ed25519 signature by the owner's identity.
    pub signature: [u8; 64],
}

/// The public half of an ML-KEM-768 prekey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KemPreKeyPublic {
    /// The prekey's id, chosen by its owner.
    pub id: u32,
    /// One-time or last resort.
    pub kind: KemPreKeyKind,
    /// The ML-KEM-768 encapsulation key.
    pub key: KemPublic,
    /// Ed25519 signature by the owner's identity.
    pub signature: [u8; 64],
}

impl SignedPreKeyPublic {
    /// Its encoding, as in the body of `UploadPreKeys`: for stores that
    /// keep prekeys outside this crate.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }
    /// Decodes [`to_bytes`](Self::to_bytes)' output, refusing trailing
    /// bytes. The signature is not checked here: see `verify`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Self::read(&mut r)?;
        r.finish()?;
        Ok(v)
    }
    /// Strictly verifies the signature under `owner`.
    pub fn verify(&self, owner: &Ed25519Public) -> Result<(), BadSignature> {
        owner.verify(
            SIG_CTX_SIGNED_PREKEY,
            &x25519_signed_part(self.id, &self.key),
            &self.signature,
        )
    }
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_be_bytes());
        self.key.encode_into(out);
        out.extend_from_slice(&self.signature);
    }
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            id: r.u32("signed prekey id")?,
            key: r.x25519("signed prekey")?,
            signature: *r.array::<64>("signed prekey signature")?,
        })
    }
}

impl OneTimePreKeyPublic {
    /// Its encoding, as in the body of `UploadPreKeys`: for stores that
    /// keep prekeys outside this crate.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }
    /// Decodes [`to_bytes`](Self::to_bytes)' output, refusing trailing
    /// bytes. The signature is not checked here: see `verify`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Self::read(&mut r)?;
        r.finish()?;
        Ok(v)
    }
    /// Strictly verifies the signature under `owner`.
    pub fn verify(&self, owner: &Ed25519Public) -> Result<(), BadSignature> {
        owner.verify(
            SIG_CTX_ONE_TIME_PREKEY,
            &x25519_signed_part(self.id, &self.key),
            &self.signature,
        )
    }
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_be_bytes());
        self.key.encode_into(out);
        out.extend_from_slice(&self.signature);
    }
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            id: r.u32("one-time prekey id")?,
            key: r.x25519("one-time prekey")?,
            signature: *r.array::<64>("one-time prekey signature")?,
        })
    }
}

impl KemPreKeyPublic {
    /// Its encoding, as in the body of `UploadPreKeys`: for stores that
    /// keep prekeys outside this crate.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }
    /// Decodes [`to_bytes`](Self::to_bytes)' output, refusing trailing
    /// bytes. The signature is not checked here: see `verify`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Self::read(&mut r)?;
        r.finish()?;
        Ok(v)
    }
    /// Strictly verifies the signature under `owner`.
    pub fn verify(&self, owner: &Ed25519Public) -> Result<(), BadSignature> {
        owner.verify(
            SIG_CTX_KEM_PREKEY,
            &kem_signed_part(self.id, self.kind, &self.key),
            &self.signature,
        )
    }
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_be_bytes());
        out.push(self.kind.to_byte());
        self.key.encode_into(out);
        out.extend_from_slice(&self.signature);
    }
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            id: r.u32("KEM prekey id")?,
            kind: KemPreKeyKind::from_byte(r.u8("KEM prekey kind")?)?,
            key: r.mlkem("KEM prekey")?,
            signature: *r.array::<64>("KEM prekey signature")?,
        })
    }
}

/// A signed X25519 prekey with its private key.
#[derive(Clone)]
pub struct SignedPreKey {
    /// The secret key.
    pub secret: X25519Secret,
    /// The signed public part.
    pub public: SignedPreKeyPublic,
}

impl SignedPreKey {
    /// The prekey `id` with `secret`, signed by `identity`.
    pub fn new(identity: &IdentityKeyPair, id: u32, secret: X25519Secret) -> Self {
        let key = secret.public_key();
        let signature = identity
            .signing()
            .sign(SIG_CTX_SIGNED_PREKEY, &x25519_signed_part(id, &key));
        Self {
            secret,
            public: SignedPreKeyPublic { id, key, signature },
        }
    }
    pub(crate) fn generate<R: CryptoRng + ?Sized>(
        identity: &IdentityKeyPair,
        id: u32,
        rng: &mut R,
    ) -> Self {
        Self::new(identity, id, X25519Secret::generate(rng))
    }
}

/// A one-time X25519 prekey with its private key.
#[derive(Clone)]
pub struct OneTimePreKey {
    /// The secret key.
    pub secret: X25519Secret,
    /// The signed public part.
    pub public: OneTimePreKeyPublic,
}

impl OneTimePreKey {
    /// The prekey `id` with `secret`, signed by `identity`.
    pub fn new(identity: &IdentityKeyPair, id: u32, secret: X25519Secret) -> Self {
        let key = secret.public_key();
        let signature = identity
            .signing()
            .sign(SIG_CTX_ONE_TIME_PREKEY, &x25519_signed_part(id, &key));
        Self {
            secret,
            public: OneTimePreKeyPublic { id, key, signature },
        }
    }
    pub(crate) fn generate<R: CryptoRng + ?Sized>(
        identity: &IdentityKeyPair,
        id: u32,
        rng: &mut R,
    ) -> Self {
        Self::new(identity, id, X25519Secret::generate(rng))
    }
}

/// An ML-KEM-768 prekey with its private key.
#[derive(Clone)]
pub struct KemPreKey {
    /// The decapsulation key.
    pub secret: KemSecret,
    /// The signed public part.
    pub public: KemPreKeyPublic,
}

impl KemPreKey {
    /// The prekey `id` from its seed, signed by `identity`.
    pub fn new(
        identity: &IdentityKeyPair,
        id: u32,
        kind: KemPreKeyKind,
        secret: KemSecret,
    ) -> Self {
        let key = secret.public_key();
        let signature = identity
            .signing()
            .sign(SIG_CTX_KEM_PREKEY, &kem_signed_part(id, kind, &key));
        Self {
            secret,
            public: KemPreKeyPublic {
                id,
                kind,
                key,
                signature,
            },
        }
    }
    pub(crate) fn generate<R: CryptoRng + ?Sized>(
        identity: &IdentityKeyPair,
        id: u32,
        kind: KemPreKeyKind,
        rng: &mut R,
    ) -> Self {
        Self::new(identity, id, kind, KemSecret::generate(rng))
    }
}

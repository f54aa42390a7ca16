//! The prekey bundle a party publishes so others can start sessions with it.

use crate::business::CertificateChain;
use crate::constants::{OBJ_TYPE_BUNDLE, PROTOCOL_VERSION};
use crate::keys::identity::{IdentityError, IdentityKey};
use crate::keys::prekeys::{KemPreKeyPublic, OneTimePreKeyPublic, SignedPreKeyPublic};
use crate::wire::{DecodeError, Reader};

/// A verified prekey bundle.
///
/// A value of this type only exists after every signature in it (identity
/// certificate, signed prekey, one-time prekey, KEM prekey) has been verified
/// strictly and every X25519 key has been checked not to be of low order, so
/// the handshake never touches an unchecked key. The KEM prekey is mandatory:
/// there is no classical-only handshake to downgrade to.
///
/// A certified business's bundle also carries its certificate chain. The
/// chain is decoded strictly but *not trusted* by bundle decoding: trust
/// needs the client's roots and clock, see
/// [`TrustStore::verify_bundle`](crate::business::TrustStore::verify_bundle)
/// and [`Session::initiate_verified`](crate::Session::initiate_verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreKeyBundle {
    identity: IdentityKey,
    signed_prekey: SignedPreKeyPublic,
    one_time_prekey: Option<OneTimePreKeyPublic>,
    kem_prekey: KemPreKeyPublic,
    certificate: Option<CertificateChain>,
}

/// Which part of a bundle failed verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleField {
    /// The identity key and its certificate signature.
    Identity,
    /// The signed X25519 prekey.
    SignedPreKey,
    /// The one-time X25519 prekey.
    OneTimePreKey,
    /// The ML-KEM-768 prekey.
    KemPreKey,
}

/// Why a prekey bundle was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The bytes are malformed.
    #[error("malformed prekey bundle: {0}")]
    Decode(#[from] DecodeError),
    /// A signature failed strict verification.
    #[error("bad signature on {0:?}")]
    BadSignature(BundleField),
    /// An X25519 key is of low order (every DH with it would be all-zero).
    #[error("low-order X25519 key in {0:?}")]
    LowOrderKey(BundleField),
}

impl From<IdentityError> for BundleError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::Decode(d) => Self::Decode(d),
            IdentityError::BadSignature => Self::BadSignature(BundleField::Identity),
            IdentityError::LowOrderKey => Self::LowOrderKey(BundleField::Identity),
        }
    }
}

impl PreKeyBundle {
    /// Assembles a bundle from its parts (as a relay's directory does) and
    /// verifies it.
    pub fn new(
        identity: IdentityKey,
        signed_prekey: SignedPreKeyPublic,
        one_time_prekey: Option<OneTimePreKeyPublic>,
        kem_prekey: KemPreKeyPublic,
    ) -> Result<Self, BundleError> {
        if identity.dh_key().is_low_order() {
            return Err(BundleError::LowOrderKey(BundleField::Identity));
        }
        let owner = identity.signing_key();
        signed_prekey
            .verify(owner)
            .map_err(|_| BundleError::BadSignature(BundleField::SignedPreKey))?;
        if signed_prekey.key.is_low_order() {
            return Err(BundleError::LowOrderKey(BundleField::SignedPreKey));
        }
        if let Some(otk) = &one_time_prekey {
            otk.verify(owner)
                .map_err(|_| BundleError::BadSignature(BundleField::OneTimePreKey))?;
            if otk.key.is_low_order() {
                return Err(BundleError::LowOrderKey(BundleField::OneTimePreKey));
            }
        }
        kem_prekey
            .verify(owner)
            .map_err(|_| BundleError::BadSignature(BundleField::KemPreKey))?;
        Ok(Self {
            identity,
            signed_prekey,
            one_time_prekey,
            kem_prekey,
            certificate: None,
        })
    }

    /// The bundle with a certificate chain attached (replacing any). The
    /// chain is not checked here; a chain for another key is refused at
    /// validation with `KeyMismatch`.
    pub fn with_certificate_chain(mut self, chain: Option<CertificateChain>) -> Self {
        self.certificate = chain;
        self
    }

    /// The certificate chain the bundle carries, if any (unvalidated).
    pub fn certificate_chain(&self) -> Option<&CertificateChain> {
        self.certificate.as_ref()
    }

    /// The owner's identity.
    pub fn identity(&self) -> &IdentityKey {
        &self.identity
    }
    /// The signed X25519 prekey.
    pub fn signed_prekey(&self) -> &SignedPreKeyPublic {
        &self.signed_prekey
    }
    /// The one-time X25519 prekey, if one was left.
    pub fn one_time_prekey(&self) -> Option<&OneTimePreKeyPublic> {
        self.one_time_prekey.as_ref()
    }
    /// The ML-KEM-768 prekey.
    pub fn kem_prekey(&self) -> &KemPreKeyPublic {
        &self.kem_prekey
    }

    /// The wire encoding (see SPEC.md, "Prekey bundle").
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + 130 + 101 + 102 + 1254);
        out.push(PROTOCOL_VERSION);
        out.push(OBJ_TYPE_BUNDLE);
        self.identity.encode_into(&mut out);
        self.signed_prekey.encode_into(&mut out);
        match &self.one_time_prekey {
            None => out.push(0),
            Some(otk) => {
                out.push(1);
                otk.encode_into(&mut out);
            }
        }
        self.kem_prekey.encode_into(&mut out);
        match &self.certificate {
            None => out.push(0),
            Some(chain) => {
                out.push(1);
                chain.encode_into(&mut out);
            }
        }
        out
    }

    /// Decodes a bundle strictly and verifies every signature and key in it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BundleError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        match r.u8("object type")? {
            OBJ_TYPE_BUNDLE => {}
            other => return Err(DecodeError::UnknownType(other).into()),
        }
        let identity = IdentityKey::read(&mut r)?;
        let signed_prekey = SignedPreKeyPublic::read(&mut r)?;
        let one_time_prekey = match r.u8("one-time prekey flag")? {
            0 => None,
            1 => Some(OneTimePreKeyPublic::read(&mut r)?),
            value => {
                return Err(DecodeError::InvalidValue {
                    field: "one-time prekey flag",
                    value,
                }
                .into());
            }
        };
        let kem_prekey = KemPreKeyPublic::read(&mut r)?;
        let certificate = match r.u8("certificate flag")? {
            0 => None,
            1 => Some(CertificateChain::read(&mut r)?),
            value => {
                return Err(DecodeError::InvalidValue {
                    field: "certificate flag",
                    value,
                }
                .into());
            }
        };
        r.finish()?;
        Ok(
            Self::new(identity, signed_prekey, one_time_prekey, kem_prekey)?
                .with_certificate_chain(certificate),
        )
    }
}

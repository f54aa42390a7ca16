//! Certificate statuses: short-lived, issuer-signed proof that a business
//! certificate is still in good standing (SPEC.md, section 13.15).
//!
//! A business certificate lives long (a year); what expires quickly is the
//! proof that it was not revoked. The issuer signs "certificate `serial` is
//! good from `this_update` until `next_update`" for at most
//! [`MAX_STATUS_LIFETIME_SECS`]; the business fetches a fresh one before the
//! old one runs out and serves it beside its bundle, the way TLS servers
//! staple OCSP responses. A client that applied a status knows the badge is
//! true until `next_update`; a relay that withholds newer revocations can
//! keep a revoked certificate looking good for at most one status lifetime,
//! not until the certificate expires.

use crate::constants::{
    MAX_STATUS_LIFETIME_SECS, OBJ_TYPE_CERT_STATUS, PROTOCOL_VERSION, SIG_CTX_CERT_STATUS,
};
use crate::primitives::ed25519::{Ed25519Public, Ed25519Secret};
use crate::wire::{DecodeError, Reader};

/// A signed status of one business certificate.
///
/// ```
/// use hotline::business::*;
/// let mut rng = rand::rng();
/// let always = Validity { not_before: 0, not_after: u64::MAX };
/// let root = RootAuthority::generate(1, always, &mut rng);
/// let (seed, key) = IssuerAuthority::generate_key(&mut rng);
/// let issuer_cert = root.certify_issuer(7, &key, LevelSet::new(&[VerificationLevel::Verified]).unwrap(), always)?;
/// let issuer = IssuerAuthority::new(&seed, issuer_cert.clone())?;
/// let now = 1_800_000_000;
/// let status = issuer.certify_status(1001, now, now + 3 * 86_400)?;
/// let decoded = CertificateStatus::from_bytes(&status.to_bytes())?;
/// assert_eq!(decoded, status);
///
/// let mut trust = TrustStore::new();
/// trust.add_root(root.trust_root())?;
/// trust.apply_status(&status, &issuer_cert, now)?;
/// assert_eq!(trust.status_until(7, 1001), Some(now + 3 * 86_400));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateStatus {
    pub(crate) issuer_id: u32,
    pub(crate) serial: u64,
    pub(crate) this_update: u64,
    pub(crate) next_update: u64,
    pub(crate) signature: [u8; 64],
}

/// Encoded length: version, type, issuer id, serial, two times, signature.
pub const CERT_STATUS_LEN: usize = 2 + 4 + 8 + 8 + 8 + 64;

impl CertificateStatus {
    pub(crate) fn sign(
        secret: &Ed25519Secret,
        issuer_id: u32,
        serial: u64,
        this_update: u64,
        next_update: u64,
    ) -> Self {
        let mut s = Self {
            issuer_id,
            serial,
            this_update,
            next_update,
            signature: [0; 64],
        };
        s.signature = secret.sign(SIG_CTX_CERT_STATUS, &s.signed_part());
        s
    }

    fn signed_part(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(CERT_STATUS_LEN);
        out.push(PROTOCOL_VERSION);
        out.push(OBJ_TYPE_CERT_STATUS);
        out.extend_from_slice(&self.issuer_id.to_be_bytes());
        out.extend_from_slice(&self.serial.to_be_bytes());
        out.extend_from_slice(&self.this_update.to_be_bytes());
        out.extend_from_slice(&self.next_update.to_be_bytes());
        out
    }

    pub(crate) fn verify(&self, key: &Ed25519Public) -> bool {
        key.verify(SIG_CTX_CERT_STATUS, &self.signed_part(), &self.signature)
            .is_ok()
    }

    /// The issuer that signed it.
    pub fn issuer_id(&self) -> u32 {
        self.issuer_id
    }
    /// The certificate serial it vouches for.
    pub fn serial(&self) -> u64 {
        self.serial
    }
    /// When it was produced (Unix seconds).
    pub fn this_update(&self) -> u64 {
        self.this_update
    }
    /// Until when it proves good standing (Unix seconds).
    pub fn next_update(&self) -> u64 {
        self.next_update
    }

    /// The encoding (SPEC.md, section 13.15).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.signed_part();
        out.extend_from_slice(&self.signature);
        out
    }

    /// Decodes strictly (no signature check: a
    /// [`TrustStore`](crate::business::TrustStore) checks it when applying).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        r.object_type(OBJ_TYPE_CERT_STATUS)?;
        let issuer_id = r.u32("status issuer id")?;
        let serial = r.u64("status serial")?;
        let this_update = r.u64("status this update")?;
        let next_update = r.u64("status next update")?;
        let signature = *r.array::<64>("status signature")?;
        r.finish()?;
        Ok(Self {
            issuer_id,
            serial,
            this_update,
            next_update,
            signature,
        })
    }

    /// Whether its window is well formed: not empty, at most
    /// [`MAX_STATUS_LIFETIME_SECS`] long.
    pub(crate) fn window_ok(&self) -> bool {
        self.next_update > self.this_update
            && self.next_update - self.this_update <= MAX_STATUS_LIFETIME_SECS
    }
}

/// Why a status was not applied. The trust store is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    /// The issuer certificate given is for another issuer.
    #[error("the certificate of issuer {0} is needed to check this status")]
    IssuerCertificateNeeded(u32),
    /// The issuer certificate does not chain to a root of the store, or the
    /// issuer was revoked.
    #[error("issuer certificate does not validate: {0}")]
    IssuerNotTrusted(super::validation::ValidationError),
    /// The signature fails strict verification under the issuer's key.
    #[error("status signature is invalid")]
    BadSignature,
    /// The window is empty or longer than the largest allowed.
    #[error("status window {this_update}..{next_update} is empty or too long")]
    BadWindow {
        /// Start of the window.
        this_update: u64,
        /// End of the window.
        next_update: u64,
    },
    /// Produced in the future (beyond the clock skew).
    #[error("status produced in the future ({this_update} > {now})")]
    InFuture {
        /// The status's production time.
        this_update: u64,
        /// The client's time.
        now: u64,
    },
    /// Not newer than the status already held for this certificate.
    #[error("stale status: produced at {offered}, one of {current} is held")]
    Stale {
        /// Production time of the status held.
        current: u64,
        /// Production time of the one offered.
        offered: u64,
    },
    /// The store already holds as many statuses as it keeps.
    #[error("too many statuses held")]
    Full,
    /// The status is for another certificate than the business's (another
    /// issuer id or serial).
    #[error("the status is for certificate {serial} of issuer {issuer_id}, not this business's")]
    WrongCertificate {
        /// The status's issuer id.
        issuer_id: u32,
        /// The status's serial.
        serial: u64,
    },
}

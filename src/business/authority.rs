//! The platform operator's side: root and issuer signing keys, and the
//! issuance of certificates and revocation lists.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::constants::{
    MAX_LOCALIZED_NAMES, MAX_REVOKED_ENTRIES, SIG_CTX_BUSINESS_CERT, SIG_CTX_ISSUER_CERT,
    SIG_CTX_TRUST_ROOT,
};
use crate::primitives::ed25519::{Ed25519Public, Ed25519Secret};

use super::certificate::{
    BusinessCertificate, BusinessId, IssuerCertificate, LevelSet, LocalizedName, TrustRoot,
    Validity, VerificationLevel,
};
use super::names::{NameError, language_tag_ok, normalize_name};
use super::revocation::{RevocationList, RevocationWindow, RevokedEntries};
use super::status::CertificateStatus;
use super::template::{MessageTemplate, TemplateCategory, TemplateError};

/// Why an authority refused to issue something. Nothing was signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// The display name breaks the name rules.
    #[error("name refused: {0}")]
    Name(NameError),
    /// A localized name breaks the name rules.
    #[error("localized name for {language:?} refused: {error}")]
    LocalizedName {
        /// Its language tag.
        language: String,
        /// Why.
        error: NameError,
    },
    /// A language tag is malformed, or repeated.
    #[error("invalid or repeated language tag {0:?}")]
    LanguageTag(String),
    /// More than [`MAX_LOCALIZED_NAMES`] localized names.
    #[error("too many localized names ({0})")]
    TooManyLocalizedNames(usize),
    /// `not_before` is after `not_after`.
    #[error("empty validity window")]
    EmptyValidity,
    /// The requested validity is not inside the issuer's own.
    #[error("validity outside the issuer's validity")]
    ValidityOutsideIssuer,
    /// The issuer's certificate does not allow this level.
    #[error("issuer may not certify level {0}")]
    LevelNotAllowed(VerificationLevel),
    /// The issuer's signing key does not match its certificate.
    #[error("signing key does not match the issuer certificate")]
    KeyMismatch,
    /// A revocation list would exceed [`MAX_REVOKED_ENTRIES`].
    #[error("too many revocation entries ({0})")]
    TooManyEntries(usize),
    /// A status window is empty or longer than
    /// [`MAX_STATUS_LIFETIME_SECS`](crate::constants::MAX_STATUS_LIFETIME_SECS).
    #[error("status window is empty or too long")]
    StatusWindow,
    /// A revocation list's `next_update` is not after its issue time, or
    /// more than
    /// [`MAX_REVOCATION_LIST_LIFETIME_SECS`](crate::constants::MAX_REVOCATION_LIST_LIFETIME_SECS)
    /// after it.
    #[error("revocation list window is empty or too long")]
    ListWindow,
    /// A revocation list's sequence is above its issue time (SPEC.md 13.9:
    /// sequences never run ahead of the clock).
    #[error("sequence {sequence} is above the issue time {issued_at}")]
    SequenceAhead {
        /// The sequence asked for.
        sequence: u64,
        /// The issue time.
        issued_at: u64,
    },
}

/// A trust root's signing key: creates the root, certifies issuers and
/// revokes them. The secret is zeroized on drop and never printed.
///
/// ```
/// use hotline::business::{RootAuthority, Validity};
/// let root = RootAuthority::generate(1, Validity { not_before: 0, not_after: u64::MAX }, &mut rand::rng());
/// let published = root.trust_root().to_bytes();
/// assert_eq!(hotline::business::TrustRoot::from_bytes(&published)?, root.trust_root());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RootAuthority {
    secret: Ed25519Secret,
    root: TrustRoot,
}

impl core::fmt::Debug for RootAuthority {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RootAuthority")
            .field("root_id", &self.root.root_id)
            .finish_non_exhaustive()
    }
}

impl RootAuthority {
    /// A new root with a fresh key.
    pub fn generate<R: CryptoRng + ?Sized>(root_id: u32, validity: Validity, rng: &mut R) -> Self {
        Self::from_parts(Ed25519Secret::generate(rng), root_id, validity)
    }

    /// A root from its 32-byte Ed25519 seed.
    pub fn from_seed(seed: &[u8; 32], root_id: u32, validity: Validity) -> Self {
        Self::from_parts(Ed25519Secret::from_seed(seed), root_id, validity)
    }

    fn from_parts(secret: Ed25519Secret, root_id: u32, validity: Validity) -> Self {
        let key = secret.public_key();
        let signature = secret.sign(
            SIG_CTX_TRUST_ROOT,
            &TrustRoot::signed_part(root_id, &key, &validity),
        );
        Self {
            root: TrustRoot {
                root_id,
                key,
                validity,
                signature,
            },
            secret,
        }
    }

    /// The seed, for storage.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_seed())
    }

    /// The public trust root clients install.
    pub fn trust_root(&self) -> TrustRoot {
        self.root.clone()
    }

    /// Certifies an issuer key for the given levels and window.
    pub fn certify_issuer(
        &self,
        issuer_id: u32,
        issuer_key: &Ed25519Public,
        allowed: LevelSet,
        validity: Validity,
    ) -> Result<IssuerCertificate, IssueError> {
        if validity.not_before > validity.not_after {
            return Err(IssueError::EmptyValidity);
        }
        let mut cert = IssuerCertificate {
            issuer_id,
            root_id: self.root.root_id,
            key: *issuer_key,
            allowed,
            validity,
            signature: [0; 64],
        };
        cert.signature = self.secret.sign(SIG_CTX_ISSUER_CERT, &cert.signed_part());
        Ok(cert)
    }

    /// A root-signed list of revoked issuer keys, proving nothing after
    /// `next_update`. Issuers are revoked by key, not id, so that a revoked
    /// key stays revoked under every root and every issuer id (SPEC.md
    /// 13.9). `sequence` must grow with every list this root publishes; the
    /// list replaces earlier ones.
    pub fn revoke_issuers(
        &self,
        sequence: u64,
        issued_at: u64,
        next_update: u64,
        issuer_keys: &[Ed25519Public],
    ) -> Result<RevocationList, IssueError> {
        let keys = issuer_keys.iter().map(Ed25519Public::to_bytes).collect();
        RevocationList::sign(
            &self.secret,
            self.root.root_id,
            RevocationWindow {
                sequence,
                issued_at,
                next_update,
            },
            RevokedEntries::IssuerKeys(keys),
        )
    }
}

/// What an issuer is asked to certify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCertificateRequest {
    /// Serial number, unique for this issuer.
    pub serial: u64,
    /// The business's stable id.
    pub business_id: BusinessId,
    /// The business's Ed25519 identity key (from its
    /// [`IdentityKey`](crate::IdentityKey)).
    pub identity_key: Ed25519Public,
    /// The requested display name (normalized to NFC and checked).
    pub name: String,
    /// Localized names: (language tag, name), in any order.
    pub localized: Vec<(String, String)>,
    /// The level.
    pub level: VerificationLevel,
    /// The validity window.
    pub validity: Validity,
}

/// An issuer's signing key together with its certificate.
pub struct IssuerAuthority {
    secret: Ed25519Secret,
    certificate: IssuerCertificate,
}

impl core::fmt::Debug for IssuerAuthority {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IssuerAuthority")
            .field("issuer_id", &self.certificate.issuer_id)
            .finish_non_exhaustive()
    }
}

impl IssuerAuthority {
    /// A fresh issuer signing key, before it is certified; returns the seed
    /// and public key to send to the root.
    pub fn generate_key<R: CryptoRng + ?Sized>(
        rng: &mut R,
    ) -> (Zeroizing<[u8; 32]>, Ed25519Public) {
        let secret = Ed25519Secret::generate(rng);
        (Zeroizing::new(secret.to_seed()), secret.public_key())
    }

    /// An issuer from its seed and the certificate the root gave it.
    pub fn new(seed: &[u8; 32], certificate: IssuerCertificate) -> Result<Self, IssueError> {
        let secret = Ed25519Secret::from_seed(seed);
        if secret.public_key() != certificate.key {
            return Err(IssueError::KeyMismatch);
        }
        Ok(Self {
            secret,
            certificate,
        })
    }

    /// The issuer's certificate.
    pub fn certificate(&self) -> &IssuerCertificate {
        &self.certificate
    }

    /// The seed, for storage.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_seed())
    }

    /// Checks the request (names, level, validity) and signs the certificate.
    pub fn issue(
        &self,
        request: &BusinessCertificateRequest,
    ) -> Result<BusinessCertificate, IssueError> {
        let name = normalize_name(&request.name).map_err(IssueError::Name)?;
        if request.localized.len() > MAX_LOCALIZED_NAMES {
            return Err(IssueError::TooManyLocalizedNames(request.localized.len()));
        }
        let mut localized = Vec::with_capacity(request.localized.len());
        for (language, text) in &request.localized {
            if !language_tag_ok(language.as_bytes()) {
                return Err(IssueError::LanguageTag(language.clone()));
            }
            let name = normalize_name(text).map_err(|error| IssueError::LocalizedName {
                language: language.clone(),
                error,
            })?;
            localized.push(LocalizedName {
                language: language.clone(),
                name,
            });
        }
        localized.sort_by(|a, b| a.language.cmp(&b.language));
        if let Some(w) = localized
            .windows(2)
            .find(|w| w[0].language == w[1].language)
        {
            return Err(IssueError::LanguageTag(w[0].language.clone()));
        }
        if !self.certificate.allowed.contains(request.level) {
            return Err(IssueError::LevelNotAllowed(request.level));
        }
        let v = request.validity;
        if v.not_before > v.not_after {
            return Err(IssueError::EmptyValidity);
        }
        let own = self.certificate.validity;
        if v.not_before < own.not_before || v.not_after > own.not_after {
            return Err(IssueError::ValidityOutsideIssuer);
        }
        let mut cert = BusinessCertificate {
            serial: request.serial,
            business_id: request.business_id,
            issuer_id: self.certificate.issuer_id,
            identity_key: request.identity_key,
            level: request.level,
            validity: v,
            name,
            localized,
            signature: [0; 64],
        };
        cert.signature = self.secret.sign(SIG_CTX_BUSINESS_CERT, &cert.signed_part());
        Ok(cert)
    }

    /// A status saying certificate `serial` is in good standing from
    /// `this_update` until `next_update` (at most
    /// [`MAX_STATUS_LIFETIME_SECS`](crate::constants::MAX_STATUS_LIFETIME_SECS)
    /// later). Issue one only for a certificate that is not revoked.
    pub fn certify_status(
        &self,
        serial: u64,
        this_update: u64,
        next_update: u64,
    ) -> Result<CertificateStatus, IssueError> {
        let status = CertificateStatus::sign(
            &self.secret,
            self.certificate.issuer_id,
            serial,
            this_update,
            next_update,
        );
        if !status.window_ok() {
            return Err(IssueError::StatusWindow);
        }
        Ok(status)
    }

    /// Approves a message template for `business` (SPEC.md 13.17): the text
    /// must be NFC, hold no control (other than a line feed), bidirectional
    /// or invisible formatting character, and number its placeholders
    /// `{{1}}` to `{{n}}` (n at most 9) with each used.
    pub fn approve_template(
        &self,
        business: BusinessId,
        template_id: u32,
        category: TemplateCategory,
        language: &str,
        body: &str,
        validity: Validity,
    ) -> Result<MessageTemplate, TemplateError> {
        MessageTemplate::sign(
            &self.secret,
            self.certificate.issuer_id,
            business,
            template_id,
            category,
            language,
            body,
            validity,
        )
    }

    /// An issuer-signed list of revoked serials, proving nothing after
    /// `next_update`. `sequence` must grow with every list this issuer
    /// publishes; the list replaces earlier ones.
    pub fn revoke(
        &self,
        sequence: u64,
        issued_at: u64,
        next_update: u64,
        serials: &[u64],
    ) -> Result<RevocationList, IssueError> {
        RevocationList::sign(
            &self.secret,
            self.certificate.issuer_id,
            RevocationWindow {
                sequence,
                issued_at,
                next_update,
            },
            RevokedEntries::Serials(serials.to_vec()),
        )
    }
}

/// Shared by both authorities: sorts, deduplicates and bounds the entries.
pub(crate) fn prepare_entries<T: Ord>(mut entries: Vec<T>) -> Result<Vec<T>, IssueError> {
    entries.sort_unstable();
    entries.dedup();
    if entries.len() > MAX_REVOKED_ENTRIES {
        return Err(IssueError::TooManyEntries(entries.len()));
    }
    Ok(entries)
}

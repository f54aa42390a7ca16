//! The client's trust store and chain validation (SPEC.md, "Validation").

use std::collections::{BTreeMap, BTreeSet};

use crate::constants::{
    CLOCK_SKEW_SECS, MAX_HELD_REVOCATION_LISTS, MAX_HELD_STATUSES, MAX_REVOKED_ENTRIES,
    MAX_TRUST_ROOTS,
};
use crate::keys::{IdentityKey, PreKeyBundle};
use crate::primitives::ed25519::Ed25519Public;
use crate::wire::{DecodeError, Reader};

use super::certificate::{
    BusinessId, CertificateChain, IssuerCertificate, LocalizedName, TrustRoot, Validity,
    VerificationLevel, encode_names, read_names,
};
use super::names::{NameError, check_name};
use super::revocation::{
    HeldList, RevocationError, RevocationList, RevocationScope, RevocationState, RevocationUpdate,
};
use super::status::{CertificateStatus, StatusError};
use crate::constants::SIG_CTX_BUSINESS_CERT;
use crate::constants::SIG_CTX_ISSUER_CERT;

/// A link of a certificate chain, for errors that can occur at several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChainLink {
    /// The trust root.
    Root,
    /// The issuer certificate.
    Issuer,
    /// The business certificate.
    Business,
}

/// Why a certificate chain (or the bundle carrying it) does not establish a
/// verified business. The variants follow the steps of SPEC.md,
/// "Validation", and the first failing step is reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The chain's bytes are malformed.
    #[error("malformed certificate chain: {0}")]
    Malformed(#[from] DecodeError),
    /// The bundle carries no certificate chain: its owner is not a
    /// certified business.
    #[error("no certificate")]
    NoCertificate,
    /// The issuer certificate names a root this store does not hold.
    #[error("unknown root {0}")]
    UnknownRoot(u32),
    /// The issuer certificate names a root this store has retired.
    #[error("root {0} was rotated out")]
    RootRetired(u32),
    /// `now` is before a link's `not_before` (minus the clock skew).
    #[error("{link:?} not valid before {not_before} (now {now})")]
    NotYetValid {
        /// Which link.
        link: ChainLink,
        /// Its `not_before`.
        not_before: u64,
        /// The time of validation.
        now: u64,
    },
    /// `now` is after a link's `not_after` (plus the clock skew).
    #[error("{link:?} expired at {not_after} (now {now})")]
    Expired {
        /// Which link.
        link: ChainLink,
        /// Its `not_after`.
        not_after: u64,
        /// The time of validation.
        now: u64,
    },
    /// A signature fails strict verification: the root's over the issuer
    /// certificate (`Issuer`) or the issuer's over the business certificate
    /// (`Business`).
    #[error("bad signature on the {0:?} certificate")]
    BadSignature(ChainLink),
    /// The issuer is revoked by its root.
    #[error("issuer {0} is revoked")]
    IssuerRevoked(u32),
    /// The business certificate names another issuer than the chain's
    /// issuer certificate.
    #[error("business certificate names issuer {named}, chain carries issuer {present}")]
    IssuerMismatch {
        /// The issuer id in the business certificate.
        named: u32,
        /// The issuer id of the issuer certificate.
        present: u32,
    },
    /// The business certificate is revoked by its issuer.
    #[error("certificate {serial} of issuer {issuer_id} is revoked")]
    CertificateRevoked {
        /// The issuer.
        issuer_id: u32,
        /// The serial.
        serial: u64,
    },
    /// The issuer may not certify this level.
    #[error("issuer {issuer_id} may not certify level {level}")]
    LevelNotAllowed {
        /// The issuer.
        issuer_id: u32,
        /// The level claimed.
        level: VerificationLevel,
    },
    /// The display name breaks the name rules.
    #[error("name refused: {0}")]
    InvalidName(NameError),
    /// A localized name breaks the name rules.
    #[error("localized name for {language:?} refused: {error}")]
    InvalidLocalizedName {
        /// Its language tag.
        language: String,
        /// Why.
        error: NameError,
    },
    /// The certificate names another identity key than the bundle's (or
    /// than the peer's in the handshake).
    #[error("certificate identity key does not match the bundle identity")]
    KeyMismatch,
}

/// Why a root could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustStoreError {
    /// A different root with this id is already installed.
    #[error("a different root with id {0} is installed")]
    DuplicateRoot(u32),
    /// The root id was retired and cannot come back.
    #[error("root {0} was retired")]
    Retired(u32),
    /// The store holds as many roots as it keeps.
    #[error("too many roots")]
    Full,
}

/// A business whose certificate chain validated: the only way to obtain a
/// value of this type is [`TrustStore::validate_chain`] or
/// [`TrustStore::verify_bundle`], so holding one means every check of
/// SPEC.md, "Validation", passed at the given time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBusiness {
    business_id: BusinessId,
    name: String,
    localized: Vec<LocalizedName>,
    level: VerificationLevel,
    serial: u64,
    issuer_id: u32,
    /// `None` only for a session stored before issuer keys were recorded
    /// (SPEC.md 15.8): its badge fails closed.
    issuer_key: Option<[u8; 32]>,
    root_id: u32,
    identity_key: Ed25519Public,
    validity: Validity,
    chain_hash: [u8; 32],
}

impl VerifiedBusiness {
    #[cfg(feature = "conformance")]
    pub(crate) fn with_business_id_for_vectors(&self, id: BusinessId) -> Self {
        Self {
            business_id: id,
            ..self.clone()
        }
    }

    /// The stable business id.
    pub fn business_id(&self) -> BusinessId {
        self.business_id
    }
    /// The verified display name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The verified localized names.
    pub fn localized_names(&self) -> &[LocalizedName] {
        &self.localized
    }
    /// The name for a language tag, falling back to the display name.
    pub fn name_for(&self, language: &str) -> &str {
        self.localized
            .iter()
            .find(|l| l.language.eq_ignore_ascii_case(language))
            .map_or(&self.name, |l| &l.name)
    }
    /// The verification level.
    pub fn level(&self) -> VerificationLevel {
        self.level
    }
    /// The certificate's serial.
    pub fn serial(&self) -> u64 {
        self.serial
    }
    /// The issuer's id.
    pub fn issuer_id(&self) -> u32 {
        self.issuer_id
    }
    /// The issuer's Ed25519 key (raw bytes), which root lists revoke
    /// (SPEC.md 13.9). `None` only for a session restored from a record
    /// written before issuer keys were stored; such a session shows no
    /// badge.
    pub fn issuer_key(&self) -> Option<[u8; 32]> {
        self.issuer_key
    }
    /// The root's id.
    pub fn root_id(&self) -> u32 {
        self.root_id
    }
    /// The business's Ed25519 identity key.
    pub fn identity_key(&self) -> &Ed25519Public {
        &self.identity_key
    }
    /// The certificate's validity window.
    pub fn validity(&self) -> Validity {
        self.validity
    }
    /// SHA-256 of the validated chain's encoding (bound into the handshake).
    pub fn chain_hash(&self) -> [u8; 32] {
        self.chain_hash
    }

    /// Appends the stored layout (SPEC.md, "Session (kind 0x03)"). The
    /// identity key is not written: it is the session's peer signing key.
    pub(crate) fn encode_state(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.root_id.to_be_bytes());
        out.extend_from_slice(&self.issuer_id.to_be_bytes());
        out.extend_from_slice(&self.serial.to_be_bytes());
        out.extend_from_slice(&self.business_id.0);
        out.push(self.level.to_byte());
        self.validity.encode_into(out);
        out.extend_from_slice(&self.chain_hash);
        encode_names(&self.name, &self.localized, out);
        if let Some(k) = &self.issuer_key {
            out.extend_from_slice(k);
        }
    }

    /// Reads the layout of [`VerifiedBusiness::encode_state`] for a session
    /// whose peer signs with `identity_key`. Only stored state (authenticated
    /// under the storage key) reaches this; the chain was validated when the
    /// session started.
    /// `with_issuer_key` says whether the layout ends with the issuer key
    /// (peer kind `0x02`) or predates it (peer kind `0x01`).
    pub(crate) fn read_state(
        r: &mut Reader<'_>,
        identity_key: Ed25519Public,
        with_issuer_key: bool,
    ) -> Result<Self, DecodeError> {
        let root_id = r.u32("root id")?;
        let issuer_id = r.u32("issuer id")?;
        let serial = r.u64("serial")?;
        let business_id = BusinessId(*r.array::<16>("business id")?);
        let level = VerificationLevel::from_byte(r.u8("verification level")?)?;
        let validity = Validity::read(r)?;
        let chain_hash = *r.array::<32>("certificate chain hash")?;
        let (name, localized) = read_names(r)?;
        let issuer_key = if with_issuer_key {
            let bytes = r.array::<32>("issuer key")?;
            Ed25519Public::from_bytes(bytes)
                .map_err(|_| DecodeError::NotCanonical("issuer key"))?;
            Some(*bytes)
        } else {
            None
        };
        Ok(Self {
            business_id,
            name,
            localized,
            level,
            serial,
            issuer_id,
            issuer_key,
            root_id,
            identity_key,
            validity,
            chain_hash,
        })
    }
}

/// Who the other side of a session is. Exactly one of two cases, never
/// ambiguous: a business whose certificate chain validated and is bound into
/// the handshake, or a party known only by its identity key (a customer, or
/// a business whose certificate was not checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// A verified business (see [`Session::initiate_verified`](crate::Session::initiate_verified)).
    VerifiedBusiness(VerifiedBusiness),
    /// Not a verified business: nothing is known but the identity key.
    Unverified(IdentityKey),
}

impl Peer {
    /// The verified business, if the peer is one.
    pub fn verified_business(&self) -> Option<&VerifiedBusiness> {
        match self {
            Self::VerifiedBusiness(b) => Some(b),
            Self::Unverified(_) => None,
        }
    }
}

/// The client's trust roots (several, by id, for rotation) and the
/// revocation lists it has applied.
///
/// ```
/// use hotline::business::*;
/// use hotline::{IdentityKeyPair, PreKeyBundle, PreKeyStore};
/// let mut rng = rand::rng();
/// let always = Validity { not_before: 0, not_after: u64::MAX };
/// let now = 1_800_000_000;
///
/// // The platform: a root and an issuer allowed to certify "verified".
/// let root = RootAuthority::generate(1, always, &mut rng);
/// let (issuer_seed, issuer_key) = IssuerAuthority::generate_key(&mut rng);
/// let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
/// let issuer_cert = root.certify_issuer(7, &issuer_key, levels, always)?;
/// let issuer = IssuerAuthority::new(&issuer_seed, issuer_cert.clone())?;
///
/// // A business gets a certificate for its identity key and publishes it.
/// let business = IdentityKeyPair::generate(&mut rng);
/// let cert = issuer.issue(&BusinessCertificateRequest {
///     serial: 1,
///     business_id: BusinessId([0x4b; 16]),
///     identity_key: *business.public().signing_key(),
///     name: "KLM Royal Dutch Airlines".into(),
///     localized: vec![],
///     level: VerificationLevel::Verified,
///     validity: always,
/// })?;
/// let mut prekeys = PreKeyStore::new(&business, 5, 5, &mut rng);
/// prekeys.set_certificate_chain(CertificateChain::new(issuer_cert, cert))?;
/// let published = prekeys.bundle().to_bytes();
///
/// // The customer's client validates it against its roots.
/// let mut trust = TrustStore::new();
/// trust.add_root(root.trust_root())?;
/// let verified = trust.verify_bundle(&PreKeyBundle::from_bytes(&published)?, now)?;
/// assert_eq!(verified.name(), "KLM Royal Dutch Airlines");
/// assert_eq!(verified.level(), VerificationLevel::Verified);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    roots: BTreeMap<u32, TrustRoot>,
    retired: BTreeSet<u32>,
    revocations: RevocationState,
    /// Per (issuer id, serial): the newest status applied, as (this_update,
    /// next_update).
    statuses: BTreeMap<(u32, u64), (u64, u64)>,
    /// Whether a verified badge needs a status in force (SPEC.md 13.15).
    require_status: bool,
}

/// What a verified badge is worth now ([`TrustStore::badge`]): computed
/// from the newest trust state at the moment asked, never frozen at the
/// handshake (SPEC.md, section 13.16).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Badge {
    /// A verified business, true until `until` (Unix seconds): the end of
    /// the certificate's validity, or of its status when one is held.
    Verified {
        /// The business.
        business: VerifiedBusiness,
        /// Until when the badge holds without newer proof.
        until: u64,
    },
    /// The certificate, or the proof of its good standing, is too old.
    Expired {
        /// The business the session was started with.
        business: VerifiedBusiness,
        /// What ran out.
        what: Expiry,
        /// Since when (Unix seconds).
        since: u64,
    },
    /// The certificate or its issuer was revoked, or its root retired.
    Revoked {
        /// The business the session was started with.
        business: VerifiedBusiness,
        /// By what.
        by: RevokedBy,
    },
    /// Not a verified business (the session was not started as one).
    Unverified,
}

impl core::fmt::Display for Badge {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Verified { business, until } => {
                write!(f, "verified business {:?} until {until}", business.name())
            }
            Self::Expired {
                business,
                what,
                since,
            } => {
                let what = match what {
                    Expiry::Certificate => "certificate expired",
                    Expiry::Status => "status of good standing ran out",
                    Expiry::NoStatus => "no status of good standing",
                    Expiry::RevocationList { scope, signer_id } => {
                        let who = match scope {
                            RevocationScope::Issuers => "root",
                            RevocationScope::BusinessCertificates => "issuer",
                        };
                        return write!(
                            f,
                            "{:?}: the revocation list of {who} {signer_id} ran out (since {since})",
                            business.name()
                        );
                    }
                };
                write!(f, "{:?}: {what} (since {since})", business.name())
            }
            Self::Revoked { business, by } => match by {
                RevokedBy::Certificate {
                    issuer_id,
                    sequence,
                } => write!(
                    f,
                    "{:?}: certificate {} revoked by issuer {issuer_id} (list {sequence})",
                    business.name(),
                    business.serial()
                ),
                RevokedBy::Issuer { root_id, sequence } => write!(
                    f,
                    "{:?}: issuer {} revoked by root {root_id} (list {sequence})",
                    business.name(),
                    business.issuer_id()
                ),
                RevokedBy::RootRetired(id) => {
                    write!(f, "{:?}: root {id} was retired", business.name())
                }
            },
            Self::Unverified => f.write_str("not a verified business"),
        }
    }
}

impl Badge {
    /// Whether the application may show the verified badge now.
    pub fn is_verified(&self) -> bool {
        matches!(self, Self::Verified { .. })
    }
}

/// What ran out, for [`Badge::Expired`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expiry {
    /// The business certificate's validity ended.
    Certificate,
    /// The newest status held ended (no fresher proof of good standing).
    Status,
    /// A status is required and none was ever applied for this certificate
    /// (`since` is the session's start of doubt: 0).
    NoStatus,
    /// The revocation list in force for this signer passed its
    /// `next_update`, and nothing fresher proves the certificate is not
    /// revoked (SPEC.md 13.16).
    RevocationList {
        /// Whose list: the root's (`Issuers`) or the issuer's.
        scope: RevocationScope,
        /// The root or issuer id.
        signer_id: u32,
    },
}

/// What revoked a badge, for [`Badge::Revoked`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevokedBy {
    /// The issuer's list of this `sequence` revokes the certificate.
    Certificate {
        /// The issuer.
        issuer_id: u32,
        /// The sequence of the list in force.
        sequence: u64,
    },
    /// The list of this `sequence` of a root revokes the issuer's key (the
    /// root may be another than the one that certified the issuer).
    Issuer {
        /// The revoking root.
        root_id: u32,
        /// The sequence of the list in force.
        sequence: u64,
    },
    /// The root was rotated out.
    RootRetired(u32),
}

/// Checks `now` against a window with the clock-skew allowance.
fn check_time(link: ChainLink, v: Validity, now: u64) -> Result<(), ValidationError> {
    if now < v.not_before.saturating_sub(CLOCK_SKEW_SECS) {
        return Err(ValidationError::NotYetValid {
            link,
            not_before: v.not_before,
            now,
        });
    }
    if now > v.not_after.saturating_add(CLOCK_SKEW_SECS) {
        return Err(ValidationError::Expired {
            link,
            not_after: v.not_after,
            now,
        });
    }
    Ok(())
}

impl TrustStore {
    /// An empty store (it trusts nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// Installs a root. Installing the same root again is a no-op.
    pub fn add_root(&mut self, root: TrustRoot) -> Result<(), TrustStoreError> {
        if self.retired.contains(&root.root_id) {
            return Err(TrustStoreError::Retired(root.root_id));
        }
        if !self.roots.contains_key(&root.root_id) && self.roots.len() >= MAX_TRUST_ROOTS {
            return Err(TrustStoreError::Full);
        }
        match self.roots.get(&root.root_id) {
            Some(existing) if *existing != root => {
                Err(TrustStoreError::DuplicateRoot(root.root_id))
            }
            _ => {
                self.roots.insert(root.root_id, root);
                Ok(())
            }
        }
    }

    /// Rotates a root out: chains under it are refused from now on with
    /// [`ValidationError::RootRetired`], and the id cannot be reinstalled.
    /// Returns whether the root was installed.
    pub fn retire_root(&mut self, root_id: u32) -> bool {
        // At most MAX_TRUST_ROOTS retired ids are kept; beyond, the oldest
        // (lowest) id is forgotten, which can only matter for a root that
        // was retired long ago and is no longer installed anywhere.
        self.retired.insert(root_id);
        while self.retired.len() > MAX_TRUST_ROOTS {
            self.retired.pop_first();
        }
        self.roots.remove(&root_id).is_some()
    }

    /// The installed roots, by id.
    pub fn roots(&self) -> impl Iterator<Item = &TrustRoot> {
        self.roots.values()
    }

    /// Makes a verified badge need a status in force (SPEC.md 13.15): without
    /// one, [`TrustStore::badge`] reports [`Expiry::NoStatus`] or
    /// [`Expiry::Status`]. Platforms that staple statuses turn this on in
    /// their clients.
    pub fn require_status(&mut self, required: bool) {
        self.require_status = required;
    }

    /// Whether a status is required for a verified badge.
    pub fn status_required(&self) -> bool {
        self.require_status
    }

    /// The end of the newest status applied for a certificate, if any.
    pub fn status_until(&self, issuer_id: u32, serial: u64) -> Option<u64> {
        self.statuses.get(&(issuer_id, serial)).map(|(_, n)| *n)
    }

    /// Applies a certificate status after checking its issuer (which must
    /// chain to a root of this store and not be revoked), signature, window
    /// and time, and that it is newer than the one held. On any error
    /// nothing changes. Expired statuses are dropped to make room.
    pub fn apply_status(
        &mut self,
        status: &CertificateStatus,
        issuer: &IssuerCertificate,
        now: u64,
    ) -> Result<(), StatusError> {
        if issuer.issuer_id != status.issuer_id {
            return Err(StatusError::IssuerCertificateNeeded(status.issuer_id));
        }
        self.check_issuer(issuer, None)
            .map_err(StatusError::IssuerNotTrusted)?;
        if !status.verify(&issuer.key) {
            return Err(StatusError::BadSignature);
        }
        self.install_status(status, now)
    }

    /// Applies a status stapled for a business already verified (the one a
    /// session was started with, or a relay registered): its issuer's key
    /// is the one the business's chain was validated with, so no issuer
    /// certificate is needed. The status must be for that business's
    /// certificate, the issuer's key must not be revoked nor its root
    /// retired, and then the checks of [`TrustStore::apply_status`] from
    /// the signature on apply (SPEC.md 13.15). On any error nothing
    /// changes.
    pub fn apply_stapled_status(
        &mut self,
        business: &VerifiedBusiness,
        status: &CertificateStatus,
        now: u64,
    ) -> Result<(), StatusError> {
        if (status.issuer_id, status.serial) != (business.issuer_id, business.serial) {
            return Err(StatusError::WrongCertificate {
                issuer_id: status.issuer_id,
                serial: status.serial,
            });
        }
        let Some(key) = business.issuer_key else {
            return Err(StatusError::IssuerCertificateNeeded(status.issuer_id));
        };
        self.root_for(business.root_id)
            .map_err(StatusError::IssuerNotTrusted)?;
        if self.revocations.issuer_key_revoked(&key).is_some() {
            return Err(StatusError::IssuerNotTrusted(
                ValidationError::IssuerRevoked(business.issuer_id),
            ));
        }
        let key = Ed25519Public::from_bytes(&key).map_err(|_| StatusError::BadSignature)?;
        if !status.verify(&key) {
            return Err(StatusError::BadSignature);
        }
        self.install_status(status, now)
    }

    /// Steps 4 to 8 of SPEC.md 13.15, for a status whose signature checked.
    fn install_status(&mut self, status: &CertificateStatus, now: u64) -> Result<(), StatusError> {
        if !status.window_ok() {
            return Err(StatusError::BadWindow {
                this_update: status.this_update,
                next_update: status.next_update,
            });
        }
        if status.this_update > now.saturating_add(CLOCK_SKEW_SECS) {
            return Err(StatusError::InFuture {
                this_update: status.this_update,
                now,
            });
        }
        let key = (status.issuer_id, status.serial);
        if let Some((current, _)) = self.statuses.get(&key)
            && status.this_update <= *current
        {
            return Err(StatusError::Stale {
                current: *current,
                offered: status.this_update,
            });
        }
        if !self.statuses.contains_key(&key) && self.statuses.len() >= MAX_HELD_STATUSES {
            let horizon = now.saturating_sub(CLOCK_SKEW_SECS);
            self.statuses.retain(|_, (_, next)| *next >= horizon);
            if self.statuses.len() >= MAX_HELD_STATUSES {
                return Err(StatusError::Full);
            }
        }
        self.statuses
            .insert(key, (status.this_update, status.next_update));
        Ok(())
    }

    /// The standing now of the business a chain certifies, for a relay that
    /// validated the chain (signatures and all) when the business
    /// registered and keeps it since: the checks of [`TrustStore::badge`],
    /// without verifying signatures again (SPEC.md 14.7).
    pub fn chain_standing(&self, chain: &CertificateChain, now: u64) -> Badge {
        let cert = &chain.business;
        let business = VerifiedBusiness {
            business_id: cert.business_id,
            name: cert.name.clone(),
            localized: cert.localized.clone(),
            level: cert.level,
            serial: cert.serial,
            issuer_id: chain.issuer.issuer_id,
            issuer_key: Some(chain.issuer.key.to_bytes()),
            root_id: chain.issuer.root_id,
            identity_key: cert.identity_key,
            validity: cert.validity,
            chain_hash: [0; 32],
        };
        self.badge(&Peer::VerifiedBusiness(business), now)
    }

    /// The badge of `peer` now, from the newest trust state: revocation of
    /// the certificate or its issuer, a retired root, the certificate's
    /// validity and, when held or required, its status. Cheap: map lookups
    /// and comparisons, no signature.
    pub fn badge(&self, peer: &Peer, now: u64) -> Badge {
        let Peer::VerifiedBusiness(b) = peer else {
            return Badge::Unverified;
        };
        let business = b.clone();
        if self.retired.contains(&b.root_id) {
            return Badge::Revoked {
                business,
                by: RevokedBy::RootRetired(b.root_id),
            };
        }
        let Some(issuer_key) = &b.issuer_key else {
            // Stored before issuer keys were recorded: issuer revocation
            // cannot be checked, so no badge (SPEC.md 13.16).
            return Badge::Unverified;
        };
        if let Some((root_id, sequence)) = self.revocations.issuer_key_revoked(issuer_key) {
            return Badge::Revoked {
                business,
                by: RevokedBy::Issuer { root_id, sequence },
            };
        }
        if let Some(sequence) = self.revocations.serial_revoked(b.issuer_id, b.serial) {
            return Badge::Revoked {
                business,
                by: RevokedBy::Certificate {
                    issuer_id: b.issuer_id,
                    sequence,
                },
            };
        }
        if now > b.validity.not_after.saturating_add(CLOCK_SKEW_SECS) {
            return Badge::Expired {
                business,
                what: Expiry::Certificate,
                since: b.validity.not_after,
            };
        }
        // A root's list that ran out no longer proves its issuers are not
        // revoked, whatever statuses say (a revoked issuer's key could have
        // signed them).
        let root_list = self.revocations.held(RevocationScope::Issuers, b.root_id);
        if let Some(held) = root_list
            && now > held.next_update.saturating_add(CLOCK_SKEW_SECS)
        {
            return Badge::Expired {
                business,
                what: Expiry::RevocationList {
                    scope: RevocationScope::Issuers,
                    signer_id: b.root_id,
                },
                since: held.next_update,
            };
        }
        let mut until = b.validity.not_after;
        let held_status = self.statuses.get(&(b.issuer_id, b.serial));
        let status = held_status
            .map(|&(_, next)| next)
            .filter(|next| now <= next.saturating_add(CLOCK_SKEW_SECS));
        match (status, held_status) {
            (Some(next), _) => until = until.min(next),
            (None, Some(&(_, next))) if self.require_status => {
                return Badge::Expired {
                    business,
                    what: Expiry::Status,
                    since: next,
                };
            }
            (None, None) if self.require_status => {
                return Badge::Expired {
                    business,
                    what: Expiry::NoStatus,
                    since: 0,
                };
            }
            // An old status no one requires proves nothing either way: the
            // issuer's list must then be fresh, if one is held.
            (None, _) => {
                if let Some(held) = self
                    .revocations
                    .held(RevocationScope::BusinessCertificates, b.issuer_id)
                {
                    if now > held.next_update.saturating_add(CLOCK_SKEW_SECS) {
                        return Badge::Expired {
                            business,
                            what: Expiry::RevocationList {
                                scope: RevocationScope::BusinessCertificates,
                                signer_id: b.issuer_id,
                            },
                            since: held.next_update,
                        };
                    }
                    until = until.min(held.next_update);
                }
            }
        }
        if let Some(held) = root_list {
            until = until.min(held.next_update);
        }
        Badge::Verified { business, until }
    }

    /// The sequence of the revocation list in force for a signer, if any.
    pub fn revocation_sequence(&self, scope: RevocationScope, signer_id: u32) -> Option<u64> {
        self.revocations.current_sequence(scope, signer_id)
    }

    fn root_for(&self, root_id: u32) -> Result<&TrustRoot, ValidationError> {
        if self.retired.contains(&root_id) {
            return Err(ValidationError::RootRetired(root_id));
        }
        self.roots
            .get(&root_id)
            .ok_or(ValidationError::UnknownRoot(root_id))
    }

    /// Steps 1 to 3 (and 5 when `now` is given): the issuer certificate
    /// under its root.
    fn check_issuer(
        &self,
        issuer: &IssuerCertificate,
        now: Option<u64>,
    ) -> Result<(), ValidationError> {
        let root = self.root_for(issuer.root_id)?;
        if let Some(now) = now {
            check_time(ChainLink::Root, root.validity, now)?;
        }
        root.key
            .verify(
                SIG_CTX_ISSUER_CERT,
                &issuer.signed_part(),
                &issuer.signature,
            )
            .map_err(|_| ValidationError::BadSignature(ChainLink::Issuer))?;
        if self
            .revocations
            .issuer_key_revoked(&issuer.key.to_bytes())
            .is_some()
        {
            return Err(ValidationError::IssuerRevoked(issuer.issuer_id));
        }
        if let Some(now) = now {
            check_time(ChainLink::Issuer, issuer.validity, now)?;
        }
        Ok(())
    }

    /// Validates a chain at time `now` (Unix seconds), following SPEC.md,
    /// "Validation", step by step; the first failure is returned.
    pub fn validate_chain(
        &self,
        chain: &CertificateChain,
        now: u64,
    ) -> Result<VerifiedBusiness, ValidationError> {
        let issuer = &chain.issuer;
        let cert = &chain.business;
        self.check_issuer(issuer, Some(now))?;
        if cert.issuer_id != issuer.issuer_id {
            return Err(ValidationError::IssuerMismatch {
                named: cert.issuer_id,
                present: issuer.issuer_id,
            });
        }
        issuer
            .key
            .verify(SIG_CTX_BUSINESS_CERT, &cert.signed_part(), &cert.signature)
            .map_err(|_| ValidationError::BadSignature(ChainLink::Business))?;
        if self
            .revocations
            .serial_revoked(issuer.issuer_id, cert.serial)
            .is_some()
        {
            return Err(ValidationError::CertificateRevoked {
                issuer_id: issuer.issuer_id,
                serial: cert.serial,
            });
        }
        check_time(ChainLink::Business, cert.validity, now)?;
        if !issuer.allowed.contains(cert.level) {
            return Err(ValidationError::LevelNotAllowed {
                issuer_id: issuer.issuer_id,
                level: cert.level,
            });
        }
        check_name(&cert.name).map_err(ValidationError::InvalidName)?;
        for l in &cert.localized {
            check_name(&l.name).map_err(|error| ValidationError::InvalidLocalizedName {
                language: l.language.clone(),
                error,
            })?;
        }
        Ok(VerifiedBusiness {
            business_id: cert.business_id,
            name: cert.name.clone(),
            localized: cert.localized.clone(),
            level: cert.level,
            serial: cert.serial,
            issuer_id: issuer.issuer_id,
            issuer_key: Some(issuer.key.to_bytes()),
            root_id: issuer.root_id,
            identity_key: cert.identity_key,
            validity: cert.validity,
            chain_hash: chain.hash(),
        })
    }

    /// Decodes and validates a chain's bytes.
    pub fn validate_chain_bytes(
        &self,
        bytes: &[u8],
        now: u64,
    ) -> Result<VerifiedBusiness, ValidationError> {
        self.validate_chain(&CertificateChain::from_bytes(bytes)?, now)
    }

    /// Validates the chain a bundle carries and checks that it names the
    /// bundle's identity key (the last step of SPEC.md, "Validation").
    pub fn verify_bundle(
        &self,
        bundle: &PreKeyBundle,
        now: u64,
    ) -> Result<VerifiedBusiness, ValidationError> {
        let chain = bundle
            .certificate_chain()
            .ok_or(ValidationError::NoCertificate)?;
        let verified = self.validate_chain(chain, now)?;
        if verified.identity_key != *bundle.identity().signing_key() {
            return Err(ValidationError::KeyMismatch);
        }
        Ok(verified)
    }

    /// Applies a revocation list after checking its signer, signature,
    /// issue time and sequence (SPEC.md, "Revocation lists"). An issuer's
    /// list needs that issuer's certificate, which must chain to a root of
    /// this store (its validity window is not checked: an expired issuer's
    /// revocations still count). On any error nothing changes.
    pub fn apply_revocation_list(
        &mut self,
        list: &RevocationList,
        issuer: Option<&IssuerCertificate>,
        now: u64,
    ) -> Result<RevocationUpdate, RevocationError> {
        let key = match list.scope() {
            RevocationScope::Issuers => match self.root_for(list.signer_id) {
                Ok(root) => root.key,
                Err(_) => return Err(RevocationError::UnknownRoot(list.signer_id)),
            },
            RevocationScope::BusinessCertificates => {
                let issuer = issuer
                    .filter(|i| i.issuer_id == list.signer_id)
                    .ok_or(RevocationError::IssuerCertificateNeeded(list.signer_id))?;
                // A revoked issuer's key changes nothing any more: its list
                // in force stays, and every certificate it issued is
                // revoked with it.
                self.check_issuer(issuer, None)
                    .map_err(RevocationError::IssuerNotTrusted)?;
                issuer.key
            }
        };
        if !list.verify(&key) {
            return Err(RevocationError::BadSignature);
        }
        let w = list.window;
        if w.sequence > w.issued_at {
            return Err(RevocationError::SequenceAhead {
                sequence: w.sequence,
                issued_at: w.issued_at,
            });
        }
        if !super::revocation::window_ok(&w) {
            return Err(RevocationError::BadWindow {
                issued_at: w.issued_at,
                next_update: w.next_update,
            });
        }
        if w.issued_at > now.saturating_add(CLOCK_SKEW_SECS) {
            return Err(RevocationError::IssuedInFuture {
                issued_at: w.issued_at,
                now,
            });
        }
        if let Some(current) = self
            .revocations
            .current_sequence(list.scope(), list.signer_id)
            && w.sequence <= current
        {
            return Err(RevocationError::Stale {
                current,
                offered: w.sequence,
            });
        }
        if self
            .revocations
            .current_sequence(list.scope(), list.signer_id)
            .is_none()
            && self.revocations.len() >= MAX_HELD_REVOCATION_LISTS
        {
            return Err(RevocationError::TooManyLists);
        }
        Ok(self.revocations.install(list))
    }
}

/// The first byte of the stored trust state's current layout (layout 1
/// began with the flags byte, 0 or 1).
const TRUST_STATE_LAYOUT: u8 = 0x02;

impl TrustStore {
    /// Appends the stored layout (SPEC.md, section 15.17): flags, roots,
    /// retired root ids, revocation lists and statuses, each list in
    /// ascending order.
    pub(crate) fn encode_state(&self, out: &mut Vec<u8>) {
        out.push(TRUST_STATE_LAYOUT);
        out.push(u8::from(self.require_status));
        // Counts are bounded when added (and checked when decoded).
        out.push(self.roots.len() as u8);
        for r in self.roots.values() {
            out.extend_from_slice(&r.to_bytes());
        }
        out.extend_from_slice(&(self.retired.len() as u16).to_be_bytes());
        for id in &self.retired {
            out.extend_from_slice(&id.to_be_bytes());
        }
        let lists: Vec<_> = self.revocations.lists().collect();
        out.extend_from_slice(&(lists.len() as u16).to_be_bytes());
        for (scope, signer, held) in lists {
            out.push(scope.to_byte());
            out.extend_from_slice(&signer.to_be_bytes());
            out.extend_from_slice(&held.sequence.to_be_bytes());
            out.extend_from_slice(&held.next_update.to_be_bytes());
            out.extend_from_slice(&(held.len() as u32).to_be_bytes());
            for e in &held.serials {
                out.extend_from_slice(&e.to_be_bytes());
            }
            for k in &held.issuer_keys {
                out.extend_from_slice(k);
            }
        }
        out.extend_from_slice(&(self.statuses.len() as u32).to_be_bytes());
        for ((issuer, serial), (this_update, next_update)) in &self.statuses {
            out.extend_from_slice(&issuer.to_be_bytes());
            out.extend_from_slice(&serial.to_be_bytes());
            out.extend_from_slice(&this_update.to_be_bytes());
            out.extend_from_slice(&next_update.to_be_bytes());
        }
    }

    /// Reads the layout of [`TrustStore::encode_state`] strictly: every
    /// count bounded before allocation, every list ascending, roots
    /// verified.
    ///
    /// A record of layout 1 (which began with the flags byte, 0 or 1, and
    /// revoked issuers by id) is migrated: its lists keep their sequences,
    /// so older lists stay refused, but get `next_update = 0`, so that they
    /// prove nothing until fresh lists arrive, and root lists lose their
    /// issuer ids, which name no key. Badges fail closed until then.
    pub(crate) fn read_state(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let layout = match r.peek_u8() {
            Some(TRUST_STATE_LAYOUT) => {
                r.u8("trust state layout")?;
                TRUST_STATE_LAYOUT
            }
            _ => 1,
        };
        let require_status = match r.u8("trust flags")? {
            0 => false,
            1 => true,
            value => {
                return Err(DecodeError::InvalidValue {
                    field: "trust flags",
                    value,
                });
            }
        };
        let n = usize::from(r.u8("root count")?);
        if n > MAX_TRUST_ROOTS || n * TrustRoot::ENCODED_LEN > r.remaining() {
            return Err(DecodeError::InvalidLength {
                field: "root count",
                len: n,
            });
        }
        let mut roots = BTreeMap::new();
        for _ in 0..n {
            let bytes = r.take(TrustRoot::ENCODED_LEN, "trust root")?;
            let root = TrustRoot::from_bytes(bytes)
                .map_err(|_| DecodeError::NotCanonical("trust root"))?;
            if roots
                .last_key_value()
                .is_some_and(|(k, _)| *k >= root.root_id)
            {
                return Err(DecodeError::NotCanonical("trust roots"));
            }
            roots.insert(root.root_id, root);
        }
        let n = usize::from(r.u16("retired root count")?);
        if n > MAX_TRUST_ROOTS || n * 4 > r.remaining() {
            return Err(DecodeError::InvalidLength {
                field: "retired root count",
                len: n,
            });
        }
        let mut retired = BTreeSet::new();
        for _ in 0..n {
            let id = r.u32("retired root id")?;
            if retired.last().is_some_and(|l| *l >= id) {
                return Err(DecodeError::NotCanonical("retired roots"));
            }
            retired.insert(id);
        }
        let n = usize::from(r.u16("revocation list count")?);
        let header = if layout == 1 { 17 } else { 25 };
        if n > MAX_HELD_REVOCATION_LISTS || n * header > r.remaining() {
            return Err(DecodeError::InvalidLength {
                field: "revocation list count",
                len: n,
            });
        }
        let mut revocations = RevocationState::default();
        let mut last: Option<(RevocationScope, u32)> = None;
        for _ in 0..n {
            let scope = RevocationScope::from_byte(r.u8("revocation scope")?)?;
            let signer = r.u32("signer id")?;
            if last.is_some_and(|l| l >= (scope, signer)) {
                return Err(DecodeError::NotCanonical("revocation lists"));
            }
            last = Some((scope, signer));
            let sequence = r.u64("sequence")?;
            let next_update = if layout == 1 {
                0
            } else {
                r.u64("next update")?
            };
            let count = r.u32("entry count")? as usize;
            let width = match (layout, scope) {
                (2, RevocationScope::Issuers) => 32,
                _ => 8,
            };
            if count > MAX_REVOKED_ENTRIES || count * width > r.remaining() {
                return Err(DecodeError::InvalidLength {
                    field: "entry count",
                    len: count,
                });
            }
            let mut held = HeldList {
                sequence,
                next_update,
                serials: BTreeSet::new(),
                issuer_keys: BTreeSet::new(),
            };
            let mut previous: Option<u64> = None;
            for _ in 0..count {
                let ascending = if width == 32 {
                    let k = *r.array::<32>("revocation entries")?;
                    held.issuer_keys.last().is_none_or(|l| *l < k) && held.issuer_keys.insert(k)
                } else {
                    let e = r.u64("revocation entries")?;
                    // Layout 1 root lists named issuer ids: dropped.
                    if scope == RevocationScope::BusinessCertificates {
                        held.serials.insert(e);
                    }
                    previous.replace(e).is_none_or(|p| p < e)
                };
                if !ascending {
                    return Err(DecodeError::NotCanonical("revocation entries"));
                }
            }
            revocations.restore(scope, signer, held);
        }
        let n = r.u32("status count")? as usize;
        if n > MAX_HELD_STATUSES || n * 28 > r.remaining() {
            return Err(DecodeError::InvalidLength {
                field: "status count",
                len: n,
            });
        }
        let mut statuses = BTreeMap::new();
        for _ in 0..n {
            let key = (r.u32("status issuer id")?, r.u64("status serial")?);
            let window = (r.u64("status this update")?, r.u64("status next update")?);
            if statuses.last_key_value().is_some_and(|(k, _)| *k >= key) {
                return Err(DecodeError::NotCanonical("statuses"));
            }
            statuses.insert(key, window);
        }
        Ok(Self {
            roots,
            retired,
            revocations,
            statuses,
            require_status,
        })
    }

    /// An upper bound of the stored layout's length.
    pub(crate) fn state_len_bound(&self) -> usize {
        let lists: usize = self
            .revocations
            .lists()
            .map(|(_, _, h)| 25 + 8 * h.serials.len() + 32 * h.issuer_keys.len())
            .sum();
        17 + self.roots.len() * TrustRoot::ENCODED_LEN
            + 4 * self.retired.len()
            + lists
            + 28 * self.statuses.len()
    }
}

#[cfg(test)]
mod state_tests {
    use super::*;
    use crate::business::{IssuerAuthority, LevelSet, RootAuthority};

    fn populated() -> TrustStore {
        let always = Validity {
            not_before: 0,
            not_after: u64::MAX,
        };
        let root = RootAuthority::from_seed(&[1; 32], 1, always);
        let seed = [2; 32];
        let key = crate::primitives::ed25519::Ed25519Secret::from_seed(&seed).public_key();
        let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
        let cert = root.certify_issuer(7, &key, levels, always).unwrap();
        let issuer = IssuerAuthority::new(&seed, cert.clone()).unwrap();
        let mut t = TrustStore::new();
        t.add_root(root.trust_root()).unwrap();
        t.retire_root(3);
        t.retire_root(9);
        t.require_status(true);
        let now = 1_800_000_000;
        t.apply_revocation_list(
            &issuer.revoke(5, now, now + 60, &[10, 20]).unwrap(),
            Some(&cert),
            now,
        )
        .unwrap();
        let other = crate::primitives::ed25519::Ed25519Secret::from_seed(&[3; 32]).public_key();
        t.apply_revocation_list(
            &root.revoke_issuers(4, now, now + 90, &[other]).unwrap(),
            None,
            now,
        )
        .unwrap();
        for serial in [1, 2] {
            let s = issuer.certify_status(serial, now, now + 100).unwrap();
            t.apply_status(&s, &cert, now).unwrap();
        }
        t
    }

    fn encode(t: &TrustStore) -> Vec<u8> {
        let mut out = Vec::with_capacity(t.state_len_bound());
        let cap = out.capacity();
        t.encode_state(&mut out);
        assert_eq!(out.capacity(), cap, "the bound held");
        out
    }

    fn decode(bytes: &[u8]) -> Result<TrustStore, DecodeError> {
        let mut r = Reader::new(bytes);
        let t = TrustStore::read_state(&mut r)?;
        r.finish()?;
        Ok(t)
    }

    #[test]
    fn trust_state_round_trips_and_every_prefix_is_refused() {
        let t = populated();
        let bytes = encode(&t);
        let back = decode(&bytes).unwrap();
        assert_eq!(encode(&back), bytes);
        assert_eq!(
            back.revocation_sequence(RevocationScope::Issuers, 1),
            Some(4)
        );
        assert_eq!(back.status_until(7, 2), Some(1_800_000_100));
        assert!(back.status_required());
        assert_eq!(back.roots().count(), 1);
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n]).is_err(), "prefix {n} accepted");
        }
    }

    #[test]
    fn trust_state_keeps_list_windows_and_issuer_keys() {
        let t = populated();
        let back = decode(&encode(&t)).unwrap();
        let issuer = back
            .revocations
            .held(RevocationScope::BusinessCertificates, 7)
            .unwrap();
        assert_eq!(issuer.next_update, 1_800_000_060);
        assert_eq!(issuer.serials.iter().copied().collect::<Vec<_>>(), [10, 20]);
        let other = crate::primitives::ed25519::Ed25519Secret::from_seed(&[3; 32]).public_key();
        assert_eq!(
            back.revocations.issuer_key_revoked(&other.to_bytes()),
            Some((1, 4))
        );
        assert_eq!(
            back.revocations
                .held(RevocationScope::Issuers, 1)
                .unwrap()
                .next_update,
            1_800_000_090
        );
    }

    /// Two roots revoke the same issuer key: the lowest root answers; a
    /// newer complete list of that root that drops the key hands the
    /// answer to the other root (SPEC.md 13.16, step 3).
    #[test]
    fn issuer_key_revocations_are_indexed_by_the_lowest_root() {
        let always = Validity {
            not_before: 0,
            not_after: u64::MAX,
        };
        let now = 1_800_000_000;
        let key = crate::primitives::ed25519::Ed25519Secret::from_seed(&[3; 32]).public_key();
        let mut t = TrustStore::new();
        let roots: Vec<_> = [(2u32, 0x22u8), (1, 0x11)]
            .into_iter()
            .map(|(id, seed)| RootAuthority::from_seed(&[seed; 32], id, always))
            .collect();
        for root in &roots {
            t.add_root(root.trust_root()).unwrap();
            let list = root.revoke_issuers(now, now, now + 60, &[key]).unwrap();
            t.apply_revocation_list(&list, None, now).unwrap();
        }
        assert_eq!(
            t.revocations.issuer_key_revoked(&key.to_bytes()),
            Some((1, now))
        );
        let cleared = roots[1]
            .revoke_issuers(now + 1, now + 1, now + 60, &[])
            .unwrap();
        t.apply_revocation_list(&cleared, None, now + 1).unwrap();
        assert_eq!(
            t.revocations.issuer_key_revoked(&key.to_bytes()),
            Some((2, now))
        );
        // The index is rebuilt when the state is read back.
        let back = decode(&encode(&t)).unwrap();
        assert_eq!(
            back.revocations.issuer_key_revoked(&key.to_bytes()),
            Some((2, now))
        );
    }

    /// Layout 1: flags first, no `next_update`, root lists of issuer ids.
    #[test]
    fn trust_state_of_layout_1_is_migrated_failing_closed() {
        let mut v1 = vec![1u8, 0]; // statuses required, no root
        v1.extend_from_slice(&0u16.to_be_bytes()); // no retired root
        v1.extend_from_slice(&2u16.to_be_bytes());
        // An issuer list (scope 1) of issuer 7, sequence 5: serials 10, 20.
        v1.push(1);
        v1.extend_from_slice(&7u32.to_be_bytes());
        v1.extend_from_slice(&5u64.to_be_bytes());
        v1.extend_from_slice(&2u32.to_be_bytes());
        v1.extend_from_slice(&10u64.to_be_bytes());
        v1.extend_from_slice(&20u64.to_be_bytes());
        // A root list (scope 2) of root 1, sequence 4: issuer id 8.
        v1.push(2);
        v1.extend_from_slice(&1u32.to_be_bytes());
        v1.extend_from_slice(&4u64.to_be_bytes());
        v1.extend_from_slice(&1u32.to_be_bytes());
        v1.extend_from_slice(&8u64.to_be_bytes());
        v1.extend_from_slice(&0u32.to_be_bytes()); // no status
        let t = decode(&v1).unwrap();
        assert!(t.status_required());
        let issuer = t
            .revocations
            .held(RevocationScope::BusinessCertificates, 7)
            .unwrap();
        assert_eq!((issuer.sequence, issuer.next_update), (5, 0));
        assert!(issuer.serials.contains(&20));
        let root = t.revocations.held(RevocationScope::Issuers, 1).unwrap();
        assert_eq!((root.sequence, root.next_update, root.len()), (4, 0, 0));
        // Written back in the current layout.
        assert_eq!(encode(&t)[0], TRUST_STATE_LAYOUT);
        // Layout 1 entries out of order are refused like layout 2's.
        let at = v1.len() - 4 - 8;
        v1[at..at + 8].copy_from_slice(&8u64.to_be_bytes());
        let mut swapped = v1.clone();
        let first = 2 + 2 + 2 + 1 + 4 + 8 + 4;
        swapped[first..first + 8].copy_from_slice(&30u64.to_be_bytes());
        assert_eq!(
            decode(&swapped).err(),
            Some(DecodeError::NotCanonical("revocation entries"))
        );
    }

    #[test]
    fn trust_state_refuses_bad_flags_and_unordered_lists() {
        let t = populated();
        let bytes = encode(&t);
        let mut bad = bytes.clone();
        bad[1] = 2;
        assert_eq!(
            decode(&bad).err(),
            Some(DecodeError::InvalidValue {
                field: "trust flags",
                value: 2
            })
        );
        // The two retired ids (3 then 9) swapped.
        let at = 3 + TrustRoot::ENCODED_LEN + 2;
        let mut bad = bytes.clone();
        bad[at..at + 4].copy_from_slice(&9u32.to_be_bytes());
        bad[at + 4..at + 8].copy_from_slice(&3u32.to_be_bytes());
        assert_eq!(
            decode(&bad).err(),
            Some(DecodeError::NotCanonical("retired roots"))
        );
        // A root count above what the bytes hold is refused before reading.
        let mut bad = bytes.clone();
        bad[2] = 200;
        assert!(matches!(
            decode(&bad),
            Err(DecodeError::InvalidLength {
                field: "root count",
                ..
            })
        ));
    }
}

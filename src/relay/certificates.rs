//! Business certificate validation at registration.
//!
//! Registration of a business hands its identity and certificate chain bytes
//! to a [`CertificateValidator`]; the relay stores the chain only if the
//! validator returns a [`VerifiedBusiness`] for exactly that identity, and
//! then attaches the chain to every bundle it hands out for the business.
//!
//! A public relay uses the platform's [`TrustStore`]: the same roots and
//! revocation lists the customers' clients hold, so a chain the relay accepts
//! is one the clients accept at the same time. [`AllowList`] and
//! [`NoBusinesses`] serve closed deployments and tests.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::business::{
    CertificateStatus, IssuerCertificate, RevocationList, StatusError, TrustStore, ValidationError,
    VerificationLevel,
};
use crate::keys::IdentityKey;
use crate::relay::RelayError;
use crate::relay::auth::AccountId;

/// A business identity the validator vouched for (what the relay records
/// with the account; the customer's client validates the chain itself and
/// gets a [`business::VerifiedBusiness`](crate::business::VerifiedBusiness)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBusiness {
    /// The verified display name (for the operator's records and logs).
    pub name: String,
    /// The verification level, when a certificate chain was validated
    /// (`None` for an identity vouched for by hand).
    pub level: Option<VerificationLevel>,
    /// The certified business id, when a chain was validated.
    pub business_id: Option<crate::business::BusinessId>,
    /// The certified localized names, when a chain was validated (checked
    /// for look-alikes like the display name).
    pub localized: Vec<String>,
}

/// Why a business's certificate chain was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateRefused {
    /// The validator does not vouch for this identity.
    #[error("no trusted certificate for this identity")]
    Untrusted,
    /// The chain failed validation: the precise step of SPEC.md 13
    /// ("Validation") that failed, or [`ValidationError::KeyMismatch`] when
    /// the chain certifies another identity key than the registering one.
    #[error("invalid certificate chain: {0}")]
    Invalid(#[from] ValidationError),
}

/// Validates a business's certificate chain against the relay's trust roots.
pub trait CertificateValidator: Send + Sync {
    /// The standing now of a business whose chain this validator accepted
    /// at registration: `Ok` while its badge is true, or the verdict that
    /// says why not (revoked, expired, status ran out). The default accepts
    /// every registered business (closed deployments without revocation).
    fn standing(&self, chain: &[u8], now: u64) -> Result<(), Box<crate::business::Badge>> {
        let _ = (chain, now);
        Ok(())
    }

    /// Takes a status a registered business published for its own
    /// certificate, after the relay checked it is for that certificate and
    /// signed by the chain's issuer (SPEC.md 14.13), so that
    /// [`standing`](Self::standing) counts it. The default keeps no state.
    fn accept_status(
        &self,
        status: &CertificateStatus,
        issuer: &IssuerCertificate,
        now: u64,
    ) -> Result<(), StatusError> {
        let _ = (status, issuer, now);
        Ok(())
    }

    /// Applies a revocation list published through the relay, returning
    /// the sequence now in force for its signer. The default refuses:
    /// a validator without updatable state ([`RelayError::TrustStateFixed`]).
    fn accept_revocation_list(
        &self,
        list: &RevocationList,
        issuer: Option<&IssuerCertificate>,
        now: u64,
    ) -> Result<u64, RelayError> {
        let _ = (list, issuer, now);
        Err(RelayError::TrustStateFixed)
    }

    /// Returns the verified business for `identity` if `chain` proves it at
    /// time `now` (seconds since the Unix epoch).
    fn validate(
        &self,
        identity: &IdentityKey,
        chain: &[u8],
        now: u64,
    ) -> Result<VerifiedBusiness, CertificateRefused>;
}

/// Validates chains exactly as the customer's client does
/// ([`TrustStore::validate_chain_bytes`] at the relay's time), and requires
/// the certified identity key to be the registering account's.
///
/// ```
/// use hotline::business::*;
/// use hotline::relay::{CertificateRefused, CertificateValidator};
/// use hotline::IdentityKeyPair;
/// let mut rng = rand::rng();
/// let always = Validity { not_before: 0, not_after: u64::MAX };
/// let root = RootAuthority::generate(1, always, &mut rng);
/// let (seed, key) = IssuerAuthority::generate_key(&mut rng);
/// let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
/// let issuer = IssuerAuthority::new(&seed, root.certify_issuer(7, &key, levels, always)?)?;
/// let airline = IdentityKeyPair::generate(&mut rng);
/// let cert = issuer.issue(&BusinessCertificateRequest {
///     serial: 1,
///     business_id: BusinessId([1; 16]),
///     identity_key: *airline.public().signing_key(),
///     name: "Example Air".into(),
///     localized: vec![],
///     level: VerificationLevel::Verified,
///     validity: always,
/// })?;
/// let chain = CertificateChain::new(issuer.certificate().clone(), cert).to_bytes();
///
/// let mut trust = TrustStore::new();
/// trust.add_root(root.trust_root())?;
/// let now = 1_800_000_000;
/// assert_eq!(trust.validate(&airline.public(), &chain, now)?.name, "Example Air");
/// let impostor = IdentityKeyPair::generate(&mut rng);
/// assert_eq!(
///     trust.validate(&impostor.public(), &chain, now),
///     Err(CertificateRefused::Invalid(ValidationError::KeyMismatch))
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl CertificateValidator for TrustStore {
    fn standing(&self, chain: &[u8], now: u64) -> Result<(), Box<crate::business::Badge>> {
        // A chain that no longer decodes was stored by an older relay with
        // other rules: it proves nothing now.
        let Ok(chain) = crate::business::CertificateChain::from_bytes(chain) else {
            return Err(Box::new(crate::business::Badge::Unverified));
        };
        match self.chain_standing(&chain, now) {
            b if b.is_verified() => Ok(()),
            b => Err(Box::new(b)),
        }
    }

    fn validate(
        &self,
        identity: &IdentityKey,
        chain: &[u8],
        now: u64,
    ) -> Result<VerifiedBusiness, CertificateRefused> {
        if chain.is_empty() {
            return Err(ValidationError::NoCertificate.into());
        }
        let verified = self.validate_chain_bytes(chain, now)?;
        if verified.identity_key() != identity.signing_key() {
            return Err(ValidationError::KeyMismatch.into());
        }
        Ok(VerifiedBusiness {
            name: verified.name().to_owned(),
            level: Some(verified.level()),
            business_id: Some(verified.business_id()),
            localized: verified
                .localized_names()
                .iter()
                .map(|l| l.name.clone())
                .collect(),
        })
    }
}

/// A trust store the operator keeps updating (new roots, revocation lists)
/// while the relay runs: the relay reads it at every registration and send,
/// and applies the statuses and lists published to it.
impl CertificateValidator for Arc<RwLock<TrustStore>> {
    fn standing(&self, chain: &[u8], now: u64) -> Result<(), Box<crate::business::Badge>> {
        let store = self.read().unwrap_or_else(|p| p.into_inner());
        store.standing(chain, now)
    }

    fn accept_status(
        &self,
        status: &CertificateStatus,
        issuer: &IssuerCertificate,
        now: u64,
    ) -> Result<(), StatusError> {
        let mut store = self.write().unwrap_or_else(|p| p.into_inner());
        match store.apply_status(status, issuer, now) {
            // The operator applied it already: nothing to add.
            Ok(()) | Err(StatusError::Stale { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn accept_revocation_list(
        &self,
        list: &RevocationList,
        issuer: Option<&IssuerCertificate>,
        now: u64,
    ) -> Result<u64, RelayError> {
        let mut store = self.write().unwrap_or_else(|p| p.into_inner());
        store
            .apply_revocation_list(list, issuer, now)
            .map(|u| u.sequence)
            .map_err(RelayError::BadRevocationList)
    }

    fn validate(
        &self,
        identity: &IdentityKey,
        chain: &[u8],
        now: u64,
    ) -> Result<VerifiedBusiness, CertificateRefused> {
        // A poisoned lock: a writer panicked between whole updates of the
        // store (each `TrustStore` method leaves it consistent).
        let store = self.read().unwrap_or_else(|p| p.into_inner());
        store.validate(identity, chain, now)
    }
}

/// Refuses every business: a relay for customers only.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBusinesses;

impl CertificateValidator for NoBusinesses {
    fn validate(
        &self,
        _: &IdentityKey,
        _: &[u8],
        _: u64,
    ) -> Result<VerifiedBusiness, CertificateRefused> {
        Err(CertificateRefused::Untrusted)
    }
}

/// Vouches for business identities the operator has vetted by hand. The
/// chain is not validated (the relay only requires it to be empty or to
/// decode, and hands it out with the bundles). Useful for tests and closed
/// deployments; a public relay validates chains with a [`TrustStore`].
#[derive(Debug, Clone, Default)]
pub struct AllowList(HashMap<AccountId, String>);

impl AllowList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }
    /// Vouches for `identity` under `name`.
    pub fn allow(&mut self, identity: &IdentityKey, name: &str) -> &mut Self {
        self.0.insert(AccountId::of(identity), name.to_owned());
        self
    }
}

impl CertificateValidator for AllowList {
    fn validate(
        &self,
        identity: &IdentityKey,
        _: &[u8],
        _: u64,
    ) -> Result<VerifiedBusiness, CertificateRefused> {
        self.0
            .get(&AccountId::of(identity))
            .map(|name| VerifiedBusiness {
                name: name.clone(),
                level: None,
                business_id: None,
                localized: Vec::new(),
            })
            .ok_or(CertificateRefused::Untrusted)
    }
}

//! The seam between the relay and business certificate validation.
//!
//! Registration of a business hands its identity and certificate chain bytes
//! to a [`CertificateValidator`]; the relay stores the chain only if the
//! validator returns a [`VerifiedBusiness`] for exactly that identity.
// INTEGRATION SEAM: when the business certificate layer (src/business) is
// available, implement `CertificateValidator` for its trust-root type (a few
// lines: decode the chain, validate it at `now` for `identity`, map the
// verified name into `VerifiedBusiness`) and make `CertificateRefused::Invalid`
// carry its validation error.

use std::collections::HashMap;

use crate::keys::IdentityKey;
use crate::relay::auth::AccountId;

/// A business identity the validator vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBusiness {
    /// The verified display name (for the customer's badge).
    pub name: String,
}

/// Why a business's certificate chain was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateRefused {
    /// The validator does not vouch for this identity.
    #[error("no trusted certificate for this identity")]
    Untrusted,
    /// The chain failed validation.
    #[error("invalid certificate chain: {0}")]
    Invalid(String),
}

/// Validates a business's certificate chain against the relay's trust roots.
pub trait CertificateValidator: Send + Sync {
    /// Returns the verified business for `identity` if `chain` proves it at
    /// time `now` (seconds since the Unix epoch).
    fn validate(
        &self,
        identity: &IdentityKey,
        chain: &[u8],
        now: u64,
    ) -> Result<VerifiedBusiness, CertificateRefused>;
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

/// Vouches for business identities the operator has vetted by hand (the
/// chain bytes are ignored). Useful for tests and closed deployments; a
/// public relay validates certificate chains against trust roots instead.
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
            .map(|name| VerifiedBusiness { name: name.clone() })
            .ok_or(CertificateRefused::Untrusted)
    }
}

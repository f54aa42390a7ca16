//! What a customer's client remembers about businesses it has talked to:
//! the identity key per business id (to report identity changes) and the
//! verified names (to warn about look-alikes of names already known).

use std::collections::{BTreeMap, BTreeSet};

use crate::constants::MAX_KNOWN_BUSINESSES;
use crate::primitives::ed25519::Ed25519Public;

use super::certificate::BusinessId;
use super::names::confusable_key;
use super::validation::VerifiedBusiness;

#[derive(Debug, Clone)]
struct Pinned {
    identity_key: Ed25519Public,
    name: String,
    /// The confusable keys of the display name and every localized name:
    /// an app may show any of them.
    keys: Vec<String>,
}

/// The confusable keys of every name a business may be shown under.
fn all_keys(business: &VerifiedBusiness) -> Vec<String> {
    let mut keys: Vec<String> = core::iter::once(business.name())
        .chain(business.localized_names().iter().map(|l| l.name.as_str()))
        .map(confusable_key)
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// A known business whose name can be mistaken for another's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusableName {
    /// The known business.
    pub business_id: BusinessId,
    /// Its known name.
    pub name: String,
}

/// The outcome of checking a verified business against what the client knows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinStatus {
    /// Known business, same identity key and name.
    Known,
    /// Known business and identity key, but the certificate carries a new
    /// name (a renewal with a new name): worth showing.
    Renamed {
        /// The name pinned before.
        previous_name: String,
    },
    /// A business id the client has not seen. `confusable_with` lists known
    /// businesses (other ids) whose names can be mistaken for this one: if
    /// it is not empty the user should be warned before trusting the name.
    FirstContact {
        /// Known look-alikes.
        confusable_with: Vec<ConfusableName>,
    },
}

/// A pinned business presented a different identity key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinCheckError {
    /// The business id is pinned to another identity key. The certificate
    /// may be genuine (a key change with a new certificate) or not; the
    /// application must tell the user and only re-pin on confirmation.
    #[error("identity of business {business_id} changed")]
    IdentityChanged {
        /// The business.
        business_id: BusinessId,
        /// The key pinned before.
        pinned: Ed25519Public,
        /// The key presented now.
        presented: Ed25519Public,
    },
}

/// Why a business could not be pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinError {
    /// [`MAX_KNOWN_BUSINESSES`] are pinned already.
    #[error("too many pinned businesses")]
    Full,
}

/// Pinned identities and known names, by business id (bounded by
/// [`MAX_KNOWN_BUSINESSES`]).
///
/// The client calls [`KnownBusinesses::check`] after validating a bundle and
/// before the handshake, and [`KnownBusinesses::pin`] once the user trusts
/// the business (at first contact, or after confirming an identity change).
#[derive(Debug, Clone, Default)]
pub struct KnownBusinesses {
    by_id: BTreeMap<BusinessId, Pinned>,
    by_key: BTreeMap<String, BTreeSet<BusinessId>>,
}

impl KnownBusinesses {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of pinned businesses.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether nothing is pinned.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Known businesses other than `except` whose names can be mistaken for `name`.
    pub fn confusable_with(&self, name: &str, except: Option<BusinessId>) -> Vec<ConfusableName> {
        self.by_key
            .get(&confusable_key(name))
            .into_iter()
            .flatten()
            .filter(|id| Some(**id) != except)
            .filter_map(|id| {
                self.by_id.get(id).map(|p| ConfusableName {
                    business_id: *id,
                    name: p.name.clone(),
                })
            })
            .collect()
    }

    /// Compares a verified business with what is pinned for its id.
    // Called once per new session, not on a hot path: carrying both keys
    // in the error is worth its size.
    #[allow(clippy::result_large_err)]
    pub fn check(&self, business: &VerifiedBusiness) -> Result<PinStatus, PinCheckError> {
        let id = business.business_id();
        match self.by_id.get(&id) {
            None => {
                // Every name it may be shown under, against every name of
                // every known business (a localized "KLM" looks like KLM to
                // an English-language app).
                let mut confusable_with: Vec<ConfusableName> = Vec::new();
                for key in all_keys(business) {
                    for other in self.by_key.get(&key).into_iter().flatten() {
                        if *other != id
                            && !confusable_with.iter().any(|c| c.business_id == *other)
                            && let Some(p) = self.by_id.get(other)
                        {
                            confusable_with.push(ConfusableName {
                                business_id: *other,
                                name: p.name.clone(),
                            });
                        }
                    }
                }
                Ok(PinStatus::FirstContact { confusable_with })
            }
            Some(p) if p.identity_key != *business.identity_key() => {
                Err(PinCheckError::IdentityChanged {
                    business_id: id,
                    pinned: p.identity_key,
                    presented: *business.identity_key(),
                })
            }
            Some(p) if p.name != business.name() => Ok(PinStatus::Renamed {
                previous_name: p.name.clone(),
            }),
            Some(_) => Ok(PinStatus::Known),
        }
    }

    /// Pins (or re-pins) the business's identity key and name.
    pub fn pin(&mut self, business: &VerifiedBusiness) -> Result<(), PinError> {
        let id = business.business_id();
        if !self.by_id.contains_key(&id) && self.by_id.len() >= MAX_KNOWN_BUSINESSES {
            return Err(PinError::Full);
        }
        self.forget(id);
        let keys = all_keys(business);
        for key in &keys {
            self.by_key.entry(key.clone()).or_default().insert(id);
        }
        self.by_id.insert(
            id,
            Pinned {
                identity_key: *business.identity_key(),
                name: business.name().to_owned(),
                keys,
            },
        );
        Ok(())
    }

    /// Forgets a business. Returns whether it was pinned.
    pub fn forget(&mut self, id: BusinessId) -> bool {
        let Some(old) = self.by_id.remove(&id) else {
            return false;
        };
        for key in &old.keys {
            if let Some(set) = self.by_key.get_mut(key) {
                set.remove(&id);
                if set.is_empty() {
                    self.by_key.remove(key);
                }
            }
        }
        true
    }
}

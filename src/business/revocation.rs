//! Signed revocation lists (SPEC.md, "Revocation lists").
//!
//! An issuer revokes the serials of business certificates it issued; a root
//! revokes issuers. Each list is complete (it replaces the signer's previous
//! list) and carries a sequence number: a client keeps the highest sequence
//! it has accepted per signer and refuses any list that does not exceed it,
//! so a replayed older list can never hide a newer revocation.

use std::collections::{BTreeMap, BTreeSet};

use crate::constants::{
    MAX_REVOKED_ENTRIES, OBJ_TYPE_REVOCATION_LIST, PROTOCOL_VERSION, REVOCATION_SCOPE_BUSINESS,
    REVOCATION_SCOPE_ISSUER, SIG_CTX_REVOCATION_LIST,
};
use crate::primitives::ed25519::{Ed25519Public, Ed25519Secret};
use crate::wire::{DecodeError, Reader};

use super::authority::{IssueError, prepare_entries};
use super::validation::ValidationError;

/// What a revocation list revokes, and so who signs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RevocationScope {
    /// Serials of business certificates; signed by their issuer.
    BusinessCertificates,
    /// Issuer ids; signed by a trust root.
    Issuers,
}

impl RevocationScope {
    pub(crate) fn to_byte(self) -> u8 {
        match self {
            Self::BusinessCertificates => REVOCATION_SCOPE_BUSINESS,
            Self::Issuers => REVOCATION_SCOPE_ISSUER,
        }
    }
    pub(crate) fn from_byte(value: u8) -> Result<Self, DecodeError> {
        match value {
            REVOCATION_SCOPE_BUSINESS => Ok(Self::BusinessCertificates),
            REVOCATION_SCOPE_ISSUER => Ok(Self::Issuers),
            value => Err(DecodeError::InvalidValue {
                field: "revocation scope",
                value,
            }),
        }
    }
}

/// A signed revocation list, decoded structurally (its signature is checked
/// when a [`TrustStore`](crate::business::TrustStore) applies it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationList {
    pub(crate) scope: RevocationScope,
    pub(crate) signer_id: u32,
    pub(crate) sequence: u64,
    pub(crate) issued_at: u64,
    pub(crate) entries: Vec<u64>,
    pub(crate) signature: [u8; 64],
}

impl RevocationList {
    pub(crate) fn sign(
        secret: &Ed25519Secret,
        scope: RevocationScope,
        signer_id: u32,
        sequence: u64,
        issued_at: u64,
        entries: Vec<u64>,
    ) -> Result<Self, IssueError> {
        if sequence > issued_at {
            return Err(IssueError::SequenceAhead {
                sequence,
                issued_at,
            });
        }
        let mut list = Self {
            scope,
            signer_id,
            sequence,
            issued_at,
            entries: prepare_entries(entries)?,
            signature: [0; 64],
        };
        list.signature = secret.sign(SIG_CTX_REVOCATION_LIST, &list.signed_part());
        Ok(list)
    }

    /// Signs without the sequence check, as a leaked key could (vectors).
    #[cfg(test)]
    pub(crate) fn sign_unchecked_for_vectors(
        secret: &Ed25519Secret,
        scope: RevocationScope,
        signer_id: u32,
        sequence: u64,
        issued_at: u64,
    ) -> Self {
        let mut list = Self {
            scope,
            signer_id,
            sequence,
            issued_at,
            entries: Vec::new(),
            signature: [0; 64],
        };
        list.signature = secret.sign(SIG_CTX_REVOCATION_LIST, &list.signed_part());
        list
    }

    fn signed_part(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(27 + 8 * self.entries.len());
        out.push(PROTOCOL_VERSION);
        out.push(OBJ_TYPE_REVOCATION_LIST);
        out.push(self.scope.to_byte());
        out.extend_from_slice(&self.signer_id.to_be_bytes());
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.issued_at.to_be_bytes());
        // Bounded by MAX_REVOKED_ENTRIES when made or decoded.
        out.extend_from_slice(&(self.entries.len() as u32).to_be_bytes());
        for e in &self.entries {
            out.extend_from_slice(&e.to_be_bytes());
        }
        out
    }

    pub(crate) fn verify(&self, key: &Ed25519Public) -> bool {
        key.verify(
            SIG_CTX_REVOCATION_LIST,
            &self.signed_part(),
            &self.signature,
        )
        .is_ok()
    }

    /// What the list revokes.
    pub fn scope(&self) -> RevocationScope {
        self.scope
    }
    /// The issuer id (scope `BusinessCertificates`) or root id (scope `Issuers`) of the signer.
    pub fn signer_id(&self) -> u32 {
        self.signer_id
    }
    /// The sequence number.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }
    /// When it was issued (Unix seconds).
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }
    /// The revoked serials or issuer ids, strictly ascending.
    pub fn entries(&self) -> &[u64] {
        &self.entries
    }

    /// The encoding (SPEC.md, "Revocation list").
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.signed_part();
        out.extend_from_slice(&self.signature);
        out
    }

    /// Decodes a list strictly (no signature check). The entry count is
    /// checked against [`MAX_REVOKED_ENTRIES`] and the input length before
    /// anything is allocated.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        r.object_type(OBJ_TYPE_REVOCATION_LIST)?;
        let scope = RevocationScope::from_byte(r.u8("revocation scope")?)?;
        let signer_id = r.u32("signer id")?;
        let sequence = r.u64("sequence")?;
        let issued_at = r.u64("issued at")?;
        let count = r.u32("entry count")? as usize;
        if count > MAX_REVOKED_ENTRIES {
            return Err(DecodeError::InvalidLength {
                field: "entry count",
                len: count,
            });
        }
        if r.remaining() < count * 8 {
            return Err(DecodeError::Truncated("revocation entries"));
        }
        let mut entries = Vec::with_capacity(count);
        for _ in 0..count {
            let e = r.u64("revocation entries")?;
            if entries.last().is_some_and(|&p| p >= e) {
                return Err(DecodeError::NotCanonical("revocation entries"));
            }
            entries.push(e);
        }
        let signature = *r.array::<64>("revocation list signature")?;
        r.finish()?;
        Ok(Self {
            scope,
            signer_id,
            sequence,
            issued_at,
            entries,
            signature,
        })
    }
}

/// Why a revocation list was not applied. The trust store is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RevocationError {
    /// An issuer list came without the issuer's certificate, or with the
    /// certificate of another issuer.
    #[error("the certificate of issuer {0} is needed to check this list")]
    IssuerCertificateNeeded(u32),
    /// The signer is a root this store does not hold (or has retired).
    #[error("unknown root {0}")]
    UnknownRoot(u32),
    /// The issuer certificate given for an issuer list does not chain to a
    /// root of this store.
    #[error("issuer certificate does not validate: {0}")]
    IssuerNotTrusted(ValidationError),
    /// The list's signature fails strict verification.
    #[error("revocation list signature is invalid")]
    BadSignature,
    /// The list's sequence number does not exceed the one already applied:
    /// an old list replayed, or a repeat.
    #[error("stale revocation list: sequence {offered} does not exceed {current}")]
    Stale {
        /// The highest sequence applied so far for this signer.
        current: u64,
        /// The list's sequence.
        offered: u64,
    },
    /// The list's sequence is above its issue time. Sequences never run
    /// ahead of the clock, so a leaked signing key cannot publish a
    /// sequence that freezes the signer's lists (SPEC.md 13.9).
    #[error("sequence {sequence} is above the list's issue time {issued_at}")]
    SequenceAhead {
        /// The list's sequence.
        sequence: u64,
        /// The list's issue time.
        issued_at: u64,
    },
    /// The store already holds lists of as many signers as it keeps.
    #[error("too many revocation lists held")]
    TooManyLists,
    /// The list claims to be issued in the future (beyond the clock skew).
    #[error("revocation list issued in the future ({issued_at} > {now})")]
    IssuedInFuture {
        /// The list's issue time.
        issued_at: u64,
        /// The client's time.
        now: u64,
    },
}

/// How a list changed the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationUpdate {
    /// The sequence now in force for the signer.
    pub sequence: u64,
    /// The number of revoked entries now in force for the signer.
    pub revoked: usize,
}

/// The revocations a client holds: per signer, the latest list.
#[derive(Debug, Clone, Default)]
pub(crate) struct RevocationState {
    lists: BTreeMap<(RevocationScope, u32), (u64, BTreeSet<u64>)>,
}

impl RevocationState {
    /// Every list held: (scope, signer, sequence, entries).
    pub(crate) fn lists(
        &self,
    ) -> impl Iterator<Item = (RevocationScope, u32, u64, &BTreeSet<u64>)> {
        self.lists
            .iter()
            .map(|((scope, signer), (seq, set))| (*scope, *signer, *seq, set))
    }

    /// Restores a list from stored state (authenticated by the store).
    pub(crate) fn restore(
        &mut self,
        scope: RevocationScope,
        signer: u32,
        sequence: u64,
        entries: BTreeSet<u64>,
    ) {
        self.lists.insert((scope, signer), (sequence, entries));
    }

    /// The sequence of the list that revokes `entry` for this signer, if any.
    pub(crate) fn revoking_sequence(
        &self,
        scope: RevocationScope,
        signer: u32,
        entry: u64,
    ) -> Option<u64> {
        self.lists
            .get(&(scope, signer))
            .filter(|(_, s)| s.contains(&entry))
            .map(|(seq, _)| *seq)
    }

    pub(crate) fn current_sequence(&self, scope: RevocationScope, signer: u32) -> Option<u64> {
        self.lists.get(&(scope, signer)).map(|(s, _)| *s)
    }

    /// Installs a verified list whose sequence was checked to be newer.
    pub(crate) fn install(&mut self, list: &RevocationList) -> RevocationUpdate {
        let set: BTreeSet<u64> = list.entries.iter().copied().collect();
        let revoked = set.len();
        self.lists
            .insert((list.scope, list.signer_id), (list.sequence, set));
        RevocationUpdate {
            sequence: list.sequence,
            revoked,
        }
    }

    pub(crate) fn issuer_revoked(&self, root_id: u32, issuer_id: u32) -> bool {
        self.lists
            .get(&(RevocationScope::Issuers, root_id))
            .is_some_and(|(_, s)| s.contains(&u64::from(issuer_id)))
    }

    pub(crate) fn serial_revoked(&self, issuer_id: u32, serial: u64) -> bool {
        self.lists
            .get(&(RevocationScope::BusinessCertificates, issuer_id))
            .is_some_and(|(_, s)| s.contains(&serial))
    }
}

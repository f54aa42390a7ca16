//! Signed revocation lists (SPEC.md, "Revocation lists").
//!
//! An issuer revokes the serials of business certificates it issued; a root
//! revokes issuers. Each list is complete (it replaces the signer's previous
//! list) and carries a sequence number: a client keeps the highest sequence
//! it has accepted per signer and refuses any list that does not exceed it,
//! so a replayed older list can never hide a newer revocation.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::constants::{
    MAX_REVOCATION_LIST_LIFETIME_SECS, MAX_REVOKED_ENTRIES, OBJ_TYPE_REVOCATION_LIST,
    PROTOCOL_VERSION, REVOCATION_SCOPE_BUSINESS, REVOCATION_SCOPE_ISSUER, SIG_CTX_REVOCATION_LIST,
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

/// The sequence and validity window of a revocation list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationWindow {
    /// The list's sequence number.
    pub sequence: u64,
    /// When the list was issued (Unix seconds).
    pub issued_at: u64,
    /// When the next list is due (Unix seconds).
    pub next_update: u64,
}

/// What a list revokes: serials (issuer lists) or issuer keys (root lists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokedEntries {
    /// Business certificate serials (an issuer's list).
    Serials(Vec<u64>),
    /// Issuer keys (a root's list).
    IssuerKeys(Vec<[u8; 32]>),
}

impl RevokedEntries {
    fn scope(&self) -> RevocationScope {
        match self {
            Self::Serials(_) => RevocationScope::BusinessCertificates,
            Self::IssuerKeys(_) => RevocationScope::Issuers,
        }
    }
    fn len(&self) -> usize {
        match self {
            Self::Serials(e) => e.len(),
            Self::IssuerKeys(e) => e.len(),
        }
    }
}

/// A signed revocation list, decoded structurally (its signature is checked
/// when a [`TrustStore`](crate::business::TrustStore) applies it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationList {
    pub(crate) signer_id: u32,
    pub(crate) window: RevocationWindow,
    pub(crate) entries: RevokedEntries,
    pub(crate) signature: [u8; 64],
}

impl RevocationList {
    pub(crate) fn sign(
        secret: &Ed25519Secret,
        signer_id: u32,
        window: RevocationWindow,
        entries: RevokedEntries,
    ) -> Result<Self, IssueError> {
        if window.sequence > window.issued_at {
            return Err(IssueError::SequenceAhead {
                sequence: window.sequence,
                issued_at: window.issued_at,
            });
        }
        if !window_ok(&window) {
            return Err(IssueError::ListWindow);
        }
        let entries = match entries {
            RevokedEntries::Serials(e) => RevokedEntries::Serials(prepare_entries(e)?),
            RevokedEntries::IssuerKeys(e) => RevokedEntries::IssuerKeys(prepare_entries(e)?),
        };
        Ok(Self::sign_unchecked(secret, signer_id, window, entries))
    }

    /// Signs without any check of the window (vectors and tests, as a
    /// leaked key could).
    pub(crate) fn sign_unchecked(
        secret: &Ed25519Secret,
        signer_id: u32,
        window: RevocationWindow,
        entries: RevokedEntries,
    ) -> Self {
        let mut list = Self {
            signer_id,
            window,
            entries,
            signature: [0; 64],
        };
        list.signature = secret.sign(SIG_CTX_REVOCATION_LIST, &list.signed_part());
        list
    }

    fn signed_part(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(REVOCATION_LIST_HEADER_LEN + 32 * self.entries.len());
        out.push(PROTOCOL_VERSION);
        out.push(OBJ_TYPE_REVOCATION_LIST);
        out.push(self.scope().to_byte());
        out.extend_from_slice(&self.signer_id.to_be_bytes());
        out.extend_from_slice(&self.window.sequence.to_be_bytes());
        out.extend_from_slice(&self.window.issued_at.to_be_bytes());
        out.extend_from_slice(&self.window.next_update.to_be_bytes());
        // Bounded by MAX_REVOKED_ENTRIES when made or decoded.
        out.extend_from_slice(&(self.entries.len() as u32).to_be_bytes());
        match &self.entries {
            RevokedEntries::Serials(e) => e
                .iter()
                .for_each(|s| out.extend_from_slice(&s.to_be_bytes())),
            RevokedEntries::IssuerKeys(e) => e.iter().for_each(|k| out.extend_from_slice(k)),
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
        self.entries.scope()
    }
    /// The issuer id (scope `BusinessCertificates`) or root id (scope `Issuers`) of the signer.
    pub fn signer_id(&self) -> u32 {
        self.signer_id
    }
    /// The sequence number.
    pub fn sequence(&self) -> u64 {
        self.window.sequence
    }
    /// When it was issued (Unix seconds).
    pub fn issued_at(&self) -> u64 {
        self.window.issued_at
    }
    /// After when it proves nothing about what it does not list (Unix
    /// seconds).
    pub fn next_update(&self) -> u64 {
        self.window.next_update
    }
    /// The revoked serials, strictly ascending (empty for a root's list).
    pub fn serials(&self) -> &[u64] {
        match &self.entries {
            RevokedEntries::Serials(e) => e,
            RevokedEntries::IssuerKeys(_) => &[],
        }
    }
    /// The revoked issuer keys, strictly ascending by bytes (empty for an
    /// issuer's list).
    pub fn issuer_keys(&self) -> &[[u8; 32]] {
        match &self.entries {
            RevokedEntries::IssuerKeys(e) => e,
            RevokedEntries::Serials(_) => &[],
        }
    }
    /// The number of revoked entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// Whether the list revokes nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
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
        let window = RevocationWindow {
            sequence: r.u64("sequence")?,
            issued_at: r.u64("issued at")?,
            next_update: r.u64("next update")?,
        };
        let count = r.u32("entry count")? as usize;
        if count > MAX_REVOKED_ENTRIES {
            return Err(DecodeError::InvalidLength {
                field: "entry count",
                len: count,
            });
        }
        let width = match scope {
            RevocationScope::BusinessCertificates => 8,
            RevocationScope::Issuers => 32,
        };
        if r.remaining() < count * width {
            return Err(DecodeError::Truncated("revocation entries"));
        }
        let entries = match scope {
            RevocationScope::BusinessCertificates => {
                let mut entries: Vec<u64> = Vec::with_capacity(count);
                for _ in 0..count {
                    let e = r.u64("revocation entries")?;
                    if entries.last().is_some_and(|&p| p >= e) {
                        return Err(DecodeError::NotCanonical("revocation entries"));
                    }
                    entries.push(e);
                }
                RevokedEntries::Serials(entries)
            }
            RevocationScope::Issuers => {
                let mut entries: Vec<[u8; 32]> = Vec::with_capacity(count);
                for _ in 0..count {
                    let e = *r.array::<32>("revocation entries")?;
                    if entries.last().is_some_and(|p| *p >= e) {
                        return Err(DecodeError::NotCanonical("revocation entries"));
                    }
                    entries.push(e);
                }
                RevokedEntries::IssuerKeys(entries)
            }
        };
        let signature = *r.array::<64>("revocation list signature")?;
        r.finish()?;
        Ok(Self {
            signer_id,
            window,
            entries,
            signature,
        })
    }
}

/// Bytes of a list before its entries.
const REVOCATION_LIST_HEADER_LEN: usize = 35;

/// `issued_at < next_update <= issued_at + MAX_REVOCATION_LIST_LIFETIME_SECS`.
pub(crate) fn window_ok(w: &RevocationWindow) -> bool {
    w.issued_at < w.next_update && w.next_update - w.issued_at <= MAX_REVOCATION_LIST_LIFETIME_SECS
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
    /// The list's `next_update` is not after its issue time, or more than
    /// [`MAX_REVOCATION_LIST_LIFETIME_SECS`] after it.
    #[error("revocation list window is empty or too long ({issued_at} to {next_update})")]
    BadWindow {
        /// The list's issue time.
        issued_at: u64,
        /// The list's next update.
        next_update: u64,
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

/// One signer's list in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeldList {
    pub(crate) sequence: u64,
    pub(crate) next_update: u64,
    pub(crate) serials: BTreeSet<u64>,
    pub(crate) issuer_keys: BTreeSet<[u8; 32]>,
}

impl HeldList {
    pub(crate) fn len(&self) -> usize {
        self.serials.len() + self.issuer_keys.len()
    }
}

/// The revocations a client holds: per signer, the latest list.
#[derive(Debug, Clone, Default)]
pub(crate) struct RevocationState {
    lists: BTreeMap<(RevocationScope, u32), HeldList>,
    /// Every issuer key revoked by a root's list in force, with the lowest
    /// such root and its list's sequence: one hash lookup per badge instead
    /// of a search through every root's list. Rebuilt whenever a root's
    /// list changes.
    revoked_issuer_keys: HashMap<[u8; 32], (u32, u64)>,
}

impl RevocationState {
    /// Every list held, ascending by (scope, signer).
    pub(crate) fn lists(&self) -> impl Iterator<Item = (RevocationScope, u32, &HeldList)> {
        self.lists
            .iter()
            .map(|((scope, signer), held)| (*scope, *signer, held))
    }

    pub(crate) fn len(&self) -> usize {
        self.lists.len()
    }

    /// Restores a list from stored state (authenticated by the store).
    pub(crate) fn restore(&mut self, scope: RevocationScope, signer: u32, held: HeldList) {
        self.lists.insert((scope, signer), held);
        if scope == RevocationScope::Issuers {
            self.reindex_issuer_keys();
        }
    }

    fn reindex_issuer_keys(&mut self) {
        self.revoked_issuer_keys.clear();
        // Ascending root ids: the first root that revokes a key is kept.
        for ((_, root), held) in self
            .lists
            .range((RevocationScope::Issuers, 0)..=(RevocationScope::Issuers, u32::MAX))
        {
            for key in &held.issuer_keys {
                self.revoked_issuer_keys
                    .entry(*key)
                    .or_insert((*root, held.sequence));
            }
        }
    }

    pub(crate) fn held(&self, scope: RevocationScope, signer: u32) -> Option<&HeldList> {
        self.lists.get(&(scope, signer))
    }

    pub(crate) fn current_sequence(&self, scope: RevocationScope, signer: u32) -> Option<u64> {
        self.held(scope, signer).map(|h| h.sequence)
    }

    /// Installs a verified list whose sequence was checked to be newer.
    pub(crate) fn install(&mut self, list: &RevocationList) -> RevocationUpdate {
        let held = HeldList {
            sequence: list.window.sequence,
            next_update: list.window.next_update,
            serials: list.serials().iter().copied().collect(),
            issuer_keys: list.issuer_keys().iter().copied().collect(),
        };
        let update = RevocationUpdate {
            sequence: held.sequence,
            revoked: held.len(),
        };
        self.lists.insert((list.scope(), list.signer_id), held);
        if list.scope() == RevocationScope::Issuers {
            self.reindex_issuer_keys();
        }
        update
    }

    /// The root and sequence of a list in force that revokes this issuer
    /// key: any root's list counts, so a revoked key re-certified under
    /// another root or id stays revoked.
    pub(crate) fn issuer_key_revoked(&self, key: &[u8; 32]) -> Option<(u32, u64)> {
        self.revoked_issuer_keys.get(key).copied()
    }

    /// The sequence of the issuer's list in force if it revokes `serial`.
    pub(crate) fn serial_revoked(&self, issuer_id: u32, serial: u64) -> Option<u64> {
        self.held(RevocationScope::BusinessCertificates, issuer_id)
            .filter(|h| h.serials.contains(&serial))
            .map(|h| h.sequence)
    }
}

//! The stored layout of a prekey store (SPEC.md, section 15.5), in both
//! record versions. Lives here because it reads the store's private fields.
//!
//! Only secrets and ids are stored: every public key and signature is
//! recomputed from them on load (Ed25519 signatures are deterministic), so a
//! restored store hands out exactly the bundle it did before, and a stored
//! public half can never disagree with its secret.

use std::collections::{BTreeMap, VecDeque};

use super::{PreKeyStore, SeenHandshakes};
use crate::business::CertificateChain;
use crate::constants::{
    MAX_OLD_CERTIFICATE_CHAINS, MAX_OLD_SIGNED_PREKEYS, MAX_REMEMBERED_HANDSHAKES,
};
use crate::keys::identity::IdentityKeyPair;
use crate::keys::prekeys::{KemPreKey, KemPreKeyKind, OneTimePreKey, SignedPreKey};
use crate::primitives::kem::KemSecret;
use crate::primitives::x25519::X25519Secret;
use crate::store::constants::{STORAGE_VERSION, STORAGE_VERSION_1, STORAGE_VERSION_2};
use crate::store::record::RestoreError;
use crate::store::state::{count, encode_identity, flag, key32, read_identity};
use crate::wire::{DecodeError, Reader};

/// Most replay-cache groups: one per signed prekey held.
const MAX_SEEN_GROUPS: usize = 1 + MAX_OLD_SIGNED_PREKEYS;

impl PreKeyStore {
    /// Appends the store in the current layout.
    /// An upper bound of [`PreKeyStore::encode_state`]'s output, so the
    /// buffer secrets are written into never reallocates (a reallocation
    /// would leave a freed, unerased copy of every secret before it).
    pub(crate) fn state_len_bound(&self) -> usize {
        let replay: usize = self.seen.values().map(|s| 8 + 32 * s.order.len()).sum();
        let chain = self.certificate.as_ref().map_or(0, |(c, _)| {
            let mut v = Vec::new();
            c.encode_into(&mut v); // public data
            v.len()
        });
        256 + 36 * (1 + self.old_signed.len())
            + 36 * self.one_time.len()
            + 68 * (1 + self.kem_one_time.len())
            + replay
            + chain
            + 32 * self.old_certificates.len()
    }

    pub(crate) fn encode_state(&self, out: &mut Vec<u8>) {
        self.encode_keys(out);
        // Version 2 replay cache: one group per signed prekey.
        out.push(self.seen.len() as u8);
        for (id, seen) in &self.seen {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&(seen.order.len() as u32).to_be_bytes());
            for e in &seen.order {
                out.extend_from_slice(e);
            }
        }
        // The current certificate chain (its hash is recomputed on load) and
        // the hashes of the chains it replaced, newest first.
        match &self.certificate {
            Some((chain, _)) => {
                out.push(1);
                chain.encode_into(out);
            }
            None => out.push(0),
        }
        out.push(self.old_certificates.len() as u8);
        for h in &self.old_certificates {
            out.extend_from_slice(h);
        }
    }

    /// Appends the store in the version 1 layout (a flat replay cache), which
    /// is only read in production; tests write it to exercise migration.
    #[cfg(any(test, feature = "conformance"))]
    pub(crate) fn encode_state_v1(&self, out: &mut Vec<u8>) {
        self.encode_keys(out);
        let total: usize = self.seen.values().map(|s| s.order.len()).sum();
        out.extend_from_slice(&(total as u32).to_be_bytes());
        for (id, seen) in &self.seen {
            for e in &seen.order {
                out.extend_from_slice(&id.to_be_bytes());
                out.extend_from_slice(e);
            }
        }
    }

    /// Number of signed prekeys with a replay cache.
    #[cfg(test)]
    pub(crate) fn replay_groups(&self) -> usize {
        self.seen.len()
    }

    fn encode_keys(&self, out: &mut Vec<u8>) {
        encode_identity(&self.identity, out);
        out.extend_from_slice(&self.next_id.to_be_bytes());
        out.extend_from_slice(&self.signed.public.id.to_be_bytes());
        out.extend_from_slice(&self.signed.secret.to_bytes());
        out.push(self.old_signed.len() as u8);
        for k in &self.old_signed {
            out.extend_from_slice(&k.public.id.to_be_bytes());
            out.extend_from_slice(&k.secret.to_bytes());
        }
        out.extend_from_slice(&(self.one_time.len() as u32).to_be_bytes());
        for (id, k) in &self.one_time {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&k.secret.to_bytes());
        }
        out.extend_from_slice(&(self.kem_one_time.len() as u32).to_be_bytes());
        for (id, k) in &self.kem_one_time {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(k.secret.seed());
        }
        out.extend_from_slice(&self.kem_last_resort.public.id.to_be_bytes());
        out.extend_from_slice(self.kem_last_resort.secret.seed());
    }

    /// Reads a store stored at record `version` (migrating version 1).
    pub(crate) fn read_state(r: &mut Reader<'_>, version: u8) -> Result<Self, RestoreError> {
        let identity = read_identity(r)?;
        let next_id = r.u32("next prekey id")?;
        let signed = SignedPreKey::new(
            &identity,
            r.u32("signed prekey id")?,
            X25519Secret::from_bytes(key32(r, "signed prekey secret")?),
        );
        let n_old = r.u8("old signed prekey count")? as usize;
        if n_old > MAX_OLD_SIGNED_PREKEYS {
            return Err(DecodeError::InvalidLength {
                field: "old signed prekey count",
                len: n_old,
            }
            .into());
        }
        let mut old_signed = VecDeque::with_capacity(n_old);
        for _ in 0..n_old {
            let id = r.u32("old signed prekey id")?;
            let secret = X25519Secret::from_bytes(key32(r, "old signed prekey secret")?);
            if id == signed.public.id || old_signed.iter().any(|k: &SignedPreKey| k.public.id == id)
            {
                return Err(RestoreError::Inconsistent("duplicate signed prekey id"));
            }
            old_signed.push_back(SignedPreKey::new(&identity, id, secret));
        }
        let n = count(r, "one-time prekey count", usize::MAX, 36)?;
        let mut one_time = BTreeMap::new();
        let mut last = None;
        for _ in 0..n {
            let id = ascending(r, &mut last, "one-time prekey id")?;
            let secret = X25519Secret::from_bytes(key32(r, "one-time prekey secret")?);
            one_time.insert(id, OneTimePreKey::new(&identity, id, secret));
        }
        let n = count(r, "KEM prekey count", usize::MAX, 68)?;
        let mut kem_one_time = BTreeMap::new();
        let mut last = None;
        for _ in 0..n {
            let id = ascending(r, &mut last, "KEM prekey id")?;
            let seed = KemSecret::from_seed(*r.array::<64>("KEM prekey seed")?);
            kem_one_time.insert(
                id,
                KemPreKey::new(&identity, id, KemPreKeyKind::OneTime, seed),
            );
        }
        let lr_id = r.u32("last-resort KEM prekey id")?;
        if kem_one_time.contains_key(&lr_id) {
            return Err(RestoreError::Inconsistent(
                "last-resort KEM prekey id reused",
            ));
        }
        let lr_seed = KemSecret::from_seed(*r.array::<64>("last-resort KEM prekey seed")?);
        let kem_last_resort = KemPreKey::new(&identity, lr_id, KemPreKeyKind::LastResort, lr_seed);

        let held_keys =
            |id: u32| signed.public.id == id || old_signed.iter().any(|k| k.public.id == id);
        let mut seen: BTreeMap<u32, SeenHandshakes> = BTreeMap::new();
        let mut certificate = None;
        let mut old_certificates = VecDeque::new();
        match version {
            STORAGE_VERSION | STORAGE_VERSION_2 => {
                let groups = r.u8("replay cache group count")? as usize;
                if groups > MAX_SEEN_GROUPS {
                    return Err(DecodeError::InvalidLength {
                        field: "replay cache group count",
                        len: groups,
                    }
                    .into());
                }
                let mut last = None;
                for _ in 0..groups {
                    let id = ascending(r, &mut last, "replay cache signed prekey id")?;
                    let n = count(r, "replay cache size", MAX_REMEMBERED_HANDSHAKES, 32)?;
                    if n == 0 || !held_keys(id) {
                        return Err(RestoreError::Inconsistent(
                            "replay cache group is empty or for an unknown signed prekey",
                        ));
                    }
                    let group = seen.entry(id).or_default();
                    for _ in 0..n {
                        remember(group, key32(r, "replayed ephemeral key")?)?;
                    }
                }
                (certificate, old_certificates) = read_certificates(r, &identity)?;
            }
            STORAGE_VERSION_1 => {
                // Version 1: a flat list of (signed prekey id, ephemeral key)
                // in the order they were remembered, grouped here.
                let n = count(
                    r,
                    "replay cache size",
                    MAX_SEEN_GROUPS * MAX_REMEMBERED_HANDSHAKES,
                    36,
                )?;
                for _ in 0..n {
                    let id = r.u32("replay cache signed prekey id")?;
                    let e = key32(r, "replayed ephemeral key")?;
                    if !held_keys(id) {
                        return Err(RestoreError::Inconsistent(
                            "replay cache entry for an unknown signed prekey",
                        ));
                    }
                    let group = seen.entry(id).or_default();
                    if group.order.len() == MAX_REMEMBERED_HANDSHAKES {
                        return Err(RestoreError::Inconsistent("replay cache over its cap"));
                    }
                    remember(group, e)?;
                }
            }
            v => return Err(RestoreError::UnknownVersion(v)),
        }
        Ok(Self {
            identity,
            next_id,
            signed,
            old_signed,
            one_time,
            kem_one_time,
            kem_last_resort,
            seen,
            certificate,
            old_certificates,
        })
    }
}

/// The current chain and previous chain hashes of a version 2 record.
type Certificates = (Option<(CertificateChain, [u8; 32])>, VecDeque<[u8; 32]>);

fn read_certificates(
    r: &mut Reader<'_>,
    identity: &IdentityKeyPair,
) -> Result<Certificates, RestoreError> {
    let current = if flag(r, "certificate chain flag")? {
        let chain = CertificateChain::read(r)?;
        if chain.business().identity_key() != identity.public().signing_key() {
            return Err(RestoreError::Inconsistent(
                "certificate chain certifies another identity key",
            ));
        }
        let hash = chain.hash();
        Some((chain, hash))
    } else {
        None
    };
    let n = r.u8("previous certificate chain count")? as usize;
    if n > MAX_OLD_CERTIFICATE_CHAINS {
        return Err(DecodeError::InvalidLength {
            field: "previous certificate chain count",
            len: n,
        }
        .into());
    }
    let mut old = VecDeque::with_capacity(n);
    for _ in 0..n {
        let h = key32(r, "previous certificate chain hash")?;
        if current.as_ref().is_none_or(|(_, c)| *c == h) || old.contains(&h) {
            return Err(RestoreError::Inconsistent(
                "previous certificate chain hash repeated or without a current chain",
            ));
        }
        old.push_back(h);
    }
    Ok((current, old))
}

fn ascending(
    r: &mut Reader<'_>,
    last: &mut Option<u32>,
    field: &'static str,
) -> Result<u32, RestoreError> {
    let id = r.u32(field)?;
    if last.is_some_and(|l| id <= l) {
        return Err(RestoreError::Inconsistent("ids not strictly ascending"));
    }
    *last = Some(id);
    Ok(id)
}

fn remember(group: &mut SeenHandshakes, e: [u8; 32]) -> Result<(), RestoreError> {
    if group.contains(&e) {
        return Err(RestoreError::Inconsistent("replay cache entry repeated"));
    }
    group.insert(e);
    Ok(())
}

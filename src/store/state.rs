//! Plaintext layouts of stored state (SPEC.md, section 15.4 onwards): the
//! identity key pair and the ratchet state. The session and prekey store
//! layouts live next to their types (`session/pickle.rs`,
//! `keys/store/codec.rs`), which own the private fields they encode.
//!
//! Decoding is strict and bounded like the wire codec: every count is
//! checked against its cap and against the bytes left before anything is
//! allocated, flags are 0 or 1, lists are in canonical order, and every
//! cross-field invariant the live types rely on is checked.

use std::collections::VecDeque;

use subtle::ConstantTimeEq;

use crate::constants::{
    DIRECTION_INITIATOR, DIRECTION_RESPONDER, MAX_SKIPPED_CHAINS, MAX_SKIPPED_KEYS,
};
use crate::keys::IdentityKeyPair;
use crate::primitives::x25519::{X25519Public, X25519Secret};
use crate::ratchet::keys::{ChainKey, HeaderKey, MessageKeySeed, RootKey};
use crate::ratchet::skipped::{SkippedChain, SkippedKeys};
use crate::ratchet::state::{RatchetState, ReceivingChain, SendingChain};
use crate::store::record::RestoreError;
use crate::wire::{DecodeError, Reader};

/// Reads a 0/1 flag.
pub(crate) fn flag(r: &mut Reader<'_>, field: &'static str) -> Result<bool, DecodeError> {
    match r.u8(field)? {
        0 => Ok(false),
        1 => Ok(true),
        value => Err(DecodeError::InvalidValue { field, value }),
    }
}

/// Reads a count of entries of `entry_len` bytes each, refusing one above
/// `max` or one that the remaining bytes cannot hold, so the caller can
/// allocate for it.
pub(crate) fn count(
    r: &mut Reader<'_>,
    field: &'static str,
    max: usize,
    entry_len: usize,
) -> Result<usize, DecodeError> {
    let n = r.u32(field)? as usize;
    if n > max || n.saturating_mul(entry_len) > r.remaining() {
        return Err(DecodeError::InvalidLength { field, len: n });
    }
    Ok(n)
}

pub(crate) fn key32(r: &mut Reader<'_>, field: &'static str) -> Result<[u8; 32], DecodeError> {
    Ok(*r.array::<32>(field)?)
}

/// Length of a stored identity key pair.
pub(crate) const IDENTITY_STATE_LEN: usize = 64;

/// Identity key pair: Ed25519 seed (32) || X25519 secret (32).
pub(crate) fn encode_identity(identity: &IdentityKeyPair, out: &mut Vec<u8>) {
    out.extend_from_slice(&identity.signing().to_seed());
    out.extend_from_slice(&identity.dh().to_bytes());
}

pub(crate) fn read_identity(r: &mut Reader<'_>) -> Result<IdentityKeyPair, RestoreError> {
    let mut seed = key32(r, "identity Ed25519 seed")?;
    let mut x = key32(r, "identity X25519 secret")?;
    let identity = IdentityKeyPair::from_secret_bytes(&seed, &x);
    zeroize::Zeroize::zeroize(&mut seed);
    zeroize::Zeroize::zeroize(&mut x);
    if identity.public().dh_key().is_low_order() {
        return Err(RestoreError::Inconsistent(
            "identity X25519 key of low order",
        ));
    }
    Ok(identity)
}

fn ratchet_public(r: &mut Reader<'_>, field: &'static str) -> Result<X25519Public, RestoreError> {
    let key = X25519Public::from_bytes(key32(r, field)?);
    if key.is_low_order() {
        return Err(RestoreError::Inconsistent(
            "ratchet public key of low order",
        ));
    }
    Ok(key)
}

/// Reads the ratchet state in the field order of [`RatchetState::encode_into`]
/// (SPEC.md, Appendix A and section 15.6).
/// Reads a ratchet state stored at record `version`: a version 2 state has
/// no post-quantum ratchet field and is restored without one.
pub(crate) fn read_ratchet(r: &mut Reader<'_>, version: u8) -> Result<RatchetState, RestoreError> {
    let direction = r.u8("direction")?;
    let peer_direction = r.u8("peer direction")?;
    match (direction, peer_direction) {
        (DIRECTION_INITIATOR, DIRECTION_RESPONDER) | (DIRECTION_RESPONDER, DIRECTION_INITIATOR) => {
        }
        (DIRECTION_INITIATOR | DIRECTION_RESPONDER, value) => {
            return Err(DecodeError::InvalidValue {
                field: "peer direction",
                value,
            }
            .into());
        }
        (value, _) => {
            return Err(DecodeError::InvalidValue {
                field: "direction",
                value,
            }
            .into());
        }
    }
    let th = key32(r, "transcript hash")?;
    let root = RootKey(key32(r, "root key")?);
    let dhs = X25519Secret::from_bytes(key32(r, "ratchet secret")?);
    let dhr = if flag(r, "peer ratchet key flag")? {
        Some(ratchet_public(r, "peer ratchet key")?)
    } else {
        None
    };
    let send = if flag(r, "sending chain flag")? {
        Some(SendingChain {
            ck: ChainKey(key32(r, "sending chain key")?),
            n: r.u32("sending chain number")?,
        })
    } else {
        None
    };
    let hks = if flag(r, "sending header key flag")? {
        Some(HeaderKey(key32(r, "sending header key")?))
    } else {
        None
    };
    let nhks = HeaderKey(key32(r, "next sending header key")?);
    let recv = if flag(r, "receiving chain flag")? {
        Some(ReceivingChain {
            ck: ChainKey(key32(r, "receiving chain key")?),
            n: r.u32("receiving chain number")?,
            hk: HeaderKey(key32(r, "receiving header key")?),
            ratchet_key: ratchet_public(r, "receiving chain ratchet key")?,
        })
    } else {
        None
    };
    let nhkr = HeaderKey(key32(r, "next receiving header key")?);
    let pn = r.u32("previous chain length")?;

    let chain_count = count(r, "skipped chain count", MAX_SKIPPED_CHAINS, 32 + 4)?;
    let mut chains: VecDeque<SkippedChain> = VecDeque::with_capacity(chain_count);
    let mut total = 0usize;
    for _ in 0..chain_count {
        let header_key = HeaderKey(key32(r, "skipped chain header key")?);
        if chains
            .iter()
            .any(|c| bool::from(c.header_key.0.ct_eq(&header_key.0)))
        {
            return Err(RestoreError::Inconsistent(
                "two skipped chains share a header key",
            ));
        }
        let n = count(r, "skipped key count", MAX_SKIPPED_KEYS - total, 36)?;
        if n == 0 {
            return Err(RestoreError::Inconsistent("empty skipped chain"));
        }
        total += n;
        let mut keys = VecDeque::with_capacity(n);
        let mut last: Option<u32> = None;
        for _ in 0..n {
            let num = r.u32("skipped key number")?;
            if last.is_some_and(|l| num <= l) {
                return Err(RestoreError::Inconsistent("skipped keys not ascending"));
            }
            last = Some(num);
            keys.push_back((num, MessageKeySeed(key32(r, "skipped key seed")?)));
        }
        chains.push_back(SkippedChain { header_key, keys });
    }

    let pq = if version == crate::store::constants::STORAGE_VERSION_2 {
        None
    } else if flag(r, "pq ratchet flag")? {
        Some(crate::ratchet::pq::PqRatchet::read(r, direction)?)
    } else {
        None
    };

    // Invariants the state machine relies on.
    if send.is_some() && hks.is_none() {
        return Err(RestoreError::Inconsistent(
            "sending chain without header key",
        ));
    }
    if send.is_none() && dhr.is_none() {
        return Err(RestoreError::Inconsistent(
            "no sending chain and no peer ratchet key",
        ));
    }
    if let (Some(rc), Some(k)) = (&recv, &dhr)
        && rc.ratchet_key != *k
    {
        return Err(RestoreError::Inconsistent(
            "receiving chain key is not the peer ratchet key",
        ));
    }
    Ok(RatchetState {
        direction,
        peer_direction,
        th,
        root,
        dhs,
        dhr,
        send,
        hks,
        nhks,
        recv,
        nhkr,
        pn,
        skipped: SkippedKeys::from_chains(chains),
        pq,
    })
}

//! The stored layout of a session (SPEC.md, section 15.6). Lives here because
//! it reads and writes the session's private fields.

use subtle::ConstantTimeEq;

use super::{Role, Session};
use crate::business::{Peer, VerifiedBusiness};
use crate::constants::{DIRECTION_INITIATOR, DIRECTION_RESPONDER, MAX_SKIPPED_CHAINS};
use crate::handshake::initial::InitialPrefix;
use crate::keys::IdentityKey;
use crate::primitives::kdf::sha256;
use crate::store::record::RestoreError;
use crate::store::state::{flag, key32, read_ratchet};
use crate::wire::{DecodeError, Reader};

/// Lengths an initial message's handshake prefix can have: without and with
/// a one-time prekey id, each without and with a certificate chain hash.
const PREFIX_LENS: [usize; 4] = [1263, 1267, 1295, 1299];

/// Peer kinds of the stored layout.
const PEER_UNVERIFIED: u8 = 0;
/// Written before issuer keys were stored (read only; SPEC.md 15.8).
const PEER_VERIFIED_BUSINESS_NO_ISSUER_KEY: u8 = 1;
const PEER_VERIFIED_BUSINESS: u8 = 2;

impl Session {
    /// Appends the session's stored layout: role, both identities, the peer
    /// kind (with the verified business, if any), the certificate chain hash,
    /// handshake id, the pending handshake prefix and the ratchet state.
    /// An upper bound of [`Session::encode_state`]'s output (see
    /// `PreKeyStore::state_len_bound` for why).
    pub(crate) fn state_len_bound(&self) -> usize {
        let business = match &self.peer_kind {
            Peer::Unverified(_) => 0,
            Peer::VerifiedBusiness(b) => {
                let mut v = Vec::new();
                b.encode_state(&mut v); // public data
                v.len()
            }
        };
        // Identities, flags, ids and the ratchet's keys and counters take
        // under 1 KiB; the pending initial prefix at most 1299 bytes; each
        // skipped key 36 bytes and each skipped chain under 64.
        1024 + 1304 + business + 40 * self.skipped_key_count() + 64 * MAX_SKIPPED_CHAINS
    }

    pub(crate) fn encode_state(&self, out: &mut Vec<u8>) {
        out.push(match self.role {
            Role::Initiator => DIRECTION_INITIATOR,
            Role::Responder => DIRECTION_RESPONDER,
        });
        self.local.encode_into(out);
        self.peer.encode_into(out);
        match &self.peer_kind {
            Peer::Unverified(_) => out.push(PEER_UNVERIFIED),
            Peer::VerifiedBusiness(b) => {
                out.push(if b.issuer_key().is_some() {
                    PEER_VERIFIED_BUSINESS
                } else {
                    PEER_VERIFIED_BUSINESS_NO_ISSUER_KEY
                });
                b.encode_state(out);
            }
        }
        match &self.certificate_hash {
            Some(h) => {
                out.push(1);
                out.extend_from_slice(h);
            }
            None => out.push(0),
        }
        out.extend_from_slice(&self.handshake_id);
        match &self.pending_prefix {
            Some(p) => {
                out.push(1);
                // At most 1299 bytes.
                out.extend_from_slice(&(p.len() as u16).to_be_bytes());
                out.extend_from_slice(p);
            }
            None => out.push(0),
        }
        self.state.encode_into(out);
    }

    /// Refuses session layouts older than the current record version: version
    /// 1 sessions lack the peer kind and certificate hash, and their pending
    /// prefixes the certificate flag (SPEC.md, section 15.8).
    pub(crate) fn check_version(kind: u8, version: u8) -> Result<(), RestoreError> {
        if version == crate::store::constants::STORAGE_VERSION {
            Ok(())
        } else {
            Err(RestoreError::RetiredVersion { kind, version })
        }
    }

    /// Reads a session in the layout of [`Session::encode_state`], checking
    /// every invariant a live session has.
    pub(crate) fn read_state(r: &mut Reader<'_>) -> Result<Self, RestoreError> {
        let role = match r.u8("session role")? {
            DIRECTION_INITIATOR => Role::Initiator,
            DIRECTION_RESPONDER => Role::Responder,
            value => {
                return Err(DecodeError::InvalidValue {
                    field: "session role",
                    value,
                }
                .into());
            }
        };
        let local = IdentityKey::read_stored(r)?;
        let peer = IdentityKey::read_stored(r)?;
        if local.signing_key() == peer.signing_key() {
            return Err(RestoreError::Inconsistent("session with itself"));
        }
        let peer_kind = match r.u8("peer kind")? {
            PEER_UNVERIFIED => Peer::Unverified(peer),
            PEER_VERIFIED_BUSINESS => {
                Peer::VerifiedBusiness(VerifiedBusiness::read_state(r, *peer.signing_key(), true)?)
            }
            PEER_VERIFIED_BUSINESS_NO_ISSUER_KEY => {
                Peer::VerifiedBusiness(VerifiedBusiness::read_state(r, *peer.signing_key(), false)?)
            }
            value => {
                return Err(DecodeError::InvalidValue {
                    field: "peer kind",
                    value,
                }
                .into());
            }
        };
        let certificate_hash = if flag(r, "certificate hash flag")? {
            Some(key32(r, "certificate hash")?)
        } else {
            None
        };
        // Only an initiator that validated the chain has a verified peer, and
        // then the hash bound into the handshake is that chain's; an
        // initiator without one bound no hash (a responder may have one).
        match (&peer_kind, role) {
            (Peer::VerifiedBusiness(b), Role::Initiator)
                if certificate_hash == Some(b.chain_hash()) => {}
            (Peer::Unverified(_), Role::Initiator) if certificate_hash.is_none() => {}
            (Peer::Unverified(_), Role::Responder) => {}
            _ => {
                return Err(RestoreError::Inconsistent(
                    "peer kind does not match the role and certificate hash",
                ));
            }
        }
        let handshake_id = key32(r, "handshake id")?;
        let pending_prefix = if flag(r, "pending prefix flag")? {
            let len = u16::from_be_bytes(*r.array::<2>("pending prefix length")?) as usize;
            if !PREFIX_LENS.contains(&len) {
                return Err(DecodeError::InvalidLength {
                    field: "pending prefix",
                    len,
                }
                .into());
            }
            let bytes = r.take(len, "pending prefix")?;
            let (prefix, _, rest) = InitialPrefix::decode(bytes)
                .map_err(|_| RestoreError::Inconsistent("pending prefix does not decode"))?;
            if !rest.is_empty()
                || role != Role::Initiator
                || prefix.initiator != local
                || prefix.certificate_hash != certificate_hash
                || !bool::from(sha256(bytes).ct_eq(&handshake_id))
            {
                return Err(RestoreError::Inconsistent(
                    "pending prefix does not belong to this session",
                ));
            }
            Some(bytes.to_vec())
        } else {
            None
        };
        let state = read_ratchet(r)?;
        let expected = match role {
            Role::Initiator => DIRECTION_INITIATOR,
            Role::Responder => DIRECTION_RESPONDER,
        };
        if state.direction != expected {
            return Err(RestoreError::Inconsistent(
                "ratchet direction does not match the role",
            ));
        }
        Ok(Self {
            role,
            local,
            peer,
            peer_kind,
            certificate_hash,
            handshake_id,
            pending_prefix,
            state,
        })
    }
}

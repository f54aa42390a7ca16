//! The stored layout of a session (SPEC.md, section 13.6). Lives here because
//! it reads and writes the session's private fields.

use subtle::ConstantTimeEq;

use super::{Role, Session};
use crate::constants::{DIRECTION_INITIATOR, DIRECTION_RESPONDER};
use crate::handshake::initial::InitialPrefix;
use crate::keys::IdentityKey;
use crate::primitives::kdf::sha256;
use crate::store::record::RestoreError;
use crate::store::state::{flag, key32, read_ratchet};
use crate::wire::{DecodeError, Reader};

/// Lengths an initial message's handshake prefix can have (without and with
/// a one-time prekey id).
const PREFIX_LENS: [usize; 2] = [1262, 1266];

impl Session {
    /// Appends the session's stored layout: role, both identities, handshake
    /// id, the pending handshake prefix and the ratchet state.
    pub(crate) fn encode_state(&self, out: &mut Vec<u8>) {
        out.push(match self.role {
            Role::Initiator => DIRECTION_INITIATOR,
            Role::Responder => DIRECTION_RESPONDER,
        });
        self.local.encode_into(out);
        self.peer.encode_into(out);
        out.extend_from_slice(&self.handshake_id);
        match &self.pending_prefix {
            Some(p) => {
                out.push(1);
                // At most 1266 bytes.
                out.extend_from_slice(&(p.len() as u16).to_be_bytes());
                out.extend_from_slice(p);
            }
            None => out.push(0),
        }
        self.state.encode_into(out);
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
        let identity_err = |e| match e {
            crate::keys::IdentityError::Decode(d) => RestoreError::Malformed(d),
            _ => RestoreError::Inconsistent("stored identity key does not verify"),
        };
        let local = IdentityKey::read(r).map_err(identity_err)?;
        let peer = IdentityKey::read(r).map_err(identity_err)?;
        if local.signing_key() == peer.signing_key() {
            return Err(RestoreError::Inconsistent("session with itself"));
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
            handshake_id,
            pending_prefix,
            state,
        })
    }
}

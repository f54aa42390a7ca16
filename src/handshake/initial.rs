//! The initial message: the handshake's public data followed by a complete
//! ratchet message.

use crate::constants::{MLKEM768_CT_LEN, MSG_TYPE_INITIAL, PROTOCOL_VERSION};
use crate::error::HandshakeError;
use crate::keys::IdentityKey;
use crate::primitives::x25519::X25519Public;
use crate::wire::{DecodeError, KeyEncoding, Reader};

/// The handshake part of an initial message, decoded.
pub(crate) struct InitialPrefix {
    pub(crate) initiator: IdentityKey,
    pub(crate) signed_prekey_id: u32,
    pub(crate) one_time_id: Option<u32>,
    pub(crate) kem_id: u32,
    pub(crate) ephemeral: X25519Public,
    pub(crate) kem_ciphertext: [u8; MLKEM768_CT_LEN],
    /// Hash of the responder's certificate chain the initiator validated.
    pub(crate) certificate_hash: Option<[u8; 32]>,
}

impl InitialPrefix {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + 130 + 13 + 33 + MLKEM768_CT_LEN + 33);
        out.push(PROTOCOL_VERSION);
        out.push(MSG_TYPE_INITIAL);
        self.initiator.encode_into(&mut out);
        out.extend_from_slice(&self.signed_prekey_id.to_be_bytes());
        match self.one_time_id {
            None => out.push(0),
            Some(id) => {
                out.push(1);
                out.extend_from_slice(&id.to_be_bytes());
            }
        }
        out.extend_from_slice(&self.kem_id.to_be_bytes());
        self.ephemeral.encode_into(&mut out);
        out.extend_from_slice(&self.kem_ciphertext);
        match &self.certificate_hash {
            None => out.push(0),
            Some(h) => {
                out.push(1);
                out.extend_from_slice(h);
            }
        }
        out
    }

    /// Splits an initial message into its decoded prefix, the prefix bytes
    /// and the embedded ratchet message.
    pub(crate) fn decode(bytes: &[u8]) -> Result<(Self, &[u8], &[u8]), HandshakeError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        match r.u8("message type")? {
            MSG_TYPE_INITIAL => {}
            other => return Err(DecodeError::UnknownType(other).into()),
        }
        let initiator = IdentityKey::read(&mut r)?;
        let signed_prekey_id = r.u32("signed prekey id")?;
        let one_time_id = match r.u8("one-time prekey flag")? {
            0 => None,
            1 => Some(r.u32("one-time prekey id")?),
            value => {
                return Err(DecodeError::InvalidValue {
                    field: "one-time prekey flag",
                    value,
                }
                .into());
            }
        };
        let kem_id = r.u32("KEM prekey id")?;
        let ephemeral = r.x25519("ephemeral key")?;
        let kem_ciphertext = *r.array::<MLKEM768_CT_LEN>("KEM ciphertext")?;
        let certificate_hash = match r.u8("certificate flag")? {
            0 => None,
            1 => Some(*r.array::<32>("certificate hash")?),
            value => {
                return Err(DecodeError::InvalidValue {
                    field: "certificate flag",
                    value,
                }
                .into());
            }
        };
        let prefix_len = bytes.len() - r.remaining();
        let ratchet = r.rest();
        Ok((
            Self {
                initiator,
                signed_prekey_id,
                one_time_id,
                kem_id,
                ephemeral,
                kem_ciphertext,
                certificate_hash,
            },
            &bytes[..prefix_len],
            ratchet,
        ))
    }
}

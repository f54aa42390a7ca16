//! The transcript hash: both identities, every prekey id and public key used,
//! the KEM public key and ciphertext, the initiator's ephemeral key, and the
//! hash of the responder's certificate chain when the initiator validated one,
//! and the session feature byte (the post-quantum ratchet runs).
//!
//! It is the HKDF salt of the handshake and part of the associated data of
//! every header and body, so a message can only be accepted in the session of
//! exactly this handshake (defeating unknown-key-share and KEM
//! re-encapsulation attacks). Every key is hashed in its typed encoding.

use crate::constants::{LABEL_TRANSCRIPT, MLKEM768_CT_LEN, PROTOCOL_VERSION};
use crate::keys::{IdentityKey, KemPreKeyKind};
use crate::primitives::kdf::Sha256Hasher;
use crate::primitives::kem::KemPublic;
use crate::primitives::x25519::X25519Public;
use crate::wire::KeyEncoding;

/// The public inputs of one handshake.
pub struct TranscriptInputs<'a> {
    /// The initiator's identity key.
    pub initiator: &'a IdentityKey,
    /// The responder's identity key.
    pub responder: &'a IdentityKey,
    /// The signed prekey's id.
    pub signed_prekey_id: u32,
    /// The signed prekey.
    pub signed_prekey: &'a X25519Public,
    /// The one-time prekey used, if any (id, key).
    pub one_time: Option<(u32, &'a X25519Public)>,
    /// The KEM prekey's id.
    pub kem_id: u32,
    /// Whether the KEM prekey was one-time or last-resort.
    pub kem_kind: KemPreKeyKind,
    /// The KEM prekey.
    pub kem_key: &'a KemPublic,
    /// The initiator's ephemeral key.
    pub ephemeral: &'a X25519Public,
    /// The KEM ciphertext.
    pub kem_ciphertext: &'a [u8; MLKEM768_CT_LEN],
    /// The responder's certificate chain hash, when the initiator validated one.
    pub certificate_hash: Option<&'a [u8; 32]>,
    /// The session feature byte: `FEATURE_PQ_RATCHET` for every session
    /// this version creates (SPEC.md 7.4, 16.1).
    pub features: u8,
}

impl TranscriptInputs<'_> {
    /// SHA-256 over the fields in the order of SPEC.md, "Transcript hash".
    pub fn hash(&self) -> [u8; 32] {
        let mut buf = Vec::with_capacity(2048 + MLKEM768_CT_LEN);
        buf.extend_from_slice(LABEL_TRANSCRIPT);
        buf.push(PROTOCOL_VERSION);
        self.initiator.signing_key().encode_into(&mut buf);
        self.initiator.dh_key().encode_into(&mut buf);
        self.responder.signing_key().encode_into(&mut buf);
        self.responder.dh_key().encode_into(&mut buf);
        buf.extend_from_slice(&self.signed_prekey_id.to_be_bytes());
        self.signed_prekey.encode_into(&mut buf);
        match self.one_time {
            None => buf.push(0),
            Some((id, key)) => {
                buf.push(1);
                buf.extend_from_slice(&id.to_be_bytes());
                key.encode_into(&mut buf);
            }
        }
        buf.extend_from_slice(&self.kem_id.to_be_bytes());
        buf.push(self.kem_kind.to_byte());
        self.kem_key.encode_into(&mut buf);
        self.ephemeral.encode_into(&mut buf);
        buf.extend_from_slice(self.kem_ciphertext);
        match self.certificate_hash {
            None => buf.push(0),
            Some(h) => {
                buf.push(1);
                buf.extend_from_slice(h);
            }
        }
        buf.push(self.features);
        let mut h = Sha256Hasher::new();
        h.update(&buf);
        h.finalize()
    }
}

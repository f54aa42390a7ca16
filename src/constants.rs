//! Every protocol constant and KDF label, in one place.
//!
//! SPEC.md quotes each of these; changing one is a protocol change and must
//! change SPEC.md and `tests/vectors/` in the same commit.

pub use crate::store::constants::*;

/// Wire format and protocol version carried in the first byte of every
/// encoded object. Version 1 is the only version; anything else is refused
/// (there is no weaker version to fall back to).
pub const PROTOCOL_VERSION: u8 = 0x01;

/// Message type byte of an initial (handshake) message.
pub const MSG_TYPE_INITIAL: u8 = 0x01;
/// Message type byte of a ratchet message.
pub const MSG_TYPE_RATCHET: u8 = 0x02;
/// Object type byte of a prekey bundle.
pub const OBJ_TYPE_BUNDLE: u8 = 0x10;

/// Type tag of an encoded X25519 public key (33 bytes in all).
pub const KEY_TYPE_X25519: u8 = 0x05;
/// Type tag of an encoded Ed25519 public key (33 bytes in all).
pub const KEY_TYPE_ED25519: u8 = 0x06;
/// Type tag of an encoded ML-KEM-768 encapsulation key (1185 bytes in all).
pub const KEY_TYPE_MLKEM768: u8 = 0x08;

/// Raw length of an X25519 public key.
pub const X25519_LEN: usize = 32;
/// Raw length of an Ed25519 public key.
pub const ED25519_LEN: usize = 32;
/// Raw length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Raw length of an ML-KEM-768 encapsulation key.
pub const MLKEM768_EK_LEN: usize = 1184;
/// Length of an ML-KEM-768 ciphertext.
pub const MLKEM768_CT_LEN: usize = 1088;
/// Length of an ML-KEM-768 decapsulation key seed (d || z).
pub const MLKEM768_SEED_LEN: usize = 64;

/// KEM prekey kind: used for at most one handshake, then deleted.
pub const KEM_KIND_ONE_TIME: u8 = 0x01;
/// KEM prekey kind: reused until replaced, when one-time KEM prekeys run out.
pub const KEM_KIND_LAST_RESORT: u8 = 0x02;

/// Direction byte of messages sent by the initiator (the customer).
pub const DIRECTION_INITIATOR: u8 = 0x01;
/// Direction byte of messages sent by the responder (the business).
pub const DIRECTION_RESPONDER: u8 = 0x02;

// ---- Signature contexts: every signed object is prefixed with its own label,
// so a signature made for one purpose is never valid for another.

/// Signature context of the identity certificate (Ed25519 signs the X25519 identity key).
pub const SIG_CTX_IDENTITY: &[u8] = b"Hotline v1 identity x25519";
/// Signature context of a signed X25519 prekey.
pub const SIG_CTX_SIGNED_PREKEY: &[u8] = b"Hotline v1 signed prekey";
/// Signature context of a one-time X25519 prekey.
pub const SIG_CTX_ONE_TIME_PREKEY: &[u8] = b"Hotline v1 one-time prekey";
/// Signature context of an ML-KEM-768 prekey.
pub const SIG_CTX_KEM_PREKEY: &[u8] = b"Hotline v1 kem prekey";

// ---- KDF labels.

/// Domain separator hashed first into the transcript.
pub const LABEL_TRANSCRIPT: &[u8] = b"Hotline v1 transcript";
/// HKDF info of the handshake: yields root key, two header keys.
pub const LABEL_SESSION: &[u8] = b"Hotline v1 session";
/// HKDF info of a root-key step: yields root key, chain key, next header key.
pub const LABEL_ROOT: &[u8] = b"Hotline v1 root";
/// HKDF info of a message key: yields AEAD key, body nonce, header nonce.
pub const LABEL_MESSAGE: &[u8] = b"Hotline v1 message keys";
/// HMAC input deriving a message key seed from a chain key.
pub const CHAIN_MESSAGE_BYTE: u8 = 0x01;
/// HMAC input deriving the next chain key from a chain key.
pub const CHAIN_NEXT_BYTE: u8 = 0x02;
/// Leading 32 bytes of 0xFF in the handshake key material (as in X3DH/PQXDH,
/// keeps the input distinct from any X25519 output prefix).
pub const HANDSHAKE_PREFIX: [u8; 32] = [0xFF; 32];

// ---- Sizes of the ratchet message.

/// Header plaintext: encoded ratchet key (33) || PN (4) || N (4).
pub const HEADER_PLAINTEXT_LEN: usize = 33 + 4 + 4;
/// AEAD nonce length (ChaCha20-Poly1305).
pub const NONCE_LEN: usize = 12;
/// AEAD tag length (Poly1305).
pub const TAG_LEN: usize = 16;
/// Encrypted header on the wire: nonce || ciphertext || tag.
pub const HEADER_WIRE_LEN: usize = NONCE_LEN + HEADER_PLAINTEXT_LEN + TAG_LEN;
/// Bytes before the body of a ratchet message: version, type, encrypted header.
pub const RATCHET_PREFIX_LEN: usize = 2 + HEADER_WIRE_LEN;

// ---- Limits.

/// Largest plaintext accepted by `encrypt`, in bytes (64 KiB). Larger content
/// (attachments) belongs in separately encrypted blobs.
pub const MAX_PLAINTEXT_LEN: usize = 65_536;
/// Smallest padded plaintext: short replies ("yes", "ok") are indistinguishable.
pub const MIN_PADDED_LEN: usize = 64;
/// Largest number of message keys skipped on one chain by a single message.
/// Bounds the work and memory one message can cause.
pub const MAX_SKIP: u32 = 1000;
/// Largest number of skipped message keys a session stores across all chains;
/// the oldest are evicted first.
pub const MAX_SKIPPED_KEYS: usize = 2000;
/// Largest number of receiving chains whose skipped keys are kept (the current
/// one included). Together with the current and next header key this bounds
/// header trial decryptions per message to `MAX_SKIPPED_CHAINS + 2`.
pub const MAX_SKIPPED_CHAINS: usize = 5;
/// Upper bound on header decryption trials per incoming message.
pub const MAX_HEADER_TRIALS: usize = MAX_SKIPPED_CHAINS + 2;
/// Number of handshakes remembered per signed prekey to refuse a replayed
/// initial message that used no one-time prekey.
pub const MAX_REMEMBERED_HANDSHAKES: usize = 10_000;
/// Number of previous signed prekeys a responder keeps after rotation, so
/// initial messages in flight still complete.
pub const MAX_OLD_SIGNED_PREKEYS: usize = 2;
/// Largest accepted wire message: an initial message carrying the largest
/// padded plaintext.
pub const MAX_WIRE_LEN: usize = 2
    + 130
    + 4
    + 1
    + 4
    + 4
    + 33
    + MLKEM768_CT_LEN
    + RATCHET_PREFIX_LEN
    + crate::ratchet::padding::MAX_PADDED_LEN
    + TAG_LEN;

//! Errors, one enum per operation.

pub use crate::keys::IdentityError;
use crate::wire::DecodeError;

/// Why [`Session::encrypt`](crate::Session::encrypt) failed. The session is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncryptError {
    /// The plaintext is longer than [`MAX_PLAINTEXT_LEN`](crate::constants::MAX_PLAINTEXT_LEN).
    #[error("plaintext of {0} bytes exceeds the maximum")]
    PlaintextTooLong(usize),
    /// The associated data is longer than 2^32 - 1 bytes.
    #[error("associated data too long")]
    AssociatedDataTooLong,
    /// The sending chain has used all 2^32 - 1 message numbers; the peer must
    /// reply (starting a DH step) before more can be sent.
    #[error("sending chain exhausted")]
    ChainExhausted,
    /// The session has no sending chain yet (internal invariant).
    #[error("session cannot send yet")]
    NotReady,
}

/// Why [`Session::decrypt`](crate::Session::decrypt) failed. In every case the
/// session is exactly as it was before the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// The bytes are not a well-formed message.
    #[error("malformed message: {0}")]
    Decode(#[from] DecodeError),
    /// No header key of this session (skipped, current or next) authenticates
    /// the header: garbage, a message for another session, or a replay of a
    /// message whose keys are gone.
    #[error("header does not decrypt under any key of this session")]
    HeaderNotDecryptable,
    /// The header authenticated but its content is inconsistent.
    #[error("malformed header")]
    MalformedHeader,
    /// The message was already decrypted (its key is used and erased).
    #[error("duplicate or replayed message")]
    DuplicateMessage,
    /// The message would skip more than `MAX_SKIP` keys on one chain.
    #[error("message skips {skip} keys, more than the limit")]
    TooFarAhead {
        /// How many keys it would skip.
        skip: u32,
    },
    /// A message counter would overflow.
    #[error("message counter overflow")]
    CounterOverflow,
    /// The peer's new ratchet key is of low order.
    #[error("low-order ratchet key")]
    LowOrderRatchetKey,
    /// The body's authentication tag is invalid (tampered message, wrong
    /// associated data, or a relabelled envelope).
    #[error("message authentication failed")]
    AuthenticationFailed,
    /// The decrypted padding is not canonical.
    #[error("invalid padding")]
    InvalidPadding,
    /// An initial message that belongs to another handshake than this session's.
    #[error("initial message belongs to a different session")]
    WrongSession,
    /// The authenticated message breaks the post-quantum ratchet's rules
    /// (SPEC.md, section 16.9).
    #[error("post-quantum ratchet: {0}")]
    PostQuantum(#[from] PqError),
}

/// How an authenticated message broke the post-quantum ratchet's rules
/// (SPEC.md, section 16.9). Only the peer (who holds the keys) can cause
/// these; the session is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PqError {
    /// A chunk's shard index is beyond the shards of its kind.
    #[error("chunk shard index {index} out of range")]
    ShardIndex {
        /// The index carried.
        index: u8,
    },
    /// A chunk of the current epoch that this side cannot expect: the kind
    /// of its own role, or a ciphertext shard before its key was sent; or a
    /// chunk of a future epoch.
    #[error("unexpected chunk for epoch {epoch}")]
    UnexpectedChunk {
        /// The epoch the chunk names.
        epoch: u32,
    },
    /// A reconstructed encapsulation key is not a valid ML-KEM-768 key, or
    /// its zero padding is not zero.
    #[error("reconstructed encapsulation key is invalid")]
    InvalidKey,
    /// A header claims its chain mixed an epoch secret this side does not hold.
    #[error("header mixes an epoch secret that is not pending")]
    UnexpectedMix,
    /// A chunk or mixing header reached a session that runs no post-quantum
    /// ratchet (a migrated session).
    #[error("session runs no post-quantum ratchet")]
    NotEnabled,
}

/// Why a handshake failed. Nothing was consumed: one-time prekeys are only
/// removed once the initial message's first ratchet message authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The initial message is malformed.
    #[error("malformed initial message: {0}")]
    Decode(#[from] DecodeError),
    /// The initiator's identity key was refused.
    #[error("initiator identity refused: {0}")]
    Identity(#[from] IdentityError),
    /// The initial message names a signed prekey this party does not have.
    #[error("unknown signed prekey {0}")]
    UnknownSignedPreKey(u32),
    /// The one-time prekey is unknown or was already consumed.
    #[error("unknown or already used one-time prekey {0}")]
    UnknownOneTimePreKey(u32),
    /// The KEM prekey is unknown or was already consumed.
    #[error("unknown or already used KEM prekey {0}")]
    UnknownKemPreKey(u32),
    /// This handshake was already accepted: a replayed initial message.
    #[error("replayed initial message")]
    ReplayedHandshake,
    /// The signed prekey named has accepted as many handshakes as it can
    /// remember; it takes no more (a rotated bundle has a fresh one).
    #[error("signed prekey {0} takes no more handshakes")]
    ReplaySetFull(u32),
    /// A DH output was all-zero (a low-order key).
    #[error("low-order key in handshake")]
    LowOrderKey,
    /// The initiator named itself as the responder.
    #[error("initiator and responder identities are the same")]
    SameIdentity,
    /// The initial message names a certificate chain (by hash) that the
    /// responder does not hold (neither current nor a retained previous one).
    #[error("unknown certificate chain")]
    UnknownCertificate,
    /// The verified business given to `initiate_verified` was not validated
    /// from this bundle (another chain, or another identity key).
    #[error("verified business does not belong to this bundle")]
    CertificateMismatch,
    /// The first ratchet message inside the initial message failed.
    #[error("first message failed: {0}")]
    Decrypt(DecryptError),
}

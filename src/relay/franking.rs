//! Message franking and spam reports (SPEC.md 14.17).
//!
//! The relay never reads a message, yet a customer must be able to show it
//! what a business sent. Franking (the scheme Facebook Messenger uses for
//! its encrypted chats) makes that possible without giving the relay
//! anything to read:
//!
//! 1. The sender draws a fresh 32-byte franking key, puts it inside the
//!    encrypted message beside the content, and puts the **commitment**
//!    `HMAC-SHA-256(key, content)` in the envelope header, which is the
//!    message's associated data: nobody can change it without the
//!    recipient's decryption failing.
//! 2. The relay **stamps** each delivery: an HMAC, under a key only it
//!    holds, of the header (commitment included) and the time it accepted
//!    the envelope. The stamp binds the commitment to the sender the relay
//!    authenticated, and costs the relay no storage.
//! 3. The recipient's client checks the commitment against what it
//!    decrypted and refuses a message that does not open it, so every
//!    message it shows can be reported.
//! 4. A **report** ([`SpamReport`]) carries the content, the key that
//!    opens the commitment, the header and the stamp, signed by the
//!    reporting customer. The relay checks its own stamp and the opening,
//!    and so learns that this business sent exactly this content, and
//!    nothing about any other message.
//!
//! The stamp is a MAC, not a signature: only the relay can check it, so a
//! report convinces the relay and no one else (the conversation stays
//! deniable towards third parties, SPEC.md 11.13).

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::constants::{
    FRANKING_KEY_LEN, FRANKING_TAG_LEN, KDF_FRANKING_STAMP, MAX_REPORT_CONTENT_LEN,
    OBJ_TYPE_REPORT, PROTOCOL_VERSION, SIG_CTX_REPORT,
};
use crate::keys::IdentityKeyPair;
use crate::primitives::ed25519::Ed25519Public;
use crate::primitives::kdf::{hkdf, hmac_sha256};
use crate::relay::auth::AccountId;
use crate::relay::envelope::{ENVELOPE_HEADER_LEN, EnvelopeHeader};
use crate::relay::receipt::RelayKey;
use crate::wire::{DecodeError, Reader};

/// The commitment to a message's content carried in its envelope header
/// (32 bytes): `HMAC-SHA-256(franking key, content)`. `Debug` prints its
/// first 8 bytes in hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FrankingTag(pub [u8; FRANKING_TAG_LEN]);

impl core::fmt::Debug for FrankingTag {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "FrankingTag(")?;
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// The key that opens a [`FrankingTag`]: drawn fresh for every message and
/// carried inside its ciphertext. Whoever holds it and the content can
/// show the relay what the sender committed to. Zeroized on drop; `Debug`
/// prints nothing of it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct FrankingKey([u8; FRANKING_KEY_LEN]);

impl core::fmt::Debug for FrankingKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("FrankingKey(..)")
    }
}

impl FrankingKey {
    /// A fresh random key.
    pub fn random<R: rand_core::CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut k = [0u8; FRANKING_KEY_LEN];
        rng.fill_bytes(&mut k);
        Self(k)
    }

    /// The key from its bytes.
    pub fn from_bytes(bytes: [u8; FRANKING_KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The key's bytes.
    pub fn to_bytes(&self) -> [u8; FRANKING_KEY_LEN] {
        self.0
    }

    /// The commitment to `content` under this key.
    ///
    /// ```
    /// use hotline::relay::FrankingKey;
    /// let key = FrankingKey::from_bytes([7; 32]);
    /// let tag = key.commit(b"Your flight KL1234 leaves from gate D5");
    /// assert!(key.opens(&tag, b"Your flight KL1234 leaves from gate D5"));
    /// assert!(!key.opens(&tag, b"Your flight KL1234 leaves from gate D6"));
    /// ```
    pub fn commit(&self, content: &[u8]) -> FrankingTag {
        FrankingTag(hmac_sha256(&self.0, content))
    }

    /// Whether this key and `content` open `tag` (compared in constant
    /// time).
    pub fn opens(&self, tag: &FrankingTag, content: &[u8]) -> bool {
        self.commit(content).0.ct_eq(&tag.0).into()
    }
}

/// The relay's stamp on a delivery (32 bytes): an HMAC of the envelope
/// header and the time the relay accepted it, under a key derived from the
/// relay's key ([`RelayKey::stamp`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FrankingStamp(pub [u8; 32]);

impl RelayKey {
    /// The stamp of an envelope with `header` accepted at `received_at`
    /// (SPEC.md 14.17): `HMAC-SHA-256(K, header || u64 received_at)`, with
    /// `K = HKDF-SHA-256(salt = "", ikm = seed, info = KDF_FRANKING_STAMP)`.
    pub fn stamp(&self, header: &EnvelopeHeader, received_at: u64) -> FrankingStamp {
        let mut key = [0u8; 32];
        // 32 bytes are always within HKDF's output limit.
        let _ = hkdf(&[], &self.to_seed(), KDF_FRANKING_STAMP, &mut key);
        let mut data = Vec::with_capacity(ENVELOPE_HEADER_LEN + 8);
        data.extend_from_slice(&header.associated_data());
        data.extend_from_slice(&received_at.to_be_bytes());
        let stamp = FrankingStamp(hmac_sha256(&key, &data));
        key.zeroize();
        stamp
    }

    /// Whether `stamp` is this relay's stamp of `header` at `received_at`
    /// (compared in constant time).
    pub fn stamped(
        &self,
        header: &EnvelopeHeader,
        received_at: u64,
        stamp: &FrankingStamp,
    ) -> bool {
        self.stamp(header, received_at).0.ct_eq(&stamp.0).into()
    }
}

/// Why a customer reports a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReportReason {
    /// Unwanted or unsolicited messages.
    Spam,
    /// Offensive, abusive or threatening content.
    Abuse,
    /// An attempt to deceive: phishing, a scam, impersonation.
    Fraud,
    /// Anything else.
    Other,
}

impl ReportReason {
    /// The reason byte (SPEC.md 14.17).
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Spam => 1,
            Self::Abuse => 2,
            Self::Fraud => 3,
            Self::Other => 4,
        }
    }
    /// The reason of a byte; another value is refused.
    pub fn from_byte(value: u8) -> Result<Self, DecodeError> {
        match value {
            1 => Ok(Self::Spam),
            2 => Ok(Self::Abuse),
            3 => Ok(Self::Fraud),
            4 => Ok(Self::Other),
            value => Err(DecodeError::InvalidValue {
                field: "report reason",
                value,
            }),
        }
    }
}

/// Why a report was refused on decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The bytes are malformed.
    #[error("malformed report: {0}")]
    Decode(#[from] DecodeError),
    /// The reporter's signature failed strict verification.
    #[error("report signature is invalid")]
    BadSignature,
    /// The franking key and content do not open the header's commitment.
    #[error("the report's content does not open the message's commitment")]
    BadOpening,
}

/// A customer's signed report of a message it received (SPEC.md 14.17).
///
/// Decoding checks the reporter's signature and that the content opens the
/// header's commitment, so anyone can check those two from the bytes; the
/// relay also checks its own stamp ([`RelayKey::stamped`]).
#[derive(Clone, PartialEq, Eq)]
pub struct SpamReport {
    header: EnvelopeHeader,
    received_at: u64,
    stamp: FrankingStamp,
    key: FrankingKey,
    reason: ReportReason,
    time: u64,
    content: Vec<u8>,
    signature: [u8; 64],
}

impl core::fmt::Debug for SpamReport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SpamReport")
            .field("header", &self.header)
            .field("received_at", &self.received_at)
            .field("reason", &self.reason)
            .field("time", &self.time)
            .field("content_len", &self.content.len())
            .finish_non_exhaustive()
    }
}

/// What a client kept of a delivered message to report it later: the
/// header and time the relay delivered it with, the relay's stamp, and the
/// franking key found inside the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reportable {
    /// The envelope header, commitment included.
    pub header: EnvelopeHeader,
    /// When the relay accepted the envelope (from the delivery).
    pub received_at: u64,
    /// The relay's stamp (from the delivery).
    pub stamp: FrankingStamp,
    /// The key that opens the commitment (from inside the message).
    pub key: FrankingKey,
}

impl SpamReport {
    /// Signs a report of `content`, a message the signer received, with
    /// the signer's identity key. The signer must be the header's
    /// recipient for the relay to accept it.
    pub fn sign(
        reporter: &IdentityKeyPair,
        message: &Reportable,
        content: &[u8],
        reason: ReportReason,
        time: u64,
    ) -> Self {
        let mut report = Self {
            header: message.header,
            received_at: message.received_at,
            stamp: message.stamp,
            key: message.key.clone(),
            reason,
            time,
            content: content.to_vec(),
            signature: [0; 64],
        };
        report.signature = reporter
            .signing()
            .sign(SIG_CTX_REPORT, &report.signed_part());
        report
    }

    /// The header of the reported message.
    pub fn header(&self) -> &EnvelopeHeader {
        &self.header
    }
    /// The reporting customer (the reported message's recipient).
    pub fn reporter(&self) -> AccountId {
        self.header.recipient
    }
    /// The reported sender.
    pub fn reported(&self) -> AccountId {
        self.header.sender
    }
    /// When the relay accepted the reported message.
    pub fn received_at(&self) -> u64 {
        self.received_at
    }
    /// The relay's stamp the reporter presents.
    pub fn stamp(&self) -> &FrankingStamp {
        &self.stamp
    }
    /// Why it is reported.
    pub fn reason(&self) -> ReportReason {
        self.reason
    }
    /// When the reporter signed it (the reporter's claim).
    pub fn time(&self) -> u64 {
        self.time
    }
    /// The reported content, as the reporter decrypted it.
    pub fn content(&self) -> &[u8] {
        &self.content
    }

    fn signed_part(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(REPORT_FIXED_LEN + self.content.len());
        m.push(PROTOCOL_VERSION);
        m.push(OBJ_TYPE_REPORT);
        self.header.encode_into(&mut m);
        m.extend_from_slice(&self.received_at.to_be_bytes());
        m.extend_from_slice(&self.stamp.0);
        m.extend_from_slice(&self.key.0);
        m.push(self.reason.to_byte());
        m.extend_from_slice(&self.time.to_be_bytes());
        // At most MAX_REPORT_CONTENT_LEN once decoded or made by
        // `Client::report`, far below u32::MAX.
        m.extend_from_slice(&(self.content.len() as u32).to_be_bytes());
        m.extend_from_slice(&self.content);
        m
    }

    /// The encoding (SPEC.md 14.17).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut m = self.signed_part();
        m.extend_from_slice(&self.signature);
        m
    }

    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, ReportError> {
        r.version()?;
        r.object_type(OBJ_TYPE_REPORT)?;
        let header = EnvelopeHeader::read(r)?;
        let received_at = r.u64("report received at")?;
        let stamp = FrankingStamp(*r.array("report stamp")?);
        let key = FrankingKey(*r.array("report franking key")?);
        let reason = ReportReason::from_byte(r.u8("report reason")?)?;
        let time = r.u64("report time")?;
        let content = r
            .bytes_u32(MAX_REPORT_CONTENT_LEN, "report content")?
            .to_vec();
        let signature = *r.array::<64>("report signature")?;
        let report = Self {
            header,
            received_at,
            stamp,
            key,
            reason,
            time,
            content,
            signature,
        };
        report.check()?;
        Ok(report)
    }

    /// What anyone can check of a report from its bytes (SPEC.md 14.17):
    /// the recipient's signature, strictly, then that the content opens
    /// the header's commitment. Decoding checks it; so does the relay, for
    /// a report built in memory ([`sign`](Self::sign) checks neither).
    pub fn check(&self) -> Result<(), ReportError> {
        let signer = Ed25519Public::from_bytes(&self.header.recipient.0)
            .map_err(|_| ReportError::BadSignature)?;
        signer
            .verify(SIG_CTX_REPORT, &self.signed_part(), &self.signature)
            .map_err(|_| ReportError::BadSignature)?;
        if !self.key.opens(&self.header.franking, &self.content) {
            return Err(ReportError::BadOpening);
        }
        Ok(())
    }

    /// Decodes a report strictly: the reporter's signature must verify and
    /// the content must open the header's commitment.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ReportError> {
        let mut r = Reader::new(bytes);
        let report = Self::read(&mut r)?;
        r.finish()?;
        Ok(report)
    }
}

/// Length of a report without its content.
pub const REPORT_FIXED_LEN: usize =
    2 + ENVELOPE_HEADER_LEN + 8 + 32 + FRANKING_KEY_LEN + 1 + 8 + 4 + 64;

//! Envelopes: the metadata the relay needs to route and enforce the rules,
//! followed by the opaque session message.
//!
//! The encoded header is also the associated data of the session message
//! inside ([`EnvelopeHeader::associated_data`]), so a relay that relabels a
//! notification as chat (or changes the sender, recipient, id or time) makes
//! the recipient's decryption fail.

use crate::constants::{
    CLASS_CHAT, CLASS_NOTIFICATION, FRANKING_TAG_LEN, MAX_WIRE_LEN, MSG_TYPE_INITIAL,
    OBJ_TYPE_ENVELOPE, PROTOCOL_VERSION,
};
use crate::relay::auth::AccountId;
use crate::relay::franking::FrankingTag;
use crate::wire::{DecodeError, Reader};

/// Encoded length of an [`EnvelopeHeader`].
pub const ENVELOPE_HEADER_LEN: usize = 2 + 32 + 32 + 16 + 1 + 8 + FRANKING_TAG_LEN;

/// A message id chosen at random by the sender (16 bytes). The relay
/// collapses envelopes with the same sender, recipient and id, so a sender
/// may retry a send safely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub [u8; 16]);

impl MessageId {
    /// A fresh random id.
    pub fn random<R: rand_core::CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut id = [0u8; 16];
        rng.fill_bytes(&mut id);
        Self(id)
    }
}

/// The class of a message, visible to the relay and authenticated with the
/// ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageClass {
    /// Free-form conversation. From a business, only within 24 hours of the
    /// customer's last message.
    Chat,
    /// A business-to-customer notification: needs the customer's consent to
    /// notifications, and is counted for billing.
    Notification,
}

impl MessageClass {
    /// The class byte (SPEC.md 14.4).
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Chat => CLASS_CHAT,
            Self::Notification => CLASS_NOTIFICATION,
        }
    }
    /// The class of a class byte; any other value is refused.
    pub fn from_byte(value: u8) -> Result<Self, DecodeError> {
        match value {
            CLASS_CHAT => Ok(Self::Chat),
            CLASS_NOTIFICATION => Ok(Self::Notification),
            value => Err(DecodeError::InvalidValue {
                field: "message class",
                value,
            }),
        }
    }
}

/// What the relay sees of a message (SPEC.md section 14.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeHeader {
    /// The sending account.
    pub sender: AccountId,
    /// The receiving account.
    pub recipient: AccountId,
    /// The sender's random id for this message.
    pub message_id: MessageId,
    /// Chat or notification.
    pub class: MessageClass,
    /// When the sender wrote it (seconds since the Unix epoch), as claimed by
    /// the sender. The relay's rules use the relay's own clock instead.
    pub sent_at: u64,
    /// The sender's commitment to the content (SPEC.md 14.17), which lets
    /// the recipient report the message to the relay.
    pub franking: FrankingTag,
}

impl EnvelopeHeader {
    /// The encoding, which is also the associated data to pass to
    /// `Session::encrypt` and `Session::decrypt` for the message inside.
    ///
    /// ```
    /// use hotline::relay::{AccountId, EnvelopeHeader, FrankingTag, MessageClass, MessageId};
    /// let header = EnvelopeHeader {
    ///     sender: AccountId([1; 32]),
    ///     recipient: AccountId([2; 32]),
    ///     message_id: MessageId([3; 16]),
    ///     class: MessageClass::Chat,
    ///     sent_at: 1_700_000_000,
    ///     franking: FrankingTag([4; 32]),
    /// };
    /// let ad = header.associated_data();
    /// assert_eq!(EnvelopeHeader::from_bytes(&ad), Ok(header));
    /// ```
    pub fn associated_data(&self) -> [u8; ENVELOPE_HEADER_LEN] {
        let mut v = Vec::with_capacity(ENVELOPE_HEADER_LEN);
        self.encode_into(&mut v);
        let mut out = [0u8; ENVELOPE_HEADER_LEN];
        out.copy_from_slice(&v);
        out
    }

    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(PROTOCOL_VERSION);
        out.push(OBJ_TYPE_ENVELOPE);
        out.extend_from_slice(&self.sender.0);
        out.extend_from_slice(&self.recipient.0);
        out.extend_from_slice(&self.message_id.0);
        out.push(self.class.to_byte());
        out.extend_from_slice(&self.sent_at.to_be_bytes());
        out.extend_from_slice(&self.franking.0);
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version()?;
        match r.u8("object type")? {
            OBJ_TYPE_ENVELOPE => {}
            other => return Err(DecodeError::UnknownType(other)),
        }
        Ok(Self {
            sender: AccountId(*r.array("envelope sender")?),
            recipient: AccountId(*r.array("envelope recipient")?),
            message_id: MessageId(*r.array("message id")?),
            class: MessageClass::from_byte(r.u8("message class")?)?,
            sent_at: r.u64("envelope time")?,
            franking: FrankingTag(*r.array("envelope franking tag")?),
        })
    }

    /// Decodes a header strictly.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let h = Self::read(&mut r)?;
        r.finish()?;
        Ok(h)
    }
}

/// An envelope: header, then the session message (opaque to the relay).
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The metadata.
    pub header: EnvelopeHeader,
    /// The session message, at most
    /// [`MAX_WIRE_LEN`](crate::constants::MAX_WIRE_LEN) bytes.
    pub ciphertext: Vec<u8>,
}

impl core::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Envelope")
            .field("header", &self.header)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

impl Envelope {
    /// `header || u32(len) || ciphertext`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(ENVELOPE_HEADER_LEN + 4 + self.ciphertext.len());
        self.encode_into(&mut out);
        out
    }

    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        self.header.encode_into(out);
        out.extend_from_slice(&(self.ciphertext.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.ciphertext);
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = EnvelopeHeader::read(r)?;
        let ciphertext = r.bytes_u32(MAX_WIRE_LEN, "envelope ciphertext")?;
        if ciphertext.is_empty() {
            return Err(DecodeError::InvalidLength {
                field: "envelope ciphertext",
                len: 0,
            });
        }
        Ok(Self {
            header,
            ciphertext: ciphertext.to_vec(),
        })
    }

    /// Whether the session message inside is an initial message (it
    /// carries a handshake, SPEC.md 2.2): its first two bytes are the
    /// version and `MSG_TYPE_INITIAL`. The same test as
    /// [`message_type`](crate::message_type), made here on the bytes alone
    /// because the relay does not use the session code.
    pub fn is_initial(&self) -> bool {
        self.ciphertext.get(..2) == Some(&[PROTOCOL_VERSION, MSG_TYPE_INITIAL])
    }

    /// Decodes an envelope strictly.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let e = Self::read(&mut r)?;
        r.finish()?;
        Ok(e)
    }
}

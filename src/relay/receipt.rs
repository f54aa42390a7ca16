//! What the relay signs for senders (SPEC.md 14.16): a receipt for every
//! accepted envelope and for every later state of it (delivered, expired,
//! deleted), and a statement per billing period listing the notifications
//! billed in it.
//!
//! Both are signed with the relay's own Ed25519 key ([`RelayKey`]), which
//! is not an account: a business learns its public half ([`RelayPublicKey`])
//! from the operator, as it learns the relay's address, and keeps the
//! receipts as evidence against the bill. A receipt binds the envelope's
//! sender, recipient, message id and class to what happened to it and when,
//! so the relay cannot later bill a notification it never delivered without
//! contradicting its own signature.

use crate::constants::{
    BILLING_PERIOD_SECS, OBJ_TYPE_RECEIPT, OBJ_TYPE_STATEMENT, PROTOCOL_VERSION, SIG_CTX_RECEIPT,
    SIG_CTX_STATEMENT,
};
use crate::primitives::ed25519::{Ed25519Public, Ed25519Secret};
use crate::primitives::kdf::Sha256Hasher;
use crate::relay::auth::AccountId;
use crate::relay::envelope::{MessageClass, MessageId};
use crate::wire::{DecodeError, Reader};

/// Encoded length of a [`Receipt`].
pub const RECEIPT_LEN: usize = 2 + 32 + 32 + 16 + 1 + 1 + 8 + 8 + 64;
/// Encoded length of a [`Statement`].
pub const STATEMENT_LEN: usize = 2 + 32 + 4 + 1 + 8 + 32 + 8 + 64;

/// The relay's signing key for receipts and statements. Zeroized on drop;
/// `Debug` prints only the public half.
#[derive(Clone)]
pub struct RelayKey(Ed25519Secret);

impl RelayKey {
    /// A fresh random key.
    pub fn generate<R: rand_core::CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(Ed25519Secret::generate(rng))
    }

    /// The key from its 32-byte seed (as [`to_seed`](Self::to_seed) gives
    /// it, for the operator's key file).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(Ed25519Secret::from_seed(seed))
    }

    /// The 32-byte seed. Keep it secret: whoever has it signs receipts.
    pub fn to_seed(&self) -> [u8; 32] {
        self.0.to_seed()
    }

    /// The public key senders verify receipts and statements with.
    pub fn public(&self) -> RelayPublicKey {
        RelayPublicKey(self.0.public_key())
    }
}

impl core::fmt::Debug for RelayKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("RelayKey").field(&self.public()).finish()
    }
}

/// The public half of a [`RelayKey`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RelayPublicKey(Ed25519Public);

impl RelayPublicKey {
    /// Decodes a key strictly: a point that does not decompress, a
    /// non-canonical encoding or a small-order point is refused.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, ReceiptError> {
        Ed25519Public::from_bytes(bytes)
            .map(Self)
            .map_err(|_| ReceiptError::BadKey)
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
}

impl core::fmt::Debug for RelayPublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RelayPublicKey({})", hex::encode(&self.to_bytes()[..8]))
    }
}

/// Why a receipt or statement was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// The bytes are malformed.
    #[error("malformed receipt or statement: {0}")]
    Decode(#[from] DecodeError),
    /// The signature failed strict verification under the relay's key.
    #[error("receipt or statement signature is invalid")]
    BadSignature,
    /// The relay key is not a valid Ed25519 public key.
    #[error("relay key is invalid")]
    BadKey,
}

/// What happened to an envelope (SPEC.md 14.16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DeliveryState {
    /// The relay accepted and stored it (the answer to `Send`).
    Accepted,
    /// The recipient acknowledged it: delivered. A notification is billed
    /// at this moment, in the period of this state's time.
    Delivered,
    /// It was deleted unacknowledged after the mailbox time-to-live.
    Expired,
    /// It was deleted undelivered because the recipient blocked the sender.
    DeletedByBlock,
    /// It was deleted undelivered because the recipient erased its account.
    DeletedByErasure,
}

impl DeliveryState {
    /// The state's byte on the wire.
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Accepted => 0x01,
            Self::Delivered => 0x02,
            Self::Expired => 0x03,
            Self::DeletedByBlock => 0x04,
            Self::DeletedByErasure => 0x05,
        }
    }

    /// The state of a byte, or `None` for a value no state has.
    pub fn from_byte(value: u8) -> Option<Self> {
        Some(match value {
            0x01 => Self::Accepted,
            0x02 => Self::Delivered,
            0x03 => Self::Expired,
            0x04 => Self::DeletedByBlock,
            0x05 => Self::DeletedByErasure,
            _ => return None,
        })
    }
}

/// The facts of one delivery state, before the relay signs them: what a
/// store keeps (SPEC.md 14.16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateEntry {
    /// The entry's place in the relay's state log: larger than every entry
    /// logged before it. Zero for [`DeliveryState::Accepted`], which is not
    /// logged (the sender has its receipt in the answer to `Send`).
    pub sequence: u64,
    /// Who sent the envelope.
    pub sender: AccountId,
    /// Whose mailbox it was in.
    pub recipient: AccountId,
    /// The sender's message id.
    pub message_id: MessageId,
    /// Its class.
    pub class: MessageClass,
    /// What happened.
    pub state: DeliveryState,
    /// When it happened (relay clock).
    pub time: u64,
}

impl StateEntry {
    /// The billing period this state bills the message in: only a
    /// notification's delivery is billed (SPEC.md 14.16).
    pub fn billed_period(&self) -> Option<u32> {
        (self.class == MessageClass::Notification && self.state == DeliveryState::Delivered)
            .then(|| period_of(self.time))
    }
}

/// The billing period (a UTC day) that contains relay time `time`.
pub fn period_of(time: u64) -> u32 {
    u32::try_from(time / BILLING_PERIOD_SECS).unwrap_or(u32::MAX)
}

/// A relay-signed delivery state (SPEC.md 14.16).
///
/// ```
/// use hotline::relay::{
///     AccountId, DeliveryState, MessageClass, MessageId, Receipt, RelayKey, StateEntry,
/// };
/// let relay = RelayKey::generate(&mut rand::rng());
/// let entry = StateEntry {
///     sequence: 7,
///     sender: AccountId([1; 32]),
///     recipient: AccountId([2; 32]),
///     message_id: MessageId([3; 16]),
///     class: MessageClass::Notification,
///     state: DeliveryState::Delivered,
///     time: 1_700_000_000,
/// };
/// let receipt = Receipt::sign(&relay, entry);
/// // Anyone with the relay's public key checks it from its bytes alone.
/// let kept = Receipt::from_bytes(&receipt.to_bytes())?;
/// kept.verify(&relay.public())?;
/// assert_eq!(kept.entry().billed_period(), Some(19_675));
/// # Ok::<(), hotline::relay::ReceiptError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    entry: StateEntry,
    signature: [u8; 64],
}

impl core::fmt::Debug for Receipt {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Receipt")
            .field("entry", &self.entry)
            .finish_non_exhaustive()
    }
}

impl Receipt {
    fn signed_part(e: &StateEntry) -> Vec<u8> {
        let mut m = Vec::with_capacity(RECEIPT_LEN - 64);
        m.push(PROTOCOL_VERSION);
        m.push(OBJ_TYPE_RECEIPT);
        m.extend_from_slice(&e.sender.0);
        m.extend_from_slice(&e.recipient.0);
        m.extend_from_slice(&e.message_id.0);
        m.push(e.class.to_byte());
        m.push(e.state.to_byte());
        m.extend_from_slice(&e.time.to_be_bytes());
        m.extend_from_slice(&e.sequence.to_be_bytes());
        m
    }

    /// Signs `entry` with the relay's key.
    pub fn sign(key: &RelayKey, entry: StateEntry) -> Self {
        let signature = key.0.sign(SIG_CTX_RECEIPT, &Self::signed_part(&entry));
        Self { entry, signature }
    }

    /// The signed facts.
    pub fn entry(&self) -> &StateEntry {
        &self.entry
    }

    /// Checks the signature strictly under the relay's key.
    pub fn verify(&self, relay: &RelayPublicKey) -> Result<(), ReceiptError> {
        relay
            .0
            .verify(
                SIG_CTX_RECEIPT,
                &Self::signed_part(&self.entry),
                &self.signature,
            )
            .map_err(|_| ReceiptError::BadSignature)
    }

    /// The encoding ([`RECEIPT_LEN`] bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut m = Self::signed_part(&self.entry);
        m.extend_from_slice(&self.signature);
        m
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version()?;
        r.object_type(OBJ_TYPE_RECEIPT)?;
        let sender = AccountId(*r.array("receipt sender")?);
        let recipient = AccountId(*r.array("receipt recipient")?);
        let message_id = MessageId(*r.array("receipt message id")?);
        let class = MessageClass::from_byte(r.u8("message class")?)?;
        let value = r.u8("delivery state")?;
        let state = DeliveryState::from_byte(value).ok_or(DecodeError::InvalidValue {
            field: "delivery state",
            value,
        })?;
        let time = r.u64("receipt time")?;
        let sequence = r.u64("receipt sequence")?;
        let signature = *r.array::<64>("receipt signature")?;
        Ok(Self {
            entry: StateEntry {
                sequence,
                sender,
                recipient,
                message_id,
                class,
                state,
                time,
            },
            signature,
        })
    }

    /// Decodes a receipt strictly, without checking its signature (which
    /// needs the relay's key: [`verify`](Self::verify)).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ReceiptError> {
        let mut r = Reader::new(bytes);
        let out = Self::read(&mut r)?;
        r.finish()?;
        Ok(out)
    }
}

/// The running digest of a statement's billed entries (SPEC.md 14.16):
/// SHA-256 over, for each billed delivery in sequence order, its sequence,
/// recipient and message id.
#[derive(Clone)]
pub struct StatementDigest {
    hasher: Sha256Hasher,
    count: u64,
}

impl Default for StatementDigest {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for StatementDigest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StatementDigest")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl StatementDigest {
    /// An empty digest.
    pub fn new() -> Self {
        Self {
            hasher: Sha256Hasher::new(),
            count: 0,
        }
    }

    /// Adds one billed delivery (in sequence order).
    pub fn add(&mut self, sequence: u64, recipient: &AccountId, message_id: &MessageId) {
        self.hasher.update(&sequence.to_be_bytes());
        self.hasher.update(&recipient.0);
        self.hasher.update(&message_id.0);
        self.count += 1;
    }

    /// The number of deliveries added and the digest.
    pub fn finish(self) -> (u64, [u8; 32]) {
        (self.count, self.hasher.finalize())
    }
}

/// A relay-signed billing statement: the notifications of one business
/// billed in one period (SPEC.md 14.16). The business recomputes `digest`
/// from the delivered notifications among its own receipts of that period
/// and compares.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Statement {
    /// The billed sender.
    pub business: AccountId,
    /// The period (a UTC day: [`period_of`]).
    pub period: u32,
    /// Whether the period had ended when the relay signed: a closed
    /// statement is final, an open one lists what is billed so far.
    pub closed: bool,
    /// Number of billed notifications.
    pub count: u64,
    /// [`StatementDigest`] of the billed notifications.
    pub digest: [u8; 32],
    /// When the relay signed (relay clock).
    pub time: u64,
    signature: [u8; 64],
}

impl core::fmt::Debug for Statement {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Statement")
            .field("business", &self.business)
            .field("period", &self.period)
            .field("closed", &self.closed)
            .field("count", &self.count)
            .field("time", &self.time)
            .finish_non_exhaustive()
    }
}

impl Statement {
    fn signed_part(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(STATEMENT_LEN - 64);
        m.push(PROTOCOL_VERSION);
        m.push(OBJ_TYPE_STATEMENT);
        m.extend_from_slice(&self.business.0);
        m.extend_from_slice(&self.period.to_be_bytes());
        m.push(u8::from(self.closed));
        m.extend_from_slice(&self.count.to_be_bytes());
        m.extend_from_slice(&self.digest);
        m.extend_from_slice(&self.time.to_be_bytes());
        m
    }

    /// Signs the statement of `business` for `period` at relay time `now`,
    /// from the digest of its billed deliveries.
    pub fn sign(
        key: &RelayKey,
        business: AccountId,
        period: u32,
        digest: StatementDigest,
        now: u64,
    ) -> Self {
        let (count, digest) = digest.finish();
        let mut s = Self {
            business,
            period,
            closed: period_of(now) > period,
            count,
            digest,
            time: now,
            signature: [0; 64],
        };
        s.signature = key.0.sign(SIG_CTX_STATEMENT, &s.signed_part());
        s
    }

    /// Checks the signature strictly under the relay's key.
    pub fn verify(&self, relay: &RelayPublicKey) -> Result<(), ReceiptError> {
        relay
            .0
            .verify(SIG_CTX_STATEMENT, &self.signed_part(), &self.signature)
            .map_err(|_| ReceiptError::BadSignature)
    }

    /// The encoding ([`STATEMENT_LEN`] bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut m = self.signed_part();
        m.extend_from_slice(&self.signature);
        m
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version()?;
        r.object_type(OBJ_TYPE_STATEMENT)?;
        let business = AccountId(*r.array("statement business")?);
        let period = r.u32("statement period")?;
        let closed = match r.u8("closed flag")? {
            0 => false,
            1 => true,
            value => {
                return Err(DecodeError::InvalidValue {
                    field: "closed flag",
                    value,
                });
            }
        };
        Ok(Self {
            business,
            period,
            closed,
            count: r.u64("statement count")?,
            digest: *r.array("statement digest")?,
            time: r.u64("statement time")?,
            signature: *r.array("statement signature")?,
        })
    }

    /// Decodes a statement strictly, without checking its signature.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ReceiptError> {
        let mut r = Reader::new(bytes);
        let out = Self::read(&mut r)?;
        r.finish()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> StateEntry {
        StateEntry {
            sequence: 9,
            sender: AccountId([1; 32]),
            recipient: AccountId([2; 32]),
            message_id: MessageId([3; 16]),
            class: MessageClass::Notification,
            state: DeliveryState::Delivered,
            time: 2 * BILLING_PERIOD_SECS + 5,
        }
    }

    #[test]
    fn every_byte_of_a_receipt_is_signed() {
        let key = RelayKey::from_seed(&[7; 32]);
        let bytes = Receipt::sign(&key, entry()).to_bytes();
        assert_eq!(bytes.len(), RECEIPT_LEN);
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            let verdict = Receipt::from_bytes(&b).and_then(|r| r.verify(&key.public()));
            assert!(verdict.is_err(), "byte {i} changed and still verifies");
        }
        let other = RelayKey::from_seed(&[8; 32]).public();
        let r = Receipt::from_bytes(&bytes).unwrap();
        assert_eq!(r.verify(&other), Err(ReceiptError::BadSignature));
        assert_eq!(r.verify(&key.public()), Ok(()));
    }

    #[test]
    fn every_byte_of_a_statement_is_signed() {
        let key = RelayKey::from_seed(&[7; 32]);
        let mut d = StatementDigest::new();
        d.add(1, &AccountId([2; 32]), &MessageId([3; 16]));
        let s = Statement::sign(&key, AccountId([1; 32]), 2, d, 3 * BILLING_PERIOD_SECS);
        assert!(s.closed);
        assert_eq!(s.count, 1);
        let bytes = s.to_bytes();
        assert_eq!(bytes.len(), STATEMENT_LEN);
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            let verdict = Statement::from_bytes(&b).and_then(|r| r.verify(&key.public()));
            assert!(verdict.is_err(), "byte {i} changed and still verifies");
        }
        assert_eq!(Statement::from_bytes(&bytes).unwrap(), s);
        assert_eq!(s.verify(&key.public()), Ok(()));
    }

    #[test]
    fn a_period_is_open_until_its_last_second_has_passed() {
        let key = RelayKey::from_seed(&[7; 32]);
        let end = 3 * BILLING_PERIOD_SECS;
        let open = Statement::sign(&key, AccountId([1; 32]), 2, StatementDigest::new(), end - 1);
        let closed = Statement::sign(&key, AccountId([1; 32]), 2, StatementDigest::new(), end);
        assert!(!open.closed);
        assert!(closed.closed);
    }

    #[test]
    fn only_a_delivered_notification_is_billed() {
        assert_eq!(entry().billed_period(), Some(2));
        for state in [
            DeliveryState::Accepted,
            DeliveryState::Expired,
            DeliveryState::DeletedByBlock,
            DeliveryState::DeletedByErasure,
        ] {
            assert_eq!(StateEntry { state, ..entry() }.billed_period(), None);
        }
        let chat = StateEntry {
            class: MessageClass::Chat,
            ..entry()
        };
        assert_eq!(chat.billed_period(), None);
    }

    #[test]
    fn the_digest_depends_on_every_field_and_the_order() {
        let digest = |items: &[(u64, u8, u8)]| {
            let mut d = StatementDigest::new();
            for (s, r, m) in items {
                d.add(*s, &AccountId([*r; 32]), &MessageId([*m; 16]));
            }
            d.finish()
        };
        let base = digest(&[(1, 2, 3), (4, 5, 6)]);
        assert_eq!(base.0, 2);
        assert_ne!(base, digest(&[(4, 5, 6), (1, 2, 3)]));
        assert_ne!(base, digest(&[(1, 2, 3), (4, 5, 7)]));
        assert_ne!(base, digest(&[(1, 2, 3), (4, 9, 6)]));
        assert_ne!(base, digest(&[(1, 2, 3), (8, 5, 6)]));
        assert_ne!(base, digest(&[(1, 2, 3)]));
    }

    #[test]
    fn states_round_trip_and_unknown_ones_are_refused() {
        for v in 0..=255u8 {
            match DeliveryState::from_byte(v) {
                Some(s) => assert_eq!(s.to_byte(), v),
                None => assert!(v == 0 || v > 5),
            }
        }
        let key = RelayKey::from_seed(&[7; 32]);
        let mut b = Receipt::sign(&key, entry()).to_bytes();
        b[83] = 0x06;
        assert_eq!(
            Receipt::from_bytes(&b),
            Err(ReceiptError::Decode(DecodeError::InvalidValue {
                field: "delivery state",
                value: 6
            }))
        );
    }
}

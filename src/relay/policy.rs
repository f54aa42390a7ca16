//! The rules of business messaging: consent, block, the 24-hour window and
//! metered notifications, decided on envelope metadata alone.

use crate::constants::{
    BLOCK_BY_BUSINESS, BLOCK_SET, CHAT_WINDOW_SECS, OBJ_TYPE_BLOCK, OBJ_TYPE_CONSENT,
    PROTOCOL_VERSION, SCOPE_CHAT, SCOPE_NOTIFICATIONS, SIG_CTX_BLOCK, SIG_CTX_CONSENT,
};
use crate::keys::IdentityKeyPair;
use crate::primitives::ed25519::Ed25519Public;
use crate::relay::auth::{AccountId, AccountKind};
use crate::relay::envelope::MessageClass;
use crate::wire::{DecodeError, Reader};

/// Encoded length of a [`ConsentRecord`] or a [`BlockRecord`].
pub const RECORD_LEN: usize = 2 + 32 + 32 + 1 + 8 + 64;

/// What a customer allows a business to send. Unknown bits are refused on
/// decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ConsentScope {
    /// Chat messages (still only within 24 hours of the customer's last message).
    pub chat: bool,
    /// Notifications (metered).
    pub notifications: bool,
}

impl ConsentScope {
    /// Chat and notifications.
    pub const ALL: Self = Self {
        chat: true,
        notifications: true,
    };
    /// Nothing: a record with this scope withdraws consent.
    pub const NONE: Self = Self {
        chat: false,
        notifications: false,
    };

    fn to_byte(self) -> u8 {
        (if self.chat { SCOPE_CHAT } else { 0 })
            | (if self.notifications {
                SCOPE_NOTIFICATIONS
            } else {
                0
            })
    }

    fn from_byte(value: u8) -> Result<Self, DecodeError> {
        if value & !(SCOPE_CHAT | SCOPE_NOTIFICATIONS) != 0 {
            return Err(DecodeError::InvalidValue {
                field: "consent scope",
                value,
            });
        }
        Ok(Self {
            chat: value & SCOPE_CHAT != 0,
            notifications: value & SCOPE_NOTIFICATIONS != 0,
        })
    }

    /// Whether this scope allows a message of `class`.
    pub fn allows(self, class: MessageClass) -> bool {
        match class {
            MessageClass::Chat => self.chat,
            MessageClass::Notification => self.notifications,
        }
    }
}

/// The fields common to consent and block records, and their signature.
#[derive(Clone, Copy, PartialEq, Eq)]
struct SignedRecord {
    customer: AccountId,
    business: AccountId,
    value: u8,
    time: u64,
    signature: [u8; 64],
}

impl SignedRecord {
    fn signed_part(
        obj: u8,
        customer: &AccountId,
        business: &AccountId,
        value: u8,
        time: u64,
    ) -> Vec<u8> {
        let mut m = Vec::with_capacity(RECORD_LEN - 64);
        m.push(PROTOCOL_VERSION);
        m.push(obj);
        m.extend_from_slice(&customer.0);
        m.extend_from_slice(&business.0);
        m.push(value);
        m.extend_from_slice(&time.to_be_bytes());
        m
    }

    /// Signs with `signer`, the key of the customer or of the business
    /// (whichever the record's value says signs it).
    fn sign(
        obj: u8,
        ctx: &[u8],
        signer: &IdentityKeyPair,
        (customer, business): (AccountId, AccountId),
        value: u8,
        time: u64,
    ) -> Self {
        let signature = signer.signing().sign(
            ctx,
            &Self::signed_part(obj, &customer, &business, value, time),
        );
        Self {
            customer,
            business,
            value,
            time,
            signature,
        }
    }

    fn encode(&self, obj: u8) -> Vec<u8> {
        let mut m = Self::signed_part(obj, &self.customer, &self.business, self.value, self.time);
        m.extend_from_slice(&self.signature);
        m
    }

    /// Reads and strictly verifies a record under the key of the party
    /// that `check` (which checks the value byte) says signed it.
    fn read(
        r: &mut Reader<'_>,
        obj: u8,
        ctx: &[u8],
        check: impl Fn(u8) -> Result<AccountKind, DecodeError>,
    ) -> Result<Self, RecordError> {
        r.version()?;
        let found = r.u8("object type")?;
        if found != obj {
            return Err(DecodeError::UnknownType(found).into());
        }
        let customer = AccountId(*r.array("record customer")?);
        let business = AccountId(*r.array("record business")?);
        let value = r.u8("record value")?;
        let signer = match check(value)? {
            AccountKind::Customer => customer,
            AccountKind::Business => business,
        };
        let time = r.u64("record time")?;
        let signature = *r.array::<64>("record signature")?;
        let key = Ed25519Public::from_bytes(&signer.0).map_err(|_| RecordError::BadSignature)?;
        key.verify(
            ctx,
            &Self::signed_part(obj, &customer, &business, value, time),
            &signature,
        )
        .map_err(|_| RecordError::BadSignature)?;
        if customer == business {
            return Err(RecordError::SameAccount);
        }
        Ok(Self {
            customer,
            business,
            value,
            time,
            signature,
        })
    }
}

/// Why a consent or block record was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The bytes are malformed.
    #[error("malformed record: {0}")]
    Decode(#[from] DecodeError),
    /// The signature (the customer's, or for a business's block the
    /// business's) failed strict verification.
    #[error("record signature is invalid")]
    BadSignature,
    /// The record names the same account as customer and business.
    #[error("record names one account as both customer and business")]
    SameAccount,
}

/// A customer's signed opt-in (or, with [`ConsentScope::NONE`], opt-out)
/// for one business. The relay keeps the records it accepted, and the
/// business can export them as evidence that it had consent.
///
/// ```
/// use hotline::IdentityKeyPair;
/// use hotline::relay::{AccountId, ConsentRecord, ConsentScope};
/// let mut rng = rand::rng();
/// let customer = IdentityKeyPair::generate(&mut rng);
/// let airline = AccountId::of(&IdentityKeyPair::generate(&mut rng).public());
/// let record = ConsentRecord::sign(&customer, airline, ConsentScope::ALL, 1_700_000_000);
/// // Anyone can check it later: decoding verifies the customer's signature.
/// let evidence = ConsentRecord::from_bytes(&record.to_bytes()).unwrap();
/// assert_eq!(evidence.business(), airline);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ConsentRecord(SignedRecord);

impl ConsentRecord {
    /// Signs a consent record with the customer's identity key.
    pub fn sign(
        customer: &IdentityKeyPair,
        business: AccountId,
        scope: ConsentScope,
        time: u64,
    ) -> Self {
        Self(SignedRecord::sign(
            OBJ_TYPE_CONSENT,
            SIG_CTX_CONSENT,
            customer,
            (AccountId::of(&customer.public()), business),
            scope.to_byte(),
            time,
        ))
    }
    /// The customer who signed it.
    pub fn customer(&self) -> AccountId {
        self.0.customer
    }
    /// The business it is about.
    pub fn business(&self) -> AccountId {
        self.0.business
    }
    /// What it allows.
    pub fn scope(&self) -> ConsentScope {
        // Only constructed from a checked byte.
        ConsentScope::from_byte(self.0.value).unwrap_or_default()
    }
    /// When the customer signed it (seconds since the Unix epoch).
    pub fn time(&self) -> u64 {
        self.0.time
    }
    /// The 139-byte encoding (SPEC.md section 14.6).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.encode(OBJ_TYPE_CONSENT)
    }
    /// Whether this record, ordered at `effective`, replaces `other`,
    /// ordered at `other_effective` (SPEC.md 14.6): the later effective time
    /// wins; at equal times the narrower scope wins (the smaller scope byte:
    /// withdrawal, then chat only, then notifications only, then both), so
    /// that a withdrawal sent in the same second as a consent always holds.
    pub fn supersedes(&self, effective: u64, other: &Self, other_effective: u64) -> bool {
        use core::cmp::Reverse;
        (effective, Reverse(self.0.value)) > (other_effective, Reverse(other.0.value))
    }
    /// Decodes a record and verifies the customer's signature strictly.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecordError> {
        let mut r = Reader::new(bytes);
        let rec = Self::read(&mut r)?;
        r.finish()?;
        Ok(rec)
    }
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, RecordError> {
        SignedRecord::read(r, OBJ_TYPE_CONSENT, SIG_CTX_CONSENT, |v| {
            ConsentScope::from_byte(v).map(|_| AccountKind::Customer)
        })
        .map(Self)
    }
}

impl core::fmt::Debug for ConsentRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ConsentRecord")
            .field("customer", &self.customer())
            .field("business", &self.business())
            .field("scope", &self.scope())
            .field("time", &self.time())
            .finish()
    }
}

/// A signed block (or unblock) between a customer and a business: either
/// the customer's of the business (the business may no longer send to the
/// customer), or the business's of an abusive customer (the customer may
/// no longer write to the business). Only the blocking party's identity key
/// can make one, so only that party can unblock. The two directions are
/// independent records (SPEC.md 14.6).
///
/// ```
/// use hotline::IdentityKeyPair;
/// use hotline::relay::{AccountId, AccountKind, BlockRecord};
/// let mut rng = rand::rng();
/// let customer = IdentityKeyPair::generate(&mut rng);
/// let airline = IdentityKeyPair::generate(&mut rng);
/// let customer_id = AccountId::of(&customer.public());
/// let airline_id = AccountId::of(&airline.public());
/// let mine = BlockRecord::sign(&customer, airline_id, true, 1_700_000_000);
/// let theirs = BlockRecord::sign_by_business(&airline, customer_id, true, 1_700_000_000);
/// assert_eq!(mine.blocker(), AccountKind::Customer);
/// let decoded = BlockRecord::from_bytes(&theirs.to_bytes()).unwrap();
/// assert_eq!((decoded.blocker(), decoded.customer()), (AccountKind::Business, customer_id));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BlockRecord(SignedRecord);

impl BlockRecord {
    /// Signs a customer's block (`blocked = true`) or unblock of `business`
    /// with the customer's identity key.
    pub fn sign(customer: &IdentityKeyPair, business: AccountId, blocked: bool, time: u64) -> Self {
        Self(SignedRecord::sign(
            OBJ_TYPE_BLOCK,
            SIG_CTX_BLOCK,
            customer,
            (AccountId::of(&customer.public()), business),
            u8::from(blocked),
            time,
        ))
    }
    /// Signs a business's block (`blocked = true`) or unblock of `customer`
    /// with the business's identity key.
    pub fn sign_by_business(
        business: &IdentityKeyPair,
        customer: AccountId,
        blocked: bool,
        time: u64,
    ) -> Self {
        Self(SignedRecord::sign(
            OBJ_TYPE_BLOCK,
            SIG_CTX_BLOCK,
            business,
            (customer, AccountId::of(&business.public())),
            BLOCK_BY_BUSINESS | u8::from(blocked),
            time,
        ))
    }
    /// The customer of the pair.
    pub fn customer(&self) -> AccountId {
        self.0.customer
    }
    /// The business of the pair.
    pub fn business(&self) -> AccountId {
        self.0.business
    }
    /// Who blocks (and signed): the customer or the business.
    pub fn blocker(&self) -> AccountKind {
        if self.0.value & BLOCK_BY_BUSINESS != 0 {
            AccountKind::Business
        } else {
            AccountKind::Customer
        }
    }
    /// The account that signed it: the customer's or the business's id.
    pub fn signer(&self) -> AccountId {
        match self.blocker() {
            AccountKind::Customer => self.0.customer,
            AccountKind::Business => self.0.business,
        }
    }
    /// Whether it blocks (true) or unblocks (false).
    pub fn blocked(&self) -> bool {
        self.0.value & BLOCK_SET != 0
    }
    /// When the blocking party signed it (seconds since the Unix epoch).
    pub fn time(&self) -> u64 {
        self.0.time
    }
    /// The 139-byte encoding (SPEC.md section 14.6).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.encode(OBJ_TYPE_BLOCK)
    }
    /// Whether this record, ordered at `effective`, replaces `other`,
    /// ordered at `other_effective` (SPEC.md 14.6): the later effective time
    /// wins; at equal times a block wins over an unblock, so that a block
    /// sent in the same second as an unblock always holds.
    pub fn supersedes(&self, effective: u64, other: &Self, other_effective: u64) -> bool {
        (effective, self.blocked()) > (other_effective, other.blocked())
    }
    /// Decodes a record and verifies the customer's signature strictly.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecordError> {
        let mut r = Reader::new(bytes);
        let rec = Self::read(&mut r)?;
        r.finish()?;
        Ok(rec)
    }
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, RecordError> {
        SignedRecord::read(r, OBJ_TYPE_BLOCK, SIG_CTX_BLOCK, |value| match value {
            0 | BLOCK_SET => Ok(AccountKind::Customer),
            BLOCK_BY_BUSINESS | 0x03 => Ok(AccountKind::Business),
            value => Err(DecodeError::InvalidValue {
                field: "block flag",
                value,
            }),
        })
        .map(Self)
    }
}

impl core::fmt::Debug for BlockRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BlockRecord")
            .field("blocker", &self.blocker())
            .field("customer", &self.customer())
            .field("business", &self.business())
            .field("blocked", &self.blocked())
            .field("time", &self.time())
            .finish()
    }
}

/// Why the rules refused a business's message to a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The customer has blocked this business.
    #[error("the customer has blocked this business")]
    Blocked,
    /// The business has blocked this customer: the customer's messages to
    /// it are refused.
    #[error("the business has blocked this customer")]
    BlockedByBusiness,
    /// The customer has not consented to this class of message from this
    /// business (or has withdrawn consent).
    #[error("no consent from the customer for this class of message")]
    NoConsent,
    /// A chat message more than 24 hours after the customer's last message
    /// (or before any): only notifications may be sent.
    #[error("outside the 24-hour window: only notifications may be sent")]
    WindowClosed,
    /// Customers send chat messages only; notifications come from businesses.
    #[error("only businesses send notifications")]
    NotificationFromCustomer,
    /// Messages go between a customer and a business only.
    #[error("messages go between a customer and a business")]
    UnsupportedRoute,
}

/// The state of one customer–business pair that the rules look at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PairState {
    /// The consent record in force, if any.
    pub consent: Option<ConsentRecord>,
    /// The customer's block record in force, if any.
    pub block: Option<BlockRecord>,
    /// The business's block record in force, if any.
    pub business_block: Option<BlockRecord>,
    /// When the relay accepted the customer's last message to the business.
    pub last_customer_message: Option<u64>,
}

/// The time at which the relay orders a record it accepts at `now`
/// (SPEC.md 14.6): the record's own time, or the relay's if the record is
/// dated ahead of it. A record from the future thus cannot hold back a
/// change made after it.
pub(crate) fn effective_time(record_time: u64, now: u64) -> u64 {
    record_time.min(now)
}

/// Decides whether a customer may send a chat message to the business:
/// not once the business has blocked the customer.
pub(crate) fn check_customer_send(pair: &PairState) -> Result<(), PolicyError> {
    if pair.business_block.is_some_and(|b| b.blocked()) {
        return Err(PolicyError::BlockedByBusiness);
    }
    Ok(())
}

/// Decides whether a business may send a message of `class` now.
/// Checked in this order: block, consent, window.
pub(crate) fn check_business_send(
    pair: &PairState,
    class: MessageClass,
    now: u64,
) -> Result<(), PolicyError> {
    if pair.block.is_some_and(|b| b.blocked()) {
        return Err(PolicyError::Blocked);
    }
    match class {
        MessageClass::Notification => {
            if !pair.consent.is_some_and(|c| c.scope().allows(class)) {
                return Err(PolicyError::NoConsent);
            }
        }
        MessageClass::Chat => {
            // A conversation the customer starts needs no opt-in: the
            // customer's own message is the consent to reply within the
            // window. Only a record that excludes chat, made at or after
            // that message, withdraws it (SPEC.md 14.7).
            let last = pair.last_customer_message;
            if pair
                .consent
                .is_some_and(|c| !c.scope().chat && last.is_none_or(|t| c.time() >= t))
            {
                return Err(PolicyError::NoConsent);
            }
            let open = last.is_some_and(|t| now.saturating_sub(t) <= CHAT_WINDOW_SECS);
            if !open {
                return Err(PolicyError::WindowClosed);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_bits_round_trip_and_unknown_bits_are_refused() {
        for b in 0..=3u8 {
            assert_eq!(ConsentScope::from_byte(b).unwrap().to_byte(), b);
        }
        assert!(ConsentScope::from_byte(4).is_err());
    }

    #[test]
    fn only_the_business_block_stops_the_customer() {
        let mut rng = rand::rng();
        let customer = IdentityKeyPair::generate(&mut rng);
        let business = IdentityKeyPair::generate(&mut rng);
        let (c, b) = (
            AccountId::of(&customer.public()),
            AccountId::of(&business.public()),
        );
        let mut pair = PairState {
            block: Some(BlockRecord::sign(&customer, b, true, 5)),
            ..PairState::default()
        };
        assert_eq!(check_customer_send(&pair), Ok(()));
        pair.business_block = Some(BlockRecord::sign_by_business(&business, c, false, 5));
        assert_eq!(check_customer_send(&pair), Ok(()));
        pair.business_block = Some(BlockRecord::sign_by_business(&business, c, true, 6));
        assert_eq!(
            check_customer_send(&pair),
            Err(PolicyError::BlockedByBusiness)
        );
    }

    #[test]
    fn window_boundary() {
        let mut rng = rand::rng();
        let customer = IdentityKeyPair::generate(&mut rng);
        let biz = AccountId([9; 32]);
        let pair = PairState {
            consent: Some(ConsentRecord::sign(&customer, biz, ConsentScope::ALL, 0)),
            block: None,
            business_block: None,
            last_customer_message: Some(1000),
        };
        assert_eq!(
            check_business_send(&pair, MessageClass::Chat, 1000 + CHAT_WINDOW_SECS),
            Ok(())
        );
        assert_eq!(
            check_business_send(&pair, MessageClass::Chat, 1001 + CHAT_WINDOW_SECS),
            Err(PolicyError::WindowClosed)
        );
        assert_eq!(
            check_business_send(&pair, MessageClass::Notification, 1001 + CHAT_WINDOW_SECS),
            Ok(())
        );
    }
}

//! The relay's refusals: a rich error for the server application, and the
//! numeric code that crosses the wire to the client.

use crate::relay::auth::{AccountKind, RequestError};
use crate::relay::certificates::CertificateRefused;
use crate::relay::limits::RateLimit;
use crate::relay::policy::PolicyError;
use crate::relay::store::StoreError;

/// Which prekey of an upload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreKeySlot {
    /// The signed X25519 prekey.
    Signed,
    /// The last-resort ML-KEM prekey.
    LastResort,
    /// A one-time X25519 prekey.
    OneTime,
    /// A one-time ML-KEM prekey.
    Kem,
}

/// Why the relay refused a request. Nothing was changed, except that a
/// request with a valid signature and fresh counter uses up its counter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// The request is malformed, or its signature, identity or record failed.
    #[error("{0}")]
    Request(#[from] RequestError),
    /// The request's timestamp is too far from the relay's clock.
    #[error("request time {timestamp} is too far from the relay's time {now}")]
    StaleRequest {
        /// The request's timestamp.
        timestamp: u64,
        /// The relay's time.
        now: u64,
    },
    /// The request's counter is not above the last accepted one: a replay.
    #[error("request counter {counter} is not above {last}: replayed")]
    ReplayedRequest {
        /// The request's counter.
        counter: u64,
        /// The last counter accepted from the account.
        last: u64,
    },
    /// No account with this id.
    #[error("unknown account")]
    UnknownAccount,
    /// The identity already has an account.
    #[error("account already registered")]
    AlreadyRegistered,
    /// The identity's account was erased; an erased id is never registered
    /// again (SPEC.md 14.15).
    #[error("this identity's account was deleted; register a new identity")]
    AccountDeleted,
    /// A statement was asked for a billing period that has not begun, or
    /// that began longer ago than the relay keeps delivery states
    /// (SPEC.md 14.16).
    #[error("no statement for period {period}: periods {first} to {current} are available")]
    PeriodUnavailable {
        /// The period asked for.
        period: u32,
        /// The oldest period whose statement the relay still gives.
        first: u32,
        /// The current period.
        current: u32,
    },
    /// A registration names another identity than the one that signed it.
    #[error("registered identity is not the signing identity")]
    IdentityMismatch,
    /// The business's certificate chain was refused.
    #[error("certificate chain refused: {0}")]
    CertificateRefused(CertificateRefused),
    /// A business whose badge is no longer true tried to send to a customer;
    /// customers can still write to it.
    #[error("the business is not in good standing: {0}")]
    NotInGoodStanding(Box<crate::business::Badge>),
    /// The registration's name is confusable with the name of another
    /// registered business.
    #[error("name {name:?} is confusable with the registered {existing:?}")]
    ConfusableName {
        /// The name refused.
        name: String,
        /// The registered name it can be mistaken for.
        existing: String,
    },
    /// A published certificate status was refused: not for the
    /// publishing business's certificate, a bad signature or window, from
    /// the future, from an issuer no longer trusted, or not newer than the
    /// one stapled (SPEC.md 14.13).
    #[error("status refused: {0}")]
    BadStatus(crate::business::StatusError),
    /// A published revocation list was refused (SPEC.md 13.9, 14.13).
    #[error("revocation list refused: {0}")]
    BadRevocationList(crate::business::RevocationError),
    /// This relay judges businesses by a trust state that requests cannot
    /// change (its operator updates it).
    #[error("this relay does not take revocation lists from requests")]
    TrustStateFixed,
    /// The operation is for another kind of account.
    #[error("operation requires a {0:?} account")]
    WrongAccountKind(AccountKind),
    /// A prekey's signature failed strict verification under the uploader's identity.
    #[error("bad signature on {slot:?} prekey {id}")]
    BadPreKeySignature {
        /// Which kind of prekey.
        slot: PreKeySlot,
        /// Its id.
        id: u32,
    },
    /// An X25519 prekey is of low order.
    #[error("low-order {slot:?} prekey {id}")]
    LowOrderPreKey {
        /// Which kind of prekey.
        slot: PreKeySlot,
        /// Its id.
        id: u32,
    },
    /// A KEM prekey's kind does not match the slot it was uploaded in.
    #[error("KEM prekey {id} has the wrong kind for {slot:?}")]
    WrongKemKind {
        /// Which slot.
        slot: PreKeySlot,
        /// Its id.
        id: u32,
    },
    /// The upload would exceed the directory's per-account limit.
    #[error("too many one-time prekeys")]
    TooManyPreKeys,
    /// A one-time prekey's id is at or below the highest id of its kind the
    /// directory has already handed out: storing it could hand a prekey out
    /// twice (SPEC.md 14.8). One-time prekey ids must increase.
    #[error("{slot:?} prekey {id} is at or below the last id handed out ({spent})")]
    SpentPreKeyId {
        /// Which kind of prekey.
        slot: PreKeySlot,
        /// Its id.
        id: u32,
        /// The highest id of that kind already handed out.
        spent: u32,
    },
    /// The owner has no signed prekey or no last-resort KEM prekey yet.
    #[error("the account has published no bundle")]
    NoBundle,
    /// The envelope's sender is not the requesting account.
    #[error("envelope sender is not the requesting account")]
    SenderMismatch,
    /// The recipient's mailbox is full; nothing was dropped, retry later.
    #[error("recipient's mailbox is full")]
    MailboxFull,
    /// The sender already has as many envelopes (or bytes) waiting in the
    /// recipient's mailbox as one sender may (SPEC.md 14.5); retry once the
    /// recipient has fetched some.
    #[error("too many envelopes from this sender are waiting in the recipient's mailbox")]
    SenderQuotaExceeded,
    /// A rate limit refused the request (SPEC.md 14.11); nothing was done.
    /// The request's counter was not used, unless a concurrent request of
    /// the same account took the last token between the check and the
    /// operation.
    #[error("rate limited ({limit:?}): retry in {retry_after_secs} s")]
    RateLimited {
        /// Which limit.
        limit: RateLimit,
        /// Seconds until the limit allows one more.
        retry_after_secs: u32,
    },
    /// A rule of business messaging refused the message.
    #[error("{0}")]
    Policy(#[from] PolicyError),
    /// A consent or block record was sent by another account than its customer.
    #[error("the record is not signed by the requesting customer")]
    RecordNotYours,
    /// A consent or block record does not come after the one in force in
    /// the relay's order (SPEC.md 14.6), or lies too far in the future.
    #[error("record does not come after the record in force, or is too far in the future")]
    StaleRecord,
    /// A report's stamp is not this relay's stamp of the reported header
    /// and time: the message was not delivered by this relay as reported
    /// (SPEC.md 14.17).
    #[error("the report's stamp is not this relay's")]
    BadStamp,
    /// A report came more than the report window after the relay accepted
    /// the reported message, or names a time of acceptance ahead of the
    /// relay's clock (SPEC.md 14.17).
    #[error("message accepted at {received_at} can no longer be reported at {now}")]
    ReportTooOld {
        /// When the relay accepted the reported message.
        received_at: u64,
        /// The relay's time.
        now: u64,
    },
    /// The business has reached its daily limit of distinct customers
    /// reached by notifications (SPEC.md 14.17); a customer it reached in
    /// the last 24 hours can still be sent to.
    #[error("daily notification limit reached: {limit} customers (tier {tier})")]
    DailyLimitReached {
        /// The limit in force.
        limit: u32,
        /// The business's tier after its quality signal.
        tier: u8,
    },
    /// The relay's store failed; the request may be retried.
    #[error("store failure: {0}")]
    Store(#[from] StoreError),
}

/// Wire code of [`Refusal::RateLimited`], a refusal with a body.
pub(crate) const RATE_LIMITED_CODE: u16 = 26;
/// Wire code of [`Refusal::DailyLimitReached`], a refusal with a body.
pub(crate) const DAILY_LIMIT_CODE: u16 = 38;

macro_rules! refusals {
    ($($(#[$doc:meta])* $name:ident = $code:expr,)*) => {
        /// The refusal a client receives (SPEC.md 14.3). Each [`RelayError`]
        /// maps to one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Refusal {
            $($(#[$doc])* $name,)*
            /// A rate limit refused the request (code 26; SPEC.md 14.11).
            RateLimited {
                /// Which limit.
                limit: RateLimit,
                /// Seconds until the limit allows one more.
                retry_after_secs: u32,
            },
            /// The business reached its daily limit of customers reached by
            /// notifications (code 38; SPEC.md 14.17).
            DailyLimitReached {
                /// The limit in force.
                limit: u32,
                /// The business's tier.
                tier: u8,
            },
        }
        impl Refusal {
            /// The wire code.
            pub fn code(self) -> u16 {
                match self {
                    $(Self::$name => $code,)*
                    Self::RateLimited { .. } => RATE_LIMITED_CODE,
                    Self::DailyLimitReached { .. } => DAILY_LIMIT_CODE,
                }
            }
            /// The refusal with this wire code, for the codes that carry
            /// nothing else (every one but [`Refusal::RateLimited`] and
            /// [`Refusal::DailyLimitReached`]).
            pub fn from_code(code: u16) -> Option<Self> {
                match code { $($code => Some(Self::$name),)* _ => None }
            }
        }
    };
}

refusals! {
    /// Malformed request.
    Malformed = 1,
    /// Bad request signature.
    BadSignature = 2,
    /// Bad identity key in a registration.
    BadIdentity = 3,
    /// Bad consent or block record.
    BadRecord = 4,
    /// Timestamp outside the window.
    StaleRequest = 5,
    /// Counter not above the last one.
    ReplayedRequest = 6,
    /// Unknown account.
    UnknownAccount = 7,
    /// Already registered.
    AlreadyRegistered = 8,
    /// Registration for another identity.
    IdentityMismatch = 9,
    /// Certificate chain refused.
    CertificateRefused = 10,
    /// Wrong kind of account for the operation.
    WrongAccountKind = 11,
    /// A prekey was refused.
    BadPreKey = 12,
    /// Too many one-time prekeys.
    TooManyPreKeys = 13,
    /// No bundle published.
    NoBundle = 14,
    /// Envelope sender is not the requester.
    SenderMismatch = 15,
    /// Mailbox full.
    MailboxFull = 16,
    /// The customer blocked the business.
    Blocked = 17,
    /// No consent.
    NoConsent = 18,
    /// Outside the 24-hour window.
    WindowClosed = 19,
    /// Customers do not send notifications.
    NotificationFromCustomer = 20,
    /// Not a customer–business route.
    UnsupportedRoute = 21,
    /// Record not signed by the requester.
    RecordNotYours = 22,
    /// Record not newer than the one in force.
    StaleRecord = 23,
    /// Store failure (retry).
    Unavailable = 24,
    /// Too many envelopes from the sender wait in the recipient's mailbox.
    SenderQuotaExceeded = 25,
    /// The sending business is not in good standing now: its certificate
    /// or issuer was revoked, its root retired, its certificate expired, or
    /// its required status ran out (SPEC.md 14.7).
    NotInGoodStanding = 27,
    /// The business name (or a localized name) is confusable with one
    /// registered for another business id (SPEC.md 14.1).
    ConfusableName = 28,
    /// A published certificate status was refused (SPEC.md 14.13).
    BadStatus = 29,
    /// A published revocation list was refused (SPEC.md 14.13).
    BadRevocationList = 30,
    /// The relay takes no revocation lists from requests (SPEC.md 14.13).
    TrustStateFixed = 31,
    /// The business blocked the customer (SPEC.md 14.6, 14.7).
    BlockedByBusiness = 32,
    /// The identity's account was erased and is never registered again
    /// (SPEC.md 14.15).
    AccountDeleted = 33,
    /// No statement for this billing period: it has not begun, or it
    /// began before the relay's retention of delivery states (SPEC.md 14.16).
    PeriodUnavailable = 34,
    /// A spam report failed verification: malformed, a bad signature, or
    /// content that does not open the commitment (SPEC.md 14.17).
    BadReport = 35,
    /// A report's stamp is not this relay's (SPEC.md 14.17).
    BadStamp = 36,
    /// The reported message is too old to report (SPEC.md 14.17).
    ReportTooOld = 37,
}

impl RelayError {
    /// The code sent to the client.
    pub fn refusal(&self) -> Refusal {
        match self {
            Self::Request(RequestError::Decode(_)) => Refusal::Malformed,
            Self::Request(RequestError::BadSignature) => Refusal::BadSignature,
            Self::Request(RequestError::BadIdentity(_)) => Refusal::BadIdentity,
            Self::Request(RequestError::BadRecord(_)) => Refusal::BadRecord,
            Self::Request(RequestError::BadReport(_)) => Refusal::BadReport,
            Self::BadStamp => Refusal::BadStamp,
            Self::ReportTooOld { .. } => Refusal::ReportTooOld,
            Self::DailyLimitReached { limit, tier } => Refusal::DailyLimitReached {
                limit: *limit,
                tier: *tier,
            },
            Self::StaleRequest { .. } => Refusal::StaleRequest,
            Self::ReplayedRequest { .. } => Refusal::ReplayedRequest,
            Self::UnknownAccount => Refusal::UnknownAccount,
            Self::AlreadyRegistered => Refusal::AlreadyRegistered,
            Self::AccountDeleted => Refusal::AccountDeleted,
            Self::PeriodUnavailable { .. } => Refusal::PeriodUnavailable,
            Self::IdentityMismatch => Refusal::IdentityMismatch,
            Self::CertificateRefused(_) => Refusal::CertificateRefused,
            Self::NotInGoodStanding(_) => Refusal::NotInGoodStanding,
            Self::ConfusableName { .. } => Refusal::ConfusableName,
            Self::BadStatus(_) => Refusal::BadStatus,
            Self::BadRevocationList(_) => Refusal::BadRevocationList,
            Self::TrustStateFixed => Refusal::TrustStateFixed,
            Self::WrongAccountKind(_) => Refusal::WrongAccountKind,
            Self::BadPreKeySignature { .. }
            | Self::LowOrderPreKey { .. }
            | Self::WrongKemKind { .. }
            | Self::SpentPreKeyId { .. } => Refusal::BadPreKey,
            Self::TooManyPreKeys => Refusal::TooManyPreKeys,
            Self::NoBundle => Refusal::NoBundle,
            Self::SenderMismatch => Refusal::SenderMismatch,
            Self::MailboxFull => Refusal::MailboxFull,
            Self::SenderQuotaExceeded => Refusal::SenderQuotaExceeded,
            Self::RateLimited {
                limit,
                retry_after_secs,
            } => Refusal::RateLimited {
                limit: *limit,
                retry_after_secs: *retry_after_secs,
            },
            Self::Policy(PolicyError::Blocked) => Refusal::Blocked,
            Self::Policy(PolicyError::BlockedByBusiness) => Refusal::BlockedByBusiness,
            Self::Policy(PolicyError::NoConsent) => Refusal::NoConsent,
            Self::Policy(PolicyError::WindowClosed) => Refusal::WindowClosed,
            Self::Policy(PolicyError::NotificationFromCustomer) => {
                Refusal::NotificationFromCustomer
            }
            Self::Policy(PolicyError::UnsupportedRoute) => Refusal::UnsupportedRoute,
            Self::RecordNotYours => Refusal::RecordNotYours,
            Self::StaleRecord => Refusal::StaleRecord,
            Self::Store(_) => Refusal::Unavailable,
        }
    }
}

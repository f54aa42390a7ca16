//! Accounts and signed requests.
//!
//! An account is named by its identity's Ed25519 key, and every request is
//! signed by that key over the request's whole encoding (context string,
//! account, counter, timestamp, operation and body). The relay refuses a
//! request whose signature fails, whose timestamp is more than
//! [`REQUEST_TIME_WINDOW_SECS`](crate::constants::REQUEST_TIME_WINDOW_SECS)
//! from its clock, or whose counter is not above the last one it accepted
//! from the account, so a captured request cannot be replayed.

use crate::constants::{
    MAX_REQUEST_BODY_LEN, OBJ_TYPE_RELAY_REQUEST, PROTOCOL_VERSION, SIG_CTX_RELAY_REQUEST,
};
use crate::keys::{IdentityError, IdentityKey, IdentityKeyPair};
use crate::primitives::ed25519::Ed25519Public;
use crate::relay::policy::RecordError;
use crate::relay::protocol::Request;
use crate::wire::{DecodeError, Reader};

/// An account's id: the 32-byte Ed25519 key of its identity.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(pub [u8; 32]);

impl AccountId {
    /// The account id of an identity.
    pub fn of(identity: &IdentityKey) -> Self {
        Self(identity.signing_key().to_bytes())
    }
    /// A short hex form for display.
    pub fn short(&self) -> String {
        self.0[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl core::fmt::Debug for AccountId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "AccountId({})", self.short())
    }
}

/// Whether an account is a customer or a business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountKind {
    /// A customer: registered with its identity key alone.
    Customer,
    /// A business: registered with its identity key and a certificate chain
    /// the relay validated.
    Business,
}

/// Fixed bytes before a request's body: version, type, account, counter,
/// timestamp, operation.
pub(crate) const REQUEST_PREFIX_LEN: usize = 2 + 32 + 8 + 8 + 1;

/// A request to the relay, signed by the account's identity key.
///
/// A value of this type has always had its signature verified strictly
/// (decoding verifies it), so the relay only has to check freshness.
///
/// ```
/// use hotline::IdentityKeyPair;
/// use hotline::relay::{Request, SignedRequest};
/// let customer = IdentityKeyPair::generate(&mut rand::rng());
/// let req = SignedRequest::sign(&customer, 1, 1_700_000_000, Request::PreKeyStatus);
/// let bytes = req.to_bytes();
/// assert_eq!(SignedRequest::from_bytes(&bytes).unwrap(), req);
/// let mut forged = bytes.clone();
/// forged[40] ^= 1; // change the counter
/// assert!(SignedRequest::from_bytes(&forged).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    account: AccountId,
    counter: u64,
    timestamp: u64,
    request: Request,
    signature: [u8; 64],
}

/// Why a request's bytes were refused before any account was looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The bytes are malformed.
    #[error("malformed request: {0}")]
    Decode(#[from] DecodeError),
    /// The signature failed strict verification under the account's key.
    #[error("request signature is invalid")]
    BadSignature,
    /// The identity key in a registration failed verification.
    #[error("identity key refused: {0}")]
    BadIdentity(IdentityError),
    /// A consent or block record in the request failed verification.
    #[error("record refused: {0}")]
    BadRecord(RecordError),
    /// A spam report in the request failed verification (SPEC.md 14.17).
    #[error("report refused: {0}")]
    BadReport(crate::relay::franking::ReportError),
}

impl SignedRequest {
    /// Signs `request` as the account of `identity`. `counter` must be above
    /// every counter this account used before; `timestamp` is the client's
    /// clock in seconds since the Unix epoch.
    pub fn sign(
        identity: &IdentityKeyPair,
        counter: u64,
        timestamp: u64,
        request: Request,
    ) -> Self {
        let account = AccountId::of(&identity.public());
        let signed = Self::signed_part(&account, counter, timestamp, &request);
        let signature = identity.signing().sign(SIG_CTX_RELAY_REQUEST, &signed);
        Self {
            account,
            counter,
            timestamp,
            request,
            signature,
        }
    }

    fn signed_part(
        account: &AccountId,
        counter: u64,
        timestamp: u64,
        request: &Request,
    ) -> Vec<u8> {
        let mut m = Vec::with_capacity(REQUEST_PREFIX_LEN + 64);
        m.push(PROTOCOL_VERSION);
        m.push(OBJ_TYPE_RELAY_REQUEST);
        m.extend_from_slice(&account.0);
        m.extend_from_slice(&counter.to_be_bytes());
        m.extend_from_slice(&timestamp.to_be_bytes());
        request.encode_into(&mut m);
        m
    }

    /// The account that signed it.
    pub fn account(&self) -> AccountId {
        self.account
    }
    /// Its counter.
    pub fn counter(&self) -> u64 {
        self.counter
    }
    /// Its timestamp (client clock, seconds since the Unix epoch).
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }
    /// The operation and its body.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The encoding: signed part then the 64-byte signature (SPEC.md 14.2).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut m = Self::signed_part(&self.account, self.counter, self.timestamp, &self.request);
        m.extend_from_slice(&self.signature);
        m
    }

    /// Decodes a request strictly and verifies its signature under the
    /// account's key. Inputs longer than the largest request are refused
    /// before anything is parsed.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RequestError> {
        let max = REQUEST_PREFIX_LEN + MAX_REQUEST_BODY_LEN + 64;
        if bytes.len() > max {
            return Err(DecodeError::InvalidLength {
                field: "request",
                len: bytes.len(),
            }
            .into());
        }
        if bytes.len() < REQUEST_PREFIX_LEN + 64 {
            return Err(DecodeError::Truncated("request").into());
        }
        let (signed, sig) = bytes.split_at(bytes.len() - 64);
        let mut r = Reader::new(signed);
        r.version()?;
        match r.u8("object type")? {
            OBJ_TYPE_RELAY_REQUEST => {}
            other => return Err(DecodeError::UnknownType(other).into()),
        }
        let account = AccountId(*r.array("account")?);
        let counter = r.u64("request counter")?;
        let timestamp = r.u64("request timestamp")?;
        let request = Request::read(&mut r)?;
        r.finish()?;
        let signature: [u8; 64] = sig
            .try_into()
            .map_err(|_| DecodeError::Truncated("request signature"))?;
        let key = Ed25519Public::from_bytes(&account.0).map_err(|_| RequestError::BadSignature)?;
        key.verify(SIG_CTX_RELAY_REQUEST, signed, &signature)
            .map_err(|_| RequestError::BadSignature)?;
        Ok(Self {
            account,
            counter,
            timestamp,
            request,
            signature,
        })
    }
}

/// A low-level request signer: an identity and the counter of its next
/// request, held in memory. Applications use
/// [`crate::store::Client::sign_request`], which stores the counter with the
/// client so it survives restarts and is never shared by two processes;
/// this type is for relays' own tools, load generators and tests. The relay
/// refuses any counter not above the last one it accepted.
#[derive(Debug)]
pub struct RequestSigner {
    identity: IdentityKeyPair,
    counter: u64,
}

impl RequestSigner {
    /// An account whose last used counter is `last_counter` (0 for a new one).
    pub fn new(identity: IdentityKeyPair, last_counter: u64) -> Self {
        Self {
            identity,
            counter: last_counter,
        }
    }
    /// The account id.
    pub fn id(&self) -> AccountId {
        AccountId::of(&self.identity.public())
    }
    /// The identity.
    pub fn identity(&self) -> &IdentityKeyPair {
        &self.identity
    }
    /// The last counter used.
    pub fn counter(&self) -> u64 {
        self.counter
    }
    /// Signs `request` with the next counter and the client's time `now`.
    pub fn sign(&mut self, request: Request, now: u64) -> SignedRequest {
        self.counter = self.counter.saturating_add(1);
        SignedRequest::sign(&self.identity, self.counter, now, request)
    }
}

//! Client-side helpers for talking to a relay: signing requests with a
//! counter, sealing and opening envelopes with their header as associated
//! data, and the customer's own enforcement of blocks.
//!
//! The app's encrypted state at rest, and the [`crate::store::Client`] that
//! keeps sessions across restarts, are in [`crate::store`].
//!
//! ```
//! use hotline::client::{RelayAccount, open, seal};
//! use hotline::relay::{AccountId, EnvelopeHeader, MessageClass, MessageId};
//! use hotline::{IdentityKeyPair, PreKeyStore, Session};
//! let mut rng = rand::rng();
//! let customer = IdentityKeyPair::generate(&mut rng);
//! let business = IdentityKeyPair::generate(&mut rng);
//! let mut prekeys = PreKeyStore::new(&business, 1, 1, &mut rng);
//! let mut session = Session::initiate(&customer, &prekeys.bundle(), &mut rng)?;
//!
//! let header = EnvelopeHeader {
//!     sender: AccountId::of(&customer.public()),
//!     recipient: AccountId::of(&business.public()),
//!     message_id: MessageId::random(&mut rng),
//!     class: MessageClass::Chat,
//!     sent_at: 1_700_000_000,
//! };
//! let envelope = seal(&mut session, header, b"Hello")?;
//! let (_business_session, text) = hotline::client::accept(&mut prekeys, &envelope)?;
//! assert_eq!(text, b"Hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashSet;

use crate::error::{DecryptError, EncryptError, HandshakeError};
use crate::keys::{IdentityKeyPair, PreKeyStore};
use crate::relay::{AccountId, Envelope, EnvelopeHeader, Request, SignedRequest};
use crate::session::Session;

/// A client's relay account: its identity and the counter of its next
/// request. Persist [`RelayAccount::counter`] with the identity: the relay
/// refuses any counter not above the last one it accepted.
#[derive(Debug)]
pub struct RelayAccount {
    identity: IdentityKeyPair,
    counter: u64,
}

impl RelayAccount {
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

/// Encrypts `plaintext` for the envelope `header`, passing the encoded
/// header as associated data so the recipient detects any change to it
/// (class relabelled, sender or recipient swapped, time or id changed).
pub fn seal(
    session: &mut Session,
    header: EnvelopeHeader,
    plaintext: &[u8],
) -> Result<Envelope, EncryptError> {
    let ciphertext = session.encrypt(plaintext, &header.associated_data())?;
    Ok(Envelope { header, ciphertext })
}

/// Decrypts an envelope in an existing session, with its header as
/// associated data.
pub fn open(session: &mut Session, envelope: &Envelope) -> Result<Vec<u8>, DecryptError> {
    session.decrypt(&envelope.ciphertext, &envelope.header.associated_data())
}

/// Starts a session from an envelope carrying an initial message, with its
/// header as associated data.
pub fn accept(
    prekeys: &mut PreKeyStore,
    envelope: &Envelope,
) -> Result<(Session, Vec<u8>), HandshakeError> {
    Session::respond(
        prekeys,
        &envelope.ciphertext,
        &envelope.header.associated_data(),
    )
}

/// Why a customer's client dropped an envelope without decrypting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Dropped {
    /// The sender is a business this customer blocked.
    #[error("sender is blocked")]
    Blocked,
    /// The envelope is addressed to someone else.
    #[error("envelope is addressed to another account")]
    NotForMe,
}

/// The customer's own enforcement of blocks: even if a relay delivered a
/// message from a blocked business, the client drops it unread.
///
/// ```
/// use hotline::client::{ClientPolicy, Dropped};
/// use hotline::relay::{AccountId, EnvelopeHeader, MessageClass, MessageId};
/// let me = AccountId([1; 32]);
/// let airline = AccountId([2; 32]);
/// let mut policy = ClientPolicy::new(me);
/// policy.block(airline);
/// let header = EnvelopeHeader {
///     sender: airline, recipient: me, message_id: MessageId([0; 16]),
///     class: MessageClass::Notification, sent_at: 0,
/// };
/// assert_eq!(policy.check(&header), Err(Dropped::Blocked));
/// ```
#[derive(Debug, Clone)]
pub struct ClientPolicy {
    me: AccountId,
    blocked: HashSet<AccountId>,
}

impl ClientPolicy {
    /// A policy for the account `me` that blocks no one.
    pub fn new(me: AccountId) -> Self {
        Self {
            me,
            blocked: HashSet::new(),
        }
    }
    /// Blocks a business (pair it with a signed block record sent to the relay).
    pub fn block(&mut self, business: AccountId) {
        self.blocked.insert(business);
    }
    /// Unblocks a business.
    pub fn unblock(&mut self, business: &AccountId) {
        self.blocked.remove(business);
    }
    /// Whether `business` is blocked.
    pub fn is_blocked(&self, business: &AccountId) -> bool {
        self.blocked.contains(business)
    }
    /// Whether to decrypt an envelope with this header at all.
    pub fn check(&self, header: &EnvelopeHeader) -> Result<(), Dropped> {
        if header.recipient != self.me {
            return Err(Dropped::NotForMe);
        }
        if self.blocked.contains(&header.sender) {
            return Err(Dropped::Blocked);
        }
        Ok(())
    }
}

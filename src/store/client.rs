//! The client: one type for an app's end of every conversation. It keeps
//! the identity, prekeys, sessions and its own bookkeeping in a
//! [`ClientStore`], talks to a relay through signed requests and envelopes,
//! and enforces blocks.
//!
//! Durability and concurrency rules (SPEC.md, sections 15.11, 15.13 and 15.14):
//! - **Save before send.** [`Client::encrypt`] commits the advanced session
//!   before it returns the ciphertext. A crash before the commit loses a
//!   ciphertext that was never returned; a crash after it loses a message
//!   that was never sent. Neither can make a message key, chain step or
//!   ratchet key be used twice.
//! - **Consume before reading.** [`Client::decrypt`] commits the consumed
//!   one-time prekeys, the new or advanced session and any newly trusted
//!   identity atomically before it returns the plaintext.
//! - **Compare and swap.** Every commit names the version of each record it
//!   read. A second process that advanced the same session in between makes
//!   the commit fail without writing; the client then reloads and redoes the
//!   operation from the newer state, and the result of the losing attempt
//!   (a ciphertext under a key the other process already used) is never
//!   returned. Any number of processes may share one database.
//! - **Failure saves nothing.** Every failed operation leaves the store as
//!   it was.
//!
//! The client keeps the decoded state of recently used peers in memory, so a
//! message costs one sealed write and no read; the version check of the
//! commit tells it when another writer made that copy stale.

use std::collections::HashMap;

use rand_core::CryptoRng;
use zeroize::{Zeroize, Zeroizing};

use crate::business::{
    Badge, BusinessId, CertificateStatus, Peer, RenderedNotification, StatusError, TemplateError,
    TemplatedNotification, TrustStore, VerifiedBusiness,
};
use crate::constants::{FRANKING_KEY_LEN, MAX_BLOCKED, MAX_REPORT_CONTENT_LEN};
use crate::error::{DecryptError, EncryptError, HandshakeError};
use crate::handshake::initial::InitialPrefix;
use crate::keys::{IdentityKey, IdentityKeyPair, PreKeyBundle, PreKeyStore};
use crate::relay::{
    AccountId, BlockRecord, ConsentRecord, ConsentScope, Envelope, EnvelopeHeader, FrankingKey,
    FrankingTag, MessageClass, MessageId, ReportReason, Reportable, Request, SignedRequest,
    SpamReport,
};
use crate::session::{MessageType, Session, message_type};
use crate::store::client_state::ClientState;
use crate::store::constants::{MAX_CACHED_PEERS, MAX_COMMIT_ATTEMPTS};
use crate::store::sessions::{Installed, SessionRecord};
use crate::store::traits::{ClientStore, PeerId, StoreError, StoreUpdate, Versioned};

/// A peer identity that differs from the trusted one, reported to the
/// application instead of being accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityChange {
    /// The identity trusted for the peer.
    pub trusted: IdentityKey,
    /// The identity presented (by a bundle, a message or a session).
    pub received: IdentityKey,
}

impl IdentityChange {
    fn boxed(trusted: IdentityKey, received: IdentityKey) -> Box<Self> {
        Box::new(Self { trusted, received })
    }
}

/// Why [`Client::start_session`] failed. Nothing was saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The bundle's identity is not the one trusted for this peer. Nothing
    /// continues until the application accepts the new identity with
    /// [`Client::trust_identity`].
    #[error("the peer's identity changed")]
    IdentityChanged(Box<IdentityChange>),
    /// The peer is a relay account address, and the bundle's identity is
    /// another account's.
    #[error("the bundle belongs to account {actual:?}, not to the peer {expected:?}")]
    AccountMismatch {
        /// The account the peer address names.
        expected: AccountId,
        /// The account of the bundle's identity.
        actual: AccountId,
    },
    /// The verified business is not the one the bundle's identity belongs to.
    #[error("the verified business does not belong to the bundle's identity")]
    NotThisBusiness,
    /// The handshake failed.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
}

/// Why [`Client::encrypt`] or [`Client::seal`] failed. Nothing was saved or
/// sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// There is no session with this peer: start one with its bundle.
    #[error("no session with this peer")]
    NoSession,
    /// The active session's peer identity is no longer the trusted one.
    #[error("the peer's identity changed")]
    IdentityChanged(Box<IdentityChange>),
    /// [`Client::seal`] needs a relay account address
    /// ([`PeerId::account`]).
    #[error("the peer is not a relay account address")]
    NotAnAccount,
    /// The peer is blocked: nothing is sent to it.
    #[error("the peer is blocked")]
    Blocked,
    /// Encryption failed.
    #[error(transparent)]
    Encrypt(#[from] EncryptError),
}

/// Why [`Client::decrypt`] or [`Client::open_envelope`] failed. Nothing was saved:
/// no prekey consumed, no session changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiveError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A ratchet message from a peer with no session.
    #[error("no session with this peer")]
    NoSession,
    /// The sender's identity is not the one trusted for this peer. The
    /// message is not accepted; if the application accepts the new identity
    /// ([`Client::trust_identity`]), the same message can be decrypted again.
    #[error("the peer's identity changed")]
    IdentityChanged(Box<IdentityChange>),
    /// The message was made with the identity of another account than the
    /// one it claims to come from (the envelope's sender, or the account
    /// address it was received under): a relay or a third party misbinding
    /// a sender. Checked before any expensive work.
    #[error("message claims account {claimed:?} but was made by account {actual:?}")]
    SenderMismatch {
        /// The account the envelope or address names.
        claimed: AccountId,
        /// The account of the identity that made the message.
        actual: AccountId,
    },
    /// The envelope is addressed to another account.
    #[error("envelope is addressed to another account")]
    NotForMe,
    /// The sender (its account, or its certified business id) is blocked;
    /// the message was dropped unread.
    #[error("sender is blocked")]
    Blocked,
    /// The initial message's handshake failed.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// The message did not decrypt under any session with this peer.
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
    /// The envelope's message decrypted, but its content does not open the
    /// franking commitment in the envelope header (SPEC.md 14.17): the
    /// sender made a message its recipient could not report. It is refused
    /// like a message that does not decrypt; nothing was saved.
    #[error("the message does not open its envelope's franking commitment")]
    BadFranking,
}

/// Something the application should know about a message it received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// The peer started a new session while our active session with it is a
    /// verified business session. The verified session stays active (and
    /// keeps its badge); the new one only decrypts. The application decides:
    /// keep the verified session (start a fresh verified one when the
    /// business's bundle is at hand), or switch with
    /// [`Client::adopt_peer_session`], losing the badge.
    NewUnverifiedSession,
    /// The signed prekey and last-resort KEM prekey were rotated because the
    /// replay set of the old ones filled up (SPEC.md, section 7.10): publish
    /// a new bundle.
    PreKeysRotated,
}

/// A message received and committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The peer it came from (for [`Client::open_envelope`], the sender's account
    /// address).
    pub peer: PeerId,
    /// The plaintext.
    pub plaintext: Vec<u8>,
    /// The message's class (for [`Client::open_envelope`]; chat otherwise).
    pub class: MessageClass,
    /// What the application should be told, if anything.
    pub notices: Vec<Notice>,
    /// The key that opens the envelope's franking commitment (for
    /// [`Client::open_envelope`]; none otherwise): keep it with the
    /// delivery's stamp to report the message later
    /// ([`Reportable`](crate::relay::Reportable)).
    pub franking_key: Option<FrankingKey>,
}

/// An application's monotonic counter, kept outside the store (a keychain
/// item, a TPM counter, its server). The client raises it after every commit
/// and refuses to send or receive from a store whose generation is below
/// it: a restored backup or a rolled-back disk is refused instead of reusing
/// message keys (SPEC.md, section 15.13).
pub trait RollbackGuard: Send {
    /// The highest store generation known to have been committed.
    fn current(&self) -> Result<u64, StoreError>;
    /// Records that the store reached `generation` (never lower than before).
    fn advance(&mut self, generation: u64) -> Result<(), StoreError>;
}

/// The decoded state of one peer, as read at the versions it carries.
#[derive(Default)]
struct PeerEntry {
    sessions: Option<SessionRecord>,
    sessions_version: u64,
    trusted: Option<IdentityKey>,
    trusted_version: u64,
}

/// An app's end of every conversation, kept in a [`ClientStore`].
///
/// Every operation commits what it changed before returning, so a client
/// can be dropped (or the process killed) between any two operations and
/// reopened with [`Client::open`]; several clients (processes) may share one
/// store.
///
/// ```
/// use hotline::store::{Client, MemoryStore, PeerId, StorageKey};
/// let mut rng = rand::rng();
/// let mut business = Client::create(
///     MemoryStore::in_memory(StorageKey::generate(&mut rng)), 10, 10, &mut rng)?;
/// let mut customer = Client::create(
///     MemoryStore::in_memory(StorageKey::generate(&mut rng)), 0, 0, &mut rng)?;
/// let (to_business, to_customer) = (PeerId::new("airline").unwrap(), PeerId::new("alice").unwrap());
///
/// customer.start_session(&to_business, &business.bundle()?, &mut rng)?;
/// let wire = customer.encrypt(&to_business, b"Where is my bag?", b"")?;
/// assert_eq!(business.decrypt(&to_customer, &wire, b"")?, b"Where is my bag?");
///
/// // The business app restarts: nothing is lost.
/// let mut business = Client::open(business.into_store())?;
/// let reply = business.encrypt(&to_customer, b"On the next flight.", b"")?;
/// assert_eq!(customer.decrypt(&to_business, &reply, b"")?, b"On the next flight.");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Client<S> {
    store: S,
    identity: IdentityKeyPair,
    account: AccountId,
    peers: HashMap<PeerId, PeerEntry>,
    prekeys: Option<Versioned<PreKeyStore>>,
    state: Versioned<ClientState>,
    trust: Versioned<TrustStore>,
    guard: Option<Box<dyn RollbackGuard>>,
}

/// Why [`Client::update_trust`] failed. The trust state is unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustUpdateError<E> {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The change was refused (a stale revocation list, a bad status...).
    #[error("trust update refused: {0}")]
    Refused(E),
}

impl<S> core::fmt::Debug for Client<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("identity", &self.identity.public())
            .finish_non_exhaustive()
    }
}

fn is_conflict(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict { .. })
}

/// The error a variant-specific `From<StoreError>` makes of a conflict that
/// outlasted every retry.
macro_rules! retry {
    ($self:ident, $peer:expr, $body:expr) => {{
        let mut attempt = 0;
        loop {
            attempt += 1;
            match $body {
                Err(e) if attempt < MAX_COMMIT_ATTEMPTS && e.is_conflict() => {
                    $self.forget($peer)?;
                }
                other => break other,
            }
        }
    }};
}

trait Conflicted {
    fn is_conflict(&self) -> bool;
}
impl Conflicted for StoreError {
    fn is_conflict(&self) -> bool {
        is_conflict(self)
    }
}
impl Conflicted for StartError {
    fn is_conflict(&self) -> bool {
        matches!(self, Self::Store(e) if is_conflict(e))
    }
}
impl Conflicted for SendError {
    fn is_conflict(&self) -> bool {
        matches!(self, Self::Store(e) if is_conflict(e))
    }
}
impl Conflicted for ReceiveError {
    fn is_conflict(&self) -> bool {
        matches!(self, Self::Store(e) if is_conflict(e))
    }
}

impl<S: ClientStore> Client<S> {
    /// Creates a fresh identity and prekey store (with the given numbers of
    /// one-time X25519 and ML-KEM prekeys) and saves both in `store`, which
    /// must not hold an identity yet.
    pub fn create<R: CryptoRng + ?Sized>(
        store: S,
        one_time: usize,
        kem_one_time: usize,
        rng: &mut R,
    ) -> Result<Self, StoreError> {
        if store.local_identity()?.is_some() {
            return Err(StoreError::AlreadyInitialized);
        }
        let identity = IdentityKeyPair::generate(rng);
        let prekeys = PreKeyStore::new(&identity, one_time, kem_one_time, rng);
        Self::create_with(store, identity, prekeys)
    }

    /// Creates a client in an empty `store` from an existing identity and
    /// prekey store (a reinstall that kept its identity, or an import).
    pub fn create_with(
        mut store: S,
        identity: IdentityKeyPair,
        prekeys: PreKeyStore,
    ) -> Result<Self, StoreError> {
        if store.local_identity()?.is_some() {
            return Err(StoreError::AlreadyInitialized);
        }
        if prekeys.identity().public() != identity.public() {
            return Err(StoreError::Restore {
                what: "prekeys",
                error: crate::store::RestoreError::Inconsistent(
                    "the prekeys belong to another identity",
                ),
            });
        }
        store
            .commit(&StoreUpdate {
                local_identity: Some(&identity),
                prekeys: Some((&prekeys, 0)),
                ..StoreUpdate::default()
            })
            .map_err(|e| match e {
                StoreError::Conflict { .. } => StoreError::AlreadyInitialized,
                e => e,
            })?;
        let mut client = Self::new(store, identity)?;
        client.prekeys = Some(Versioned {
            value: prekeys,
            version: 1,
        });
        Ok(client)
    }

    /// Opens a client whose identity is in `store`.
    pub fn open(store: S) -> Result<Self, StoreError> {
        let identity = store.local_identity()?.ok_or(StoreError::NotInitialized)?;
        Self::new(store, identity)
    }

    fn new(store: S, identity: IdentityKeyPair) -> Result<Self, StoreError> {
        let state = store.load_client_state()?.unwrap_or(Versioned {
            value: ClientState::default(),
            version: 0,
        });
        let trust = store.load_trust_state()?.unwrap_or(Versioned {
            value: TrustStore::new(),
            version: 0,
        });
        Ok(Self {
            account: AccountId::of(&identity.public()),
            store,
            identity,
            peers: HashMap::new(),
            prekeys: None,
            state,
            trust,
            guard: None,
        })
    }

    /// Installs the application's anti-rollback counter: from now on every
    /// commit raises the store's generation and then the counter, and the
    /// client refuses to work from a store whose generation is below the
    /// counter ([`StoreError::RolledBack`]). Fails at once if the store is
    /// already behind it.
    ///
    /// Without a guard, a restored backup of the store makes the client
    /// reuse the message keys it used since the backup (SPEC.md, section
    /// 15.13 states this limit).
    pub fn with_rollback_guard(
        mut self,
        guard: Box<dyn RollbackGuard>,
    ) -> Result<Self, StoreError> {
        self.guard = Some(guard);
        self.check_rollback()?;
        Ok(self)
    }

    /// This party's public identity.
    pub fn identity(&self) -> IdentityKey {
        self.identity.public()
    }

    /// This party's relay account.
    pub fn account_id(&self) -> AccountId {
        self.account
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably. The client forgets every state it kept in memory,
    /// so whatever is changed through it is read back.
    pub fn store_mut(&mut self) -> &mut S {
        self.peers.clear();
        self.prekeys = None;
        &mut self.store
    }

    /// Gives the store back (to reopen it later).
    pub fn into_store(self) -> S {
        self.store
    }

    /// Drops what is kept in memory about `peer`, the prekeys and the
    /// state, and reloads the state (after losing a compare-and-swap).
    fn forget(&mut self, peer: Option<&PeerId>) -> Result<(), StoreError> {
        if let Some(peer) = peer {
            self.peers.remove(peer);
        }
        self.prekeys = None;
        self.reload_state()
    }

    fn reload_state(&mut self) -> Result<(), StoreError> {
        self.state = self.store.load_client_state()?.unwrap_or(Versioned {
            value: ClientState::default(),
            version: 0,
        });
        self.trust = self.store.load_trust_state()?.unwrap_or(Versioned {
            value: TrustStore::new(),
            version: 0,
        });
        Ok(())
    }

    /// The client's trust state: roots, the newest revocation lists and
    /// certificate statuses applied. It is stored with the client, so a
    /// restarted client refuses an older list or status than one it applied
    /// before (no rollback by a relay replaying old state).
    pub fn trust_store(&self) -> &TrustStore {
        &self.trust.value
    }

    /// Changes the trust state with `f` (add a root, apply a revocation
    /// list or a status) and commits it if `f` succeeds; on a refusal
    /// nothing is saved.
    ///
    /// ```
    /// use hotline::business::*;
    /// use hotline::store::{Client, MemoryStore, StorageKey};
    /// let mut rng = rand::rng();
    /// let always = Validity { not_before: 0, not_after: u64::MAX };
    /// let root = RootAuthority::generate(1, always, &mut rng);
    /// let mut client = Client::create(MemoryStore::in_memory(StorageKey::generate(&mut rng)), 0, 0, &mut rng)?;
    /// client.update_trust(|t| t.add_root(root.trust_root()))?;
    /// let client = Client::open(client.into_store())?;
    /// assert_eq!(client.trust_store().roots().count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn update_trust<T, E>(
        &mut self,
        mut f: impl FnMut(&mut TrustStore) -> Result<T, E>,
    ) -> Result<T, TrustUpdateError<E>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.check_rollback()?;
            let mut next = self.trust.value.clone();
            let out = f(&mut next).map_err(TrustUpdateError::Refused)?;
            match self.commit(StoreUpdate {
                trust_state: Some((&next, self.trust.version)),
                ..StoreUpdate::default()
            }) {
                Ok(()) => {
                    self.trust = Versioned {
                        value: next,
                        version: self.trust.version + 1,
                    };
                    return Ok(out);
                }
                Err(e) if is_conflict(&e) && attempt < MAX_COMMIT_ATTEMPTS => {
                    self.forget(None)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The badge of `peer` now: the verdict of the client's trust state at
    /// time `now` on the business its active session was verified as
    /// (revoked, expired, status too old, or verified until when), or
    /// `None` without a session. Never the verdict frozen at the handshake.
    pub fn badge(&mut self, peer: &PeerId, now: u64) -> Result<Option<Badge>, StoreError> {
        Ok(self.peer(peer)?.map(|p| self.trust.value.badge(&p, now)))
    }

    /// Checks and renders a notification that [`Client::open_envelope`]
    /// returned (SPEC.md 13.17): its plaintext must be a templated
    /// notification whose template the issuer of the sending business
    /// approved for that business, and the business's badge must be
    /// verified at `now`. An application shows a notification only through
    /// this, so that what a business sends unprompted is always an approved
    /// template.
    pub fn render_notification(
        &mut self,
        received: &Received,
        now: u64,
    ) -> Result<Result<RenderedNotification, TemplateError>, StoreError> {
        let notification = match TemplatedNotification::from_bytes(&received.plaintext) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        Ok(match self.badge(&received.peer, now)? {
            Some(badge) => notification.render_with_badge(&badge, now),
            None => Err(TemplateError::NotVerified),
        })
    }

    /// Applies a status stapled for `peer`'s certificate (to a bundle or a
    /// mailbox batch, SPEC.md 13.15) to the trust state and commits it, so
    /// that the badge of an open session stays fresh. `peer` must have a
    /// session with a verified business, and the status must be for that
    /// business's certificate, signed by its issuer.
    pub fn learn_status(
        &mut self,
        peer: &PeerId,
        status: &CertificateStatus,
        now: u64,
    ) -> Result<(), TrustUpdateError<StatusError>> {
        let Some(Peer::VerifiedBusiness(business)) = self.peer(peer)? else {
            return Err(TrustUpdateError::Refused(StatusError::WrongCertificate {
                issuer_id: status.issuer_id(),
                serial: status.serial(),
            }));
        };
        self.update_trust(|t| t.apply_stapled_status(&business, status, now))
    }

    /// Refuses to work from a store behind the guard's counter.
    fn check_rollback(&mut self) -> Result<(), StoreError> {
        let Some(guard) = &self.guard else {
            return Ok(());
        };
        let required = guard.current()?;
        if self.state.value.generation < required {
            // Another process may have moved on: read the newest state.
            self.reload_state()?;
            if self.state.value.generation < required {
                return Err(StoreError::RolledBack {
                    stored: self.state.value.generation,
                    guard: required,
                });
            }
        }
        Ok(())
    }

    /// Commits `update`, adding the next generation when a guard is set,
    /// then raises the guard's counter.
    fn commit(&mut self, update: StoreUpdate<'_>) -> Result<(), StoreError> {
        let next;
        let mut update = update;
        let guarded = self.guard.is_some() && update.client_state.is_none();
        if guarded {
            next = ClientState {
                generation: self.state.value.generation.saturating_add(1),
                ..self.state.value.clone()
            };
            update.client_state = Some((&next, self.state.version));
        }
        let new_state = update.client_state.map(|(s, v)| (s.clone(), v + 1));
        self.store.commit(&update)?;
        if let Some((value, version)) = new_state {
            self.state = Versioned { value, version };
            if let Some(guard) = self.guard.as_mut() {
                guard.advance(self.state.value.generation)?;
            }
        }
        Ok(())
    }

    /// Takes the peer's entry out of the cache (loading it if needed); it is
    /// put back only after a successful commit.
    fn take_peer(&mut self, peer: &PeerId) -> Result<PeerEntry, StoreError> {
        if let Some(entry) = self.peers.remove(peer) {
            return Ok(entry);
        }
        let sessions = self.store.load_sessions(peer)?;
        let trusted = self.store.trusted_identity(peer)?;
        Ok(PeerEntry {
            sessions_version: sessions.as_ref().map_or(0, |s| s.version),
            sessions: sessions.map(|s| s.value),
            trusted_version: trusted.as_ref().map_or(0, |t| t.version),
            trusted: trusted.map(|t| t.value),
        })
    }

    fn put_peer(&mut self, peer: &PeerId, entry: PeerEntry) {
        if self.peers.len() >= MAX_CACHED_PEERS
            && !self.peers.contains_key(peer)
            && let Some(victim) = self.peers.keys().next().cloned()
        {
            self.peers.remove(&victim);
        }
        self.peers.insert(peer.clone(), entry);
    }

    fn take_prekeys(&mut self) -> Result<Versioned<PreKeyStore>, StoreError> {
        match self.prekeys.take() {
            Some(p) => Ok(p),
            None => self.store.load_prekeys()?.ok_or(StoreError::NotInitialized),
        }
    }

    /// A bundle to publish (see [`PreKeyStore::bundle`]).
    pub fn bundle(&self) -> Result<PreKeyBundle, StoreError> {
        match &self.prekeys {
            Some(p) => Ok(p.value.bundle()),
            None => Ok(self
                .store
                .load_prekeys()?
                .ok_or(StoreError::NotInitialized)?
                .value
                .bundle()),
        }
    }

    /// Changes the prekey store (add one-time prekeys, rotate the signed
    /// prekey...) and saves it.
    ///
    /// ```
    /// # use hotline::store::{Client, MemoryStore, StorageKey};
    /// # let mut rng = rand::rng();
    /// # let mut client = Client::create(MemoryStore::in_memory(StorageKey::generate(&mut rng)), 0, 0, &mut rng)?;
    /// let uploaded = client.update_prekeys(|p| p.add_one_time_prekeys(5, &mut rand::rng()))?;
    /// assert_eq!(uploaded.len(), 5);
    /// # Ok::<(), hotline::store::StoreError>(())
    /// ```
    pub fn update_prekeys<T>(
        &mut self,
        mut f: impl FnMut(&mut PreKeyStore) -> T,
    ) -> Result<T, StoreError> {
        retry!(self, None, {
            self.check_rollback()?;
            let mut prekeys = self.take_prekeys()?;
            let out = f(&mut prekeys.value);
            self.commit(StoreUpdate {
                prekeys: Some((&prekeys.value, prekeys.version)),
                ..StoreUpdate::default()
            })
            .map(|()| {
                prekeys.version += 1;
                self.prekeys = Some(prekeys);
                out
            })
        })
    }

    /// The identity trusted for `peer`: the first one seen, or the one the
    /// application accepted last.
    pub fn trusted_identity(&self, peer: &PeerId) -> Result<Option<IdentityKey>, StoreError> {
        Ok(self.store.trusted_identity(peer)?.map(|t| t.value))
    }

    /// Accepts `identity` for `peer` (after the user verified it, for
    /// example following an `IdentityChanged` error).
    pub fn trust_identity(
        &mut self,
        peer: &PeerId,
        identity: &IdentityKey,
    ) -> Result<(), StoreError> {
        retry!(self, Some(peer), {
            self.check_rollback()?;
            let entry = self.take_peer(peer)?;
            let result = self.commit(StoreUpdate {
                trusted_identity: Some((peer, identity, entry.trusted_version)),
                ..StoreUpdate::default()
            });
            if result.is_ok() {
                self.put_peer(
                    peer,
                    PeerEntry {
                        trusted: Some(*identity),
                        trusted_version: entry.trusted_version + 1,
                        ..entry
                    },
                );
            }
            result
        })
    }

    /// The sessions with `peer`, as stored.
    pub fn sessions(&self, peer: &PeerId) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.store.load_sessions(peer)?.map(|s| s.value))
    }

    /// Who `peer` is, as the active session knows it (a verified business
    /// or an identity), if there is a session.
    pub fn peer(&mut self, peer: &PeerId) -> Result<Option<Peer>, StoreError> {
        let entry = self.take_peer(peer)?;
        let out = entry.sessions.as_ref().map(|r| r.active().peer().clone());
        self.put_peer(peer, entry);
        Ok(out)
    }

    /// Starts a new session with `peer` from its verified bundle; it becomes
    /// the active session. The bundle's identity must be the trusted one (or
    /// becomes trusted if there is none yet), and, for an account address,
    /// the account's own identity.
    pub fn start_session<R: CryptoRng + ?Sized>(
        &mut self,
        peer: &PeerId,
        bundle: &PreKeyBundle,
        rng: &mut R,
    ) -> Result<(), StartError> {
        self.start(peer, bundle, None, rng)
    }

    /// Starts a session with a verified business: `business` is the verdict
    /// of [`crate::business::TrustStore::verify_bundle`] on `bundle`. The
    /// session shows the badge ([`Client::peer`]) and binds the certificate
    /// chain into the handshake; a session the business starts later never
    /// replaces it silently ([`Notice::NewUnverifiedSession`]).
    pub fn start_verified_session<R: CryptoRng + ?Sized>(
        &mut self,
        peer: &PeerId,
        bundle: &PreKeyBundle,
        business: &VerifiedBusiness,
        rng: &mut R,
    ) -> Result<(), StartError> {
        if business.identity_key() != bundle.identity().signing_key() {
            return Err(StartError::NotThisBusiness);
        }
        self.start(peer, bundle, Some(business), rng)
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        peer: &PeerId,
        bundle: &PreKeyBundle,
        business: Option<&VerifiedBusiness>,
        rng: &mut R,
    ) -> Result<(), StartError> {
        let received = *bundle.identity();
        if let Some(expected) = peer.as_account() {
            let actual = AccountId::of(&received);
            if actual != expected {
                return Err(StartError::AccountMismatch { expected, actual });
            }
        }
        retry!(self, Some(peer), {
            self.check_rollback()?;
            // A fresh handshake per attempt: one that lost a race is dropped.
            let session = match business {
                Some(b) => Session::initiate_verified(&self.identity, bundle, b, rng)?,
                None => Session::initiate(&self.identity, bundle, rng)?,
            };
            let mut entry = self.take_peer(peer)?;
            if let Some(trusted) = entry.trusted
                && trusted != received
            {
                self.put_peer(peer, entry);
                break Err(StartError::IdentityChanged(IdentityChange::boxed(
                    trusted, received,
                )));
            }
            let record = match entry.sessions.take() {
                Some(mut r) => {
                    r.install_initiated(session);
                    r
                }
                None => SessionRecord::new(session),
            };
            let first = entry.trusted.is_none();
            let result = self.commit(StoreUpdate {
                trusted_identity: first.then_some((peer, &received, entry.trusted_version)),
                unchanged_identity: Some((peer, entry.trusted_version)),
                sessions: Some((peer, &record, entry.sessions_version)),
                ..StoreUpdate::default()
            });
            if result.is_ok() {
                if first {
                    entry.trusted = Some(received);
                    entry.trusted_version += 1;
                }
                entry.sessions = Some(record);
                entry.sessions_version += 1;
                self.put_peer(peer, entry);
            }
            result.map_err(StartError::from)
        })
    }

    /// Makes the newest session the peer started the active one, after a
    /// [`Notice::NewUnverifiedSession`] (the verified session stays as a
    /// previous one). Returns whether there was such a session.
    pub fn adopt_peer_session(&mut self, peer: &PeerId) -> Result<bool, StoreError> {
        retry!(self, Some(peer), {
            self.check_rollback()?;
            let mut entry = self.take_peer(peer)?;
            let Some(record) = entry.sessions.as_mut() else {
                self.put_peer(peer, entry);
                break Ok(false);
            };
            if !record.adopt_held_back() {
                self.put_peer(peer, entry);
                break Ok(false);
            }
            let result = self.commit(StoreUpdate {
                sessions: Some((peer, record, entry.sessions_version)),
                ..StoreUpdate::default()
            });
            if result.is_ok() {
                entry.sessions_version += 1;
                self.put_peer(peer, entry);
            }
            result.map(|()| true)
        })
    }

    /// Encrypts to `peer` on the active session, saving the advanced session
    /// before the ciphertext is returned (save before send).
    pub fn encrypt(
        &mut self,
        peer: &PeerId,
        plaintext: &[u8],
        associated_data: &[u8],
    ) -> Result<Vec<u8>, SendError> {
        retry!(self, Some(peer), {
            self.encrypt_once(peer, plaintext, associated_data)
        })
    }

    fn encrypt_once(
        &mut self,
        peer: &PeerId,
        plaintext: &[u8],
        associated_data: &[u8],
    ) -> Result<Vec<u8>, SendError> {
        self.check_rollback()?;
        let mut entry = self.take_peer(peer)?;
        let Some(record) = entry.sessions.as_mut() else {
            self.put_peer(peer, entry);
            return Err(SendError::NoSession);
        };
        if let Some(trusted) = entry.trusted
            && trusted != *record.active().peer_identity()
        {
            let received = *record.active().peer_identity();
            self.put_peer(peer, entry);
            return Err(SendError::IdentityChanged(IdentityChange::boxed(
                trusted, received,
            )));
        }
        // The entry is out of the cache: if anything below fails, the next
        // operation reloads the stored (unadvanced) state.
        let wire =
            record
                .active_mut()
                .encrypt_with_rng(plaintext, associated_data, &mut rand::rng())?;
        self.commit_sessions(peer, entry)?;
        Ok(wire)
    }

    /// Commits the entry's (advanced) sessions at the version they were read
    /// at, under the trust they were checked against, and puts the entry
    /// back in memory at the new version.
    fn commit_sessions(&mut self, peer: &PeerId, mut entry: PeerEntry) -> Result<(), StoreError> {
        if let Some(record) = entry.sessions.as_ref() {
            self.commit(StoreUpdate {
                sessions: Some((peer, record, entry.sessions_version)),
                unchanged_identity: Some((peer, entry.trusted_version)),
                ..StoreUpdate::default()
            })?;
            entry.sessions_version += 1;
        }
        self.put_peer(peer, entry);
        Ok(())
    }

    /// Decrypts a message from `peer`: an initial message of a new handshake
    /// starts a session (consuming its one-time prekeys), anything else is
    /// tried on the peer's sessions (active first). Everything changed is
    /// saved before the plaintext is returned; a failure saves nothing.
    /// [`Client::receive`] also returns the notices.
    pub fn decrypt(
        &mut self,
        peer: &PeerId,
        message: &[u8],
        associated_data: &[u8],
    ) -> Result<Vec<u8>, ReceiveError> {
        Ok(self.receive(peer, message, associated_data)?.plaintext)
    }

    /// [`Client::decrypt`], with what the application should be told.
    pub fn receive(
        &mut self,
        peer: &PeerId,
        message: &[u8],
        associated_data: &[u8],
    ) -> Result<Received, ReceiveError> {
        retry!(self, Some(peer), {
            self.receive_once(peer, message, associated_data, None)
        })
    }

    /// `franking`: the commitment the plaintext must open (an envelope's,
    /// SPEC.md 14.17), checked before anything is committed.
    fn receive_once(
        &mut self,
        peer: &PeerId,
        message: &[u8],
        associated_data: &[u8],
        franking: Option<&FrankingTag>,
    ) -> Result<Received, ReceiveError> {
        self.check_rollback()?;
        let kind = message_type(message).map_err(DecryptError::from)?;
        let bound = peer.as_account();
        if kind == MessageType::Initial
            && let Some(claimed) = bound
        {
            // Sender binding before any expensive work: the initial message
            // names the identity that made it.
            let (prefix, _, _) = InitialPrefix::decode(message)?;
            let actual = AccountId::of(&prefix.initiator);
            if actual != claimed {
                return Err(ReceiveError::SenderMismatch { claimed, actual });
            }
        }
        let mut entry = self.take_peer(peer)?;
        let stray = match (bound, entry.sessions.as_ref()) {
            (Some(claimed), Some(record)) => record
                .all()
                .map(|s| AccountId::of(s.peer_identity()))
                .find(|a| *a != claimed)
                .map(|actual| (claimed, actual)),
            _ => None,
        };
        if let Some((claimed, actual)) = stray {
            // A stored session under an account address that belongs to
            // another identity: never decrypt with it.
            self.put_peer(peer, entry);
            return Err(ReceiveError::SenderMismatch { claimed, actual });
        }
        if kind == MessageType::Initial
            && let Some(rec) = entry.sessions.as_mut()
            && let Some(result) = rec.decrypt_initial(message, associated_data)
        {
            let plaintext = match result {
                Ok((p, _)) => p,
                Err(e) => {
                    self.put_peer(peer, entry);
                    return Err(e.into());
                }
            };
            return self.finish_existing(peer, entry, plaintext, franking);
        }
        match kind {
            MessageType::Ratchet => {
                let Some(rec) = entry.sessions.as_mut() else {
                    self.put_peer(peer, entry);
                    return Err(ReceiveError::NoSession);
                };
                match rec.decrypt(message, associated_data) {
                    Ok((plaintext, _)) => self.finish_existing(peer, entry, plaintext, franking),
                    Err(e) => {
                        // A failed decrypt changes no session.
                        self.put_peer(peer, entry);
                        Err(e.into())
                    }
                }
            }
            MessageType::Initial => {
                self.accept_initial(peer, entry, message, associated_data, franking)
            }
        }
    }

    fn accept_initial(
        &mut self,
        peer: &PeerId,
        mut entry: PeerEntry,
        message: &[u8],
        associated_data: &[u8],
        franking: Option<&FrankingTag>,
    ) -> Result<Received, ReceiveError> {
        let mut prekeys = self.take_prekeys()?;
        let (session, plaintext) =
            match Session::respond(&mut prekeys.value, message, associated_data) {
                Ok(r) => r,
                Err(e) => {
                    // Respond is transactional: the prekeys are unchanged.
                    self.prekeys = Some(prekeys);
                    self.put_peer(peer, entry);
                    return Err(e.into());
                }
            };
        let received = *session.peer_identity();
        if let Some(trusted) = entry.trusted
            && trusted != received
        {
            self.put_peer(peer, entry);
            return Err(ReceiveError::IdentityChanged(IdentityChange::boxed(
                trusted, received,
            )));
        }
        if !opens(franking, &plaintext) {
            // The prekeys taken are dropped unsaved, like the session.
            self.put_peer(peer, entry);
            return Err(ReceiveError::BadFranking);
        }
        let mut notices = Vec::new();
        if prekeys.value.replay_set_nearly_full() {
            let mut rng = rand::rng();
            prekeys.value.rotate_signed_prekey(&mut rng);
            prekeys.value.rotate_last_resort_kem_prekey(&mut rng);
            notices.push(Notice::PreKeysRotated);
        }
        let record = match entry.sessions.take() {
            Some(mut r) => {
                if r.install_responded(session) == Installed::HeldBack {
                    notices.push(Notice::NewUnverifiedSession);
                }
                r
            }
            None => SessionRecord::new(session),
        };
        let first = entry.trusted.is_none();
        self.commit(StoreUpdate {
            prekeys: Some((&prekeys.value, prekeys.version)),
            trusted_identity: first.then_some((peer, &received, entry.trusted_version)),
            unchanged_identity: Some((peer, entry.trusted_version)),
            sessions: Some((peer, &record, entry.sessions_version)),
            ..StoreUpdate::default()
        })?;
        prekeys.version += 1;
        self.prekeys = Some(prekeys);
        if first {
            entry.trusted = Some(received);
            entry.trusted_version += 1;
        }
        entry.sessions = Some(record);
        entry.sessions_version += 1;
        self.put_peer(peer, entry);
        Ok(Received {
            peer: peer.clone(),
            plaintext,
            class: MessageClass::Chat,
            notices,
            franking_key: None,
        })
    }

    /// Commits a record after a message decrypted on one of its sessions,
    /// unless that session's peer is no longer the trusted identity.
    fn finish_existing(
        &mut self,
        peer: &PeerId,
        entry: PeerEntry,
        plaintext: Vec<u8>,
        franking: Option<&FrankingTag>,
    ) -> Result<Received, ReceiveError> {
        let Some(record) = entry.sessions.as_ref() else {
            return Err(ReceiveError::NoSession);
        };
        let received = *record.active().peer_identity();
        if let Some(trusted) = entry.trusted
            && trusted != received
        {
            // The entry holds the advanced session: drop it, uncommitted.
            return Err(ReceiveError::IdentityChanged(IdentityChange::boxed(
                trusted, received,
            )));
        }
        if !opens(franking, &plaintext) {
            // Likewise: the advanced session is dropped, uncommitted.
            return Err(ReceiveError::BadFranking);
        }
        self.commit_sessions(peer, entry)?;
        Ok(Received {
            peer: peer.clone(),
            plaintext,
            class: MessageClass::Chat,
            notices: Vec::new(),
            franking_key: None,
        })
    }

    // ---- The relay side: requests, envelopes, blocks ----

    /// Signs `request` for the relay with the next request counter, which is
    /// committed before the request is returned, so the counter survives
    /// restarts and two processes never sign with the same one.
    pub fn sign_request(
        &mut self,
        request: Request,
        now: u64,
    ) -> Result<SignedRequest, StoreError> {
        retry!(self, None, {
            self.check_rollback()?;
            let next = ClientState {
                relay_counter: self.state.value.relay_counter.saturating_add(1),
                generation: self.state.value.generation + u64::from(self.guard.is_some()),
                ..self.state.value.clone()
            };
            let counter = next.relay_counter;
            self.commit(StoreUpdate {
                client_state: Some((&next, self.state.version)),
                ..StoreUpdate::default()
            })
            .map(|()| SignedRequest::sign(&self.identity, counter, now, request.clone()))
        })
    }

    /// A consent record signed by this client's identity: `business` may
    /// send what `scope` allows, as of `time` (send it to the relay with
    /// [`Request::Consent`]).
    pub fn consent_record(
        &self,
        business: AccountId,
        scope: ConsentScope,
        time: u64,
    ) -> ConsentRecord {
        ConsentRecord::sign(&self.identity, business, scope, time)
    }

    /// A block (or unblock) record signed by this client's identity; pair a
    /// block with [`Client::block`], which enforces it locally too.
    pub fn block_record(&self, business: AccountId, blocked: bool, time: u64) -> BlockRecord {
        BlockRecord::sign(&self.identity, business, blocked, time)
    }

    /// A business's block (or unblock) of `customer`, signed by this
    /// client's identity as the business (SPEC.md 14.6): the relay then
    /// refuses that customer's messages to it. Pair a block with
    /// [`Client::block`], which drops anything already on its way.
    pub fn business_block_record(
        &self,
        customer: AccountId,
        blocked: bool,
        time: u64,
    ) -> BlockRecord {
        BlockRecord::sign_by_business(&self.identity, customer, blocked, time)
    }

    /// A spam report of `content`, a message this client opened from an
    /// envelope (its [`Received::franking_key`], with the delivery's header,
    /// time and stamp, make `message`), signed by this client's identity
    /// (SPEC.md 14.17). Send it with [`Request::Report`].
    pub fn spam_report(
        &self,
        message: &Reportable,
        content: &[u8],
        reason: ReportReason,
        time: u64,
    ) -> SpamReport {
        SpamReport::sign(&self.identity, message, content, reason, time)
    }

    /// The counter of the last signed relay request.
    pub fn relay_counter(&self) -> u64 {
        self.state.value.relay_counter
    }

    /// Encrypts `plaintext` to the relay account `peer` (an account address)
    /// and seals it in an envelope whose header (sender, recipient, id,
    /// class, time, franking commitment) is the associated data, so any
    /// change to it is detected. The message inside starts with a fresh
    /// franking key that opens the header's commitment to `plaintext`
    /// (SPEC.md 14.17), so `plaintext` may be at most
    /// [`MAX_REPORT_CONTENT_LEN`](crate::constants::MAX_REPORT_CONTENT_LEN)
    /// bytes. The session is committed before the envelope is returned.
    pub fn seal<R: CryptoRng + ?Sized>(
        &mut self,
        peer: &PeerId,
        class: MessageClass,
        sent_at: u64,
        plaintext: &[u8],
        rng: &mut R,
    ) -> Result<Envelope, SendError> {
        let recipient = peer.as_account().ok_or(SendError::NotAnAccount)?;
        if self.state.value.blocked_accounts.contains(&recipient) {
            return Err(SendError::Blocked);
        }
        if plaintext.len() > MAX_REPORT_CONTENT_LEN {
            return Err(EncryptError::PlaintextTooLong(plaintext.len()).into());
        }
        // The franking key goes inside, its commitment into the header
        // (SPEC.md 14.17): the recipient can report what it decrypts.
        let key = FrankingKey::random(rng);
        let header = EnvelopeHeader {
            sender: self.account,
            recipient,
            message_id: MessageId::random(rng),
            class,
            sent_at,
            franking: key.commit(plaintext),
        };
        let mut framed = Zeroizing::new(Vec::with_capacity(FRANKING_KEY_LEN + plaintext.len()));
        framed.extend_from_slice(&key.to_bytes());
        framed.extend_from_slice(plaintext);
        let ciphertext = self.encrypt(peer, &framed, &header.associated_data())?;
        Ok(Envelope { header, ciphertext })
    }

    /// Opens an envelope the relay delivered: it must be addressed to this
    /// account, its sender must not be blocked, and the message must have
    /// been made by the sender account's own identity (an initial message is
    /// checked before the handshake; a session under the sender's address is
    /// only ever one with that identity). A verified business blocked by its
    /// business id stays blocked under any identity. The content must open
    /// the header's franking commitment ([`ReceiveError::BadFranking`]
    /// otherwise, with nothing saved); the plaintext returned is the
    /// content, and [`Received::franking_key`] the key. The session change
    /// is committed before the plaintext is returned.
    pub fn open_envelope(&mut self, envelope: &Envelope) -> Result<Received, ReceiveError> {
        let header = &envelope.header;
        if header.recipient != self.account {
            return Err(ReceiveError::NotForMe);
        }
        if self.state.value.blocked_accounts.contains(&header.sender) {
            return Err(ReceiveError::Blocked);
        }
        let peer = PeerId::account(&header.sender);
        if let Some(Peer::VerifiedBusiness(b)) = self.peer(&peer)?
            && self
                .state
                .value
                .blocked_businesses
                .contains(&b.business_id())
        {
            return Err(ReceiveError::Blocked);
        }
        let ad = header.associated_data();
        let mut received = retry!(self, Some(&peer), {
            self.receive_once(&peer, &envelope.ciphertext, &ad, Some(&header.franking))
        })?;
        received.class = header.class;
        // `receive_once` checked that the key is there and opens the tag.
        if let Some((key, _)) = received.plaintext.split_first_chunk::<FRANKING_KEY_LEN>() {
            received.franking_key = Some(FrankingKey::from_bytes(*key));
        }
        let mut framed = core::mem::take(&mut received.plaintext);
        received.plaintext = framed.get(FRANKING_KEY_LEN..).unwrap_or_default().to_vec();
        framed.zeroize();
        Ok(received)
    }

    /// Blocks an account: its envelopes are dropped unread and nothing is
    /// sealed to it. If the account's active session is a verified business,
    /// its business id is blocked too, so the business stays blocked under
    /// another identity key. Pair it with a signed block record sent to the
    /// relay.
    pub fn block(&mut self, account: &AccountId) -> Result<(), StoreError> {
        let business = self.verified_business_id(account)?;
        self.change_state(|s| {
            // A block already held costs nothing: only a new entry can
            // overflow its list.
            let new_account = !s.blocked_accounts.contains(account);
            let new_business = business.is_some_and(|b| !s.blocked_businesses.contains(&b));
            if new_account && s.blocked_accounts.len() >= MAX_BLOCKED
                || new_business && s.blocked_businesses.len() >= MAX_BLOCKED
            {
                return Err(StoreError::Full { what: "block list" });
            }
            s.blocked_accounts.insert(*account);
            if let Some(b) = business {
                s.blocked_businesses.insert(b);
            }
            Ok(())
        })
    }

    /// Blocks a verified business by its certified id, whatever its key.
    pub fn block_business(&mut self, business: BusinessId) -> Result<(), StoreError> {
        self.change_state(|s| {
            if !s.blocked_businesses.contains(&business)
                && s.blocked_businesses.len() >= MAX_BLOCKED
            {
                return Err(StoreError::Full { what: "block list" });
            }
            s.blocked_businesses.insert(business);
            Ok(())
        })
    }

    /// Unblocks an account (and the business id its verified session has).
    pub fn unblock(&mut self, account: &AccountId) -> Result<(), StoreError> {
        let business = self.verified_business_id(account)?;
        self.change_state(|s| {
            s.blocked_accounts.remove(account);
            if let Some(b) = business {
                s.blocked_businesses.remove(&b);
            }
            Ok(())
        })
    }

    /// The certified business id of `account`'s active session, if it is a
    /// verified business session.
    fn verified_business_id(
        &mut self,
        account: &AccountId,
    ) -> Result<Option<BusinessId>, StoreError> {
        Ok(match self.peer(&PeerId::account(account))? {
            Some(Peer::VerifiedBusiness(b)) => Some(b.business_id()),
            _ => None,
        })
    }

    /// Whether `account` is blocked.
    pub fn is_blocked(&self, account: &AccountId) -> bool {
        self.state.value.blocked_accounts.contains(account)
    }

    fn change_state(
        &mut self,
        mut f: impl FnMut(&mut ClientState) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        retry!(self, None, {
            self.check_rollback()?;
            let mut next = self.state.value.clone();
            f(&mut next)?;
            if self.guard.is_some() {
                next.generation = next.generation.saturating_add(1);
            }
            self.commit(StoreUpdate {
                client_state: Some((&next, self.state.version)),
                ..StoreUpdate::default()
            })
        })
    }
}

/// Whether `plaintext` (an envelope's message) opens `franking`: it starts
/// with a franking key whose commitment to the rest is the tag (SPEC.md
/// 14.17). Without a tag to check (a message outside an envelope), true.
fn opens(franking: Option<&FrankingTag>, plaintext: &[u8]) -> bool {
    let Some(tag) = franking else {
        return true;
    };
    let Some((key, content)) = plaintext.split_first_chunk::<FRANKING_KEY_LEN>() else {
        return false;
    };
    FrankingKey::from_bytes(*key).opens(tag, content)
}

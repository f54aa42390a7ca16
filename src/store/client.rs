//! The high-level client: encrypt to a peer and decrypt from a peer, with
//! every state change loaded from and saved to a [`ClientStore`].
//!
//! Durability rules (SPEC.md, section 15.11):
//! - **Save before send.** [`Client::encrypt`] commits the advanced session
//!   before it returns the ciphertext. A crash before the commit loses a
//!   ciphertext that was never returned; a crash after it loses a message
//!   that was never sent. Neither can make a message key, chain step or
//!   ratchet key be used twice.
//! - **Consume before reading.** [`Client::decrypt`] commits the consumed
//!   one-time prekeys, the new or advanced session and any newly trusted
//!   identity (atomically, with the SQLite store) before it returns the
//!   plaintext. A message whose plaintext was lost in a crash after the
//!   commit cannot be decrypted again: its key is gone, as it must be.
//! - **Failure saves nothing.** Every failed operation leaves the store as
//!   it was.

use rand_core::CryptoRng;

use crate::error::{DecryptError, EncryptError, HandshakeError};
use crate::keys::{IdentityKey, IdentityKeyPair, PreKeyBundle, PreKeyStore};
use crate::session::{MessageType, Session, message_type};
use crate::store::sessions::SessionRecord;
use crate::store::traits::{ClientStore, PeerId, StoreError, StoreUpdate};

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
    /// The handshake failed.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
}

/// Why [`Client::encrypt`] failed. Nothing was saved or sent.
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
    /// Encryption failed.
    #[error(transparent)]
    Encrypt(#[from] EncryptError),
}

/// Why [`Client::decrypt`] failed. Nothing was saved: no prekey consumed,
/// no session changed.
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
    /// The initial message's handshake failed.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// The message did not decrypt under any session with this peer.
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
}

/// A party's end of every conversation, kept in a [`ClientStore`].
///
/// Every operation loads what it needs from the store and commits what it
/// changed before returning, so a client can be dropped (or the process
/// killed) between any two operations and reopened with [`Client::open`].
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
}

impl<S> core::fmt::Debug for Client<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("identity", &self.identity.public())
            .finish_non_exhaustive()
    }
}

impl<S: ClientStore> Client<S> {
    /// Creates a fresh identity and prekey store (with the given numbers of
    /// one-time X25519 and ML-KEM prekeys) and saves both in `store`, which
    /// must not hold an identity yet.
    pub fn create<R: CryptoRng + ?Sized>(
        mut store: S,
        one_time: usize,
        kem_one_time: usize,
        rng: &mut R,
    ) -> Result<Self, StoreError> {
        if store.local_identity()?.is_some() {
            return Err(StoreError::AlreadyInitialized);
        }
        let identity = IdentityKeyPair::generate(rng);
        let prekeys = PreKeyStore::new(&identity, one_time, kem_one_time, rng);
        store.commit(&StoreUpdate {
            local_identity: Some(&identity),
            prekeys: Some(&prekeys),
            ..StoreUpdate::default()
        })?;
        Ok(Self { store, identity })
    }

    /// Opens a client whose identity is in `store`.
    pub fn open(store: S) -> Result<Self, StoreError> {
        let identity = store.local_identity()?.ok_or(StoreError::NotInitialized)?;
        Ok(Self { store, identity })
    }

    /// This party's public identity.
    pub fn identity(&self) -> IdentityKey {
        self.identity.public()
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Gives the store back (to reopen it later).
    pub fn into_store(self) -> S {
        self.store
    }

    fn prekeys(&self) -> Result<PreKeyStore, StoreError> {
        self.store.load_prekeys()?.ok_or(StoreError::NotInitialized)
    }

    /// A bundle to publish (see [`PreKeyStore::bundle`]).
    pub fn bundle(&self) -> Result<PreKeyBundle, StoreError> {
        Ok(self.prekeys()?.bundle())
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
        f: impl FnOnce(&mut PreKeyStore) -> T,
    ) -> Result<T, StoreError> {
        let mut prekeys = self.prekeys()?;
        let out = f(&mut prekeys);
        self.store.commit(&StoreUpdate {
            prekeys: Some(&prekeys),
            ..StoreUpdate::default()
        })?;
        Ok(out)
    }

    /// The identity trusted for `peer`: the first one seen, or the one the
    /// application accepted last.
    pub fn trusted_identity(&self, peer: &PeerId) -> Result<Option<IdentityKey>, StoreError> {
        self.store.trusted_identity(peer)
    }

    /// Accepts `identity` for `peer` (after the user verified it, for
    /// example following an `IdentityChanged` error).
    pub fn trust_identity(
        &mut self,
        peer: &PeerId,
        identity: &IdentityKey,
    ) -> Result<(), StoreError> {
        self.store.commit(&StoreUpdate {
            trusted_identity: Some((peer, identity)),
            ..StoreUpdate::default()
        })
    }

    /// The sessions with `peer`.
    pub fn sessions(&self, peer: &PeerId) -> Result<Option<SessionRecord>, StoreError> {
        self.store.load_sessions(peer)
    }

    /// Starts a new session with `peer` from its verified bundle; it becomes
    /// the active session. The bundle's identity must be the trusted one (or
    /// becomes trusted if there is none yet).
    pub fn start_session<R: CryptoRng + ?Sized>(
        &mut self,
        peer: &PeerId,
        bundle: &PreKeyBundle,
        rng: &mut R,
    ) -> Result<(), StartError> {
        let received = *bundle.identity();
        let trusted = self.store.trusted_identity(peer)?;
        if let Some(trusted) = trusted
            && trusted != received
        {
            return Err(StartError::IdentityChanged(IdentityChange::boxed(
                trusted, received,
            )));
        }
        let session = Session::initiate(&self.identity, bundle, rng)?;
        let record = match self.store.load_sessions(peer)? {
            Some(mut r) => {
                r.install_initiated(session);
                r
            }
            None => SessionRecord::new(session),
        };
        self.store.commit(&StoreUpdate {
            trusted_identity: trusted.is_none().then_some((peer, &received)),
            sessions: Some((peer, &record)),
            ..StoreUpdate::default()
        })?;
        Ok(())
    }

    /// Encrypts to `peer` on the active session, saving the advanced session
    /// before the ciphertext is returned (save before send).
    pub fn encrypt(
        &mut self,
        peer: &PeerId,
        plaintext: &[u8],
        associated_data: &[u8],
    ) -> Result<Vec<u8>, SendError> {
        let mut record = self
            .store
            .load_sessions(peer)?
            .ok_or(SendError::NoSession)?;
        if let Some(trusted) = self.store.trusted_identity(peer)?
            && trusted != *record.active().peer_identity()
        {
            return Err(SendError::IdentityChanged(IdentityChange::boxed(
                trusted,
                *record.active().peer_identity(),
            )));
        }
        let wire =
            record
                .active_mut()
                .encrypt_with_rng(plaintext, associated_data, &mut rand::rng())?;
        self.store.commit(&StoreUpdate {
            sessions: Some((peer, &record)),
            ..StoreUpdate::default()
        })?;
        Ok(wire)
    }

    /// Decrypts a message from `peer`: an initial message of a new handshake
    /// starts a session (consuming its one-time prekeys), anything else is
    /// tried on the peer's sessions (active first). Everything changed is
    /// saved before the plaintext is returned; a failure saves nothing.
    pub fn decrypt(
        &mut self,
        peer: &PeerId,
        message: &[u8],
        associated_data: &[u8],
    ) -> Result<Vec<u8>, ReceiveError> {
        let kind = message_type(message).map_err(DecryptError::from)?;
        let mut record = self.store.load_sessions(peer)?;
        let trusted = self.store.trusted_identity(peer)?;
        if kind == MessageType::Initial
            && let Some(rec) = record.as_mut()
            && let Some(result) = rec.decrypt_initial(message, associated_data)
        {
            let (plaintext, _) = result?;
            return self.finish_existing(peer, rec, trusted, plaintext);
        }
        match kind {
            MessageType::Ratchet => {
                let mut rec = record.ok_or(ReceiveError::NoSession)?;
                let (plaintext, _) = rec.decrypt(message, associated_data)?;
                self.finish_existing(peer, &rec, trusted, plaintext)
            }
            MessageType::Initial => {
                let mut prekeys = self.prekeys()?;
                let (session, plaintext) =
                    Session::respond(&mut prekeys, message, associated_data)?;
                let received = *session.peer_identity();
                if let Some(trusted) = trusted
                    && trusted != received
                {
                    return Err(ReceiveError::IdentityChanged(IdentityChange::boxed(
                        trusted, received,
                    )));
                }
                let record = match record {
                    Some(mut r) => {
                        r.install_responded(session);
                        r
                    }
                    None => SessionRecord::new(session),
                };
                self.store.commit(&StoreUpdate {
                    prekeys: Some(&prekeys),
                    trusted_identity: trusted.is_none().then_some((peer, &received)),
                    sessions: Some((peer, &record)),
                    ..StoreUpdate::default()
                })?;
                Ok(plaintext)
            }
        }
    }

    /// Commits a record after a message decrypted on one of its sessions,
    /// unless that session's peer is no longer the trusted identity.
    fn finish_existing(
        &mut self,
        peer: &PeerId,
        record: &SessionRecord,
        trusted: Option<IdentityKey>,
        plaintext: Vec<u8>,
    ) -> Result<Vec<u8>, ReceiveError> {
        let received = *record.active().peer_identity();
        if let Some(trusted) = trusted
            && trusted != received
        {
            return Err(ReceiveError::IdentityChanged(IdentityChange::boxed(
                trusted, received,
            )));
        }
        self.store.commit(&StoreUpdate {
            sessions: Some((peer, record)),
            ..StoreUpdate::default()
        })?;
        Ok(plaintext)
    }
}

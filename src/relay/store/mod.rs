//! The relay's storage: a trait, an in-memory implementation and (behind the
//! `sqlite` feature) a durable one.
//!
//! Each method is atomic on its own: it either happens completely or not at
//! all, and concurrent calls behave as if made one after another. A durable
//! store returns from a method only once its effect is on disk, so a crash
//! after `enqueue` returned `Stored` never loses that envelope.

mod memory;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use memory::MemoryStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

use crate::keys::{IdentityKey, KemPreKeyPublic, OneTimePreKeyPublic, SignedPreKeyPublic};
use crate::relay::auth::{AccountId, AccountKind};
use crate::relay::envelope::MessageId;
use crate::relay::error::PreKeySlot;
use crate::relay::policy::{BlockRecord, ConsentRecord, PairState};
use crate::relay::protocol::{Delivery, PreKeyUpload};

/// A registered account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// Customer or business.
    pub kind: AccountKind,
    /// The verified identity.
    pub identity: IdentityKey,
    /// The certificate chain a business registered with (empty for a customer).
    pub certificate_chain: Vec<u8>,
    /// The verified business name (empty for a customer).
    pub name: String,
}

impl AccountRecord {
    /// The account's id.
    pub fn id(&self) -> AccountId {
        AccountId::of(&self.identity)
    }
}

/// What [`RelayStore::add_prekeys`] did with an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadOutcome {
    /// Every prekey of the upload is stored.
    Stored,
    /// Nothing changed: a one-time kind would exceed the per-account limit.
    TooMany,
    /// Nothing changed: a one-time prekey's id is at or below the highest id
    /// of its kind already handed out.
    SpentId {
        /// Which kind of prekey.
        slot: PreKeySlot,
        /// Its id.
        id: u32,
        /// The highest id of that kind already handed out.
        spent: u32,
    },
}

impl UploadOutcome {
    /// The first one-time prekey of `upload` whose id is at or below its
    /// kind's handed-out mark (`None` = nothing handed out yet), if any.
    /// Shared by the stores so that they refuse exactly the same uploads.
    pub fn check_spent(
        upload: &PreKeyUpload,
        spent_one_time: Option<u32>,
        spent_kem: Option<u32>,
    ) -> Option<Self> {
        let one_time = upload
            .one_time_prekeys
            .iter()
            .map(|k| (PreKeySlot::OneTime, k.id));
        let kem = upload.kem_prekeys.iter().map(|k| (PreKeySlot::Kem, k.id));
        one_time.chain(kem).find_map(|(slot, id)| {
            let mark = match slot {
                PreKeySlot::OneTime => spent_one_time,
                _ => spent_kem,
            }?;
            (id <= mark).then_some(Self::SpentId {
                slot,
                id,
                spent: mark,
            })
        })
    }
}

/// The parts of a bundle taken from the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleParts {
    /// The current signed prekey.
    pub signed_prekey: SignedPreKeyPublic,
    /// A one-time X25519 prekey, now removed from the directory.
    pub one_time_prekey: Option<OneTimePreKeyPublic>,
    /// A one-time ML-KEM prekey (now removed) or the last-resort one.
    pub kem_prekey: KemPreKeyPublic,
}

/// An envelope as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEnvelope {
    /// Whose mailbox.
    pub recipient: AccountId,
    /// Who sent it (part of the duplicate key).
    pub sender: AccountId,
    /// The sender's message id (part of the duplicate key).
    pub message_id: MessageId,
    /// When the relay accepted it.
    pub received_at: u64,
    /// The envelope's encoding.
    pub bytes: Vec<u8>,
}

/// What accepting an envelope also changes, in the same atomic step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendEffects {
    /// Count one notification for this business.
    pub meter_notification: Option<AccountId>,
    /// Open the 24-hour window of this (customer, business) pair at the
    /// envelope's receipt time.
    pub open_window: Option<(AccountId, AccountId)>,
}

/// The mailbox limits a store enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxLimits {
    /// Largest number of waiting envelopes per recipient.
    pub max_envelopes: usize,
    /// Largest total size of waiting envelopes per recipient.
    pub max_bytes: usize,
    /// Largest number of waiting envelopes per recipient from one sender.
    pub max_envelopes_per_sender: usize,
    /// Largest total size of waiting envelopes per recipient from one sender.
    pub max_bytes_per_sender: usize,
    /// Seconds after which an unacknowledged envelope is deleted.
    pub ttl_secs: u64,
    /// Message ids remembered per recipient after acknowledgement.
    pub remembered_ids: usize,
}

impl Default for MailboxLimits {
    fn default() -> Self {
        use crate::constants::*;
        Self {
            max_envelopes: MAX_MAILBOX_ENVELOPES,
            max_bytes: MAX_MAILBOX_BYTES,
            max_envelopes_per_sender: MAX_MAILBOX_ENVELOPES_PER_SENDER,
            max_bytes_per_sender: MAX_MAILBOX_BYTES_PER_SENDER,
            ttl_secs: ENVELOPE_TTL_SECS,
            remembered_ids: MAX_REMEMBERED_MESSAGE_IDS,
        }
    }
}

/// The outcome of [`RelayStore::enqueue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnqueueOutcome {
    /// Stored (durably, for a durable store) under this delivery id; the
    /// effects were applied.
    Stored(u64),
    /// An envelope with the same recipient, sender and message id was
    /// already accepted; nothing changed.
    Duplicate,
    /// The mailbox is full; nothing changed.
    Full,
    /// The sender's share of the mailbox is full (its envelopes waiting
    /// there reach [`MailboxLimits::max_envelopes_per_sender`] or would
    /// exceed [`MailboxLimits::max_bytes_per_sender`]); nothing changed.
    SenderQuotaExceeded,
}

impl EnqueueOutcome {
    /// The refusal, if any, for a new envelope of `len` bytes given what
    /// waits in the mailbox (in all, and from its sender). Shared by the
    /// stores so that they refuse exactly the same sends; the sender's own
    /// share is checked first, as the more precise answer.
    pub fn check_limits(
        limits: &MailboxLimits,
        len: usize,
        (count, bytes): (usize, usize),
        (sender_count, sender_bytes): (usize, usize),
    ) -> Option<Self> {
        if sender_count >= limits.max_envelopes_per_sender
            || sender_bytes.saturating_add(len) > limits.max_bytes_per_sender
        {
            return Some(Self::SenderQuotaExceeded);
        }
        if count >= limits.max_envelopes || bytes.saturating_add(len) > limits.max_bytes {
            return Some(Self::Full);
        }
        None
    }
}

/// A store failure (I/O, corruption). The operation did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The storage backend failed.
    #[error("storage backend: {0}")]
    Backend(String),
    /// Stored bytes did not decode: the database was altered or corrupted.
    #[error("corrupt stored {0}")]
    Corrupt(&'static str),
}

/// Whether stored envelope bytes carry a notification (the class byte of
/// their header). Bytes that do not decode count as not billed.
pub(crate) fn is_notification(bytes: &[u8]) -> bool {
    crate::relay::Envelope::from_bytes(bytes)
        .is_ok_and(|e| e.header.class == crate::relay::MessageClass::Notification)
}

/// The relay's state. Every method is atomic (see the module docs).
pub trait RelayStore: Send + Sync {
    /// Creates an account with its first request counter. Returns false (and
    /// changes nothing) if the account exists or its id was erased
    /// ([`delete_account`](Self::delete_account)).
    fn register(&self, account: &AccountRecord, counter: u64) -> Result<bool, StoreError>;
    /// Replaces a business account's certificate chain and name (a renewal
    /// for the same identity key). Returns false if `id` is not a business
    /// account.
    fn renew_business(&self, id: &AccountId, chain: &[u8], name: &str) -> Result<bool, StoreError>;
    /// Every business account (for the relay's look-alike check at
    /// registration).
    fn businesses(&self) -> Result<Vec<AccountRecord>, StoreError>;
    /// Keeps `status` (an encoded certificate status the relay checked) as
    /// the business's stapled status if no status is kept for it or the
    /// kept one has an older `this_update`. Returns whether it was kept.
    /// A renewal ([`renew_business`](Self::renew_business)) drops it.
    fn put_status(
        &self,
        id: &AccountId,
        this_update: u64,
        status: &[u8],
    ) -> Result<bool, StoreError>;
    /// The business's stapled status, as kept by
    /// [`put_status`](Self::put_status).
    fn status(&self, id: &AccountId) -> Result<Option<Vec<u8>>, StoreError>;
    /// Looks an account up.
    fn account(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError>;
    /// Accepts `counter` if it is above the account's last accepted counter
    /// (and records it); otherwise returns the last one.
    fn advance_counter(&self, id: &AccountId, counter: u64) -> Result<Result<(), u64>, StoreError>;

    /// Adds verified prekeys, atomically: nothing changes unless the outcome
    /// is [`UploadOutcome::Stored`]. Refuses if either one-time kind would
    /// exceed `max_per_kind`, or if a one-time prekey's id is at or below the
    /// highest id of its kind ever handed out by
    /// [`take_bundle_parts`](Self::take_bundle_parts) (that mark is what
    /// keeps a prekey from being handed out twice, SPEC.md 14.8).
    fn add_prekeys(
        &self,
        id: &AccountId,
        upload: &PreKeyUpload,
        max_per_kind: usize,
    ) -> Result<UploadOutcome, StoreError>;
    /// Takes the parts of one bundle, removing the one-time prekeys handed
    /// out and raising the account's handed-out mark of each kind to their
    /// ids, in one atomic step. With `one_time` false, hands out no one-time
    /// prekey (the last-resort KEM prekey instead) and changes nothing: the
    /// owner's one-time prekeys are being withheld (SPEC.md 14.11). `None`
    /// if there is no signed or no last-resort prekey.
    fn take_bundle_parts(
        &self,
        id: &AccountId,
        one_time: bool,
    ) -> Result<Option<BundleParts>, StoreError>;
    /// Counts of unused one-time prekeys: (X25519, ML-KEM).
    fn prekey_counts(&self, id: &AccountId) -> Result<(usize, usize), StoreError>;

    /// Stores an envelope (unless duplicate or full) and applies `effects`
    /// in the same atomic step. Expired envelopes of the recipient are
    /// deleted first.
    fn enqueue(
        &self,
        envelope: &StoredEnvelope,
        effects: SendEffects,
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<EnqueueOutcome, StoreError>;
    /// Whether an envelope with this sender and message id is waiting for
    /// `recipient` or was delivered recently enough to be remembered
    /// (after expiring what is due): a retry, answered "duplicate" before
    /// any rule is checked (SPEC.md 14.5).
    fn is_stored(
        &self,
        recipient: &AccountId,
        sender: &AccountId,
        message_id: &MessageId,
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<bool, StoreError>;
    /// Up to `max` unexpired envelopes for `recipient`, oldest first, and
    /// whether more are waiting. Nothing is deleted.
    fn fetch(
        &self,
        recipient: &AccountId,
        max: usize,
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<(Vec<Delivery>, bool), StoreError>;
    /// Deletes the given deliveries of `recipient`, remembering their message
    /// ids against retries. Returns how many were deleted.
    fn acknowledge(
        &self,
        recipient: &AccountId,
        ids: &[u64],
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<usize, StoreError>;
    /// Deletes every expired envelope and remembered id, every window
    /// timestamp of no more use ([`window_expired`]), and the consent records
    /// of accounts erased longer ago than the retention period
    /// ([`CONSENT_RETENTION_SECS`](crate::constants::CONSENT_RETENTION_SECS));
    /// returns how many envelopes were deleted.
    fn expire(&self, limits: &MailboxLimits, now: u64) -> Result<usize, StoreError>;

    /// The rule state of a pair.
    fn pair(&self, customer: &AccountId, business: &AccountId) -> Result<PairState, StoreError>;
    /// Stores a consent record, ordered at `effective` (its time, or the
    /// relay's if that is earlier: SPEC.md 14.6), if it comes after the
    /// pair's last one in the order of [`ConsentRecord::supersedes`];
    /// `Ok(false)` (nothing changed) otherwise. A record that wins a tie
    /// of effective times replaces the one it beat in the history. Keeps
    /// at most `history` records per pair, dropping the oldest.
    fn put_consent(
        &self,
        record: &ConsentRecord,
        effective: u64,
        history: usize,
    ) -> Result<bool, StoreError>;
    /// Stores a block record, ordered at `effective`, if it comes after the
    /// pair's last one in the order of [`BlockRecord::supersedes`]. A block
    /// that is stored also deletes, atomically with it, the business's
    /// undelivered envelopes to the customer and takes the notifications
    /// among them off the business's count.
    fn put_block(&self, record: &BlockRecord, effective: u64) -> Result<bool, StoreError>;
    /// The consent records kept for a pair, oldest first.
    fn consent_history(
        &self,
        customer: &AccountId,
        business: &AccountId,
    ) -> Result<Vec<ConsentRecord>, StoreError>;
    /// Notifications accepted from each business, for billing.
    fn notification_counts(&self) -> Result<Vec<(AccountId, u64)>, StoreError>;
    /// Every byte the store holds for accounts, prekeys, envelopes and
    /// records, concatenated: for audits such as the ciphertext-only test.
    fn dump(&self) -> Result<Vec<u8>, StoreError>;
    /// Erases the customer account `id` at `now` (SPEC.md 14.15), in one
    /// atomic step: the account record, its prekeys and handed-out marks,
    /// its mailbox and remembered ids, and every window, block and business
    /// block of its pairs are deleted, and the id is kept as erased at
    /// `now` so that it is never registered again. Its consent records stay
    /// until [`expire`](Self::expire) finds the retention period over.
    /// Envelopes it sent that wait in other mailboxes stay (they are their
    /// recipients'). Returns false (and changes nothing) if `id` is not a
    /// customer account. An [`enqueue`](Self::enqueue) to or from an erased
    /// id, and an [`add_prekeys`](Self::add_prekeys) for one, fail with
    /// [`StoreError::Backend`] and change nothing (the relay checked the
    /// account before the erasure won the race; a retry is refused as
    /// unknown).
    ///
    /// The default, for stores written before erasure existed, erases
    /// nothing and fails with [`StoreError::Backend`]: the relay answers
    /// "unavailable" rather than pretend the account is gone.
    fn delete_account(&self, id: &AccountId, now: u64) -> Result<bool, StoreError> {
        let _ = (id, now);
        Err(StoreError::Backend(
            "this store does not implement account erasure".into(),
        ))
    }
    /// When the account `id` was erased, if it was. The default (a store
    /// that never erases) is never.
    fn deleted_at(&self, id: &AccountId) -> Result<Option<u64>, StoreError> {
        let _ = id;
        Ok(None)
    }
}

/// The failure of an [`RelayStore::enqueue`] whose sender or recipient, or
/// an [`RelayStore::add_prekeys`] whose owner, was erased after the relay
/// checked them: the relay answers "unavailable", and a retry is refused as
/// from or to an unknown account.
pub(crate) const ERASED_DURING_SEND: &str = "an account of the request was erased during it";

/// Whether a window opened at `last` is of no use at `now` and may be
/// dropped (SPEC.md 14.15): the window closed, and a later customer
/// message opens a new one from scratch.
pub fn window_expired(last: u64, now: u64) -> bool {
    now.saturating_sub(last) > crate::constants::CHAT_WINDOW_SECS
}

/// Whether the consent evidence of an account erased at `erased_at` is past
/// its retention at `now` (SPEC.md 14.15).
pub fn retention_over(erased_at: u64, now: u64) -> bool {
    now.saturating_sub(erased_at) >= crate::constants::CONSENT_RETENTION_SECS
}

/// A boxed store is a store, so a relay can pick its backend at run time.
impl<S: RelayStore + ?Sized> RelayStore for Box<S> {
    fn register(&self, a: &AccountRecord, c: u64) -> Result<bool, StoreError> {
        (**self).register(a, c)
    }
    fn renew_business(&self, id: &AccountId, c: &[u8], n: &str) -> Result<bool, StoreError> {
        (**self).renew_business(id, c, n)
    }
    fn businesses(&self) -> Result<Vec<AccountRecord>, StoreError> {
        (**self).businesses()
    }
    fn put_status(&self, id: &AccountId, t: u64, s: &[u8]) -> Result<bool, StoreError> {
        (**self).put_status(id, t, s)
    }
    fn status(&self, id: &AccountId) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).status(id)
    }
    fn account(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        (**self).account(id)
    }
    fn advance_counter(&self, id: &AccountId, c: u64) -> Result<Result<(), u64>, StoreError> {
        (**self).advance_counter(id, c)
    }
    fn add_prekeys(
        &self,
        id: &AccountId,
        u: &PreKeyUpload,
        m: usize,
    ) -> Result<UploadOutcome, StoreError> {
        (**self).add_prekeys(id, u, m)
    }
    fn take_bundle_parts(
        &self,
        id: &AccountId,
        one_time: bool,
    ) -> Result<Option<BundleParts>, StoreError> {
        (**self).take_bundle_parts(id, one_time)
    }
    fn prekey_counts(&self, id: &AccountId) -> Result<(usize, usize), StoreError> {
        (**self).prekey_counts(id)
    }
    fn is_stored(
        &self,
        r: &AccountId,
        s: &AccountId,
        m: &MessageId,
        l: &MailboxLimits,
        now: u64,
    ) -> Result<bool, StoreError> {
        (**self).is_stored(r, s, m, l, now)
    }
    fn enqueue(
        &self,
        e: &StoredEnvelope,
        f: SendEffects,
        l: &MailboxLimits,
        now: u64,
    ) -> Result<EnqueueOutcome, StoreError> {
        (**self).enqueue(e, f, l, now)
    }
    fn fetch(
        &self,
        r: &AccountId,
        max: usize,
        l: &MailboxLimits,
        now: u64,
    ) -> Result<(Vec<Delivery>, bool), StoreError> {
        (**self).fetch(r, max, l, now)
    }
    fn acknowledge(
        &self,
        r: &AccountId,
        ids: &[u64],
        l: &MailboxLimits,
        now: u64,
    ) -> Result<usize, StoreError> {
        (**self).acknowledge(r, ids, l, now)
    }
    fn expire(&self, l: &MailboxLimits, now: u64) -> Result<usize, StoreError> {
        (**self).expire(l, now)
    }
    fn pair(&self, c: &AccountId, b: &AccountId) -> Result<PairState, StoreError> {
        (**self).pair(c, b)
    }
    fn put_consent(&self, r: &ConsentRecord, e: u64, h: usize) -> Result<bool, StoreError> {
        (**self).put_consent(r, e, h)
    }
    fn put_block(&self, r: &BlockRecord, e: u64) -> Result<bool, StoreError> {
        (**self).put_block(r, e)
    }
    fn consent_history(
        &self,
        c: &AccountId,
        b: &AccountId,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        (**self).consent_history(c, b)
    }
    fn notification_counts(&self) -> Result<Vec<(AccountId, u64)>, StoreError> {
        (**self).notification_counts()
    }
    fn dump(&self) -> Result<Vec<u8>, StoreError> {
        (**self).dump()
    }
    fn delete_account(&self, id: &AccountId, now: u64) -> Result<bool, StoreError> {
        (**self).delete_account(id, now)
    }
    fn deleted_at(&self, id: &AccountId) -> Result<Option<u64>, StoreError> {
        (**self).deleted_at(id)
    }
}

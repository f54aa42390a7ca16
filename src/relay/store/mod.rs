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
use crate::relay::envelope::ENVELOPE_HEADER_LEN;
use crate::relay::envelope::MessageId;
use crate::relay::error::PreKeySlot;
use crate::relay::policy::{BlockRecord, ConsentRecord, PairState};
use crate::relay::protocol::{Delivery, PreKeyUpload};
use crate::relay::receipt::{DeliveryState, StateEntry};

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

/// A report the relay checked, as a store keeps it (SPEC.md 14.17).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    /// The reported business (the message's sender).
    pub business: AccountId,
    /// The reporting customer (the message's recipient).
    pub customer: AccountId,
    /// The reported message's id.
    pub message_id: MessageId,
    /// When the relay accepted the report (relay clock).
    pub time: u64,
    /// The report's encoding, evidence anyone can check again.
    pub bytes: Vec<u8>,
}

/// Whether a report the relay accepted at `time` is past its retention at
/// `now` (SPEC.md 14.17).
pub fn report_retention_over(time: u64, now: u64) -> bool {
    now.saturating_sub(time) >= crate::constants::REPORT_RETENTION_SECS
}

/// Whether a reach at `time` no longer counts at `now`: it is a rolling
/// day old or more (SPEC.md 14.17).
pub fn reach_expired(time: u64, now: u64) -> bool {
    now.saturating_sub(time) >= crate::constants::REACH_WINDOW_SECS
}

/// What accepting an envelope also changes, in the same atomic step.
/// (Notifications are metered at delivery, by
/// [`RelayStore::acknowledge`], not at acceptance: SPEC.md 14.16.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendEffects {
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

/// The delivery state `state` at `now` of the stored envelope `bytes`
/// (SPEC.md 14.16), with sequence 0 for the store to fill in. `None` for
/// bytes whose header does not decode (no store writes such bytes).
pub fn state_entry(bytes: &[u8], state: DeliveryState, now: u64) -> Option<StateEntry> {
    let header =
        crate::relay::EnvelopeHeader::from_bytes(bytes.get(..ENVELOPE_HEADER_LEN)?).ok()?;
    Some(StateEntry {
        sequence: 0,
        sender: header.sender,
        recipient: header.recipient,
        message_id: header.message_id,
        class: header.class,
        state,
        time: now,
    })
}

/// Whether a delivery state of time `time` is past its retention at `now`
/// ([`STATE_RETENTION_SECS`](crate::constants::STATE_RETENTION_SECS)).
pub fn state_retention_over(time: u64, now: u64) -> bool {
    now.saturating_sub(time) >= crate::constants::STATE_RETENTION_SECS
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
    /// whether more are waiting. Nothing is deleted but expired envelopes.
    ///
    /// Whenever a store deletes an envelope undelivered, here or in any
    /// other method, it logs the envelope's state in the same step:
    /// [`DeliveryState::Expired`] past the time-to-live,
    /// [`DeliveryState::DeletedByBlock`] in [`put_block`](Self::put_block),
    /// [`DeliveryState::DeletedByErasure`] in
    /// [`delete_account`](Self::delete_account) (SPEC.md 14.16).
    fn fetch(
        &self,
        recipient: &AccountId,
        max: usize,
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<(Vec<Delivery>, bool), StoreError>;
    /// Deletes the given deliveries of `recipient`, remembering their message
    /// ids against retries, and logs a [`DeliveryState::Delivered`] state at
    /// `now` for each (SPEC.md 14.16); a notification among them is billed
    /// to its sender ([`notification_counts`](Self::notification_counts))
    /// in the same step. Returns how many were deleted.
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
    /// ([`CONSENT_RETENTION_SECS`](crate::constants::CONSENT_RETENTION_SECS)),
    /// and the delivery states past theirs ([`state_retention_over`]);
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
    /// that is stored also deletes, atomically with it, the blocked party's
    /// undelivered envelopes to the blocker (none of which was billed, since
    /// billing happens at delivery).
    fn put_block(&self, record: &BlockRecord, effective: u64) -> Result<bool, StoreError>;
    /// The consent records kept for a pair, oldest first.
    fn consent_history(
        &self,
        customer: &AccountId,
        business: &AccountId,
    ) -> Result<Vec<ConsentRecord>, StoreError>;
    /// Notifications delivered from each sender, for billing: every one
    /// billed since the store was created (the per-period bill is
    /// [`billed`](Self::billed)).
    fn notification_counts(&self) -> Result<Vec<(AccountId, u64)>, StoreError>;
    /// Up to `max` logged delivery states of envelopes `sender` sent, with a
    /// sequence above `after`, in ascending sequence; and whether more are
    /// logged. Sequences are allocated from one counter for the store, so a
    /// sender's states have increasing, not consecutive, sequences.
    ///
    /// The default, for stores written before delivery states existed, fails
    /// with [`StoreError::Backend`].
    fn states(
        &self,
        sender: &AccountId,
        after: u64,
        max: usize,
    ) -> Result<(Vec<StateEntry>, bool), StoreError> {
        let _ = (sender, after, max);
        Err(StoreError::Backend(NO_STATES.into()))
    }
    /// The delivery states that bill `sender` in `period`
    /// ([`StateEntry::billed_period`]), in ascending sequence.
    ///
    /// The default fails with [`StoreError::Backend`].
    fn billed(&self, sender: &AccountId, period: u32) -> Result<Vec<StateEntry>, StoreError> {
        let _ = (sender, period);
        Err(StoreError::Backend(NO_STATES.into()))
    }
    /// Records a report the relay checked (SPEC.md 14.17), deleting in the
    /// same step the reports of any business older than
    /// [`REPORT_RETENTION_SECS`](crate::constants::REPORT_RETENTION_SECS)
    /// at `report.time`. Returns false, and records nothing, if the
    /// reporter already reported this message of this sender.
    fn put_report(&self, report: &StoredReport) -> Result<bool, StoreError>;
    /// How many distinct customers reported `business` at or after
    /// `since` (the quality signal, SPEC.md 14.17).
    fn reporters(&self, business: &AccountId, since: u64) -> Result<u64, StoreError>;
    /// Whether `business` reached `customer` with a notification at or
    /// after `since`, and how many distinct customers it reached at or
    /// after `since` (the daily limit, SPEC.md 14.17).
    fn reach(
        &self,
        business: &AccountId,
        customer: &AccountId,
        since: u64,
    ) -> Result<(bool, u64), StoreError>;
    /// Notes that `business` reached `customer` with a notification at
    /// `now`, and forgets the business's reaches older than
    /// [`REACH_WINDOW_SECS`](crate::constants::REACH_WINDOW_SECS), which
    /// no limit counts any more.
    fn note_reach(
        &self,
        business: &AccountId,
        customer: &AccountId,
        now: u64,
    ) -> Result<(), StoreError>;
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
    /// recipients'); the delivery states of envelopes it sent are deleted,
    /// and the envelopes waiting in its mailbox are logged
    /// [`DeliveryState::DeletedByErasure`] for their senders. Returns false (and changes nothing) if `id` is not a
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

/// The failure of a store that keeps no delivery states.
const NO_STATES: &str = "this store does not keep delivery states";

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
    fn put_report(&self, r: &StoredReport) -> Result<bool, StoreError> {
        (**self).put_report(r)
    }
    fn reporters(&self, b: &AccountId, since: u64) -> Result<u64, StoreError> {
        (**self).reporters(b, since)
    }
    fn reach(&self, b: &AccountId, c: &AccountId, since: u64) -> Result<(bool, u64), StoreError> {
        (**self).reach(b, c, since)
    }
    fn note_reach(&self, b: &AccountId, c: &AccountId, now: u64) -> Result<(), StoreError> {
        (**self).note_reach(b, c, now)
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
    fn states(
        &self,
        s: &AccountId,
        after: u64,
        max: usize,
    ) -> Result<(Vec<StateEntry>, bool), StoreError> {
        (**self).states(s, after, max)
    }
    fn billed(&self, s: &AccountId, period: u32) -> Result<Vec<StateEntry>, StoreError> {
        (**self).billed(s, period)
    }
}

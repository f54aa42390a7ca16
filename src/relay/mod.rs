//! The relay: prekey directory, mailboxes and the rules of business
//! messaging, on ciphertext only.
//!
//! The relay is transport-agnostic. Its whole client-facing API is
//! [`Relay::handle`]: a [`SignedRequest`]'s bytes in, a response's bytes out
//! (or [`Relay::handle_request`] with typed values). Server applications
//! carry those bytes over whatever transport they like and call the operator
//! methods ([`Relay::notification_counts`], [`Relay::consent_evidence`],
//! [`Relay::expire`]) directly.
//!
//! This module never imports the session or ratchet code: the relay cannot
//! decrypt because it cannot even name a session secret. It sees envelope
//! headers ([`EnvelopeHeader`]), signed public prekeys, signed consent and
//! block records, and opaque ciphertext.
//!
//! ```
//! use hotline::relay::{
//!     AllowList, ConsentRecord, ConsentScope, ManualClock, MemoryStore, Relay, Request,
//!     Response, SignedRequest, AccountId,
//! };
//! use hotline::IdentityKeyPair;
//! let mut rng = rand::rng();
//! let clock = ManualClock::new(1_700_000_000);
//! let airline = IdentityKeyPair::generate(&mut rng);
//! let customer = IdentityKeyPair::generate(&mut rng);
//! let mut trust = AllowList::new();
//! trust.allow(&airline.public(), "Example Air");
//! let relay = Relay::new(MemoryStore::new(), clock.clone(), trust);
//!
//! let now = 1_700_000_000;
//! let register = Request::RegisterBusiness {
//!     identity: airline.public(),
//!     certificate_chain: Vec::new(),
//! };
//! let reply = relay.handle(&SignedRequest::sign(&airline, 1, now, register).to_bytes());
//! assert_eq!(Response::decode_result(&reply)?, Ok(Response::Registered));
//!
//! let register = Request::RegisterCustomer { identity: customer.public() };
//! relay.handle_request(&SignedRequest::sign(&customer, 1, now, register))?;
//! let consent = ConsentRecord::sign(&customer, AccountId::of(&airline.public()), ConsentScope::ALL, now);
//! let resp = relay.handle_request(&SignedRequest::sign(&customer, 2, now, Request::Consent(consent)))?;
//! assert_eq!(resp, Response::ConsentStored);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod auth;
mod certificates;
mod clock;
mod directory;
mod envelope;
mod error;
mod franking;
mod limits;
mod policy;
mod protocol;
mod receipt;
mod store;

use std::sync::{Mutex, MutexGuard};

use crate::business::{CertificateChain, ValidationError};
use crate::keys::KemPreKeyKind;
use limits::LimitState;

pub use auth::{AccountId, AccountKind, RequestError, RequestSigner, SignedRequest};
pub use certificates::{
    AllowList, CertificateRefused, CertificateValidator, NoBusinesses, VerifiedBusiness,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use envelope::{ENVELOPE_HEADER_LEN, Envelope, EnvelopeHeader, MessageClass, MessageId};
pub use error::{PreKeySlot, Refusal, RelayError};
pub use franking::{
    FrankingKey, FrankingStamp, FrankingTag, REPORT_FIXED_LEN, ReportError, ReportReason,
    Reportable, SpamReport,
};
pub use limits::{NotificationTiers, PreKeyDrain, RateLimit, RateLimits, TokenBucket};
pub use policy::{
    BlockRecord, ConsentRecord, ConsentScope, PairState, PolicyError, RECORD_LEN, RecordError,
};
pub use protocol::{Delivery, PreKeyStatus, PreKeyUpload, Request, Response, ResponseError};
pub use receipt::{
    DeliveryState, RECEIPT_LEN, Receipt, ReceiptError, RelayKey, RelayPublicKey, STATEMENT_LEN,
    StateEntry, Statement, StatementDigest, period_of,
};
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use store::SqliteStore;
pub use store::{
    AccountRecord, BundleParts, EnqueueOutcome, MailboxLimits, MemoryStore, RelayStore,
    SendEffects, StoreError, StoredEnvelope, StoredReport, UploadOutcome, reach_expired,
    report_retention_over, retention_over, state_entry, state_retention_over, window_expired,
};

use crate::constants::{
    BILLING_PERIOD_SECS, LOW_PREKEY_THRESHOLD, MAX_CONSENT_HISTORY, MAX_DIRECTORY_PREKEYS,
    MAX_FETCH_BATCH, MAX_FETCH_STATES, QUALITY_WINDOW_SECS, REACH_WINDOW_SECS, REPORT_WINDOW_SECS,
    REQUEST_TIME_WINDOW_SECS, STATE_RETENTION_SECS,
};

/// Number of locks that serialize rule checks with rule changes, per
/// customer–business pair (pairs share a lock by hash).
const PAIR_LOCKS: usize = 64;

/// A log line sink (see [`Relay::with_log`]).
type LogSink = Box<dyn Fn(&str) + Send + Sync>;

/// The relay. `Sync`: share one across threads (for example in an `Arc`).
pub struct Relay<S: RelayStore = MemoryStore> {
    store: S,
    clock: Box<dyn Clock>,
    certificates: Box<dyn CertificateValidator>,
    limits: MailboxLimits,
    rate_limits: RateLimits,
    /// Token buckets and drain counts: in memory, bounded (SPEC.md 14.11).
    limit_state: Mutex<LimitState>,
    pair_locks: [Mutex<()>; PAIR_LOCKS],
    log: Option<LogSink>,
    /// Signs receipts and statements (SPEC.md 14.16) and stamps deliveries
    /// (14.17).
    key: RelayKey,
    /// Daily notification limits by quality tier (SPEC.md 14.17).
    tiers: NotificationTiers,
    /// Serializes a business's notification limit check with the
    /// enqueue and the noting of the customer reached (by hash, like the
    /// pair locks; always taken after a pair lock).
    reach_locks: [Mutex<()>; PAIR_LOCKS],
}

impl<S: RelayStore> core::fmt::Debug for Relay<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Relay")
            .field("limits", &self.limits)
            .field("rate_limits", &self.rate_limits)
            .field("key", &self.key.public())
            .finish_non_exhaustive()
    }
}

impl<S: RelayStore> Relay<S> {
    /// A relay over `store`, with `clock` for its time rules and
    /// `certificates` to validate business registrations, the default
    /// mailbox and rate limits, and a fresh random key for receipts (a
    /// server keeps its key across restarts with
    /// [`with_key`](Self::with_key)).
    pub fn new(
        store: S,
        clock: impl Clock + 'static,
        certificates: impl CertificateValidator + 'static,
    ) -> Self {
        Self {
            store,
            clock: Box::new(clock),
            certificates: Box::new(certificates),
            limits: MailboxLimits::default(),
            rate_limits: RateLimits::default(),
            limit_state: Mutex::new(LimitState::new(&RateLimits::default())),
            pair_locks: std::array::from_fn(|_| Mutex::new(())),
            log: None,
            key: RelayKey::generate(&mut rand::rng()),
            tiers: NotificationTiers::default(),
            reach_locks: std::array::from_fn(|_| Mutex::new(())),
        }
    }

    /// Replaces the daily notification limits by quality tier (SPEC.md
    /// 14.17).
    pub fn with_notification_tiers(mut self, tiers: NotificationTiers) -> Self {
        self.tiers = tiers;
        self
    }

    /// The quality of `business` now (SPEC.md 14.17): how many distinct
    /// customers reported it within the quality window, and its tier and
    /// daily limit of distinct customers reached by notifications.
    pub fn notification_standing(
        &self,
        business: &AccountId,
    ) -> Result<(u64, u8, u32), RelayError> {
        let reporters = self.store.reporters(
            business,
            window_start(self.clock.now(), QUALITY_WINDOW_SECS),
        )?;
        let (tier, limit) = self.tiers.tier(reporters);
        Ok((reporters, tier, limit))
    }

    /// Replaces the key that signs receipts and statements (SPEC.md 14.16).
    pub fn with_key(mut self, key: RelayKey) -> Self {
        self.key = key;
        self
    }

    /// The public key that receipts and statements verify under: give it
    /// to senders with the relay's address.
    pub fn public_key(&self) -> RelayPublicKey {
        self.key.public()
    }

    /// Replaces the mailbox limits (tests use small ones).
    pub fn with_limits(mut self, limits: MailboxLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Replaces the rate limits (SPEC.md 14.11), starting from empty
    /// state: every bucket full, no drain counted.
    pub fn with_rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self.limit_state = Mutex::new(LimitState::new(&limits));
        self
    }

    /// Sends one line per handled request to `sink`: the operation, the
    /// accounts involved, class, size and outcome. Never content.
    pub fn with_log(mut self, sink: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.log = Some(Box::new(sink));
        self
    }

    /// The store (for operators and audits).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The relay's current time.
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    /// Handles an encoded request and returns the encoded response. Never
    /// panics on any input.
    pub fn handle(&self, request: &[u8]) -> Vec<u8> {
        let result = SignedRequest::from_bytes(request)
            .map_err(RelayError::from)
            .and_then(|req| self.handle_request(&req));
        if let (Err(e @ RelayError::Request(_)), Some(log)) = (&result, &self.log) {
            log(&format!("refused undecodable request: {e}"));
        }
        Response::encode_result(&result.map_err(|e| e.refusal()))
    }

    /// Handles a request: checks freshness, the account and the counter, then
    /// the operation's own rules.
    pub fn handle_request(&self, req: &SignedRequest) -> Result<Response, RelayError> {
        let result = self.handle_inner(req);
        if let Some(log) = &self.log {
            log(&describe(req, &result));
        }
        result
    }

    fn handle_inner(&self, req: &SignedRequest) -> Result<Response, RelayError> {
        let now = self.clock.now();
        if req.timestamp().abs_diff(now) > REQUEST_TIME_WINDOW_SECS {
            return Err(RelayError::StaleRequest {
                timestamp: req.timestamp(),
                now,
            });
        }
        let id = req.account();
        match req.request() {
            Request::RegisterCustomer { identity } => {
                self.register(req, identity, AccountKind::Customer, &[], String::new())
            }
            Request::RegisterBusiness {
                identity,
                certificate_chain,
            } => {
                if AccountId::of(identity) != id {
                    return Err(RelayError::IdentityMismatch);
                }
                // Whatever the validator, a stored chain is one that decodes:
                // it is attached to the business's bundles (SPEC.md 14.1).
                if !certificate_chain.is_empty() {
                    CertificateChain::from_bytes(certificate_chain).map_err(|e| {
                        RelayError::CertificateRefused(ValidationError::Malformed(e).into())
                    })?;
                }
                let verified = self
                    .certificates
                    .validate(identity, certificate_chain, now)
                    .map_err(RelayError::CertificateRefused)?;
                self.check_names(&id, &verified)?;
                if let Some(existing) = self.store.account(&id)? {
                    // A renewal: the same identity key, a new chain. Its
                    // customers see no identity change (SPEC.md 14.1).
                    if existing.kind != AccountKind::Business {
                        return Err(RelayError::AlreadyRegistered);
                    }
                    self.store
                        .advance_counter(&id, req.counter())?
                        .map_err(|last| RelayError::ReplayedRequest {
                            counter: req.counter(),
                            last,
                        })?;
                    self.store
                        .renew_business(&id, certificate_chain, &verified.name)?;
                    return Ok(Response::Registered);
                }
                self.register(
                    req,
                    identity,
                    AccountKind::Business,
                    certificate_chain,
                    verified.name,
                )
            }
            op => {
                let account = self.store.account(&id)?.ok_or(RelayError::UnknownAccount)?;
                // Before the counter is written: an account over a limit
                // costs the relay no store write (SPEC.md 14.11).
                if let Some(limit) = rate_limited(&account, op) {
                    self.limit_state()
                        .limiter(limit)
                        .map_or(Ok(()), |l| l.check(&id, now))
                        .map_err(|retry_after_secs| RelayError::RateLimited {
                            limit,
                            retry_after_secs,
                        })?;
                }
                self.store
                    .advance_counter(&id, req.counter())?
                    .map_err(|last| RelayError::ReplayedRequest {
                        counter: req.counter(),
                        last,
                    })?;
                self.dispatch(&account, op, now)
            }
        }
    }

    /// Refuses a business name, or any of its localized names, that is
    /// confusable with a name of another registered business (another
    /// business id, or none), exact duplicates included (SPEC.md 14.1). The
    /// same business id (a renewal, a new key) may keep its names. The names
    /// of a registered business are its recorded name and, when its stored
    /// chain certifies its own key (it was validated), the chain's localized
    /// names. A scan of every business: registrations are rare.
    fn check_names(
        &self,
        me: &AccountId,
        verified: &certificates::VerifiedBusiness,
    ) -> Result<(), RelayError> {
        let mine: Vec<&str> = core::iter::once(verified.name.as_str())
            .chain(verified.localized.iter().map(String::as_str))
            .collect();
        for other in self.store.businesses()? {
            if other.id() == *me {
                continue;
            }
            let chain = CertificateChain::from_bytes(&other.certificate_chain)
                .ok()
                .filter(|c| c.business().identity_key() == other.identity.signing_key());
            let other_id = chain.as_ref().map(|c| c.business().business_id());
            if verified.business_id.is_some() && verified.business_id == other_id {
                continue;
            }
            let mut theirs = vec![other.name.clone()];
            if let Some(c) = &chain {
                theirs.extend(
                    c.business()
                        .localized_names()
                        .iter()
                        .map(|l| l.name.clone()),
                );
            }
            for name in &mine {
                if let Some(existing) = theirs
                    .iter()
                    .find(|t| crate::business::names_confusable(name, t))
                {
                    return Err(RelayError::ConfusableName {
                        name: (*name).to_owned(),
                        existing: existing.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    fn register(
        &self,
        req: &SignedRequest,
        identity: &crate::keys::IdentityKey,
        kind: AccountKind,
        chain: &[u8],
        name: String,
    ) -> Result<Response, RelayError> {
        if AccountId::of(identity) != req.account() {
            return Err(RelayError::IdentityMismatch);
        }
        let record = AccountRecord {
            kind,
            identity: *identity,
            certificate_chain: chain.to_vec(),
            name,
        };
        if !self.store.register(&record, req.counter())? {
            // The store refuses an erased id as it refuses a taken one.
            if self.store.deleted_at(&record.id())?.is_some() {
                return Err(RelayError::AccountDeleted);
            }
            return Err(RelayError::AlreadyRegistered);
        }
        Ok(Response::Registered)
    }

    fn dispatch(
        &self,
        account: &AccountRecord,
        op: &Request,
        now: u64,
    ) -> Result<Response, RelayError> {
        let me = account.id();
        match op {
            Request::RegisterCustomer { .. } | Request::RegisterBusiness { .. } => {
                Err(RelayError::AlreadyRegistered)
            }
            Request::UploadPreKeys(upload) => {
                directory::validate_upload(&account.identity, upload)?;
                match self.store.add_prekeys(&me, upload, MAX_DIRECTORY_PREKEYS)? {
                    UploadOutcome::Stored => {}
                    UploadOutcome::TooMany => return Err(RelayError::TooManyPreKeys),
                    UploadOutcome::SpentId { slot, id, spent } => {
                        return Err(RelayError::SpentPreKeyId { slot, id, spent });
                    }
                }
                Ok(Response::PreKeysStored(self.prekey_status(&me, now)?))
            }
            Request::FetchBundle { owner } => {
                let owner = self
                    .store
                    .account(owner)?
                    .ok_or(RelayError::UnknownAccount)?;
                if let Some(limit) = rate_limited(account, op) {
                    self.take_token(limit, &me, now)?;
                }
                let owner_id = owner.id();
                // Past the owner's limit, bundles go out without one-time
                // prekeys rather than being refused: many accounts together
                // cannot drain the owner, and nobody is denied a session.
                let one_time = self
                    .limit_state()
                    .one_time_prekeys
                    .as_mut()
                    .is_none_or(|l| l.take(&owner_id, now).is_ok());
                let parts = self.store.take_bundle_parts(&owner_id, one_time);
                let handed_out = parts.as_ref().is_ok_and(|p| {
                    p.as_ref().is_some_and(|p| {
                        p.one_time_prekey.is_some() || p.kem_prekey.kind == KemPreKeyKind::OneTime
                    })
                });
                {
                    let mut state = self.limit_state();
                    if handed_out {
                        state.count_handout(&owner_id, now);
                    } else if one_time && let Some(l) = state.one_time_prekeys.as_mut() {
                        l.refund(&owner_id);
                    }
                }
                let parts = parts?.ok_or(RelayError::NoBundle)?;
                Ok(Response::Bundle {
                    bundle: Box::new(directory::assemble(
                        &owner.identity,
                        &owner.certificate_chain,
                        parts,
                    )?),
                    status: self.stapled_status(&owner_id)?,
                })
            }
            Request::PreKeyStatus => Ok(Response::PreKeyStatus(self.prekey_status(&me, now)?)),
            Request::Send(envelope) => self.send(account, envelope, now),
            Request::FetchMailbox { max } => {
                self.mailbox(&me, usize::from(*max).min(MAX_FETCH_BATCH), 0, now)
            }
            Request::Acknowledge { ids } => {
                let removed = self.store.acknowledge(&me, ids, &self.limits, now)?;
                Ok(Response::Acknowledged {
                    removed: u32::try_from(removed).unwrap_or(u32::MAX),
                })
            }
            Request::Consent(record) => {
                self.check_record(
                    account,
                    AccountKind::Customer,
                    (record.customer(), record.business()),
                    record.time(),
                    now,
                )?;
                let _guard = self.pair_lock(&record.customer(), &record.business());
                let effective = policy::effective_time(record.time(), now);
                if !self
                    .store
                    .put_consent(record, effective, MAX_CONSENT_HISTORY)?
                {
                    return Err(RelayError::StaleRecord);
                }
                Ok(Response::ConsentStored)
            }
            Request::Block(record) => {
                self.check_record(
                    account,
                    record.blocker(),
                    (record.customer(), record.business()),
                    record.time(),
                    now,
                )?;
                let _guard = self.pair_lock(&record.customer(), &record.business());
                let effective = policy::effective_time(record.time(), now);
                if !self.store.put_block(record, effective)? {
                    return Err(RelayError::StaleRecord);
                }
                Ok(Response::BlockStored)
            }
            Request::ExportConsent { customer } => {
                if account.kind != AccountKind::Business {
                    return Err(RelayError::WrongAccountKind(AccountKind::Business));
                }
                Ok(Response::ConsentEvidence(
                    self.store.consent_history(customer, &me)?,
                ))
            }
            Request::PublishStatus(status) => self.publish_status(account, status, now),
            Request::PublishRevocationList { list, issuer } => {
                let sequence =
                    self.certificates
                        .accept_revocation_list(list, issuer.as_ref(), now)?;
                Ok(Response::RevocationListApplied { sequence })
            }
            Request::FetchStates { after, max } => {
                let max = usize::from(*max).min(MAX_FETCH_STATES);
                let (entries, more) = self.store.states(&me, *after, max)?;
                Ok(Response::States {
                    receipts: entries
                        .into_iter()
                        .map(|e| Receipt::sign(&self.key, e))
                        .collect(),
                    more,
                })
            }
            Request::FetchStatement { period } => self.statement(&me, *period, now),
            Request::Report(report) => self.report(account, report, now),
            Request::DeleteAccount => {
                // Customers only: a business's account carries billing and
                // the consent evidence of its customers (SPEC.md 14.15).
                if account.kind != AccountKind::Customer {
                    return Err(RelayError::WrongAccountKind(AccountKind::Customer));
                }
                if !self.store.delete_account(&me, now)? {
                    return Err(RelayError::UnknownAccount);
                }
                Ok(Response::AccountDeleted)
            }
        }
    }

    /// The checks of SPEC.md 14.6 on a consent or block record before its
    /// order: the requester is the signing party, the other party is an
    /// account of the other kind, and the time is within the window.
    fn check_record(
        &self,
        account: &AccountRecord,
        signer: AccountKind,
        (customer, business): (AccountId, AccountId),
        time: u64,
        now: u64,
    ) -> Result<(), RelayError> {
        if account.kind != signer {
            return Err(RelayError::WrongAccountKind(signer));
        }
        let (mine, other, other_kind) = match signer {
            AccountKind::Customer => (customer, business, AccountKind::Business),
            AccountKind::Business => (business, customer, AccountKind::Customer),
        };
        if mine != account.id() {
            return Err(RelayError::RecordNotYours);
        }
        let other = self
            .store
            .account(&other)?
            .ok_or(RelayError::UnknownAccount)?;
        if other.kind != other_kind {
            return Err(RelayError::Policy(PolicyError::UnsupportedRoute));
        }
        // The record's time is the signer's claim: bounded on both sides,
        // so a consent cannot be backdated (evidence dated 1970 proves
        // nothing) nor dated ahead to outrank later changes (SPEC.md 14.6).
        if time > now.saturating_add(REQUEST_TIME_WINDOW_SECS)
            || time < now.saturating_sub(REQUEST_TIME_WINDOW_SECS)
        {
            return Err(RelayError::StaleRecord);
        }
        Ok(())
    }

    fn send(
        &self,
        sender: &AccountRecord,
        envelope: &Envelope,
        now: u64,
    ) -> Result<Response, RelayError> {
        let h = &envelope.header;
        if h.sender != sender.id() {
            return Err(RelayError::SenderMismatch);
        }
        let recipient = self
            .store
            .account(&h.recipient)?
            .ok_or(RelayError::UnknownAccount)?;
        // A retry of a stored envelope is answered "duplicate" before any
        // rule: its first copy is stored (and billed), whatever changed
        // since (a block, the window closing) (SPEC.md 14.5).
        if self
            .store
            .is_stored(&h.recipient, &h.sender, &h.message_id, &self.limits, now)?
        {
            return Ok(self.accepted(h, true, now));
        }
        let mut effects = SendEffects::default();
        // Held from the daily limit check to the noting of the reach.
        let mut reach = None;
        let _guard = match (sender.kind, recipient.kind) {
            (AccountKind::Customer, AccountKind::Business) => {
                if h.class != MessageClass::Chat {
                    return Err(PolicyError::NotificationFromCustomer.into());
                }
                // Checked under the pair's lock, like a business's send: a
                // business's block answered before this point always wins.
                let guard = self.pair_lock(&h.sender, &h.recipient);
                let pair = self.store.pair(&h.sender, &h.recipient)?;
                policy::check_customer_send(&pair)?;
                effects.open_window = Some((h.sender, h.recipient));
                guard
            }
            (AccountKind::Business, AccountKind::Customer) => {
                // A business sends only while its badge is true: the chain
                // validated at registration is judged again now, against
                // the newest revocations and statuses (SPEC.md 14.7).
                // Customers can still write to it.
                self.certificates
                    .standing(&sender.certificate_chain, now)
                    .map_err(RelayError::NotInGoodStanding)?;
                // The rule check and the enqueue happen under the pair's
                // lock, so a block recorded before this point always wins.
                let guard = self.pair_lock(&h.recipient, &h.sender);
                let pair = self.store.pair(&h.recipient, &h.sender)?;
                policy::check_business_send(&pair, h.class, now)?;
                if h.class == MessageClass::Notification {
                    reach = Some(self.check_reach(&h.sender, &h.recipient, now)?);
                }
                guard
            }
            _ => return Err(PolicyError::UnsupportedRoute.into()),
        };
        let stored = StoredEnvelope {
            recipient: h.recipient,
            sender: h.sender,
            message_id: h.message_id,
            received_at: now,
            bytes: envelope.to_bytes(),
        };
        // Taken before the store write, given back if nothing new is stored
        // (a retried duplicate, a full mailbox): only stored initial
        // messages count.
        let limit = send_limit(sender, envelope);
        if let Some(limit) = limit {
            self.take_token(limit, &sender.id(), now)?;
        }
        let outcome = self.store.enqueue(&stored, effects, &self.limits, now);
        if let (Some(limit), false) = (limit, matches!(outcome, Ok(EnqueueOutcome::Stored(_))))
            && let Some(l) = self.limit_state().limiter(limit)
        {
            l.refund(&sender.id());
        }
        match outcome? {
            EnqueueOutcome::Stored(_) => {
                if reach.is_some() {
                    self.store.note_reach(&h.sender, &h.recipient, now)?;
                }
                Ok(self.accepted(h, false, now))
            }
            EnqueueOutcome::Duplicate => Ok(self.accepted(h, true, now)),
            EnqueueOutcome::Full => Err(RelayError::MailboxFull),
            EnqueueOutcome::SenderQuotaExceeded => Err(RelayError::SenderQuotaExceeded),
        }
    }

    /// Checks a business's daily notification limit for a notification to
    /// `customer` (SPEC.md 14.17) and returns the business's reach lock,
    /// held until the enqueue and the noting of the reach are done. A
    /// customer reached within the rolling day costs nothing more.
    fn check_reach(
        &self,
        business: &AccountId,
        customer: &AccountId,
        now: u64,
    ) -> Result<MutexGuard<'_, ()>, RelayError> {
        let i = usize::from(business.0[0]) % PAIR_LOCKS;
        // The guarded data is `()`: a poisoned lock protects nothing broken.
        let guard = self.reach_locks[i]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let (reached, count) =
            self.store
                .reach(business, customer, window_start(now, REACH_WINDOW_SECS))?;
        if !reached {
            let reporters = self
                .store
                .reporters(business, window_start(now, QUALITY_WINDOW_SECS))?;
            let (tier, limit) = self.tiers.tier(reporters);
            if count >= u64::from(limit) {
                return Err(RelayError::DailyLimitReached { limit, tier });
            }
        }
        Ok(guard)
    }

    /// Checks and records a customer's report (SPEC.md 14.17): the
    /// reporter is the requester and the message's recipient, the report
    /// is fresh, the stamp is this relay's, the message is recent enough
    /// and came from a business.
    fn report(
        &self,
        account: &AccountRecord,
        report: &SpamReport,
        now: u64,
    ) -> Result<Response, RelayError> {
        if account.kind != AccountKind::Customer {
            return Err(RelayError::WrongAccountKind(AccountKind::Customer));
        }
        if report.reporter() != account.id() {
            return Err(RelayError::RecordNotYours);
        }
        // Decoding checked these; a request built in memory may not have
        // been decoded.
        report
            .check()
            .map_err(|e| RelayError::Request(RequestError::BadReport(e)))?;
        if report.time().abs_diff(now) > REQUEST_TIME_WINDOW_SECS {
            return Err(RelayError::StaleRecord);
        }
        if !self
            .key
            .stamped(report.header(), report.received_at(), report.stamp())
        {
            return Err(RelayError::BadStamp);
        }
        let received_at = report.received_at();
        if received_at > now || now - received_at > REPORT_WINDOW_SECS {
            return Err(RelayError::ReportTooOld { received_at, now });
        }
        let sender = self
            .store
            .account(&report.reported())?
            .ok_or(RelayError::UnknownAccount)?;
        if sender.kind != AccountKind::Business {
            return Err(PolicyError::UnsupportedRoute.into());
        }
        let stored = self.store.put_report(&StoredReport {
            business: report.reported(),
            customer: report.reporter(),
            message_id: report.header().message_id,
            time: now,
            bytes: report.to_bytes(),
        })?;
        Ok(Response::Reported { duplicate: !stored })
    }

    /// The answer to an accepted send: its signed receipt at `now`, also
    /// for a duplicate (whose first copy the relay holds or delivered).
    fn accepted(&self, h: &EnvelopeHeader, duplicate: bool, now: u64) -> Response {
        let entry = StateEntry {
            sequence: 0,
            sender: h.sender,
            recipient: h.recipient,
            message_id: h.message_id,
            class: h.class,
            state: DeliveryState::Accepted,
            time: now,
        };
        Response::Accepted {
            duplicate,
            receipt: Box::new(Receipt::sign(&self.key, entry)),
        }
    }

    /// The signed statement of `business`'s billed notifications in
    /// `period`, if the period has begun and its states are all still kept
    /// (SPEC.md 14.16).
    fn statement(
        &self,
        business: &AccountId,
        period: u32,
        now: u64,
    ) -> Result<Response, RelayError> {
        let current = period_of(now);
        // The oldest period whose every state is still kept: it began no
        // longer than the retention ago.
        let first = period_of(
            now.saturating_sub(STATE_RETENTION_SECS)
                .saturating_add(BILLING_PERIOD_SECS - 1),
        );
        if period > current || period < first {
            return Err(RelayError::PeriodUnavailable {
                period,
                first,
                current,
            });
        }
        let mut digest = StatementDigest::new();
        for e in self.store.billed(business, period)? {
            digest.add(e.sequence, &e.recipient, &e.message_id);
        }
        Ok(Response::Statement(Box::new(Statement::sign(
            &self.key, *business, period, digest, now,
        ))))
    }

    fn limit_state(&self) -> MutexGuard<'_, LimitState> {
        // Token counts are advisory state: a panic mid-update leaves at
        // worst one bucket off by a token.
        self.limit_state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take_token(&self, limit: RateLimit, id: &AccountId, now: u64) -> Result<(), RelayError> {
        self.limit_state()
            .limiter(limit)
            .map_or(Ok(()), |l| l.take(id, now))
            .map_err(|retry_after_secs| RelayError::RateLimited {
                limit,
                retry_after_secs,
            })
    }

    fn pair_lock(&self, customer: &AccountId, business: &AccountId) -> MutexGuard<'_, ()> {
        let i = usize::from(customer.0[0] ^ business.0[0].rotate_left(3)) % PAIR_LOCKS;
        // The guarded data is `()`: a poisoned lock protects nothing broken.
        self.pair_locks[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A mailbox response for `me`: up to `max` waiting envelopes, oldest
    /// first, those with a delivery id above `after`, with the stapled
    /// status of each business among their senders.
    fn mailbox(
        &self,
        me: &AccountId,
        max: usize,
        after: u64,
        now: u64,
    ) -> Result<Response, RelayError> {
        let (mut deliveries, more) = self.store.fetch(me, max, &self.limits, now)?;
        deliveries.retain(|d| d.id > after);
        for d in &mut deliveries {
            d.stamp = self.key.stamp(&d.envelope.header, d.received_at);
        }
        let status = self.prekey_status(me, now)?;
        // The newest status of each business among the senders: at most
        // one per delivery, checked when published.
        let mut senders: Vec<AccountId> = deliveries
            .iter()
            .map(|d| d.envelope.header.sender)
            .collect();
        senders.sort_unstable();
        senders.dedup();
        let mut statuses = Vec::new();
        for sender in &senders {
            if let Some(s) = self.stapled_status(sender)? {
                statuses.push(s);
            }
        }
        Ok(Response::Mailbox {
            deliveries,
            more,
            prekeys_low: status.low,
            prekeys_drained: status.drained,
            statuses,
        })
    }

    /// What a push transport sends an account it has authenticated (by a
    /// signed request on the same connection): the mailbox response of
    /// [`Request::FetchMailbox`] with the batch limit, keeping only the
    /// deliveries with an id above `after` (those it has not pushed yet on
    /// this connection). Delivery ids only grow, so a connection that
    /// remembers the highest id it pushed never pushes one twice, and a new
    /// connection (`after = 0`) starts again from every envelope not yet
    /// acknowledged.
    pub fn pending(&self, account: &AccountId, after: u64) -> Result<Response, RelayError> {
        let now = self.clock.now();
        if self.store.account(account)?.is_none() {
            return Err(RelayError::UnknownAccount);
        }
        self.mailbox(account, MAX_FETCH_BATCH, after, now)
    }

    /// The status stapled for `id`, if any. A stored status that no longer
    /// decodes was written by another version: it is not handed out.
    fn stapled_status(
        &self,
        id: &AccountId,
    ) -> Result<Option<crate::business::CertificateStatus>, RelayError> {
        Ok(self
            .store
            .status(id)?
            .and_then(|b| crate::business::CertificateStatus::from_bytes(&b).ok()))
    }

    /// Checks a status a business publishes for its own certificate and
    /// staples it (SPEC.md 14.13): for the certificate it registered with,
    /// signed by that chain's issuer, a well-formed window not in the
    /// future, accepted by the validator, newer than the one stapled.
    fn publish_status(
        &self,
        account: &AccountRecord,
        status: &crate::business::CertificateStatus,
        now: u64,
    ) -> Result<Response, RelayError> {
        use crate::business::StatusError;
        if account.kind != AccountKind::Business {
            return Err(RelayError::WrongAccountKind(AccountKind::Business));
        }
        let wrong = || {
            RelayError::BadStatus(StatusError::WrongCertificate {
                issuer_id: status.issuer_id(),
                serial: status.serial(),
            })
        };
        let chain =
            CertificateChain::from_bytes(&account.certificate_chain).map_err(|_| wrong())?;
        if (status.issuer_id(), status.serial())
            != (chain.issuer().issuer_id(), chain.business().serial())
        {
            return Err(wrong());
        }
        if !status.verify(chain.issuer().key()) {
            return Err(RelayError::BadStatus(StatusError::BadSignature));
        }
        if !status.window_ok() {
            return Err(RelayError::BadStatus(StatusError::BadWindow {
                this_update: status.this_update(),
                next_update: status.next_update(),
            }));
        }
        if status.this_update() > now.saturating_add(crate::constants::CLOCK_SKEW_SECS) {
            return Err(RelayError::BadStatus(StatusError::InFuture {
                this_update: status.this_update(),
                now,
            }));
        }
        self.certificates
            .accept_status(status, chain.issuer(), now)
            .map_err(RelayError::BadStatus)?;
        let me = account.id();
        if !self
            .store
            .put_status(&me, status.this_update(), &status.to_bytes())?
        {
            let current = self
                .stapled_status(&me)?
                .map_or(status.this_update(), |s| s.this_update());
            return Err(RelayError::BadStatus(StatusError::Stale {
                current,
                offered: status.this_update(),
            }));
        }
        Ok(Response::StatusStored)
    }

    fn prekey_status(&self, id: &AccountId, now: u64) -> Result<PreKeyStatus, RelayError> {
        let (one_time, kem) = self.store.prekey_counts(id)?;
        Ok(PreKeyStatus {
            one_time: u32::try_from(one_time).unwrap_or(u32::MAX),
            kem: u32::try_from(kem).unwrap_or(u32::MAX),
            low: one_time < LOW_PREKEY_THRESHOLD || kem < LOW_PREKEY_THRESHOLD,
            drained: self.limit_state().drain(id, now),
        })
    }

    /// Operator: notifications delivered per business, for billing (each
    /// counted at its first acknowledgement, SPEC.md 14.16).
    pub fn notification_counts(&self) -> Result<Vec<(AccountId, u64)>, StoreError> {
        self.store.notification_counts()
    }

    /// Operator: notifications delivered from one business.
    pub fn notification_count(&self, business: &AccountId) -> Result<u64, StoreError> {
        Ok(self
            .store
            .notification_counts()?
            .into_iter()
            .find(|(b, _)| b == business)
            .map_or(0, |(_, n)| n))
    }

    /// Operator: the consent records a customer gave a business, oldest
    /// first (each verifiable by anyone with [`ConsentRecord::from_bytes`]).
    pub fn consent_evidence(
        &self,
        customer: &AccountId,
        business: &AccountId,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        self.store.consent_history(customer, business)
    }

    /// Operator: deletes expired envelopes now (they are also deleted lazily
    /// whenever their mailbox is used). Returns how many were deleted.
    pub fn expire(&self) -> Result<usize, StoreError> {
        self.store.expire(&self.limits, self.clock.now())
    }
}

/// The rate limit an operation of `account` counts against, if any
/// (SPEC.md 14.11). Businesses are not limited: they are certified, reach a
/// customer only with consent, and a business starting sessions with its
/// customers fetches bundles and sends initial messages by the thousand.
fn rate_limited(account: &AccountRecord, op: &Request) -> Option<RateLimit> {
    match op {
        Request::FetchBundle { .. } => {
            (account.kind == AccountKind::Customer).then_some(RateLimit::BundleFetches)
        }
        Request::Send(e) => send_limit(account, e),
        _ => None,
    }
}

/// The rate limit a send counts against: initial messages of customers.
fn send_limit(account: &AccountRecord, envelope: &Envelope) -> Option<RateLimit> {
    (account.kind == AccountKind::Customer && envelope.is_initial())
        .then_some(RateLimit::InitialMessages)
}

/// The first second of a rolling window of `len` seconds ending at `now`:
/// an event at `t` is in it while `now - t < len`.
fn window_start(now: u64, len: u64) -> u64 {
    now.saturating_add(1).saturating_sub(len)
}

/// One log line: metadata only.
fn describe(req: &SignedRequest, result: &Result<Response, RelayError>) -> String {
    let who = req.account().short();
    let what = match req.request() {
        Request::Send(e) => format!(
            "send {:?} {} -> {} ({} bytes)",
            e.header.class,
            e.header.sender.short(),
            e.header.recipient.short(),
            e.ciphertext.len()
        ),
        Request::FetchBundle { owner } => format!("fetch bundle of {}", owner.short()),
        Request::Report(r) => format!(
            "report of {} by {} ({:?})",
            r.reported().short(),
            r.reporter().short(),
            r.reason()
        ),
        Request::RegisterCustomer { .. } => "register customer".to_owned(),
        Request::RegisterBusiness { .. } => "register business".to_owned(),
        Request::UploadPreKeys(_) => "upload prekeys".to_owned(),
        Request::PreKeyStatus => "prekey status".to_owned(),
        Request::FetchMailbox { .. } => "fetch mailbox".to_owned(),
        Request::Acknowledge { ids } => format!("acknowledge {}", ids.len()),
        Request::Consent(_) => "consent record".to_owned(),
        Request::Block(_) => "block record".to_owned(),
        Request::ExportConsent { .. } => "export consent".to_owned(),
        Request::PublishStatus(_) => "publish status".to_owned(),
        Request::PublishRevocationList { .. } => "publish revocation list".to_owned(),
        Request::DeleteAccount => "delete account".to_owned(),
        Request::FetchStates { .. } => "fetch states".to_owned(),
        Request::FetchStatement { period } => format!("fetch statement of period {period}"),
    };
    let outcome = match result {
        Ok(_) => "ok".to_owned(),
        Err(e) => format!("refused: {e}"),
    };
    format!("{who}: {what}: {outcome}")
}

//! An in-memory [`RelayStore`]: one lock around plain collections.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

use super::{
    AccountRecord, BundleParts, ERASED_DURING_SEND, EnqueueOutcome, MailboxLimits, RelayStore,
    SendEffects, StoreError, StoredEnvelope, StoredReport, UploadOutcome, reach_expired,
    report_retention_over, retention_over, state_entry, state_retention_over, window_expired,
};
use crate::keys::{KemPreKeyPublic, OneTimePreKeyPublic, SignedPreKeyPublic};
use crate::relay::auth::{AccountId, AccountKind};
use crate::relay::envelope::{Envelope, MessageId};
use crate::relay::franking::FrankingStamp;
use crate::relay::policy::{BlockRecord, ConsentRecord, PairState};
use crate::relay::protocol::{Delivery, PreKeyUpload};
use crate::relay::receipt::{DeliveryState, StateEntry};

type DupKey = (AccountId, MessageId);

#[derive(Default)]
struct Directory {
    signed: Option<SignedPreKeyPublic>,
    last_resort: Option<KemPreKeyPublic>,
    one_time: BTreeMap<u32, OneTimePreKeyPublic>,
    kem: BTreeMap<u32, KemPreKeyPublic>,
    /// The highest one-time X25519 and KEM prekey ids handed out.
    spent_one_time: Option<u32>,
    spent_kem: Option<u32>,
}

#[derive(Default)]
struct Mailbox {
    waiting: BTreeMap<u64, StoredEnvelope>,
    bytes: usize,
    /// Envelopes and bytes waiting per sender (senders with none are absent).
    per_sender: HashMap<AccountId, (usize, usize)>,
    waiting_ids: HashSet<DupKey>,
    remembered: VecDeque<(DupKey, u64)>,
    remembered_set: HashSet<DupKey>,
}

impl Mailbox {
    fn insert(&mut self, id: u64, e: &StoredEnvelope) {
        self.bytes += e.bytes.len();
        let share = self.per_sender.entry(e.sender).or_default();
        share.0 += 1;
        share.1 += e.bytes.len();
        self.waiting_ids.insert((e.sender, e.message_id));
        self.waiting.insert(id, e.clone());
    }

    fn remove(&mut self, id: u64) -> Option<StoredEnvelope> {
        let e = self.waiting.remove(&id)?;
        self.bytes -= e.bytes.len();
        if let Some(share) = self.per_sender.get_mut(&e.sender) {
            share.0 -= 1;
            share.1 -= e.bytes.len();
            if share.0 == 0 {
                self.per_sender.remove(&e.sender);
            }
        }
        self.waiting_ids.remove(&(e.sender, e.message_id));
        Some(e)
    }

    /// Deletes the expired envelopes, logging each as expired in `log`.
    fn expire(&mut self, limits: &MailboxLimits, now: u64, log: &mut StateLog) -> usize {
        let expired: Vec<u64> = self
            .waiting
            .iter()
            .filter(|(_, e)| now.saturating_sub(e.received_at) >= limits.ttl_secs)
            .map(|(k, _)| *k)
            .collect();
        for k in &expired {
            if let Some(e) = self.remove(*k) {
                // The moment it expired, whenever it is deleted (SPEC.md 14.16).
                let at = e.received_at.saturating_add(limits.ttl_secs);
                log.log(&e.bytes, DeliveryState::Expired, at);
            }
        }
        while let Some((key, at)) = self.remembered.front() {
            if now.saturating_sub(*at) < limits.ttl_secs {
                break;
            }
            self.remembered_set.remove(key);
            self.remembered.pop_front();
        }
        expired.len()
    }

    fn remember(&mut self, key: DupKey, now: u64, limits: &MailboxLimits) {
        if self.remembered_set.insert(key) {
            self.remembered.push_back((key, now));
        }
        while self.remembered.len() > limits.remembered_ids {
            if let Some((old, _)) = self.remembered.pop_front() {
                self.remembered_set.remove(&old);
            }
        }
    }
}

/// The delivery states of envelopes, per sender (SPEC.md 14.16).
#[derive(Default)]
struct StateLog {
    next: u64,
    by_sender: HashMap<AccountId, BTreeMap<u64, StateEntry>>,
    /// Notifications billed per sender, since the store was created.
    billed: BTreeMap<AccountId, u64>,
}

impl StateLog {
    fn log(&mut self, bytes: &[u8], state: DeliveryState, now: u64) {
        let Some(mut entry) = state_entry(bytes, state, now) else {
            return;
        };
        self.next += 1;
        entry.sequence = self.next;
        if entry.billed_period().is_some() {
            *self.billed.entry(entry.sender).or_default() += 1;
        }
        self.by_sender
            .entry(entry.sender)
            .or_default()
            .insert(entry.sequence, entry);
    }
}

#[derive(Default)]
struct Inner {
    accounts: HashMap<AccountId, (AccountRecord, u64)>,
    directory: HashMap<AccountId, Directory>,
    mailboxes: HashMap<AccountId, Mailbox>,
    next_delivery: u64,
    /// Each record with its effective time (SPEC.md 14.6), oldest first.
    consents: HashMap<(AccountId, AccountId), VecDeque<(ConsentRecord, u64)>>,
    /// Keyed by (customer, business, blocked by the business).
    blocks: HashMap<(AccountId, AccountId, bool), (BlockRecord, u64)>,
    windows: HashMap<(AccountId, AccountId), u64>,
    log: StateLog,
    /// Stapled statuses: (this_update, encoding).
    statuses: HashMap<AccountId, (u64, Vec<u8>)>,
    /// Erased account ids, with the time of their erasure.
    erased: HashMap<AccountId, u64>,
    /// Checked reports, keyed by (business, customer, message id).
    reports: BTreeMap<(AccountId, AccountId, MessageId), StoredReport>,
    /// The last notification time per (business, customer).
    reaches: HashMap<AccountId, HashMap<AccountId, u64>>,
}

/// A [`RelayStore`] in memory: fast, for tests and single-process relays
/// that may lose their state on restart.
#[derive(Default)]
pub struct MemoryStore(Mutex<Inner>);

impl core::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-applied change
        // (each method mutates only after all checks), so poisoning is ignored.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl RelayStore for MemoryStore {
    fn register(&self, account: &AccountRecord, counter: u64) -> Result<bool, StoreError> {
        let mut g = self.lock();
        let id = account.id();
        if g.accounts.contains_key(&id) || g.erased.contains_key(&id) {
            return Ok(false);
        }
        g.accounts.insert(id, (account.clone(), counter));
        Ok(true)
    }

    fn renew_business(&self, id: &AccountId, chain: &[u8], name: &str) -> Result<bool, StoreError> {
        let mut g = self.lock();
        match g.accounts.get_mut(id) {
            Some((a, _)) if a.kind == AccountKind::Business => {
                a.certificate_chain = chain.to_vec();
                a.name = name.to_owned();
                g.statuses.remove(id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn put_status(
        &self,
        id: &AccountId,
        this_update: u64,
        status: &[u8],
    ) -> Result<bool, StoreError> {
        let mut g = self.lock();
        if g.statuses.get(id).is_some_and(|(t, _)| *t >= this_update) {
            return Ok(false);
        }
        g.statuses.insert(*id, (this_update, status.to_vec()));
        Ok(true)
    }

    fn status(&self, id: &AccountId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().statuses.get(id).map(|(_, s)| s.clone()))
    }

    fn businesses(&self) -> Result<Vec<AccountRecord>, StoreError> {
        Ok(self
            .lock()
            .accounts
            .values()
            .filter(|(a, _)| a.kind == AccountKind::Business)
            .map(|(a, _)| a.clone())
            .collect())
    }

    fn account(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        Ok(self.lock().accounts.get(id).map(|(a, _)| a.clone()))
    }

    fn advance_counter(&self, id: &AccountId, counter: u64) -> Result<Result<(), u64>, StoreError> {
        let mut g = self.lock();
        let Some((_, last)) = g.accounts.get_mut(id) else {
            return Err(StoreError::Corrupt("account"));
        };
        if counter <= *last {
            return Ok(Err(*last));
        }
        *last = counter;
        Ok(Ok(()))
    }

    fn add_prekeys(
        &self,
        id: &AccountId,
        upload: &PreKeyUpload,
        max_per_kind: usize,
    ) -> Result<UploadOutcome, StoreError> {
        let mut g = self.lock();
        if g.erased.contains_key(id) {
            return Err(StoreError::Backend(ERASED_DURING_SEND.into()));
        }
        let d = g.directory.entry(*id).or_default();
        if let Some(spent) = UploadOutcome::check_spent(upload, d.spent_one_time, d.spent_kem) {
            return Ok(spent);
        }
        let new_ot = upload
            .one_time_prekeys
            .iter()
            .filter(|k| !d.one_time.contains_key(&k.id))
            .map(|k| k.id)
            .collect::<HashSet<_>>()
            .len();
        let new_kem = upload
            .kem_prekeys
            .iter()
            .filter(|k| !d.kem.contains_key(&k.id))
            .map(|k| k.id)
            .collect::<HashSet<_>>()
            .len();
        if d.one_time.len() + new_ot > max_per_kind || d.kem.len() + new_kem > max_per_kind {
            return Ok(UploadOutcome::TooMany);
        }
        if let Some(s) = upload.signed_prekey {
            d.signed = Some(s);
        }
        if let Some(k) = &upload.last_resort_kem_prekey {
            d.last_resort = Some(k.clone());
        }
        for k in &upload.one_time_prekeys {
            d.one_time.insert(k.id, *k);
        }
        for k in &upload.kem_prekeys {
            d.kem.insert(k.id, k.clone());
        }
        Ok(UploadOutcome::Stored)
    }

    fn take_bundle_parts(
        &self,
        id: &AccountId,
        one_time: bool,
    ) -> Result<Option<BundleParts>, StoreError> {
        let mut g = self.lock();
        let Some(d) = g.directory.get_mut(id) else {
            return Ok(None);
        };
        let (Some(signed_prekey), Some(last_resort)) = (d.signed, d.last_resort.clone()) else {
            return Ok(None);
        };
        if !one_time {
            return Ok(Some(BundleParts {
                signed_prekey,
                one_time_prekey: None,
                kem_prekey: last_resort,
            }));
        }
        let one_time_prekey = d.one_time.pop_first().map(|(id, k)| {
            d.spent_one_time = d.spent_one_time.max(Some(id));
            k
        });
        let kem_prekey = d.kem.pop_first().map_or(last_resort, |(id, k)| {
            d.spent_kem = d.spent_kem.max(Some(id));
            k
        });
        Ok(Some(BundleParts {
            signed_prekey,
            one_time_prekey,
            kem_prekey,
        }))
    }

    fn prekey_counts(&self, id: &AccountId) -> Result<(usize, usize), StoreError> {
        Ok(self
            .lock()
            .directory
            .get(id)
            .map_or((0, 0), |d| (d.one_time.len(), d.kem.len())))
    }

    fn is_stored(
        &self,
        recipient: &AccountId,
        sender: &AccountId,
        message_id: &MessageId,
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<bool, StoreError> {
        let mut g = self.lock();
        let inner = &mut *g;
        let Some(mb) = inner.mailboxes.get_mut(recipient) else {
            return Ok(false);
        };
        mb.expire(limits, now, &mut inner.log);
        let key = (*sender, *message_id);
        Ok(mb.waiting_ids.contains(&key) || mb.remembered_set.contains(&key))
    }

    fn enqueue(
        &self,
        envelope: &StoredEnvelope,
        effects: SendEffects,
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<EnqueueOutcome, StoreError> {
        let mut g = self.lock();
        let inner = &mut *g;
        if inner.erased.contains_key(&envelope.recipient)
            || inner.erased.contains_key(&envelope.sender)
        {
            return Err(StoreError::Backend(ERASED_DURING_SEND.into()));
        }
        let mb = inner.mailboxes.entry(envelope.recipient).or_default();
        mb.expire(limits, now, &mut inner.log);
        let key = (envelope.sender, envelope.message_id);
        if mb.waiting_ids.contains(&key) || mb.remembered_set.contains(&key) {
            return Ok(EnqueueOutcome::Duplicate);
        }
        let share = mb
            .per_sender
            .get(&envelope.sender)
            .copied()
            .unwrap_or_default();
        if let Some(refused) = EnqueueOutcome::check_limits(
            limits,
            envelope.bytes.len(),
            (mb.waiting.len(), mb.bytes),
            share,
        ) {
            return Ok(refused);
        }
        inner.next_delivery += 1;
        let id = inner.next_delivery;
        mb.insert(id, envelope);
        if let Some(pair) = effects.open_window {
            inner.windows.insert(pair, envelope.received_at);
        }
        Ok(EnqueueOutcome::Stored(id))
    }

    fn fetch(
        &self,
        recipient: &AccountId,
        max: usize,
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<(Vec<Delivery>, bool), StoreError> {
        let mut g = self.lock();
        let inner = &mut *g;
        let Some(mb) = inner.mailboxes.get_mut(recipient) else {
            return Ok((Vec::new(), false));
        };
        mb.expire(limits, now, &mut inner.log);
        let mut out = Vec::new();
        for (id, e) in mb.waiting.iter().take(max) {
            out.push(Delivery {
                id: *id,
                received_at: e.received_at,
                stamp: FrankingStamp::default(),
                envelope: Envelope::from_bytes(&e.bytes)
                    .map_err(|_| StoreError::Corrupt("envelope"))?,
            });
        }
        Ok((out, mb.waiting.len() > max))
    }

    fn acknowledge(
        &self,
        recipient: &AccountId,
        ids: &[u64],
        limits: &MailboxLimits,
        now: u64,
    ) -> Result<usize, StoreError> {
        let mut g = self.lock();
        let inner = &mut *g;
        let Some(mb) = inner.mailboxes.get_mut(recipient) else {
            return Ok(0);
        };
        let mut removed = 0;
        for id in ids {
            if let Some(e) = mb.remove(*id) {
                removed += 1;
                mb.remember((e.sender, e.message_id), now, limits);
                inner.log.log(&e.bytes, DeliveryState::Delivered, now);
            }
        }
        Ok(removed)
    }

    fn expire(&self, limits: &MailboxLimits, now: u64) -> Result<usize, StoreError> {
        let mut g = self.lock();
        let inner = &mut *g;
        inner.windows.retain(|_, last| !window_expired(*last, now));
        let erased = &inner.erased;
        inner
            .consents
            .retain(|(c, _), _| erased.get(c).is_none_or(|at| !retention_over(*at, now)));
        for states in inner.log.by_sender.values_mut() {
            states.retain(|_, e| !state_retention_over(e.time, now));
        }
        inner.log.by_sender.retain(|_, states| !states.is_empty());
        let log = &mut inner.log;
        Ok(inner
            .mailboxes
            .values_mut()
            .map(|mb| mb.expire(limits, now, log))
            .sum())
    }

    fn pair(&self, customer: &AccountId, business: &AccountId) -> Result<PairState, StoreError> {
        let g = self.lock();
        let key = (*customer, *business);
        Ok(PairState {
            consent: g.consents.get(&key).and_then(|l| l.back()).map(|c| c.0),
            block: g.blocks.get(&(key.0, key.1, false)).map(|b| b.0),
            business_block: g.blocks.get(&(key.0, key.1, true)).map(|b| b.0),
            last_customer_message: g.windows.get(&key).copied(),
        })
    }

    fn put_consent(
        &self,
        record: &ConsentRecord,
        effective: u64,
        history: usize,
    ) -> Result<bool, StoreError> {
        let mut g = self.lock();
        let list = g
            .consents
            .entry((record.customer(), record.business()))
            .or_default();
        match list.back() {
            Some((last, at)) if !record.supersedes(effective, last, *at) => return Ok(false),
            // A tie won: one record per effective time, as in the SQLite
            // store, whose history is keyed by it.
            Some((_, at)) if *at == effective => {
                list.pop_back();
            }
            _ => {}
        }
        list.push_back((*record, effective));
        while list.len() > history.max(1) {
            list.pop_front();
        }
        Ok(true)
    }

    fn put_block(&self, record: &BlockRecord, effective: u64) -> Result<bool, StoreError> {
        let mut g = self.lock();
        let by_business = record.blocker() == AccountKind::Business;
        let key = (record.customer(), record.business(), by_business);
        if g.blocks
            .get(&key)
            .is_some_and(|(last, at)| !record.supersedes(effective, last, *at))
        {
            return Ok(false);
        }
        g.blocks.insert(key, (*record, effective));
        if record.blocked() {
            // In the same step: the blocked party's undelivered envelopes
            // to the blocker go, each logged for its sender (SPEC.md 14.6,
            // 14.16). None was billed: billing happens at delivery.
            let (mailbox, sender) = if by_business {
                (record.business(), record.customer())
            } else {
                (record.customer(), record.business())
            };
            let inner = &mut *g;
            if let Some(mb) = inner.mailboxes.get_mut(&mailbox) {
                let ids: Vec<u64> = mb
                    .waiting
                    .iter()
                    .filter(|(_, e)| e.sender == sender)
                    .map(|(k, _)| *k)
                    .collect();
                for id in ids {
                    if let Some(e) = mb.remove(id) {
                        inner
                            .log
                            .log(&e.bytes, DeliveryState::DeletedByBlock, effective);
                    }
                }
            }
        }
        Ok(true)
    }

    fn consent_history(
        &self,
        customer: &AccountId,
        business: &AccountId,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        Ok(self
            .lock()
            .consents
            .get(&(*customer, *business))
            .map(|l| l.iter().map(|c| c.0).collect())
            .unwrap_or_default())
    }

    fn notification_counts(&self) -> Result<Vec<(AccountId, u64)>, StoreError> {
        Ok(self
            .lock()
            .log
            .billed
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect())
    }

    fn put_report(&self, report: &StoredReport) -> Result<bool, StoreError> {
        let mut g = self.lock();
        g.reports
            .retain(|_, r| !report_retention_over(r.time, report.time));
        let key = (report.business, report.customer, report.message_id);
        if g.reports.contains_key(&key) {
            return Ok(false);
        }
        g.reports.insert(key, report.clone());
        Ok(true)
    }

    fn reporters(&self, business: &AccountId, since: u64) -> Result<u64, StoreError> {
        let g = self.lock();
        let reporters: HashSet<AccountId> = g
            .reports
            .values()
            .filter(|r| r.business == *business && r.time >= since)
            .map(|r| r.customer)
            .collect();
        Ok(reporters.len() as u64)
    }

    fn reach(
        &self,
        business: &AccountId,
        customer: &AccountId,
        since: u64,
    ) -> Result<(bool, u64), StoreError> {
        let g = self.lock();
        let Some(reached) = g.reaches.get(business) else {
            return Ok((false, 0));
        };
        let this = reached.get(customer).is_some_and(|t| *t >= since);
        let count = reached.values().filter(|t| **t >= since).count();
        Ok((this, count as u64))
    }

    fn note_reach(
        &self,
        business: &AccountId,
        customer: &AccountId,
        now: u64,
    ) -> Result<(), StoreError> {
        let mut g = self.lock();
        let reached = g.reaches.entry(*business).or_default();
        reached.retain(|_, t| !reach_expired(*t, now));
        let t = reached.entry(*customer).or_default();
        *t = (*t).max(now);
        Ok(())
    }

    fn states(
        &self,
        sender: &AccountId,
        after: u64,
        max: usize,
    ) -> Result<(Vec<StateEntry>, bool), StoreError> {
        let g = self.lock();
        let Some(states) = g.log.by_sender.get(sender) else {
            return Ok((Vec::new(), false));
        };
        let mut range = states.range(after.saturating_add(1)..).map(|(_, e)| *e);
        let out: Vec<StateEntry> = range.by_ref().take(max).collect();
        Ok((out, range.next().is_some()))
    }

    fn billed(&self, sender: &AccountId, period: u32) -> Result<Vec<StateEntry>, StoreError> {
        Ok(self
            .lock()
            .log
            .by_sender
            .get(sender)
            .map(|states| {
                states
                    .values()
                    .filter(|e| e.billed_period() == Some(period))
                    .copied()
                    .collect()
            })
            .unwrap_or_default())
    }

    fn delete_account(&self, id: &AccountId, now: u64) -> Result<bool, StoreError> {
        let mut g = self.lock();
        if !g
            .accounts
            .get(id)
            .is_some_and(|(a, _)| a.kind == AccountKind::Customer)
        {
            return Ok(false);
        }
        let inner = &mut *g;
        inner.accounts.remove(id);
        inner.directory.remove(id);
        if let Some(mb) = inner.mailboxes.remove(id) {
            for e in mb.waiting.values() {
                inner
                    .log
                    .log(&e.bytes, DeliveryState::DeletedByErasure, now);
            }
        }
        inner.log.by_sender.remove(id);
        g.windows.retain(|(c, _), _| c != id);
        g.blocks.retain(|(c, _, _), _| c != id);
        g.statuses.remove(id);
        g.erased.insert(*id, now);
        Ok(true)
    }

    fn deleted_at(&self, id: &AccountId) -> Result<Option<u64>, StoreError> {
        Ok(self.lock().erased.get(id).copied())
    }

    fn dump(&self) -> Result<Vec<u8>, StoreError> {
        let g = self.lock();
        let mut out = Vec::new();
        for (rec, _) in g.accounts.values() {
            out.extend_from_slice(&rec.identity.to_bytes());
            out.extend_from_slice(&rec.certificate_chain);
            out.extend_from_slice(rec.name.as_bytes());
        }
        for mb in g.mailboxes.values() {
            for e in mb.waiting.values() {
                out.extend_from_slice(&e.bytes);
            }
        }
        for list in g.consents.values() {
            for (c, _) in list {
                out.extend_from_slice(&c.to_bytes());
            }
        }
        for (b, _) in g.blocks.values() {
            out.extend_from_slice(&b.to_bytes());
        }
        for (_, s) in g.statuses.values() {
            out.extend_from_slice(s);
        }
        for r in g.reports.values() {
            out.extend_from_slice(&r.bytes);
        }
        Ok(out)
    }
}

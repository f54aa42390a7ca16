//! Rate limits and the prekey drain count (SPEC.md 14.8, 14.11), kept in
//! the relay's memory with a bounded number of accounts per table.
//!
//! Each limit is a token bucket, run in its "virtual scheduling" form: per
//! account the relay keeps only the time at which the bucket will be full
//! again. A bucket that is full carries no information, so forgetting it is
//! exact; that is what keeps the tables small.

use std::collections::{BTreeSet, HashMap};

use crate::constants::{
    BUNDLE_FETCH_BURST, BUNDLE_FETCH_REFILL_SECS, DRAIN_DAY_SLOTS, DRAIN_SLOT_SECS,
    INITIAL_MESSAGE_BURST, INITIAL_MESSAGE_REFILL_SECS, MAX_RATE_LIMITED_ACCOUNTS,
    ONE_TIME_PREKEY_BURST, ONE_TIME_PREKEY_REFILL_SECS,
};
use crate::relay::auth::AccountId;

/// A token bucket: up to `capacity` tokens, one more every `refill_secs`
/// seconds; each counted event takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    /// Tokens in a full bucket: how many events may happen at once.
    pub capacity: u32,
    /// Seconds to gain one token back: the sustained rate is one event per
    /// `refill_secs`.
    pub refill_secs: u32,
}

/// The relay's rate limits (SPEC.md 14.11). `None` turns a limit off.
///
/// ```
/// use hotline::relay::{ManualClock, MemoryStore, NoBusinesses, RateLimits, Relay, TokenBucket};
/// let limits = RateLimits {
///     bundle_fetches_per_customer: Some(TokenBucket { capacity: 5, refill_secs: 600 }),
///     ..RateLimits::default()
/// };
/// let relay = Relay::new(MemoryStore::new(), ManualClock::new(0), NoBusinesses)
///     .with_rate_limits(limits);
/// # let _ = relay;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Bundle fetches by one customer account. Over the limit, a fetch is
    /// refused ([`RateLimit::BundleFetches`]) before any prekey is taken.
    pub bundle_fetches_per_customer: Option<TokenBucket>,
    /// One-time prekeys handed out per owner, whoever fetches. Over the
    /// limit, bundles are handed out without one-time prekeys (the
    /// last-resort KEM prekey instead), so that many accounts together
    /// cannot drain an owner, yet nobody is refused a bundle.
    pub one_time_prekeys_per_owner: Option<TokenBucket>,
    /// Initial messages (SPEC.md 2.2, message type `0x01`) sent by one
    /// customer account. Over the limit, the send is refused
    /// ([`RateLimit::InitialMessages`]) before it is stored.
    pub initial_messages_per_customer: Option<TokenBucket>,
    /// Largest number of accounts each limit, and the drain count, keeps
    /// state for.
    pub max_tracked_accounts: usize,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            bundle_fetches_per_customer: Some(TokenBucket {
                capacity: BUNDLE_FETCH_BURST,
                refill_secs: BUNDLE_FETCH_REFILL_SECS,
            }),
            one_time_prekeys_per_owner: Some(TokenBucket {
                capacity: ONE_TIME_PREKEY_BURST,
                refill_secs: ONE_TIME_PREKEY_REFILL_SECS,
            }),
            initial_messages_per_customer: Some(TokenBucket {
                capacity: INITIAL_MESSAGE_BURST,
                refill_secs: INITIAL_MESSAGE_REFILL_SECS,
            }),
            max_tracked_accounts: MAX_RATE_LIMITED_ACCOUNTS,
        }
    }
}

impl RateLimits {
    /// No rate limit at all (the drain count is still kept).
    pub const NONE: Self = Self {
        bundle_fetches_per_customer: None,
        one_time_prekeys_per_owner: None,
        initial_messages_per_customer: None,
        max_tracked_accounts: MAX_RATE_LIMITED_ACCOUNTS,
    };
}

/// Which rate limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RateLimit {
    /// [`RateLimits::bundle_fetches_per_customer`].
    BundleFetches,
    /// [`RateLimits::initial_messages_per_customer`].
    InitialMessages,
}

impl RateLimit {
    pub(crate) fn to_byte(self) -> u8 {
        match self {
            Self::BundleFetches => 1,
            Self::InitialMessages => 2,
        }
    }
    pub(crate) fn from_byte(value: u8) -> Option<Self> {
        match value {
            1 => Some(Self::BundleFetches),
            2 => Some(Self::InitialMessages),
            _ => None,
        }
    }
}

/// Per-account values with an ordering key, at most `cap` accounts: the
/// entries with the smallest keys are the ones given up first.
struct Bounded<V> {
    entries: HashMap<AccountId, (u64, V)>,
    order: BTreeSet<(u64, AccountId)>,
    cap: usize,
}

impl<V> Bounded<V> {
    fn new(cap: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: BTreeSet::new(),
            cap: cap.max(1),
        }
    }

    /// Forgets every entry whose key is at most `key`.
    fn forget_through(&mut self, key: u64) {
        while let Some(&(k, id)) = self.order.first() {
            if k > key {
                break;
            }
            self.order.pop_first();
            self.entries.remove(&id);
        }
    }

    fn get(&self, id: &AccountId) -> Option<&(u64, V)> {
        self.entries.get(id)
    }

    fn set(&mut self, id: AccountId, key: u64, value: V) {
        if let Some((old, _)) = self.entries.get(&id) {
            self.order.remove(&(*old, id));
        } else if self.entries.len() >= self.cap
            && let Some((_, evicted)) = self.order.pop_first()
        {
            self.entries.remove(&evicted);
        }
        self.order.insert((key, id));
        self.entries.insert(id, (key, value));
    }
}

/// One token bucket per account: the key is the time at which the
/// account's bucket is full again (it is full at any time not before it).
pub(crate) struct Limiter {
    bucket: TokenBucket,
    full_at: Bounded<()>,
}

impl Limiter {
    fn new(bucket: TokenBucket, cap: usize) -> Self {
        Self {
            bucket,
            full_at: Bounded::new(cap),
        }
    }

    /// When the bucket of `id` would be full again after one more event at
    /// `now`, or the seconds to wait for a token if it is empty.
    fn next(&mut self, id: &AccountId, now: u64) -> Result<u64, u32> {
        // Full buckets hold nothing a fresh one would not: forget them.
        self.full_at.forget_through(now);
        let refill = u64::from(self.bucket.refill_secs);
        let span = refill.saturating_mul(u64::from(self.bucket.capacity));
        let full_at = self.full_at.get(id).map_or(now, |(t, ())| *t).max(now);
        let after = full_at.saturating_add(refill);
        match (after - now).checked_sub(span) {
            Some(wait) if wait > 0 => Err(u32::try_from(wait).unwrap_or(u32::MAX)),
            _ => Ok(after),
        }
    }

    /// Whether an event of `id` would be allowed at `now`, changing nothing;
    /// the seconds to wait otherwise.
    pub(crate) fn check(&mut self, id: &AccountId, now: u64) -> Result<(), u32> {
        self.next(id, now).map(|_| ())
    }

    /// Takes a token of `id` at `now`, or says how long to wait for one.
    pub(crate) fn take(&mut self, id: &AccountId, now: u64) -> Result<(), u32> {
        let after = self.next(id, now)?;
        self.full_at.set(*id, after, ());
        Ok(())
    }

    /// Gives back a token taken for an event that did not happen.
    pub(crate) fn refund(&mut self, id: &AccountId) {
        let refill = u64::from(self.bucket.refill_secs);
        if let Some((t, ())) = self.full_at.get(id) {
            let t = t.saturating_sub(refill);
            self.full_at.set(*id, t, ());
        }
    }
}

/// One-time prekey handouts per owner, counted in slots of
/// [`DRAIN_SLOT_SECS`]: a ring of the current slot and the
/// [`DRAIN_DAY_SLOTS`] before it.
#[derive(Clone, Copy)]
struct DrainSlots {
    counts: [u32; DRAIN_RING],
}

const DRAIN_RING: usize = DRAIN_DAY_SLOTS as usize + 1;

/// Bundles handed out with at least one one-time prekey of the owner
/// (SPEC.md 14.8): the drain rate an owner replenishes against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PreKeyDrain {
    /// In the current and the previous slot of
    /// [`DRAIN_SLOT_SECS`](crate::constants::DRAIN_SLOT_SECS) (so at least
    /// the last hour, at most the last two).
    pub last_hour: u32,
    /// In the current slot and the
    /// [`DRAIN_DAY_SLOTS`](crate::constants::DRAIN_DAY_SLOTS) before it (at
    /// least the last day).
    pub last_day: u32,
}

/// The relay's in-memory limit state.
pub(crate) struct LimitState {
    pub(crate) bundle_fetches: Option<Limiter>,
    pub(crate) one_time_prekeys: Option<Limiter>,
    pub(crate) initial_messages: Option<Limiter>,
    /// Keyed by the owner's latest slot with a handout.
    drain: Bounded<DrainSlots>,
}

impl LimitState {
    pub(crate) fn new(limits: &RateLimits) -> Self {
        let cap = limits.max_tracked_accounts;
        let limiter = |b: Option<TokenBucket>| b.map(|b| Limiter::new(b, cap));
        Self {
            bundle_fetches: limiter(limits.bundle_fetches_per_customer),
            one_time_prekeys: limiter(limits.one_time_prekeys_per_owner),
            initial_messages: limiter(limits.initial_messages_per_customer),
            drain: Bounded::new(cap),
        }
    }

    /// The limiter of a limit that refuses, if it is on.
    pub(crate) fn limiter(&mut self, limit: RateLimit) -> Option<&mut Limiter> {
        match limit {
            RateLimit::BundleFetches => self.bundle_fetches.as_mut(),
            RateLimit::InitialMessages => self.initial_messages.as_mut(),
        }
    }

    /// Counts one bundle that carried one-time prekeys of `owner`.
    pub(crate) fn count_handout(&mut self, owner: &AccountId, now: u64) {
        let slot = now / DRAIN_SLOT_SECS;
        self.forget_drains(slot);
        let (latest, mut slots) = self.drain.get(owner).copied().unwrap_or((
            slot,
            DrainSlots {
                counts: [0; DRAIN_RING],
            },
        ));
        let latest = if slot > latest {
            // Clear the slots that passed without a handout.
            for s in latest.saturating_add(1)..=slot.min(latest.saturating_add(DRAIN_DAY_SLOTS + 1))
            {
                slots.counts[ring(s)] = 0;
            }
            slot
        } else if latest - slot > DRAIN_DAY_SLOTS {
            // A clock set back by more than a day: too old to count.
            return;
        } else {
            latest
        };
        let c = &mut slots.counts[ring(slot)];
        *c = c.saturating_add(1);
        self.drain.set(*owner, latest, slots);
    }

    /// The drain of `owner` as seen at `now`.
    pub(crate) fn drain(&mut self, owner: &AccountId, now: u64) -> PreKeyDrain {
        let slot = now / DRAIN_SLOT_SECS;
        self.forget_drains(slot);
        let Some((latest, slots)) = self.drain.get(owner) else {
            return PreKeyDrain::default();
        };
        let sum = |back: u64| -> u32 {
            (0..=back)
                .filter_map(|k| slot.checked_sub(k))
                .filter(|s| s <= latest && latest - s <= DRAIN_DAY_SLOTS)
                .fold(0u32, |n, s| n.saturating_add(slots.counts[ring(s)]))
        };
        PreKeyDrain {
            last_hour: sum(1),
            last_day: sum(DRAIN_DAY_SLOTS),
        }
    }

    /// Forgets owners whose latest handout is older than any count reports.
    fn forget_drains(&mut self, slot: u64) {
        if let Some(stale) = slot.checked_sub(DRAIN_DAY_SLOTS + 1) {
            self.drain.forget_through(stale);
        }
    }
}

fn ring(slot: u64) -> usize {
    // The remainder is below DRAIN_RING, a small usize.
    (slot % DRAIN_RING as u64) as usize
}

#[cfg(test)]
mod tests {

    #[test]
    fn notification_tiers_are_checked_and_fall_one_step_per_reporters() {
        let t = |l: &[u32], start, step| NotificationTiers::new(l.to_vec(), start, step);
        assert!(t(&[], 0, 1).is_none());
        assert!(t(&[5, 4], 0, 1).is_none());
        assert!(t(&[4, 4], 1, 1).is_some());
        assert!(t(&[4, 5], 2, 1).is_none());
        assert!(t(&[4, 5], 1, 0).is_none());
        assert!(t(&vec![1; 255], 254, 1).is_some());
        assert!(t(&vec![1; 256], 0, 1).is_none());
        let tiers = t(&[10, 20, 30], 2, 3).unwrap();
        assert_eq!(tiers.tier(0), (2, 30));
        assert_eq!(tiers.tier(2), (2, 30));
        assert_eq!(tiers.tier(3), (1, 20));
        assert_eq!(tiers.tier(5), (1, 20));
        assert_eq!(tiers.tier(6), (0, 10));
        assert_eq!(tiers.tier(u64::MAX), (0, 10));
        assert_eq!(NotificationTiers::default().tier(0), (1, 2_000));
        assert_eq!(NotificationTiers::default().tier(3), (0, 250));
    }
    use super::*;

    const A: AccountId = AccountId([1; 32]);
    const B: AccountId = AccountId([2; 32]);

    #[test]
    fn bucket_allows_its_capacity_then_says_when_to_retry() {
        let mut l = Limiter::new(
            TokenBucket {
                capacity: 3,
                refill_secs: 10,
            },
            8,
        );
        for _ in 0..3 {
            assert_eq!(l.take(&A, 100), Ok(()));
        }
        assert_eq!(l.check(&A, 100), Err(10));
        assert_eq!(l.take(&A, 105), Err(5));
        assert_eq!(l.take(&B, 105), Ok(()), "buckets are per account");
        assert_eq!(l.take(&A, 110), Ok(()));
        assert_eq!(l.take(&A, 110), Err(10));
        l.refund(&A);
        assert_eq!(l.take(&A, 110), Ok(()));
        // Idle long enough, the bucket is full again and forgotten.
        assert_eq!(l.take(&B, 1000), Ok(()));
        assert!(l.full_at.get(&A).is_none());
    }

    #[test]
    fn bounded_tables_forget_the_entry_closest_to_full() {
        let mut l = Limiter::new(
            TokenBucket {
                capacity: 1,
                refill_secs: 100,
            },
            2,
        );
        let c = AccountId([3; 32]);
        assert_eq!(l.take(&A, 10), Ok(()));
        assert_eq!(l.take(&B, 20), Ok(()));
        assert_eq!(l.take(&c, 30), Ok(()));
        assert_eq!(l.full_at.entries.len(), 2);
        assert!(l.full_at.get(&A).is_none(), "the earliest to refill goes");
        assert_eq!(l.check(&B, 30), Err(90));
    }

    #[test]
    fn drain_counts_the_last_hour_and_day() {
        let mut s = LimitState::new(&RateLimits::NONE);
        let t0 = 1_000 * DRAIN_SLOT_SECS;
        for _ in 0..3 {
            s.count_handout(&A, t0);
        }
        s.count_handout(&A, t0 + DRAIN_SLOT_SECS);
        let d = s.drain(&A, t0 + DRAIN_SLOT_SECS);
        assert_eq!((d.last_hour, d.last_day), (4, 4));
        let d = s.drain(&A, t0 + 2 * DRAIN_SLOT_SECS);
        assert_eq!((d.last_hour, d.last_day), (1, 4));
        let d = s.drain(&A, t0 + DRAIN_DAY_SLOTS * DRAIN_SLOT_SECS);
        assert_eq!((d.last_hour, d.last_day), (0, 4));
        let d = s.drain(&A, t0 + (DRAIN_DAY_SLOTS + 1) * DRAIN_SLOT_SECS);
        assert_eq!((d.last_hour, d.last_day), (0, 1));
        // A handout after a long pause clears the old slots.
        s.count_handout(&A, t0 + 100 * DRAIN_SLOT_SECS);
        let d = s.drain(&A, t0 + 100 * DRAIN_SLOT_SECS);
        assert_eq!((d.last_hour, d.last_day), (1, 1));
        assert_eq!(s.drain(&B, t0), PreKeyDrain::default());
    }
}

/// Daily notification limits by quality tier (SPEC.md 14.17): how many
/// distinct customers a business may reach with notifications in a rolling
/// day, and how customers' reports lower it.
///
/// ```
/// use hotline::relay::NotificationTiers;
/// let tiers = NotificationTiers::default();
/// // A business nobody reported starts at 2,000 customers a day...
/// assert_eq!(tiers.tier(0), (1, 2_000));
/// // ...and three distinct reporters in a week bring it down to 250.
/// assert_eq!(tiers.tier(3), (0, 250));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationTiers {
    limits: Vec<u32>,
    start: u8,
    reports_per_step: u32,
}

impl Default for NotificationTiers {
    /// WhatsApp's tiers (250, 2,000, 10,000 and 100,000 customers a day),
    /// starting at 2,000 for a business with a verified certificate, one
    /// tier lower per 3 distinct reporters in a week.
    fn default() -> Self {
        Self {
            limits: vec![250, 2_000, 10_000, 100_000],
            start: 1,
            reports_per_step: 3,
        }
    }
}

impl NotificationTiers {
    /// Tiers with the daily `limits`, lowest first (at least one, never
    /// decreasing, at most 255), a business starting in tier `start`, and
    /// one tier lower per `reports_per_step` (at least 1) distinct
    /// reporters in the quality window. `None` if any of these fails.
    pub fn new(limits: Vec<u32>, start: u8, reports_per_step: u32) -> Option<Self> {
        let ok = !limits.is_empty()
            && limits.len() <= 255
            && limits.windows(2).all(|w| w[0] <= w[1])
            && usize::from(start) < limits.len()
            && reports_per_step >= 1;
        ok.then_some(Self {
            limits,
            start,
            reports_per_step,
        })
    }

    /// The tier and daily limit of a business that `reporters` distinct
    /// customers reported within the quality window: the start tier,
    /// lowered by one per `reports_per_step` reporters, never below 0.
    pub fn tier(&self, reporters: u64) -> (u8, u32) {
        let steps = reporters / u64::from(self.reports_per_step);
        let tier = u64::from(self.start).saturating_sub(steps) as u8;
        (
            tier,
            self.limits.get(usize::from(tier)).copied().unwrap_or(0),
        )
    }
}

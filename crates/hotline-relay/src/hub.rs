//! Who is waiting for envelopes: one watch channel per connected account.
//!
//! A send that stores an envelope bumps the recipient's channel; each of the
//! recipient's connections wakes and pushes what it has not pushed yet.
//! A watch channel holds one value, so a burst of sends costs a connection
//! one wake-up, and nothing queues without bound.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hotline::relay::AccountId;
use tokio::sync::watch;

/// The accounts with an open stream.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    accounts: Mutex<HashMap<AccountId, watch::Sender<u64>>>,
}

/// A connection's subscription; dropping it forgets the account once its
/// last connection is gone.
pub(crate) struct Subscription {
    hub: Arc<Hub>,
    account: AccountId,
    pub(crate) changes: watch::Receiver<u64>,
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<AccountId, watch::Sender<u64>>> {
        // The map is consistent after every statement: a panicking holder
        // leaves nothing half-done.
        self.accounts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Subscribes a connection to `account`'s envelopes.
    pub(crate) fn subscribe(self: &Arc<Self>, account: AccountId) -> Subscription {
        let changes = self
            .lock()
            .entry(account)
            .or_insert_with(|| watch::channel(0).0)
            .subscribe();
        Subscription {
            hub: self.clone(),
            account,
            changes,
        }
    }

    /// Wakes every connection of `account` (no-op when none is open).
    pub(crate) fn notify(&self, account: &AccountId) {
        if let Some(tx) = self.lock().get(account) {
            tx.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Wakes every connection (after notifications may have been missed:
    /// each pushes only what it has not pushed yet).
    pub(crate) fn notify_all(&self) {
        for tx in self.lock().values() {
            tx.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// How many accounts have a stream open.
    pub(crate) fn accounts(&self) -> usize {
        self.lock().len()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut map = self.hub.lock();
        // This receiver is still counted while it is being dropped.
        if map
            .get(&self.account)
            .is_some_and(|tx| tx.receiver_count() <= 1)
        {
            map.remove(&self.account);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_notification_wakes_every_connection_of_the_account_only() {
        let hub = Arc::new(Hub::default());
        let (a, b) = (AccountId([1; 32]), AccountId([2; 32]));
        let mut first = hub.subscribe(a);
        let mut second = hub.subscribe(a);
        let mut other = hub.subscribe(b);
        assert_eq!(hub.accounts(), 2);
        hub.notify(&a);
        assert!(first.changes.has_changed().unwrap());
        assert!(second.changes.has_changed().unwrap());
        assert!(!other.changes.has_changed().unwrap());
        first.changes.mark_unchanged();
        other.changes.mark_unchanged();
        second.changes.mark_unchanged();
        // Dropping one connection keeps the account; the last forgets it.
        drop(first);
        assert_eq!(hub.accounts(), 2);
        drop(second);
        assert_eq!(hub.accounts(), 1);
        hub.notify(&a); // nobody listens: nothing happens
        drop(other);
        assert_eq!(hub.accounts(), 0);
    }
}

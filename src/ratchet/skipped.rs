//! The store of skipped message keys, bounded in chains and in keys.

use std::collections::VecDeque;

use subtle::ConstantTimeEq;

use crate::constants::{MAX_SKIPPED_CHAINS, MAX_SKIPPED_KEYS};
use crate::ratchet::keys::{HeaderKey, MessageKeySeed};

/// Skipped keys of one receiving chain, identified by its header key.
#[derive(Clone)]
pub(crate) struct SkippedChain {
    pub(crate) header_key: HeaderKey,
    /// (message number, key seed), ascending.
    pub(crate) keys: VecDeque<(u32, MessageKeySeed)>,
}

/// At most [`MAX_SKIPPED_CHAINS`] chains and [`MAX_SKIPPED_KEYS`] keys;
/// chains are kept oldest first and the oldest keys are evicted first.
#[derive(Clone, Default)]
pub(crate) struct SkippedKeys {
    chains: VecDeque<SkippedChain>,
    total: usize,
}

impl SkippedKeys {
    /// Rebuilds a store from restored chains, oldest first. The caller has
    /// checked the caps and that each chain is non-empty and ascending.
    pub(crate) fn from_chains(chains: VecDeque<SkippedChain>) -> Self {
        let total = chains.iter().map(|c| c.keys.len()).sum();
        Self { chains, total }
    }

    pub(crate) fn chains(&self) -> impl Iterator<Item = &SkippedChain> {
        self.chains.iter()
    }

    pub(crate) fn len(&self) -> usize {
        self.total
    }

    pub(crate) fn chain_count(&self) -> usize {
        self.chains.len()
    }

    pub(crate) fn find(&self, chain: usize, n: u32) -> Option<&MessageKeySeed> {
        let c = self.chains.get(chain)?;
        let pos = c.keys.binary_search_by_key(&n, |(m, _)| *m).ok()?;
        Some(&c.keys[pos].1)
    }

    /// Removes (and so erases) a used key.
    pub(crate) fn remove(&mut self, chain: usize, n: u32) {
        let Some(c) = self.chains.get_mut(chain) else {
            return;
        };
        if let Ok(pos) = c.keys.binary_search_by_key(&n, |(m, _)| *m) {
            c.keys.remove(pos);
            self.total -= 1;
        }
        if c.keys.is_empty() {
            self.chains.remove(chain);
        }
    }

    /// Adds keys skipped on the chain with `header_key`, then enforces the caps.
    pub(crate) fn insert(&mut self, header_key: &HeaderKey, keys: Vec<(u32, MessageKeySeed)>) {
        if keys.is_empty() {
            return;
        }
        self.total += keys.len();
        match self
            .chains
            .iter_mut()
            .find(|c| bool::from(c.header_key.0.ct_eq(&header_key.0)))
        {
            Some(c) => c.keys.extend(keys),
            None => self.chains.push_back(SkippedChain {
                header_key: header_key.clone(),
                keys: keys.into(),
            }),
        }
        while self.chains.len() > MAX_SKIPPED_CHAINS {
            if let Some(c) = self.chains.pop_front() {
                self.total -= c.keys.len();
            }
        }
        while self.total > MAX_SKIPPED_KEYS {
            let Some(front) = self.chains.front_mut() else {
                break;
            };
            front.keys.pop_front();
            self.total -= 1;
            if front.keys.is_empty() {
                self.chains.pop_front();
            }
        }
    }
}

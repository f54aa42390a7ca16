//! The client's own bookkeeping, kept in one record (SPEC.md, section
//! 15.15): the counter of its last signed relay request, the accounts and
//! verified businesses it blocked, and the store's generation for the
//! anti-rollback guard.

use std::collections::BTreeSet;

use crate::business::BusinessId;
use crate::relay::AccountId;
use crate::store::constants::MAX_BLOCKED;
use crate::store::record::RestoreError;
use crate::store::state::count;
use crate::wire::{DecodeError, Reader};

/// The client's state. Every change is committed through the store like a
/// session, with a compare-and-swap on its version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientState {
    /// The counter of the last relay request signed (the relay refuses any
    /// counter not above the last one it accepted).
    pub relay_counter: u64,
    /// The number of commits made under an anti-rollback guard.
    pub generation: u64,
    /// Blocked relay accounts (each an identity key).
    pub blocked_accounts: BTreeSet<AccountId>,
    /// Blocked verified businesses, by certified business id, so that a
    /// blocked business stays blocked under a new identity key.
    pub blocked_businesses: BTreeSet<BusinessId>,
}

impl ClientState {
    /// The exact length of [`ClientState::encode_state`]'s output.
    pub(crate) fn state_len_bound(&self) -> usize {
        24 + 32 * self.blocked_accounts.len() + 16 * self.blocked_businesses.len()
    }

    /// Layout: u64 relay counter || u64 generation || u32 n || n blocked
    /// account ids (32 bytes, strictly ascending) || u32 m || m blocked
    /// business ids (16 bytes, strictly ascending).
    pub(crate) fn encode_state(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.relay_counter.to_be_bytes());
        out.extend_from_slice(&self.generation.to_be_bytes());
        // Both sets are bounded by MAX_BLOCKED (checked when adding).
        out.extend_from_slice(&(self.blocked_accounts.len() as u32).to_be_bytes());
        for a in &self.blocked_accounts {
            out.extend_from_slice(&a.0);
        }
        out.extend_from_slice(&(self.blocked_businesses.len() as u32).to_be_bytes());
        for b in &self.blocked_businesses {
            out.extend_from_slice(&b.0);
        }
    }

    /// Strict decoding: counts bounded before allocation, lists strictly
    /// ascending (one encoding per state).
    pub(crate) fn read_state(r: &mut Reader<'_>) -> Result<Self, RestoreError> {
        let relay_counter = r.u64("relay counter")?;
        let generation = r.u64("generation")?;
        let n = count(r, "blocked accounts", MAX_BLOCKED, 32)?;
        let mut blocked_accounts = BTreeSet::new();
        let mut last: Option<[u8; 32]> = None;
        for _ in 0..n {
            let a = *r.array::<32>("blocked account")?;
            if last.is_some_and(|l| l >= a) {
                return Err(DecodeError::NotCanonical("blocked accounts").into());
            }
            last = Some(a);
            blocked_accounts.insert(AccountId(a));
        }
        let m = count(r, "blocked businesses", MAX_BLOCKED, 16)?;
        let mut blocked_businesses = BTreeSet::new();
        let mut last: Option<[u8; 16]> = None;
        for _ in 0..m {
            let b = *r.array::<16>("blocked business")?;
            if last.is_some_and(|l| l >= b) {
                return Err(DecodeError::NotCanonical("blocked businesses").into());
            }
            last = Some(b);
            blocked_businesses.insert(BusinessId(b));
        }
        Ok(Self {
            relay_counter,
            generation,
            blocked_accounts,
            blocked_businesses,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(s: &ClientState) -> Result<ClientState, RestoreError> {
        let mut out = Vec::new();
        s.encode_state(&mut out);
        let mut r = Reader::new(&out);
        let back = ClientState::read_state(&mut r)?;
        r.finish()?;
        Ok(back)
    }

    #[test]
    fn state_round_trips_and_refuses_unordered_lists() {
        let mut s = ClientState {
            relay_counter: 41,
            generation: 7,
            ..ClientState::default()
        };
        s.blocked_accounts.insert(AccountId([2; 32]));
        s.blocked_accounts.insert(AccountId([1; 32]));
        s.blocked_businesses.insert(BusinessId([9; 16]));
        assert_eq!(roundtrip(&s).unwrap(), s);

        let mut out = Vec::new();
        s.encode_state(&mut out);
        // Swap the two account ids: same set, non-canonical order.
        out[20..52].copy_from_slice(&[2; 32]);
        out[52..84].copy_from_slice(&[1; 32]);
        let mut r = Reader::new(&out);
        assert!(matches!(
            ClientState::read_state(&mut r),
            Err(RestoreError::Malformed(DecodeError::NotCanonical(
                "blocked accounts"
            )))
        ));
        // A duplicate is just as non-canonical.
        out[20..52].copy_from_slice(&[1; 32]);
        let mut r = Reader::new(&out);
        assert!(ClientState::read_state(&mut r).is_err());
    }

    #[test]
    fn counts_above_the_cap_are_refused_before_allocating() {
        let mut out = vec![0u8; 16];
        out.extend_from_slice(&((MAX_BLOCKED as u32) + 1).to_be_bytes());
        let mut r = Reader::new(&out);
        assert!(matches!(
            ClientState::read_state(&mut r),
            Err(RestoreError::Malformed(DecodeError::InvalidLength {
                field: "blocked accounts",
                ..
            }))
        ));
    }
}

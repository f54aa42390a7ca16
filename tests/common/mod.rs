//! Shared helpers for the integration tests.
#![allow(dead_code)]

use hotline::{IdentityKeyPair, PreKeyStore, Session};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub struct Parties {
    pub customer: IdentityKeyPair,
    pub business: IdentityKeyPair,
    pub store: PreKeyStore,
}

pub fn parties(seed: u64) -> Parties {
    let mut r = rng(seed);
    let customer = IdentityKeyPair::generate(&mut r);
    let business = IdentityKeyPair::generate(&mut r);
    let store = PreKeyStore::new(&business, 4, 4, &mut r);
    Parties {
        customer,
        business,
        store,
    }
}

/// An established pair: the customer sent one message, the business replied,
/// and the customer decrypted the reply.
pub fn established(seed: u64) -> (Session, Session, ChaCha20Rng) {
    let mut p = parties(seed);
    let mut r = rng(seed ^ 0xA5A5);
    let mut c = Session::initiate(&p.customer, &p.store.bundle(), &mut r).unwrap();
    let m = c.encrypt_with_rng(b"hello", b"", &mut r).unwrap();
    let (mut b, pt) = Session::respond(&mut p.store, &m, b"").unwrap();
    assert_eq!(pt, b"hello");
    let reply = b.encrypt_with_rng(b"hi", b"", &mut r).unwrap();
    assert_eq!(c.decrypt(&reply, b"").unwrap(), b"hi");
    (c, b, r)
}

/// One gapped round: `MAX_SKIPPED_KEYS / MAX_SKIPPED_CHAINS` messages from
/// `sender` are lost, the next is delivered (so `receiver` stores the lost
/// ones' keys) and `receiver` replies (so `sender` starts a new chain).
pub fn gapped_round(sender: &mut Session, receiver: &mut Session, r: &mut ChaCha20Rng) {
    use hotline::constants::{MAX_SKIPPED_CHAINS, MAX_SKIPPED_KEYS};
    for _ in 0..MAX_SKIPPED_KEYS / MAX_SKIPPED_CHAINS {
        sender.encrypt_with_rng(b"lost", b"", r).unwrap();
    }
    let m = sender.encrypt_with_rng(b"kept", b"", r).unwrap();
    receiver.decrypt(&m, b"").unwrap();
    let m = receiver.encrypt_with_rng(b"ack", b"", r).unwrap();
    sender.decrypt(&m, b"").unwrap();
}

/// Fills `receiver`'s skipped-key store to its caps: `MAX_SKIPPED_KEYS` keys
/// over `MAX_SKIPPED_CHAINS` chains.
pub fn fill_skipped_keys(sender: &mut Session, receiver: &mut Session, r: &mut ChaCha20Rng) {
    use hotline::constants::{MAX_SKIPPED_CHAINS, MAX_SKIPPED_KEYS};
    for _ in 0..MAX_SKIPPED_CHAINS {
        gapped_round(sender, receiver, r);
    }
    assert_eq!(receiver.skipped_key_count(), MAX_SKIPPED_KEYS);
}

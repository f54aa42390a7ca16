//! Long randomized conversations through the public API: random interleaving,
//! reordering within the limits, drops and replays. Every delivered message
//! must decrypt exactly once to what was sent.

mod common;

use std::collections::VecDeque;

use hotline::{DecryptError, Session};
use rand::{Rng, RngExt};

struct InFlight {
    id: u64,
    wire: Vec<u8>,
    plaintext: Vec<u8>,
}

/// Runs `total` messages between a customer and a business. Each direction
/// has a queue; a delivery picks one of the first `window` messages of a
/// queue, so a message is overtaken by at most `window - 1` later ones.
fn run_conversation(seed: u64, total: u64, window: usize, drop_percent: u32) {
    let (mut c, mut b, mut r) = common::established(seed);
    let mut to_b: VecDeque<InFlight> = VecDeque::new();
    let mut to_c: VecDeque<InFlight> = VecDeque::new();
    let mut delivered: Vec<(bool, Vec<u8>, Vec<u8>)> = Vec::new();
    let (mut sent, mut received, mut dropped, mut replays) = (0u64, 0u64, 0u64, 0u64);

    while sent < total || !to_b.is_empty() || !to_c.is_empty() {
        let action = r.random_range(0..100u32);
        if sent < total && action < 50 {
            let from_customer = r.random_bool(0.5);
            let len = r.random_range(0..300usize);
            let mut plaintext = vec![0u8; len];
            r.fill_bytes(&mut plaintext);
            plaintext.extend_from_slice(&sent.to_be_bytes());
            let ad = sent.to_be_bytes();
            let (session, queue) = if from_customer {
                (&mut c, &mut to_b)
            } else {
                (&mut b, &mut to_c)
            };
            let wire = session.encrypt_with_rng(&plaintext, &ad, &mut r).unwrap();
            queue.push_back(InFlight {
                id: sent,
                wire,
                plaintext,
            });
            sent += 1;
        } else if action < 95 {
            let to_business = r.random_bool(0.5);
            let (session, queue) = if to_business {
                (&mut b, &mut to_b)
            } else {
                (&mut c, &mut to_c)
            };
            if queue.is_empty() {
                continue;
            }
            let idx = r.random_range(0..queue.len().min(window));
            let Some(msg) = queue.remove(idx) else {
                continue;
            };
            if r.random_range(0..100) < drop_percent {
                dropped += 1;
                continue;
            }
            let pt = session
                .decrypt(&msg.wire, &msg.id.to_be_bytes())
                .unwrap_or_else(|e| panic!("message {} failed: {e}", msg.id));
            assert_eq!(pt, msg.plaintext, "message {}", msg.id);
            received += 1;
            delivered.push((to_business, msg.wire, msg.id.to_be_bytes().to_vec()));
        } else if !delivered.is_empty() {
            // Replay an already delivered message: refused, state unchanged.
            let i = r.random_range(0..delivered.len());
            let (to_business, wire, ad) = &delivered[i];
            let session = if *to_business { &mut b } else { &mut c };
            let before = session.state_digest();
            let err = session.decrypt(wire, ad).unwrap_err();
            assert!(
                matches!(
                    err,
                    DecryptError::DuplicateMessage | DecryptError::HeaderNotDecryptable
                ),
                "replay gave {err:?}"
            );
            assert_eq!(session.state_digest(), before);
            replays += 1;
        }
        assert!(c.skipped_key_count() <= hotline::constants::MAX_SKIPPED_KEYS);
        assert!(b.skipped_key_count() <= hotline::constants::MAX_SKIPPED_KEYS);
    }
    assert_eq!(sent, total);
    assert_eq!(received + dropped, total);
    assert!(replays > 0 && dropped > 0 || drop_percent == 0);
    eprintln!(
        "seed {seed}: {sent} sent, {received} decrypted, {dropped} dropped, {replays} replays refused"
    );
}

#[test]
fn ten_thousand_messages_random_order_drops_and_replays() {
    run_conversation(1, 10_000, 4, 2);
}

#[test]
fn in_order_conversation_without_drops() {
    run_conversation(2, 2_000, 1, 0);
}

#[test]
fn moderate_reordering_with_drops() {
    run_conversation(3, 3_000, 6, 5);
}

/// Messages of four sending chains (each 100 long) delivered in a random
/// permutation: every one decrypts, within MAX_SKIP and the chain and key caps.
#[test]
fn full_shuffle_across_chains_within_limits() {
    let (mut c, mut b, mut r) = common::established(4);
    let mut queued: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for round in 0..4u8 {
        for i in 0..100u8 {
            let pt = vec![round, i];
            queued.push((c.encrypt_with_rng(&pt, b"", &mut r).unwrap(), pt));
        }
        // The business hears one message of the round and replies, so the
        // customer's next round starts a new chain.
        let pick = queued.len() - 1 - r.random_range(0..100usize);
        let (wire, pt) = queued.remove(pick);
        assert_eq!(b.decrypt(&wire, b"").unwrap(), pt);
        let reply = b.encrypt_with_rng(b"ack", b"", &mut r).unwrap();
        assert_eq!(c.decrypt(&reply, b"").unwrap(), b"ack");
    }
    while !queued.is_empty() {
        let (wire, pt) = queued.swap_remove(r.random_range(0..queued.len()));
        assert_eq!(b.decrypt(&wire, b"").unwrap(), pt);
    }
    assert_eq!(b.skipped_key_count(), 0);
}

#[test]
fn sessions_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Session>();
    assert_send_sync::<hotline::IdentityKeyPair>();
    assert_send_sync::<hotline::PreKeyStore>();
    assert_send_sync::<hotline::PreKeyBundle>();
}

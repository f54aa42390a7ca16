//! A whole conversation driven by the input, to reach the post-quantum
//! ratchet (SPEC.md 16): key generation, encapsulation, shard collection,
//! Reed-Solomon decoding from recovery shards after losses, decapsulation,
//! mixing, late chunks of finished epochs, and storage of every phase.
//!
//! Each input byte is one operation (`op = byte & 7`, `arg = byte >> 3`):
//! 0-1 the customer / the business sends a message of `arg * 37` bytes;
//! 2-3 the queue towards the business / the customer delivers its message
//! number `arg` (modulo its length); 4-5 that message is lost instead;
//! 6 both sessions are stored and restored; 7 a delivered message is
//! delivered again. Every delivered message must decrypt exactly once to
//! its plaintext, a second delivery must be refused without changing the
//! session, and the two sides' completed epochs never differ by more than
//! one.
#![no_main]

use hotline::Session;
use hotline::store::StorageKey;
use hotline_fuzz::{AD, Established, Party, rng};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut est = Established::new();
    let mut c = take(&mut est, Party::Customer);
    let mut b = take(&mut est, Party::Business);
    let mut r = rng(0x9C_0001);
    let key = StorageKey::from_bytes([0x42; 32]);
    // Queues of (wire, plaintext); delivered messages for replays.
    let mut to_b: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut to_c: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut done: Vec<(bool, Vec<u8>)> = Vec::new();
    for &byte in data.iter().take(400) {
        let (op, arg) = (byte & 7, (byte >> 3) as usize);
        match op {
            0 | 1 => {
                let pt = vec![byte; arg * 37];
                let (s, q) = if op == 0 {
                    (&mut c, &mut to_b)
                } else {
                    (&mut b, &mut to_c)
                };
                let wire = s.encrypt_with_rng(&pt, AD, &mut r).expect("encrypt");
                q.push((wire, pt));
            }
            2..=5 => {
                let to_business = op % 2 == 0;
                let (s, q) = if to_business {
                    (&mut b, &mut to_b)
                } else {
                    (&mut c, &mut to_c)
                };
                if q.is_empty() {
                    continue;
                }
                let (wire, pt) = q.remove(arg % q.len());
                if op <= 3 {
                    match s.decrypt(&wire, AD) {
                        Ok(got) => assert_eq!(got, pt, "wrong plaintext"),
                        // Only when a chain's skip limit or the skipped-key
                        // store's eviction is exceeded.
                        Err(e) => assert!(
                            matches!(
                                e,
                                hotline::DecryptError::TooFarAhead { .. }
                                    | hotline::DecryptError::DuplicateMessage
                                    | hotline::DecryptError::HeaderNotDecryptable
                            ),
                            "genuine message refused: {e:?}"
                        ),
                    }
                    done.push((to_business, wire));
                }
            }
            6 => {
                for s in [&mut c, &mut b] {
                    let back =
                        Session::from_pickle(&s.pickle(&key, &mut r), &key).expect("restore");
                    assert_eq!(back.state_digest(), s.state_digest());
                    assert_eq!(back.pq_status(), s.pq_status());
                    *s = back;
                }
            }
            _ => {
                if done.is_empty() {
                    continue;
                }
                let (to_business, wire) = &done[arg % done.len()];
                let s = if *to_business { &mut b } else { &mut c };
                let before = s.state_digest();
                assert!(s.decrypt(wire, AD).is_err(), "a message decrypted twice");
                assert_eq!(s.state_digest(), before);
            }
        }
        let (ce, be) = (
            c.pq_status().epochs_completed,
            b.pq_status().epochs_completed,
        );
        assert!(ce.abs_diff(be) <= 1, "epochs {ce} and {be}");
    }
});

fn take(est: &mut Established, p: Party) -> Session {
    let key = StorageKey::from_bytes([0x42; 32]);
    let mut r = rng(1);
    Session::from_pickle(&est.session(p).pickle(&key, &mut r), &key).expect("copy")
}

//! Properties that must hold for every input, checked with proptest.

mod common;

use hotline::padding::{is_valid_padded_len, padded_len};
use hotline::{IdentityKey, PreKeyBundle, Session, message_type};
use proptest::prelude::*;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(48))]

    /// Any delivery order of a burst of messages (within MAX_SKIP) decrypts
    /// every message exactly once.
    #[test]
    fn any_delivery_order_decrypts_each_message_exactly_once(
        seed in any::<u64>(),
        order in Just((0..40usize).collect::<Vec<_>>()).prop_shuffle(),
    ) {
        let (mut c, mut b, mut r) = common::established(seed);
        let msgs: Vec<Vec<u8>> = (0..40u32)
            .map(|i| c.encrypt_with_rng(&i.to_be_bytes(), b"", &mut r).unwrap())
            .collect();
        for &i in &order {
            let pt = b.decrypt(&msgs[i], b"").unwrap();
            prop_assert_eq!(pt, (i as u32).to_be_bytes().to_vec());
        }
        for m in &msgs {
            prop_assert!(b.decrypt(m, b"").is_err());
        }
        prop_assert_eq!(b.skipped_key_count(), 0);
    }

    /// Interleaved two-way traffic with reordering across DH steps.
    #[test]
    fn interleaved_conversations_decrypt(
        seed in any::<u64>(),
        script in proptest::collection::vec((any::<bool>(), 0usize..3), 1..60),
    ) {
        let (mut c, mut b, mut r) = common::established(seed);
        let mut to_b: Vec<(Vec<u8>, u32)> = Vec::new();
        let mut to_c: Vec<(Vec<u8>, u32)> = Vec::new();
        let mut counter = 0u32;
        for (from_c, deliver_pick) in script {
            counter += 1;
            let (s, q) = if from_c { (&mut c, &mut to_b) } else { (&mut b, &mut to_c) };
            q.push((s.encrypt_with_rng(&counter.to_be_bytes(), b"", &mut r).unwrap(), counter));
            // Deliver one queued message in each direction, chosen among the oldest three.
            for (s, q) in [(&mut b, &mut to_b), (&mut c, &mut to_c)] {
                if !q.is_empty() {
                    let (m, n) = q.remove(deliver_pick.min(q.len() - 1));
                    prop_assert_eq!(s.decrypt(&m, b"").unwrap(), n.to_be_bytes().to_vec());
                }
            }
        }
        for (s, q) in [(&mut b, &mut to_b), (&mut c, &mut to_c)] {
            for (m, n) in q.drain(..) {
                prop_assert_eq!(s.decrypt(&m, b"").unwrap(), n.to_be_bytes().to_vec());
            }
        }
    }

    /// Any single-bit change of any message is refused and changes nothing.
    #[test]
    fn any_single_bit_flip_is_refused_without_state_change(
        seed in any::<u64>(),
        kind in 0u8..3,
        pos in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let (mut c, mut b, mut r) = common::established(seed);
        let (m, receiver) = match kind {
            0 => (c.encrypt_with_rng(b"same chain", b"ad", &mut r).unwrap(), &mut b),
            1 => (b.encrypt_with_rng(b"new chain", b"ad", &mut r).unwrap(), &mut c),
            _ => {
                let early = c.encrypt_with_rng(b"skipped", b"ad", &mut r).unwrap();
                let late = c.encrypt_with_rng(b"later", b"ad", &mut r).unwrap();
                b.decrypt(&late, b"ad").unwrap();
                (early, &mut b)
            }
        };
        let before = receiver.state_digest();
        let mut t = m.clone();
        let i = pos.index(t.len());
        t[i] ^= 1 << bit;
        prop_assert!(receiver.decrypt(&t, b"ad").is_err());
        prop_assert_eq!(receiver.state_digest(), before);
        prop_assert!(receiver.decrypt(&m, b"ad").is_ok());
    }

    /// A single-bit change of an initial message never starts a session.
    #[test]
    fn any_single_bit_flip_of_an_initial_message_is_refused(
        seed in any::<u64>(),
        pos in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let p = common::parties(seed);
        let mut r = common::rng(seed ^ 1);
        let mut c = Session::initiate(&p.customer, &p.store.bundle(), &mut r).unwrap();
        let m = c.encrypt_with_rng(b"first", b"", &mut r).unwrap();
        let mut t = m.clone();
        let i = pos.index(t.len());
        t[i] ^= 1 << bit;
        let mut store = p.store.clone();
        prop_assert!(Session::respond(&mut store, &t, b"").is_err());
        prop_assert_eq!(store.one_time_count(), p.store.one_time_count());
    }

    /// Bundles and identity keys round-trip through their encodings.
    #[test]
    fn encodings_round_trip(seed in any::<u64>()) {
        let p = common::parties(seed);
        let bundle = p.store.bundle();
        let bytes = bundle.to_bytes();
        let decoded = PreKeyBundle::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&decoded, &bundle);
        prop_assert_eq!(decoded.to_bytes(), bytes);
        let id = p.customer.public();
        prop_assert_eq!(IdentityKey::from_bytes(&id.to_bytes()).unwrap(), id);
    }

    /// Padding: every plaintext length maps to a valid padded length above it.
    #[test]
    fn padding_round_trips(len in 0usize..=hotline::constants::MAX_PLAINTEXT_LEN) {
        let p = padded_len(len);
        prop_assert!(p > len);
        prop_assert!(is_valid_padded_len(p));
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Decoding arbitrary bytes never panics, whatever the decoder.
    #[test]
    fn decoding_arbitrary_bytes_never_panics(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = message_type(&data);
        let _ = PreKeyBundle::from_bytes(&data);
        let _ = IdentityKey::from_bytes(&data);
    }

    /// Arbitrary bytes with a valid-looking prefix never panic a live session
    /// or a responder, and change nothing.
    #[test]
    fn arbitrary_messages_never_panic_and_change_nothing(
        kind in prop::sample::select(vec![1u8, 2]),
        data in proptest::collection::vec(any::<u8>(), 0..1600),
    ) {
        let (_c, mut b, _) = common::established(7);
        let mut m = vec![1u8, kind];
        m.extend_from_slice(&data);
        let before = b.state_digest();
        prop_assert!(b.decrypt(&m, b"").is_err());
        prop_assert_eq!(b.state_digest(), before);
        let mut p = common::parties(8);
        let count = p.store.one_time_count();
        prop_assert!(Session::respond(&mut p.store, &m, b"").is_err());
        prop_assert_eq!(p.store.one_time_count(), count);
    }
}

/// The u-coordinates of the points of order 1, 2, 4 and 8 on Curve25519 and
/// its twist, and their non-canonical encodings below 2^255: 0, 1, two points
/// of order 8, p - 1, p and p + 1 (little-endian).
fn low_order_encodings() -> Vec<[u8; 32]> {
    let hex32 = |s: &str| -> [u8; 32] { hex::decode(s).unwrap().try_into().unwrap() };
    let mut p_minus_1 = [0xff; 32];
    p_minus_1[0] = 0xec;
    p_minus_1[31] = 0x7f;
    let mut p = p_minus_1;
    p[0] = 0xed;
    let mut p_plus_1 = p_minus_1;
    p_plus_1[0] = 0xee;
    let mut one = [0u8; 32];
    one[0] = 1;
    vec![
        [0u8; 32],
        one,
        hex32("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
        hex32("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
        p_minus_1,
        p,
        p_plus_1,
    ]
}

/// The DH every low-order check stands for: is X25519 with `secret` all-zero?
fn dh_is_all_zero(secret: [u8; 32], u: [u8; 32]) -> bool {
    use hotline::hazmat::x25519::{X25519Public, X25519Secret};
    X25519Secret::from_bytes(secret)
        .diffie_hellman(&X25519Public::from_bytes(u))
        .is_err()
}

proptest! {
    #![proptest_config(config(256))]

    /// `X25519Public::is_low_order` (a cofactor multiplication) says yes
    /// exactly when a DH with the key is all-zero, for random keys, for every
    /// low-order encoding, with or without the ignored top bit, and for keys
    /// one bit away from them.
    #[test]
    fn the_low_order_check_agrees_with_dh(
        secret in any::<[u8; 32]>(),
        random in any::<[u8; 32]>(),
        pick in 0usize..7,
        top_bit in any::<bool>(),
        flip in proptest::option::of(0usize..255),
    ) {
        use hotline::hazmat::x25519::X25519Public;
        let mut u = low_order_encodings()[pick];
        prop_assert!(dh_is_all_zero(secret, u), "listed key {} is not of low order", hex::encode(u));
        if top_bit {
            u[31] |= 0x80;
        }
        if let Some(bit) = flip {
            u[bit / 8] ^= 1 << (bit % 8);
        }
        for key in [u, random] {
            prop_assert_eq!(
                X25519Public::from_bytes(key).is_low_order(),
                dh_is_all_zero(secret, key),
                "{}", hex::encode(key)
            );
        }
    }
}

/// Runs `rounds` rounds of two-way traffic through a lossy, reordering
/// network: in each round the customer sends a batch and then the business
/// does; each message is lost with probability `loss_pct` %, delayed by up
/// to one round, and the messages due in a round arrive in a random order.
/// Every delivered message must decrypt exactly once (a second delivery is
/// refused). Returns both sessions.
fn lossy_conversation(
    seed: u64,
    loss_pct: u32,
    rounds: usize,
    batch: (usize, usize),
) -> Result<(Session, Session), TestCaseError> {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let (mut c, mut b, mut r) = common::established(seed);
    let mut net = rand_chacha::ChaCha20Rng::seed_from_u64(seed ^ 0x5EED);
    // (due round, plaintext, wire) per direction.
    let mut to_b: Vec<(usize, Vec<u8>, Vec<u8>)> = Vec::new();
    let mut to_c: Vec<(usize, Vec<u8>, Vec<u8>)> = Vec::new();
    let mut counter = 0u32;
    for round in 0..rounds + 2 {
        for from_c in [true, false] {
            let (sender, receiver, queue, back) = if from_c {
                (&mut c, &mut b, &mut to_b, &mut to_c)
            } else {
                (&mut b, &mut c, &mut to_c, &mut to_b)
            };
            let _ = back;
            if round < rounds {
                for _ in 0..if from_c { batch.0 } else { batch.1 } {
                    counter += 1;
                    let pt = counter.to_be_bytes().to_vec();
                    let wire = sender.encrypt_with_rng(&pt, b"", &mut r).unwrap();
                    if net.random_range(0..100) >= loss_pct {
                        let due = round + net.random_range(0..2usize);
                        queue.push((due, pt, wire));
                    }
                }
            }
            let (mut now, later): (Vec<_>, Vec<_>) =
                queue.drain(..).partition(|(due, _, _)| *due <= round);
            *queue = later;
            now.shuffle(&mut net);
            for (_, pt, wire) in now {
                prop_assert_eq!(receiver.decrypt(&wire, b"").unwrap(), pt);
                prop_assert!(receiver.decrypt(&wire, b"").is_err());
            }
        }
    }
    Ok((c, b))
}

proptest! {
    #![proptest_config(config(12))]

    /// SPEC.md 16: under any delivery order and up to 20 % loss, epochs of
    /// the post-quantum ratchet complete in both directions, and every
    /// delivered message decrypts exactly once.
    #[test]
    fn pq_epochs_complete_under_reordering_and_loss(
        seed in any::<u64>(),
        loss_pct in 0u32..=20,
        batch_c in 2usize..6,
        batch_b in 2usize..6,
    ) {
        let (c, b) = lossy_conversation(seed, loss_pct, 60, (batch_c, batch_b))?;
        let (cs, bs) = (c.pq_status(), b.pq_status());
        prop_assert!(cs.epochs_completed >= 2, "{:?}", cs);
        prop_assert!(bs.epochs_completed >= 2, "{:?}", bs);
        prop_assert!(cs.epochs_completed.abs_diff(bs.epochs_completed) <= 1);
    }

    /// Lopsided traffic (the business sends up to ten times as much) with
    /// loss still completes epochs.
    #[test]
    fn pq_epochs_complete_in_lopsided_conversations(
        seed in any::<u64>(),
        loss_pct in 0u32..=20,
        heavy in 5usize..11,
    ) {
        let (c, b) = lossy_conversation(seed, loss_pct, 120, (1, heavy))?;
        prop_assert!(c.pq_status().epochs_completed >= 1, "{:?}", c.pq_status());
        prop_assert!(b.pq_status().epochs_completed >= 1, "{:?}", b.pq_status());
    }
}

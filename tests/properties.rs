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

//! The post-quantum ratchet through the public API (SPEC.md section 16):
//! the relay cannot strip or alter chunks, epochs survive storage, and no
//! message grows by more than 100 bytes.

mod common;

use hotline::constants::{PQ_MAX_GROWTH, RATCHET_PREFIX_LEN, TAG_LEN};
use hotline::padding::padded_len;
use hotline::store::StorageKey;
use hotline::{DecryptError, Session};

/// Bytes the ratchet added to a ratchet message of a `len`-byte plaintext.
fn added(wire: &[u8], len: usize) -> usize {
    wire.len() - (RATCHET_PREFIX_LEN + padded_len(len) + TAG_LEN)
}

#[test]
fn the_relay_cannot_strip_or_alter_a_chunk() {
    let (mut c, mut b, mut r) = common::established(31);
    // The customer owns epoch 1: its messages carry key shards.
    let m = c
        .encrypt_with_rng(b"where is my parcel?", b"", &mut r)
        .unwrap();
    assert_eq!(added(&m, 19), padded_len(19 + 70) - padded_len(19));
    assert_eq!(added(&m, 19), 32);
    let before = b.state_digest();
    // Any change to the trailer's bytes (the end of the body) fails.
    for back in 17..17 + 70 {
        let mut t = m.clone();
        let at = t.len() - back;
        t[at] ^= 0x01;
        assert_eq!(b.decrypt(&t, b""), Err(DecryptError::AuthenticationFailed));
    }
    // Cutting the body to the length it would have without a chunk fails
    // before any decryption (not a valid padded length) or at the tag.
    let mut cut = m.clone();
    cut.truncate(RATCHET_PREFIX_LEN + padded_len(19) + TAG_LEN - 8);
    assert!(b.decrypt(&cut, b"").is_err());
    assert_eq!(b.state_digest(), before);
    assert_eq!(b.decrypt(&m, b"").unwrap(), b"where is my parcel?");
}

#[test]
fn epochs_complete_across_store_and_restore() {
    let (mut c, mut b, mut r) = common::established(32);
    let key = StorageKey::from_bytes([9; 32]);
    for round in 0..40 {
        for _ in 0..3 {
            let m = c.encrypt_with_rng(b"customer", b"", &mut r).unwrap();
            b.decrypt(&m, b"").unwrap();
        }
        for _ in 0..3 {
            let m = b.encrypt_with_rng(b"business", b"", &mut r).unwrap();
            c.decrypt(&m, b"").unwrap();
        }
        if round % 2 == 0 {
            c = Session::from_pickle(&c.pickle(&key, &mut r), &key).unwrap();
        } else {
            b = Session::from_pickle(&b.pickle(&key, &mut r), &key).unwrap();
        }
    }
    let (cs, bs) = (c.pq_status(), b.pq_status());
    assert!(cs.enabled && bs.enabled);
    assert!(cs.epochs_completed >= 2, "{cs:?}");
    assert!(cs.epochs_completed.abs_diff(bs.epochs_completed) <= 1);
}

#[test]
fn no_message_grows_by_more_than_100_bytes() {
    let (mut c, mut b, mut r) = common::established(33);
    let mut worst = 0;
    let mut with_chunk = 0;
    for i in 0..600usize {
        // Lengths around every padding boundary up to 4 KiB, then larger.
        let len = (i * 37) % 4200 + if i % 50 == 0 { 60_000 } else { 0 };
        let pt = vec![b'x'; len];
        let (s, rcv) = if (i / 5) % 2 == 0 {
            (&mut c, &mut b)
        } else {
            (&mut b, &mut c)
        };
        let m = s.encrypt_with_rng(&pt, b"", &mut r).unwrap();
        let a = added(&m, len);
        assert!(a <= PQ_MAX_GROWTH, "{len} bytes grew by {a}");
        worst = worst.max(a);
        with_chunk += usize::from(a > 0);
        assert_eq!(rcv.decrypt(&m, b"").unwrap(), pt);
    }
    assert!(worst > 0 && with_chunk > 50, "chunks were carried");
    assert!(c.pq_status().epochs_completed >= 1, "{:?}", c.pq_status());
}

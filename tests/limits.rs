//! Limits at their exact boundaries, through the public API: the value at a
//! limit is accepted and the next one refused with its typed error.

mod common;

use hotline::constants::{MAX_PLAINTEXT_LEN, MAX_SKIP};
use hotline::{DecryptError, EncryptError};

/// A gap on the receiver's current chain (no ratchet step): skipping exactly
/// `MAX_SKIP` keys is accepted, one more is refused and changes nothing.
/// (The attack tests cover the gap on a new chain, which is checked
/// separately when the ratchet steps.)
#[test]
fn max_skip_on_the_current_receiving_chain() {
    // The business replied once, so the customer's current receiving chain
    // is the business's sending chain, at message 1.
    let (mut customer, mut business, mut r) = common::established(91);
    let messages: Vec<Vec<u8>> = (0..=MAX_SKIP + 1)
        .map(|i| {
            business
                .encrypt_with_rng(&i.to_be_bytes(), b"", &mut r)
                .unwrap()
        })
        .collect();

    let before = customer.state_digest();
    assert_eq!(
        customer.decrypt(&messages[MAX_SKIP as usize + 1], b""),
        Err(DecryptError::TooFarAhead { skip: MAX_SKIP + 1 })
    );
    assert_eq!(customer.state_digest(), before, "a refusal changes nothing");

    assert_eq!(
        customer.decrypt(&messages[MAX_SKIP as usize], b"").unwrap(),
        MAX_SKIP.to_be_bytes()
    );
    assert_eq!(customer.skipped_key_count(), MAX_SKIP as usize);
    // The skipped ones still decrypt, and so does the one past the gap now.
    assert_eq!(
        customer.decrypt(&messages[0], b"").unwrap(),
        0u32.to_be_bytes()
    );
    assert_eq!(
        customer
            .decrypt(&messages[MAX_SKIP as usize + 1], b"")
            .unwrap(),
        (MAX_SKIP + 1).to_be_bytes()
    );
}

/// A plaintext of exactly `MAX_PLAINTEXT_LEN` bytes is sent and received;
/// one byte more is refused before anything changes.
#[test]
fn max_plaintext_len_is_accepted_and_one_more_refused() {
    let (mut customer, mut business, mut r) = common::established(92);
    let before = customer.state_digest();
    assert_eq!(
        customer.encrypt_with_rng(&vec![0x41; MAX_PLAINTEXT_LEN + 1], b"", &mut r),
        Err(EncryptError::PlaintextTooLong(MAX_PLAINTEXT_LEN + 1))
    );
    assert_eq!(customer.state_digest(), before);

    let largest: Vec<u8> = (0..MAX_PLAINTEXT_LEN).map(|i| i as u8).collect();
    let wire = customer.encrypt_with_rng(&largest, b"ad", &mut r).unwrap();
    assert_eq!(business.decrypt(&wire, b"ad").unwrap(), largest);
}

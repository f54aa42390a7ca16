//! `PreKeyBundle::from_bytes` and, when it verifies, `Session::initiate` and
//! the first `encrypt` with it; when the bundle is the business's, the
//! business's `Session::respond` to that first message.
//!
//! Random bytes almost never carry valid signatures, so every input is also
//! tried re-signed (`hotline_fuzz::resign_bundle`: the business's key written
//! in and every signature recomputed), which lets the fuzzer choose the
//! X25519 and ML-KEM keys, ids, kinds and flags of a bundle that verifies.
#![no_main]

use hotline::{MessageType, PreKeyBundle, Session, message_type};
use hotline_fuzz::{
    AD, BUNDLE_RNG_SEED, business, business_store, customer, fixtures, resign_bundle, rng,
};
use libfuzzer_sys::fuzz_target;

fn check(bytes: &[u8]) {
    let Ok(bundle) = PreKeyBundle::from_bytes(bytes) else {
        return;
    };
    assert_eq!(bundle.to_bytes(), bytes, "bundle decoding is not canonical");
    let mut r = rng(BUNDLE_RNG_SEED);
    let Ok(mut session) = Session::initiate(customer(), &bundle, &mut r) else {
        return;
    };
    let plaintext = b"first message";
    let wire = session
        .encrypt_with_rng(plaintext, AD, &mut r)
        .expect("a freshly initiated session must encrypt");
    assert!(session.awaiting_reply());
    assert_eq!(message_type(&wire), Ok(MessageType::Initial));

    if *bundle.identity() != business().public() {
        return;
    }
    let genuine = fixtures().bundles.iter().any(|(_, b)| *b == bundle);
    let mut store = business_store();
    let counts = (store.one_time_count(), store.kem_one_time_count());
    match Session::respond(&mut store, &wire, AD) {
        Ok((_, pt)) => assert_eq!(pt, plaintext),
        Err(e) => {
            assert!(
                !genuine,
                "initial message from a genuine bundle refused: {e}"
            );
            assert_eq!(
                (store.one_time_count(), store.kem_one_time_count()),
                counts,
                "failed respond ({e:?}) consumed prekeys"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let resigned = resign_bundle(data);
    if resigned != data {
        check(&resigned);
    }
});

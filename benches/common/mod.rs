//! Session fixtures shared by the benches.

#![allow(dead_code)] // Each bench uses its own subset.

/// The integration tests' helpers (`tests/common`).
#[path = "../../tests/common/mod.rs"]
pub mod tests;

use hotline::{IdentityKeyPair, PreKeyStore, Session};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use vodozemac::olm::{Account, OlmMessage, SessionConfig};

/// An established vodozemac Olm session pair (libolm-compatible version 1,
/// the configuration Matrix clients use), one round trip done.
pub fn vodozemac_pair() -> (vodozemac::olm::Session, vodozemac::olm::Session) {
    let alice = Account::new();
    let mut bob = Account::new();
    bob.generate_one_time_keys(1);
    let otk = *bob.one_time_keys().values().next().unwrap();
    bob.mark_keys_as_published();
    let mut a = alice
        .create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk)
        .unwrap();
    let OlmMessage::PreKey(first) = a.encrypt("hi").unwrap() else {
        unreachable!("the first message is a pre-key message")
    };
    let mut b = bob
        .create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &first)
        .unwrap()
        .session;
    let m = b.encrypt("hi").unwrap();
    a.decrypt(&m).unwrap();
    let m = a.encrypt("hi").unwrap();
    b.decrypt(&m).unwrap();
    (a, b)
}

/// An established Hotline session pair (customer, business), one round
/// trip done, and the RNG that made it.
pub fn established() -> (Session, Session, ChaCha20Rng) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let c_id = IdentityKeyPair::generate(&mut rng);
    let b_id = IdentityKeyPair::generate(&mut rng);
    let mut store = PreKeyStore::new(&b_id, 1, 1, &mut rng);
    let mut c = Session::initiate(&c_id, &store.bundle(), &mut rng).unwrap();
    let m = c.encrypt_with_rng(b"hi", b"", &mut rng).unwrap();
    let (mut b, _) = Session::respond(&mut store, &m, b"").unwrap();
    let m = b.encrypt_with_rng(b"hi", b"", &mut rng).unwrap();
    c.decrypt(&m, b"").unwrap();
    let m = c.encrypt_with_rng(b"hi", b"", &mut rng).unwrap();
    b.decrypt(&m, b"").unwrap();
    (c, b, rng)
}

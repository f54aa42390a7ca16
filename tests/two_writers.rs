//! Two clients of one account writing to one store (two processes, or two
//! threads, of the same app): a session is saved only under the trust it
//! was checked against. When the other writer replaced the peer's trusted
//! identity after this client read it, the save conflicts, the client
//! reads the store again and refuses with `IdentityChanged`, instead of
//! encrypting to, or accepting a session from, an identity the user no
//! longer trusts (SPEC.md 15.13).

use std::sync::{Arc, Mutex};

use hotline::IdentityKeyPair;
use hotline::store::{
    Client, EncryptedStore, MemoryBackend, MemoryStore, PeerId, ReceiveError, SendError, StorageKey,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

type Shared = EncryptedStore<Arc<Mutex<MemoryBackend>>>;

/// Two clients (`first`, `second`) of one account on one shared backend,
/// and a peer with its own store.
fn setup(
    seed: u64,
) -> (
    Client<Shared>,
    Client<Shared>,
    Client<MemoryStore>,
    ChaCha20Rng,
) {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    let key = StorageKey::generate(&mut r);
    let backend = Arc::new(Mutex::new(MemoryBackend::default()));
    let first = Client::create(
        EncryptedStore::new(key.clone(), backend.clone()),
        4,
        4,
        &mut r,
    )
    .unwrap();
    let second = Client::open(EncryptedStore::new(key, backend)).unwrap();
    let peer = Client::create(
        MemoryStore::in_memory(StorageKey::generate(&mut r)),
        4,
        4,
        &mut r,
    )
    .unwrap();
    (first, second, peer, r)
}

fn addr(name: &str) -> PeerId {
    PeerId::new(name).unwrap()
}

#[test]
fn a_send_after_another_writer_replaced_the_trusted_identity_is_refused() {
    let (mut first, mut second, mut peer, mut r) = setup(61);
    let (p, me) = (addr("peer"), addr("me"));
    first
        .start_session(&p, &peer.bundle().unwrap(), &mut r)
        .unwrap();
    let wire = first.encrypt(&p, b"hello", b"").unwrap();
    assert_eq!(peer.decrypt(&me, &wire, b"").unwrap(), b"hello");
    // The other writer accepts another identity for the peer (after the
    // user confirmed it there); this client still holds the old trust.
    let other = IdentityKeyPair::generate(&mut r).public();
    second.trust_identity(&p, &other).unwrap();
    match first.encrypt(&p, b"secret", b"") {
        Err(SendError::IdentityChanged(change)) => {
            assert_eq!(change.trusted, other);
            assert_eq!(change.received, peer.identity());
        }
        other => panic!("sent under replaced trust: {other:?}"),
    }
    assert_eq!(first.trusted_identity(&p).unwrap(), Some(other));
}

#[test]
fn a_new_session_after_another_writer_replaced_the_trusted_identity_is_refused() {
    let (mut first, mut second, mut peer, mut r) = setup(62);
    let (p, me) = (addr("peer"), addr("me"));
    // The peer starts a session; this client accepts it and trusts it.
    peer.start_session(&me, &first.bundle().unwrap(), &mut r)
        .unwrap();
    let wire = peer.encrypt(&me, b"one", b"").unwrap();
    assert_eq!(first.decrypt(&p, &wire, b"").unwrap(), b"one");
    let other = IdentityKeyPair::generate(&mut r).public();
    second.trust_identity(&p, &other).unwrap();
    // A new session from the peer, under the identity no longer trusted.
    peer.start_session(&me, &first.bundle().unwrap(), &mut r)
        .unwrap();
    let wire = peer.encrypt(&me, b"two", b"").unwrap();
    match first.decrypt(&p, &wire, b"") {
        Err(ReceiveError::IdentityChanged(change)) => {
            assert_eq!(change.trusted, other);
            assert_eq!(change.received, peer.identity());
        }
        other => panic!("accepted under replaced trust: {other:?}"),
    }
}

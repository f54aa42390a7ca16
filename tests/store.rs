//! The client over its stores: restores between every operation, failures
//! that save nothing, simultaneous starts, reinstalls and identity changes.

mod common;

use std::collections::VecDeque;

use hotline::constants::{MAX_PREVIOUS_SESSIONS, RECORD_PEER_SESSIONS};
use hotline::store::{
    Client, ClientStore, IdentityStore, MemoryStore, PeerId, PreKeyRepository, ReceiveError,
    RestoreError, SendError, SessionRepository, StartError, StorageKey, StoreError,
};
use hotline::{DecryptError, IdentityKeyPair, PreKeyStore};
use rand::{Rng, RngExt};
use rand_chacha::ChaCha20Rng;

type C = Client<MemoryStore>;

fn peer(name: &str) -> PeerId {
    PeerId::new(name).unwrap()
}

fn new_client(r: &mut ChaCha20Rng) -> C {
    Client::create(MemoryStore::in_memory(StorageKey::generate(r)), 20, 20, r).unwrap()
}

/// Drops the client and opens its store again.
fn reopen(c: C) -> C {
    Client::open(c.into_store()).unwrap()
}

/// Every stored record: ((kind, name), sealed bytes).
type Records = Vec<((u8, Vec<u8>), Vec<u8>)>;

fn snapshot(c: &C) -> Records {
    c.store()
        .backend()
        .records()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn active_id(c: &C, p: &PeerId) -> [u8; 32] {
    c.sessions(p).unwrap().unwrap().active().handshake_id()
}

struct Msg {
    id: u64,
    wire: Vec<u8>,
    plaintext: Vec<u8>,
}

/// Two clients talking through queues that reorder within `window`; every
/// client is dropped and reopened after every operation. Every message
/// decrypts exactly once.
#[test]
fn clients_restored_between_every_operation_decrypt_every_message_exactly_once() {
    let mut r = common::rng(31);
    let (ca, cb) = (peer("customer"), peer("business"));
    let mut business = new_client(&mut r);
    let mut customer = new_client(&mut r);
    customer
        .start_session(&cb, &business.bundle().unwrap(), &mut r)
        .unwrap();
    customer = reopen(customer);
    let mut to_b: VecDeque<Msg> = VecDeque::new();
    let mut to_c: VecDeque<Msg> = VecDeque::new();
    let mut delivered: Vec<(bool, Vec<u8>, u64)> = Vec::new();
    let (mut sent, mut received, mut replays) = (0u64, 0u64, 0u64);
    let total = 800;
    let mut business_started = false;
    while sent < total || !to_b.is_empty() || !to_c.is_empty() {
        let action = r.random_range(0..100u32);
        if sent < total && action < 50 {
            let from_customer = !business_started || r.random_bool(0.5);
            let mut pt = vec![0u8; r.random_range(0..200)];
            r.fill_bytes(&mut pt);
            pt.extend_from_slice(&sent.to_be_bytes());
            let ad = sent.to_be_bytes();
            let (client, to, q) = if from_customer {
                (&mut customer, &cb, &mut to_b)
            } else {
                (&mut business, &ca, &mut to_c)
            };
            let wire = client.encrypt(to, &pt, &ad).unwrap();
            q.push_back(Msg {
                id: sent,
                wire,
                plaintext: pt,
            });
            sent += 1;
        } else if action < 92 {
            let to_business = r.random_bool(0.5);
            let (client, from, q) = if to_business {
                (&mut business, &ca, &mut to_b)
            } else {
                (&mut customer, &cb, &mut to_c)
            };
            if q.is_empty() {
                continue;
            }
            let i = r.random_range(0..q.len().min(4));
            let m = q.remove(i).unwrap();
            let pt = client
                .decrypt(from, &m.wire, &m.id.to_be_bytes())
                .unwrap_or_else(|e| panic!("message {}: {e}", m.id));
            assert_eq!(pt, m.plaintext, "message {}", m.id);
            business_started |= to_business;
            received += 1;
            delivered.push((to_business, m.wire, m.id));
        } else if !delivered.is_empty() {
            let (to_business, wire, id) = &delivered[r.random_range(0..delivered.len())];
            let (client, from) = if *to_business {
                (&mut business, &ca)
            } else {
                (&mut customer, &cb)
            };
            let before = snapshot(client);
            assert!(client.decrypt(from, wire, &id.to_be_bytes()).is_err());
            assert_eq!(snapshot(client), before, "a refused replay saved something");
            replays += 1;
        }
        customer = reopen(customer);
        business = reopen(business);
    }
    assert_eq!(received, total);
    assert!(replays > 50);
}

#[test]
fn a_failed_decrypt_saves_nothing() {
    let mut r = common::rng(32);
    let (ca, cb) = (peer("customer"), peer("business"));
    let mut business = new_client(&mut r);
    let mut customer = new_client(&mut r);
    customer
        .start_session(&cb, &business.bundle().unwrap(), &mut r)
        .unwrap();
    let first = customer.encrypt(&cb, b"hello", b"").unwrap();

    // Every tampered initial message: nothing saved, no prekey consumed.
    let before = snapshot(&business);
    let prekeys_before = business
        .store()
        .load_prekeys()
        .unwrap()
        .unwrap()
        .value
        .one_time_count();
    for i in (0..first.len()).step_by(97) {
        let mut bad = first.clone();
        bad[i] ^= 0x40;
        assert!(business.decrypt(&ca, &bad, b"").is_err());
        assert_eq!(snapshot(&business), before, "byte {i}");
    }
    assert!(business.decrypt(&ca, &first, b"other ad").is_err());
    assert_eq!(snapshot(&business), before);
    assert_eq!(business.decrypt(&ca, &first, b"").unwrap(), b"hello");
    let business = reopen(business);
    assert_eq!(
        business
            .store()
            .load_prekeys()
            .unwrap()
            .unwrap()
            .value
            .one_time_count(),
        prekeys_before - 1,
        "the one-time prekey was consumed durably"
    );

    // A ratchet message from a peer with no session.
    let mut business = business;
    let reply = business.encrypt(&ca, b"hi", b"").unwrap();
    let stranger = peer("stranger");
    let before = snapshot(&customer);
    assert!(matches!(
        customer.decrypt(&stranger, &reply, b""),
        Err(ReceiveError::NoSession)
    ));
    let mut tampered = reply.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(matches!(
        customer.decrypt(&cb, &tampered, b""),
        Err(ReceiveError::Decrypt(DecryptError::AuthenticationFailed))
    ));
    assert_eq!(snapshot(&customer), before);
    assert_eq!(customer.decrypt(&cb, &reply, b"").unwrap(), b"hi");
    assert!(matches!(
        customer.encrypt(&stranger, b"x", b""),
        Err(SendError::NoSession)
    ));
}

/// Runs `plan` on two clients that both started a session with the other
/// (sends, and deliveries by index of the message in its direction), with
/// both reopened after every step; then delivers the rest and lets them
/// talk. Checks that they converged and returns the active handshake id.
fn converge(mut a: C, mut b: C, plan: &[Step]) -> [u8; 32] {
    let (pa, pb) = (peer("a"), peer("b"));
    let mut a_to_b: Vec<Option<(Vec<u8>, Vec<u8>)>> = Vec::new();
    let mut b_to_a: Vec<Option<(Vec<u8>, Vec<u8>)>> = Vec::new();
    for (n, step) in plan.iter().enumerate() {
        let text = format!("message {n}").into_bytes();
        match *step {
            Step::ASends => {
                a_to_b.push(Some((a.encrypt(&pb, &text, b"").unwrap(), text)));
            }
            Step::BSends => {
                b_to_a.push(Some((b.encrypt(&pa, &text, b"").unwrap(), text)));
            }
            Step::ToB(i) => {
                let (w, t) = a_to_b[i].take().unwrap();
                assert_eq!(b.decrypt(&pa, &w, b"").unwrap(), t);
            }
            Step::ToA(i) => {
                let (w, t) = b_to_a[i].take().unwrap();
                assert_eq!(a.decrypt(&pb, &w, b"").unwrap(), t);
            }
        }
        a = reopen(a);
        b = reopen(b);
    }
    // Deliver whatever is left, then talk until both sides agree.
    for (w, t) in a_to_b.into_iter().flatten() {
        assert_eq!(b.decrypt(&pa, &w, b"").unwrap(), t);
    }
    for (w, t) in b_to_a.into_iter().flatten() {
        assert_eq!(a.decrypt(&pb, &w, b"").unwrap(), t);
    }
    for round in 0..2 {
        let w = a.encrypt(&pb, b"ping", b"").unwrap();
        assert_eq!(b.decrypt(&pa, &w, b"").unwrap(), b"ping");
        let w = b.encrypt(&pa, b"pong", b"").unwrap();
        assert_eq!(a.decrypt(&pb, &w, b"").unwrap(), b"pong");
        if round == 1 {
            assert_eq!(active_id(&a, &pb), active_id(&b, &pa), "converged");
            let sa = a.sessions(&pb).unwrap().unwrap();
            assert!(!sa.active().awaiting_reply());
            assert!(sa.len() <= 1 + MAX_PREVIOUS_SESSIONS);
        }
    }
    active_id(&a, &pb)
}

#[derive(Clone, Copy, Debug)]
enum Step {
    ASends,
    BSends,
    ToB(usize),
    ToA(usize),
}

/// Two clients that have both started a session with each other; returned
/// so that the first one's session has the lower handshake id.
fn simultaneous(seed: u64) -> (C, C, ChaCha20Rng) {
    let mut r = common::rng(seed);
    loop {
        let mut a = new_client(&mut r);
        let mut b = new_client(&mut r);
        let (pa, pb) = (peer("a"), peer("b"));
        let (ba, bb) = (a.bundle().unwrap(), b.bundle().unwrap());
        a.start_session(&pb, &bb, &mut r).unwrap();
        b.start_session(&pa, &ba, &mut r).unwrap();
        if active_id(&a, &pb) < active_id(&b, &pa) {
            return (a, b, r);
        }
    }
}

/// The first client's session has the lower handshake id: it must win.
fn assert_lower_wins(a: C, b: C, plan: &[Step]) {
    let lower = active_id(&a, &peer("b"));
    assert_eq!(converge(a, b, plan), lower);
}

#[test]
fn simultaneous_start_converges_on_the_lower_handshake_id() {
    use Step::*;
    // Crossing initial messages.
    let (a, b, _) = simultaneous(40);
    assert_lower_wins(a, b, &[ASends, BSends, ToB(0), ToA(0)]);
    // Each side hears the other before sending anything more, both orders.
    let (a, b, _) = simultaneous(41);
    assert_lower_wins(a, b, &[ASends, BSends, ToA(0), ToB(0), ASends, ToB(1)]);
    // The winner's start is answered before the loser's arrives (the relay
    // delivered out of order): the first side follows back to the winner.
    let (a, b, _) = simultaneous(42);
    assert_lower_wins(
        a,
        b,
        &[
            ASends,
            BSends,
            ToB(0),
            BSends,
            ToA(1),
            ToA(0),
            BSends,
            ToA(2),
        ],
    );
    // Many messages in flight on both sessions.
    let (a, b, _) = simultaneous(43);
    assert_lower_wins(
        a,
        b,
        &[
            ASends,
            ASends,
            BSends,
            BSends,
            ToA(1),
            ASends,
            ToB(2),
            ToB(0),
            BSends,
            ToA(0),
            ToA(2),
            ToB(1),
            BSends,
            ToA(3),
        ],
    );
}

#[test]
fn simultaneous_start_converges_under_random_delivery() {
    for seed in 0..16u64 {
        let (a, b, mut r) = simultaneous(100 + seed);
        let mut plan = Vec::new();
        let (mut sa, mut sb) = (0usize, 0usize);
        let (mut pending_b, mut pending_a): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
        for _ in 0..20 {
            match r.random_range(0..4u32) {
                0 => {
                    plan.push(Step::ASends);
                    pending_b.push(sa);
                    sa += 1;
                }
                1 => {
                    plan.push(Step::BSends);
                    pending_a.push(sb);
                    sb += 1;
                }
                2 if !pending_b.is_empty() => {
                    let i = r.random_range(0..pending_b.len());
                    plan.push(Step::ToB(pending_b.remove(i)));
                }
                3 if !pending_a.is_empty() => {
                    let i = r.random_range(0..pending_a.len());
                    plan.push(Step::ToA(pending_a.remove(i)));
                }
                _ => {}
            }
        }
        assert_lower_wins(a, b, &plan);
    }
}

/// A peer that loses its state but keeps its identity (restored from a
/// backup of its keys) starts a new session; the other side follows it,
/// also when stale messages of the old session arrive afterwards.
#[test]
fn reinstall_with_the_same_identity_converges() {
    let mut r = common::rng(50);
    let (pa, pb) = (peer("a"), peer("b"));
    let mut a = new_client(&mut r);
    let mut b = new_client(&mut r);
    a.start_session(&pb, &b.bundle().unwrap(), &mut r).unwrap();
    let w = a.encrypt(&pb, b"1", b"").unwrap();
    b.decrypt(&pa, &w, b"").unwrap();
    let w = b.encrypt(&pa, b"2", b"").unwrap();
    a.decrypt(&pb, &w, b"").unwrap();
    let stale = b.encrypt(&pa, b"sent before the reinstall", b"").unwrap();
    let old_id = active_id(&a, &pb);

    // b reinstalls: same identity, fresh prekeys, no sessions.
    let identity: IdentityKeyPair = b.store().local_identity().unwrap().unwrap();
    let store = MemoryStore::in_memory(StorageKey::generate(&mut r));
    let prekeys = PreKeyStore::new(&identity, 5, 5, &mut r);
    let mut b = Client::create_with(store, identity, prekeys).unwrap();
    // a's message on the old session cannot reach the new install.
    let lost = a.encrypt(&pb, b"lost", b"").unwrap();
    assert!(matches!(
        b.decrypt(&pa, &lost, b""),
        Err(ReceiveError::NoSession)
    ));
    b.start_session(&pa, &a.bundle().unwrap(), &mut r).unwrap();
    let w = b.encrypt(&pa, b"I am back", b"").unwrap();
    assert_eq!(a.decrypt(&pb, &w, b"").unwrap(), b"I am back");
    let new_id = active_id(&a, &pb);
    assert_ne!(new_id, old_id);
    assert_eq!(new_id, active_id(&b, &pa));
    // A stale message of the old session still decrypts and pulls a back...
    assert_eq!(
        a.decrypt(&pb, &stale, b"").unwrap(),
        b"sent before the reinstall"
    );
    // ...until b's next message brings a to the new session for good.
    let w = b.encrypt(&pa, b"again", b"").unwrap();
    assert_eq!(a.decrypt(&pb, &w, b"").unwrap(), b"again");
    assert_eq!(active_id(&a, &pb), new_id);
    let w = a.encrypt(&pb, b"welcome back", b"").unwrap();
    assert_eq!(b.decrypt(&pa, &w, b"").unwrap(), b"welcome back");
}

/// A reinstall with a new identity is reported, not accepted; once the
/// application accepts the new identity the same message decrypts.
#[test]
fn identity_change_is_reported_and_never_silently_accepted() {
    let mut r = common::rng(51);
    let (pa, pb) = (peer("a"), peer("b"));
    let mut a = new_client(&mut r);
    let mut b = new_client(&mut r);
    a.start_session(&pb, &b.bundle().unwrap(), &mut r).unwrap();
    let w = a.encrypt(&pb, b"1", b"").unwrap();
    b.decrypt(&pa, &w, b"").unwrap();
    let old_identity = b.identity();

    let mut b2 = new_client(&mut r);
    assert_ne!(b2.identity(), old_identity);
    b2.start_session(&pa, &a.bundle().unwrap(), &mut r).unwrap();
    let w = b2.encrypt(&pa, b"new phone", b"").unwrap();
    let before = snapshot(&a);
    let err = a.decrypt(&pb, &w, b"").unwrap_err();
    let ReceiveError::IdentityChanged(change) = err else {
        panic!("{err:?}")
    };
    assert_eq!(change.trusted, old_identity);
    assert_eq!(change.received, b2.identity());
    assert_eq!(snapshot(&a), before, "nothing saved, no prekey consumed");
    // Starting a session from a bundle of the new identity is refused too.
    assert!(matches!(
        a.start_session(&pb, &b2.bundle().unwrap(), &mut r),
        Err(StartError::IdentityChanged(_))
    ));
    // The application accepts it: the same message now decrypts, and only
    // sessions of the new identity remain.
    a.trust_identity(&pb, &b2.identity()).unwrap();
    assert_eq!(a.decrypt(&pb, &w, b"").unwrap(), b"new phone");
    let rec = a.sessions(&pb).unwrap().unwrap();
    assert_eq!(rec.len(), 1);
    assert_eq!(*rec.active().peer_identity(), b2.identity());
    let w = a.encrypt(&pb, b"hello again", b"").unwrap();
    assert_eq!(b2.decrypt(&pa, &w, b"").unwrap(), b"hello again");
    // And sending on a session of an identity no longer trusted is refused.
    a.trust_identity(&pb, &old_identity).unwrap();
    assert!(matches!(
        a.encrypt(&pb, b"x", b""),
        Err(SendError::IdentityChanged(_))
    ));
}

#[test]
fn previous_sessions_are_bounded_and_still_decrypt() {
    let mut r = common::rng(52);
    let (pa, pb) = (peer("a"), peer("b"));
    let mut a = new_client(&mut r);
    let mut b = new_client(&mut r);
    let mut in_flight = Vec::new();
    for i in 0..MAX_PREVIOUS_SESSIONS + 3 {
        a.start_session(&pb, &b.bundle().unwrap(), &mut r).unwrap();
        let w = a.encrypt(&pb, &[i as u8], b"").unwrap();
        b.decrypt(&pa, &w, b"").unwrap();
        in_flight.push(b.encrypt(&pa, &[i as u8, 1], b"").unwrap());
    }
    let rec = a.sessions(&pb).unwrap().unwrap();
    assert_eq!(rec.len(), 1 + MAX_PREVIOUS_SESSIONS);
    assert_eq!(
        b.sessions(&pa).unwrap().unwrap().len(),
        1 + MAX_PREVIOUS_SESSIONS
    );
    // Replies on the sessions still kept decrypt; older ones are gone.
    for (i, w) in in_flight.iter().enumerate() {
        let res = a.decrypt(&pb, w, b"");
        if i + 1 + MAX_PREVIOUS_SESSIONS >= in_flight.len() {
            assert_eq!(res.unwrap(), [i as u8, 1]);
        } else {
            assert!(matches!(
                res,
                Err(ReceiveError::Decrypt(DecryptError::HeaderNotDecryptable))
            ));
        }
    }
}

#[test]
fn records_are_bound_to_their_peer_and_key() {
    let mut r = common::rng(53);
    let (pa, pb) = (peer("a"), peer("b"));
    let mut a = new_client(&mut r);
    let b = new_client(&mut r);
    a.start_session(&pb, &b.bundle().unwrap(), &mut r).unwrap();
    let record = a
        .store()
        .backend()
        .records()
        .find(|((k, n), _)| *k == RECORD_PEER_SESSIONS && n == pb.as_bytes())
        .map(|(_, v)| v.clone())
        .unwrap();
    // Moved into another peer's slot: refused.
    a.store_mut()
        .backend_mut()
        .set_record(RECORD_PEER_SESSIONS, pa.as_bytes(), record.clone());
    assert!(matches!(
        a.sessions(&pa),
        Err(StoreError::Restore {
            error: RestoreError::AuthenticationFailed,
            ..
        })
    ));
    assert!(matches!(
        a.encrypt(&pa, b"x", b""),
        Err(SendError::Store(StoreError::Restore { .. }))
    ));
    // Opened with another storage key: refused as a wrong key.
    let backend = a.store().backend().clone();
    let other = MemoryStore::new(StorageKey::generate(&mut r), backend);
    assert!(matches!(
        Client::open(other),
        Err(StoreError::Restore {
            what: "identity",
            error: RestoreError::WrongKey
        })
    ));
    // An empty store has no identity; a used one cannot be created again.
    assert!(matches!(
        Client::open(MemoryStore::in_memory(StorageKey::generate(&mut r))),
        Err(StoreError::NotInitialized)
    ));
    assert!(matches!(
        Client::create(a.into_store(), 1, 1, &mut r),
        Err(StoreError::AlreadyInitialized)
    ));
}

#[test]
fn stores_and_clients_are_send() {
    fn assert_send<T: Send>() {}
    assert_send::<C>();
    fn assert_store<T: ClientStore + SessionRepository>() {}
    assert_store::<MemoryStore>();
}

/// Stored rows and debug output carry no plaintext and no secret.
#[test]
fn stored_records_and_debug_output_leak_nothing() {
    let mut r = common::rng(54);
    let (pa, pb) = (peer("a"), peer("b"));
    let key = StorageKey::generate(&mut r);
    let (ed_seed, x_secret) = ([0x5E; 32], [0x5F; 32]);
    let identity = IdentityKeyPair::from_secret_bytes(&ed_seed, &x_secret);
    let store = MemoryStore::in_memory(key.clone());
    let prekeys = PreKeyStore::new(&identity, 2, 2, &mut r);
    let mut a = Client::create_with(store, identity.clone(), prekeys).unwrap();
    let mut b = new_client(&mut r);
    a.start_session(&pb, &b.bundle().unwrap(), &mut r).unwrap();
    let secret_text = b"my card number is 4111 1111 1111 1111";
    let w = a.encrypt(&pb, secret_text, b"").unwrap();
    assert_eq!(b.decrypt(&pa, &w, b"").unwrap(), secret_text);
    let w = b.encrypt(&pa, secret_text, b"").unwrap();
    assert_eq!(a.decrypt(&pb, &w, b"").unwrap(), secret_text);

    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    for client in [&a, &b] {
        for (_, record) in client.store().backend().records() {
            assert!(!contains(record, &secret_text[..16]));
            assert!(!contains(record, key.as_bytes()));
            assert!(!contains(record, &ed_seed[..16]));
            assert!(!contains(record, &x_secret[..16]));
        }
    }
    let debug = format!(
        "{a:?} {:?} {:?} {key:?}",
        a.store(),
        a.sessions(&pb).unwrap().unwrap()
    );
    let hex: String = key.as_bytes()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!debug.contains(&hex), "{debug}");
    assert!(!debug.contains("5e5e5e5e"), "{debug}");
    assert!(!debug.contains("4111"), "{debug}");
}

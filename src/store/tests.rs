//! Tests of the stored layouts: round trips, migration, bounds and sizes.

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::business::Badge;
use crate::constants::{
    MAX_REMEMBERED_HANDSHAKES, MAX_SKIPPED_CHAINS, MAX_SKIPPED_KEYS, REPLAY_ROTATE_AT,
};
use crate::error::{DecryptError, HandshakeError};
use crate::keys::{IdentityKeyPair, PreKeyStore};
use crate::session::Session;
use crate::store::constants::*;
use crate::store::pickle::{open_state, seal_state};
use crate::store::record::{RestoreError, StorageKey, seal_with_nonce};
use crate::wire::DecodeError;

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn key() -> StorageKey {
    StorageKey::from_bytes([7; 32])
}

fn plain(session: &Session) -> Vec<u8> {
    let mut v = Vec::new();
    session.encode_state(&mut v);
    v
}

fn prekey_plain(store: &PreKeyStore) -> Vec<u8> {
    let mut v = Vec::new();
    store.encode_state(&mut v);
    v
}

fn restore(session: &Session, r: &mut ChaCha20Rng) -> Session {
    let restored = Session::from_pickle(&session.pickle(&key(), r), &key()).unwrap();
    assert_eq!(restored.state_digest(), session.state_digest());
    assert_eq!(plain(&restored), plain(session));
    restored
}

/// A pair where the customer sent one message and the business replied.
fn established(seed: u64) -> (Session, Session, PreKeyStore, ChaCha20Rng) {
    let mut r = rng(seed);
    let c_id = IdentityKeyPair::generate(&mut r);
    let b_id = IdentityKeyPair::generate(&mut r);
    let mut store = PreKeyStore::new(&b_id, 2, 2, &mut r);
    let mut c = Session::initiate(&c_id, &store.bundle(), &mut r).unwrap();
    let m = c.encrypt_with_rng(b"hi", b"", &mut r).unwrap();
    let (mut b, _) = Session::respond(&mut store, &m, b"").unwrap();
    let m = b.encrypt_with_rng(b"hello", b"", &mut r).unwrap();
    c.decrypt(&m, b"").unwrap();
    (c, b, store, r)
}

#[test]
fn sessions_restored_between_every_operation_behave_identically() {
    let mut r = rng(11);
    let c_id = IdentityKeyPair::generate(&mut r);
    let b_id = IdentityKeyPair::generate(&mut r);
    let mut store = PreKeyStore::new(&b_id, 1, 1, &mut r);
    let mut c = restore(
        &Session::initiate(&c_id, &store.bundle(), &mut r).unwrap(),
        &mut r,
    );
    let mut b: Option<Session> = None;
    // In flight: (to business?, id, wire, plaintext).
    let mut flight: Vec<(bool, u32, Vec<u8>, Vec<u8>)> = Vec::new();
    let mut delivered: Vec<(bool, Vec<u8>)> = Vec::new();
    let mut decrypted = 0;
    for id in 0..1500u32 {
        let action = r.random_range(0..10u32);
        if action < 5 || b.is_none() && flight.is_empty() {
            let to_business = b.is_none() || r.random_bool(0.5);
            let sender = if to_business {
                &mut c
            } else {
                b.as_mut().unwrap()
            };
            let mut pt = vec![0u8; r.random_range(0..80)];
            r.fill_bytes(&mut pt);
            pt.extend_from_slice(&id.to_be_bytes());
            let wire = sender
                .encrypt_with_rng(&pt, &id.to_be_bytes(), &mut r)
                .unwrap();
            *sender = restore(sender, &mut r);
            flight.push((to_business, id, wire, pt));
        } else if !flight.is_empty() {
            // Deliver one of the first four in flight (reordering).
            let i = r.random_range(0..flight.len().min(4));
            let (to_business, mid, wire, pt) = flight.remove(i);
            let got = if to_business {
                match b.as_mut() {
                    Some(s) => s.decrypt(&wire, &mid.to_be_bytes()).unwrap(),
                    None => {
                        let (s, p) =
                            Session::respond(&mut store, &wire, &mid.to_be_bytes()).unwrap();
                        b = Some(s);
                        p
                    }
                }
            } else {
                c.decrypt(&wire, &mid.to_be_bytes()).unwrap()
            };
            assert_eq!(got, pt, "message {mid}");
            decrypted += 1;
            let receiver = if to_business {
                b.as_mut().unwrap()
            } else {
                &mut c
            };
            *receiver = restore(receiver, &mut r);
            delivered.push((to_business, wire));
            // Every delivered message decrypts exactly once, also after a restore.
            let (again_to_b, again) = &delivered[r.random_range(0..delivered.len())];
            let receiver = if *again_to_b {
                b.as_mut().unwrap()
            } else {
                &mut c
            };
            let before = receiver.state_digest();
            assert!(receiver.decrypt(again, &[0; 4]).is_err());
            assert_eq!(receiver.state_digest(), before);
        }
    }
    assert!(decrypted > 500, "{decrypted}");
}

#[test]
fn prekey_store_round_trip_keeps_consumed_keys_consumed() {
    let mut r = rng(12);
    let c_id = IdentityKeyPair::generate(&mut r);
    let b_id = IdentityKeyPair::generate(&mut r);
    let mut store = PreKeyStore::new(&b_id, 3, 2, &mut r);
    store.rotate_signed_prekey(&mut r);
    let bundle = store.bundle();
    let mut c = Session::initiate(&c_id, &bundle, &mut r).unwrap();
    let first = c.encrypt_with_rng(b"x", b"", &mut r).unwrap();
    Session::respond(&mut store, &first, b"").unwrap();
    assert_eq!(store.one_time_count(), 2);

    let mut restored = PreKeyStore::from_pickle(&store.pickle(&key(), &mut r), &key()).unwrap();
    assert_eq!(prekey_plain(&restored), prekey_plain(&store));
    assert_eq!(restored.bundle(), store.bundle());
    assert_eq!(restored.one_time_count(), 2);
    assert_eq!(restored.kem_one_time_count(), 1);
    // The replay cache came along: the same initial message is refused.
    assert_eq!(
        Session::respond(&mut restored, &first, b"").err(),
        Some(HandshakeError::ReplayedHandshake)
    );
    // A second initiator handed the same (consumed) bundle is refused too.
    let mut other = Session::initiate(&IdentityKeyPair::generate(&mut r), &bundle, &mut r).unwrap();
    let m = other.encrypt_with_rng(b"y", b"", &mut r).unwrap();
    assert!(matches!(
        Session::respond(&mut restored, &m, b"").err(),
        Some(HandshakeError::UnknownOneTimePreKey(_))
    ));
}

#[test]
fn identity_round_trip() {
    let mut r = rng(13);
    let id = IdentityKeyPair::generate(&mut r);
    let back = IdentityKeyPair::from_pickle(&id.pickle(&key(), &mut r), &key()).unwrap();
    assert_eq!(back.public(), id.public());
    assert_eq!(back.signing().to_seed(), id.signing().to_seed());
    assert_eq!(back.dh().to_bytes(), id.dh().to_bytes());
}

#[test]
fn version_1_prekey_records_are_migrated() {
    let mut r = rng(14);
    let b_id = IdentityKeyPair::generate(&mut r);
    let mut store = PreKeyStore::new(&b_id, 4, 4, &mut r);
    // Handshakes under two signed prekeys, so the replay cache has two groups.
    for round in 0..2 {
        for _ in 0..2 {
            let mut c =
                Session::initiate(&IdentityKeyPair::generate(&mut r), &store.bundle(), &mut r)
                    .unwrap();
            let m = c.encrypt_with_rng(b"m", b"", &mut r).unwrap();
            Session::respond(&mut store, &m, b"").unwrap();
        }
        if round == 0 {
            store.rotate_signed_prekey(&mut r);
        }
    }
    assert_eq!(store.replay_groups(), 2);
    let mut v1 = Vec::new();
    store.encode_state_v1(&mut v1);
    let record = seal_with_nonce(
        &key(),
        STORAGE_VERSION_1,
        RECORD_PREKEYS,
        b"",
        &[1; 12],
        &v1,
    );
    assert_eq!(record[0], STORAGE_VERSION_1);
    let migrated = PreKeyStore::from_pickle(&record, &key()).unwrap();
    // Identical state; the next save writes version 2.
    assert_eq!(prekey_plain(&migrated), prekey_plain(&store));
    assert_ne!(v1, prekey_plain(&store), "the layouts differ");
    assert_eq!(migrated.pickle(&key(), &mut r)[0], STORAGE_VERSION);
    // A version 1 replay cache entry for a signed prekey the store does not
    // hold is refused.
    let mut bad = v1.clone();
    let at = bad.len() - 36;
    bad[at..at + 4].copy_from_slice(&9999u32.to_be_bytes());
    let record = seal_with_nonce(
        &key(),
        STORAGE_VERSION_1,
        RECORD_PREKEYS,
        b"",
        &[1; 12],
        &bad,
    );
    assert!(matches!(
        PreKeyStore::from_pickle(&record, &key()),
        Err(RestoreError::Inconsistent(_))
    ));
}

/// Seals `plaintext` as a session record and restores it.
fn open_session(plaintext: &[u8]) -> Result<Session, RestoreError> {
    let rec = seal_with_nonce(
        &key(),
        STORAGE_VERSION,
        RECORD_SESSION,
        b"",
        &[0; 12],
        plaintext,
    );
    Session::from_pickle(&rec, &key())
}

#[test]
fn hostile_session_layouts_get_typed_errors_and_never_panic() {
    let (c, _b, _store, mut r) = established(15);
    let good = plain(&c);
    assert!(open_session(&good).is_ok());
    // Every truncation.
    for cut in 0..good.len() {
        assert!(
            matches!(open_session(&good[..cut]), Err(RestoreError::Malformed(_))),
            "cut {cut}"
        );
    }
    let mut long = good.clone();
    long.push(0);
    assert_eq!(
        open_session(&long).err(),
        Some(RestoreError::Malformed(DecodeError::TrailingBytes(1)))
    );
    // Every byte flipped: an error or a session, never a panic.
    for i in 0..good.len() {
        let mut v = good.clone();
        v[i] ^= 1 << r.random_range(0..8);
        let _ = open_session(&v);
    }
    // The role byte.
    let mut v = good.clone();
    v[0] = 9;
    assert_eq!(
        open_session(&v).err(),
        Some(RestoreError::Malformed(DecodeError::InvalidValue {
            field: "session role",
            value: 9
        }))
    );
    // Role and ratchet direction disagree.
    let mut v = good.clone();
    v[0] = 0x02;
    assert_eq!(
        open_session(&v).err(),
        Some(RestoreError::Inconsistent(
            "ratchet direction does not match the role"
        ))
    );
}

/// The offset of the skipped-chain count in the layout of a session with no
/// skipped keys: its last four bytes.
fn chain_count_offset(session: &Session) -> usize {
    assert_eq!(session.skipped_key_count(), 0);
    plain(session).len() - 4
}

#[test]
fn skipped_key_bounds_are_checked_before_allocation() {
    let (c, _b, _store, _r) = established(16);
    let good = plain(&c);
    let at = chain_count_offset(&c);
    assert_eq!(&good[at..at + 4], &[0, 0, 0, 0]);
    for (n, ok) in [(MAX_SKIPPED_CHAINS as u32 + 1, false), (u32::MAX, false)] {
        let mut v = good.clone();
        v[at..at + 4].copy_from_slice(&n.to_be_bytes());
        assert_eq!(
            open_session(&v).err(),
            Some(RestoreError::Malformed(DecodeError::InvalidLength {
                field: "skipped chain count",
                len: n as usize
            })),
            "{ok}"
        );
    }
    // One chain claiming more keys than the cap, and one claiming more than the input holds.
    for claimed in [MAX_SKIPPED_KEYS as u32 + 1, 5] {
        let mut v = good[..at].to_vec();
        v.extend_from_slice(&1u32.to_be_bytes());
        v.extend_from_slice(&[3; 32]);
        v.extend_from_slice(&claimed.to_be_bytes());
        v.extend_from_slice(&[0; 36]);
        assert_eq!(
            open_session(&v).err(),
            Some(RestoreError::Malformed(DecodeError::InvalidLength {
                field: "skipped key count",
                len: claimed as usize
            }))
        );
    }
    // Keys out of order, an empty chain, two chains with one header key.
    let chain = |keys: &[u32]| {
        let mut v = Vec::new();
        v.extend_from_slice(&[3; 32]);
        v.extend_from_slice(&(keys.len() as u32).to_be_bytes());
        for k in keys {
            v.extend_from_slice(&k.to_be_bytes());
            v.extend_from_slice(&[4; 32]);
        }
        v
    };
    for (chains, why) in [
        (vec![chain(&[2, 1])], "skipped keys not ascending"),
        (vec![chain(&[])], "empty skipped chain"),
        (
            vec![chain(&[1]), chain(&[2])],
            "two skipped chains share a header key",
        ),
    ] {
        let mut v = good[..at].to_vec();
        v.extend_from_slice(&(chains.len() as u32).to_be_bytes());
        for c in chains {
            v.extend_from_slice(&c);
        }
        assert_eq!(
            open_session(&v).err(),
            Some(RestoreError::Inconsistent(why))
        );
    }
}

/// A session whose skipped-key store is full: MAX_SKIPPED_CHAINS chains,
/// MAX_SKIPPED_KEYS keys.
fn session_at_caps() -> (Session, Session, ChaCha20Rng) {
    let (mut c, mut b, _store, mut r) = established(17);
    let per_chain = MAX_SKIPPED_KEYS / MAX_SKIPPED_CHAINS;
    for _ in 0..MAX_SKIPPED_CHAINS {
        for _ in 0..per_chain {
            c.encrypt_with_rng(b"lost", b"", &mut r).unwrap();
        }
        let m = c.encrypt_with_rng(b"kept", b"", &mut r).unwrap();
        b.decrypt(&m, b"").unwrap();
        let m = b.encrypt_with_rng(b"ack", b"", &mut r).unwrap();
        c.decrypt(&m, b"").unwrap();
    }
    assert_eq!(b.skipped_key_count(), MAX_SKIPPED_KEYS);
    assert_eq!(b.state_mut().skipped.chain_count(), MAX_SKIPPED_CHAINS);
    (b, c, r)
}

/// Stored sizes (SPEC.md, section 15.9).
const SESSION_BASE_LEN: usize = 670;
const PENDING_PREFIX_EXTRA: usize = 2 + 1267;

#[test]
fn stored_session_sizes() {
    let (c, b, _store, mut r) = established(18);
    // The business has sent: every optional part is present.
    assert_eq!(plain(&b).len(), SESSION_BASE_LEN);
    assert_eq!(
        b.pickle(&key(), &mut r).len(),
        SESSION_BASE_LEN + RECORD_OVERHEAD
    );
    // The customer has just received a DH step: no sending chain until it sends.
    assert_eq!(plain(&c).len(), SESSION_BASE_LEN - 36);
    assert_eq!(SESSION_BASE_LEN + RECORD_OVERHEAD, 712);
    // Before the first reply the initiator also keeps its handshake prefix.
    let mut r2 = rng(19);
    let store = PreKeyStore::new(&IdentityKeyPair::generate(&mut r2), 1, 1, &mut r2);
    let fresh = Session::initiate(
        &IdentityKeyPair::generate(&mut r2),
        &store.bundle(),
        &mut r2,
    )
    .unwrap();
    // It has no receiving chain yet (100 bytes fewer).
    assert_eq!(
        plain(&fresh).len(),
        SESSION_BASE_LEN - 100 + PENDING_PREFIX_EXTRA
    );
    assert_eq!(plain(&fresh).len(), 1839);

    let (full, _, mut r) = session_at_caps();
    let at_caps = SESSION_BASE_LEN + MAX_SKIPPED_CHAINS * 36 + MAX_SKIPPED_KEYS * 36;
    assert_eq!(plain(&full).len(), at_caps);
    let record = full.pickle(&key(), &mut r);
    assert_eq!(record.len(), at_caps + RECORD_OVERHEAD);
    assert_eq!(record.len(), 72_892);
    let start = std::time::Instant::now();
    let restored = Session::from_pickle(&record, &key()).unwrap();
    let took = start.elapsed();
    assert_eq!(restored.state_digest(), full.state_digest());
    // Generous for a loaded CI machine; it takes about a millisecond.
    assert!(took < std::time::Duration::from_millis(250), "{took:?}");
    eprintln!(
        "session at caps: {} bytes, restored in {took:?}",
        record.len()
    );
}

#[test]
fn a_restored_session_at_its_caps_still_decrypts_skipped_messages() {
    let (mut c, mut b, mut r) = {
        let (mut c, mut b, _s, mut r) = established(20);
        let lost: Vec<Vec<u8>> = (0..50)
            .map(|i| c.encrypt_with_rng(&[i], b"", &mut r).unwrap())
            .collect();
        let m = c.encrypt_with_rng(b"last", b"", &mut r).unwrap();
        b.decrypt(&m, b"").unwrap();
        b = Session::from_pickle(&b.pickle(&key(), &mut r), &key()).unwrap();
        for (i, m) in lost.iter().enumerate() {
            assert_eq!(b.decrypt(m, b"").unwrap(), [i as u8]);
            assert_eq!(
                b.decrypt(m, b"").err(),
                Some(DecryptError::DuplicateMessage)
            );
        }
        (c, b, r)
    };
    let m = b.encrypt_with_rng(b"ok", b"", &mut r).unwrap();
    assert_eq!(c.decrypt(&m, b"").unwrap(), b"ok");
    let m = c.encrypt_with_rng(b"ok", b"", &mut r).unwrap();
    assert_eq!(b.decrypt(&m, b"").unwrap(), b"ok");
}

#[test]
fn records_of_one_kind_are_not_read_as_another() {
    let (c, _b, store, mut r) = established(21);
    let s = c.pickle(&key(), &mut r);
    assert_eq!(
        PreKeyStore::from_pickle(&s, &key()).err(),
        Some(RestoreError::WrongKind {
            expected: RECORD_PREKEYS,
            found: RECORD_SESSION
        })
    );
    let p = store.pickle(&key(), &mut r);
    assert_eq!(
        Session::from_pickle(&p, &key()).err(),
        Some(RestoreError::WrongKind {
            expected: RECORD_SESSION,
            found: RECORD_PREKEYS
        })
    );
    assert_eq!(
        Session::from_pickle(&s, &StorageKey::from_bytes([8; 32])).err(),
        Some(RestoreError::WrongKey)
    );
    // A session layout sealed with the wrong kind byte still fails: the kind
    // is authenticated.
    let mut relabelled = s.clone();
    relabelled[1] = RECORD_PEER_SESSIONS;
    let err = open_state(&key(), RECORD_PEER_SESSIONS, b"", &relabelled, |r, _| {
        Session::read_state(r)
    });
    assert_eq!(err.err(), Some(RestoreError::AuthenticationFailed));
    let _ = seal_state(&key(), RECORD_SESSION, b"", 0, &mut r, |_| {});
}

#[test]
fn nonces_are_fresh_for_every_save() {
    let (c, _b, _s, mut r) = established(22);
    let a = c.pickle(&key(), &mut r);
    let b = c.pickle(&key(), &mut r);
    assert_ne!(a[10..22], b[10..22]);
    assert_ne!(a, b);
}

/// Random damage (flips, truncations, insertions, overwritten counts) to
/// every stored layout: each restore returns a value or a typed error, and
/// never panics or allocates beyond the input.
#[test]
fn damaged_layouts_of_every_kind_never_panic() {
    use crate::store::sessions::SessionRecord;
    use crate::wire::Reader;

    let (c, b, store, mut r) = established(23);
    let mut s_plain = Vec::new();
    c.encode_state(&mut s_plain);
    let mut p_plain = Vec::new();
    store.encode_state(&mut p_plain);
    let mut rec_plain = Vec::new();
    SessionRecord::new(b).encode_state(&mut rec_plain);
    let mut id_plain = Vec::new();
    crate::store::state::encode_identity(store.identity(), &mut id_plain);

    type Decoder = fn(&[u8]) -> bool;
    let decoders: [(&[u8], Decoder); 4] = [
        (&s_plain, |b| {
            let mut rd = Reader::new(b);
            Session::read_state(&mut rd).is_ok() && rd.finish().is_ok()
        }),
        (&p_plain, |b| {
            let mut rd = Reader::new(b);
            PreKeyStore::read_state(&mut rd, STORAGE_VERSION).is_ok() && rd.finish().is_ok()
        }),
        (&rec_plain, |b| {
            let mut rd = Reader::new(b);
            SessionRecord::read_state(&mut rd).is_ok() && rd.finish().is_ok()
        }),
        (&id_plain, |b| {
            let mut rd = Reader::new(b);
            crate::store::state::read_identity(&mut rd).is_ok() && rd.finish().is_ok()
        }),
    ];
    for (good, decode) in decoders {
        assert!(decode(good), "the undamaged layout restores");
        for _ in 0..400 {
            let mut v = good.to_vec();
            for _ in 0..r.random_range(1..4) {
                match r.random_range(0..4u32) {
                    0 => {
                        let i = r.random_range(0..v.len());
                        v[i] ^= 1 << r.random_range(0..8);
                    }
                    1 => v.truncate(r.random_range(0..v.len())),
                    2 => {
                        let i = r.random_range(0..=v.len());
                        v.insert(i, r.random());
                    }
                    _ if v.len() >= 4 => {
                        let i = r.random_range(0..v.len() - 3);
                        v[i..i + 4].copy_from_slice(&[0xFF, 0xFF, 0xFF, r.random()]);
                    }
                    _ => {}
                }
                if v.is_empty() {
                    break;
                }
            }
            let _ = decode(&v);
        }
    }
}

/// A business prekey store with a current certificate chain and two
/// replaced ones, and a trust store that validates it.
fn certified_business(
    r: &mut ChaCha20Rng,
) -> (IdentityKeyPair, PreKeyStore, crate::business::TrustStore) {
    use crate::business::*;
    let always = Validity {
        not_before: 0,
        not_after: u64::MAX,
    };
    let root = RootAuthority::generate(1, always, r);
    let (issuer_seed, issuer_key) = IssuerAuthority::generate_key(r);
    let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
    let issuer_cert = root.certify_issuer(7, &issuer_key, levels, always).unwrap();
    let issuer = IssuerAuthority::new(&issuer_seed, issuer_cert.clone()).unwrap();
    let business = IdentityKeyPair::generate(r);
    let mut prekeys = PreKeyStore::new(&business, 3, 3, r);
    // Three renewals: the current chain plus the two before it are kept.
    for serial in 1..=4 {
        let cert = issuer
            .issue(&BusinessCertificateRequest {
                serial,
                business_id: BusinessId([0x4b; 16]),
                identity_key: *business.public().signing_key(),
                name: "KLM Royal Dutch Airlines".into(),
                localized: vec![
                    ("ja".into(), "KLMオランダ航空".into()),
                    ("nl".into(), "KLM Koninklijke Luchtvaartmaatschappij".into()),
                ],
                level: VerificationLevel::Verified,
                validity: always,
            })
            .unwrap();
        prekeys
            .set_certificate_chain(CertificateChain::new(issuer_cert.clone(), cert))
            .unwrap();
    }
    let mut trust = TrustStore::new();
    trust.add_root(root.trust_root()).unwrap();
    (business, prekeys, trust)
}

#[test]
fn a_session_with_a_verified_business_round_trips_as_verified() {
    use crate::business::Peer;
    let mut r = rng(21);
    let (_, prekeys, trust) = certified_business(&mut r);
    let verified = trust
        .verify_bundle(&prekeys.bundle(), 1_800_000_000)
        .unwrap();
    let customer = IdentityKeyPair::generate(&mut r);
    let c = Session::initiate_verified(&customer, &prekeys.bundle(), &verified, &mut r).unwrap();
    assert_eq!(c.certificate_hash(), Some(verified.chain_hash()));

    // Awaiting the reply (pending prefix carries the certificate hash).
    let mut c = restore(&c, &mut r);
    assert_eq!(c.peer(), &Peer::VerifiedBusiness(verified.clone()));
    assert_eq!(c.certificate_hash(), Some(verified.chain_hash()));
    let first = c.encrypt_with_rng(b"flight?", b"", &mut r).unwrap();

    // The business store, with its chains, survives a restore and still
    // accepts the certified handshake.
    let mut prekeys = PreKeyStore::from_pickle(&prekeys.pickle(&key(), &mut r), &key()).unwrap();
    let (b, text) = Session::respond(&mut prekeys, &first, b"").unwrap();
    assert_eq!(text, b"flight?");
    let mut b = restore(&b, &mut r);
    assert!(matches!(b.peer(), Peer::Unverified(k) if *k == customer.public()));
    assert_eq!(b.certificate_hash(), Some(verified.chain_hash()));

    let reply = b.encrypt_with_rng(b"on time", b"", &mut r).unwrap();
    assert_eq!(c.decrypt(&reply, b"").unwrap(), b"on time");
    let c = restore(&c, &mut r);
    match c.peer() {
        Peer::VerifiedBusiness(v) => {
            assert_eq!(v, &verified);
            assert_eq!(v.name_for("ja"), "KLMオランダ航空");
        }
        Peer::Unverified(_) => panic!("restored session lost its verified business"),
    }
    assert_eq!(c.certificate_hash(), Some(verified.chain_hash()));
}

#[test]
fn prekey_store_keeps_its_certificate_chains() {
    let mut r = rng(22);
    let (_, prekeys, _) = certified_business(&mut r);
    let back = PreKeyStore::from_pickle(&prekeys.pickle(&key(), &mut r), &key()).unwrap();
    assert_eq!(prekey_plain(&back), prekey_plain(&prekeys));
    // Sizes (SPEC.md, section 15.9): the chain, and 32 bytes per previous one.
    let chain_len = prekeys.certificate_chain().unwrap().to_bytes().len();
    assert_eq!(
        prekey_plain(&prekeys).len(),
        184 + 36 * 3 + 68 * 3 + chain_len + 32 * 2
    );
    let plain_store = PreKeyStore::new(&IdentityKeyPair::generate(&mut r), 3, 3, &mut r);
    assert_eq!(prekey_plain(&plain_store).len(), 184 + 36 * 3 + 68 * 3);
    assert_eq!(back.certificate_chain(), prekeys.certificate_chain());
    assert!(back.certificate_chain().is_some());
    assert_eq!(back.bundle(), prekeys.bundle());
}

#[test]
fn inconsistent_peer_kinds_are_refused() {
    let mut r = rng(23);
    let (_, prekeys, trust) = certified_business(&mut r);
    let verified = trust
        .verify_bundle(&prekeys.bundle(), 1_800_000_000)
        .unwrap();
    let customer = IdentityKeyPair::generate(&mut r);
    let c = Session::initiate_verified(&customer, &prekeys.bundle(), &verified, &mut r).unwrap();
    let p = plain(&c);
    // role (1) + two identities (260): the peer kind byte.
    let kind_at = 1 + 130 + 130;
    assert_eq!(p[kind_at], 2);
    // A verified session whose stored certificate hash is dropped: the
    // certificate flag sits right after the verified business data.
    let mut vb = Vec::new();
    verified.encode_state(&mut vb);
    let flag_at = kind_at + 1 + vb.len();
    assert_eq!(p[flag_at], 1);
    let mut bad = p[..flag_at].to_vec();
    bad.push(0);
    bad.extend_from_slice(&p[flag_at + 33..]);
    assert!(matches!(
        open_session(&bad),
        Err(RestoreError::Inconsistent(_))
    ));
    // A verified session relabelled unverified keeps a hash it cannot have.
    let mut bad = p[..kind_at].to_vec();
    bad.push(0);
    bad.extend_from_slice(&p[flag_at..]);
    assert!(matches!(
        open_session(&bad),
        Err(RestoreError::Inconsistent(_))
    ));
    // An unknown peer kind.
    let mut bad = p.clone();
    bad[kind_at] = 3;
    assert!(matches!(
        open_session(&bad),
        Err(RestoreError::Malformed(DecodeError::InvalidValue {
            field: "peer kind",
            value: 3
        }))
    ));
    // The untouched layout opens, with its issuer key and a badge.
    let now = 1_800_000_000;
    let back = open_session(&p).unwrap();
    assert_eq!(
        back.peer().verified_business().unwrap().issuer_key(),
        verified.issuer_key()
    );
    assert!(trust.badge(back.peer(), now).is_verified());
    // Peer kind 1, written before issuer keys were stored (the same data
    // without its last 32 bytes): it opens, but its badge fails closed.
    let mut old = p[..kind_at].to_vec();
    old.push(1);
    old.extend_from_slice(&p[kind_at + 1..flag_at - 32]);
    old.extend_from_slice(&p[flag_at..]);
    let back = open_session(&old).unwrap();
    let business = back.peer().verified_business().unwrap().clone();
    assert_eq!(business.issuer_key(), None);
    assert_eq!(business.name(), verified.name());
    assert_eq!(trust.badge(back.peer(), now), Badge::Unverified);
}

/// The persistent client rotates the signed prekey by itself once half its
/// replay set is used, tells the application to publish the new bundle, and
/// commits the rotation with the handshake that triggered it.
#[test]
fn client_rotates_the_signed_prekey_when_its_replay_set_fills() {
    use crate::store::{Client, MemoryStore, Notice, PeerId};
    let mut r = rng(77);
    let mut business = Client::create(
        MemoryStore::in_memory(StorageKey::generate(&mut r)),
        0,
        0,
        &mut r,
    )
    .unwrap();
    business
        .update_prekeys(|p| p.flood_replay_set_for_tests(REPLAY_ROTATE_AT - 1))
        .unwrap();
    let old = business.bundle().unwrap().signed_prekey().id;
    let customer = IdentityKeyPair::generate(&mut r);
    let mut session = Session::initiate(&customer, &business.bundle().unwrap(), &mut r).unwrap();
    let wire = session.encrypt(b"hi", b"").unwrap();
    let got = business
        .receive(&PeerId::new("c").unwrap(), &wire, b"")
        .unwrap();
    assert_eq!(got.notices, vec![Notice::PreKeysRotated]);
    // Committed: a reopened client publishes the new signed prekey.
    let business = Client::open(business.into_store()).unwrap();
    assert_ne!(business.bundle().unwrap().signed_prekey().id, old);
}

/// Secrets are written into a buffer sized before they enter it: the
/// layout of every stored object fits its bound, so the buffer never
/// reallocates (a reallocation leaves a freed, unerased copy behind).
#[test]
fn stored_layouts_fit_the_buffers_sized_for_them() {
    fn fits(what: &str, bound: usize, encode: impl FnOnce(&mut Vec<u8>)) {
        let mut buf = Vec::with_capacity(bound);
        let cap = buf.capacity();
        encode(&mut buf);
        assert!(buf.len() <= bound, "{what}: {} > bound {bound}", buf.len());
        assert_eq!(buf.capacity(), cap, "{what}: the buffer grew");
    }
    let (c, b, store, mut r) = established(90);
    fits("responder session", b.state_len_bound(), |o| {
        b.encode_state(o)
    });
    fits("initiator session", c.state_len_bound(), |o| {
        c.encode_state(o)
    });
    let fresh_store = PreKeyStore::new(&IdentityKeyPair::generate(&mut r), 1, 1, &mut r);
    let fresh = Session::initiate(
        &IdentityKeyPair::generate(&mut r),
        &fresh_store.bundle(),
        &mut r,
    )
    .unwrap();
    fits("pending session", fresh.state_len_bound(), |o| {
        fresh.encode_state(o)
    });
    let (full, _, _) = session_at_caps();
    fits("session at caps", full.state_len_bound(), |o| {
        full.encode_state(o)
    });
    let mut record = crate::store::SessionRecord::new(full);
    for _ in 0..MAX_PREVIOUS_SESSIONS {
        let s = Session::initiate(
            &IdentityKeyPair::generate(&mut r),
            &fresh_store.bundle(),
            &mut r,
        )
        .unwrap();
        record.install_initiated(s);
    }
    fits("session record", record.state_len_bound(), |o| {
        record.encode_state(o)
    });
    fits("prekey store", store.state_len_bound(), |o| {
        store.encode_state(o)
    });
    let mut big = PreKeyStore::new(&IdentityKeyPair::generate(&mut r), 100, 50, &mut r);
    big.flood_replay_set_for_tests(MAX_REMEMBERED_HANDSHAKES);
    big.rotate_signed_prekey(&mut r);
    big.flood_replay_set_for_tests(REPLAY_ROTATE_AT);
    fits("prekey store, full", big.state_len_bound(), |o| {
        big.encode_state(o)
    });
}

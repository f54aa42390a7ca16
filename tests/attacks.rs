//! What a hostile peer or relay can try against the public API, one test per
//! defence (see the security considerations of SPEC.md). Each test would fail
//! if its defence were removed.

mod common;

use hotline::constants::{
    KEY_TYPE_MLKEM768, KEY_TYPE_X25519, MAX_SKIP, MAX_SKIPPED_KEYS, SIG_CTX_IDENTITY,
    SIG_CTX_ONE_TIME_PREKEY, SIG_CTX_SIGNED_PREKEY,
};
use hotline::hazmat::ed25519::Ed25519Secret;
use hotline::{
    BundleError, BundleField, DecodeError, DecryptError, HandshakeError, IdentityKeyPair,
    PreKeyBundle, PreKeyStore, Session,
};

// Bundle layout offsets (SPEC.md, "Prekey bundle").
const B_ID_X25519_KEY: usize = 36;
const B_ID_SIG: usize = 68;
const B_SPK_ID: usize = 132;
const B_SPK_KEY: usize = 137;
const B_SPK_SIG: usize = 169;
const B_OTK_ID: usize = 234;
const B_OTK_KEY: usize = 239;
const B_OTK_SIG: usize = 271;
const B_KEM_TAG: usize = 340;
const B_KEM_SIG: usize = 1525;

// Initial message layout offsets, with a one-time prekey.
const I_SPK_ID: usize = 132;
const I_EK: usize = 145;
const I_CT: usize = 178;
const I_RATCHET: usize = 178 + 1088;

const ED_SEED: [u8; 32] = [7; 32];
const X_SECRET: [u8; 32] = [9; 32];

/// Low-order X25519 points: 0, 1, and a point of order 8.
fn low_order_points() -> Vec<[u8; 32]> {
    let mut one = [0u8; 32];
    one[0] = 1;
    let order8 =
        hex::decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800").unwrap();
    vec![[0u8; 32], one, order8.try_into().unwrap()]
}

fn business_with_known_seed() -> (IdentityKeyPair, PreKeyStore) {
    let business = IdentityKeyPair::from_secret_bytes(&ED_SEED, &X_SECRET);
    let store = PreKeyStore::new(&business, 3, 3, &mut common::rng(11));
    (business, store)
}

fn resign(bundle: &mut [u8], ctx: &[u8], signed: std::ops::Range<usize>, sig_at: usize) {
    let sig = Ed25519Secret::from_seed(&ED_SEED).sign(ctx, &bundle[signed]);
    bundle[sig_at..sig_at + 64].copy_from_slice(&sig);
}

// ---- Pitfall 1: huge counters; pitfall 2: skipped-key exhaustion.

#[test]
fn counter_jump_past_max_skip_is_refused_and_changes_nothing() {
    let (mut c, mut b, mut r) = common::established(20);
    let mut last = Vec::new();
    for _ in 0..=MAX_SKIP + 1 {
        last = c.encrypt_with_rng(b"x", b"", &mut r).unwrap();
    }
    let before = b.state_digest();
    assert_eq!(
        b.decrypt(&last, b""),
        Err(DecryptError::TooFarAhead { skip: MAX_SKIP + 1 })
    );
    assert_eq!(b.state_digest(), before);
    assert_eq!(b.skipped_key_count(), 0);
}

#[test]
fn a_gap_of_exactly_max_skip_is_accepted() {
    let (mut c, mut b, mut r) = common::established(21);
    let mut last = Vec::new();
    for _ in 0..=MAX_SKIP {
        last = c.encrypt_with_rng(b"x", b"", &mut r).unwrap();
    }
    assert_eq!(b.decrypt(&last, b"").unwrap(), b"x");
    assert_eq!(b.skipped_key_count(), MAX_SKIP as usize);
}

#[test]
fn skipped_keys_stay_bounded_under_many_gapped_chains() {
    let (mut c, mut b, mut r) = common::established(22);
    for _ in 0..8 {
        let mut last = Vec::new();
        for _ in 0..=MAX_SKIP {
            last = c.encrypt_with_rng(b"x", b"", &mut r).unwrap();
        }
        b.decrypt(&last, b"").unwrap();
        assert!(b.skipped_key_count() <= MAX_SKIPPED_KEYS);
        let reply = b.encrypt_with_rng(b"y", b"", &mut r).unwrap();
        c.decrypt(&reply, b"").unwrap();
    }
    assert_eq!(b.skipped_key_count(), MAX_SKIPPED_KEYS);
}

// ---- Pitfall 4: replay.

#[test]
fn replayed_ratchet_message_is_refused() {
    let (mut c, mut b, mut r) = common::established(23);
    let m = c.encrypt_with_rng(b"pay 100", b"", &mut r).unwrap();
    b.decrypt(&m, b"").unwrap();
    let before = b.state_digest();
    assert_eq!(b.decrypt(&m, b""), Err(DecryptError::DuplicateMessage));
    assert_eq!(b.state_digest(), before);
}

#[test]
fn replayed_out_of_order_message_is_refused_after_its_skipped_key_is_used() {
    let (mut c, mut b, mut r) = common::established(24);
    let m1 = c.encrypt_with_rng(b"one", b"", &mut r).unwrap();
    let m2 = c.encrypt_with_rng(b"two", b"", &mut r).unwrap();
    b.decrypt(&m2, b"").unwrap();
    b.decrypt(&m1, b"").unwrap();
    assert_eq!(b.decrypt(&m1, b""), Err(DecryptError::DuplicateMessage));
    assert_eq!(b.decrypt(&m2, b""), Err(DecryptError::DuplicateMessage));
}

#[test]
fn replayed_initial_message_cannot_start_a_second_session() {
    for with_one_time in [true, false] {
        let mut p = common::parties(25);
        let mut r = common::rng(26);
        let mut store = if with_one_time {
            p.store.clone()
        } else {
            PreKeyStore::new(&p.business, 0, 0, &mut r)
        };
        let bundle = store.bundle();
        assert_eq!(bundle.one_time_prekey().is_some(), with_one_time);
        let mut c = Session::initiate(&p.customer, &bundle, &mut r).unwrap();
        let m = c.encrypt_with_rng(b"hi", b"", &mut r).unwrap();
        let (mut b, _) = Session::respond(&mut store, &m, b"").unwrap();
        assert_eq!(
            Session::respond(&mut store, &m, b"").unwrap_err(),
            HandshakeError::ReplayedHandshake
        );
        // Through the existing session it is a duplicate.
        assert_eq!(b.decrypt(&m, b""), Err(DecryptError::DuplicateMessage));
        // A second initial message of the same handshake still reaches the session.
        let m2 = c.encrypt_with_rng(b"again", b"", &mut r).unwrap();
        assert_eq!(b.decrypt(&m2, b"").unwrap(), b"again");
        p.store = store;
    }
}

#[test]
fn one_time_prekeys_are_consumed_once() {
    let mut p = common::parties(27);
    let mut r = common::rng(28);
    let bundle = p.store.bundle();
    let otk = bundle.one_time_prekey().unwrap().id;
    let count = p.store.one_time_count();
    let mut c1 = Session::initiate(&p.customer, &bundle, &mut r).unwrap();
    let mut c2 = Session::initiate(&p.customer, &bundle, &mut r).unwrap();
    let m1 = c1.encrypt_with_rng(b"1", b"", &mut r).unwrap();
    let m2 = c2.encrypt_with_rng(b"2", b"", &mut r).unwrap();
    Session::respond(&mut p.store, &m1, b"").unwrap();
    assert_eq!(p.store.one_time_count(), count - 1);
    assert_eq!(
        Session::respond(&mut p.store, &m2, b"").unwrap_err(),
        HandshakeError::UnknownOneTimePreKey(otk)
    );
}

#[test]
fn exhausted_one_time_prekeys_fall_back_to_last_resort() {
    let p = common::parties(29);
    let mut r = common::rng(30);
    let mut store = PreKeyStore::new(&p.business, 1, 1, &mut r);
    for i in 0..3 {
        let bundle = store.bundle();
        assert_eq!(bundle.one_time_prekey().is_some(), i == 0);
        assert_eq!(
            bundle.kem_prekey().kind,
            if i == 0 {
                hotline::KemPreKeyKind::OneTime
            } else {
                hotline::KemPreKeyKind::LastResort
            }
        );
        let mut c = Session::initiate(&p.customer, &bundle, &mut r).unwrap();
        let m = c.encrypt_with_rng(b"hi", b"", &mut r).unwrap();
        Session::respond(&mut store, &m, b"").unwrap();
    }
}

// ---- Pitfall 5: state change on failure (every byte of every message kind).

fn assert_every_byte_tamper_fails(receiver: &mut Session, genuine: &[u8]) {
    let before = receiver.state_digest();
    for i in 0..genuine.len() {
        for mask in [0x01u8, 0x80, 0xFF] {
            let mut m = genuine.to_vec();
            m[i] ^= mask;
            assert!(
                receiver.decrypt(&m, b"").is_err(),
                "byte {i} mask {mask:#x}"
            );
            assert_eq!(receiver.state_digest(), before, "byte {i} changed state");
        }
    }
    // Truncations and extensions too.
    for len in 0..genuine.len() {
        assert!(receiver.decrypt(&genuine[..len], b"").is_err());
    }
    let mut longer = genuine.to_vec();
    longer.push(0);
    assert!(receiver.decrypt(&longer, b"").is_err());
    assert_eq!(receiver.state_digest(), before);
    assert!(receiver.decrypt(genuine, b"").is_ok());
}

#[test]
fn tampering_any_byte_of_a_ratchet_message_fails_and_changes_nothing() {
    let (mut c, mut b, mut r) = common::established(31);
    // Same chain.
    let m = c
        .encrypt_with_rng(b"same chain message", b"", &mut r)
        .unwrap();
    assert_every_byte_tamper_fails(&mut b, &m);
    // A message that carries a DH ratchet step.
    let m = b
        .encrypt_with_rng(b"ratchet step message", b"", &mut r)
        .unwrap();
    assert_every_byte_tamper_fails(&mut c, &m);
    // An out-of-order message taken from the skipped-key store.
    let early = c.encrypt_with_rng(b"early", b"", &mut r).unwrap();
    let late = c.encrypt_with_rng(b"late", b"", &mut r).unwrap();
    b.decrypt(&late, b"").unwrap();
    assert_every_byte_tamper_fails(&mut b, &early);
}

#[test]
fn tampering_any_byte_of_an_initial_message_fails_and_consumes_nothing() {
    let p = common::parties(32);
    let mut r = common::rng(33);
    let mut c = Session::initiate(&p.customer, &p.store.bundle(), &mut r).unwrap();
    let m = c.encrypt_with_rng(b"first", b"", &mut r).unwrap();
    for i in 0..m.len() {
        let mut store = p.store.clone();
        let mut t = m.clone();
        t[i] ^= 0x01;
        assert!(Session::respond(&mut store, &t, b"").is_err(), "byte {i}");
        assert_eq!(store.one_time_count(), p.store.one_time_count());
        assert_eq!(store.kem_one_time_count(), p.store.kem_one_time_count());
    }
    let mut store = p.store.clone();
    assert!(Session::respond(&mut store, &m, b"").is_ok());
}

#[test]
fn wrong_associated_data_fails() {
    let (mut c, mut b, mut r) = common::established(34);
    let m = c
        .encrypt_with_rng(b"class=chat", b"class=notification", &mut r)
        .unwrap();
    let before = b.state_digest();
    assert_eq!(
        b.decrypt(&m, b"class=chat"),
        Err(DecryptError::AuthenticationFailed)
    );
    assert_eq!(b.state_digest(), before);
    assert_eq!(b.decrypt(&m, b"class=notification").unwrap(), b"class=chat");
}

// ---- Pitfall 6: malformed bytes.

#[test]
fn malformed_messages_get_typed_errors() {
    let (mut c, mut b, mut r) = common::established(35);
    let m = c.encrypt_with_rng(b"ok", b"", &mut r).unwrap();
    let decode = |e| DecryptError::Decode(e);
    assert_eq!(
        b.decrypt(&[], b""),
        Err(decode(DecodeError::Truncated("version")))
    );
    let mut v = m.clone();
    v[0] = 2;
    assert_eq!(
        b.decrypt(&v, b""),
        Err(decode(DecodeError::UnknownVersion(2)))
    );
    let mut v = m.clone();
    v[0] = 0;
    assert_eq!(
        b.decrypt(&v, b""),
        Err(decode(DecodeError::UnknownVersion(0)))
    );
    let mut v = m.clone();
    v[1] = 0x7f;
    assert_eq!(
        b.decrypt(&v, b""),
        Err(decode(DecodeError::UnknownType(0x7f)))
    );
    assert!(matches!(
        b.decrypt(&m[..40], b""),
        Err(DecryptError::Decode(DecodeError::Truncated(_)))
    ));
    let mut longer = m.clone();
    longer.extend_from_slice(&[0u8; 3]);
    assert!(matches!(
        b.decrypt(&longer, b""),
        Err(DecryptError::Decode(DecodeError::InvalidLength { .. }))
    ));
    assert!(b.decrypt(&m, b"").is_ok());
}

#[test]
fn malformed_bundles_get_typed_errors() {
    let (_, store) = business_with_known_seed();
    let good = store.bundle().to_bytes();
    assert!(PreKeyBundle::from_bytes(&good).is_ok());
    for len in 0..good.len() {
        assert!(PreKeyBundle::from_bytes(&good[..len]).is_err());
    }
    let mut t = good.clone();
    t.push(0);
    assert_eq!(
        PreKeyBundle::from_bytes(&t),
        Err(BundleError::Decode(DecodeError::TrailingBytes(1)))
    );
    let mut t = good.clone();
    t[B_SPK_KEY - 1] = 0x99;
    assert_eq!(
        PreKeyBundle::from_bytes(&t),
        Err(BundleError::Decode(DecodeError::UnknownKeyType(0x99)))
    );
    let mut t = good.clone();
    t[B_OTK_ID - 1] = 2;
    assert!(matches!(
        PreKeyBundle::from_bytes(&t),
        Err(BundleError::Decode(DecodeError::InvalidValue { .. }))
    ));
}

// ---- Pitfall 7: weak points.

#[test]
fn low_order_prekeys_are_refused_even_when_validly_signed() {
    let (_, store) = business_with_known_seed();
    let good = store.bundle().to_bytes();
    for point in low_order_points() {
        let mut t = good.clone();
        t[B_SPK_KEY..B_SPK_KEY + 32].copy_from_slice(&point);
        resign(
            &mut t,
            SIG_CTX_SIGNED_PREKEY,
            B_SPK_ID..B_SPK_SIG,
            B_SPK_SIG,
        );
        assert_eq!(
            PreKeyBundle::from_bytes(&t),
            Err(BundleError::LowOrderKey(BundleField::SignedPreKey))
        );
        let mut t = good.clone();
        t[B_OTK_KEY..B_OTK_KEY + 32].copy_from_slice(&point);
        resign(
            &mut t,
            SIG_CTX_ONE_TIME_PREKEY,
            B_OTK_ID..B_OTK_SIG,
            B_OTK_SIG,
        );
        assert_eq!(
            PreKeyBundle::from_bytes(&t),
            Err(BundleError::LowOrderKey(BundleField::OneTimePreKey))
        );
        let mut t = good.clone();
        t[B_ID_X25519_KEY..B_ID_X25519_KEY + 32].copy_from_slice(&point);
        resign(&mut t, SIG_CTX_IDENTITY, 2..B_ID_SIG, B_ID_SIG);
        assert_eq!(
            PreKeyBundle::from_bytes(&t),
            Err(BundleError::LowOrderKey(BundleField::Identity))
        );
    }
}

#[test]
fn low_order_ephemeral_key_in_initial_message_is_refused() {
    let mut p = common::parties(36);
    let mut r = common::rng(37);
    let mut c = Session::initiate(&p.customer, &p.store.bundle(), &mut r).unwrap();
    let m = c.encrypt_with_rng(b"x", b"", &mut r).unwrap();
    for point in low_order_points() {
        let mut t = m.clone();
        t[I_EK + 1..I_EK + 33].copy_from_slice(&point);
        assert_eq!(
            Session::respond(&mut p.store, &t, b"").unwrap_err(),
            HandshakeError::LowOrderKey
        );
    }
}

// ---- Pitfalls 8 and 12: strict signatures, every prekey signature checked.

#[test]
fn every_bundle_signature_is_checked() {
    let (_, store) = business_with_known_seed();
    let good = store.bundle().to_bytes();
    for (at, field) in [
        (B_ID_SIG, BundleField::Identity),
        (B_SPK_SIG, BundleField::SignedPreKey),
        (B_OTK_SIG, BundleField::OneTimePreKey),
        (B_KEM_SIG, BundleField::KemPreKey),
    ] {
        let mut t = good.clone();
        t[at + 10] ^= 1;
        assert_eq!(
            PreKeyBundle::from_bytes(&t),
            Err(BundleError::BadSignature(field))
        );
    }
    // A prekey signed by someone else.
    let mut t = good.clone();
    let other =
        Ed25519Secret::from_seed(&[1; 32]).sign(SIG_CTX_SIGNED_PREKEY, &t[B_SPK_ID..B_SPK_SIG]);
    t[B_SPK_SIG..B_SPK_SIG + 64].copy_from_slice(&other);
    assert_eq!(
        PreKeyBundle::from_bytes(&t),
        Err(BundleError::BadSignature(BundleField::SignedPreKey))
    );
    // A signature made for another kind of prekey does not transfer.
    let mut t = good.clone();
    resign(
        &mut t,
        SIG_CTX_ONE_TIME_PREKEY,
        B_SPK_ID..B_SPK_SIG,
        B_SPK_SIG,
    );
    assert_eq!(
        PreKeyBundle::from_bytes(&t),
        Err(BundleError::BadSignature(BundleField::SignedPreKey))
    );
}

#[test]
fn non_canonical_signature_is_refused() {
    // S + L, where L is the order of the Ed25519 base point: the same
    // signature in a malleated, non-canonical form.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let (_, store) = business_with_known_seed();
    let good = store.bundle().to_bytes();
    let mut t = good.clone();
    let s = &mut t[B_SPK_SIG + 32..B_SPK_SIG + 64];
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(s[i]) + u16::from(L[i]) + carry;
        s[i] = v as u8;
        carry = v >> 8;
    }
    assert_eq!(carry, 0, "S + L fits in 32 bytes for this key");
    assert_eq!(
        PreKeyBundle::from_bytes(&t),
        Err(BundleError::BadSignature(BundleField::SignedPreKey))
    );
}

#[test]
fn small_order_ed25519_identity_key_is_refused() {
    let (_, store) = business_with_known_seed();
    let mut t = store.bundle().to_bytes();
    // The identity point (0, 1), of order 1, encoded as y = 1.
    let mut identity_point = [0u8; 32];
    identity_point[0] = 1;
    t[3..35].copy_from_slice(&identity_point);
    assert_eq!(
        PreKeyBundle::from_bytes(&t),
        Err(BundleError::Decode(DecodeError::InvalidEd25519Key))
    );
}

// ---- Pitfall 11: unknown key share, swapped identities.

#[test]
fn a_message_for_one_session_is_refused_by_another() {
    let (mut c1, _b1, mut r) = common::established(38);
    let (_c2, mut b2, _) = common::established(39);
    let m = c1.encrypt_with_rng(b"for b1 only", b"", &mut r).unwrap();
    let before = b2.state_digest();
    assert_eq!(b2.decrypt(&m, b""), Err(DecryptError::HeaderNotDecryptable));
    assert_eq!(b2.state_digest(), before);
}

#[test]
fn swapping_the_initiator_identity_in_an_initial_message_fails() {
    let mut p = common::parties(40);
    let mut r = common::rng(41);
    let mallory = IdentityKeyPair::generate(&mut r);
    let mut c = Session::initiate(&p.customer, &p.store.bundle(), &mut r).unwrap();
    let m = c.encrypt_with_rng(b"x", b"", &mut r).unwrap();
    let mut t = m.clone();
    t[2..132].copy_from_slice(&mallory.public().to_bytes());
    assert!(matches!(
        Session::respond(&mut p.store, &t, b"").unwrap_err(),
        HandshakeError::Decrypt(DecryptError::HeaderNotDecryptable)
    ));
    let (b, _) = Session::respond(&mut p.store, &m, b"").unwrap();
    assert_eq!(b.peer_identity(), &p.customer.public());
    assert_eq!(b.transcript_hash(), c.transcript_hash());
    assert_eq!(b.handshake_id(), c.handshake_id());
}

#[test]
fn a_bundle_from_another_business_with_swapped_identity_fails_verification() {
    let (_, store) = business_with_known_seed();
    let other = IdentityKeyPair::generate(&mut common::rng(42));
    let mut t = store.bundle().to_bytes();
    t[2..132].copy_from_slice(&other.public().to_bytes());
    assert!(matches!(
        PreKeyBundle::from_bytes(&t),
        Err(BundleError::BadSignature(_))
    ));
}

// ---- Pitfall 14: KEM confusion.

#[test]
fn kem_reencapsulation_is_detected() {
    let mut p = common::parties(43);
    let mut r = common::rng(44);
    let bundle = p.store.bundle();
    let mut c = Session::initiate(&p.customer, &bundle, &mut r).unwrap();
    let m = c.encrypt_with_rng(b"x", b"", &mut r).unwrap();
    // A fresh, valid encapsulation to the same KEM key replaces the original.
    let (ct, _) = bundle.kem_prekey().key.encapsulate(&[5u8; 32]);
    let mut t = m.clone();
    t[I_CT..I_RATCHET].copy_from_slice(&ct);
    assert!(matches!(
        Session::respond(&mut p.store, &t, b"").unwrap_err(),
        HandshakeError::Decrypt(DecryptError::HeaderNotDecryptable)
    ));
}

#[test]
fn a_key_of_one_type_is_never_read_as_another() {
    let (_, store) = business_with_known_seed();
    let good = store.bundle().to_bytes();
    let mut t = good.clone();
    t[B_KEM_TAG] = KEY_TYPE_X25519;
    assert_eq!(
        PreKeyBundle::from_bytes(&t),
        Err(BundleError::Decode(DecodeError::WrongKeyType {
            expected: KEY_TYPE_MLKEM768,
            found: KEY_TYPE_X25519
        }))
    );
    let mut t = good.clone();
    t[B_SPK_KEY - 1] = hotline::constants::KEY_TYPE_ED25519;
    assert!(matches!(
        PreKeyBundle::from_bytes(&t),
        Err(BundleError::Decode(DecodeError::WrongKeyType { .. }))
    ));
}

// ---- Pitfall 15: downgrade.

#[test]
fn other_versions_and_missing_kem_parts_are_refused() {
    let mut p = common::parties(45);
    let mut r = common::rng(46);
    let good = p.store.bundle().to_bytes();
    let mut t = good.clone();
    t[0] = 0;
    assert_eq!(
        PreKeyBundle::from_bytes(&t),
        Err(BundleError::Decode(DecodeError::UnknownVersion(0)))
    );
    // A bundle without its KEM prekey.
    assert!(matches!(
        PreKeyBundle::from_bytes(&good[..B_KEM_TAG - 5]),
        Err(BundleError::Decode(DecodeError::Truncated(_)))
    ));
    let mut c = Session::initiate(&p.customer, &p.store.bundle(), &mut r).unwrap();
    let m = c.encrypt_with_rng(b"x", b"", &mut r).unwrap();
    // An initial message without its KEM ciphertext.
    let mut t = m[..I_CT].to_vec();
    t.extend_from_slice(&m[I_RATCHET..]);
    assert!(Session::respond(&mut p.store, &t, b"").is_err());
    let mut t = m.clone();
    t[0] = 2;
    assert_eq!(
        Session::respond(&mut p.store, &t, b"").unwrap_err(),
        HandshakeError::Decode(DecodeError::UnknownVersion(2))
    );
}

// ---- Pitfall 17: reflection.

#[test]
fn own_messages_fed_back_are_refused() {
    let (mut c, mut b, mut r) = common::established(47);
    let m = c.encrypt_with_rng(b"mine", b"", &mut r).unwrap();
    assert_eq!(c.decrypt(&m, b""), Err(DecryptError::HeaderNotDecryptable));
    let m = b.encrypt_with_rng(b"mine", b"", &mut r).unwrap();
    assert_eq!(b.decrypt(&m, b""), Err(DecryptError::HeaderNotDecryptable));
    c.decrypt(&m, b"").unwrap();
}

#[test]
fn talking_to_oneself_is_refused() {
    let (business, store) = business_with_known_seed();
    let bundle = store.bundle();
    assert_eq!(
        Session::initiate(&business, &bundle, &mut common::rng(48)).unwrap_err(),
        HandshakeError::SameIdentity
    );
}

// ---- Handshake errors for unknown prekeys.

#[test]
fn unknown_prekey_ids_get_typed_errors() {
    let mut p = common::parties(49);
    let mut r = common::rng(50);
    let mut c = Session::initiate(&p.customer, &p.store.bundle(), &mut r).unwrap();
    let m = c.encrypt_with_rng(b"x", b"", &mut r).unwrap();
    let mut t = m.clone();
    t[I_SPK_ID..I_SPK_ID + 4].copy_from_slice(&999u32.to_be_bytes());
    assert_eq!(
        Session::respond(&mut p.store, &t, b"").unwrap_err(),
        HandshakeError::UnknownSignedPreKey(999)
    );
    let mut t = m.clone();
    t[I_SPK_ID + 5..I_SPK_ID + 9].copy_from_slice(&998u32.to_be_bytes());
    assert_eq!(
        Session::respond(&mut p.store, &t, b"").unwrap_err(),
        HandshakeError::UnknownOneTimePreKey(998)
    );
    let mut t = m.clone();
    t[I_SPK_ID + 9..I_SPK_ID + 13].copy_from_slice(&997u32.to_be_bytes());
    assert_eq!(
        Session::respond(&mut p.store, &t, b"").unwrap_err(),
        HandshakeError::UnknownKemPreKey(997)
    );
}

#[test]
fn signed_prekey_rotation_keeps_in_flight_handshakes_working() {
    let mut p = common::parties(51);
    let mut r = common::rng(52);
    let old_bundle = p.store.bundle();
    let mut c = Session::initiate(&p.customer, &old_bundle, &mut r).unwrap();
    let m = c.encrypt_with_rng(b"x", b"", &mut r).unwrap();
    p.store.rotate_signed_prekey(&mut r);
    assert!(Session::respond(&mut p.store.clone(), &m, b"").is_ok());
    for _ in 0..hotline::constants::MAX_OLD_SIGNED_PREKEYS {
        p.store.rotate_signed_prekey(&mut r);
    }
    assert_eq!(
        Session::respond(&mut p.store, &m, b"").unwrap_err(),
        HandshakeError::UnknownSignedPreKey(old_bundle.signed_prekey().id)
    );
}

// ---- Pitfall 23: no secrets in Debug output.

#[test]
fn debug_output_contains_no_secret_bytes() {
    let identity = IdentityKeyPair::from_secret_bytes(&[0xAB; 32], &[0xCD; 32]);
    let (c, _b, _) = common::established(53);
    let printed = format!("{identity:?} {c:?}");
    assert!(!printed.contains("abababab"), "{printed}");
    assert!(!printed.contains("cdcdcdcd"), "{printed}");
    assert!(!printed.contains("171, 171"), "{printed}");
    assert!(printed.contains("IdentityKey("));
}

#[test]
fn low_order_initiator_identity_key_is_refused() {
    let mut p = common::parties(60);
    let mut r = common::rng(61);
    let customer = IdentityKeyPair::from_secret_bytes(&ED_SEED, &X_SECRET);
    let mut c = Session::initiate(&customer, &p.store.bundle(), &mut r).unwrap();
    let m = c.encrypt_with_rng(b"x", b"", &mut r).unwrap();
    for point in low_order_points() {
        let mut t = m.clone();
        t[B_ID_X25519_KEY..B_ID_X25519_KEY + 32].copy_from_slice(&point);
        resign(&mut t, SIG_CTX_IDENTITY, 2..B_ID_SIG, B_ID_SIG);
        assert_eq!(
            Session::respond(&mut p.store, &t, b"").unwrap_err(),
            HandshakeError::LowOrderKey
        );
        assert!(matches!(
            hotline::IdentityKey::from_bytes(&t[2..132]),
            Err(hotline::IdentityError::LowOrderKey)
        ));
    }
}

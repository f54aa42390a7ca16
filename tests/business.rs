//! Business identity as a hostile issuer, business, relay or directory would
//! attack it: every validation failure, the name rules, revocation rollback,
//! chain confusion, the binding into the handshake, identity changes.

mod common;

use hotline::business::*;
use hotline::constants::{CLOCK_SKEW_SECS, SIG_CTX_BUSINESS_CERT};
use hotline::hazmat::ed25519::Ed25519Secret;
use hotline::{DecodeError, HandshakeError, IdentityKeyPair, PreKeyBundle, PreKeyStore, Session};

const NOW: u64 = 1_800_000_000;
const ROOT_V: Validity = Validity {
    not_before: 1_600_000_000,
    not_after: 2_000_000_000,
};
const ISSUER_V: Validity = Validity {
    not_before: 1_700_000_000,
    not_after: 1_900_000_000,
};
const CERT_V: Validity = Validity {
    not_before: 1_750_000_000,
    not_after: 1_850_000_000,
};
const ISSUER_SEED: [u8; 32] = [0x15; 32];

struct Platform {
    root: RootAuthority,
    issuer: IssuerAuthority,
    trust: TrustStore,
}

fn verified_only() -> LevelSet {
    LevelSet::new(&[VerificationLevel::Verified]).unwrap()
}

fn platform() -> Platform {
    let root = RootAuthority::from_seed(&[0x11; 32], 1, ROOT_V);
    let key = Ed25519Secret::from_seed(&ISSUER_SEED).public_key();
    let cert = root
        .certify_issuer(7, &key, verified_only(), ISSUER_V)
        .unwrap();
    let issuer = IssuerAuthority::new(&ISSUER_SEED, cert).unwrap();
    let mut trust = TrustStore::new();
    trust.add_root(root.trust_root()).unwrap();
    Platform {
        root,
        issuer,
        trust,
    }
}

fn request(business: &IdentityKeyPair, name: &str) -> BusinessCertificateRequest {
    BusinessCertificateRequest {
        serial: 1001,
        business_id: BusinessId([0x4b; 16]),
        identity_key: *business.public().signing_key(),
        name: name.into(),
        localized: vec![("ja".into(), "KLMオランダ航空".into())],
        level: VerificationLevel::Verified,
        validity: CERT_V,
    }
}

fn chain_for(p: &Platform, business: &IdentityKeyPair) -> CertificateChain {
    let cert = p
        .issuer
        .issue(&request(business, "KLM Royal Dutch Airlines"))
        .unwrap();
    CertificateChain::new(p.issuer.certificate().clone(), cert)
}

/// A business with a certificate in its prekey store.
fn certified_business(p: &Platform, seed: u64) -> (IdentityKeyPair, PreKeyStore) {
    let mut r = common::rng(seed);
    let business = IdentityKeyPair::generate(&mut r);
    let mut store = PreKeyStore::new(&business, 3, 3, &mut r);
    store
        .set_certificate_chain(chain_for(p, &business))
        .unwrap();
    (business, store)
}

/// Re-signs the business certificate inside a chain's bytes after an edit,
/// as a hostile (or compromised) issuer could.
fn resign_business(chain: &CertificateChain, edit: impl FnOnce(&mut Vec<u8>)) -> CertificateChain {
    let mut b = chain.business().to_bytes();
    b.truncate(b.len() - 64);
    edit(&mut b);
    let sig = Ed25519Secret::from_seed(&ISSUER_SEED).sign(SIG_CTX_BUSINESS_CERT, &b);
    b.extend_from_slice(&sig);
    CertificateChain::new(
        chain.issuer().clone(),
        BusinessCertificate::from_bytes(&b).unwrap(),
    )
}

// ---- The session reports the verified business.

#[test]
fn session_with_certified_business_reports_name_and_level() {
    let p = platform();
    let (business, mut store) = certified_business(&p, 1);
    let mut r = common::rng(2);
    let customer = IdentityKeyPair::generate(&mut r);
    let bundle = PreKeyBundle::from_bytes(&store.bundle().to_bytes()).unwrap();
    let verified = p.trust.verify_bundle(&bundle, NOW).unwrap();
    let mut c = Session::initiate_verified(&customer, &bundle, &verified, &mut r).unwrap();
    match c.peer() {
        Peer::VerifiedBusiness(b) => {
            assert_eq!(b.name(), "KLM Royal Dutch Airlines");
            assert_eq!(b.name_for("ja"), "KLMオランダ航空");
            assert_eq!(b.name_for("fr"), "KLM Royal Dutch Airlines");
            assert_eq!(b.level(), VerificationLevel::Verified);
            assert_eq!(b.business_id(), BusinessId([0x4b; 16]));
            assert_eq!(b.identity_key(), business.public().signing_key());
        }
        Peer::Unverified(_) => panic!("a validated business must be reported as verified"),
    }
    let m = c.encrypt_with_rng(b"hello", b"", &mut r).unwrap();
    let (mut b, pt) = Session::respond(&mut store, &m, b"").unwrap();
    assert_eq!(pt, b"hello");
    // The customer is never presented as a business to the business.
    assert_eq!(b.peer(), &Peer::Unverified(customer.public()));
    assert_eq!(b.certificate_hash(), Some(verified.chain_hash()));
    assert_eq!(c.certificate_hash(), b.certificate_hash());
    assert_eq!(c.transcript_hash(), b.transcript_hash());
    let reply = b.encrypt_with_rng(b"hi", b"", &mut r).unwrap();
    assert_eq!(c.decrypt(&reply, b"").unwrap(), b"hi");
    // Safety numbers agree on both sides.
    assert_eq!(c.fingerprint(), b.fingerprint());
}

#[test]
fn plain_initiate_never_reports_a_business_even_with_a_certificate_in_the_bundle() {
    let p = platform();
    let (_, mut store) = certified_business(&p, 3);
    let mut r = common::rng(4);
    let customer = IdentityKeyPair::generate(&mut r);
    let mut c = Session::initiate(&customer, &store.bundle(), &mut r).unwrap();
    assert!(matches!(c.peer(), Peer::Unverified(_)));
    assert_eq!(c.certificate_hash(), None);
    let m = c.encrypt_with_rng(b"x", b"", &mut r).unwrap();
    let (b, _) = Session::respond(&mut store, &m, b"").unwrap();
    assert_eq!(b.certificate_hash(), None);
}

#[test]
fn verified_business_of_another_bundle_is_refused() {
    let p = platform();
    let (_, store_a) = certified_business(&p, 5);
    let (_, store_b) = certified_business(&p, 6);
    let verified_a = p.trust.verify_bundle(&store_a.bundle(), NOW).unwrap();
    let mut r = common::rng(7);
    let customer = IdentityKeyPair::generate(&mut r);
    assert_eq!(
        Session::initiate_verified(&customer, &store_b.bundle(), &verified_a, &mut r).unwrap_err(),
        HandshakeError::CertificateMismatch
    );
    // Also when the bundle has the same identity but no (or another) chain.
    let stripped = store_a.bundle().with_certificate_chain(None);
    assert_eq!(
        Session::initiate_verified(&customer, &stripped, &verified_a, &mut r).unwrap_err(),
        HandshakeError::CertificateMismatch
    );
}

// ---- The certificate is bound into the transcript (pitfall 11).

#[test]
fn relay_cannot_strip_or_swap_the_certificate_binding() {
    let p = platform();
    let (_, store) = certified_business(&p, 8);
    let mut r = common::rng(9);
    let customer = IdentityKeyPair::generate(&mut r);
    let bundle = store.bundle();
    let verified = p.trust.verify_bundle(&bundle, NOW).unwrap();
    let mut c = Session::initiate_verified(&customer, &bundle, &verified, &mut r).unwrap();
    let m = c.encrypt_with_rng(b"x", b"", &mut r).unwrap();
    // Initial message with a one-time prekey: the certificate flag follows
    // the KEM ciphertext at offset 1266.
    let flag = 1266;
    assert_eq!(m[flag], 1);
    assert_eq!(&m[flag + 1..flag + 33], &verified.chain_hash());
    let mut stripped = m.clone();
    stripped[flag] = 0;
    stripped.drain(flag + 1..flag + 33);
    assert!(matches!(
        Session::respond(&mut store.clone(), &stripped, b"").unwrap_err(),
        HandshakeError::Decrypt(_)
    ));
    let mut swapped = m.clone();
    swapped[flag + 5] ^= 1;
    assert_eq!(
        Session::respond(&mut store.clone(), &swapped, b"").unwrap_err(),
        HandshakeError::UnknownCertificate
    );
    let mut bad_flag = m.clone();
    bad_flag[flag] = 2;
    assert_eq!(
        Session::respond(&mut store.clone(), &bad_flag, b"").unwrap_err(),
        HandshakeError::Decode(DecodeError::InvalidValue {
            field: "certificate flag",
            value: 2
        })
    );
    assert!(Session::respond(&mut store.clone(), &m, b"").is_ok());
}

#[test]
fn renewed_certificates_keep_handshakes_in_flight_for_two_renewals() {
    let p = platform();
    let (business, mut store) = certified_business(&p, 10);
    let mut r = common::rng(11);
    let customer = IdentityKeyPair::generate(&mut r);
    let bundle = store.bundle();
    let verified = p.trust.verify_bundle(&bundle, NOW).unwrap();
    let mut c = Session::initiate_verified(&customer, &bundle, &verified, &mut r).unwrap();
    let m = c.encrypt_with_rng(b"x", b"", &mut r).unwrap();
    let renew = |store: &mut PreKeyStore, serial: u64| {
        let cert = p
            .issuer
            .issue(&BusinessCertificateRequest {
                serial,
                ..request(&business, "KLM Royal Dutch Airlines")
            })
            .unwrap();
        store
            .set_certificate_chain(CertificateChain::new(p.issuer.certificate().clone(), cert))
            .unwrap();
    };
    renew(&mut store, 2);
    renew(&mut store, 3);
    assert!(Session::respond(&mut store.clone(), &m, b"").is_ok());
    renew(&mut store, 4);
    assert_eq!(
        Session::respond(&mut store, &m, b"").unwrap_err(),
        HandshakeError::UnknownCertificate
    );
}

#[test]
fn store_refuses_a_chain_for_another_identity() {
    let p = platform();
    let (_, mut store) = certified_business(&p, 12);
    let other = IdentityKeyPair::generate(&mut common::rng(13));
    assert_eq!(
        store.set_certificate_chain(chain_for(&p, &other)),
        Err(ValidationError::KeyMismatch)
    );
}

// ---- Every validation failure (SPEC.md, "Validation").

#[test]
fn validity_windows_of_every_link_with_clock_skew() {
    let p = platform();
    let business = IdentityKeyPair::generate(&mut common::rng(14));
    let chain = chain_for(&p, &business);
    let t = &p.trust;
    assert!(t.validate_chain(&chain, NOW).is_ok());
    let end = CERT_V.not_after + CLOCK_SKEW_SECS;
    assert!(t.validate_chain(&chain, end).is_ok());
    assert_eq!(
        t.validate_chain(&chain, end + 1).unwrap_err(),
        ValidationError::Expired {
            link: ChainLink::Business,
            not_after: CERT_V.not_after,
            now: end + 1
        }
    );
    let start = CERT_V.not_before - CLOCK_SKEW_SECS;
    assert!(t.validate_chain(&chain, start).is_ok());
    assert!(matches!(
        t.validate_chain(&chain, start - 1),
        Err(ValidationError::NotYetValid {
            link: ChainLink::Business,
            ..
        })
    ));
    for (now, link, expired) in [
        (1_650_000_000, ChainLink::Issuer, false),
        (1_950_000_000, ChainLink::Issuer, true),
        (1_500_000_000, ChainLink::Root, false),
        (2_100_000_000, ChainLink::Root, true),
    ] {
        let err = t.validate_chain(&chain, now).unwrap_err();
        match (expired, err) {
            (true, ValidationError::Expired { link: l, .. }) => assert_eq!(l, link),
            (false, ValidationError::NotYetValid { link: l, .. }) => assert_eq!(l, link),
            (_, e) => panic!("{now}: {e:?}"),
        }
    }
}

#[test]
fn unknown_and_rotated_out_roots() {
    let p = platform();
    let business = IdentityKeyPair::generate(&mut common::rng(15));
    let chain = chain_for(&p, &business);
    assert_eq!(
        TrustStore::new().validate_chain(&chain, NOW).unwrap_err(),
        ValidationError::UnknownRoot(1)
    );
    // Rotation: a client holds the old and the new root; the old one is
    // then retired and cannot come back.
    let new_root = RootAuthority::from_seed(&[0x22; 32], 2, ROOT_V);
    let mut t = p.trust.clone();
    t.add_root(new_root.trust_root()).unwrap();
    assert!(t.validate_chain(&chain, NOW).is_ok());
    let moved = new_root
        .certify_issuer(7, p.issuer.certificate().key(), verified_only(), ISSUER_V)
        .unwrap();
    let moved_chain = CertificateChain::new(moved, chain.business().clone());
    assert!(t.validate_chain(&moved_chain, NOW).is_ok());
    assert!(t.retire_root(1));
    assert_eq!(
        t.validate_chain(&chain, NOW).unwrap_err(),
        ValidationError::RootRetired(1)
    );
    assert!(t.validate_chain(&moved_chain, NOW).is_ok());
    assert_eq!(
        t.add_root(p.root.trust_root()),
        Err(TrustStoreError::Retired(1))
    );
    // A different root under an installed id is refused.
    let impostor = RootAuthority::from_seed(&[0x33; 32], 2, ROOT_V);
    assert_eq!(
        t.add_root(impostor.trust_root()),
        Err(TrustStoreError::DuplicateRoot(2))
    );
}

#[test]
fn bad_signatures_anywhere_in_the_chain() {
    let p = platform();
    let business = IdentityKeyPair::generate(&mut common::rng(16));
    let chain = chain_for(&p, &business).to_bytes();
    // Issuer certificate: bytes 2..126 of the chain; business certificate after.
    let issuer_sig = 2 + IssuerCertificate::ENCODED_LEN - 64;
    let business_sig = chain.len() - 64;
    for (at, link) in [
        (issuer_sig + 3, ChainLink::Issuer),
        (business_sig + 3, ChainLink::Business),
        // Signed content, not only signatures.
        (2 + 10 + 5, ChainLink::Issuer),
        (2 + IssuerCertificate::ENCODED_LEN + 90, ChainLink::Business),
    ] {
        let mut t = chain.clone();
        t[at] ^= 0x01;
        assert_eq!(
            p.trust.validate_chain_bytes(&t, NOW).unwrap_err(),
            ValidationError::BadSignature(link),
            "byte {at}"
        );
    }
    // Non-canonical S (S + L) on the business signature.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut t = chain.clone();
    let s = &mut t[business_sig + 32..];
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(s[i]) + u16::from(L[i]) + carry;
        s[i] = v as u8;
        carry = v >> 8;
    }
    assert_eq!(carry, 0, "S + L fits in 32 bytes for this key");
    assert_eq!(
        p.trust.validate_chain_bytes(&t, NOW).unwrap_err(),
        ValidationError::BadSignature(ChainLink::Business)
    );
}

#[test]
fn issuer_may_not_certify_a_level_it_was_not_given() {
    let p = platform();
    let business = IdentityKeyPair::generate(&mut common::rng(17));
    // The honest issuer refuses at issuance.
    let mut req = request(&business, "KLM Royal Dutch Airlines");
    req.level = VerificationLevel::Official;
    assert_eq!(
        p.issuer.issue(&req).unwrap_err(),
        IssueError::LevelNotAllowed(VerificationLevel::Official)
    );
    // A compromised issuer signs it anyway; the client refuses.
    let chain = chain_for(&p, &business);
    let forged = resign_business(&chain, |b| b[63] = 0x02);
    assert_eq!(forged.business().level(), VerificationLevel::Official);
    assert_eq!(
        p.trust.validate_chain(&forged, NOW).unwrap_err(),
        ValidationError::LevelNotAllowed {
            issuer_id: 7,
            level: VerificationLevel::Official
        }
    );
}

// ---- Chain confusion (pitfall 20).

#[test]
fn business_certificate_presented_as_issuer_is_refused() {
    let p = platform();
    let business = IdentityKeyPair::generate(&mut common::rng(18));
    let chain = chain_for(&p, &business);
    // In the issuer slot of a chain.
    let mut bytes = vec![1, hotline::constants::OBJ_TYPE_CERT_CHAIN];
    bytes.extend_from_slice(&chain.business().to_bytes());
    bytes.extend_from_slice(&chain.business().to_bytes());
    assert_eq!(
        p.trust.validate_chain_bytes(&bytes, NOW).unwrap_err(),
        ValidationError::Malformed(DecodeError::WrongObjectType {
            expected: hotline::constants::OBJ_TYPE_ISSUER_CERT,
            found: hotline::constants::OBJ_TYPE_BUSINESS_CERT
        })
    );
    assert!(matches!(
        IssuerCertificate::from_bytes(&chain.business().to_bytes()),
        Err(DecodeError::WrongObjectType { .. })
    ));
    // A certified business uses its own identity key as if it were an
    // issuer, to certify a look-alike of another business.
    let rogue = Ed25519Secret::from_seed(&[0x44; 32]);
    let mut b = chain.business().to_bytes();
    b.truncate(b.len() - 64);
    let sig = rogue.sign(SIG_CTX_BUSINESS_CERT, &b);
    b.extend_from_slice(&sig);
    let forged = CertificateChain::new(
        chain.issuer().clone(),
        BusinessCertificate::from_bytes(&b).unwrap(),
    );
    assert_eq!(
        p.trust.validate_chain(&forged, NOW).unwrap_err(),
        ValidationError::BadSignature(ChainLink::Business)
    );
    // A certificate from one issuer paired with another issuer's certificate.
    let (seed8, key8) = IssuerAuthority::generate_key(&mut common::rng(19));
    let cert8 = p
        .root
        .certify_issuer(8, &key8, verified_only(), ISSUER_V)
        .unwrap();
    let issuer8 = IssuerAuthority::new(&seed8, cert8).unwrap();
    let by8 = issuer8
        .issue(&request(&business, "KLM Royal Dutch Airlines"))
        .unwrap();
    assert_eq!(
        p.trust
            .validate_chain(&CertificateChain::new(chain.issuer().clone(), by8), NOW)
            .unwrap_err(),
        ValidationError::IssuerMismatch {
            named: 8,
            present: 7
        }
    );
    // An issuer authority refuses a certificate for another key.
    assert_eq!(
        IssuerAuthority::new(&[0x55; 32], chain.issuer().clone()).unwrap_err(),
        IssueError::KeyMismatch
    );
}

#[test]
fn certificate_for_another_key_is_key_mismatch() {
    let p = platform();
    let (_, store) = certified_business(&p, 20);
    let impostor = IdentityKeyPair::generate(&mut common::rng(21));
    let impostor_store = PreKeyStore::new(&impostor, 1, 1, &mut common::rng(22));
    // The relay serves the impostor's keys with the genuine certificate.
    let spliced = impostor_store
        .bundle()
        .with_certificate_chain(store.certificate_chain().cloned());
    let decoded = PreKeyBundle::from_bytes(&spliced.to_bytes()).unwrap();
    assert_eq!(
        p.trust.verify_bundle(&decoded, NOW).unwrap_err(),
        ValidationError::KeyMismatch
    );
    assert_eq!(
        p.trust
            .verify_bundle(&impostor_store.bundle(), NOW)
            .unwrap_err(),
        ValidationError::NoCertificate
    );
}

// ---- Revocation (pitfall 19).

#[test]
fn revoked_serials_and_issuers_are_refused_and_lists_never_roll_back() {
    let p = platform();
    let business = IdentityKeyPair::generate(&mut common::rng(23));
    let chain = chain_for(&p, &business);
    let issuer_cert = p.issuer.certificate().clone();
    let mut t = p.trust.clone();
    let revoke = p
        .issuer
        .revoke(5, NOW - 10, NOW - 10 + 604_800, &[1001, 3])
        .unwrap();
    let clear = p
        .issuer
        .revoke(4, NOW - 20, NOW - 20 + 604_800, &[])
        .unwrap();
    // The issuer's certificate is needed to check its list.
    assert_eq!(
        t.apply_revocation_list(&revoke, None, NOW).unwrap_err(),
        RevocationError::IssuerCertificateNeeded(7)
    );
    assert_eq!(
        t.apply_revocation_list(&revoke, Some(&issuer_cert), NOW)
            .unwrap(),
        RevocationUpdate {
            sequence: 5,
            revoked: 2
        }
    );
    assert_eq!(
        t.validate_chain(&chain, NOW).unwrap_err(),
        ValidationError::CertificateRevoked {
            issuer_id: 7,
            serial: 1001
        }
    );
    // Rollback: an older list that does not revoke 1001 is refused, and
    // the revocation stays in force. So is a replay of the same list.
    assert_eq!(
        t.apply_revocation_list(&clear, Some(&issuer_cert), NOW)
            .unwrap_err(),
        RevocationError::Stale {
            current: 5,
            offered: 4
        }
    );
    assert!(matches!(
        t.apply_revocation_list(&revoke, Some(&issuer_cert), NOW),
        Err(RevocationError::Stale { .. })
    ));
    assert!(t.validate_chain(&chain, NOW).is_err());
    assert_eq!(
        t.revocation_sequence(RevocationScope::BusinessCertificates, 7),
        Some(5)
    );
    // A list issued in the future is refused.
    let future = p
        .issuer
        .revoke(
            6,
            NOW + CLOCK_SKEW_SECS + 1,
            NOW + CLOCK_SKEW_SECS + 1 + 604_800,
            &[],
        )
        .unwrap();
    assert!(matches!(
        t.apply_revocation_list(&future, Some(&issuer_cert), NOW),
        Err(RevocationError::IssuedInFuture { .. })
    ));
    // A list signed by someone else than the issuer is refused.
    let (seed, key) = IssuerAuthority::generate_key(&mut common::rng(24));
    let cert = p
        .root
        .certify_issuer(7, &key, verified_only(), ISSUER_V)
        .unwrap();
    let other7 = IssuerAuthority::new(&seed, cert).unwrap();
    let forged = other7.revoke(9, NOW, NOW + 604_800, &[]).unwrap();
    assert_eq!(
        t.apply_revocation_list(&forged, Some(&issuer_cert), NOW)
            .unwrap_err(),
        RevocationError::BadSignature
    );
    // An issuer certificate that does not chain to a known root.
    let stranger = RootAuthority::from_seed(&[0x66; 32], 9, ROOT_V);
    let stray = stranger
        .certify_issuer(7, issuer_cert.key(), verified_only(), ISSUER_V)
        .unwrap();
    assert_eq!(
        t.apply_revocation_list(
            &p.issuer.revoke(10, NOW, NOW + 604_800, &[]).unwrap(),
            Some(&stray),
            NOW
        )
        .unwrap_err(),
        RevocationError::IssuerNotTrusted(ValidationError::UnknownRoot(9))
    );
    // The root revokes the issuer: every certificate it issued is refused.
    let mut t = p.trust.clone();
    let list = p
        .root
        .revoke_issuers(1, NOW, NOW + 604_800, &[*chain.issuer().key()])
        .unwrap();
    t.apply_revocation_list(&list, None, NOW).unwrap();
    assert_eq!(
        t.validate_chain(&chain, NOW).unwrap_err(),
        ValidationError::IssuerRevoked(7)
    );
    assert_eq!(
        t.apply_revocation_list(
            &p.root.revoke_issuers(0, NOW, NOW + 604_800, &[]).unwrap(),
            None,
            NOW
        )
        .unwrap_err(),
        RevocationError::Stale {
            current: 1,
            offered: 0
        }
    );
}

#[test]
fn malformed_revocation_lists_get_typed_errors_without_large_allocations() {
    let p = platform();
    let good = p
        .issuer
        .revoke(1, NOW, NOW + 604_800, &[3, 1, 2])
        .unwrap()
        .to_bytes();
    assert_eq!(
        RevocationList::from_bytes(&good).unwrap().serials(),
        &[1, 2, 3]
    );
    for len in 0..good.len() {
        assert!(RevocationList::from_bytes(&good[..len]).is_err());
    }
    // A count of 2^32 - 1 with no entries behind it.
    let mut huge = good[..31].to_vec();
    huge.extend_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        RevocationList::from_bytes(&huge),
        Err(DecodeError::InvalidLength {
            field: "entry count",
            ..
        })
    ));
    let mut short = good[..31].to_vec();
    short.extend_from_slice(&60_000u32.to_be_bytes());
    assert_eq!(
        RevocationList::from_bytes(&short),
        Err(DecodeError::Truncated("revocation entries"))
    );
    // Entries out of order (or repeated) are not canonical.
    let mut swapped = good.clone();
    swapped[35..43].copy_from_slice(&5u64.to_be_bytes());
    assert_eq!(
        RevocationList::from_bytes(&swapped),
        Err(DecodeError::NotCanonical("revocation entries"))
    );
    // A root's list holds 32-byte issuer keys: a count that fits as
    // serials but not as keys is truncated, and keys must ascend too.
    let list = p
        .root
        .revoke_issuers(1, NOW, NOW + 604_800, &[*p.issuer.certificate().key()])
        .unwrap();
    let bytes = list.to_bytes();
    assert_eq!(bytes.len(), 35 + 32 + 64);
    assert_eq!(
        RevocationList::from_bytes(&bytes).unwrap().issuer_keys(),
        &[p.issuer.certificate().key().to_bytes()]
    );
    let mut two = bytes[..31].to_vec();
    two.extend_from_slice(&2u32.to_be_bytes());
    two.extend_from_slice(&[0; 40]);
    two.extend_from_slice(&bytes[67..]);
    assert_eq!(
        RevocationList::from_bytes(&two[..35 + 40]),
        Err(DecodeError::Truncated("revocation entries"))
    );
    let mut repeated = bytes[..31].to_vec();
    repeated.extend_from_slice(&2u32.to_be_bytes());
    repeated.extend_from_slice(&bytes[35..67]);
    repeated.extend_from_slice(&bytes[35..67]);
    repeated.extend_from_slice(&bytes[67..]);
    assert_eq!(
        RevocationList::from_bytes(&repeated),
        Err(DecodeError::NotCanonical("revocation entries"))
    );
}

// ---- Names (pitfall 18).

#[test]
fn spoofed_names_are_refused_at_issuance_and_at_validation() {
    type Expect = fn(&NameError) -> bool;
    let spoofs: &[(&str, Expect)] = &[
        ("P\u{430}yPal", |e| matches!(e, NameError::MixedScript(_))),
        ("\u{39A}LM", |e| matches!(e, NameError::MixedScript(_))),
        ("G\u{43E}\u{43E}gle", |e| {
            matches!(e, NameError::MixedScript(_))
        }),
        ("Amaz\u{3BF}n", |e| matches!(e, NameError::MixedScript(_))),
        (
            "\u{421}\u{41E}\u{421}\u{410}",
            |e| matches!(e, NameError::AsciiLookalike(s) if s == "COCA"),
        ),
        ("\u{421}0\u{421}4", |e| {
            matches!(e, NameError::AsciiLookalike(_))
        }),
        ("K\u{200D}LM", |e| {
            matches!(e, NameError::InvisibleCharacter { position: 1, .. })
        }),
        ("KL\u{200B}M", |e| {
            matches!(e, NameError::InvisibleCharacter { .. })
        }),
        ("Luft\u{AD}hansa", |e| {
            matches!(e, NameError::InvisibleCharacter { .. })
        }),
        ("KLM\u{FE0F}", |e| {
            matches!(e, NameError::InvisibleCharacter { .. })
        }),
        ("KLM\u{202E}enilriA", |e| {
            matches!(e, NameError::BidiControl { position: 3, .. })
        }),
        ("\u{200F}KLM", |e| {
            matches!(e, NameError::BidiControl { .. })
        }),
        ("KLM \u{2066}x\u{2069}", |e| {
            matches!(e, NameError::BidiControl { .. })
        }),
        ("\u{FF2B}\u{FF2C}\u{FF2D}", |e| {
            matches!(e, NameError::FullWidthForm { position: 0, .. })
        }),
        ("KLM\u{FF01}", |e| {
            matches!(e, NameError::FullWidthForm { .. })
        }),
        ("KLM\u{3000}Air", |e| {
            matches!(e, NameError::DisallowedCharacter { .. })
        }),
        ("KLM\u{A0}Air", |e| {
            matches!(e, NameError::DisallowedCharacter { .. })
        }),
        ("\u{1D40A}\u{1D40B}\u{1D40C}", |e| {
            matches!(e, NameError::DisallowedCharacter { .. })
        }),
        ("KLM\u{2122}", |e| {
            matches!(e, NameError::DisallowedCharacter { .. })
        }),
        ("KLM\tAir", |e| {
            matches!(e, NameError::ControlCharacter { .. })
        }),
        ("KLM\u{7F}", |e| {
            matches!(e, NameError::ControlCharacter { .. })
        }),
        (" KLM", |e| *e == NameError::BadSpacing),
        ("KLM ", |e| *e == NameError::BadSpacing),
        ("KLM  Air", |e| *e == NameError::BadSpacing),
        ("12 34", |e| *e == NameError::NoLetter),
        ("", |e| *e == NameError::Empty),
    ];
    let p = platform();
    let business = IdentityKeyPair::generate(&mut common::rng(25));
    let chain = chain_for(&p, &business);
    for (name, expect) in spoofs {
        let err = check_name(name).unwrap_err();
        assert!(expect(&err), "{name:?}: {err:?}");
        // The issuer refuses it.
        let issued = p.issuer.issue(&request(&business, name));
        assert!(
            matches!(&issued, Err(IssueError::Name(e)) if expect(e)),
            "{name:?}: {issued:?}"
        );
        // A compromised issuer signs it; the client refuses it.
        if name.is_empty() {
            continue; // an empty name is refused by decoding
        }
        let forged = resign_business(&chain, |b| {
            let start = 81;
            let old = usize::from(b[80]);
            b.splice(start..start + old, name.bytes());
            b[80] = name.len() as u8;
        });
        match p.trust.validate_chain(&forged, NOW) {
            Err(ValidationError::InvalidName(e)) => assert!(expect(&e), "{name:?}: {e:?}"),
            other => panic!("{name:?}: {other:?}"),
        }
    }
    // Localized names follow the same rules.
    let mut req = request(&business, "KLM");
    req.localized = vec![("de".into(), "K\u{200D}LM".into())];
    assert!(matches!(
        p.issuer.issue(&req),
        Err(IssueError::LocalizedName { .. })
    ));
    // Not-NFC input is normalized by the issuer but refused by the client.
    let cert = p
        .issuer
        .issue(&request(&business, "Mu\u{308}ller"))
        .unwrap();
    assert_eq!(cert.name(), "Müller");
    assert_eq!(check_name("Mu\u{308}ller"), Err(NameError::NotNormalized));
    // Length limits, in characters and in bytes.
    assert_eq!(
        check_name(&"a".repeat(65)),
        Err(NameError::TooManyChars(65))
    );
    assert!(check_name(&"a".repeat(64)).is_ok());
    assert_eq!(
        check_name(&"航".repeat(67)),
        Err(NameError::TooManyBytes(201))
    );
    assert!(normalize_name(&"a".repeat(10_000)).is_err());
}

#[test]
fn real_multilingual_names_are_accepted() {
    let p = platform();
    let business = IdentityKeyPair::generate(&mut common::rng(26));
    for name in [
        "KLM Royal Dutch Airlines",
        "Müller & Söhne GmbH",
        "Bäckerei Groß",
        "Société Générale",
        "Yatırım Bankası",
        "Æon",
        "中国国际航空",
        "日本航空",
        "トヨタ自動車",
        "ひらがな銀行",
        "KLMオランダ航空",
        "الخطوط الجوية القطرية",
        "אל על",
        "삼성전자",
        "Αιγαίον",
        "Аэрофлот",
        "7-Eleven",
        "Macy's",
        "AT&T",
        "Procter & Gamble Co.",
    ] {
        assert_eq!(check_name(name), Ok(()), "{name}");
        let cert = p.issuer.issue(&request(&business, name)).unwrap();
        let chain = CertificateChain::new(p.issuer.certificate().clone(), cert);
        assert_eq!(p.trust.validate_chain(&chain, NOW).unwrap().name(), name);
    }
}

#[test]
fn known_names_warn_about_look_alikes_and_identity_changes_are_reported() {
    let p = platform();
    let (klm, store) = certified_business(&p, 27);
    let verified = p.trust.verify_bundle(&store.bundle(), NOW).unwrap();
    let mut known = KnownBusinesses::new();
    assert!(matches!(
        known.check(&verified),
        Ok(PinStatus::FirstContact { confusable_with }) if confusable_with.is_empty()
    ));
    known.pin(&verified).unwrap();
    assert_eq!(known.check(&verified), Ok(PinStatus::Known));

    // Another business, legitimately certified, with a name that looks
    // like KLM's (only digits and case differ): a warning at first contact.
    let mimic = IdentityKeyPair::generate(&mut common::rng(28));
    let cert = p
        .issuer
        .issue(&BusinessCertificateRequest {
            business_id: BusinessId([0x66; 16]),
            ..request(&mimic, "KIM Roya1 Dutch Air1ines")
        })
        .unwrap();
    let v = p
        .trust
        .validate_chain(
            &CertificateChain::new(p.issuer.certificate().clone(), cert),
            NOW,
        )
        .unwrap();
    match known.check(&v) {
        Ok(PinStatus::FirstContact { confusable_with }) => {
            assert_eq!(confusable_with.len(), 1);
            assert_eq!(confusable_with[0].name, "KLM Royal Dutch Airlines");
            assert_eq!(confusable_with[0].business_id, BusinessId([0x4b; 16]));
        }
        other => panic!("{other:?}"),
    }

    // KLM changes its identity key (new certificate, same business id):
    // reported, not silently accepted.
    let new_key = IdentityKeyPair::generate(&mut common::rng(29));
    let renewed = p
        .trust
        .validate_chain(&chain_for(&p, &new_key), NOW)
        .unwrap();
    assert_eq!(
        known.check(&renewed),
        Err(PinCheckError::IdentityChanged {
            business_id: BusinessId([0x4b; 16]),
            pinned: *klm.public().signing_key(),
            presented: *new_key.public().signing_key(),
        })
    );
    // After the user confirms, the new key is pinned.
    known.pin(&renewed).unwrap();
    assert_eq!(known.check(&renewed), Ok(PinStatus::Known));
    assert!(known.check(&verified).is_err());
    assert_eq!(known.len(), 1);
    // A rename under the same key is surfaced.
    let renamed = p
        .issuer
        .issue(&BusinessCertificateRequest {
            serial: 5,
            ..request(&new_key, "KLM")
        })
        .unwrap();
    let renamed = p
        .trust
        .validate_chain(
            &CertificateChain::new(p.issuer.certificate().clone(), renamed),
            NOW,
        )
        .unwrap();
    assert_eq!(
        known.check(&renamed),
        Ok(PinStatus::Renamed {
            previous_name: "KLM Royal Dutch Airlines".into()
        })
    );
}

// ---- Fingerprints.

#[test]
fn fingerprints_agree_on_both_sides_and_differ_between_pairs() {
    let mut r = common::rng(30);
    let a = IdentityKeyPair::generate(&mut r).public();
    let b = IdentityKeyPair::generate(&mut r).public();
    let c = IdentityKeyPair::generate(&mut r).public();
    let ab = Fingerprint::new(&a, &b);
    assert_eq!(ab, Fingerprint::new(&b, &a));
    assert_ne!(ab.digits(), Fingerprint::new(&a, &c).digits());
    assert_eq!(ab.digits().len(), 60);
    assert!(ab.digits().bytes().all(|d| d.is_ascii_digit()));
    assert_eq!(ab.display_groups().split(' ').count(), 12);
    let qr = ab.scannable();
    assert_eq!(qr[0], 1);
    assert!(ab.matches_scanned(&qr));
    let mut other = qr;
    other[40] ^= 1;
    assert!(!ab.matches_scanned(&other));
    assert!(!ab.matches_scanned(&qr[..64]));
}

// ---- Decoding and secrets.

#[test]
fn every_truncation_and_byte_flip_of_a_certified_bundle_is_handled() {
    let p = platform();
    let (_, store) = certified_business(&p, 31);
    let good = store.bundle().to_bytes();
    let chain_start = good.len() - store.certificate_chain().unwrap().to_bytes().len();
    assert_eq!(good[chain_start - 1], 1);
    assert!(PreKeyBundle::from_bytes(&good).is_ok());
    for len in chain_start - 1..good.len() {
        assert!(PreKeyBundle::from_bytes(&good[..len]).is_err(), "{len}");
    }
    // Any flip in the chain either fails decoding or fails validation.
    for at in chain_start..good.len() {
        let mut t = good.clone();
        t[at] ^= 0x40;
        if let Ok(b) = PreKeyBundle::from_bytes(&t) {
            assert!(p.trust.verify_bundle(&b, NOW).is_err(), "byte {at}");
        }
    }
    let mut t = good.clone();
    t[chain_start - 1] = 7;
    assert!(matches!(
        PreKeyBundle::from_bytes(&t),
        Err(hotline::BundleError::Decode(DecodeError::InvalidValue {
            field: "certificate flag",
            value: 7
        }))
    ));
    // Certificates and roots, standalone.
    let root = p.root.trust_root().to_bytes();
    assert_eq!(TrustRoot::from_bytes(&root).unwrap(), p.root.trust_root());
    for len in 0..root.len() {
        assert!(TrustRoot::from_bytes(&root[..len]).is_err());
    }
    let mut bad = root.clone();
    bad[5] ^= 1;
    assert_eq!(
        TrustRoot::from_bytes(&bad),
        Err(TrustRootError::BadSignature)
    );
    let cert = store.certificate_chain().unwrap().business().to_bytes();
    for len in 0..cert.len() {
        assert!(BusinessCertificate::from_bytes(&cert[..len]).is_err());
    }
    let mut bad = cert.clone();
    bad[81] = 0xff; // not UTF-8
    assert_eq!(
        BusinessCertificate::from_bytes(&bad),
        Err(DecodeError::InvalidUtf8("name"))
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Decoding is total and canonical: a mutated encoding either fails with
    /// a typed error or re-encodes to exactly the same bytes, and validating
    /// whatever decodes never panics.
    #[test]
    fn mutated_certificates_decode_canonically_or_not_at_all(
        edits in proptest::collection::vec((0usize..2000, proptest::prelude::any::<u8>()), 1..4),
        cut in 0usize..2000,
    ) {
        let p = platform();
        let business = IdentityKeyPair::from_secret_bytes(&[3; 32], &[4; 32]);
        let chain = chain_for(&p, &business).to_bytes();
        let list = p.issuer.revoke(1, NOW, NOW + 604_800, &[1, 2, 3]).unwrap().to_bytes();
        for good in [chain, list, p.root.trust_root().to_bytes()] {
            let mut t = good.clone();
            for (at, v) in &edits {
                let i = at % t.len();
                t[i] = *v;
            }
            if cut < t.len() {
                t.truncate(cut);
            }
            if let Ok(c) = CertificateChain::from_bytes(&t) {
                proptest::prop_assert_eq!(c.to_bytes(), t.clone());
                let _ = p.trust.validate_chain(&c, NOW);
            }
            if let Ok(l) = RevocationList::from_bytes(&t) {
                proptest::prop_assert_eq!(l.to_bytes(), t.clone());
                let _ = p.trust.clone().apply_revocation_list(&l, Some(p.issuer.certificate()), NOW);
            }
            if let Ok(r) = TrustRoot::from_bytes(&t) {
                proptest::prop_assert_eq!(r.to_bytes(), t.clone());
            }
        }
    }
}

#[test]
fn authorities_never_print_their_keys() {
    let p = platform();
    let seed_hex: String = ISSUER_SEED.iter().map(|b| format!("{b:02x}")).collect();
    let root_hex: String = [0x11u8; 32].iter().map(|b| format!("{b:02x}")).collect();
    let shown = format!("{:?} {:?}", p.issuer, p.root);
    assert!(!shown.contains(&seed_hex) && !shown.contains(&root_hex));
    assert!(!shown.contains("21, 21, 21") && !shown.contains("17, 17, 17"));
}

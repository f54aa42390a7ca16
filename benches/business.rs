//! Business identity on the customer's side: chain validation next to its
//! lower bound (two strict Ed25519 verifications), and the name rules.
//!
//! `cargo bench --bench business`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hotline::business::{
    BusinessCertificateRequest, BusinessId, CertificateChain, IssuerAuthority, LevelSet, Peer,
    RootAuthority, TrustStore, Validity, VerificationLevel, check_name, confusable_key,
};
use hotline::hazmat::ed25519::Ed25519Secret;
use hotline::{IdentityKeyPair, PreKeyBundle, PreKeyStore};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

mod common;

const NOW: u64 = 1_800_000_000;

fn bench_validation(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let always = Validity {
        not_before: 0,
        not_after: u64::MAX,
    };
    let root = RootAuthority::generate(1, always, &mut rng);
    let (seed, key) = IssuerAuthority::generate_key(&mut rng);
    let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
    let issuer_cert = root.certify_issuer(7, &key, levels, always).unwrap();
    let issuer = IssuerAuthority::new(&seed, issuer_cert.clone()).unwrap();
    let business = IdentityKeyPair::generate(&mut rng);
    let cert = issuer
        .issue(&BusinessCertificateRequest {
            serial: 1,
            business_id: BusinessId([1; 16]),
            identity_key: *business.public().signing_key(),
            name: "KLM Royal Dutch Airlines".into(),
            localized: vec![("ja".into(), "KLMオランダ航空".into())],
            level: VerificationLevel::Verified,
            validity: always,
        })
        .unwrap();
    let chain = CertificateChain::new(issuer_cert, cert);
    let mut store = PreKeyStore::new(&business, 1, 1, &mut rng);
    store.set_certificate_chain(chain.clone()).unwrap();
    let bundle_bytes = store.bundle().to_bytes();
    let mut trust = TrustStore::new();
    trust.add_root(root.trust_root()).unwrap();

    let mut group = c.benchmark_group("certificate chain");
    group.bench_function("validate_chain", |b| {
        b.iter(|| black_box(trust.validate_chain(black_box(&chain), NOW).unwrap()))
    });
    group.bench_function("decode bundle + verify_bundle", |b| {
        b.iter(|| {
            let bundle = PreKeyBundle::from_bytes(black_box(&bundle_bytes)).unwrap();
            black_box(trust.verify_bundle(&bundle, NOW).unwrap())
        })
    });
    let signer = Ed25519Secret::from_seed(&[9; 32]);
    let msg = chain.to_bytes();
    let sig = signer.sign(b"", &msg);
    let pk = signer.public_key();
    group.bench_function("primitives/two strict Ed25519 verifications", |b| {
        b.iter(|| {
            black_box(pk.verify(b"", black_box(&msg), &sig).is_ok());
            black_box(pk.verify(b"", black_box(&msg), &sig).is_ok())
        })
    });
    group.finish();

    // The badge judged on every message (SPEC.md 13.16) next to the
    // message itself: a 100 B encrypt + decrypt on an established session,
    // in the same run. The trust store holds a revocation list of 1,000
    // serials and 1,000 statuses, this business's among them.
    let verified = trust.validate_chain(&chain, NOW).unwrap();
    let mut judged = trust.clone();
    judged.require_status(true);
    let serials: Vec<u64> = (1000..2000).collect();
    let list = issuer
        .revoke(NOW - 10, NOW - 10, NOW - 10 + 604_800, &serials)
        .unwrap();
    judged
        .apply_revocation_list(&list, Some(issuer.certificate()), NOW)
        .unwrap();
    for serial in 1..=1000 {
        let status = issuer
            .certify_status(serial, NOW - 10, NOW + 86_400)
            .unwrap();
        judged
            .apply_status(&status, issuer.certificate(), NOW)
            .unwrap();
    }
    let peer = Peer::VerifiedBusiness(verified);
    assert!(judged.badge(&peer, NOW).is_verified());
    let (mut a, mut b, _) = common::established();
    let mut group = c.benchmark_group("badge per message");
    group.bench_function("badge", |bench| {
        bench.iter(|| black_box(judged.badge(black_box(&peer), NOW)))
    });
    group.bench_function("encrypt + decrypt 100 B", |bench| {
        let msg = [0x42u8; 100];
        bench.iter(|| {
            let wire = a.encrypt(black_box(&msg), b"").unwrap();
            black_box(b.decrypt(&wire, b"").unwrap())
        })
    });
    group.finish();

    let mut group = c.benchmark_group("names");
    for name in [
        "KLM Royal Dutch Airlines",
        "الخطوط الجوية القطرية",
        "KLMオランダ航空",
    ] {
        group.bench_function(format!("check_name/{name}"), |b| {
            b.iter(|| black_box(check_name(black_box(name))))
        });
    }
    group.bench_function("confusable_key/KLM Royal Dutch Airlines", |b| {
        b.iter(|| black_box(confusable_key(black_box("KLM Royal Dutch Airlines"))))
    });
    group.finish();
}

criterion_group!(benches, bench_validation);
criterion_main!(benches);

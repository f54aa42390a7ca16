//! The hot path, next to the cost of its own primitives (the lower bound).
//!
//! `cargo bench --bench hot_path` prints, per group, Hotline's operation and
//! the composition of the primitives it cannot avoid for the same work.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{established, vodozemac_pair};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hotline::hazmat::aead::{open_in_place, seal_in_place};
use hotline::hazmat::kdf::{hkdf, hkdf_expand, hmac_sha256};
use hotline::hazmat::kem::KemSecret;
use hotline::hazmat::x25519::X25519Secret;
use hotline::padding::padded_len;
use hotline::{IdentityKeyPair, PreKeyStore, Session};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use vodozemac::olm::{Account, OlmMessage, SessionConfig};

/// The primitives one established-chain message needs, for one message:
/// two chain HMACs, the message-key expansion, the header AEAD and the body
/// AEAD, on the sender and again on the receiver.
fn primitives_encrypt_decrypt(len: usize) -> usize {
    let ck = [7u8; 32];
    let mut body = vec![0u8; padded_len(len)];
    let mut header = [0u8; 41];
    let mut total = 0;
    for _ in 0..2 {
        let mk = hmac_sha256(&ck, &[1]);
        let next = hmac_sha256(&ck, &[2]);
        let mut okm = [0u8; 56];
        hkdf_expand(&mk, b"Hotline v1 message keys", &mut okm).unwrap();
        let key: [u8; 32] = okm[..32].try_into().unwrap();
        let nonce: [u8; 12] = okm[32..44].try_into().unwrap();
        let t1 = seal_in_place(&next, &nonce, &[0u8; 35], &mut header).unwrap();
        let t2 = seal_in_place(&key, &nonce, &[0u8; 108], &mut body).unwrap();
        total += usize::from(t1[0]) + usize::from(t2[0]);
    }
    // The receiver opens what it verifies; opening costs what sealing does.
    let _ = open_in_place;
    total
}

fn bench_established(c: &mut Criterion) {
    let mut group = c.benchmark_group("established_chain_encrypt_decrypt");
    for len in [100usize, 1024, 16 * 1024] {
        let pt = vec![0x61u8; len];
        group.throughput(Throughput::Bytes(len as u64));
        let (mut a, mut b, mut rng) = established();
        group.bench_with_input(BenchmarkId::new("hotline", len), &len, |bench, _| {
            bench.iter(|| {
                let m = a.encrypt_with_rng(black_box(&pt), b"", &mut rng).unwrap();
                black_box(b.decrypt(&m, b"").unwrap())
            })
        });
        group.bench_with_input(BenchmarkId::new("primitives", len), &len, |bench, &len| {
            bench.iter(|| black_box(primitives_encrypt_decrypt(len)))
        });
        let (mut a, _b, mut rng) = established();
        group.bench_with_input(
            BenchmarkId::new("hotline_encrypt_only", len),
            &len,
            |bench, _| {
                bench.iter(|| black_box(a.encrypt_with_rng(black_box(&pt), b"", &mut rng).unwrap()))
            },
        );
        let (mut va, mut vb) = vodozemac_pair();
        group.bench_with_input(BenchmarkId::new("vodozemac", len), &len, |bench, _| {
            bench.iter(|| {
                let m = va.encrypt(black_box(&pt)).unwrap();
                black_box(vb.decrypt(&m).unwrap())
            })
        });
        let (mut va, _vb) = vodozemac_pair();
        group.bench_with_input(
            BenchmarkId::new("vodozemac_encrypt_only", len),
            &len,
            |bench, _| bench.iter(|| black_box(va.encrypt(black_box(&pt)).unwrap())),
        );
    }
    group.finish();
}

fn bench_ratchet_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("ratchet_step_message");
    let (mut a, mut b, mut rng) = established();
    group.bench_function("hotline", |bench| {
        bench.iter(|| {
            // Each direction change is a DH step on both sides.
            let m = a.encrypt_with_rng(b"ping", b"", &mut rng).unwrap();
            b.decrypt(&m, b"").unwrap();
            let m = b.encrypt_with_rng(b"pong", b"", &mut rng).unwrap();
            black_box(a.decrypt(&m, b"").unwrap())
        })
    });
    let (mut va, mut vb) = vodozemac_pair();
    group.bench_function("vodozemac", |bench| {
        bench.iter(|| {
            let m = va.encrypt(b"ping").unwrap();
            vb.decrypt(&m).unwrap();
            let m = vb.encrypt(b"pong").unwrap();
            black_box(va.decrypt(&m).unwrap())
        })
    });
    let peer = X25519Secret::generate(&mut rng).public_key();
    group.bench_function("primitives", |bench| {
        bench.iter(|| {
            // Per direction: key generation, two DHs (sender and receiver),
            // two root KDFs, plus the message's own primitives.
            for _ in 0..2 {
                let k = X25519Secret::generate(&mut rng);
                let _pk = k.public_key();
                let d1 = k.diffie_hellman(&peer).unwrap();
                let d2 = k.diffie_hellman(&peer).unwrap();
                let mut okm = [0u8; 96];
                hkdf(&[1u8; 32], d1.as_bytes(), b"Hotline v1 root", &mut okm).unwrap();
                hkdf(&[1u8; 32], d2.as_bytes(), b"Hotline v1 root", &mut okm).unwrap();
            }
            black_box(primitives_encrypt_decrypt(4))
        })
    });
    group.finish();
}

/// The primitives a message from the skipped-key store needs on the
/// receiver: one header AEAD open (the chain's header key matches on the
/// first trial), the expansion of the stored message-key seed, and the body
/// AEAD open.
struct SkippedPrimitives {
    header: [u8; 41],
    header_tag: [u8; 16],
    body: Vec<u8>,
    body_tag: [u8; 16],
}

impl SkippedPrimitives {
    const SEED: [u8; 32] = [9; 32];
    const HEADER_KEY: [u8; 32] = [8; 32];
    const NONCE: [u8; 12] = [0; 12];

    fn keys() -> ([u8; 32], [u8; 12]) {
        let mut okm = [0u8; 56];
        hkdf_expand(&Self::SEED, b"Hotline v1 message keys", &mut okm).unwrap();
        (
            okm[..32].try_into().unwrap(),
            okm[32..44].try_into().unwrap(),
        )
    }

    fn new(len: usize) -> Self {
        let (key, nonce) = Self::keys();
        let mut header = [0u8; 41];
        let header_tag =
            seal_in_place(&Self::HEADER_KEY, &Self::NONCE, &[0u8; 35], &mut header).unwrap();
        let mut body = vec![0u8; padded_len(len)];
        let body_tag = seal_in_place(&key, &nonce, &[0u8; 108], &mut body).unwrap();
        Self {
            header,
            header_tag,
            body,
            body_tag,
        }
    }

    fn run(&self, scratch: &mut Vec<u8>) -> usize {
        let mut header = self.header;
        open_in_place(
            &Self::HEADER_KEY,
            &Self::NONCE,
            &[0u8; 35],
            &mut header,
            &self.header_tag,
        )
        .unwrap();
        let (key, nonce) = Self::keys();
        scratch.clear();
        scratch.extend_from_slice(&self.body);
        open_in_place(&key, &nonce, &[0u8; 108], scratch, &self.body_tag).unwrap();
        usize::from(header[0]) + scratch.len()
    }
}

/// Decrypting a message that arrives after a later one of its chain: its key
/// comes from the skipped-key store. Each iteration sends two messages,
/// delivers the second (which stores the first one's key) untimed, then
/// times the delivery of the first.
fn bench_skipped(c: &mut Criterion) {
    let mut group = c.benchmark_group("skipped_key_decrypt");
    let len = 100usize;
    let pt = vec![0x61u8; len];
    group.throughput(Throughput::Bytes(len as u64));
    let (mut a, mut b, mut rng) = established();
    group.bench_function(BenchmarkId::new("hotline", len), |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let early = a.encrypt_with_rng(&pt, b"", &mut rng).unwrap();
                let late = a.encrypt_with_rng(&pt, b"", &mut rng).unwrap();
                b.decrypt(&late, b"").unwrap();
                let start = Instant::now();
                black_box(b.decrypt(black_box(&early), b"").unwrap());
                total += start.elapsed();
            }
            total
        })
    });
    let (mut a, mut b, mut rng) = established();
    group.bench_function(BenchmarkId::new("hotline_in_order", len), |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let m = a.encrypt_with_rng(&pt, b"", &mut rng).unwrap();
                let start = Instant::now();
                black_box(b.decrypt(black_box(&m), b"").unwrap());
                total += start.elapsed();
            }
            total
        })
    });
    let prims = SkippedPrimitives::new(len);
    let mut scratch = Vec::with_capacity(prims.body.len());
    group.bench_function(BenchmarkId::new("primitives", len), |bench| {
        bench.iter(|| black_box(prims.run(&mut scratch)))
    });
    let (mut va, mut vb) = vodozemac_pair();
    group.bench_function(BenchmarkId::new("vodozemac", len), |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let early = va.encrypt(&pt).unwrap();
                let late = va.encrypt(&pt).unwrap();
                vb.decrypt(&late).unwrap();
                let start = Instant::now();
                black_box(vb.decrypt(black_box(&early)).unwrap());
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

fn bench_handshake(c: &mut Criterion) {
    let mut group = c.benchmark_group("handshake");
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let c_id = IdentityKeyPair::generate(&mut rng);
    let b_id = IdentityKeyPair::generate(&mut rng);
    for with_otk in [true, false] {
        let store = PreKeyStore::new(&b_id, usize::from(with_otk), 1, &mut rng);
        let bundle = store.bundle();
        let name = if with_otk {
            "with_one_time_prekey"
        } else {
            "without_one_time_prekey"
        };
        group.bench_function(format!("initiate/{name}"), |bench| {
            bench.iter(|| black_box(Session::initiate(&c_id, &bundle, &mut rng).unwrap()))
        });
        let mut s = Session::initiate(&c_id, &bundle, &mut rng).unwrap();
        let first = s.encrypt_with_rng(b"hello", b"", &mut rng).unwrap();
        group.bench_function(format!("respond/{name}"), |bench| {
            bench.iter_batched(
                || store.clone(),
                |mut st| black_box(Session::respond(&mut st, &first, b"").unwrap()),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    group.bench_function("vodozemac/create_outbound_and_inbound", |bench| {
        let alice = Account::new();
        let mut bob = Account::new();
        bench.iter(|| {
            bob.generate_one_time_keys(1);
            let otk = *bob.one_time_keys().values().next().unwrap();
            bob.mark_keys_as_published();
            let mut a = alice
                .create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk)
                .unwrap();
            let OlmMessage::PreKey(first) = a.encrypt("hello").unwrap() else {
                unreachable!()
            };
            black_box(
                bob.create_inbound_session(
                    SessionConfig::version_1(),
                    alice.curve25519_key(),
                    &first,
                )
                .unwrap(),
            )
        })
    });
    let kem = KemSecret::generate(&mut rng);
    let kem_pub = kem.public_key();
    let x = X25519Secret::generate(&mut rng);
    let peer = X25519Secret::generate(&mut rng).public_key();
    group.bench_function("primitives/initiator", |bench| {
        bench.iter(|| {
            // Two key generations (ephemeral, ratchet), five DHs, one
            // encapsulation.
            let e = X25519Secret::generate(&mut rng);
            let r = X25519Secret::generate(&mut rng);
            let _ = (e.public_key(), r.public_key());
            for _ in 0..4 {
                black_box(e.diffie_hellman(&peer).unwrap());
            }
            black_box(r.diffie_hellman(&peer).unwrap());
            black_box(kem_pub.encapsulate(&[3u8; 32]))
        })
    });
    let (ct, _) = kem_pub.encapsulate(&[3u8; 32]);
    let signer = hotline::hazmat::ed25519::Ed25519Secret::from_seed(&[4u8; 32]);
    let signer_pub = signer.public_key();
    let id_msg = [5u8; 66];
    let id_sig = signer.sign(b"Hotline v1 identity x25519", &id_msg);
    group.bench_function("primitives/responder", |bench| {
        bench.iter(|| {
            // The initiator's identity certificate (one strict Ed25519
            // verification), five DHs (DH1..DH4 and the first ratchet
            // step), one decapsulation.
            signer_pub
                .verify(b"Hotline v1 identity x25519", &id_msg, &id_sig)
                .unwrap();
            for _ in 0..5 {
                black_box(x.diffie_hellman(&peer).unwrap());
            }
            black_box(kem.decapsulate(&ct))
        })
    });
    group.finish();
}

/// A deterministic network for the post-quantum ratchet figures: drops a
/// message when `lost` says so.
struct Conversation {
    c: Session,
    b: Session,
    rng: ChaCha20Rng,
    net: ChaCha20Rng,
    sent: usize,
    added: Vec<usize>,
}

impl Conversation {
    fn new(seed: u64) -> Self {
        let (c, b, rng) = established();
        Self {
            c,
            b,
            rng,
            net: ChaCha20Rng::seed_from_u64(seed),
            sent: 0,
            added: Vec::new(),
        }
    }

    /// One message of `len` bytes, lost with probability `loss_pct` %.
    fn message(&mut self, from_customer: bool, len: usize, loss_pct: u32) {
        use rand::RngExt;
        let pt = vec![0x61u8; len];
        let (s, r) = if from_customer {
            (&mut self.c, &mut self.b)
        } else {
            (&mut self.b, &mut self.c)
        };
        let m = s.encrypt_with_rng(&pt, b"", &mut self.rng).unwrap();
        // Bytes the post-quantum ratchet added: the wire length over that of
        // the same message padded without a chunk trailer.
        self.added.push(m.len() - (71 + padded_len(len) + 16));
        self.sent += 1;
        if self.net.random_range(0..100u32) >= loss_pct {
            black_box(r.decrypt(&m, b"").unwrap());
        }
    }

    fn epochs(&self) -> u32 {
        self.c
            .pq_status()
            .epochs_completed
            .min(self.b.pq_status().epochs_completed)
    }
}

/// Messages until `epochs` epochs have completed on both sides, with the
/// customer sending `light` and the business `heavy` messages per round.
fn messages_until_epochs(
    epochs: u32,
    light: usize,
    heavy: usize,
    loss_pct: u32,
) -> (usize, Vec<usize>) {
    let mut conv = Conversation::new(7 + u64::from(loss_pct));
    while conv.epochs() < epochs {
        for _ in 0..light {
            conv.message(true, 100, loss_pct);
        }
        for _ in 0..heavy {
            conv.message(false, 100, loss_pct);
        }
        assert!(conv.sent < 100_000, "no epoch completes");
    }
    (conv.sent, conv.added)
}

/// The post-quantum ratchet (SPEC.md 16): time per message over whole
/// conversations (epochs included), next to vodozemac's same traffic, and
/// the figures that are counts rather than times (bytes added per message,
/// messages until an epoch completes), printed once per run.
fn bench_pq_ratchet(c: &mut Criterion) {
    const EPOCHS: u32 = 5;
    let mut report = String::new();
    for (name, light, heavy) in [("balanced", 4usize, 4usize), ("one-sided 1:10", 1, 10)] {
        for loss in [0u32, 10] {
            let (n, added) = messages_until_epochs(EPOCHS, light, heavy, loss);
            let avg = added.iter().sum::<usize>() as f64 / added.len() as f64;
            let worst = added.iter().max().copied().unwrap_or(0);
            report.push_str(&format!(
                "pq_ratchet {name:15} loss {loss:2} %: {:6.1} messages per epoch, bytes added per 100 B message avg {avg:5.1} worst {worst}\n",
                n as f64 / f64::from(EPOCHS),
            ));
        }
    }
    // Worst growth over every plaintext length.
    let worst_any = (0..=hotline::constants::MAX_PLAINTEXT_LEN)
        .map(|l| {
            let with = padded_len(l + hotline::constants::PQ_TRAILER_LEN) - padded_len(l);
            if with <= hotline::constants::PQ_MAX_GROWTH {
                with
            } else {
                0
            }
        })
        .max()
        .unwrap_or(0);
    report.push_str(&format!(
        "pq_ratchet worst growth of any message: {worst_any} bytes\n"
    ));
    eprint!("{report}");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("pq_ratchet_figures.txt");
    let _ = std::fs::write(dir, &report);

    let mut group = c.benchmark_group("pq_conversation_message");
    for (name, light, heavy) in [("balanced", 4usize, 4usize), ("one_sided", 1, 10)] {
        group.bench_function(BenchmarkId::new("hotline", name), |bench| {
            bench.iter_custom(|iters| {
                let mut conv = Conversation::new(3);
                let start = Instant::now();
                let mut done = 0u64;
                while done < iters {
                    for i in 0..light + heavy {
                        conv.message(i < light, 100, 0);
                    }
                    done += (light + heavy) as u64;
                }
                start.elapsed().mul_f64(iters as f64 / done as f64)
            })
        });
        group.bench_function(BenchmarkId::new("vodozemac", name), |bench| {
            bench.iter_custom(|iters| {
                let (mut va, mut vb) = vodozemac_pair();
                let pt = vec![0x61u8; 100];
                let start = Instant::now();
                let mut done = 0u64;
                while done < iters {
                    for i in 0..light + heavy {
                        let (s, r) = if i < light {
                            (&mut va, &mut vb)
                        } else {
                            (&mut vb, &mut va)
                        };
                        let m = s.encrypt(&pt).unwrap();
                        black_box(r.decrypt(&m).unwrap());
                    }
                    done += (light + heavy) as u64;
                }
                start.elapsed().mul_f64(iters as f64 / done as f64)
            })
        });
    }
    group.finish();
}

/// The post-quantum ratchet's work for one whole epoch, both sides (SPEC.md
/// 16.10): key generation and its 38 shards; rebuilding the key from 19
/// shards (recovery shards included) and its FIPS 203 check; encapsulation
/// and 34 shards; rebuilding the ciphertext from 17 shards and
/// decapsulation. Divided by the messages per epoch printed above, it is the
/// time the ratchet adds per message; everything else it adds is the AEAD
/// over at most 70 more bytes.
fn bench_pq_epoch_work(c: &mut Criterion) {
    use hotline::types::KemPublic;
    let mut group = c.benchmark_group("pq_epoch_work");
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    use reed_solomon_erasure::galois_8::ReedSolomon;
    let codecs = [
        ReedSolomon::new(19, 19).unwrap(),
        ReedSolomon::new(17, 17).unwrap(),
    ];
    let codec = |k: usize| if k == 19 { &codecs[0] } else { &codecs[1] };
    let shards = |data: &[u8], k: usize| -> Vec<Vec<u8>> {
        let mut all: Vec<Vec<u8>> = vec![vec![0; 64]; 2 * k];
        for (s, c) in all.iter_mut().zip(data.chunks(64)) {
            s[..c.len()].copy_from_slice(c);
        }
        codec(k).encode(&mut all).unwrap();
        all
    };
    let rebuild = |all: &[Vec<u8>], k: usize| -> Vec<u8> {
        // Every other shard: half originals, half parity.
        let mut slots: Vec<Option<Vec<u8>>> = vec![None; 2 * k];
        for i in (0..2 * k).step_by(2) {
            slots[i] = Some(all[i].clone());
        }
        codec(k).reconstruct_data(&mut slots).unwrap();
        slots[..k].iter().flat_map(|s| s.clone().unwrap()).collect()
    };
    let sample_ek = KemSecret::generate(&mut rng).public_key();
    group.bench_function("erasure_only", |bench| {
        bench.iter(|| {
            let a = shards(sample_ek.as_bytes(), 19);
            let b = shards(&sample_ek.as_bytes()[..1088], 17);
            black_box((rebuild(&a, 19)[0], rebuild(&b, 17)[0]))
        })
    });
    group.bench_function("kem_only", |bench| {
        bench.iter(|| {
            let dk = KemSecret::generate(&mut rng);
            let ek = KemPublic::from_bytes(dk.public_key().as_bytes()).unwrap();
            let (ct, ss) = ek.encapsulate(&[5; 32]);
            let ss2 = dk.decapsulate(&ct);
            black_box((ss.as_bytes()[0], ss2.as_bytes()[0]))
        })
    });
    group.bench_function("both_sides", |bench| {
        bench.iter(|| {
            let dk = KemSecret::generate(&mut rng);
            let ek_shards = shards(dk.public_key().as_bytes(), 19);
            let ek_bytes = rebuild(&ek_shards, 19);
            let ek = KemPublic::from_bytes(ek_bytes[..1184].try_into().unwrap()).unwrap();
            let (ct, ss) = ek.encapsulate(&[5; 32]);
            let ct_shards = shards(&ct, 17);
            let ct_bytes = rebuild(&ct_shards, 17);
            let ss2 = dk.decapsulate(ct_bytes[..1088].try_into().unwrap());
            black_box((ss.as_bytes()[0], ss2.as_bytes()[0]))
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_established,
    bench_pq_ratchet,
    bench_pq_epoch_work,
    bench_ratchet_step,
    bench_skipped,
    bench_handshake
);
criterion_main!(benches);

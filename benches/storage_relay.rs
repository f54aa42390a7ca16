//! Saving and restoring a session, and the relay routing an envelope, each
//! next to its lower bound and (for sessions) vodozemac's pickles, in the
//! same run.
//!
//! `cargo bench --bench storage_relay` (add `--features sqlite` for the
//! SQLite relay store too).

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{established, vodozemac_pair};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hotline::constants::{MAX_FETCH_BATCH, MAX_MAILBOX_ENVELOPES_PER_SENDER};
use hotline::hazmat::aead::{open_in_place, seal_in_place};
use hotline::hazmat::ed25519::{Ed25519Public, Ed25519Secret};
use hotline::hazmat::x25519::X25519Secret;
use hotline::relay::RequestSigner;
use hotline::relay::{
    AllowList, Envelope, EnvelopeHeader, ManualClock, MemoryStore, MessageClass, MessageId, Relay,
    RelayStore, Request, Response,
};
use hotline::store::StorageKey;
use hotline::{IdentityKeyPair, Session};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use vodozemac::olm::SessionPickle;

/// The business's session with every skipped-key slot full: `MAX_SKIPPED_KEYS`
/// keys spread over `MAX_SKIPPED_CHAINS` chains.
fn session_at_caps() -> Session {
    let (mut c, mut b, mut r) = established();
    common::tests::fill_skipped_keys(&mut c, &mut b, &mut r);
    b
}

/// The lower bound of a stored record of `len` bytes: one AEAD over it.
fn aead_seal(buffer: &mut [u8]) -> [u8; 16] {
    seal_in_place(&[3; 32], &[4; 12], b"", buffer).unwrap()
}

fn bench_session_storage(c: &mut Criterion) {
    let mut group = c.benchmark_group("session_storage");
    let key = StorageKey::from_bytes([0x5a; 32]);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let (_, established_session, _) = established();
    let local_key = established_session
        .local_identity()
        .signing_key()
        .to_bytes();
    let peer_key = established_session.peer_identity().signing_key().to_bytes();
    for (name, session) in [
        ("established", established_session),
        ("at_caps", session_at_caps()),
    ] {
        let record = session.pickle(&key, &mut rng);
        group.throughput(Throughput::Bytes(record.len() as u64));
        group.bench_function(BenchmarkId::new("hotline_save", name), |bench| {
            bench.iter(|| black_box(session.pickle(&key, &mut rng)))
        });
        group.bench_function(BenchmarkId::new("hotline_restore", name), |bench| {
            bench.iter(|| black_box(Session::from_pickle(black_box(&record), &key).unwrap()))
        });
        // The AEAD over the same number of bytes, which neither direction
        // can avoid; restoring copies the record into scratch space first,
        // as the library does, and must also decode the two identities'
        // Ed25519 keys and derive the ratchet public key from its secret.
        let mut plain = vec![0u8; record.len()];
        group.bench_function(BenchmarkId::new("primitives_save", name), |bench| {
            bench.iter(|| black_box(aead_seal(&mut plain)))
        });
        let mut sealed = vec![0u8; record.len()];
        let tag = aead_seal(&mut sealed);
        let mut scratch = Vec::with_capacity(sealed.len());
        group.bench_function(BenchmarkId::new("primitives_restore", name), |bench| {
            bench.iter(|| {
                scratch.clear();
                scratch.extend_from_slice(&sealed);
                open_in_place(&[3; 32], &[4; 12], b"", &mut scratch, &tag).unwrap();
                let local = Ed25519Public::from_bytes(&local_key).unwrap();
                let peer = Ed25519Public::from_bytes(&peer_key).unwrap();
                let ratchet = X25519Secret::from_bytes(black_box([9; 32]));
                black_box((scratch.len(), local, peer, ratchet.public_key()))
            })
        });
    }
    // vodozemac's encrypted pickle of an established Olm session.
    let (va, _vb) = vodozemac_pair();
    let vkey = [0x5a; 32];
    let vrecord = va.pickle().encrypt(&vkey);
    group.throughput(Throughput::Bytes(vrecord.len() as u64));
    group.bench_function(BenchmarkId::new("vodozemac_save", "established"), |bench| {
        bench.iter(|| black_box(va.pickle().encrypt(&vkey)))
    });
    group.bench_function(
        BenchmarkId::new("vodozemac_restore", "established"),
        |bench| {
            bench.iter(|| {
                let pickle = SessionPickle::from_encrypted(black_box(&vrecord), &vkey).unwrap();
                black_box(vodozemac::olm::Session::from_pickle(pickle))
            })
        },
    );
    group.finish();
}

/// One message through `store::Client` on both sides: the sender loads its
/// sessions with the peer, encrypts and commits; the receiver loads, decrypts
/// and commits. Next to the same message on sessions held in memory, the
/// difference is what persistence costs per message (in-memory backend, so
/// no disk).
fn bench_client_message(c: &mut Criterion) {
    use hotline::store::{Client, MemoryStore as ClientMemoryStore, PeerId};
    let mut group = c.benchmark_group("client_message");
    let len = 100usize;
    let pt = vec![0x61u8; len];
    group.throughput(Throughput::Bytes(len as u64));
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let store = |rng: &mut ChaCha20Rng| ClientMemoryStore::in_memory(StorageKey::generate(rng));
    let mut business = Client::create(store(&mut rng), 1, 1, &mut rng).unwrap();
    let mut customer = Client::create(store(&mut rng), 0, 0, &mut rng).unwrap();
    let (to_business, to_customer) = (
        PeerId::new("airline").unwrap(),
        PeerId::new("alice").unwrap(),
    );
    customer
        .start_session(&to_business, &business.bundle().unwrap(), &mut rng)
        .unwrap();
    let wire = customer.encrypt(&to_business, b"hello", b"").unwrap();
    business.decrypt(&to_customer, &wire, b"").unwrap();
    let wire = business.encrypt(&to_customer, b"hi", b"").unwrap();
    customer.decrypt(&to_business, &wire, b"").unwrap();
    group.bench_function(BenchmarkId::new("stored_sessions", len), |bench| {
        bench.iter(|| {
            let wire = customer.encrypt(&to_business, black_box(&pt), b"").unwrap();
            black_box(business.decrypt(&to_customer, &wire, b"").unwrap())
        })
    });
    let (mut a, mut b, mut rng) = established();
    group.bench_function(BenchmarkId::new("sessions_in_memory", len), |bench| {
        bench.iter(|| {
            let m = a.encrypt_with_rng(black_box(&pt), b"", &mut rng).unwrap();
            black_box(b.decrypt(&m, b"").unwrap())
        })
    });
    group.finish();
}

const T0: u64 = 1_800_000_000;
const ENVELOPE_LEN: usize = 1024;

/// A relay with one registered customer and one registered business.
struct Route<S: RelayStore> {
    relay: Relay<S>,
    customer: RequestSigner,
    business: RequestSigner,
    rng: ChaCha20Rng,
}

impl<S: RelayStore> Route<S> {
    fn new(store: S) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let customer = IdentityKeyPair::generate(&mut rng);
        let business = IdentityKeyPair::generate(&mut rng);
        let mut allow = AllowList::new();
        allow.allow(&business.public(), "Example Air");
        let relay = Relay::new(store, ManualClock::new(T0), allow);
        let mut customer = RequestSigner::new(customer, 0);
        let mut business = RequestSigner::new(business, 0);
        let identity = customer.identity().public();
        let req = customer.sign(Request::RegisterCustomer { identity }, T0);
        relay.handle_request(&req).unwrap();
        let identity = business.identity().public();
        let req = business.sign(
            Request::RegisterBusiness {
                identity,
                certificate_chain: Vec::new(),
            },
            T0,
        );
        relay.handle_request(&req).unwrap();
        Self {
            relay,
            customer,
            business,
            rng,
        }
    }

    /// A signed request carrying a chat envelope from the customer to the
    /// business, encoded as it arrives from the network.
    fn send_request(&mut self) -> Vec<u8> {
        let header = EnvelopeHeader {
            sender: self.customer.id(),
            recipient: self.business.id(),
            message_id: MessageId::random(&mut self.rng),
            class: MessageClass::Chat,
            sent_at: T0,
            franking: Default::default(),
        };
        let envelope = Envelope {
            header,
            ciphertext: vec![0xAB; ENVELOPE_LEN],
        };
        self.customer.sign(Request::Send(envelope), T0).to_bytes()
    }

    /// Empties the business's mailbox (untimed).
    fn drain(&mut self) {
        loop {
            let req = self.business.sign(
                Request::FetchMailbox {
                    max: MAX_FETCH_BATCH as u16,
                },
                T0,
            );
            let Ok(Response::Mailbox {
                deliveries, more, ..
            }) = self.relay.handle_request(&req)
            else {
                panic!("fetch refused")
            };
            let ids = deliveries.iter().map(|d| d.id).collect();
            let req = self.business.sign(Request::Acknowledge { ids }, T0);
            self.relay.handle_request(&req).unwrap();
            if !more {
                break;
            }
        }
    }

    /// Times `iters` routed envelopes, in batches that fit the sender's
    /// share of the mailbox, signing before and draining after each batch,
    /// untimed.
    fn time(&mut self, iters: u64) -> Duration {
        let mut total = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let batch = left.min(MAX_MAILBOX_ENVELOPES_PER_SENDER as u64);
            let requests: Vec<Vec<u8>> = (0..batch).map(|_| self.send_request()).collect();
            let start = Instant::now();
            for r in &requests {
                black_box(self.relay.handle(black_box(r)));
            }
            total += start.elapsed();
            self.drain();
            left -= batch;
        }
        total
    }
}

fn bench_relay_routing(c: &mut Criterion) {
    let mut group = c.benchmark_group("relay_route_envelope");
    group.throughput(Throughput::Elements(1));
    let mut route = Route::new(MemoryStore::new());
    // Every routed envelope is accepted (not a refusal being timed).
    let probe = route.send_request();
    let reply = route.relay.handle(&probe);
    assert!(
        matches!(
            Response::decode_result(&reply),
            Ok(Ok(Response::Accepted { .. }))
        ),
        "the benchmarked send must be accepted"
    );
    route.drain();
    group.bench_function(BenchmarkId::new("memory_store", ENVELOPE_LEN), |bench| {
        bench.iter_custom(|iters| route.time(iters))
    });
    // The lower bound: the strict verification of the request's signature
    // over the same bytes.
    let signer = Ed25519Secret::from_seed(&[7; 32]);
    let public = signer.public_key();
    let message = vec![0xAB; ENVELOPE_LEN + 150];
    let signature = signer.sign(b"ctx", &message);
    group.bench_function(BenchmarkId::new("primitives", ENVELOPE_LEN), |bench| {
        bench.iter(|| {
            public
                .verify(b"ctx", black_box(&message), &signature)
                .unwrap()
        })
    });
    #[cfg(feature = "sqlite")]
    {
        let dir = std::env::temp_dir().join(format!("hotline-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("relay.db");
        let _ = std::fs::remove_file(&path);
        let mut route = Route::new(hotline::relay::SqliteStore::open(&path).unwrap());
        // Each routed envelope is an fsync'd transaction: fewer samples.
        group.sample_size(10);
        group.bench_function(BenchmarkId::new("sqlite_store", ENVELOPE_LEN), |bench| {
            bench.iter_custom(|iters| route.time(iters))
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_session_storage,
    bench_client_message,
    bench_relay_routing
);
criterion_main!(benches);

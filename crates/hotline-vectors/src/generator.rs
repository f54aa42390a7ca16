//! The generator itself: one function per vector file.

use std::collections::VecDeque;
use std::convert::Infallible;

use serde_json::{Value, json};

use hotline::business::{
    BusinessCertificate, BusinessCertificateRequest, BusinessId, CertificateChain, Fingerprint,
    IssuerAuthority, LevelSet, RevocationList, RootAuthority, TrustStore, Validity,
    VerificationLevel, check_name, confusable_key, names_confusable, normalize_name,
};
use hotline::code::Coded;
use hotline::conformance::{
    BusinessCertificateInternals, BusinessFields, CertificateStatusInternals, ChainKey, DhOutput,
    Ed25519Secret, IdentityKeyInternals, IdentityKeyPairInternals, InitiatorRandomness,
    IssuerCertificateInternals, KemPreKey, KemSecret, MessageKeySeed, OneTimePreKey,
    PreKeyStoreInternals, RevocationListInternals, RootKey, SessionInternals, SignedPreKey,
    TranscriptInputs, VerifiedBusinessInternals, X25519Secret, derive_session_secrets, pad_into,
    padded_len, sha256,
};
use hotline::constants::*;
use hotline::{IdentityKeyPair, KemPreKeyKind, PreKeyBundle, PreKeyStore, Session};

/// An RNG that returns scripted bytes and panics when asked for more: the
/// vectors then prove exactly which random values each operation draws.
struct ScriptedRng(VecDeque<u8>, u64, Vec<u8>);

impl ScriptedRng {
    /// Scripted bytes first; then (the draws of the post-quantum ratchet,
    /// SPEC.md 12) the stream SHA-256("Hotline vector rng" || u64(i)) for
    /// i = 0, 1, ...
    fn new(script: VecDeque<u8>) -> Self {
        Self(script, 0, Vec::new())
    }

    /// No script; the stream starts at `i = start`. Logs every byte drawn.
    fn stream_from(start: u64) -> Self {
        Self(VecDeque::new(), start, Vec::new())
    }
}

impl rand_core::TryRng for ScriptedRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        unreachable!("the protocol only draws whole byte strings")
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        unreachable!("the protocol only draws whole byte strings")
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for b in dst {
            if self.0.is_empty() {
                let mut label = b"Hotline vector rng".to_vec();
                label.extend_from_slice(&self.1.to_be_bytes());
                self.1 += 1;
                self.0.extend(sha256(&label));
            }
            *b = self.0.pop_front().unwrap_or_default();
            self.2.push(*b);
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for ScriptedRng {}

/// A labelled 32-byte test value: SHA-256("Hotline vector " || label).
fn val32(label: &str) -> [u8; 32] {
    sha256(format!("Hotline vector {label}").as_bytes())
}

fn val64(label: &str) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&val32(&format!("{label} d")));
    out[32..].copy_from_slice(&val32(&format!("{label} z")));
    out
}

/// An error's or verdict's stable code (SPEC.md 10.7) as JSON; the code
/// and its nested codes must be rows of the code table.
fn code(e: &(impl Coded + ?Sized)) -> Value {
    let c = e.error_code();
    assert!(c.matches_table(), "{c} is not in the code table");
    serde_json::from_str(&c.to_string()).expect("an error code is JSON")
}

/// A ratchet message built as SPEC 8.5 steps 5 to 11 do, from a header key,
/// a message key seed, the sender's direction, the transcript hash, a
/// header plaintext and a padded plaintext, all chosen by the caller.
fn craft_ratchet(
    hk: &[u8; 32],
    seed: &MessageKeySeed,
    direction: u8,
    th: &[u8; 32],
    header_pt: &[u8; HEADER_PLAINTEXT_LEN],
    padded: &[u8],
    ad: &[u8],
) -> Vec<u8> {
    use hotline::conformance::seal_in_place;
    let keys = seed.expand();
    let mut header_ad = vec![PROTOCOL_VERSION, MSG_TYPE_RATCHET, direction];
    header_ad.extend_from_slice(th);
    let mut out = vec![PROTOCOL_VERSION, MSG_TYPE_RATCHET];
    out.extend_from_slice(&keys.header_nonce);
    let mut sealed = header_pt.to_vec();
    let tag = seal_in_place(hk, &keys.header_nonce, &header_ad, &mut sealed).unwrap();
    out.extend_from_slice(&sealed);
    out.extend_from_slice(&tag);
    let mut body_ad = header_ad;
    body_ad.extend_from_slice(&out[2..]);
    body_ad.extend_from_slice(&u32::try_from(ad.len()).unwrap().to_be_bytes());
    body_ad.extend_from_slice(ad);
    let mut body = padded.to_vec();
    let tag = seal_in_place(&keys.key, &keys.body_nonce, &body_ad, &mut body).unwrap();
    out.extend_from_slice(&body);
    out.extend_from_slice(&tag);
    out
}

/// The cases of a list, each marked with the SPEC section it exercises
/// (unless it names one already).
fn sect(cases: Vec<Value>, section: &str) -> Value {
    Value::Array(
        cases
            .into_iter()
            .map(|mut c| {
                if let Value::Object(m) = &mut c {
                    m.entry("section").or_insert_with(|| json!(section));
                }
                c
            })
            .collect(),
    )
}

fn h(bytes: &[u8]) -> Value {
    Value::String(hex::encode(bytes))
}

struct HandshakeCase {
    name: &'static str,
    with_one_time: bool,
}

struct HandshakeFixture {
    customer: IdentityKeyPair,
    store: PreKeyStore,
    bundle: PreKeyBundle,
    randomness: [[u8; 32]; 3],
    json: Value,
}

fn handshake_fixture(case: &HandshakeCase) -> HandshakeFixture {
    let tag = case.name;
    let c_ed = val32(&format!("{tag} initiator ed25519 seed"));
    let c_x = val32(&format!("{tag} initiator x25519 secret"));
    let b_ed = val32(&format!("{tag} responder ed25519 seed"));
    let b_x = val32(&format!("{tag} responder x25519 secret"));
    let customer = IdentityKeyPair::from_secret_bytes(&c_ed, &c_x);
    let business = IdentityKeyPair::from_secret_bytes(&b_ed, &b_x);
    let spk_secret = val32(&format!("{tag} signed prekey secret"));
    let otk_secret = val32(&format!("{tag} one-time prekey secret"));
    let kem_seed = val64(&format!("{tag} kem prekey seed"));
    let lr_seed = val64(&format!("{tag} last-resort kem prekey seed"));
    let spk = SignedPreKey::new(&business, 7, X25519Secret::from_bytes(spk_secret));
    let otk = OneTimePreKey::new(&business, 1001, X25519Secret::from_bytes(otk_secret));
    let kem = KemPreKey::new(
        &business,
        2001,
        KemPreKeyKind::OneTime,
        KemSecret::from_seed(kem_seed),
    );
    let last_resort = KemPreKey::new(
        &business,
        2000,
        KemPreKeyKind::LastResort,
        KemSecret::from_seed(lr_seed),
    );
    let store = if case.with_one_time {
        PreKeyStore::from_parts(
            &business,
            spk.clone(),
            vec![otk.clone()],
            vec![kem.clone()],
            last_resort.clone(),
        )
    } else {
        PreKeyStore::from_parts(&business, spk.clone(), vec![], vec![], last_resort.clone())
    };
    let bundle = store.bundle();
    let used_kem = if case.with_one_time {
        &kem
    } else {
        &last_resort
    };

    let ek = val32(&format!("{tag} initiator ephemeral secret"));
    let rk = val32(&format!("{tag} initiator ratchet secret"));
    let m = val32(&format!("{tag} kem encapsulation randomness"));
    let ek_s = X25519Secret::from_bytes(ek);
    let rk_s = X25519Secret::from_bytes(rk);

    // Recompute every intermediate value independently of Session.
    let dh1 = customer.dh().diffie_hellman(&spk.public.key).unwrap();
    let dh2 = ek_s.diffie_hellman(business.public().dh_key()).unwrap();
    let dh3 = ek_s.diffie_hellman(&spk.public.key).unwrap();
    let dh4: Option<DhOutput> = case
        .with_one_time
        .then(|| ek_s.diffie_hellman(&otk.public.key).unwrap());
    let (ct, ss) = used_kem.public.key.encapsulate(&m);
    let th = TranscriptInputs {
        initiator: &customer.public(),
        responder: &business.public(),
        signed_prekey_id: spk.public.id,
        signed_prekey: &spk.public.key,
        one_time: case
            .with_one_time
            .then_some((otk.public.id, &otk.public.key)),
        kem_id: used_kem.public.id,
        kem_kind: used_kem.public.kind,
        kem_key: &used_kem.public.key,
        ephemeral: &ek_s.public_key(),
        kem_ciphertext: &ct,
        certificate_hash: None,
        features: hotline::constants::FEATURE_PQ_RATCHET,
    }
    .hash();
    let secrets = derive_session_secrets(&th, &dh1, &dh2, &dh3, dh4.as_ref(), &ss);
    let (root1, cks, nhks) = secrets
        .root
        .step(&rk_s.diffie_hellman(&spk.public.key).unwrap());

    let session = Session::initiate_with(
        &customer,
        &bundle,
        None,
        InitiatorRandomness {
            ephemeral: X25519Secret::from_bytes(ek),
            ratchet: X25519Secret::from_bytes(rk),
            kem_m: m,
        },
    )
    .unwrap();
    assert_eq!(session.transcript_hash(), th);

    let json = json!({
        "name": tag,
        "inputs": {
            "initiator_ed25519_seed": h(&c_ed),
            "initiator_x25519_secret": h(&c_x),
            "responder_ed25519_seed": h(&b_ed),
            "responder_x25519_secret": h(&b_x),
            "signed_prekey_id": spk.public.id,
            "signed_prekey_secret": h(&spk_secret),
            "one_time_prekey_id": case.with_one_time.then_some(otk.public.id),
            "one_time_prekey_secret": case.with_one_time.then(|| h(&otk_secret)),
            "kem_prekey_id": used_kem.public.id,
            "kem_prekey_kind": hotline::conformance::kem_kind_byte(used_kem.public.kind),
            "kem_prekey_seed": h(if case.with_one_time { &kem_seed } else { &lr_seed }),
            "initiator_ephemeral_secret": h(&ek),
            "initiator_ratchet_secret": h(&rk),
            "kem_encapsulation_m": h(&m),
        },
        "outputs": {
            "initiator_identity_key": h(&customer.public().to_bytes()),
            "responder_identity_key": h(&business.public().to_bytes()),
            "bundle": h(&bundle.to_bytes()),
            "dh1": h(dh1.as_bytes()),
            "dh2": h(dh2.as_bytes()),
            "dh3": h(dh3.as_bytes()),
            "dh4": dh4.as_ref().map(|d| h(d.as_bytes())),
            "kem_ciphertext": h(&ct),
            "kem_shared_secret": h(ss.as_bytes()),
            "transcript_hash": h(&th),
            "root_key": h(&secrets.root.0),
            "header_key_initiator": h(&secrets.hk_initiator.0),
            "header_key_responder": h(&secrets.hk_responder.0),
            "initiator_first_root_key": h(&root1.0),
            "initiator_first_sending_chain_key": h(&cks.0),
            "initiator_first_next_header_key": h(&nhks.0),
            "handshake_id": h(&session.handshake_id()),
        }
    });
    HandshakeFixture {
        customer,
        store,
        bundle,
        randomness: [ek, rk, m],
        json,
    }
}

fn handshake_vectors() -> Value {
    let cases: Vec<Value> = [
        HandshakeCase {
            name: "with one-time prekey",
            with_one_time: true,
        },
        HandshakeCase {
            name: "without one-time prekey",
            with_one_time: false,
        },
    ]
    .iter()
    .map(|c| handshake_fixture(c).json)
    .collect();
    json!({
        "description": "PQXDH-style handshakes: all private inputs, every intermediate value and the resulting secrets (SPEC.md, Handshake).",
        "cases": cases,
    })
}

fn kdf_vectors() -> Value {
    let root = RootKey(val32("kdf root key"));
    let dh = hotline::conformance::dh_output(val32("kdf dh output"));
    let (rk, ck, nhk) = root.step(&dh);
    let mut chain = Vec::new();
    let mut c = ChainKey(val32("kdf chain key"));
    for i in 0..5u32 {
        let (seed, next): (MessageKeySeed, ChainKey) = c.step();
        let keys = seed.expand();
        chain.push(json!({
            "n": i,
            "chain_key": h(&c.0),
            "message_key_seed": h(&seed.0),
            "message_key": h(&keys.key),
            "body_nonce": h(&keys.body_nonce),
            "header_nonce": h(&keys.header_nonce),
            "next_chain_key": h(&next.0),
        }));
        c = next;
    }
    let padding: Vec<Value> = [0usize, 1, 63, 64, 100, 1000, 1024, 4096, 16384, 65536]
        .iter()
        .map(|&l| json!({"plaintext_len": l, "padded_len": padded_len(l)}))
        .collect();
    json!({
        "description": "KDF_RK, KDF_CK, message key expansion and padded lengths (SPEC.md, Double Ratchet and Padding).",
        "root_step": {
            "root_key": h(&root.0),
            "dh_output": h(dh.as_bytes()),
            "next_root_key": h(&rk.0),
            "chain_key": h(&ck.0),
            "next_header_key": h(&nhk.0),
        },
        "chain": chain,
        "padding": padding,
    })
}

/// The scripted conversation: (sender is the initiator?, plaintext, associated data).
fn conversation_script() -> Vec<(bool, Vec<u8>, Vec<u8>)> {
    let long: Vec<u8> = (0..300u32).map(|i| (i * 7 % 256) as u8).collect();
    vec![
        (
            true,
            b"Hello, I need help with booking ABC123.".to_vec(),
            b"".to_vec(),
        ),
        (
            true,
            b"It is for tomorrow's flight.".to_vec(),
            b"envelope:1".to_vec(),
        ),
        (
            false,
            b"Happy to help. One moment please.".to_vec(),
            b"".to_vec(),
        ),
        (
            false,
            b"Your booking ABC123 is confirmed.".to_vec(),
            b"".to_vec(),
        ),
        (true, b"Thanks!".to_vec(), b"".to_vec()),
        (true, b"Can I add a bag?".to_vec(), b"".to_vec()),
        (true, long, b"envelope:6".to_vec()),
        (false, b"Yes, a bag is 25 EUR.".to_vec(), b"".to_vec()),
        (true, b"Please add one.".to_vec(), b"".to_vec()),
        (true, b"".to_vec(), b"".to_vec()),
        (false, b"Done.".to_vec(), b"".to_vec()),
        (false, b"Anything else?".to_vec(), b"".to_vec()),
        (true, b"No, that's all.".to_vec(), b"".to_vec()),
    ]
}

/// Events: Send(i) or Deliver(i). Deliveries out of order on purpose.
#[derive(Clone, Copy)]
enum Ev {
    Send(usize),
    Deliver(usize),
}

fn conversation_events() -> Vec<Ev> {
    use Ev::*;
    vec![
        Send(0),
        Send(1),
        Deliver(1),
        Deliver(0),
        Send(2),
        Send(3),
        Deliver(3),
        Deliver(2),
        Send(4),
        Send(5),
        Send(6),
        Deliver(4),
        Deliver(6),
        Send(7),
        Deliver(7),
        Deliver(5),
        Send(8),
        Send(9),
        Send(10),
        Deliver(9),
        Deliver(8),
        Deliver(10),
        Send(11),
        Send(12),
        Deliver(11),
        Deliver(12),
    ]
}

fn conversation_vectors() -> Value {
    let case = HandshakeCase {
        name: "with one-time prekey",
        with_one_time: true,
    };
    let fx = handshake_fixture(&case);
    let mut store = fx.store.clone();
    let mut rng = ScriptedRng::new(fx.randomness.iter().flatten().copied().collect());
    let mut initiator = Some(Session::initiate(&fx.customer, &fx.bundle, &mut rng).unwrap());
    assert!(rng.0.is_empty());
    let mut responder: Option<Session> = None;

    let script = conversation_script();
    let mut wires: Vec<Vec<u8>> = vec![Vec::new(); script.len()];
    let mut msgs: Vec<Value> = vec![Value::Null; script.len()];
    let mut events = Vec::new();
    let mut step = 0u32;
    for ev in conversation_events() {
        match ev {
            Ev::Send(i) => {
                let (from_initiator, pt, ad) = &script[i];
                let session = if *from_initiator {
                    initiator.as_mut().unwrap()
                } else {
                    responder
                        .as_mut()
                        .expect("responder exists before it sends")
                };
                // Script a fresh ratchet secret for every message; the test
                // below records whether the message drew it.
                let secret = val32(&format!("conversation ratchet secret {step}"));
                let drew = session.ratchet_view().sending.is_none();
                let script = if drew { secret.to_vec() } else { Vec::new() };
                let mut rng = ScriptedRng::new(script.into_iter().collect());
                let wire = session.encrypt_with_rng(pt, ad, &mut rng).unwrap();
                let pq_drawn = rng.2[if drew { 32 } else { 0 }..].to_vec();
                if drew {
                    step += 1;
                }
                let mut padded = Vec::new();
                pad_into(pt, &mut padded);
                let prefix = match wire[1] {
                    MSG_TYPE_INITIAL => hotline::conformance::initial_prefix_len(&wire).unwrap(),
                    _ => 0,
                };
                let chunk = wire.len() != prefix + RATCHET_PREFIX_LEN + padded.len() + TAG_LEN;
                msgs[i] = json!({
                    "index": i,
                    "sender": if *from_initiator { "initiator" } else { "responder" },
                    "ratchet_secret": drew.then(|| h(&secret)),
                    "pq_randomness": h(&pq_drawn),
                    "plaintext": h(pt),
                    "associated_data": h(ad),
                    "padded_plaintext": (!chunk).then(|| h(&padded)),
                    "wire": h(&wire),
                });
                wires[i] = wire;
                events.push(json!({"send": i}));
            }
            Ev::Deliver(i) => {
                let (from_initiator, pt, ad) = &script[i];
                let got = if *from_initiator {
                    match responder.as_mut() {
                        Some(s) => s.decrypt(&wires[i], ad).unwrap(),
                        None => {
                            let (s, p) = Session::respond(&mut store, &wires[i], ad).unwrap();
                            responder = Some(s);
                            p
                        }
                    }
                } else {
                    initiator.as_mut().unwrap().decrypt(&wires[i], ad).unwrap()
                };
                assert_eq!(&got, pt);
                events.push(json!({"deliver": i}));
            }
        }
    }
    json!({
        "description": "A conversation of 13 messages with DH ratchet steps and out-of-order delivery, starting from the handshake case 'with one-time prekey'. ratchet_secret is the 32-byte X25519 secret drawn by a message that starts a sending chain (null when none was drawn). pq_randomness is what the post-quantum ratchet drew after it (SPEC.md 16.2), from the stream of section 12 restarted for each message. padded_plaintext is null when the body carries a chunk trailer (SPEC.md 16.4). Events give the order of sends and deliveries; every delivery yields the plaintext.",
        "handshake": fx.json,
        "messages": msgs,
        "events": events,
    })
}

fn error_vectors() -> Value {
    let case = HandshakeCase {
        name: "with one-time prekey",
        with_one_time: true,
    };
    let fx = handshake_fixture(&case);
    let good_bundle = fx.bundle.to_bytes();
    let mut cases = Vec::new();
    let mut bundle_case = |name: &str, bytes: Vec<u8>| {
        let err = PreKeyBundle::from_bytes(&bytes).unwrap_err();
        cases.push(json!({"operation": "decode_bundle", "section": "6.4", "name": name, "input": h(&bytes), "error": code(&err)}));
    };
    bundle_case("empty", vec![]);
    let mut b = good_bundle.clone();
    b[0] = 0x02;
    bundle_case("unknown version", b);
    let mut b = good_bundle.clone();
    b[1] = 0x01;
    bundle_case("wrong object type", b);
    bundle_case("truncated inside KEM key", good_bundle[..800].to_vec());
    let mut b = good_bundle.clone();
    b.push(0);
    bundle_case("trailing byte", b);
    let mut b = good_bundle.clone();
    b[136] = 0x42;
    bundle_case("unknown key type", b);
    let mut b = good_bundle.clone();
    b[340] = KEY_TYPE_X25519;
    bundle_case("wrong key type", b);
    let mut b = good_bundle.clone();
    b[233] = 2;
    bundle_case("invalid one-time flag", b);
    let mut b = good_bundle.clone();
    b[339] = 9;
    bundle_case("invalid KEM kind", b);
    for (name, at) in [
        ("bad identity signature", 100usize),
        ("bad signed prekey signature", 200),
        ("bad one-time prekey signature", 300),
        ("bad KEM prekey signature", 1560),
    ] {
        let mut b = good_bundle.clone();
        b[at] ^= 1;
        bundle_case(name, b);
    }
    let mut b = good_bundle.clone();
    b[3..35].copy_from_slice(&{
        let mut p = [0u8; 32];
        p[0] = 1;
        p
    });
    bundle_case("small-order Ed25519 identity key", b);
    // Low-order X25519 keys (all-zero u-coordinate) under valid signatures,
    // re-signed by the bundle owner's Ed25519 key (SPEC 6.1, 6.2).
    let owner = fx.store.identity();
    let low_order_bundle = |at: usize, context: &[u8]| {
        let mut b = good_bundle.clone();
        b[at..at + X25519_LEN].fill(0);
        let (signed, sig_at) = if context == SIG_CTX_IDENTITY {
            (b[2..68].to_vec(), 68)
        } else {
            (b[at - 5..at + X25519_LEN].to_vec(), at + X25519_LEN)
        };
        let sig = owner.signing().sign(context, &signed);
        b[sig_at..sig_at + SIGNATURE_LEN].copy_from_slice(&sig);
        b
    };
    bundle_case(
        "low-order identity X25519 key",
        low_order_bundle(36, SIG_CTX_IDENTITY),
    );
    bundle_case(
        "low-order signed prekey",
        low_order_bundle(137, SIG_CTX_SIGNED_PREKEY),
    );
    bundle_case(
        "low-order one-time prekey",
        low_order_bundle(239, SIG_CTX_ONE_TIME_PREKEY),
    );
    // The KEM key's first 12-bit coefficient is 4095, not below q = 3329.
    let mut b = good_bundle.clone();
    b[341] = 0xff;
    b[342] |= 0x0f;
    bundle_case("KEM key failing the modulus check", b);

    // Standalone identity keys (SPEC 6.1): the bundle owner's identity.
    let good_identity = owner.public().to_bytes();
    let mut identity_case = |name: &str, bytes: Vec<u8>| {
        let err = hotline::IdentityKey::from_bytes(&bytes).unwrap_err();
        cases.push(json!({"operation": "decode_identity", "section": "6.1", "name": name, "input": h(&bytes), "error": code(&err)}));
    };
    identity_case("truncated signature", good_identity[..100].to_vec());
    let mut b = good_identity.to_vec();
    b[100] ^= 1;
    b.push(0);
    identity_case("bad signature, then a trailing byte", b);
    let mut b = good_identity.to_vec();
    b[34..66].fill(0);
    let sig = owner.signing().sign(SIG_CTX_IDENTITY, &b[..66]);
    b[66..130].copy_from_slice(&sig);
    let mut low_trailing = b.clone();
    identity_case("low-order X25519 key", b);
    low_trailing.push(0);
    identity_case("low-order X25519 key, then a trailing byte", low_trailing);

    // Initial messages processed by the responder of the handshake case.
    let mut rng = ScriptedRng::new(fx.randomness.iter().flatten().copied().collect());
    let mut init = Session::initiate(&fx.customer, &fx.bundle, &mut rng).unwrap();
    let secret = val32("error vectors unused");
    let wire = init
        .encrypt_with_rng(
            b"first",
            b"",
            &mut ScriptedRng::new(secret.iter().copied().collect()),
        )
        .unwrap();
    let mut respond_case = |name: &str, bytes: Vec<u8>| {
        let mut store = fx.store.clone();
        let err = Session::respond(&mut store, &bytes, b"").unwrap_err();
        cases.push(json!({"operation": "respond", "section": "7.9", "name": name, "input": h(&bytes), "associated_data": "", "error": code(&err)}));
    };
    let mut w = wire.clone();
    w[132..136].copy_from_slice(&99u32.to_be_bytes());
    respond_case("unknown signed prekey", w);
    let mut w = wire.clone();
    w[137..141].copy_from_slice(&98u32.to_be_bytes());
    respond_case("unknown one-time prekey", w);
    let mut w = wire.clone();
    w[141..145].copy_from_slice(&97u32.to_be_bytes());
    respond_case("unknown KEM prekey", w);
    let mut w = wire.clone();
    w[146..178].copy_from_slice(&[0u8; 32]);
    respond_case("low-order ephemeral key", w);
    let mut w = wire.clone();
    w[1000] ^= 1;
    respond_case("tampered KEM ciphertext", w);
    let mut w = wire.clone();
    let last = w.len() - 1;
    w[last] ^= 1;
    respond_case("tampered body tag", w);
    let mut w = wire.clone();
    w[80] ^= 1;
    respond_case("bad initiator identity signature", w);
    respond_case("truncated", wire[..500].to_vec());
    // The initiator's identity with a low-order X25519 key, re-signed by
    // the initiator's Ed25519 key.
    let mut w = wire.clone();
    w[36..68].fill(0);
    let sig = fx.customer.signing().sign(SIG_CTX_IDENTITY, &w[2..68]);
    w[68..132].copy_from_slice(&sig);
    respond_case("low-order initiator identity X25519 key", w);
    let mut w = wire.clone();
    w[35] = KEY_TYPE_ED25519;
    respond_case("initiator identity X25519 key with the Ed25519 tag", w);

    // Ratchet messages decrypted by the responder session after the first message.
    let mut store = fx.store.clone();
    Session::respond(&mut store, &wire, b"").unwrap();
    let second = init
        .encrypt_with_rng(b"second", b"", &mut ScriptedRng::new(VecDeque::new()))
        .unwrap();
    // The initial message prefix with a one-time prekey and no certificate
    // hash is 1267 bytes.
    let ratchet_part = second[1267..].to_vec();
    let mut decrypt_case = |name: &str, bytes: Vec<u8>, ad: &[u8]| {
        let mut store = fx.store.clone();
        let (mut s, _) = Session::respond(&mut store, &wire, b"").unwrap();
        let before = s.state_digest();
        let err = s.decrypt(&bytes, ad).unwrap_err();
        assert_eq!(s.state_digest(), before);
        cases.push(json!({"operation": "decrypt_after_first_message", "section": "8.9", "name": name, "input": h(&bytes), "associated_data": h(ad), "error": code(&err)}));
    };
    decrypt_case("replayed first message", wire.clone(), b"");
    decrypt_case("empty", vec![], b"");
    let mut w = ratchet_part.clone();
    w[0] = 0;
    decrypt_case("unknown version", w, b"");
    let mut w = ratchet_part.clone();
    w[1] = 0x33;
    decrypt_case("unknown type", w, b"");
    decrypt_case("truncated header", ratchet_part[..50].to_vec(), b"");
    let mut w = ratchet_part.clone();
    w.push(0);
    decrypt_case("invalid body length", w, b"");
    let mut w = ratchet_part.clone();
    w[20] ^= 1;
    decrypt_case("tampered header", w, b"");
    let mut w = ratchet_part.clone();
    let last = w.len() - 1;
    w[last] ^= 1;
    decrypt_case("tampered body", w, b"");
    decrypt_case("wrong associated data", ratchet_part.clone(), b"x");
    // 1001 more messages: the last one (n = 1002) would skip 1001 keys.
    let mut far = Vec::new();
    for _ in 0..1001 {
        far = init
            .encrypt_with_rng(b"far", b"", &mut ScriptedRng::new(VecDeque::new()))
            .unwrap();
    }
    decrypt_case("counter jump past MAX_SKIP", far[1267..].to_vec(), b"");
    // The first message of a second handshake with the same bundle.
    let other_rand = [
        val32("error vectors other ephemeral"),
        val32("error vectors other ratchet"),
        val32("error vectors other kem m"),
    ];
    let mut other = Session::initiate(
        &fx.customer,
        &fx.bundle,
        &mut ScriptedRng::new(other_rand.iter().flatten().copied().collect()),
    )
    .unwrap();
    let other_first = other
        .encrypt_with_rng(b"other", b"", &mut ScriptedRng::new(VecDeque::new()))
        .unwrap();
    decrypt_case("initial message of another handshake", other_first, b"");

    // Messages crafted with the initiator's keys (SPEC 8.5 steps 5 to 11 with
    // a chosen header plaintext and padded body): verdicts that no honest
    // sender produces. A fresh initiator in the state right after
    // first_message: sending chain at N = 1.
    let fresh_initiator = || {
        let mut i = Session::initiate(
            &fx.customer,
            &fx.bundle,
            &mut ScriptedRng::new(fx.randomness.iter().flatten().copied().collect()),
        )
        .unwrap();
        i.encrypt_with_rng(
            b"first",
            b"",
            &mut ScriptedRng::new(secret.iter().copied().collect()),
        )
        .unwrap();
        i
    };
    let crafter = fresh_initiator();
    let st = crafter.ratchet_view();
    let send_ck = st.sending.clone().unwrap().0;
    let hks = st.hks.clone().unwrap().0;
    let nhks = st.nhks.0;
    let own_key = st.own_ratchet_key;
    let header = |tag: u8, key: &[u8; 32], pn: u32, n: u32| -> [u8; HEADER_PLAINTEXT_LEN] {
        let mut pt = [0u8; HEADER_PLAINTEXT_LEN];
        pt[0] = tag;
        pt[1..33].copy_from_slice(key);
        pt[33..37].copy_from_slice(&pn.to_be_bytes());
        pt[37..41].copy_from_slice(&n.to_be_bytes());
        pt
    };
    let base_point = {
        let mut p = [0u8; 32];
        p[0] = 9;
        p
    };
    let seed = send_ck.step().0;
    let mut genuine_padded = Vec::new();
    pad_into(b"second", &mut genuine_padded);
    // "second" padded with a chunk trailer: epoch, shard index, a zero
    // shard, kind (SPEC 16.4).
    let pq_body = |epoch: u32, index: u8, kind: u8| {
        let mut trailer = [0u8; hotline::constants::PQ_TRAILER_LEN];
        trailer[..4].copy_from_slice(&epoch.to_be_bytes());
        trailer[4] = index;
        trailer[hotline::constants::PQ_TRAILER_LEN - 1] = kind;
        let mut out = Vec::new();
        hotline::conformance::pad_with_trailer_into(b"second", &trailer, &mut out);
        out
    };
    let crafted = |name: &str,
                   section: &str,
                   hk: &[u8; 32],
                   header_pt: [u8; HEADER_PLAINTEXT_LEN],
                   padded: &[u8],
                   receiving_n: Option<u32>| {
        let msg = craft_ratchet(
            hk,
            &seed,
            DIRECTION_INITIATOR,
            &st.th,
            &header_pt,
            padded,
            b"",
        );
        let mut store = fx.store.clone();
        let (mut s, _) = Session::respond(&mut store, &wire, b"").unwrap();
        if let Some(n) = receiving_n {
            s.set_receiving_n(n);
        }
        let before = s.state_digest();
        let err = s.decrypt(&msg, b"").unwrap_err();
        assert_eq!(s.state_digest(), before);
        json!({
            "operation": "decrypt_after_first_message",
            "name": name,
            "section": section,
            "crafted": {
                "header_key": h(hk),
                "message_key_seed": h(&seed.0),
                "header_plaintext": h(&header_pt),
                "padded_plaintext": h(padded),
                "receiving_chain_n": receiving_n,
            },
            "input": h(&msg),
            "associated_data": "",
            "error": code(&err),
        })
    };
    let own = own_key.as_bytes();
    let mut crafted_cases = vec![
        crafted(
            "header key tag not X25519",
            "8.9.2",
            &hks,
            header(KEY_TYPE_ED25519, own, 0, 1),
            &genuine_padded,
            None,
        ),
        crafted(
            "header on the current chain names another ratchet key",
            "8.9.3",
            &hks,
            header(KEY_TYPE_X25519, &base_point, 0, 1),
            &genuine_padded,
            None,
        ),
        crafted(
            "padding without its 0x80 marker",
            "8.8, 8.9.5",
            &hks,
            header(KEY_TYPE_X25519, own, 0, 1),
            &[0u8; MIN_PADDED_LEN],
            None,
        ),
        crafted(
            "DH step to a low-order ratchet key",
            "8.9.4",
            &nhks,
            header(KEY_TYPE_X25519, &[0u8; 32], 1, 0),
            &genuine_padded,
            None,
        ),
        crafted(
            "DH step skipping 1001 keys on the old chain",
            "8.9.4",
            &nhks,
            header(KEY_TYPE_X25519, &base_point, 1 + MAX_SKIP + 1, 0),
            &genuine_padded,
            None,
        ),
        crafted(
            "DH step skipping 1001 keys on the new chain",
            "8.9.4",
            &nhks,
            header(KEY_TYPE_X25519, &base_point, 1, MAX_SKIP + 1),
            &genuine_padded,
            None,
        ),
        crafted(
            "message number 2^32 - 1 on the current chain",
            "8.9.3",
            &hks,
            header(KEY_TYPE_X25519, own, 0, u32::MAX),
            &genuine_padded,
            Some(u32::MAX - 1),
        ),
        // The post-quantum ratchet (SPEC 16.5, 16.6): a trailer after the
        // padding, judged once the body authenticated.
        crafted(
            "chunk whose shard index is out of range",
            "16.5, 16.9",
            &hks,
            header(KEY_TYPE_X25519, own, 0, 1),
            &pq_body(1, 38, hotline::constants::PQ_CHUNK_EK),
            None,
        ),
        crafted(
            "chunk of a future epoch",
            "16.5, 16.9",
            &hks,
            header(KEY_TYPE_X25519, own, 0, 1),
            &pq_body(5, 0, hotline::constants::PQ_CHUNK_EK),
            None,
        ),
        crafted(
            "DH step flagged as mixing an epoch secret that is not pending",
            "16.6, 16.9",
            &nhks,
            header(
                KEY_TYPE_X25519 | hotline::constants::HEADER_PQ_MIX_BIT,
                &base_point,
                1,
                0,
            ),
            &genuine_padded,
            None,
        ),
    ];
    cases.append(&mut crafted_cases);

    // An encapsulation key that fails the FIPS 203 modulus check (1184 bytes
    // of 0xFF: every 12-bit coefficient is 4095 >= q), erasure-coded into
    // its shards (SPEC 16.3); the originals 0 to 18 arrive in crafted
    // messages n = 1 to 19 of the initiator's first sending chain, epoch 1
    // (SPEC 16.4). The first 18 decrypt; the 19th completes the key and is
    // refused, changing nothing.
    {
        let bad_ek = vec![0xFF; MLKEM768_EK_LEN];
        let shards = hotline::conformance::encode_shards(PQ_CHUNK_EK, &bad_ek);
        let mut store = fx.store.clone();
        let (mut s, _) = Session::respond(&mut store, &wire, b"").unwrap();
        let mut ck = send_ck.clone();
        let mut messages = Vec::new();
        let mut result = Value::Null;
        for (i, shard) in shards.iter().take(PQ_EK_SHARDS).enumerate() {
            let n = u32::try_from(i).unwrap() + 1;
            let (seed, next) = ck.step();
            ck = next;
            let mut trailer = [0u8; PQ_TRAILER_LEN];
            trailer[..4].copy_from_slice(&1u32.to_be_bytes());
            trailer[4] = u8::try_from(i).unwrap();
            trailer[5..5 + PQ_SHARD_LEN].copy_from_slice(shard);
            trailer[PQ_TRAILER_LEN - 1] = PQ_CHUNK_EK;
            let mut padded = Vec::new();
            hotline::conformance::pad_with_trailer_into(b"chunk", &trailer, &mut padded);
            let header_pt = header(KEY_TYPE_X25519, own_key.as_bytes(), 0, n);
            let msg = craft_ratchet(
                &hks,
                &seed,
                DIRECTION_INITIATOR,
                &st.th,
                &header_pt,
                &padded,
                b"",
            );
            messages.push(json!({
                "message_key_seed": h(&seed.0),
                "header_plaintext": h(&header_pt),
                "padded_plaintext": h(&padded),
                "input": h(&msg),
            }));
            if i + 1 < PQ_EK_SHARDS {
                assert_eq!(s.decrypt(&msg, b"").unwrap(), b"chunk");
            } else {
                let before = s.state_digest();
                let err = s.decrypt(&msg, b"").unwrap_err();
                assert_eq!(s.state_digest(), before);
                result = code(&err);
            }
        }
        cases.push(json!({
            "operation": "decrypt_sequence_after_first_message",
            "name": "encapsulation key failing the modulus check, in 19 chunks",
            "section": "16.3, 16.5, 16.9",
            "encapsulation_key": h(&bad_ek),
            "header_key": h(&hks),
            "messages": messages,
            "associated_data": "",
            "plaintext_of_all_but_last": h(b"chunk"),
            "error": result,
        }));
    }

    // Encryption refused by the initiator right after first_message.
    let too_long = vec![0u8; MAX_PLAINTEXT_LEN + 1];
    let err = fresh_initiator()
        .encrypt_with_rng(&too_long, b"", &mut ScriptedRng::new(VecDeque::new()))
        .unwrap_err();
    cases.push(json!({"operation": "encrypt_after_first_message", "section": "8.5", "name": "plaintext of 65537 zero bytes", "plaintext_len": too_long.len(), "sending_chain_n": null, "error": code(&err)}));
    let mut exhausted = fresh_initiator();
    exhausted.set_sending_n(u32::MAX);
    let err = exhausted
        .encrypt_with_rng(b"more", b"", &mut ScriptedRng::new(VecDeque::new()))
        .unwrap_err();
    cases.push(json!({"operation": "encrypt_after_first_message", "section": "8.5", "name": "sending chain at 2^32 - 1", "plaintext_len": 4, "sending_chain_n": u32::MAX, "error": code(&err)}));

    // The responder's store after it accepted the first message.
    let mut after = fx.store.clone();
    Session::respond(&mut after, &wire, b"").unwrap();
    let err = Session::respond(&mut after.clone(), &wire, b"").unwrap_err();
    cases.push(json!({"operation": "respond_after_first_message", "section": "7.10", "name": "replayed initial message", "input": h(&wire), "associated_data": "", "error": code(&err)}));
    // The responder's replay set of its signed prekey already full: 10000
    // ephemeral keys SHA-256("Hotline vector replay set entry " || i), i
    // from 0 to 9999 in decimal.
    let mut full = fx.store.clone();
    full.remember_handshakes_for_vectors(
        (0..MAX_REMEMBERED_HANDSHAKES).map(|i| val32(&format!("replay set entry {i}"))),
    );
    let err = Session::respond(&mut full, &wire, b"").unwrap_err();
    cases.push(json!({"operation": "respond_with_full_replay_set", "section": "7.10", "name": "replay set of the signed prekey full", "input": h(&wire), "associated_data": "", "error": code(&err)}));
    // An initial message that names the responder itself as initiator.
    let mut w = wire.clone();
    w[2..132].copy_from_slice(&fx.bundle.identity().to_bytes());
    let err = Session::respond(&mut fx.store.clone(), &w, b"").unwrap_err();
    cases.push(json!({"operation": "respond", "section": "7.9", "name": "initiator is the responder", "input": h(&w), "associated_data": "", "error": code(&err)}));
    json!({
        "description": "Malformed or hostile inputs and the typed error each produces (SPEC.md, Error conditions). decode_bundle: PreKeyBundle decoding. respond_with_full_replay_set: the same responder whose replay set for its signed prekey already holds MAX_REMEMBERED_HANDSHAKES ephemeral keys, SHA-256(\"Hotline vector replay set entry \" || i) for i from 0 to 9999 written in decimal, processes the input. decode_identity: a standalone identity key (IdentityKey::from_bytes), the bundle owner's with the changes named. respond: the responder of handshake case 'with one-time prekey' (see handshake.json) processes the input. respond_after_first_message: the same responder, after it accepted first_message, processes the input. decrypt_after_first_message: the responder session created from that case's first message (plaintext 'first', initiator ratchet secret as in handshake.json, empty associated data) decrypts the input; the second genuine message (plaintext 'second') is the base of the ratchet cases. decrypt_sequence_after_first_message: the same responder session decrypts the crafted messages in order (built like the `crafted` cases, header tag 0x05, pn 0, n from 1, with the header key given and each message key seed given); every message but the last decrypts to `plaintext_of_all_but_last`, the last produces the error and changes nothing. Cases with `crafted` are messages no honest sender makes, built as SPEC 8.5 steps 5 to 11 do from the given header key, message key seed (that of the initiator's message N = 1), header plaintext and padded plaintext, with the initiator's direction and the session's transcript hash; with `receiving_chain_n` not null, the responder's receiving chain counter Nr is first set to that value (its chain key unchanged). encrypt_after_first_message: the initiator right after sending first_message encrypts plaintext_len zero bytes with empty associated data, with its sending chain counter Ns first set to sending_chain_n when not null. Every case names the SPEC section it exercises.",
        "first_message": h(&wire),
        "second_message": h(&second),
        "cases": cases,
        "eviction": eviction_vectors(),
    })
}

/// Skipped-key eviction (SPEC 8.10): three chains of the initiator, each
/// delivered only by its last message so the responder stores 1000 skipped
/// keys per chain; the third pushes the store past `MAX_SKIPPED_KEYS` and
/// evicts the oldest chain whole.
fn eviction_vectors() -> Value {
    let case = HandshakeCase {
        name: "with one-time prekey",
        with_one_time: true,
    };
    let fx = handshake_fixture(&case);
    let mut init = Session::initiate(
        &fx.customer,
        &fx.bundle,
        &mut ScriptedRng::new(fx.randomness.iter().flatten().copied().collect()),
    )
    .unwrap();
    let secret = val32("error vectors unused");
    let first = init
        .encrypt_with_rng(
            b"first",
            b"",
            &mut ScriptedRng::new(secret.iter().copied().collect()),
        )
        .unwrap();
    let mut store = fx.store.clone();
    let (mut resp, _) = Session::respond(&mut store, &first, b"").unwrap();
    let mut deliveries = Vec::new();
    let mut secrets = Vec::new();
    let mut deliver =
        |to_responder: bool, label: &str, wire: &[u8], resp: &mut Session, init: &mut Session| {
            let target = if to_responder { resp } else { init };
            let result = match target.decrypt(wire, b"") {
                Ok(pt) => json!({"ok": h(&pt)}),
                Err(e) => json!({"error": code(&e)}),
            };
            deliveries.push(json!({
                "to": if to_responder { "responder" } else { "initiator" },
                "message": label,
                "input": h(wire),
                "result": result,
                "responder_skipped_keys": resp_count(to_responder, target),
            }));
        };
    fn resp_count(to_responder: bool, s: &Session) -> Value {
        if to_responder {
            json!(s.skipped_key_count())
        } else {
            Value::Null
        }
    }
    let mut kept = Vec::new();
    for (chain, start) in [("a", 1u32), ("b", 0), ("c", 0)] {
        let mut last = Vec::new();
        for n in start..start + MAX_SKIP + 1 {
            let rng_bytes = if n == 0 {
                let s = val32(&format!("eviction initiator ratchet {chain}"));
                secrets.push(json!({"party": "initiator", "chain": chain, "secret": h(&s)}));
                s.to_vec()
            } else {
                Vec::new()
            };
            let wire = init
                .encrypt_with_rng(
                    format!("{chain}{n}").as_bytes(),
                    b"",
                    &mut ScriptedRng::new(rng_bytes.into()),
                )
                .unwrap();
            if n == start {
                kept.push((format!("{chain}{n}"), wire.clone()));
            }
            last = wire;
        }
        let label = format!("{chain}{}", start + MAX_SKIP);
        deliver(true, &label, &last, &mut resp, &mut init);
        if chain != "c" {
            let s = val32(&format!("eviction responder ratchet {chain}"));
            secrets.push(
                json!({"party": "responder", "chain": format!("reply {chain}"), "secret": h(&s)}),
            );
            let reply = resp
                .encrypt_with_rng(
                    format!("reply {chain}").as_bytes(),
                    b"",
                    &mut ScriptedRng::new(s.to_vec().into()),
                )
                .unwrap();
            deliver(
                false,
                &format!("reply {chain}"),
                &reply,
                &mut resp,
                &mut init,
            );
        }
    }
    for (label, wire) in &kept {
        deliver(true, label, wire, &mut resp, &mut init);
    }
    json!({
        "description": "Skipped-key eviction (SPEC.md 8.10). The handshake 'with one-time prekey' and its first_message (errors.json). The initiator then sends chains a (messages 1 to 1001 of its first chain), b and c (messages 0 to 1000 of two new chains, each started by the DH step whose ratchet secret is given), plaintext the chain letter and the message number in decimal ('a1', 'b1000'), empty associated data; the responder answers 'reply a' and 'reply b' with the given secrets. Only the deliveries listed happen, in order, each with its result and the responder's skipped key count after it. Chain c's last message takes the store to 3000 keys, so the oldest 1000 (all of chain a, and with them its header key) are evicted: a1 is then not decryptable, b0 still is.",
        "first_message": h(&first),
        "secrets": secrets,
        "deliveries": deliveries,
    })
}

// ---- Business identity vectors.

const ROOT_VALIDITY: Validity = Validity {
    not_before: 1_600_000_000,
    not_after: 2_000_000_000,
};
const ISSUER_VALIDITY: Validity = Validity {
    not_before: 1_700_000_000,
    not_after: 1_900_000_000,
};
const BUSINESS_VALIDITY: Validity = Validity {
    not_before: 1_750_000_000,
    not_after: 1_850_000_000,
};
const VECTOR_NOW: u64 = 1_800_000_000;
/// The revocation lists' window: `next_update` a week after `issued_at`.
const WEEK: u64 = 7 * 24 * 3600;

struct BusinessFixture {
    root: RootAuthority,
    issuer: IssuerAuthority,
    issuer_secret: Ed25519Secret,
    chain: CertificateChain,
    request: BusinessCertificateRequest,
}

fn business_fixture(business: &IdentityKeyPair) -> BusinessFixture {
    let root = RootAuthority::from_seed(&val32("business root seed"), 1, ROOT_VALIDITY);
    let issuer_seed = val32("business issuer seed");
    let issuer_secret = Ed25519Secret::from_seed(&issuer_seed);
    let issuer_cert = root
        .certify_issuer(
            7,
            &issuer_secret.public_key(),
            LevelSet::new(&[VerificationLevel::Verified]).unwrap(),
            ISSUER_VALIDITY,
        )
        .unwrap();
    let issuer = IssuerAuthority::new(&issuer_seed, issuer_cert.clone()).unwrap();
    let mut id = [0u8; 16];
    id.copy_from_slice(&val32("business id")[..16]);
    let request = BusinessCertificateRequest {
        serial: 1001,
        business_id: BusinessId(id),
        identity_key: *business.public().signing_key(),
        name: "KLM Royal Dutch Airlines".into(),
        localized: vec![
            ("nl".into(), "KLM Koninklijke Luchtvaartmaatschappij".into()),
            ("ja".into(), "KLMオランダ航空".into()),
            ("zh-Hans".into(), "荷兰皇家航空".into()),
        ],
        level: VerificationLevel::Verified,
        validity: BUSINESS_VALIDITY,
    };
    let cert = issuer.issue(&request).unwrap();
    BusinessFixture {
        root,
        issuer,
        issuer_secret,
        chain: CertificateChain::new(issuer_cert, cert),
        request,
    }
}

/// Signs a business certificate directly, bypassing the issuer's checks,
/// to produce certificates a correct issuer would refuse to make.
fn forge_business(
    signer: &Ed25519Secret,
    template: &BusinessCertificate,
    edit: impl FnOnce(&mut BusinessFields),
) -> BusinessCertificate {
    template.forge(signer, edit)
}

fn business_vectors() -> Value {
    let case = HandshakeCase {
        name: "with one-time prekey",
        with_one_time: true,
    };
    let hs = handshake_fixture(&case);
    let business = hs.store.identity().clone();
    let fx = business_fixture(&business);
    let trust = || {
        let mut t = TrustStore::new();
        t.add_root(fx.root.trust_root()).unwrap();
        t
    };
    let good = fx.chain.clone();
    let issuer_cert = good.issuer().clone();
    let cert = good.business().clone();

    // ---- Revocation lists.
    let issuer_list_1 = fx
        .issuer
        .revoke(1, 1_790_000_000, 1_790_000_000 + WEEK, &[5, 1001])
        .unwrap();
    let issuer_list_2 = fx
        .issuer
        .revoke(2, 1_795_000_000, 1_795_000_000 + WEEK, &[5])
        .unwrap();
    let root_list = fx
        .root
        .revoke_issuers(
            1,
            1_790_000_000,
            1_790_000_000 + 4 * WEEK,
            &[*issuer_cert.key()],
        )
        .unwrap();
    // Fresh at `now` (VECTOR_NOW - 1 day to + 6 days), and one that ran
    // out a day before `now`.
    let fresh_list = fx
        .issuer
        .revoke(3, VECTOR_NOW - 86_400, VECTOR_NOW + 6 * 86_400, &[5])
        .unwrap();
    let stale_list = fx
        .issuer
        .revoke(3, VECTOR_NOW - 8 * 86_400, VECTOR_NOW - 86_400, &[5])
        .unwrap();
    let mut revocation_cases = Vec::new();
    {
        let mut t = trust();
        let mut apply = |name: &str, list: &RevocationList, with_issuer: bool| {
            let r = t.apply_revocation_list(list, with_issuer.then_some(&issuer_cert), VECTOR_NOW);
            revocation_cases.push(json!({
                "name": name,
                "now": VECTOR_NOW,
                "scope": list.to_bytes()[2],
                "signer_id": list.signer_id(),
                "sequence": list.sequence(),
                "issued_at": list.issued_at(),
                "next_update": list.next_update(),
                "serials": list.serials(),
                "issuer_keys": list.issuer_keys().iter().map(|k| h(k)).collect::<Vec<_>>(),
                "list": h(&list.to_bytes()),
                "with_issuer_certificate": with_issuer,
                "result": match r { Ok(u) => json!({"ok": {"sequence": u.sequence, "revoked": u.revoked}}), Err(e) => json!({"error": code(&e)}) },
            }));
        };
        apply(
            "issuer list 1 without the issuer certificate",
            &issuer_list_1,
            false,
        );
        apply("issuer list 1", &issuer_list_1, true);
        apply("issuer list 1 again", &issuer_list_1, true);
        apply("issuer list 2 (un-revokes 1001)", &issuer_list_2, true);
        apply(
            "issuer list 1 replayed after 2 (rollback)",
            &issuer_list_1,
            true,
        );
        let mut tampered = issuer_list_2.to_bytes();
        let at = tampered.len() - 1;
        tampered[at] ^= 1;
        apply(
            "tampered list",
            &RevocationList::from_bytes(&tampered).unwrap(),
            true,
        );
        apply("root list revoking the key of issuer 7", &root_list, false);
        apply(
            "issuer list 3 after its issuer's key was revoked",
            &fresh_list,
            true,
        );
        use hotline::conformance::{RevocationWindow, RevokedEntries};
        // The authority refuses to sign these; a leaked key could, so the
        // vectors carry them signed directly.
        let window = |sequence, issued_at, next_update| RevocationWindow {
            sequence,
            issued_at,
            next_update,
        };
        assert!(
            fx.issuer
                .revoke(1_790_000_001, 1_790_000_000, 1_790_000_000 + WEEK, &[])
                .is_err()
        );
        let mut t2 = trust();
        let mut apply2 = |name: &str, list: &RevocationList| {
            let r = t2.apply_revocation_list(list, Some(&issuer_cert), VECTOR_NOW);
            revocation_cases.push(json!({
                "name": name,
                "now": VECTOR_NOW,
                "fresh_store": true,
                "scope": list.to_bytes()[2],
                "signer_id": list.signer_id(),
                "sequence": list.sequence(),
                "issued_at": list.issued_at(),
                "next_update": list.next_update(),
                "serials": list.serials(),
                "issuer_keys": Vec::<String>::new(),
                "list": h(&list.to_bytes()),
                "with_issuer_certificate": true,
                "result": match r { Ok(u) => json!({"ok": {"sequence": u.sequence, "revoked": u.revoked}}), Err(e) => json!({"error": code(&e)}) },
            }));
        };
        for (name, w) in [
            (
                "issuer list whose sequence is above its issue time",
                window(1_790_000_001, 1_790_000_000, 1_790_000_000 + WEEK),
            ),
            (
                "issuer list whose next update is its issue time",
                window(1_790_000_000, 1_790_000_000, 1_790_000_000),
            ),
            (
                "issuer list valid for longer than 31 days",
                window(
                    1_790_000_000,
                    1_790_000_000,
                    1_790_000_000 + 31 * 86_400 + 1,
                ),
            ),
        ] {
            let list = RevocationList::sign_unchecked(
                &fx.issuer_secret,
                7,
                w,
                RevokedEntries::Serials(vec![]),
            );
            apply2(name, &list);
        }
    }

    // ---- Certificate statuses (section 13.15) and badges (13.16).
    let serial = cert.serial();
    let status_1 = fx
        .issuer
        .certify_status(serial, VECTOR_NOW - 86_400, VECTOR_NOW + 2 * 86_400)
        .unwrap();
    let status_2 = fx
        .issuer
        .certify_status(serial, VECTOR_NOW, VECTOR_NOW + 3 * 86_400)
        .unwrap();
    let status_future = fx
        .issuer
        .certify_status(
            serial,
            VECTOR_NOW + CLOCK_SKEW_SECS + 1,
            VECTOR_NOW + 86_400,
        )
        .unwrap();
    let mut status_cases = Vec::new();
    let mut with_status = trust();
    {
        let t = &mut with_status;
        let mut apply = |name: &str, status: &hotline::business::CertificateStatus| {
            let r = t.apply_status(status, &issuer_cert, VECTOR_NOW);
            status_cases.push(json!({
                "name": name,
                "status": h(&status.to_bytes()),
                "now": VECTOR_NOW,
                "result": match r { Ok(()) => json!("ok"), Err(e) => json!({"error": code(&e)}) },
            }));
        };
        apply("status 1", &status_1);
        apply("status 2 (newer)", &status_2);
        apply("status 1 replayed after 2", &status_1);
        apply("status from the future", &status_future);
        let mut tampered = status_2.to_bytes();
        tampered[93] ^= 1;
        apply(
            "tampered status",
            &hotline::business::CertificateStatus::from_bytes(&tampered).unwrap(),
        );
    }
    // Stapled statuses (14.13), each applied to a new store with root 1 for
    // the business verified from the valid chain, with no issuer
    // certificate: the issuer key comes from the verified business.
    {
        let verified = trust().validate_chain(&good, VECTOR_NOW).unwrap();
        let other_serial = fx
            .issuer
            .certify_status(serial + 1, VECTOR_NOW, VECTOR_NOW + 86_400)
            .unwrap();
        let mut tampered = status_2.to_bytes();
        tampered[93] ^= 1;
        let tampered = hotline::business::CertificateStatus::from_bytes(&tampered).unwrap();
        for (name, status) in [
            ("stapled status 2", &status_2),
            ("stapled status of another serial", &other_serial),
            ("stapled tampered status", &tampered),
        ] {
            let r = trust().apply_stapled_status(&verified, status, VECTOR_NOW);
            status_cases.push(json!({
                "name": name,
                "stapled": true,
                "status": h(&status.to_bytes()),
                "now": VECTOR_NOW,
                "result": match r { Ok(()) => json!("ok"), Err(e) => json!({"error": code(&e)}) },
            }));
        }
    }
    let verified = trust().validate_chain(&good, VECTOR_NOW).unwrap();
    let peer = hotline::business::Peer::VerifiedBusiness(verified);
    let mut badge_cases = Vec::new();
    // Each case names the trust state in words and gives every revocation
    // list in it (applied in order at VECTOR_NOW, an issuer's list with
    // this file's issuer certificate) and every status applied.
    let mut badge =
        |name: &str, state: &str, lists: &[&RevocationList], t: &TrustStore, now: u64| {
            badge_cases.push(json!({
                "name": name,
                "trust_state": state,
                "revocation_lists": lists.iter().map(|l| h(&l.to_bytes())).collect::<Vec<_>>(),
                "now": now,
                "badge": code(&t.badge(&peer, now)),
            }));
        };
    badge("verified, no status", "root 1", &[], &trust(), VECTOR_NOW);
    badge(
        "certificate expired",
        "root 1",
        &[],
        &trust(),
        BUSINESS_VALIDITY.not_after + CLOCK_SKEW_SECS + 1,
    );
    badge(
        "verified until the status ends",
        "root 1, the cases 'status 1' and 'status 2 (newer)' of statuses applied",
        &[],
        &with_status,
        VECTOR_NOW,
    );
    let mut required = with_status.clone();
    required.require_status(true);
    badge(
        "status required and ended",
        "root 1, the cases 'status 1' and 'status 2 (newer)' of statuses applied, statuses required",
        &[],
        &required,
        VECTOR_NOW + 3 * 86_400 + CLOCK_SKEW_SECS + 1,
    );
    let mut none = trust();
    none.require_status(true);
    badge(
        "status required and none held",
        "root 1, statuses required",
        &[],
        &none,
        VECTOR_NOW,
    );
    let mut revoked = trust();
    revoked
        .apply_revocation_list(&issuer_list_1, Some(&issuer_cert), VECTOR_NOW)
        .unwrap();
    badge(
        "revoked certificate",
        "root 1, issuer list 1",
        &[&issuer_list_1],
        &revoked,
        VECTOR_NOW,
    );
    let mut revoked = trust();
    revoked
        .apply_revocation_list(&root_list, None, VECTOR_NOW)
        .unwrap();
    badge(
        "revoked issuer",
        "root 1, root list",
        &[&root_list],
        &revoked,
        VECTOR_NOW,
    );
    let mut fresh = trust();
    fresh
        .apply_revocation_list(&fresh_list, Some(&issuer_cert), VECTOR_NOW)
        .unwrap();
    badge(
        "issuer list in force until its next update",
        "root 1, fresh issuer list 3",
        &[&fresh_list],
        &fresh,
        VECTOR_NOW,
    );
    let mut stale = trust();
    stale
        .apply_revocation_list(&stale_list, Some(&issuer_cert), VECTOR_NOW)
        .unwrap();
    badge(
        "issuer list ran out",
        "root 1, issuer list 3 that ran out",
        &[&stale_list],
        &stale,
        VECTOR_NOW,
    );
    let mut retired = trust();
    retired.retire_root(1);
    badge("retired root", "root 1 retired", &[], &retired, VECTOR_NOW);

    // ---- Validation verdicts.
    let mut validation = Vec::new();
    let mut verdict = |name: &str, t: &TrustStore, chain: &CertificateChain, now: u64| {
        let r = t.validate_chain(chain, now);
        validation.push(json!({
            "name": name,
            "chain": h(&chain.to_bytes()),
            "now": now,
            "verdict": match r { Ok(v) => json!({"valid": {
                "business_id": v.business_id().to_string(),
                "name": v.name(),
                "level": v.level().as_str(),
                "serial": v.serial(),
                "chain_hash": h(&v.chain_hash()),
            }}), Err(e) => json!({"error": code(&e)}) },
        }));
    };
    let t = trust();
    verdict("valid", &t, &good, VECTOR_NOW);
    verdict(
        "valid at the last second of the clock skew",
        &t,
        &good,
        BUSINESS_VALIDITY.not_after + CLOCK_SKEW_SECS,
    );
    verdict(
        "business expired one second after the clock skew",
        &t,
        &good,
        BUSINESS_VALIDITY.not_after + CLOCK_SKEW_SECS + 1,
    );
    verdict("business not yet valid", &t, &good, 1_720_000_000);
    verdict("issuer not yet valid", &t, &good, 1_650_000_000);
    verdict("issuer expired", &t, &good, 1_950_000_000);
    verdict("root expired", &t, &good, 2_100_000_000);
    verdict("unknown root", &TrustStore::new(), &good, VECTOR_NOW);
    let mut retired = trust();
    retired.retire_root(1);
    verdict("retired root", &retired, &good, VECTOR_NOW);
    let bad = issuer_cert.with_flipped_signature_bit(5);
    verdict(
        "bad issuer signature",
        &t,
        &CertificateChain::new(bad, cert.clone()),
        VECTOR_NOW,
    );
    let bad = cert.with_flipped_signature_bit(5);
    verdict(
        "bad business signature",
        &t,
        &CertificateChain::new(issuer_cert.clone(), bad),
        VECTOR_NOW,
    );
    let mut revoked = trust();
    revoked
        .apply_revocation_list(&issuer_list_1, Some(&issuer_cert), VECTOR_NOW)
        .unwrap();
    verdict("revoked certificate", &revoked, &good, VECTOR_NOW);
    let mut revoked = trust();
    revoked
        .apply_revocation_list(&root_list, None, VECTOR_NOW)
        .unwrap();
    verdict("revoked issuer", &revoked, &good, VECTOR_NOW);
    let s = &fx.issuer_secret;
    verdict(
        "business certificate names another issuer",
        &t,
        &CertificateChain::new(
            issuer_cert.clone(),
            forge_business(s, &cert, |c| c.issuer_id = 8),
        ),
        VECTOR_NOW,
    );
    verdict(
        "issuer certifies a level it may not",
        &t,
        &CertificateChain::new(
            issuer_cert.clone(),
            forge_business(s, &cert, |c| c.level = VerificationLevel::Official),
        ),
        VECTOR_NOW,
    );
    verdict(
        "mixed-script name signed by the issuer",
        &t,
        &CertificateChain::new(
            issuer_cert.clone(),
            forge_business(s, &cert, |c| {
                c.name = "KLM Royal Dutch \u{410}irlines".into()
            }),
        ),
        VECTOR_NOW,
    );
    verdict(
        "bidi override in a localized name",
        &t,
        &CertificateChain::new(
            issuer_cert.clone(),
            forge_business(s, &cert, |c| c.localized[0].name = "KLM\u{202E}".into()),
        ),
        VECTOR_NOW,
    );
    // A business (or its key) acting as an issuer: the business certificate
    // in the issuer slot is refused by type; a certificate signed with a
    // business key is refused by signature.
    let mut confused = vec![PROTOCOL_VERSION, OBJ_TYPE_CERT_CHAIN];
    confused.extend_from_slice(&cert.to_bytes());
    confused.extend_from_slice(&cert.to_bytes());
    let confused_err = t.validate_chain_bytes(&confused, VECTOR_NOW).unwrap_err();
    let business_signer =
        Ed25519Secret::from_seed(&val32("with one-time prekey responder ed25519 seed"));
    verdict(
        "business certificate signed by a business key",
        &t,
        &CertificateChain::new(
            issuer_cert.clone(),
            forge_business(&business_signer, &cert, |c| c.serial = 1),
        ),
        VECTOR_NOW,
    );

    // ---- Bundles.
    let mut store = hs.store.clone();
    store.set_certificate_chain(good.clone()).unwrap();
    let certified_bundle = store.bundle();
    let other = IdentityKeyPair::from_secret_bytes(
        &val32("other business ed25519"),
        &val32("other business x25519"),
    );
    let foreign = hs
        .bundle
        .clone()
        .with_certificate_chain(Some(CertificateChain::new(
            issuer_cert.clone(),
            fx.issuer
                .issue(&BusinessCertificateRequest {
                    identity_key: *other.public().signing_key(),
                    ..fx.request.clone()
                })
                .unwrap(),
        )));
    let bundle_cases: Vec<Value> = [
        ("certified bundle", &certified_bundle),
        ("bundle without certificate", &hs.bundle),
        ("certificate for another key", &foreign),
    ]
    .iter()
    .map(|(name, b)| {
        let decoded = PreKeyBundle::from_bytes(&b.to_bytes()).unwrap();
        json!({
            "name": name,
            "bundle": h(&b.to_bytes()),
            "now": VECTOR_NOW,
            "verdict": match t.verify_bundle(&decoded, VECTOR_NOW) {
                Ok(v) => json!({"valid": {"name": v.name(), "chain_hash": h(&v.chain_hash())}}),
                Err(e) => json!({"error": code(&e)}),
            },
        })
    })
    .collect();

    // ---- A certified handshake: the handshake case 'with one-time prekey'
    // with the chain hash bound into the transcript.
    let verified = t.verify_bundle(&certified_bundle, VECTOR_NOW).unwrap();
    let [ek, rk, m] = hs.randomness;
    let mut session = Session::initiate_with(
        &hs.customer,
        &certified_bundle,
        Some(&verified),
        InitiatorRandomness {
            ephemeral: X25519Secret::from_bytes(ek),
            ratchet: X25519Secret::from_bytes(rk),
            kem_m: m,
        },
    )
    .unwrap();
    let first = session
        .encrypt_with_rng(
            b"Is my flight on time?",
            b"",
            &mut ScriptedRng::new(VecDeque::new()),
        )
        .unwrap();
    let (responder, pt) = Session::respond(&mut store.clone(), &first, b"").unwrap();
    assert_eq!(pt, b"Is my flight on time?");
    assert_eq!(responder.transcript_hash(), session.transcript_hash());
    let mut stripped = first.clone();
    // Clearing the certificate flag (and dropping the hash) changes the
    // transcript, so the embedded message no longer authenticates.
    let flag_at = 2 + 130 + 4 + 1 + 4 + 4 + 33 + MLKEM768_CT_LEN;
    stripped[flag_at] = 0;
    stripped.drain(flag_at + 1..flag_at + 33);
    let stripped_err = Session::respond(&mut store.clone(), &stripped, b"").unwrap_err();
    let unknown_err = Session::respond(&mut hs.store.clone(), &first, b"").unwrap_err();
    // The verified business of the certified bundle given with the bundle
    // that carries no chain.
    let mismatch_err = Session::initiate_verified(
        &hs.customer,
        &hs.bundle,
        &verified,
        &mut ScriptedRng::new(hs.randomness.iter().flatten().copied().collect()),
    )
    .unwrap_err();
    // The responder renews its chain (serials 1002, 1003, 1004, otherwise
    // the same request): it keeps the hashes of its two previous chains
    // (SPEC 7.9 step 9a), so the first message, naming the original chain,
    // completes after two renewals and is refused after three.
    let mut renewed = store.clone();
    let mut renewals = Vec::new();
    for serial in [1002u64, 1003, 1004] {
        let mut request = fx.request.clone();
        request.serial = serial;
        let chain = CertificateChain::new(issuer_cert.clone(), fx.issuer.issue(&request).unwrap());
        renewed.set_certificate_chain(chain.clone()).unwrap();
        let result = match Session::respond(&mut renewed.clone(), &first, b"") {
            Ok(_) => json!("ok"),
            Err(e) => json!({"error": code(&e)}),
        };
        renewals.push(json!({"serial": serial, "chain": h(&chain.to_bytes()), "first_message_result": result}));
    }

    // ---- Names.
    let names: Vec<Value> = NAME_CORPUS
        .iter()
        .map(|(label, name)| {
            json!({
                "label": label,
                "name": name,
                "utf8": h(name.as_bytes()),
                "check": match check_name(name) { Ok(()) => json!("ok"), Err(e) => json!({"error": code(&e)}) },
            })
        })
        .collect();
    let normalization: Vec<Value> = [
        "Cafe\u{301} de Flore",
        "Mu\u{308}ller & So\u{308}hne GmbH",
        "KLM Royal Dutch Airlines",
    ]
    .iter()
    .map(|n| {
        json!({"input": h(n.as_bytes()), "output": match normalize_name(n) {
            Ok(o) => json!({"name": o, "utf8": h(o.as_bytes())}),
            Err(e) => json!({"error": code(&e)}),
        }})
    })
    .collect();
    let confusables: Vec<Value> = [
        ("KLM", "K1M"),
        ("PayPal", "P\u{430}yPal"),
        ("KLM", "\u{39A}LM"),
        ("KLM", "KLN"),
        ("Lufthansa", "lufthansa"),
        ("BOOKING.COM", "Booking.com"),
        ("PayPaI", "PayPal"),
        ("KIM", "KLM"),
    ]
    .iter()
    .map(|(a, b)| json!({"a": a, "b": b, "confusable": names_confusable(a, b), "key_a": confusable_key(a), "key_b": confusable_key(b)}))
    .collect();

    // ---- Fingerprint of the handshake identities.
    let fp = Fingerprint::new(&hs.customer.public(), &business.public());

    json!({
        "description": "Business identity (SPEC.md, Business identity). inputs: the root and issuer Ed25519 seeds, ids, validity windows and the issued request; the business identity is the responder of handshake case 'with one-time prekey'. encodings: the trust root, issuer certificate, business certificate and chain. validation: TrustStore::validate_chain of each chain at `now` with only root 1 installed (except 'unknown root', with no root, 'retired root', with root 1 retired, 'revoked certificate', after issuer list 1, and 'revoked issuer', after the root list, which revokes the issuer's key). bundles: TrustStore::verify_bundle. revocation: lists applied in order to one store (root 1 installed) at `now`, each with its scope, signer, sequence, issued_at, next_update and entries (serials, or issuer keys in hex); a list is signed by the issuer seed (scope 1) or the root seed (scope 2); 'tampered list' is 'issuer list 2' with the last byte of its signature flipped; cases marked fresh_store are applied each to a new store with root 1 installed. statuses: certificate statuses (SPEC 13.15) applied in order to one store with root 1 at `now`; cases marked stapled are applied each to a new store with root 1 by apply_stapled_status (SPEC 14.13) for the business verified from the valid chain. badges: TrustStore::badge (SPEC 13.16) of the business verified from the valid chain, in the trust state described, at `now`. certified_handshake: the handshake case 'with one-time prekey' started with the verified chain; same random draws as handshake.json. names: check_name of each corpus entry; name_tables: the Unicode versions of the reference implementation's tables and the code point sets of rules 5 and 7 of the name rules (control: general category Cc; invisible: the InvisibleCharacter set; allowed_not_alphabetic: the Allowed characters that do not count as letters), as ranges of hex code points; normalization: normalize_name; confusables: names_confusable. fingerprint: of the two handshake identities.",
        "inputs": {
            "root_seed": h(&val32("business root seed")),
            "root_id": 1,
            "root_validity": [ROOT_VALIDITY.not_before, ROOT_VALIDITY.not_after],
            "issuer_seed": h(&val32("business issuer seed")),
            "issuer_id": 7,
            "issuer_allowed_levels": LevelSet::new(&[VerificationLevel::Verified]).unwrap().to_byte(),
            "issuer_validity": [ISSUER_VALIDITY.not_before, ISSUER_VALIDITY.not_after],
            "business_identity_key": h(&business.public().to_bytes()),
            "serial": fx.request.serial,
            "business_id": fx.request.business_id.to_string(),
            "name": fx.request.name,
            "localized": fx.request.localized.iter().map(|(l, n)| json!([l, n])).collect::<Vec<_>>(),
            "level": LEVEL_VERIFIED,
            "business_validity": [BUSINESS_VALIDITY.not_before, BUSINESS_VALIDITY.not_after],
            "now": VECTOR_NOW,
            "clock_skew": CLOCK_SKEW_SECS,
        },
        "encodings": {
            "trust_root": h(&fx.root.trust_root().to_bytes()),
            "issuer_certificate": h(&issuer_cert.to_bytes()),
            "business_certificate": h(&cert.to_bytes()),
            "chain": h(&good.to_bytes()),
            "chain_hash": h(&good.hash()),
        },
        "validation": sect(validation, "13.7"),
        "chain_confusion": {
            "name": "business certificate in the issuer slot",
            "chain": h(&confused),
            "error": code(&confused_err),
        },
        "bundles": sect(bundle_cases, "13.7"),
        "revocation": sect(revocation_cases, "13.9"),
        "statuses": sect(status_cases, "13.15"),
        "badges": sect(badge_cases, "13.16"),
        "certified_handshake": {
            "bundle": h(&certified_bundle.to_bytes()),
            "certificate_hash": h(&verified.chain_hash()),
            "transcript_hash": h(&session.transcript_hash()),
            "handshake_id": h(&session.handshake_id()),
            "first_message": h(&first),
            "first_plaintext": h(b"Is my flight on time?"),
            "certificate_flag_stripped": {"input": h(&stripped), "error": code(&stripped_err)},
            "responder_without_certificate": {"error": code(&unknown_err)},
            "responder_renewals": renewals,
            "verified_business_with_the_bundle_without_chain": {"error": code(&mismatch_err)},
        },
        "decoding": business_decoding_vectors(&business),
        "refusals": business_refusal_vectors(&business),
        "templates": template_vectors(&fx),
        "names": sect(names, "13.8"),
        "name_tables": name_tables(),
        "normalization": sect(normalization, "13.8"),
        "confusables": sect(confusables, "13.8"),
        "fingerprint": {
            "identity_a": h(&hs.customer.public().to_bytes()),
            "identity_b": h(&business.public().to_bytes()),
            "digits": fp.digits(),
            "scannable": h(&fp.scannable()),
        },
    })
}
/// Business objects decoded on their own (SPEC 13.13), each with a change
/// named in the case.
/// Message templates (SPEC 13.17): approvals by this file's issuer 7, the
/// content of notifications, their rendering and their refusals.
fn template_vectors(fx: &BusinessFixture) -> Value {
    use hotline::business::{MessageTemplate, TemplateCategory, TemplatedNotification};
    let business_id = fx.request.business_id;
    let issuer_key = fx.issuer_secret.public_key();
    let window = Validity {
        not_before: VECTOR_NOW - 86_400,
        not_after: VECTOR_NOW + 30 * 86_400,
    };
    let approve = |id: u32, category: TemplateCategory, language: &str, body: &str| {
        fx.issuer
            .approve_template(business_id, id, category, language, body, window)
    };
    let departure = approve(
        1,
        TemplateCategory::Utility,
        "en",
        "Flight {{1}} now departs at {{2}} from gate {{3}}.",
    )
    .unwrap();
    let code_template = approve(
        2,
        TemplateCategory::Authentication,
        "nl",
        "Uw code is {{1}}.\nDeel hem met niemand.",
    )
    .unwrap();
    let offer = approve(
        3,
        TemplateCategory::Marketing,
        "en",
        "{{2}}: {{1}} off, {{2}} only!",
    )
    .unwrap();
    let mut approved = Vec::new();
    let mut rendered = Vec::new();
    for (t, params) in [
        (&departure, vec!["KL1234", "14:05", "D7"]),
        (&code_template, vec!["482913"]),
        (&offer, vec!["20%", "Today"]),
    ] {
        approved.push(json!({
            "template_id": t.template_id(),
            "category": t.category().to_byte(),
            "language": t.language(),
            "body": t.body(),
            "params": t.params(),
            "not_before": window.not_before,
            "not_after": window.not_after,
            "template": h(&t.to_bytes()),
            "hash": h(&t.hash()),
        }));
        let n = TemplatedNotification::new(t, &params).unwrap();
        let shown = n
            .render_for(business_id, 7, &issuer_key, VECTOR_NOW)
            .unwrap();
        rendered.push(json!({
            "template_id": t.template_id(),
            "params": params,
            "content": h(&n.to_bytes()),
            "now": VECTOR_NOW,
            "text": shown.text,
            "category": shown.category.to_byte(),
            "language": shown.language,
        }));
    }

    let mut refusals = Vec::new();
    let mut refuse = |name: &str, input: Value, err: Value| {
        refusals.push(json!({"name": name, "section": "13.17", "input": input, "error": err}));
    };
    for (name, body) in [
        ("right-to-left override in the text", "Sale \u{202E}won"),
        ("text not in NFC", "Cafe\u{301} {{1}}"),
        ("placeholder {{0}}", "Hi {{0}}"),
        ("stray closing braces", "Hi }} {{1}}"),
        ("placeholders 1 and 3 without 2", "{{1}} {{3}}"),
    ] {
        let err = approve(9, TemplateCategory::Utility, "en", body).unwrap_err();
        refuse(
            &format!("approval: {name}"),
            json!({"operation": "approve", "body": body}),
            code(&err),
        );
    }
    let good = TemplatedNotification::new(&departure, &["KL1234", "14:05", "D7"])
        .unwrap()
        .to_bytes();
    // Decoding refusals, each a change of the good content.
    let tlen = departure.to_bytes().len();
    let count_at = 3 + tlen;
    let mut decode = |name: &str, bytes: Vec<u8>| {
        let err = TemplatedNotification::from_bytes(&bytes).unwrap_err();
        refuse(
            &format!("decoding: {name}"),
            json!({"operation": "decode_content", "content": h(&bytes)}),
            code(&err),
        );
    };
    decode("free text", b"Your flight is delayed".to_vec());
    decode("content truncated inside the template", good[..40].to_vec());
    let mut fewer = good.clone();
    fewer[count_at] = 2;
    decode("two parameters for a template of three", fewer);
    let mut bidi = good.clone();
    let last = bidi.len() - 2;
    bidi.splice(last.., "\u{202E}".as_bytes().iter().copied());
    let p3 = u16::from_be_bytes([bidi[bidi.len() - 5], bidi[bidi.len() - 4]]);
    let at = bidi.len() - 5;
    bidi[at..at + 2].copy_from_slice(&(p3 + 1).to_be_bytes());
    decode("right-to-left override in parameter 3", bidi);
    let mut relabeled = good.clone();
    relabeled[3 + 26] = TemplateCategory::Marketing.to_byte();
    let err = TemplatedNotification::from_bytes(&relabeled)
        .unwrap()
        .render_for(business_id, 7, &issuer_key, VECTOR_NOW)
        .unwrap_err();
    refuse(
        "rendering: category changed from utility to marketing",
        json!({"operation": "render", "content": h(&relabeled), "business_id": h(&business_id.0), "issuer_id": 7, "now": VECTOR_NOW}),
        code(&err),
    );
    let other = fx
        .issuer
        .approve_template(
            BusinessId([0x4c; 16]),
            1,
            TemplateCategory::Utility,
            "en",
            "Hi {{1}}",
            window,
        )
        .unwrap();
    let content = TemplatedNotification::new(&other, &["x"])
        .unwrap()
        .to_bytes();
    let err = TemplatedNotification::from_bytes(&content)
        .unwrap()
        .render_for(business_id, 7, &issuer_key, VECTOR_NOW)
        .unwrap_err();
    refuse(
        "rendering: a template approved for business 4c..4c",
        json!({"operation": "render", "content": h(&content), "business_id": h(&business_id.0), "issuer_id": 7, "now": VECTOR_NOW}),
        code(&err),
    );
    let late = window.not_after + 301;
    let err = TemplatedNotification::from_bytes(&good)
        .unwrap()
        .render_for(business_id, 7, &issuer_key, late)
        .unwrap_err();
    refuse(
        "rendering: 301 s after the template's not_after",
        json!({"operation": "render", "content": h(&good), "business_id": h(&business_id.0), "issuer_id": 7, "now": late}),
        code(&err),
    );
    let unverified = hotline::business::Badge::Unverified;
    let err = TemplatedNotification::from_bytes(&good)
        .unwrap()
        .render_with_badge(&unverified, VECTOR_NOW)
        .unwrap_err();
    refuse(
        "rendering: the sender's badge is not verified (any verdict of 13.16 but verified)",
        json!({"operation": "render_with_badge", "content": h(&good), "badge": code(&unverified), "now": VECTOR_NOW}),
        code(&err),
    );
    assert!(MessageTemplate::from_bytes(&departure.to_bytes()).is_ok());
    json!({
        "description": "Message templates (SPEC.md 13.17), approved by this file's issuer 7 (its key is the issuer certificate's) for the business id of this file's request. approved: each template's fields and encoding; rendered: a notification's parameters, its content (the plaintext of a notification) and the text a client renders at `now` for that business id, issuer 7 and the issuer's key. refusals: approve (the issuer approving the body for template id 9, utility, en, the same window), decode_content (decoding the content), render (decoding, then rendering for the business id, issuer id and now given), render_with_badge (decoding, then rendering for the sender whose badge is given).",
        "issuer_key": h(&issuer_key.to_bytes()),
        "business_id": h(&business_id.0),
        "approved": approved,
        "rendered": rendered,
        "refusals": refusals,
    })
}

fn business_decoding_vectors(business: &IdentityKeyPair) -> Value {
    use hotline::business::{IssuerCertificate, TrustRoot};
    let fx = business_fixture(business);
    let root = fx.root.trust_root().to_bytes();
    let issuer = fx.chain.issuer().to_bytes();
    let cert = fx.chain.business().to_bytes();
    let list = fx
        .issuer
        .revoke(1, 1_790_000_000, 1_790_000_000 + WEEK, &[5, 1001])
        .unwrap()
        .to_bytes();
    let find =
        |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle).unwrap();
    let mut cases = Vec::new();
    let mut case = |object: &str, name: &str, bytes: Vec<u8>, error: Value| {
        cases.push(json!({"object": object, "section": "13.13", "name": name, "input": h(&bytes), "error": error}));
    };
    let root_err = |b: &[u8]| code(&TrustRoot::from_bytes(b).unwrap_err());
    case(
        "trust root",
        "truncated signature",
        root[..root.len() - 1].to_vec(),
        root_err(&root[..root.len() - 1]),
    );
    let mut b = root.clone();
    b.push(0);
    case("trust root", "trailing byte", b.clone(), root_err(&b));
    let mut b = root.clone();
    let last = b.len() - 1;
    b[last] ^= 1;
    case("trust root", "bad self-signature", b.clone(), root_err(&b));
    let cert_err = |b: &[u8]| code(&BusinessCertificate::from_bytes(b).unwrap_err());
    let at = find(&cert, b"KLM Royal Dutch Airlines");
    let mut b = cert.clone();
    b[at] = 0xff;
    case(
        "business certificate",
        "name not UTF-8",
        b.clone(),
        cert_err(&b),
    );
    let at = find(&cert, b"zh-Hans");
    let mut b = cert.clone();
    b[at + 2] = b'_';
    case(
        "business certificate",
        "language tag zh_Hans",
        b.clone(),
        cert_err(&b),
    );
    let mut b = cert.clone();
    let level_at = 2 + 8 + 16 + 4 + 33;
    b[level_at] = 3;
    case(
        "business certificate",
        "verification level 3",
        b.clone(),
        cert_err(&b),
    );
    let mut b = cert.clone();
    b.push(0);
    case(
        "business certificate",
        "trailing byte",
        b.clone(),
        cert_err(&b),
    );
    let issuer_err = |b: &[u8]| code(&IssuerCertificate::from_bytes(b).unwrap_err());
    let mut b = issuer.clone();
    b[1] = OBJ_TYPE_BUSINESS_CERT;
    case(
        "issuer certificate",
        "business certificate type byte",
        b.clone(),
        issuer_err(&b),
    );
    let mut b = issuer.clone();
    b[1] = MSG_TYPE_RATCHET;
    case(
        "issuer certificate",
        "ratchet message type byte",
        b.clone(),
        issuer_err(&b),
    );
    let mut b = issuer.clone();
    b[2 + 4 + 4 + 33] = 0x04;
    case(
        "issuer certificate",
        "allowed levels 0x04",
        b.clone(),
        issuer_err(&b),
    );
    let list_err = |b: &[u8]| code(&RevocationList::from_bytes(b).unwrap_err());
    let entries_at = list.len() - SIGNATURE_LEN - 16;
    let mut b = list.clone();
    let (first, second) = (
        b[entries_at..entries_at + 8].to_vec(),
        b[entries_at + 8..entries_at + 16].to_vec(),
    );
    b[entries_at..entries_at + 8].copy_from_slice(&second);
    b[entries_at + 8..entries_at + 16].copy_from_slice(&first);
    case(
        "revocation list",
        "entries 1001, 5 (descending)",
        b.clone(),
        list_err(&b),
    );
    let mut b = list.clone();
    b[2] = 3;
    case("revocation list", "scope 3", b.clone(), list_err(&b));
    let mut b = list.clone();
    b.truncate(entries_at + 8);
    case(
        "revocation list",
        "truncated in the entries",
        b.clone(),
        list_err(&b),
    );
    json!({
        "description": "Business objects decoded on their own (TrustRoot::from_bytes, IssuerCertificate::from_bytes, BusinessCertificate::from_bytes, RevocationList::from_bytes): the encodings of this file (the revocation list is 'issuer list 1') with the change each case names, and the error.",
        "cases": cases,
    })
}
/// Refusals of the business layer not met elsewhere in business.json
/// (SPEC 13.13), each from the inputs of this file with the change named.
fn business_refusal_vectors(business: &IdentityKeyPair) -> Value {
    use hotline::business::{KnownBusinesses, Peer};
    let fx = business_fixture(business);
    let issuer_cert = fx.chain.issuer().clone();
    let trust = || {
        let mut t = TrustStore::new();
        t.add_root(fx.root.trust_root()).unwrap();
        t
    };
    let mut cases = Vec::new();
    let mut push = |operation: &str, section: &str, name: &str, input: Value, result: Value| {
        cases.push(json!({"operation": operation, "section": section, "name": name, "input": input, "result": result}));
    };
    let res = |r: Result<(), Value>| match r {
        Ok(()) => json!("ok"),
        Err(e) => json!({"error": e}),
    };

    // Issuance (IssuerAuthority::issue) of the request of this file, changed.
    let issue = |edit: &dyn Fn(&mut BusinessCertificateRequest)| {
        let mut request = fx.request.clone();
        edit(&mut request);
        res(fx.issuer.issue(&request).map(|_| ()).map_err(|e| code(&e)))
    };
    push(
        "issue",
        "13.5, 13.8",
        "name with a right-to-left override",
        json!({"name": "KLM\u{202e} Airlines"}),
        issue(&|r| r.name = "KLM\u{202e} Airlines".into()),
    );
    push(
        "issue",
        "13.5, 13.8",
        "localized name with a leading space",
        json!({"localized": [["nl", " KLM"]]}),
        issue(&|r| r.localized = vec![("nl".into(), " KLM".into())]),
    );
    push(
        "issue",
        "13.5",
        "language tag 'en_US'",
        json!({"localized": [["en_US", "KLM"]]}),
        issue(&|r| r.localized = vec![("en_US".into(), "KLM".into())]),
    );
    push(
        "issue",
        "13.5",
        "language tag 'nl' twice",
        json!({"localized": [["nl", "KLM"], ["nl", "KLM NL"]]}),
        issue(&|r| r.localized = vec![("nl".into(), "KLM".into()), ("nl".into(), "KLM NL".into())]),
    );
    let nine: Vec<(String, String)> = ["aa", "bb", "cc", "dd", "ee", "ff", "gg", "hh", "ii"]
        .iter()
        .map(|l| ((*l).to_owned(), "KLM".to_owned()))
        .collect();
    push(
        "issue",
        "13.5",
        "nine localized names",
        json!({"localized": nine}),
        issue(&|r| r.localized = nine.clone()),
    );
    push(
        "issue",
        "13.5",
        "level official from an issuer allowed verified only",
        json!({"level": LEVEL_OFFICIAL}),
        issue(&|r| r.level = VerificationLevel::Official),
    );
    push(
        "issue",
        "13.5",
        "validity ending before it starts",
        json!({"validity": [BUSINESS_VALIDITY.not_before, BUSINESS_VALIDITY.not_before - 1]}),
        issue(&|r| {
            r.validity = Validity {
                not_before: BUSINESS_VALIDITY.not_before,
                not_after: BUSINESS_VALIDITY.not_before - 1,
            }
        }),
    );
    push(
        "issue",
        "13.5",
        "validity ending after the issuer's",
        json!({"validity": [BUSINESS_VALIDITY.not_before, ISSUER_VALIDITY.not_after + 1]}),
        issue(&|r| {
            r.validity = Validity {
                not_before: BUSINESS_VALIDITY.not_before,
                not_after: ISSUER_VALIDITY.not_after + 1,
            }
        }),
    );
    let other_seed = val32("business other issuer seed");
    push(
        "issue",
        "13.4",
        "issuer seed not matching the issuer certificate",
        json!({"issuer_seed": h(&other_seed)}),
        res(IssuerAuthority::new(&other_seed, issuer_cert.clone())
            .map(|_| ())
            .map_err(|e| code(&e))),
    );
    let long_name = "a".repeat(MAX_NAME_BYTES + 1);
    push(
        "check_name",
        "13.8",
        "201 bytes",
        json!({"name": long_name}),
        res(check_name(&long_name).map_err(|e| code(&e))),
    );
    let many: Vec<u64> = (1..=65_537).collect();
    push(
        "revoke",
        "13.9",
        "65537 serials (1 to 65537)",
        json!({"sequence": 3, "issued_at": 1_790_000_000u64, "next_update": 1_790_000_000 + WEEK, "entries": "1..=65537"}),
        res(fx
            .issuer
            .revoke(3, 1_790_000_000, 1_790_000_000 + WEEK, &many)
            .map(|_| ())
            .map_err(|e| code(&e))),
    );
    push(
        "revoke",
        "13.9",
        "sequence above the issue time",
        json!({"sequence": 1_790_000_001u64, "issued_at": 1_790_000_000u64, "next_update": 1_790_000_000 + WEEK, "entries": [5]}),
        res(fx
            .issuer
            .revoke(1_790_000_001, 1_790_000_000, 1_790_000_000 + WEEK, &[5])
            .map(|_| ())
            .map_err(|e| code(&e))),
    );
    push(
        "certify_status",
        "13.15",
        "window longer than MAX_STATUS_LIFETIME_SECS",
        json!({"serial": 1001, "this_update": VECTOR_NOW, "next_update": VECTOR_NOW + MAX_STATUS_LIFETIME_SECS + 1}),
        res(fx
            .issuer
            .certify_status(1001, VECTOR_NOW, VECTOR_NOW + MAX_STATUS_LIFETIME_SECS + 1)
            .map(|_| ())
            .map_err(|e| code(&e))),
    );

    push(
        "revoke",
        "13.9",
        "next update more than MAX_REVOCATION_LIST_LIFETIME_SECS after the issue time",
        json!({"sequence": 3, "issued_at": 1_790_000_000u64, "next_update": 1_790_000_000 + MAX_REVOCATION_LIST_LIFETIME_SECS + 1, "entries": [5]}),
        res(fx
            .issuer
            .revoke(
                3,
                1_790_000_000,
                1_790_000_000 + MAX_REVOCATION_LIST_LIFETIME_SECS + 1,
                &[5],
            )
            .map(|_| ())
            .map_err(|e| code(&e))),
    );

    // Revocation lists and statuses applied to a store holding root 1.
    let other_root = RootAuthority::from_seed(&val32("business other root seed"), 2, ROOT_VALIDITY);
    let list = other_root
        .revoke_issuers(
            1,
            1_790_000_000,
            1_790_000_000 + WEEK,
            &[fx.issuer_secret.public_key()],
        )
        .unwrap();
    push(
        "apply_revocation_list",
        "13.9",
        "list of root 2, not installed",
        json!({"list": h(&list.to_bytes()), "now": VECTOR_NOW}),
        res(trust()
            .apply_revocation_list(&list, None, VECTOR_NOW)
            .map(|_| ())
            .map_err(|e| code(&e))),
    );
    let future = fx
        .issuer
        .revoke(
            1,
            VECTOR_NOW + CLOCK_SKEW_SECS + 1,
            VECTOR_NOW + CLOCK_SKEW_SECS + 1 + WEEK,
            &[5],
        )
        .unwrap();
    push(
        "apply_revocation_list",
        "13.9",
        "issued 301 s after now",
        json!({"list": h(&future.to_bytes()), "now": VECTOR_NOW, "with_issuer_certificate": true}),
        res(trust()
            .apply_revocation_list(&future, Some(&issuer_cert), VECTOR_NOW)
            .map(|_| ())
            .map_err(|e| code(&e))),
    );
    let mut retired = trust();
    retired.retire_root(1);
    let list = fx
        .issuer
        .revoke(1, 1_790_000_000, 1_790_000_000 + WEEK, &[5])
        .unwrap();
    push(
        "apply_revocation_list",
        "13.9",
        "issuer list with root 1 retired",
        json!({"list": h(&list.to_bytes()), "now": VECTOR_NOW, "with_issuer_certificate": true, "trust_state": "root 1 retired"}),
        res(retired
            .apply_revocation_list(&list, Some(&issuer_cert), VECTOR_NOW)
            .map(|_| ())
            .map_err(|e| code(&e))),
    );
    let other_issuer = other_root
        .certify_issuer(
            8,
            &Ed25519Secret::from_seed(&other_seed).public_key(),
            LevelSet::new(&[VerificationLevel::Verified]).unwrap(),
            ISSUER_VALIDITY,
        )
        .unwrap();
    let status = fx
        .issuer
        .certify_status(1001, VECTOR_NOW - 60, VECTOR_NOW + 86_400)
        .unwrap();
    push(
        "apply_status",
        "13.15",
        "status of issuer 7 given issuer 8's certificate",
        json!({"status": h(&status.to_bytes()), "issuer_certificate": h(&other_issuer.to_bytes()), "now": VECTOR_NOW}),
        res(trust()
            .apply_status(&status, &other_issuer, VECTOR_NOW)
            .map_err(|e| code(&e))),
    );
    push(
        "apply_status",
        "13.15",
        "status with root 1 retired",
        json!({"status": h(&status.to_bytes()), "issuer_certificate": h(&issuer_cert.to_bytes()), "now": VECTOR_NOW, "trust_state": "root 1 retired"}),
        res(retired
            .apply_status(&status, &issuer_cert, VECTOR_NOW)
            .map_err(|e| code(&e))),
    );

    let forged = hotline::business::CertificateStatus::sign(
        &fx.issuer_secret,
        7,
        1001,
        VECTOR_NOW - 60,
        VECTOR_NOW - 60 + MAX_STATUS_LIFETIME_SECS + 1,
    );
    push(
        "apply_status",
        "13.15",
        "status signed by issuer 7 with a window longer than MAX_STATUS_LIFETIME_SECS",
        json!({"status": h(&forged.to_bytes()), "issuer_certificate": h(&issuer_cert.to_bytes()), "now": VECTOR_NOW}),
        res(trust()
            .apply_status(&forged, &issuer_cert, VECTOR_NOW)
            .map_err(|e| code(&e))),
    );

    // MAX_HELD_STATUSES statuses held (issuer 7, serials 1 to 65,536, each
    // this_update = now - 60, next_update = now + 86,400); one more serial's
    // status is refused.
    let mut t = trust();
    let mut last = Ok(());
    for serial in 1..=u64::try_from(MAX_HELD_STATUSES).unwrap() + 1 {
        let status = fx
            .issuer
            .certify_status(serial, VECTOR_NOW - 60, VECTOR_NOW + 86_400)
            .unwrap();
        last = t.apply_status(&status, &issuer_cert, VECTOR_NOW);
        if serial <= u64::try_from(MAX_HELD_STATUSES).unwrap() {
            last.clone().unwrap();
        }
    }
    push(
        "apply_status",
        "13.15",
        "MAX_HELD_STATUSES + 1 statuses of issuer 7 (serials 1 to 65537 in order, this_update now - 60, next_update now + 86400, all fresh): the last is refused",
        json!({"count": MAX_HELD_STATUSES + 1, "issuer_certificate": h(&issuer_cert.to_bytes()), "now": VECTOR_NOW}),
        res(last.map_err(|e| code(&e))),
    );

    // MAX_HELD_REVOCATION_LISTS lists held (issuers 1000 + i, i from 1 to
    // 4096, certified by root 1 with seeds 'revocation issuer i', each
    // publishing an empty list, sequence 1, issued at 1790000000); one more
    // signer's list is refused.
    let mut t = trust();
    let mut last = Ok(());
    for i in 1..=u32::try_from(MAX_HELD_REVOCATION_LISTS).unwrap() + 1 {
        let seed = val32(&format!("revocation issuer {i}"));
        let cert = fx
            .root
            .certify_issuer(
                1000 + i,
                &Ed25519Secret::from_seed(&seed).public_key(),
                LevelSet::new(&[VerificationLevel::Verified]).unwrap(),
                ISSUER_VALIDITY,
            )
            .unwrap();
        let issuer = IssuerAuthority::new(&seed, cert.clone()).unwrap();
        let list = issuer
            .revoke(1, 1_790_000_000, 1_790_000_000 + WEEK, &[])
            .unwrap();
        last = t
            .apply_revocation_list(&list, Some(&cert), VECTOR_NOW)
            .map(|_| ());
    }
    push(
        "apply_revocation_list",
        "13.9",
        "the list of a 4097th signer",
        json!({"signers": "issuers 1001 to 5097, seeds SHA-256(\"Hotline vector revocation issuer i\") for i from 1 to 4097, root 1's certificate with allowed level verified and the issuer validity of this file; each list empty, sequence 1, issued at 1790000000, next update a week later", "now": VECTOR_NOW}),
        res(last.map_err(|e| code(&e))),
    );

    // The trust store's roots.
    let mut t = trust();
    let clash = RootAuthority::from_seed(&val32("business other root seed"), 1, ROOT_VALIDITY);
    push(
        "add_root",
        "13.7",
        "another root with id 1",
        json!({"root": h(&clash.trust_root().to_bytes())}),
        res(t.add_root(clash.trust_root()).map_err(|e| code(&e))),
    );
    t.retire_root(1);
    push(
        "add_root",
        "13.7",
        "root 1 again after its retirement",
        json!({"root": h(&fx.root.trust_root().to_bytes())}),
        res(t.add_root(fx.root.trust_root()).map_err(|e| code(&e))),
    );
    let mut t = TrustStore::new();
    let mut last = Ok(());
    for id in 1..=65u32 {
        last = t.add_root(
            RootAuthority::from_seed(
                &val32(&format!("business root seed {id}")),
                id,
                ROOT_VALIDITY,
            )
            .trust_root(),
        );
    }
    push(
        "add_root",
        "13.7",
        "65 roots (ids 1 to 65, seeds SHA-256(\"Hotline vector business root seed \" || id))",
        json!({"count": 65}),
        res(last.map_err(|e| code(&e))),
    );

    // The badge of a peer that is not a verified business, and pins.
    push(
        "badge",
        "13.16",
        "unverified peer",
        json!({"now": VECTOR_NOW}),
        code(&trust().badge(&Peer::Unverified(business.public()), VECTOR_NOW)),
    );
    let verified = trust().validate_chain(&fx.chain, VECTOR_NOW).unwrap();
    let mut request = fx.request.clone();
    request.identity_key = *script_actor("customer").public().signing_key();
    let moved = CertificateChain::new(issuer_cert.clone(), fx.issuer.issue(&request).unwrap());
    let moved_verified = trust().validate_chain(&moved, VECTOR_NOW).unwrap();
    let mut known = KnownBusinesses::new();
    known.pin(&verified).unwrap();
    // MAX_KNOWN_BUSINESSES pins (the business of the valid chain under
    // business ids 1 to 100,000, as u128 big-endian); one more id is
    // refused, a re-pin of a pinned id is not.
    let mut full = KnownBusinesses::new();
    let as_id = |i: u128| BusinessId(i.to_be_bytes());
    for i in 1..=u128::try_from(MAX_KNOWN_BUSINESSES).unwrap() {
        full.pin(&verified.with_business_id(as_id(i))).unwrap();
    }
    let next = u128::try_from(MAX_KNOWN_BUSINESSES).unwrap() + 1;
    push(
        "pin",
        "13.11",
        "a new business when MAX_KNOWN_BUSINESSES are pinned (the valid chain's business under ids 1 to 100000, u128 big-endian)",
        json!({"count": MAX_KNOWN_BUSINESSES, "business_id": h(&as_id(next).0)}),
        res(full
            .pin(&verified.with_business_id(as_id(next)))
            .map_err(|e| code(&e))),
    );
    push(
        "pin",
        "13.11",
        "an already pinned business when MAX_KNOWN_BUSINESSES are pinned",
        json!({"count": MAX_KNOWN_BUSINESSES, "business_id": h(&as_id(1).0)}),
        res(full
            .pin(&verified.with_business_id(as_id(1)))
            .map_err(|e| code(&e))),
    );
    push(
        "pin_check",
        "13.11",
        "the pinned business presenting another identity key",
        json!({"pinned_chain": h(&fx.chain.to_bytes()), "presented_chain": h(&moved.to_bytes())}),
        res(known
            .check(&moved_verified)
            .map(|_| ())
            .map_err(|e| code(&e))),
    );

    json!({
        "description": "Business-layer refusals (SPEC.md 13.13), each an operation on this file's authorities and trust store (root 1 installed unless trust_state says otherwise) with the change named and the input changed, and its result: issue (IssuerAuthority::issue of this file's request), check_name, revoke and certify_status (by issuer 7), apply_revocation_list, apply_status, add_root, badge, and pin_check (KnownBusinesses holding the business of the valid chain, checking the business of a chain certifying the relay customer's identity key of relay.json with the same request).",
        "cases": cases,
    })
}

/// The code point sets of the name rules (SPEC.md 13.8) as the reference
/// implementation computes them: they change when a dependency or the Rust
/// standard library moves to another Unicode version, and this vector then
/// no longer matches.
fn name_tables() -> Value {
    use unicode_security::GeneralSecurityProfile;
    use unicode_security::general_security_profile::IdentifierType;
    let ranges = |f: &dyn Fn(char) -> bool| -> Vec<String> {
        let mut out: Vec<(u32, u32)> = Vec::new();
        for c in (0..=0x10FFFF_u32)
            .filter_map(char::from_u32)
            .filter(|&c| f(c))
        {
            let v = c as u32;
            match out.last_mut() {
                Some(last) if last.1 + 1 == v => last.1 = v,
                _ => out.push((v, v)),
            }
        }
        out.iter()
            .map(|&(a, b)| match a == b {
                true => format!("{a:04X}"),
                false => format!("{a:04X}..{b:04X}"),
            })
            .collect()
    };
    let v = |(a, b, c): (u64, u64, u64)| format!("{a}.{b}.{c}");
    let n = unicode_normalization::UNICODE_VERSION;
    json!({
        "unicode_version_tables": {
            "unicode-normalization": v((n.0.into(), n.1.into(), n.2.into())),
            "unicode-security": v(unicode_security::UNICODE_VERSION),
            "unicode-script": v(unicode_script::UNICODE_VERSION),
            "rust std": v((char::UNICODE_VERSION.0.into(), char::UNICODE_VERSION.1.into(), char::UNICODE_VERSION.2.into())),
        },
        "control": ranges(&|c| c.is_control()),
        "invisible": ranges(&|c| c.identifier_type() == Some(IdentifierType::Default_Ignorable)),
        "allowed_not_alphabetic": ranges(&|c| c.identifier_allowed() && !c.is_alphabetic()),
    })
}

/// The name corpus: real multilingual names that must pass and spoofs that
/// must fail. Shared with tests/business.rs through the vectors file.
pub(crate) const NAME_CORPUS: &[(&str, &str)] = &[
    ("latin", "KLM Royal Dutch Airlines"),
    ("german umlauts", "Müller & Söhne GmbH"),
    ("german sharp s", "Bäckerei Groß"),
    ("french", "Société Générale"),
    ("turkish dotless i", "Yatırım Bankası"),
    ("latin ligature", "Æon"),
    ("chinese", "中国国际航空"),
    ("japanese kanji", "日本航空"),
    ("japanese mixed", "トヨタ自動車"),
    ("japanese with latin", "KLMオランダ航空"),
    ("japanese latin then kana", "LINEヤフー"),
    ("japanese kanji then latin", "楽天Edy"),
    ("japanese latin between kanji", "三菱UFJ銀行"),
    ("korean with latin", "KB국민은행"),
    ("ideographic zero in a latin word", "G\u{3007}\u{3007}GLE"),
    ("katakana letter inside a latin word", "Ne\u{30C8}flix"),
    ("one ideograph glued to latin", "\u{5DE5}NG Bank"),
    ("arabic", "الخطوط الجوية القطرية"),
    ("hebrew", "אל על"),
    ("korean", "삼성전자"),
    ("greek", "Αιγαίον"),
    ("cyrillic", "Аэрофлот"),
    ("digits and punctuation", "7-Eleven"),
    ("cyrillic a in latin", "P\u{430}yPal"),
    ("greek kappa in latin", "\u{39A}LM"),
    ("cyrillic o in latin", "G\u{43E}\u{43E}gle"),
    ("all-cyrillic look-alike", "\u{421}\u{41E}\u{421}\u{410}"),
    ("all-cyrillic look-alike with digits", "\u{421}0\u{421}4"),
    (
        "latin with arabic",
        "Emirates \u{637}\u{64A}\u{631}\u{627}\u{646}",
    ),
    ("zero-width joiner", "K\u{200D}LM"),
    ("zero-width space", "KL\u{200B}M"),
    ("zero-width non-joiner", "Pay\u{200C}Pal"),
    ("soft hyphen", "Luft\u{AD}hansa"),
    ("right-to-left override", "KLM\u{202E}enilriA"),
    ("left-to-right mark", "\u{200E}KLM"),
    ("isolate", "KLM \u{2067}x\u{2069}"),
    ("full-width latin", "\u{FF2B}\u{FF2C}\u{FF2D}"),
    ("full-width space", "KLM\u{3000}Air"),
    ("no-break space", "KLM\u{A0}Air"),
    ("control character", "KLM\nAir"),
    ("decomposed (not NFC)", "Mu\u{308}ller"),
    ("mathematical bold", "\u{1D40A}\u{1D40B}\u{1D40C}"),
    ("emoji", "KLM \u{2708}"),
    ("leading space", " KLM"),
    ("double space", "KLM  Air"),
    ("no letter", "1234"),
    ("empty", ""),
    (
        "too long",
        "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ),
];

// ---- Relay vectors.

/// The relay's time in the relay vectors (Mon 1 Jun 2026 09:00 UTC); inside
/// every validity window of the business fixture.
const RELAY_NOW: u64 = 1_780_304_400;

/// The key every relay of the vectors signs receipts and statements with
/// (SPEC.md 14.16).
fn relay_key() -> hotline::relay::RelayKey {
    hotline::relay::RelayKey::from_seed(&val32("relay receipt key seed"))
}

fn relay_vectors() -> Value {
    use hotline::relay::{
        AccountId, BlockRecord, CertificateRefused, ConsentRecord, ConsentScope, Delivery,
        DeliveryState, Envelope, EnvelopeHeader, ManualClock, MemoryStore, MessageClass, MessageId,
        PreKeyDrain, PreKeyStatus, RateLimit, Receipt, Refusal, Relay, RelayError, Request,
        Response, SignedRequest, StateEntry,
    };

    let identity = |who: &str| {
        let ed = val32(&format!("relay {who} ed25519 seed"));
        let x = val32(&format!("relay {who} x25519 secret"));
        (IdentityKeyPair::from_secret_bytes(&ed, &x), ed, x)
    };
    let (customer, c_ed, c_x) = identity("customer");
    let (business, b_ed, b_x) = identity("business");
    let c_id = AccountId::of(&customer.public());
    let b_id = AccountId::of(&business.public());
    let chain = business_fixture(&business).chain.to_bytes();
    // A status of the business's certificate and an issuer's list, signed
    // by the issuer of business.json (SPEC.md 13.9, 13.15).
    let platform = business_fixture(&business);
    let stapled = platform
        .issuer
        .certify_status(
            platform.chain.business().serial(),
            RELAY_NOW - 60,
            RELAY_NOW + 86_400,
        )
        .unwrap();
    let published_list = platform
        .issuer
        .revoke(RELAY_NOW - 60, RELAY_NOW - 60, RELAY_NOW + 7 * 86_400, &[5])
        .unwrap();

    let mut message_id = [0u8; 16];
    message_id.copy_from_slice(&val32("relay message id")[..16]);
    let mut notification_id = [0u8; 16];
    notification_id.copy_from_slice(&val32("relay notification id")[..16]);
    // Each header commits to its message's content (SPEC.md 14.17).
    let chat_key = hotline::relay::FrankingKey::from_bytes(val32("relay chat franking key"));
    let chat_content: &[u8] = b"Where is my bag?";
    let notification_key =
        hotline::relay::FrankingKey::from_bytes(val32("relay notification franking key"));
    let notification_content: &[u8] = b"Win a free flight! Send your card number to claim.";
    let chat = EnvelopeHeader {
        sender: c_id,
        recipient: b_id,
        message_id: MessageId(message_id),
        class: MessageClass::Chat,
        sent_at: RELAY_NOW,
        franking: chat_key.commit(chat_content),
    };
    let notification = EnvelopeHeader {
        sender: b_id,
        recipient: c_id,
        message_id: MessageId(notification_id),
        class: MessageClass::Notification,
        sent_at: RELAY_NOW + 90_000,
        franking: notification_key.commit(notification_content),
    };
    // The receipt of the chat message's acceptance at `now` (SPEC.md 14.16).
    let accepted_entry = StateEntry {
        sequence: 0,
        sender: c_id,
        recipient: b_id,
        message_id: MessageId(message_id),
        class: MessageClass::Chat,
        state: DeliveryState::Accepted,
        time: RELAY_NOW,
    };
    let ciphertext = val32("relay ciphertext").to_vec();
    let envelope = Envelope {
        header: chat,
        ciphertext: ciphertext.clone(),
    };
    let envelope_bytes = envelope.to_bytes();
    assert_eq!(Envelope::from_bytes(&envelope_bytes).unwrap(), envelope);
    let header_case = |name: &str, hd: &EnvelopeHeader| {
        let bytes = hd.associated_data();
        assert_eq!(EnvelopeHeader::from_bytes(&bytes).unwrap(), *hd);
        json!({
            "name": name,
            "sender": h(&hd.sender.0),
            "recipient": h(&hd.recipient.0),
            "message_id": h(&hd.message_id.0),
            "class": match hd.class { MessageClass::Chat => CLASS_CHAT, MessageClass::Notification => CLASS_NOTIFICATION },
            "sent_at": hd.sent_at,
            "franking_tag": h(&hd.franking.0),
            "encoding": h(&bytes),
        })
    };
    // Reports (SPEC.md 14.17): the customer reports the notification,
    // delivered at `received_at` with the relay's stamp.
    let received_at = RELAY_NOW + 90_005;
    let reportable = hotline::relay::Reportable {
        header: notification,
        received_at,
        stamp: relay_key().stamp(&notification, received_at),
        key: notification_key.clone(),
    };
    let report_time = RELAY_NOW + 90_100;
    let report = hotline::relay::SpamReport::sign(
        &customer,
        &reportable,
        notification_content,
        hotline::relay::ReportReason::Spam,
        report_time,
    );
    let report_bytes = report.to_bytes();
    assert_eq!(
        hotline::relay::SpamReport::from_bytes(&report_bytes).unwrap(),
        report
    );
    let refused_report = |name: &str, bytes: Vec<u8>, expect: &str| {
        let e = hotline::relay::SpamReport::from_bytes(&bytes).unwrap_err();
        assert_eq!(code(&e)["code"], expect, "report case {name}");
        json!({"name": name, "encoding": h(&bytes), "error": code(&e)})
    };
    let mut bad_signature = report_bytes.clone();
    *bad_signature.last_mut().unwrap() ^= 1;
    let altered = hotline::relay::SpamReport::sign(
        &customer,
        &reportable,
        b"Win a free flight! Send your card number to claim!",
        hotline::relay::ReportReason::Spam,
        report_time,
    )
    .to_bytes();
    let mut no_reason = report_bytes.clone();
    no_reason[2 + hotline::relay::ENVELOPE_HEADER_LEN + 8 + 32 + 32] = 0;
    let mut trailing = report_bytes.clone();
    trailing.push(0);
    let reports = json!({
        "franking_key": h(&notification_key.to_bytes()),
        "content": h(notification_content),
        "content_text": String::from_utf8_lossy(notification_content),
        "header": "envelope_headers[1].encoding",
        "received_at": received_at,
        "stamp": h(&reportable.stamp.0),
        "reason": hotline::relay::ReportReason::Spam.to_byte(),
        "time": report_time,
        "signer": "customer",
        "encoding": h(&report_bytes),
        "chat_franking_key": h(&chat_key.to_bytes()),
        "chat_content": h(chat_content),
        "refused": [
            refused_report("the last signature byte flipped", bad_signature, "report.bad_signature"),
            refused_report("content that does not open the commitment (signed)", altered, "report.bad_opening"),
            refused_report("reason 0", no_reason, "report.decode"),
            refused_report("a trailing byte", trailing, "report.decode"),
        ],
    });

    let consent = |name: &str, scope: ConsentScope, time: u64| {
        let r = ConsentRecord::sign(&customer, b_id, scope, time);
        let bytes = r.to_bytes();
        assert_eq!(ConsentRecord::from_bytes(&bytes).unwrap(), r);
        json!({"name": name, "business": h(&b_id.0), "chat": scope.chat, "notifications": scope.notifications, "time": time, "encoding": h(&bytes)})
    };
    let block = |name: &str, blocked: bool, time: u64| {
        let r = BlockRecord::sign(&customer, b_id, blocked, time);
        let bytes = r.to_bytes();
        assert_eq!(BlockRecord::from_bytes(&bytes).unwrap(), r);
        json!({"name": name, "business": h(&b_id.0), "blocked": blocked, "time": time, "encoding": h(&bytes)})
    };
    let business_block = |name: &str, blocked: bool, time: u64| {
        let c_id = AccountId::of(&customer.public());
        let r = BlockRecord::sign_by_business(&business, c_id, blocked, time);
        let bytes = r.to_bytes();
        assert_eq!(BlockRecord::from_bytes(&bytes).unwrap(), r);
        json!({"name": name, "signer": "business", "customer": h(&c_id.0), "business": h(&b_id.0), "blocked": blocked, "time": time, "encoding": h(&bytes)})
    };

    let consent_all = ConsentRecord::sign(&customer, b_id, ConsentScope::ALL, RELAY_NOW);
    let requests: Vec<(&str, &IdentityKeyPair, u64, u64, Request)> = vec![
        (
            "register customer",
            &customer,
            1,
            RELAY_NOW,
            Request::RegisterCustomer {
                identity: customer.public(),
            },
        ),
        (
            "register business",
            &business,
            1,
            RELAY_NOW,
            Request::RegisterBusiness {
                identity: business.public(),
                certificate_chain: chain.clone(),
            },
        ),
        (
            "consent",
            &customer,
            2,
            RELAY_NOW + 1,
            Request::Consent(consent_all),
        ),
        (
            "fetch bundle",
            &customer,
            3,
            RELAY_NOW + 2,
            Request::FetchBundle { owner: b_id },
        ),
        (
            "send",
            &customer,
            4,
            RELAY_NOW + 3,
            Request::Send(envelope.clone()),
        ),
        (
            "fetch mailbox",
            &business,
            2,
            RELAY_NOW + 4,
            Request::FetchMailbox { max: 10 },
        ),
        (
            "acknowledge",
            &business,
            3,
            RELAY_NOW + 5,
            Request::Acknowledge { ids: vec![1, 2] },
        ),
        (
            "block",
            &customer,
            5,
            RELAY_NOW + 6,
            Request::Block(BlockRecord::sign(&customer, b_id, true, RELAY_NOW + 6)),
        ),
        (
            "export consent",
            &business,
            4,
            RELAY_NOW + 7,
            Request::ExportConsent { customer: c_id },
        ),
        (
            "publish status",
            &business,
            5,
            RELAY_NOW + 8,
            Request::PublishStatus(stapled.clone()),
        ),
        (
            "publish revocation list",
            &customer,
            6,
            RELAY_NOW + 9,
            Request::PublishRevocationList {
                list: published_list.clone(),
                issuer: Some(platform.issuer.certificate().clone()),
            },
        ),
        (
            "delete account",
            &customer,
            7,
            RELAY_NOW + 10,
            Request::DeleteAccount,
        ),
        (
            "fetch states",
            &business,
            6,
            RELAY_NOW + 11,
            Request::FetchStates { after: 2, max: 50 },
        ),
        (
            "fetch statement",
            &business,
            7,
            RELAY_NOW + 12,
            Request::FetchStatement {
                period: hotline::relay::period_of(RELAY_NOW),
            },
        ),
        (
            "report",
            &customer,
            9,
            report_time,
            Request::Report(Box::new(report.clone())),
        ),
    ];
    // The inputs of each request's body (SPEC.md 14.2), by operation.
    let body = |request: &Request| -> Value {
        match request {
            Request::RegisterCustomer { identity } => {
                json!({"op": 1, "identity_key": h(&identity.to_bytes())})
            }
            Request::RegisterBusiness {
                identity,
                certificate_chain,
            } => {
                json!({"op": 2, "identity_key": h(&identity.to_bytes()), "certificate_chain": h(certificate_chain)})
            }
            Request::FetchBundle { owner } => json!({"op": 4, "owner": h(&owner.0)}),
            Request::Send(_) => json!({"op": 6, "envelope": "envelope.encoding"}),
            Request::FetchMailbox { max } => json!({"op": 7, "max": max}),
            Request::Acknowledge { ids } => json!({"op": 8, "delivery_ids": ids}),
            Request::Consent(r) => json!({"op": 9, "record": h(&r.to_bytes())}),
            Request::Block(r) => json!({"op": 10, "record": h(&r.to_bytes())}),
            Request::ExportConsent { customer } => json!({"op": 11, "customer": h(&customer.0)}),
            Request::PublishStatus(s) => json!({"op": 12, "status": h(&s.to_bytes())}),
            Request::PublishRevocationList { list, issuer } => json!({
                "op": 13,
                "list": h(&list.to_bytes()),
                "issuer_certificate": issuer.as_ref().map(|i| h(&i.to_bytes())),
            }),
            Request::DeleteAccount => json!({"op": 14}),
            Request::FetchStates { after, max } => json!({"op": 15, "after": after, "max": max}),
            Request::FetchStatement { period } => json!({"op": 16, "period": period}),
            Request::Report(_) => json!({"op": 17, "report": "reports.encoding"}),
            other => unreachable!("no vector for {other:?}"),
        }
    };
    let requests: Vec<Value> = requests
        .into_iter()
        .map(|(name, who, counter, timestamp, request)| {
            let body = body(&request);
            let signed = SignedRequest::sign(who, counter, timestamp, request);
            let bytes = signed.to_bytes();
            assert_eq!(SignedRequest::from_bytes(&bytes).unwrap(), signed);
            let signer = if core::ptr::eq(who, &customer) {
                "customer"
            } else {
                "business"
            };
            json!({"name": name, "signer": signer, "counter": counter, "timestamp": timestamp, "body": body, "encoding": h(&bytes)})
        })
        .collect();

    // Registration verdicts of a relay whose trust store holds root 1 of
    // business.json, at RELAY_NOW.
    let mut trust = TrustStore::new();
    trust
        .add_root(business_fixture(&business).root.trust_root())
        .unwrap();
    let relay =
        Relay::new(MemoryStore::new(), ManualClock::new(RELAY_NOW), trust).with_key(relay_key());
    let mut registration = Vec::new();
    for (name, who) in [
        ("the certified business", &business),
        ("another identity with the business's chain", &customer),
    ] {
        let req = Request::RegisterBusiness {
            identity: who.public(),
            certificate_chain: chain.clone(),
        };
        let result = relay.handle_request(&SignedRequest::sign(who, 1, RELAY_NOW, req));
        if name.starts_with("another") {
            assert_eq!(
                result,
                Err(RelayError::CertificateRefused(CertificateRefused::Invalid(
                    hotline::business::ValidationError::KeyMismatch
                )))
            );
        }
        let wire = Response::encode_result(&result.clone().map_err(|e| e.refusal()));
        registration.push(json!({
            "name": name,
            "identity_key": h(&who.public().to_bytes()),
            "result": match &result { Ok(_) => json!("ok"), Err(e) => json!({"error": code(e)}) },
            "response": h(&wire),
        }));
    }

    let untrusting = Relay::new(
        MemoryStore::new(),
        ManualClock::new(RELAY_NOW),
        hotline::relay::NoBusinesses,
    )
    .with_key(relay_key());
    let req = Request::RegisterBusiness {
        identity: business.public(),
        certificate_chain: chain.clone(),
    };
    let result = untrusting.handle_request(&SignedRequest::sign(&business, 1, RELAY_NOW, req));
    registration.push(json!({
        "name": "the certified business at a relay that accepts no business (NoBusinesses)",
        "identity_key": h(&business.public().to_bytes()),
        "result": match &result { Ok(_) => json!("ok"), Err(e) => json!({"error": code(e)}) },
        "response": h(&Response::encode_result(&result.map_err(|e| e.refusal()))),
    }));

    // Receipts of each state of the business's notification, and the
    // statement of the period its delivery bills in (SPEC.md 14.16).
    let notification_entry = |state: DeliveryState, time: u64, sequence: u64| StateEntry {
        sequence,
        sender: b_id,
        recipient: c_id,
        message_id: MessageId(notification_id),
        class: MessageClass::Notification,
        state,
        time,
    };
    let receipt_case = |name: &str, e: StateEntry| {
        let r = Receipt::sign(&relay_key(), e);
        let bytes = r.to_bytes();
        assert_eq!(Receipt::from_bytes(&bytes).unwrap(), r);
        r.verify(&relay_key().public()).unwrap();
        json!({
            "name": name,
            "sender": h(&e.sender.0),
            "recipient": h(&e.recipient.0),
            "message_id": h(&e.message_id.0),
            "class": e.class.to_byte(),
            "state": e.state.to_byte(),
            "time": e.time,
            "sequence": e.sequence,
            "billed_period": e.billed_period(),
            "encoding": h(&bytes),
        })
    };
    let states = [
        (
            "accepted",
            notification_entry(DeliveryState::Accepted, RELAY_NOW, 0),
        ),
        (
            "delivered",
            notification_entry(DeliveryState::Delivered, RELAY_NOW + 60, 7),
        ),
        (
            "expired",
            notification_entry(DeliveryState::Expired, RELAY_NOW + 2_592_000, 8),
        ),
        (
            "deleted by a block",
            notification_entry(DeliveryState::DeletedByBlock, RELAY_NOW + 6, 9),
        ),
        (
            "deleted by the recipient's erasure",
            notification_entry(DeliveryState::DeletedByErasure, RELAY_NOW + 10, 10),
        ),
        (
            "a delivered chat message (not billed)",
            StateEntry {
                class: MessageClass::Chat,
                ..notification_entry(DeliveryState::Delivered, RELAY_NOW + 61, 11)
            },
        ),
    ];
    let mut receipts: Vec<Value> = states.iter().map(|(n, e)| receipt_case(n, *e)).collect();
    // Receipts a sender refuses: checked with Receipt::from_bytes, then
    // Receipt::verify under the key given (SPEC.md 14.16).
    let delivered = Receipt::sign(&relay_key(), states[1].1).to_bytes();
    let mut unknown_state = delivered.clone();
    unknown_state[83] = 0x06;
    let mut relabelled = delivered.clone();
    relabelled[83] = DeliveryState::Expired.to_byte();
    let mut small_order_key = [0u8; 32];
    small_order_key[0] = 1;
    let refusal = |name: &str, bytes: &[u8], key: [u8; 32]| {
        let err = hotline::relay::RelayPublicKey::from_bytes(&key)
            .and_then(|k| Receipt::from_bytes(bytes).and_then(|r| r.verify(&k)))
            .unwrap_err();
        json!({"name": name, "encoding": h(bytes), "relay_public_key": h(&key), "error": code(&err)})
    };
    let relay_pub = relay_key().public().to_bytes();
    receipts.push(refusal("an unknown state byte", &unknown_state, relay_pub));
    receipts.push(refusal(
        "a delivered receipt relabelled as expired",
        &relabelled,
        relay_pub,
    ));
    receipts.push(refusal(
        "a trailing byte",
        &[delivered.as_slice(), &[0]].concat(),
        relay_pub,
    ));
    receipts.push(refusal(
        "verified under another relay's key",
        &delivered,
        hotline::relay::RelayKey::from_seed(&[1; 32])
            .public()
            .to_bytes(),
    ));
    receipts.push(refusal(
        "a relay key of small order",
        &delivered,
        small_order_key,
    ));
    let billed_period = hotline::relay::period_of(RELAY_NOW + 60);
    let mut digest = hotline::relay::StatementDigest::new();
    digest.add(7, &c_id, &MessageId(notification_id));
    let statement_at =
        (u64::from(billed_period) + 1) * hotline::constants::BILLING_PERIOD_SECS + 30;
    let statement =
        hotline::relay::Statement::sign(&relay_key(), b_id, billed_period, digest, statement_at);
    assert_eq!(
        hotline::relay::Statement::from_bytes(&statement.to_bytes()).unwrap(),
        statement
    );
    let statement_json = json!({
        "name": "the period of the delivered notification, signed after it closed",
        "business": h(&b_id.0),
        "period": billed_period,
        "closed": statement.closed,
        "count": statement.count,
        "billed": [{"sequence": 7, "recipient": h(&c_id.0), "message_id": h(&notification_id)}],
        "digest": h(&statement.digest),
        "time": statement_at,
        "encoding": h(&statement.to_bytes()),
    });
    let empty = hotline::relay::Statement::sign(
        &relay_key(),
        b_id,
        billed_period,
        hotline::relay::StatementDigest::new(),
        RELAY_NOW,
    );
    let empty_json = json!({
        "name": "an open period with nothing billed",
        "business": h(&b_id.0),
        "period": billed_period,
        "closed": empty.closed,
        "count": 0,
        "billed": [],
        "digest": h(&empty.digest),
        "time": RELAY_NOW,
        "encoding": h(&empty.to_bytes()),
    });

    let responses: Vec<Value> = [
        (
            "accepted",
            Ok(Response::Accepted {
                duplicate: false,
                receipt: Box::new(Receipt::sign(&relay_key(), accepted_entry)),
            }),
            json!({"status": "ok", "op": 6, "duplicate": false, "receipt": h(&Receipt::sign(&relay_key(), accepted_entry).to_bytes())}),
        ),
        (
            "delivery states",
            Ok(Response::States {
                receipts: states[1..3].iter().map(|(_, e)| Receipt::sign(&relay_key(), *e)).collect(),
                more: true,
            }),
            json!({"status": "ok", "op": 15, "more": true, "receipts": ["receipts[1].encoding", "receipts[2].encoding"]}),
        ),
        (
            "statement",
            Ok(Response::Statement(Box::new(statement))),
            json!({"status": "ok", "op": 16, "statement": "statements[0].encoding"}),
        ),
        (
            "period unavailable",
            Err(Refusal::PeriodUnavailable),
            json!({"status": "refused", "refusal": "PeriodUnavailable", "code": Refusal::PeriodUnavailable.code()}),
        ),
        (
            "window closed",
            Err(Refusal::WindowClosed),
            json!({"status": "refused", "refusal": "WindowClosed", "code": Refusal::WindowClosed.code()}),
        ),
        (
            "blocked",
            Err(Refusal::Blocked),
            json!({"status": "refused", "refusal": "Blocked", "code": Refusal::Blocked.code()}),
        ),
        (
            "business not in good standing",
            Err(Refusal::NotInGoodStanding),
            json!({"status": "refused", "refusal": "NotInGoodStanding", "code": Refusal::NotInGoodStanding.code()}),
        ),
        (
            "confusable name",
            Err(Refusal::ConfusableName),
            json!({"status": "refused", "refusal": "ConfusableName", "code": Refusal::ConfusableName.code()}),
        ),
        (
            "sender quota exceeded",
            Err(Refusal::SenderQuotaExceeded),
            json!({"status": "refused", "refusal": "SenderQuotaExceeded", "code": Refusal::SenderQuotaExceeded.code()}),
        ),
        (
            "rate limited: bundle fetches",
            Err(Refusal::RateLimited {
                limit: RateLimit::BundleFetches,
                retry_after_secs: 180,
            }),
            json!({"status": "refused", "refusal": "RateLimited", "code": 26, "limit": 1, "retry_after_secs": 180}),
        ),
        (
            "rate limited: initial messages",
            Err(Refusal::RateLimited {
                limit: RateLimit::InitialMessages,
                retry_after_secs: 59,
            }),
            json!({"status": "refused", "refusal": "RateLimited", "code": 26, "limit": 2, "retry_after_secs": 59}),
        ),
        (
            "daily notification limit reached",
            Err(Refusal::DailyLimitReached {
                limit: 250,
                tier: 0,
            }),
            json!({"status": "refused", "refusal": "DailyLimitReached", "code": 38, "limit": 250, "tier": 0}),
        ),
        (
            "prekey status",
            Ok(Response::PreKeyStatus(PreKeyStatus {
                one_time: 7,
                kem: 9,
                low: true,
                drained: PreKeyDrain {
                    last_hour: 12,
                    last_day: 300,
                },
            })),
            json!({"status": "ok", "op": 5, "one_time": 7, "kem": 9, "low": true, "drained_last_hour": 12, "drained_last_day": 300}),
        ),
        (
            "mailbox",
            Ok(Response::Mailbox {
                deliveries: vec![Delivery {
                    id: 1,
                    received_at: RELAY_NOW + 3,
                    stamp: relay_key().stamp(&chat, RELAY_NOW + 3),
                    envelope: envelope.clone(),
                }],
                more: false,
                prekeys_low: true,
                prekeys_drained: PreKeyDrain {
                    last_hour: 12,
                    last_day: 300,
                },
                statuses: vec![],
            }),
            json!({"status": "ok", "op": 7, "more": false, "low": true, "drained_last_hour": 12, "drained_last_day": 300, "deliveries": [{"id": 1, "received_at": RELAY_NOW + 3, "stamp": h(&relay_key().stamp(&chat, RELAY_NOW + 3).0), "envelope": "the envelope above"}], "statuses": []}),
        ),
        (
            "mailbox with a stapled status",
            Ok(Response::Mailbox {
                deliveries: vec![Delivery {
                    id: 2,
                    received_at: RELAY_NOW + 4,
                    stamp: relay_key().stamp(&chat, RELAY_NOW + 4),
                    envelope: envelope.clone(),
                }],
                more: true,
                prekeys_low: false,
                prekeys_drained: PreKeyDrain::default(),
                statuses: vec![stapled.clone()],
            }),
            json!({"status": "ok", "op": 7, "more": true, "low": false, "drained_last_hour": 0, "drained_last_day": 0, "deliveries": [{"id": 2, "received_at": RELAY_NOW + 4, "stamp": h(&relay_key().stamp(&chat, RELAY_NOW + 4).0), "envelope": "the envelope above"}], "statuses": [h(&stapled.to_bytes())]}),
        ),
        (
            "bundle with a stapled status",
            Ok(Response::Bundle {
                bundle: Box::new(
                    handshake_fixture(&HandshakeCase {
                        name: "with one-time prekey",
                        with_one_time: true,
                    })
                    .bundle,
                ),
                status: Some(stapled.clone()),
            }),
            json!({"status": "ok", "op": 4, "bundle": "the bundle of handshake.json case 'with one-time prekey'", "status_stapled": h(&stapled.to_bytes())}),
        ),
        (
            "status stored",
            Ok(Response::StatusStored),
            json!({"status": "ok", "op": 12}),
        ),
        (
            "revocation list applied",
            Ok(Response::RevocationListApplied {
                sequence: RELAY_NOW - 60,
            }),
            json!({"status": "ok", "op": 13, "sequence": RELAY_NOW - 60}),
        ),
        (
            "account deleted",
            Ok(Response::AccountDeleted),
            json!({"status": "ok", "op": 14}),
        ),
        (
            "account deleted refusal",
            Err(Refusal::AccountDeleted),
            json!({"status": "refused", "refusal": "AccountDeleted", "code": Refusal::AccountDeleted.code()}),
        ),
        (
            "bad status",
            Err(Refusal::BadStatus),
            json!({"status": "refused", "refusal": "BadStatus", "code": Refusal::BadStatus.code()}),
        ),
        (
            "bad revocation list",
            Err(Refusal::BadRevocationList),
            json!({"status": "refused", "refusal": "BadRevocationList", "code": Refusal::BadRevocationList.code()}),
        ),
        (
            "trust state fixed",
            Err(Refusal::TrustStateFixed),
            json!({"status": "refused", "refusal": "TrustStateFixed", "code": Refusal::TrustStateFixed.code()}),
        ),
        (
            "reported",
            Ok(Response::Reported { duplicate: false }),
            json!({"status": "ok", "op": 17, "duplicate": false}),
        ),
        (
            "reported again",
            Ok(Response::Reported { duplicate: true }),
            json!({"status": "ok", "op": 17, "duplicate": true}),
        ),
        (
            "consent evidence",
            Ok(Response::ConsentEvidence(vec![consent_all])),
            json!({"status": "ok", "op": 11, "records": [h(&consent_all.to_bytes())]}),
        ),
    ]
    .into_iter()
    .map(|(name, r, inputs)| {
        let bytes = Response::encode_result(&r);
        assert_eq!(Response::decode_result(&bytes).unwrap(), r);
        json!({"name": name, "inputs": inputs, "encoding": h(&bytes)})
    })
    .collect();

    json!({
        "description": "Relay objects (SPEC.md 14). inputs: the customer's and the business's identity secrets (IdentityKeyPair::from_secret_bytes of the Ed25519 seed and X25519 secret); the business's certificate chain is issued by the root and issuer of business.json with the same request as there, for this business's identity key. envelope_headers: the 123-byte header (14.4), whose franking tag commits to the message's content with the franking key given in reports (14.17), which is also the associated data of the session message. envelope: the chat header followed by the opaque ciphertext. consent_records and block_records: the 139-byte records (14.6), signed by the customer, except the two block records with signer 'business', which block or unblock the customer and are signed by the business. requests: signed requests (14.2), each with its signer, counter, timestamp and body inputs (`op` and the body's fields; the Send body is the envelope above, the Consent body the 'opt in to everything' record, the Block body the 'block' record); Ed25519 signatures are deterministic. registration: a relay whose trust store holds root 1 of business.json, at its clock time `now`, answering RegisterBusiness (counter 1, timestamp `now`) with the business's chain, from the business and from another identity; `response` is the encoded response (14.3). responses: encoded responses (14.3), each with its inputs (status, and the refusal code or the op and body fields; the consent evidence holds the 'opt in to everything' record), among them the refusals with a body (RateLimited, 14.11), the bodies carrying the prekey drain (14.8), and stapled statuses (14.13: the status is issued by the issuer of business.json for the business's certificate, this_update = now - 60, next_update = now + 86400; the published list is that issuer's, sequence = issued_at = now - 60, next_update = issued_at + 7 days, revoking serial 5).",
        "inputs": {
            "now": RELAY_NOW,
            "customer_ed25519_seed": h(&c_ed),
            "customer_x25519_secret": h(&c_x),
            "business_ed25519_seed": h(&b_ed),
            "business_x25519_secret": h(&b_x),
            "customer_identity_key": h(&customer.public().to_bytes()),
            "business_identity_key": h(&business.public().to_bytes()),
            "customer_account": h(&c_id.0),
            "business_account": h(&b_id.0),
            "certificate_chain": h(&chain),
            "relay_key_seed": h(&relay_key().to_seed()),
            "relay_public_key": h(&relay_key().public().to_bytes()),
        },
        "receipts": sect(receipts, "14.16"),
        "statements": sect(vec![statement_json, empty_json], "14.16"),
        "reports": reports,
        "envelope_headers": [header_case("chat from the customer", &chat), header_case("notification from the business", &notification)],
        "envelope": {"ciphertext": h(&ciphertext), "encoding": h(&envelope_bytes)},
        "consent_records": [
            consent("opt in to everything", ConsentScope::ALL, RELAY_NOW),
            consent("notifications only", ConsentScope { chat: false, notifications: true }, RELAY_NOW + 60),
            consent("opt out", ConsentScope::NONE, RELAY_NOW + 120),
        ],
        "block_records": [
            block("block", true, RELAY_NOW + 6),
            block("unblock", false, RELAY_NOW + 600),
            business_block("business blocks the customer", true, RELAY_NOW + 7),
            business_block("business unblocks the customer", false, RELAY_NOW + 601),
        ],
        "requests": sect(requests, "14.2"),
        "registration": sect(registration, "14.1"),
        "responses": sect(responses, "14.3"),
        "sender_binding": sender_binding_vectors(),
        "client_refusals": client_refusal_vectors(),
        "scripts": relay_scripts(),
    })
}

fn storage_vectors() -> Value {
    use hotline::conformance::store_layouts::{self as layouts, seal_with_nonce};
    use hotline::conformance::store_layouts::{
        MAX_RECORD_PLAINTEXT_LEN, RECORD_IDENTITY, RECORD_PEER_IDENTITY, RECORD_PEER_SESSIONS,
        RECORD_PREKEYS, RECORD_SESSION, STORAGE_VERSION, STORAGE_VERSION_1,
    };
    use hotline::store::StorageKey;
    use hotline::store::{PeerId, SessionRecord};

    let storage_key = val32("storage key");
    let key = StorageKey::from_bytes(storage_key);
    let case = HandshakeCase {
        name: "with one-time prekey",
        with_one_time: true,
    };
    let fx = handshake_fixture(&case);

    // The initiator sends three messages; the third reaches the responder
    // first, so it stores two skipped keys.
    let mut rng = ScriptedRng::new(fx.randomness.iter().flatten().copied().collect());
    let mut initiator = Session::initiate(&fx.customer, &fx.bundle, &mut rng).unwrap();
    let wires: Vec<Vec<u8>> = (0..3u8)
        .map(|i| {
            initiator
                .encrypt_with_rng(
                    &[b'm', b'0' + i],
                    b"",
                    &mut ScriptedRng::new(VecDeque::new()),
                )
                .unwrap()
        })
        .collect();
    let mut store = fx.store.clone();
    let (responder, _) = Session::respond(&mut store, &wires[2], b"").unwrap();
    assert_eq!(responder.skipped_key_count(), 2);

    let mut records = Vec::new();
    let mut add = |name: &str, kind: u8, version: u8, record_name: &[u8], plaintext: Vec<u8>| {
        let nonce: [u8; 12] = val32(&format!("storage nonce {name}"))[..12]
            .try_into()
            .unwrap();
        let record = seal_with_nonce(&key, version, kind, record_name, &nonce, &plaintext);
        records.push(json!({
            "name": name,
            "version": version,
            "kind": kind,
            "record_name": h(record_name),
            "nonce": h(&nonce),
            "plaintext": h(&plaintext),
            "record": h(&record),
        }));
        record
    };
    let pt = layouts::identity(&fx.customer);
    add("identity", RECORD_IDENTITY, STORAGE_VERSION, b"", pt);
    let pt = layouts::prekeys(&fx.store);
    // Every value of the stored prekey store, as inputs: the plaintext
    // layout (SPEC.md 15.5) follows from these alone.
    let tag = case.name;
    let next_id = u32::from_be_bytes(pt[64..68].try_into().unwrap());
    let prekey_store = json!({
        "identity_ed25519_seed": h(&val32(&format!("{tag} responder ed25519 seed"))),
        "identity_x25519_secret": h(&val32(&format!("{tag} responder x25519 secret"))),
        "next_id": next_id,
        "signed_prekey": {"id": 7, "secret": h(&val32(&format!("{tag} signed prekey secret")))},
        "old_signed_prekeys": [],
        "one_time_prekeys": [{"id": 1001, "secret": h(&val32(&format!("{tag} one-time prekey secret")))}],
        "one_time_kem_prekeys": [{"id": 2001, "seed": h(&val64(&format!("{tag} kem prekey seed")))}],
        "last_resort_kem_prekey": {"id": 2000, "seed": h(&val64(&format!("{tag} last-resort kem prekey seed")))},
        "certificate_chain": null,
        "previous_chain_hashes": [],
        "after_handshake": "the responder committed the initial message 'm2': one-time prekey 1001 and one-time KEM prekey 2001 are consumed (absent), next_id is unchanged, and the replay cache of signed prekey 7 holds the initiator's ephemeral public key (X25519 of initiator_ephemeral_secret of handshake.json, case 'with one-time prekey')",
    });
    add(
        "prekeys before the handshake",
        RECORD_PREKEYS,
        STORAGE_VERSION,
        b"",
        pt,
    );
    let pt = layouts::prekeys(&store);
    let prekeys_v2 = pt.clone();
    add("prekeys", RECORD_PREKEYS, STORAGE_VERSION, b"", pt);
    let pt = layouts::session(&initiator);
    add(
        "initiator session awaiting reply",
        RECORD_SESSION,
        STORAGE_VERSION,
        b"",
        pt,
    );
    let pt = layouts::session(&responder);
    add(
        "responder session with skipped keys",
        RECORD_SESSION,
        STORAGE_VERSION,
        b"",
        pt,
    );
    let customer_peer = PeerId::new("customer:alice").unwrap();
    let pt = layouts::session_record(&SessionRecord::new(responder));
    let peer_pt = pt.clone();
    let peer_record = add(
        "peer sessions",
        RECORD_PEER_SESSIONS,
        STORAGE_VERSION,
        customer_peer.as_bytes(),
        pt,
    );
    let mut pt = Vec::new();
    fx.customer.public().encode_into(&mut pt);
    add(
        "trusted peer identity",
        RECORD_PEER_IDENTITY,
        STORAGE_VERSION,
        customer_peer.as_bytes(),
        pt,
    );
    // The client state (section 15.15): counter 7, generation 3, two blocked
    // accounts (the identity keys of the handshake's two parties, sorted) and
    // one blocked business id.
    let mut state = hotline::store::ClientState {
        relay_counter: 7,
        generation: 3,
        ..Default::default()
    };
    state
        .blocked_accounts
        .insert(hotline::relay::AccountId::of(&fx.customer.public()));
    state
        .blocked_accounts
        .insert(hotline::relay::AccountId::of(fx.bundle.identity()));
    state
        .blocked_businesses
        .insert(hotline::business::BusinessId([0x4b; 16]));
    let pt = layouts::client_state(&state);
    add(
        "client state",
        layouts::RECORD_CLIENT_STATE,
        STORAGE_VERSION,
        b"",
        pt,
    );
    // The trust state (section 15.17): statuses required, this file's...
    // business.json root 1, root 9 retired, issuer 7's list (sequence 3:
    // serial 5), root 1's list (sequence 2: the key of issuer 8, seed
    // 'trust state issuer 8'), and issuer 7's status of serial 1001.
    let bfx = business_fixture(fx.store.identity());
    let mut trust = TrustStore::new();
    trust.add_root(bfx.root.trust_root()).unwrap();
    trust.retire_root(9);
    trust.require_status(true);
    let issuer_list = bfx
        .issuer
        .revoke(3, VECTOR_NOW - 86_400, VECTOR_NOW + 6 * 86_400, &[5])
        .unwrap();
    let issuer_8 = Ed25519Secret::from_seed(&val32("trust state issuer 8")).public_key();
    let root_list = bfx
        .root
        .revoke_issuers(2, VECTOR_NOW - 86_400, VECTOR_NOW + 6 * 86_400, &[issuer_8])
        .unwrap();
    trust
        .apply_revocation_list(&issuer_list, Some(bfx.chain.issuer()), VECTOR_NOW)
        .unwrap();
    trust
        .apply_revocation_list(&root_list, None, VECTOR_NOW)
        .unwrap();
    let status = bfx
        .issuer
        .certify_status(1001, VECTOR_NOW - 60, VECTOR_NOW + 86_400)
        .unwrap();
    trust
        .apply_status(&status, bfx.chain.issuer(), VECTOR_NOW)
        .unwrap();
    let trust_inputs = json!({
        "trust_root": h(&bfx.root.trust_root().to_bytes()),
        "retired_root_ids": [9],
        "statuses_required": true,
        "revocation_lists": [h(&issuer_list.to_bytes()), h(&root_list.to_bytes())],
        "issuer_certificate": h(&bfx.chain.issuer().to_bytes()),
        "status": h(&status.to_bytes()),
        "now": VECTOR_NOW,
    });
    let pt = layouts::trust_state(&trust);
    add(
        "trust state",
        layouts::RECORD_TRUST_STATE,
        STORAGE_VERSION,
        b"",
        pt,
    );
    // Layout 1 of the same state, written by hand as SPEC 15.17 gives it
    // (no layout byte, no next_update, root lists of u64 issuer ids: here
    // issuer id 8), and what a reader migrates it to.
    let mut v1_trust = vec![0x01, 0x01];
    v1_trust.extend_from_slice(&bfx.root.trust_root().to_bytes());
    v1_trust.extend_from_slice(&1u16.to_be_bytes());
    v1_trust.extend_from_slice(&9u32.to_be_bytes());
    v1_trust.extend_from_slice(&2u16.to_be_bytes());
    for (scope, signer, sequence, entry) in [(1u8, 7u32, 3u64, 5u64), (2, 1, 2, 8)] {
        v1_trust.push(scope);
        v1_trust.extend_from_slice(&signer.to_be_bytes());
        v1_trust.extend_from_slice(&sequence.to_be_bytes());
        v1_trust.extend_from_slice(&1u32.to_be_bytes());
        v1_trust.extend_from_slice(&entry.to_be_bytes());
    }
    v1_trust.extend_from_slice(&1u32.to_be_bytes());
    v1_trust.extend_from_slice(&7u32.to_be_bytes());
    v1_trust.extend_from_slice(&1001u64.to_be_bytes());
    v1_trust.extend_from_slice(&(VECTOR_NOW - 60).to_be_bytes());
    v1_trust.extend_from_slice(&(VECTOR_NOW + 86_400).to_be_bytes());
    let trust_v1 = add(
        "trust state layout 1",
        layouts::RECORD_TRUST_STATE,
        STORAGE_VERSION,
        b"",
        v1_trust,
    );
    let migrated_trust = layouts::trust_state(&layouts::open_trust_state(&key, &trust_v1).unwrap());

    let pt = layouts::prekeys_v1(&store);
    let v1 = add(
        "prekeys version 1",
        RECORD_PREKEYS,
        STORAGE_VERSION_1,
        b"",
        pt,
    );
    let migrated = layouts::open_prekeys(&key, b"", &v1).unwrap();
    let migrated_pt = layouts::prekeys(&migrated);
    assert_eq!(migrated_pt, prekeys_v2);

    let mut errors = Vec::new();
    let mut err_case =
        |name: &str, bytes: Vec<u8>, open_key: &StorageKey, kind: u8, record_name: &[u8]| {
            let err =
                layouts::open_session_record(open_key, kind, record_name, &bytes).unwrap_err();
            errors.push(json!({
                "name": name,
                "section": "15.3",
                "record": h(&bytes),
                "storage_key": h(open_key.as_bytes()),
                "kind": kind,
                "record_name": h(record_name),
                "error": code(&err),
            }));
        };
    let peer = customer_peer.as_bytes();
    err_case(
        "wrong storage key",
        peer_record.clone(),
        &StorageKey::from_bytes(val32("another storage key")),
        RECORD_PEER_SESSIONS,
        peer,
    );
    err_case(
        "truncated",
        peer_record[..peer_record.len() - 1].to_vec(),
        &key,
        RECORD_PEER_SESSIONS,
        peer,
    );
    let mut b = peer_record.clone();
    b.push(0);
    err_case("trailing byte", b, &key, RECORD_PEER_SESSIONS, peer);
    let mut b = peer_record.clone();
    let last = b.len() - 1;
    b[last] ^= 1;
    err_case("corrupted tag", b, &key, RECORD_PEER_SESSIONS, peer);
    let mut b = peer_record.clone();
    b[40] ^= 1;
    err_case("corrupted ciphertext", b, &key, RECORD_PEER_SESSIONS, peer);
    err_case(
        "moved to another peer",
        peer_record.clone(),
        &key,
        RECORD_PEER_SESSIONS,
        b"customer:mallory",
    );
    let mut b = peer_record.clone();
    b[0] = 0x04;
    err_case("unknown version", b, &key, RECORD_PEER_SESSIONS, peer);
    let mut b = peer_record.clone();
    b[1] = 0x09;
    err_case("unknown kind", b, &key, RECORD_PEER_SESSIONS, peer);
    err_case(
        "wrong kind",
        peer_record.clone(),
        &key,
        RECORD_SESSION,
        peer,
    );
    let mut b = peer_record.clone();
    b[0] = STORAGE_VERSION_1;
    err_case("relabelled version", b, &key, RECORD_PEER_SESSIONS, peer);
    let mut b = peer_record.clone();
    b[22..26].copy_from_slice(&(MAX_RECORD_PLAINTEXT_LEN as u32 + 1).to_be_bytes());
    err_case(
        "declared plaintext length above the maximum",
        b,
        &key,
        RECORD_PEER_SESSIONS,
        peer,
    );
    // Records sealed under the right key and name whose plaintext is
    // refused (step 11 of SPEC 15.3): nonce SHA-256("Hotline vector storage
    // nonce " || name)[0..12], plaintext given.
    let session_bytes = &peer_pt[6..];
    let entry = |retired: u8| {
        let mut e = vec![retired];
        e.extend_from_slice(&u32::try_from(session_bytes.len()).unwrap().to_be_bytes());
        e.extend_from_slice(session_bytes);
        e
    };
    let mut trailing = peer_pt.clone();
    trailing.push(0);
    let mut twice = vec![2];
    twice.extend(entry(0));
    twice.extend(entry(1));
    let mut retired_active = vec![1];
    retired_active.extend(entry(1));
    let mut bad_flag = vec![1];
    bad_flag.extend(entry(2));
    for (name, version, plaintext) in [
        (
            "peer sessions with a trailing byte",
            STORAGE_VERSION,
            trailing,
        ),
        (
            "peer sessions with a retired flag of 2",
            STORAGE_VERSION,
            bad_flag,
        ),
        ("the same session twice", STORAGE_VERSION, twice),
        (
            "the active session retired",
            STORAGE_VERSION,
            retired_active,
        ),
        (
            "peer sessions sealed as version 1",
            STORAGE_VERSION_1,
            peer_pt.clone(),
        ),
    ] {
        let nonce: [u8; 12] = val32(&format!("storage nonce {name}"))[..12]
            .try_into()
            .unwrap();
        let record = seal_with_nonce(
            &key,
            version,
            RECORD_PEER_SESSIONS,
            peer,
            &nonce,
            &plaintext,
        );
        let err = SessionRecord::from_pickle(&record, &key, &customer_peer).unwrap_err();
        errors.push(json!({
            "name": name,
            "section": "15.3, 15.7",
            "nonce": h(&nonce),
            "plaintext": h(&plaintext),
            "record": h(&record),
            "storage_key": h(key.as_bytes()),
            "kind": RECORD_PEER_SESSIONS,
            "record_name": h(peer),
            "error": code(&err),
        }));
    }

    json!({
        "description": "Encrypted storage records (SPEC.md, section 15). Each record is sealed under storage_key with the given nonce; plaintext is the stored layout of the object: the identity of the initiator of handshake case 'with one-time prekey' (handshake.json); that case's responder prekey store before the handshake (every stored value is given in prekey_store) and after it was committed (one-time prekeys consumed, the ephemeral key in the replay cache); the initiator session after sending three messages ('m0', 'm1', 'm2', empty associated data; no randomness drawn beyond the handshake); the responder session created from the third of them (two skipped keys); a peer-sessions record holding that responder session, named by the peer address; the trusted identity of the initiator under the same name; a client state with relay counter 7, generation 3, the account ids of the initiator and of the bundle's identity blocked and business id 4b4b...4b blocked (section 15.15); the trust state of trust_state_inputs (section 15.17: root 1 of business.json, root 9 retired, statuses required, the two lists and the status applied at now in order, the issuer's with the issuer certificate); the same trust state written in layout 1, whose migration (the plaintext a reader re-encodes after opening it) is trust_state_layout_1_migrated; and the same prekey store in the version 1 layout, which migrates to exactly the version 2 plaintext of 'prekeys'. errors: records that must be refused when opened as the given kind under the given name, with the error; those with a nonce and plaintext are sealed from them (the plaintexts built from the 'peer sessions' plaintext: its session entry repeated, retired, or followed by a byte).",
        "storage_key": h(&storage_key),
        "key_id": h(&key.key_id()),
        "prekey_store": prekey_store,
        "trust_state_inputs": trust_inputs,
        "trust_state_layout_1_migrated": h(&migrated_trust),
        "records": records,
        "errors": errors,
        "compare_and_swap": compare_and_swap_vectors(),
    })
}
// ---- Relay scripts: a fresh relay, a fixed clock, signed requests and the
// response and verdict of each.

/// One script being recorded.
struct Script {
    relay: hotline::relay::Relay<hotline::relay::MemoryStore>,
    clock: std::sync::Arc<hotline::relay::ManualClock>,
    actors: Vec<(&'static str, IdentityKeyPair)>,
    counters: std::collections::BTreeMap<&'static str, u64>,
    steps: Vec<Value>,
}

/// A relay script's actor: its identity from labelled secrets.
fn script_actor(name: &str) -> IdentityKeyPair {
    let label = if name == "customer" || name == "business" {
        format!("relay {name}")
    } else {
        format!("relay script {name}")
    };
    IdentityKeyPair::from_secret_bytes(
        &val32(&format!("{label} ed25519 seed")),
        &val32(&format!("{label} x25519 secret")),
    )
}

fn script_actor_json(name: &str) -> Value {
    let label = if name == "customer" || name == "business" {
        format!("relay {name}")
    } else {
        format!("relay script {name}")
    };
    json!({
        "name": name,
        "ed25519_seed": h(&val32(&format!("{label} ed25519 seed"))),
        "x25519_secret": h(&val32(&format!("{label} x25519 secret"))),
        "account": h(&hotline::relay::AccountId::of(&script_actor(name).public()).0),
    })
}

impl Script {
    fn new(
        limits: hotline::relay::MailboxLimits,
        rate_limits: hotline::relay::RateLimits,
        actors: &[&'static str],
    ) -> Self {
        Self::with_validator(limits, rate_limits, actors, false)
    }

    /// A script whose relay validates with a shared, updatable trust store
    /// (`Arc<RwLock<TrustStore>>`, which takes published revocation lists)
    /// when `shared`, or a fixed one.
    fn with_validator(
        limits: hotline::relay::MailboxLimits,
        rate_limits: hotline::relay::RateLimits,
        actors: &[&'static str],
        shared: bool,
    ) -> Self {
        let mut trust = TrustStore::new();
        let root = business_fixture(&script_actor("business")).root;
        trust.add_root(root.trust_root()).unwrap();
        let clock = std::sync::Arc::new(hotline::relay::ManualClock::new(RELAY_NOW));
        let store = hotline::relay::MemoryStore::new();
        let relay = if shared {
            let trust = std::sync::Arc::new(std::sync::RwLock::new(trust));
            hotline::relay::Relay::new(store, clock.clone(), trust)
        } else {
            hotline::relay::Relay::new(store, clock.clone(), trust)
        }
        .with_limits(limits)
        .with_rate_limits(rate_limits)
        .with_key(relay_key());
        Self {
            relay,
            clock,
            actors: actors.iter().map(|n| (*n, script_actor(n))).collect(),
            counters: Default::default(),
            steps: Vec::new(),
        }
    }

    fn who(&self, name: &str) -> &IdentityKeyPair {
        &self.actors.iter().find(|(n, _)| *n == name).unwrap().1
    }

    fn id(&self, name: &str) -> hotline::relay::AccountId {
        hotline::relay::AccountId::of(&self.who(name).public())
    }

    /// The next counter of `signer` (from 1).
    fn counter(&mut self, signer: &'static str) -> u64 {
        let c = self.counters.entry(signer).or_insert(0);
        *c += 1;
        *c
    }

    /// Registers `who` as a customer at `at`: the step "<who> registers".
    fn register_customer(&mut self, who: &'static str, at: u64) {
        let identity = self.who(who).public();
        let r = self.sign(
            who,
            at,
            hotline::relay::Request::RegisterCustomer { identity },
        );
        self.run(&format!("{who} registers"), "14.1", at, who, r, "ok")
            .unwrap();
    }

    /// Registers `who` as a business with `chain` at `at`: the step
    /// "<who> registers".
    fn register_business(&mut self, who: &'static str, at: u64, chain: Vec<u8>) {
        let identity = self.who(who).public();
        let r = self.sign(
            who,
            at,
            hotline::relay::Request::RegisterBusiness {
                identity,
                certificate_chain: chain,
            },
        );
        self.run(&format!("{who} registers"), "14.1", at, who, r, "ok")
            .unwrap();
    }

    /// Signs `request` by `signer` with its next counter and timestamp `at`.
    fn sign(&mut self, signer: &'static str, at: u64, request: hotline::relay::Request) -> Vec<u8> {
        let counter = self.counter(signer);
        hotline::relay::SignedRequest::sign(self.who(signer), counter, at, request).to_bytes()
    }

    /// Signs again the bytes of a request edited after signing.
    fn resign(&self, signer: &str, mut bytes: Vec<u8>) -> Vec<u8> {
        let at = bytes.len() - SIGNATURE_LEN;
        let sig = self
            .who(signer)
            .signing()
            .sign(SIG_CTX_RELAY_REQUEST, &bytes[..at]);
        bytes[at..].copy_from_slice(&sig);
        bytes
    }

    /// Runs one request at relay time `at` and records it.
    fn run(
        &mut self,
        name: &str,
        section: &str,
        at: u64,
        signer: &str,
        request: Vec<u8>,
        expect: &str,
    ) -> Result<hotline::relay::Response, hotline::relay::RelayError> {
        use hotline::relay::{RelayError, Response, SignedRequest};
        self.clock.set(at);
        let result = SignedRequest::from_bytes(&request)
            .map_err(RelayError::from)
            .and_then(|r| self.relay.handle_request(&r));
        let response = Response::encode_result(&result.clone().map_err(|e| e.refusal()));
        let verdict = match &result {
            Ok(_) => json!("ok"),
            Err(e) => json!({"error": code(e)}),
        };
        let got = match &result {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        assert_eq!(got, expect, "script step {name}: {result:?}");
        self.steps.push(json!({
            "name": name,
            "section": section,
            "at": at,
            "signer": signer,
            "request": h(&request),
            "response": h(&response),
            "result": verdict,
        }));
        result
    }

    /// The script's relay with these daily notification tiers (14.17).
    fn tiers(self, tiers: hotline::relay::NotificationTiers) -> Self {
        Self {
            relay: self.relay.with_notification_tiers(tiers),
            ..self
        }
    }

    fn finish(self, name: &str, description: &str, settings: Value) -> Value {
        let actors: Vec<Value> = self
            .actors
            .iter()
            .map(|(n, _)| script_actor_json(n))
            .collect();
        json!({
            "name": name,
            "description": description,
            "start": RELAY_NOW,
            "settings": settings,
            "actors": actors,
            "steps": self.steps,
        })
    }
}

fn limits_json(l: &hotline::relay::MailboxLimits, r: &hotline::relay::RateLimits) -> Value {
    let bucket = |b: Option<hotline::relay::TokenBucket>| match b {
        Some(b) => json!({"capacity": b.capacity, "refill_secs": b.refill_secs}),
        None => Value::Null,
    };
    json!({
        "max_envelopes": l.max_envelopes,
        "max_bytes": l.max_bytes,
        "max_envelopes_per_sender": l.max_envelopes_per_sender,
        "max_bytes_per_sender": l.max_bytes_per_sender,
        "ttl_secs": l.ttl_secs,
        "remembered_ids": l.remembered_ids,
        "bundle_fetches_per_customer": bucket(r.bundle_fetches_per_customer),
        "one_time_prekeys_per_owner": bucket(r.one_time_prekeys_per_owner),
        "initial_messages_per_customer": bucket(r.initial_messages_per_customer),
        "trust_store": "fixed",
        "relay_key_seed": h(&relay_key().to_seed()),
    })
}

fn script_envelope(
    from: hotline::relay::AccountId,
    to: hotline::relay::AccountId,
    label: &str,
    class: hotline::relay::MessageClass,
    sent_at: u64,
    ciphertext: &[u8],
) -> hotline::relay::Envelope {
    let mut id = [0u8; 16];
    id.copy_from_slice(&val32(&format!("relay script message {label}"))[..16]);
    hotline::relay::Envelope {
        header: hotline::relay::EnvelopeHeader {
            sender: from,
            recipient: to,
            message_id: hotline::relay::MessageId(id),
            class,
            sent_at,
            franking: Default::default(),
        },
        ciphertext: ciphertext.to_vec(),
    }
}

fn relay_scripts() -> Value {
    use hotline::relay::{
        BlockRecord, ConsentRecord, ConsentScope, MailboxLimits, MessageClass, PreKeyUpload,
        RateLimits, Request, TokenBucket,
    };
    let t0 = RELAY_NOW;
    let chat_ct = val32("relay script ciphertext").to_vec();
    let mut scripts = Vec::new();

    // ---- Accounts, requests and records (14.1, 14.2, 14.6).
    let limits = MailboxLimits::default();
    let rates = RateLimits::NONE;
    let mut s = Script::new(
        limits,
        rates,
        &[
            "customer",
            "business",
            "customer 2",
            "business 2",
            "unregistered",
        ],
    );
    let chain = business_fixture(s.who("business")).chain.to_bytes();
    let look_alike = {
        let fx = business_fixture(s.who("business 2"));
        let mut id = [0u8; 16];
        id.copy_from_slice(&val32("relay script business 2 id")[..16]);
        let mut request = fx.request.clone();
        request.serial = 1002;
        request.business_id = BusinessId(id);
        request.name = "KLM Royal Dutch AirIines".into();
        request.localized.clear();
        CertificateChain::new(
            fx.chain.issuer().clone(),
            fx.issuer.issue(&request).unwrap(),
        )
        .to_bytes()
    };
    let (c, b, c2) = (s.id("customer"), s.id("business"), s.id("customer 2"));
    let identity = |s: &Script, n: &str| s.who(n).public();
    let r = s.sign(
        "customer",
        t0,
        Request::RegisterCustomer {
            identity: identity(&s, "customer"),
        },
    );
    s.run("customer registers", "14.1", t0, "customer", r, "ok")
        .unwrap();
    let r = s.sign(
        "customer",
        t0,
        Request::RegisterCustomer {
            identity: identity(&s, "customer"),
        },
    );
    let _ = s.run(
        "customer registers again",
        "14.1",
        t0,
        "customer",
        r,
        "relay.already_registered",
    );
    let r = s.sign(
        "business",
        t0,
        Request::RegisterBusiness {
            identity: identity(&s, "business"),
            certificate_chain: chain.clone(),
        },
    );
    s.run(
        "business registers with its chain",
        "14.1",
        t0,
        "business",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign(
        "business 2",
        t0,
        Request::RegisterBusiness {
            identity: identity(&s, "business 2"),
            certificate_chain: look_alike.clone(),
        },
    );
    let _ = s.run("another business registers a look-alike name (KLM Royal Dutch AirIines, another business id)", "14.1", t0, "business 2", r, "relay.confusable_name");
    let r = s.sign(
        "customer 2",
        t0,
        Request::RegisterBusiness {
            identity: identity(&s, "customer 2"),
            certificate_chain: chain.clone(),
        },
    );
    let _ = s.run(
        "a registration with the business's chain from another identity",
        "14.1",
        t0,
        "customer 2",
        r,
        "relay.certificate_refused",
    );
    let r = s.sign(
        "customer 2",
        t0,
        Request::RegisterCustomer {
            identity: identity(&s, "customer"),
        },
    );
    let _ = s.run(
        "a registration of another identity than the signer's",
        "14.1",
        t0,
        "customer 2",
        r,
        "relay.identity_mismatch",
    );
    let mut r = s.sign(
        "customer 2",
        t0,
        Request::RegisterCustomer {
            identity: identity(&s, "customer 2"),
        },
    );
    // The identity's X25519 key (body offset 34..66) made low order, the
    // identity and the request signed again.
    r[51 + 34..51 + 66].fill(0);
    let sig = s
        .who("customer 2")
        .signing()
        .sign(SIG_CTX_IDENTITY, &r[51..51 + 66]);
    r[51 + 66..51 + 130].copy_from_slice(&sig);
    let r = s.resign("customer 2", r);
    let _ = s.run(
        "a registration of a low-order identity",
        "14.2",
        t0,
        "customer 2",
        r,
        "relay.request",
    );
    let r = s.sign(
        "customer 2",
        t0,
        Request::RegisterCustomer {
            identity: identity(&s, "customer 2"),
        },
    );
    s.run("customer 2 registers", "14.1", t0, "customer 2", r, "ok")
        .unwrap();
    let r = s.sign("unregistered", t0, Request::FetchBundle { owner: b });
    let _ = s.run(
        "a request from an unknown account",
        "14.2",
        t0,
        "unregistered",
        r,
        "relay.unknown_account",
    );
    let r = hotline::relay::SignedRequest::sign(
        s.who("customer"),
        1,
        t0 + 1,
        Request::FetchMailbox { max: 10 },
    )
    .to_bytes();
    let _ = s.run(
        "a request with a used counter (1)",
        "14.2",
        t0 + 1,
        "customer",
        r,
        "relay.replayed_request",
    );
    let r = s.sign("customer", t0 - 301, Request::FetchMailbox { max: 10 });
    let _ = s.run(
        "a request dated 301 s before the relay's clock",
        "14.2",
        t0,
        "customer",
        r,
        "relay.stale_request",
    );
    let mut r = s.sign("customer", t0, Request::FetchMailbox { max: 10 });
    let last = r.len() - 1;
    r[last] ^= 1;
    let _ = s.run(
        "a request with a bad signature",
        "14.2",
        t0,
        "customer",
        r,
        "relay.request",
    );
    let r = s.sign("customer", t0, Request::FetchMailbox { max: 10 });
    let _ = s.run(
        "a request of 114 bytes",
        "14.2",
        t0,
        "customer",
        r[..114].to_vec(),
        "relay.request",
    );
    let consent = ConsentRecord::sign(s.who("customer"), b, ConsentScope::ALL, t0);
    let r = s.sign("business", t0, Request::Consent(consent));
    let _ = s.run(
        "a consent record sent by the business",
        "14.6",
        t0,
        "business",
        r,
        "relay.wrong_account_kind",
    );
    let r = s.sign("customer 2", t0, Request::Consent(consent));
    let _ = s.run(
        "the customer's consent record sent by customer 2",
        "14.6",
        t0,
        "customer 2",
        r,
        "relay.record_not_yours",
    );
    let r = s.sign(
        "customer",
        t0,
        Request::Consent(ConsentRecord::sign(
            s.who("customer"),
            c2,
            ConsentScope::ALL,
            t0,
        )),
    );
    let _ = s.run(
        "a consent record naming a customer as the business",
        "14.6",
        t0,
        "customer",
        r,
        "relay.unsupported_route",
    );
    let r = s.sign(
        "customer",
        t0,
        Request::Consent(ConsentRecord::sign(
            s.who("customer"),
            b,
            ConsentScope::ALL,
            t0 + 301,
        )),
    );
    let _ = s.run(
        "a consent record dated 301 s ahead of the relay's clock",
        "14.6",
        t0,
        "customer",
        r,
        "relay.stale_record",
    );
    let r = s.sign(
        "customer",
        t0,
        Request::Consent(ConsentRecord::sign(
            s.who("customer"),
            b,
            ConsentScope::ALL,
            t0 - 301,
        )),
    );
    let _ = s.run(
        "a consent record dated 301 s before the relay's clock",
        "14.6",
        t0,
        "customer",
        r,
        "relay.stale_record",
    );
    let mut r = s.sign(
        "customer",
        t0,
        Request::Block(BlockRecord::sign(s.who("customer"), b, true, t0)),
    );
    // The record's signature (body offset 75..139) altered.
    r[51 + 100] ^= 1;
    let r = s.resign("customer", r);
    let _ = s.run(
        "a block record with a bad signature",
        "14.6",
        t0,
        "customer",
        r,
        "relay.request",
    );
    let mut r = s.sign("customer", t0, Request::Consent(consent));
    // The record's scope byte (body offset 66) with a bit other than 0x01, 0x02.
    r[51 + 66] = 0x04;
    let r = s.resign("customer", r);
    let _ = s.run(
        "a consent record with scope bit 0x04",
        "14.6",
        t0,
        "customer",
        r,
        "relay.request",
    );
    let r = s.sign(
        "customer",
        t0,
        Request::Consent(ConsentRecord::sign(
            s.who("customer"),
            c,
            ConsentScope::ALL,
            t0,
        )),
    );
    let _ = s.run(
        "a consent record naming the customer as its own business",
        "14.6",
        t0,
        "customer",
        r,
        "relay.request",
    );
    scripts.push(s.finish(
        "accounts, requests and records",
        "Registrations (the business with the chain of business.json's root and issuer for its key; business 2 with a chain from the same issuer, serial 1002, business id the first 16 bytes of SHA-256(\"Hotline vector relay script business 2 id\"), name \"KLM Royal Dutch AirIines\", no localized names, otherwise the request of business.json), counters, clock window, signatures and records.",
        limits_json(&limits, &rates),
    ));

    // ---- Consent, block, the 24-hour window and notifications (14.5, 14.7).
    let limits = MailboxLimits::default();
    let rates = RateLimits::NONE;
    let mut s = Script::new(limits, rates, &["customer", "business", "customer 2"]);
    let (c, b, c2) = (s.id("customer"), s.id("business"), s.id("customer 2"));
    for who in ["customer", "customer 2"] {
        s.register_customer(who, t0);
    }
    s.register_business("business", t0, chain.clone());
    let send = |s: &mut Script,
                name: &str,
                section: &str,
                at: u64,
                who: &'static str,
                env: hotline::relay::Envelope,
                expect: &str| {
        let r = s.sign(who, at, Request::Send(env));
        let _ = s.run(name, section, at, who, r, expect);
    };
    send(
        &mut s,
        "business chat before the customer wrote",
        "14.7",
        t0,
        "business",
        script_envelope(b, c, "b1", MessageClass::Chat, t0, &chat_ct),
        "relay.window_closed",
    );
    send(
        &mut s,
        "business notification without consent",
        "14.7",
        t0,
        "business",
        script_envelope(b, c, "b2", MessageClass::Notification, t0, &chat_ct),
        "relay.no_consent",
    );
    send(
        &mut s,
        "customer notification",
        "14.7",
        t0,
        "customer",
        script_envelope(c, b, "c1", MessageClass::Notification, t0, &chat_ct),
        "relay.notification_from_customer",
    );
    send(
        &mut s,
        "customer to customer",
        "14.7",
        t0,
        "customer",
        script_envelope(c, c2, "c2", MessageClass::Chat, t0, &chat_ct),
        "relay.unsupported_route",
    );
    send(
        &mut s,
        "business sends an envelope naming the customer as sender",
        "14.2",
        t0,
        "business",
        script_envelope(c, b, "b3", MessageClass::Chat, t0, &chat_ct),
        "relay.sender_mismatch",
    );
    let t1 = t0 + 10;
    send(
        &mut s,
        "customer chat opens the window",
        "14.7",
        t1,
        "customer",
        script_envelope(c, b, "c3", MessageClass::Chat, t1, &chat_ct),
        "ok",
    );
    send(
        &mut s,
        "business chat 86400 s after the customer's message",
        "14.7",
        t1 + 86_400,
        "business",
        script_envelope(b, c, "b4", MessageClass::Chat, t1 + 86_400, &chat_ct),
        "ok",
    );
    send(
        &mut s,
        "the same business chat again (duplicate)",
        "14.5",
        t1 + 86_400,
        "business",
        script_envelope(b, c, "b4", MessageClass::Chat, t1 + 86_400, &chat_ct),
        "ok",
    );
    send(
        &mut s,
        "business chat 86401 s after the customer's message",
        "14.7",
        t1 + 86_401,
        "business",
        script_envelope(b, c, "b5", MessageClass::Chat, t1 + 86_401, &chat_ct),
        "relay.window_closed",
    );
    let t2 = t1 + 90_000;
    send(
        &mut s,
        "customer chat reopens the window",
        "14.7",
        t2,
        "customer",
        script_envelope(c, b, "c4", MessageClass::Chat, t2, &chat_ct),
        "ok",
    );
    let r = s.sign(
        "customer",
        t2 + 1,
        Request::Consent(ConsentRecord::sign(
            s.who("customer"),
            b,
            ConsentScope {
                chat: false,
                notifications: true,
            },
            t2 + 1,
        )),
    );
    s.run(
        "customer consents to notifications only",
        "14.6",
        t2 + 1,
        "customer",
        r,
        "ok",
    )
    .unwrap();
    send(
        &mut s,
        "business chat after the consent that excludes chat",
        "14.7",
        t2 + 2,
        "business",
        script_envelope(b, c, "b6", MessageClass::Chat, t2 + 2, &chat_ct),
        "relay.no_consent",
    );
    send(
        &mut s,
        "business notification under the consent",
        "14.7",
        t2 + 3,
        "business",
        script_envelope(b, c, "b7", MessageClass::Notification, t2 + 3, &chat_ct),
        "ok",
    );
    send(
        &mut s,
        "customer chat after the consent",
        "14.7",
        t2 + 4,
        "customer",
        script_envelope(c, b, "c5", MessageClass::Chat, t2 + 4, &chat_ct),
        "ok",
    );
    send(
        &mut s,
        "business chat after the customer wrote again",
        "14.7",
        t2 + 5,
        "business",
        script_envelope(b, c, "b8", MessageClass::Chat, t2 + 5, &chat_ct),
        "ok",
    );
    let r = s.sign("customer", t2 + 6, Request::FetchMailbox { max: 10 });
    s.run(
        "customer fetches its mailbox",
        "14.5",
        t2 + 6,
        "customer",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign("customer", t2 + 7, Request::Acknowledge { ids: vec![1, 2] });
    s.run(
        "customer acknowledges deliveries 1 and 2",
        "14.5",
        t2 + 7,
        "customer",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign(
        "customer",
        t2 + 8,
        Request::Block(BlockRecord::sign(s.who("customer"), b, true, t2 + 8)),
    );
    s.run(
        "customer blocks the business",
        "14.6",
        t2 + 8,
        "customer",
        r,
        "ok",
    )
    .unwrap();
    send(
        &mut s,
        "business notification after the block",
        "14.7",
        t2 + 9,
        "business",
        script_envelope(b, c, "b9", MessageClass::Notification, t2 + 9, &chat_ct),
        "relay.blocked",
    );
    let r = s.sign(
        "customer",
        t2 + 8,
        Request::Block(BlockRecord::sign(s.who("customer"), b, false, t2 + 8)),
    );
    let _ = s.run(
        "an unblock of the same second as the block",
        "14.6",
        t2 + 10,
        "customer",
        r,
        "relay.stale_record",
    );
    let r = s.sign(
        "customer",
        t2 + 11,
        Request::Block(BlockRecord::sign(s.who("customer"), b, false, t2 + 11)),
    );
    s.run("customer unblocks", "14.6", t2 + 11, "customer", r, "ok")
        .unwrap();
    send(
        &mut s,
        "business notification after the unblock",
        "14.7",
        t2 + 12,
        "business",
        script_envelope(b, c, "b10", MessageClass::Notification, t2 + 12, &chat_ct),
        "ok",
    );
    let r = s.sign("business", t2 + 13, Request::ExportConsent { customer: c });
    s.run(
        "business exports the customer's consent records",
        "14.6",
        t2 + 13,
        "business",
        r,
        "ok",
    )
    .unwrap();
    let expired = BUSINESS_VALIDITY.not_after + CLOCK_SKEW_SECS + 1;
    send(
        &mut s,
        "customer chat once the business's certificate expired",
        "14.7",
        expired,
        "customer",
        script_envelope(c, b, "c6", MessageClass::Chat, expired, &chat_ct),
        "ok",
    );
    send(
        &mut s,
        "business chat once its certificate expired",
        "14.7",
        expired + 1,
        "business",
        script_envelope(b, c, "b11", MessageClass::Chat, expired + 1, &chat_ct),
        "relay.not_in_good_standing",
    );
    scripts.push(s.finish(
        "consent, block, window and notifications",
        "The rules of 14.7 in order, the 24-hour window at its boundary, duplicates, consent and block records and their order, and a business whose certificate expired. Envelope message ids are the first 16 bytes of SHA-256(\"Hotline vector relay script message \" || label), the ciphertext is SHA-256(\"Hotline vector relay script ciphertext\").",
        limits_json(&limits, &rates),
    ));

    // ---- A business blocks an abusive customer (14.6, 14.7).
    let mut s = Script::new(
        MailboxLimits::default(),
        RateLimits::NONE,
        &["customer", "business", "customer 2"],
    );
    let (c, b) = (s.id("customer"), s.id("business"));
    for who in ["customer", "customer 2"] {
        s.register_customer(who, t0);
    }
    s.register_business("business", t0, chain.clone());
    send(
        &mut s,
        "customer chat, waiting in the business's mailbox",
        "14.7",
        t0 + 1,
        "customer",
        script_envelope(c, b, "x1", MessageClass::Chat, t0 + 1, &chat_ct),
        "ok",
    );
    let by_business =
        |s: &Script, customer: hotline::relay::AccountId, blocked: bool, time: u64| {
            BlockRecord::sign_by_business(s.who("business"), customer, blocked, time)
        };
    let r = s.sign(
        "customer",
        t0 + 2,
        Request::Block(by_business(&s, c, true, t0 + 2)),
    );
    let _ = s.run(
        "a business's block sent by the customer",
        "14.6",
        t0 + 2,
        "customer",
        r,
        "relay.wrong_account_kind",
    );
    let c2 = s.id("customer 2");
    let r = s.sign(
        "business",
        t0 + 2,
        Request::Block(BlockRecord::sign(s.who("customer 2"), b, true, t0 + 2)),
    );
    let _ = s.run(
        "a customer's block sent by the business",
        "14.6",
        t0 + 2,
        "business",
        r,
        "relay.wrong_account_kind",
    );
    let r = s.sign(
        "business",
        t0 + 3,
        Request::Block(by_business(&s, b, true, t0 + 3)),
    );
    let _ = s.run(
        "a business's block naming a business as the customer",
        "14.6",
        t0 + 3,
        "business",
        r,
        "relay.request",
    );
    let r = s.sign(
        "business",
        t0 + 3,
        Request::Block(by_business(&s, c, true, t0 + 3)),
    );
    s.run(
        "business blocks the customer (the waiting chat is deleted)",
        "14.6",
        t0 + 3,
        "business",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign("business", t0 + 4, Request::FetchMailbox { max: 10 });
    s.run(
        "business's mailbox after the block",
        "14.6",
        t0 + 4,
        "business",
        r,
        "ok",
    )
    .unwrap();
    send(
        &mut s,
        "customer chat after the business's block",
        "14.7",
        t0 + 5,
        "customer",
        script_envelope(c, b, "x2", MessageClass::Chat, t0 + 5, &chat_ct),
        "relay.blocked_by_business",
    );
    send(
        &mut s,
        "another customer's chat is not affected",
        "14.7",
        t0 + 5,
        "customer 2",
        script_envelope(c2, b, "x3", MessageClass::Chat, t0 + 5, &chat_ct),
        "ok",
    );
    let r = s.sign(
        "customer",
        t0 + 6,
        Request::Block(BlockRecord::sign(s.who("customer"), b, false, t0 + 6)),
    );
    s.run(
        "the customer's own unblock does not lift the business's block",
        "14.6",
        t0 + 6,
        "customer",
        r,
        "ok",
    )
    .unwrap();
    send(
        &mut s,
        "customer chat still refused",
        "14.7",
        t0 + 7,
        "customer",
        script_envelope(c, b, "x4", MessageClass::Chat, t0 + 7, &chat_ct),
        "relay.blocked_by_business",
    );
    let r = s.sign(
        "business",
        t0 + 8,
        Request::Block(by_business(&s, c, false, t0 + 8)),
    );
    s.run(
        "business unblocks the customer",
        "14.6",
        t0 + 8,
        "business",
        r,
        "ok",
    )
    .unwrap();
    send(
        &mut s,
        "customer chat after the business's unblock",
        "14.7",
        t0 + 9,
        "customer",
        script_envelope(c, b, "x5", MessageClass::Chat, t0 + 9, &chat_ct),
        "ok",
    );
    scripts.push(s.finish(
        "a business blocks a customer",
        "A business's block record (14.6, BLOCK_BY_BUSINESS, signed by the business): refused from the wrong kind of account or naming the same account twice; stored, it deletes the customer's waiting envelopes to the business and refuses the customer's chats (BlockedByBusiness, 14.7) until the business unblocks; the customer's own records do not lift it. Message ids and ciphertext as in the consent script.",
        limits_json(&MailboxLimits::default(), &RateLimits::NONE),
    ));

    // ---- A customer erases its account (14.15).
    let mut s = Script::new(
        MailboxLimits::default(),
        RateLimits::NONE,
        &["customer", "business"],
    );
    let (c, b) = (s.id("customer"), s.id("business"));
    s.register_customer("customer", t0);
    s.register_business("business", t0, chain.clone());
    let scope = ConsentScope {
        chat: true,
        notifications: true,
    };
    let r = s.sign(
        "customer",
        t0 + 1,
        Request::Consent(ConsentRecord::sign(s.who("customer"), b, scope, t0 + 1)),
    );
    s.run("customer consents", "14.6", t0 + 1, "customer", r, "ok")
        .unwrap();
    send(
        &mut s,
        "customer chat, waiting in the business's mailbox",
        "14.7",
        t0 + 2,
        "customer",
        script_envelope(c, b, "e1", MessageClass::Chat, t0 + 2, &chat_ct),
        "ok",
    );
    send(
        &mut s,
        "business answer, waiting in the customer's mailbox",
        "14.7",
        t0 + 3,
        "business",
        script_envelope(b, c, "e2", MessageClass::Chat, t0 + 3, &chat_ct),
        "ok",
    );
    let r = s.sign("business", t0 + 4, Request::DeleteAccount);
    let _ = s.run(
        "a business cannot erase its account",
        "14.15",
        t0 + 4,
        "business",
        r,
        "relay.wrong_account_kind",
    );
    let r = s.sign("customer", t0 + 5, Request::DeleteAccount);
    s.run(
        "customer erases its account",
        "14.15",
        t0 + 5,
        "customer",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign("customer", t0 + 6, Request::PreKeyStatus);
    let _ = s.run(
        "a request of the erased account",
        "14.15",
        t0 + 6,
        "customer",
        r,
        "relay.unknown_account",
    );
    send(
        &mut s,
        "a send to the erased account",
        "14.15",
        t0 + 6,
        "business",
        script_envelope(b, c, "e3", MessageClass::Chat, t0 + 6, &chat_ct),
        "relay.unknown_account",
    );
    let r = s.sign("business", t0 + 7, Request::ExportConsent { customer: c });
    s.run(
        "the consent evidence is kept for the business",
        "14.15",
        t0 + 7,
        "business",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign("business", t0 + 7, Request::FetchMailbox { max: 10 });
    s.run(
        "what the customer sent stays with the business",
        "14.15",
        t0 + 7,
        "business",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign(
        "customer",
        t0 + 8,
        Request::RegisterCustomer {
            identity: s.who("customer").public(),
        },
    );
    let _ = s.run(
        "the erased id registers again",
        "14.15",
        t0 + 8,
        "customer",
        r,
        "relay.account_deleted",
    );
    scripts.push(s.finish(
        "a customer erases its account",
        "DeleteAccount (14.15): refused for a business; for the customer, its mailbox, directory entry, window and blocks go at once, later requests of it and sends to it are refused as unknown, its id never registers again, and its consent evidence and the envelopes it sent stay with the business. Message ids and ciphertext as in the consent script.",
        limits_json(&MailboxLimits::default(), &RateLimits::NONE),
    ));

    // ---- Receipts, delivery states and billing at delivery (14.16).
    let mut s = Script::new(
        MailboxLimits::default(),
        RateLimits::NONE,
        &["customer", "business"],
    );
    let (c, b) = (s.id("customer"), s.id("business"));
    s.register_customer("customer", t0);
    s.register_business("business", t0, chain.clone());
    let r = s.sign(
        "customer",
        t0 + 1,
        Request::Consent(ConsentRecord::sign(
            s.who("customer"),
            b,
            ConsentScope::ALL,
            t0 + 1,
        )),
    );
    s.run("customer consents", "14.6", t0 + 1, "customer", r, "ok")
        .unwrap();
    for (i, label) in ["n1", "n2", "n3"].into_iter().enumerate() {
        let at = t0 + 2 + i as u64;
        send(
            &mut s,
            &format!("business notification {label}: accepted, with its receipt"),
            "14.16",
            at,
            "business",
            script_envelope(b, c, label, MessageClass::Notification, at, &chat_ct),
            "ok",
        );
    }
    send(
        &mut s,
        "a retry of n1: a duplicate, with a fresh receipt",
        "14.16",
        t0 + 5,
        "business",
        script_envelope(b, c, "n1", MessageClass::Notification, t0 + 2, &chat_ct),
        "ok",
    );
    let r = s.sign("customer", t0 + 6, Request::FetchMailbox { max: 10 });
    s.run(
        "customer fetches (not a delivery)",
        "14.16",
        t0 + 6,
        "customer",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign(
        "business",
        t0 + 6,
        Request::FetchStates { after: 0, max: 10 },
    );
    s.run("no state yet", "14.16", t0 + 6, "business", r, "ok")
        .unwrap();
    let r = s.sign("customer", t0 + 7, Request::Acknowledge { ids: vec![1, 2] });
    s.run(
        "customer acknowledges n1 and n2: delivered and billed",
        "14.16",
        t0 + 7,
        "customer",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign(
        "customer",
        t0 + 8,
        Request::Block(BlockRecord::sign(s.who("customer"), b, true, t0 + 8)),
    );
    s.run(
        "customer blocks: n3 is deleted, not billed",
        "14.6",
        t0 + 8,
        "customer",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign(
        "business",
        t0 + 9,
        Request::FetchStates { after: 0, max: 2 },
    );
    s.run(
        "business fetches its first two states",
        "14.16",
        t0 + 9,
        "business",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign(
        "business",
        t0 + 9,
        Request::FetchStates { after: 2, max: 2 },
    );
    s.run("and the rest", "14.16", t0 + 9, "business", r, "ok")
        .unwrap();
    let period = hotline::relay::period_of(t0);
    let r = s.sign("business", t0 + 10, Request::FetchStatement { period });
    s.run(
        "the statement of the open period",
        "14.16",
        t0 + 10,
        "business",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign(
        "business",
        t0 + 10,
        Request::FetchStatement { period: period + 1 },
    );
    let _ = s.run(
        "a statement for a period not begun",
        "14.16",
        t0 + 10,
        "business",
        r,
        "relay.period_unavailable",
    );
    let closed_at = (u64::from(period) + 1) * hotline::constants::BILLING_PERIOD_SECS + 5;
    let r = s.sign("business", closed_at, Request::FetchStatement { period });
    s.run(
        "the statement once the period closed",
        "14.16",
        closed_at,
        "business",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign("customer", closed_at, Request::FetchStatement { period });
    s.run(
        "a customer's statement: nothing billed",
        "14.16",
        closed_at,
        "customer",
        r,
        "ok",
    )
    .unwrap();
    scripts.push(s.finish(
        "notifications are billed at delivery, with signed receipts, states and statements",
        "Receipts, delivery states and statements (14.16), signed with the relay key of settings.relay_key_seed: three notifications and a retry, each answered with an Accepted receipt; a fetch bills nothing; acknowledging n1 and n2 logs them Delivered (sequences 1 and 2) and bills them; the customer's block deletes n3 (DeletedByBlock, sequence 3); the business fetches its states in pages and its statement, open and then closed; a period not begun is refused; a customer's own statement is empty.",
        limits_json(&MailboxLimits::default(), &RateLimits::NONE),
    ));

    // ---- Spam reports, quality and the daily notification limit (14.17).
    let tiers = hotline::relay::NotificationTiers::new(vec![1, 2], 1, 1).unwrap();
    let mut s = Script::new(
        MailboxLimits::default(),
        RateLimits::NONE,
        &["customer", "business", "customer 2", "customer 3"],
    )
    .tiers(tiers);
    let (c, b) = (s.id("customer"), s.id("business"));
    let (c2, c3) = (s.id("customer 2"), s.id("customer 3"));
    s.register_customer("customer", t0);
    s.register_business("business", t0, chain.clone());
    s.register_customer("customer 2", t0);
    s.register_customer("customer 3", t0);
    for who in ["customer", "customer 2", "customer 3"] {
        let record = ConsentRecord::sign(s.who(who), b, ConsentScope::ALL, t0 + 1);
        let r = s.sign(who, t0 + 1, Request::Consent(record));
        s.run(&format!("{who} consents"), "14.6", t0 + 1, who, r, "ok")
            .unwrap();
    }
    // A notification whose header commits to `content` with the franking
    // key SHA-256("Hotline vector relay script franking key <label>").
    let franked = |to, label: &str, content: &[u8], at| {
        let key = hotline::relay::FrankingKey::from_bytes(val32(&format!(
            "relay script franking key {label}"
        )));
        let mut e = script_envelope(b, to, label, MessageClass::Notification, at, &chat_ct);
        e.header.franking = key.commit(content);
        (e, key)
    };
    let spam: &[u8] = b"Win a free flight! Send your card number to claim.";
    let (n1, n1_key) = franked(c, "r1", spam, t0 + 2);
    send(
        &mut s,
        "notification r1 to the customer: 1 of 2 reached",
        "14.17",
        t0 + 2,
        "business",
        n1.clone(),
        "ok",
    );
    let (n2, _) = franked(c2, "r2", spam, t0 + 3);
    send(
        &mut s,
        "notification r2 to customer 2: 2 of 2 reached",
        "14.17",
        t0 + 3,
        "business",
        n2,
        "ok",
    );
    let (n3, _) = franked(c3, "r3", spam, t0 + 4);
    send(
        &mut s,
        "notification r3 to customer 3: the daily limit of tier 1",
        "14.17",
        t0 + 4,
        "business",
        n3.clone(),
        "relay.daily_limit_reached",
    );
    let (n4, _) = franked(c, "r4", b"Your flight KL1234 boards at gate D5.", t0 + 5);
    send(
        &mut s,
        "notification r4 to the customer, already reached today",
        "14.17",
        t0 + 5,
        "business",
        n4,
        "ok",
    );
    let r = s.sign("customer", t0 + 6, Request::FetchMailbox { max: 10 });
    s.run(
        "the customer fetches: each delivery stamped",
        "14.17",
        t0 + 6,
        "customer",
        r,
        "ok",
    )
    .unwrap();
    let message = hotline::relay::Reportable {
        header: n1.header,
        received_at: t0 + 2,
        stamp: relay_key().stamp(&n1.header, t0 + 2),
        key: n1_key,
    };
    let report = |who: &str, m: &hotline::relay::Reportable, content: &[u8], at| {
        Request::Report(Box::new(hotline::relay::SpamReport::sign(
            &script_actor(who),
            m,
            content,
            hotline::relay::ReportReason::Spam,
            at,
        )))
    };
    let mut forged = message.clone();
    forged.stamp.0[0] ^= 1;
    let r = s.sign(
        "customer",
        t0 + 7,
        report("customer", &forged, spam, t0 + 7),
    );
    let _ = s.run(
        "a report with a stamp the relay did not make",
        "14.17",
        t0 + 7,
        "customer",
        r,
        "relay.bad_stamp",
    );
    let r = s.sign(
        "customer 2",
        t0 + 7,
        report("customer", &message, spam, t0 + 7),
    );
    let _ = s.run(
        "customer 2 submits the customer's report",
        "14.17",
        t0 + 7,
        "customer 2",
        r,
        "relay.record_not_yours",
    );
    let r = s.sign(
        "customer",
        t0 + 7,
        report("customer", &message, b"Win a free flight!", t0 + 7),
    );
    let _ = s.run(
        "a report whose content does not open the commitment",
        "14.17",
        t0 + 7,
        "customer",
        r,
        "relay.request",
    );
    let r = s.sign(
        "customer",
        t0 + 7,
        report("customer", &message, spam, t0 - 400),
    );
    let _ = s.run(
        "a report dated beyond the clock window",
        "14.17",
        t0 + 7,
        "customer",
        r,
        "relay.stale_record",
    );
    let r = s.sign(
        "customer",
        t0 + 8,
        report("customer", &message, spam, t0 + 8),
    );
    s.run(
        "the customer reports r1",
        "14.17",
        t0 + 8,
        "customer",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign(
        "customer",
        t0 + 9,
        report("customer", &message, spam, t0 + 9),
    );
    s.run(
        "the same report again: a duplicate",
        "14.17",
        t0 + 9,
        "customer",
        r,
        "ok",
    )
    .unwrap();
    let (n5, _) = franked(c3, "r5", b"Your seat is 12A.", t0 + 10);
    send(
        &mut s,
        "one reporter: tier 0, limit 1, two customers reached today, customer 3 refused",
        "14.17",
        t0 + 10,
        "business",
        n5,
        "relay.daily_limit_reached",
    );
    let (n5b, _) = franked(c2, "r5b", b"Your seat is 12B.", t0 + 11);
    send(
        &mut s,
        "customer 2, reached today, can still be sent to",
        "14.17",
        t0 + 11,
        "business",
        n5b,
        "ok",
    );
    let day = t0 + 11 + hotline::constants::REACH_WINDOW_SECS;
    let (n6, _) = franked(c3, "r6", b"Your seat is 14C.", day);
    send(
        &mut s,
        "a rolling day after the last reach: customer 3 is the first reached",
        "14.17",
        day,
        "business",
        n6,
        "ok",
    );
    let (n7, _) = franked(c, "r7", b"Your seat is 3F.", day + 1);
    send(
        &mut s,
        "and the customer is one too many for tier 0",
        "14.17",
        day + 1,
        "business",
        n7,
        "relay.daily_limit_reached",
    );
    let late = t0 + 2 + hotline::constants::REPORT_WINDOW_SECS + 1;
    let r = s.sign("customer", late, report("customer", &message, spam, late));
    let _ = s.run(
        "a report one second after the report window",
        "14.17",
        late,
        "customer",
        r,
        "relay.report_too_old",
    );
    let r = s.sign("business", late, report("customer", &message, spam, late));
    let _ = s.run(
        "a business submits the customer's report",
        "14.17",
        late,
        "business",
        r,
        "relay.wrong_account_kind",
    );
    let mut settings = limits_json(&MailboxLimits::default(), &RateLimits::NONE);
    settings["notification_tiers"] = json!({"limits": [1, 2], "start": 1, "reports_per_step": 1});
    scripts.push(s.finish(
        "spam reports lower the daily notification limit",
        "Franking and reports (14.17), with notification tiers [1, 2], start tier 1, one tier lower per reporter: the business reaches the customer and customer 2 (its limit of 2), is refused customer 3, and may send the customer again; the customer's fetch carries each delivery's stamp; a report with a forged stamp, another customer's report, content that does not open the commitment and a report dated too far back are refused; the customer's report of r1 is recorded, then answered as a duplicate; at tier 0 (limit 1) the business is refused customer 3 but may send customer 2, reached that day; a rolling day after its last reach it reaches customer 3 and is refused the customer; a report after the window and a report submitted by the business are refused. Franking keys are SHA-256(\"Hotline vector relay script franking key <label>\").",
        settings,
    ));

    // ---- Mailbox limits and the initial-message limit (14.5, 14.11).
    let limits = MailboxLimits {
        max_envelopes: 3,
        max_envelopes_per_sender: 2,
        ..MailboxLimits::default()
    };
    let rates = RateLimits {
        initial_messages_per_customer: Some(TokenBucket {
            capacity: 1,
            refill_secs: 60,
        }),
        ..RateLimits::NONE
    };
    let mut s = Script::new(limits, rates, &["customer", "business", "customer 2"]);
    let (c, b, c2) = (s.id("customer"), s.id("business"), s.id("customer 2"));
    for who in ["customer", "customer 2"] {
        s.register_customer(who, t0);
    }
    s.register_business("business", t0, chain.clone());
    let mut initial = vec![PROTOCOL_VERSION, MSG_TYPE_INITIAL];
    initial.extend_from_slice(&chat_ct);
    send(
        &mut s,
        "customer chat 1",
        "14.5",
        t0,
        "customer",
        script_envelope(c, b, "m1", MessageClass::Chat, t0, &chat_ct),
        "ok",
    );
    send(
        &mut s,
        "customer chat 2",
        "14.5",
        t0,
        "customer",
        script_envelope(c, b, "m2", MessageClass::Chat, t0, &chat_ct),
        "ok",
    );
    send(
        &mut s,
        "customer chat 3, over its share of 2",
        "14.5",
        t0,
        "customer",
        script_envelope(c, b, "m3", MessageClass::Chat, t0, &chat_ct),
        "relay.sender_quota_exceeded",
    );
    send(
        &mut s,
        "customer 2 initial message",
        "14.5, 14.11",
        t0,
        "customer 2",
        script_envelope(c2, b, "n1", MessageClass::Chat, t0, &initial),
        "ok",
    );
    send(
        &mut s,
        "customer 2 chat, the mailbox holding 3",
        "14.5",
        t0,
        "customer 2",
        script_envelope(c2, b, "n2", MessageClass::Chat, t0, &chat_ct),
        "relay.mailbox_full",
    );
    let r = s.sign("business", t0 + 1, Request::FetchMailbox { max: 2 });
    s.run("business fetches 2", "14.5", t0 + 1, "business", r, "ok")
        .unwrap();
    let r = s.sign(
        "business",
        t0 + 2,
        Request::Acknowledge {
            ids: vec![1, 2, 99],
        },
    );
    s.run(
        "business acknowledges 1, 2 and the unknown 99",
        "14.5",
        t0 + 2,
        "business",
        r,
        "ok",
    )
    .unwrap();
    send(
        &mut s,
        "customer 2 second initial message within 60 s",
        "14.11",
        t0 + 3,
        "customer 2",
        script_envelope(c2, b, "n3", MessageClass::Chat, t0 + 3, &initial),
        "relay.rate_limited",
    );
    send(
        &mut s,
        "customer 2 initial message 60 s after the first",
        "14.11",
        t0 + 60,
        "customer 2",
        script_envelope(c2, b, "n3", MessageClass::Chat, t0 + 60, &initial),
        "ok",
    );
    scripts.push(s.finish(
        "mailbox limits and the initial-message limit",
        "A mailbox of 3 envelopes with a share of 2 per sender, and one initial message per 60 s per customer. An initial message's ciphertext is 0x01 0x01 followed by the chat ciphertext.",
        limits_json(&limits, &rates),
    ));

    // ---- Prekey directory (14.8, 14.11).
    let limits = MailboxLimits::default();
    let rates = RateLimits {
        bundle_fetches_per_customer: Some(TokenBucket {
            capacity: 1,
            refill_secs: 180,
        }),
        ..RateLimits::NONE
    };
    let mut s = Script::new(limits, rates, &["customer", "business", "customer 2"]);
    let (c, b) = (s.id("customer"), s.id("business"));
    for who in ["customer", "customer 2"] {
        s.register_customer(who, t0);
    }
    s.register_business("business", t0, chain.clone());
    let owner = s.who("business").clone();
    let x = |id: u32| X25519Secret::from_bytes(val32(&format!("relay script prekey {id}")));
    let kem = |id: u32, kind: KemPreKeyKind| {
        KemPreKey::new(
            &owner,
            id,
            kind,
            KemSecret::from_seed(val64(&format!("relay script kem prekey {id}"))),
        )
        .public
    };
    let r = s.sign("business", t0, Request::FetchBundle { owner: c });
    let _ = s.run(
        "business fetches the bundle of a customer with no prekeys",
        "14.8",
        t0,
        "business",
        r,
        "relay.no_bundle",
    );
    let upload = PreKeyUpload {
        signed_prekey: Some(SignedPreKey::new(&owner, 1, x(1)).public),
        last_resort_kem_prekey: Some(kem(2, KemPreKeyKind::LastResort)),
        one_time_prekeys: vec![
            OneTimePreKey::new(&owner, 3, x(3)).public,
            OneTimePreKey::new(&owner, 4, x(4)).public,
        ],
        kem_prekeys: vec![kem(5, KemPreKeyKind::OneTime)],
    };
    let r = s.sign("business", t0, Request::UploadPreKeys(upload));
    s.run("business uploads signed prekey 1, last-resort KEM prekey 2, one-time prekeys 3 and 4, one-time KEM prekey 5", "14.8", t0, "business", r, "ok").unwrap();
    let r = s.sign("customer", t0 + 1, Request::FetchBundle { owner: b });
    s.run(
        "customer fetches the bundle (one-time prekey 3, KEM prekey 5)",
        "14.8",
        t0 + 1,
        "customer",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign("customer 2", t0 + 2, Request::FetchBundle { owner: b });
    s.run(
        "customer 2 fetches the bundle (one-time prekey 4, last-resort KEM prekey 2)",
        "14.8",
        t0 + 2,
        "customer 2",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign("customer", t0 + 3, Request::FetchBundle { owner: b });
    let _ = s.run(
        "customer fetches again within 180 s",
        "14.11",
        t0 + 3,
        "customer",
        r,
        "relay.rate_limited",
    );
    let r = s.sign("business", t0 + 4, Request::PreKeyStatus);
    s.run(
        "business asks its prekey status",
        "14.8",
        t0 + 4,
        "business",
        r,
        "ok",
    )
    .unwrap();
    let one = |otk: Vec<hotline::OneTimePreKeyPublic>, kems: Vec<hotline::KemPreKeyPublic>| {
        Request::UploadPreKeys(PreKeyUpload {
            signed_prekey: None,
            last_resort_kem_prekey: None,
            one_time_prekeys: otk,
            kem_prekeys: kems,
        })
    };
    let r = s.sign(
        "business",
        t0 + 5,
        one(vec![OneTimePreKey::new(&owner, 3, x(3)).public], vec![]),
    );
    let _ = s.run(
        "business uploads one-time prekey 3 again, already handed out",
        "14.8",
        t0 + 5,
        "business",
        r,
        "relay.spent_prekey_id",
    );
    let foreign = s.who("customer").clone();
    let r = s.sign(
        "business",
        t0 + 6,
        one(vec![OneTimePreKey::new(&foreign, 6, x(6)).public], vec![]),
    );
    let _ = s.run(
        "business uploads one-time prekey 6 signed by another identity",
        "14.8",
        t0 + 6,
        "business",
        r,
        "relay.bad_prekey_signature",
    );
    let mut r = s.sign(
        "business",
        t0 + 7,
        one(vec![OneTimePreKey::new(&owner, 7, x(7)).public], vec![]),
    );
    // The one-time prekey's key (body offset 9..41) made low order and signed again.
    r[51 + 9..51 + 41].fill(0);
    let sig = owner
        .signing()
        .sign(SIG_CTX_ONE_TIME_PREKEY, &r[51 + 4..51 + 41]);
    r[51 + 41..51 + 105].copy_from_slice(&sig);
    let r = s.resign("business", r);
    let _ = s.run(
        "business uploads a low-order one-time prekey 7",
        "14.8",
        t0 + 7,
        "business",
        r,
        "relay.low_order_prekey",
    );
    let r = s.sign(
        "business",
        t0 + 8,
        one(vec![], vec![kem(8, KemPreKeyKind::LastResort)]),
    );
    let _ = s.run(
        "business uploads a last-resort KEM prekey 8 as one-time",
        "14.8",
        t0 + 8,
        "business",
        r,
        "relay.wrong_kem_kind",
    );
    let r = s.sign("customer", t0 + 181, Request::FetchBundle { owner: b });
    s.run(
        "customer fetches 181 s after its last fetch (no one-time prekey left)",
        "14.8, 14.11",
        t0 + 181,
        "customer",
        r,
        "ok",
    )
    .unwrap();
    scripts.push(s.finish(
        "prekey directory",
        "One bundle fetch per 180 s per customer. Prekey secrets: X25519 prekey id n has secret SHA-256(\"Hotline vector relay script prekey n\"), ML-KEM prekey id n the seed d || z with d = SHA-256(\"Hotline vector relay script kem prekey n d\") and z likewise with \" z\"; every prekey is signed by the business except one-time prekey 6 (signed by the customer).",
        limits_json(&limits, &rates),
    ));

    // ---- Published statuses and revocation lists (14.13), with a relay
    // whose trust store takes published lists.
    let limits = MailboxLimits::default();
    let rates = RateLimits::NONE;
    let mut s = Script::with_validator(limits, rates, &["customer", "business"], true);
    s.register_customer("customer", t0);
    s.register_business("business", t0, chain.clone());
    let bfx = business_fixture(s.who("business"));
    let issuer_cert = bfx.chain.issuer().clone();
    let other = bfx
        .issuer
        .certify_status(9999, t0 - 60, t0 + 86_400)
        .unwrap();
    let r = s.sign("business", t0, Request::PublishStatus(other));
    let _ = s.run(
        "business publishes the status of serial 9999, not its certificate's",
        "14.13",
        t0,
        "business",
        r,
        "relay.bad_status",
    );
    let own = bfx
        .issuer
        .certify_status(1001, t0 - 60, t0 + 86_400)
        .unwrap();
    let r = s.sign("business", t0, Request::PublishStatus(own));
    s.run(
        "business publishes the status of its certificate",
        "14.13",
        t0,
        "business",
        r,
        "ok",
    )
    .unwrap();
    let list = bfx.issuer.revoke(1, t0 - 60, t0 - 60 + WEEK, &[5]).unwrap();
    let r = s.sign(
        "business",
        t0,
        Request::PublishRevocationList {
            list: list.clone(),
            issuer: Some(issuer_cert.clone()),
        },
    );
    s.run(
        "business publishes issuer 7's list 1 with the issuer's certificate",
        "14.13",
        t0,
        "business",
        r,
        "ok",
    )
    .unwrap();
    let r = s.sign(
        "business",
        t0,
        Request::PublishRevocationList {
            list,
            issuer: Some(issuer_cert.clone()),
        },
    );
    let _ = s.run(
        "the same list again",
        "14.13",
        t0,
        "business",
        r,
        "relay.bad_revocation_list",
    );
    let mut settings = limits_json(&limits, &rates);
    settings["trust_store"] = json!("shared");
    scripts.push(s.finish(
        "published statuses and revocation lists",
        "Statuses and lists published through the relay (14.13): issuer 7 of business.json signs the statuses (this update 60 s before the start, next update a day after it) and the list (sequence 1, issued 60 s before the start, next update a week later, serial 5).",
        settings,
    ));
    // The same list at a relay whose trust store is fixed.
    let mut s = Script::new(limits, rates, &["business"]);
    s.register_business("business", t0, chain.clone());
    let list = bfx.issuer.revoke(1, t0 - 60, t0 - 60 + WEEK, &[5]).unwrap();
    let r = s.sign(
        "business",
        t0,
        Request::PublishRevocationList {
            list,
            issuer: Some(issuer_cert),
        },
    );
    let _ = s.run(
        "business publishes issuer 7's list 1 to a relay whose trust store is fixed",
        "14.13",
        t0,
        "business",
        r,
        "relay.trust_state_fixed",
    );
    scripts.push(s.finish(
        "a fixed trust store",
        "A relay whose trust store takes no published list.",
        limits_json(&limits, &rates),
    ));

    // ---- A full directory (14.8): MAX_DIRECTORY_PREKEYS one-time prekeys
    // stored, one more refused.
    let limits = MailboxLimits::default();
    let rates = RateLimits::NONE;
    let mut s = Script::new(limits, rates, &["business"]);
    s.register_business("business", t0, chain.clone());
    let owner = s.who("business").clone();
    let batch = |from: u32, n: u32| {
        Request::UploadPreKeys(PreKeyUpload {
            signed_prekey: None,
            last_resort_kem_prekey: None,
            one_time_prekeys: (from..from + n)
                .map(|id| OneTimePreKey::new(&owner, id, x(id)).public)
                .collect(),
            kem_prekeys: vec![],
        })
    };
    let per = u32::try_from(MAX_UPLOAD_PREKEYS).unwrap();
    let batches = u32::try_from(MAX_DIRECTORY_PREKEYS).unwrap() / per;
    for k in 0..batches {
        let from = 100 + k * per;
        let r = s.sign("business", t0, batch(from, per));
        s.run(
            &format!(
                "business uploads one-time prekeys {from} to {}",
                from + per - 1
            ),
            "14.8",
            t0,
            "business",
            r,
            "ok",
        )
        .unwrap();
    }
    let next = 100 + batches * per;
    let r = s.sign("business", t0, batch(next, 1));
    let _ = s.run(
        &format!("business uploads one-time prekey {next}, one more than the directory holds"),
        "14.8",
        t0,
        "business",
        r,
        "relay.too_many_prekeys",
    );
    scripts.push(s.finish(
        "a full prekey directory",
        "One-time prekeys as in 'prekey directory' (X25519 prekey id n with secret SHA-256(\"Hotline vector relay script prekey n\"), signed by the business), ids from 100.",
        limits_json(&limits, &rates),
    ));

    // Responses a client refuses (Response::decode_result, SPEC 14.12):
    // responses of the scripts above with one byte changed.
    let response_of = |step: &str| -> Vec<u8> {
        scripts
            .iter()
            .flat_map(|sc| sc["steps"].as_array().unwrap())
            .find(|st| st["name"] == step)
            .map(|st| hex::decode(st["response"].as_str().unwrap()).unwrap())
            .unwrap()
    };
    let mut response_errors = Vec::new();
    let bundle_step = "customer fetches the bundle (one-time prekey 3, KEM prekey 5)";
    let export_step = "business exports the customer's consent records";
    let mut bad_bundle = response_of(bundle_step);
    // The bundle starts at offset 8 (version, type, status, op, u32 length);
    // its identity signature at bundle offset 68.
    bad_bundle[8 + 100] ^= 1;
    let mut bad_record = response_of(export_step);
    // The first record starts at offset 6 (version, type, status, op, u16
    // count); its signature at record offset 75.
    bad_record[6 + 100] ^= 1;
    for (name, base, bytes) in [
        (
            "truncated after the status",
            bundle_step,
            response_of(bundle_step)[..3].to_vec(),
        ),
        (
            "bundle with a bad identity signature (byte 108 flipped)",
            bundle_step,
            bad_bundle,
        ),
        (
            "consent record with a bad signature (byte 106 flipped)",
            export_step,
            bad_record,
        ),
    ] {
        let err = hotline::relay::Response::decode_result(&bytes).unwrap_err();
        response_errors.push(json!({"name": name, "section": "14.12", "response_of_step": base, "input": h(&bytes), "error": code(&err)}));
    }

    json!({
        "description": "Relay scripts (SPEC.md 14): each starts a fresh relay (empty MemoryStore, trust store holding root 1 of business.json, fixed or shared and updatable (Arc<RwLock<TrustStore>>, which takes published revocation lists) as `settings.trust_store` says, clock at `start`, mailbox and rate limits as in `settings`), with the actors' identities from the given secrets (IdentityKeyPair::from_secret_bytes). Each step sets the relay's clock to `at`, hands it the signed request bytes, and expects the encoded response bytes and the result's code (SPEC 10.7). Requests are signed by `signer` with its next counter (from 1) and timestamp `at` unless the step's name says otherwise; a request edited after signing (named so) is signed again by its signer.",
        "scripts": scripts,
        "response_errors": response_errors,
    })
}

/// Sender binding (SPEC.md 15.14): initial messages of handshake case 'with
/// one-time prekey', each sealed with an envelope header as associated
/// data, opened by the responder's client.
fn sender_binding_vectors() -> Value {
    use hotline::relay::{AccountId, Envelope, EnvelopeHeader, MessageClass, MessageId};
    use hotline::store::{Client, MemoryStore, StorageKey};
    let case = HandshakeCase {
        name: "with one-time prekey",
        with_one_time: true,
    };
    let fx = handshake_fixture(&case);
    let initiator = AccountId::of(&fx.customer.public());
    let responder = AccountId::of(fx.bundle.identity());
    let victim = AccountId(val32("sender binding victim account"));
    let mut cases = Vec::new();
    for (name, sender) in [
        ("made by the sender's own identity", initiator),
        ("made by another identity than the sender's", victim),
    ] {
        let mut rng = ScriptedRng::new(fx.randomness.iter().flatten().copied().collect());
        let mut session = Session::initiate(&fx.customer, &fx.bundle, &mut rng).unwrap();
        let header = EnvelopeHeader {
            sender,
            recipient: responder,
            message_id: MessageId([0x5B; 16]),
            class: MessageClass::Chat,
            sent_at: 1_780_304_400,
            franking: Default::default(),
        };
        // The header is the associated data, so the message authenticates:
        // only the binding tells the two cases apart.
        let ciphertext = session
            .encrypt_with_rng(
                b"refund to my account",
                &header.associated_data(),
                &mut ScriptedRng::new(VecDeque::new()),
            )
            .unwrap();
        let envelope = Envelope { header, ciphertext };
        let mut client = Client::create_with(
            MemoryStore::in_memory(StorageKey::from_bytes(val32("storage key"))),
            fx.store.identity().clone(),
            fx.store.clone(),
        )
        .unwrap();
        let verdict = match client.open_envelope(&envelope) {
            Ok(r) => json!({"accepted": {"plaintext": h(&r.plaintext)}}),
            Err(e @ hotline::store::ReceiveError::SenderMismatch { claimed, actual }) => json!({
                "error": code(&e),
                "claimed": h(&claimed.0),
                "actual": h(&actual.0),
            }),
            Err(e) => json!({"error": code(&e)}),
        };
        cases.push(json!({
            "name": name,
            "envelope": h(&envelope.to_bytes()),
            "verdict": verdict,
        }));
    }
    json!({
        "description": "Sender binding (SPEC.md 15.14). The initiator and responder of handshake case 'with one-time prekey' (handshake.json, same random draws); each envelope carries that case's initial message, encrypted with the envelope header as associated data, and is opened by the responder (its prekey store as in handshake.json) under the account address of the header's sender. 'victim' is the value of 'sender binding victim account'.",
        "victim_account": h(&victim.0),
        "cases": sect(cases, "15.14"),
    })
}

/// The reference client's refusals (SPEC.md 15.14), each on a fresh client
/// of the responder of handshake case 'with one-time prekey'.
fn client_refusal_vectors() -> Value {
    use hotline::relay::{AccountId, Envelope, EnvelopeHeader, MessageClass, MessageId};
    use hotline::store::{Client, MemoryStore, PeerId, StorageKey};
    let case = HandshakeCase {
        name: "with one-time prekey",
        with_one_time: true,
    };
    let fx = handshake_fixture(&case);
    let initiator = AccountId::of(&fx.customer.public());
    let responder = AccountId::of(fx.bundle.identity());
    let victim = AccountId(val32("sender binding victim account"));
    let memory = || MemoryStore::in_memory(StorageKey::from_bytes(val32("storage key")));
    let fresh =
        || Client::create_with(memory(), fx.store.identity().clone(), fx.store.clone()).unwrap();
    // Every message is franked (SPEC.md 14.17) with the key
    // SHA-256("Hotline vector franking key"), committing to `committed`.
    let franking = hotline::relay::FrankingKey::from_bytes(val32("franking key"));
    let header = |recipient: AccountId, committed: &[u8]| EnvelopeHeader {
        sender: initiator,
        recipient,
        message_id: MessageId([0x5B; 16]),
        class: MessageClass::Chat,
        sent_at: 1_780_304_400,
        franking: franking.commit(committed),
    };
    let framed = |content: &[u8]| [&franking.to_bytes()[..], content].concat();
    // The initiator's first and second messages to the responder, with the
    // envelope header (recipient `to`) as associated data; the first
    // message's header commits to `committed` (its content, "first",
    // unless a case says otherwise).
    let messages_committing = |to: AccountId, committed: &[u8]| {
        let mut rng = ScriptedRng::new(fx.randomness.iter().flatten().copied().collect());
        let mut session = Session::initiate(&fx.customer, &fx.bundle, &mut rng).unwrap();
        let first_header = header(to, committed);
        let second_header = header(to, b"second");
        let first = session
            .encrypt_with_rng(
                &framed(b"first"),
                &first_header.associated_data(),
                &mut ScriptedRng::new(VecDeque::new()),
            )
            .unwrap();
        let second = session
            .encrypt_with_rng(
                &framed(b"second"),
                &second_header.associated_data(),
                &mut ScriptedRng::new(VecDeque::new()),
            )
            .unwrap();
        (
            Envelope {
                header: first_header,
                ciphertext: first,
            },
            Envelope {
                header: second_header,
                ciphertext: second,
            },
        )
    };
    let messages = |to: AccountId| messages_committing(to, b"first");
    let (first, second) = messages(responder);
    let mut cases = Vec::new();
    let mut push = |name: &str, steps: Value, result: Value, expect: &str| {
        let got = result["error"]["code"].as_str().unwrap_or("ok");
        assert_eq!(got, expect, "client case {name}");
        cases.push(json!({"name": name, "section": "15.14", "steps": steps, "result": result}));
    };
    let err = |e: &dyn Coded| json!({"error": code(e)});
    let peer_of = |a: &AccountId| PeerId::account(a);

    // MAX_BLOCKED accounts blocked (account ids SHA-256("Hotline vector
    // blocked account " || i) for i = 1 to 10,000, in order); one more is
    // refused, blocking one of them again is not.
    let blocked = |i: usize| AccountId(val32(&format!("blocked account {i}")));
    let mut c = fresh();
    for i in 1..=MAX_BLOCKED {
        c.block(&blocked(i)).unwrap();
    }
    let r = c.block(&blocked(MAX_BLOCKED + 1)).map_err(|e| err(&e));
    push(
        "a new block when MAX_BLOCKED accounts are blocked",
        json!([{"block_accounts": MAX_BLOCKED, "account_ids": "SHA-256(\"Hotline vector blocked account \" || i) for i = 1 to MAX_BLOCKED, i in decimal"}, {"block": h(&blocked(MAX_BLOCKED + 1).0)}]),
        r.err().unwrap_or(json!("ok")),
        "store.full",
    );
    let r = c.block(&blocked(1)).map_err(|e| err(&e));
    push(
        "blocking an account already blocked when MAX_BLOCKED are",
        json!([{"block_accounts": MAX_BLOCKED}, {"block": h(&blocked(1).0)}]),
        r.err().unwrap_or(json!("ok")),
        "ok",
    );

    let (other_first, _) = messages(victim);
    let r = fresh()
        .open_envelope(&other_first)
        .map(|_| ())
        .map_err(|e| err(&e));
    push(
        "envelope addressed to another account",
        json!([{"open_envelope": h(&other_first.to_bytes())}]),
        r.err().unwrap_or(json!("ok")),
        "receive.not_for_me",
    );
    let mut c = fresh();
    c.block(&initiator).unwrap();
    let r = c.open_envelope(&first).map(|_| ()).map_err(|e| err(&e));
    push(
        "envelope from a blocked account",
        json!([{"block": h(&initiator.0)}, {"open_envelope": h(&first.to_bytes())}]),
        r.err().unwrap_or(json!("ok")),
        "receive.blocked",
    );
    let mut tampered = first.clone();
    let last = tampered.ciphertext.len() - 1;
    tampered.ciphertext[last] ^= 1;
    let r = fresh()
        .open_envelope(&tampered)
        .map(|_| ())
        .map_err(|e| err(&e));
    push(
        "initial message with its last byte flipped",
        json!([{"open_envelope": h(&tampered.to_bytes())}]),
        r.err().unwrap_or(json!("ok")),
        "receive.handshake",
    );
    let (unopened, _) = messages_committing(responder, b"firsT");
    let r = fresh()
        .open_envelope(&unopened)
        .map(|_| ())
        .map_err(|e| err(&e));
    push(
        "initial message whose content does not open its header's franking commitment",
        json!([{"open_envelope": h(&unopened.to_bytes())}]),
        r.err().unwrap_or(json!("ok")),
        "receive.bad_franking",
    );
    let mut bare = second.clone();
    bare.ciphertext = second.ciphertext[1267..].to_vec();
    let r = fresh()
        .open_envelope(&bare)
        .map(|_| ())
        .map_err(|e| err(&e));
    push(
        "ratchet message (the second message without its prefix) with no session",
        json!([{"open_envelope": h(&bare.to_bytes())}]),
        r.err().unwrap_or(json!("ok")),
        "receive.no_session",
    );
    let mut c = fresh();
    c.open_envelope(&first).unwrap();
    let mut bad = second.clone();
    let last = bad.ciphertext.len() - 1;
    bad.ciphertext[last] ^= 1;
    let r = c.open_envelope(&bad).map(|_| ()).map_err(|e| err(&e));
    push(
        "second message with its last byte flipped",
        json!([{"open_envelope": h(&first.to_bytes())}, {"open_envelope": h(&bad.to_bytes())}]),
        r.err().unwrap_or(json!("ok")),
        "receive.decrypt",
    );
    let stranger = script_actor("customer 2").public();
    let mut c = fresh();
    c.trust_identity(&peer_of(&initiator), &stranger).unwrap();
    let r = c.open_envelope(&first).map(|_| ()).map_err(|e| err(&e));
    push(
        "initial message from an account whose trusted identity is another",
        json!([{"trust_identity": {"peer": h(&initiator.0), "identity": h(&stranger.to_bytes())}}, {"open_envelope": h(&first.to_bytes())}]),
        r.err().unwrap_or(json!("ok")),
        "receive.identity_changed",
    );
    let no_rng = || ScriptedRng::new(VecDeque::new());
    let alice = PeerId::new("customer:alice").unwrap();
    let r = fresh()
        .seal(
            &alice,
            MessageClass::Chat,
            1_780_304_400,
            b"hi",
            &mut no_rng(),
        )
        .map(|_| ())
        .map_err(|e| err(&e));
    push(
        "seal to a peer address that is not an account",
        json!([{"seal": {"peer": "customer:alice"}}]),
        r.err().unwrap_or(json!("ok")),
        "send.not_an_account",
    );
    let r = fresh()
        .seal(
            &peer_of(&initiator),
            MessageClass::Chat,
            1_780_304_400,
            b"hi",
            &mut ScriptedRng::new(val32("client message id").to_vec().into()),
        )
        .map(|_| ())
        .map_err(|e| err(&e));
    push(
        "seal to an account with no session",
        json!([{"seal": {"peer": h(&initiator.0), "message_id_draw": h(&val32("client message id")[..16])}}]),
        r.err().unwrap_or(json!("ok")),
        "send.no_session",
    );
    let mut c = fresh();
    c.block(&initiator).unwrap();
    let r = c
        .seal(
            &peer_of(&initiator),
            MessageClass::Chat,
            1_780_304_400,
            b"hi",
            &mut no_rng(),
        )
        .map(|_| ())
        .map_err(|e| err(&e));
    push(
        "seal to a blocked account",
        json!([{"block": h(&initiator.0)}, {"seal": {"peer": h(&initiator.0)}}]),
        r.err().unwrap_or(json!("ok")),
        "send.blocked",
    );
    let r = Client::open(memory()).map(|_| ()).map_err(|e| err(&e));
    push(
        "open an empty store",
        json!([{"open": "empty store"}]),
        r.err().unwrap_or(json!("ok")),
        "store.not_initialized",
    );
    let store = fresh().into_store();
    let r = Client::create_with(store, fx.store.identity().clone(), fx.store.clone())
        .map(|_| ())
        .map_err(|e| err(&e));
    push(
        "create on a store that holds an identity",
        json!([{"create": "twice"}]),
        r.err().unwrap_or(json!("ok")),
        "store.already_initialized",
    );
    let r = fresh()
        .start_session(&peer_of(&victim), &fx.bundle, &mut no_rng())
        .map_err(|e| err(&e));
    push(
        "start a session with the victim account from the responder's own bundle",
        json!([{"start_session": {"peer": h(&victim.0), "bundle": h(&fx.bundle.to_bytes())}}]),
        r.err().unwrap_or(json!("ok")),
        "start.account_mismatch",
    );
    let r = fresh()
        .start_session(
            &peer_of(&responder),
            &fx.bundle,
            &mut ScriptedRng::new(fx.randomness.iter().flatten().copied().collect()),
        )
        .map_err(|e| err(&e));
    push(
        "start a session with itself",
        json!([{"start_session": {"peer": h(&responder.0), "bundle": h(&fx.bundle.to_bytes()), "random_draws": "those of handshake.json"}}]),
        r.err().unwrap_or(json!("ok")),
        "start.handshake",
    );
    let biz = business_fixture(&script_actor("business"));
    let mut t = TrustStore::new();
    t.add_root(biz.root.trust_root()).unwrap();
    let other_business = t.validate_chain(&biz.chain, VECTOR_NOW).unwrap();
    let r = fresh()
        .start_verified_session(
            &peer_of(&responder),
            &fx.bundle,
            &other_business,
            &mut no_rng(),
        )
        .map_err(|e| err(&e));
    push(
        "start a verified session with a business verified for another key",
        json!([{"start_verified_session": {"peer": h(&responder.0), "bundle": h(&fx.bundle.to_bytes()), "chain": h(&biz.chain.to_bytes()), "now": VECTOR_NOW}}]),
        r.err().unwrap_or(json!("ok")),
        "start.not_this_business",
    );
    // Rollback (SPEC 15.11): a guard whose required generation the test
    // raises once the client is open; the fresh store is at generation 0.
    struct Shared(std::sync::Arc<std::sync::atomic::AtomicU64>);
    impl hotline::store::RollbackGuard for Shared {
        fn current(&self) -> Result<u64, hotline::store::StoreError> {
            Ok(self.0.load(std::sync::atomic::Ordering::SeqCst))
        }
        fn advance(&mut self, generation: u64) -> Result<(), hotline::store::StoreError> {
            self.0
                .fetch_max(generation, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        }
    }
    let guarded = |c: Client<MemoryStore>, required: u64| {
        let level = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let c = c
            .with_rollback_guard(Box::new(Shared(level.clone())))
            .unwrap();
        level.store(required, std::sync::atomic::Ordering::SeqCst);
        c
    };
    let r = fresh()
        .with_rollback_guard(Box::new(Shared(std::sync::Arc::new(5.into()))))
        .map(|_| ())
        .map_err(|e| err(&e));
    push(
        "a rollback guard requiring generation 5 of a fresh store",
        json!([{"with_rollback_guard": {"generation": 5}}]),
        r.err().unwrap_or(json!("ok")),
        "store.rolled_back",
    );
    let r = guarded(fresh(), 5)
        .open_envelope(&first)
        .map(|_| ())
        .map_err(|e| err(&e));
    push(
        "an envelope opened once the guard requires generation 5",
        json!([{"with_rollback_guard": {"generation": 0}}, {"guard_requires": 5}, {"open_envelope": h(&first.to_bytes())}]),
        r.err().unwrap_or(json!("ok")),
        "receive.store",
    );
    let mut c = fresh();
    c.open_envelope(&first).unwrap();
    let r = guarded(c, 99)
        .seal(
            &peer_of(&initiator),
            MessageClass::Chat,
            1_780_304_400,
            b"hi",
            &mut ScriptedRng::new(val32("client message id").to_vec().into()),
        )
        .map(|_| ())
        .map_err(|e| err(&e));
    push(
        "seal once the guard requires generation 99",
        json!([{"open_envelope": h(&first.to_bytes())}, {"with_rollback_guard": {"generation": 0}}, {"guard_requires": 99}, {"seal": {"peer": h(&initiator.0)}}]),
        r.err().unwrap_or(json!("ok")),
        "send.store",
    );
    // A client of the initiator: its prekeys are a signed prekey (id 1,
    // secret 'client customer signed prekey') and a last-resort KEM prekey
    // (id 2, seed 'client customer kem prekey').
    let customer_prekeys = PreKeyStore::from_parts(
        &fx.customer,
        SignedPreKey::new(
            &fx.customer,
            1,
            X25519Secret::from_bytes(val32("client customer signed prekey")),
        ),
        vec![],
        vec![],
        KemPreKey::new(
            &fx.customer,
            2,
            KemPreKeyKind::LastResort,
            KemSecret::from_seed(val64("client customer kem prekey")),
        ),
    );
    let customer =
        || Client::create_with(memory(), fx.customer.clone(), customer_prekeys.clone()).unwrap();
    let draws = || ScriptedRng::new(fx.randomness.iter().flatten().copied().collect());
    let r = guarded(customer(), 5)
        .start_session(&peer_of(&responder), &fx.bundle, &mut draws())
        .map_err(|e| err(&e));
    push(
        "the initiator starts a session once the guard requires generation 5",
        json!([{"client_of": "initiator"}, {"with_rollback_guard": {"generation": 0}}, {"guard_requires": 5}, {"start_session": {"peer": h(&responder.0), "bundle": h(&fx.bundle.to_bytes())}}]),
        r.err().unwrap_or(json!("ok")),
        "start.store",
    );
    let mut c = customer();
    c.trust_identity(&peer_of(&responder), &stranger).unwrap();
    let r = c
        .start_session(&peer_of(&responder), &fx.bundle, &mut draws())
        .map_err(|e| err(&e));
    push(
        "the initiator starts a session with a bundle of another identity than the trusted one",
        json!([{"client_of": "initiator"}, {"trust_identity": {"peer": h(&responder.0), "identity": h(&stranger.to_bytes())}}, {"start_session": {"peer": h(&responder.0), "bundle": h(&fx.bundle.to_bytes()), "random_draws": "those of handshake.json"}}]),
        r.err().unwrap_or(json!("ok")),
        "start.identity_changed",
    );
    let r = Client::create_with(memory(), fx.customer.clone(), fx.store.clone())
        .map(|_| ())
        .map_err(|e| err(&e));
    push(
        "create with the initiator's identity and the responder's prekeys",
        json!([{"create": {"identity": "initiator", "prekeys": "responder"}}]),
        r.err().unwrap_or(json!("ok")),
        "store.restore",
    );
    let mut c = fresh();
    c.open_envelope(&first).unwrap();
    let long = vec![0u8; MAX_PLAINTEXT_LEN + 1];
    let r = c
        .seal(
            &peer_of(&initiator),
            MessageClass::Chat,
            1_780_304_400,
            &long,
            &mut ScriptedRng::new(val32("client message id").to_vec().into()),
        )
        .map(|_| ())
        .map_err(|e| err(&e));
    push(
        "seal 65537 zero bytes",
        json!([{"open_envelope": h(&first.to_bytes())}, {"seal": {"peer": h(&initiator.0), "plaintext_len": long.len()}}]),
        r.err().unwrap_or(json!("ok")),
        "send.encrypt",
    );
    let mut c = fresh();
    c.open_envelope(&first).unwrap();
    let trusted = c
        .trust_identity(&peer_of(&initiator), &stranger)
        .map_err(|e| err(&e));
    let r = c
        .seal(
            &peer_of(&initiator),
            MessageClass::Chat,
            1_780_304_400,
            b"hi",
            &mut ScriptedRng::new(val32("client message id").to_vec().into()),
        )
        .map(|_| ())
        .map_err(|e| err(&e));
    assert!(trusted.is_ok());
    push(
        "seal after the peer's trusted identity was replaced",
        json!([{"open_envelope": h(&first.to_bytes())}, {"trust_identity": {"peer": h(&initiator.0), "identity": h(&stranger.to_bytes())}}, {"seal": {"peer": h(&initiator.0)}}]),
        r.err().unwrap_or(json!("ok")),
        "send.identity_changed",
    );
    json!({
        "description": "The reference client's refusals (SPEC.md 15.14, 15.15). Each case is a fresh Client::create_with of the responder of handshake case 'with one-time prekey' (its identity and prekey store as in handshake.json) over an empty MemoryStore under the storage key of storage.json, running the steps in order; the last step's result is given. Envelopes carry the initiator's messages of that case ('first', then 'second', same random draws), encrypted with the envelope header (sender the initiator, message id 5b..5b, class chat, sent at 1780304400) as associated data. The victim account is as in sender_binding; the stranger identity is 'customer 2' of the relay scripts; the business chain is that of the relay's business (business.json's root and issuer). A rollback guard reports the generation the step names (the store starts at 0). Steps of client_of 'initiator' run on a client of the initiator instead, whose prekeys are a signed prekey (id 1, secret SHA-256(\"Hotline vector client customer signed prekey\")) and a last-resort KEM prekey (id 2, seed as val64 of 'client customer kem prekey': d || z with d = SHA-256(\"Hotline vector client customer kem prekey d\"), z likewise with ' z').",
        "cases": cases,
    })
}

/// The compare-and-swap contract of record backends (SPEC.md 15.13): a
/// script of commits on an empty backend, each with its expected result
/// and the versions afterwards.
fn compare_and_swap_vectors() -> Value {
    use hotline::store::{MemoryBackend, RecordBackend, RecordWrite};
    let mut backend = MemoryBackend::default();
    let w = |kind: u8, name: &str, expected: u64, write: bool| RecordWrite {
        kind,
        name: name.as_bytes().to_vec(),
        expected_version: expected,
        record: write.then(|| vec![kind, expected as u8]),
    };
    let script: Vec<(&str, Vec<RecordWrite>)> = vec![
        (
            "create prekeys and identity",
            vec![w(1, "", 0, true), w(2, "", 0, true)],
        ),
        ("create the identity again", vec![w(1, "", 0, true)]),
        ("update prekeys at version 1", vec![w(2, "", 1, true)]),
        (
            "stale prekeys with a fresh session: nothing written",
            vec![w(2, "", 1, true), w(4, "alice", 0, true)],
        ),
        (
            "session checked against an unchanged trust",
            vec![w(4, "alice", 0, true), w(5, "alice", 0, false)],
        ),
        (
            "trust created and session advanced together",
            vec![w(5, "alice", 0, true), w(4, "alice", 1, true)],
        ),
        (
            "trust written at a stale version",
            vec![w(5, "alice", 0, true)],
        ),
        (
            "session written at a stale version",
            vec![w(4, "alice", 1, true), w(5, "alice", 1, false)],
        ),
        (
            "session at its version, trust checked at its version",
            vec![w(4, "alice", 2, true), w(5, "alice", 1, false)],
        ),
        (
            "session checked against a trust version that is gone",
            vec![w(4, "alice", 3, true), w(5, "alice", 0, false)],
        ),
    ];
    let mut steps = Vec::new();
    for (name, writes) in script {
        let result = match backend.put_all(&writes) {
            Ok(()) => json!("ok"),
            Err(e) => json!({"error": code(&e)}),
        };
        let after: Vec<Value> = [(1u8, ""), (2, ""), (4, "alice"), (5, "alice")]
            .iter()
            .map(|(k, n)| {
                json!({"kind": k, "name": n, "version": backend.get(*k, n.as_bytes()).unwrap().map_or(0, |r| r.version)})
            })
            .collect();
        steps.push(json!({
            "name": name,
            "writes": writes.iter().map(|w| json!({
                "kind": w.kind,
                "name": String::from_utf8_lossy(&w.name),
                "expected_version": w.expected_version,
                "write": w.record.is_some(),
            })).collect::<Vec<_>>(),
            "result": result,
            "versions_after": after,
        }));
    }
    json!({
        "description": "The compare-and-swap contract of record backends (SPEC.md 15.13), as a script on an empty backend: each step lists its writes (kind, name, the version expected now, and whether it writes or only checks), the result, and every record's version afterwards (0: absent). A failing step writes nothing.",
        "steps": sect(steps, "15.13"),
    })
}

fn render(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap();
    s.push('\n');
    s
}

/// One party's view in a post-quantum vector conversation.
fn pq_status_json(s: &Session) -> Value {
    let st = s.pq_status();
    json!({
        "epochs_completed": st.epochs_completed,
        "messages_since_epoch": st.messages_since_epoch,
        "waiting_for_peer": st.waiting_for_peer,
    })
}

/// A conversation for `pq_ratchet.json`: `pattern` gives, per round, how many
/// messages the initiator and then the responder send; `lost(k)` whether the
/// k-th message overall is dropped. Messages are delivered in order, except
/// that each lost one is gone.
fn pq_conversation(
    name: &str,
    rounds: usize,
    pattern: (usize, usize),
    lost: impl Fn(usize) -> bool,
) -> (Value, u32) {
    let case = HandshakeCase {
        name: "with one-time prekey",
        with_one_time: true,
    };
    let fx = handshake_fixture(&case);
    let mut store = fx.store.clone();
    let mut rng = ScriptedRng::new(fx.randomness.iter().flatten().copied().collect());
    let mut c = Session::initiate(&fx.customer, &fx.bundle, &mut rng).unwrap();
    let mut b: Option<Session> = None;
    let mut msgs = Vec::new();
    let mut k = 0usize;
    // The first message is always delivered: it creates the responder.
    for round in 0..rounds {
        for (from_initiator, count) in [(true, pattern.0), (false, pattern.1)] {
            for j in 0..count {
                let pt = format!("{name} {round}.{j}").into_bytes();
                let mut rng = ScriptedRng::stream_from(1000 * k as u64);
                let sender = if from_initiator {
                    &mut c
                } else {
                    match b.as_mut() {
                        Some(b) => b,
                        None => continue,
                    }
                };
                let wire = sender.encrypt_with_rng(&pt, b"", &mut rng).unwrap();
                let delivered = k == 0 || !lost(k);
                if delivered {
                    let got = if from_initiator {
                        match b.as_mut() {
                            Some(b) => b.decrypt(&wire, b"").unwrap(),
                            None => {
                                let (s, p) = Session::respond(&mut store, &wire, b"").unwrap();
                                b = Some(s);
                                p
                            }
                        }
                    } else {
                        c.decrypt(&wire, b"").unwrap()
                    };
                    assert_eq!(got, pt);
                }
                let bs = b.as_ref().map(pq_status_json);
                msgs.push(json!({
                    "index": k,
                    "sender": if from_initiator { "initiator" } else { "responder" },
                    "plaintext": h(&pt),
                    "randomness": h(&rng.2),
                    "wire": h(&wire),
                    "delivered": delivered,
                    "initiator_status": pq_status_json(&c),
                    "responder_status": bs,
                }));
                k += 1;
            }
        }
    }
    let epochs = c.pq_status().epochs_completed;
    (
        json!({
            "name": name,
            "pattern": { "initiator": pattern.0, "responder": pattern.1 },
            "messages": msgs,
        }),
        epochs,
    )
}

fn pq_ratchet_vectors() -> Value {
    use hotline::conformance::encode_shards;
    use hotline::conformance::padded_len_with_trailer;
    // Erasure coding of a sample key and ciphertext.
    let dk = KemSecret::from_seed(val64("pq erasure key"));
    let ek = dk.public_key();
    let m = val32("pq erasure m");
    let (ct, ss) = ek.encapsulate(&m);
    let ek_shards: Vec<Value> = encode_shards(PQ_CHUNK_EK, ek.as_bytes())
        .iter()
        .map(|s| h(s))
        .collect();
    let ct_shards: Vec<Value> = encode_shards(PQ_CHUNK_CT, &ct)
        .iter()
        .map(|s| h(s))
        .collect();
    // One KDF_RK_PQ.
    let rk = RootKey(val32("pq root key"));
    let a = X25519Secret::from_bytes(val32("pq dh a"));
    let bk = X25519Secret::from_bytes(val32("pq dh b"));
    let dh = a.diffie_hellman(&bk.public_key()).unwrap();
    let (rk2, ck, nhk) = rk.step_pq(&dh, ss.as_bytes());
    let padding: Vec<Value> = [0usize, 10, 63, 64, 100, 954, 1000, 2000, 4000, 65_536]
        .iter()
        .map(|&l| {
            let (plain, with) = (padded_len(l), padded_len_with_trailer(l));
            json!({
                "plaintext_len": l,
                "padded_len": plain,
                "padded_len_with_trailer": with,
                "chunk_attached": with - plain <= PQ_MAX_GROWTH,
            })
        })
        .collect();
    let (balanced, e1) = pq_conversation("balanced", 14, (6, 6), |_| false);
    assert!(e1 >= 2, "balanced: {e1} epochs");
    let (lossy, e2) = pq_conversation("lopsided lossy", 40, (1, 5), |k| k % 10 == 3);
    assert!(e2 >= 1, "lopsided: {e2} epochs");
    json!({
        "description": "The post-quantum ratchet (SPEC.md 16). erasure: the 38 shards of ek (the public key of the ML-KEM seed given) and the 34 shards of ct (its encapsulation with m), and the shared secret. kdf_rk_pq: KDF_RK_PQ(root_key, dh = X25519(dh_a, X25519(dh_b, 9)), ss). padding: padded lengths without and with a 70-byte chunk trailer, and whether a due chunk is attached (growth <= 100). conversations: both start from the handshake case 'with one-time prekey' of handshake.json (the initiator's three draws are its randomness); then, in rounds, the initiator sends pattern.initiator messages and the responder pattern.responder (the responder only once it exists). Each message gives every byte its encrypt drew ('randomness'), its wire bytes and whether it was delivered (in send order; lost ones never). After each message, both sides' pq_status. Every delivered message decrypts to its plaintext.",
        "erasure": {
            "kem_seed": h(&val64("pq erasure key")),
            "ek": h(ek.as_bytes()),
            "ek_shards": ek_shards,
            "m": h(&m),
            "ct": h(&ct),
            "shared_secret": h(ss.as_bytes()),
            "ct_shards": ct_shards,
        },
        "kdf_rk_pq": {
            "root_key": h(&rk.0),
            "dh_a": h(&val32("pq dh a")),
            "dh_b": h(&val32("pq dh b")),
            "dh": h(dh.as_bytes()),
            "ss": h(ss.as_bytes()),
            "next_root_key": h(&rk2.0),
            "chain_key": h(&ck.0),
            "next_header_key": h(&nhk.0),
        },
        "padding": padding,
        "conversations": [balanced, lossy],
    })
}

/// The SPEC sections exercised by the cases of lists (and single cases)
/// that do not name their own: a path of keys from the file's root, and the
/// sections. Each object of the list (or the object) gets a `section`.
const SECTIONS: &[(&str, &str, &str)] = &[
    ("kdf.json", "chain", "8.2, 8.3"),
    ("kdf.json", "padding", "8.8"),
    (
        "handshake.json",
        "cases",
        "7.2, 7.3, 7.4, 7.5, 7.6, 7.7, 7.8, 7.9",
    ),
    ("conversation.json", "messages", "8.5, 8.6, 8.7, 8.9"),
    ("conversation.json", "events", "8.9, 8.10, 8.11"),
    ("errors.json", "eviction/deliveries", "8.10"),
    ("errors.json", "eviction/secrets", "8.10"),
    ("business.json", "chain_confusion", "13.6, 10.1"),
    ("business.json", "certified_handshake", "7.4, 7.9, 13.10"),
    (
        "business.json",
        "certified_handshake/responder_renewals",
        "7.9, 13.10",
    ),
    ("business.json", "templates/approved", "13.17"),
    ("business.json", "templates/rendered", "13.17"),
    ("relay.json", "envelope_headers", "14.4"),
    ("relay.json", "consent_records", "14.6"),
    ("relay.json", "block_records", "14.6"),
    ("relay.json", "scripts/scripts", "14"),
    (
        "storage.json",
        "records",
        "15.3, 15.4, 15.5, 15.6, 15.7, 15.15, 15.17",
    ),
    (
        "pq_ratchet.json",
        "conversations",
        "16.2, 16.3, 16.4, 16.5, 16.6",
    ),
    ("pq_ratchet.json", "padding", "16.4, 8.8"),
];

fn with_sections(file: &str, mut v: Value) -> Value {
    for (f, path, section) in SECTIONS {
        if *f != file {
            continue;
        }
        let mut at = &mut v;
        for key in path.split('/') {
            at = at
                .get_mut(key)
                .unwrap_or_else(|| panic!("{file}: no {path}"));
        }
        let mut mark = |o: &mut Value| {
            if let Value::Object(m) = o {
                m.entry("section").or_insert_with(|| json!(section));
            }
        };
        match at {
            Value::Array(items) => items.iter_mut().for_each(&mut mark),
            other => mark(other),
        }
    }
    v
}

/// Every vector file: its name in `tests/vectors/` and its content.
pub fn files() -> Vec<(&'static str, String)> {
    type Make = fn() -> Value;
    let files: [(&'static str, Make); 8] = [
        ("kdf.json", kdf_vectors),
        ("handshake.json", handshake_vectors),
        ("conversation.json", conversation_vectors),
        ("errors.json", error_vectors),
        ("business.json", business_vectors),
        ("relay.json", relay_vectors),
        ("storage.json", storage_vectors),
        ("pq_ratchet.json", pq_ratchet_vectors),
    ];
    files
        .into_iter()
        .map(|(name, make)| (name, render(&with_sections(name, make()))))
        .collect()
}

/// The conversation vectors alone (the determinism check runs them twice).
pub fn conversation() -> String {
    render(&conversation_vectors())
}

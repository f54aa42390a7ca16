//! Writes the seed corpora under `fuzz/seeds/<target>/` from genuine
//! messages, bundles and identities of the deterministic fixtures in
//! `src/lib.rs`, after checking that each seed behaves in its target as
//! intended (genuine messages decrypt, genuine bundles verify, re-signing is
//! the identity on genuine bundles).
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example gen_seeds [OUT_DIR]
//! ```
//!
//! `OUT_DIR` defaults to `fuzz/seeds`. Each target's directory is emptied
//! first, so the output depends only on the fixtures.

use std::fs;
use std::path::{Path, PathBuf};

use hotline::business::{ChainLink, RevocationError, ValidationError};
use hotline::relay::{
    AccountId, BlockRecord, ConsentRecord, ConsentScope, Delivery, Envelope, EnvelopeHeader,
    MessageClass, MessageId, PreKeyDrain, PreKeyStatus, PreKeyUpload, RateLimit, Refusal, Request,
    Response, SignedRequest,
};
use hotline::{PreKeyBundle, PreKeyStore, Session};
use hotline_fuzz::certs::{
    ISSUER_REVOKED, ISSUER_VERIFIED, NOW, RETIRED_ROOT_ID, cert_fixtures, check_chain, check_list,
    resign_chain, resign_list,
};
use hotline_fuzz::relay::{
    self as rh, BUSINESS, CLOCK_STEPS, CUSTOMER_A, CUSTOMER_B, Mode, NEWCOMER, RELAY_T0,
    encode_step, relay_fixture,
};
use hotline_fuzz::reseal;
use hotline_fuzz::{
    AD, Established, Mutation, STORE_KEY, business, business_store, customer, fixtures,
    resign_bundle, rng,
};

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let d = dir.join(target);
    fs::create_dir_all(&d).expect("create seed dir");
    fs::write(d.join(name), bytes).expect("write seed");
}

fn main() {
    let out: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds"));
    let targets = [
        "wire_decode",
        "session_decrypt",
        "session_decrypt_mutate",
        "bundle_verify",
        "handshake_respond",
        "store_restore",
        "certificate_validate",
        "relay_decode",
        "relay_handle",
        "pq_conversation",
    ];
    for t in targets {
        let d = out.join(t);
        if d.exists() {
            fs::remove_dir_all(&d).expect("clear seed dir");
        }
    }

    let fx = fixtures();
    let est = Established::new();
    let by_label = |label: &str| {
        est.messages
            .iter()
            .find(|m| m.label == label)
            .unwrap_or_else(|| panic!("no message {label}"))
    };

    // Self-checks: each seed does in its target what it is meant to.
    for (name, b) in &fx.bundles {
        let bytes = b.to_bytes();
        assert_eq!(PreKeyBundle::from_bytes(&bytes).as_ref(), Ok(b), "{name}");
        assert_eq!(resign_bundle(&bytes), bytes, "re-signing changed {name}");
    }
    for g in &fx.initials {
        let (_, pt) = Session::respond(&mut business_store(), &g.bytes, AD).expect(g.name);
        assert_eq!(pt, g.plaintext);
    }
    for m in &est.messages {
        Established::new().check_decrypt(m.to, &m.bytes, AD);
        // The targets start from restored sessions: the script's own
        // sessions must accept the same messages.
        Established::run_script().check_decrypt(m.to, &m.bytes, AD);
    }

    // wire_decode: one of each kind of object.
    let w = "wire_decode";
    for (name, b) in &fx.bundles[..2] {
        write(&out, w, name, &b.to_bytes());
    }
    write(
        &out,
        w,
        "identity_customer",
        &customer().public().to_bytes(),
    );
    write(
        &out,
        w,
        "identity_business",
        &business().public().to_bytes(),
    );
    write(&out, w, fx.initials[0].name, &fx.initials[0].bytes);
    write(&out, w, "ratchet_r0", &by_label("r0").bytes);

    // session_decrypt: every message of the session, delivered or not.
    for m in &est.messages {
        write(&out, "session_decrypt", m.label, &m.bytes);
    }

    // session_decrypt_mutate: each message unaltered, and a few alterations.
    let index = |label: &str| {
        est.messages
            .iter()
            .position(|m| m.label == label)
            .expect("label") as u8
    };
    let mut mutate: Vec<(String, Vec<u8>)> = est
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| (format!("{}_as_is", m.label), vec![i as u8, 0, 0]))
        .collect();
    let m0_len = by_label("m0").bytes.len() as u16;
    let last = (m0_len - 1).to_be_bytes();
    mutate.extend([
        ("r4_next_wrong_ad".into(), vec![index("r4_next"), 1, 0x42]),
        ("m2_next_truncated".into(), vec![index("m2_next"), 2, 16]),
        ("r1_extended".into(), vec![index("r1"), 4, 8]),
        ("m0_nonce_flip".into(), vec![index("m0"), 0, 0, 0, 2, 0x01]),
        (
            "m0_tag_flip".into(),
            vec![index("m0"), 0, 0, last[0], last[1], 0x80],
        ),
        // i0's handshake part is 1266 bytes; 1280 is the first byte of the
        // encrypted header of its embedded ratchet message.
        (
            "i0_header_flip".into(),
            vec![index("i0"), 0, 0, 0x05, 0x00, 0x01],
        ),
    ]);
    for (name, input) in &mutate {
        let e = Established::new();
        let m = Mutation::new(&e, input);
        let mut e = e;
        e.check_decrypt(m.to, &m.bytes, &m.ad);
        write(&out, "session_decrypt_mutate", name, input);
    }

    // bundle_verify: the business's bundles, and the customer's own.
    for (name, b) in &fx.bundles {
        write(&out, "bundle_verify", name, &b.to_bytes());
    }
    write(
        &out,
        "bundle_verify",
        "bundle_customer_own",
        &fx.own_bundle.to_bytes(),
    );

    // handshake_respond: genuine initial messages, and a ratchet message.
    for g in &fx.initials {
        write(&out, "handshake_respond", g.name, &g.bytes);
    }
    write(
        &out,
        "handshake_respond",
        "session_i0",
        &by_label("i0").bytes,
    );
    write(
        &out,
        "handshake_respond",
        "ratchet_r0",
        &by_label("r0").bytes,
    );

    // store_restore: real records of an identity, the business's prekey
    // store before and after a handshake, and sessions on both sides.
    let key = hotline::store::StorageKey::from_bytes(STORE_KEY);
    let mut r = rng(0x5EED_0301);
    let s = "store_restore";
    write(
        &out,
        s,
        "identity_customer",
        &customer().pickle(&key, &mut r),
    );
    let mut store = business_store();
    write(&out, s, "prekeys_fresh", &store.pickle(&key, &mut r));
    let mut initiator = Session::initiate(customer(), &fx.bundles[0].1, &mut r).expect("initiate");
    write(
        &out,
        s,
        "session_awaiting_reply",
        &initiator.pickle(&key, &mut r),
    );
    let first = initiator
        .encrypt_with_rng(b"hello", AD, &mut r)
        .expect("encrypt");
    let (mut responder, _) = Session::respond(&mut store, &first, AD).expect("respond");
    write(
        &out,
        s,
        "prekeys_after_handshake",
        &store.pickle(&key, &mut r),
    );
    let reply = responder
        .encrypt_with_rng(b"hi", AD, &mut r)
        .expect("encrypt");
    write(
        &out,
        s,
        "session_responder",
        &responder.pickle(&key, &mut r),
    );
    initiator.decrypt(&reply, AD).expect("decrypt");
    write(
        &out,
        s,
        "session_initiator",
        &initiator.pickle(&key, &mut r),
    );
    for name in [
        "session_awaiting_reply",
        "session_responder",
        "session_initiator",
    ] {
        let bytes = fs::read(out.join(s).join(name)).expect("read seed");
        Session::from_pickle(&bytes, &key).expect("seed restores");
    }
    // The sessions with one peer (kind 0x04), under the target's address.
    let peer = hotline::store::PeerId::new(b"peer@fuzz").expect("address");
    let sessions = hotline::store::SessionRecord::new(initiator);
    write(
        &out,
        s,
        "peer_sessions",
        &sessions.pickle(&key, &peer, &mut r),
    );
    // Every record again as the target's second form, `selector ||
    // plaintext`: the selector's low two bits pick the kind (identity,
    // prekeys, session, peer sessions) and bits 2-3 the version (0 = current).
    let records: Vec<(String, Vec<u8>)> = fs::read_dir(out.join(s))
        .expect("seed dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    for (name, record) in records {
        let kind = record[1];
        let address: &[u8] = if kind == reseal::RECORD_PEER_SESSIONS {
            b"peer@fuzz"
        } else {
            b""
        };
        let (version, kind, plaintext) =
            reseal::open_record(&key, address, &record).expect("a genuine record opens");
        assert_eq!(version, 3);
        let mut plain = vec![kind - 1];
        plain.extend_from_slice(&plaintext);
        assert_eq!(
            reseal::seal_record(&key, version, kind, address, &plaintext).len(),
            record.len(),
            "the harness's record layout matches the library's"
        );
        write(&out, s, &format!("{name}.plain"), &plain);
    }

    pq_conversation_seeds(&out);
    certificate_seeds(&out);
    relay_seeds(&out);
    relay_handle_seeds(&out, &est);

    for t in targets {
        let n = fs::read_dir(out.join(t)).map(|d| d.count()).unwrap_or(0);
        println!("{t}: {n} seeds");
    }
}

/// certificate_validate: every genuine chain and revocation list, after
/// checking each gets the verdict it is named for.
fn certificate_seeds(out: &Path) {
    let fx = cert_fixtures();
    let t = "certificate_validate";
    for g in &fx.chains {
        let bytes = g.chain.to_bytes();
        assert_eq!(resign_chain(&bytes), bytes, "re-signing changed {}", g.name);
        let verdict = fx.store.validate_chain(&g.chain, NOW);
        let business_ok = |v: &Result<_, ValidationError>| {
            v.as_ref()
                .is_ok_and(|v: &hotline::business::VerifiedBusiness| {
                    v.identity_key() == business().public().signing_key()
                })
        };
        let as_named = match g.name {
            "chain_valid" | "chain_official" => business_ok(&verdict),
            "chain_other_key" => verdict.is_ok() && !business_ok(&verdict),
            "chain_expired" => matches!(
                verdict,
                Err(ValidationError::Expired {
                    link: ChainLink::Business,
                    ..
                })
            ),
            "chain_not_yet_valid" => matches!(
                verdict,
                Err(ValidationError::NotYetValid {
                    link: ChainLink::Business,
                    ..
                })
            ),
            "chain_revoked_serial" => {
                verdict
                    == Err(ValidationError::CertificateRevoked {
                        issuer_id: ISSUER_VERIFIED,
                        serial: 1002,
                    })
            }
            "chain_revoked_issuer" => {
                verdict == Err(ValidationError::IssuerRevoked(ISSUER_REVOKED))
            }
            "chain_retired_root" => verdict == Err(ValidationError::RootRetired(RETIRED_ROOT_ID)),
            other => panic!("no expectation for {other}"),
        };
        assert!(as_named, "{}: {verdict:?}", g.name);
        check_chain(&bytes, false);
        write(out, t, g.name, &bytes);
    }
    for g in &fx.lists {
        let bytes = g.list.to_bytes();
        assert_eq!(resign_list(&bytes), bytes, "re-signing changed {}", g.name);
        let outcome = fx.store.clone().apply_revocation_list(
            &g.list,
            fx.issuer_certificate_for(&g.list),
            NOW,
        );
        let as_named = match g.name {
            "list_root_seq1_in_force" | "list_issuer7_seq1_in_force" => {
                matches!(outcome, Err(RevocationError::Stale { .. }))
            }
            "list_root_seq2"
            | "list_root_seq3_empty"
            | "list_issuer7_seq2"
            | "list_issuer8_seq1" => outcome.is_ok(),
            // SPEC 13.9: a revoked issuer key's lists change nothing.
            "list_revoked_issuer9" => matches!(
                outcome,
                Err(RevocationError::IssuerNotTrusted(
                    ValidationError::IssuerRevoked(9)
                ))
            ),
            "list_root_future" => matches!(outcome, Err(RevocationError::IssuedInFuture { .. })),
            "list_retired_root" => outcome == Err(RevocationError::UnknownRoot(RETIRED_ROOT_ID)),
            "list_issuer10_retired_root" => matches!(
                outcome,
                Err(RevocationError::IssuerNotTrusted(
                    ValidationError::RootRetired(_)
                ))
            ),
            other => panic!("no expectation for {other}"),
        };
        assert!(as_named, "{}: {outcome:?}", g.name);
        check_list(&bytes, false);
        write(out, t, g.name, &bytes);
    }
}

/// relay_decode: signed requests of every kind, responses, an envelope (a
/// real session message sealed under its header), its header, and consent
/// and block records, all from the fixture identities.
fn relay_seeds(out: &Path) {
    let t = "relay_decode";
    let fx = fixtures();
    let now = NOW;
    let me = AccountId::of(&customer().public());
    let airline = AccountId::of(&business().public());
    let chain = cert_fixtures().chains[0].chain.clone();
    let store = business_store();
    let issuer = cert_fixtures()
        .issuer(chain.issuer().issuer_id())
        .expect("the chain's issuer");
    let stapled = issuer.status(chain.business().serial(), now - 60, now + 86_400);

    let header = EnvelopeHeader {
        sender: me,
        recipient: airline,
        message_id: MessageId([0x3c; 16]),
        class: MessageClass::Chat,
        sent_at: now,
        franking: Default::default(),
    };
    let mut r = rng(0x5EED_0400);
    let mut session = Session::initiate(customer(), &fx.bundles[0].1, &mut r).expect("initiate");
    let ciphertext = session
        .encrypt_with_rng(b"Is my flight on time?", &header.associated_data(), &mut r)
        .expect("encrypt");
    let (_, pt) = Session::respond(
        &mut business_store(),
        &ciphertext,
        &header.associated_data(),
    )
    .expect("the sealed message opens under its header");
    assert_eq!(pt, b"Is my flight on time?");
    let envelope = Envelope { header, ciphertext };
    let consent = ConsentRecord::sign(customer(), airline, ConsentScope::ALL, now);
    let block = BlockRecord::sign(customer(), airline, true, now + 60);

    let requests: Vec<(&str, &hotline::IdentityKeyPair, Request)> = vec![
        (
            "request_register_customer",
            customer(),
            Request::RegisterCustomer {
                identity: customer().public(),
            },
        ),
        (
            "request_register_business",
            business(),
            Request::RegisterBusiness {
                identity: business().public(),
                certificate_chain: chain.to_bytes(),
            },
        ),
        (
            "request_upload_prekeys",
            business(),
            Request::UploadPreKeys(PreKeyUpload {
                signed_prekey: Some(store.signed_prekey()),
                last_resort_kem_prekey: None,
                one_time_prekeys: store.one_time_prekeys(),
                kem_prekeys: store.kem_prekeys()[..1].to_vec(),
            }),
        ),
        (
            "request_fetch_bundle",
            customer(),
            Request::FetchBundle { owner: airline },
        ),
        ("request_send", customer(), Request::Send(envelope.clone())),
        (
            "request_fetch_mailbox",
            business(),
            Request::FetchMailbox { max: 50 },
        ),
        (
            "request_acknowledge",
            business(),
            Request::Acknowledge { ids: vec![1, 2, 7] },
        ),
        ("request_consent", customer(), Request::Consent(consent)),
        ("request_block", customer(), Request::Block(block)),
        (
            "request_export_consent",
            business(),
            Request::ExportConsent { customer: me },
        ),
        (
            "request_publish_status",
            business(),
            Request::PublishStatus(stapled.clone()),
        ),
        (
            "request_publish_revocation_list",
            customer(),
            Request::PublishRevocationList {
                list: cert_fixtures().lists[1].list.clone(),
                issuer: Some(issuer.certificate.clone()),
            },
        ),
    ];
    for (counter, (name, signer, request)) in requests.into_iter().enumerate() {
        let bytes = SignedRequest::sign(signer, counter as u64 + 1, now, request).to_bytes();
        let back = SignedRequest::from_bytes(&bytes).expect("genuine request decodes");
        assert_eq!(back.to_bytes(), bytes, "{name}");
        write(out, t, name, &bytes);
    }

    let bundle = store.bundle().with_certificate_chain(Some(chain));
    let responses: Vec<(&str, Result<Response, Refusal>)> = vec![
        (
            "response_bundle",
            Ok(Response::Bundle {
                bundle: Box::new(bundle),
                status: Some(stapled.clone()),
            }),
        ),
        ("response_status_stored", Ok(Response::StatusStored)),
        (
            "response_revocation_list_applied",
            Ok(Response::RevocationListApplied { sequence: 7 }),
        ),
        (
            "response_mailbox",
            Ok(Response::Mailbox {
                deliveries: vec![Delivery {
                    id: 1,
                    received_at: now + 1,
                    stamp: Default::default(),
                    envelope: envelope.clone(),
                }],
                more: false,
                prekeys_low: true,
                prekeys_drained: PreKeyDrain {
                    last_hour: 1,
                    last_day: 3,
                },
                statuses: vec![],
            }),
        ),
        (
            "response_consent_evidence",
            Ok(Response::ConsentEvidence(vec![consent])),
        ),
        (
            "response_prekeys_stored",
            Ok(Response::PreKeysStored(PreKeyStatus {
                one_time: 2,
                kem: 1,
                low: true,
                drained: PreKeyDrain {
                    last_hour: 1,
                    last_day: 3,
                },
            })),
        ),
        ("response_refused_replay", Err(Refusal::ReplayedRequest)),
        (
            "response_refused_rate_limited",
            Err(Refusal::RateLimited {
                limit: RateLimit::BundleFetches,
                retry_after_secs: 60,
            }),
        ),
    ];
    for (name, result) in &responses {
        let bytes = Response::encode_result(result);
        assert_eq!(
            Response::decode_result(&bytes).as_ref(),
            Ok(result),
            "{name}"
        );
        write(out, t, name, &bytes);
    }

    let bytes = envelope.to_bytes();
    assert_eq!(Envelope::from_bytes(&bytes), Ok(envelope.clone()));
    write(out, t, "envelope", &bytes);
    write(out, t, "envelope_header", &header.associated_data());
    assert_eq!(ConsentRecord::from_bytes(&consent.to_bytes()), Ok(consent));
    write(out, t, "record_consent", &consent.to_bytes());
    assert_eq!(BlockRecord::from_bytes(&block.to_bytes()), Ok(block));
    write(out, t, "record_block", &block.to_bytes());
}

/// A `relay_handle` input under construction, with what each step's signed
/// (or raw) submission must get.
struct Sequence {
    name: &'static str,
    now: u64,
    bytes: Vec<u8>,
    /// Per step: which submission of the step's report is checked, and
    /// `None` for accepted or the refusal.
    expect: Vec<(usize, Option<Refusal>)>,
}

impl Sequence {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            now: RELAY_T0,
            bytes: Vec::new(),
            expect: Vec::new(),
        }
    }

    /// A step whose body is `request(now)`, `now` being the relay's time
    /// after the clock step.
    fn step(
        &mut self,
        signer: usize,
        clock: usize,
        mode: Mode,
        request: impl FnOnce(u64) -> Request,
        expect: Option<Refusal>,
    ) -> &mut Self {
        let body = rh::body(request(self.now + CLOCK_STEPS[clock]));
        self.raw_step(signer, clock, mode, &body, 1, expect)
    }

    fn raw_step(
        &mut self,
        signer: usize,
        clock: usize,
        mode: Mode,
        body: &[u8],
        checked: usize,
        expect: Option<Refusal>,
    ) -> &mut Self {
        self.now += CLOCK_STEPS[clock];
        self.bytes
            .extend_from_slice(&encode_step(signer, clock, mode, body));
        self.expect.push((checked, expect));
        self
    }

    /// Runs the input (every check of the target included) and checks each
    /// step got what it is meant to.
    fn check(&self) -> &[u8] {
        let reports = rh::run(&self.bytes);
        assert_eq!(reports.len(), self.expect.len(), "{}: steps", self.name);
        for (i, (report, (checked, expect))) in reports.iter().zip(&self.expect).enumerate() {
            let got = &report[*checked];
            let ok = match expect {
                None => got.is_ok(),
                Some(r) => got == &Err(*r),
            };
            assert!(
                ok,
                "{} step {i}: expected {expect:?}, got {got:?}",
                self.name
            );
        }
        &self.bytes
    }
}

fn envelope(
    from: usize,
    to: usize,
    id: u8,
    class: MessageClass,
    now: u64,
    ciphertext: &[u8],
) -> Request {
    let fx = relay_fixture();
    Request::Send(Envelope {
        header: EnvelopeHeader {
            sender: fx.signers[from].id,
            recipient: fx.signers[to].id,
            message_id: MessageId([id; 16]),
            class,
            sent_at: now,
            franking: Default::default(),
        },
        ciphertext: ciphertext.to_vec(),
    })
}

/// relay_handle: request sequences on the fixture relay (registration,
/// upload, bundles, chat and notifications, consent, block, mailbox fetch
/// and acknowledgement, consent export, replays), with real session
/// messages as ciphertext; each step is checked to be accepted or refused
/// as intended, under every check of the target.
fn relay_handle_seeds(out: &Path, est: &Established) {
    use MessageClass::{Chat, Notification};
    let t = "relay_handle";
    let fx = relay_fixture();
    let id = |i: usize| fx.signers[i].id;
    let key = |i: usize| &fx.signers[i].identity;
    let msg = |label: &str| {
        est.messages
            .iter()
            .find(|m| m.label == label)
            .expect("label")
            .bytes
            .clone()
    };
    let initial = fixtures().initials[0].bytes.clone();
    let (r0, r1, m0, m1) = (msg("r0"), msg("r1"), msg("m0"), msg("m1"));
    let consent = |c: usize, b: usize, scope: ConsentScope| {
        move |now: u64| Request::Consent(ConsentRecord::sign(key(c), id(b), scope, now))
    };
    let block = |c: usize, b: usize, blocked: bool| {
        move |now: u64| Request::Block(BlockRecord::sign(key(c), id(b), blocked, now))
    };
    let fetch = |max: u16| move |_: u64| Request::FetchMailbox { max };
    let ack = |ids: Vec<u64>| move |_: u64| Request::Acknowledge { ids };
    let status = |_: u64| Request::PreKeyStatus;
    let (a, b, c, n) = (CUSTOMER_A, BUSINESS, CUSTOMER_B, NEWCOMER);
    let chat_only = ConsentScope {
        chat: true,
        notifications: false,
    };
    let notifications_only = ConsentScope {
        chat: false,
        notifications: true,
    };
    use Mode::*;
    let mut seqs = Vec::new();

    let mut s = Sequence::new("chat_consent_reply");
    s.step(a, 0, Sign, consent(a, b, ConsentScope::ALL), None)
        .step(
            a,
            1,
            Sign,
            |now| envelope(a, b, 1, Chat, now, &initial),
            None,
        )
        .step(b, 2, Sign, fetch(10), None)
        .step(b, 0, Sign, ack(vec![1]), None)
        .step(b, 2, Sign, |now| envelope(b, a, 2, Chat, now, &r0), None)
        .step(a, 1, Sign, fetch(10), None)
        .step(a, 0, Sign, ack(vec![2]), None);
    seqs.push(s);

    let mut store = business_store();
    let mut r = rng(0x5EED_0500);
    let more = PreKeyUpload {
        signed_prekey: None,
        last_resort_kem_prekey: None,
        one_time_prekeys: store.add_one_time_prekeys(2, &mut r),
        kem_prekeys: store.add_kem_prekeys(1, &mut r),
    };
    let spent = PreKeyUpload {
        one_time_prekeys: business_store().one_time_prekeys()[..1].to_vec(),
        ..PreKeyUpload::default()
    };
    let owner = id(b);
    let mut s = Sequence::new("bundles_until_last_resort");
    // Two fetches each is a customer's burst in the fuzz relay (RATES).
    s.step(a, 0, Sign, move |_| Request::FetchBundle { owner }, None)
        .step(a, 0, Sign, move |_| Request::FetchBundle { owner }, None)
        .step(c, 0, Sign, move |_| Request::FetchBundle { owner }, None);
    s.step(b, 0, Sign, status, None)
        .step(b, 0, Sign, move |_| Request::UploadPreKeys(more), None)
        .step(c, 0, Sign, move |_| Request::FetchBundle { owner }, None)
        .step(
            b,
            0,
            Sign,
            move |_| Request::UploadPreKeys(spent),
            Some(Refusal::BadPreKey),
        )
        .step(
            a,
            2,
            Sign,
            move |_| Request::FetchBundle { owner: id(c) },
            Some(Refusal::NoBundle),
        );
    seqs.push(s);

    // SPEC.md 14.11 in the fuzz relay's RATES: a customer's third fetch at
    // once is refused, and its counter is not used (the same counter, sent
    // again a minute later, is accepted); the owner's fourth bundle with
    // one-time prekeys within the hour is withheld (one-time prekeys 3 and
    // 4 and the two fetched after the upload make it reachable).
    let mut store = business_store();
    let mut r = rng(0x5EED_0501);
    let refill = PreKeyUpload {
        signed_prekey: None,
        last_resort_kem_prekey: None,
        one_time_prekeys: store.add_one_time_prekeys(3, &mut r),
        kem_prekeys: store.add_kem_prekeys(3, &mut r),
    };
    let limited = Refusal::RateLimited {
        limit: RateLimit::BundleFetches,
        retry_after_secs: 60,
    };
    let mut s = Sequence::new("rate_limited_bundles");
    s.step(a, 0, Sign, move |_| Request::FetchBundle { owner }, None)
        .step(a, 0, Sign, move |_| Request::FetchBundle { owner }, None)
        .step(
            a,
            0,
            Sign,
            move |_| Request::FetchBundle { owner },
            Some(limited),
        )
        .step(
            a,
            2,
            OldCounter,
            move |_| Request::FetchBundle { owner },
            None,
        )
        .step(b, 0, Sign, move |_| Request::UploadPreKeys(refill), None)
        .step(c, 0, Sign, move |_| Request::FetchBundle { owner }, None)
        .step(c, 0, Sign, move |_| Request::FetchBundle { owner }, None)
        .step(b, 0, Sign, status, None);
    seqs.push(s);

    // SPEC.md 14.5 and 14.11: initial messages of a customer (two at once),
    // and one sender's share of a mailbox (three envelopes).
    let initial_limited = Refusal::RateLimited {
        limit: RateLimit::InitialMessages,
        retry_after_secs: 60,
    };
    // The relay reads only the type bytes; a short body keeps two initial
    // messages within one sender's share of bytes.
    let mut short_initial = vec![0x5A; 64];
    short_initial[..2].copy_from_slice(&initial[..2]);
    let si = &short_initial;
    let mut s = Sequence::new("initial_messages_and_sender_share");
    s.step(a, 0, Sign, |now| envelope(a, b, 1, Chat, now, si), None)
        .step(a, 0, Sign, |now| envelope(a, b, 1, Chat, now, si), None)
        .step(a, 0, Sign, |now| envelope(a, b, 2, Chat, now, si), None)
        .step(
            a,
            0,
            Sign,
            |now| envelope(a, b, 3, Chat, now, si),
            Some(initial_limited),
        )
        .step(a, 0, Sign, |now| envelope(a, b, 4, Chat, now, &m0), None)
        .step(
            a,
            0,
            Sign,
            |now| envelope(a, b, 5, Chat, now, &m1),
            Some(Refusal::SenderQuotaExceeded),
        )
        .step(c, 0, Sign, |now| envelope(c, b, 6, Chat, now, &m1), None)
        .step(
            c,
            0,
            Sign,
            |now| envelope(c, b, 7, Chat, now, &m0),
            Some(Refusal::MailboxFull),
        );
    seqs.push(s);

    // SPEC.md 14.6: a block dated ahead is ordered at the relay's time, so
    // an unblock a minute later lifts it; in one second a block beats an
    // unblock whichever comes first, and a withdrawal beats a consent.
    let mut s = Sequence::new("records_in_time");
    s.step(a, 0, Sign, consent(a, b, ConsentScope::ALL), None)
        .step(
            a,
            0,
            Sign,
            |now| Request::Block(BlockRecord::sign(key(a), id(b), true, now + 299)),
            None,
        )
        .step(a, 2, Sign, block(a, b, false), None)
        .step(
            b,
            0,
            Sign,
            |now| envelope(b, a, 2, Notification, now, &r0),
            None,
        )
        .step(a, 1, Sign, block(a, b, true), None)
        .step(a, 0, Sign, block(a, b, false), Some(Refusal::StaleRecord))
        .step(a, 1, Sign, block(a, b, false), None)
        .step(a, 0, Sign, block(a, b, true), None)
        .step(a, 1, Sign, consent(a, b, ConsentScope::NONE), None)
        .step(
            a,
            0,
            Sign,
            consent(a, b, ConsentScope::ALL),
            Some(Refusal::StaleRecord),
        )
        .step(
            b,
            0,
            Sign,
            |now| envelope(b, a, 3, Notification, now, &r1),
            Some(Refusal::Blocked),
        );
    seqs.push(s);

    let mut s = Sequence::new("block_unblock");
    s.step(a, 0, Sign, consent(a, b, ConsentScope::ALL), None)
        .step(a, 1, Sign, |now| envelope(a, b, 1, Chat, now, &m0), None)
        .step(a, 1, Sign, block(a, b, true), None)
        .step(
            b,
            1,
            Sign,
            |now| envelope(b, a, 2, Chat, now, &r0),
            Some(Refusal::Blocked),
        )
        .step(a, 1, Sign, block(a, b, false), None)
        .step(b, 0, Sign, |now| envelope(b, a, 3, Chat, now, &r1), None)
        .step(
            a,
            0,
            Sign,
            |now| Request::Block(BlockRecord::sign(key(a), id(b), true, now - 10)),
            Some(Refusal::StaleRecord),
        );
    seqs.push(s);

    // SPEC.md 14.15: a business cannot erase itself; the customer can,
    // once; nothing more reaches it; its id never registers again; its
    // consent stays with the business.
    let mut s = Sequence::new("erasure");
    s.step(a, 0, Sign, consent(a, b, ConsentScope::ALL), None)
        .step(a, 1, Sign, |now| envelope(a, b, 1, Chat, now, &m0), None)
        .step(b, 0, Sign, |now| envelope(b, a, 2, Chat, now, &r0), None)
        .step(
            b,
            0,
            Sign,
            |_| Request::DeleteAccount,
            Some(Refusal::WrongAccountKind),
        )
        .step(a, 0, Sign, |_| Request::DeleteAccount, None)
        .step(
            b,
            0,
            Sign,
            |now| envelope(b, a, 3, Chat, now, &r1),
            Some(Refusal::UnknownAccount),
        )
        .step(
            a,
            0,
            Sign,
            |_| Request::DeleteAccount,
            Some(Refusal::UnknownAccount),
        )
        .step(
            a,
            0,
            Sign,
            |_| Request::RegisterCustomer {
                identity: key(a).public(),
            },
            Some(Refusal::AccountDeleted),
        )
        .step(
            b,
            0,
            Sign,
            |_| Request::ExportConsent { customer: id(a) },
            None,
        );
    seqs.push(s);

    // SPEC.md 14.16: notifications are billed at delivery; every send
    // answers a receipt; the business reads its states and statements;
    // a queued notification deleted by a block, and one that expires,
    // bill nothing; a period not begun is refused.
    let mut s = Sequence::new("billing_states_statements");
    s.step(a, 0, Sign, consent(a, b, ConsentScope::ALL), None)
        .step(
            b,
            1,
            Sign,
            |now| envelope(b, a, 1, Notification, now, &r0),
            None,
        )
        .step(
            b,
            1,
            Sign,
            |now| envelope(b, a, 2, Notification, now, &r1),
            None,
        )
        .step(
            b,
            1,
            Sign,
            |now| envelope(b, a, 1, Notification, now, &r0),
            None,
        )
        .step(a, 0, Sign, fetch(10), None)
        .step(a, 0, Sign, ack(vec![1]), None)
        .step(
            b,
            0,
            Sign,
            |_| Request::FetchStates { after: 0, max: 10 },
            None,
        )
        .step(
            b,
            0,
            Sign,
            |now| Request::FetchStatement {
                period: hotline::relay::period_of(now),
            },
            None,
        )
        .step(
            b,
            0,
            Sign,
            |now| Request::FetchStatement {
                period: hotline::relay::period_of(now) + 1,
            },
            Some(Refusal::PeriodUnavailable),
        )
        .step(
            b,
            1,
            Sign,
            |now| envelope(b, a, 3, Notification, now, &r1),
            None,
        )
        .step(a, 7, Sign, fetch(10), None)
        .step(
            b,
            1,
            Sign,
            |now| envelope(b, a, 4, Notification, now, &r0),
            None,
        )
        .step(a, 1, Sign, block(a, b, true), None)
        .step(
            b,
            0,
            Sign,
            |_| Request::FetchStates { after: 1, max: 1 },
            None,
        )
        .step(
            b,
            0,
            Sign,
            |now| Request::FetchStatement {
                period: hotline::relay::period_of(now - hotline::constants::ENVELOPE_TTL_SECS),
            },
            None,
        );
    seqs.push(s);

    // SPEC.md 14.17: a franked notification, stamped at delivery, is
    // reported once, then as a duplicate; a business's submission, a forged
    // stamp, content that does not open the tag and a report after the
    // window are refused.
    let mut s = Sequence::new("franking_reports");
    let spam: &[u8] = b"Win a free flight! Send your card number to claim.";
    let franking = hotline::relay::FrankingKey::from_bytes([0x4B; 32]);
    s.step(a, 0, Sign, consent(a, b, ConsentScope::ALL), None);
    let at = s.now + CLOCK_STEPS[1];
    let header = EnvelopeHeader {
        sender: fx.signers[b].id,
        recipient: fx.signers[a].id,
        message_id: MessageId([0x0F; 16]),
        class: Notification,
        sent_at: at,
        franking: franking.commit(spam),
    };
    let message = hotline::relay::Reportable {
        header,
        received_at: at,
        stamp: hotline::relay::RelayKey::from_seed(&[0x5e; 32]).stamp(&header, at),
        key: franking,
    };
    let mut forged = message.clone();
    forged.stamp.0[0] ^= 1;
    let report = |m: &hotline::relay::Reportable, content: &'static [u8]| {
        let m = m.clone();
        let by = &fx.signers[a].identity;
        move |now| {
            Request::Report(Box::new(hotline::relay::SpamReport::sign(
                by,
                &m,
                content,
                hotline::relay::ReportReason::Spam,
                now,
            )))
        }
    };
    s.step(
        b,
        1,
        Sign,
        |_| {
            Request::Send(Envelope {
                header,
                ciphertext: r0.clone(),
            })
        },
        None,
    )
    .step(a, 0, Sign, fetch(10), None)
    .step(a, 1, Sign, report(&message, spam), None)
    .step(a, 1, Sign, report(&message, spam), None)
    .step(
        b,
        0,
        Sign,
        report(&message, spam),
        Some(Refusal::WrongAccountKind),
    )
    .step(a, 0, Sign, report(&forged, spam), Some(Refusal::BadStamp))
    .step(
        a,
        0,
        Sign,
        report(&message, b"Win a free flight!"),
        Some(Refusal::BadReport),
    )
    .step(
        a,
        7,
        Sign,
        report(&message, spam),
        Some(Refusal::ReportTooOld),
    );
    seqs.push(s);

    let mut s = Sequence::new("notifications_consent_withdrawn");
    s.step(a, 0, Sign, consent(a, b, notifications_only), None)
        .step(
            b,
            1,
            Sign,
            |now| envelope(b, a, 1, Notification, now, &r0),
            None,
        )
        .step(
            b,
            0,
            Sign,
            |now| envelope(b, a, 2, Chat, now, &r1),
            Some(Refusal::NoConsent),
        )
        .step(a, 1, Sign, consent(a, b, ConsentScope::NONE), None)
        .step(
            b,
            0,
            Sign,
            |now| envelope(b, a, 3, Notification, now, &r1),
            Some(Refusal::NoConsent),
        )
        .step(
            a,
            0,
            Sign,
            |now| envelope(a, b, 4, Notification, now, &m0),
            Some(Refusal::NotificationFromCustomer),
        );
    seqs.push(s);

    let mut s = Sequence::new("chat_window_closes");
    s.step(a, 0, Sign, consent(a, b, ConsentScope::ALL), None)
        .step(a, 0, Sign, |now| envelope(a, b, 1, Chat, now, &m0), None)
        .step(b, 5, Sign, |now| envelope(b, a, 2, Chat, now, &r0), None)
        .step(
            b,
            1,
            Sign,
            |now| envelope(b, a, 3, Chat, now, &r1),
            Some(Refusal::WindowClosed),
        )
        .step(
            b,
            0,
            Sign,
            |now| envelope(b, a, 4, Notification, now, &r1),
            None,
        )
        .step(a, 0, Sign, fetch(1), None);
    seqs.push(s);

    let newcomer = &fx.signers[n].identity;
    let newcomer_store = PreKeyStore::new(newcomer, 1, 1, &mut rng(0x5EED_0501));
    let newcomer_upload = PreKeyUpload {
        signed_prekey: Some(newcomer_store.signed_prekey()),
        last_resort_kem_prekey: Some(newcomer_store.last_resort_kem_prekey()),
        one_time_prekeys: newcomer_store.one_time_prekeys(),
        kem_prekeys: newcomer_store.kem_prekeys(),
    };
    let register_newcomer = |_: u64| Request::RegisterBusiness {
        identity: newcomer.public(),
        certificate_chain: Vec::new(),
    };
    let mut s = Sequence::new("newcomer_business");
    s.step(
        n,
        0,
        Sign,
        move |_| Request::FetchBundle { owner: id(n) },
        Some(Refusal::UnknownAccount),
    )
    .step(n, 0, Sign, register_newcomer, None)
    .step(
        n,
        0,
        Sign,
        move |_| Request::FetchBundle { owner: id(n) },
        Some(Refusal::NoBundle),
    )
    .step(
        n,
        0,
        Sign,
        move |_| Request::UploadPreKeys(newcomer_upload),
        None,
    )
    .step(
        a,
        1,
        Sign,
        move |_| Request::FetchBundle { owner: id(n) },
        None,
    )
    .step(a, 0, Sign, consent(a, n, ConsentScope::ALL), None)
    .step(
        n,
        0,
        Sign,
        move |_| Request::ExportConsent { customer: id(a) },
        None,
    )
    .step(
        n,
        0,
        Sign,
        // A business registering again renews its chain (SPEC.md 14.1).
        register_newcomer,
        None,
    );
    seqs.push(s);

    let mut s = Sequence::new("newcomer_customer");
    s.step(
        n,
        0,
        Sign,
        |_| Request::RegisterCustomer {
            identity: newcomer.public(),
        },
        None,
    )
    .step(n, 0, Sign, consent(n, b, chat_only), None)
    .step(n, 1, Sign, |now| envelope(n, b, 1, Chat, now, &m1), None)
    .step(b, 1, Sign, |now| envelope(b, n, 2, Chat, now, &r0), None)
    .step(
        a,
        0,
        Sign,
        |now| envelope(a, n, 3, Chat, now, &m0),
        Some(Refusal::UnsupportedRoute),
    )
    .step(
        a,
        0,
        Sign,
        consent(a, n, ConsentScope::ALL),
        Some(Refusal::UnsupportedRoute),
    )
    .step(
        a,
        0,
        Sign,
        |_| Request::RegisterCustomer {
            identity: newcomer.public(),
        },
        Some(Refusal::IdentityMismatch),
    );
    seqs.push(s);

    let mut s = Sequence::new("export_consent_history");
    s.step(a, 0, Sign, consent(a, b, ConsentScope::ALL), None)
        .step(a, 1, Sign, consent(a, b, chat_only), None)
        .step(c, 0, Sign, consent(c, b, notifications_only), None)
        .step(
            b,
            0,
            Sign,
            move |_| Request::ExportConsent { customer: id(a) },
            None,
        )
        .step(
            a,
            0,
            Sign,
            move |_| Request::ExportConsent { customer: id(a) },
            Some(Refusal::WrongAccountKind),
        )
        .step(
            b,
            0,
            Sign,
            consent(b, a, ConsentScope::ALL),
            Some(Refusal::WrongAccountKind),
        )
        .step(
            a,
            0,
            Sign,
            consent(c, b, ConsentScope::ALL),
            Some(Refusal::RecordNotYours),
        )
        .step(
            a,
            0,
            Sign,
            |now| {
                Request::Consent(ConsentRecord::sign(
                    key(a),
                    id(b),
                    ConsentScope::ALL,
                    now + 301,
                ))
            },
            Some(Refusal::StaleRecord),
        );
    seqs.push(s);

    let mut s = Sequence::new("replays_and_counters");
    s.step(a, 0, Sign, status, None)
        .raw_step(a, 0, Replay, &[0], 1, Some(Refusal::ReplayedRequest))
        .step(a, 0, OldCounter, status, Some(Refusal::ReplayedRequest))
        .step(a, 0, Twice, status, None)
        .step(a, 0, Stale, status, Some(Refusal::StaleRequest))
        .step(a, 0, EdgeFuture, status, None)
        .raw_step(a, 3, Replay, &[0], 1, Some(Refusal::StaleRequest))
        .step(a, 0, MaxCounter, status, None)
        .step(a, 0, Sign, status, Some(Refusal::ReplayedRequest));
    seqs.push(s);

    // Bodies that do not start with the initial-message type bytes (1, 1),
    // so the initial-message limit stays out of this sequence.
    let small = |i: u8| vec![0x10 + i; 100];
    // Two senders fill the mailbox (one alone reaches its share first).
    let mut s = Sequence::new("mailbox_full_and_duplicates");
    for i in 1..=4u8 {
        let body = small(i);
        let from = if i == 4 { c } else { a };
        s.step(
            from,
            0,
            Sign,
            move |now| envelope(from, b, i, Chat, now, &body),
            None,
        );
    }
    let (b1, b5) = (small(1), small(5));
    s.step(
        c,
        0,
        Sign,
        move |now| envelope(c, b, 5, Chat, now, &b5),
        Some(Refusal::MailboxFull),
    )
    .step(
        a,
        0,
        Sign,
        |now| envelope(a, b, 6, Chat, now, &small(6)),
        Some(Refusal::SenderQuotaExceeded),
    )
    .step(a, 0, Sign, |now| envelope(a, b, 1, Chat, now, &b1), None)
    .step(b, 0, Sign, fetch(2), None)
    .step(b, 0, Sign, ack(vec![1, 2, 3]), None)
    .step(a, 0, Sign, |now| envelope(a, b, 1, Chat, now, &b1), None)
    .step(b, 0, Sign, ack(vec![4]), None)
    .step(a, 0, Sign, |now| envelope(a, b, 1, Chat, now, &b1), None)
    .step(
        a,
        0,
        Sign,
        |now| envelope(a, b, 9, Chat, now, &[7; 1200]),
        None,
    )
    .step(
        c,
        0,
        Sign,
        |now| envelope(c, b, 10, Chat, now, &[7; 1200]),
        Some(Refusal::MailboxFull),
    )
    .step(
        c,
        0,
        Sign,
        |now| envelope(c, b, 11, Chat, now, &[7; 2000]),
        Some(Refusal::SenderQuotaExceeded),
    );
    seqs.push(s);

    let genuine = |i: usize, counter: u64, request: Request| {
        SignedRequest::sign(key(i), counter, RELAY_T0, request).to_bytes()
    };
    let mut s = Sequence::new("raw_signed_requests");
    s.raw_step(a, 0, Sign, &genuine(a, 2, Request::PreKeyStatus), 0, None)
        .raw_step(
            a,
            0,
            Sign,
            &genuine(a, 2, Request::PreKeyStatus),
            0,
            Some(Refusal::ReplayedRequest),
        )
        .raw_step(
            c,
            0,
            Sign,
            &genuine(
                c,
                5,
                Request::RegisterCustomer {
                    identity: key(c).public(),
                },
            ),
            0,
            Some(Refusal::AlreadyRegistered),
        )
        .raw_step(
            b,
            0,
            Sign,
            &genuine(b, 3, Request::FetchBundle { owner: id(b) }),
            0,
            None,
        )
        .raw_step(
            b,
            3,
            Sign,
            &genuine(b, 9, Request::PreKeyStatus),
            0,
            Some(Refusal::StaleRequest),
        );
    seqs.push(s);

    let mut s = Sequence::new("sender_and_record_checks");
    s.step(
        a,
        0,
        Sign,
        |now| envelope(c, b, 1, Chat, now, &m0),
        Some(Refusal::SenderMismatch),
    )
    .step(
        a,
        0,
        Sign,
        |now| envelope(a, n, 2, Chat, now, &m0),
        Some(Refusal::UnknownAccount),
    )
    .step(
        a,
        0,
        Sign,
        consent(a, n, ConsentScope::ALL),
        Some(Refusal::UnknownAccount),
    )
    .step(
        n,
        0,
        Sign,
        |_| Request::PreKeyStatus,
        Some(Refusal::UnknownAccount),
    );
    // A record whose signature is broken: refused as it is, accepted once
    // the harness re-signs it.
    let mut broken = rh::body(Request::Consent(ConsentRecord::sign(
        key(a),
        id(b),
        ConsentScope::ALL,
        RELAY_T0,
    )));
    *broken.last_mut().expect("record") ^= 1;
    s.raw_step(a, 0, SignAsIs, &broken, 1, Some(Refusal::BadRecord))
        .raw_step(a, 0, Sign, &broken, 1, None);
    seqs.push(s);

    // SPEC.md 14.13: the business staples a status; a replay of it, one
    // for another serial and a customer's are refused; lists are refused
    // by this relay's allow list.
    let valid = &cert_fixtures()
        .chains
        .iter()
        .find(|c| c.name == "chain_valid")
        .expect("chain_valid")
        .chain;
    let issuer = cert_fixtures()
        .issuer(valid.issuer().issuer_id())
        .expect("issuer");
    let serial = valid.business().serial();
    let good = issuer.status(serial, RELAY_T0 - 60, RELAY_T0 + 86_400);
    let other = issuer.status(serial + 1, RELAY_T0 - 30, RELAY_T0 + 86_400);
    let (g1, g2, g3) = (good.clone(), good.clone(), good);
    let list = cert_fixtures().lists[1].list.clone();
    let mut s = Sequence::new("stapled_status");
    s.step(
        b,
        0,
        Sign,
        move |_| Request::PublishStatus(g1.clone()),
        None,
    )
    .step(
        b,
        0,
        Sign,
        move |_| Request::PublishStatus(g2.clone()),
        Some(Refusal::BadStatus),
    )
    .step(
        b,
        0,
        Sign,
        move |_| Request::PublishStatus(other.clone()),
        Some(Refusal::BadStatus),
    )
    .step(
        a,
        0,
        Sign,
        move |_| Request::PublishStatus(g3.clone()),
        Some(Refusal::WrongAccountKind),
    )
    .step(
        a,
        0,
        Sign,
        move |_| Request::FetchBundle { owner: id(b) },
        None,
    )
    .step(
        a,
        0,
        Sign,
        move |_| Request::PublishRevocationList {
            list: list.clone(),
            issuer: None,
        },
        Some(Refusal::TrustStateFixed),
    );
    seqs.push(s);

    let mut s = Sequence::new("envelope_expiry");
    s.step(a, 0, Sign, |now| envelope(a, b, 1, Chat, now, &m0), None)
        .step(b, 7, Sign, fetch(10), None)
        .step(a, 0, Sign, |now| envelope(a, b, 1, Chat, now, &m0), None)
        .step(b, 0, Sign, fetch(10), None);
    seqs.push(s);

    // Uploads the relay must refuse: a one-time prekey of low order (the
    // harness re-signs it), a one-time KEM prekey in the last-resort slot.
    let one = PreKeyUpload {
        one_time_prekeys: business_store().one_time_prekeys()[..1].to_vec(),
        ..PreKeyUpload::default()
    };
    let mut low_order = rh::body(Request::UploadPreKeys(one));
    // op, two absent flags, count, id, key tag: the key's 32 bytes follow.
    low_order[10..42].fill(0);
    let wrong_kind = PreKeyUpload {
        last_resort_kem_prekey: Some(business_store().kem_prekeys()[0].clone()),
        ..PreKeyUpload::default()
    };
    let mut s = Sequence::new("uploads_refused");
    s.raw_step(b, 0, Sign, &low_order, 1, Some(Refusal::BadPreKey))
        .step(
            b,
            0,
            Sign,
            move |_| Request::UploadPreKeys(wrong_kind),
            Some(Refusal::BadPreKey),
        )
        .step(b, 0, Sign, status, None);
    seqs.push(s);

    for s in &seqs {
        write(out, t, s.name, s.check());
    }
    relay_handle_regressions();
}

/// Writes the crafted reproducers of `fuzz/regressions/relay_handle/`
/// (replayed by the smoke run) and checks they now run clean.
fn relay_handle_regressions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let fx = relay_fixture();
    let (a, n) = (CUSTOMER_A, NEWCOMER);
    // The newcomer registers with its identity's X25519 key replaced by a
    // low-order point (the harness re-signs the identity), uploads a signed
    // prekey and a last-resort prekey (re-signed by the harness), and a
    // customer fetches its bundle.
    let mut register = rh::body(Request::RegisterCustomer {
        identity: fx.signers[n].identity.public(),
    });
    // op, Ed25519 tag and key, X25519 tag: the X25519 key's 32 bytes follow.
    register[35..67].fill(0);
    let store = business_store();
    let upload = rh::body(Request::UploadPreKeys(PreKeyUpload {
        signed_prekey: Some(store.signed_prekey()),
        last_resort_kem_prekey: Some(store.last_resort_kem_prekey()),
        ..PreKeyUpload::default()
    }));
    let owner = fx.signers[n].id;
    let mut s = Sequence::new("low_order_identity");
    s.raw_step(n, 0, Mode::Sign, &register, 1, Some(Refusal::BadIdentity))
        .raw_step(n, 0, Mode::Sign, &upload, 1, Some(Refusal::UnknownAccount))
        .step(
            a,
            0,
            Mode::Sign,
            move |_| Request::FetchBundle { owner },
            Some(Refusal::UnknownAccount),
        );
    write(&dir, "relay_handle", s.name, &s.bytes);
    s.check();
}

/// pq_conversation: scripts (format in `fuzz_targets/pq_conversation.rs`)
/// of a balanced conversation, which completes epochs, and of a lopsided
/// one with losses, reordering, replays and store/restore.
fn pq_conversation_seeds(out: &Path) {
    let t = "pq_conversation";
    // Send 4 * 37 bytes from the customer, deliver, the same back.
    let balanced: Vec<u8> = (0..400).map(|i| [0x20, 0x22, 0x21, 0x23][i % 4]).collect();
    write(out, t, "balanced", &balanced);
    let mut lossy = Vec::new();
    for i in 0..100 {
        // The customer sends one short message, the business three.
        lossy.extend_from_slice(&[0x08, 0x01, 0x01, 0x01]);
        // To the business: delivered, or lost every fifth round.
        lossy.push(if i % 5 == 0 { 0x04 } else { 0x02 });
        // To the customer: one delivered, one reordered or lost, one more.
        lossy.extend_from_slice(&[0x03, if i % 4 == 0 { 0x05 } else { 0x0B }, 0x13]);
        if i % 10 == 9 {
            // Store and restore both, then replay a delivered message.
            lossy.extend_from_slice(&[0x06, 0x07]);
        }
    }
    lossy.truncate(400);
    write(out, t, "lopsided_lossy_stored", &lossy);
}

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
    MessageClass, MessageId, PreKeyStatus, PreKeyUpload, Refusal, Request, Response, SignedRequest,
};
use hotline::{PreKeyBundle, Session};
use hotline_fuzz::certs::{
    ISSUER_REVOKED, ISSUER_VERIFIED, NOW, RETIRED_ROOT_ID, cert_fixtures, check_chain, check_list,
    resign_chain, resign_list,
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
    // prekeys, session, peer sessions) and bit 2 the version (0 = current).
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
        assert_eq!(version, 2);
        let mut plain = vec![kind - 1];
        plain.extend_from_slice(&plaintext);
        assert_eq!(
            reseal::seal_record(&key, version, kind, address, &plaintext).len(),
            record.len(),
            "the harness's record layout matches the library's"
        );
        write(&out, s, &format!("{name}.plain"), &plain);
    }

    certificate_seeds(&out);
    relay_seeds(&out);

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
            | "list_issuer8_seq1"
            | "list_revoked_issuer9" => outcome.is_ok(),
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

    let header = EnvelopeHeader {
        sender: me,
        recipient: airline,
        message_id: MessageId([0x3c; 16]),
        class: MessageClass::Chat,
        sent_at: now,
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
    ];
    for (counter, (name, signer, request)) in requests.into_iter().enumerate() {
        let bytes = SignedRequest::sign(signer, counter as u64 + 1, now, request).to_bytes();
        let back = SignedRequest::from_bytes(&bytes).expect("genuine request decodes");
        assert_eq!(back.to_bytes(), bytes, "{name}");
        write(out, t, name, &bytes);
    }

    let bundle = store.bundle().with_certificate_chain(Some(chain));
    let responses: Vec<(&str, Result<Response, Refusal>)> = vec![
        ("response_bundle", Ok(Response::Bundle(Box::new(bundle)))),
        (
            "response_mailbox",
            Ok(Response::Mailbox {
                deliveries: vec![Delivery {
                    id: 1,
                    received_at: now + 1,
                    envelope: envelope.clone(),
                }],
                more: false,
                prekeys_low: true,
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
            })),
        ),
        ("response_refused_replay", Err(Refusal::ReplayedRequest)),
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

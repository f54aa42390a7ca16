//! Replays the relay scripts of tests/vectors/relay.json (SPEC.md 14)
//! against the library's relay: each step's response bytes, and the code
//! (SPEC.md 10.7) of its result.

use std::sync::{Arc, RwLock};

use hotline::business::{TrustRoot, TrustStore};
use hotline::code::Coded;
use hotline::relay::{
    AccountId, DeliveryState, MailboxLimits, ManualClock, MemoryStore, MessageClass, MessageId,
    RateLimits, Receipt, Relay, RelayError, RelayKey, RelayPublicKey, Response, SignedRequest,
    StateEntry, Statement, StatementDigest, TokenBucket,
};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn num(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

fn bucket(v: &Value) -> Option<TokenBucket> {
    (!v.is_null()).then(|| TokenBucket {
        capacity: u32::try_from(num(&v["capacity"])).unwrap(),
        refill_secs: u32::try_from(num(&v["refill_secs"])).unwrap(),
    })
}

fn relay(root: &[u8], start: u64, settings: &Value) -> (Relay<MemoryStore>, Arc<ManualClock>) {
    let mut trust = TrustStore::new();
    trust
        .add_root(TrustRoot::from_bytes(root).unwrap())
        .unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let usize_of = |k: &str| usize::try_from(num(&settings[k])).unwrap();
    let limits = MailboxLimits {
        max_envelopes: usize_of("max_envelopes"),
        max_bytes: usize_of("max_bytes"),
        max_envelopes_per_sender: usize_of("max_envelopes_per_sender"),
        max_bytes_per_sender: usize_of("max_bytes_per_sender"),
        ttl_secs: num(&settings["ttl_secs"]),
        remembered_ids: usize_of("remembered_ids"),
    };
    let rates = RateLimits {
        bundle_fetches_per_customer: bucket(&settings["bundle_fetches_per_customer"]),
        one_time_prekeys_per_owner: bucket(&settings["one_time_prekeys_per_owner"]),
        initial_messages_per_customer: bucket(&settings["initial_messages_per_customer"]),
        ..RateLimits::NONE
    };
    let relay = match settings["trust_store"].as_str().unwrap() {
        "shared" => Relay::new(
            MemoryStore::new(),
            clock.clone(),
            Arc::new(RwLock::new(trust)),
        ),
        "fixed" => Relay::new(MemoryStore::new(), clock.clone(), trust),
        other => panic!("unknown trust store {other}"),
    }
    .with_limits(limits)
    .with_rate_limits(rates)
    .with_key(RelayKey::from_seed(
        &unhex(&settings["relay_key_seed"]).try_into().unwrap(),
    ));
    // SPEC.md 14.17: the default tiers unless the script sets its own.
    let relay = match settings.get("notification_tiers") {
        Some(t) => relay.with_notification_tiers(
            hotline::relay::NotificationTiers::new(
                t["limits"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| u32::try_from(num(l)).unwrap())
                    .collect(),
                u8::try_from(num(&t["start"])).unwrap(),
                u32::try_from(num(&t["reports_per_step"])).unwrap(),
            )
            .unwrap(),
        ),
        None => relay,
    };
    (relay, clock)
}

#[test]
fn relay_scripts_replay() {
    let business = load("business.json");
    let root = unhex(&business["encodings"]["trust_root"]);
    let vectors = load("relay.json");
    let scripts = vectors["scripts"]["scripts"].as_array().unwrap();
    assert!(scripts.len() >= 4);
    let mut steps_run = 0;
    for script in scripts {
        let name = script["name"].as_str().unwrap();
        let start = num(&script["start"]);
        // Two relays in step: one answers the bytes (Relay::handle), the
        // other gives the typed result whose code the step names.
        let (bytes_relay, bytes_clock) = relay(&root, start, &script["settings"]);
        let (typed_relay, typed_clock) = relay(&root, start, &script["settings"]);
        for step in script["steps"].as_array().unwrap() {
            let step_name = step["name"].as_str().unwrap();
            let at = num(&step["at"]);
            bytes_clock.set(at);
            typed_clock.set(at);
            let request = unhex(&step["request"]);
            assert_eq!(
                bytes_relay.handle(&request),
                unhex(&step["response"]),
                "{name}: {step_name}: response"
            );
            let result = SignedRequest::from_bytes(&request)
                .map_err(RelayError::from)
                .and_then(|r| typed_relay.handle_request(&r));
            let got: Value = match &result {
                Ok(_) => Value::String("ok".into()),
                Err(e) => {
                    let code: Value = serde_json::from_str(&e.error_code().to_string()).unwrap();
                    serde_json::json!({ "error": code })
                }
            };
            assert_eq!(got, step["result"], "{name}: {step_name}: result");
            // The response bytes are the refusal of the result.
            assert_eq!(
                Response::encode_result(&result.map_err(|e| e.refusal())),
                unhex(&step["response"]),
                "{name}: {step_name}: refusal"
            );
            steps_run += 1;
        }
    }
    assert!(steps_run > 50);
}

/// The receipts and statements of relay.json (SPEC.md 14.16): each is
/// rebuilt from its fields with the relay key of the inputs, decodes to
/// them, and verifies; each refusal fails with its code.
#[test]
fn receipt_and_statement_vectors() {
    let relay = load("relay.json");
    let seed: [u8; 32] = unhex(&relay["inputs"]["relay_key_seed"])
        .try_into()
        .unwrap();
    let key = RelayKey::from_seed(&seed);
    assert_eq!(
        key.public().to_bytes().to_vec(),
        unhex(&relay["inputs"]["relay_public_key"])
    );
    let id = |v: &Value| AccountId(unhex(v).try_into().unwrap());
    let mut checked = 0;
    for case in relay["receipts"].as_array().unwrap() {
        let bytes = unhex(&case["encoding"]);
        if let Some(expected) = case.get("error") {
            let public: [u8; 32] = unhex(&case["relay_public_key"]).try_into().unwrap();
            let err = RelayPublicKey::from_bytes(&public)
                .and_then(|k| Receipt::from_bytes(&bytes).and_then(|r| r.verify(&k)))
                .expect_err(case["name"].as_str().unwrap());
            assert_eq!(err.error_code().code, expected["code"].as_str().unwrap());
            continue;
        }
        let entry = StateEntry {
            sequence: num(&case["sequence"]),
            sender: id(&case["sender"]),
            recipient: id(&case["recipient"]),
            message_id: MessageId(unhex(&case["message_id"]).try_into().unwrap()),
            class: MessageClass::from_byte(num(&case["class"]) as u8).unwrap(),
            state: DeliveryState::from_byte(num(&case["state"]) as u8).unwrap(),
            time: num(&case["time"]),
        };
        assert_eq!(
            Receipt::sign(&key, entry).to_bytes(),
            bytes,
            "{}",
            case["name"]
        );
        let decoded = Receipt::from_bytes(&bytes).unwrap();
        decoded.verify(&key.public()).unwrap();
        assert_eq!(
            decoded.entry().billed_period().map(u64::from),
            case["billed_period"].as_u64()
        );
        checked += 1;
    }
    assert_eq!(checked, 6);
    for case in relay["statements"].as_array().unwrap() {
        let mut digest = StatementDigest::new();
        for b in case["billed"].as_array().unwrap() {
            digest.add(
                num(&b["sequence"]),
                &id(&b["recipient"]),
                &MessageId(unhex(&b["message_id"]).try_into().unwrap()),
            );
        }
        let s = Statement::sign(
            &key,
            id(&case["business"]),
            num(&case["period"]) as u32,
            digest,
            num(&case["time"]),
        );
        assert_eq!(s.to_bytes(), unhex(&case["encoding"]), "{}", case["name"]);
        assert_eq!(s.closed, case["closed"].as_bool().unwrap());
        assert_eq!(s.digest.to_vec(), unhex(&case["digest"]));
        let decoded = Statement::from_bytes(&unhex(&case["encoding"])).unwrap();
        decoded.verify(&key.public()).unwrap();
    }
}

/// The report vectors (SPEC.md 14.17): the headers' tags are the
/// commitments of the given keys to the given contents, the stamp is the
/// relay key's, the report re-signs to the same bytes and decodes, and
/// the refused ones fail with the error given.
#[test]
fn franking_and_report_vectors() {
    use hotline::IdentityKeyPair;
    use hotline::relay::{
        EnvelopeHeader, FrankingKey, FrankingStamp, ReportReason, Reportable, SpamReport,
    };
    let relay = load("relay.json");
    let seed: [u8; 32] = unhex(&relay["inputs"]["relay_key_seed"])
        .try_into()
        .unwrap();
    let key = RelayKey::from_seed(&seed);
    let reports = &relay["reports"];
    let headers = relay["envelope_headers"].as_array().unwrap();
    let header = |i: usize| EnvelopeHeader::from_bytes(&unhex(&headers[i]["encoding"])).unwrap();
    let franking = |k: &str| FrankingKey::from_bytes(unhex(&reports[k]).try_into().unwrap());
    let chat = header(0);
    assert!(franking("chat_franking_key").opens(&chat.franking, &unhex(&reports["chat_content"])));
    let notification = header(1);
    let content = unhex(&reports["content"]);
    assert!(franking("franking_key").opens(&notification.franking, &content));
    let received_at = num(&reports["received_at"]);
    let stamp = key.stamp(&notification, received_at);
    assert_eq!(stamp.0.to_vec(), unhex(&reports["stamp"]));
    assert!(key.stamped(&notification, received_at, &FrankingStamp(stamp.0)));
    assert!(!key.stamped(&notification, received_at + 1, &stamp));
    let customer = IdentityKeyPair::from_secret_bytes(
        &unhex(&relay["inputs"]["customer_ed25519_seed"])
            .try_into()
            .unwrap(),
        &unhex(&relay["inputs"]["customer_x25519_secret"])
            .try_into()
            .unwrap(),
    );
    let m = Reportable {
        header: notification,
        received_at,
        stamp,
        key: franking("franking_key"),
    };
    let reason = ReportReason::from_byte(num(&reports["reason"]) as u8).unwrap();
    let bytes = unhex(&reports["encoding"]);
    let signed = SpamReport::sign(&customer, &m, &content, reason, num(&reports["time"]));
    assert_eq!(signed.to_bytes(), bytes);
    let decoded = SpamReport::from_bytes(&bytes).unwrap();
    assert_eq!(decoded, signed);
    assert_eq!(decoded.reporter(), notification.recipient);
    assert_eq!(decoded.reported(), notification.sender);
    let mut refused = 0;
    for case in reports["refused"].as_array().unwrap() {
        let err = SpamReport::from_bytes(&unhex(&case["encoding"]))
            .expect_err(case["name"].as_str().unwrap());
        assert_eq!(
            err.error_code().code,
            case["error"]["code"].as_str().unwrap()
        );
        refused += 1;
    }
    assert_eq!(refused, 4);
}

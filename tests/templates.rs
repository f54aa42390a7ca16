//! Message templates (SPEC.md 13.17): a business sends notifications only
//! as templates its issuer approved, and the customer's client is where
//! that is checked, since the relay never sees the text.

mod common;

use hotline::business::*;
use hotline::code::Coded;
use hotline::hazmat::ed25519::Ed25519Secret;
use hotline::relay::MessageClass;
use hotline::store::{Client, MemoryStore, PeerId, StorageKey};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;

type C = Client<MemoryStore>;

const NOW: u64 = 1_800_000_000;
const ISSUER_SEED: [u8; 32] = [0x15; 32];
const BUSINESS: BusinessId = BusinessId([0x4b; 16]);
const ALWAYS: Validity = Validity {
    not_before: 0,
    not_after: u64::MAX,
};

struct Platform {
    root: RootAuthority,
    issuer: IssuerAuthority,
}

fn issuer_with(id: u32, seed: &[u8; 32], root: &RootAuthority) -> IssuerAuthority {
    let key = Ed25519Secret::from_seed(seed).public_key();
    let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
    let cert = root.certify_issuer(id, &key, levels, ALWAYS).unwrap();
    IssuerAuthority::new(seed, cert).unwrap()
}

fn platform() -> Platform {
    let root = RootAuthority::from_seed(&[0x11; 32], 1, ALWAYS);
    let issuer = issuer_with(7, &ISSUER_SEED, &root);
    Platform { root, issuer }
}

fn new_client(r: &mut ChaCha20Rng) -> C {
    Client::create(MemoryStore::in_memory(StorageKey::generate(r)), 5, 5, r).unwrap()
}

/// A certified business with a session to a customer who wrote first, and
/// the customer's peer id of the business.
fn chat(p: &Platform, r: &mut ChaCha20Rng, not_after: u64) -> (C, C, PeerId) {
    let mut business = new_client(r);
    let cert = p
        .issuer
        .issue(&BusinessCertificateRequest {
            serial: 1001,
            business_id: BUSINESS,
            identity_key: *business.identity().signing_key(),
            name: "Example Air".into(),
            localized: vec![],
            level: VerificationLevel::Verified,
            validity: Validity {
                not_before: 0,
                not_after,
            },
        })
        .unwrap();
    let chain = CertificateChain::new(p.issuer.certificate().clone(), cert);
    business
        .update_prekeys(|pk| pk.set_certificate_chain(chain.clone()))
        .unwrap()
        .unwrap();
    let mut customer = new_client(r);
    customer
        .update_trust(|t| t.add_root(p.root.trust_root()))
        .unwrap();
    let to_business = PeerId::account(&business.account_id());
    let bundle = business.bundle().unwrap();
    let verified = customer.trust_store().verify_bundle(&bundle, NOW).unwrap();
    customer
        .start_verified_session(&to_business, &bundle, &verified, r)
        .unwrap();
    let env = customer
        .seal(&to_business, MessageClass::Chat, NOW, b"hello", r)
        .unwrap();
    business.open_envelope(&env).unwrap();
    (business, customer, to_business)
}

fn departure(issuer: &IssuerAuthority) -> MessageTemplate {
    issuer
        .approve_template(
            BUSINESS,
            1,
            TemplateCategory::Utility,
            "en",
            "Flight {{1}} now departs at {{2}}.",
            ALWAYS,
        )
        .unwrap()
}

/// The business seals `content` as a notification; the customer opens it
/// and renders it.
fn deliver(
    business: &mut C,
    customer: &mut C,
    r: &mut ChaCha20Rng,
    content: &[u8],
    now: u64,
) -> Result<RenderedNotification, TemplateError> {
    let to_customer = PeerId::account(&customer.account_id());
    let env = business
        .seal(&to_customer, MessageClass::Notification, NOW, content, r)
        .unwrap();
    let received = customer.open_envelope(&env).unwrap();
    assert_eq!(received.class, MessageClass::Notification);
    customer.render_notification(&received, now).unwrap()
}

#[test]
fn an_approved_template_renders_in_the_customers_client() {
    let mut r = common::rng(1701);
    let p = platform();
    let (mut business, mut customer, _) = chat(&p, &mut r, u64::MAX);
    let content = TemplatedNotification::new(&departure(&p.issuer), &["KL1234", "14:05"])
        .unwrap()
        .to_bytes();
    let shown = deliver(&mut business, &mut customer, &mut r, &content, NOW).unwrap();
    assert_eq!(
        shown,
        RenderedNotification {
            template_id: 1,
            category: TemplateCategory::Utility,
            language: "en".into(),
            text: "Flight KL1234 now departs at 14:05.".into(),
        }
    );
}

#[test]
fn free_text_and_templates_the_issuer_never_signed_are_refused() {
    let mut r = common::rng(1702);
    let p = platform();
    let (mut business, mut customer, _) = chat(&p, &mut r, u64::MAX);

    // Free text in a notification.
    let err = deliver(&mut business, &mut customer, &mut r, b"BUY NOW", NOW).unwrap_err();
    assert_eq!(err.code(), "template.decode");

    // A template the business signed itself with its identity key.
    let own_seed = [0x77; 32];
    let root = RootAuthority::from_seed(&[0x12; 32], 1, ALWAYS);
    let self_made = issuer_with(7, &own_seed, &root);
    let forged = TemplatedNotification::new(&departure(&self_made), &["KL1", "9:00"])
        .unwrap()
        .to_bytes();
    let err = deliver(&mut business, &mut customer, &mut r, &forged, NOW).unwrap_err();
    assert_eq!(err, TemplateError::BadSignature);

    // A template approved for another business, or by another issuer.
    let other = p
        .issuer
        .approve_template(
            BusinessId([0x4c; 16]),
            1,
            TemplateCategory::Utility,
            "en",
            "Hello {{1}}",
            ALWAYS,
        )
        .unwrap();
    let content = TemplatedNotification::new(&other, &["x"])
        .unwrap()
        .to_bytes();
    let err = deliver(&mut business, &mut customer, &mut r, &content, NOW).unwrap_err();
    assert_eq!(err, TemplateError::WrongBusiness);
    let issuer_8 = issuer_with(8, &[0x16; 32], &p.root);
    let content = TemplatedNotification::new(&departure(&issuer_8), &["a", "b"])
        .unwrap()
        .to_bytes();
    let err = deliver(&mut business, &mut customer, &mut r, &content, NOW).unwrap_err();
    assert_eq!(err, TemplateError::WrongBusiness);
}

#[test]
fn a_category_or_text_changed_after_approval_breaks_the_signature() {
    let t = departure(&platform().issuer);
    let key = Ed25519Secret::from_seed(&ISSUER_SEED).public_key();
    assert_eq!(t.verify(&key), Ok(()));
    let bytes = t.to_bytes();
    // Category byte: version, type, issuer id (4), business id (16),
    // template id (4).
    let mut relabeled = bytes.clone();
    relabeled[26] = TemplateCategory::Marketing.to_byte();
    let relabeled = MessageTemplate::from_bytes(&relabeled).unwrap();
    assert_eq!(relabeled.category(), TemplateCategory::Marketing);
    assert_eq!(relabeled.verify(&key), Err(TemplateError::BadSignature));
    // One letter of the text.
    let mut edited = bytes.clone();
    let at = edited.windows(6).position(|w| w == b"Flight").unwrap();
    edited[at] = b'f';
    let edited = MessageTemplate::from_bytes(&edited).unwrap();
    assert_eq!(edited.verify(&key), Err(TemplateError::BadSignature));
}

#[test]
fn a_revoked_business_cannot_notify_even_with_approved_templates() {
    let mut r = common::rng(1703);
    let p = platform();
    let (mut business, mut customer, _) = chat(&p, &mut r, u64::MAX);
    let list = p.issuer.revoke(2, NOW, NOW + 604_800, &[1001]).unwrap();
    customer
        .update_trust(|t| t.apply_revocation_list(&list, Some(p.issuer.certificate()), NOW))
        .unwrap();
    let content = TemplatedNotification::new(&departure(&p.issuer), &["KL1", "9:00"])
        .unwrap()
        .to_bytes();
    let err = deliver(&mut business, &mut customer, &mut r, &content, NOW + 1).unwrap_err();
    assert_eq!(err, TemplateError::NotVerified);
}

#[test]
fn a_template_outside_its_validity_is_refused_at_the_skew_boundary() {
    let mut r = common::rng(1704);
    let p = platform();
    let (mut business, mut customer, _) = chat(&p, &mut r, u64::MAX);
    let window = Validity {
        not_before: NOW,
        not_after: NOW + 100,
    };
    let t = p
        .issuer
        .approve_template(
            BUSINESS,
            2,
            TemplateCategory::Authentication,
            "en",
            "Code {{1}}",
            window,
        )
        .unwrap();
    let content = TemplatedNotification::new(&t, &["123456"])
        .unwrap()
        .to_bytes();
    for (now, ok) in [
        (NOW - 300, true),
        (NOW - 301, false),
        (NOW + 400, true),
        (NOW + 401, false),
    ] {
        let got = deliver(&mut business, &mut customer, &mut r, &content, now);
        assert_eq!(got.is_ok(), ok, "at {now}: {got:?}");
        if !ok {
            assert_eq!(got.unwrap_err(), TemplateError::NotValid { now });
        }
    }
}

#[test]
fn template_text_rules() {
    let issuer = platform().issuer;
    let approve = |body: &str| {
        issuer.approve_template(BUSINESS, 3, TemplateCategory::Marketing, "en", body, ALWAYS)
    };
    let rule = |body: &str| match approve(body) {
        Err(TemplateError::BadText(rule)) => rule,
        other => panic!("{body:?}: {other:?}"),
    };
    assert_eq!(rule("Sale \u{202E}won"), "forbidden_character");
    assert_eq!(rule("Sale\u{200B}"), "forbidden_character");
    assert_eq!(rule("tab\there"), "forbidden_character");
    assert_eq!(rule("Cafe\u{301}"), "not_nfc");
    assert_eq!(rule("Hi {{0}}"), "malformed_placeholder");
    assert_eq!(rule("Hi {{10}}"), "malformed_placeholder");
    assert_eq!(rule("Hi {{x}}"), "malformed_placeholder");
    assert_eq!(rule("Hi {{1}"), "malformed_placeholder");
    assert_eq!(rule("Hi }} {{1}}"), "stray_closing_braces");
    assert_eq!(rule("Hi {{1}} }}"), "stray_closing_braces");
    assert_eq!(
        approve("Hi {{1}} and {{3}}"),
        Err(TemplateError::Placeholders)
    );
    assert_eq!(approve("Hi {{2}}"), Err(TemplateError::Placeholders));
    // Every placeholder used, in any order and more than once; a line feed
    // is allowed; no placeholder at all is a template without parameters.
    assert_eq!(approve("{{2}} then {{1}}, {{2}}\nbye").unwrap().params(), 2);
    assert_eq!(approve("Thank you").unwrap().params(), 0);
    assert_eq!(
        approve("{{9}}{{8}}{{7}}{{6}}{{5}}{{4}}{{3}}{{2}}{{1}}")
            .unwrap()
            .params(),
        9
    );
    // Length bounds: exactly MAX_TEMPLATE_BODY_LEN bytes is accepted.
    let max = hotline::constants::MAX_TEMPLATE_BODY_LEN;
    assert!(approve(&"a".repeat(max)).is_ok());
    assert!(matches!(
        approve(&"a".repeat(max + 1)),
        Err(TemplateError::Decode(_))
    ));
    assert!(matches!(approve(""), Err(TemplateError::Decode(_))));
    assert!(matches!(
        issuer.approve_template(BUSINESS, 3, TemplateCategory::Utility, "e", "x", ALWAYS),
        Err(TemplateError::Decode(_))
    ));
}

#[test]
fn parameters_cannot_carry_layout_direction_or_placeholders() {
    let t = departure(&platform().issuer);
    let max = hotline::constants::MAX_TEMPLATE_PARAM_LEN;
    for (bad, index) in [
        (vec!["KL1\u{202E}", "x"], 1),
        (vec!["KL1", "line\nbreak"], 2),
        (vec!["{{1}}", "x"], 1),
        (vec!["a", "}}"], 2),
        (vec!["a", "\u{2066}"], 2),
    ] {
        assert_eq!(
            TemplatedNotification::new(&t, &bad),
            Err(TemplateError::BadParam { index }),
            "{bad:?}"
        );
    }
    let long = "x".repeat(max);
    assert!(TemplatedNotification::new(&t, &[&long, "b"]).is_ok());
    let too_long = "x".repeat(max + 1);
    assert_eq!(
        TemplatedNotification::new(&t, &[&too_long, "b"]),
        Err(TemplateError::BadParam { index: 1 })
    );
    assert_eq!(
        TemplatedNotification::new(&t, &["only one"]),
        Err(TemplateError::ParamCount {
            expected: 2,
            got: 1
        })
    );
    // The same refusals on decoding: a parameter count or a parameter
    // changed on the wire.
    let bytes = TemplatedNotification::new(&t, &["ab", "cd"])
        .unwrap()
        .to_bytes();
    let count_at = bytes.len() - (1 + 2 + 2 + 2 + 2);
    let mut fewer = bytes.clone();
    fewer[count_at] = 1;
    assert_eq!(
        TemplatedNotification::from_bytes(&fewer),
        Err(TemplateError::ParamCount {
            expected: 2,
            got: 1
        })
    );
    let mut newline = bytes.clone();
    let last = newline.len() - 1;
    newline[last] = b'\n';
    assert_eq!(
        TemplatedNotification::from_bytes(&newline),
        Err(TemplateError::BadParam { index: 2 })
    );
}

#[test]
fn a_parameter_is_never_read_as_a_placeholder() {
    // One pass from the left: "{{2}}" inside parameter 1 would be refused,
    // and a parameter that looks like text of the template stays a value.
    let t = departure(&platform().issuer);
    let key = Ed25519Secret::from_seed(&ISSUER_SEED).public_key();
    let n = TemplatedNotification::new(&t, &["{2}", "{ {1} }"]).unwrap();
    let shown = n.render_for(BUSINESS, 7, &key, NOW).unwrap();
    assert_eq!(shown.text, "Flight {2} now departs at { {1} }.");
}

#[test]
fn every_truncation_of_a_notification_is_a_typed_error() {
    let t = departure(&platform().issuer);
    let bytes = TemplatedNotification::new(&t, &["KL1234", "14:05"])
        .unwrap()
        .to_bytes();
    assert!(TemplatedNotification::from_bytes(&bytes).is_ok());
    for len in 0..bytes.len() {
        let err = TemplatedNotification::from_bytes(&bytes[..len]).unwrap_err();
        assert!(err.error_code().matches_table(), "{len}: {err:?}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        TemplatedNotification::from_bytes(&longer),
        Err(TemplateError::Decode(hotline::DecodeError::TrailingBytes(
            1
        )))
    ));
    // A template is not another object, nor another object a template.
    let status = platform()
        .issuer
        .certify_status(1, NOW, NOW + 10)
        .unwrap()
        .to_bytes();
    assert!(matches!(
        MessageTemplate::from_bytes(&status),
        Err(TemplateError::Decode(
            hotline::DecodeError::WrongObjectType { .. }
        ))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..1600)) {
        let _ = MessageTemplate::from_bytes(&bytes);
        if let Ok(n) = TemplatedNotification::from_bytes(&bytes) {
            let key = Ed25519Secret::from_seed(&ISSUER_SEED).public_key();
            let _ = n.render_for(BUSINESS, 7, &key, NOW);
        }
    }

    #[test]
    fn rendering_puts_every_parameter_in_its_place(
        a in "[a-zA-Z0-9 .:]{0,40}",
        b in "[a-zA-Z0-9 .:]{0,40}",
    ) {
        let t = departure(&platform().issuer);
        let key = Ed25519Secret::from_seed(&ISSUER_SEED).public_key();
        let wire = TemplatedNotification::new(&t, &[&a, &b]).unwrap().to_bytes();
        let n = TemplatedNotification::from_bytes(&wire).unwrap();
        let shown = n.render_for(BUSINESS, 7, &key, NOW).unwrap();
        prop_assert_eq!(shown.text, format!("Flight {a} now departs at {b}."));
    }
}

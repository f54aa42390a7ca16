// The relay's test suite, run against every store (included by
// tests/relay.rs and tests/relay_sqlite.rs, which define `new_store`).

use std::sync::{Arc, Mutex};

use hotline::constants::{
    BUNDLE_FETCH_REFILL_SECS, CHAT_WINDOW_SECS, ENVELOPE_TTL_SECS, LOW_PREKEY_THRESHOLD, MAX_DIRECTORY_PREKEYS,
    REQUEST_TIME_WINDOW_SECS, STATE_RETENTION_SECS,
};
use hotline::business::{
    BusinessCertificateRequest, BusinessId, CertificateChain, IssuerAuthority, LevelSet, Peer,
    RootAuthority, TrustStore, ValidationError, Validity, VerificationLevel,
};
include!("envelope.rs");

use hotline::relay::{
    RequestSigner, AccountId, AccountKind, AllowList, CertificateRefused, CertificateValidator, BlockRecord, ConsentRecord, ConsentScope, Delivery, Envelope,
    EnvelopeHeader, MailboxLimits, ManualClock, MessageClass, MessageId, PolicyError,
    PreKeySlot, PreKeyUpload, RecordError, Refusal, Relay, RelayError, RelayStore, Request, RequestError, Response,
    SignedRequest, DeliveryState, Receipt, ReceiptError, RelayKey, StatementDigest, period_of,
    FrankingKey, NotificationTiers, ReportError, ReportReason, Reportable, SpamReport,
};
use hotline::{DecryptError, IdentityKeyPair, PreKeyStore, Session};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const T0: u64 = 1_700_000_000;

struct World {
    relay: Arc<Relay<Box<dyn RelayStore>>>,
    clock: ManualClock,
    rng: ChaCha20Rng,
    log: Arc<Mutex<Vec<String>>>,
}

struct Party {
    account: RequestSigner,
    prekeys: PreKeyStore,
}

impl Party {
    fn id(&self) -> AccountId {
        self.account.id()
    }
}

fn world_with(seed: u64, limits: MailboxLimits, trusted: &[&IdentityKeyPair]) -> World {
    let mut trust = AllowList::new();
    for b in trusted {
        trust.allow(&b.public(), "Example Air");
    }
    world_validated_by(seed, limits, trust)
}

fn world_validated_by(
    seed: u64,
    limits: MailboxLimits,
    trust: impl CertificateValidator + 'static,
) -> World {
    world_tiered(seed, limits, trust, NotificationTiers::default())
}

fn world_tiered(
    seed: u64,
    limits: MailboxLimits,
    trust: impl CertificateValidator + 'static,
    tiers: NotificationTiers,
) -> World {
    let clock = ManualClock::new(T0);
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let relay = Relay::new(new_store(), clock.clone(), trust)
        .with_limits(limits)
        .with_notification_tiers(tiers)
        .with_log(move |line| sink.lock().unwrap().push(line.to_owned()));
    World {
        relay: Arc::new(relay),
        clock,
        rng: ChaCha20Rng::seed_from_u64(seed),
        log,
    }
}

impl World {
    fn now(&self) -> u64 {
        hotline::relay::Clock::now(&self.clock)
    }

    fn call(&self, p: &mut Party, req: Request) -> Result<Response, RelayError> {
        let signed = p.account.sign(req, self.now());
        self.relay.handle_request(&signed)
    }

    /// Through the byte-level entry point, as a transport would.
    fn call_bytes(&self, p: &mut Party, req: Request) -> Result<Response, Refusal> {
        let signed = p.account.sign(req, self.now());
        let reply = self.relay.handle(&signed.to_bytes());
        Response::decode_result(&reply).expect("relay responses decode")
    }

    fn party(&mut self, otk: usize) -> Party {
        let identity = IdentityKeyPair::generate(&mut self.rng);
        let prekeys = PreKeyStore::new(&identity, otk, otk, &mut self.rng);
        Party {
            account: RequestSigner::new(identity, 0),
            prekeys,
        }
    }

    fn customer(&mut self) -> Party {
        let mut p = self.party(5);
        let identity = p.account.identity().public();
        self.call(&mut p, Request::RegisterCustomer { identity })
            .unwrap();
        p
    }

    fn business_identity(&mut self) -> IdentityKeyPair {
        IdentityKeyPair::generate(&mut self.rng)
    }

    fn register_business(&mut self, identity: IdentityKeyPair, otk: usize) -> Party {
        let prekeys = PreKeyStore::new(&identity, otk, otk, &mut self.rng);
        let mut p = Party {
            account: RequestSigner::new(identity, 0),
            prekeys,
        };
        let identity = p.account.identity().public();
        self.call(
            &mut p,
            Request::RegisterBusiness {
                identity,
                certificate_chain: Vec::new(),
            },
        )
        .unwrap();
        let upload = full_upload(&p.prekeys);
        self.call(&mut p, Request::UploadPreKeys(upload)).unwrap();
        p
    }

    fn consent(
        &self,
        c: &mut Party,
        b: &Party,
        scope: ConsentScope,
    ) -> Result<Response, RelayError> {
        let rec = ConsentRecord::sign(c.account.identity(), b.id(), scope, self.now());
        self.call(c, Request::Consent(rec))
    }

    fn block(&self, c: &mut Party, b: &Party, blocked: bool) -> Result<Response, RelayError> {
        let rec = BlockRecord::sign(c.account.identity(), b.id(), blocked, self.now());
        self.call(c, Request::Block(rec))
    }

    fn header(&mut self, from: &Party, to: &Party, class: MessageClass) -> EnvelopeHeader {
        EnvelopeHeader {
            sender: from.id(),
            recipient: to.id(),
            message_id: MessageId::random(&mut self.rng),
            class,
            sent_at: self.now(),
            franking: Default::default(),
        }
    }

    /// Sends opaque bytes (for rule tests that need no session).
    fn send_raw(
        &mut self,
        from: &mut Party,
        to: &Party,
        class: MessageClass,
    ) -> Result<Response, RelayError> {
        let header = self.header(from, to, class);
        let envelope = Envelope {
            header,
            ciphertext: vec![0xAB; 100],
        };
        self.call(from, Request::Send(envelope))
    }

    /// Sends opaque bytes, which must be accepted; the message id.
    fn sent(&mut self, from: &mut Party, to: &Party, class: MessageClass) -> MessageId {
        match self.send_raw(from, to, class) {
            Ok(Response::Accepted { receipt, .. }) => receipt.entry().message_id,
            other => panic!("{other:?}"),
        }
    }

    fn fetch(&self, p: &mut Party) -> Vec<Delivery> {
        match self.call(p, Request::FetchMailbox { max: 100 }).unwrap() {
            Response::Mailbox { deliveries, .. } => deliveries,
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Every delivery state of `p`'s envelopes after `after`, page by page.
    fn states(&self, p: &mut Party, after: u64) -> Vec<Receipt> {
        let mut out: Vec<Receipt> = Vec::new();
        let mut after = after;
        loop {
            match self.call(p, Request::FetchStates { after, max: 2 }) {
                Ok(Response::States { receipts, more }) => {
                    if let Some(last) = receipts.last() {
                        after = last.entry().sequence;
                    }
                    out.extend(receipts);
                    if !more {
                        return out;
                    }
                }
                other => panic!("{other:?}"),
            }
        }
    }

    fn fetch_and_ack(&self, p: &mut Party) -> Vec<Delivery> {
        let d = self.fetch(p);
        let ids = d.iter().map(|d| d.id).collect();
        self.call(p, Request::Acknowledge { ids }).unwrap();
        d
    }
}

fn world(seed: u64) -> World {
    world_with(seed, MailboxLimits::default(), &[])
}

fn full_upload(prekeys: &PreKeyStore) -> PreKeyUpload {
    PreKeyUpload {
        signed_prekey: Some(prekeys.signed_prekey()),
        last_resort_kem_prekey: Some(prekeys.last_resort_kem_prekey()),
        one_time_prekeys: prekeys.one_time_prekeys(),
        kem_prekeys: prekeys.kem_prekeys(),
    }
}

/// A world with one customer and one trusted business with 20 prekeys.
fn pair(seed: u64) -> (World, Party, Party) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0xB);
    let biz = IdentityKeyPair::generate(&mut rng);
    let mut w = world_with(seed, MailboxLimits::default(), &[&biz]);
    let c = w.customer();
    let b = w.register_business(biz, 20);
    (w, c, b)
}

// ---------------------------------------------------------------- accounts

#[test]
fn business_registration_requires_a_trusted_certificate() {
    let mut w = world(1);
    let biz = w.business_identity();
    let mut p = Party {
        prekeys: PreKeyStore::new(&biz, 0, 0, &mut w.rng),
        account: RequestSigner::new(biz, 0),
    };
    let identity = p.account.identity().public();
    // Chain bytes that do not decode are refused whatever the validator.
    let req = Request::RegisterBusiness {
        identity,
        certificate_chain: b"not a chain".to_vec(),
    };
    assert!(matches!(
        w.call(&mut p, req.clone()),
        Err(RelayError::CertificateRefused(CertificateRefused::Invalid(
            ValidationError::Malformed(_)
        )))
    ));
    assert_eq!(w.call_bytes(&mut p, req), Err(Refusal::CertificateRefused));
    // An identity the (empty) allow list does not vouch for.
    let req = Request::RegisterBusiness {
        identity,
        certificate_chain: Vec::new(),
    };
    assert_eq!(
        w.call(&mut p, req),
        Err(RelayError::CertificateRefused(CertificateRefused::Untrusted))
    );
}

#[test]
fn registration_must_be_signed_by_the_registered_identity() {
    let mut w = world(2);
    let mut attacker = w.party(0);
    let victim = IdentityKeyPair::generate(&mut w.rng);
    let err = w
        .call(
            &mut attacker,
            Request::RegisterCustomer {
                identity: victim.public(),
            },
        )
        .unwrap_err();
    assert_eq!(err, RelayError::IdentityMismatch);
    // A replayed registration is refused.
    let mut c = w.party(0);
    let req = c.account.sign(
        Request::RegisterCustomer {
            identity: c.account.identity().public(),
        },
        w.now(),
    );
    assert_eq!(w.relay.handle_request(&req), Ok(Response::Registered));
    assert_eq!(
        w.relay.handle_request(&req),
        Err(RelayError::AlreadyRegistered)
    );
}

/// A registration whose identity carries a low-order X25519 key, with valid
/// identity and request signatures (the relay's only defence is the
/// low-order check).
fn low_order_registration(seed: [u8; 32], request: Request, now: u64) -> Vec<u8> {
    use hotline::constants::{SIG_CTX_IDENTITY, SIG_CTX_RELAY_REQUEST};
    use hotline::hazmat::ed25519::Ed25519Secret;
    let identity = IdentityKeyPair::from_secret_bytes(&seed, &[0x42; 32]);
    let signer = Ed25519Secret::from_seed(&seed);
    let mut bytes = SignedRequest::sign(&identity, 1, now, request).to_bytes();
    // version, type, account, counter, timestamp, op; then the identity:
    // Ed25519 tag and key, X25519 tag and key (zero: of low order), signature.
    let id = 2 + 32 + 8 + 8 + 1;
    bytes[id + 34..id + 66].fill(0);
    let sig = signer.sign(SIG_CTX_IDENTITY, &bytes[id..id + 66]);
    bytes[id + 66..id + 130].copy_from_slice(&sig);
    let n = bytes.len() - 64;
    let sig = signer.sign(SIG_CTX_RELAY_REQUEST, &bytes[..n]);
    bytes[n..].copy_from_slice(&sig);
    bytes
}

#[test]
fn an_identity_with_a_low_order_x25519_key_cannot_register() {
    // Such an account could never publish a bundle that verifies: every
    // fetch of its bundle would consume one-time prekeys and then fail.
    let seed = [0x5c; 32];
    let identity = IdentityKeyPair::from_secret_bytes(&seed, &[0x42; 32]);
    let mut w = world_with(41, MailboxLimits::default(), &[&identity]);
    let id = AccountId::of(&identity.public());
    for request in [
        Request::RegisterCustomer {
            identity: identity.public(),
        },
        Request::RegisterBusiness {
            identity: identity.public(),
            certificate_chain: Vec::new(),
        },
    ] {
        let bytes = low_order_registration(seed, request, w.now());
        assert_eq!(
            SignedRequest::from_bytes(&bytes),
            Err(RequestError::BadIdentity(
                hotline::IdentityError::LowOrderKey
            ))
        );
        let reply = Response::decode_result(&w.relay.handle(&bytes)).unwrap();
        assert_eq!(reply, Err(Refusal::BadIdentity));
        assert_eq!(w.relay.store().account(&id), Ok(None));
    }
    // The genuine identity still registers.
    let prekeys = PreKeyStore::new(&identity, 0, 0, &mut w.rng);
    let mut p = Party {
        account: RequestSigner::new(identity, 0),
        prekeys,
    };
    let identity = p.account.identity().public();
    assert_eq!(
        w.call(&mut p, Request::RegisterCustomer { identity }),
        Ok(Response::Registered)
    );
}

#[test]
fn bad_signatures_are_refused_with_a_typed_error() {
    let (w, mut c, _b) = pair(3);
    let signed = c.account.sign(Request::FetchMailbox { max: 10 }, w.now());
    let bytes = signed.to_bytes();
    // Flip a bit in every position: each is refused, none panics, and
    // nothing is served.
    for i in 0..bytes.len() {
        let mut forged = bytes.clone();
        forged[i] ^= 0x01;
        let reply = Response::decode_result(&w.relay.handle(&forged)).unwrap();
        let refusal = reply.unwrap_err();
        assert!(
            matches!(refusal, Refusal::BadSignature | Refusal::Malformed),
            "byte {i}: {refusal:?}"
        );
    }
    assert!(matches!(
        SignedRequest::from_bytes(&{
            let mut f = bytes.clone();
            let n = f.len();
            f[n - 1] ^= 1;
            f
        }),
        Err(RequestError::BadSignature)
    ));
    // The genuine request is still accepted afterwards.
    assert!(matches!(
        w.relay.handle_request(&signed),
        Ok(Response::Mailbox { .. })
    ));
}

#[test]
fn replayed_and_stale_requests_are_refused() {
    let (w, mut c, _b) = pair(4);
    let req = c.account.sign(Request::PreKeyStatus, w.now());
    assert!(w.relay.handle_request(&req).is_ok());
    assert!(matches!(
        w.relay.handle_request(&req),
        Err(RelayError::ReplayedRequest { .. })
    ));
    assert_eq!(
        Response::decode_result(&w.relay.handle(&req.to_bytes())).unwrap(),
        Err(Refusal::ReplayedRequest)
    );
    // A lower counter than the last accepted one.
    let lower = SignedRequest::sign(c.account.identity(), 1, w.now(), Request::PreKeyStatus);
    assert!(matches!(
        w.relay.handle_request(&lower),
        Err(RelayError::ReplayedRequest { counter: 1, .. })
    ));
    let late = c.account.sign(
        Request::PreKeyStatus,
        w.now() - REQUEST_TIME_WINDOW_SECS - 1,
    );
    assert!(matches!(
        w.relay.handle_request(&late),
        Err(RelayError::StaleRequest { .. })
    ));
    let early = c.account.sign(
        Request::PreKeyStatus,
        w.now() + REQUEST_TIME_WINDOW_SECS + 1,
    );
    assert!(matches!(
        w.relay.handle_request(&early),
        Err(RelayError::StaleRequest { .. })
    ));
    // Inside the window, fine.
    let edge = c
        .account
        .sign(Request::PreKeyStatus, w.now() + REQUEST_TIME_WINDOW_SECS);
    assert!(w.relay.handle_request(&edge).is_ok());
}

#[test]
fn unknown_accounts_cannot_act() {
    let mut w = world(5);
    let mut stranger = w.party(0);
    assert_eq!(
        w.call(&mut stranger, Request::FetchMailbox { max: 1 }),
        Err(RelayError::UnknownAccount)
    );
}

#[test]
fn nobody_sends_as_someone_else() {
    let (mut w, mut c, b) = pair(6);
    let mut mallory = w.customer();
    // Mallory signs an envelope claiming to come from the customer.
    let header = w.header(&c, &b, MessageClass::Chat);
    let env = Envelope {
        header,
        ciphertext: vec![1; 64],
    };
    assert_eq!(
        w.call(&mut mallory, Request::Send(env.clone())),
        Err(RelayError::SenderMismatch)
    );
    // The customer can.
    assert!(matches!(w.call(&mut c, Request::Send(env)), Ok(Response::Accepted { duplicate: false, .. })));
}

#[test]
fn a_mailbox_is_read_and_emptied_only_by_its_owner() {
    let (mut w, mut c, mut b) = pair(7);
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    let mut mallory = w.customer();
    // Fetch and acknowledge always act on the requester's own mailbox.
    assert!(w.fetch(&mut mallory).is_empty());
    let d = w.fetch(&mut b);
    assert_eq!(d.len(), 1);
    let ids = vec![d[0].id];
    assert_eq!(
        w.call(&mut mallory, Request::Acknowledge { ids: ids.clone() }),
        Ok(Response::Acknowledged { removed: 0 })
    );
    assert_eq!(w.fetch(&mut b).len(), 1);
    // A request claiming to be the business but signed by Mallory fails.
    let forged = {
        let mine = mallory
            .account
            .sign(Request::FetchMailbox { max: 1 }, w.now())
            .to_bytes();
        let mut f = mine.clone();
        f[2..34].copy_from_slice(&b.id().0);
        f
    };
    assert_eq!(
        Response::decode_result(&w.relay.handle(&forged)).unwrap(),
        Err(Refusal::BadSignature)
    );
}

// ---------------------------------------------------- business certificates

const ROOT_V: Validity = Validity {
    not_before: T0 - 100_000_000,
    not_after: T0 + 300_000_000,
};
const ISSUER_V: Validity = Validity {
    not_before: T0 - 50_000_000,
    not_after: T0 + 200_000_000,
};
const CERT_V: Validity = Validity {
    not_before: T0 - 1_000_000,
    not_after: T0 + 30_000_000,
};

/// A platform: a root (`root_id`) that certified issuer 7, and a trust
/// store holding the root.
struct Platform {
    root: RootAuthority,
    issuer: IssuerAuthority,
}

impl Platform {
    fn new(root_id: u32, seed: u8) -> Self {
        let root = RootAuthority::from_seed(&[seed; 32], root_id, ROOT_V);
        let mut rng = ChaCha20Rng::seed_from_u64(u64::from(seed));
        let (issuer_seed, issuer_key) = IssuerAuthority::generate_key(&mut rng);
        let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
        let cert = root
            .certify_issuer(7, &issuer_key, levels, ISSUER_V)
            .unwrap();
        let issuer = IssuerAuthority::new(&issuer_seed, cert).unwrap();
        Self { root, issuer }
    }

    fn trust(&self) -> TrustStore {
        let mut trust = TrustStore::new();
        trust.add_root(self.root.trust_root()).unwrap();
        trust
    }

    /// The encoded chain certifying `who` as "Example Air" (serial 1), or
    /// "Example Air N" for serial N, each with business id [N; 16].
    fn chain(&self, who: &IdentityKeyPair, serial: u64, validity: Validity) -> Vec<u8> {
        let cert = self
            .issuer
            .issue(&BusinessCertificateRequest {
                serial,
                business_id: BusinessId([serial as u8; 16]),
                identity_key: *who.public().signing_key(),
                name: if serial == 1 { "Example Air".into() } else { format!("Example Air {serial}") },
                localized: vec![],
                level: VerificationLevel::Verified,
                validity,
            })
            .unwrap();
        CertificateChain::new(self.issuer.certificate().clone(), cert).to_bytes()
    }
}

impl World {
    /// Registers `identity` as a business with `chain`; on success uploads
    /// its prekeys.
    fn register_with_chain(
        &mut self,
        identity: IdentityKeyPair,
        chain: Vec<u8>,
    ) -> (Party, Result<Response, RelayError>) {
        let prekeys = PreKeyStore::new(&identity, 5, 5, &mut self.rng);
        let mut p = Party {
            account: RequestSigner::new(identity, 0),
            prekeys,
        };
        let identity = p.account.identity().public();
        let req = Request::RegisterBusiness {
            identity,
            certificate_chain: chain.clone(),
        };
        let chain_bytes = chain;
        let result = self.call(&mut p, req);
        if result.is_ok() {
            // The business answers handshakes bound to its chain.
            p.prekeys
                .set_certificate_chain(CertificateChain::from_bytes(&chain_bytes).unwrap())
                .unwrap();
            let upload = full_upload(&p.prekeys);
            self.call(&mut p, Request::UploadPreKeys(upload)).unwrap();
        }
        (p, result)
    }

    /// Asserts the registration is refused with `expected`, on the wire
    /// with `CertificateRefused`, and that no account was created.
    fn assert_refused(&mut self, identity: IdentityKeyPair, chain: Vec<u8>, expected: ValidationError) {
        let id = AccountId::of(&identity.public());
        let (mut p, result) = self.register_with_chain(identity, chain.clone());
        assert_eq!(
            result,
            Err(RelayError::CertificateRefused(CertificateRefused::Invalid(
                expected
            )))
        );
        let req = Request::RegisterBusiness {
            identity: p.account.identity().public(),
            certificate_chain: chain,
        };
        assert_eq!(self.call_bytes(&mut p, req), Err(Refusal::CertificateRefused));
        let mut c = self.customer();
        assert_eq!(
            self.call(&mut c, Request::FetchBundle { owner: id }),
            Err(RelayError::UnknownAccount)
        );
    }
}

#[test]
fn a_certified_business_registers_and_customers_see_the_verified_badge() {
    let platform = Platform::new(1, 0x11);
    let mut w = world_validated_by(31, MailboxLimits::default(), platform.trust());
    let airline = w.business_identity();
    let chain = platform.chain(&airline, 1, CERT_V);
    let (mut b, result) = w.register_with_chain(airline, chain.clone());
    assert_eq!(result, Ok(Response::Registered));

    // The customer fetches the bundle through the wire encoding: it carries
    // the registered chain.
    let mut c = w.customer();
    let bundle = match w.call_bytes(&mut c, Request::FetchBundle { owner: b.id() }) {
        Ok(Response::Bundle { bundle, .. }) => bundle,
        other => panic!("{other:?}"),
    };
    assert_eq!(bundle.certificate_chain().unwrap().to_bytes(), chain);

    // The customer's client trusts its own roots, not the relay's word.
    let client_trust = platform.trust();
    let verified = client_trust.verify_bundle(&bundle, w.now()).unwrap();
    let mut cs =
        Session::initiate_verified(c.account.identity(), &bundle, &verified, &mut w.rng).unwrap();
    match cs.peer() {
        Peer::VerifiedBusiness(v) => {
            assert_eq!(v.name(), "Example Air");
            assert_eq!(v.level(), VerificationLevel::Verified);
            assert_eq!(v.identity_key(), b.account.identity().public().signing_key());
        }
        other => panic!("{other:?}"),
    }

    // The conversation runs through the relay with the chain bound in.
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    let h = w.header(&c, &b, MessageClass::Chat);
    let first = seal(&mut cs, h, b"Is my flight on time?").unwrap();
    w.call(&mut c, Request::Send(first)).unwrap();
    let d = w.fetch_and_ack(&mut b);
    let (mut bs, plain) = accept(&mut b.prekeys, &d[0].envelope).unwrap();
    assert_eq!(plain, b"Is my flight on time?");
    assert_eq!(bs.certificate_hash(), Some(verified.chain_hash()));
    let h = w.header(&b, &c, MessageClass::Chat);
    let reply = seal(&mut bs, h, b"Yes, on time.").unwrap();
    w.call(&mut b, Request::Send(reply)).unwrap();
    let d = w.fetch_and_ack(&mut c);
    assert_eq!(open(&mut cs, &d[0].envelope).unwrap(), b"Yes, on time.");

    // Another customer's client with other roots does not show the badge.
    let stranger = Platform::new(2, 0x22).trust();
    assert_eq!(
        stranger.verify_bundle(&bundle, w.now()),
        Err(ValidationError::UnknownRoot(1))
    );
}

#[test]
fn an_expired_or_not_yet_valid_chain_is_refused_with_the_reason() {
    let platform = Platform::new(1, 0x11);
    let mut w = world_validated_by(32, MailboxLimits::default(), platform.trust());
    let expired = Validity {
        not_before: T0 - 1_000_000,
        not_after: T0 - 86_400,
    };
    let airline = w.business_identity();
    let chain = platform.chain(&airline, 1, expired);
    w.assert_refused(
        airline,
        chain,
        ValidationError::Expired {
            link: hotline::business::ChainLink::Business,
            not_after: T0 - 86_400,
            now: T0,
        },
    );
    let future = Validity {
        not_before: T0 + 86_400,
        not_after: T0 + 1_000_000,
    };
    let airline = w.business_identity();
    let chain = platform.chain(&airline, 2, future);
    w.assert_refused(
        airline,
        chain,
        ValidationError::NotYetValid {
            link: hotline::business::ChainLink::Business,
            not_before: T0 + 86_400,
            now: T0,
        },
    );

    // Validation uses the relay's clock: the same chain is accepted while
    // valid, and refused once the clock has passed its end.
    let short = Validity {
        not_before: T0 - 10,
        not_after: T0 + 86_400,
    };
    let a = w.business_identity();
    let chain_a = platform.chain(&a, 3, short);
    assert_eq!(w.register_with_chain(a, chain_a).1, Ok(Response::Registered));
    w.clock.advance(2 * 86_400);
    let b = w.business_identity();
    let chain_b = platform.chain(&b, 4, short);
    w.assert_refused(
        b,
        chain_b,
        ValidationError::Expired {
            link: hotline::business::ChainLink::Business,
            not_after: T0 + 86_400,
            now: T0 + 2 * 86_400,
        },
    );
}

#[test]
fn a_revoked_certificate_is_refused_even_when_revoked_while_the_relay_runs() {
    let platform = Platform::new(1, 0x11);
    let trust = Arc::new(std::sync::RwLock::new(platform.trust()));
    let mut w = world_validated_by(33, MailboxLimits::default(), trust.clone());
    let first = w.business_identity();
    let chain = platform.chain(&first, 1, CERT_V);
    assert_eq!(w.register_with_chain(first, chain).1, Ok(Response::Registered));

    // The issuer revokes serial 2; the operator applies the list.
    let list = platform.issuer.revoke(1, T0 - 60, T0 - 60 + 604_800, &[2]).unwrap();
    trust
        .write()
        .unwrap()
        .apply_revocation_list(&list, Some(platform.issuer.certificate()), T0)
        .unwrap();
    let second = w.business_identity();
    let chain = platform.chain(&second, 2, CERT_V);
    w.assert_refused(
        second,
        chain,
        ValidationError::CertificateRevoked {
            issuer_id: 7,
            serial: 2,
        },
    );
    // An unrevoked serial still registers.
    let third = w.business_identity();
    let chain = platform.chain(&third, 3, CERT_V);
    assert_eq!(w.register_with_chain(third, chain).1, Ok(Response::Registered));
}

/// A business revoked while the relay runs sends nothing more to its
/// customers, who can still write to it; the refusal says why.
#[test]
fn a_revoked_business_can_no_longer_send_but_customers_can_still_write() {
    let platform = Platform::new(1, 0x11);
    let trust = Arc::new(std::sync::RwLock::new(platform.trust()));
    let mut w = world_validated_by(36, MailboxLimits::default(), trust.clone());
    let airline = w.business_identity();
    let chain = platform.chain(&airline, 1, CERT_V);
    let (mut b, result) = w.register_with_chain(airline, chain);
    assert_eq!(result, Ok(Response::Registered));
    let mut c = w.customer();
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    assert!(w.send_raw(&mut c, &b, MessageClass::Chat).is_ok());
    assert!(w.send_raw(&mut b, &c, MessageClass::Chat).is_ok());

    let list = platform.issuer.revoke(T0 - 60, T0 - 60, T0 - 60 + 604_800, &[1]).unwrap();
    trust
        .write()
        .unwrap()
        .apply_revocation_list(&list, Some(platform.issuer.certificate()), T0)
        .unwrap();
    match w.send_raw(&mut b, &c, MessageClass::Notification) {
        Err(RelayError::NotInGoodStanding(badge)) => assert!(matches!(
            *badge,
            hotline::business::Badge::Revoked {
                by: hotline::business::RevokedBy::Certificate {
                    issuer_id: 7,
                    ..
                },
                ..
            }
        )),
        other => panic!("a revoked business sent: {other:?}"),
    }
    let header = w.header(&b, &c, MessageClass::Chat);
    let envelope = Envelope {
        header,
        ciphertext: vec![0xAB; 100],
    };
    assert_eq!(
        w.call_bytes(&mut b, Request::Send(envelope)),
        Err(Refusal::NotInGoodStanding)
    );
    // The customer can still write (to ask, to complain).
    assert!(w.send_raw(&mut c, &b, MessageClass::Chat).is_ok());
}

/// With statuses required, a business sends only while a status is in
/// force: a relay whose operator stops receiving statuses for it stops it
/// within one status lifetime.
#[test]
fn a_business_whose_status_ran_out_cannot_send() {
    let platform = Platform::new(1, 0x11);
    let mut store = platform.trust();
    store.require_status(true);
    let trust = Arc::new(std::sync::RwLock::new(store));
    let mut w = world_validated_by(37, MailboxLimits::default(), trust.clone());
    let airline = w.business_identity();
    let chain = platform.chain(&airline, 1, CERT_V);
    let (mut b, _) = w.register_with_chain(airline, chain);
    let mut c = w.customer();
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    assert!(matches!(
        w.send_raw(&mut b, &c, MessageClass::Notification),
        Err(RelayError::NotInGoodStanding(_))
    ));
    let status = platform.issuer.certify_status(1, T0, T0 + 3600).unwrap();
    trust
        .write()
        .unwrap()
        .apply_status(&status, platform.issuer.certificate(), T0)
        .unwrap();
    assert!(w.send_raw(&mut b, &c, MessageClass::Notification).is_ok());
    w.clock.advance(3600 + hotline::constants::CLOCK_SKEW_SECS + 1);
    assert!(matches!(
        w.send_raw(&mut b, &c, MessageClass::Notification),
        Err(RelayError::NotInGoodStanding(_))
    ));
}

/// A business publishes fresh statuses of its own certificate through the
/// relay (SPEC.md 14.13): the relay checks them, staples the newest to its
/// bundles and to mailbox batches carrying its envelopes, and a relay that
/// requires statuses lets it send again. Statuses for another certificate,
/// badly signed, older, or from a customer are refused with the reason.
#[test]
fn a_business_staples_its_status_and_the_relay_hands_it_out() {
    use hotline::business::StatusError;
    let platform = Platform::new(1, 0x11);
    let mut store = platform.trust();
    store.require_status(true);
    let trust = Arc::new(std::sync::RwLock::new(store));
    let mut w = world_validated_by(39, MailboxLimits::default(), trust.clone());
    let airline = w.business_identity();
    let chain = platform.chain(&airline, 1, CERT_V);
    let (mut b, _) = w.register_with_chain(airline, chain);
    let mut c = w.customer();
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    // No status yet: nothing stapled, and this relay stops the business.
    match w.call(&mut c, Request::FetchBundle { owner: b.id() }) {
        Ok(Response::Bundle { status, .. }) => assert_eq!(status, None),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        w.send_raw(&mut b, &c, MessageClass::Notification),
        Err(RelayError::NotInGoodStanding(_))
    ));
    let status = platform.issuer.certify_status(1, T0, T0 + 3600).unwrap();
    assert_eq!(
        w.call(&mut b, Request::PublishStatus(status.clone())),
        Ok(Response::StatusStored)
    );
    assert!(w.send_raw(&mut b, &c, MessageClass::Notification).is_ok());
    match w.call(&mut c, Request::FetchBundle { owner: b.id() }) {
        Ok(Response::Bundle { status: s, .. }) => assert_eq!(s.as_ref(), Some(&status)),
        other => panic!("{other:?}"),
    }
    match w.call(&mut c, Request::FetchMailbox { max: 10 }) {
        Ok(Response::Mailbox {
            deliveries,
            statuses,
            ..
        }) => {
            assert_eq!(deliveries.len(), 1);
            assert_eq!(statuses, vec![status.clone()]);
        }
        other => panic!("{other:?}"),
    }
    // Refusals, each with its reason; the stapled status stays.
    let again = |w: &mut World, b: &mut Party, s| w.call(b, Request::PublishStatus(s));
    assert_eq!(
        again(&mut w, &mut b, status.clone()),
        Err(RelayError::BadStatus(StatusError::Stale {
            current: T0,
            offered: T0
        }))
    );
    let other_serial = platform.issuer.certify_status(2, T0 + 1, T0 + 3600).unwrap();
    assert_eq!(
        again(&mut w, &mut b, other_serial),
        Err(RelayError::BadStatus(StatusError::WrongCertificate {
            issuer_id: 7,
            serial: 2
        }))
    );
    let rogue = Platform::new(1, 0x22);
    let forged = rogue.issuer.certify_status(1, T0 + 1, T0 + 3600).unwrap();
    assert_eq!(
        again(&mut w, &mut b, forged),
        Err(RelayError::BadStatus(StatusError::BadSignature))
    );
    let future = platform
        .issuer
        .certify_status(1, T0 + 3600, T0 + 7200)
        .unwrap();
    assert!(matches!(
        again(&mut w, &mut b, future),
        Err(RelayError::BadStatus(StatusError::InFuture { .. }))
    ));
    let fresh = platform.issuer.certify_status(1, T0 + 1, T0 + 3600).unwrap();
    assert_eq!(
        w.call(&mut c, Request::PublishStatus(fresh.clone())),
        Err(RelayError::WrongAccountKind(
            hotline::relay::AccountKind::Business
        ))
    );
    assert_eq!(
        w.call_bytes(&mut b, Request::PublishStatus(status.clone())),
        Err(Refusal::BadStatus)
    );
    // A newer one replaces it.
    assert_eq!(again(&mut w, &mut b, fresh.clone()), Ok(Response::StatusStored));
    match w.call(&mut c, Request::FetchBundle { owner: b.id() }) {
        Ok(Response::Bundle { status: s, .. }) => assert_eq!(s, Some(fresh)),
        other => panic!("{other:?}"),
    }
}

/// A relay that keeps no trust state (an allow list) still checks a
/// published status itself before stapling it: the clock-skew boundary,
/// the signature and the certificate (SPEC.md 14.13, steps 1 to 3).
#[test]
fn a_relay_without_trust_state_still_checks_published_statuses() {
    use hotline::business::StatusError;
    use hotline::constants::CLOCK_SKEW_SECS;
    let platform = Platform::new(1, 0x11);
    let airline = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(4201));
    let mut w = world_with(42, MailboxLimits::default(), &[&airline]);
    let chain = platform.chain(&airline, 1, CERT_V);
    let (mut b, result) = w.register_with_chain(airline, chain);
    assert_eq!(result, Ok(Response::Registered));
    let future = platform
        .issuer
        .certify_status(1, T0 + CLOCK_SKEW_SECS + 1, T0 + 3600)
        .unwrap();
    assert_eq!(
        w.call(&mut b, Request::PublishStatus(future)),
        Err(RelayError::BadStatus(StatusError::InFuture {
            this_update: T0 + CLOCK_SKEW_SECS + 1,
            now: T0
        }))
    );
    let rogue = Platform::new(1, 0x23);
    let forged = rogue.issuer.certify_status(1, T0, T0 + 3600).unwrap();
    assert_eq!(
        w.call(&mut b, Request::PublishStatus(forged)),
        Err(RelayError::BadStatus(StatusError::BadSignature))
    );
    // At the edge of the clock skew: accepted, and stapled.
    let edge = platform
        .issuer
        .certify_status(1, T0 + CLOCK_SKEW_SECS, T0 + 3600)
        .unwrap();
    assert_eq!(
        w.call(&mut b, Request::PublishStatus(edge.clone())),
        Ok(Response::StatusStored)
    );
    let mut c = w.customer();
    match w.call(&mut c, Request::FetchBundle { owner: b.id() }) {
        Ok(Response::Bundle { status, .. }) => assert_eq!(status, Some(edge)),
        other => panic!("{other:?}"),
    }
}

/// The platform publishes revocation lists through the relay: a relay
/// judging by an updatable trust state applies them at once (the revoked
/// business stops sending); one with a fixed validator says so.
#[test]
fn revocation_lists_published_through_the_relay_take_effect() {
    use hotline::business::RevocationError;
    let platform = Platform::new(1, 0x11);
    let trust = Arc::new(std::sync::RwLock::new(platform.trust()));
    let mut w = world_validated_by(40, MailboxLimits::default(), trust.clone());
    let airline = w.business_identity();
    let chain = platform.chain(&airline, 1, CERT_V);
    let (mut b, _) = w.register_with_chain(airline, chain);
    let mut c = w.customer();
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    assert!(w.send_raw(&mut b, &c, MessageClass::Notification).is_ok());
    let list = platform
        .issuer
        .revoke(T0 - 60, T0 - 60, T0 + 86_400, &[1])
        .unwrap();
    let publish = |list: &hotline::business::RevocationList| Request::PublishRevocationList {
        list: list.clone(),
        issuer: Some(platform.issuer.certificate().clone()),
    };
    // Without the issuer's certificate the list cannot be checked.
    assert_eq!(
        w.call(
            &mut c,
            Request::PublishRevocationList {
                list: list.clone(),
                issuer: None
            }
        ),
        Err(RelayError::BadRevocationList(
            RevocationError::IssuerCertificateNeeded(7)
        ))
    );
    assert_eq!(
        w.call(&mut c, publish(&list)),
        Ok(Response::RevocationListApplied { sequence: T0 - 60 })
    );
    assert_eq!(
        trust
            .read()
            .unwrap()
            .revocation_sequence(hotline::business::RevocationScope::BusinessCertificates, 7),
        Some(T0 - 60)
    );
    assert!(matches!(
        w.send_raw(&mut b, &c, MessageClass::Notification),
        Err(RelayError::NotInGoodStanding(_))
    ));
    // Replaying it is refused as stale.
    assert!(matches!(
        w.call(&mut c, publish(&list)),
        Err(RelayError::BadRevocationList(RevocationError::Stale { .. }))
    ));
    // A relay whose operator alone updates its trust state refuses lists.
    let mut fixed = world_validated_by(41, MailboxLimits::default(), platform.trust());
    let mut d = fixed.customer();
    assert_eq!(
        fixed.call(&mut d, publish(&list)),
        Err(RelayError::TrustStateFixed)
    );
    assert_eq!(
        fixed.call_bytes(&mut d, publish(&list)),
        Err(Refusal::TrustStateFixed)
    );
}

/// A business renews its chain for the same identity key: no new account,
/// no identity change, and its bundles carry the new chain.
#[test]
fn a_business_renews_its_chain_for_the_same_identity() {
    let platform = Platform::new(1, 0x11);
    let mut w = world_validated_by(38, MailboxLimits::default(), platform.trust());
    let airline = w.business_identity();
    let chain = platform.chain(&airline, 1, CERT_V);
    let (mut b, result) = w.register_with_chain(airline, chain);
    assert_eq!(result, Ok(Response::Registered));
    let renewed = platform
        .issuer
        .issue(&BusinessCertificateRequest {
            serial: 101,
            business_id: BusinessId([1; 16]),
            identity_key: *b.account.identity().public().signing_key(),
            name: "Example Air".into(),
            localized: vec![],
            level: VerificationLevel::Verified,
            validity: CERT_V,
        })
        .unwrap();
    let renewed = CertificateChain::new(platform.issuer.certificate().clone(), renewed);
    // The status stapled for the old certificate goes with it.
    let status = platform.issuer.certify_status(1, T0, T0 + 3600).unwrap();
    assert_eq!(
        w.call(&mut b, Request::PublishStatus(status)),
        Ok(Response::StatusStored)
    );
    let identity = b.account.identity().public();
    assert_eq!(
        w.call(
            &mut b,
            Request::RegisterBusiness {
                identity,
                certificate_chain: renewed.to_bytes(),
            },
        ),
        Ok(Response::Registered)
    );
    b.prekeys.set_certificate_chain(renewed.clone()).unwrap();
    let mut c = w.customer();
    match w.call(&mut c, Request::FetchBundle { owner: b.id() }) {
        Ok(Response::Bundle { bundle, status }) => {
            assert_eq!(bundle.identity(), &identity);
            assert_eq!(bundle.certificate_chain(), Some(&renewed));
            assert_eq!(status, None);
        }
        other => panic!("{other:?}"),
    }
    // A customer account cannot turn itself into a business this way.
    let identity = c.account.identity().public();
    let chain = platform.chain(c.account.identity(), 9, CERT_V);
    assert_eq!(
        w.call(
            &mut c,
            Request::RegisterBusiness {
                identity,
                certificate_chain: chain,
            },
        ),
        Err(RelayError::AlreadyRegistered)
    );
}

/// The relay refuses to register a business whose name, or a localized
/// name, can be mistaken for one registered for another business id,
/// exact duplicates included; the same business id may register a new key.
#[test]
fn look_alike_names_are_refused_at_registration() {
    let platform = Platform::new(1, 0x11);
    let mut w = world_validated_by(39, MailboxLimits::default(), platform.trust());
    let issue = |w: &mut World, id: u8, serial: u64, name: &str, localized: Vec<(String, String)>| {
        let who = w.business_identity();
        let cert = platform
            .issuer
            .issue(&BusinessCertificateRequest {
                serial,
                business_id: BusinessId([id; 16]),
                identity_key: *who.public().signing_key(),
                name: name.into(),
                localized,
                level: VerificationLevel::Verified,
                validity: CERT_V,
            })
            .unwrap();
        let chain = CertificateChain::new(platform.issuer.certificate().clone(), cert);
        w.register_with_chain(who, chain.to_bytes()).1
    };
    assert_eq!(issue(&mut w, 1, 1, "Booking.com", vec![]), Ok(Response::Registered));
    for (serial, name) in [(2, "Booking.corn"), (3, "B00king.com"), (4, "booking.com"), (5, "Booking.com"), (16, "BOOKING.COM")] {
        match issue(&mut w, 2, serial, name, vec![]) {
            Err(RelayError::ConfusableName { name: n, existing }) => {
                assert_eq!((n.as_str(), existing.as_str()), (name, "Booking.com"));
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // A localized name counts as much as the display name.
    assert!(matches!(
        issue(&mut w, 3, 6, "Skyline Travel BV", vec![("en".into(), "B0oking.com".into())]),
        Err(RelayError::ConfusableName { .. })
    ));
    // The same business under a new identity key keeps its name.
    assert_eq!(issue(&mut w, 1, 7, "Booking.com", vec![]), Ok(Response::Registered));
    // An unrelated name registers.
    assert_eq!(issue(&mut w, 4, 8, "Skyline Travel BV", vec![]), Ok(Response::Registered));
}

#[test]
fn a_chain_under_an_unknown_root_is_refused() {
    let platform = Platform::new(1, 0x11);
    let rogue = Platform::new(9, 0x99);
    let mut w = world_validated_by(34, MailboxLimits::default(), platform.trust());
    let airline = w.business_identity();
    let chain = rogue.chain(&airline, 1, CERT_V);
    w.assert_refused(airline, chain, ValidationError::UnknownRoot(9));
}

#[test]
fn a_chain_for_another_identity_or_no_chain_is_refused() {
    let platform = Platform::new(1, 0x11);
    let mut w = world_validated_by(35, MailboxLimits::default(), platform.trust());
    // An impostor registers with the airline's genuine chain.
    let airline = w.business_identity();
    let chain = platform.chain(&airline, 1, CERT_V);
    let impostor = w.business_identity();
    w.assert_refused(impostor, chain.clone(), ValidationError::KeyMismatch);
    let impostor = w.business_identity();
    w.assert_refused(impostor, Vec::new(), ValidationError::NoCertificate);
    // A chain whose business signature was tampered with.
    let airline2 = w.business_identity();
    let chain2 = platform.chain(&airline2, 2, CERT_V);
    let mut forged2 = chain2.clone();
    let last2 = forged2.len() - 1;
    forged2[last2] ^= 1;
    w.assert_refused(
        airline2,
        forged2,
        ValidationError::BadSignature(hotline::business::ChainLink::Business),
    );
    // The genuine owner registers.
    assert_eq!(w.register_with_chain(airline, chain).1, Ok(Response::Registered));
}

// --------------------------------------------------------------- directory

#[test]
fn uploads_with_any_bad_signature_are_refused_whole() {
    let (mut w, _c, mut b) = pair(8);
    let mut mallory = w.customer();
    // Mallory uploads the business's genuine prekeys as her own: every
    // signature is checked against the uploader's identity.
    let upload = full_upload(&b.prekeys);
    assert!(matches!(
        w.call(&mut mallory, Request::UploadPreKeys(upload)),
        Err(RelayError::BadPreKeySignature {
            slot: PreKeySlot::Signed,
            ..
        })
    ));
    // One tampered one-time prekey among good ones: the whole upload is refused.
    let before = match w.call(&mut b, Request::PreKeyStatus).unwrap() {
        Response::PreKeyStatus(s) => s,
        other => panic!("{other:?}"),
    };
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let mut fresh = b.prekeys.add_one_time_prekeys(3, &mut rng);
    fresh[1].signature[0] ^= 1;
    let upload = PreKeyUpload {
        one_time_prekeys: fresh,
        ..Default::default()
    };
    assert!(matches!(
        w.call(&mut b, Request::UploadPreKeys(upload)),
        Err(RelayError::BadPreKeySignature {
            slot: PreKeySlot::OneTime,
            ..
        })
    ));
    let after = match w.call(&mut b, Request::PreKeyStatus).unwrap() {
        Response::PreKeyStatus(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(before, after);
    // A last-resort key offered as one-time is refused.
    let upload = PreKeyUpload {
        kem_prekeys: vec![b.prekeys.last_resort_kem_prekey()],
        ..Default::default()
    };
    assert!(matches!(
        w.call(&mut b, Request::UploadPreKeys(upload)),
        Err(RelayError::WrongKemKind {
            slot: PreKeySlot::Kem,
            ..
        })
    ));
}

#[test]
fn low_order_prekeys_are_refused_at_upload() {
    // A signature over a low-order key is valid, so only the key check stops it.
    let (w, _c, mut b) = pair(9);
    let mut otk = b.prekeys.one_time_prekeys()[0];
    otk.key = hotline::types::X25519Public::from_bytes([0; 32]);
    let upload = PreKeyUpload {
        one_time_prekeys: vec![otk],
        ..Default::default()
    };
    let err = w.call(&mut b, Request::UploadPreKeys(upload)).unwrap_err();
    // The signature no longer matches either; whichever check runs first,
    // it is refused with a prekey error.
    assert!(matches!(
        err,
        RelayError::BadPreKeySignature { .. } | RelayError::LowOrderPreKey { .. }
    ));
}

#[test]
fn directory_limit_is_enforced() {
    let (w, _c, mut b) = pair(10);
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let mut total = 20;
    loop {
        let batch = b.prekeys.add_one_time_prekeys(100, &mut rng);
        let upload = PreKeyUpload {
            one_time_prekeys: batch,
            ..Default::default()
        };
        match w.call(&mut b, Request::UploadPreKeys(upload)) {
            Ok(_) => total += 100,
            Err(e) => {
                assert_eq!(e, RelayError::TooManyPreKeys);
                break;
            }
        }
    }
    assert!(total <= MAX_DIRECTORY_PREKEYS);
}

#[test]
fn each_one_time_prekey_is_handed_out_once_then_last_resort() {
    let (mut w, mut c, b) = pair(11);
    let mut seen_otk = std::collections::HashSet::new();
    let mut seen_kem = std::collections::HashSet::new();
    for i in 0..25 {
        // Paced below the customer's bundle-fetch limit (SPEC.md 14.11).
        w.clock.advance(u64::from(BUNDLE_FETCH_REFILL_SECS));
        let bundle = match w
            .call(&mut c, Request::FetchBundle { owner: b.id() })
            .unwrap()
        {
            Response::Bundle { bundle, .. } => {
                // Vouched for by hand, with no chain: the bundle carries none.
                assert!(bundle.certificate_chain().is_none());
                bundle
            }
            other => panic!("{other:?}"),
        };
        match bundle.one_time_prekey() {
            Some(k) => assert!(seen_otk.insert(k.id), "one-time prekey {} twice", k.id),
            None => assert!(i >= 20),
        }
        let kem = bundle.kem_prekey();
        if i < 20 {
            assert_eq!(kem.kind, hotline::KemPreKeyKind::OneTime);
            assert!(seen_kem.insert(kem.id));
        } else {
            assert_eq!(kem.id, b.prekeys.last_resort_kem_prekey().id);
        }
    }
    assert_eq!(seen_otk.len(), 20);
    // The customer can start a session from any handed-out bundle.
    let _ = &mut w;
}

#[test]
fn low_prekey_signal() {
    let (mut w, mut c, mut b) = pair(12);
    let status = |w: &World, b: &mut Party| match w.call(b, Request::PreKeyStatus).unwrap() {
        Response::PreKeyStatus(s) => s,
        other => panic!("{other:?}"),
    };
    assert!(!status(&w, &mut b).low);
    for _ in 0..(20 - LOW_PREKEY_THRESHOLD + 1) {
        w.call(&mut c, Request::FetchBundle { owner: b.id() })
            .unwrap();
    }
    assert!(status(&w, &mut b).low);
    // The mailbox fetch carries the signal too.
    match w.call(&mut b, Request::FetchMailbox { max: 1 }).unwrap() {
        Response::Mailbox { prekeys_low, .. } => assert!(prekeys_low),
        other => panic!("{other:?}"),
    }
    // Refill clears it.
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let upload = PreKeyUpload {
        one_time_prekeys: b.prekeys.add_one_time_prekeys(20, &mut rng),
        kem_prekeys: b.prekeys.add_kem_prekeys(20, &mut rng),
        ..Default::default()
    };
    match w.call(&mut b, Request::UploadPreKeys(upload)).unwrap() {
        Response::PreKeysStored(s) => assert!(!s.low),
        other => panic!("{other:?}"),
    }
    let _ = &mut w.rng;
}

#[test]
fn concurrent_fetches_never_hand_out_a_one_time_prekey_twice() {
    let (mut w, _c, b) = pair(13);
    let fetchers: Vec<Party> = (0..8).map(|_| w.customer()).collect();
    let owner = b.id();
    let now = w.now();
    let handles: Vec<_> = fetchers
        .into_iter()
        .map(|mut p| {
            let relay = w.relay.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                for _ in 0..10 {
                    let req = p.account.sign(Request::FetchBundle { owner }, now);
                    if let Ok(Response::Bundle { bundle, .. }) = relay.handle_request(&req) {
                        got.push((
                            bundle.one_time_prekey().map(|k| k.id),
                            bundle.kem_prekey().id,
                            bundle.kem_prekey().kind,
                        ));
                    }
                }
                got
            })
        })
        .collect();
    let all: Vec<_> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(all.len(), 80);
    let otks: Vec<u32> = all.iter().filter_map(|(o, _, _)| *o).collect();
    let unique: std::collections::HashSet<_> = otks.iter().collect();
    assert_eq!(otks.len(), 20, "exactly the 20 uploaded one-time prekeys");
    assert_eq!(unique.len(), 20, "none twice");
    let kems: Vec<u32> = all
        .iter()
        .filter(|(_, _, k)| *k == hotline::KemPreKeyKind::OneTime)
        .map(|(_, id, _)| *id)
        .collect();
    let unique: std::collections::HashSet<_> = kems.iter().collect();
    assert_eq!((kems.len(), unique.len()), (20, 20));
}

#[test]
fn a_handed_out_prekey_id_is_never_stored_again() {
    let (mut w, mut c, mut b) = pair(14);
    let first = match w.call(&mut c, Request::FetchBundle { owner: b.id() }).unwrap() {
        Response::Bundle { bundle, .. } => bundle,
        other => panic!("{other:?}"),
    };
    let spent_ot = *first.one_time_prekey().unwrap();
    let spent_kem = first.kem_prekey().clone();
    let counts = |w: &World, b: &mut Party| match w.call(b, Request::PreKeyStatus).unwrap() {
        Response::PreKeyStatus(s) => (s.one_time, s.kem),
        other => panic!("{other:?}"),
    };
    let before = counts(&w, &mut b);
    // A re-upload of the handed-out key (a client restored from an old
    // backup, or a buggy one), with a fresh key beside it: refused whole.
    let fresh = b.prekeys.add_one_time_prekeys(1, &mut w.rng);
    let upload = PreKeyUpload {
        one_time_prekeys: vec![fresh[0], spent_ot],
        ..Default::default()
    };
    assert_eq!(
        w.call(&mut b, Request::UploadPreKeys(upload)),
        Err(RelayError::SpentPreKeyId {
            slot: PreKeySlot::OneTime,
            id: spent_ot.id,
            spent: spent_ot.id,
        })
    );
    let upload = PreKeyUpload {
        kem_prekeys: vec![spent_kem.clone()],
        ..Default::default()
    };
    assert_eq!(
        w.call_bytes(&mut b, Request::UploadPreKeys(upload)),
        Err(Refusal::BadPreKey)
    );
    assert_eq!(counts(&w, &mut b), before, "a refused upload stored nothing");
    // Fresh ids above the mark are still welcome.
    let upload = PreKeyUpload {
        one_time_prekeys: fresh,
        ..Default::default()
    };
    w.call(&mut b, Request::UploadPreKeys(upload)).unwrap();
    assert_eq!(counts(&w, &mut b), (before.0 + 1, before.1));
    // And the spent key never comes back.
    for _ in 0..25 {
        w.clock.advance(u64::from(BUNDLE_FETCH_REFILL_SECS));
        if let Response::Bundle { bundle, .. } =
            w.call(&mut c, Request::FetchBundle { owner: b.id() }).unwrap()
        {
            assert_ne!(bundle.one_time_prekey(), Some(&spent_ot));
            assert_ne!(bundle.kem_prekey(), &spent_kem);
        }
    }
}

/// One step of the directory property below.
#[derive(Debug, Clone)]
enum DirectoryOp {
    /// Customer `i % 3` fetches the business's bundle.
    Fetch(usize),
    /// The business uploads `n` fresh prekeys of each one-time kind.
    Upload(usize),
    /// The business uploads again one prekey it uploaded before (picked by
    /// the index; even = X25519, odd = ML-KEM), handed out or not.
    Reupload(usize),
}

fn directory_op() -> impl proptest::strategy::Strategy<Value = DirectoryOp> {
    use proptest::prelude::*;
    prop_oneof![
        3 => (0usize..3).prop_map(DirectoryOp::Fetch),
        1 => (0usize..4).prop_map(DirectoryOp::Upload),
        1 => any::<usize>().prop_map(DirectoryOp::Reupload),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 64,
        // Included by two test files: a failure is printed, not persisted.
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// Whatever the owner uploads (fresh keys, or keys it uploaded before)
    /// and whoever fetches: every one-time prekey of either kind is handed
    /// out at most once, it is a key the owner uploaded under that id, the
    /// one-time kinds run out only when every uploaded key is gone, and an
    /// upload is refused exactly when it names an id already handed out.
    #[test]
    fn the_directory_never_hands_out_a_one_time_prekey_twice(
        seed in proptest::prelude::any::<u64>(),
        ops in proptest::collection::vec(directory_op(), 1..40),
    ) {
        use std::collections::{BTreeMap, HashSet};
        use proptest::{prop_assert, prop_assert_eq};

        let biz = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(!seed));
        let mut w = world_with(seed, MailboxLimits::default(), &[&biz]);
        let mut customers: Vec<Party> = (0..3).map(|_| w.customer()).collect();
        let mut b = w.register_business(biz, 3);
        let mut uploaded_ot: BTreeMap<u32, _> =
            b.prekeys.one_time_prekeys().into_iter().map(|k| (k.id, k)).collect();
        let mut uploaded_kem: BTreeMap<u32, _> =
            b.prekeys.kem_prekeys().into_iter().map(|k| (k.id, k)).collect();
        let mut handed_ot = HashSet::new();
        let mut handed_kem = HashSet::new();
        for op in ops {
            match op {
                DirectoryOp::Fetch(i) => {
                    // Paced below a customer's bundle-fetch limit (SPEC.md 14.11).
                    w.clock.advance(u64::from(BUNDLE_FETCH_REFILL_SECS));
                    let req = Request::FetchBundle { owner: b.id() };
                    let Response::Bundle { bundle, .. } = w.call(&mut customers[i], req).unwrap() else {
                        panic!("a bundle")
                    };
                    match bundle.one_time_prekey() {
                        Some(k) => {
                            prop_assert!(handed_ot.insert(k.id), "one-time prekey {} twice", k.id);
                            prop_assert_eq!(Some(k), uploaded_ot.get(&k.id));
                        }
                        None => prop_assert_eq!(handed_ot.len(), uploaded_ot.len()),
                    }
                    let kem = bundle.kem_prekey();
                    if kem.kind == hotline::KemPreKeyKind::OneTime {
                        prop_assert!(handed_kem.insert(kem.id), "KEM prekey {} twice", kem.id);
                        prop_assert_eq!(Some(kem), uploaded_kem.get(&kem.id));
                    } else {
                        prop_assert_eq!(kem, &b.prekeys.last_resort_kem_prekey());
                        prop_assert_eq!(handed_kem.len(), uploaded_kem.len());
                    }
                }
                DirectoryOp::Upload(n) => {
                    let upload = PreKeyUpload {
                        one_time_prekeys: b.prekeys.add_one_time_prekeys(n, &mut w.rng),
                        kem_prekeys: b.prekeys.add_kem_prekeys(n, &mut w.rng),
                        ..Default::default()
                    };
                    uploaded_ot.extend(upload.one_time_prekeys.iter().map(|k| (k.id, *k)));
                    uploaded_kem.extend(upload.kem_prekeys.iter().map(|k| (k.id, k.clone())));
                    w.call(&mut b, Request::UploadPreKeys(upload)).unwrap();
                }
                DirectoryOp::Reupload(pick) => {
                    let (upload, id, handed, slot) = if pick % 2 == 0 {
                        let k = *uploaded_ot.values().nth(pick / 2 % uploaded_ot.len()).unwrap();
                        let upload = PreKeyUpload { one_time_prekeys: vec![k], ..Default::default() };
                        (upload, k.id, handed_ot.contains(&k.id), PreKeySlot::OneTime)
                    } else {
                        let k = uploaded_kem.values().nth(pick / 2 % uploaded_kem.len()).unwrap().clone();
                        let id = k.id;
                        let upload = PreKeyUpload { kem_prekeys: vec![k], ..Default::default() };
                        (upload, id, handed_kem.contains(&id), PreKeySlot::Kem)
                    };
                    match w.call(&mut b, Request::UploadPreKeys(upload)) {
                        Ok(_) => prop_assert!(!handed, "{:?} prekey {} stored again after it was handed out", slot, id),
                        Err(RelayError::SpentPreKeyId { slot: s, id: i, .. }) => {
                            prop_assert!(handed, "{:?} prekey {} refused but never handed out", slot, id);
                            prop_assert_eq!((s, i), (slot, id));
                        }
                        Err(e) => prop_assert!(false, "unexpected refusal {}", e),
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- envelope

/// Decoding a genuine response and encoding it again gives the same bytes.
fn canonical(reply: &[u8]) {
    let decoded = Response::decode_result(reply).unwrap();
    assert_eq!(Response::encode_result(&decoded), reply);
}

/// A full exchange through the relay; returns everything the relay returned.
fn converse(w: &mut World, c: &mut Party, b: &mut Party, lines: &[&str]) -> Vec<u8> {
    let mut returned = Vec::new();
    let mut fetch_bundle = c
        .account
        .sign(Request::FetchBundle { owner: b.id() }, w.now());
    let reply = w.relay.handle(&fetch_bundle.to_bytes());
    canonical(&reply);
    returned.extend_from_slice(&reply);
    let bundle = match Response::decode_result(&reply).unwrap().unwrap() {
        Response::Bundle { bundle, .. } => bundle,
        other => panic!("{other:?}"),
    };
    let _ = &mut fetch_bundle;
    let mut cs = Session::initiate(c.account.identity(), &bundle, &mut w.rng).unwrap();
    let mut bs: Option<Session> = None;
    for (i, line) in lines.iter().enumerate() {
        let customer_turn = i % 2 == 0;
        let (from, to) = if customer_turn {
            (&mut *c, &mut *b)
        } else {
            (&mut *b, &mut *c)
        };
        let header = w.header(from, to, MessageClass::Chat);
        let env = if customer_turn {
            seal(&mut cs, header, line.as_bytes()).unwrap()
        } else {
            seal(bs.as_mut().unwrap(), header, line.as_bytes()).unwrap()
        };
        let req = from.account.sign(Request::Send(env), w.now());
        let reply = w.relay.handle(&req.to_bytes());
        canonical(&reply);
        returned.extend_from_slice(&reply);
        assert!(matches!(Response::decode_result(&reply).unwrap(), Ok(Response::Accepted { duplicate: false, .. })));
        let req = to.account.sign(Request::FetchMailbox { max: 10 }, w.now());
        let reply = w.relay.handle(&req.to_bytes());
        canonical(&reply);
        returned.extend_from_slice(&reply);
        let deliveries = match Response::decode_result(&reply).unwrap().unwrap() {
            Response::Mailbox { deliveries, .. } => deliveries,
            other => panic!("{other:?}"),
        };
        assert_eq!(deliveries.len(), 1);
        let text = if customer_turn {
            match bs.as_mut() {
                Some(s) => open(s, &deliveries[0].envelope).unwrap(),
                None => {
                    let (s, t) = accept(&mut to.prekeys, &deliveries[0].envelope).unwrap();
                    bs = Some(s);
                    t
                }
            }
        } else {
            open(&mut cs, &deliveries[0].envelope).unwrap()
        };
        assert_eq!(text, line.as_bytes());
        let req = to.account.sign(
            Request::Acknowledge {
                ids: vec![deliveries[0].id],
            },
            w.now(),
        );
        returned.extend_from_slice(&w.relay.handle(&req.to_bytes()));
        w.clock.advance(30);
    }
    returned
}

#[test]
fn a_relabelled_class_makes_decryption_fail() {
    let (mut w, mut c, mut b) = pair(14);
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    converse(&mut w, &mut c, &mut b, &["hi", "hello"]);
    // Set up sessions directly to test relabelling of a business message.
    let bundle = match w
        .call(&mut c, Request::FetchBundle { owner: b.id() })
        .unwrap()
    {
        Response::Bundle { bundle, .. } => bundle,
        other => panic!("{other:?}"),
    };
    let mut cs = Session::initiate(c.account.identity(), &bundle, &mut w.rng).unwrap();
    let h = w.header(&c, &b, MessageClass::Chat);
    let first = seal(&mut cs, h, b"question").unwrap();
    let (mut bs, _) = accept(&mut b.prekeys, &first).unwrap();

    let h = w.header(&b, &c, MessageClass::Notification);
    let mut env = seal(&mut bs, h, b"Your flight is delayed").unwrap();
    // The relay relabels the notification as chat (or any other field).
    env.header.class = MessageClass::Chat;
    assert_eq!(open(&mut cs, &env), Err(DecryptError::AuthenticationFailed));
    env.header.sent_at += 1;
    env.header.class = MessageClass::Notification;
    assert_eq!(open(&mut cs, &env), Err(DecryptError::AuthenticationFailed));
    env.header.sent_at -= 1;
    // The genuine label still decrypts (the failures changed nothing).
    assert_eq!(open(&mut cs, &env).unwrap(), b"Your flight is delayed");
}

// --------------------------------------------------------------- mailboxes

#[test]
fn fetch_then_acknowledge_deletes_and_unacknowledged_is_redelivered() {
    let (mut w, mut c, mut b) = pair(15);
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    let first = w.fetch(&mut b);
    assert_eq!(first.len(), 2);
    // Not acknowledged: delivered again.
    assert_eq!(w.fetch(&mut b), first);
    assert_eq!(
        w.call(
            &mut b,
            Request::Acknowledge {
                ids: vec![first[0].id]
            }
        ),
        Ok(Response::Acknowledged { removed: 1 })
    );
    assert_eq!(w.fetch(&mut b), first[1..].to_vec());
    // Acknowledging twice is harmless.
    assert_eq!(
        w.call(
            &mut b,
            Request::Acknowledge {
                ids: vec![first[0].id]
            }
        ),
        Ok(Response::Acknowledged { removed: 0 })
    );
}

#[test]
fn a_full_mailbox_refuses_and_drops_nothing() {
    let limits = MailboxLimits {
        max_envelopes: 5,
        ..MailboxLimits::default()
    };
    let mut rng = ChaCha20Rng::seed_from_u64(1016);
    let biz = IdentityKeyPair::generate(&mut rng);
    let mut w = world_with(16, limits, &[&biz]);
    let mut c = w.customer();
    let mut b = w.register_business(biz, 1);
    let mut sent = Vec::new();
    for _ in 0..5 {
        let h = w.header(&c, &b, MessageClass::Chat);
        sent.push(h.message_id);
        w.call(
            &mut c,
            Request::Send(Envelope {
                header: h,
                ciphertext: vec![7; 80],
            }),
        )
        .unwrap();
    }
    assert_eq!(
        w.send_raw(&mut c, &b, MessageClass::Chat),
        Err(RelayError::MailboxFull)
    );
    let got: Vec<MessageId> = w
        .fetch(&mut b)
        .iter()
        .map(|d| d.envelope.header.message_id)
        .collect();
    assert_eq!(got, sent, "all five kept, in order");
    w.fetch_and_ack(&mut b);
    assert!(w.send_raw(&mut c, &b, MessageClass::Chat).is_ok());
    // Byte limit too.
    let limits = MailboxLimits {
        max_bytes: 1000,
        ..MailboxLimits::default()
    };
    let mut rng = ChaCha20Rng::seed_from_u64(1017);
    let biz = IdentityKeyPair::generate(&mut rng);
    let mut w = world_with(17, limits, &[&biz]);
    let mut c = w.customer();
    let b = w.register_business(biz, 1);
    let h = w.header(&c, &b, MessageClass::Chat);
    assert!(
        w.call(
            &mut c,
            Request::Send(Envelope {
                header: h,
                ciphertext: vec![1; 800]
            })
        )
        .is_ok()
    );
    let h = w.header(&c, &b, MessageClass::Chat);
    assert_eq!(
        w.call(
            &mut c,
            Request::Send(Envelope {
                header: h,
                ciphertext: vec![1; 800]
            })
        ),
        Err(RelayError::MailboxFull)
    );
}

#[test]
fn unfetched_envelopes_expire_after_the_ttl() {
    let (mut w, mut c, mut b) = pair(18);
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    w.clock.advance(ENVELOPE_TTL_SECS - 1);
    assert_eq!(w.fetch(&mut b).len(), 1);
    w.clock.advance(1);
    assert_eq!(w.fetch(&mut b).len(), 0);
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    w.clock.advance(ENVELOPE_TTL_SECS);
    assert_eq!(w.relay.expire().unwrap(), 1);
}

#[test]
fn duplicates_by_message_id_are_collapsed() {
    let (mut w, mut c, mut b) = pair(19);
    let h = w.header(&c, &b, MessageClass::Chat);
    let env = Envelope {
        header: h,
        ciphertext: vec![5; 90],
    };
    assert!(matches!(w.call(&mut c, Request::Send(env.clone())), Ok(Response::Accepted { duplicate: false, .. })));
    assert!(matches!(w.call(&mut c, Request::Send(env.clone())), Ok(Response::Accepted { duplicate: true, .. })));
    assert_eq!(w.fetch_and_ack(&mut b).len(), 1);
    // A retry after delivery is still collapsed.
    assert!(matches!(w.call(&mut c, Request::Send(env)), Ok(Response::Accepted { duplicate: true, .. })));
    assert!(w.fetch(&mut b).is_empty());
}

// ------------------------------------------------------------------- rules

#[test]
fn a_business_needs_consent() {
    let (mut w, mut c, mut b) = pair(20);
    // Without any message from the customer, nothing may be sent.
    assert_eq!(
        w.send_raw(&mut b, &c, MessageClass::Chat),
        Err(RelayError::Policy(PolicyError::WindowClosed))
    );
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap(); // opens the window
    // A conversation the customer started needs no opt-in to be answered
    // within the window; notifications, which the business starts, do.
    assert!(w.send_raw(&mut b, &c, MessageClass::Chat).is_ok());
    assert_eq!(
        w.send_raw(&mut b, &c, MessageClass::Notification),
        Err(RelayError::Policy(PolicyError::NoConsent))
    );
    // Chat-only consent allows chat, not notifications.
    w.consent(
        &mut c,
        &b,
        ConsentScope {
            chat: true,
            notifications: false,
        },
    )
    .unwrap();
    assert!(w.send_raw(&mut b, &c, MessageClass::Chat).is_ok());
    assert_eq!(
        w.send_raw(&mut b, &c, MessageClass::Notification),
        Err(RelayError::Policy(PolicyError::NoConsent))
    );
    // Withdrawal (a newer record with no scope).
    w.clock.advance(1);
    w.consent(&mut c, &b, ConsentScope::NONE).unwrap();
    assert_eq!(
        w.send_raw(&mut b, &c, MessageClass::Chat),
        Err(RelayError::Policy(PolicyError::NoConsent))
    );
    let header = w.header(&b, &c, MessageClass::Chat);
    let env = Envelope {
        header,
        ciphertext: vec![1],
    };
    assert_eq!(
        w.call_bytes(&mut b, Request::Send(env)),
        Err(Refusal::NoConsent)
    );
}

/// A withdrawal of chat made before the customer writes again does not stop
/// replies to the new message: the newer message is the newer consent.
#[test]
fn a_customer_message_after_a_withdrawal_opens_the_conversation_again() {
    let (mut w, mut c, mut b) = pair(40);
    w.consent(&mut c, &b, ConsentScope::NONE).unwrap();
    w.clock.advance(5);
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    assert!(w.send_raw(&mut b, &c, MessageClass::Chat).is_ok());
    assert_eq!(
        w.send_raw(&mut b, &c, MessageClass::Notification),
        Err(RelayError::Policy(PolicyError::NoConsent))
    );
}

/// A retry of an envelope that is already stored answers "duplicate" before
/// any rule: after a block, or after the window closed, the first copy is
/// the one that counts, and the sender must not resend it as new.
#[test]
fn a_retry_of_a_stored_envelope_is_a_duplicate_whatever_changed() {
    let (mut w, mut c, mut b) = pair(41);
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    let header = w.header(&b, &c, MessageClass::Chat);
    let env = Envelope {
        header,
        ciphertext: vec![7; 64],
    };
    assert!(matches!(w.call(&mut b, Request::Send(env.clone())), Ok(Response::Accepted { duplicate: false, .. })));
    // The window closes.
    w.clock.advance(CHAT_WINDOW_SECS + 1);
    assert!(matches!(w.call(&mut b, Request::Send(env.clone())), Ok(Response::Accepted { duplicate: true, .. })));
    // Delivered, then the customer blocks: a retry is still the same
    // (remembered) envelope.
    assert_eq!(w.fetch_and_ack(&mut c).len(), 1);
    let block = BlockRecord::sign(c.account.identity(), b.id(), true, w.now());
    w.call(&mut c, Request::Block(block)).unwrap();
    assert!(matches!(w.call(&mut b, Request::Send(env)), Ok(Response::Accepted { duplicate: true, .. })));
    // A new message is refused as blocked.
    assert_eq!(
        w.send_raw(&mut b, &c, MessageClass::Chat),
        Err(RelayError::Policy(PolicyError::Blocked))
    );
}

/// A block empties the queue: the business's undelivered envelopes to the
/// customer are deleted with the block, each logged `DeletedByBlock` for the
/// business, and none is billed (billing happens at delivery). Other
/// senders' envelopes stay.
#[test]
fn a_block_deletes_the_business_queue_and_bills_none_of_it() {
    let (mut w, mut c, mut b) = pair(42);
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    for class in [
        MessageClass::Notification,
        MessageClass::Chat,
        MessageClass::Notification,
    ] {
        w.send_raw(&mut b, &c, class).unwrap();
    }
    assert_eq!(w.relay.notification_count(&b.id()).unwrap(), 0, "billed before delivery");
    // One notification is delivered (and billed) before the block.
    let first = w.fetch(&mut c);
    assert_eq!(first.len(), 3);
    let ids = vec![first[0].id];
    w.call(&mut c, Request::Acknowledge { ids }).unwrap();
    assert_eq!(w.relay.notification_count(&b.id()).unwrap(), 1);
    w.clock.advance(3);
    let block = BlockRecord::sign(c.account.identity(), b.id(), true, w.now());
    w.call(&mut c, Request::Block(block)).unwrap();
    assert!(
        w.fetch(&mut c).is_empty(),
        "the blocked business's queued envelopes were delivered"
    );
    assert_eq!(
        w.relay.notification_count(&b.id()).unwrap(),
        1,
        "only the delivered notification is billed"
    );
    let states: Vec<(DeliveryState, MessageId, u64)> = w
        .states(&mut b, 0)
        .iter()
        .map(|r| (r.entry().state, r.entry().message_id, r.entry().time))
        .collect();
    let at = w.now();
    assert_eq!(
        states,
        vec![
            (DeliveryState::Delivered, first[0].envelope.header.message_id, at - 3),
            (DeliveryState::DeletedByBlock, first[1].envelope.header.message_id, at),
            (DeliveryState::DeletedByBlock, first[2].envelope.header.message_id, at),
        ]
    );
    // The customer's own envelope to the business is untouched.
    assert_eq!(w.fetch(&mut b).len(), 1);
}

#[test]
fn consent_records_are_verified_and_only_the_customer_submits_them() {
    let (mut w, mut c, mut b) = pair(21);
    // The business forges consent by signing with its own key.
    let forged = ConsentRecord::sign(b.account.identity(), b.id(), ConsentScope::ALL, w.now());
    assert!(w.call(&mut b, Request::Consent(forged)).is_err());
    // A record naming the customer but signed by someone else does not decode.
    let mut bytes =
        ConsentRecord::sign(b.account.identity(), b.id(), ConsentScope::ALL, w.now()).to_bytes();
    bytes[2..34].copy_from_slice(&c.id().0);
    assert!(ConsentRecord::from_bytes(&bytes).is_err());
    // Another customer cannot submit this customer's record.
    let mut other = w.customer();
    let rec = ConsentRecord::sign(c.account.identity(), b.id(), ConsentScope::ALL, w.now());
    assert_eq!(
        w.call(&mut other, Request::Consent(rec)),
        Err(RelayError::RecordNotYours)
    );
    // Far-future records are refused.
    let rec = ConsentRecord::sign(
        c.account.identity(),
        b.id(),
        ConsentScope::ALL,
        w.now() + 3600,
    );
    assert_eq!(
        w.call(&mut c, Request::Consent(rec)),
        Err(RelayError::StaleRecord)
    );
    // Backdated records are refused too: the time is the customer's claim,
    // and evidence of a consent "given" long ago proves nothing. The
    // window's edges hold exactly.
    for (age, refused) in [
        (REQUEST_TIME_WINDOW_SECS + 1, true),
        (86_400 * 365 * 50, true),
    ] {
        let rec = ConsentRecord::sign(
            c.account.identity(),
            b.id(),
            ConsentScope::ALL,
            w.now().saturating_sub(age),
        );
        assert_eq!(
            w.call(&mut c, Request::Consent(rec)).is_err(),
            refused,
            "{age} s old"
        );
    }
    let block = BlockRecord::sign(
        c.account.identity(),
        b.id(),
        false,
        w.now() - REQUEST_TIME_WINDOW_SECS - 1,
    );
    assert_eq!(
        w.call(&mut c, Request::Block(block)),
        Err(RelayError::StaleRecord)
    );
    // At the window's edge (another customer, so that the evidence below
    // stays this customer's one record).
    let edge = ConsentRecord::sign(
        other.account.identity(),
        b.id(),
        ConsentScope::ALL,
        w.now() - REQUEST_TIME_WINDOW_SECS,
    );
    assert_eq!(
        w.call(&mut other, Request::Consent(edge)),
        Ok(Response::ConsentStored)
    );
    // The genuine one is accepted, and kept as evidence the business can export.
    let rec = ConsentRecord::sign(c.account.identity(), b.id(), ConsentScope::ALL, w.now());
    assert_eq!(
        w.call(&mut c, Request::Consent(rec)),
        Ok(Response::ConsentStored)
    );
    match w
        .call_bytes(&mut b, Request::ExportConsent { customer: c.id() })
        .unwrap()
    {
        Response::ConsentEvidence(records) => {
            assert_eq!(records, vec![rec]);
            // Verifiable by a third party from bytes alone.
            assert_eq!(
                ConsentRecord::from_bytes(&records[0].to_bytes()).unwrap(),
                rec
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        w.relay.consent_evidence(&c.id(), &b.id()).unwrap(),
        vec![rec]
    );
    assert!(matches!(
        w.call(
            &mut c,
            Request::ExportConsent {
                customer: rec.customer()
            }
        ),
        Err(RelayError::WrongAccountKind(_))
    ));
    // Replaying the same record is refused (not newer).
    assert_eq!(
        w.call(&mut c, Request::Consent(rec)),
        Err(RelayError::StaleRecord)
    );
}

#[test]
fn the_24_hour_window() {
    let (mut w, mut c, mut b) = pair(22);
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    // No customer message yet: chat refused, notification allowed.
    assert_eq!(
        w.send_raw(&mut b, &c, MessageClass::Chat),
        Err(RelayError::Policy(PolicyError::WindowClosed))
    );
    assert!(w.send_raw(&mut b, &c, MessageClass::Notification).is_ok());
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    assert!(w.send_raw(&mut b, &c, MessageClass::Chat).is_ok());
    w.clock.advance(CHAT_WINDOW_SECS);
    assert!(
        w.send_raw(&mut b, &c, MessageClass::Chat).is_ok(),
        "still open at exactly 24 h"
    );
    w.clock.advance(1);
    assert_eq!(
        w.send_raw(&mut b, &c, MessageClass::Chat),
        Err(RelayError::Policy(PolicyError::WindowClosed))
    );
    assert!(w.send_raw(&mut b, &c, MessageClass::Notification).is_ok());
    // The customer writes again: the window reopens.
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    assert!(w.send_raw(&mut b, &c, MessageClass::Chat).is_ok());
}

#[test]
fn notifications_are_billed_per_business_at_delivery() {
    let (mut w, mut c, mut b) = pair(23);
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    assert_eq!(w.relay.notification_count(&b.id()).unwrap(), 0);
    for _ in 0..3 {
        w.send_raw(&mut b, &c, MessageClass::Notification).unwrap();
    }
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    w.send_raw(&mut b, &c, MessageClass::Chat).unwrap(); // chat is not billed
    // A duplicate notification is not counted twice.
    let h = w.header(&b, &c, MessageClass::Notification);
    let env = Envelope {
        header: h,
        ciphertext: vec![3; 70],
    };
    w.call(&mut b, Request::Send(env.clone())).unwrap();
    w.call(&mut b, Request::Send(env.clone())).unwrap();
    // Accepted is not delivered: nothing is billed yet, and a fetch
    // without an acknowledgement is not a delivery either.
    assert_eq!(w.relay.notification_count(&b.id()).unwrap(), 0);
    assert_eq!(w.fetch(&mut c).len(), 5);
    assert_eq!(w.relay.notification_count(&b.id()).unwrap(), 0);
    w.fetch_and_ack(&mut c);
    assert_eq!(w.relay.notification_count(&b.id()).unwrap(), 4);
    assert_eq!(w.relay.notification_counts().unwrap(), vec![(b.id(), 4)]);
    // A retry after delivery, and acknowledging again, bill nothing more.
    w.call(&mut b, Request::Send(env)).unwrap();
    w.fetch_and_ack(&mut c);
    assert_eq!(w.relay.notification_count(&b.id()).unwrap(), 4);
    // Refused notifications are not counted.
    w.clock.advance(1);
    w.block(&mut c, &b, true).unwrap();
    assert!(w.send_raw(&mut b, &c, MessageClass::Notification).is_err());
    assert_eq!(w.relay.notification_count(&b.id()).unwrap(), 4);
}

/// Every accepted send, a retry too, answers with a receipt signed by the
/// relay's key over the envelope's sender, recipient, message id and class
/// and the relay's time (SPEC.md 14.16); it verifies under that key only.
#[test]
fn every_accepted_send_returns_a_receipt_signed_by_the_relay() {
    let (mut w, mut c, mut b) = pair(61);
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    let header = w.header(&b, &c, MessageClass::Notification);
    let env = Envelope {
        header,
        ciphertext: vec![9; 80],
    };
    for duplicate in [false, true] {
        let Ok(Response::Accepted {
            duplicate: d,
            receipt,
        }) = w.call_bytes(&mut b, Request::Send(env.clone()))
        else {
            panic!("not accepted");
        };
        assert_eq!(d, duplicate);
        assert_eq!(receipt.verify(&w.relay.public_key()), Ok(()));
        let e = receipt.entry();
        assert_eq!(
            (e.sender, e.recipient, e.message_id, e.class, e.state, e.time, e.sequence),
            (
                b.id(),
                c.id(),
                header.message_id,
                MessageClass::Notification,
                DeliveryState::Accepted,
                w.now(),
                0
            )
        );
        let other = RelayKey::from_seed(&[1; 32]).public();
        assert_eq!(receipt.verify(&other), Err(ReceiptError::BadSignature));
        let mut bytes = receipt.to_bytes();
        bytes[83] = DeliveryState::Delivered.to_byte();
        let forged = Receipt::from_bytes(&bytes).unwrap();
        assert_eq!(
            forged.verify(&w.relay.public_key()),
            Err(ReceiptError::BadSignature),
            "a receipt relabelled as delivered still verifies"
        );
        w.clock.advance(1);
    }
}

/// The sender learns, signed, what happened to each envelope: delivered,
/// expired, deleted by a block or by the recipient's erasure, in the order
/// it happened; only its own; in pages.
#[test]
fn delivery_states_tell_the_sender_what_became_of_each_envelope() {
    let (mut w, mut c, mut b) = pair(62);
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    let delivered = w.sent(&mut b, &c, MessageClass::Notification);
    w.fetch_and_ack(&mut c);
    let expired = w.sent(&mut b, &c, MessageClass::Notification);
    w.clock.advance(ENVELOPE_TTL_SECS);
    assert!(w.fetch(&mut c).is_empty());
    let expired_at = w.now();
    w.clock.advance(1);
    let blocked = w.sent(&mut b, &c, MessageClass::Notification);
    w.block(&mut c, &b, true).unwrap();
    let blocked_at = w.now();
    w.clock.advance(1);
    w.block(&mut c, &b, false).unwrap();
    let erased = w.sent(&mut b, &c, MessageClass::Notification);
    w.call(&mut c, Request::DeleteAccount).unwrap();
    let states = w.states(&mut b, 0);
    let seen: Vec<(MessageId, DeliveryState, u64)> = states
        .iter()
        .map(|r| (r.entry().message_id, r.entry().state, r.entry().time))
        .collect();
    assert_eq!(
        seen,
        vec![
            (delivered, DeliveryState::Delivered, T0),
            (expired, DeliveryState::Expired, expired_at),
            (blocked, DeliveryState::DeletedByBlock, blocked_at),
            (erased, DeliveryState::DeletedByErasure, w.now()),
        ]
    );
    let key = w.relay.public_key();
    for (i, r) in states.iter().enumerate() {
        assert_eq!(r.verify(&key), Ok(()));
        assert_eq!((r.entry().sender, r.entry().recipient), (b.id(), c.id()));
        if i > 0 {
            assert!(r.entry().sequence > states[i - 1].entry().sequence);
        }
    }
    // Only the delivered notification is billed.
    assert_eq!(w.relay.notification_count(&b.id()).unwrap(), 1);
    // Paging: after the second state, two remain; with max 1, more is set.
    let after = states[1].entry().sequence;
    assert_eq!(w.states(&mut b, after), states[2..].to_vec());
    match w.call(&mut b, Request::FetchStates { after, max: 1 }) {
        Ok(Response::States { receipts, more }) => {
            assert_eq!(receipts, states[2..3].to_vec());
            assert!(more);
        }
        other => panic!("{other:?}"),
    }
    match w.call(&mut b, Request::FetchStates { after: 0, max: 0 }) {
        Ok(Response::States { receipts, more }) => assert!(receipts.is_empty() && more),
        other => panic!("{other:?}"),
    }
    // Another account sees none of them.
    let mut other = w.customer();
    assert!(w.states(&mut other, 0).is_empty());
}

/// A statement lists exactly the notifications billed in its period: the
/// business recomputes count and digest from its own delivery states. It
/// is open until the period ends, and refused for a period not begun or
/// begun before the retention.
#[test]
fn a_statement_matches_the_billed_deliveries_of_its_period() {
    let (mut w, mut c, mut b) = pair(63);
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    let period = period_of(w.now());
    for _ in 0..3 {
        w.send_raw(&mut b, &c, MessageClass::Notification).unwrap();
    }
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    w.send_raw(&mut b, &c, MessageClass::Chat).unwrap();
    let waiting = w.fetch(&mut c);
    // Two of the notifications are delivered; the third expires.
    let ids = waiting
        .iter()
        .filter(|d| d.envelope.header.class == MessageClass::Notification)
        .take(2)
        .chain(waiting.iter().filter(|d| d.envelope.header.class == MessageClass::Chat))
        .map(|d| d.id)
        .collect();
    w.call(&mut c, Request::Acknowledge { ids }).unwrap();
    let statement = |w: &World, b: &mut Party, period: u32| w.call(b, Request::FetchStatement { period });
    let Ok(Response::Statement(open)) = statement(&w, &mut b, period) else {
        panic!("no statement");
    };
    assert!(!open.closed);
    assert_eq!(open.verify(&w.relay.public_key()), Ok(()));
    let mut mine = StatementDigest::new();
    for r in w.states(&mut b, 0) {
        if r.entry().billed_period() == Some(period) {
            mine.add(r.entry().sequence, &r.entry().recipient, &r.entry().message_id);
        }
    }
    let (count, digest) = mine.finish();
    assert_eq!((open.count, open.digest), (2, digest));
    assert_eq!(count, 2);
    // Past the period, the statement is final and unchanged.
    w.clock.advance(ENVELOPE_TTL_SECS);
    w.relay.expire().unwrap();
    let Ok(Response::Statement(closed)) = statement(&w, &mut b, period) else {
        panic!("no statement");
    };
    assert!(closed.closed);
    assert_eq!((closed.count, closed.digest), (2, digest));
    // The expired notification is billed in no period.
    let later = period_of(w.now());
    let Ok(Response::Statement(now)) = statement(&w, &mut b, later) else {
        panic!("no statement");
    };
    assert_eq!(now.count, 0);
    // Another business's statement of the same period is empty.
    let Ok(Response::Statement(theirs)) = statement(&w, &mut c, period) else {
        panic!("no statement");
    };
    assert_eq!((theirs.business, theirs.count), (c.id(), 0));
    // Periods not begun, or begun before the retention, are refused.
    assert!(matches!(
        statement(&w, &mut b, later + 1),
        Err(RelayError::PeriodUnavailable { period: p, current, .. }) if p == later + 1 && current == later
    ));
    w.clock.advance(STATE_RETENTION_SECS);
    w.relay.expire().unwrap();
    assert!(matches!(
        statement(&w, &mut b, period),
        Err(RelayError::PeriodUnavailable { .. })
    ));
    assert!(w.states(&mut b, 0).is_empty(), "states outlived their retention");
}

#[test]
fn customers_do_not_send_notifications_and_routes_are_customer_business() {
    let (mut w, mut c, b) = pair(24);
    assert_eq!(
        w.send_raw(&mut c, &b, MessageClass::Notification),
        Err(RelayError::Policy(PolicyError::NotificationFromCustomer))
    );
    let other = w.customer();
    assert_eq!(
        w.send_raw(&mut c, &other, MessageClass::Chat),
        Err(RelayError::Policy(PolicyError::UnsupportedRoute))
    );
}

#[test]
fn a_block_ends_business_messages_at_once_and_only_the_customer_unblocks() {
    let (mut w, mut c, mut b) = pair(25);
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    assert!(w.send_raw(&mut b, &c, MessageClass::Chat).is_ok());
    w.clock.advance(1);
    w.block(&mut c, &b, true).unwrap();
    for class in [MessageClass::Chat, MessageClass::Notification] {
        assert_eq!(
            w.send_raw(&mut b, &c, class),
            Err(RelayError::Policy(PolicyError::Blocked))
        );
    }
    // The business cannot unblock itself: not with its own signature ...
    let fake = BlockRecord::sign(b.account.identity(), b.id(), false, w.now() + 1);
    assert!(w.call(&mut b, Request::Block(fake)).is_err());
    // ... nor with its own (business's) unblock of the customer, which is
    // another record and lifts only a block of its own.
    let own = BlockRecord::sign_by_business(b.account.identity(), c.id(), false, w.now());
    assert_eq!(own.blocker(), AccountKind::Business);
    w.call(&mut b, Request::Block(own)).unwrap();
    assert_eq!(
        w.send_raw(&mut b, &c, MessageClass::Chat),
        Err(RelayError::Policy(PolicyError::Blocked))
    );
    // ... nor by replaying an older unblock of the customer's.
    let old_unblock = BlockRecord::sign(c.account.identity(), b.id(), false, w.now() - 10);
    assert_eq!(
        w.call(&mut c, Request::Block(old_unblock)),
        Err(RelayError::StaleRecord)
    );
    assert!(w.send_raw(&mut b, &c, MessageClass::Chat).is_err());
    // The customer unblocks.
    w.clock.advance(1);
    w.block(&mut c, &b, false).unwrap();
    assert!(w.send_raw(&mut b, &c, MessageClass::Chat).is_ok());
}

/// A business blocks an abusive customer (SPEC.md 14.6, 14.7): only the
/// business submits its record; once stored, the customer's waiting
/// envelopes to the business are gone and its new ones refused, while other
/// customers and the business's own sends are untouched; only the
/// business's unblock lifts it.
#[test]
fn a_business_blocks_an_abusive_customer() {
    let mut rng = ChaCha20Rng::seed_from_u64(26 ^ 0xB);
    let (biz, rival_key) = (
        IdentityKeyPair::generate(&mut rng),
        IdentityKeyPair::generate(&mut rng),
    );
    let mut trust = AllowList::new();
    trust.allow(&biz.public(), "Example Air");
    trust.allow(&rival_key.public(), "Rival Rail");
    let mut w = world_validated_by(26, MailboxLimits::default(), trust);
    let mut c = w.customer();
    let mut b = w.register_business(biz, 1);
    let mut other = w.customer();
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    w.send_raw(&mut other, &b, MessageClass::Chat).unwrap();
    let (b_key, c_id) = (b.account.identity().clone(), c.id());
    let block =
        |blocked: bool, at: u64| BlockRecord::sign_by_business(&b_key, c_id, blocked, at);
    let rec = block(true, w.now());
    assert_eq!(
        (rec.blocker(), rec.signer(), rec.customer(), rec.business()),
        (AccountKind::Business, b.id(), c.id(), b.id())
    );
    // The customer cannot submit the business's record, another business
    // cannot submit it, and a business cannot block a business.
    assert_eq!(
        w.call(&mut c, Request::Block(rec)),
        Err(RelayError::WrongAccountKind(AccountKind::Business))
    );
    let mut rival = w.register_business(rival_key, 1);
    assert_eq!(
        w.call(&mut rival, Request::Block(rec)),
        Err(RelayError::RecordNotYours)
    );
    let of_business = BlockRecord::sign_by_business(b.account.identity(), rival.id(), true, w.now());
    assert_eq!(
        w.call(&mut b, Request::Block(of_business)),
        Err(RelayError::Policy(PolicyError::UnsupportedRoute))
    );
    let stale = block(true, w.now() - REQUEST_TIME_WINDOW_SECS - 1);
    assert_eq!(w.call(&mut b, Request::Block(stale)), Err(RelayError::StaleRecord));
    assert_eq!(w.fetch(&mut b).len(), 3, "a refused block changed the mailbox");
    // Stored: the customer's two waiting envelopes go, the other's stays.
    w.call(&mut b, Request::Block(rec)).unwrap();
    let left = w.fetch(&mut b);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].envelope.header.sender, other.id());
    assert_eq!(
        w.send_raw(&mut c, &b, MessageClass::Chat),
        Err(RelayError::Policy(PolicyError::BlockedByBusiness))
    );
    assert_eq!(
        RelayError::Policy(PolicyError::BlockedByBusiness).refusal(),
        Refusal::BlockedByBusiness
    );
    assert_eq!(Refusal::BlockedByBusiness.code(), 32);
    assert_eq!(Refusal::from_code(32), Some(Refusal::BlockedByBusiness));
    w.send_raw(&mut other, &b, MessageClass::Chat).unwrap();
    // The business still answers within the window the customer opened.
    w.send_raw(&mut b, &c, MessageClass::Chat).unwrap();
    // The customer's own records do not lift it.
    w.block(&mut c, &b, true).unwrap();
    w.clock.advance(1);
    w.block(&mut c, &b, false).unwrap();
    assert_eq!(
        w.send_raw(&mut c, &b, MessageClass::Chat),
        Err(RelayError::Policy(PolicyError::BlockedByBusiness))
    );
    // An unblock of the same second as the block changes nothing; a later
    // one lifts it.
    assert_eq!(
        w.call(&mut b, Request::Block(block(false, rec.time()))),
        Err(RelayError::StaleRecord)
    );
    w.clock.advance(1);
    w.call(&mut b, Request::Block(block(false, w.now()))).unwrap();
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
}

/// A business's block record decodes only under the business's key: the
/// customer's signature, or a flag byte flipped to claim the other signer,
/// is refused.
#[test]
fn a_business_block_record_is_verified_under_the_business_key() {
    let (w, c, b) = pair(27);
    let rec = BlockRecord::sign_by_business(b.account.identity(), c.id(), true, w.now());
    assert_eq!(BlockRecord::from_bytes(&rec.to_bytes()), Ok(rec));
    // Signed by the customer but claiming the business as signer.
    let mut forged = BlockRecord::sign(c.account.identity(), b.id(), true, w.now()).to_bytes();
    forged[66] |= 0x02;
    assert_eq!(
        BlockRecord::from_bytes(&forged),
        Err(RecordError::BadSignature)
    );
    // The business's record with the signer bit cleared.
    let mut flipped = rec.to_bytes();
    flipped[66] &= !0x02;
    assert_eq!(
        BlockRecord::from_bytes(&flipped),
        Err(RecordError::BadSignature)
    );
    let mut bad = rec.to_bytes();
    bad[66] = 0x04;
    assert!(matches!(
        BlockRecord::from_bytes(&bad),
        Err(RecordError::Decode(_))
    ));
}

#[test]
fn a_block_wins_against_concurrent_sends() {
    // Every business message accepted after the block was recorded would
    // be a violation; with the pair lock none is.
    let limits = MailboxLimits {
        max_envelopes: 1_000_000,
        max_bytes: usize::MAX,
        max_envelopes_per_sender: 1_000_000,
        max_bytes_per_sender: usize::MAX,
        ..MailboxLimits::default()
    };
    let mut rng = ChaCha20Rng::seed_from_u64(1026);
    let biz = IdentityKeyPair::generate(&mut rng);
    let mut w = world_with(26, limits, &[&biz]);
    let mut c = w.customer();
    let mut b = w.register_business(biz, 1);
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    let relay = w.relay.clone();
    let now = w.now();
    let c_id = c.id();
    let b_id = b.id();
    let mut b_account = std::mem::replace(
        &mut b.account,
        RequestSigner::new(IdentityKeyPair::generate(&mut w.rng), 0),
    );
    let sender = std::thread::spawn(move || {
        let mut accepted_ids = Vec::new();
        for i in 0..200_000u32 {
            let mut id = [0u8; 16];
            id[..4].copy_from_slice(&i.to_be_bytes());
            let header = EnvelopeHeader {
                sender: b_account.id(),
                recipient: c_id,
                message_id: MessageId(id),
                class: MessageClass::Notification,
                sent_at: now,
                franking: Default::default(),
            };
            let req = b_account.sign(
                Request::Send(Envelope {
                    header,
                    ciphertext: vec![1; 64],
                }),
                now,
            );
            match relay.handle_request(&req) {
                Ok(_) => accepted_ids.push(i),
                Err(RelayError::Policy(PolicyError::Blocked)) => break,
                Err(e) => panic!("{e}"),
            }
        }
        accepted_ids
    });
    std::thread::sleep(std::time::Duration::from_millis(5));
    let rec = BlockRecord::sign(c.account.identity(), b_id, true, now);
    w.call(&mut c, Request::Block(rec)).unwrap();
    // The block deleted everything the business had queued; after the block
    // returned, nothing more arrives.
    let drain = |w: &World, c: &mut Party| {
        let mut n = 0;
        loop {
            let d = w.fetch_and_ack(c);
            if d.is_empty() {
                return n;
            }
            n += d.len();
        }
    };
    let before = drain(&w, &mut c);
    let accepted = sender.join().unwrap();
    assert_eq!(drain(&w, &mut c), 0, "no message accepted after the block");
    assert_eq!(before, 0, "the block left queued envelopes");
    assert_eq!(
        w.relay.notification_count(&b_id).unwrap(),
        0,
        "undelivered notifications stayed billed"
    );
    assert!(accepted.len() < 200_000, "the block stopped the sender");
}

// ---------------------------------------------------------- untrusted bytes

#[test]
fn garbage_requests_get_typed_refusals_and_never_panic() {
    let (mut w, mut c, _b) = pair(28);
    let valid = c
        .account
        .sign(Request::FetchMailbox { max: 5 }, w.now())
        .to_bytes();
    for n in 0..valid.len() {
        let reply = Response::decode_result(&w.relay.handle(&valid[..n])).unwrap();
        assert!(reply.is_err());
    }
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for len in [0usize, 1, 10, 100, 1000, 5000] {
        let mut junk = vec![0u8; len];
        rand::Rng::fill_bytes(&mut rng, &mut junk);
        let reply = Response::decode_result(&w.relay.handle(&junk)).unwrap();
        assert!(reply.is_err());
    }
    // Oversized input is refused before parsing.
    let huge = vec![1u8; 2 * 1024 * 1024];
    assert_eq!(
        Response::decode_result(&w.relay.handle(&huge)).unwrap(),
        Err(Refusal::Malformed)
    );
    let _ = &mut w.rng;
}

// ---------------------------------------------------------- ciphertext only

#[test]
fn the_relay_stores_returns_and_logs_only_ciphertext() {
    let (mut w, mut c, mut b) = pair(29);
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    let lines = [
        "PLAINTEXT-Q1: can I move booking ZX81QK to Friday?",
        "PLAINTEXT-A1: yes, Friday 09:40 has seats",
        "PLAINTEXT-Q2: please do, window seat",
        "PLAINTEXT-A2: done, seat 14A, confirmation 7731",
        "PLAINTEXT-Q3: thanks!",
        "PLAINTEXT-A3: have a good flight",
    ];
    let mut seen = converse(&mut w, &mut c, &mut b, &lines);
    // A second conversation with another customer, left unacknowledged so
    // the envelopes stay in the store.
    let mut c2 = w.customer();
    w.consent(&mut c2, &b, ConsentScope::ALL).unwrap();
    let bundle = match w
        .call(&mut c2, Request::FetchBundle { owner: b.id() })
        .unwrap()
    {
        Response::Bundle { bundle, .. } => bundle,
        other => panic!("{other:?}"),
    };
    let mut s = Session::initiate(c2.account.identity(), &bundle, &mut w.rng).unwrap();
    for line in &lines {
        let h = w.header(&c2, &b, MessageClass::Chat);
        let env = seal(&mut s, h, line.as_bytes()).unwrap();
        w.call(&mut c2, Request::Send(env)).unwrap();
    }
    let req = b.account.sign(Request::FetchMailbox { max: 100 }, w.now());
    seen.extend_from_slice(&w.relay.handle(&req.to_bytes()));
    seen.extend_from_slice(&w.relay.store().dump().unwrap());
    for line in w.log.lock().unwrap().iter() {
        seen.extend_from_slice(line.as_bytes());
    }
    assert!(seen.len() > 10_000, "the scan covers real traffic");
    for line in &lines {
        for needle in [
            line.as_bytes(),
            &line.as_bytes()[..12],
            b"ZX81QK",
            b"PLAINTEXT",
        ] {
            assert!(
                !seen.windows(needle.len()).any(|win| win == needle),
                "plaintext {:?} visible to the relay",
                String::from_utf8_lossy(needle)
            );
        }
    }
}

/// A customer erases its account (SPEC.md 14.15): at once its directory
/// entry, mailbox, windows and blocks go, nothing more is accepted from or
/// for it, and its id is never registered again; its consent evidence stays
/// for the business until the retention period is over, then goes. A
/// business cannot erase itself, and other customers are untouched.
#[test]
fn a_customer_erases_their_account() {
    use hotline::constants::CONSENT_RETENTION_SECS;
    let mut rng = ChaCha20Rng::seed_from_u64(27);
    let (biz, strict) = (IdentityKeyPair::generate(&mut rng), IdentityKeyPair::generate(&mut rng));
    let mut trust = AllowList::new();
    trust.allow(&biz.public(), "Example Air");
    trust.allow(&strict.public(), "Strict Rail");
    let mut w = world_validated_by(27, MailboxLimits::default(), trust);
    let mut b = w.register_business(biz, 1);
    let mut strict = w.register_business(strict, 1);
    let mut c = w.customer();
    let mut other = w.customer();
    let upload = full_upload(&c.prekeys);
    w.call(&mut c, Request::UploadPreKeys(upload)).unwrap();
    w.consent(&mut c, &b, ConsentScope { chat: true, notifications: true }).unwrap();
    w.consent(&mut other, &b, ConsentScope { chat: true, notifications: true }).unwrap();
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    w.send_raw(&mut other, &b, MessageClass::Chat).unwrap();
    w.send_raw(&mut b, &c, MessageClass::Chat).unwrap();
    w.send_raw(&mut b, &other, MessageClass::Chat).unwrap();
    // A block each way: the customer's of one business, another
    // business's of the customer.
    w.send_raw(&mut c, &strict, MessageClass::Chat).unwrap();
    let block = BlockRecord::sign_by_business(strict.account.identity(), c.id(), true, w.now());
    w.call(&mut strict, Request::Block(block)).unwrap();
    w.block(&mut c, &strict, true).unwrap();
    let store = w.relay.store();
    assert!(store.pair(&c.id(), &b.id()).unwrap().last_customer_message.is_some());
    let pair = store.pair(&c.id(), &strict.id()).unwrap();
    assert!(pair.block.is_some() && pair.business_block.is_some());
    assert_eq!(store.deleted_at(&c.id()), Ok(None));

    // A business's account is not erased this way.
    assert_eq!(
        w.call(&mut b, Request::DeleteAccount),
        Err(RelayError::WrongAccountKind(AccountKind::Customer))
    );
    assert!(w.relay.store().account(&b.id()).unwrap().is_some());

    let erased_at = w.now();
    assert_eq!(w.call_bytes(&mut c, Request::DeleteAccount), Ok(Response::AccountDeleted));
    let store = w.relay.store();
    assert_eq!(store.deleted_at(&c.id()), Ok(Some(erased_at)));
    assert_eq!(store.account(&c.id()), Ok(None));
    assert_eq!(store.prekey_counts(&c.id()), Ok((0, 0)));
    assert_eq!(store.take_bundle_parts(&c.id(), true), Ok(None));
    assert_eq!(
        store.pair(&c.id(), &b.id()).unwrap().last_customer_message,
        None,
        "its window went"
    );
    let pair = store.pair(&c.id(), &strict.id()).unwrap();
    assert_eq!((pair.block, pair.business_block), (None, None), "its blocks went");
    let (waiting, _) = store
        .fetch(&c.id(), 100, &MailboxLimits::default(), w.now())
        .unwrap();
    assert!(waiting.is_empty(), "its mailbox went");
    // What it sent to the business is the business's, and stays; the
    // other customer is untouched.
    let at_business = w.fetch(&mut b);
    assert_eq!(at_business.len(), 2);
    assert_eq!(w.fetch(&mut other).len(), 1);
    assert!(store.pair(&other.id(), &b.id()).unwrap().last_customer_message.is_some());

    // Nothing more from it, for it or of it, and its id is never taken
    // again.
    assert_eq!(w.call(&mut c, Request::PreKeyStatus), Err(RelayError::UnknownAccount));
    assert_eq!(w.call(&mut c, Request::DeleteAccount), Err(RelayError::UnknownAccount));
    assert_eq!(
        w.send_raw(&mut b, &c, MessageClass::Chat),
        Err(RelayError::UnknownAccount)
    );
    assert_eq!(
        w.call(&mut b, Request::FetchBundle { owner: c.id() }),
        Err(RelayError::UnknownAccount)
    );
    let identity = c.account.identity().public();
    assert_eq!(
        w.call(&mut c, Request::RegisterCustomer { identity }),
        Err(RelayError::AccountDeleted)
    );
    assert_eq!(
        w.call_bytes(&mut c, Request::RegisterCustomer { identity }),
        Err(Refusal::AccountDeleted)
    );
    assert_eq!(Refusal::AccountDeleted.code(), 33);
    assert_eq!(Refusal::from_code(33), Some(Refusal::AccountDeleted));

    // The consent evidence stays for the business until the retention
    // period is over, to the second.
    let evidence = |w: &mut World, b: &mut Party, c: AccountId| match w
        .call(b, Request::ExportConsent { customer: c })
        .unwrap()
    {
        Response::ConsentEvidence(records) => records.len(),
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(evidence(&mut w, &mut b, c.id()), 1);
    w.clock.advance(CONSENT_RETENTION_SECS - 1);
    w.relay.expire().unwrap();
    assert_eq!(evidence(&mut w, &mut b, c.id()), 1, "kept within the retention");
    w.clock.advance(1);
    w.relay.expire().unwrap();
    assert_eq!(evidence(&mut w, &mut b, c.id()), 0, "deleted when it ends");
    assert_eq!(
        evidence(&mut w, &mut b, other.id()),
        1,
        "a customer who was not erased keeps its evidence"
    );
    assert_eq!(w.relay.store().deleted_at(&c.id()), Ok(Some(erased_at)));
}

/// Window timestamps are dropped once they can open nothing (SPEC.md
/// 14.15): kept while the window is open, to the second, then deleted by
/// the expiry, and the rules are the same with or without them.
#[test]
fn closed_windows_are_dropped_by_the_expiry() {
    let biz = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(28));
    let mut w = world_with(28, MailboxLimits::default(), &[&biz]);
    let mut b = w.register_business(biz, 1);
    let mut c = w.customer();
    w.send_raw(&mut c, &b, MessageClass::Chat).unwrap();
    let sent = w.now();
    w.fetch_and_ack(&mut b);
    w.clock.advance(CHAT_WINDOW_SECS);
    w.relay.expire().unwrap();
    assert_eq!(
        w.relay.store().pair(&c.id(), &b.id()).unwrap().last_customer_message,
        Some(sent),
        "the window is still open at its last second"
    );
    w.send_raw(&mut b, &c, MessageClass::Chat).unwrap();
    w.clock.advance(1);
    w.relay.expire().unwrap();
    assert_eq!(
        w.relay.store().pair(&c.id(), &b.id()).unwrap().last_customer_message,
        None
    );
    assert_eq!(
        w.send_raw(&mut b, &c, MessageClass::Chat),
        Err(RelayError::Policy(PolicyError::WindowClosed))
    );
}

/// The oldest statement the relay gives is of the period that began no
/// longer than the retention ago (SPEC.md 14.16): at a time exactly one
/// retention after a period began, that period is still given; one second
/// later it is refused, and the refusal names the new first period.
#[test]
fn the_oldest_statement_given_is_the_period_begun_within_the_retention() {
    use hotline::constants::BILLING_PERIOD_SECS;
    let (w, _c, mut b) = pair(64);
    let day = BILLING_PERIOD_SECS;
    // Move to a time that is exactly the start of a period plus the
    // retention.
    let start = (w.now() / day + 1) * day;
    w.clock.set(start + STATE_RETENTION_SECS);
    let p = period_of(start);
    let current = period_of(w.now());
    assert!(matches!(
        w.call(&mut b, Request::FetchStatement { period: p }),
        Ok(Response::Statement(s)) if s.period == p && s.closed
    ));
    assert!(matches!(
        w.call(&mut b, Request::FetchStatement { period: p - 1 }),
        Err(RelayError::PeriodUnavailable { period, first, current: c })
            if period == p - 1 && first == p && c == current
    ));
    w.clock.advance(1);
    assert!(matches!(
        w.call(&mut b, Request::FetchStatement { period: p }),
        Err(RelayError::PeriodUnavailable { period, first, current: c })
            if period == p && first == p + 1 && c == current
    ));
    assert!(matches!(
        w.call(&mut b, Request::FetchStatement { period: p + 1 }),
        Ok(Response::Statement(_))
    ));
    // The current period is given, open.
    assert!(matches!(
        w.call(&mut b, Request::FetchStatement { period: current }),
        Ok(Response::Statement(s)) if !s.closed
    ));
}

// ---------------------------------------------------------------- reports (14.17)

/// A notification from `b` to `c` whose header commits to `content` under a
/// fresh franking key (the ciphertext is opaque: the relay never opens it).
fn franked(w: &mut World, b: &mut Party, c: &Party, content: &[u8]) -> (Envelope, FrankingKey) {
    let key = FrankingKey::random(&mut w.rng);
    let mut header = w.header(b, c, MessageClass::Notification);
    header.franking = key.commit(content);
    let envelope = Envelope {
        header,
        ciphertext: vec![0xAB; 100],
    };
    w.call(b, Request::Send(envelope.clone())).unwrap();
    (envelope, key)
}

/// What `c` keeps of the delivery of `envelope` to report it.
fn reportable(w: &World, c: &mut Party, envelope: &Envelope, key: FrankingKey) -> Reportable {
    let d = w
        .fetch(c)
        .into_iter()
        .find(|d| d.envelope == *envelope)
        .expect("delivered");
    Reportable {
        header: d.envelope.header,
        received_at: d.received_at,
        stamp: d.stamp,
        key,
    }
}

/// `submitter` sends the report of `m` that `signer` signed.
fn report_as(
    w: &World,
    submitter: &mut Party,
    signer: &IdentityKeyPair,
    m: &Reportable,
    content: &[u8],
) -> Result<Response, RelayError> {
    let r = SpamReport::sign(signer, m, content, ReportReason::Spam, w.now());
    w.call(submitter, Request::Report(Box::new(r)))
}

/// `c` reports `m`.
fn report(w: &World, c: &mut Party, m: &Reportable, content: &[u8]) -> Result<Response, RelayError> {
    let me = c.account.identity().clone();
    report_as(w, c, &me, m, content)
}

#[test]
fn a_report_proves_what_the_business_sent_and_nothing_else() {
    let (mut w, mut c, mut b) = pair(71);
    let mut other = w.customer();
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    let spam = b"Win a free flight! Send your card number to claim.";
    let (envelope, key) = franked(&mut w, &mut b, &c, spam);
    let m = reportable(&w, &mut c, &envelope, key.clone());
    // The stamp is the relay's over the header and the time it accepted it.
    assert_eq!(m.received_at, T0);
    let mut forged = m.clone();
    forged.stamp.0[31] ^= 1;
    assert!(matches!(report(&w, &mut c, &forged, spam), Err(RelayError::BadStamp)));
    let mut moved = m.clone();
    moved.received_at += 1;
    assert!(matches!(report(&w, &mut c, &moved, spam), Err(RelayError::BadStamp)));
    // Content the business did not send does not open its commitment.
    assert!(matches!(
        report(&w, &mut c, &m, b"Win a free flight!"),
        Err(RelayError::Request(RequestError::BadReport(ReportError::BadOpening)))
    ));
    // Only the recipient reports, and only a customer submits.
    let mine = c.account.identity().clone();
    assert!(matches!(report_as(&w, &mut other, &mine, &m, spam), Err(RelayError::RecordNotYours)));
    assert!(matches!(
        report_as(&w, &mut b, &mine, &m, spam),
        Err(RelayError::WrongAccountKind(AccountKind::Customer))
    ));
    // Another relay's stamp is not this relay's.
    let mut elsewhere = m.clone();
    elsewhere.stamp = RelayKey::from_seed(&[9; 32]).stamp(&m.header, m.received_at);
    assert!(matches!(report(&w, &mut c, &elsewhere, spam), Err(RelayError::BadStamp)));
    assert_eq!(w.relay.notification_standing(&b.id()).unwrap().0, 0);
    // The report's own time: 301 s from the relay's clock is refused, 300
    // s is taken.
    let me = c.account.identity().clone();
    let dated = |t: u64| {
        let r = SpamReport::sign(&me, &m, spam, ReportReason::Spam, t);
        Request::Report(Box::new(r))
    };
    let late = dated(w.now() + REQUEST_TIME_WINDOW_SECS + 1);
    assert!(matches!(w.call(&mut c, late), Err(RelayError::StaleRecord)));
    let early = dated(w.now() - REQUEST_TIME_WINDOW_SECS - 1);
    assert!(matches!(w.call(&mut c, early), Err(RelayError::StaleRecord)));
    let edge = dated(w.now() - REQUEST_TIME_WINDOW_SECS);
    assert!(matches!(w.call(&mut c, edge), Ok(Response::Reported { duplicate: false })));
    assert!(matches!(report(&w, &mut c, &m, spam), Ok(Response::Reported { duplicate: true })));
    assert_eq!(w.relay.notification_standing(&b.id()).unwrap().0, 1);
    // The store keeps the report as evidence anyone can check again.
    let dump = w.relay.store().dump().unwrap();
    assert!(dump.windows(spam.len()).any(|x| x == spam));
}

#[test]
fn a_report_is_taken_for_thirty_days_after_the_message_and_counts_for_seven() {
    let (mut w, mut c, mut b) = pair(72);
    w.consent(&mut c, &b, ConsentScope::ALL).unwrap();
    let (e1, k1) = franked(&mut w, &mut b, &c, b"first");
    let (e2, k2) = franked(&mut w, &mut b, &c, b"second");
    let m1 = reportable(&w, &mut c, &e1, k1);
    let m2 = reportable(&w, &mut c, &e2, k2);
    // At exactly the window the first is still taken.
    w.clock.set(T0 + hotline::constants::REPORT_WINDOW_SECS);
    assert!(report(&w, &mut c, &m1, b"first").is_ok());
    // One second later the second is not.
    w.clock.advance(1);
    assert!(matches!(
        report(&w, &mut c, &m2, b"second"),
        Err(RelayError::ReportTooOld { received_at, now }) if received_at == T0 && now == w.now()
    ));
    // The report counts while less than seven days old.
    let at = w.now() - 1;
    w.clock.set(at + hotline::constants::QUALITY_WINDOW_SECS - 1);
    assert_eq!(w.relay.notification_standing(&b.id()).unwrap().0, 1);
    w.clock.advance(1);
    assert_eq!(w.relay.notification_standing(&b.id()).unwrap().0, 0);
}

#[test]
fn reports_lower_the_daily_limit_of_customers_reached_by_notifications() {
    let mut rng = ChaCha20Rng::seed_from_u64(73 ^ 0xB);
    let biz = IdentityKeyPair::generate(&mut rng);
    let mut trust = AllowList::new();
    trust.allow(&biz.public(), "Example Air");
    let tiers = NotificationTiers::new(vec![1, 2], 1, 2).unwrap();
    let mut w = world_tiered(73, MailboxLimits::default(), trust, tiers);
    let mut b = w.register_business(biz, 5);
    let mut cs: Vec<Party> = (0..4).map(|_| w.customer()).collect();
    for c in &mut cs {
        w.consent(c, &b, ConsentScope::ALL).unwrap();
    }
    // Tier 1: two customers a rolling day; the third is refused, and the
    // first can still be sent to.
    let (e0, k0) = franked(&mut w, &mut b, &cs[0], b"zero");
    w.clock.advance(10);
    franked(&mut w, &mut b, &cs[1], b"one");
    assert!(matches!(
        w.send_raw(&mut b, &cs[2], MessageClass::Notification),
        Err(RelayError::DailyLimitReached { limit: 2, tier: 1 })
    ));
    w.sent(&mut b, &cs[0], MessageClass::Notification);
    // Chat is not limited.
    w.send_raw(&mut cs[2], &b, MessageClass::Chat).unwrap();
    w.sent(&mut b, &cs[2], MessageClass::Chat);
    // A rolling day after the first reach, exactly, it no longer counts;
    // one second before, it does.
    w.clock.set(T0 + hotline::constants::REACH_WINDOW_SECS - 1);
    assert!(matches!(
        w.send_raw(&mut b, &cs[2], MessageClass::Notification),
        Err(RelayError::DailyLimitReached { .. })
    ));
    w.clock.set(T0 + hotline::constants::REACH_WINDOW_SECS + 10);
    assert_eq!(w.relay.notification_standing(&b.id()).unwrap(), (0, 1, 2));
    // Two distinct reporters lower the tier to 0.
    let m0 = reportable(&w, &mut cs[0], &e0, k0);
    report(&w, &mut cs[0], &m0, b"zero").unwrap();
    assert_eq!(w.relay.notification_standing(&b.id()).unwrap(), (1, 1, 2));
    let (e3, k3) = franked(&mut w, &mut b, &cs[3], b"three");
    let m3 = reportable(&w, &mut cs[3], &e3, k3);
    report(&w, &mut cs[3], &m3, b"three").unwrap();
    assert_eq!(w.relay.notification_standing(&b.id()).unwrap(), (2, 0, 1));
    // Customer 3 was reached in this rolling day: the limit of 1 is used.
    assert!(matches!(
        w.send_raw(&mut b, &cs[2], MessageClass::Notification),
        Err(RelayError::DailyLimitReached { limit: 1, tier: 0 })
    ));
    let header = w.header(&b, &cs[2], MessageClass::Notification);
    assert_eq!(
        w.call_bytes(&mut b, Request::Send(Envelope { header, ciphertext: vec![1; 10] })),
        Err(Refusal::DailyLimitReached { limit: 1, tier: 0 })
    );
}

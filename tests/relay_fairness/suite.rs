// The fairness and record-order tests, run against every store (included
// by tests/relay_fairness.rs inside a module that defines `new_store`).

#[allow(unused_imports)]
use hotline::IdentityKeyPair;
use hotline::relay::RequestSigner;
include!("../relay_suite/envelope.rs");
use hotline::constants::{
    BUNDLE_FETCH_BURST, BUNDLE_FETCH_REFILL_SECS, DRAIN_DAY_SLOTS, DRAIN_SLOT_SECS,
    INITIAL_MESSAGE_BURST, INITIAL_MESSAGE_REFILL_SECS, MAX_MAILBOX_ENVELOPES,
    MAX_MAILBOX_ENVELOPES_PER_SENDER, REQUEST_TIME_WINDOW_SECS,
};
use hotline::relay::{
    AccountId, AllowList, BlockRecord, ConsentRecord, ConsentScope, Envelope, EnvelopeHeader,
    MailboxLimits, ManualClock, MessageClass, MessageId, PolicyError, PreKeyDrain, PreKeyStatus,
    PreKeyUpload, RateLimit, RateLimits, Refusal, Relay, RelayError, RelayStore, Request,
    Response, TokenBucket, EnqueueOutcome, SendEffects, StoredEnvelope,
};
use hotline::{MessageType, PreKeyStore, Session, message_type};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::Arc;

const T0: u64 = 1_700_000_000;

struct World {
    relay: Arc<Relay<Box<dyn RelayStore>>>,
    clock: ManualClock,
    rng: ChaCha20Rng,
    trusted: Vec<IdentityKeyPair>,
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

impl World {
    /// A relay with `limits` and `rates`, and `businesses` trusted
    /// business identities ready to register.
    fn new(seed: u64, limits: MailboxLimits, rates: RateLimits, businesses: usize) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let trusted: Vec<_> = (0..businesses)
            .map(|_| IdentityKeyPair::generate(&mut rng))
            .collect();
        let mut trust = AllowList::new();
        for b in &trusted {
            trust.allow(&b.public(), "Example Air");
        }
        let clock = ManualClock::new(T0);
        let relay = Relay::new(new_store(), clock.clone(), trust)
            .with_limits(limits)
            .with_rate_limits(rates);
        Self {
            relay: Arc::new(relay),
            clock,
            rng,
            trusted,
        }
    }

    fn defaults(seed: u64) -> Self {
        Self::new(seed, MailboxLimits::default(), RateLimits::default(), 1)
    }

    fn now(&self) -> u64 {
        hotline::relay::Clock::now(&self.clock)
    }

    fn call(&self, p: &mut Party, req: Request) -> Result<Response, RelayError> {
        let signed = p.account.sign(req, self.now());
        self.relay.handle_request(&signed)
    }

    fn call_bytes(&self, p: &mut Party, req: Request) -> Result<Response, Refusal> {
        let signed = p.account.sign(req, self.now());
        Response::decode_result(&self.relay.handle(&signed.to_bytes())).expect("decodes")
    }

    fn customer(&mut self) -> Party {
        let identity = IdentityKeyPair::generate(&mut self.rng);
        let prekeys = PreKeyStore::new(&identity, 3, 3, &mut self.rng);
        let mut p = Party {
            account: RequestSigner::new(identity, 0),
            prekeys,
        };
        let identity = p.account.identity().public();
        self.call(&mut p, Request::RegisterCustomer { identity })
            .unwrap();
        p
    }

    /// Registers trusted business `i` with `otk` one-time prekeys of each kind.
    fn business(&mut self, i: usize, otk: usize) -> Party {
        let identity = self.trusted[i].clone();
        let prekeys = PreKeyStore::new(&identity, otk, otk, &mut self.rng);
        let mut p = Party {
            account: RequestSigner::new(identity, 0),
            prekeys,
        };
        let identity = p.account.identity().public();
        let req = Request::RegisterBusiness {
            identity,
            certificate_chain: Vec::new(),
        };
        self.call(&mut p, req).unwrap();
        upload(self, &mut p);
        p
    }

    fn envelope(&mut self, from: &Party, to: &Party, ciphertext: Vec<u8>) -> Envelope {
        Envelope {
            header: EnvelopeHeader {
                sender: from.id(),
                recipient: to.id(),
                message_id: MessageId::random(&mut self.rng),
                class: MessageClass::Chat,
                sent_at: self.now(),
                franking: Default::default(),
            },
            ciphertext,
        }
    }

    /// A chat envelope whose session message is a ratchet message.
    fn chat(&mut self, from: &Party, to: &Party, len: usize) -> Envelope {
        let mut ciphertext = vec![0xAB; len.max(2)];
        ciphertext[..2].copy_from_slice(&[1, 2]);
        assert_eq!(message_type(&ciphertext), Ok(MessageType::Ratchet));
        self.envelope(from, to, ciphertext)
    }

    /// A chat envelope whose session message is (by its type byte) an
    /// initial message.
    fn initial(&mut self, from: &Party, to: &Party) -> Envelope {
        let mut ciphertext = vec![0xCD; 120];
        ciphertext[..2].copy_from_slice(&[1, 1]);
        assert_eq!(message_type(&ciphertext), Ok(MessageType::Initial));
        self.envelope(from, to, ciphertext)
    }

    fn fetch_bundle(&self, c: &mut Party, owner: &Party) -> Result<Response, RelayError> {
        self.call(c, Request::FetchBundle { owner: owner.id() })
    }

    fn status(&self, p: &mut Party) -> PreKeyStatus {
        match self.call(p, Request::PreKeyStatus).unwrap() {
            Response::PreKeyStatus(s) => s,
            other => panic!("{other:?}"),
        }
    }

    fn block(&self, c: &mut Party, b: &Party, blocked: bool, time: u64) -> Result<Response, RelayError> {
        let rec = BlockRecord::sign(c.account.identity(), b.id(), blocked, time);
        self.call(c, Request::Block(rec))
    }

    fn consent(
        &self,
        c: &mut Party,
        b: &Party,
        scope: ConsentScope,
        time: u64,
    ) -> Result<Response, RelayError> {
        let rec = ConsentRecord::sign(c.account.identity(), b.id(), scope, time);
        self.call(c, Request::Consent(rec))
    }

    /// Sends a notification from `b` to `c` (a ratchet message).
    fn notify(&mut self, b: &mut Party, c: &Party) -> Result<Response, RelayError> {
        let mut e = self.chat(b, c, 100);
        e.header.class = MessageClass::Notification;
        self.call(b, Request::Send(e))
    }
}

fn upload(w: &World, p: &mut Party) {
    let u = PreKeyUpload {
        signed_prekey: Some(p.prekeys.signed_prekey()),
        last_resort_kem_prekey: Some(p.prekeys.last_resort_kem_prekey()),
        one_time_prekeys: p.prekeys.one_time_prekeys(),
        kem_prekeys: p.prekeys.kem_prekeys(),
    };
    w.call(p, Request::UploadPreKeys(u)).unwrap();
}

fn bundle_of(r: Result<Response, RelayError>) -> Box<hotline::PreKeyBundle> {
    match r {
        Ok(Response::Bundle { bundle: b, .. }) => b,
        other => panic!("expected a bundle, got {other:?}"),
    }
}

fn no_rates() -> RateLimits {
    RateLimits::NONE
}

// ------------------------------------------------ 1. one sender, one mailbox

#[test]
fn one_customer_cannot_fill_a_business_mailbox() {
    // The quota must be what lets others in: well below the mailbox.
    const { assert!(MAX_MAILBOX_ENVELOPES_PER_SENDER * 2 <= MAX_MAILBOX_ENVELOPES) };
    let mut w = World::new(1, MailboxLimits::default(), no_rates(), 1);
    let b = w.business(0, 0);
    let mut mallory = w.customer();
    let mut sent = 0;
    let refusal = loop {
        let e = w.chat(&mallory, &b, 64);
        match w.call(&mut mallory, Request::Send(e)) {
            Ok(Response::Accepted { duplicate: false, .. }) => sent += 1,
            Err(e) => break e,
            Ok(other) => panic!("{other:?}"),
        }
        assert!(sent <= MAX_MAILBOX_ENVELOPES, "the mailbox took everything");
    };
    assert_eq!(refusal, RelayError::SenderQuotaExceeded);
    assert_eq!(sent, MAX_MAILBOX_ENVELOPES_PER_SENDER);
    // On the wire, the refusal is precise.
    let e = w.chat(&mallory, &b, 64);
    assert_eq!(
        w.call_bytes(&mut mallory, Request::Send(e)),
        Err(Refusal::SenderQuotaExceeded)
    );
    // Every other customer still gets through.
    for _ in 0..3 {
        let mut other = w.customer();
        let e = w.chat(&other, &b, 64);
        assert!(matches!(w.call(&mut other, Request::Send(e)), Ok(Response::Accepted { duplicate: false, .. })));
    }
}

#[test]
fn the_sender_quota_counts_bytes_and_frees_on_acknowledgement() {
    let limits = MailboxLimits {
        max_bytes_per_sender: 1000,
        ..MailboxLimits::default()
    };
    let mut w = World::new(2, limits, no_rates(), 1);
    let mut b = w.business(0, 0);
    let mut mallory = w.customer();
    let first = w.chat(&mallory, &b, 360);
    let len = first.to_bytes().len();
    assert!(len > 400 && 2 * len <= 1000 && 3 * len > 1000);
    w.call(&mut mallory, Request::Send(first.clone())).unwrap();
    let e = w.chat(&mallory, &b, 360);
    w.call(&mut mallory, Request::Send(e)).unwrap();
    let e = w.chat(&mallory, &b, 360);
    assert_eq!(
        w.call(&mut mallory, Request::Send(e.clone())),
        Err(RelayError::SenderQuotaExceeded)
    );
    // A retry of an accepted envelope is still a harmless duplicate.
    assert!(matches!(w.call(&mut mallory, Request::Send(first)), Ok(Response::Accepted { duplicate: true, .. })));
    // Another sender is not held back by Mallory's bytes.
    let mut alice = w.customer();
    let a = w.chat(&alice, &b, 400);
    w.call(&mut alice, Request::Send(a)).unwrap();
    // Once the business has acknowledged, Mallory's share is free again.
    let deliveries = match w.call(&mut b, Request::FetchMailbox { max: 10 }).unwrap() {
        Response::Mailbox { deliveries, .. } => deliveries,
        other => panic!("{other:?}"),
    };
    assert_eq!(deliveries.len(), 3);
    let ids = deliveries.iter().map(|d| d.id).collect();
    w.call(&mut b, Request::Acknowledge { ids }).unwrap();
    assert!(matches!(w.call(&mut mallory, Request::Send(e)), Ok(Response::Accepted { duplicate: false, .. })));
}

#[test]
fn the_sender_quota_holds_under_concurrent_enqueues() {
    // The store checks the quota and stores in one atomic step: concurrent
    // enqueues from one sender never overshoot it.
    let limits = MailboxLimits {
        max_envelopes_per_sender: 7,
        ..MailboxLimits::default()
    };
    let mut w = World::new(3, limits, no_rates(), 1);
    let b = w.business(0, 0);
    let mallory = w.customer();
    let now = w.now();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let relay = w.relay.clone();
            let envelopes: Vec<Envelope> = (0..5).map(|_| w.chat(&mallory, &b, 64)).collect();
            std::thread::spawn(move || {
                envelopes
                    .into_iter()
                    .map(|e| {
                        let stored = StoredEnvelope {
                            recipient: e.header.recipient,
                            sender: e.header.sender,
                            message_id: e.header.message_id,
                            received_at: now,
                            bytes: e.to_bytes(),
                        };
                        relay
                            .store()
                            .enqueue(&stored, SendEffects::default(), &limits, now)
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let outcomes: Vec<_> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let stored = outcomes
        .iter()
        .filter(|o| matches!(o, EnqueueOutcome::Stored(_)))
        .count();
    assert_eq!(stored, 7);
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == EnqueueOutcome::SenderQuotaExceeded)
            .count(),
        13
    );
}

// ------------------------------------------------ 2. draining prekeys

#[test]
fn one_customer_cannot_drain_one_time_prekeys() {
    let mut w = World::defaults(4);
    let mut b = w.business(0, 40);
    let mut mallory = w.customer();
    for _ in 0..BUNDLE_FETCH_BURST {
        let bundle = bundle_of(w.fetch_bundle(&mut mallory, &b));
        assert!(bundle.one_time_prekey().is_some());
    }
    let refused = w.fetch_bundle(&mut mallory, &b);
    assert_eq!(
        refused,
        Err(RelayError::RateLimited {
            limit: RateLimit::BundleFetches,
            retry_after_secs: BUNDLE_FETCH_REFILL_SECS,
        })
    );
    // The rest of the directory is untouched.
    assert_eq!(w.status(&mut b).one_time, 40 - BUNDLE_FETCH_BURST);
    // On the wire the refusal says which limit and when to retry.
    assert_eq!(
        w.call_bytes(&mut mallory, Request::FetchBundle { owner: b.id() }),
        Err(Refusal::RateLimited {
            limit: RateLimit::BundleFetches,
            retry_after_secs: BUNDLE_FETCH_REFILL_SECS,
        })
    );
    // Refused before the counter was written: the same signed request,
    // sent again once the wait is over, is accepted.
    let req = mallory
        .account
        .sign(Request::FetchBundle { owner: b.id() }, w.now());
    assert!(matches!(
        w.relay.handle_request(&req),
        Err(RelayError::RateLimited { .. })
    ));
    w.clock.advance(u64::from(BUNDLE_FETCH_REFILL_SECS) - 1);
    assert_eq!(
        w.relay.handle_request(&req),
        Err(RelayError::RateLimited {
            limit: RateLimit::BundleFetches,
            retry_after_secs: 1,
        })
    );
    w.clock.advance(1);
    bundle_of(w.relay.handle_request(&req));
    assert!(matches!(
        w.fetch_bundle(&mut mallory, &b),
        Err(RelayError::RateLimited { .. })
    ));
    // Other customers are not held back by Mallory's bucket.
    let mut alice = w.customer();
    assert!(bundle_of(w.fetch_bundle(&mut alice, &b)).one_time_prekey().is_some());
}

#[test]
fn many_customers_cannot_drain_an_owner() {
    let rates = RateLimits {
        one_time_prekeys_per_owner: Some(TokenBucket {
            capacity: 5,
            refill_secs: 60,
        }),
        ..RateLimits::default()
    };
    let mut w = World::new(5, MailboxLimits::default(), rates, 1);
    let mut b = w.business(0, 20);
    let last_resort = b.prekeys.last_resort_kem_prekey().id;
    let mut with_one_time = 0;
    for _ in 0..12 {
        let mut sybil = w.customer();
        // Nobody is refused a bundle: past the owner's limit, bundles carry
        // the last-resort KEM prekey and no one-time prekey.
        let bundle = bundle_of(w.fetch_bundle(&mut sybil, &b));
        match bundle.one_time_prekey() {
            Some(_) => {
                with_one_time += 1;
                assert_eq!(bundle.kem_prekey().kind, hotline::KemPreKeyKind::OneTime);
            }
            None => assert_eq!(bundle.kem_prekey().id, last_resort),
        }
    }
    assert_eq!(with_one_time, 5);
    let s = w.status(&mut b);
    assert_eq!((s.one_time, s.kem), (15, 15));
    // The owner's bucket refills: one more one-time prekey a minute.
    w.clock.advance(60);
    let mut late = w.customer();
    assert!(bundle_of(w.fetch_bundle(&mut late, &b)).one_time_prekey().is_some());
    assert!(bundle_of(w.fetch_bundle(&mut late, &b)).one_time_prekey().is_none());
}

#[test]
fn initial_messages_are_limited_per_customer() {
    let limits = MailboxLimits {
        max_envelopes_per_sender: 1000,
        ..MailboxLimits::default()
    };
    let mut w = World::new(6, limits, RateLimits::default(), 1);
    let b = w.business(0, 0);
    let mut mallory = w.customer();
    // Retries of the same initial message are duplicates and cost nothing.
    let first = w.initial(&mallory, &b);
    for _ in 0..3 {
        w.call(&mut mallory, Request::Send(first.clone())).unwrap();
    }
    for _ in 1..INITIAL_MESSAGE_BURST {
        let e = w.initial(&mallory, &b);
        assert!(matches!(w.call(&mut mallory, Request::Send(e)), Ok(Response::Accepted { duplicate: false, .. })));
    }
    let e = w.initial(&mallory, &b);
    let expected = RelayError::RateLimited {
        limit: RateLimit::InitialMessages,
        retry_after_secs: INITIAL_MESSAGE_REFILL_SECS,
    };
    assert_eq!(w.call(&mut mallory, Request::Send(e.clone())), Err(expected.clone()));
    assert_eq!(
        w.call_bytes(&mut mallory, Request::Send(e.clone())),
        Err(expected.refusal())
    );
    // Nothing was stored: the business has exactly the accepted ones.
    let mut b = b;
    let waiting = match w.call(&mut b, Request::FetchMailbox { max: 100 }).unwrap() {
        Response::Mailbox { deliveries, .. } => deliveries.len(),
        other => panic!("{other:?}"),
    };
    assert_eq!(waiting, INITIAL_MESSAGE_BURST as usize);
    // Ratchet messages are not limited, nor are other customers.
    let r = w.chat(&mallory, &b, 100);
    w.call(&mut mallory, Request::Send(r)).unwrap();
    let mut alice = w.customer();
    let a = w.initial(&alice, &b);
    w.call(&mut alice, Request::Send(a)).unwrap();
    w.clock.advance(u64::from(INITIAL_MESSAGE_REFILL_SECS));
    w.call(&mut mallory, Request::Send(e)).unwrap();
}

#[test]
fn a_genuine_initial_message_counts_as_one() {
    let rates = RateLimits {
        initial_messages_per_customer: Some(TokenBucket {
            capacity: 1,
            refill_secs: 3600,
        }),
        ..RateLimits::default()
    };
    let mut w = World::new(7, MailboxLimits::default(), rates, 1);
    let b = w.business(0, 2);
    let mut c = w.customer();
    let bundle = bundle_of(w.fetch_bundle(&mut c, &b));
    let mut session = Session::initiate(c.account.identity(), &bundle, &mut w.rng).unwrap();
    let mut send = |w: &mut World, c: &mut Party, text: &[u8]| {
        let header = w.chat(c, &b, 2).header;
        let envelope = seal(&mut session, header, text).unwrap();
        assert!(envelope.is_initial());
        assert_eq!(message_type(&envelope.ciphertext), Ok(MessageType::Initial));
        w.call(c, Request::Send(envelope))
    };
    send(&mut w, &mut c, b"hello").unwrap();
    assert!(matches!(
        send(&mut w, &mut c, b"again"),
        Err(RelayError::RateLimited {
            limit: RateLimit::InitialMessages,
            ..
        })
    ));
}

#[test]
fn businesses_are_not_rate_limited() {
    let mut w = World::defaults(8);
    let mut b = w.business(0, 0);
    let mut c = w.customer();
    upload(&w, &mut c);
    for _ in 0..(BUNDLE_FETCH_BURST + 5) {
        bundle_of(w.fetch_bundle(&mut b, &c));
    }
    w.consent(&mut c, &b, ConsentScope::ALL, w.now()).unwrap();
    for _ in 0..(INITIAL_MESSAGE_BURST + 5) {
        let mut e = w.initial(&b, &c);
        e.header.class = MessageClass::Notification;
        w.call(&mut b, Request::Send(e)).unwrap();
    }
}

// ------------------------------------------------ 3. the drain rate

#[test]
fn the_low_prekey_signal_reports_the_drain_rate() {
    let rates = RateLimits {
        one_time_prekeys_per_owner: Some(TokenBucket {
            capacity: 12,
            refill_secs: 3600,
        }),
        ..RateLimits::default()
    };
    let mut w = World::new(9, MailboxLimits::default(), rates, 1);
    // Start at a slot boundary so the hour and day counts are exact here.
    w.clock.set(T0 - T0 % DRAIN_SLOT_SECS + DRAIN_SLOT_SECS);
    let mut b = w.business(0, 15);
    assert_eq!(w.status(&mut b).drained, PreKeyDrain::default());
    let mut c = w.customer();
    for _ in 0..12 {
        bundle_of(w.fetch_bundle(&mut c, &b));
    }
    // Withheld bundles (past the owner's limit) drain nothing.
    assert!(bundle_of(w.fetch_bundle(&mut c, &b)).one_time_prekey().is_none());
    let twelve = PreKeyDrain {
        last_hour: 12,
        last_day: 12,
    };
    let s = w.status(&mut b);
    assert!(s.low);
    assert_eq!(s.drained, twelve);
    // Every place that carries the low flag carries the drain, on the wire.
    match w.call_bytes(&mut b, Request::PreKeyStatus) {
        Ok(Response::PreKeyStatus(s)) => assert_eq!(s.drained, twelve),
        other => panic!("{other:?}"),
    }
    match w.call_bytes(&mut b, Request::FetchMailbox { max: 1 }) {
        Ok(Response::Mailbox {
            prekeys_low,
            prekeys_drained,
            ..
        }) => assert!(prekeys_low && prekeys_drained == twelve),
        other => panic!("{other:?}"),
    }
    w.clock.advance(2 * DRAIN_SLOT_SECS);
    let one = |w: &World, b: &mut Party| w.status(b).drained;
    assert_eq!(
        one(&w, &mut b),
        PreKeyDrain {
            last_hour: 0,
            last_day: 12
        }
    );
    let more = PreKeyUpload {
        one_time_prekeys: b.prekeys.add_one_time_prekeys(5, &mut w.rng),
        kem_prekeys: b.prekeys.add_kem_prekeys(5, &mut w.rng),
        ..Default::default()
    };
    match w.call_bytes(&mut b, Request::UploadPreKeys(more)) {
        Ok(Response::PreKeysStored(s)) => assert_eq!(s.drained.last_day, 12),
        other => panic!("{other:?}"),
    }
    w.clock.advance(DRAIN_DAY_SLOTS * DRAIN_SLOT_SECS);
    assert_eq!(one(&w, &mut b), PreKeyDrain::default());
}

// ------------------------------------------------ 4. records in time

#[test]
fn a_block_in_the_same_second_as_an_unblock_wins() {
    let mut w = World::new(10, MailboxLimits::default(), no_rates(), 1);
    let mut b = w.business(0, 0);
    let mut c = w.customer();
    let t = w.now();
    w.consent(&mut c, &b, ConsentScope::ALL, t).unwrap();
    assert_eq!(w.block(&mut c, &b, false, t), Ok(Response::BlockStored));
    assert_eq!(w.block(&mut c, &b, true, t), Ok(Response::BlockStored));
    assert_eq!(w.notify(&mut b, &c), Err(PolicyError::Blocked.into()));
    // An unblock of the same second does not undo it.
    assert_eq!(w.block(&mut c, &b, false, t), Err(RelayError::StaleRecord));
    assert_eq!(w.notify(&mut b, &c), Err(PolicyError::Blocked.into()));
    // Nor does a second block of the same second change anything.
    assert_eq!(w.block(&mut c, &b, true, t), Err(RelayError::StaleRecord));
    // A later unblock does.
    w.clock.advance(1);
    assert_eq!(w.block(&mut c, &b, false, t + 1), Ok(Response::BlockStored));
    assert!(w.notify(&mut b, &c).is_ok());
}

#[test]
fn a_narrower_consent_in_the_same_second_wins() {
    let mut w = World::new(11, MailboxLimits::default(), no_rates(), 1);
    let mut b = w.business(0, 0);
    let mut c = w.customer();
    let t = w.now();
    w.consent(&mut c, &b, ConsentScope::ALL, t).unwrap();
    let notifications = ConsentScope {
        chat: false,
        notifications: true,
    };
    let chat = ConsentScope {
        chat: true,
        notifications: false,
    };
    assert_eq!(
        w.consent(&mut c, &b, notifications, t),
        Ok(Response::ConsentStored)
    );
    assert_eq!(w.consent(&mut c, &b, chat, t), Ok(Response::ConsentStored));
    assert_eq!(
        w.consent(&mut c, &b, ConsentScope::NONE, t),
        Ok(Response::ConsentStored)
    );
    assert_eq!(w.notify(&mut b, &c), Err(PolicyError::NoConsent.into()));
    // Nothing wider of the same second undoes the withdrawal.
    for scope in [ConsentScope::ALL, notifications, chat, ConsentScope::NONE] {
        assert_eq!(
            w.consent(&mut c, &b, scope, t),
            Err(RelayError::StaleRecord)
        );
    }
    // The history keeps one record per second: the one in force.
    let history = w.relay.consent_evidence(&c.id(), &b.id()).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].scope(), ConsentScope::NONE);
    w.clock.advance(1);
    w.consent(&mut c, &b, ConsentScope::ALL, t + 1).unwrap();
    assert!(w.notify(&mut b, &c).is_ok());
    assert_eq!(w.relay.consent_evidence(&c.id(), &b.id()).unwrap().len(), 2);
}

#[test]
fn a_block_from_the_future_cannot_hold_back_a_later_unblock() {
    let mut w = World::new(12, MailboxLimits::default(), no_rates(), 1);
    let mut b = w.business(0, 0);
    let mut c = w.customer();
    let t = w.now();
    w.consent(&mut c, &b, ConsentScope::ALL, t).unwrap();
    // Dated just inside the allowance ahead of the relay's clock.
    assert_eq!(
        w.block(&mut c, &b, true, t + REQUEST_TIME_WINDOW_SECS - 1),
        Ok(Response::BlockStored)
    );
    assert_eq!(w.notify(&mut b, &c), Err(PolicyError::Blocked.into()));
    w.clock.advance(10);
    assert_eq!(w.block(&mut c, &b, false, t + 10), Ok(Response::BlockStored));
    assert!(w.notify(&mut b, &c).is_ok());
    // Still refused: a record further ahead than the allowance, and an
    // old record replayed.
    let now = w.now();
    assert_eq!(
        w.block(&mut c, &b, true, now + REQUEST_TIME_WINDOW_SECS + 1),
        Err(RelayError::StaleRecord)
    );
    assert_eq!(w.block(&mut c, &b, true, t + 5), Err(RelayError::StaleRecord));
}

#[test]
fn a_consent_from_the_future_cannot_hold_back_a_later_change() {
    let mut w = World::new(13, MailboxLimits::default(), no_rates(), 1);
    let mut b = w.business(0, 0);
    let mut c = w.customer();
    let t = w.now();
    // A withdrawal dated ahead, then a genuine consent ten seconds later.
    assert_eq!(
        w.consent(&mut c, &b, ConsentScope::NONE, t + 299),
        Ok(Response::ConsentStored)
    );
    w.clock.advance(10);
    assert_eq!(
        w.consent(&mut c, &b, ConsentScope::ALL, t + 10),
        Ok(Response::ConsentStored)
    );
    assert!(w.notify(&mut b, &c).is_ok());
    // And the other way round: a consent dated ahead does not outlive a
    // withdrawal made after it.
    w.clock.advance(1);
    assert_eq!(
        w.consent(&mut c, &b, ConsentScope::ALL, t + 11 + 299),
        Ok(Response::ConsentStored)
    );
    w.clock.advance(1);
    assert_eq!(
        w.consent(&mut c, &b, ConsentScope::NONE, t + 12),
        Ok(Response::ConsentStored)
    );
    assert_eq!(w.notify(&mut b, &c), Err(PolicyError::NoConsent.into()));
}

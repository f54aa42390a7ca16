//! A customer and an airline talk through a relay that holds only
//! ciphertext and enforces the rules of business messaging.
//!
//! Run with `cargo run --example business_chat`. Each step prints what the
//! customer's app, the airline's console and the relay each see:
//!
//! 1. the platform's root certifies an issuer, which certifies the airline;
//! 2. the relay checks the airline's certificate chain when it registers;
//! 3. the customer opts in, 4. asks about a booking and sees the verified
//!    badge, 5. the airline answers; 6. 25 hours later a free-form message is
//!    refused, 7. a notification goes through and is metered; 8. the customer
//!    blocks the airline and its next message is refused.

use hotline::business::{
    BusinessCertificateRequest, BusinessId, CertificateChain, IssuerAuthority, LevelSet, Peer,
    RootAuthority, TrustStore, Validity, VerificationLevel,
};
use hotline::client::{ClientPolicy, RelayAccount, accept, open, seal};
use hotline::relay::{
    BlockRecord, CertificateRefused, Clock, ConsentRecord, ConsentScope, Delivery, Envelope,
    EnvelopeHeader, ManualClock, MemoryStore, MessageClass, MessageId, PreKeyUpload, Relay,
    RelayError, RelayStore, Request, Response,
};
use hotline::{IdentityKeyPair, PreKeyStore, Session};

type Error = Box<dyn std::error::Error>;

/// Mon 1 Jun 2026 09:00 UTC, the relay's clock at the start.
const START: u64 = 1_780_304_400;
const DAY: u64 = 86_400;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the relay can see of an envelope: metadata and opaque bytes.
fn relay_sees(e: &Envelope) {
    let h = &e.header;
    println!(
        "   relay sees     {:?} {} -> {}, {} bytes of ciphertext …{}",
        h.class,
        h.sender.short(),
        h.recipient.short(),
        e.ciphertext.len(),
        hex(&e.ciphertext[e.ciphertext.len() - 8..])
    );
}

/// The badge the customer's app shows for the other side of a session. It
/// comes from the handshake, never from anything the relay says.
fn badge(session: &Session) -> String {
    match session.peer() {
        Peer::VerifiedBusiness(b) => format!("verified business: {} ({})", b.name(), b.level()),
        Peer::Unverified(key) => format!("unverified: {}", key.short_id()),
    }
}

struct Demo {
    relay: Relay,
    clock: ManualClock,
}

impl Demo {
    fn now(&self) -> u64 {
        self.clock.now()
    }
    /// A request through the byte-level API, as any transport would carry it.
    fn call(&self, who: &mut RelayAccount, req: Request) -> Result<Response, Error> {
        let bytes = who.sign(req, self.now()).to_bytes();
        Ok(Response::decode_result(&self.relay.handle(&bytes))?.map_err(|r| format!("{r:?}"))?)
    }
    /// A request through the typed API, to show the relay's precise refusal.
    fn try_call(&self, who: &mut RelayAccount, req: Request) -> Result<Response, String> {
        self.relay
            .handle_request(&who.sign(req, self.now()))
            .map_err(|e| e.to_string())
    }
    /// Fetches and acknowledges the mailbox.
    fn inbox(&self, who: &mut RelayAccount) -> Result<Vec<Delivery>, Error> {
        let Response::Mailbox { deliveries, .. } =
            self.call(who, Request::FetchMailbox { max: 10 })?
        else {
            return Err("unexpected response".into());
        };
        let ids = deliveries.iter().map(|d| d.id).collect();
        self.call(who, Request::Acknowledge { ids })?;
        Ok(deliveries)
    }
    fn header(
        &self,
        from: &RelayAccount,
        to: &RelayAccount,
        class: MessageClass,
    ) -> EnvelopeHeader {
        EnvelopeHeader {
            sender: from.id(),
            recipient: to.id(),
            message_id: MessageId::random(&mut rand::rng()),
            class,
            sent_at: self.now(),
        }
    }
}

fn main() -> Result<(), Error> {
    let mut rng = rand::rng();

    println!("1. The platform certifies the airline.");
    let years = |n: u64| n * 365 * DAY;
    let root = RootAuthority::generate(
        1,
        Validity {
            not_before: START - years(1),
            not_after: START + years(10),
        },
        &mut rng,
    );
    let (issuer_seed, issuer_key) = IssuerAuthority::generate_key(&mut rng);
    let levels = LevelSet::new(&[VerificationLevel::Verified, VerificationLevel::Official])
        .ok_or("no levels")?;
    let issuer_validity = Validity {
        not_before: START - years(1),
        not_after: START + years(3),
    };
    let issuer_cert = root.certify_issuer(7, &issuer_key, levels, issuer_validity)?;
    let issuer = IssuerAuthority::new(&issuer_seed, issuer_cert)?;
    println!("   platform       root 1 certifies issuer 7 for levels verified and official");

    let airline_identity = IdentityKeyPair::generate(&mut rng);
    let certificate = issuer.issue(&BusinessCertificateRequest {
        serial: 1001,
        business_id: BusinessId([0xEA; 16]),
        identity_key: *airline_identity.public().signing_key(),
        name: "Example Air".into(),
        localized: vec![],
        level: VerificationLevel::Official,
        validity: Validity {
            not_before: START - 30 * DAY,
            not_after: START + years(1),
        },
    })?;
    let chain = CertificateChain::new(issuer.certificate().clone(), certificate);
    println!(
        "   platform       issuer 7 certifies identity {} as \"Example Air\" (official), serial 1001",
        airline_identity.public().short_id()
    );

    println!("\n2. The airline registers with the relay, which checks its chain.");
    // The relay and the customers' apps hold the same root.
    let mut relay_trust = TrustStore::new();
    relay_trust.add_root(root.trust_root())?;
    let clock = ManualClock::new(START);
    let demo = Demo {
        relay: Relay::new(MemoryStore::new(), clock.clone(), relay_trust),
        clock,
    };
    let mut airline_prekeys = PreKeyStore::new(&airline_identity, 20, 20, &mut rng);
    airline_prekeys.set_certificate_chain(chain.clone())?;
    let mut airline = RelayAccount::new(airline_identity, 0);
    let identity = airline.identity().public();
    demo.call(
        &mut airline,
        Request::RegisterBusiness {
            identity,
            certificate_chain: chain.to_bytes(),
        },
    )?;
    let upload = PreKeyUpload {
        signed_prekey: Some(airline_prekeys.signed_prekey()),
        last_resort_kem_prekey: Some(airline_prekeys.last_resort_kem_prekey()),
        one_time_prekeys: airline_prekeys.one_time_prekeys(),
        kem_prekeys: airline_prekeys.kem_prekeys(),
    };
    demo.call(&mut airline, Request::UploadPreKeys(upload))?;
    let record = demo
        .relay
        .store()
        .account(&airline.id())?
        .ok_or("not registered")?;
    println!(
        "   relay sees     business {} registered as {:?} (chain valid under root 1), 20 + 20 one-time prekeys",
        airline.id().short(),
        record.name
    );
    // Someone else presenting the airline's certificate is turned away.
    let mut impostor = RelayAccount::new(IdentityKeyPair::generate(&mut rng), 0);
    let identity = impostor.identity().public();
    let request = Request::RegisterBusiness {
        identity,
        certificate_chain: chain.to_bytes(),
    };
    let refused = demo
        .relay
        .handle_request(&impostor.sign(request, demo.now()));
    if let Err(RelayError::CertificateRefused(CertificateRefused::Invalid(reason))) = refused {
        println!("   relay refuses  an impostor presenting the airline's chain: {reason:?}");
    }

    println!("\n3. A customer installs the app and opts in to messages from the airline.");
    let mut customer = RelayAccount::new(IdentityKeyPair::generate(&mut rng), 0);
    let identity = customer.identity().public();
    demo.call(&mut customer, Request::RegisterCustomer { identity })?;
    let consent = ConsentRecord::sign(customer.identity(), airline.id(), ConsentScope::ALL, START);
    demo.call(&mut customer, Request::Consent(consent))?;
    println!(
        "   relay sees     consent {} -> {}: chat + notifications, signed by the customer",
        customer.id().short(),
        airline.id().short()
    );
    let mut policy = ClientPolicy::new(customer.id());
    // The app ships with the platform's root.
    let mut app_trust = TrustStore::new();
    app_trust.add_root(root.trust_root())?;

    println!("\n4. The customer asks about a booking.");
    let Response::Bundle(bundle) = demo.call(
        &mut customer,
        Request::FetchBundle {
            owner: airline.id(),
        },
    )?
    else {
        return Err("no bundle".into());
    };
    println!(
        "   relay sees     {} fetched the bundle of {} (one-time prekeys handed out once)",
        customer.id().short(),
        airline.id().short()
    );
    // The app validates the chain in the bundle itself and binds it into
    // the handshake; the relay's word counts for nothing here.
    let verified = app_trust.verify_bundle(&bundle, demo.now())?;
    let mut customer_session =
        Session::initiate_verified(customer.identity(), &bundle, &verified, &mut rng)?;
    let name = badge(&customer_session);
    println!("   customer sees  [{name}]");
    let question = "Hi, can I move booking ZX81QK to Friday?";
    let header = demo.header(&customer, &airline, MessageClass::Chat);
    let envelope = seal(&mut customer_session, header, question.as_bytes())?;
    demo.call(&mut customer, Request::Send(envelope))?;
    println!("   customer wrote {question:?}");

    let delivery = demo.inbox(&mut airline)?.remove(0);
    relay_sees(&delivery.envelope);
    let (mut airline_session, text) = accept(&mut airline_prekeys, &delivery.envelope)?;
    println!(
        "   airline reads  {:?} (from {}, a customer)",
        String::from_utf8(text)?,
        customer.id().short()
    );

    println!("\n5. The airline answers within the 24-hour window.");
    let answer = "Yes: Friday 09:40, seat 14A. Your booking is changed.";
    let header = demo.header(&airline, &customer, MessageClass::Chat);
    demo.call(
        &mut airline,
        Request::Send(seal(&mut airline_session, header, answer.as_bytes())?),
    )?;
    println!("   airline wrote  {answer:?}");
    for d in demo.inbox(&mut customer)? {
        relay_sees(&d.envelope);
        policy.check(&d.envelope.header)?;
        let text = open(&mut customer_session, &d.envelope)?;
        println!(
            "   customer reads [{name}, {:?}] {:?}",
            d.envelope.header.class,
            String::from_utf8(text)?
        );
    }

    println!("\n6. 25 hours later, the airline tries a free-form follow-up.");
    demo.clock.advance(25 * 3600);
    let header = demo.header(&airline, &customer, MessageClass::Chat);
    let late = seal(
        &mut airline_session,
        header,
        b"Anything else we can help with?",
    )?;
    println!(
        "   relay refuses  {}",
        demo.try_call(&mut airline, Request::Send(late))
            .unwrap_err()
    );
    println!("   airline sees   the refusal; the customer sees nothing");

    println!("\n7. A notification still goes through, and is metered.");
    let header = demo.header(&airline, &customer, MessageClass::Notification);
    let note = "Flight EA212 on Friday: check-in is open.";
    demo.call(
        &mut airline,
        Request::Send(seal(&mut airline_session, header, note.as_bytes())?),
    )?;
    println!("   airline wrote  {note:?}");
    for d in demo.inbox(&mut customer)? {
        relay_sees(&d.envelope);
        policy.check(&d.envelope.header)?;
        // Had the relay relabelled the class, this decryption would fail.
        let text = open(&mut customer_session, &d.envelope)?;
        println!(
            "   customer reads [{name}, {:?}] {:?}",
            d.envelope.header.class,
            String::from_utf8(text)?
        );
    }
    println!(
        "   operator reads business {} has sent {} notification(s) to bill",
        airline.id().short(),
        demo.relay.notification_count(&airline.id())?
    );

    println!("\n8. The customer blocks the airline; its next message is refused.");
    let block = BlockRecord::sign(customer.identity(), airline.id(), true, demo.now());
    demo.call(&mut customer, Request::Block(block))?;
    policy.block(airline.id());
    println!(
        "   relay sees     block {} -> {}, signed by the customer",
        customer.id().short(),
        airline.id().short()
    );
    let header = demo.header(&airline, &customer, MessageClass::Notification);
    let spam = seal(
        &mut airline_session,
        header,
        b"Last chance: 20% off upgrades!",
    )?;
    println!(
        "   relay refuses  {}",
        demo.try_call(&mut airline, Request::Send(spam.clone()))
            .unwrap_err()
    );
    println!(
        "   customer's app would drop it even if delivered: {}",
        policy.check(&spam.header).unwrap_err()
    );

    println!("\n9. The airline keeps its evidence of consent.");
    if let Response::ConsentEvidence(records) = demo.call(
        &mut airline,
        Request::ExportConsent {
            customer: customer.id(),
        },
    )? {
        for r in records {
            println!(
                "   airline holds  consent of {} at {}, scope {:?} ({} bytes signed by the customer)",
                r.customer().short(),
                r.time(),
                r.scope(),
                r.to_bytes().len()
            );
        }
    }
    Ok(())
}

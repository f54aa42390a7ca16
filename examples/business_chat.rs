//! A customer and an airline talk through a relay that holds only
//! ciphertext and enforces the rules of business messaging.
//! Run with `cargo run --example business_chat`.

use hotline::client::{ClientPolicy, RelayAccount, accept, open, seal};
use hotline::relay::{
    AllowList, BlockRecord, ConsentRecord, ConsentScope, Delivery, EnvelopeHeader, ManualClock,
    MemoryStore, MessageClass, MessageId, Relay, Request, Response,
};
use hotline::{IdentityKeyPair, PreKeyStore, Session};

type Error = Box<dyn std::error::Error>;

/// Mon 1 Jun 2026 09:00 UTC.
const START: u64 = 1_780_304_400;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the relay can see of an envelope: metadata and opaque bytes.
fn relay_sees(d: &hotline::relay::Envelope) {
    let h = &d.header;
    println!(
        "   relay sees     {:?} {} -> {}, {} bytes of ciphertext: {}...",
        h.class,
        h.sender.short(),
        h.recipient.short(),
        d.ciphertext.len(),
        hex(&d.ciphertext[d.ciphertext.len() - 12..])
    );
}

struct Demo {
    relay: Relay,
    clock: ManualClock,
}

impl Demo {
    fn call(&self, who: &mut RelayAccount, req: Request) -> Result<Response, Error> {
        // Through the byte-level API, as any transport would carry it.
        let bytes = who
            .sign(req, hotline::relay::Clock::now(&self.clock))
            .to_bytes();
        Ok(Response::decode_result(&self.relay.handle(&bytes))?.map_err(|r| format!("{r:?}"))?)
    }
    fn try_call(&self, who: &mut RelayAccount, req: Request) -> Result<Response, String> {
        let now = hotline::relay::Clock::now(&self.clock);
        self.relay
            .handle_request(&who.sign(req, now))
            .map_err(|e| e.to_string())
    }
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
            sent_at: hotline::relay::Clock::now(&self.clock),
        }
    }
}

fn main() -> Result<(), Error> {
    let mut rng = rand::rng();
    let airline_identity = IdentityKeyPair::generate(&mut rng);

    println!("1. The platform vouches for the airline's identity key as \"Example Air\".");
    // The relay accepts a business only if its CertificateValidator vouches
    // for it; this demo uses the operator's trust list.
    let mut trust = AllowList::new();
    trust.allow(&airline_identity.public(), "Example Air");
    let clock = ManualClock::new(START);
    let demo = Demo {
        relay: Relay::new(MemoryStore::new(), clock.clone(), trust),
        clock,
    };

    let mut airline_prekeys = PreKeyStore::new(&airline_identity, 20, 20, &mut rng);
    let mut airline = RelayAccount::new(airline_identity, 0);
    let identity = airline.identity().public();
    demo.call(
        &mut airline,
        Request::RegisterBusiness {
            identity,
            certificate_chain: Vec::new(),
        },
    )?;
    let upload = hotline::relay::PreKeyUpload {
        signed_prekey: Some(airline_prekeys.signed_prekey()),
        last_resort_kem_prekey: Some(airline_prekeys.last_resort_kem_prekey()),
        one_time_prekeys: airline_prekeys.one_time_prekeys(),
        kem_prekeys: airline_prekeys.kem_prekeys(),
    };
    demo.call(&mut airline, Request::UploadPreKeys(upload))?;
    println!(
        "   relay sees     business {} registered, 20 + 20 signed one-time prekeys",
        airline.id().short()
    );

    println!("\n2. A customer installs the app and opts in to messages from Example Air.");
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

    println!("\n3. The customer asks about a booking.");
    let Response::Bundle { bundle, .. } = demo.call(
        &mut customer,
        Request::FetchBundle {
            owner: airline.id(),
        },
    )?
    else {
        return Err("no bundle".into());
    };
    println!(
        "   customer sees  Example Air, identity {} (bundle signatures verified)",
        bundle.identity().short_id()
    );
    let mut customer_session = Session::initiate(customer.identity(), &bundle, &mut rng)?;
    let question = "Hi, can I move booking ZX81QK to Friday?";
    let header = demo.header(&customer, &airline, MessageClass::Chat);
    let envelope = seal(&mut customer_session, header, question.as_bytes())?;
    demo.call(&mut customer, Request::Send(envelope))?;
    println!("   customer wrote {question:?}");

    let delivery = demo.inbox(&mut airline)?.remove(0);
    relay_sees(&delivery.envelope);
    let (mut airline_session, text) = accept(&mut airline_prekeys, &delivery.envelope)?;
    println!("   airline reads  {:?}", String::from_utf8(text)?);

    println!("\n4. The airline answers within the 24-hour window.");
    let answer = "Yes: Friday 09:40, seat 14A. Your booking is changed.";
    let header = demo.header(&airline, &customer, MessageClass::Chat);
    demo.call(
        &mut airline,
        Request::Send(seal(&mut airline_session, header, answer.as_bytes())?),
    )?;
    for d in demo.inbox(&mut customer)? {
        relay_sees(&d.envelope);
        policy.check(&d.envelope.header)?;
        let text = open(&mut customer_session, &d.envelope)?;
        println!(
            "   customer reads [Example Air, {:?}] {:?}",
            d.envelope.header.class,
            String::from_utf8(text)?
        );
    }

    println!("\n5. 25 hours later, the airline tries a free-form follow-up.");
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

    println!("\n6. A notification still goes through, and is metered.");
    let header = demo.header(&airline, &customer, MessageClass::Notification);
    let note = "Flight EA212 on Friday: check-in is open.";
    demo.call(
        &mut airline,
        Request::Send(seal(&mut airline_session, header, note.as_bytes())?),
    )?;
    for d in demo.inbox(&mut customer)? {
        relay_sees(&d.envelope);
        policy.check(&d.envelope.header)?;
        // Had the relay relabelled the class, this decryption would fail.
        let text = open(&mut customer_session, &d.envelope)?;
        println!(
            "   customer reads [Example Air, {:?}] {:?}",
            d.envelope.header.class,
            String::from_utf8(text)?
        );
    }
    println!(
        "   operator reads Example Air has sent {} notification(s)",
        demo.relay.notification_count(&airline.id())?
    );

    println!("\n7. The customer blocks the airline; its next message is refused.");
    let now = hotline::relay::Clock::now(&demo.clock);
    let block = BlockRecord::sign(customer.identity(), airline.id(), true, now);
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
        "   and were it delivered anyway, the customer's app would drop it: {}",
        policy.check(&spam.header).unwrap_err()
    );

    println!("\n8. The airline keeps its evidence of consent.");
    if let Response::ConsentEvidence(records) = demo.call(
        &mut airline,
        Request::ExportConsent {
            customer: customer.id(),
        },
    )? {
        for r in records {
            println!(
                "   airline holds  {r:?} ({} signed bytes)",
                r.to_bytes().len()
            );
        }
    }
    Ok(())
}

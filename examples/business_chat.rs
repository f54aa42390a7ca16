//! A customer asks an airline about a booking through a relay that only ever
//! holds ciphertext. Run with `cargo run --example business_chat`.

use hotline::business::{
    BusinessCertificateRequest, BusinessId, CertificateChain, IssuerAuthority, LevelSet, Peer,
    RootAuthority, TrustStore, Validity, VerificationLevel,
};
use hotline::{IdentityKeyPair, PreKeyBundle, PreKeyStore, Session, message_type};

/// What the relay can see of a message: its type, its (padded) size and
/// opaque bytes.
fn relay_view(label: &str, wire: &[u8]) {
    let kind = message_type(wire).map_or("unknown".into(), |t| format!("{t:?}"));
    let preview: String = wire
        .iter()
        .skip(wire.len().saturating_sub(16))
        .map(|b| format!("{b:02x}"))
        .collect();
    println!(
        "   relay sees   {label}: {kind} message, {} bytes, ...{preview}",
        wire.len()
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = rand::rng();

    // The platform: a trust root (shipped in the customer's app) and an issuer.
    let now = 1_800_000_000; // Unix seconds; the library never reads a clock
    let window = Validity {
        not_before: now - 86_400,
        not_after: now + 365 * 86_400,
    };
    let root = RootAuthority::generate(1, window, &mut rng);
    let (issuer_seed, issuer_key) = IssuerAuthority::generate_key(&mut rng);
    let levels = LevelSet::new(&[VerificationLevel::Verified]).ok_or("no level")?;
    let issuer_cert = root.certify_issuer(7, &issuer_key, levels, window)?;
    let issuer = IssuerAuthority::new(&issuer_seed, issuer_cert.clone())?;

    println!("1. The airline gets a certificate for its identity key and verified name,");
    println!("   and publishes a prekey bundle (X25519 + ML-KEM-768, all signed) carrying it.");
    let airline = IdentityKeyPair::generate(&mut rng);
    let certificate = issuer.issue(&BusinessCertificateRequest {
        serial: 1001,
        business_id: BusinessId([0x4b; 16]),
        identity_key: *airline.public().signing_key(),
        name: "KLM Royal Dutch Airlines".into(),
        localized: vec![("ja".into(), "KLMオランダ航空".into())],
        level: VerificationLevel::Verified,
        validity: window,
    })?;
    let mut airline_prekeys = PreKeyStore::new(&airline, 20, 20, &mut rng);
    airline_prekeys.set_certificate_chain(CertificateChain::new(issuer_cert, certificate))?;
    let published = airline_prekeys.bundle().to_bytes();
    println!(
        "   bundle: {} bytes, airline identity {}",
        published.len(),
        airline.public().short_id()
    );

    println!("\n2. The customer's app verifies every signature and the certificate chain,");
    println!("   and starts a session bound to that certificate.");
    let mut trust = TrustStore::new();
    trust.add_root(root.trust_root())?;
    let customer = IdentityKeyPair::generate(&mut rng);
    let bundle = PreKeyBundle::from_bytes(&published)?;
    let verified = trust.verify_bundle(&bundle, now)?;
    let mut customer_session = Session::initiate_verified(&customer, &bundle, &verified, &mut rng)?;
    if let Peer::VerifiedBusiness(b) = customer_session.peer() {
        println!(
            "   chatting with: verified business \"{}\" ({})",
            b.name(),
            b.level()
        );
    }
    println!("   safety number: {}", customer_session.fingerprint());
    // An impostor's bundle carrying the airline's certificate is refused.
    let impostor = PreKeyStore::new(&IdentityKeyPair::generate(&mut rng), 1, 1, &mut rng)
        .bundle()
        .with_certificate_chain(bundle.certificate_chain().cloned());
    println!(
        "   impostor with the airline's certificate: {}",
        trust.verify_bundle(&impostor, now).unwrap_err()
    );

    let envelope = b"to=airline;class=chat";
    let question = "Hi, can I change booking ABC123 to Friday?";
    let wire = customer_session.encrypt(question.as_bytes(), envelope)?;
    println!("   customer writes: {question:?}");
    relay_view("customer -> airline", &wire);
    assert!(!wire.windows(6).any(|w| w == b"ABC123"));

    println!("\n3. The airline accepts the handshake and reads the question.");
    let (mut airline_session, text) = Session::respond(&mut airline_prekeys, &wire, envelope)?;
    println!("   airline reads:   {:?}", String::from_utf8(text)?);
    println!(
        "   both sides share transcript hash {}...",
        airline_session.transcript_hash()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );

    println!("\n4. The airline answers twice; the relay delivers the answers out of order.");
    let back = b"to=customer;class=chat";
    let a1 = airline_session.encrypt(b"Yes, Friday 09:40 has seats.", back)?;
    let a2 = airline_session.encrypt(b"Shall I rebook you?", back)?;
    relay_view("airline -> customer #1", &a1);
    relay_view("airline -> customer #2", &a2);
    for wire in [&a2, &a1] {
        let text = customer_session.decrypt(wire, back)?;
        println!("   customer reads:  {:?}", String::from_utf8(text)?);
    }

    println!("\n5. A hostile relay tampers, relabels and replays: each is refused.");
    let mut tampered = customer_session.encrypt(b"Yes please.", envelope)?;
    let original = tampered.clone();
    tampered[40] ^= 1;
    println!(
        "   tampered:  {}",
        airline_session.decrypt(&tampered, envelope).unwrap_err()
    );
    println!(
        "   relabelled class: {}",
        airline_session
            .decrypt(&original, b"to=airline;class=notification")
            .unwrap_err()
    );
    let text = airline_session.decrypt(&original, envelope)?;
    println!("   genuine:   airline reads {:?}", String::from_utf8(text)?);
    println!(
        "   replayed:  {}",
        airline_session.decrypt(&original, envelope).unwrap_err()
    );
    Ok(())
}

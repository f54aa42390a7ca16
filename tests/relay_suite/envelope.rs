// Session-level envelope helpers for the relay suites: a message sealed with
// its envelope header as associated data, exactly as `store::Client::seal`
// does, without a persistent client (the suites drive many sessions and
// count on deterministic randomness). Not every suite uses all three.

/// Encrypts `plaintext` for `header`, with the header as associated data.
#[allow(dead_code)]
fn seal(
    session: &mut hotline::Session,
    header: hotline::relay::EnvelopeHeader,
    plaintext: &[u8],
) -> Result<hotline::relay::Envelope, hotline::EncryptError> {
    let ciphertext = session.encrypt(plaintext, &header.associated_data())?;
    Ok(hotline::relay::Envelope { header, ciphertext })
}

/// Decrypts an envelope in an existing session.
#[allow(dead_code)]
fn open(
    session: &mut hotline::Session,
    envelope: &hotline::relay::Envelope,
) -> Result<Vec<u8>, hotline::DecryptError> {
    session.decrypt(&envelope.ciphertext, &envelope.header.associated_data())
}

/// Starts a session from an envelope carrying an initial message.
#[allow(dead_code)]
fn accept(
    prekeys: &mut hotline::PreKeyStore,
    envelope: &hotline::relay::Envelope,
) -> Result<(hotline::Session, Vec<u8>), hotline::HandshakeError> {
    hotline::Session::respond(
        prekeys,
        &envelope.ciphertext,
        &envelope.header.associated_data(),
    )
}

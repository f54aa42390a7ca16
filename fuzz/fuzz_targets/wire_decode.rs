//! Every decoder of untrusted bytes: `message_type`, `PreKeyBundle::from_bytes`,
//! `IdentityKey::from_bytes` and the business layer's trust roots,
//! certificates, chains, revocation lists, message templates and templated
//! notifications. None may panic, and decoding is canonical:
//! whatever decodes re-encodes to exactly the input.
#![no_main]

use hotline::business::{
    BusinessCertificate, BusinessId, CertificateChain, IssuerCertificate, MessageTemplate,
    RevocationList, TemplatedNotification, TrustRoot,
};
use hotline::constants::{MSG_TYPE_INITIAL, MSG_TYPE_RATCHET, PROTOCOL_VERSION};
use hotline::{IdentityKey, MessageType, PreKeyBundle, message_type};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = message_type(data) {
        let expected = match t {
            MessageType::Initial => MSG_TYPE_INITIAL,
            MessageType::Ratchet => MSG_TYPE_RATCHET,
        };
        assert_eq!(
            data[..2],
            [PROTOCOL_VERSION, expected],
            "message_type misread"
        );
    }

    if let Ok(bundle) = PreKeyBundle::from_bytes(data) {
        assert_eq!(bundle.to_bytes(), data, "bundle decoding is not canonical");
        let id = bundle.identity();
        assert_eq!(IdentityKey::from_bytes(&id.to_bytes()), Ok(*id));
    }

    if let Ok(id) = IdentityKey::from_bytes(data) {
        assert_eq!(
            id.to_bytes()[..],
            data[..],
            "identity decoding is not canonical"
        );
    }

    if let Ok(r) = TrustRoot::from_bytes(data) {
        assert_eq!(r.to_bytes(), data, "trust root decoding is not canonical");
    }
    if let Ok(c) = IssuerCertificate::from_bytes(data) {
        assert_eq!(
            c.to_bytes(),
            data,
            "issuer certificate decoding is not canonical"
        );
    }
    if let Ok(c) = BusinessCertificate::from_bytes(data) {
        assert_eq!(
            c.to_bytes(),
            data,
            "business certificate decoding is not canonical"
        );
    }
    if let Ok(t) = MessageTemplate::from_bytes(data) {
        assert_eq!(t.to_bytes(), data, "template decoding is not canonical");
    }
    if let Ok(n) = TemplatedNotification::from_bytes(data) {
        assert_eq!(n.to_bytes(), data, "notification decoding is not canonical");
        // Rendering checks the signature first: with any key it refuses or
        // renders, never panics.
        let key = hotline::hazmat::ed25519::Ed25519Secret::from_seed(&[1; 32]).public_key();
        let t = n.template();
        let _ = n.render_for(t.business_id(), t.issuer_id(), &key, 0);
        let _ = n.render_for(BusinessId([0; 16]), 0, &key, u64::MAX);
    }
    if let Ok(c) = CertificateChain::from_bytes(data) {
        assert_eq!(c.to_bytes(), data, "chain decoding is not canonical");
    }
    if let Ok(l) = RevocationList::from_bytes(data) {
        assert_eq!(
            l.to_bytes(),
            data,
            "revocation list decoding is not canonical"
        );
    }
});

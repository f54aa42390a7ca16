//! Every decoder of untrusted bytes: `message_type`, `PreKeyBundle::from_bytes`
//! and `IdentityKey::from_bytes`. None may panic, and decoding is canonical:
//! whatever decodes re-encodes to exactly the input.
#![no_main]

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
});

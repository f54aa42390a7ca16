//! Every relay decoder of untrusted bytes: signed requests, responses,
//! envelopes and consent and block records. None may panic, and decoding is
//! canonical: whatever decodes re-encodes to exactly the input.
#![no_main]

use hotline::relay::{
    BlockRecord, ConsentRecord, Envelope, EnvelopeHeader, Response, SignedRequest,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = SignedRequest::from_bytes(data) {
        assert_eq!(req.to_bytes(), data, "request decoding is not canonical");
    }
    if let Ok(result) = Response::decode_result(data) {
        assert_eq!(
            Response::encode_result(&result),
            data,
            "response decoding is not canonical"
        );
    }
    if let Ok(e) = Envelope::from_bytes(data) {
        assert_eq!(e.to_bytes(), data, "envelope decoding is not canonical");
    }
    if let Ok(h) = EnvelopeHeader::from_bytes(data) {
        assert_eq!(h.associated_data()[..], data[..]);
    }
    if let Ok(r) = ConsentRecord::from_bytes(data) {
        assert_eq!(r.to_bytes(), data);
    }
    if let Ok(r) = BlockRecord::from_bytes(data) {
        assert_eq!(r.to_bytes(), data);
    }
});

//! `Session::decrypt` on live sessions: both sides of an established session,
//! and an initiator still waiting for its first reply.
//!
//! The input is the wire message. A refused message must leave the session
//! exactly as it was (`state_digest` unchanged) and every genuine message not
//! yet delivered (the peer's next message, and the skipped ones) must still
//! decrypt; only an undelivered genuine message may be accepted. See
//! `Established::check_decrypt` in `src/lib.rs`.
#![no_main]

use hotline_fuzz::{AD, Established, Party};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut est = Established::new();
    for party in Party::ALL {
        est.check_decrypt(party, data, AD);
    }
});

//! `Session::decrypt` on genuine messages altered by the input (bit flips at
//! chosen positions, truncation, extension, wrong associated data), which
//! reaches the header and body authentication paths far more often than raw
//! bytes do. Same invariants as `session_decrypt`; in particular any altered
//! message must be refused without changing the session. The input format is
//! documented on `hotline_fuzz::Mutation`.
#![no_main]

use hotline_fuzz::{Established, Mutation};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut est = Established::new();
    let m = Mutation::new(&est, data);
    est.check_decrypt(m.to, &m.bytes, &m.ad);
});

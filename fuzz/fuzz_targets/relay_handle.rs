//! `Relay::handle` on a fresh relay with registered accounts, driven by a
//! short sequence of requests: each step's body is submitted as it is and
//! signed by a fixture account (with its inner objects re-signed), so the
//! fuzzer reaches the directory, the mailboxes and the rules of business
//! messaging. Every answer and every change of state is checked against a
//! model of SPEC.md section 14 and against invariants of its own (replies
//! decode canonically, refusals change nothing, one-time prekeys are handed
//! out once, mailboxes stay within their limits, a business reaches a
//! customer only with consent, in the window and unblocked, replays are
//! refused). Input format and checks: `hotline_fuzz::relay`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hotline_fuzz::relay::run(data);
});

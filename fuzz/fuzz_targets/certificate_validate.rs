//! Certificate chains and revocation lists from untrusted bytes, through
//! `TrustStore::validate_chain`, `validate_chain_bytes`, `verify_bundle` and
//! `apply_revocation_list`, against a fixed platform (a root, a retired
//! root, four issuers) at a fixed time. The verdicts are compared with a
//! model of SPEC.md 13.7 and 13.9; an accepted chain must chain to the root
//! and repeat its leaf; a refused list must leave the store as it was. See
//! `hotline_fuzz::certs`.
//!
//! Random bytes almost never carry valid signatures, so every input is also
//! tried re-signed with the fixture keys (`resign_chain`, `resign_list`),
//! which lets the fuzzer reach validity windows, levels, names, key
//! mismatches, revocation and sequence checks.
#![no_main]

use hotline_fuzz::certs::{check_chain, check_list, resign_chain, resign_list};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check_chain(data, false);
    let resigned = resign_chain(data);
    if resigned != data {
        check_chain(&resigned, true);
    }
    check_list(data, false);
    let resigned = resign_list(data);
    if resigned != data {
        check_list(&resigned, true);
    }
});

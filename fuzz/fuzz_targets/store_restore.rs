//! Restoring stored state from untrusted bytes: `Session::from_pickle`,
//! `PreKeyStore::from_pickle` and `IdentityKeyPair::from_pickle` under a
//! fixed storage key. None may panic; whatever restores must seal again and
//! restore to the same state.
#![no_main]

use hotline::store::StorageKey;
use hotline::{IdentityKeyPair, PreKeyStore, Session};
use hotline_fuzz::{STORE_KEY, rng};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = StorageKey::from_bytes(STORE_KEY);
    let mut r = rng(0x5EED_0300);
    if let Ok(s) = Session::from_pickle(data, &key) {
        let again = Session::from_pickle(&s.pickle(&key, &mut r), &key).expect("re-restore");
        assert_eq!(again.state_digest(), s.state_digest());
        assert_eq!(again.peer(), s.peer());
        assert_eq!(again.certificate_hash(), s.certificate_hash());
    }
    if let Ok(p) = PreKeyStore::from_pickle(data, &key) {
        let again = PreKeyStore::from_pickle(&p.pickle(&key, &mut r), &key).expect("re-restore");
        assert_eq!(again.bundle(), p.bundle());
    }
    if let Ok(i) = IdentityKeyPair::from_pickle(data, &key) {
        let again =
            IdentityKeyPair::from_pickle(&i.pickle(&key, &mut r), &key).expect("re-restore");
        assert_eq!(again.public(), i.public());
    }
});

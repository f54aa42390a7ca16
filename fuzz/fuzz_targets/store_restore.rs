//! Restoring stored state from untrusted bytes: `Session::from_pickle`,
//! `SessionRecord::from_pickle`, `PreKeyStore::from_pickle` and
//! `IdentityKeyPair::from_pickle` under a fixed storage key.
//!
//! Each input is tried twice: as a whole record (the header checks and the
//! tag), and as `selector || plaintext` sealed into a record by the harness
//! (`hotline_fuzz::reseal`, written from SPEC.md 15.3), which lets the fuzzer
//! drive the plaintext decoders of every kind and every version. None may
//! panic; whatever restores must seal again and restore to the same state.
#![no_main]

use hotline::store::{PeerId, SessionRecord, StorageKey};
use hotline::{IdentityKeyPair, PreKeyStore, Session};
use hotline_fuzz::reseal::{
    RECORD_IDENTITY, RECORD_PEER_SESSIONS, RECORD_PREKEYS, RECORD_SESSION, seal_record,
};
use hotline_fuzz::{STORE_KEY, rng};
use libfuzzer_sys::fuzz_target;

/// The peer address per-peer records are stored under.
pub const PEER: &[u8] = b"peer@fuzz";

fn restore_all(key: &StorageKey, record: &[u8]) {
    let mut r = rng(0x5EED_0300);
    if let Ok(s) = Session::from_pickle(record, key) {
        let again = Session::from_pickle(&s.pickle(key, &mut r), key).expect("re-restore");
        assert_eq!(again.state_digest(), s.state_digest());
        assert_eq!(again.peer(), s.peer());
        assert_eq!(again.certificate_hash(), s.certificate_hash());
    }
    let peer = PeerId::new(PEER).expect("a valid address");
    if let Ok(rec) = SessionRecord::from_pickle(record, key, &peer) {
        let again = SessionRecord::from_pickle(&rec.pickle(key, &peer, &mut r), key, &peer)
            .expect("re-restore");
        assert_eq!(again.active().state_digest(), rec.active().state_digest());
        assert_eq!(again.len(), rec.len());
    }
    if let Ok(p) = PreKeyStore::from_pickle(record, key) {
        let again = PreKeyStore::from_pickle(&p.pickle(key, &mut r), key).expect("re-restore");
        assert_eq!(again.bundle(), p.bundle());
    }
    if let Ok(i) = IdentityKeyPair::from_pickle(record, key) {
        let again = IdentityKeyPair::from_pickle(&i.pickle(key, &mut r), key).expect("re-restore");
        assert_eq!(again.public(), i.public());
    }
}

fuzz_target!(|data: &[u8]| {
    let key = StorageKey::from_bytes(STORE_KEY);
    restore_all(&key, data);
    if let Some((&selector, plaintext)) = data.split_first() {
        let kind = [
            RECORD_IDENTITY,
            RECORD_PREKEYS,
            RECORD_SESSION,
            RECORD_PEER_SESSIONS,
        ][usize::from(selector & 3)];
        // Bits 2-3: 0 the current version 3, 1 version 2 (sessions migrate
        // without the post-quantum ratchet), otherwise version 1.
        let version = match (selector >> 2) & 3 {
            0 => 3,
            1 => 2,
            _ => 1,
        };
        let name = if kind == RECORD_PEER_SESSIONS {
            PEER
        } else {
            b""
        };
        restore_all(&key, &seal_record(&key, version, kind, name, plaintext));
    }
});

//! `Session::respond` with the business's prekey store, the input being the
//! initial message. It must not panic; when it fails the store must be
//! unchanged (no one-time prekey consumed, and every genuine initial message
//! still accepted afterwards, so nothing was remembered as replayed); when it
//! succeeds the same message replayed must be refused.
#![no_main]

use hotline::{HandshakeError, Role, Session};
use hotline_fuzz::{AD, business_store, fixtures};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut store = business_store();
    let counts = |s: &hotline::PreKeyStore| (s.one_time_count(), s.kem_one_time_count());
    let before = counts(&store);
    match Session::respond(&mut store, data, AD) {
        Err(e) => {
            assert_eq!(
                counts(&store),
                before,
                "failed respond ({e:?}) consumed prekeys"
            );
            // Errors after the key lookups (the DHs, the first message) are
            // where a partial commit could hide: check that every genuine
            // initial message is still accepted by this store.
            if matches!(e, HandshakeError::Decrypt(_) | HandshakeError::LowOrderKey) {
                for g in &fixtures().initials {
                    let mut s = store.clone();
                    let (_, pt) = Session::respond(&mut s, &g.bytes, AD).unwrap_or_else(|e2| {
                        panic!(
                            "after a failed respond ({e:?}), genuine {} refused: {e2}",
                            g.name
                        )
                    });
                    assert_eq!(pt, g.plaintext);
                }
            }
        }
        Ok((mut session, _)) => {
            assert_eq!(session.role(), Role::Responder);
            let after = counts(&store);
            assert!(after.0 + 1 >= before.0 && after.0 <= before.0);
            assert!(after.1 + 1 >= before.1 && after.1 <= before.1);
            session
                .encrypt_with_rng(b"reply", AD, &mut hotline_fuzz::rng(7))
                .expect("a responder session must be able to reply");
            match Session::respond(&mut store, data, AD) {
                Ok(_) => panic!("replayed initial message accepted"),
                Err(e) => {
                    assert!(
                        matches!(
                            e,
                            HandshakeError::ReplayedHandshake
                                | HandshakeError::UnknownOneTimePreKey(_)
                                | HandshakeError::UnknownKemPreKey(_)
                        ),
                        "replay refused for an unexpected reason: {e:?}"
                    );
                    assert_eq!(counts(&store), after, "refused replay consumed prekeys");
                }
            }
        }
    }
});

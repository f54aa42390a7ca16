//! The PQXDH-style hybrid handshake: X25519 (three or four DHs) plus an
//! ML-KEM-768 encapsulation, bound together by a transcript hash.

pub(crate) mod initial;
pub(crate) mod transcript;

use crate::constants::{HANDSHAKE_PREFIX, LABEL_SESSION};
use crate::primitives::kdf::hkdf;
use crate::primitives::kem::KemShared;
use crate::primitives::x25519::DhOutput;
use crate::ratchet::keys::{HeaderKey, RootKey};
use zeroize::Zeroize;

/// The secrets a handshake yields.
pub struct SessionSecrets {
    /// The first root key (SK).
    pub root: RootKey,
    /// Header key of the initiator's first sending chain.
    pub hk_initiator: HeaderKey,
    /// Header key of the responder's first sending chain.
    pub hk_responder: HeaderKey,
}

/// HKDF(salt = transcript hash,
///      ikm = 0xFF*32 || DH1 || DH2 || DH3 [|| DH4] || SS,
///      info = LABEL_SESSION) -> SK || HK_i || HK_r.
pub fn derive_session_secrets(
    th: &[u8; 32],
    dh1: &DhOutput,
    dh2: &DhOutput,
    dh3: &DhOutput,
    dh4: Option<&DhOutput>,
    ss: &KemShared,
) -> SessionSecrets {
    let mut ikm = [0u8; 32 * 6];
    let mut len = 0;
    for part in [
        Some(&HANDSHAKE_PREFIX),
        Some(dh1.as_bytes()),
        Some(dh2.as_bytes()),
        Some(dh3.as_bytes()),
        dh4.map(DhOutput::as_bytes),
        Some(ss.as_bytes()),
    ]
    .into_iter()
    .flatten()
    {
        ikm[len..len + 32].copy_from_slice(part);
        len += 32;
    }
    let mut okm = [0u8; 96];
    hkdf(th, &ikm[..len], LABEL_SESSION, &mut okm).unwrap_or_else(|_| unreachable!());
    let take = |i: usize| -> [u8; 32] {
        let mut k = [0u8; 32];
        k.copy_from_slice(&okm[i * 32..(i + 1) * 32]);
        k
    };
    let secrets = SessionSecrets {
        root: RootKey(take(0)),
        hk_initiator: HeaderKey(take(1)),
        hk_responder: HeaderKey(take(2)),
    };
    ikm.zeroize();
    okm.zeroize();
    secrets
}

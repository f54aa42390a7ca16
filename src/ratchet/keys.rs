//! Root, chain, header and message keys, and the KDFs between them.

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::constants::{
    CHAIN_MESSAGE_BYTE, CHAIN_NEXT_BYTE, LABEL_MESSAGE, LABEL_ROOT, LABEL_ROOT_PQ,
};
use crate::primitives::kdf::{hkdf, hkdf_expand, hmac_sha256};
use crate::primitives::x25519::DhOutput;

macro_rules! secret_key {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name(pub [u8; 32]);

        impl PartialEq for $name {
            /// Constant time: these are secrets.
            fn eq(&self, other: &Self) -> bool {
                bool::from(subtle::ConstantTimeEq::ct_eq(&self.0[..], &other.0[..]))
            }
        }
        impl Eq for $name {}

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

secret_key!(
    /// The root key: input to every DH ratchet step.
    RootKey
);
secret_key!(
    /// A sending or receiving chain key.
    ChainKey
);
secret_key!(
    /// A header encryption key.
    HeaderKey
);
secret_key!(
    /// A message key seed: the HMAC output from which one message's AEAD key
    /// and nonces are expanded.
    MessageKeySeed
);

/// The keys of one message: body AEAD key, body nonce, header nonce.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct MessageKeys {
    /// The body's AEAD key.
    pub key: [u8; 32],
    /// The body's nonce.
    pub body_nonce: [u8; 12],
    /// The header's nonce.
    pub header_nonce: [u8; 12],
}

impl RootKey {
    /// KDF_RK: HKDF(salt = root key, ikm = DH output, info = LABEL_ROOT) into
    /// (root key, chain key, next header key).
    pub fn step(&self, dh: &DhOutput) -> (RootKey, ChainKey, HeaderKey) {
        self.derive(dh.as_bytes(), LABEL_ROOT)
    }

    /// KDF_RK_PQ: a DH ratchet step that also mixes an ML-KEM epoch secret:
    /// HKDF(salt = root key, ikm = DH output || epoch secret,
    /// info = LABEL_ROOT_PQ) into (root key, chain key, next header key).
    pub fn step_pq(&self, dh: &DhOutput, ss: &[u8; 32]) -> (RootKey, ChainKey, HeaderKey) {
        let mut ikm = [0u8; 64];
        ikm[..32].copy_from_slice(dh.as_bytes());
        ikm[32..].copy_from_slice(ss);
        let out = self.derive(&ikm, LABEL_ROOT_PQ);
        ikm.zeroize();
        out
    }

    fn derive(&self, ikm: &[u8], label: &[u8]) -> (RootKey, ChainKey, HeaderKey) {
        let mut okm = [0u8; 96];
        // 96 bytes is within HKDF-SHA-256's limit.
        hkdf(&self.0, ikm, label, &mut okm).unwrap_or_else(|_| unreachable!());
        let out = (
            RootKey(okm[..32].try_into().unwrap_or_else(|_| unreachable!())),
            ChainKey(okm[32..64].try_into().unwrap_or_else(|_| unreachable!())),
            HeaderKey(okm[64..].try_into().unwrap_or_else(|_| unreachable!())),
        );
        okm.zeroize();
        out
    }
}

impl ChainKey {
    /// KDF_CK: (message key seed, next chain key) =
    /// (HMAC(ck, 0x01), HMAC(ck, 0x02)).
    pub fn step(&self) -> (MessageKeySeed, ChainKey) {
        (
            MessageKeySeed(hmac_sha256(&self.0, &[CHAIN_MESSAGE_BYTE])),
            ChainKey(hmac_sha256(&self.0, &[CHAIN_NEXT_BYTE])),
        )
    }
}

impl MessageKeySeed {
    /// HKDF-Expand(prk = seed, info = LABEL_MESSAGE, 56 bytes) into
    /// key (32) || body nonce (12) || header nonce (12).
    pub fn expand(&self) -> MessageKeys {
        let mut okm = [0u8; 56];
        hkdf_expand(&self.0, LABEL_MESSAGE, &mut okm).unwrap_or_else(|_| unreachable!());
        let mut keys = MessageKeys {
            key: [0; 32],
            body_nonce: [0; 12],
            header_nonce: [0; 12],
        };
        keys.key.copy_from_slice(&okm[..32]);
        keys.body_nonce.copy_from_slice(&okm[32..44]);
        keys.header_nonce.copy_from_slice(&okm[44..]);
        okm.zeroize();
        keys
    }
}

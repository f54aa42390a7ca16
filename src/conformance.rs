//! Building blocks for conformance vectors (feature `conformance`).
//!
//! The vector generator (`crates/hotline-vectors`) lives outside this crate
//! and needs a few internal steps to write every intermediate value of
//! SPEC.md into the vectors: the key schedule, the padding, crafted headers,
//! the stored layouts. They are exposed here, and only here, for that use.
//!
//! Not for applications: these items bypass the checks and the state
//! machines of the public API, have no stability promise, and the feature is
//! off by default.

pub use crate::handshake::derive_session_secrets;
pub use crate::handshake::transcript::TranscriptInputs;
pub use crate::keys::{KemPreKey, OneTimePreKey, SignedPreKey};
pub use crate::primitives::aead::seal_in_place;
pub use crate::primitives::ed25519::Ed25519Secret;
pub use crate::primitives::kdf::sha256;
pub use crate::primitives::kem::KemSecret;
pub use crate::primitives::x25519::{DhOutput, X25519Secret};
pub use crate::ratchet::keys::{ChainKey, MessageKeySeed, RootKey};
pub use crate::ratchet::padding::padded_len;
pub use crate::ratchet::pq::encode_shards;
pub use crate::session::{InitiatorRandomness, initial_prefix_len};

/// Pads `plaintext` into `out` (SPEC.md 8.8), as the ratchet does before
/// sealing a body.
pub fn pad_into(plaintext: &[u8], out: &mut Vec<u8>) {
    crate::ratchet::padding::pad_into(plaintext, out)
}

/// The padded length of a body of `len` bytes that carries a post-quantum
/// trailer (SPEC.md 16).
pub const fn padded_len_with_trailer(len: usize) -> usize {
    crate::ratchet::padding::padded_len_with_trailer(len)
}

/// Pads `plaintext` with a post-quantum `trailer` into `out` (SPEC.md 16).
pub fn pad_with_trailer_into(
    plaintext: &[u8],
    trailer: &[u8; crate::constants::PQ_TRAILER_LEN],
    out: &mut Vec<u8>,
) {
    crate::ratchet::padding::pad_with_trailer_into(plaintext, trailer, out)
}

/// The plaintext layouts of stored records (SPEC.md 15), before sealing.
pub mod store_layouts {
    use crate::keys::{IdentityKeyPair, PreKeyStore};
    use crate::session::Session;
    use crate::store::{ClientState, RestoreError, SessionRecord, StorageKey};

    pub use crate::store::constants::*;

    /// The identity record's plaintext (SPEC.md 15.4).
    pub fn identity(identity: &IdentityKeyPair) -> Vec<u8> {
        let mut out = Vec::new();
        crate::store::state::encode_identity(identity, &mut out);
        out
    }

    /// The prekey store's plaintext in the current layout (SPEC.md 15.5).
    pub fn prekeys(store: &PreKeyStore) -> Vec<u8> {
        let mut out = Vec::new();
        store.encode_state(&mut out);
        out
    }

    /// The prekey store's plaintext in the retired layout 1 (SPEC.md 15.8),
    /// for the migration vector.
    pub fn prekeys_v1(store: &PreKeyStore) -> Vec<u8> {
        let mut out = Vec::new();
        store.encode_state_v1(&mut out);
        out
    }

    /// A session's plaintext (SPEC.md 15.6).
    pub fn session(session: &Session) -> Vec<u8> {
        let mut out = Vec::new();
        session.encode_state(&mut out);
        out
    }

    /// A peer's session record plaintext (SPEC.md 15.7).
    pub fn session_record(record: &SessionRecord) -> Vec<u8> {
        let mut out = Vec::new();
        record.encode_state(&mut out);
        out
    }

    /// The client state's plaintext (SPEC.md 15.15).
    pub fn client_state(state: &ClientState) -> Vec<u8> {
        let mut out = Vec::new();
        state.encode_state(&mut out);
        out
    }

    /// The trust state's plaintext in the current layout (SPEC.md 15.17).
    pub fn trust_state(trust: &crate::business::TrustStore) -> Vec<u8> {
        let mut out = Vec::new();
        trust.encode_state(&mut out);
        out
    }

    /// Opens a trust state record (either layout).
    pub fn open_trust_state(
        key: &StorageKey,
        record: &[u8],
    ) -> Result<crate::business::TrustStore, RestoreError> {
        crate::store::pickle::open_state(key, RECORD_TRUST_STATE, b"", record, |r, _| {
            Ok(crate::business::TrustStore::read_state(r)?)
        })
    }

    /// Seals `plaintext` as a record with an explicit version and nonce
    /// (SPEC.md 15.3).
    pub fn seal_with_nonce(
        key: &StorageKey,
        version: u8,
        kind: u8,
        name: &[u8],
        nonce: &[u8; 12],
        plaintext: &[u8],
    ) -> Vec<u8> {
        crate::store::record::seal_with_nonce(key, version, kind, name, nonce, plaintext)
    }

    /// Opens a prekey store record (any supported layout).
    pub fn open_prekeys(
        key: &StorageKey,
        name: &[u8],
        record: &[u8],
    ) -> Result<PreKeyStore, RestoreError> {
        crate::store::pickle::open_state(key, RECORD_PREKEYS, name, record, PreKeyStore::read_state)
    }

    /// Opens a session record of `kind` under `name`.
    pub fn open_session_record(
        key: &StorageKey,
        kind: u8,
        name: &[u8],
        record: &[u8],
    ) -> Result<SessionRecord, RestoreError> {
        crate::store::pickle::open_state(key, kind, name, record, SessionRecord::read_state)
    }
}

pub use crate::business::revocation::{RevocationWindow, RevokedEntries};
pub use crate::handshake::SessionSecrets;
pub use crate::ratchet::keys::{HeaderKey, MessageKeys};

use crate::business::{BusinessCertificate, CertificateStatus, IssuerCertificate, LocalizedName};
use crate::business::{RevocationList, VerificationLevel, VerifiedBusiness};
use crate::error::HandshakeError;
use crate::keys::{IdentityKey, IdentityKeyPair, PreKeyBundle, PreKeyStore};
use crate::primitives::x25519::X25519Public;
use crate::session::Session;

/// Internal access to an identity key pair.
pub trait IdentityKeyPairInternals {
    /// The Ed25519 signing secret.
    fn signing(&self) -> &Ed25519Secret;
    /// The X25519 secret.
    fn dh(&self) -> &X25519Secret;
}

impl IdentityKeyPairInternals for IdentityKeyPair {
    fn signing(&self) -> &Ed25519Secret {
        IdentityKeyPair::signing(self)
    }
    fn dh(&self) -> &X25519Secret {
        IdentityKeyPair::dh(self)
    }
}

/// Internal access to a public identity key.
pub trait IdentityKeyInternals {
    /// Appends the 96-byte encoding (SPEC.md 6.1).
    fn encode_into(&self, out: &mut Vec<u8>);
}

impl IdentityKeyInternals for IdentityKey {
    fn encode_into(&self, out: &mut Vec<u8>) {
        IdentityKey::encode_into(self, out)
    }
}

/// Internal construction of a prekey store from chosen keys.
pub trait PreKeyStoreInternals: Sized {
    /// A store holding exactly these prekeys.
    fn from_parts(
        identity: &IdentityKeyPair,
        signed: SignedPreKey,
        one_time: Vec<OneTimePreKey>,
        kem_one_time: Vec<KemPreKey>,
        kem_last_resort: KemPreKey,
    ) -> Self;
    /// Fills the current signed prekey's replay set with `keys`.
    fn remember_handshakes_for_vectors(&mut self, keys: impl Iterator<Item = [u8; 32]>);
}

impl PreKeyStoreInternals for PreKeyStore {
    fn from_parts(
        identity: &IdentityKeyPair,
        signed: SignedPreKey,
        one_time: Vec<OneTimePreKey>,
        kem_one_time: Vec<KemPreKey>,
        kem_last_resort: KemPreKey,
    ) -> Self {
        PreKeyStore::from_parts(identity, signed, one_time, kem_one_time, kem_last_resort)
    }
    fn remember_handshakes_for_vectors(&mut self, keys: impl Iterator<Item = [u8; 32]>) {
        PreKeyStore::remember_handshakes_for_vectors(self, keys)
    }
}

/// What a vector needs to know of a session's ratchet.
#[derive(Clone)]
pub struct RatchetView {
    /// The handshake transcript hash.
    pub th: [u8; 32],
    /// The sending chain key and its counter, once a sending chain exists.
    pub sending: Option<(ChainKey, u32)>,
    /// The current sending header key.
    pub hks: Option<HeaderKey>,
    /// The next sending header key.
    pub nhks: HeaderKey,
    /// Our current ratchet public key.
    pub own_ratchet_key: X25519Public,
}

/// Internal access to a session.
pub trait SessionInternals: Sized {
    /// Starts a session with explicit randomness.
    fn initiate_with(
        local: &IdentityKeyPair,
        bundle: &PreKeyBundle,
        business: Option<&VerifiedBusiness>,
        rand: InitiatorRandomness,
    ) -> Result<Self, HandshakeError>;
    /// A copy of the ratchet values a crafted message needs.
    fn ratchet_view(&self) -> RatchetView;
    /// Sets the sending chain's counter (there must be a sending chain).
    fn set_sending_n(&mut self, n: u32);
    /// Sets the receiving chain's counter (there must be a receiving chain).
    fn set_receiving_n(&mut self, n: u32);
}

impl SessionInternals for Session {
    fn initiate_with(
        local: &IdentityKeyPair,
        bundle: &PreKeyBundle,
        business: Option<&VerifiedBusiness>,
        rand: InitiatorRandomness,
    ) -> Result<Self, HandshakeError> {
        Session::initiate_with(local, bundle, business, rand)
    }
    fn ratchet_view(&self) -> RatchetView {
        let st = self.state();
        RatchetView {
            th: st.th,
            sending: st.send.as_ref().map(|s| (s.ck.clone(), s.n)),
            hks: st.hks.clone(),
            nhks: st.nhks.clone(),
            own_ratchet_key: st.dhs.public_key(),
        }
    }
    fn set_sending_n(&mut self, n: u32) {
        if let Some(send) = self.state_mut().send.as_mut() {
            send.n = n;
        }
    }
    fn set_receiving_n(&mut self, n: u32) {
        if let Some(recv) = self.state_mut().recv.as_mut() {
            recv.n = n;
        }
    }
}

/// The editable fields of a business certificate, for forging ones a
/// correct issuer would refuse to sign.
#[derive(Debug, Clone)]
pub struct BusinessFields {
    /// The serial.
    pub serial: u64,
    /// The issuer id.
    pub issuer_id: u32,
    /// The verification level.
    pub level: VerificationLevel,
    /// The verified name.
    pub name: String,
    /// The localized names.
    pub localized: Vec<LocalizedName>,
}

/// Internal access to a business certificate.
pub trait BusinessCertificateInternals {
    /// The certificate with its fields edited by `edit` and signed by
    /// `signer` with the business certificate context, bypassing every
    /// issuer check.
    fn forge(&self, signer: &Ed25519Secret, edit: impl FnOnce(&mut BusinessFields)) -> Self;
    /// The certificate with one bit of its signature flipped.
    fn with_flipped_signature_bit(&self, byte: usize) -> Self;
}

impl BusinessCertificateInternals for BusinessCertificate {
    fn forge(&self, signer: &Ed25519Secret, edit: impl FnOnce(&mut BusinessFields)) -> Self {
        let mut fields = BusinessFields {
            serial: self.serial,
            issuer_id: self.issuer_id,
            level: self.level,
            name: self.name.clone(),
            localized: self.localized.clone(),
        };
        edit(&mut fields);
        let mut c = self.clone();
        c.serial = fields.serial;
        c.issuer_id = fields.issuer_id;
        c.level = fields.level;
        c.name = fields.name;
        c.localized = fields.localized;
        c.signature = signer.sign(crate::constants::SIG_CTX_BUSINESS_CERT, &c.signed_part());
        c
    }
    fn with_flipped_signature_bit(&self, byte: usize) -> Self {
        let mut c = self.clone();
        c.signature[byte % 64] ^= 1;
        c
    }
}

/// Internal access to an issuer certificate.
pub trait IssuerCertificateInternals {
    /// The certificate with one bit of its signature flipped.
    fn with_flipped_signature_bit(&self, byte: usize) -> Self;
}

impl IssuerCertificateInternals for IssuerCertificate {
    fn with_flipped_signature_bit(&self, byte: usize) -> Self {
        let mut c = self.clone();
        c.signature[byte % 64] ^= 1;
        c
    }
}

/// Signing of lists and statuses without the issuer's checks.
pub trait RevocationListInternals: Sized {
    /// Signs a list whatever its window or entries.
    fn sign_unchecked(
        secret: &Ed25519Secret,
        signer_id: u32,
        window: RevocationWindow,
        entries: RevokedEntries,
    ) -> Self;
}

impl RevocationListInternals for RevocationList {
    fn sign_unchecked(
        secret: &Ed25519Secret,
        signer_id: u32,
        window: RevocationWindow,
        entries: RevokedEntries,
    ) -> Self {
        RevocationList::sign_unchecked(secret, signer_id, window, entries)
    }
}

/// Signing of a status without the issuer's checks.
pub trait CertificateStatusInternals: Sized {
    /// Signs a status for `serial` of issuer `issuer_id`.
    fn sign(
        secret: &Ed25519Secret,
        issuer_id: u32,
        serial: u64,
        this_update: u64,
        next_update: u64,
    ) -> Self;
}

impl CertificateStatusInternals for CertificateStatus {
    fn sign(
        secret: &Ed25519Secret,
        issuer_id: u32,
        serial: u64,
        this_update: u64,
        next_update: u64,
    ) -> Self {
        CertificateStatus::sign(secret, issuer_id, serial, this_update, next_update)
    }
}

/// A DH output with chosen bytes (the KDF vectors start from one).
pub fn dh_output(bytes: [u8; 32]) -> DhOutput {
    DhOutput(bytes)
}

/// The byte of a KEM prekey kind (SPEC.md 6.2).
pub fn kem_kind_byte(kind: crate::keys::KemPreKeyKind) -> u8 {
    kind.to_byte()
}

/// Internal access to a verified business.
pub trait VerifiedBusinessInternals {
    /// The same business under another business id (the capacity vector of
    /// the pin table holds many businesses that differ only in their id).
    fn with_business_id(&self, id: crate::business::BusinessId) -> Self;
}

impl VerifiedBusinessInternals for VerifiedBusiness {
    fn with_business_id(&self, id: crate::business::BusinessId) -> Self {
        self.with_business_id_for_vectors(id)
    }
}

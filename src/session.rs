//! A session between two parties: the handshake's result and its ratchet.

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;

use crate::business::{Fingerprint, Peer, VerifiedBusiness};
use crate::constants::{
    DIRECTION_INITIATOR, DIRECTION_RESPONDER, FEATURE_PQ_RATCHET, MAX_PLAINTEXT_LEN,
    MLKEM768_CT_LEN, MSG_TYPE_INITIAL, MSG_TYPE_RATCHET, PQ_TRAILER_LEN, RATCHET_PREFIX_LEN,
    TAG_LEN,
};
use crate::error::{DecryptError, EncryptError, HandshakeError};
use crate::handshake::derive_session_secrets;
use crate::handshake::initial::InitialPrefix;
use crate::handshake::transcript::TranscriptInputs;
use crate::keys::{IdentityKey, IdentityKeyPair, PreKeyBundle, PreKeyStore};
use crate::primitives::kdf::sha256;
use crate::primitives::x25519::X25519Secret;
use crate::ratchet::padding::padded_len;
use crate::ratchet::pq::PqRatchet;
use crate::ratchet::skipped::SkippedKeys;
use crate::ratchet::state::{RatchetState, SendingChain};
use crate::wire::{DecodeError, Reader};

mod pickle;

/// Which side of the handshake a session is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Started the session from the peer's prekey bundle (usually the customer).
    Initiator,
    /// Accepted the session from an initial message (usually the business).
    Responder,
}

/// The two kinds of wire message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// Carries the handshake; sent by the initiator until the first reply.
    Initial,
    /// An ordinary ratchet message.
    Ratchet,
}

/// Reads the version and type bytes of a wire message, so an application can
/// route it (to [`Session::respond`] or to an existing session's
/// [`Session::decrypt`]) without decrypting anything.
pub fn message_type(bytes: &[u8]) -> Result<MessageType, DecodeError> {
    let mut r = Reader::new(bytes);
    r.version()?;
    match r.u8("message type")? {
        MSG_TYPE_INITIAL => Ok(MessageType::Initial),
        MSG_TYPE_RATCHET => Ok(MessageType::Ratchet),
        other => Err(DecodeError::UnknownType(other)),
    }
}

/// An end-to-end encrypted session with one peer.
///
/// Created by [`Session::initiate`] (from the peer's verified
/// [`PreKeyBundle`]) or by [`Session::respond`] (from an initial message).
/// Until the initiator has decrypted a first reply, every message it sends is
/// an initial message carrying the handshake, so the responder can start the
/// session from whichever arrives first.
///
/// ```
/// use hotline::{IdentityKeyPair, PreKeyStore, Session};
/// let mut rng = rand::rng();
/// let customer = IdentityKeyPair::generate(&mut rng);
/// let business = IdentityKeyPair::generate(&mut rng);
/// let mut business_keys = PreKeyStore::new(&business, 5, 5, &mut rng);
///
/// let mut c = Session::initiate(&customer, &business_keys.bundle(), &mut rng)?;
/// let first = c.encrypt(b"Is my flight on time?", b"")?;
/// let (mut b, text) = Session::respond(&mut business_keys, &first, b"")?;
/// assert_eq!(text, b"Is my flight on time?");
///
/// let reply = b.encrypt(b"Yes, KL1234 departs 09:40.", b"")?;
/// assert_eq!(c.decrypt(&reply, b"")?, b"Yes, KL1234 departs 09:40.");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Session {
    role: Role,
    local: IdentityKey,
    peer: IdentityKey,
    /// The peer as typed identity: a verified business only when the
    /// initiator validated its chain and bound it into the transcript.
    peer_kind: Peer,
    /// The certificate chain hash bound into the transcript, if any.
    certificate_hash: Option<[u8; 32]>,
    /// SHA-256 of the initial message's handshake bytes: identifies the handshake.
    handshake_id: [u8; 32],
    /// The initiator's handshake bytes, sent before each message until the
    /// first reply is decrypted.
    pending_prefix: Option<Vec<u8>>,
    state: RatchetState,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("role", &self.role)
            .field("local", &self.local)
            .field("peer", &self.peer_kind)
            .finish_non_exhaustive()
    }
}

/// The random values an initiator draws, in this order (SPEC.md, "Handshake").
pub struct InitiatorRandomness {
    /// The ephemeral key of the handshake.
    pub ephemeral: X25519Secret,
    /// The first ratchet key.
    pub ratchet: X25519Secret,
    /// The KEM encapsulation randomness.
    pub kem_m: [u8; 32],
}

impl InitiatorRandomness {
    pub(crate) fn draw<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let ephemeral = X25519Secret::generate(rng);
        let ratchet = X25519Secret::generate(rng);
        let mut kem_m = [0u8; 32];
        rng.fill_bytes(&mut kem_m);
        Self {
            ephemeral,
            ratchet,
            kem_m,
        }
    }
}

impl Drop for InitiatorRandomness {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.kem_m);
    }
}

impl Session {
    /// Starts a session with the owner of `bundle`. The bundle's signatures
    /// were verified when it was decoded; this computes the DHs and the KEM
    /// encapsulation. Nothing is sent until [`Session::encrypt`].
    ///
    /// The peer is [`Peer::Unverified`] even if the bundle carries a
    /// certificate chain: use [`Session::initiate_verified`] to talk to a
    /// verified business.
    pub fn initiate<R: CryptoRng + ?Sized>(
        local: &IdentityKeyPair,
        bundle: &PreKeyBundle,
        rng: &mut R,
    ) -> Result<Self, HandshakeError> {
        Self::initiate_with(local, bundle, None, InitiatorRandomness::draw(rng))
    }

    /// Starts a session with a verified business: `business` must have been
    /// validated from this very bundle (by
    /// [`TrustStore::verify_bundle`](crate::business::TrustStore::verify_bundle)),
    /// otherwise [`HandshakeError::CertificateMismatch`]. The chain's hash is
    /// sent in the initial message and bound into the transcript, so the
    /// session only completes with the holder of that certificate's identity
    /// key, and [`Session::peer`] reports [`Peer::VerifiedBusiness`].
    ///
    /// ```
    /// # use hotline::business::*;
    /// # use hotline::{IdentityKeyPair, PreKeyBundle, PreKeyStore, Session};
    /// # let mut rng = rand::rng();
    /// # let always = Validity { not_before: 0, not_after: u64::MAX };
    /// # let root = RootAuthority::generate(1, always, &mut rng);
    /// # let (seed, key) = IssuerAuthority::generate_key(&mut rng);
    /// # let levels = LevelSet::new(&[VerificationLevel::Official]).unwrap();
    /// # let issuer_cert = root.certify_issuer(7, &key, levels, always)?;
    /// # let issuer = IssuerAuthority::new(&seed, issuer_cert.clone())?;
    /// # let business = IdentityKeyPair::generate(&mut rng);
    /// # let cert = issuer.issue(&BusinessCertificateRequest {
    /// #     serial: 1, business_id: BusinessId([1; 16]),
    /// #     identity_key: *business.public().signing_key(),
    /// #     name: "KLM Royal Dutch Airlines".into(), localized: vec![],
    /// #     level: VerificationLevel::Official, validity: always })?;
    /// # let mut prekeys = PreKeyStore::new(&business, 5, 5, &mut rng);
    /// # prekeys.set_certificate_chain(CertificateChain::new(issuer_cert, cert))?;
    /// # let mut trust = TrustStore::new();
    /// # trust.add_root(root.trust_root())?;
    /// # let now = 1_800_000_000;
    /// let bundle = PreKeyBundle::from_bytes(&prekeys.bundle().to_bytes())?;
    /// let verified = trust.verify_bundle(&bundle, now)?;
    /// let customer = IdentityKeyPair::generate(&mut rng);
    /// let mut session = Session::initiate_verified(&customer, &bundle, &verified, &mut rng)?;
    /// match session.peer() {
    ///     Peer::VerifiedBusiness(b) => assert_eq!(b.name(), "KLM Royal Dutch Airlines"),
    ///     Peer::Unverified(_) => unreachable!(),
    /// }
    /// let first = session.encrypt(b"Hello", b"")?;
    /// let (business_session, _) = Session::respond(&mut prekeys, &first, b"")?;
    /// assert_eq!(business_session.certificate_hash(), Some(verified.chain_hash()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn initiate_verified<R: CryptoRng + ?Sized>(
        local: &IdentityKeyPair,
        bundle: &PreKeyBundle,
        business: &VerifiedBusiness,
        rng: &mut R,
    ) -> Result<Self, HandshakeError> {
        Self::initiate_with(
            local,
            bundle,
            Some(business),
            InitiatorRandomness::draw(rng),
        )
    }

    pub(crate) fn initiate_with(
        local: &IdentityKeyPair,
        bundle: &PreKeyBundle,
        business: Option<&VerifiedBusiness>,
        rand: InitiatorRandomness,
    ) -> Result<Self, HandshakeError> {
        let peer = *bundle.identity();
        let certificate_hash = match business {
            None => None,
            Some(b) => {
                let chain_hash = bundle.certificate_chain().map(|c| c.hash());
                if chain_hash != Some(b.chain_hash()) || b.identity_key() != peer.signing_key() {
                    return Err(HandshakeError::CertificateMismatch);
                }
                chain_hash
            }
        };
        if peer.signing_key() == local.public().signing_key() {
            return Err(HandshakeError::SameIdentity);
        }
        let spk = bundle.signed_prekey();
        let low = |_| HandshakeError::LowOrderKey;
        let dh1 = local.dh().diffie_hellman(&spk.key).map_err(low)?;
        let dh2 = rand.ephemeral.diffie_hellman(peer.dh_key()).map_err(low)?;
        let dh3 = rand.ephemeral.diffie_hellman(&spk.key).map_err(low)?;
        let dh4 = match bundle.one_time_prekey() {
            Some(otk) => Some(rand.ephemeral.diffie_hellman(&otk.key).map_err(low)?),
            None => None,
        };
        let kem = bundle.kem_prekey();
        let (ct, ss) = kem.key.encapsulate(&rand.kem_m);
        let ephemeral = rand.ephemeral.public_key();
        let local_pub = local.public();
        let th = TranscriptInputs {
            initiator: &local_pub,
            responder: &peer,
            signed_prekey_id: spk.id,
            signed_prekey: &spk.key,
            one_time: bundle.one_time_prekey().map(|o| (o.id, &o.key)),
            kem_id: kem.id,
            kem_kind: kem.kind,
            kem_key: &kem.key,
            ephemeral: &ephemeral,
            kem_ciphertext: &ct,
            certificate_hash: certificate_hash.as_ref(),
            features: FEATURE_PQ_RATCHET,
        }
        .hash();
        let secrets = derive_session_secrets(&th, &dh1, &dh2, &dh3, dh4.as_ref(), &ss);
        let dh = rand.ratchet.diffie_hellman(&spk.key).map_err(low)?;
        let (root, cks, nhks) = secrets.root.step(&dh);
        let prefix = InitialPrefix {
            initiator: local_pub,
            signed_prekey_id: spk.id,
            one_time_id: bundle.one_time_prekey().map(|o| o.id),
            kem_id: kem.id,
            ephemeral,
            kem_ciphertext: ct,
            certificate_hash,
        }
        .encode();
        Ok(Self {
            role: Role::Initiator,
            local: local_pub,
            peer,
            peer_kind: match business {
                Some(b) => Peer::VerifiedBusiness(b.clone()),
                None => Peer::Unverified(peer),
            },
            certificate_hash,
            handshake_id: sha256(&prefix),
            pending_prefix: Some(prefix),
            state: RatchetState {
                direction: DIRECTION_INITIATOR,
                peer_direction: DIRECTION_RESPONDER,
                th,
                root,
                dhs: rand.ratchet.clone(),
                dhr: Some(spk.key),
                send: Some(SendingChain { ck: cks, n: 0 }),
                hks: Some(secrets.hk_initiator.clone()),
                nhks,
                recv: None,
                nhkr: secrets.hk_responder.clone(),
                pn: 0,
                skipped: SkippedKeys::default(),
                pq: Some(PqRatchet::new(DIRECTION_INITIATOR)),
            },
        })
    }

    /// Accepts an initial message with the prekeys in `store`, returning the
    /// new session and the first plaintext.
    ///
    /// Transactional: the one-time prekeys it names are consumed, and the
    /// handshake remembered against replay, only after the embedded first
    /// message authenticates. A replayed initial message fails with
    /// [`HandshakeError::ReplayedHandshake`]; later initial messages of an
    /// existing session go to that session's [`Session::decrypt`].
    pub fn respond(
        store: &mut PreKeyStore,
        message: &[u8],
        associated_data: &[u8],
    ) -> Result<(Self, Vec<u8>), HandshakeError> {
        Self::respond_with_features(store, message, associated_data, FEATURE_PQ_RATCHET)
    }

    /// [`Session::respond`] hashing `features` as the transcript's feature
    /// byte. Only tests call it with another value than
    /// `FEATURE_PQ_RATCHET`, to show that a responder that would run without
    /// the post-quantum ratchet cannot complete the initiator's handshake.
    pub(crate) fn respond_with_features(
        store: &mut PreKeyStore,
        message: &[u8],
        associated_data: &[u8],
        features: u8,
    ) -> Result<(Self, Vec<u8>), HandshakeError> {
        let (prefix, prefix_bytes, ratchet) = InitialPrefix::decode(message)?;
        let identity = store.identity().clone();
        let local_pub = identity.public();
        if prefix.initiator.signing_key() == local_pub.signing_key() {
            return Err(HandshakeError::SameIdentity);
        }
        let spk = store
            .signed_prekey_by_id(prefix.signed_prekey_id)
            .ok_or(HandshakeError::UnknownSignedPreKey(prefix.signed_prekey_id))?;
        let replay_id = *prefix.ephemeral.as_bytes();
        if store.handshake_seen(spk.public.id, &replay_id) {
            return Err(HandshakeError::ReplayedHandshake);
        }
        if store.replay_set_full(spk.public.id) {
            // Remembering no more handshakes, it accepts no more: a replay
            // can never outlive its entry (SPEC.md 7.10).
            return Err(HandshakeError::ReplaySetFull(spk.public.id));
        }
        let otk = match prefix.one_time_id {
            Some(id) => Some(
                store
                    .one_time_by_id(id)
                    .ok_or(HandshakeError::UnknownOneTimePreKey(id))?,
            ),
            None => None,
        };
        let kem = store
            .kem_by_id(prefix.kem_id)
            .ok_or(HandshakeError::UnknownKemPreKey(prefix.kem_id))?;
        if let Some(h) = &prefix.certificate_hash
            && !store.has_certificate(h)
        {
            return Err(HandshakeError::UnknownCertificate);
        }

        let low = |_| HandshakeError::LowOrderKey;
        let dh1 = spk
            .secret
            .diffie_hellman(prefix.initiator.dh_key())
            .map_err(low)?;
        let dh2 = identity
            .dh()
            .diffie_hellman(&prefix.ephemeral)
            .map_err(low)?;
        let dh3 = spk.secret.diffie_hellman(&prefix.ephemeral).map_err(low)?;
        let dh4 = match otk {
            Some(k) => Some(k.secret.diffie_hellman(&prefix.ephemeral).map_err(low)?),
            None => None,
        };
        let ss = kem.secret.decapsulate(&prefix.kem_ciphertext);
        let th = TranscriptInputs {
            initiator: &prefix.initiator,
            responder: &local_pub,
            signed_prekey_id: spk.public.id,
            signed_prekey: &spk.public.key,
            one_time: otk.map(|k| (k.public.id, &k.public.key)),
            kem_id: kem.public.id,
            kem_kind: kem.public.kind,
            kem_key: &kem.public.key,
            ephemeral: &prefix.ephemeral,
            kem_ciphertext: &prefix.kem_ciphertext,
            certificate_hash: prefix.certificate_hash.as_ref(),
            features,
        }
        .hash();
        let secrets = derive_session_secrets(&th, &dh1, &dh2, &dh3, dh4.as_ref(), &ss);
        let mut state = RatchetState {
            direction: DIRECTION_RESPONDER,
            peer_direction: DIRECTION_INITIATOR,
            th,
            root: secrets.root.clone(),
            dhs: spk.secret.clone(),
            dhr: None,
            send: None,
            hks: None,
            nhks: secrets.hk_responder.clone(),
            recv: None,
            nhkr: secrets.hk_initiator.clone(),
            pn: 0,
            skipped: SkippedKeys::default(),
            pq: Some(PqRatchet::new(DIRECTION_RESPONDER)),
        };
        let plaintext = state
            .decrypt(ratchet, associated_data)
            .map_err(HandshakeError::Decrypt)?;
        let spk_id = spk.public.id;
        let kem_id = kem.public.id;
        store.commit_handshake(spk_id, prefix.one_time_id, kem_id, replay_id);
        Ok((
            Self {
                role: Role::Responder,
                local: local_pub,
                peer: prefix.initiator,
                // An initiator never presents a certificate: whoever starts a
                // session is never shown as a verified business.
                peer_kind: Peer::Unverified(prefix.initiator),
                certificate_hash: prefix.certificate_hash,
                handshake_id: sha256(prefix_bytes),
                pending_prefix: None,
                state,
            },
            plaintext,
        ))
    }

    /// Encrypts `plaintext` (at most 64 KiB) with `associated_data` (for
    /// example the relay envelope's metadata, which the receiver must pass
    /// identically). Returns the wire message.
    pub fn encrypt(
        &mut self,
        plaintext: &[u8],
        associated_data: &[u8],
    ) -> Result<Vec<u8>, EncryptError> {
        self.encrypt_with_rng(plaintext, associated_data, &mut rand::rng())
    }

    /// [`Session::encrypt`] with an explicit random number generator (drawn
    /// from only when the message starts a new DH ratchet step).
    pub fn encrypt_with_rng<R: CryptoRng + ?Sized>(
        &mut self,
        plaintext: &[u8],
        associated_data: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>, EncryptError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(EncryptError::PlaintextTooLong(plaintext.len()));
        }
        let prefix_len = self.pending_prefix.as_ref().map_or(0, Vec::len);
        let mut out = Vec::with_capacity(
            prefix_len
                + RATCHET_PREFIX_LEN
                + padded_len(plaintext.len() + PQ_TRAILER_LEN)
                + TAG_LEN,
        );
        if let Some(prefix) = &self.pending_prefix {
            out.extend_from_slice(prefix);
        }
        self.state
            .encrypt(plaintext, associated_data, rng, &mut out)?;
        Ok(out)
    }

    /// Decrypts a message from the peer. Accepts ratchet messages and, on the
    /// responder, further initial messages of this session's own handshake.
    /// On any error the session is exactly as it was.
    pub fn decrypt(
        &mut self,
        message: &[u8],
        associated_data: &[u8],
    ) -> Result<Vec<u8>, DecryptError> {
        let ratchet = match message_type(message)? {
            MessageType::Ratchet => message,
            MessageType::Initial => {
                let prefix_len = initial_prefix_len(message)?;
                let id = sha256(&message[..prefix_len]);
                if self.role != Role::Responder || !bool::from(id.ct_eq(&self.handshake_id)) {
                    return Err(DecryptError::WrongSession);
                }
                &message[prefix_len..]
            }
        };
        let plaintext = self.state.decrypt(ratchet, associated_data)?;
        // A reply proves the responder has the session: stop resending the handshake.
        self.pending_prefix = None;
        Ok(plaintext)
    }

    #[cfg(any(test, feature = "conformance"))]
    pub(crate) fn state_mut(&mut self) -> &mut RatchetState {
        &mut self.state
    }

    #[cfg(feature = "conformance")]
    pub(crate) fn state(&self) -> &RatchetState {
        &self.state
    }

    /// Bytes of the stored post-quantum ratchet field (its flag included).
    #[cfg(test)]
    pub(crate) fn pq_stored_len(&self) -> usize {
        let mut v = Vec::new();
        if let Some(pq) = &self.state.pq {
            pq.encode_into(&mut v);
        }
        1 + v.len()
    }

    /// Which side of the handshake this session is on.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The peer's identity, as verified in the handshake.
    pub fn peer_identity(&self) -> &IdentityKey {
        &self.peer
    }

    /// Who the peer is: a verified business (its name, id and level, bound
    /// into this session's transcript) or an unverified party.
    pub fn peer(&self) -> &Peer {
        &self.peer_kind
    }

    /// The hash of the responder's certificate chain bound into the
    /// transcript, the same on both sides; `None` for unverified sessions.
    pub fn certificate_hash(&self) -> Option<[u8; 32]> {
        self.certificate_hash
    }

    /// The safety-number fingerprint of the two identities, identical on
    /// both sides, for comparison out of band.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::new(&self.local, &self.peer)
    }

    /// This party's identity.
    pub fn local_identity(&self) -> &IdentityKey {
        &self.local
    }

    /// The handshake transcript hash bound into every message of this session.
    pub fn transcript_hash(&self) -> [u8; 32] {
        self.state.th
    }

    /// Identifies the handshake (SHA-256 of the initial message's handshake
    /// bytes), the same on both sides.
    pub fn handshake_id(&self) -> [u8; 32] {
        self.handshake_id
    }

    /// Whether the initiator is still waiting for a first reply (and so still
    /// sends initial messages).
    pub fn awaiting_reply(&self) -> bool {
        self.pending_prefix.is_some()
    }

    /// How the post-quantum ratchet stands (SPEC.md, section 16.7): whether
    /// it runs, how many epochs completed, and how many messages were sent
    /// and received since the last one. A count that keeps growing while
    /// [`PqStatus::waiting_for_peer`] holds means the peer has stopped
    /// sending (or its messages are lost): later messages are then protected
    /// by X25519 and the last completed epoch only.
    pub fn pq_status(&self) -> PqStatus {
        match &self.state.pq {
            None => PqStatus {
                enabled: false,
                epochs_completed: 0,
                messages_since_epoch: 0,
                waiting_for_peer: false,
            },
            Some(pq) => PqStatus {
                enabled: true,
                epochs_completed: pq.epoch,
                messages_since_epoch: pq.since,
                waiting_for_peer: pq.waiting_for_peer(),
            },
        }
    }

    /// Number of skipped message keys currently stored (at most
    /// [`MAX_SKIPPED_KEYS`](crate::constants::MAX_SKIPPED_KEYS)).
    pub fn skipped_key_count(&self) -> usize {
        self.state.skipped.len()
    }

    /// A digest of the complete session state (every key, counter and stored
    /// skipped key), for checking that an operation left a session unchanged.
    /// It is a domain-separated SHA-256, so it reveals nothing usable about
    /// the keys.
    pub fn state_digest(&self) -> [u8; 32] {
        let mut buf = b"Hotline v1 state digest".to_vec();
        buf.push(u8::from(self.role == Role::Initiator));
        buf.extend_from_slice(&self.handshake_id);
        buf.push(u8::from(self.pending_prefix.is_some()));
        self.state.encode_into(&mut buf);
        let d = sha256(&buf);
        zeroize::Zeroize::zeroize(&mut buf);
        d
    }
}

/// The state of a session's post-quantum ratchet ([`Session::pq_status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PqStatus {
    /// The session runs the post-quantum ratchet: every session created by
    /// this version does; a session migrated from an older stored layout
    /// does not (SPEC.md, section 16.8).
    pub enabled: bool,
    /// Epochs completed: ML-KEM secrets mixed into the root key.
    pub epochs_completed: u32,
    /// Messages sent and received since the last epoch completed
    /// (saturating).
    pub messages_since_epoch: u32,
    /// The epoch in progress needs messages from the peer to go on.
    pub waiting_for_peer: bool,
}

/// Length of the handshake part of an initial message (checked structurally only).
pub fn initial_prefix_len(message: &[u8]) -> Result<usize, DecodeError> {
    let mut r = Reader::new(message);
    r.version()?;
    r.u8("message type")?;
    r.take(130 + 4, "initial message handshake")?;
    let extra = match r.u8("one-time prekey flag")? {
        0 => 0,
        1 => 4,
        value => {
            return Err(DecodeError::InvalidValue {
                field: "one-time prekey flag",
                value,
            });
        }
    };
    r.take(
        extra + 4 + 33 + MLKEM768_CT_LEN,
        "initial message handshake",
    )?;
    let hash_len = match r.u8("certificate flag")? {
        0 => 0,
        1 => 32,
        value => {
            return Err(DecodeError::InvalidValue {
                field: "certificate flag",
                value,
            });
        }
    };
    r.take(hash_len, "initial message handshake")?;
    Ok(message.len() - r.remaining())
}

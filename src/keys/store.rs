//! The private half of a party's prekeys, kept by the party itself.

use std::collections::{BTreeMap, HashSet, VecDeque};

use rand_core::CryptoRng;

use crate::business::{CertificateChain, ValidationError};
use crate::constants::{
    MAX_OLD_CERTIFICATE_CHAINS, MAX_OLD_SIGNED_PREKEYS, MAX_REMEMBERED_HANDSHAKES, REPLAY_ROTATE_AT,
};
use crate::keys::bundle::PreKeyBundle;
use crate::keys::identity::IdentityKeyPair;
use crate::keys::prekeys::{
    KemPreKey, KemPreKeyKind, KemPreKeyPublic, OneTimePreKey, OneTimePreKeyPublic, SignedPreKey,
    SignedPreKeyPublic,
};

mod codec;

/// Ephemeral keys of handshakes already accepted under one signed prekey,
/// oldest first.
#[derive(Clone, Default)]
struct SeenHandshakes {
    set: HashSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
}

impl SeenHandshakes {
    fn contains(&self, id: &[u8; 32]) -> bool {
        self.set.contains(id)
    }
    /// Remembers a handshake. Never evicts: a full set makes its signed
    /// prekey refuse further handshakes instead (SPEC.md, section 7.10),
    /// so no amount of attacker-made handshakes can flush a genuine one.
    fn insert(&mut self, id: [u8; 32]) {
        if self.order.len() < MAX_REMEMBERED_HANDSHAKES && self.set.insert(id) {
            self.order.push_back(id);
        }
    }
    fn is_full(&self) -> bool {
        self.order.len() >= MAX_REMEMBERED_HANDSHAKES
    }
}

/// A party's prekey secrets: the current and a few previous signed prekeys,
/// one-time X25519 and ML-KEM prekeys, and the last-resort ML-KEM prekey.
///
/// One-time prekeys are removed the moment a handshake that used them
/// succeeds, so each is used at most once. To refuse replayed initial
/// messages, the store remembers the ephemeral key of every handshake
/// accepted under each signed prekey, for as long as that prekey's secret
/// exists: at most [`MAX_REMEMBERED_HANDSHAKES`], after which the signed
/// prekey refuses new handshakes ([`HandshakeError::ReplaySetFull`]) rather
/// than forget one. [`PreKeyStore::replay_set_nearly_full`] says when to
/// rotate (the persistent client does it by itself); an old signed prekey
/// is erased, with its set, after [`MAX_OLD_SIGNED_PREKEYS`] rotations.
///
/// [`HandshakeError::ReplaySetFull`]: crate::HandshakeError::ReplaySetFull
///
/// ```
/// use hotline::{IdentityKeyPair, PreKeyStore};
/// let mut rng = rand::rng();
/// let business = IdentityKeyPair::generate(&mut rng);
/// let store = PreKeyStore::new(&business, 10, 10, &mut rng);
/// let bundle = store.bundle();
/// assert!(bundle.one_time_prekey().is_some());
/// ```
#[derive(Clone)]
pub struct PreKeyStore {
    identity: IdentityKeyPair,
    next_id: u32,
    signed: SignedPreKey,
    old_signed: VecDeque<SignedPreKey>,
    one_time: BTreeMap<u32, OneTimePreKey>,
    kem_one_time: BTreeMap<u32, KemPreKey>,
    kem_last_resort: KemPreKey,
    seen: BTreeMap<u32, SeenHandshakes>,
    /// The current certificate chain and its hash.
    certificate: Option<(CertificateChain, [u8; 32])>,
    /// Chains replaced by a renewal, newest first, kept so handshakes that
    /// named them still complete.
    old_certificates: VecDeque<[u8; 32]>,
}

impl core::fmt::Debug for PreKeyStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PreKeyStore")
            .field("identity", &self.identity.public())
            .field("signed_prekey_id", &self.signed.public.id)
            .field("one_time", &self.one_time.len())
            .field("kem_one_time", &self.kem_one_time.len())
            .finish_non_exhaustive()
    }
}

impl PreKeyStore {
    /// Creates a store with a signed prekey, a last-resort KEM prekey and the
    /// given numbers of one-time X25519 and ML-KEM prekeys.
    pub fn new<R: CryptoRng + ?Sized>(
        identity: &IdentityKeyPair,
        one_time: usize,
        kem_one_time: usize,
        rng: &mut R,
    ) -> Self {
        let signed = SignedPreKey::generate(identity, 1, rng);
        let kem_last_resort = KemPreKey::generate(identity, 2, KemPreKeyKind::LastResort, rng);
        let mut store = Self {
            identity: identity.clone(),
            next_id: 3,
            signed,
            old_signed: VecDeque::new(),
            one_time: BTreeMap::new(),
            kem_one_time: BTreeMap::new(),
            kem_last_resort,
            seen: BTreeMap::new(),
            certificate: None,
            old_certificates: VecDeque::new(),
        };
        store.add_one_time_prekeys(one_time, rng);
        store.add_kem_prekeys(kem_one_time, rng);
        store
    }

    /// Fills the current signed prekey's replay set with `n` random
    /// entries, as `n` forged handshakes would.
    #[cfg(test)]
    pub(crate) fn flood_replay_set_for_tests(&mut self, n: usize) {
        use rand_core::Rng;
        let id = self.signed.public.id;
        let mut rng = rand::rng();
        for _ in 0..n {
            let mut e = [0u8; 32];
            rng.fill_bytes(&mut e);
            self.seen.entry(id).or_default().insert(e);
        }
    }

    /// Adds the given ephemeral keys to the current signed prekey's replay
    /// set, as that many handshakes would (for conformance vectors).
    #[cfg(feature = "conformance")]
    pub(crate) fn remember_handshakes_for_vectors(&mut self, keys: impl Iterator<Item = [u8; 32]>) {
        let id = self.signed.public.id;
        for e in keys {
            self.seen.entry(id).or_default().insert(e);
        }
    }

    /// Builds a store from explicit keys (for conformance vectors).
    #[cfg(feature = "conformance")]
    pub(crate) fn from_parts(
        identity: &IdentityKeyPair,
        signed: SignedPreKey,
        one_time: Vec<OneTimePreKey>,
        kem_one_time: Vec<KemPreKey>,
        kem_last_resort: KemPreKey,
    ) -> Self {
        let mut next_id = signed.public.id.max(kem_last_resort.public.id);
        let mut ot = BTreeMap::new();
        for k in one_time {
            next_id = next_id.max(k.public.id);
            ot.insert(k.public.id, k);
        }
        let mut kt = BTreeMap::new();
        for k in kem_one_time {
            next_id = next_id.max(k.public.id);
            kt.insert(k.public.id, k);
        }
        Self {
            identity: identity.clone(),
            next_id: next_id.saturating_add(1),
            signed,
            old_signed: VecDeque::new(),
            one_time: ot,
            kem_one_time: kt,
            kem_last_resort,
            seen: BTreeMap::new(),
            certificate: None,
            old_certificates: VecDeque::new(),
        }
    }

    fn fresh_id(&mut self) -> u32 {
        let id = self.next_id;
        // Ids wrap after 2^32 prekeys; a wrapped id is only reused once the
        // old key with that id is long gone.
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    /// The identity these prekeys belong to.
    pub fn identity(&self) -> &IdentityKeyPair {
        &self.identity
    }

    /// Adds `n` one-time X25519 prekeys and returns their public halves (for upload).
    pub fn add_one_time_prekeys<R: CryptoRng + ?Sized>(
        &mut self,
        n: usize,
        rng: &mut R,
    ) -> Vec<OneTimePreKeyPublic> {
        (0..n)
            .map(|_| {
                let id = self.fresh_id();
                let k = OneTimePreKey::generate(&self.identity, id, rng);
                let public = k.public;
                self.one_time.insert(id, k);
                public
            })
            .collect()
    }

    /// Adds `n` one-time ML-KEM-768 prekeys and returns their public halves.
    pub fn add_kem_prekeys<R: CryptoRng + ?Sized>(
        &mut self,
        n: usize,
        rng: &mut R,
    ) -> Vec<KemPreKeyPublic> {
        (0..n)
            .map(|_| {
                let id = self.fresh_id();
                let k = KemPreKey::generate(&self.identity, id, KemPreKeyKind::OneTime, rng);
                let public = k.public.clone();
                self.kem_one_time.insert(id, k);
                public
            })
            .collect()
    }

    /// Replaces the signed prekey, keeping the previous
    /// [`MAX_OLD_SIGNED_PREKEYS`] so handshakes in flight still complete.
    pub fn rotate_signed_prekey<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> SignedPreKeyPublic {
        let id = self.fresh_id();
        let new = SignedPreKey::generate(&self.identity, id, rng);
        let public = new.public;
        let old = core::mem::replace(&mut self.signed, new);
        self.old_signed.push_front(old);
        while self.old_signed.len() > MAX_OLD_SIGNED_PREKEYS {
            if let Some(dropped) = self.old_signed.pop_back() {
                self.seen.remove(&dropped.public.id);
            }
        }
        public
    }

    /// Replaces the last-resort ML-KEM prekey.
    pub fn rotate_last_resort_kem_prekey<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> KemPreKeyPublic {
        let id = self.fresh_id();
        self.kem_last_resort =
            KemPreKey::generate(&self.identity, id, KemPreKeyKind::LastResort, rng);
        self.kem_last_resort.public.clone()
    }

    /// Number of unused one-time X25519 prekeys.
    pub fn one_time_count(&self) -> usize {
        self.one_time.len()
    }

    /// Number of unused one-time ML-KEM prekeys.
    pub fn kem_one_time_count(&self) -> usize {
        self.kem_one_time.len()
    }

    /// The public halves of every unused one-time X25519 prekey, lowest id
    /// first (for upload to a directory).
    pub fn one_time_prekeys(&self) -> Vec<OneTimePreKeyPublic> {
        self.one_time.values().map(|k| k.public).collect()
    }

    /// The public halves of every unused one-time ML-KEM-768 prekey, lowest
    /// id first (for upload to a directory).
    pub fn kem_prekeys(&self) -> Vec<KemPreKeyPublic> {
        self.kem_one_time
            .values()
            .map(|k| k.public.clone())
            .collect()
    }

    /// The current signed prekey's public half.
    pub fn signed_prekey(&self) -> SignedPreKeyPublic {
        self.signed.public
    }

    /// The last-resort KEM prekey's public half.
    pub fn last_resort_kem_prekey(&self) -> KemPreKeyPublic {
        self.kem_last_resort.public.clone()
    }

    /// Sets the certificate chain published in this party's bundles (a
    /// business's identity). The previous chain's hash is kept (at most
    /// [`MAX_OLD_CERTIFICATE_CHAINS`]) so initial messages that name it still
    /// complete. Refused with [`ValidationError::KeyMismatch`] if the chain
    /// certifies another identity key. Validity is not checked here: that is
    /// the customer's job, at its own time.
    pub fn set_certificate_chain(
        &mut self,
        chain: CertificateChain,
    ) -> Result<(), ValidationError> {
        if chain.business().identity_key() != self.identity.public().signing_key() {
            return Err(ValidationError::KeyMismatch);
        }
        let hash = chain.hash();
        if let Some((_, old)) = self.certificate.replace((chain, hash))
            && old != hash
        {
            self.old_certificates.retain(|h| *h != hash && *h != old);
            self.old_certificates.push_front(old);
            self.old_certificates.truncate(MAX_OLD_CERTIFICATE_CHAINS);
        }
        Ok(())
    }

    /// The current certificate chain, if any.
    pub fn certificate_chain(&self) -> Option<&CertificateChain> {
        self.certificate.as_ref().map(|(c, _)| c)
    }

    /// Whether `hash` names the current or a retained previous chain.
    pub(crate) fn has_certificate(&self, hash: &[u8; 32]) -> bool {
        self.certificate.as_ref().is_some_and(|(_, h)| h == hash)
            || self.old_certificates.contains(hash)
    }

    /// A bundle with the lowest-id unused one-time prekeys (or none, and the
    /// last-resort KEM prekey, when they have run out). Handing out a bundle
    /// does not consume anything; a successful handshake does.
    pub fn bundle(&self) -> PreKeyBundle {
        let otk = self.one_time.values().next().map(|k| k.public);
        let kem = self
            .kem_one_time
            .values()
            .next()
            .unwrap_or(&self.kem_last_resort)
            .public
            .clone();
        // Our own keys are signed by our own identity, so this cannot fail.
        PreKeyBundle::new(self.identity.public(), self.signed.public, otk, kem)
            .unwrap_or_else(|_| unreachable!("own prekeys verify"))
            .with_certificate_chain(self.certificate_chain().cloned())
    }

    pub(crate) fn signed_prekey_by_id(&self, id: u32) -> Option<&SignedPreKey> {
        if self.signed.public.id == id {
            return Some(&self.signed);
        }
        self.old_signed.iter().find(|k| k.public.id == id)
    }

    pub(crate) fn one_time_by_id(&self, id: u32) -> Option<&OneTimePreKey> {
        self.one_time.get(&id)
    }

    pub(crate) fn kem_by_id(&self, id: u32) -> Option<&KemPreKey> {
        if self.kem_last_resort.public.id == id {
            return Some(&self.kem_last_resort);
        }
        self.kem_one_time.get(&id)
    }

    /// Whether the current signed prekey has accepted at least
    /// [`REPLAY_ROTATE_AT`] handshakes: time to rotate it (and publish a new
    /// bundle), so the old one keeps room for handshakes still in flight.
    ///
    /// ```
    /// use hotline::{IdentityKeyPair, PreKeyStore};
    /// let mut rng = rand::rng();
    /// let store = PreKeyStore::new(&IdentityKeyPair::generate(&mut rng), 0, 0, &mut rng);
    /// assert!(!store.replay_set_nearly_full());
    /// ```
    pub fn replay_set_nearly_full(&self) -> bool {
        self.seen
            .get(&self.signed.public.id)
            .is_some_and(|s| s.order.len() >= REPLAY_ROTATE_AT)
    }

    /// Whether the signed prekey `id` can remember no more handshakes.
    pub(crate) fn replay_set_full(&self, signed_prekey_id: u32) -> bool {
        self.seen
            .get(&signed_prekey_id)
            .is_some_and(SeenHandshakes::is_full)
    }

    pub(crate) fn handshake_seen(&self, signed_prekey_id: u32, ephemeral_key: &[u8; 32]) -> bool {
        self.seen
            .get(&signed_prekey_id)
            .is_some_and(|s| s.contains(ephemeral_key))
    }

    /// Commits a successful handshake: consumes its one-time prekeys and
    /// remembers it.
    pub(crate) fn commit_handshake(
        &mut self,
        signed_prekey_id: u32,
        one_time_id: Option<u32>,
        kem_id: u32,
        ephemeral_key: [u8; 32],
    ) {
        if let Some(id) = one_time_id {
            self.one_time.remove(&id);
        }
        self.kem_one_time.remove(&kem_id);
        self.seen
            .entry(signed_prekey_id)
            .or_default()
            .insert(ephemeral_key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::HandshakeError;
    use crate::session::Session;

    fn flood(store: &mut PreKeyStore, n: usize) {
        store.flood_replay_set_for_tests(n);
    }

    #[test]
    fn a_flood_of_handshakes_never_evicts_a_remembered_one() {
        let mut rng = rand::rng();
        let business = IdentityKeyPair::generate(&mut rng);
        // No one-time prekeys: the relay left them out of the bundle, so
        // only the replay set stands between a replay and a second session.
        let mut store = PreKeyStore::new(&business, 0, 0, &mut rng);
        let customer = IdentityKeyPair::generate(&mut rng);
        let mut session = Session::initiate(&customer, &store.bundle(), &mut rng).unwrap();
        let victim = session.encrypt(b"my passport number", b"").unwrap();
        Session::respond(&mut store, &victim, b"").unwrap();
        assert!(!store.replay_set_nearly_full());

        flood(&mut store, REPLAY_ROTATE_AT);
        assert!(store.replay_set_nearly_full());
        flood(&mut store, MAX_REMEMBERED_HANDSHAKES);
        // The set is full, and the victim's handshake is still in it.
        assert!(matches!(
            Session::respond(&mut store, &victim, b""),
            Err(HandshakeError::ReplayedHandshake)
        ));
        // A new handshake under the full prekey is refused, not remembered
        // in place of an old one.
        let mut other = Session::initiate(&customer, &store.bundle(), &mut rng).unwrap();
        let fresh = other.encrypt(b"hello", b"").unwrap();
        let spk = store.signed.public.id;
        assert!(matches!(
            Session::respond(&mut store, &fresh, b""),
            Err(HandshakeError::ReplaySetFull(id)) if id == spk
        ));
        // After a rotation, new bundles work, and the old prekey (kept for
        // handshakes in flight) still refuses the replay.
        store.rotate_signed_prekey(&mut rng);
        let mut third = Session::initiate(&customer, &store.bundle(), &mut rng).unwrap();
        let ok = third.encrypt(b"again", b"").unwrap();
        assert_eq!(Session::respond(&mut store, &ok, b"").unwrap().1, b"again");
        assert!(matches!(
            Session::respond(&mut store, &victim, b""),
            Err(HandshakeError::ReplayedHandshake)
        ));
    }

    #[test]
    fn the_replay_set_holds_exactly_its_bound() {
        let mut rng = rand::rng();
        let business = IdentityKeyPair::generate(&mut rng);
        let mut store = PreKeyStore::new(&business, 0, 0, &mut rng);
        let id = store.signed.public.id;
        flood(&mut store, MAX_REMEMBERED_HANDSHAKES - 1);
        assert!(!store.replay_set_full(id));
        flood(&mut store, 1);
        assert!(store.replay_set_full(id));
        flood(&mut store, 5);
        assert_eq!(store.seen[&id].order.len(), MAX_REMEMBERED_HANDSHAKES);
        assert_eq!(store.seen[&id].set.len(), MAX_REMEMBERED_HANDSHAKES);
    }
}

//! The ratchet state machine: encrypt, and transactional decrypt.
//!
//! Decryption works in three phases: find the header key and plan every state
//! change (new chain keys, skipped keys, a DH step) in local values; verify
//! the body's tag and the padding; only then commit the plan. Any error
//! returns before the commit, so a failed decrypt changes nothing.

use rand_core::CryptoRng;
use zeroize::Zeroize;

use crate::constants::{
    HEADER_PLAINTEXT_LEN, HEADER_PQ_MIX_BIT, HEADER_WIRE_LEN, KEY_TYPE_X25519, MAX_PLAINTEXT_LEN,
    MAX_SKIP, MSG_TYPE_RATCHET, NONCE_LEN, PQ_MAX_GROWTH, PROTOCOL_VERSION, TAG_LEN,
};
use crate::error::{DecryptError, EncryptError, PqError};
use crate::primitives::aead::{open_in_place, seal_in_place};
use crate::primitives::x25519::{X25519Public, X25519Secret};
use crate::ratchet::keys::{ChainKey, HeaderKey, MessageKeySeed, RootKey};
use crate::ratchet::padding::{
    is_valid_padded_len, pad_into, pad_with_trailer_into, padded_len, padded_len_with_trailer,
    unpad_with_trailer, unpadded_len,
};
use crate::ratchet::pq::{Chunk, PqRatchet, PqUpdate};
use crate::ratchet::skipped::SkippedKeys;
use crate::wire::{DecodeError, Reader, x25519_encoded};

#[derive(Clone)]
pub(crate) struct SendingChain {
    pub(crate) ck: ChainKey,
    pub(crate) n: u32,
}

#[derive(Clone)]
pub(crate) struct ReceivingChain {
    pub(crate) ck: ChainKey,
    pub(crate) n: u32,
    pub(crate) hk: HeaderKey,
    pub(crate) ratchet_key: X25519Public,
}

/// The complete Double Ratchet state of one session.
#[derive(Clone)]
pub(crate) struct RatchetState {
    /// Our direction byte (bound into every header and body we send).
    pub(crate) direction: u8,
    /// The peer's direction byte.
    pub(crate) peer_direction: u8,
    /// The handshake transcript hash, bound into every message.
    pub(crate) th: [u8; 32],
    pub(crate) root: RootKey,
    pub(crate) dhs: X25519Secret,
    pub(crate) dhr: Option<X25519Public>,
    /// `None` until the first send after a received DH step: the sending
    /// step is taken lazily so decrypt needs no randomness.
    pub(crate) send: Option<SendingChain>,
    pub(crate) hks: Option<HeaderKey>,
    pub(crate) nhks: HeaderKey,
    pub(crate) recv: Option<ReceivingChain>,
    pub(crate) nhkr: HeaderKey,
    pub(crate) pn: u32,
    pub(crate) skipped: SkippedKeys,
    /// The post-quantum ratchet (SPEC.md, section 16); `None` only in a
    /// session migrated from a layout that predates it.
    pub(crate) pq: Option<PqRatchet>,
}

/// A decrypted header.
struct Header {
    ratchet_key: X25519Public,
    pn: u32,
    n: u32,
    /// The chain's root step mixed the pending epoch secret (SPEC.md 16.6).
    mixed: bool,
}

/// Everything a decrypt will change, computed before authentication.
enum Plan {
    /// Use (and erase) a stored skipped key.
    Skipped { chain: usize, n: u32 },
    /// Advance the current receiving chain.
    Current {
        ck: ChainKey,
        n: u32,
        skipped: Vec<(u32, MessageKeySeed)>,
    },
    /// A DH ratchet step to the peer's new ratchet key.
    Step {
        root: RootKey,
        recv: ReceivingChain,
        nhkr: HeaderKey,
        skipped_old: Vec<(u32, MessageKeySeed)>,
        skipped_new: Vec<(u32, MessageKeySeed)>,
        /// The step mixed the pending epoch secret.
        mixed: bool,
    },
}

/// Associated data of a header: version, type, sender's direction, transcript hash.
fn header_ad(direction: u8, th: &[u8; 32]) -> [u8; 35] {
    let mut ad = [0u8; 35];
    ad[0] = PROTOCOL_VERSION;
    ad[1] = MSG_TYPE_RATCHET;
    ad[2] = direction;
    ad[3..].copy_from_slice(th);
    ad
}

const BODY_AD_FIXED: usize = 3 + 32 + HEADER_WIRE_LEN + 4;
const BODY_AD_STACK: usize = 512;

/// Runs `f` on the body's associated data: version, type, sender's direction,
/// transcript hash, the encrypted header as sent (nonce, ciphertext, tag), the
/// caller's associated data length (u32) and the caller's associated data.
/// Uses a stack buffer for caller data up to 404 bytes, so the common case
/// allocates nothing.
fn with_body_ad<T>(
    direction: u8,
    th: &[u8; 32],
    header_wire: &[u8],
    user_ad: &[u8],
    f: impl FnOnce(&[u8]) -> T,
) -> Result<T, EncryptError> {
    let len = u32::try_from(user_ad.len()).map_err(|_| EncryptError::AssociatedDataTooLong)?;
    let fill = |buf: &mut [u8]| {
        buf[0] = PROTOCOL_VERSION;
        buf[1] = MSG_TYPE_RATCHET;
        buf[2] = direction;
        buf[3..35].copy_from_slice(th);
        buf[35..35 + HEADER_WIRE_LEN].copy_from_slice(header_wire);
        buf[35 + HEADER_WIRE_LEN..BODY_AD_FIXED].copy_from_slice(&len.to_be_bytes());
        buf[BODY_AD_FIXED..].copy_from_slice(user_ad);
    };
    let total = BODY_AD_FIXED + user_ad.len();
    if total <= BODY_AD_STACK {
        let mut buf = [0u8; BODY_AD_STACK];
        fill(&mut buf[..total]);
        Ok(f(&buf[..total]))
    } else {
        let mut buf = vec![0u8; total];
        fill(&mut buf);
        Ok(f(&buf))
    }
}

/// Derives the keys of messages `from..to` of a chain, returning them and the
/// chain key after them. The caller has checked `to - from <= MAX_SKIP`.
fn skip_keys(ck: &ChainKey, from: u32, to: u32) -> (Vec<(u32, MessageKeySeed)>, ChainKey) {
    let mut out = Vec::with_capacity((to.saturating_sub(from)) as usize);
    let mut ck = ck.clone();
    for n in from..to {
        let (mk, next) = ck.step();
        out.push((n, mk));
        ck = next;
    }
    (out, ck)
}

impl RatchetState {
    /// Encrypts one message, appending the ratchet message's wire bytes to `out`.
    pub(crate) fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        plaintext: &[u8],
        user_ad: &[u8],
        rng: &mut R,
        out: &mut Vec<u8>,
    ) -> Result<(), EncryptError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(EncryptError::PlaintextTooLong(plaintext.len()));
        }
        if user_ad.len() > u32::MAX as usize {
            return Err(EncryptError::AssociatedDataTooLong);
        }
        if self.send.as_ref().is_some_and(|c| c.n == u32::MAX) {
            return Err(EncryptError::ChainExhausted);
        }
        if self.send.is_none() {
            let fresh = X25519Secret::generate(rng);
            self.take_sending_step(fresh)?;
        }
        if let Some(pq) = self.pq.as_mut() {
            pq.prepare_send(rng);
        }
        self.encrypt_prepared(plaintext, user_ad, out)
    }

    /// The lazy sending half of a DH ratchet step, with the new ratchet key given.
    pub(crate) fn take_sending_step(&mut self, fresh: X25519Secret) -> Result<(), EncryptError> {
        let dhr = self.dhr.ok_or(EncryptError::NotReady)?;
        let dh = fresh
            .diffie_hellman(&dhr)
            .map_err(|_| EncryptError::NotReady)?;
        let mix = self.pq.as_ref().and_then(PqRatchet::sending_mix);
        let (root, ck, nhks) = match mix {
            Some(ss) => self.root.step_pq(&dh, &ss.0),
            None => self.root.step(&dh),
        };
        let mixed = mix.is_some();
        if let Some(pq) = self.pq.as_mut() {
            pq.sent_step(mixed);
        }
        self.root = root;
        self.dhs = fresh;
        self.nhks = nhks;
        self.send = Some(SendingChain { ck, n: 0 });
        Ok(())
    }

    fn encrypt_prepared(
        &mut self,
        plaintext: &[u8],
        user_ad: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), EncryptError> {
        let hks = self.hks.as_ref().ok_or(EncryptError::NotReady)?;
        let chain = self.send.as_ref().ok_or(EncryptError::NotReady)?;
        if chain.n == u32::MAX {
            return Err(EncryptError::ChainExhausted);
        }
        let (seed, next_ck) = chain.ck.step();
        let keys = seed.expand();
        // A chunk rides along only if it grows the padded body by at most
        // PQ_MAX_GROWTH bytes (SPEC.md 16.4).
        let trailer = self
            .pq
            .as_ref()
            .and_then(PqRatchet::next_trailer)
            .filter(|_| {
                padded_len_with_trailer(plaintext.len()) - padded_len(plaintext.len())
                    <= PQ_MAX_GROWTH
            });
        let body_len = match trailer {
            Some(_) => padded_len_with_trailer(plaintext.len()),
            None => padded_len(plaintext.len()),
        };

        let start = out.len();
        out.reserve(2 + HEADER_WIRE_LEN + body_len + TAG_LEN);
        out.push(PROTOCOL_VERSION);
        out.push(MSG_TYPE_RATCHET);
        out.extend_from_slice(&keys.header_nonce);
        let h_start = out.len();
        out.extend_from_slice(&x25519_encoded(&self.dhs.public_key()));
        if self.pq.as_ref().is_some_and(|p| p.send_mixed) {
            out[h_start] |= HEADER_PQ_MIX_BIT;
        }
        out.extend_from_slice(&self.pn.to_be_bytes());
        out.extend_from_slice(&chain.n.to_be_bytes());
        let hdr_tag = seal_in_place(
            &hks.0,
            &keys.header_nonce,
            &header_ad(self.direction, &self.th),
            &mut out[h_start..],
        )
        .map_err(|_| EncryptError::NotReady)?;
        out.extend_from_slice(&hdr_tag);

        let body_start = out.len();
        match &trailer {
            Some(t) => pad_with_trailer_into(plaintext, t, out),
            None => pad_into(plaintext, out),
        }
        let (head, body) = out.split_at_mut(body_start);
        let header_wire = &head[start + 2..];
        let tag = with_body_ad(self.direction, &self.th, header_wire, user_ad, |ad| {
            seal_in_place(&keys.key, &keys.body_nonce, ad, body)
        })?
        .map_err(|_| EncryptError::NotReady)?;
        out.extend_from_slice(&tag);

        if let Some(chain) = self.send.as_mut() {
            chain.ck = next_ck;
            chain.n += 1;
        }
        if let Some(pq) = self.pq.as_mut() {
            if trailer.is_some() {
                pq.trailer_sent();
            }
            pq.count_message();
        }
        Ok(())
    }

    /// Tries one header key; `Ok(None)` if the header does not authenticate under it.
    fn try_header(
        &self,
        hk: &HeaderKey,
        nonce: &[u8; NONCE_LEN],
        sealed: &[u8; HEADER_PLAINTEXT_LEN + TAG_LEN],
    ) -> Result<Option<Header>, DecryptError> {
        #[cfg(test)]
        tests::HEADER_TRIALS.with(|c| c.set(c.get() + 1));
        let mut buf = [0u8; HEADER_PLAINTEXT_LEN];
        buf.copy_from_slice(&sealed[..HEADER_PLAINTEXT_LEN]);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&sealed[HEADER_PLAINTEXT_LEN..]);
        let ad = header_ad(self.peer_direction, &self.th);
        if open_in_place(&hk.0, nonce, &ad, &mut buf, &tag).is_err() {
            return Ok(None);
        }
        // The header authenticated, so its sender holds the header key: a
        // malformed one is a protocol violation, not noise.
        let mixed = self.pq.is_some() && buf[0] == KEY_TYPE_X25519 | HEADER_PQ_MIX_BIT;
        if buf[0] != KEY_TYPE_X25519 && !mixed {
            return Err(DecryptError::MalformedHeader);
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&buf[1..33]);
        let pn = u32::from_be_bytes([buf[33], buf[34], buf[35], buf[36]]);
        let n = u32::from_be_bytes([buf[37], buf[38], buf[39], buf[40]]);
        Ok(Some(Header {
            ratchet_key: X25519Public::from_bytes(key),
            pn,
            n,
            mixed,
        }))
    }

    fn plan_current(&self, h: &Header) -> Result<(Plan, MessageKeySeed), DecryptError> {
        let recv = self.recv.as_ref().ok_or(DecryptError::MalformedHeader)?;
        if h.ratchet_key != recv.ratchet_key {
            return Err(DecryptError::MalformedHeader);
        }
        if h.n < recv.n {
            return Err(DecryptError::DuplicateMessage);
        }
        if h.n - recv.n > MAX_SKIP {
            return Err(DecryptError::TooFarAhead { skip: h.n - recv.n });
        }
        let (skipped, ck) = skip_keys(&recv.ck, recv.n, h.n);
        let (mk, ck) = ck.step();
        let n = h.n.checked_add(1).ok_or(DecryptError::CounterOverflow)?;
        Ok((Plan::Current { ck, n, skipped }, mk))
    }

    fn plan_step(&self, h: &Header) -> Result<(Plan, MessageKeySeed), DecryptError> {
        // Bounds first, before any key is derived.
        let skipped_old_count = match &self.recv {
            Some(r) if h.pn > r.n => h.pn - r.n,
            _ => 0,
        };
        if skipped_old_count > MAX_SKIP {
            return Err(DecryptError::TooFarAhead {
                skip: skipped_old_count,
            });
        }
        if h.n > MAX_SKIP {
            return Err(DecryptError::TooFarAhead { skip: h.n });
        }
        let n_next = h.n.checked_add(1).ok_or(DecryptError::CounterOverflow)?;
        let skipped_old = match &self.recv {
            Some(r) if skipped_old_count > 0 => skip_keys(&r.ck, r.n, h.pn).0,
            _ => Vec::new(),
        };
        let mix = if h.mixed {
            let pq = self.pq.as_ref().ok_or(PqError::NotEnabled)?;
            Some(pq.receiving_mix()?)
        } else {
            None
        };
        let dh = self
            .dhs
            .diffie_hellman(&h.ratchet_key)
            .map_err(|_| DecryptError::LowOrderRatchetKey)?;
        let (root, ckr, nhkr) = match mix {
            Some(ss) => self.root.step_pq(&dh, &ss.0),
            None => self.root.step(&dh),
        };
        let (skipped_new, ck) = skip_keys(&ckr, 0, h.n);
        let (mk, ck) = ck.step();
        Ok((
            Plan::Step {
                root,
                recv: ReceivingChain {
                    ck,
                    n: n_next,
                    hk: self.nhkr.clone(),
                    ratchet_key: h.ratchet_key,
                },
                nhkr,
                skipped_old,
                skipped_new,
                mixed: h.mixed,
            },
            mk,
        ))
    }

    /// Decrypts a ratchet message (its complete wire bytes). On any error the
    /// state is unchanged.
    pub(crate) fn decrypt(&mut self, wire: &[u8], user_ad: &[u8]) -> Result<Vec<u8>, DecryptError> {
        let mut r = Reader::new(wire);
        r.version()?;
        match r.u8("message type")? {
            MSG_TYPE_RATCHET => {}
            other => return Err(DecodeError::UnknownType(other).into()),
        }
        let header_wire: &[u8] = &wire[2..wire.len().min(2 + HEADER_WIRE_LEN)];
        let nonce = *r.array::<NONCE_LEN>("header nonce")?;
        let sealed = *r.array::<{ HEADER_PLAINTEXT_LEN + TAG_LEN }>("encrypted header")?;
        let body = r.rest();
        if body.len() < TAG_LEN || !is_valid_padded_len(body.len() - TAG_LEN) {
            return Err(DecodeError::InvalidLength {
                field: "message body",
                len: body.len(),
            }
            .into());
        }

        // Phase 1: find the header key (at most MAX_HEADER_TRIALS trials) and plan.
        let mut found: Option<(Plan, MessageKeySeed)> = None;
        let mut current_tried = false;
        for (idx, chain) in self.skipped.chains().enumerate() {
            let is_current = self.recv.as_ref().is_some_and(|r| r.hk == chain.header_key);
            current_tried |= is_current;
            if let Some(h) = self.try_header(&chain.header_key, &nonce, &sealed)? {
                found = Some(if let Some(mk) = self.skipped.find(idx, h.n) {
                    (Plan::Skipped { chain: idx, n: h.n }, mk.clone())
                } else if is_current {
                    self.plan_current(&h)?
                } else {
                    return Err(DecryptError::DuplicateMessage);
                });
                break;
            }
        }
        if found.is_none()
            && !current_tried
            && let Some(recv) = &self.recv
            && let Some(h) = self.try_header(&recv.hk, &nonce, &sealed)?
        {
            found = Some(self.plan_current(&h)?);
        }
        if found.is_none()
            && let Some(h) = self.try_header(&self.nhkr, &nonce, &sealed)?
        {
            found = Some(self.plan_step(&h)?);
        }
        let (plan, seed) = found.ok_or(DecryptError::HeaderNotDecryptable)?;

        // Phase 2: authenticate and decrypt the body into a fresh buffer.
        let keys = seed.expand();
        let (ct, tag) = body.split_at(body.len() - TAG_LEN);
        let mut tag_arr = [0u8; TAG_LEN];
        tag_arr.copy_from_slice(tag);
        let mut plaintext = ct.to_vec();
        let opened = with_body_ad(self.peer_direction, &self.th, header_wire, user_ad, |ad| {
            open_in_place(&keys.key, &keys.body_nonce, ad, &mut plaintext, &tag_arr)
        })
        .map_err(|_| DecryptError::AuthenticationFailed)?;
        if opened.is_err() {
            plaintext.zeroize();
            return Err(DecryptError::AuthenticationFailed);
        }
        let unpadded = match &self.pq {
            Some(_) => unpad_with_trailer(&plaintext),
            None => unpadded_len(&plaintext).map(|l| (l, None)),
        };
        let Some((len, trailer)) = unpadded.filter(|&(l, _)| l <= MAX_PLAINTEXT_LEN) else {
            plaintext.zeroize();
            return Err(DecryptError::InvalidPadding);
        };
        // Plan what the chunk changes (it is judged after the step's mix).
        let mixed = matches!(plan, Plan::Step { mixed: true, .. });
        let update = match (&self.pq, trailer) {
            (Some(pq), Some(t)) => match pq.plan_receive(&Chunk::parse(t), mixed) {
                Ok(u) => u,
                Err(e) => {
                    plaintext.zeroize();
                    return Err(e.into());
                }
            },
            _ => PqUpdate::Nothing,
        };
        plaintext.truncate(len);

        // Phase 3: commit.
        self.commit(plan);
        if let Some(pq) = self.pq.as_mut() {
            pq.apply(mixed, update);
        }
        Ok(plaintext)
    }

    fn commit(&mut self, plan: Plan) {
        match plan {
            Plan::Skipped { chain, n } => self.skipped.remove(chain, n),
            Plan::Current { ck, n, skipped } => {
                if let Some(recv) = self.recv.as_mut() {
                    let hk = recv.hk.clone();
                    recv.ck = ck;
                    recv.n = n;
                    self.skipped.insert(&hk, skipped);
                }
            }
            Plan::Step {
                root,
                recv,
                nhkr,
                skipped_old,
                skipped_new,
                mixed: _,
            } => {
                if let Some(old) = &self.recv {
                    let hk = old.hk.clone();
                    self.skipped.insert(&hk, skipped_old);
                }
                if let Some(send) = self.send.take() {
                    self.pn = send.n;
                }
                // The ratchet secret has done its last work: the next
                // sending step draws a fresh one, and no receiving step can
                // come before it. Erase it now, so a responder's session
                // never holds its signed prekey secret past the first
                // message (SPEC.md, section 8.9.6).
                self.dhs = X25519Secret::from_bytes([0; 32]);
                self.hks = Some(self.nhks.clone());
                self.dhr = Some(recv.ratchet_key);
                let hk = recv.hk.clone();
                self.recv = Some(recv);
                self.nhkr = nhkr;
                self.root = root;
                self.skipped.insert(&hk, skipped_new);
            }
        }
    }
}

impl RatchetState {
    /// Appends every field of the state in a fixed order (used for the state
    /// digest; the basis of the storage format).
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(self.direction);
        out.push(self.peer_direction);
        out.extend_from_slice(&self.th);
        out.extend_from_slice(&self.root.0);
        out.extend_from_slice(&self.dhs.to_bytes());
        match &self.dhr {
            Some(k) => {
                out.push(1);
                out.extend_from_slice(k.as_bytes());
            }
            None => out.push(0),
        }
        match &self.send {
            Some(c) => {
                out.push(1);
                out.extend_from_slice(&c.ck.0);
                out.extend_from_slice(&c.n.to_be_bytes());
            }
            None => out.push(0),
        }
        match &self.hks {
            Some(k) => {
                out.push(1);
                out.extend_from_slice(&k.0);
            }
            None => out.push(0),
        }
        out.extend_from_slice(&self.nhks.0);
        match &self.recv {
            Some(c) => {
                out.push(1);
                out.extend_from_slice(&c.ck.0);
                out.extend_from_slice(&c.n.to_be_bytes());
                out.extend_from_slice(&c.hk.0);
                out.extend_from_slice(c.ratchet_key.as_bytes());
            }
            None => out.push(0),
        }
        out.extend_from_slice(&self.nhkr.0);
        out.extend_from_slice(&self.pn.to_be_bytes());
        out.extend_from_slice(&(self.skipped.chain_count() as u32).to_be_bytes());
        for chain in self.skipped.chains() {
            out.extend_from_slice(&chain.header_key.0);
            out.extend_from_slice(&(chain.keys.len() as u32).to_be_bytes());
            for (n, mk) in &chain.keys {
                out.extend_from_slice(&n.to_be_bytes());
                out.extend_from_slice(&mk.0);
            }
        }
        match &self.pq {
            Some(pq) => {
                out.push(1);
                pq.encode_into(out);
            }
            None => out.push(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::constants::{MAX_HEADER_TRIALS, MAX_SKIPPED_CHAINS};
    use crate::keys::{IdentityKeyPair, PreKeyStore};
    use crate::ratchet::keys::ChainKey;
    use crate::session::Session;
    use rand::SeedableRng;

    thread_local! {
        pub(super) static HEADER_TRIALS: Cell<usize> = const { Cell::new(0) };
    }

    fn pair() -> (Session, Session, rand_chacha::ChaCha20Rng) {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(99);
        let c_id = IdentityKeyPair::generate(&mut rng);
        let b_id = IdentityKeyPair::generate(&mut rng);
        let mut store = PreKeyStore::new(&b_id, 1, 1, &mut rng);
        let mut c = Session::initiate(&c_id, &store.bundle(), &mut rng).unwrap();
        let m = c.encrypt_with_rng(b"a", b"", &mut rng).unwrap();
        let (mut b, _) = Session::respond(&mut store, &m, b"").unwrap();
        let m = b.encrypt_with_rng(b"b", b"", &mut rng).unwrap();
        c.decrypt(&m, b"").unwrap();
        (c, b, rng)
    }

    #[test]
    fn huge_message_number_is_refused_before_any_key_is_derived() {
        for n in [u32::MAX - 1, u32::MAX / 2, MAX_SKIP + 2] {
            let (mut c, mut b, mut rng) = pair();
            let first = c.encrypt_with_rng(b"s", b"", &mut rng).unwrap();
            b.decrypt(&first, b"").unwrap();
            c.state_mut().send.as_mut().unwrap().n = n;
            let m = c.encrypt_with_rng(b"x", b"", &mut rng).unwrap();
            let before = b.state_digest();
            let err = b.decrypt(&m, b"").unwrap_err();
            assert!(
                matches!(err, DecryptError::TooFarAhead { skip } if skip >= n - 1),
                "{err:?}"
            );
            assert_eq!(b.state_digest(), before);
        }
    }

    #[test]
    fn huge_previous_chain_length_is_refused() {
        let (mut c, mut b, mut rng) = pair();
        let m = b.encrypt_with_rng(b"x", b"", &mut rng).unwrap();
        c.decrypt(&m, b"").unwrap();
        // c's next message starts a new chain and claims an enormous PN.
        c.state_mut().send = None;
        c.state_mut().pn = u32::MAX;
        let m = c.encrypt_with_rng(b"y", b"", &mut rng).unwrap();
        let before = b.state_digest();
        let err = b.decrypt(&m, b"").unwrap_err();
        assert!(matches!(err, DecryptError::TooFarAhead { .. }), "{err:?}");
        assert_eq!(b.state_digest(), before);
    }

    #[test]
    fn exhausted_sending_chain_is_refused() {
        let (mut c, _b, mut rng) = pair();
        c.encrypt_with_rng(b"s", b"", &mut rng).unwrap();
        c.state_mut().send.as_mut().unwrap().n = u32::MAX;
        let before = c.state_digest();
        assert_eq!(
            c.encrypt_with_rng(b"x", b"", &mut rng),
            Err(EncryptError::ChainExhausted)
        );
        assert_eq!(c.state_digest(), before);
    }

    #[test]
    fn garbage_costs_at_most_max_header_trials() {
        let (mut c, mut b, mut rng) = pair();
        // Fill b's skipped store with the maximum number of chains.
        for _ in 0..MAX_SKIPPED_CHAINS + 2 {
            let _lost = c.encrypt_with_rng(b"lost", b"", &mut rng).unwrap();
            let m = c.encrypt_with_rng(b"kept", b"", &mut rng).unwrap();
            b.decrypt(&m, b"").unwrap();
            let r = b.encrypt_with_rng(b"r", b"", &mut rng).unwrap();
            c.decrypt(&r, b"").unwrap();
        }
        assert_eq!(b.state_mut().skipped.chain_count(), MAX_SKIPPED_CHAINS);
        let genuine = c.encrypt_with_rng(b"z", b"", &mut rng).unwrap();
        let mut garbage = genuine.clone();
        garbage[30] ^= 0xFF;
        HEADER_TRIALS.with(|t| t.set(0));
        assert_eq!(
            b.decrypt(&garbage, b""),
            Err(DecryptError::HeaderNotDecryptable)
        );
        let trials = HEADER_TRIALS.with(Cell::get);
        assert!(trials <= MAX_HEADER_TRIALS, "{trials} trials");
        assert!(
            trials >= MAX_SKIPPED_CHAINS,
            "{trials} trials: every key was tried"
        );
    }

    // ---- The post-quantum ratchet (SPEC.md, section 16).

    /// Sends `n` messages from `from` to `to`, delivering those `keep` allows.
    fn send_n(
        from: &mut Session,
        to: &mut Session,
        n: usize,
        rng: &mut rand_chacha::ChaCha20Rng,
        keep: impl Fn(usize) -> bool,
    ) {
        for i in 0..n {
            let m = from.encrypt_with_rng(b"hello there", b"", rng).unwrap();
            if keep(i) {
                assert_eq!(to.decrypt(&m, b"").unwrap(), b"hello there");
            }
        }
    }

    #[test]
    fn epochs_complete_in_both_directions() {
        let (mut c, mut b, mut rng) = pair();
        assert!(c.pq_status().enabled && b.pq_status().enabled);
        for round in 0..30 {
            send_n(&mut c, &mut b, 6, &mut rng, |_| true);
            send_n(&mut b, &mut c, 6, &mut rng, |_| true);
            let (ce, be) = (
                c.pq_status().epochs_completed,
                b.pq_status().epochs_completed,
            );
            assert!(ce.abs_diff(be) <= 1, "round {round}: {ce} vs {be}");
        }
        assert!(c.pq_status().epochs_completed >= 3, "{:?}", c.pq_status());
        assert!(b.pq_status().epochs_completed >= 3, "{:?}", b.pq_status());
        // Both have mixed the same secrets: the roots agree after a round trip.
        send_n(&mut c, &mut b, 1, &mut rng, |_| true);
        send_n(&mut b, &mut c, 1, &mut rng, |_| true);
        assert_eq!(
            c.pq_status().epochs_completed,
            b.pq_status().epochs_completed
        );
    }

    #[test]
    fn lopsided_and_lossy_conversations_complete_epochs() {
        let (mut c, mut b, mut rng) = pair();
        // The business sends ten messages for each customer message, and a
        // fifth of all messages is lost.
        for round in 0..60usize {
            send_n(&mut b, &mut c, 10, &mut rng, |i| (i + round) % 5 != 0);
            send_n(&mut c, &mut b, 1, &mut rng, |_| round % 5 != 3);
        }
        assert!(c.pq_status().epochs_completed >= 2, "{:?}", c.pq_status());
    }

    #[test]
    fn a_silent_peer_shows_in_the_status() {
        let (mut c, mut b, mut rng) = pair();
        let before = b.pq_status();
        send_n(&mut b, &mut c, 50, &mut rng, |_| true);
        let after = b.pq_status();
        assert_eq!(after.epochs_completed, before.epochs_completed);
        assert_eq!(after.messages_since_epoch, before.messages_since_epoch + 50);
        assert!(after.waiting_for_peer);
    }

    #[test]
    fn a_bad_chunk_changes_nothing() {
        let (mut c, mut b, mut rng) = pair();
        // c owns epoch 1: its messages carry key shards. A flipped bit
        // anywhere fails authentication and leaves b as it was.
        let m = c.encrypt_with_rng(b"x", b"", &mut rng).unwrap();
        for at in [m.len() - 17, m.len() - 40, m.len() - 80] {
            let mut t = m.clone();
            t[at] ^= 1;
            let before = b.state_digest();
            assert_eq!(b.decrypt(&t, b""), Err(DecryptError::AuthenticationFailed));
            assert_eq!(b.state_digest(), before);
        }
        assert!(b.decrypt(&m, b"").is_ok());
        // An authenticated chunk naming a future epoch, or an out-of-range
        // shard, is refused without any change.
        for (epoch, index, err) in [
            (9u32, 0u8, PqError::UnexpectedChunk { epoch: 9 }),
            (1, 200, PqError::ShardIndex { index: 200 }),
        ] {
            let mut forged = c.state_mut().clone();
            if let Some(crate::ratchet::pq::PqRatchet {
                epoch: e,
                phase: crate::ratchet::pq::Phase::OwnerSending { next, .. },
                ..
            }) = forged.pq.as_mut()
            {
                *e = epoch - 1;
                *next = u32::from(index);
            }
            let mut out = Vec::new();
            let r = forged.encrypt(b"y", b"", &mut rng, &mut out);
            r.unwrap();
            if index >= 38 {
                // next_trailer wraps the index: patch it in by re-sealing is
                // impossible, so build the chunk check directly.
                let mut t = [0u8; crate::constants::PQ_TRAILER_LEN];
                t[..4].copy_from_slice(&1u32.to_be_bytes());
                t[4] = index;
                t[crate::constants::PQ_TRAILER_LEN - 1] = crate::constants::PQ_CHUNK_EK;
                let pq = b.state_mut().pq.clone().unwrap();
                assert!(matches!(
                    pq.plan_receive(&Chunk::parse(&t), false),
                    Err(e) if e == err
                ));
                continue;
            }
            let before = b.state_digest();
            assert_eq!(b.decrypt(&out, b""), Err(DecryptError::PostQuantum(err)));
            assert_eq!(b.state_digest(), before);
        }
    }

    #[test]
    fn the_pq_ratchet_cannot_be_turned_off() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let c_id = IdentityKeyPair::generate(&mut rng);
        let b_id = IdentityKeyPair::generate(&mut rng);
        let mut store = PreKeyStore::new(&b_id, 1, 1, &mut rng);
        let mut c = Session::initiate(&c_id, &store.bundle(), &mut rng).unwrap();
        let m = c.encrypt_with_rng(b"a", b"", &mut rng).unwrap();
        // A responder hashing any other feature byte (one that would run
        // without the ML-KEM ratchet) derives another transcript: the
        // handshake fails and consumes nothing.
        for features in [0x00, 0x02, 0xFF] {
            assert_eq!(
                Session::respond_with_features(&mut store, &m, b"", features).unwrap_err(),
                crate::error::HandshakeError::Decrypt(DecryptError::HeaderNotDecryptable)
            );
        }
        let (mut b, _) = Session::respond(&mut store, &m, b"").unwrap();
        assert!(b.pq_status().enabled);
        // After the handshake nobody but the peer can touch a chunk or the
        // mix flag (both are encrypted and authenticated), and the peer
        // cannot claim a mix that is not pending.
        let r = b.encrypt_with_rng(b"b", b"", &mut rng).unwrap();
        c.decrypt(&r, b"").unwrap();
        let mut liar = c.state_mut().clone();
        liar.pq.as_mut().unwrap().phase = crate::ratchet::pq::Phase::OwnerReady {
            ss: crate::ratchet::pq::EpochSecret([7; 32]),
        };
        let mut out = Vec::new();
        liar.encrypt(b"z", b"", &mut rng, &mut out).unwrap();
        let before = b.state_digest();
        assert_eq!(
            b.decrypt(&out, b""),
            Err(DecryptError::PostQuantum(PqError::UnexpectedMix))
        );
        assert_eq!(b.state_digest(), before);
    }

    /// Opens a body with a given message key seed, as an attacker who
    /// derived it would.
    fn try_open(wire: &[u8], seed: &MessageKeySeed, sender_dir: u8, th: &[u8; 32]) -> bool {
        let keys = seed.expand();
        let header_wire = &wire[2..2 + HEADER_WIRE_LEN];
        let body = &wire[2 + HEADER_WIRE_LEN..];
        let (ct, tag) = body.split_at(body.len() - TAG_LEN);
        let mut buf = ct.to_vec();
        let tag: [u8; TAG_LEN] = tag.try_into().unwrap();
        with_body_ad(sender_dir, th, header_wire, b"", |ad| {
            open_in_place(&keys.key, &keys.body_nonce, ad, &mut buf, &tag).is_ok()
        })
        .unwrap()
    }

    fn nth_seed(ck: &ChainKey, n: u32) -> MessageKeySeed {
        let (_, ck) = skip_keys(ck, 0, n);
        ck.step().0
    }

    /// The key test (SPEC.md 16.10): an attacker who knows the root key
    /// before an epoch completed and every X25519 secret of both sides
    /// recomputes the DH ratchet and still cannot derive the keys of any
    /// message after the epoch; with the ML-KEM secret, the same
    /// recomputation succeeds.
    #[test]
    fn x25519_secrets_alone_do_not_reach_messages_after_an_epoch() {
        let (mut c, mut b, mut rng) = pair();
        let th = c.transcript_hash();
        // Run until c (owner of epoch 1) has decapsulated and waits to mix.
        let mut guard = 0;
        while c.state_mut().pq.as_ref().unwrap().sending_mix().is_none() {
            send_n(&mut c, &mut b, 1, &mut rng, |_| true);
            send_n(&mut b, &mut c, 1, &mut rng, |_| true);
            guard += 1;
            assert!(guard < 100, "epoch 1 never reached the mix");
        }
        // What the attacker learns: the root key before the epoch's step and
        // c's X25519 ratchet secret for it (it draws it from a known rng).
        let rk_before = c.state_mut().root.clone();
        let ss = c.state_mut().pq.as_ref().unwrap().sending_mix().unwrap().0;
        let b_ratchet = c.state_mut().dhr.unwrap();
        let mut rng_copy = rng.clone();
        let c_secret = X25519Secret::generate(&mut rng_copy);
        let mixing = c
            .encrypt_with_rng(b"after the epoch", b"", &mut rng)
            .unwrap();
        assert_eq!(c.pq_status().epochs_completed, 1);
        assert_eq!(c.state_mut().dhs.to_bytes(), c_secret.to_bytes());
        let dh = c_secret.diffie_hellman(&b_ratchet).unwrap();
        // DH-only recomputation: wrong keys.
        let (rk_dh_only, ck_dh_only, _) = rk_before.step(&dh);
        assert!(!try_open(
            &mixing,
            &nth_seed(&ck_dh_only, 0),
            c.state_mut().direction,
            &th
        ));
        // With the ML-KEM secret it is right (the recomputation is faithful).
        let (rk_true, ck_true, _) = rk_before.step_pq(&dh, &ss);
        assert!(try_open(
            &mixing,
            &nth_seed(&ck_true, 0),
            c.state_mut().direction,
            &th
        ));
        assert!(b.decrypt(&mixing, b"").is_ok());
        assert_eq!(b.pq_status().epochs_completed, 1);

        // The next DH steps: the attacker knows every new X25519 secret too
        // (b's and c's), and keeps failing; the true chain keeps working.
        let mut rk_attacker = rk_dh_only;
        let mut rk_real = rk_true;
        let mut c_dh = c_secret;
        for turn in 0..4 {
            let (sender, receiver) = if turn % 2 == 0 {
                (&mut b, &mut c)
            } else {
                (&mut c, &mut b)
            };
            let peer_pub = sender.state_mut().dhr.unwrap();
            let mut peek = rng.clone();
            let fresh = X25519Secret::generate(&mut peek);
            let msg = sender.encrypt_with_rng(b"later", b"", &mut rng).unwrap();
            assert_eq!(sender.state_mut().dhs.to_bytes(), fresh.to_bytes());
            let dir = sender.state_mut().direction;
            let dh = fresh.diffie_hellman(&peer_pub).unwrap();
            // The receiver side's step input (the attacker mirrors both).
            let _ = &c_dh;
            let (rk_a, ck_a, _) = rk_attacker.step(&dh);
            assert!(
                !try_open(&msg, &nth_seed(&ck_a, 0), dir, &th),
                "turn {turn}"
            );
            let (rk_r, ck_r, _) = rk_real.step(&dh);
            assert!(try_open(&msg, &nth_seed(&ck_r, 0), dir, &th), "turn {turn}");
            assert!(receiver.decrypt(&msg, b"").is_ok());
            rk_attacker = rk_a;
            rk_real = rk_r;
            c_dh = fresh;
        }
    }
}

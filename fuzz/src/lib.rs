//! Deterministic fixtures shared by the Hotline fuzz targets and by the seed
//! generator (`examples/gen_seeds.rs`).
//!
//! Every key, session and message here is derived from fixed seeds, so the
//! seeds the generator writes are genuine messages *of exactly the sessions
//! the targets build*: a seed that decrypted when it was written decrypts in
//! the target, and the fuzzer starts from inputs that reach the deep code
//! (header trial decryption, skipped keys, DH steps, handshake key lookups)
//! instead of bouncing off the first length check.
//!
//! If the protocol changes (a KDF label, a layout), the committed seeds still
//! parse but stop decrypting; regenerate them (see `fuzz/README.md`).

use std::sync::OnceLock;

pub mod reseal;

use hotline::constants::{
    SIG_CTX_IDENTITY, SIG_CTX_KEM_PREKEY, SIG_CTX_ONE_TIME_PREKEY, SIG_CTX_SIGNED_PREKEY,
};
use hotline::hazmat::ed25519::Ed25519Secret;
use hotline::store::StorageKey;
use hotline::{IdentityKeyPair, PreKeyBundle, PreKeyStore, Session};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

pub mod certs;
pub mod relay;

/// The associated data every genuine message is sent with.
pub const AD: &[u8] = b"hotline-fuzz envelope v1";

const CUSTOMER_ED25519_SEED: [u8; 32] = [0x11; 32];
const CUSTOMER_X25519_SECRET: [u8; 32] = [0x22; 32];
const BUSINESS_ED25519_SEED: [u8; 32] = [0x33; 32];
const BUSINESS_X25519_SECRET: [u8; 32] = [0x44; 32];

const STORE_SEED: u64 = 0x5EED_0001;
const OWN_STORE_SEED: u64 = 0x5EED_0002;
const CUSTOMER_RNG_SEED: u64 = 0x5EED_0010;
const BUSINESS_RNG_SEED: u64 = 0x5EED_0020;
const INITIAL_RNG_SEEDS: [u64; 3] = [0x5EED_0100, 0x5EED_0101, 0x5EED_0102];
/// Seed of the RNG `bundle_verify` initiates sessions with.
/// The storage key of the `store_restore` target and its seeds.
pub const STORE_KEY: [u8; 32] = [0x5a; 32];

pub const BUNDLE_RNG_SEED: u64 = 0x5EED_0200;

/// A ChaCha20 RNG from a fixed seed.
pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// The customer's (initiator's) identity.
pub fn customer() -> &'static IdentityKeyPair {
    static ID: OnceLock<IdentityKeyPair> = OnceLock::new();
    ID.get_or_init(|| {
        IdentityKeyPair::from_secret_bytes(&CUSTOMER_ED25519_SEED, &CUSTOMER_X25519_SECRET)
    })
}

/// The business's (responder's) identity.
pub fn business() -> &'static IdentityKeyPair {
    static ID: OnceLock<IdentityKeyPair> = OnceLock::new();
    ID.get_or_init(|| {
        IdentityKeyPair::from_secret_bytes(&BUSINESS_ED25519_SEED, &BUSINESS_X25519_SECRET)
    })
}

/// The business identity's Ed25519 signing key (the same key
/// [`business`] signs with), for re-signing fuzzed bundles.
pub fn business_signer() -> Ed25519Secret {
    Ed25519Secret::from_seed(&BUSINESS_ED25519_SEED)
}

/// A fresh copy of the business's prekey store: signed prekey 1, last-resort
/// KEM prekey 2, one-time X25519 prekeys 3 and 4, one-time KEM prekeys 5 and 6.
/// Built once (ML-KEM key generation is the expensive part) and cloned.
pub fn business_store() -> PreKeyStore {
    static STORE: OnceLock<PreKeyStore> = OnceLock::new();
    STORE
        .get_or_init(|| PreKeyStore::new(business(), 2, 2, &mut rng(STORE_SEED)))
        .clone()
}

/// A genuine initial message.
pub struct Initial {
    /// Short name (used as the seed file name).
    pub name: &'static str,
    /// The wire bytes.
    pub bytes: Vec<u8>,
    /// The first plaintext it carries.
    pub plaintext: Vec<u8>,
}

/// Genuine bundles and initial messages of the business, built once.
pub struct Fixtures {
    /// Bundles the business's store can answer, by name.
    pub bundles: Vec<(&'static str, PreKeyBundle)>,
    /// A bundle of the customer's own (initiating with it must fail: same identity).
    pub own_bundle: PreKeyBundle,
    /// One genuine initial message per bundle in `bundles`, each acceptable
    /// by a fresh [`business_store`].
    pub initials: Vec<Initial>,
}

/// An initial message from [`customer`] to the owner of `bundle`.
fn initial_for(name: &'static str, bundle: &PreKeyBundle, seed: u64, plaintext: &[u8]) -> Initial {
    let mut r = rng(seed);
    let mut s = Session::initiate(customer(), bundle, &mut r).expect("initiate from own fixtures");
    Initial {
        name,
        bytes: s.encrypt_with_rng(plaintext, AD, &mut r).expect("encrypt"),
        plaintext: plaintext.to_vec(),
    }
}

/// The shared fixtures.
pub fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let store = business_store();
        let first = store.bundle();
        let no_otk = PreKeyBundle::new(
            *first.identity(),
            *first.signed_prekey(),
            None,
            store.last_resort_kem_prekey(),
        )
        .expect("own prekeys verify");
        let a = initial_for(
            "initial_otk3_kem5",
            &first,
            INITIAL_RNG_SEEDS[0],
            b"first, otk 3",
        );
        let b = initial_for(
            "initial_no_otk_last_resort",
            &no_otk,
            INITIAL_RNG_SEEDS[1],
            b"no one-time prekey, last-resort KEM",
        );
        // Consume prekeys 3 and 5 in a scratch copy to reach the next bundle.
        let mut scratch = store.clone();
        Session::respond(&mut scratch, &a.bytes, AD).expect("own initial message accepted");
        let second = scratch.bundle();
        let c = initial_for(
            "initial_otk4_kem6",
            &second,
            INITIAL_RNG_SEEDS[2],
            &[0x5a; 150], // longer than the padding floor
        );
        let own_bundle = PreKeyStore::new(customer(), 1, 1, &mut rng(OWN_STORE_SEED)).bundle();
        Fixtures {
            bundles: vec![
                ("bundle_otk3_kem5", first),
                ("bundle_no_otk_last_resort", no_otk),
                ("bundle_otk4_kem6", second),
            ],
            own_bundle,
            initials: vec![a, b, c],
        }
    })
}

/// One side of the established session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    /// The initiator of the established session.
    Customer,
    /// The responder of the established session.
    Business,
    /// The initiator of a second session that is still waiting for the
    /// business's first reply (it still sends initial messages, has no
    /// receiving chain and no skipped keys).
    Awaiting,
}

impl Party {
    /// Every party, in the order `session_decrypt` checks them.
    pub const ALL: [Self; 3] = [Self::Customer, Self::Business, Self::Awaiting];
}

/// A genuine message of the established session.
#[derive(Clone, Debug)]
pub struct Msg {
    /// Short name (used as the seed file name).
    pub label: &'static str,
    /// The receiver.
    pub to: Party,
    /// The wire bytes (sent with [`AD`]).
    pub bytes: Vec<u8>,
    /// What it decrypts to.
    pub plaintext: Vec<u8>,
    /// Whether the receiver has decrypted it.
    pub delivered: bool,
}

/// An established session pair with messages exchanged both ways, out of
/// order, so both sides hold skipped keys, and with one genuine "next"
/// message from each side not yet delivered.
///
/// The script (deterministic; `*` = delivered):
///
/// 1. customer sends initial messages `i0`, `i1*`; the business responds
///    from `i1` (so `i0`'s key is a skipped key of the first chain);
/// 2. business sends `r0*`, `r1`, `r2*` (`r2` longer than the padding floor);
/// 3. customer sends `m0`, `m1*` (a DH step; `m0` becomes a skipped key);
/// 4. business sends `r3*` (a DH step; `r1` stays skipped on the old chain);
/// 5. business sends `r4_next`, customer sends `m2_next` (a DH step).
///
/// Undelivered: to the business `i0`, `m0`, `m2_next`; to the customer `r1`,
/// `r4_next`.
///
/// Besides, a second customer session (`Awaiting`, from the bundle without a
/// one-time prekey) has sent `a_i0`, which the business accepted and answered
/// with `a_r0` and `a_r1`; neither reply is delivered yet. Only the awaiting
/// side is kept live; the replies are computed once and cached.
pub struct Established {
    customer: Slot,
    business: Slot,
    awaiting: Slot,
    customer_rng: ChaCha20Rng,
    business_rng: ChaCha20Rng,
    /// Every message sent, in order.
    pub messages: Vec<Msg>,
}

impl Default for Established {
    fn default() -> Self {
        Self::new()
    }
}

/// A session of [`Established`]: live, or still in its stored form
/// (SPEC.md 15.6) until first used, so an input that reaches one session
/// restores only that one.
enum Slot {
    Live(Box<Session>),
    Stored(&'static [u8]),
}

impl Slot {
    fn get(&mut self) -> &mut Session {
        if let Slot::Stored(record) = *self {
            let key = StorageKey::from_bytes(STORE_KEY);
            *self = Slot::Live(Box::new(
                Session::from_pickle(record, &key).expect("own snapshot restores"),
            ));
        }
        match self {
            Slot::Live(s) => s,
            Slot::Stored(_) => unreachable!("restored above"),
        }
    }
}

/// [`Established`] as the script leaves it, with its sessions stored, so
/// each input starts from restored copies instead of running the
/// handshakes and DH steps again.
struct Snapshot {
    sessions: [Vec<u8>; 3],
    customer_rng: ChaCha20Rng,
    business_rng: ChaCha20Rng,
    messages: Vec<Msg>,
}

const SNAPSHOT_RNG_SEED: u64 = 0x5EED_0040;

impl Snapshot {
    fn get() -> &'static Self {
        static S: OnceLock<Snapshot> = OnceLock::new();
        S.get_or_init(|| {
            let key = StorageKey::from_bytes(STORE_KEY);
            let mut r = rng(SNAPSHOT_RNG_SEED);
            let mut est = Established::run_script();
            let snapshot = Snapshot {
                sessions: Party::ALL.map(|p| est.session(p).pickle(&key, &mut r)),
                customer_rng: est.customer_rng.clone(),
                business_rng: est.business_rng.clone(),
                messages: est.messages.clone(),
            };
            // The restored sessions must be the ones the script built.
            for (p, record) in Party::ALL.into_iter().zip(&snapshot.sessions) {
                let (a, b) = (
                    est.session(p),
                    Session::from_pickle(record, &key).expect("restore"),
                );
                assert_eq!(a.state_digest(), b.state_digest(), "restore changed {p:?}");
                assert_eq!(a.peer(), b.peer());
                assert_eq!(a.awaiting_reply(), b.awaiting_reply());
                assert_eq!(a.skipped_key_count(), b.skipped_key_count());
            }
            snapshot
        })
    }

    fn restore(&'static self) -> Established {
        let [customer, business, awaiting] = &self.sessions;
        Established {
            customer: Slot::Stored(customer),
            business: Slot::Stored(business),
            awaiting: Slot::Stored(awaiting),
            customer_rng: self.customer_rng.clone(),
            business_rng: self.business_rng.clone(),
            messages: self.messages.clone(),
        }
    }
}

impl Established {
    /// The state the script above leaves, restored from a snapshot taken
    /// once: running the script costs two handshakes and several DH steps,
    /// restoring a session (done when it is first used) about a third of
    /// a millisecond.
    pub fn new() -> Self {
        Snapshot::get().restore()
    }

    /// Runs the script above.
    pub fn run_script() -> Self {
        let mut store = business_store();
        let mut customer_rng = rng(CUSTOMER_RNG_SEED);
        let business_rng = rng(BUSINESS_RNG_SEED);
        let bundle = &fixtures().bundles[0].1; // == store.bundle(), without re-verifying
        let mut customer =
            Session::initiate(customer(), bundle, &mut customer_rng).expect("initiate");
        let mut messages = Vec::new();
        for (label, pt, delivered) in [
            ("i0", &b"i0: where is my order?"[..], false),
            ("i1", &b"i1: order 1234"[..], true),
        ] {
            let bytes = customer
                .encrypt_with_rng(pt, AD, &mut customer_rng)
                .expect("encrypt");
            messages.push(Msg {
                label,
                to: Party::Business,
                bytes,
                plaintext: pt.to_vec(),
                delivered,
            });
        }
        let (business, pt) = Session::respond(&mut store, &messages[1].bytes, AD).expect("respond");
        assert_eq!(pt, messages[1].plaintext);
        let (awaiting, awaiting_messages) = awaiting_session();
        messages.extend(awaiting_messages.iter().cloned());
        let mut est = Self {
            customer: Slot::Live(Box::new(customer)),
            business: Slot::Live(Box::new(business)),
            awaiting: Slot::Live(Box::new(awaiting)),
            customer_rng,
            business_rng,
            messages,
        };
        est.send(Party::Business, "r0", b"r0: looking it up");
        est.send(Party::Business, "r1", b"r1: one moment");
        est.send(Party::Business, "r2", &[b'r'; 100]);
        est.deliver("r0");
        est.deliver("r2");
        est.send(Party::Customer, "m0", b"m0: thanks");
        est.send(Party::Customer, "m1", b"m1: any news?");
        est.deliver("m1");
        est.send(Party::Business, "r3", b"r3: shipped today");
        est.deliver("r3");
        est.send(Party::Business, "r4_next", b"r4: tracking number follows");
        est.send(Party::Customer, "m2_next", b"m2: great");
        est
    }

    /// The session of `party`.
    pub fn session(&mut self, party: Party) -> &mut Session {
        match party {
            Party::Customer => self.customer.get(),
            Party::Business => self.business.get(),
            Party::Awaiting => self.awaiting.get(),
        }
    }

    fn send(&mut self, from: Party, label: &'static str, plaintext: &[u8]) {
        let (session, r, to) = match from {
            Party::Customer => (self.customer.get(), &mut self.customer_rng, Party::Business),
            Party::Business => (self.business.get(), &mut self.business_rng, Party::Customer),
            Party::Awaiting => unreachable!("the awaiting session only receives"),
        };
        let bytes = session.encrypt_with_rng(plaintext, AD, r).expect("encrypt");
        self.messages.push(Msg {
            label,
            to,
            bytes,
            plaintext: plaintext.to_vec(),
            delivered: false,
        });
    }

    fn deliver(&mut self, label: &str) {
        let i = self
            .messages
            .iter()
            .position(|m| m.label == label)
            .expect("known label");
        self.deliver_index(i);
    }

    fn deliver_index(&mut self, i: usize) {
        let m = &self.messages[i];
        let (to, label, bytes) = (m.to, m.label, m.bytes.clone());
        let pt = self
            .session(to)
            .decrypt(&bytes, AD)
            .unwrap_or_else(|e| panic!("genuine message {label} to {to:?} refused: {e}"));
        assert_eq!(pt, self.messages[i].plaintext, "{label} decrypted wrongly");
        self.messages[i].delivered = true;
    }

    /// Feeds `data` (with `ad`) to `to`'s session and checks the invariants:
    ///
    /// * only an undelivered genuine message (with [`AD`]) is accepted, and it
    ///   decrypts to its plaintext;
    /// * an undelivered genuine message is never refused;
    /// * a refused message leaves the session exactly as it was
    ///   ([`Session::state_digest`] unchanged);
    /// * afterwards every genuine message not yet delivered to `to`, the
    ///   peer's next message and any skipped ones, still decrypts.
    ///
    /// Panics if one does not hold.
    pub fn check_decrypt(&mut self, to: Party, data: &[u8], ad: &[u8]) {
        let genuine = if ad == AD {
            self.messages
                .iter()
                .position(|m| m.to == to && !m.delivered && m.bytes == data)
        } else {
            None
        };
        let session = self.session(to);
        let before = session.state_digest();
        match session.decrypt(data, ad) {
            Ok(pt) => {
                let i = genuine.unwrap_or_else(|| {
                    panic!(
                        "{to:?} accepted {} bytes that are not an undelivered genuine message",
                        data.len()
                    )
                });
                assert_eq!(pt, self.messages[i].plaintext, "wrong plaintext");
                self.messages[i].delivered = true;
            }
            Err(e) => {
                assert_eq!(
                    session.state_digest(),
                    before,
                    "failed decrypt ({e:?}) changed the {to:?} session"
                );
                if let Some(i) = genuine {
                    panic!(
                        "{to:?} refused genuine message {}: {e:?}",
                        self.messages[i].label
                    );
                }
            }
        }
        for i in 0..self.messages.len() {
            if self.messages[i].to == to && !self.messages[i].delivered {
                self.deliver_index(i);
            }
        }
    }
}

const AWAITING_RNG_SEED: u64 = 0x5EED_0030;
const AWAITING_BUSINESS_RNG_SEED: u64 = 0x5EED_0031;

/// A fresh awaiting session, and the business's two replies to it (computed once).
fn awaiting_session() -> (Session, &'static [Msg]) {
    static REPLIES: OnceLock<Vec<Msg>> = OnceLock::new();
    let mut r = rng(AWAITING_RNG_SEED);
    let mut session =
        Session::initiate(customer(), &fixtures().bundles[1].1, &mut r).expect("initiate");
    let first = session
        .encrypt_with_rng(b"a_i0: hello?", AD, &mut r)
        .expect("encrypt");
    assert!(session.awaiting_reply());
    let replies = REPLIES.get_or_init(|| {
        let (mut business, _) =
            Session::respond(&mut business_store(), &first, AD).expect("respond");
        let mut r = rng(AWAITING_BUSINESS_RNG_SEED);
        [
            ("a_r0", &b"a_r0: hello, how can we help?"[..]),
            ("a_r1", b"a_r1: are you there?"),
        ]
        .into_iter()
        .map(|(label, pt)| Msg {
            label,
            to: Party::Awaiting,
            bytes: business.encrypt_with_rng(pt, AD, &mut r).expect("encrypt"),
            plaintext: pt.to_vec(),
            delivered: false,
        })
        .collect()
    });
    (session, replies)
}

/// A genuine message of [`Established`] altered as an input describes:
///
/// ```text
/// byte 0      which message (index into `messages`, modulo their number)
/// byte 1      flags: 1 = wrong associated data (AD || byte 2),
///                    2 = drop the last (byte 2) bytes,
///                    4 = append (byte 2) zero bytes
/// byte 2      amount for the flags
/// then        3-byte edits: position (u16, big-endian, modulo the length),
///             byte to XOR in
/// ```
///
/// Missing bytes read as zero, so every input describes some message.
pub struct Mutation {
    /// Index of the genuine message it started from.
    pub base: usize,
    /// Its receiver.
    pub to: Party,
    /// The altered wire bytes.
    pub bytes: Vec<u8>,
    /// The associated data to decrypt with.
    pub ad: Vec<u8>,
}

impl Mutation {
    /// Applies `data` to the messages of `est`.
    pub fn new(est: &Established, data: &[u8]) -> Self {
        let at = |i: usize| data.get(i).copied().unwrap_or(0);
        let base = usize::from(at(0)) % est.messages.len();
        let (flags, amount) = (at(1), usize::from(at(2)));
        let msg = &est.messages[base];
        let mut bytes = msg.bytes.clone();
        let mut ad = AD.to_vec();
        if flags & 1 != 0 {
            ad.push(at(2));
        }
        if flags & 2 != 0 {
            bytes.truncate(bytes.len().saturating_sub(amount));
        }
        if flags & 4 != 0 {
            bytes.resize(bytes.len() + amount, 0);
        }
        if !bytes.is_empty() {
            for edit in data.get(3..).unwrap_or(&[]).chunks_exact(3) {
                let pos = usize::from(u16::from_be_bytes([edit[0], edit[1]])) % bytes.len();
                bytes[pos] ^= edit[2];
            }
        }
        Self {
            base,
            to: msg.to,
            bytes,
            ad,
        }
    }
}

// Byte layout of an encoded prekey bundle (SPEC.md, "Prekey bundle").
const BUNDLE_IDENTITY: usize = 2; // tag, Ed25519 key, tag, X25519 key, signature
const IDENTITY_SIGNED_LEN: usize = 33 + 33;
const BUNDLE_SIGNED_PREKEY: usize = BUNDLE_IDENTITY + IDENTITY_SIGNED_LEN + 64;
const X25519_PREKEY_SIGNED_LEN: usize = 4 + 33; // id, typed key
const X25519_PREKEY_LEN: usize = X25519_PREKEY_SIGNED_LEN + 64;
const BUNDLE_OTK_FLAG: usize = BUNDLE_SIGNED_PREKEY + X25519_PREKEY_LEN;
const KEM_PREKEY_SIGNED_LEN: usize = 4 + 1 + 1 + hotline::constants::MLKEM768_EK_LEN; // id, kind, typed key

fn sign_at(b: &mut [u8], signer: &Ed25519Secret, ctx: &[u8], off: usize, signed_len: usize) {
    let end = off + signed_len;
    if b.len() >= end + 64 {
        let sig = signer.sign(ctx, &b[off..end]);
        b[end..end + 64].copy_from_slice(&sig);
    }
}

/// Makes a bundle-shaped byte string pass the signature checks: writes the
/// business's Ed25519 key into the identity and re-signs every signed part
/// that fits, leaving every other byte (tags, ids, X25519 and ML-KEM keys,
/// kinds, flags, trailing bytes) as the fuzzer chose it. Re-signing a genuine
/// bundle of the business gives it back unchanged (Ed25519 is deterministic).
pub fn resign_bundle(data: &[u8]) -> Vec<u8> {
    let mut b = data.to_vec();
    let signer = business_signer();
    if b.len() >= BUNDLE_SIGNED_PREKEY {
        b[BUNDLE_IDENTITY + 1..BUNDLE_IDENTITY + 33]
            .copy_from_slice(&signer.public_key().to_bytes());
    }
    sign_at(
        &mut b,
        &signer,
        SIG_CTX_IDENTITY,
        BUNDLE_IDENTITY,
        IDENTITY_SIGNED_LEN,
    );
    sign_at(
        &mut b,
        &signer,
        SIG_CTX_SIGNED_PREKEY,
        BUNDLE_SIGNED_PREKEY,
        X25519_PREKEY_SIGNED_LEN,
    );
    let mut kem = BUNDLE_OTK_FLAG + 1;
    if b.get(BUNDLE_OTK_FLAG) == Some(&1) {
        sign_at(
            &mut b,
            &signer,
            SIG_CTX_ONE_TIME_PREKEY,
            kem,
            X25519_PREKEY_SIGNED_LEN,
        );
        kem += X25519_PREKEY_LEN;
    }
    sign_at(
        &mut b,
        &signer,
        SIG_CTX_KEM_PREKEY,
        kem,
        KEM_PREKEY_SIGNED_LEN,
    );
    b
}

//! The `relay_handle` target: a relay with registered accounts, driven by a
//! short sequence of requests, each checked against a model of SPEC.md
//! section 14 and against invariants that hold whatever the model says.
//!
//! # Fixture
//!
//! Four identities from fixed seeds, picked by the two low bits of each
//! step's control byte:
//!
//! | index | account | at the start |
//! | --- | --- | --- |
//! | 0 | customer A ([`crate::customer`]) | registered (counter 1) |
//! | 1 | business ([`crate::business`]), trusted by the relay's [`AllowList`] | registered with the `chain_valid` certificate chain (counter 1), prekeys uploaded (counter 2): signed prekey 1, last-resort KEM prekey 2, one-time prekeys 3 and 4, one-time KEM prekeys 5 and 6 ([`crate::business_store`]) |
//! | 2 | customer B | registered (counter 1) |
//! | 3 | newcomer, also trusted by the [`AllowList`] | not registered (may register as either kind) |
//!
//! The relay runs over a [`MemoryStore`] with a [`ManualClock`] at
//! [`RELAY_T0`], the small mailbox limits [`LIMITS`] and the small rate
//! limits [`RATES`], so that sequences reach full mailboxes, full sender
//! shares, forgotten message ids, refused bundle fetches and initial
//! messages, and withheld one-time prekeys. A fresh relay is built
//! for every input (through the store's trait, which costs microseconds; the
//! fixture checks once that this is the state the same requests made
//! through [`Relay::handle_request`] leave).
//!
//! # Input
//!
//! A sequence of at most [`MAX_STEPS`] steps, each
//! `control (1) || u16 big-endian length || body`, the body being a request
//! body `op || ...` as in SPEC.md 14.2 (a short last body is taken as it
//! is). The control byte:
//!
//! ```text
//! bits 0-1  signer (table above)
//! bits 2-4  clock step before the request: CLOCK_STEPS[i] seconds
//! bits 5-7  Mode (how the body is submitted)
//! ```
//!
//! Every step first submits the body's bytes as they are, as a whole signed
//! request (so seeds can carry genuine signed requests, and stale or
//! replayed ones), then as [`Mode`] says: signed by the signer at the
//! relay's time with its next counter, after re-signing the objects inside
//! (the registered identity, uploaded prekeys, consent and block records,
//! see [`resign_inner`]) so that fuzzed bodies pass authentication and reach
//! the operations; or with an old counter, a stale or edge timestamp, the
//! largest counter; or a replay of an earlier accepted request.
//!
//! # Checks (every submission)
//!
//! * [`Relay::handle`] does not panic; its reply decodes with
//!   [`Response::decode_result`] and re-encodes to the same bytes;
//! * a refused request changes nothing observable: accounts, prekey counts,
//!   every mailbox (read without side effects), pair states, consent
//!   histories, notification counts and [`RelayStore::dump`] (except that
//!   a refused send may delete envelopes that expired);
//! * a one-time prekey (X25519 or ML-KEM, by owner and id) is handed out at
//!   most once in the whole sequence;
//! * no mailbox ever holds more than [`LIMITS`] allow, in all and from
//!   any one sender;
//! * at most one envelope is stored per request, only by an accepted send,
//!   to its recipient, at the relay's time, exactly as sent;
//! * an envelope from a business reaches a customer's mailbox only if the
//!   requests accepted so far leave the pair unblocked with consent for its
//!   class and, for chat, the customer's last message at most
//!   `CHAT_WINDOW_SECS` ago;
//! * a replayed accepted request (mode 6, and the second submission of
//!   mode 7) is refused;
//! * the answer is the one the model ([`Model`]: SPEC.md 14.1-14.8 and
//!   14.11, with `MemoryStore`'s lazy expiry on enqueue and fetch, token
//!   buckets kept as plain counts of tokens, and the drain counted from a
//!   log of handout times) predicts, and afterwards the store's observable
//!   state is the model's.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use hotline::business::{CertificateChain, CertificateStatus};
use hotline::constants::{
    BILLING_PERIOD_SECS, CHAT_WINDOW_SECS, DRAIN_DAY_SLOTS, DRAIN_SLOT_SECS, ENVELOPE_TTL_SECS,
    LOW_PREKEY_THRESHOLD, MAX_CONSENT_HISTORY, MAX_DIRECTORY_PREKEYS, MAX_FETCH_BATCH,
    MAX_FETCH_STATES, OBJ_TYPE_RELAY_REQUEST, PROTOCOL_VERSION, REPORT_WINDOW_SECS,
    REQUEST_TIME_WINDOW_SECS, SIG_CTX_BLOCK, SIG_CTX_CONSENT, SIG_CTX_IDENTITY, SIG_CTX_KEM_PREKEY,
    SIG_CTX_ONE_TIME_PREKEY, SIG_CTX_RELAY_REQUEST, SIG_CTX_SIGNED_PREKEY, STATE_RETENTION_SECS,
};
use hotline::hazmat::ed25519::Ed25519Secret;
use hotline::relay::{
    AccountId, AccountKind, AccountRecord, AllowList, BlockRecord, ConsentRecord, Delivery,
    DeliveryState, Envelope, EnvelopeHeader, MailboxLimits, ManualClock, MemoryStore, MessageClass,
    MessageId, PairState, PreKeyDrain, PreKeyStatus, PreKeyUpload, RateLimit, RateLimits, Receipt,
    Refusal, Relay, RelayKey, RelayStore, Request, RequestError, Response, SignedRequest,
    StateEntry, Statement, StatementDigest, TokenBucket, UploadOutcome,
};
use hotline::{IdentityKeyPair, KemPreKeyKind, KemPreKeyPublic, OneTimePreKeyPublic, PreKeyBundle};
use hotline::{SignedPreKeyPublic, types::Ed25519Public};

use crate::certs::{NOW, cert_fixtures};
use crate::{BUSINESS_ED25519_SEED, CUSTOMER_ED25519_SEED, business, business_store, customer};

/// Index of customer A.
pub const CUSTOMER_A: usize = 0;
/// Index of the business.
pub const BUSINESS: usize = 1;
/// Index of customer B.
pub const CUSTOMER_B: usize = 2;
/// Index of the unregistered (but trusted) newcomer.
pub const NEWCOMER: usize = 3;
/// Number of fixture accounts.
pub const SIGNERS: usize = 4;

const CUSTOMER_B_ED25519_SEED: [u8; 32] = [0x55; 32];
const CUSTOMER_B_X25519_SECRET: [u8; 32] = [0x66; 32];
const NEWCOMER_ED25519_SEED: [u8; 32] = [0x77; 32];
const NEWCOMER_X25519_SECRET: [u8; 32] = [0x88; 32];

/// The name the relay's allow list gives the business.
pub const BUSINESS_NAME: &str = "Fuzz Air";
/// The name the relay's allow list gives the newcomer.
pub const NEWCOMER_NAME: &str = "Fuzz Rail";

/// The relay's clock at the start of every input (the certificate
/// fixtures' time, at which the business's chain is valid).
pub const RELAY_T0: u64 = NOW;

/// Small mailbox limits, so that short sequences fill a mailbox (4
/// envelopes, or 2304 bytes: two large ones) and forget acknowledged ids
/// (2 remembered).
pub const LIMITS: MailboxLimits = MailboxLimits {
    max_envelopes: 4,
    max_bytes: 2304,
    max_envelopes_per_sender: 3,
    max_bytes_per_sender: 1792,
    ttl_secs: ENVELOPE_TTL_SECS,
    remembered_ids: 2,
};

/// Small rate limits, so that short sequences exhaust them: two bundle
/// fetches and two initial messages per customer (one more a minute), three
/// bundles with one-time prekeys per owner (one more an hour).
pub const RATES: RateLimits = RateLimits {
    bundle_fetches_per_customer: Some(TokenBucket {
        capacity: 2,
        refill_secs: 60,
    }),
    one_time_prekeys_per_owner: Some(TokenBucket {
        capacity: 3,
        refill_secs: 3600,
    }),
    initial_messages_per_customer: Some(TokenBucket {
        capacity: 2,
        refill_secs: 60,
    }),
    max_tracked_accounts: 16,
};

/// Clock steps (seconds) a step's control byte can choose: none, a second,
/// a minute, just past the request window, an hour, exactly the chat
/// window, just past it, the envelope lifetime.
pub const CLOCK_STEPS: [u64; 8] = [
    0,
    1,
    60,
    REQUEST_TIME_WINDOW_SECS + 1,
    3600,
    CHAT_WINDOW_SECS,
    CHAT_WINDOW_SECS + 1,
    ENVELOPE_TTL_SECS,
];

/// Longest sequence of steps read from one input.
pub const MAX_STEPS: usize = 16;

/// How a step's body is submitted after its raw submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Signed with the signer's next counter at the relay's time, objects
    /// inside re-signed.
    Sign = 0,
    /// As `Sign`, objects inside left as they are.
    SignAsIs = 1,
    /// Signed with the counter of the signer's previous request.
    OldCounter = 2,
    /// Signed with a timestamp `REQUEST_TIME_WINDOW_SECS` ahead (accepted).
    EdgeFuture = 3,
    /// Signed with a timestamp just outside the window behind (stale).
    Stale = 4,
    /// Signed with counter `u64::MAX`.
    MaxCounter = 5,
    /// The bytes of an earlier accepted request (the body's first byte
    /// picks which), sent again: must be refused.
    Replay = 6,
    /// As `Sign`, submitted twice: the second must be refused.
    Twice = 7,
}

impl Mode {
    fn from_bits(bits: u8) -> Self {
        match bits & 7 {
            0 => Self::Sign,
            1 => Self::SignAsIs,
            2 => Self::OldCounter,
            3 => Self::EdgeFuture,
            4 => Self::Stale,
            5 => Self::MaxCounter,
            6 => Self::Replay,
            _ => Self::Twice,
        }
    }
}

/// Encodes one step of the input format.
pub fn encode_step(signer: usize, clock_step: usize, mode: Mode, body: &[u8]) -> Vec<u8> {
    assert!(signer < SIGNERS && clock_step < CLOCK_STEPS.len());
    let control = signer as u8 | (clock_step as u8) << 2 | (mode as u8) << 5;
    let len = u16::try_from(body.len()).expect("body fits a step");
    let mut out = vec![control];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// The body (`op || ...`, SPEC.md 14.2) of a request.
pub fn body(request: Request) -> Vec<u8> {
    let bytes = SignedRequest::sign(customer(), 0, 0, request).to_bytes();
    bytes[PREFIX_LEN..bytes.len() - 64].to_vec()
}

/// Version, type, account, counter, timestamp.
const PREFIX_LEN: usize = 2 + 32 + 8 + 8;

/// A fixture account.
pub struct Signer {
    /// Its identity.
    pub identity: IdentityKeyPair,
    /// Its identity's Ed25519 signing key.
    pub secret: Ed25519Secret,
    /// Its account id.
    pub id: AccountId,
}

impl Signer {
    fn new(ed25519_seed: &[u8; 32], identity: IdentityKeyPair) -> Self {
        let secret = Ed25519Secret::from_seed(ed25519_seed);
        let id = AccountId::of(&identity.public());
        assert_eq!(secret.public_key().to_bytes(), id.0, "signer seed");
        Self {
            identity,
            secret,
            id,
        }
    }

    /// A signed request with this body, built from the SPEC.md 14.2 layout.
    pub fn sign_body(&self, counter: u64, timestamp: u64, body: &[u8]) -> Vec<u8> {
        let mut m = Vec::with_capacity(PREFIX_LEN + body.len() + 64);
        m.push(PROTOCOL_VERSION);
        m.push(OBJ_TYPE_RELAY_REQUEST);
        m.extend_from_slice(&self.id.0);
        m.extend_from_slice(&counter.to_be_bytes());
        m.extend_from_slice(&timestamp.to_be_bytes());
        m.extend_from_slice(body);
        let sig = self.secret.sign(SIG_CTX_RELAY_REQUEST, &m);
        m.extend_from_slice(&sig);
        m
    }
}

/// The relay fixture, built once.
pub struct RelayFixture {
    /// The accounts, by index.
    pub signers: [Signer; SIGNERS],
    /// The business's registered certificate chain.
    pub chain: Vec<u8>,
    /// The business's first upload.
    pub upload: PreKeyUpload,
    trust: AllowList,
    /// The model of the fresh relay.
    model: Model,
}

/// The counter each account last used when the fixture is set up.
pub const START_COUNTERS: [u64; SIGNERS] = [1, 2, 1, 0];

/// The shared relay fixture.
pub fn relay_fixture() -> &'static RelayFixture {
    static F: OnceLock<RelayFixture> = OnceLock::new();
    F.get_or_init(|| {
        let signers = [
            Signer::new(&CUSTOMER_ED25519_SEED, customer().clone()),
            Signer::new(&BUSINESS_ED25519_SEED, business().clone()),
            Signer::new(
                &CUSTOMER_B_ED25519_SEED,
                IdentityKeyPair::from_secret_bytes(
                    &CUSTOMER_B_ED25519_SEED,
                    &CUSTOMER_B_X25519_SECRET,
                ),
            ),
            Signer::new(
                &NEWCOMER_ED25519_SEED,
                IdentityKeyPair::from_secret_bytes(&NEWCOMER_ED25519_SEED, &NEWCOMER_X25519_SECRET),
            ),
        ];
        let chain = cert_fixtures()
            .chains
            .iter()
            .find(|c| c.name == "chain_valid")
            .expect("chain_valid")
            .chain
            .to_bytes();
        let store = business_store();
        let upload = PreKeyUpload {
            signed_prekey: Some(store.signed_prekey()),
            last_resort_kem_prekey: Some(store.last_resort_kem_prekey()),
            one_time_prekeys: store.one_time_prekeys(),
            kem_prekeys: store.kem_prekeys(),
        };
        let mut trust = AllowList::new();
        trust.allow(&signers[BUSINESS].identity.public(), BUSINESS_NAME);
        trust.allow(&signers[NEWCOMER].identity.public(), NEWCOMER_NAME);
        let mut fx = RelayFixture {
            signers,
            chain,
            upload,
            trust,
            model: Model::default(),
        };
        fx.model = Model::new(&fx);
        fx.self_check();
        fx
    })
}

impl RelayFixture {
    fn record(&self, i: usize) -> AccountRecord {
        let business = i == BUSINESS;
        AccountRecord {
            kind: if business {
                AccountKind::Business
            } else {
                AccountKind::Customer
            },
            identity: self.signers[i].identity.public(),
            certificate_chain: if business {
                self.chain.clone()
            } else {
                Vec::new()
            },
            name: if business {
                BUSINESS_NAME.to_owned()
            } else {
                String::new()
            },
        }
    }

    /// A fresh relay in the fixture's starting state, and its clock.
    pub fn fresh_relay(&self) -> (Relay<MemoryStore>, ManualClock) {
        let store = MemoryStore::new();
        for i in [CUSTOMER_A, BUSINESS, CUSTOMER_B] {
            let counter = if i == BUSINESS { 1 } else { START_COUNTERS[i] };
            assert!(store.register(&self.record(i), counter).expect("register"));
        }
        let business = self.signers[BUSINESS].id;
        assert_eq!(
            store.add_prekeys(&business, &self.upload, MAX_DIRECTORY_PREKEYS),
            Ok(UploadOutcome::Stored)
        );
        assert_eq!(
            store.advance_counter(&business, START_COUNTERS[BUSINESS]),
            Ok(Ok(()))
        );
        let clock = ManualClock::new(RELAY_T0);
        let relay = Relay::new(store, clock.clone(), self.trust.clone())
            .with_limits(LIMITS)
            .with_rate_limits(RATES)
            .with_key(relay_key());
        (relay, clock)
    }

    /// Checks that the relay built through the store is the one the same
    /// requests build through the relay's API, that the model agrees, and
    /// that signing and re-signing bodies reproduce genuine encodings.
    fn self_check(&self) {
        let clock = ManualClock::new(RELAY_T0);
        let api = Relay::new(MemoryStore::new(), clock, self.trust.clone())
            .with_limits(LIMITS)
            .with_rate_limits(RATES);
        let business = &self.signers[BUSINESS];
        let mut requests = Vec::new();
        for i in [CUSTOMER_A, CUSTOMER_B] {
            let identity = self.signers[i].identity.public();
            requests.push((i, 1, Request::RegisterCustomer { identity }));
        }
        requests.push((
            BUSINESS,
            1,
            Request::RegisterBusiness {
                identity: business.identity.public(),
                certificate_chain: self.chain.clone(),
            },
        ));
        requests.push((BUSINESS, 2, Request::UploadPreKeys(self.upload.clone())));
        for (i, counter, request) in requests {
            let signer = &self.signers[i];
            let genuine = SignedRequest::sign(&signer.identity, counter, RELAY_T0, request.clone());
            let b = body(request);
            assert_eq!(
                signer.sign_body(counter, RELAY_T0, &b),
                genuine.to_bytes(),
                "sign_body follows SPEC.md 14.2"
            );
            assert_eq!(resign_inner(&b, i, self), b, "re-signing a genuine body");
            assert!(api.handle_request(&genuine).is_ok(), "fixture request");
        }
        let (fresh, _) = self.fresh_relay();
        assert_eq!(observe(&api, self).state, observe(&fresh, self).state);
        assert_eq!(self.model.state(self), observe(&fresh, self).state);
    }
}

// ---------------------------------------------------------------------------
// Re-signing the objects inside a body.

const IDENTITY_SIGNED_LEN: usize = 33 + 33;
const IDENTITY_LEN: usize = IDENTITY_SIGNED_LEN + 64;
const X25519_PREKEY_SIGNED_LEN: usize = 4 + 33;
const X25519_PREKEY_LEN: usize = X25519_PREKEY_SIGNED_LEN + 64;
const KEM_PREKEY_SIGNED_LEN: usize = 4 + 1 + 1 + hotline::constants::MLKEM768_EK_LEN;
const KEM_PREKEY_LEN: usize = KEM_PREKEY_SIGNED_LEN + 64;
const RECORD_SIGNED_LEN: usize = 2 + 32 + 32 + 1 + 8;

fn sign_at(b: &mut [u8], signer: &Ed25519Secret, ctx: &[u8], off: usize, signed_len: usize) {
    let end = off + signed_len;
    if b.len() >= end + 64 {
        let sig = signer.sign(ctx, &b[off..end]);
        b[end..end + 64].copy_from_slice(&sig);
    }
}

fn signer_named<'a>(fx: &'a RelayFixture, key: &[u8]) -> Option<&'a Signer> {
    fx.signers.iter().find(|s| s.id.0[..] == *key)
}

/// Re-signs the signed objects inside a request body, leaving every other
/// byte as it is, so that they verify:
///
/// * a registration's identity key, if its Ed25519 key is a fixture
///   account's (with that account's key);
/// * an upload's prekeys (with the uploader's key, `uploader` being the
///   index of the signer), as far as the flags and counts are well formed;
/// * a consent or block record, if its signer (the customer, or the
///   business for a block by the business) is a fixture account (with that
///   account's key).
///
/// Re-signing a genuine body gives it back unchanged (Ed25519 is
/// deterministic).
pub fn resign_inner(body: &[u8], uploader: usize, fx: &RelayFixture) -> Vec<u8> {
    let mut b = body.to_vec();
    match b.first().copied() {
        Some(0x01 | 0x02) if b.len() > IDENTITY_LEN => {
            if let Some(s) = signer_named(fx, &b[2..34]) {
                sign_at(&mut b, &s.secret, SIG_CTX_IDENTITY, 1, IDENTITY_SIGNED_LEN);
            }
        }
        Some(0x03) => resign_upload(&mut b, &fx.signers[uploader].secret),
        Some(op @ (0x09 | 0x0A)) if b.len() > RECORD_SIGNED_LEN => {
            let ctx = if op == 0x09 {
                SIG_CTX_CONSENT
            } else {
                SIG_CTX_BLOCK
            };
            // Value byte 0x02 or 0x03 of a block: the business signs.
            let signer = if op == 0x0A && b[67] & 0x02 != 0 {
                &b[35..67]
            } else {
                &b[3..35]
            };
            if let Some(s) = signer_named(fx, signer) {
                sign_at(&mut b, &s.secret, ctx, 1, RECORD_SIGNED_LEN);
            }
        }
        _ => {}
    }
    b
}

fn resign_upload(b: &mut [u8], key: &Ed25519Secret) {
    let mut pos = 1;
    match b.get(pos) {
        Some(1) => {
            sign_at(
                b,
                key,
                SIG_CTX_SIGNED_PREKEY,
                pos + 1,
                X25519_PREKEY_SIGNED_LEN,
            );
            pos += 1 + X25519_PREKEY_LEN;
        }
        Some(0) => pos += 1,
        _ => return,
    }
    match b.get(pos) {
        Some(1) => {
            sign_at(b, key, SIG_CTX_KEM_PREKEY, pos + 1, KEM_PREKEY_SIGNED_LEN);
            pos += 1 + KEM_PREKEY_LEN;
        }
        Some(0) => pos += 1,
        _ => return,
    }
    for (ctx, signed, len) in [
        (
            SIG_CTX_ONE_TIME_PREKEY,
            X25519_PREKEY_SIGNED_LEN,
            X25519_PREKEY_LEN,
        ),
        (SIG_CTX_KEM_PREKEY, KEM_PREKEY_SIGNED_LEN, KEM_PREKEY_LEN),
    ] {
        let Some(n) = b.get(pos..pos + 2) else {
            return;
        };
        let n = usize::from(u16::from_be_bytes([n[0], n[1]]));
        pos += 2;
        for _ in 0..n {
            if pos + len > b.len() {
                return;
            }
            sign_at(b, key, ctx, pos, signed);
            pos += len;
        }
    }
}

// ---------------------------------------------------------------------------
// Observing the relay without changing it.

/// What can be read of the store without changing it, per fixture account
/// (accounts, prekey counts, mailboxes), per ordered pair of distinct
/// fixture accounts (rule state, consent history), and per business
/// (notifications), and the delivery states of each fixture account's
/// envelopes.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    states: Vec<Vec<StateEntry>>,
    accounts: Vec<Option<AccountRecord>>,
    prekeys: Vec<(usize, usize)>,
    mailboxes: Vec<Vec<Delivery>>,
    pairs: Vec<PairState>,
    histories: Vec<Vec<ConsentRecord>>,
    notifications: Vec<(AccountId, u64)>,
}

/// [`State`] and the store's dump, as a byte histogram (the dump's order
/// follows hash maps, which may reorder when an empty entry is added).
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    state: State,
    dump: Vec<u32>,
}

fn histogram(bytes: &[u8]) -> Vec<u32> {
    let mut h = vec![0u32; 256];
    for b in bytes {
        h[usize::from(*b)] += 1;
    }
    h
}

fn pairs() -> impl Iterator<Item = (usize, usize)> {
    (0..SIGNERS).flat_map(|c| (0..SIGNERS).filter(move |&b| b != c).map(move |b| (c, b)))
}

fn observe(relay: &Relay<MemoryStore>, fx: &RelayFixture) -> Observed {
    let s = relay.store();
    let ids = fx.signers.each_ref().map(|s| s.id);
    // A fetch at time 0 expires nothing (every envelope and remembered id
    // is younger than the lifetime then), so it reads a mailbox without
    // changing it, expired envelopes not yet deleted included.
    let mailbox = |id: &AccountId| s.fetch(id, usize::MAX, &LIMITS, 0).expect("memory store").0;
    Observed {
        state: State {
            states: ids
                .iter()
                .map(|id| s.states(id, 0, usize::MAX).expect("store").0)
                .collect(),
            accounts: ids.iter().map(|id| s.account(id).expect("store")).collect(),
            prekeys: ids
                .iter()
                .map(|id| s.prekey_counts(id).expect("store"))
                .collect(),
            mailboxes: ids.iter().map(mailbox).collect(),
            pairs: pairs()
                .map(|(c, b)| s.pair(&ids[c], &ids[b]).expect("store"))
                .collect(),
            histories: pairs()
                .map(|(c, b)| s.consent_history(&ids[c], &ids[b]).expect("store"))
                .collect(),
            notifications: s.notification_counts().expect("store"),
        },
        dump: histogram(&s.dump().expect("store")),
    }
}

// ---------------------------------------------------------------------------
// The model.

#[derive(Clone, Default)]
struct Dir {
    signed: Option<SignedPreKeyPublic>,
    last_resort: Option<KemPreKeyPublic>,
    one_time: BTreeMap<u32, OneTimePreKeyPublic>,
    kem: BTreeMap<u32, KemPreKeyPublic>,
    spent_one_time: Option<u32>,
    spent_kem: Option<u32>,
}

type DupKey = (AccountId, MessageId);

#[derive(Clone, Default)]
struct Mailbox {
    /// Delivery id -> (received at, envelope).
    waiting: BTreeMap<u64, (u64, Envelope)>,
    /// Acknowledged ids, oldest first, with the acknowledgement time.
    remembered: Vec<(DupKey, u64)>,
}

/// The key the fixture's relay signs receipts with (SPEC.md 14.16).
fn relay_key() -> RelayKey {
    RelayKey::from_seed(&[0x5e; 32])
}

impl Mailbox {
    /// Deletes what expired at `now`, returning it (receipt time, envelope)
    /// in delivery id order.
    fn expire(&mut self, now: u64) -> Vec<(u64, Envelope)> {
        let ttl = LIMITS.ttl_secs;
        let gone: Vec<u64> = self
            .waiting
            .iter()
            .filter(|(_, (at, _))| now.saturating_sub(*at) >= ttl)
            .map(|(id, _)| *id)
            .collect();
        self.remembered
            .retain(|(_, at)| now.saturating_sub(*at) < ttl);
        // Logged at the moment each expired (SPEC.md 14.16).
        gone.iter()
            .filter_map(|id| self.waiting.remove(id))
            .collect()
    }

    fn bytes(&self) -> usize {
        self.waiting.values().map(|(_, e)| e.to_bytes().len()).sum()
    }

    /// Envelopes and bytes of `sender` waiting.
    fn share(&self, sender: &AccountId) -> (usize, usize) {
        self.waiting
            .values()
            .filter(|(_, e)| e.header.sender == *sender)
            .fold((0, 0), |(n, b), (_, e)| (n + 1, b + e.to_bytes().len()))
    }

    fn holds(&self, key: &DupKey) -> bool {
        self.waiting
            .values()
            .any(|(_, e)| (e.header.sender, e.header.message_id) == *key)
            || self.remembered.iter().any(|(k, _)| k == key)
    }
}

/// A pair's records, each with its effective time (SPEC.md 14.6).
#[derive(Clone, Default)]
struct Pair {
    consents: Vec<(ConsentRecord, u64)>,
    block: Option<(BlockRecord, u64)>,
    business_block: Option<(BlockRecord, u64)>,
    window: Option<u64>,
}

/// SPEC.md 14.6, restated from the text rather than called: the later
/// effective time wins; at equal times, the block, or the smaller scope.
fn block_wins(new: &BlockRecord, at: u64, old: &(BlockRecord, u64)) -> bool {
    at > old.1 || (at == old.1 && new.blocked() && !old.0.blocked())
}

fn consent_wins(new: &ConsentRecord, at: u64, old: &(ConsentRecord, u64)) -> bool {
    let byte = |s: hotline::relay::ConsentScope| u8::from(s.chat) | u8::from(s.notifications) << 1;
    at > old.1 || (at == old.1 && byte(new.scope()) < byte(old.0.scope()))
}

/// A token bucket as SPEC.md 14.11 describes it: a count of tokens, refilled
/// one per `refill_secs` since the last refill.
#[derive(Clone, Copy)]
struct Bucket {
    tokens: u64,
    /// When the last token was added (or the bucket last full).
    since: u64,
}

impl Bucket {
    fn refill(&mut self, b: &TokenBucket, now: u64) {
        let cap = u64::from(b.capacity);
        let refill = u64::from(b.refill_secs);
        let gained = now.saturating_sub(self.since) / refill;
        self.tokens = (self.tokens + gained).min(cap);
        self.since = if self.tokens == cap {
            now
        } else {
            self.since + gained * refill
        };
    }

    /// Seconds until the next token (the bucket being empty).
    fn wait(&self, b: &TokenBucket, now: u64) -> u32 {
        (self.since + u64::from(b.refill_secs) - now) as u32
    }
}

/// The relay's state as the rules of SPEC.md section 14 make it, from the
/// requests it accepted.
#[derive(Clone, Default)]
pub struct Model {
    accounts: HashMap<AccountId, (AccountRecord, u64)>,
    dirs: HashMap<AccountId, Dir>,
    mailboxes: HashMap<AccountId, Mailbox>,
    pairs: HashMap<(AccountId, AccountId), Pair>,
    notifications: BTreeMap<AccountId, u64>,
    /// Delivery states per sender (SPEC.md 14.16), and the last sequence.
    states: BTreeMap<AccountId, Vec<StateEntry>>,
    last_state: u64,
    /// Token buckets by limit (0 bundle fetches, 1 initial messages, 2 one-time
    /// prekeys per owner) and account; absent = full.
    buckets: HashMap<(u8, AccountId), Bucket>,
    /// Times at which bundles with one-time prekeys of each owner went out.
    handouts: HashMap<AccountId, Vec<u64>>,
    /// Stapled statuses (SPEC.md 14.13).
    statuses: HashMap<AccountId, CertificateStatus>,
    /// Erased account ids (SPEC.md 14.15): never registered again.
    erased: HashSet<AccountId>,
    /// Reports recorded (SPEC.md 14.17): (business, customer, message id).
    /// The daily notification limit is not modelled: the fuzzer's few
    /// customers are far below the lowest tier.
    reports: HashSet<(AccountId, AccountId, MessageId)>,
}

/// What the model expects of one request.
struct Prediction {
    result: Result<Response, Refusal>,
    /// Envelopes deleted because they expired.
    expired: bool,
    /// The envelope a send stores: recipient, receipt time, envelope. Its
    /// delivery id is learnt from the store.
    delivery: Option<(AccountId, u64, Envelope)>,
}

impl Model {
    fn new(fx: &RelayFixture) -> Self {
        let mut m = Self::default();
        for i in [CUSTOMER_A, BUSINESS, CUSTOMER_B] {
            m.accounts
                .insert(fx.signers[i].id, (fx.record(i), START_COUNTERS[i]));
        }
        let u = &fx.upload;
        m.dirs.insert(
            fx.signers[BUSINESS].id,
            Dir {
                signed: u.signed_prekey,
                last_resort: u.last_resort_kem_prekey.clone(),
                one_time: u.one_time_prekeys.iter().map(|k| (k.id, *k)).collect(),
                kem: u.kem_prekeys.iter().map(|k| (k.id, k.clone())).collect(),
                spent_one_time: None,
                spent_kem: None,
            },
        );
        m
    }

    fn state(&self, fx: &RelayFixture) -> State {
        let ids = fx.signers.each_ref().map(|s| s.id);
        let pair = |c: usize, b: usize| self.pairs.get(&(ids[c], ids[b]));
        State {
            accounts: ids
                .iter()
                .map(|id| self.accounts.get(id).map(|(r, _)| r.clone()))
                .collect(),
            prekeys: ids
                .iter()
                .map(|id| {
                    self.dirs
                        .get(id)
                        .map_or((0, 0), |d| (d.one_time.len(), d.kem.len()))
                })
                .collect(),
            mailboxes: ids
                .iter()
                .map(|id| {
                    self.mailboxes.get(id).map_or_else(Vec::new, |mb| {
                        mb.waiting
                            .iter()
                            .map(|(id, (at, e))| Delivery {
                                id: *id,
                                received_at: *at,
                                stamp: Default::default(),
                                envelope: e.clone(),
                            })
                            .collect()
                    })
                })
                .collect(),
            pairs: pairs()
                .map(|(c, b)| {
                    pair(c, b).map_or_else(PairState::default, |p| PairState {
                        consent: p.consents.last().map(|c| c.0),
                        block: p.block.map(|b| b.0),
                        business_block: p.business_block.map(|b| b.0),
                        last_customer_message: p.window,
                    })
                })
                .collect(),
            histories: pairs()
                .map(|(c, b)| {
                    pair(c, b).map_or_else(Vec::new, |p| p.consents.iter().map(|c| c.0).collect())
                })
                .collect(),
            notifications: self.notifications.iter().map(|(b, n)| (*b, *n)).collect(),
            states: ids
                .iter()
                .map(|id| self.states.get(id).cloned().unwrap_or_default())
                .collect(),
        }
    }

    /// SPEC.md 14.16: logs `state` of each envelope at `time`, in order,
    /// numbering from one counter; a delivered notification bills.
    fn log(&mut self, gone: Vec<Envelope>, state: DeliveryState, time: u64) {
        for e in gone {
            let h = e.header;
            self.last_state += 1;
            if state == DeliveryState::Delivered && h.class == MessageClass::Notification {
                *self.notifications.entry(h.sender).or_default() += 1;
            }
            self.states.entry(h.sender).or_default().push(StateEntry {
                sequence: self.last_state,
                sender: h.sender,
                recipient: h.recipient,
                message_id: h.message_id,
                class: h.class,
                state,
                time,
            });
        }
    }

    /// Expires `recipient`'s mailbox at `now`, logging what went.
    fn expire_mailbox(&mut self, recipient: AccountId, now: u64, p: &mut Prediction) {
        let gone = self.mailboxes.entry(recipient).or_default().expire(now);
        p.expired |= !gone.is_empty();
        for (at, e) in gone {
            self.log(vec![e], DeliveryState::Expired, at + LIMITS.ttl_secs);
        }
    }

    /// The answer to an accepted send (SPEC.md 14.16).
    fn accepted(h: &EnvelopeHeader, duplicate: bool, now: u64) -> Response {
        Response::Accepted {
            duplicate,
            receipt: Box::new(Receipt::sign(
                &relay_key(),
                StateEntry {
                    sequence: 0,
                    sender: h.sender,
                    recipient: h.recipient,
                    message_id: h.message_id,
                    class: h.class,
                    state: DeliveryState::Accepted,
                    time: now,
                },
            )),
        }
    }

    fn kind(&self, id: &AccountId) -> Option<AccountKind> {
        self.accounts.get(id).map(|(r, _)| r.kind)
    }

    fn status(&self, id: &AccountId, now: u64) -> PreKeyStatus {
        let (one_time, kem) = self
            .dirs
            .get(id)
            .map_or((0, 0), |d| (d.one_time.len(), d.kem.len()));
        PreKeyStatus {
            one_time: one_time as u32,
            kem: kem as u32,
            low: one_time < LOW_PREKEY_THRESHOLD || kem < LOW_PREKEY_THRESHOLD,
            drained: self.drain(id, now),
        }
    }

    /// SPEC.md 14.8, drain: handouts in the current slot and the one (or
    /// the 24) before it.
    fn drain(&self, id: &AccountId, now: u64) -> PreKeyDrain {
        let slot = now / DRAIN_SLOT_SECS;
        let count = |back: u64| {
            self.handouts.get(id).map_or(0, |times| {
                times
                    .iter()
                    .filter(|t| slot - *t / DRAIN_SLOT_SECS <= back)
                    .count() as u32
            })
        };
        PreKeyDrain {
            last_hour: count(1),
            last_day: count(DRAIN_DAY_SLOTS),
        }
    }

    fn bucket_of(limit: u8) -> TokenBucket {
        match limit {
            0 => RATES.bundle_fetches_per_customer,
            1 => RATES.initial_messages_per_customer,
            _ => RATES.one_time_prekeys_per_owner,
        }
        .expect("every limit is on in RATES")
    }

    /// The bucket's tokens at `now`.
    fn bucket(&mut self, limit: u8, id: AccountId, now: u64) -> &mut Bucket {
        let b = Self::bucket_of(limit);
        let bucket = self.buckets.entry((limit, id)).or_insert(Bucket {
            tokens: u64::from(b.capacity),
            since: now,
        });
        bucket.refill(&b, now);
        bucket
    }

    /// Whether a token is there (without taking it), or the wait.
    fn peek(&mut self, limit: u8, id: AccountId, now: u64) -> Result<(), u32> {
        let b = Self::bucket_of(limit);
        let bucket = self.bucket(limit, id, now);
        if bucket.tokens == 0 {
            Err(bucket.wait(&b, now))
        } else {
            Ok(())
        }
    }

    fn take(&mut self, limit: u8, id: AccountId, now: u64) -> bool {
        let bucket = self.bucket(limit, id, now);
        let ok = bucket.tokens > 0;
        if ok {
            bucket.tokens -= 1;
        }
        ok
    }

    /// SPEC.md 14.11: the refusing limit a request of `account` counts
    /// against, if any.
    fn rate_limit(account: &AccountRecord, request: &Request) -> Option<(u8, RateLimit)> {
        if account.kind != AccountKind::Customer {
            return None;
        }
        match request {
            Request::FetchBundle { .. } => Some((0, RateLimit::BundleFetches)),
            Request::Send(e) if e.ciphertext.starts_with(&[1, 1]) => {
                Some((1, RateLimit::InitialMessages))
            }
            _ => None,
        }
    }

    /// Whether the rules let this envelope from a business into a
    /// customer's mailbox now (SPEC.md 14.7); `None` for other routes.
    fn business_may_send(&self, h: &EnvelopeHeader, now: u64) -> Option<bool> {
        if self.kind(&h.sender) != Some(AccountKind::Business)
            || self.kind(&h.recipient) != Some(AccountKind::Customer)
        {
            return None;
        }
        let Some(p) = self.pairs.get(&(h.recipient, h.sender)) else {
            return Some(false);
        };
        let blocked = p.block.is_some_and(|b| b.0.blocked());
        // Notifications need the customer's consent; chat is a reply to a
        // conversation the customer started (the window), unless a record
        // excluding chat came at or after the customer's last message.
        let last = p.consents.last().map(|c| c.0);
        let consent = match h.class {
            MessageClass::Notification => last.is_some_and(|c| c.scope().allows(h.class)),
            MessageClass::Chat => {
                !last.is_some_and(|c| !c.scope().chat && p.window.is_none_or(|t| c.time() >= t))
            }
        };
        let window = h.class == MessageClass::Notification
            || p.window
                .is_some_and(|t| now.saturating_sub(t) <= CHAT_WINDOW_SECS);
        Some(!blocked && consent && window)
    }

    /// Applies a validly signed request; what the relay must answer.
    fn apply(&mut self, req: &SignedRequest, now: u64, fx: &RelayFixture) -> Prediction {
        let mut p = Prediction {
            result: Err(Refusal::Unavailable),
            expired: false,
            delivery: None,
        };
        p.result = self.decide(req, now, fx, &mut p);
        p
    }

    fn decide(
        &mut self,
        req: &SignedRequest,
        now: u64,
        fx: &RelayFixture,
        p: &mut Prediction,
    ) -> Result<Response, Refusal> {
        // SPEC.md 14.2: timestamp, then (except for registrations) account
        // and counter; the counter is used even if the operation fails.
        if req.timestamp().abs_diff(now) > REQUEST_TIME_WINDOW_SECS {
            return Err(Refusal::StaleRequest);
        }
        let me = req.account();
        match req.request() {
            Request::RegisterCustomer { identity } => {
                if AccountId::of(identity) != me {
                    return Err(Refusal::IdentityMismatch);
                }
                let record = AccountRecord {
                    kind: AccountKind::Customer,
                    identity: *identity,
                    certificate_chain: Vec::new(),
                    name: String::new(),
                };
                return self.register(record, req.counter());
            }
            Request::RegisterBusiness {
                identity,
                certificate_chain,
            } => {
                // SPEC.md 14.1: signed by the identity it registers; a
                // non-empty chain must decode; the validator (an allow list
                // here) decides; then a second registration is refused.
                if AccountId::of(identity) != me {
                    return Err(Refusal::IdentityMismatch);
                }
                if !certificate_chain.is_empty()
                    && CertificateChain::from_bytes(certificate_chain).is_err()
                {
                    return Err(Refusal::CertificateRefused);
                }
                let name = if me == fx.signers[BUSINESS].id {
                    BUSINESS_NAME
                } else if me == fx.signers[NEWCOMER].id {
                    NEWCOMER_NAME
                } else {
                    return Err(Refusal::CertificateRefused);
                };
                // A registered business renews its chain (same identity):
                // the counter advances like any request's; a customer
                // account cannot become a business.
                if let Some((existing, last)) = self.accounts.get_mut(&me) {
                    if existing.kind != AccountKind::Business {
                        return Err(Refusal::AlreadyRegistered);
                    }
                    if req.counter() <= *last {
                        return Err(Refusal::ReplayedRequest);
                    }
                    *last = req.counter();
                    existing.certificate_chain = certificate_chain.clone();
                    existing.name = name.to_owned();
                    // A renewal drops the status of the old certificate.
                    self.statuses.remove(&me);
                    return Ok(Response::Registered);
                }
                let record = AccountRecord {
                    kind: AccountKind::Business,
                    identity: *identity,
                    certificate_chain: certificate_chain.clone(),
                    name: name.to_owned(),
                };
                return self.register(record, req.counter());
            }
            _ => {}
        }
        let Some((account, _)) = self.accounts.get(&me) else {
            return Err(Refusal::UnknownAccount);
        };
        let account = account.clone();
        // SPEC.md 14.2 step 6: before the counter.
        if let Some((i, limit)) = Self::rate_limit(&account, req.request()) {
            self.peek(i, me, now)
                .map_err(|retry_after_secs| Refusal::RateLimited {
                    limit,
                    retry_after_secs,
                })?;
        }
        let Some((_, last)) = self.accounts.get_mut(&me) else {
            return Err(Refusal::UnknownAccount);
        };
        if req.counter() <= *last {
            return Err(Refusal::ReplayedRequest);
        }
        *last = req.counter();
        match req.request() {
            Request::UploadPreKeys(u) => self.upload(&account, u, now),
            Request::FetchBundle { owner } => self.fetch_bundle(&account, owner, now),
            Request::PreKeyStatus => Ok(Response::PreKeyStatus(self.status(&me, now))),
            Request::Send(e) => self.send(&account, e, now, p),
            Request::FetchMailbox { max } => {
                let n = usize::from(*max).min(MAX_FETCH_BATCH);
                self.expire_mailbox(me, now, p);
                let mb = self.mailboxes.entry(me).or_default();
                let deliveries: Vec<Delivery> = mb
                    .waiting
                    .iter()
                    .take(n)
                    .map(|(id, (at, e))| Delivery {
                        id: *id,
                        received_at: *at,
                        // SPEC.md 14.17: the relay stamps each delivery.
                        stamp: relay_key().stamp(&e.header, *at),
                        envelope: e.clone(),
                    })
                    .collect();
                let more = mb.waiting.len() > n;
                let status = self.status(&me, now);
                // SPEC.md 14.13: the stapled status of each distinct sender,
                // in ascending account id order.
                let senders: std::collections::BTreeSet<AccountId> = deliveries
                    .iter()
                    .map(|d| d.envelope.header.sender)
                    .collect();
                let statuses = senders
                    .iter()
                    .filter_map(|s| self.statuses.get(s).cloned())
                    .collect();
                Ok(Response::Mailbox {
                    deliveries,
                    more,
                    prekeys_low: status.low,
                    prekeys_drained: status.drained,
                    statuses,
                })
            }
            Request::Acknowledge { ids } => {
                let mb = self.mailboxes.entry(me).or_default();
                let mut removed = 0;
                let mut delivered = Vec::new();
                for id in ids {
                    if let Some((_, e)) = mb.waiting.remove(id) {
                        removed += 1;
                        delivered.push(e.clone());
                        let key = (e.header.sender, e.header.message_id);
                        if !mb.remembered.iter().any(|(k, _)| *k == key) {
                            mb.remembered.push((key, now));
                        }
                        while mb.remembered.len() > LIMITS.remembered_ids {
                            mb.remembered.remove(0);
                        }
                    }
                }
                self.log(delivered, DeliveryState::Delivered, now);
                Ok(Response::Acknowledged { removed })
            }
            Request::Consent(r) => {
                self.check_record(
                    &account,
                    AccountKind::Customer,
                    (r.customer(), r.business()),
                    r.time(),
                    now,
                )?;
                let pair = self.pairs.entry((r.customer(), r.business())).or_default();
                let at = r.time().min(now);
                match pair.consents.last() {
                    Some(last) if !consent_wins(r, at, last) => return Err(Refusal::StaleRecord),
                    // One record per effective second in the history.
                    Some(last) if last.1 == at => {
                        pair.consents.pop();
                    }
                    _ => {}
                }
                pair.consents.push((*r, at));
                if pair.consents.len() > MAX_CONSENT_HISTORY {
                    pair.consents.remove(0);
                }
                Ok(Response::ConsentStored)
            }
            Request::Block(r) => {
                self.check_record(
                    &account,
                    r.blocker(),
                    (r.customer(), r.business()),
                    r.time(),
                    now,
                )?;
                let pair = self.pairs.entry((r.customer(), r.business())).or_default();
                let at = r.time().min(now);
                let by_business = r.blocker() == AccountKind::Business;
                let slot = if by_business {
                    &mut pair.business_block
                } else {
                    &mut pair.block
                };
                if slot.as_ref().is_some_and(|l| !block_wins(r, at, l)) {
                    return Err(Refusal::StaleRecord);
                }
                *slot = Some((*r, at));
                if r.blocked() {
                    // SPEC.md 14.6, 14.16: the blocked party's undelivered
                    // envelopes to the blocker go with the block, each
                    // logged at the block's effective time, none billed.
                    let (mailbox, sender) = if by_business {
                        (r.business(), r.customer())
                    } else {
                        (r.customer(), r.business())
                    };
                    let mut gone = Vec::new();
                    if let Some(mb) = self.mailboxes.get_mut(&mailbox) {
                        let ids: Vec<u64> = mb
                            .waiting
                            .iter()
                            .filter(|(_, (_, e))| e.header.sender == sender)
                            .map(|(id, _)| *id)
                            .collect();
                        for id in ids {
                            gone.extend(mb.waiting.remove(&id).map(|(_, e)| e));
                        }
                    }
                    self.log(gone, DeliveryState::DeletedByBlock, at);
                }
                Ok(Response::BlockStored)
            }
            Request::ExportConsent { customer } => {
                if account.kind != AccountKind::Business {
                    return Err(Refusal::WrongAccountKind);
                }
                Ok(Response::ConsentEvidence(
                    self.pairs
                        .get(&(*customer, me))
                        .map_or_else(Vec::new, |p| p.consents.iter().map(|c| c.0).collect()),
                ))
            }
            Request::PublishStatus(status) => self.publish_status(&account, status, now),
            // The allow list keeps no trust state (SPEC.md 14.13).
            Request::PublishRevocationList { .. } => Err(Refusal::TrustStateFixed),
            // SPEC.md 14.15: a customer only; its account, directory entry,
            // mailbox, status and the blocks and windows of its pairs go,
            // its consent histories stay.
            Request::DeleteAccount => {
                if account.kind != AccountKind::Customer {
                    return Err(Refusal::WrongAccountKind);
                }
                self.accounts.remove(&me);
                self.dirs.remove(&me);
                if let Some(mb) = self.mailboxes.remove(&me) {
                    let gone = mb.waiting.into_values().map(|(_, e)| e).collect();
                    self.log(gone, DeliveryState::DeletedByErasure, now);
                }
                self.states.remove(&me);
                self.statuses.remove(&me);
                for ((c, _), pair) in &mut self.pairs {
                    if *c == me {
                        pair.block = None;
                        pair.business_block = None;
                        pair.window = None;
                    }
                }
                self.erased.insert(me);
                Ok(Response::AccountDeleted)
            }
            Request::FetchStates { after, max } => {
                let n = usize::from(*max).min(MAX_FETCH_STATES);
                let mine: Vec<StateEntry> = self
                    .states
                    .get(&me)
                    .map(|l| l.iter().filter(|e| e.sequence > *after).copied().collect())
                    .unwrap_or_default();
                Ok(Response::States {
                    receipts: mine
                        .iter()
                        .take(n)
                        .map(|e| Receipt::sign(&relay_key(), *e))
                        .collect(),
                    more: mine.len() > n,
                })
            }
            Request::FetchStatement { period } => {
                // SPEC.md 14.16, restated: the periods from the one that
                // began no longer than the retention ago to the current.
                let current = now / BILLING_PERIOD_SECS;
                let first = now
                    .saturating_sub(STATE_RETENTION_SECS)
                    .div_ceil(BILLING_PERIOD_SECS);
                let p64 = u64::from(*period);
                if p64 > current || p64 < first {
                    return Err(Refusal::PeriodUnavailable);
                }
                let mut digest = StatementDigest::new();
                for e in self.states.get(&me).into_iter().flatten() {
                    if e.state == DeliveryState::Delivered
                        && e.class == MessageClass::Notification
                        && e.time / BILLING_PERIOD_SECS == p64
                    {
                        digest.add(e.sequence, &e.recipient, &e.message_id);
                    }
                }
                Ok(Response::Statement(Box::new(Statement::sign(
                    &relay_key(),
                    me,
                    *period,
                    digest,
                    now,
                ))))
            }
            Request::Report(report) => {
                // SPEC.md 14.17, in order: a customer, the recipient of the
                // message, a fresh report time, this relay's stamp, within
                // the report window, from a business; once per message.
                if account.kind != AccountKind::Customer {
                    return Err(Refusal::WrongAccountKind);
                }
                if report.reporter() != me {
                    return Err(Refusal::RecordNotYours);
                }
                if report.time().abs_diff(now) > REQUEST_TIME_WINDOW_SECS {
                    return Err(Refusal::StaleRecord);
                }
                if relay_key().stamp(report.header(), report.received_at()) != *report.stamp() {
                    return Err(Refusal::BadStamp);
                }
                let at = report.received_at();
                if at > now || now - at > REPORT_WINDOW_SECS {
                    return Err(Refusal::ReportTooOld);
                }
                match self.accounts.get(&report.reported()) {
                    None => return Err(Refusal::UnknownAccount),
                    Some((a, _)) if a.kind != AccountKind::Business => {
                        return Err(Refusal::UnsupportedRoute);
                    }
                    Some(_) => {}
                }
                let key = (report.reported(), me, report.header().message_id);
                Ok(Response::Reported {
                    duplicate: !self.reports.insert(key),
                })
            }
            other => panic!("the model does not know {other:?}"),
        }
    }

    /// SPEC.md 14.13: a business's status for its own certificate, signed
    /// by its chain's issuer, a well-formed window not in the future, newer
    /// than the one stapled.
    fn publish_status(
        &mut self,
        account: &AccountRecord,
        status: &CertificateStatus,
        now: u64,
    ) -> Result<Response, Refusal> {
        if account.kind != AccountKind::Business {
            return Err(Refusal::WrongAccountKind);
        }
        let chain = CertificateChain::from_bytes(&account.certificate_chain)
            .map_err(|_| Refusal::BadStatus)?;
        if (status.issuer_id(), status.serial())
            != (chain.issuer().issuer_id(), chain.business().serial())
        {
            return Err(Refusal::BadStatus);
        }
        let bytes = status.to_bytes();
        let (signed, signature) = bytes.split_at(bytes.len() - 64);
        if chain
            .issuer()
            .key()
            .verify(
                hotline::constants::SIG_CTX_CERT_STATUS,
                signed,
                signature.try_into().expect("64 bytes"),
            )
            .is_err()
        {
            return Err(Refusal::BadStatus);
        }
        let (this, next) = (status.this_update(), status.next_update());
        if next <= this
            || next - this > hotline::constants::MAX_STATUS_LIFETIME_SECS
            || this > now + hotline::constants::CLOCK_SKEW_SECS
        {
            return Err(Refusal::BadStatus);
        }
        let me = account.id();
        if self
            .statuses
            .get(&me)
            .is_some_and(|held| held.this_update() >= this)
        {
            return Err(Refusal::BadStatus);
        }
        self.statuses.insert(me, status.clone());
        Ok(Response::StatusStored)
    }

    fn register(&mut self, record: AccountRecord, counter: u64) -> Result<Response, Refusal> {
        let id = record.id();
        if self.erased.contains(&id) {
            return Err(Refusal::AccountDeleted);
        }
        if self.accounts.contains_key(&id) {
            return Err(Refusal::AlreadyRegistered);
        }
        self.accounts.insert(id, (record, counter));
        Ok(Response::Registered)
    }

    /// SPEC.md 14.8, upload.
    fn upload(
        &mut self,
        account: &AccountRecord,
        u: &PreKeyUpload,
        now: u64,
    ) -> Result<Response, Refusal> {
        let owner: &Ed25519Public = account.identity.signing_key();
        let valid = u
            .signed_prekey
            .as_ref()
            .is_none_or(|k| k.verify(owner).is_ok() && !k.key.is_low_order())
            && u.last_resort_kem_prekey
                .as_ref()
                .is_none_or(|k| k.kind == KemPreKeyKind::LastResort && k.verify(owner).is_ok())
            && u.one_time_prekeys
                .iter()
                .all(|k| k.verify(owner).is_ok() && !k.key.is_low_order())
            && u.kem_prekeys
                .iter()
                .all(|k| k.kind == KemPreKeyKind::OneTime && k.verify(owner).is_ok());
        if !valid {
            return Err(Refusal::BadPreKey);
        }
        let me = account.id();
        let d = self.dirs.entry(me).or_default();
        let spent = |id: u32, mark: Option<u32>| mark.is_some_and(|m| id <= m);
        if u.one_time_prekeys
            .iter()
            .any(|k| spent(k.id, d.spent_one_time))
            || u.kem_prekeys.iter().any(|k| spent(k.id, d.spent_kem))
        {
            return Err(Refusal::BadPreKey);
        }
        let new_one_time: HashSet<u32> = u
            .one_time_prekeys
            .iter()
            .map(|k| k.id)
            .filter(|id| !d.one_time.contains_key(id))
            .collect();
        let new_kem: HashSet<u32> = u
            .kem_prekeys
            .iter()
            .map(|k| k.id)
            .filter(|id| !d.kem.contains_key(id))
            .collect();
        if d.one_time.len() + new_one_time.len() > MAX_DIRECTORY_PREKEYS
            || d.kem.len() + new_kem.len() > MAX_DIRECTORY_PREKEYS
        {
            return Err(Refusal::TooManyPreKeys);
        }
        if let Some(k) = u.signed_prekey {
            d.signed = Some(k);
        }
        if let Some(k) = &u.last_resort_kem_prekey {
            d.last_resort = Some(k.clone());
        }
        for k in &u.one_time_prekeys {
            d.one_time.insert(k.id, *k);
        }
        for k in &u.kem_prekeys {
            d.kem.insert(k.id, k.clone());
        }
        Ok(Response::PreKeysStored(self.status(&me, now)))
    }

    /// SPEC.md 14.8, fetch: lowest ids first, last resort when no one-time
    /// KEM prekey is left, the registered chain attached.
    fn fetch_bundle(
        &mut self,
        requester: &AccountRecord,
        owner: &AccountId,
        now: u64,
    ) -> Result<Response, Refusal> {
        let Some((record, _)) = self.accounts.get(owner) else {
            return Err(Refusal::UnknownAccount);
        };
        let record = record.clone();
        // SPEC.md 14.11: the customer's token, taken whatever follows (it
        // was there at step 6); then the owner's, which only decides
        // whether one-time prekeys go out, and is spent only if they do.
        if requester.kind == AccountKind::Customer {
            assert!(self.take(0, requester.id(), now), "token checked at step 6");
        }
        let withhold = self.peek(2, *owner, now).is_err();
        let Some(d) = self.dirs.get_mut(owner) else {
            return Err(Refusal::NoBundle);
        };
        let (Some(signed), Some(last_resort)) = (d.signed, d.last_resort.clone()) else {
            return Err(Refusal::NoBundle);
        };
        let (one_time, kem) = if withhold {
            (None, last_resort)
        } else {
            let one_time = d.one_time.pop_first().map(|(id, k)| {
                d.spent_one_time = d.spent_one_time.max(Some(id));
                k
            });
            let kem = d.kem.pop_first().map_or(last_resort, |(id, k)| {
                d.spent_kem = d.spent_kem.max(Some(id));
                k
            });
            (one_time, kem)
        };
        if one_time.is_some() || kem.kind == KemPreKeyKind::OneTime {
            assert!(self.take(2, *owner, now));
            self.handouts.entry(*owner).or_default().push(now);
        }
        let chain = (!record.certificate_chain.is_empty()).then(|| {
            CertificateChain::from_bytes(&record.certificate_chain).expect("registered chain")
        });
        // Every prekey was checked at upload and the identity at
        // registration, so the bundle must assemble.
        let bundle = PreKeyBundle::new(record.identity, signed, one_time, kem)
            .unwrap_or_else(|e| {
                panic!("the directory holds prekeys that do not make a bundle ({e}) for {owner:?}")
            })
            .with_certificate_chain(chain);
        Ok(Response::Bundle {
            bundle: Box::new(bundle),
            status: self.statuses.get(owner).cloned(),
        })
    }

    /// SPEC.md 14.6: who may store a record.
    fn check_record(
        &self,
        account: &AccountRecord,
        signer: AccountKind,
        (customer, business): (AccountId, AccountId),
        time: u64,
        now: u64,
    ) -> Result<(), Refusal> {
        if account.kind != signer {
            return Err(Refusal::WrongAccountKind);
        }
        let (mine, other) = match signer {
            AccountKind::Customer => (customer, business),
            AccountKind::Business => (business, customer),
        };
        if mine != account.id() {
            return Err(Refusal::RecordNotYours);
        }
        match self.kind(&other) {
            None => return Err(Refusal::UnknownAccount),
            Some(k) if k == signer => return Err(Refusal::UnsupportedRoute),
            Some(_) => {}
        }
        if time > now.saturating_add(REQUEST_TIME_WINDOW_SECS)
            || time < now.saturating_sub(REQUEST_TIME_WINDOW_SECS)
        {
            return Err(Refusal::StaleRecord);
        }
        Ok(())
    }

    /// SPEC.md 14.5 and 14.7.
    fn send(
        &mut self,
        sender: &AccountRecord,
        e: &Envelope,
        now: u64,
        p: &mut Prediction,
    ) -> Result<Response, Refusal> {
        let h = &e.header;
        if h.sender != sender.id() {
            return Err(Refusal::SenderMismatch);
        }
        let Some(recipient) = self.kind(&h.recipient) else {
            return Err(Refusal::UnknownAccount);
        };
        // SPEC.md 14.5: a retry of a stored envelope is a duplicate before
        // any rule is checked.
        self.expire_mailbox(h.recipient, now, p);
        if self
            .mailboxes
            .entry(h.recipient)
            .or_default()
            .holds(&(h.sender, h.message_id))
        {
            return Ok(Self::accepted(h, true, now));
        }
        let mut open_window = false;
        match (sender.kind, recipient) {
            (AccountKind::Customer, AccountKind::Business) => {
                if h.class != MessageClass::Chat {
                    return Err(Refusal::NotificationFromCustomer);
                }
                let pair = self.pairs.get(&(h.sender, h.recipient));
                if pair
                    .and_then(|p| p.business_block)
                    .is_some_and(|b| b.0.blocked())
                {
                    return Err(Refusal::BlockedByBusiness);
                }
                open_window = true;
            }
            (AccountKind::Business, AccountKind::Customer) => {
                let pair = self.pairs.get(&(h.recipient, h.sender));
                if pair.and_then(|p| p.block).is_some_and(|b| b.0.blocked()) {
                    return Err(Refusal::Blocked);
                }
                // Notifications need consent; chat needs none (the
                // customer's message is the consent to reply in the window)
                // unless a record excluding chat came at or after it.
                let consent = pair.and_then(|p| p.consents.last()).map(|c| c.0);
                let window = pair.and_then(|p| p.window);
                let refused = match h.class {
                    MessageClass::Notification => {
                        !consent.is_some_and(|c| c.scope().allows(h.class))
                    }
                    MessageClass::Chat => consent
                        .is_some_and(|c| !c.scope().chat && window.is_none_or(|t| c.time() >= t)),
                };
                if refused {
                    return Err(Refusal::NoConsent);
                }
                if h.class == MessageClass::Chat
                    && pair
                        .and_then(|p| p.window)
                        .is_none_or(|t| now.saturating_sub(t) > CHAT_WINDOW_SECS)
                {
                    return Err(Refusal::WindowClosed);
                }
            }
            _ => return Err(Refusal::UnsupportedRoute),
        }
        self.expire_mailbox(h.recipient, now, p);
        let mb = self.mailboxes.entry(h.recipient).or_default();
        if mb.holds(&(h.sender, h.message_id)) {
            return Ok(Self::accepted(h, true, now));
        }
        let len = e.to_bytes().len();
        let (count, bytes) = mb.share(&h.sender);
        if count >= LIMITS.max_envelopes_per_sender || bytes + len > LIMITS.max_bytes_per_sender {
            return Err(Refusal::SenderQuotaExceeded);
        }
        if mb.waiting.len() >= LIMITS.max_envelopes || mb.bytes() + len > LIMITS.max_bytes {
            return Err(Refusal::MailboxFull);
        }
        // SPEC.md 14.11: only a stored initial message of a customer counts.
        if let Some((i, _)) = Self::rate_limit(sender, &Request::Send(e.clone())) {
            assert!(self.take(i, sender.id(), now), "token checked at step 6");
        }
        p.delivery = Some((h.recipient, now, e.clone()));
        if open_window {
            self.pairs
                .entry((h.sender, h.recipient))
                .or_default()
                .window = Some(now);
        }
        Ok(Self::accepted(h, false, now))
    }
}

fn refusal_of(e: &RequestError) -> Refusal {
    match e {
        RequestError::Decode(_) => Refusal::Malformed,
        RequestError::BadSignature => Refusal::BadSignature,
        RequestError::BadIdentity(_) => Refusal::BadIdentity,
        RequestError::BadRecord(_) => Refusal::BadRecord,
        RequestError::BadReport(_) => Refusal::BadReport,
        other => panic!("request error the harness does not know: {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// The harness.

/// The answers to one step's submissions: the raw body first, then the
/// signed (or replayed) request, and for [`Mode::Twice`] its second
/// submission.
pub type StepReport = Vec<Result<Response, Refusal>>;

struct Harness {
    fx: &'static RelayFixture,
    relay: Relay<MemoryStore>,
    clock: ManualClock,
    model: Model,
    observed: Observed,
    counters: [u64; SIGNERS],
    accepted: Vec<Vec<u8>>,
    handed_out: HashSet<(AccountId, bool, u32)>,
}

impl Harness {
    fn new() -> Self {
        let fx = relay_fixture();
        let (relay, clock) = fx.fresh_relay();
        let observed = observe(&relay, fx);
        Self {
            fx,
            relay,
            clock,
            model: fx.model.clone(),
            observed,
            counters: START_COUNTERS,
            accepted: Vec::new(),
            handed_out: HashSet::new(),
        }
    }

    fn submit(&mut self, bytes: &[u8]) -> Result<Response, Refusal> {
        let fx = self.fx;
        let now = self.relay.now();
        let decoded = SignedRequest::from_bytes(bytes);
        let permitted = match &decoded {
            Ok(req) => match req.request() {
                Request::Send(e) => self.model.business_may_send(&e.header, now),
                _ => None,
            },
            Err(_) => None,
        };
        let prediction = match &decoded {
            Ok(req) => self.model.apply(req, now, fx),
            Err(e) => Prediction {
                result: Err(refusal_of(e)),
                expired: false,
                delivery: None,
            },
        };

        let reply = self.relay.handle(bytes);
        let result = Response::decode_result(&reply)
            .unwrap_or_else(|e| panic!("the relay's reply does not decode: {e}"));
        assert_eq!(
            Response::encode_result(&result),
            reply,
            "the relay's reply is not canonical"
        );
        let after = observe(&self.relay, fx);
        let before = std::mem::replace(&mut self.observed, after.clone());

        // Envelopes stored by this request.
        let mut stored = Vec::new();
        for (i, (old, new)) in before
            .state
            .mailboxes
            .iter()
            .zip(&after.state.mailboxes)
            .enumerate()
        {
            for d in new {
                if !old.iter().any(|o| o.id == d.id) {
                    stored.push((i, d.clone()));
                }
            }
            let bytes: usize = new.iter().map(|d| d.envelope.to_bytes().len()).sum();
            assert!(
                new.len() <= LIMITS.max_envelopes && bytes <= LIMITS.max_bytes,
                "mailbox {i} holds {} envelopes, {bytes} bytes: over the limits",
                new.len()
            );
            for s in &fx.signers {
                let (n, b) = new
                    .iter()
                    .filter(|d| d.envelope.header.sender == s.id)
                    .fold((0, 0), |(n, b), d| (n + 1, b + d.envelope.to_bytes().len()));
                assert!(
                    n <= LIMITS.max_envelopes_per_sender && b <= LIMITS.max_bytes_per_sender,
                    "mailbox {i} holds {n} envelopes, {b} bytes from one sender: over its share"
                );
            }
        }
        assert!(
            stored.len() <= 1,
            "one request stored {} envelopes",
            stored.len()
        );
        for (i, d) in &stored {
            let h = &d.envelope.header;
            assert!(result.is_ok(), "a refused request stored an envelope");
            if let Some(allowed) = permitted {
                assert!(
                    allowed,
                    "{:?} from a business reached customer {i} without consent, \
                     within a closed window or after a block",
                    h.class
                );
            }
        }
        match (prediction.delivery, stored.pop()) {
            (None, None) => {}
            (Some((recipient, at, envelope)), Some((i, d))) => {
                assert_eq!(fx.signers[i].id, recipient, "stored in the wrong mailbox");
                assert_eq!(d.received_at, at, "receipt time is not the relay's time");
                assert_eq!(
                    d.envelope, envelope,
                    "stored envelope differs from the sent one"
                );
                self.model
                    .mailboxes
                    .entry(recipient)
                    .or_default()
                    .waiting
                    .insert(d.id, (at, envelope));
            }
            (expected, found) => panic!(
                "expected {} stored envelope, the store holds {}",
                usize::from(expected.is_some()),
                usize::from(found.is_some())
            ),
        }

        if result.is_err() {
            if prediction.expired {
                let (mut b, mut a) = (before.state.clone(), after.state.clone());
                for (old, new) in b.mailboxes.iter().zip(&a.mailboxes) {
                    for d in old {
                        assert!(
                            new.contains(d) || now.saturating_sub(d.received_at) >= LIMITS.ttl_secs,
                            "a refused request deleted an unexpired envelope"
                        );
                    }
                }
                b.mailboxes.clear();
                a.mailboxes.clear();
                // Expired envelopes are logged as such (SPEC.md 14.16).
                b.states.clear();
                a.states.clear();
                assert_eq!(b, a, "a refused request changed the relay's state");
            } else {
                assert_eq!(before, after, "a refused request changed the relay's state");
            }
        }

        if let Ok(Response::Bundle { bundle: b, .. }) = &result {
            let owner = AccountId::of(b.identity());
            if let Some(k) = b.one_time_prekey() {
                assert!(
                    self.handed_out.insert((owner, false, k.id)),
                    "one-time prekey {} handed out twice",
                    k.id
                );
            }
            let k = b.kem_prekey();
            if k.kind == KemPreKeyKind::OneTime {
                assert!(
                    self.handed_out.insert((owner, true, k.id)),
                    "one-time KEM prekey {} handed out twice",
                    k.id
                );
            }
        }
        if let Ok(Response::Mailbox { deliveries, .. }) = &result {
            assert!(deliveries.len() <= MAX_FETCH_BATCH);
        }

        let what = match &decoded {
            Ok(req) => format!("{:?}", req.request()),
            Err(e) => format!("undecodable ({e})"),
        };
        assert_eq!(
            result, prediction.result,
            "relay's answer (left) to {what} is not the model's (right)"
        );
        assert_eq!(
            self.model.state(fx),
            after.state,
            "after {what}, the relay's state (right) is not the model's (left)"
        );
        if result.is_ok() && decoded.is_ok() {
            self.accepted.push(bytes.to_vec());
        }
        result
    }

    fn step(&mut self, control: u8, body: &[u8]) -> StepReport {
        let signer_index = usize::from(control & 3);
        let mode = Mode::from_bits(control >> 5);
        self.clock
            .advance(CLOCK_STEPS[usize::from((control >> 2) & 7)]);
        let mut report = vec![self.submit(body)];
        if mode == Mode::Replay {
            if let (Some(first), false) = (body.first(), self.accepted.is_empty()) {
                let old = self.accepted[usize::from(*first) % self.accepted.len()].clone();
                let r = self.submit(&old);
                assert!(r.is_err(), "a replayed request was accepted: {r:?}");
                report.push(r);
            }
            return report;
        }
        let now = self.relay.now();
        let counter = &mut self.counters[signer_index];
        let next = counter.saturating_add(1);
        let (counter, timestamp) = match mode {
            Mode::OldCounter => (*counter, now),
            Mode::MaxCounter => {
                *counter = u64::MAX;
                (u64::MAX, now)
            }
            Mode::EdgeFuture => {
                *counter = next;
                (next, now + REQUEST_TIME_WINDOW_SECS)
            }
            Mode::Stale => {
                *counter = next;
                (next, now.saturating_sub(REQUEST_TIME_WINDOW_SECS + 1))
            }
            Mode::Sign | Mode::SignAsIs | Mode::Twice | Mode::Replay => {
                *counter = next;
                (next, now)
            }
        };
        let body = if mode == Mode::SignAsIs {
            body.to_vec()
        } else {
            resign_inner(body, signer_index, self.fx)
        };
        let bytes = self.fx.signers[signer_index].sign_body(counter, timestamp, &body);
        report.push(self.submit(&bytes));
        if mode == Mode::Twice {
            let r = self.submit(&bytes);
            assert!(r.is_err(), "the same request was accepted twice: {r:?}");
            report.push(r);
        }
        report
    }
}

/// Runs one input on a fresh relay and checks every submission (see the
/// module documentation). Panics if a check fails. Returns what the relay
/// answered, step by step.
pub fn run(data: &[u8]) -> Vec<StepReport> {
    let mut h = Harness::new();
    let mut rest = data;
    let mut reports = Vec::new();
    while reports.len() < MAX_STEPS && rest.len() >= 3 {
        let control = rest[0];
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]]));
        let end = (3 + len).min(rest.len());
        let body = &rest[3..end];
        rest = &rest[end..];
        reports.push(h.step(control, body));
    }
    reports
}

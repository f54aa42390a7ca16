//! Snapshots of the `Debug` output of every type that prints by hand
//! rather than by `derive`: keys, stores, authorities, sessions, records,
//! the relay. Each is built from fixed bytes, so its output is fixed: the
//! snapshot says exactly what a log shows (public identifiers, lengths,
//! counts), and the checks below it that no secret byte is among it. A
//! change of any `Debug` shows up here as a changed line to review.

use hotline::business::{BusinessId, Fingerprint, RootAuthority, TrustStore, Validity};
use hotline::hazmat::ed25519::Ed25519Secret;
use hotline::hazmat::kem::KemSecret;
use hotline::hazmat::x25519::X25519Secret;
use hotline::relay::{
    AccountId, ConsentScope, Envelope, EnvelopeHeader, FrankingKey, FrankingStamp, ManualClock,
    MessageClass, MessageId, Relay, RelayKey, ReportReason, Reportable, SpamReport,
};
use hotline::store::{Client, EncryptedStore, MemoryBackend, PeerId, StorageKey};
use hotline::{IdentityKeyPair, PreKeyStore};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const ED_SEED: [u8; 32] = [0x6A; 32];
const X_SECRET: [u8; 32] = [0x6B; 32];
const KEM_SEED: [u8; 64] = [0x6C; 64];
const STORAGE_KEY: [u8; 32] = [0x6D; 32];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every snapshot: (what, `{:?}` output).
fn shown() -> Vec<(&'static str, String)> {
    let mut r = ChaCha20Rng::seed_from_u64(7);
    let identity = IdentityKeyPair::from_secret_bytes(&ED_SEED, &X_SECRET);
    let peer_identity = IdentityKeyPair::from_secret_bytes(&[0x21; 32], &[0x22; 32]);
    let ed = Ed25519Secret::from_seed(&ED_SEED);
    let kem = KemSecret::from_seed(KEM_SEED);
    let x = X25519Secret::from_bytes(X_SECRET);
    let prekeys = PreKeyStore::new(&identity, 2, 3, &mut r);
    let business = AccountId([0xB0; 32]);
    let header = EnvelopeHeader {
        sender: AccountId::of(&identity.public()),
        recipient: business,
        message_id: MessageId([0x4D; 16]),
        class: MessageClass::Chat,
        sent_at: 1_800_000_000,
        franking: FrankingKey::from_bytes([0x4B; 32]).commit(b"Is my flight on time?"),
    };
    let report = SpamReport::sign(
        &identity,
        &Reportable {
            header,
            received_at: 1_800_000_003,
            stamp: FrankingStamp([0x53; 32]),
            key: FrankingKey::from_bytes([0x4B; 32]),
        },
        b"Is my flight on time?",
        ReportReason::Fraud,
        1_800_000_004,
    );
    let envelope = Envelope {
        header,
        ciphertext: vec![0xEE; 77],
    };
    let store = EncryptedStore::new(
        StorageKey::from_bytes(STORAGE_KEY),
        MemoryBackend::default(),
    );
    let mut client = Client::create_with(store, identity.clone(), prekeys.clone()).unwrap();
    let responder = Client::create(
        EncryptedStore::new(StorageKey::from_bytes([0x31; 32]), MemoryBackend::default()),
        1,
        1,
        &mut r,
    )
    .unwrap();
    let pb = PeerId::new("business").unwrap();
    client
        .start_session(&pb, &responder.bundle().unwrap(), &mut r)
        .unwrap();
    let record = client.sessions(&pb).unwrap().unwrap();
    let always = Validity {
        not_before: 0,
        not_after: u64::MAX,
    };
    let root = RootAuthority::from_seed(&ED_SEED, 9, always);
    let relay = Relay::new(
        hotline::relay::MemoryStore::new(),
        ManualClock::new(1_800_000_000),
        TrustStore::new(),
    )
    .with_key(RelayKey::from_seed(&ED_SEED));
    vec![
        ("Ed25519Secret", format!("{ed:?}")),
        ("Ed25519Public", format!("{:?}", ed.public_key())),
        ("KemSecret", format!("{kem:?}")),
        ("KemPublic", format!("{:?}", kem.public_key())),
        ("X25519Secret", format!("{x:?}")),
        ("X25519Public", format!("{:?}", x.public_key())),
        ("IdentityKeyPair", format!("{identity:?}")),
        ("IdentityKey", format!("{:?}", identity.public())),
        ("PreKeyStore", format!("{prekeys:?}")),
        (
            "StorageKey",
            format!("{:?}", StorageKey::from_bytes(STORAGE_KEY)),
        ),
        ("RootAuthority", format!("{root:?}")),
        ("BusinessId", format!("{:?}", BusinessId([0x4B; 16]))),
        (
            "Fingerprint",
            format!(
                "{:?}",
                Fingerprint::new(&identity.public(), &peer_identity.public())
            ),
        ),
        ("AccountId", format!("{business:?}")),
        ("Envelope", format!("{envelope:?}")),
        (
            "ConsentRecord",
            format!(
                "{:?}",
                client.consent_record(business, ConsentScope::ALL, 1_800_000_001)
            ),
        ),
        (
            "BlockRecord",
            format!("{:?}", client.block_record(business, true, 1_800_000_002)),
        ),
        ("Session", format!("{:?}", record.active())),
        ("SessionRecord", format!("{record:?}")),
        ("Client", format!("{client:?}")),
        ("EncryptedStore", format!("{:?}", client.store())),
        ("relay MemoryStore", format!("{:?}", relay.store())),
        ("RelayKey", format!("{:?}", RelayKey::from_seed(&ED_SEED))),
        (
            "FrankingKey",
            format!("{:?}", FrankingKey::from_bytes([0x4B; 32])),
        ),
        ("SpamReport", format!("{report:?}")),
        ("Relay", format!("{relay:?}")),
    ]
}

/// The expected output, in the order of [`shown`] (the relay apart: its
/// limits are checked where they are defined).
const SNAPSHOT: &[(&str, &str)] = &[
    ("Ed25519Secret", "Ed25519Secret(<redacted>)"),
    (
        "Ed25519Public",
        "Ed25519Public(750826c281a4f691a41ffb03ef1b4287568ebfc52ec5cca89d953e5a0093abd5)",
    ),
    ("KemSecret", "KemSecret(<redacted>)"),
    ("KemPublic", "KemPublic(efeac59754349861..)"),
    ("X25519Secret", "X25519Secret(<redacted>)"),
    (
        "X25519Public",
        "X25519Public(8462fb3f0798f9fe2c39f3823bb41cd3effe70bb5c81735be46a143135c58454)",
    ),
    (
        "IdentityKeyPair",
        "IdentityKeyPair { public: IdentityKey(750826c281a4f691), .. }",
    ),
    ("IdentityKey", "IdentityKey(750826c281a4f691)"),
    (
        "PreKeyStore",
        "PreKeyStore { identity: IdentityKey(750826c281a4f691), signed_prekey_id: 1, one_time: 2, kem_one_time: 3, .. }",
    ),
    ("StorageKey", "StorageKey(id 68580cde71a488f8)"),
    ("RootAuthority", "RootAuthority { root_id: 9, .. }"),
    ("BusinessId", "BusinessId(4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b)"),
    (
        "Fingerprint",
        "Fingerprint(16295 05699 99934 29573 35916 01640 10621 63916 97015 10820 63363 69498)",
    ),
    ("AccountId", "AccountId(b0b0b0b0b0b0b0b0)"),
    (
        "Envelope",
        "Envelope { header: EnvelopeHeader { sender: AccountId(750826c281a4f691), recipient: AccountId(b0b0b0b0b0b0b0b0), message_id: MessageId([77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77]), class: Chat, sent_at: 1800000000, franking: FrankingTag(318f44f6bc73e4cd) }, ciphertext_len: 77 }",
    ),
    (
        "ConsentRecord",
        "ConsentRecord { customer: AccountId(750826c281a4f691), business: AccountId(b0b0b0b0b0b0b0b0), scope: ConsentScope { chat: true, notifications: true }, time: 1800000001 }",
    ),
    (
        "BlockRecord",
        "BlockRecord { blocker: Customer, customer: AccountId(750826c281a4f691), business: AccountId(b0b0b0b0b0b0b0b0), blocked: true, time: 1800000002 }",
    ),
    (
        "Session",
        "Session { role: Initiator, local: IdentityKey(750826c281a4f691), peer: Unverified(IdentityKey(3d0b3660c40b3736)), .. }",
    ),
    (
        "SessionRecord",
        "SessionRecord { active: Session { role: Initiator, local: IdentityKey(750826c281a4f691), peer: Unverified(IdentityKey(3d0b3660c40b3736)), .. }, previous: 0 }",
    ),
    (
        "Client",
        "Client { identity: IdentityKey(750826c281a4f691), .. }",
    ),
    (
        "EncryptedStore",
        "EncryptedStore { key: StorageKey(id 68580cde71a488f8), .. }",
    ),
    ("relay MemoryStore", "MemoryStore { .. }"),
    ("RelayKey", "RelayKey(RelayPublicKey(750826c281a4f691))"),
    ("FrankingKey", "FrankingKey(..)"),
    (
        "SpamReport",
        "SpamReport { header: EnvelopeHeader { sender: AccountId(750826c281a4f691), recipient: AccountId(b0b0b0b0b0b0b0b0), message_id: MessageId([77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77, 77]), class: Chat, sent_at: 1800000000, franking: FrankingTag(318f44f6bc73e4cd) }, received_at: 1800000003, reason: Fraud, time: 1800000004, content_len: 21, .. }",
    ),
];

#[test]
fn debug_output_matches_its_snapshot() {
    let mut shown = shown();
    let (what, relay) = shown.pop().unwrap();
    assert_eq!(what, "Relay");
    assert!(
        relay.starts_with("Relay { limits: MailboxLimits { "),
        "{relay}"
    );
    assert!(relay.contains(" }, rate_limits: RateLimits { "), "{relay}");
    assert!(
        relay.ends_with(" }, key: RelayPublicKey(750826c281a4f691), .. }"),
        "{relay}"
    );
    assert_eq!(shown.len(), SNAPSHOT.len());
    for ((what, s), (snap_what, snap)) in shown.iter().zip(SNAPSHOT) {
        assert_eq!((*what, s.as_str()), (*snap_what, *snap));
    }
}

/// No secret byte in any of it: neither the identity's, nor the KEM seed,
/// nor the storage key, as hex or as a list of numbers.
#[test]
fn debug_output_holds_no_secret_byte() {
    let decimal = |b: &[u8]| {
        b[..4]
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (what, s) in shown() {
        assert!(!s.is_empty(), "{what}");
        for secret in [&ED_SEED[..], &X_SECRET, &KEM_SEED, &STORAGE_KEY] {
            assert!(!s.contains(&hex(&secret[..4])), "{what}: {s}");
            assert!(!s.contains(&decimal(secret)), "{what}: {s}");
        }
    }
}

/// The SQLite client backend prints its type and nothing it holds.
#[cfg(feature = "sqlite")]
#[test]
fn sqlite_backend_debug_names_the_backend_only() {
    let backend = hotline::store::SqliteBackend::open_in_memory().unwrap();
    assert_eq!(format!("{backend:?}"), "SqliteBackend { .. }");
    let store = EncryptedStore::new(StorageKey::from_bytes(STORAGE_KEY), backend);
    assert_eq!(
        format!("{store:?}"),
        "EncryptedStore { key: StorageKey(id 68580cde71a488f8), .. }"
    );
}

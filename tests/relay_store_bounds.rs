//! The relay stores at their limits, called directly through
//! `Box<dyn RelayStore>` (as a relay holds them): a fetch of exactly the
//! waiting envelopes, acknowledgement counts and the byte budget it frees,
//! the remembered-id limit, the per-kind prekey limit, and block records.
//! Every test runs on the in-memory store and, with the `sqlite` feature,
//! on the SQLite store.

use hotline::IdentityKeyPair;
use hotline::relay::{
    AccountId, BlockRecord, EnqueueOutcome, Envelope, EnvelopeHeader, MailboxLimits, MessageClass,
    MessageId, PreKeyUpload, RelayStore, SendEffects, StoredEnvelope, UploadOutcome,
};
use hotline::{PreKeyStore, constants::ENVELOPE_TTL_SECS};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const T0: u64 = 1_800_000_000;
const RECIPIENT: AccountId = AccountId([0xA1; 32]);
const SENDER: AccountId = AccountId([0x5E; 32]);

fn stores() -> Vec<(&'static str, Box<dyn RelayStore>)> {
    #[allow(unused_mut)]
    let mut out: Vec<(&'static str, Box<dyn RelayStore>)> =
        vec![("memory", Box::new(hotline::relay::MemoryStore::new()))];
    #[cfg(feature = "sqlite")]
    {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!("hotline-bounds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.db", N.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_file(&path);
        out.push((
            "sqlite",
            Box::new(hotline::relay::SqliteStore::open(path).unwrap()),
        ));
    }
    out
}

/// An envelope to `RECIPIENT` with message id `n` and a ciphertext of `len`
/// bytes, stored at `at`.
fn envelope(n: u8, len: usize, at: u64) -> StoredEnvelope {
    let message_id = MessageId([n; 16]);
    let e = Envelope {
        header: EnvelopeHeader {
            sender: SENDER,
            recipient: RECIPIENT,
            message_id,
            class: MessageClass::Chat,
            sent_at: at,
            franking: Default::default(),
        },
        ciphertext: vec![n; len],
    };
    StoredEnvelope {
        recipient: RECIPIENT,
        sender: SENDER,
        message_id,
        received_at: at,
        bytes: e.to_bytes(),
    }
}

fn unlimited() -> MailboxLimits {
    MailboxLimits {
        max_envelopes: usize::MAX,
        max_bytes: usize::MAX,
        ..MailboxLimits::default()
    }
}

fn enqueue(s: &dyn RelayStore, e: &StoredEnvelope, limits: &MailboxLimits) -> EnqueueOutcome {
    s.enqueue(e, SendEffects::default(), limits, e.received_at)
        .unwrap()
}

fn stored(outcome: EnqueueOutcome) -> u64 {
    match outcome {
        EnqueueOutcome::Stored(id) => id,
        other => panic!("not stored: {other:?}"),
    }
}

#[test]
fn fetch_reports_more_only_when_more_are_waiting() {
    for (name, s) in stores() {
        let limits = unlimited();
        for n in 0..3 {
            stored(enqueue(&*s, &envelope(n, 10, T0), &limits));
        }
        let (all, more) = s.fetch(&RECIPIENT, 3, &limits, T0).unwrap();
        assert_eq!(all.len(), 3, "{name}");
        assert!(!more, "{name}: exactly the waiting ones fetched, none left");
        let (first, more) = s.fetch(&RECIPIENT, 2, &limits, T0).unwrap();
        assert_eq!(first.len(), 2, "{name}");
        assert!(more, "{name}: one left");
        assert_eq!(first[..], all[..2], "{name}: oldest first");
        let (none, more) = s.fetch(&RECIPIENT, 0, &limits, T0).unwrap();
        assert!(none.is_empty() && more, "{name}");
        let (none, more) = s.fetch(&AccountId([0; 32]), 5, &limits, T0).unwrap();
        assert!(none.is_empty() && !more, "{name}");
    }
}

#[test]
fn acknowledge_counts_what_it_deleted_and_frees_its_bytes() {
    for (name, s) in stores() {
        let a = envelope(1, 100, T0);
        let size = a.bytes.len();
        let limits = MailboxLimits {
            max_bytes: 2 * size,
            ..unlimited()
        };
        let id_a = stored(enqueue(&*s, &a, &limits));
        let id_b = stored(enqueue(&*s, &envelope(2, 100, T0), &limits));
        assert_eq!(
            enqueue(&*s, &envelope(3, 1, T0), &limits),
            EnqueueOutcome::Full,
            "{name}: the byte budget is used up"
        );
        assert_eq!(
            s.acknowledge(&RECIPIENT, &[id_a, id_a, 9_999], &limits, T0)
                .unwrap(),
            1,
            "{name}: one deleted, the repeat and the unknown id ignored"
        );
        // Exactly `size` bytes are free again: one byte more does not fit...
        assert_eq!(
            enqueue(&*s, &envelope(4, 101, T0), &limits),
            EnqueueOutcome::Full,
            "{name}"
        );
        // ...the same size does.
        let id_c = stored(enqueue(&*s, &envelope(5, 100, T0), &limits));
        assert_eq!(
            s.acknowledge(&RECIPIENT, &[id_b, id_c], &limits, T0)
                .unwrap(),
            2,
            "{name}"
        );
        let (left, _) = s.fetch(&RECIPIENT, 10, &limits, T0).unwrap();
        assert!(left.is_empty(), "{name}");
        assert_eq!(
            s.acknowledge(&AccountId([0; 32]), &[id_b], &limits, T0)
                .unwrap(),
            0,
            "{name}: an unknown mailbox"
        );
    }
}

/// With room for one remembered id, the last acknowledged message is still
/// refused as a duplicate and the one before it is forgotten.
#[test]
fn remembered_ids_are_bounded_and_keep_the_newest() {
    for (name, s) in stores() {
        let limits = MailboxLimits {
            remembered_ids: 1,
            ..unlimited()
        };
        let (a, b) = (envelope(1, 10, T0), envelope(2, 10, T0 + 1));
        let id_a = stored(enqueue(&*s, &a, &limits));
        let id_b = stored(enqueue(&*s, &b, &limits));
        assert_eq!(
            s.acknowledge(&RECIPIENT, &[id_a], &limits, T0 + 2).unwrap(),
            1
        );
        assert_eq!(
            s.acknowledge(&RECIPIENT, &[id_b], &limits, T0 + 3).unwrap(),
            1
        );
        let retry = |e: &StoredEnvelope| StoredEnvelope {
            received_at: T0 + 4,
            ..e.clone()
        };
        assert_eq!(
            enqueue(&*s, &retry(&b), &limits),
            EnqueueOutcome::Duplicate,
            "{name}: the newest acknowledged id is remembered"
        );
        assert!(
            matches!(enqueue(&*s, &retry(&a), &limits), EnqueueOutcome::Stored(_)),
            "{name}: the older one was forgotten"
        );
    }
}

#[test]
fn expire_counts_the_envelopes_it_deleted() {
    for (name, s) in stores() {
        let limits = unlimited();
        stored(enqueue(&*s, &envelope(1, 10, T0), &limits));
        stored(enqueue(&*s, &envelope(2, 10, T0 + 1), &limits));
        stored(enqueue(&*s, &envelope(3, 10, T0 + 5), &limits));
        assert_eq!(
            s.expire(&limits, T0 + ENVELOPE_TTL_SECS + 1).unwrap(),
            2,
            "{name}"
        );
        let (left, _) = s.fetch(&RECIPIENT, 10, &limits, T0 + 2).unwrap();
        assert_eq!(left.len(), 1, "{name}");
    }
}

fn prekeys(seed: u64, n: usize) -> PreKeyStore {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    let identity = IdentityKeyPair::generate(&mut r);
    PreKeyStore::new(&identity, n, n, &mut r)
}

fn upload(
    p: &PreKeyStore,
    one_time: std::ops::Range<usize>,
    kem: std::ops::Range<usize>,
) -> PreKeyUpload {
    PreKeyUpload {
        signed_prekey: Some(p.signed_prekey()),
        last_resort_kem_prekey: Some(p.last_resort_kem_prekey()),
        one_time_prekeys: p.one_time_prekeys()[one_time].to_vec(),
        kem_prekeys: p.kem_prekeys()[kem].to_vec(),
    }
}

/// Each one-time kind may hold exactly `max_per_kind` prekeys: filling it
/// is stored, one more of either kind is refused whole, and uploading a
/// prekey already held (or the same one twice) does not count again.
#[test]
fn prekeys_up_to_the_limit_per_kind() {
    const MAX: usize = 3;
    for (name, s) in stores() {
        let p = prekeys(7, MAX + 1);
        let owner = AccountId([0x0B; 32]);
        let add = |u: &PreKeyUpload| s.add_prekeys(&owner, u, MAX).unwrap();
        // Two of each, with a prekey repeated: counts once.
        let mut first = upload(&p, 0..2, 0..2);
        first.one_time_prekeys.push(first.one_time_prekeys[0]);
        first.kem_prekeys.push(first.kem_prekeys[1].clone());
        assert_eq!(add(&first), UploadOutcome::Stored, "{name}");
        assert_eq!(s.prekey_counts(&owner).unwrap(), (2, 2), "{name}");
        // Up to the limit, re-sending those already held: stored.
        assert_eq!(
            add(&upload(&p, 0..3, 0..3)),
            UploadOutcome::Stored,
            "{name}"
        );
        assert_eq!(s.prekey_counts(&owner).unwrap(), (MAX, MAX), "{name}");
        assert_eq!(
            add(&upload(&p, 1..3, 0..1)),
            UploadOutcome::Stored,
            "{name}"
        );
        // One past it, in either kind alone: refused, nothing changes.
        for over in [upload(&p, 3..4, 0..0), upload(&p, 0..0, 3..4)] {
            assert_eq!(add(&over), UploadOutcome::TooMany, "{name}");
            assert_eq!(s.prekey_counts(&owner).unwrap(), (MAX, MAX), "{name}");
        }
        // A fresh account: one past the limit in a single upload.
        let other = AccountId([0x0C; 32]);
        assert_eq!(
            s.add_prekeys(&other, &upload(&p, 0..MAX + 1, 0..1), MAX)
                .unwrap(),
            UploadOutcome::TooMany,
            "{name}"
        );
        assert_eq!(
            s.add_prekeys(&other, &upload(&p, 0..1, 0..MAX + 1), MAX)
                .unwrap(),
            UploadOutcome::TooMany,
            "{name}"
        );
        assert_eq!(s.prekey_counts(&other).unwrap(), (0, 0), "{name}");
    }
}

/// A block record is stored only if it comes after the pair's last one
/// (ordered at its effective time; a block wins a tie); the boxed store
/// reports what the store did.
#[test]
fn block_records_are_stored_only_when_newer() {
    for (name, s) in stores() {
        let customer = IdentityKeyPair::from_secret_bytes(&[0x11; 32], &[0x12; 32]);
        let business = AccountId([0xB0; 32]);
        let block = |blocked, time| BlockRecord::sign(&customer, business, blocked, time);
        assert!(s.put_block(&block(true, T0), T0).unwrap(), "{name}: first");
        assert!(
            !s.put_block(&block(false, T0), T0).unwrap(),
            "{name}: an unblock of the same second loses"
        );
        assert!(
            !s.put_block(&block(false, T0 - 1), T0 - 1).unwrap(),
            "{name}: older"
        );
        let customer_id = AccountId::of(&customer.public());
        assert_eq!(
            s.pair(&customer_id, &business).unwrap().block,
            Some(block(true, T0)),
            "{name}: the refused records changed nothing"
        );
        assert!(
            s.put_block(&block(false, T0 + 1), T0 + 1).unwrap(),
            "{name}: newer"
        );
        assert_eq!(
            s.pair(&customer_id, &business).unwrap().block,
            Some(block(false, T0 + 1)),
            "{name}"
        );
    }
}

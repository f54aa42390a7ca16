// The contract of `RelayStore` called directly, without a relay in front:
// accounts, counters, stapled statuses, bundles, mailboxes. Included by
// each backend's test file, which defines `new_store()` returning a fresh,
// empty store (tests/relay_store_contract.rs: memory and SQLite). It adds
// to the relay suite (suite.rs), which checks the same stores through the
// relay's rules.

use hotline::relay::{
    AccountId, AccountKind, AccountRecord, EnqueueOutcome, Envelope, EnvelopeHeader,
    MailboxLimits, MessageClass, MessageId, PreKeyUpload, RelayStore, SendEffects,
    StoredEnvelope, UploadOutcome,
};
use hotline::{IdentityKeyPair, PreKeyStore};

const T0: u64 = 1_800_000_000;

fn account(seed: u8, kind: AccountKind) -> AccountRecord {
    let identity = IdentityKeyPair::from_secret_bytes(&[seed; 32], &[seed ^ 0xFF; 32]).public();
    let business = kind == AccountKind::Business;
    AccountRecord {
        kind,
        identity,
        certificate_chain: if business { vec![seed; 40] } else { vec![] },
        name: if business { format!("Business {seed}") } else { String::new() },
    }
}

fn envelope(to: AccountId, from: AccountId, n: u8, at: u64) -> StoredEnvelope {
    let message_id = MessageId([n; 16]);
    let e = Envelope {
        header: EnvelopeHeader {
            sender: from,
            recipient: to,
            message_id,
            class: MessageClass::Chat,
            sent_at: at,
            franking: Default::default(),
        },
        ciphertext: vec![n; 24],
    };
    StoredEnvelope {
        recipient: to,
        sender: from,
        message_id,
        received_at: at,
        bytes: e.to_bytes(),
    }
}

/// An account is registered once: a second registration of the same
/// identity is refused and changes nothing, not even the counter.
#[test]
fn store_contract_an_account_is_registered_once() {
    let s = new_store();
    let business = account(0x21, AccountKind::Business);
    let id = business.id();
    assert_eq!(s.account(&id).unwrap(), None);
    assert!(s.register(&business, 5).unwrap());
    assert_eq!(s.account(&id).unwrap(), Some(business.clone()));
    let mut again = business.clone();
    again.name = "Another name".into();
    assert!(!s.register(&again, 1).unwrap());
    assert_eq!(s.account(&id).unwrap(), Some(business.clone()));
    // The first registration's counter still stands: 5 is not above it.
    assert_eq!(s.advance_counter(&id, 5).unwrap(), Err(5));
    let customer = account(0x22, AccountKind::Customer);
    assert!(s.register(&customer, 0).unwrap());
    let businesses = s.businesses().unwrap();
    assert_eq!(businesses, vec![business], "customers are not businesses");
}

/// A request counter only goes up: one above the last is accepted and
/// becomes the last; the same or a lower one is refused with the last.
#[test]
fn store_contract_counters_only_go_up() {
    let s = new_store();
    let a = account(0x23, AccountKind::Customer);
    let id = a.id();
    assert!(s.register(&a, 10).unwrap());
    assert_eq!(s.advance_counter(&id, 10).unwrap(), Err(10));
    assert_eq!(s.advance_counter(&id, 9).unwrap(), Err(10));
    assert_eq!(s.advance_counter(&id, 11).unwrap(), Ok(()));
    assert_eq!(s.advance_counter(&id, 11).unwrap(), Err(11));
    assert_eq!(s.advance_counter(&id, u64::MAX).unwrap(), Ok(()));
    assert_eq!(s.advance_counter(&id, 12).unwrap(), Err(u64::MAX));
}

/// A stapled status is replaced only by a newer one (by `this_update`),
/// and a renewal of the business drops it; only a business renews.
#[test]
fn store_contract_statuses_are_kept_newest_first_and_dropped_on_renewal() {
    let s = new_store();
    let business = account(0x24, AccountKind::Business);
    let id = business.id();
    assert!(s.register(&business, 0).unwrap());
    assert_eq!(s.status(&id).unwrap(), None);
    assert!(s.put_status(&id, T0, b"status at T0").unwrap());
    assert!(!s.put_status(&id, T0, b"same time").unwrap());
    assert!(!s.put_status(&id, T0 - 1, b"older").unwrap());
    assert_eq!(s.status(&id).unwrap().as_deref(), Some(&b"status at T0"[..]));
    assert!(s.put_status(&id, T0 + 1, b"newer").unwrap());
    assert_eq!(s.status(&id).unwrap().as_deref(), Some(&b"newer"[..]));

    assert!(s.renew_business(&id, &[0x99; 50], "Renewed").unwrap());
    let renewed = s.account(&id).unwrap().unwrap();
    assert_eq!(
        (renewed.certificate_chain, renewed.name.as_str()),
        (vec![0x99; 50], "Renewed")
    );
    assert_eq!(s.status(&id).unwrap(), None, "a renewal drops the status");
    // After the drop, any status is newer than none.
    assert!(s.put_status(&id, T0 - 5, b"after renewal").unwrap());

    let customer = account(0x25, AccountKind::Customer);
    assert!(s.register(&customer, 0).unwrap());
    assert!(!s.renew_business(&customer.id(), &[1; 10], "Not a business").unwrap());
    assert!(!s.renew_business(&AccountId([0x77; 32]), &[1; 10], "Nobody").unwrap());
    assert_eq!(s.account(&customer.id()).unwrap(), Some(customer));
}

/// A bundle hands out one-time prekeys once each; with one-time prekeys
/// withheld it hands out the last-resort KEM prekey and changes nothing.
#[test]
fn store_contract_bundles_hand_out_one_time_prekeys_once() {
    let s = new_store();
    let owner = IdentityKeyPair::from_secret_bytes(&[0x26; 32], &[0x27; 32]);
    let id = AccountId::of(&owner.public());
    let mut r = <rand_chacha::ChaCha20Rng as rand::SeedableRng>::seed_from_u64(26);
    let p = PreKeyStore::new(&owner, 2, 1, &mut r);
    assert_eq!(s.take_bundle_parts(&id, true).unwrap(), None, "no prekeys yet");
    let upload = PreKeyUpload {
        signed_prekey: Some(p.signed_prekey()),
        last_resort_kem_prekey: Some(p.last_resort_kem_prekey()),
        one_time_prekeys: p.one_time_prekeys(),
        kem_prekeys: p.kem_prekeys(),
    };
    assert_eq!(s.add_prekeys(&id, &upload, 10).unwrap(), UploadOutcome::Stored);
    assert_eq!(s.prekey_counts(&id).unwrap(), (2, 1));

    let withheld = s.take_bundle_parts(&id, false).unwrap().unwrap();
    assert_eq!(withheld.one_time_prekey, None);
    assert_eq!(withheld.kem_prekey, p.last_resort_kem_prekey());
    assert_eq!(s.prekey_counts(&id).unwrap(), (2, 1), "nothing taken");

    let first = s.take_bundle_parts(&id, true).unwrap().unwrap();
    let second = s.take_bundle_parts(&id, true).unwrap().unwrap();
    let third = s.take_bundle_parts(&id, true).unwrap().unwrap();
    assert_eq!(first.signed_prekey, p.signed_prekey());
    let handed: Vec<_> = [&first, &second, &third]
        .iter()
        .filter_map(|b| b.one_time_prekey)
        .collect();
    assert_eq!(handed.len(), 2, "each one-time prekey once");
    assert_ne!(handed[0], handed[1]);
    assert_eq!(first.kem_prekey, p.kem_prekeys()[0], "the one-time KEM prekey first");
    assert_eq!(second.kem_prekey, p.last_resort_kem_prekey(), "then the last resort");
    assert_eq!(s.prekey_counts(&id).unwrap(), (0, 0));
    // Handed out, they are never stored again.
    assert_ne!(s.add_prekeys(&id, &upload, 10).unwrap(), UploadOutcome::Stored);
    assert_eq!(s.prekey_counts(&id).unwrap(), (0, 0));
}

/// A mailbox keeps each (sender, message id) once: a retry is a duplicate
/// while it waits and, remembered, after it was acknowledged; deliveries
/// come oldest first, whoever sent them, and only to their recipient.
#[test]
fn store_contract_mailboxes_deliver_once_oldest_first() {
    let s = new_store();
    let limits = MailboxLimits::default();
    let (to, a, b) = (AccountId([0x31; 32]), AccountId([0x32; 32]), AccountId([0x33; 32]));
    let e1 = envelope(to, a, 1, T0);
    let e2 = envelope(to, b, 1, T0 + 1);
    let e3 = envelope(to, a, 2, T0 + 2);
    let mut ids = Vec::new();
    for e in [&e1, &e2, &e3] {
        assert!(!s.is_stored(&to, &e.sender, &e.message_id, &limits, e.received_at).unwrap());
        match s.enqueue(e, SendEffects::default(), &limits, e.received_at).unwrap() {
            EnqueueOutcome::Stored(id) => ids.push(id),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        s.enqueue(&e1, SendEffects::default(), &limits, T0 + 3).unwrap(),
        EnqueueOutcome::Duplicate
    );
    assert!(s.is_stored(&to, &a, &e1.message_id, &limits, T0 + 3).unwrap());
    // The same message id from another sender is another message (e2).
    let (got, more) = s.fetch(&to, 10, &limits, T0 + 3).unwrap();
    assert!(!more);
    let bytes: Vec<Vec<u8>> = got.iter().map(|d| d.envelope.to_bytes()).collect();
    assert_eq!(bytes, [e1.bytes.clone(), e2.bytes.clone(), e3.bytes.clone()]);
    let times: Vec<u64> = got.iter().map(|d| d.received_at).collect();
    assert_eq!(times, [T0, T0 + 1, T0 + 2]);
    let delivered: Vec<u64> = got.iter().map(|d| d.id).collect();
    assert_eq!(delivered, ids);
    assert!(s.fetch(&a, 10, &limits, T0 + 3).unwrap().0.is_empty());

    assert_eq!(s.acknowledge(&to, &ids[..1], &limits, T0 + 4).unwrap(), 1);
    assert!(
        s.is_stored(&to, &a, &e1.message_id, &limits, T0 + 4).unwrap(),
        "an acknowledged message is remembered against retries"
    );
    assert_eq!(
        s.enqueue(&e1, SendEffects::default(), &limits, T0 + 5).unwrap(),
        EnqueueOutcome::Duplicate
    );
    let (left, _) = s.fetch(&to, 10, &limits, T0 + 5).unwrap();
    assert_eq!(left.len(), 2);
    assert_eq!(left[0].envelope.to_bytes(), e2.bytes);
    // Another recipient cannot acknowledge them.
    assert_eq!(s.acknowledge(&a, &ids, &limits, T0 + 6).unwrap(), 0);
    assert_eq!(s.fetch(&to, 10, &limits, T0 + 6).unwrap().0.len(), 2);
}

/// An erased customer (SPEC.md 14.15) leaves nothing but its id: its
/// record, prekeys, mailbox and windows go in one step, its id never
/// registers again, and a send to or from it or an upload for it that
/// reaches the store afterwards fails and changes nothing. Only a customer
/// is erased, once; what it sent stays with its recipient.
#[test]
fn store_contract_an_erased_customer_leaves_nothing_but_its_id() {
    let s = new_store();
    let l = MailboxLimits::default();
    let customer = IdentityKeyPair::from_secret_bytes(&[0x31; 32], &[0x32; 32]);
    let record = AccountRecord {
        kind: AccountKind::Customer,
        identity: customer.public(),
        certificate_chain: vec![],
        name: String::new(),
    };
    let (c, business) = (record.id(), account(0x33, AccountKind::Business));
    let b = business.id();
    assert!(s.register(&record, 1).unwrap());
    assert!(s.register(&business, 1).unwrap());
    let mut r = <rand_chacha::ChaCha20Rng as rand::SeedableRng>::seed_from_u64(31);
    let p = PreKeyStore::new(&customer, 2, 1, &mut r);
    let upload = PreKeyUpload {
        signed_prekey: Some(p.signed_prekey()),
        last_resort_kem_prekey: Some(p.last_resort_kem_prekey()),
        one_time_prekeys: p.one_time_prekeys(),
        kem_prekeys: p.kem_prekeys(),
    };
    assert_eq!(s.add_prekeys(&c, &upload, 10).unwrap(), UploadOutcome::Stored);
    let window = SendEffects {
        open_window: Some((c, b)),
    };
    let stored = |o| matches!(o, Ok(EnqueueOutcome::Stored(_)));
    assert!(stored(s.enqueue(&envelope(b, c, 1, T0), window, &l, T0)));
    assert!(stored(s.enqueue(&envelope(c, b, 2, T0), SendEffects::default(), &l, T0)));
    assert_eq!(s.pair(&c, &b).unwrap().last_customer_message, Some(T0));

    let unknown = AccountId([0x77; 32]);
    assert!(!s.delete_account(&b, T0).unwrap(), "a business is not erased");
    assert!(!s.delete_account(&unknown, T0).unwrap(), "nor an unknown id");
    assert_eq!(s.account(&b).unwrap(), Some(business.clone()));
    assert_eq!(s.deleted_at(&b).unwrap(), None);
    assert_eq!(s.deleted_at(&unknown).unwrap(), None);

    let identity = customer.public().to_bytes();
    let holds_identity = |dump: Vec<u8>| dump.windows(identity.len()).any(|w| w == identity);
    assert!(
        holds_identity(s.dump().unwrap()),
        "the dump holds every account's identity key"
    );

    assert!(s.delete_account(&c, T0 + 5).unwrap());
    assert!(!s.delete_account(&c, T0 + 6).unwrap(), "once");
    assert_eq!(s.deleted_at(&c).unwrap(), Some(T0 + 5));
    assert_eq!(s.account(&c).unwrap(), None);
    assert_eq!(s.prekey_counts(&c).unwrap(), (0, 0));
    assert_eq!(s.take_bundle_parts(&c, true).unwrap(), None);
    assert!(s.fetch(&c, 10, &l, T0 + 5).unwrap().0.is_empty());
    assert_eq!(s.pair(&c, &b).unwrap().last_customer_message, None);
    assert_eq!(s.fetch(&b, 10, &l, T0 + 5).unwrap().0.len(), 1, "what it sent stays");
    assert!(!holds_identity(s.dump().unwrap()), "its identity key is gone");

    assert!(!s.register(&record, 9).unwrap(), "its id never registers again");
    assert_eq!(s.account(&c).unwrap(), None);
    let gone = |o: Result<EnqueueOutcome, hotline::relay::StoreError>| {
        matches!(o, Err(hotline::relay::StoreError::Backend(_)))
    };
    assert!(gone(s.enqueue(&envelope(c, b, 3, T0 + 6), SendEffects::default(), &l, T0 + 6)));
    assert!(gone(s.enqueue(&envelope(b, c, 4, T0 + 6), window, &l, T0 + 6)));
    assert!(matches!(
        s.add_prekeys(&c, &upload, 10),
        Err(hotline::relay::StoreError::Backend(_))
    ));
    assert_eq!(s.prekey_counts(&c).unwrap(), (0, 0));
    assert!(s.fetch(&c, 10, &l, T0 + 6).unwrap().0.is_empty());
    assert_eq!(s.fetch(&b, 10, &l, T0 + 6).unwrap().0.len(), 1);
    assert_eq!(s.pair(&c, &b).unwrap().last_customer_message, None);
}

/// Reports are kept once per reporter and message, counted per distinct
/// reporter from a time on, and deleted once past their retention as the
/// next report is recorded (SPEC.md 14.17).
#[test]
fn store_contract_reports_count_distinct_reporters_and_expire() {
    use hotline::constants::REPORT_RETENTION_SECS;
    use hotline::relay::StoredReport;
    let s = new_store();
    let b = account(1, AccountKind::Business).id();
    let (c1, c2, c3) = (
        account(2, AccountKind::Customer).id(),
        account(3, AccountKind::Customer).id(),
        account(4, AccountKind::Customer).id(),
    );
    let report = |customer, n: u8, time| StoredReport {
        business: b,
        customer,
        message_id: MessageId([n; 16]),
        time,
        bytes: vec![n; 50],
    };
    assert!(s.put_report(&report(c1, 1, T0)).unwrap());
    assert!(!s.put_report(&report(c1, 1, T0 + 5)).unwrap());
    assert!(s.put_report(&report(c1, 2, T0 + 10)).unwrap());
    assert!(s.put_report(&report(c2, 1, T0 + 20)).unwrap());
    assert_eq!(s.reporters(&b, 0).unwrap(), 2);
    assert_eq!(s.reporters(&b, T0 + 11).unwrap(), 1);
    assert_eq!(s.reporters(&b, T0 + 21).unwrap(), 0);
    assert_eq!(s.reporters(&c1, 0).unwrap(), 0);
    // One second before the first report's retention ends, it stays.
    assert!(s.put_report(&report(c3, 1, T0 + REPORT_RETENTION_SECS - 1)).unwrap());
    assert_eq!(s.reporters(&b, 0).unwrap(), 3);
    // At its end, the next report deletes it (c1's second report remains).
    assert!(s.put_report(&report(c3, 2, T0 + REPORT_RETENTION_SECS)).unwrap());
    assert_eq!(s.reporters(&b, 0).unwrap(), 3);
    assert!(s.put_report(&report(c3, 3, T0 + 10 + REPORT_RETENTION_SECS)).unwrap());
    assert_eq!(s.reporters(&b, 0).unwrap(), 2);
    // A deleted report can be made again.
    assert!(s.put_report(&report(c1, 1, T0 + 10 + REPORT_RETENTION_SECS)).unwrap());
    assert!(s.dump().unwrap().windows(50).any(|w| w == [3; 50]));
}

/// Reaches: the last notification time per customer, counted from a time
/// on; a business's reaches a rolling day old are forgotten as it reaches
/// the next customer (SPEC.md 14.17).
#[test]
fn store_contract_reaches_count_distinct_customers_and_are_forgotten() {
    use hotline::constants::REACH_WINDOW_SECS;
    let s = new_store();
    let (b, other) = (
        account(1, AccountKind::Business).id(),
        account(5, AccountKind::Business).id(),
    );
    let (c1, c2, c3) = (
        account(2, AccountKind::Customer).id(),
        account(3, AccountKind::Customer).id(),
        account(4, AccountKind::Customer).id(),
    );
    assert_eq!(s.reach(&b, &c1, 0).unwrap(), (false, 0));
    s.note_reach(&b, &c1, T0).unwrap();
    s.note_reach(&b, &c2, T0 + 10).unwrap();
    s.note_reach(&b, &c1, T0 + 5).unwrap();
    s.note_reach(&other, &c3, T0).unwrap();
    // c1 was reached again at T0 + 5: its reach is the later time.
    assert_eq!(s.reach(&b, &c1, T0 + 1).unwrap(), (true, 2));
    assert_eq!(s.reach(&b, &c1, T0 + 6).unwrap(), (false, 1));
    assert_eq!(s.reach(&b, &c3, 0).unwrap(), (false, 2));
    assert_eq!(s.reach(&other, &c3, 0).unwrap(), (true, 1));
    // A note dated before the one kept never moves it back.
    s.note_reach(&b, &c2, T0 + 1).unwrap();
    assert_eq!(s.reach(&b, &c2, T0 + 10).unwrap(), (true, 1));
    // A rolling day after c1's last reach, less one second, it is kept;
    // at a full day, the next note forgets it.
    s.note_reach(&b, &c3, T0 + 5 + REACH_WINDOW_SECS - 1).unwrap();
    assert_eq!(s.reach(&b, &c1, 0).unwrap(), (true, 3));
    s.note_reach(&b, &c3, T0 + 5 + REACH_WINDOW_SECS).unwrap();
    assert_eq!(s.reach(&b, &c1, 0).unwrap(), (false, 2));
    // Another business's reaches are its own.
    assert_eq!(s.reach(&other, &c3, 0).unwrap(), (true, 1));
}

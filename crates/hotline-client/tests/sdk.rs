//! The SDK against a real relay server on loopback: a conversation, the
//! outbox across a crash, the inbox across a crash, blocks and refusals.

mod common;

use std::time::Duration;

use common::*;
use hotline::IdentityKeyPair;
use hotline::relay::{ConsentScope, MessageClass, Refusal};
use hotline::store::StorageKey;
use hotline_client::{DeliveryState, Event};

fn key() -> StorageKey {
    StorageKey::generate(&mut rand::rng())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_and_a_business_talk_over_the_network() {
    let business_id = IdentityKeyPair::generate(&mut rand::rng());
    let (server, (business, mut bevents), (customer, mut cevents)) =
        relay_business_and_customer(&business_id).await;

    customer
        .consent(business.account(), ConsentScope::ALL)
        .await
        .unwrap();
    let info = customer.start_session(business.account()).await.unwrap();
    assert_eq!(info.badge, hotline::business::Badge::Unverified);
    let id = customer
        .send(
            business.account(),
            MessageClass::Chat,
            b"Where is my bag?".to_vec(),
        )
        .await
        .unwrap();
    let state = delivery_of(&mut cevents, id).await;
    assert_eq!(state, DeliveryState::Accepted);

    let m = next_message(&mut bevents).await;
    assert_eq!(m.body, b"Where is my bag?");
    assert_eq!(m.from, customer.account());
    business.confirm(m.seq).await.unwrap();
    business
        .send(m.from, MessageClass::Chat, b"On the next flight.".to_vec())
        .await
        .unwrap();
    let reply = next_message(&mut cevents).await;
    assert_eq!(reply.body, b"On the next flight.");
    assert_eq!(reply.from, business.account());

    // Both sides compute the same safety number.
    let a = customer.safety_number(business.account()).await.unwrap();
    let b = business.safety_number(customer.account()).await.unwrap();
    assert!(a.is_some());
    assert_eq!(a, b);

    // The relay acknowledged everything: nothing waits in either outbox.
    assert_eq!(customer.status().await.unwrap().outbox, 0);
    customer.shutdown().await;
    business.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_survives_a_crash_and_sends_the_same_ciphertext_once() {
    let business_id = IdentityKeyPair::generate(&mut rand::rng());
    let server = Server::start(&[&business_id], system_clock()).await;
    let (business, mut bevents) = open(business_config(&server.url, &key(), &business_id)).await;
    wait_for(&mut bevents, |e| {
        matches!(e, Event::Connected).then_some(())
    })
    .await;

    let dir = tempdir("outbox");
    let ckey = key();
    let cfg = config(&server.url, &ckey).database(dir.join("customer.db"));
    let (customer, _events) = open(cfg.clone()).await;
    customer
        .consent(business.account(), ConsentScope::ALL)
        .await
        .unwrap();
    customer.start_session(business.account()).await.unwrap();
    // The customer goes offline (a relay it cannot reach), queues three
    // messages, and crashes.
    customer.kill().await;
    let offline = config("http://127.0.0.1:9", &ckey).database(dir.join("customer.db"));
    let (customer, _events) = open(offline).await;
    for text in ["one", "two", "three"] {
        customer
            .send(
                business.account(),
                MessageClass::Chat,
                text.as_bytes().to_vec(),
            )
            .await
            .unwrap();
    }
    assert_eq!(customer.status().await.unwrap().outbox, 3);
    customer.kill().await;

    // Reopened against the real relay: the outbox goes out, in order.
    let (customer, mut cevents) = open(cfg).await;
    let mut got = Vec::new();
    while got.len() < 3 {
        let m = wait_for(&mut bevents, |e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .await;
        got.push(String::from_utf8(m.body).unwrap());
    }
    assert_eq!(got, ["one", "two", "three"]);
    wait_for(&mut cevents, |e| {
        matches!(e, Event::Delivery { .. }).then_some(())
    })
    .await;
    // Nothing more arrives.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), async {
            loop {
                if let Some(Event::Message(m)) = bevents.next().await {
                    return m;
                }
            }
        })
        .await
        .is_err()
    );
    customer.shutdown().await;
    business.shutdown().await;
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unconfirmed_messages_come_back_after_a_restart_and_are_never_received_twice() {
    let business_id = IdentityKeyPair::generate(&mut rand::rng());
    let server = Server::start(&[&business_id], system_clock()).await;
    let dir = tempdir("inbox");
    let bkey = key();
    let bcfg = business_config(&server.url, &bkey, &business_id).database(dir.join("b.db"));
    let (business, mut bevents) = open(bcfg.clone()).await;
    wait_for(&mut bevents, |e| {
        matches!(e, Event::Connected).then_some(())
    })
    .await;
    let (customer, _cevents) = open(config(&server.url, &key())).await;
    customer
        .consent(business.account(), ConsentScope::ALL)
        .await
        .unwrap();
    customer.start_session(business.account()).await.unwrap();
    for text in ["a", "b"] {
        customer
            .send(
                business.account(),
                MessageClass::Chat,
                text.as_bytes().to_vec(),
            )
            .await
            .unwrap();
    }
    let first = next_message(&mut bevents).await;
    let second = next_message(&mut bevents).await;
    assert_eq!(
        (first.body.as_slice(), second.body.as_slice()),
        (&b"a"[..], &b"b"[..])
    );
    business.confirm(first.seq).await.unwrap();
    business.kill().await;

    // Reopened: the unconfirmed message is emitted again, from the inbox,
    // with the same sequence number; the relay has nothing more.
    let (business, mut bevents) = open(bcfg).await;
    let again = next_message(&mut bevents).await;
    assert_eq!(again, second);
    let inbox = business.inbox(0, 10).await.unwrap();
    assert_eq!(inbox.len(), 2);
    business.shutdown().await;
    customer.shutdown().await;
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_business_is_refused_by_the_relay() {
    let business_id = IdentityKeyPair::generate(&mut rand::rng());
    let (server, (business, mut bevents), (customer, mut cevents)) =
        relay_business_and_customer(&business_id).await;
    let m = customer_says(&business, &mut bevents, &customer, b"hi").await;
    customer.block(business.account()).await.unwrap();
    let id = business
        .send(m.from, MessageClass::Chat, b"Buy more!".to_vec())
        .await
        .unwrap();
    let state = delivery_of(&mut bevents, id).await;
    assert_eq!(state, DeliveryState::Refused(Refusal::Blocked));
    // And the customer's client would not send to it either.
    assert!(
        customer
            .send(business.account(), MessageClass::Chat, b"x".to_vec())
            .await
            .is_err()
    );
    let _ = &mut cevents;
    customer.shutdown().await;
    business.shutdown().await;
    server.stop().await;
}

/// A customer reports a notification (SPEC.md 14.17): the inbox kept what
/// the report needs, the relay checks it and records it once, a message
/// not in the inbox cannot be reported, and a business cannot report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_reports_a_notification_and_the_relay_checks_it() {
    use hotline::relay::ReportReason;
    let business_id = IdentityKeyPair::generate(&mut rand::rng());
    let (server, (business, mut bevents), (customer, mut cevents)) =
        relay_business_and_customer(&business_id).await;
    let (asked, m) = hello_then_notification(
        (&business, &mut bevents),
        (&customer, &mut cevents),
        b"Win a free flight!",
    )
    .await;
    // The inbox kept the stamp and the franking key: the relay takes the
    // report once, then answers it as a duplicate.
    assert!(!customer.report(m.seq, ReportReason::Spam).await.unwrap());
    assert!(customer.report(m.seq, ReportReason::Spam).await.unwrap());
    assert!(matches!(
        customer.report(m.seq + 100, ReportReason::Spam).await,
        Err(hotline_client::Error::NotReportable(_))
    ));
    // A business does not report its customers' messages.
    assert!(matches!(
        business.report(asked.seq, ReportReason::Abuse).await,
        Err(hotline_client::Error::Refused(Refusal::WrongAccountKind))
    ));
    customer.shutdown().await;
    business.shutdown().await;
    server.stop().await;
}

/// A business checks its bill (SPEC.md 14.16): the notification the
/// customer received shows as delivered in the relay-signed states, and the
/// period's statement, checked against them, bills exactly it. Receipts
/// under another key are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_business_checks_its_bill_against_the_relays_signed_states() {
    use hotline::relay::{DeliveryState as State, RelayKey, period_of};
    let business_id = IdentityKeyPair::generate(&mut rand::rng());
    let (server, (business, mut bevents), (customer, mut cevents)) =
        relay_business_and_customer(&business_id).await;
    hello_then_notification(
        (&business, &mut bevents),
        (&customer, &mut cevents),
        b"Gate changed",
    )
    .await;
    // The customer's client acknowledges as it receives: poll, bounded,
    // until the relay logged the delivery.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let delivered = loop {
        let (states, _) = business.delivery_states(&server.key, 0, 100).await.unwrap();
        if let Some(r) = states.iter().find(|r| {
            r.entry().state == State::Delivered && r.entry().class == MessageClass::Notification
        }) {
            break *r;
        }
        assert!(std::time::Instant::now() < deadline, "no delivery state");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(delivered.entry().recipient, customer.account());
    let period = delivered.entry().billed_period().unwrap();
    assert_eq!(period, period_of(delivered.entry().time));
    let statement = business.statement(&server.key, period).await.unwrap();
    assert_eq!(statement.count, 1);
    // The customer's chat is no bill of the customer's.
    assert_eq!(
        customer.statement(&server.key, period).await.unwrap().count,
        0
    );
    let other = RelayKey::from_seed(&[9; 32]).public();
    assert!(matches!(
        business.delivery_states(&other, 0, 100).await,
        Err(hotline_client::Error::Receipt(_))
    ));
    assert!(matches!(
        business.statement(&other, period).await,
        Err(hotline_client::Error::Receipt(_))
    ));
    assert!(matches!(
        business.statement(&server.key, period + 1).await,
        Err(hotline_client::Error::Refused(Refusal::PeriodUnavailable))
    ));
    customer.shutdown().await;
    business.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_erases_its_account_and_the_business_keeps_the_consent_evidence() {
    use hotline::relay::{Request, Response};
    let business_id = IdentityKeyPair::generate(&mut rand::rng());
    let (server, (business, mut bevents), (customer, _cevents)) =
        relay_business_and_customer(&business_id).await;
    customer
        .consent(business.account(), ConsentScope::ALL)
        .await
        .unwrap();
    customer.start_session(business.account()).await.unwrap();
    customer
        .send(
            business.account(),
            MessageClass::Chat,
            b"forget me".to_vec(),
        )
        .await
        .unwrap();
    let m = next_message(&mut bevents).await;
    // A business cannot erase itself this way.
    assert!(matches!(
        business.delete_account().await,
        Err(hotline_client::Error::Refused(Refusal::WrongAccountKind))
    ));
    customer.delete_account().await.unwrap();
    // The relay refuses what the business sends to the erased account...
    let id = business
        .send(m.from, MessageClass::Chat, b"still there?".to_vec())
        .await
        .unwrap();
    let state = delivery_of(&mut bevents, id).await;
    assert_eq!(state, DeliveryState::Refused(Refusal::UnknownAccount));
    // ...and keeps the consent the customer gave, as the business's evidence.
    match business
        .request(Request::ExportConsent { customer: m.from })
        .await
        .unwrap()
    {
        Response::ConsentEvidence(records) => {
            assert_eq!(records.len(), 1);
            assert_eq!(records[0].scope(), ConsentScope::ALL);
        }
        other => panic!("unexpected {other:?}"),
    }
    // The erased account can do nothing more.
    assert!(matches!(
        customer.delete_account().await,
        Err(hotline_client::Error::Refused(Refusal::UnknownAccount))
    ));
    customer.shutdown().await;
    business.shutdown().await;
    server.stop().await;
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "hotline-client-{name}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

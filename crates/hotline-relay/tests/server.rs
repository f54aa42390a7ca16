//! The relay over the network: requests over HTTP, envelopes pushed over
//! WebSocket the moment they arrive, resumption without loss, limits and
//! refusals, health, metrics and graceful shutdown. Loopback only, every
//! wait bounded.

mod common;

use std::time::Duration;

use common::*;
use futures_util::SinkExt;
use hotline::relay::{AccountId, Delivery, MessageClass, Refusal, Request, Response};
use hotline::store::PeerId;
use hotline_relay::ServerLimits;
use tokio_tungstenite::tungstenite::Message;

/// A customer with a session to `business`, ready to seal envelopes.
async fn customer_of(server: &Server, business: &App, seed: u64) -> (App, PeerId) {
    let mut r = rng(seed);
    let mut customer = app(&mut r);
    register_customer(server, &mut customer).await;
    let owner = business.account_id();
    let Ok(Response::Bundle { bundle, .. }) =
        call(server, &mut customer, Request::FetchBundle { owner }).await
    else {
        panic!("no bundle");
    };
    let to = PeerId::account(&owner);
    customer
        .start_session(&to, &bundle, &mut r)
        .expect("start a session");
    (customer, to)
}

async fn send_chat(server: &Server, customer: &mut App, to: &PeerId, text: &str, seed: u64) {
    let envelope = customer
        .seal(
            to,
            MessageClass::Chat,
            now(),
            text.as_bytes(),
            &mut rng(seed),
        )
        .expect("seal");
    assert!(matches!(
        call(server, customer, Request::Send(envelope)).await,
        Ok(Response::Accepted {
            duplicate: false,
            ..
        })
    ));
}

fn deliveries(frame: Frame) -> Vec<Delivery> {
    match frame {
        Frame::Push(Response::Mailbox { deliveries, .. }) => deliveries,
        other => panic!("expected a push, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_envelope_sent_over_http_is_pushed_to_the_open_stream_at_once() {
    let mut business = app(&mut rng(1));
    let server = start(&[&business], ServerLimits::default()).await;
    register_business(&server, &mut business).await;
    let (mut customer, to) = customer_of(&server, &business, 2).await;

    let mut stream = Stream::connect(&server).await;
    // The first accepted request binds the stream to its signer.
    assert!(matches!(
        stream.call(&mut business, Request::PreKeyStatus).await,
        Ok(Response::PreKeyStatus(_))
    ));
    assert!(
        stream
            .next_within(Duration::from_millis(300))
            .await
            .is_none(),
        "nothing waits yet, so nothing is pushed"
    );
    send_chat(&server, &mut customer, &to, "Can I move my booking?", 3).await;
    let got = deliveries(stream.next().await);
    assert_eq!(got.len(), 1);
    let read = business.open_envelope(&got[0].envelope).expect("decrypt");
    assert_eq!(read.plaintext, b"Can I move my booking?");
    // Acknowledged on the stream: deleted, and never pushed again.
    assert_eq!(
        stream
            .call(
                &mut business,
                Request::Acknowledge {
                    ids: vec![got[0].id]
                }
            )
            .await,
        Ok(Response::Acknowledged { removed: 1 })
    );
    drop(stream);
    let mut again = Stream::connect(&server).await;
    assert!(
        again
            .call(&mut business, Request::PreKeyStatus)
            .await
            .is_ok()
    );
    assert!(
        again
            .next_within(Duration::from_millis(300))
            .await
            .is_none(),
        "an acknowledged envelope came back"
    );
    server.stop().await;
}

/// A client that disconnects before acknowledging gets everything again on
/// its next stream, in order; nothing is lost, and one stream never pushes
/// the same delivery twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_stream_resumes_with_every_unacknowledged_envelope() {
    let mut business = app(&mut rng(11));
    let server = start(&[&business], ServerLimits::default()).await;
    register_business(&server, &mut business).await;
    let (mut customer, to) = customer_of(&server, &business, 12).await;
    for i in 0..3 {
        send_chat(&server, &mut customer, &to, &format!("message {i}"), 20 + i).await;
    }
    let mut stream = Stream::connect(&server).await;
    assert!(
        stream
            .call(&mut business, Request::PreKeyStatus)
            .await
            .is_ok()
    );
    let first: Vec<u64> = deliveries(stream.next().await)
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(first.len(), 3);
    // A fourth arrives: only it is pushed on this stream.
    send_chat(&server, &mut customer, &to, "message 3", 23).await;
    let fourth = deliveries(stream.next().await);
    assert_eq!(fourth.len(), 1);
    assert!(!first.contains(&fourth[0].id));
    drop(stream);

    let mut stream = Stream::connect(&server).await;
    assert!(
        stream
            .call(&mut business, Request::PreKeyStatus)
            .await
            .is_ok()
    );
    let all = deliveries(stream.next().await);
    let ids: Vec<u64> = all.iter().map(|d| d.id).collect();
    assert_eq!(ids, [first.clone(), vec![fourth[0].id]].concat());
    let texts: Vec<Vec<u8>> = all
        .iter()
        .map(|d| {
            business
                .open_envelope(&d.envelope)
                .expect("decrypt")
                .plaintext
        })
        .collect();
    assert_eq!(
        texts,
        (0..4)
            .map(|i| format!("message {i}").into_bytes())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        stream
            .call(&mut business, Request::Acknowledge { ids })
            .await,
        Ok(Response::Acknowledged { removed: 4 })
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_malformed_and_unauthenticated_input_is_refused_clearly() {
    let limits = ServerLimits {
        max_body: 4096,
        max_connections: 1,
        ..ServerLimits::default()
    };
    let mut customer = app(&mut rng(31));
    let server = start(&[], limits).await;
    register_customer(&server, &mut customer).await;
    let http = reqwest::Client::new();
    let url = format!("{}/v1/request", server.base());
    // Over the body limit: 413 before the relay sees it.
    let big = http.post(&url).body(vec![0u8; 4097]).send().await.unwrap();
    assert_eq!(big.status(), 413);
    // Garbage: the protocol's own refusal, with its code.
    let bytes = http
        .post(&url)
        .body(vec![1, 0x30, 7])
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(Response::decode_result(&bytes), Ok(Err(Refusal::Malformed)));
    // A request from an unknown account binds no stream and gets its
    // refusal; a text frame closes the stream with 1003.
    let mut stranger = app(&mut rng(32));
    let mut stream = Stream::connect(&server).await;
    assert_eq!(
        stream.call(&mut stranger, Request::PreKeyStatus).await,
        Err(Refusal::UnknownAccount)
    );
    // One connection at most: a second is refused before the upgrade.
    let second = tokio_tungstenite::connect_async(server.ws()).await;
    assert!(second.is_err(), "a connection over the limit was accepted");
    stream.0.send(Message::Text("hello".into())).await.unwrap();
    assert!(matches!(stream.next().await, Frame::Closed(Some(1003))));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_are_served() {
    let mut customer = app(&mut rng(41));
    let server = start(&[], ServerLimits::default()).await;
    register_customer(&server, &mut customer).await;
    let block = customer.block_record(AccountId([7; 32]), true, now());
    let _ = call(&server, &mut customer, Request::Block(block)).await;
    let health = reqwest::get(format!("{}/healthz", server.base()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let metrics = reqwest::get(format!("{}/metrics", server.base()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("hotline_requests_total{op=\"register_customer\",outcome=\"ok\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("hotline_request_seconds"), "{metrics}");
    assert!(metrics.contains("outcome=\"UnknownAccount\"") || metrics.contains("op=\"block\""));
    server.stop().await;
}

/// On shutdown every stream is closed with "going away" and `serve`
/// returns, in bounded time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_streams_and_returns() {
    let mut business = app(&mut rng(51));
    let server = start(&[&business], ServerLimits::default()).await;
    register_business(&server, &mut business).await;
    let mut stream = Stream::connect(&server).await;
    assert!(
        stream
            .call(&mut business, Request::PreKeyStatus)
            .await
            .is_ok()
    );
    let closed = tokio::spawn(async move { stream.next().await });
    server.stop().await;
    assert!(matches!(closed.await.unwrap(), Frame::Closed(Some(1001))));
}

/// A slow database: requests beyond the in-flight limit are answered 503
/// at once instead of queueing store work (and memory) without bound, and
/// the server serves again when the backlog is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_store_gets_bounded_work_and_the_rest_is_told_busy() {
    let most = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let store = SlowStore {
        inner: hotline::relay::MemoryStore::new(),
        delay: Duration::from_millis(200),
        running: Default::default(),
        most: most.clone(),
    };
    let limits = ServerLimits {
        max_in_flight: 4,
        ..ServerLimits::default()
    };
    let server = start_with(Box::new(store), hotline::relay::AllowList::new(), limits).await;
    let http = reqwest::Client::new();
    let url = format!("{}/v1/request", server.base());
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..40u64 {
        let mut c = app(&mut rng(900 + i));
        let identity = c.identity();
        let body = c
            .sign_request(Request::RegisterCustomer { identity }, now())
            .unwrap()
            .to_bytes();
        let (http, url) = (http.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            http.post(url).body(body).send().await.unwrap().status()
        }));
    }
    let mut busy = 0;
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap().as_u16() {
            200 => ok += 1,
            503 => busy += 1,
            other => panic!("status {other}"),
        }
    }
    let most = most.load(std::sync::atomic::Ordering::SeqCst);
    // Four requests, and the periodic expiry that starts with the server.
    assert!(most <= 5, "{most} store calls at once");
    assert!(ok >= 4 && busy >= 20, "ok {ok}, busy {busy}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The backlog gone, the server serves again.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut late = app(&mut rng(999));
    register_customer(&server, &mut late).await;
    server.stop().await;
}

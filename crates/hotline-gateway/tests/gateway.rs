//! The gateway against a real relay server on loopback, a customer on the
//! client SDK, and a webhook receiver: REST sends, idempotency, signed
//! webhooks with retries, scopes, and the refusals the gateway makes
//! itself.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use hotline::IdentityKeyPair;
use hotline::relay::{
    AllowList, ConsentScope, MessageClass, Refusal, Relay, RelayStore, SystemClock,
};
use hotline::store::StorageKey;
use hotline_client::{Backoff, Client, Config, DeliveryState, Event, Events};
use hotline_gateway::{ConfigFile, Gateway, GatewayConfig, Limits, webhook};
use hotline_relay::{ServerLimits, serve};
use serde_json::{Value, json};
use tokio::sync::oneshot;

const AGENT: &str = "agent-token-0123456789";
const BOT: &str = "bot-token-0123456789";
const ADMIN: &str = "admin-token-0123456789";
const SECRET: &str = "whsec-test-secret";
/// Every test ends within this time.
const TEST_LIMIT: Duration = Duration::from_secs(90);

fn key() -> StorageKey {
    StorageKey::generate(&mut rand::rng())
}

/// A relay server on loopback accepting `business` by allow list.
async fn relay(business: &IdentityKeyPair) -> (String, oneshot::Sender<()>) {
    let mut allow = AllowList::new();
    allow.allow(&business.public(), "Test Airline");
    let store: Box<dyn RelayStore> = Box::new(hotline::relay::MemoryStore::new());
    let relay = Relay::new(store, Arc::new(SystemClock), allow)
        .with_rate_limits(hotline::relay::RateLimits::NONE);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listener, relay, ServerLimits::default(), async {
        let _ = stopped.await;
    }));
    (format!("http://{addr}"), stop)
}

/// One request the receiver got: headers, body, the status it answered.
type Attempt = (HeaderMap, Vec<u8>, u16);

/// What the webhook receiver saw: every attempt, with its answer.
#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<Attempt>>>,
    /// How many requests to fail (500) before answering 204.
    fail_first: Arc<Mutex<usize>>,
}

impl Receiver {
    async fn start(fail_first: usize) -> (Self, String) {
        let r = Self {
            seen: Arc::default(),
            fail_first: Arc::new(Mutex::new(fail_first)),
        };
        let state = r.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(
                |axum::extract::State(s): axum::extract::State<Receiver>,
                 headers: HeaderMap,
                 body: axum::body::Bytes| async move {
                    let status = {
                        let mut f = s.fail_first.lock().unwrap();
                        if *f > 0 {
                            *f -= 1;
                            500
                        } else {
                            204
                        }
                    };
                    s.seen
                        .lock()
                        .unwrap()
                        .push((headers, body.to_vec(), status));
                    StatusCode::from_u16(status).unwrap()
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app.with_state(state)).await;
        });
        (r, format!("http://{addr}/hook"))
    }

    /// Waits (bounded) until an event of `kind` was answered 2xx; returns
    /// every attempt of that event, in order.
    async fn delivered(&self, kind: &str) -> Vec<Attempt> {
        for _ in 0..400 {
            {
                let seen = self.seen.lock().unwrap();
                let done = seen.iter().find(|(_, b, st)| {
                    *st == 204 && serde_json::from_slice::<Value>(b).unwrap()["type"] == kind
                });
                if let Some((_, body, _)) = done {
                    let id = serde_json::from_slice::<Value>(body).unwrap()["id"].clone();
                    return seen
                        .iter()
                        .filter(|(_, b, _)| serde_json::from_slice::<Value>(b).unwrap()["id"] == id)
                        .cloned()
                        .collect();
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no {kind} event delivered");
    }
}

struct Setup {
    gateway: Gateway,
    api: String,
    http: reqwest::Client,
    customer: Client,
    cevents: Events,
    receiver: Receiver,
    relay_stop: oneshot::Sender<()>,
}

fn gateway_config(
    relay_url: &str,
    hook: &str,
    business: &IdentityKeyPair,
    storage: &StorageKey,
) -> GatewayConfig {
    let mut config = GatewayConfig::new(relay_url, storage.clone(), "127.0.0.1:0".parse().unwrap());
    config.identity = Some(business.clone());
    config.file = serde_json::from_value::<ConfigFile>(json!({
        "tokens": [
            {"name": "agent", "token": AGENT, "scopes": ["agent"]},
            {"name": "bot", "token": BOT, "scopes": ["bot"]},
            {"name": "admin", "token": ADMIN, "scopes": ["admin"]},
        ],
        "webhooks": [{"url": hook, "secret": SECRET}],
    }))
    .unwrap();
    config.limits = Limits {
        webhook_backoff: Duration::from_millis(50),
        webhook_backoff_max: Duration::from_millis(400),
        ..Limits::default()
    };
    config.backoff = Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(300),
    };
    config
}

/// Waits (bounded) until the gateway reports a connection to the relay
/// (the business is registered then).
async fn wait_connected(http: &reqwest::Client, api: &str) {
    for _ in 0..200 {
        let (st, v) = get(http, &format!("{api}/v1/status"), ADMIN).await;
        assert_eq!(st, 200);
        if v["connected"] == true {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the gateway never connected to the relay");
}

async fn customer(relay_url: &str) -> (Client, Events) {
    let mut cc = Config::new(relay_url, key());
    cc.backoff = Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(300),
    };
    Client::open(cc).await.unwrap()
}

async fn setup(fail_first: usize) -> Setup {
    let business = IdentityKeyPair::generate(&mut rand::rng());
    let (relay_url, relay_stop) = relay(&business).await;
    let (receiver, hook) = Receiver::start(fail_first).await;
    let config = gateway_config(&relay_url, &hook, &business, &key());
    let gateway = Gateway::start(config).await.unwrap();
    let api = format!("http://{}", gateway.local_addr());
    let http = reqwest::Client::new();
    wait_connected(&http, &api).await;
    let (customer, cevents) = customer(&relay_url).await;
    Setup {
        gateway,
        api,
        http,
        customer,
        cevents,
        receiver,
        relay_stop,
    }
}

impl Setup {
    async fn stop(self) {
        self.customer.shutdown().await;
        self.gateway.shutdown().await;
        let _ = self.relay_stop.send(());
    }
}

async fn get(http: &reqwest::Client, url: &str, token: &str) -> (u16, Value) {
    let r = http.get(url).bearer_auth(token).send().await.unwrap();
    let st = r.status().as_u16();
    (
        st,
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap(),
    )
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: &Value,
) -> (u16, HeaderMap, Value) {
    let mut r = http
        .post(url)
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    let r = r.send().await.unwrap();
    let st = r.status().as_u16();
    let headers = r.headers().clone();
    (
        st,
        headers,
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap(),
    )
}

async fn next_message(events: &mut Events, within: Duration) -> Option<hotline_client::Message> {
    tokio::time::timeout(within, async {
        loop {
            match events.next().await {
                Some(Event::Message(m)) => return m,
                Some(_) => {}
                None => std::future::pending::<()>().await,
            }
        }
    })
    .await
    .ok()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_message_becomes_a_signed_webhook_and_a_rest_send_reaches_the_customer_once() {
    tokio::time::timeout(TEST_LIMIT, async {
        // The receiver fails twice, then accepts.
        let mut s = setup(2).await;
        let business = s.gateway.account();
        s.customer
            .consent(business, ConsentScope::ALL)
            .await
            .unwrap();
        s.customer.start_session(business).await.unwrap();
        s.customer
            .send(business, MessageClass::Chat, b"Where is my bag?".to_vec())
            .await
            .unwrap();

        // The webhook: three attempts of the same event, the third answered.
        let attempts = s.receiver.delivered("message.received").await;
        assert_eq!(attempts.len(), 3, "two failures then a success");
        assert_eq!(
            attempts.iter().map(|a| a.2).collect::<Vec<_>>(),
            [500, 500, 204]
        );
        let first: Value = serde_json::from_slice(&attempts[0].1).unwrap();
        for (headers, body, _) in &attempts {
            assert_eq!(body, &attempts[0].1, "every attempt carries the same body");
            assert_eq!(
                headers["x-hotline-event-id"].to_str().unwrap(),
                first["id"].as_str().unwrap()
            );
            let sig = headers["x-hotline-signature"].to_str().unwrap();
            webhook::verify(SECRET.as_bytes(), sig, body, now()).expect("a valid signature");
            assert_eq!(
                webhook::verify(b"another secret", sig, body, now()),
                Err(webhook::VerifyError::Mismatch)
            );
            let mut tampered = body.clone();
            tampered.push(b' ');
            assert!(webhook::verify(SECRET.as_bytes(), sig, &tampered, now()).is_err());
        }
        let customer_hex = hex::encode(s.customer.account().0);
        assert_eq!(first["data"]["text"], "Where is my bag?");
        assert_eq!(first["data"]["customer"], customer_hex.as_str());

        // The conversation is listed, its window open.
        let (st, v) = get(&s.http, &format!("{}/v1/conversations", s.api), AGENT).await;
        assert_eq!(st, 200);
        let c = &v["conversations"][0];
        assert_eq!(c["customer"], customer_hex.as_str());
        assert_eq!(c["window_open"], true);
        assert!(c["window_remaining_secs"].as_u64().unwrap() > 23 * 3600);

        // An agent answers; the request is retried with the same key.
        let url = format!("{}/v1/messages", s.api);
        let body =
            json!({"customer": customer_hex, "class": "chat", "text": "On the next flight."});
        // Two at once with the same key: one is sent, the other gets the
        // first answer or "in progress".
        let (a, b) = tokio::join!(
            post(&s.http, &url, Some(AGENT), Some("answer-1"), &body),
            post(&s.http, &url, Some(AGENT), Some("answer-1"), &body),
        );
        let mut answers = [a, b];
        answers.sort_by_key(|x| x.1.get("idempotent-replayed").is_some() || x.0 != 202);
        let (st1, _, v1) = answers[0].clone();
        assert_eq!(st1, 202, "{v1}");
        let (sto, ho, vo) = &answers[1];
        match sto {
            202 => {
                assert_eq!(vo, &v1);
                assert_eq!(ho["idempotent-replayed"], "true");
            }
            409 => assert_eq!(vo["code"], "request_in_progress"),
            other => panic!("unexpected {other}: {vo}"),
        }
        // Retried later: the first answer.
        let (st2, h2, v2) = post(&s.http, &url, Some(AGENT), Some("answer-1"), &body).await;
        assert_eq!((st2, &v2), (202, &v1), "the retry gets the first answer");
        assert_eq!(h2["idempotent-replayed"], "true");
        // The same key with another request is refused.
        let other = json!({"customer": customer_hex, "class": "chat", "text": "Something else"});
        let (st3, _, v3) = post(&s.http, &url, Some(AGENT), Some("answer-1"), &other).await;
        assert_eq!(
            (st3, v3["code"].as_str()),
            (422, Some("idempotency_key_reused"))
        );

        // The customer gets the answer exactly once.
        let m = next_message(&mut s.cevents, Duration::from_secs(20))
            .await
            .expect("the answer reaches the customer");
        assert_eq!(m.body, b"On the next flight.");
        assert!(
            next_message(&mut s.cevents, Duration::from_millis(800))
                .await
                .is_none(),
            "sent twice"
        );

        // The relay's answer is recorded and reported.
        let status = s.receiver.delivered("message.status").await;
        let ev: Value = serde_json::from_slice(&status.last().unwrap().1).unwrap();
        assert_eq!(ev["data"]["state"], "accepted");
        assert_eq!(ev["data"]["message"], v1["id"]);
        let (st, v) = get(
            &s.http,
            &format!("{}/v1/conversations/{customer_hex}/messages", s.api),
            BOT,
        )
        .await;
        assert_eq!(st, 200);
        let msgs = v["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 2, "{v}");
        assert_eq!(msgs[0]["direction"], "in");
        assert_eq!(msgs[1]["direction"], "out");
        assert_eq!(msgs[1]["state"], "accepted");
        s.stop().await;
    })
    .await
    .expect("the test finished in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_scopes_are_enforced() {
    tokio::time::timeout(TEST_LIMIT, async {
        let s = setup(0).await;
        let url = format!("{}/v1/messages", s.api);
        let customer_hex = hex::encode(s.customer.account().0);
        let note = json!({"customer": customer_hex, "class": "notification", "template": a_template(), "params": ["9"]});
        // No token, an unknown token: 401.
        let (st, h, v) = post(&s.http, &url, None, None, &note).await;
        assert_eq!((st, v["code"].as_str()), (401, Some("unauthorized")));
        assert!(h["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
        let (st, _, _) = post(&s.http, &url, Some("not-a-token-at-all"), None, &note).await;
        assert_eq!(st, 401);
        // An agent may not send notifications, nor read the status: 403.
        let (st, _, v) = post(&s.http, &url, Some(AGENT), Some("n-1"), &note).await;
        assert_eq!((st, v["code"].as_str()), (403, Some("insufficient_scope")), "{v}");
        let (st, v) = get(&s.http, &format!("{}/v1/status", s.api), AGENT).await;
        assert_eq!((st, v["code"].as_str()), (403, Some("insufficient_scope")));
        // The refused request did not use the key: a bot may use it.
        // The customer never consented to notifications: refused locally.
        let (st, _, v) = post(&s.http, &url, Some(BOT), Some("n-1"), &note).await;
        assert_eq!((st, v["code"].as_str()), (409, Some("no_consent")), "{v}");
        // A notification is an approved template: free text is refused
        // before anything else, and so is a template that does not decode
        // or parameters that do not fit it.
        let free = json!({"customer": customer_hex, "class": "notification", "text": "Buy now"});
        let (st, _, v) = post(&s.http, &url, Some(BOT), None, &free).await;
        assert_eq!((st, v["code"].as_str()), (422, Some("template_required")), "{v}");
        let short = json!({"customer": customer_hex, "class": "notification", "template": a_template(), "params": []});
        let (st, _, v) = post(&s.http, &url, Some(BOT), None, &short).await;
        assert_eq!((st, v["code"].as_str()), (422, Some("bad_template")), "{v}");
        let junk = json!({"customer": customer_hex, "class": "notification", "template": "00ff", "params": ["9"]});
        let (st, _, v) = post(&s.http, &url, Some(BOT), None, &junk).await;
        assert_eq!((st, v["code"].as_str()), (422, Some("bad_template")), "{v}");
        // Chat with no customer message ever: the window is closed.
        let chat = json!({"customer": customer_hex, "class": "chat", "text": "Hello"});
        let (st, _, v) = post(&s.http, &url, Some(BOT), None, &chat).await;
        assert_eq!((st, v["code"].as_str()), (409, Some("window_closed")), "{v}");
        // Malformed requests.
        let bad = json!({"customer": "xyz", "class": "chat", "text": "Hello"});
        let (st, _, v) = post(&s.http, &url, Some(BOT), None, &bad).await;
        assert_eq!((st, v["code"].as_str()), (400, Some("bad_customer")));
        let big = json!({"customer": customer_hex, "class": "chat", "text": "x".repeat(70_000)});
        let (st, _, v) = post(&s.http, &url, Some(BOT), None, &big).await;
        assert_eq!((st, v["code"].as_str()), (413, Some("body_too_large")));
        // The OpenAPI document is served.
        let r = s.http.get(format!("{}/v1/openapi.json", s.api)).send().await.unwrap();
        let doc: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        // Every route is documented.
        for (path, method) in [
            ("/v1/messages", "post"),
            ("/v1/conversations", "get"),
            ("/v1/conversations/{customer}", "get"),
            ("/v1/conversations/{customer}/messages", "get"),
            ("/v1/customers/{customer}/block", "post"),
            ("/v1/customers/{customer}/block", "delete"),
            ("/v1/status", "get"),
            ("/v1/openapi.json", "get"),
        ] {
            assert!(doc["paths"][path][method].is_object(), "{method} {path}");
        }
        assert_eq!(doc["openapi"], "3.1.0");
        s.stop().await;
    })
    .await
    .expect("the test finished in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_learned_from_the_relay_is_refused_locally_afterwards() {
    tokio::time::timeout(TEST_LIMIT, async {
        let mut s = setup(0).await;
        let business = s.gateway.account();
        s.customer
            .consent(
                business,
                ConsentScope {
                    chat: true,
                    notifications: false,
                },
            )
            .await
            .unwrap();
        s.customer.start_session(business).await.unwrap();
        s.customer
            .send(business, MessageClass::Chat, b"hi".to_vec())
            .await
            .unwrap();
        s.receiver.delivered("message.received").await;
        s.customer.block(business).await.unwrap();
        let url = format!("{}/v1/messages", s.api);
        let customer_hex = hex::encode(s.customer.account().0);
        let chat = json!({"customer": customer_hex, "class": "chat", "text": "Buy more!"});
        // The gateway does not know yet: queued, then refused by the relay.
        let (st, _, v) = post(&s.http, &url, Some(AGENT), None, &chat).await;
        assert_eq!(st, 202, "{v}");
        let status = s.receiver.delivered("message.status").await;
        let ev: Value = serde_json::from_slice(&status.last().unwrap().1).unwrap();
        assert_eq!(
            (ev["data"]["state"].as_str(), ev["data"]["reason"].as_str()),
            (Some("refused"), Some("blocked"))
        );
        // Now it knows.
        let (st, _, v) = post(&s.http, &url, Some(AGENT), None, &chat).await;
        assert_eq!((st, v["code"].as_str()), (409, Some("blocked")), "{v}");
        let (st, v) = get(
            &s.http,
            &format!("{}/v1/conversations/{customer_hex}", s.api),
            AGENT,
        )
        .await;
        assert_eq!(st, 200);
        assert_eq!(v["blocked"], true);
        assert_eq!(v["consent"]["notifications"], false);
        assert!(
            next_message(&mut s.cevents, Duration::from_millis(300))
                .await
                .is_none()
        );
        s.stop().await;
    })
    .await
    .expect("the test finished in time");
}

/// The customer's next delivery state, skipping other events.
async fn next_delivery(events: &mut Events, within: Duration) -> Option<DeliveryState> {
    tokio::time::timeout(within, async {
        loop {
            match events.next().await {
                Some(Event::Delivery { state, .. }) => return state,
                Some(_) => {}
                None => std::future::pending::<()>().await,
            }
        }
    })
    .await
    .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_blocks_an_abusive_customer_and_lifts_the_block() {
    tokio::time::timeout(TEST_LIMIT, async {
        let mut s = setup(0).await;
        let business = s.gateway.account();
        s.customer.start_session(business).await.unwrap();
        s.customer
            .send(business, MessageClass::Chat, b"first".to_vec())
            .await
            .unwrap();
        assert_eq!(
            next_delivery(&mut s.cevents, Duration::from_secs(10)).await,
            Some(DeliveryState::Accepted)
        );
        s.receiver.delivered("message.received").await;
        let customer_hex = hex::encode(s.customer.account().0);
        let url = format!("{}/v1/customers/{customer_hex}/block", s.api);
        // A bot may not block; a malformed id is refused before the relay.
        let (st, _, v) = post(&s.http, &url, Some(BOT), None, &json!({})).await;
        assert_eq!((st, v["code"].as_str()), (403, Some("insufficient_scope")));
        let bad = format!("{}/v1/customers/zz/block", s.api);
        let (st, _, v) = post(&s.http, &bad, Some(AGENT), None, &json!({})).await;
        assert_eq!((st, v["code"].as_str()), (400, Some("bad_customer")));
        let unknown = format!("{}/v1/customers/{}/block", s.api, "ab".repeat(32));
        let (st, _, v) = post(&s.http, &unknown, Some(AGENT), None, &json!({})).await;
        assert_eq!(
            (st, v["code"].as_str()),
            (404, Some("unknown_customer")),
            "{v}"
        );
        let (st, _, v) = post(&s.http, &url, Some(AGENT), None, &json!({})).await;
        assert_eq!((st, v["blocked"].as_bool()), (200, Some(true)), "{v}");
        // The relay refuses the customer's messages now.
        s.customer
            .send(business, MessageClass::Chat, b"abuse".to_vec())
            .await
            .unwrap();
        assert_eq!(
            next_delivery(&mut s.cevents, Duration::from_secs(10)).await,
            Some(DeliveryState::Refused(Refusal::BlockedByBusiness))
        );
        // Lifted: the customer is heard again. An unblock in the same
        // second as the block would not outrank it (SPEC.md 14.6).
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let r = s.http.delete(&url).bearer_auth(AGENT).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        assert_eq!(v["blocked"], false);
        s.customer
            .send(business, MessageClass::Chat, b"sorry".to_vec())
            .await
            .unwrap();
        assert_eq!(
            next_delivery(&mut s.cevents, Duration::from_secs(10)).await,
            Some(DeliveryState::Accepted)
        );
        s.stop().await;
    })
    .await
    .expect("the test finished in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undelivered_events_and_idempotency_keys_survive_a_restart() {
    tokio::time::timeout(TEST_LIMIT, async {
        let dir = std::env::temp_dir().join(format!(
            "hotline-gateway-restart-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        let business = IdentityKeyPair::generate(&mut rand::rng());
        let storage = key();
        let (relay_url, relay_stop) = relay(&business).await;
        // The receiver is down until the gateway restarts.
        let (receiver, hook) = Receiver::start(usize::MAX).await;
        let mut config = gateway_config(&relay_url, &hook, &business, &storage);
        config.data_dir = Some(dir.clone());
        let http = reqwest::Client::new();
        let gateway = Gateway::start(config.clone()).await.unwrap();
        let api = format!("http://{}", gateway.local_addr());
        wait_connected(&http, &api).await;
        let (customer, mut cevents) = customer(&relay_url).await;
        let account = gateway.account();
        customer.consent(account, ConsentScope::ALL).await.unwrap();
        customer.start_session(account).await.unwrap();
        customer
            .send(account, MessageClass::Chat, b"My bag is lost".to_vec())
            .await
            .unwrap();
        // At least one attempt failed.
        let failed_id = loop {
            let first = receiver.seen.lock().unwrap().first().cloned();
            if let Some((h, _, 500)) = first {
                break h["x-hotline-event-id"].to_str().unwrap().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let customer_hex = hex::encode(customer.account().0);
        let url = format!("{api}/v1/messages");
        let body = json!({"customer": customer_hex, "class": "chat", "text": "We found it."});
        let (st, _, first) = post(&http, &url, Some(AGENT), Some("restart-1"), &body).await;
        assert_eq!(st, 202, "{first}");
        let m = next_message(&mut cevents, Duration::from_secs(20))
            .await
            .unwrap();
        assert_eq!(m.body, b"We found it.");
        gateway.shutdown().await;

        // Restarted on the same files, the receiver back up.
        *receiver.fail_first.lock().unwrap() = 0;
        let gateway = Gateway::start(config).await.unwrap();
        assert_eq!(gateway.account(), account, "the same business identity");
        let api = format!("http://{}", gateway.local_addr());
        let attempts = receiver.delivered("message.received").await;
        let last = attempts.last().unwrap();
        assert_eq!(last.0["x-hotline-event-id"].to_str().unwrap(), failed_id);
        webhook::verify(
            SECRET.as_bytes(),
            last.0["x-hotline-signature"].to_str().unwrap(),
            &last.1,
            now(),
        )
        .unwrap();
        // The retried POST gets the first answer, and nothing is sent again.
        let url = format!("{api}/v1/messages");
        let (st, h, again) = post(&http, &url, Some(AGENT), Some("restart-1"), &body).await;
        assert_eq!((st, &again), (202, &first));
        assert_eq!(h["idempotent-replayed"], "true");
        assert!(
            next_message(&mut cevents, Duration::from_millis(800))
                .await
                .is_none()
        );
        // The customer's message was recorded once.
        let (_, v) = get(
            &http,
            &format!("{api}/v1/conversations/{customer_hex}/messages"),
            AGENT,
        )
        .await;
        let dirs: Vec<&str> = v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["direction"].as_str().unwrap())
            .collect();
        assert_eq!(dirs, ["in", "out"]);
        customer.shutdown().await;
        gateway.shutdown().await;
        let _ = relay_stop.send(());
        // Neither text is in the gateway's files in the clear.
        for entry in std::fs::read_dir(&dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            for text in [&b"My bag is lost"[..], b"We found it."] {
                assert!(!bytes.windows(text.len()).any(|w| w == text));
            }
        }
        let _ = std::fs::remove_dir_all(dir);
    })
    .await
    .expect("the test finished in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_webhook_queue_holds_messages_back_until_it_drains() {
    tokio::time::timeout(TEST_LIMIT, async {
        let business = IdentityKeyPair::generate(&mut rand::rng());
        let (relay_url, relay_stop) = relay(&business).await;
        let (receiver, hook) = Receiver::start(usize::MAX).await;
        let mut config = gateway_config(&relay_url, &hook, &business, &key());
        config.limits.webhook_queue = 1;
        let http = reqwest::Client::new();
        let gateway = Gateway::start(config).await.unwrap();
        let api = format!("http://{}", gateway.local_addr());
        wait_connected(&http, &api).await;
        let (customer, _cevents) = customer(&relay_url).await;
        let account = gateway.account();
        customer.consent(account, ConsentScope::ALL).await.unwrap();
        customer.start_session(account).await.unwrap();
        for text in ["one", "two"] {
            customer
                .send(account, MessageClass::Chat, text.as_bytes().to_vec())
                .await
                .unwrap();
        }
        let customer_hex = hex::encode(customer.account().0);
        let messages = |http: reqwest::Client, api: String| {
            let customer_hex = customer_hex.clone();
            async move {
                let (_, v) = get(
                    &http,
                    &format!("{api}/v1/conversations/{customer_hex}/messages"),
                    AGENT,
                )
                .await;
                v["messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["text"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            }
        };
        // The receiver fails: the queue holds one event, so the second
        // message waits unrecorded (and unconfirmed in the client).
        while receiver.seen.lock().unwrap().len() < 3 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(messages(http.clone(), api.clone()).await, ["one"]);
        let (_, st) = get(&http, &format!("{api}/v1/status"), ADMIN).await;
        assert_eq!(st["webhook_queue"], 1);
        // The receiver recovers: both events arrive, in order of recording.
        *receiver.fail_first.lock().unwrap() = 0;
        let mut ok = Vec::new();
        for _ in 0..400 {
            ok = receiver
                .seen
                .lock()
                .unwrap()
                .iter()
                .filter(|a| a.2 == 204)
                .map(|a| serde_json::from_slice::<Value>(&a.1).unwrap()["data"]["text"].clone())
                .collect::<Vec<_>>();
            if ok.len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(ok, [json!("one"), json!("two")]);
        assert_eq!(messages(http.clone(), api.clone()).await, ["one", "two"]);
        customer.shutdown().await;
        gateway.shutdown().await;
        let _ = relay_stop.send(());
    })
    .await
    .expect("the test finished in time");
}

/// A template approved by a throwaway issuer (the gateway checks its form
/// and parameters; the customer's app checks the issuer).
fn a_template() -> String {
    use hotline::business::{
        BusinessId, IssuerAuthority, LevelSet, RootAuthority, TemplateCategory, Validity,
        VerificationLevel,
    };
    let always = Validity {
        not_before: 0,
        not_after: u64::MAX,
    };
    let mut rng = rand::rng();
    let root = RootAuthority::generate(1, always, &mut rng);
    let (seed, key) = IssuerAuthority::generate_key(&mut rng);
    let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
    let cert = root.certify_issuer(7, &key, levels, always).unwrap();
    let issuer = IssuerAuthority::new(&seed, cert).unwrap();
    let template = issuer
        .approve_template(
            BusinessId([1; 16]),
            1,
            TemplateCategory::Utility,
            "en",
            "Your flight leaves at {{1}}",
            always,
        )
        .unwrap();
    hex::encode(template.to_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_under_a_policy_that_keeps_customer_text_inert() {
    use hotline_gateway::console;
    tokio::time::timeout(TEST_LIMIT, async {
        let s = setup(0).await;
        // The page loads without a token (it holds no secret); `/` leads to it.
        let r = s.http.get(format!("{}/", s.api)).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.url().path()), (200, "/console"));
        let h = r.headers().clone();
        assert_eq!(r.text().await.unwrap(), console::PAGE);
        assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
        assert_eq!(
            h["content-security-policy"],
            console::CONTENT_SECURITY_POLICY
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["cache-control"], "no-store");
        for (path, kind, body) in [
            ("/console/app.js", "text/javascript", console::SCRIPT),
            ("/console/console.css", "text/css", console::STYLE),
        ] {
            let r = s.http.get(format!("{}{path}", s.api)).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200, "{path}");
            let h = r.headers().clone();
            assert!(
                h["content-type"].to_str().unwrap().starts_with(kind),
                "{path}"
            );
            assert_eq!(
                h["content-security-policy"],
                console::CONTENT_SECURITY_POLICY
            );
            assert_eq!(r.text().await.unwrap(), body);
        }
        // The policy allows the page's own script and API only: no inline
        // script, no other origin, no image, no frame around it.
        let csp = console::CONTENT_SECURITY_POLICY;
        for needed in [
            "default-src 'none'",
            "script-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(needed), "{needed}");
        }
        assert!(!csp.contains("unsafe"));
        // Every script of the page is a file (the policy would block an
        // inline one), and the script never turns text into markup.
        assert_eq!(
            console::PAGE.matches("<script").count(),
            console::PAGE
                .matches("<script src=\"/console/app.js\"")
                .count()
        );
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!console::SCRIPT.contains(sink), "app.js uses {sink}");
        }
        // What the page calls needs the agent's token.
        let r = s
            .http
            .get(format!("{}/v1/conversations", s.api))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
        s.stop().await;
    })
    .await
    .expect("the test finished in time");
}

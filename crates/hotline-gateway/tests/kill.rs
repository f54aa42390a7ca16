//! The gateway program killed (SIGKILL) in the middle of a burst of sends
//! and started again on the same files: every request answered 202 reaches
//! the customer, no message reaches it twice, and the retried requests
//! (same idempotency keys) send nothing again.

use std::collections::HashMap;
use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use hotline::IdentityKeyPair;
use hotline::relay::{AllowList, ConsentScope, MessageClass, Relay, RelayStore, SystemClock};
use hotline::store::StorageKey;
use hotline_client::{Backoff, Client, Config, Event};
use hotline_relay::{ServerLimits, serve};
use serde_json::{Value, json};

const BOT: &str = "bot-token-0123456789";
const BURST: usize = 40;

struct Program(Child);

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the program; returns it and its API's base URL.
fn start(dir: &std::path::Path, relay: &str) -> (Program, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotline-gateway"))
        .args(["--relay", relay, "--listen", "127.0.0.1:0", "--config"])
        .arg(dir.join("gateway.json"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--storage-key-file")
        .arg(dir.join("storage.key"))
        .arg("--identity-file")
        .arg(dir.join("identity"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    let api = line
        .split("API on ")
        .nth(1)
        .expect("the program prints its address")
        .trim()
        .to_owned();
    (Program(child), api)
}

async fn send(http: &reqwest::Client, api: &str, customer: &str, i: usize) -> Option<(u16, Value)> {
    let body = json!({"customer": customer, "class": "chat", "text": format!("message {i}")});
    let r = http
        .post(format!("{api}/v1/messages"))
        .bearer_auth(BOT)
        .header("Idempotency-Key", format!("burst-{i}"))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    let st = r.status().as_u16();
    Some((st, serde_json::from_slice(&r.bytes().await.ok()?).ok()?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_burst_and_restarted_nothing_is_lost_or_sent_twice() {
    tokio::time::timeout(Duration::from_secs(120), async {
        let dir = std::env::temp_dir().join(format!(
            "hotline-gateway-kill-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let secret: [u8; 64] = std::array::from_fn(|i| i as u8 + 1);
        std::fs::write(dir.join("identity"), hex::encode(secret)).unwrap();
        let business = IdentityKeyPair::from_secret_bytes(
            secret[..32].try_into().unwrap(),
            secret[32..].try_into().unwrap(),
        );
        std::fs::write(
            dir.join("gateway.json"),
            json!({"tokens": [{"name": "bot", "token": BOT, "scopes": ["bot"]}]}).to_string(),
        )
        .unwrap();
        let mut allow = AllowList::new();
        allow.allow(&business.public(), "Test Airline");
        let store: Box<dyn RelayStore> = Box::new(hotline::relay::MemoryStore::new());
        let relay = Relay::new(store, Arc::new(SystemClock), allow)
            .with_rate_limits(hotline::relay::RateLimits::NONE);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay_url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve(listener, relay, ServerLimits::default(), async {
            let _ = stopped.await;
        }));

        let (program, api) = start(&dir, &relay_url);
        let http = reqwest::Client::new();
        let mut cc = Config::new(&relay_url, StorageKey::generate(&mut rand::rng()));
        cc.backoff = Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(300),
        };
        let (customer, mut events) = Client::open(cc).await.unwrap();
        let account = hotline::relay::AccountId::of(&business.public());
        // The business registers on its first connection.
        let mut started = false;
        for _ in 0..200 {
            if customer.start_session(account).await.is_ok() {
                started = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(started, "the gateway never registered");
        customer.consent(account, ConsentScope::ALL).await.unwrap();
        customer
            .send(account, MessageClass::Chat, b"hello".to_vec())
            .await
            .unwrap();
        let customer_hex = hex::encode(customer.account().0);
        // The window opens once the gateway has the customer's message.
        loop {
            let r = http
                .get(format!("{api}/v1/conversations"))
                .bearer_auth(BOT)
                .send()
                .await
                .unwrap();
            let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
            if v["conversations"][0]["window_open"] == true {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // The burst, two at a time.
        let mut answers: HashMap<usize, (u16, Value)> = HashMap::new();
        let mut program = Some(program);
        for pair in (0..BURST).collect::<Vec<_>>().chunks(2) {
            // Half way, SIGKILL while two requests are in flight.
            let victim = if pair[0] == BURST / 2 { program.take() } else { None };
            let (a, b, ()) = tokio::join!(
                send(&http, &api, &customer_hex, pair[0]),
                send(&http, &api, &customer_hex, pair[1]),
                async move {
                    if let Some(p) = victim {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        drop(p);
                    }
                },
            );
            for (i, r) in [(pair[0], a), (pair[1], b)] {
                if let Some(r) = r {
                    answers.insert(i, r);
                }
            }
        }
        assert!(answers.len() >= BURST / 2, "the first half was answered");

        // Restarted on the same files: every request retried with its key.
        let (_program, api) = start(&dir, &relay_url);
        let mut in_doubt = 0;
        for i in 0..BURST {
            let (st, v) = loop {
                if let Some(r) = send(&http, &api, &customer_hex, i).await {
                    break r;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            match (st, v["code"].as_str()) {
                (202, _) => {
                    if let Some((202, first)) = answers.get(&i) {
                        assert_eq!(&v, first, "a retry gets the first answer");
                    }
                    answers.insert(i, (202, v));
                }
                (409, Some("idempotency_key_in_doubt")) => in_doubt += 1,
                other => panic!("unexpected answer {other:?} for {i}"),
            }
        }
        // The customer gets every accepted message once.
        let mut got: HashMap<String, usize> = HashMap::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let accepted = answers.values().filter(|(st, _)| *st == 202).count();
        while got.len() < accepted + in_doubt && tokio::time::Instant::now() < deadline {
            if let Ok(Some(Event::Message(m))) =
                tokio::time::timeout(Duration::from_millis(1500), events.next()).await
            {
                *got.entry(String::from_utf8(m.body).unwrap()).or_default() += 1;
            } else if got.len() >= accepted {
                break;
            }
        }
        for (i, (st, _)) in &answers {
            if *st == 202 {
                assert_eq!(got.get(&format!("message {i}")), Some(&1), "message {i}");
            }
        }
        assert!(got.values().all(|&n| n == 1), "a message arrived twice: {got:?}");
        println!(
            "{BURST} requests, {accepted} accepted and delivered once, {in_doubt} in doubt, {} delivered",
            got.len()
        );
        customer.shutdown().await;
        let _ = stop.send(());
        let _ = std::fs::remove_dir_all(dir);
    })
    .await
    .expect("the test finished in time");
}

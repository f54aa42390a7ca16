//! A relay, one business and 50 customers over loopback, through the SDK,
//! with a proxy that cuts connections at random and clients that crash
//! (their background task aborted wherever it is) and reopen their
//! database at random. Every message reaches its application exactly once
//! and in order, in both directions of every conversation.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use hotline::IdentityKeyPair;
use hotline::relay::{AccountId, ConsentScope, MessageClass, Request, Response};
use hotline::store::StorageKey;
use hotline_client::{Config, DeliveryState, Event};
use rand::RngExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const CUSTOMERS: usize = 50;
const MESSAGES: usize = 10;
/// The whole test gives up after this long.
const DEADLINE: Duration = Duration::from_secs(90);

/// A TCP proxy in front of the relay that cuts a random open connection
/// every few tens of milliseconds.
struct ChaosProxy {
    url: String,
    cuts: Arc<Mutex<u64>>,
    stop: watch::Sender<bool>,
}

impl ChaosProxy {
    async fn start(upstream: std::net::SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = watch::channel(false);
        let conns: Arc<Mutex<HashMap<u64, tokio::task::AbortHandle>>> = Arc::default();
        let cuts = Arc::new(Mutex::new(0));
        let accept_conns = conns.clone();
        let mut accept_stop = stopped.clone();
        tokio::spawn(async move {
            let mut next = 0u64;
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = accept_stop.changed() => return,
                };
                let Ok((mut inbound, _)) = accepted else {
                    continue;
                };
                next += 1;
                let id = next;
                let registry = accept_conns.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                    registry.lock().unwrap().remove(&id);
                });
                accept_conns.lock().unwrap().insert(id, task.abort_handle());
            }
        });
        let chaos_cuts = cuts.clone();
        let mut chaos_stop = stopped;
        tokio::spawn(async move {
            loop {
                let wait = rand::rng().random_range(10..80);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
                    _ = chaos_stop.changed() => return,
                }
                let victim = {
                    let map = conns.lock().unwrap();
                    if map.is_empty() {
                        continue;
                    }
                    let i = rand::rng().random_range(0..map.len());
                    map.iter().nth(i).map(|(k, h)| (*k, h.clone()))
                };
                if let Some((id, handle)) = victim {
                    handle.abort();
                    conns.lock().unwrap().remove(&id);
                    *chaos_cuts.lock().unwrap() += 1;
                }
            }
        });
        Self { url, cuts, stop }
    }
}

/// What the applications saw.
#[derive(Default)]
struct Seen {
    /// Per customer account: the bodies the business's application got.
    at_business: BTreeMap<AccountId, Vec<String>>,
    /// Per customer index: the replies its application got.
    at_customers: BTreeMap<usize, Vec<String>>,
    restarts: u64,
    resent_duplicates: u64,
    /// Batches of one-time prekeys the business uploaded when the relay
    /// reported them low.
    prekey_uploads: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_customers_through_cut_connections_and_crashes_get_every_message_once_in_order() {
    let started = Instant::now();
    let dir = std::env::temp_dir().join(format!("hotline-chaos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let business_identity = IdentityKeyPair::generate(&mut rand::rng());
    let server = Server::start(&[&business_identity], system_clock()).await;
    // Setup goes straight to the relay; the conversation goes through the
    // proxy.
    let proxy = ChaosProxy::start(server.addr).await;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (done_tx, done_rx) = watch::channel(false);

    let bkey = StorageKey::generate(&mut rand::rng());
    let bconfig =
        business_config(&proxy.url, &bkey, &business_identity).database(dir.join("business.db"));
    let business_account = AccountId::of(&business_identity.public());
    // Registered before any customer looks for it.
    let (registering, mut events) = open(
        business_config(&server.url, &bkey, &business_identity).database(dir.join("business.db")),
    )
    .await;
    wait_for(&mut events, |e| matches!(e, Event::Connected).then_some(())).await;
    registering.shutdown().await;
    let business = tokio::spawn(run_business(bconfig, seen.clone(), done_rx));

    let mut customers = Vec::new();
    for i in 0..CUSTOMERS {
        let key = StorageKey::generate(&mut rand::rng());
        let setup = config(&server.url, &key).database(dir.join(format!("c{i}.db")));
        let chaos = config(&proxy.url, &key).database(dir.join(format!("c{i}.db")));
        customers.push(tokio::spawn(run_customer(
            i,
            setup,
            chaos,
            business_account,
            seen.clone(),
        )));
    }
    let all = async {
        for c in customers {
            c.await.unwrap();
        }
    };
    tokio::time::timeout(DEADLINE, all)
        .await
        .expect("every customer got every reply in time");
    let _ = done_tx.send(true);
    tokio::time::timeout(Duration::from_secs(20), business)
        .await
        .expect("the business stops")
        .unwrap();
    let _ = proxy.stop.send(true);

    check(&seen.lock().unwrap(), &proxy, started);

    // 50 bundles were fetched from 20 one-time prekeys: without
    // replenishment none would be left. The business, reopened, tops them
    // up as soon as the relay reports them low.
    let (business, mut events) = open(
        business_config(&server.url, &bkey, &business_identity).database(dir.join("business.db")),
    )
    .await;
    wait_for(&mut events, |e| matches!(e, Event::Connected).then_some(())).await;
    let topped_up = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(Response::PreKeyStatus(s)) = business.request(Request::PreKeyStatus).await
                && !s.low
            {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the business's one-time prekeys are topped up");
    assert!(topped_up.one_time >= 10 && topped_up.kem >= 10);
    business.shutdown().await;
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn check(seen: &Seen, proxy: &ChaosProxy, started: Instant) {
    assert_eq!(seen.at_business.len(), CUSTOMERS);
    for (customer, bodies) in &seen.at_business {
        let i: usize = bodies[0].split('-').next().unwrap()[1..].parse().unwrap();
        let expected: Vec<String> = (0..MESSAGES).map(|k| format!("c{i}-{k}")).collect();
        assert_eq!(
            bodies,
            &expected,
            "the business's view of {}",
            customer.short()
        );
    }
    for i in 0..CUSTOMERS {
        let expected: Vec<String> = (0..MESSAGES).map(|k| format!("re: c{i}-{k}")).collect();
        assert_eq!(seen.at_customers.get(&i), Some(&expected), "customer {i}");
    }
    let cuts = *proxy.cuts.lock().unwrap();
    println!(
        "{CUSTOMERS} customers x {MESSAGES} messages each way in {:.1} s: {cuts} connections cut, {} restarts, {} envelopes resent and answered duplicate, {} prekey batches uploaded",
        started.elapsed().as_secs_f64(),
        seen.restarts,
        seen.resent_duplicates,
        seen.prekey_uploads
    );
    assert!(cuts > 0, "the proxy cut connections");
    assert!(seen.restarts > 0, "clients restarted");
}

/// The business's application: replies to each message, then confirms it;
/// crashes and reopens at random between two events.
async fn run_business(config: Config, seen: Arc<Mutex<Seen>>, mut done: watch::Receiver<bool>) {
    loop {
        let (client, mut events) = open(config.clone()).await;
        let handled_before_crash = rand::rng().random_range(5..40);
        let mut handled = 0;
        let crash = loop {
            let event = tokio::select! {
                e = events.next() => e,
                _ = done.changed() => break false,
            };
            let Some(event) = event else { break true };
            match event {
                Event::Message(m) => {
                    let body = String::from_utf8(m.body).unwrap();
                    seen.lock()
                        .unwrap()
                        .at_business
                        .entry(m.from)
                        .or_default()
                        .push(body.clone());
                    client
                        .send(
                            m.from,
                            MessageClass::Chat,
                            format!("re: {body}").into_bytes(),
                        )
                        .await
                        .unwrap();
                    client.confirm(m.seq).await.unwrap();
                    handled += 1;
                    if handled >= handled_before_crash {
                        break true;
                    }
                }
                Event::Delivery { state, .. } => {
                    if state == DeliveryState::AlreadyAccepted {
                        seen.lock().unwrap().resent_duplicates += 1;
                    }
                    assert!(
                        !matches!(state, DeliveryState::Refused(_)),
                        "a reply was refused: {state:?}"
                    );
                }
                Event::PreKeysUploaded { .. } => seen.lock().unwrap().prekey_uploads += 1,
                _ => {}
            }
        };
        if crash {
            seen.lock().unwrap().restarts += 1;
            client.kill().await;
        } else {
            client.shutdown().await;
            return;
        }
    }
}

/// One customer's application: opts in, starts a session, then sends its
/// messages one by one, each after the reply to the previous one, crashing
/// and reopening at random.
async fn run_customer(
    i: usize,
    setup: Config,
    chaos: Config,
    business: AccountId,
    seen: Arc<Mutex<Seen>>,
) {
    let (client, _events) = open(setup).await;
    client.consent(business, ConsentScope::ALL).await.unwrap();
    client.start_session(business).await.unwrap();
    client.shutdown().await;

    let mut sent = 0;
    let mut replies = 0;
    while replies < MESSAGES {
        let (client, mut events) = open(chaos.clone()).await;
        let crash_after = rand::rng().random_range(1..4);
        let mut steps = 0;
        let mut crashed = false;
        while replies < MESSAGES {
            if sent == replies {
                client
                    .send(
                        business,
                        MessageClass::Chat,
                        format!("c{i}-{sent}").into_bytes(),
                    )
                    .await
                    .unwrap();
                sent += 1;
            }
            let event = events.next().await.expect("events");
            match event {
                Event::Message(m) => {
                    seen.lock()
                        .unwrap()
                        .at_customers
                        .entry(i)
                        .or_default()
                        .push(String::from_utf8(m.body).unwrap());
                    client.confirm(m.seq).await.unwrap();
                    replies += 1;
                }
                Event::Delivery { state, .. } => {
                    if state == DeliveryState::AlreadyAccepted {
                        seen.lock().unwrap().resent_duplicates += 1;
                    }
                    assert!(!matches!(state, DeliveryState::Refused(_)), "{state:?}");
                }
                _ => {}
            }
            steps += 1;
            if steps >= crash_after && rand::rng().random_bool(0.3) {
                crashed = true;
                break;
            }
        }
        if crashed {
            seen.lock().unwrap().restarts += 1;
            client.kill().await;
        } else {
            client.shutdown().await;
        }
    }
}

//! A relay server on loopback, and clients of it, for the SDK's tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use hotline::IdentityKeyPair;
use hotline::relay::{AllowList, Clock, MemoryStore, Relay, RelayStore, SystemClock};
use hotline::store::StorageKey;
use hotline_client::{Backoff, Client, Config, DeliveryState, Event, Events, Role};
use hotline_relay::{ServerLimits, serve};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A relay server in this process, on a loopback port.
pub struct Server {
    pub url: String,
    /// The key the relay signs receipts with (SPEC.md 14.16).
    pub key: hotline::relay::RelayPublicKey,
    pub addr: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    /// A relay (in memory) that accepts the given businesses by allow list.
    pub async fn start(businesses: &[&IdentityKeyPair], clock: Arc<dyn Clock>) -> Self {
        let mut allow = AllowList::new();
        for (i, b) in businesses.iter().enumerate() {
            allow.allow(&b.public(), &format!("Test Business {i}"));
        }
        let store: Box<dyn RelayStore> = Box::new(MemoryStore::new());
        let relay =
            Relay::new(store, clock, allow).with_rate_limits(hotline::relay::RateLimits::NONE);
        Self::serve(relay).await
    }

    pub async fn serve(relay: Relay<Box<dyn RelayStore>>) -> Self {
        let key = relay.public_key();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, relay, ServerLimits::default(), async {
            let _ = stopped.await;
        }));
        Self {
            url: format!("http://{addr}"),
            key,
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(15), t).await;
        }
    }
}

pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// A configuration with short backoff, for `url`.
pub fn config(url: &str, key: &StorageKey) -> Config {
    let mut c = Config::new(url, key.clone());
    c.backoff = Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(300),
    };
    c.request_timeout = Duration::from_secs(5);
    c
}

pub fn business_config(url: &str, key: &StorageKey, identity: &IdentityKeyPair) -> Config {
    let mut c = config(url, key).role(Role::Business {
        certificate_chain: None,
    });
    c.identity = Some(identity.clone());
    c
}

/// Waits (bounded) for the first event that `pick` accepts.
pub async fn wait_for<T>(events: &mut Events, mut pick: impl FnMut(Event) -> Option<T>) -> T {
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(e) = events.next().await {
            if let Some(t) = pick(e) {
                return Some(t);
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(t)) => t,
        Ok(None) => panic!("the client stopped"),
        Err(_) => panic!("timed out waiting for an event"),
    }
}

pub async fn open(config: Config) -> (Client, Events) {
    Client::open(config).await.expect("open the client")
}

/// A relay trusting `business_id`, that business's client (connected, with
/// its events) and a fresh customer's client: where most tests start.
pub async fn relay_business_and_customer(
    business_id: &IdentityKeyPair,
) -> (Server, (Client, Events), (Client, Events)) {
    let key = || StorageKey::generate(&mut rand::rng());
    let server = Server::start(&[business_id], system_clock()).await;
    let (business, mut bevents) = open(business_config(&server.url, &key(), business_id)).await;
    wait_for(&mut bevents, |e| {
        matches!(e, Event::Connected).then_some(())
    })
    .await;
    let customer = open(config(&server.url, &key())).await;
    (server, (business, bevents), customer)
}

/// The customer opts in to everything, starts a session with the business
/// and sends `text`; returns the message as the business received it.
#[allow(dead_code)]
pub async fn customer_says(
    business: &Client,
    bevents: &mut Events,
    customer: &Client,
    text: &[u8],
) -> hotline_client::Message {
    use hotline::relay::{ConsentScope, MessageClass};
    customer
        .consent(business.account(), ConsentScope::ALL)
        .await
        .unwrap();
    customer.start_session(business.account()).await.unwrap();
    customer
        .send(business.account(), MessageClass::Chat, text.to_vec())
        .await
        .unwrap();
    next_message(bevents).await
}

/// The customer opts in to everything, starts a session and says hello;
/// the business answers with a notification of `body`. Returns the hello
/// as the business received it and the notification as the customer did.
#[allow(dead_code)]
pub async fn hello_then_notification(
    (business, bevents): (&Client, &mut Events),
    (customer, cevents): (&Client, &mut Events),
    body: &[u8],
) -> (hotline_client::Message, hotline_client::Message) {
    use hotline::relay::MessageClass;
    let hello = customer_says(business, bevents, customer, b"hello").await;
    business
        .send(hello.from, MessageClass::Notification, body.to_vec())
        .await
        .unwrap();
    let notification = next_message(cevents).await;
    assert_eq!(notification.body, body);
    (hello, notification)
}

/// The next message event (bounded).
pub async fn next_message(events: &mut Events) -> hotline_client::Message {
    wait_for(events, |e| match e {
        Event::Message(m) => Some(m),
        _ => None,
    })
    .await
}

/// The relay's answer to the outbox entry `id` (bounded).
pub async fn delivery_of(events: &mut Events, id: hotline_client::OutboxId) -> DeliveryState {
    wait_for(events, |e| match e {
        Event::Delivery { id: i, state, .. } if i == id => Some(state),
        _ => None,
    })
    .await
}

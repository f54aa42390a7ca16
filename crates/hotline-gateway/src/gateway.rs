//! The gateway: the business's client, its event loop, the webhook worker
//! and the API server, started and stopped together.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hotline::relay::{AccountId, MessageClass, Refusal};
use hotline_client::{Client, Config, DeliveryState, Event, Events, Role};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::api::{self, Tokens};
use crate::config::{GatewayConfig, Limits};
use crate::store::{NewEvent, Store, StoreError};
use crate::webhook;

/// Most relay answers kept for outbox entries the gateway has not recorded
/// yet (an answer faster than the record, or an entry queued before a
/// crash).
const MAX_EARLY: usize = 10_000;

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The gateway's database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The business's client (its database, its identity or certificate).
    #[error("client: {0}")]
    Client(#[from] hotline_client::Error),
    /// The API's address.
    #[error("listen: {0}")]
    Listen(#[from] std::io::Error),
    /// The configuration cannot be used.
    #[error("configuration: {0}")]
    Config(String),
}

type Early = HashMap<u64, DeliveryState>;

/// What the API handlers and the event loop share.
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) store: Store,
    pub(crate) tokens: Tokens,
    pub(crate) endpoints: Vec<String>,
    pub(crate) limits: Limits,
    pub(crate) connected: AtomicBool,
    pub(crate) wake: Arc<Notify>,
    /// Relay answers for outbox entries not recorded yet; locked across
    /// the record of an outbound message and the record of an answer.
    pub(crate) early: Mutex<Early>,
    /// Permits for API requests in flight.
    pub(crate) in_flight: Arc<tokio::sync::Semaphore>,
}

fn delivery_fields(state: DeliveryState) -> (&'static str, Option<String>, bool) {
    match state {
        DeliveryState::Accepted | DeliveryState::AlreadyAccepted => ("accepted", None, false),
        DeliveryState::Refused(r) => {
            let reason = match r {
                Refusal::Blocked => "blocked".to_owned(),
                Refusal::NoConsent => "no_consent".to_owned(),
                Refusal::WindowClosed => "window_closed".to_owned(),
                other => format!("{other:?}"),
            };
            ("refused", Some(reason), r == Refusal::Blocked)
        }
        _ => ("unknown", None, false),
    }
}

fn event_id(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    let d: [u8; 32] = h.finalize().into();
    format!("evt_{}", hex::encode(&d[..16]))
}

impl Shared {
    /// Records the relay's answer for `outbox_id`, or keeps it for the
    /// record still to come. Called with the lock of early answers held.
    fn record_delivery(&self, early: &mut Early, outbox_id: u64, state: DeliveryState) {
        let (name, reason, blocked) = delivery_fields(state);
        let created = now_secs();
        let found = self.store.record_delivery(
            outbox_id,
            name,
            reason.as_deref(),
            blocked,
            &self.endpoints,
            webhook::now_ms(),
            |id, customer| {
                let eid = event_id(&[b"message.status", &id.to_be_bytes(), name.as_bytes()]);
                let body = json!({
                    "id": eid,
                    "type": "message.status",
                    "created": created,
                    "data": {
                        "message": id,
                        "customer": hex::encode(customer.0),
                        "state": name,
                        "reason": reason,
                    },
                });
                NewEvent {
                    id: eid,
                    body: body.to_string().into_bytes(),
                }
            },
        );
        match found {
            Ok(Some(_)) => self.wake.notify_one(),
            Ok(None) => {
                if early.len() >= MAX_EARLY
                    && let Some(k) = early.keys().next().copied()
                {
                    early.remove(&k);
                }
                early.insert(outbox_id, state);
            }
            Err(e) => tracing::error!(error = %e, outbox_id, "delivery state not recorded"),
        }
    }

    /// After an outbound message was recorded as `outbox_id`: applies an
    /// answer that came first.
    pub(crate) fn after_record(&self, mut early: MutexGuard<'_, Early>, outbox_id: u64) {
        if let Some(state) = early.remove(&outbox_id) {
            self.record_delivery(&mut early, outbox_id, state);
        }
    }

    fn delivery(&self, outbox_id: u64, state: DeliveryState) {
        match self.early.lock() {
            Ok(mut early) => self.record_delivery(&mut early, outbox_id, state),
            Err(_) => tracing::error!("lock poisoned"),
        }
    }

    /// Records a customer's message and queues its event; `false` when the
    /// webhook queue is full (the message stays unconfirmed).
    fn inbound(&self, m: &hotline_client::Message) -> Result<bool, StoreError> {
        if !self.endpoints.is_empty()
            && self.store.webhook_queue_len()? >= self.limits.webhook_queue
        {
            return Ok(false);
        }
        let now = now_secs();
        let text = String::from_utf8_lossy(&m.body).into_owned();
        let class = if m.class == MessageClass::Notification {
            "notification"
        } else {
            "chat"
        };
        let eid = event_id(&[b"message.received", &m.from.0, &m.message_id.0]);
        let body = json!({
            "id": eid,
            "type": "message.received",
            "created": now,
            "data": {
                "customer": hex::encode(m.from.0),
                "message_id": hex::encode(m.message_id.0),
                "class": class,
                "text": text,
                "sent_at": m.sent_at,
            },
        });
        let event = NewEvent {
            id: eid,
            body: body.to_string().into_bytes(),
        };
        self.store.record_inbound(
            &m.from,
            &m.message_id.0,
            m.class,
            &text,
            now,
            &self.endpoints,
            &event,
        )?;
        self.wake.notify_one();
        Ok(true)
    }
}

/// A running gateway.
///
/// ```no_run
/// use hotline_gateway::{Gateway, GatewayConfig, ConfigFile};
/// use hotline::store::StorageKey;
/// # async fn run() -> Result<(), hotline_gateway::GatewayError> {
/// let mut config = GatewayConfig::new(
///     "http://127.0.0.1:7400",
///     StorageKey::generate(&mut rand::rng()),
///     "127.0.0.1:8080".parse().unwrap(),
/// );
/// config.data_dir = Some("/var/lib/hotline-gateway".into());
/// config.file = serde_json::from_str(r#"{"tokens": [{"name": "crm",
///     "token": "a-long-random-secret", "scopes": ["bot"]}]}"#).unwrap();
/// let gateway = Gateway::start(config).await?;
/// println!("API on http://{}", gateway.local_addr());
/// gateway.shutdown().await;
/// # Ok(()) }
/// ```
pub struct Gateway {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl core::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Gateway")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Opens the databases, the business's client (which connects to the
    /// relay, registers, uploads and replenishes prekeys in the
    /// background), starts the webhook worker and serves the API.
    pub async fn start(config: GatewayConfig) -> Result<Self, GatewayError> {
        let mut tokens = Tokens::new();
        for t in &config.file.tokens {
            if t.token.len() < 16 {
                return Err(GatewayError::Config(format!(
                    "the token {:?} is shorter than 16 characters",
                    t.name
                )));
            }
            if tokens
                .insert(
                    api::token_hash(&t.token),
                    (t.name.clone(), t.scopes.clone()),
                )
                .is_some()
            {
                return Err(GatewayError::Config(format!(
                    "the token {:?} is configured twice",
                    t.name
                )));
            }
        }
        for w in &config.file.webhooks {
            // Plain HTTP only (the business's own network): for a receiver
            // elsewhere, deliver through a TLS-terminating proxy.
            if !w.url.starts_with("http://") {
                return Err(GatewayError::Config(format!(
                    "webhook URL {:?} is not http:// (TLS is not built in: use a local TLS proxy)",
                    w.url
                )));
            }
        }
        if let Some(dir) = &config.data_dir {
            std::fs::create_dir_all(dir)?;
        }
        let store = Store::open(
            config
                .data_dir
                .as_ref()
                .map(|d| d.join("gateway.db"))
                .as_deref(),
            &config.storage_key,
        )?;
        let mut cc = Config::new(config.relay_url.clone(), config.storage_key.clone()).role(
            Role::Business {
                certificate_chain: config.certificate_chain.clone().map(Box::new),
            },
        );
        if let Some(dir) = &config.data_dir {
            cc = cc.database(dir.join("client.db"));
        }
        cc.identity = config.identity.clone();
        cc.backoff = config.backoff;
        let (client, events) = Client::open(cc).await?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            client,
            store: store.clone(),
            tokens,
            endpoints: config.file.webhooks.iter().map(|w| w.url.clone()).collect(),
            limits: config.limits,
            connected: AtomicBool::new(false),
            wake: Arc::new(Notify::new()),
            early: Mutex::new(HashMap::new()),
            in_flight: Arc::new(tokio::sync::Semaphore::new(
                config.limits.max_in_flight.max(1),
            )),
        });
        let mut tasks = Vec::new();
        tasks.push(tokio::spawn(event_loop(
            shared.clone(),
            events,
            stopped.clone(),
        )));
        tasks.push(tokio::spawn(webhook::run(
            store,
            config.file.webhooks.clone(),
            config.limits,
            shared.wake.clone(),
            stopped.clone(),
        )));
        let app = api::router(shared.clone());
        let mut serve_stop = stopped;
        tasks.push(tokio::spawn(async move {
            let shutdown = async move {
                let _ = serve_stop.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, "API server failed");
            }
        }));
        tracing::info!(%addr, account = %hex::encode(shared.client.account().0), "gateway started");
        Ok(Self {
            addr,
            shared,
            stop,
            tasks,
        })
    }

    /// The API's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The business's account at the relay.
    pub fn account(&self) -> AccountId {
        self.shared.client.account()
    }

    /// The business's client (for what the API does not cover yet, such as
    /// publishing a certificate status).
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// Stops serving (requests in progress finish), stops the event loop
    /// and the webhook worker between two steps, and shuts the client down.
    /// Everything committed stays: the next start resumes.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(15), t).await;
        }
        self.shared.client.clone().shutdown().await;
    }
}

/// Records what the client reports: a customer's message is durably
/// recorded (with its webhook events) before it is confirmed to the
/// client, so a crash in between only records it again, once.
async fn event_loop(s: Arc<Shared>, mut events: Events, mut stop: watch::Receiver<bool>) {
    loop {
        let event = tokio::select! {
            e = events.next() => e,
            _ = stop.wait_for(|s| *s) => return,
        };
        let Some(event) = event else { return };
        match event {
            Event::Connected => {
                s.connected.store(true, Ordering::Relaxed);
                tracing::info!("connected to the relay");
            }
            Event::Disconnected { reason } => {
                s.connected.store(false, Ordering::Relaxed);
                tracing::warn!(%reason, "disconnected from the relay");
            }
            Event::Message(m) => loop {
                // SQLite commits (with fsync) off the async threads.
                let recorded = {
                    let (s, m) = (s.clone(), m.clone());
                    tokio::task::spawn_blocking(move || s.inbound(&m)).await
                };
                let recorded = recorded.unwrap_or_else(|e| Err(StoreError::from_join(e)));
                match recorded {
                    Ok(true) => {
                        if let Err(e) = s.client.confirm(m.seq).await {
                            tracing::error!(error = %e, "confirm failed");
                        }
                        break;
                    }
                    Ok(false) => tracing::warn!("webhook queue full: waiting to record a message"),
                    Err(e) => tracing::error!(error = %e, "message not recorded; retrying"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
            },
            Event::Delivery { id, state, .. } => {
                let s = s.clone();
                let _ = tokio::task::spawn_blocking(move || s.delivery(id, state)).await;
            }
            Event::PreKeysUploaded { count } => {
                tracing::info!(count, "one-time prekeys replenished");
            }
            Event::Undecryptable { from, reason } => {
                tracing::warn!(from = %hex::encode(from.0), %reason, "undecryptable message dropped");
            }
            other => tracing::debug!(?other, "client event"),
        }
    }
}

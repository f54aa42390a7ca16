//! A load generator for the Hotline relay.
//!
//! Simulated businesses and customers do the real work of the protocol over
//! loopback: they register, the businesses upload prekeys and keep a
//! WebSocket stream open, the customers fetch bundles, start sessions and
//! send encrypted chat messages over HTTP, and the businesses decrypt the
//! pushed envelopes and acknowledge them on their stream. [`run`] returns a
//! [`Report`]: counts, throughput from send to acknowledged delivery, and
//! latency percentiles from the start of a send to its decryption at the
//! business, beside the CPU bound of the same run ([`cpu_bound`]).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use hotline::IdentityKeyPair;
use hotline::relay::{
    AllowList, MessageClass, PreKeyUpload, RateLimits, Refusal, Request, Response, SignedRequest,
};
use hotline::store::{Client, MemoryStore, PeerId, StorageKey};
use hotline_relay::{Database, FRAME_PUSH, FRAME_RESPONSE, ServerLimits, build_relay, serve_node};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A simulated client: the protocol crate's client over an in-memory store.
type App = Client<MemoryStore>;
type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Bytes of a plaintext that carry the sequence number and the send time.
const STAMP_LEN: usize = 16;

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The relay to drive (`http://127.0.0.1:PORT`); `None` starts one in
    /// this process.
    pub relay: Option<String>,
    /// The store of the relay started in this process.
    pub db: Database,
    /// Simulated customers (each sends one message at a time).
    pub customers: usize,
    /// Simulated businesses (each with one open stream).
    pub businesses: usize,
    /// Stop sending after this long.
    pub duration: Option<Duration>,
    /// Stop sending after this many messages.
    pub messages: Option<u64>,
    /// Plaintext size of each message, in bytes (at least 16).
    pub size: usize,
    /// How long to wait for outstanding deliveries once sending stopped.
    pub drain: Duration,
    /// Seed of the simulated clients' randomness.
    pub seed: u64,
    /// Relay nodes started in this process, each with its own store
    /// connection (only several on a shared PostgreSQL database make
    /// sense). Business `i` listens on node `i % nodes`; its customers send
    /// through the next node, so with two nodes every message crosses
    /// from one node to the other.
    pub nodes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            relay: None,
            db: Database::Memory,
            customers: 10,
            businesses: 2,
            duration: Some(Duration::from_secs(10)),
            messages: None,
            size: 64,
            drain: Duration::from_secs(10),
            seed: 1,
            nodes: 1,
        }
    }
}

/// Why a run could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The configuration cannot run.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// The relay's store could not be opened.
    #[error("relay store: {0}")]
    Store(#[from] hotline::relay::StoreError),
    /// A client store failed.
    #[error("client store: {0}")]
    ClientStore(#[from] hotline::store::StoreError),
    /// Network I/O failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// An HTTP request failed.
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// The WebSocket failed.
    #[error("WebSocket: {0}")]
    WebSocket(#[from] Box<tokio_tungstenite::tungstenite::Error>),
    /// The relay answered something that cannot be decoded.
    #[error("undecodable response: {0}")]
    Decode(#[from] hotline::relay::ResponseError),
    /// The relay refused a setup step.
    #[error("{step} refused: {refusal:?}")]
    Refused {
        /// Which step.
        step: &'static str,
        /// The refusal.
        refusal: Refusal,
    },
    /// The relay answered a setup step with something unexpected.
    #[error("{0}: unexpected answer")]
    Unexpected(&'static str),
    /// A session could not be started or a message sealed.
    #[error("crypto: {0}")]
    Crypto(String),
    /// A task panicked or was cancelled.
    #[error("task: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl From<tokio_tungstenite::tungstenite::Error> for LoadError {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        Self::WebSocket(Box::new(e))
    }
}

/// The time of the unavoidable per-message work, measured in-process.
#[derive(Debug, Clone, Copy)]
pub struct CpuBound {
    /// Signing one send request and verifying it.
    pub sign_verify: Duration,
    /// Sealing one message of the run's size and opening it (ratchet step,
    /// AEAD both ways, client store commits).
    pub seal_open: Duration,
    /// Cores available to this process.
    pub cores: usize,
}

impl CpuBound {
    /// Work per message.
    pub fn per_message(&self) -> Duration {
        self.sign_verify + self.seal_open
    }
    /// Messages per second if every core did nothing but this work.
    pub fn messages_per_sec(&self) -> f64 {
        self.cores as f64 / self.per_message().as_secs_f64().max(1e-9)
    }
}

/// The outcome of a run.
#[derive(Debug)]
pub struct Report {
    /// Envelopes the relay accepted.
    pub sent: u64,
    /// Distinct envelopes decrypted by their business.
    pub delivered: u64,
    /// Envelopes the relay confirmed removed after acknowledgement.
    pub acknowledged: u64,
    /// Deliveries of an envelope already delivered.
    pub duplicates: u64,
    /// Delivered envelopes that failed to decrypt.
    pub undecryptable: u64,
    /// Sends refused or failed, by reason.
    pub refused: BTreeMap<String, u64>,
    /// From the first send to the last acknowledgement.
    pub elapsed: Duration,
    /// Send start to decryption at the business, in microseconds.
    pub latency: Histogram<u64>,
    /// The CPU bound of the same run.
    pub cpu: CpuBound,
    /// Customers and businesses of the run.
    pub clients: (usize, usize),
}

impl Report {
    /// Accepted but never delivered.
    pub fn lost(&self) -> u64 {
        self.sent.saturating_sub(self.delivered)
    }
    /// Acknowledged deliveries per second.
    pub fn throughput(&self) -> f64 {
        self.acknowledged as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    /// No loss, no duplicate, nothing undecryptable.
    pub fn is_clean(&self) -> bool {
        self.lost() == 0 && self.duplicates == 0 && self.undecryptable == 0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = |q: f64| self.latency.value_at_quantile(q) as f64 / 1000.0;
        writeln!(
            f,
            "clients: {} customers, {} businesses",
            self.clients.0, self.clients.1
        )?;
        writeln!(
            f,
            "sent {} delivered {} acknowledged {} lost {} duplicates {} undecryptable {}",
            self.sent,
            self.delivered,
            self.acknowledged,
            self.lost(),
            self.duplicates,
            self.undecryptable
        )?;
        for (reason, n) in &self.refused {
            writeln!(f, "refused {reason}: {n}")?;
        }
        writeln!(
            f,
            "throughput: {:.0} msg/s ({} acknowledged in {:.3} s)",
            self.throughput(),
            self.acknowledged,
            self.elapsed.as_secs_f64()
        )?;
        writeln!(
            f,
            "latency ms: p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}",
            us(0.5),
            us(0.9),
            us(0.99),
            self.latency.max() as f64 / 1000.0
        )?;
        writeln!(
            f,
            "cpu bound: sign+verify {:.1} us, seal+open {:.1} us, {} cores: {:.0} msg/s",
            self.cpu.sign_verify.as_secs_f64() * 1e6,
            self.cpu.seal_open.as_secs_f64() * 1e6,
            self.cpu.cores,
            self.cpu.messages_per_sec()
        )?;
        write!(
            f,
            "throughput / cpu bound: {:.3}",
            self.throughput() / self.cpu.messages_per_sec()
        )
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn new_app(rng: &mut ChaCha20Rng) -> Result<App, LoadError> {
    Ok(Client::create(
        MemoryStore::in_memory(StorageKey::generate(rng)),
        5,
        5,
        rng,
    )?)
}

/// Sends `request` signed by `who` over HTTP and decodes the answer.
async fn call(
    http: &reqwest::Client,
    base: &str,
    who: &mut App,
    request: Request,
) -> Result<Result<Response, Refusal>, LoadError> {
    let signed = who.sign_request(request, now_secs())?;
    let body = http
        .post(format!("{base}/v1/request"))
        .body(signed.to_bytes())
        .send()
        .await?
        .bytes()
        .await?;
    Ok(Response::decode_result(&body)?)
}

fn expect(
    step: &'static str,
    answer: Result<Response, Refusal>,
    ok: impl Fn(&Response) -> bool,
) -> Result<Response, LoadError> {
    match answer {
        Ok(r) if ok(&r) => Ok(r),
        Ok(_) => Err(LoadError::Unexpected(step)),
        Err(refusal) => Err(LoadError::Refused { step, refusal }),
    }
}

/// Counters shared by the tasks of a run.
#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    delivered: AtomicU64,
    acknowledged: AtomicU64,
    duplicates: AtomicU64,
    undecryptable: AtomicU64,
    /// Nanoseconds since the epoch of the run at the last acknowledgement.
    last_ack: AtomicU64,
    refused: Mutex<BTreeMap<String, u64>>,
}

impl Counters {
    fn refuse(&self, reason: String) {
        if let Ok(mut m) = self.refused.lock() {
            *m.entry(reason).or_default() += 1;
        }
    }
}

/// Runs the load described by `config` and reports on it.
pub async fn run(config: &Config) -> Result<Report, LoadError> {
    if config.customers == 0 || config.businesses == 0 {
        return Err(LoadError::Config("at least one customer and one business"));
    }
    if config.duration.is_none() && config.messages.is_none() {
        return Err(LoadError::Config("give --duration, --messages or both"));
    }
    if config.size < STAMP_LEN {
        return Err(LoadError::Config("--size must be at least 16"));
    }
    let mut rng = ChaCha20Rng::seed_from_u64(config.seed);
    let mut businesses = Vec::with_capacity(config.businesses);
    for _ in 0..config.businesses {
        businesses.push(new_app(&mut rng)?);
    }

    // The relays: in this process, or the one given.
    let mut stops = Vec::new();
    let mut tasks = Vec::new();
    let bases: Vec<String> = match &config.relay {
        Some(base) => vec![base.trim_end_matches('/').to_owned()],
        None => {
            if config.nodes == 0 || (config.nodes > 1 && config.db.postgres().is_none()) {
                return Err(LoadError::Config(
                    "several nodes need a shared postgres:// database",
                ));
            }
            let mut bases = Vec::new();
            // One receipt key for the service, as nodes sharing a key file
            // have (SPEC.md 14.16).
            let relay_key = hotline::relay::RelayKey::generate(&mut hotline::rand::rng());
            for _ in 0..config.nodes {
                let mut allow = AllowList::new();
                // Distinct names: the relay refuses names confusable with a
                // registered one.
                for (i, b) in businesses.iter().enumerate() {
                    allow.allow(&b.identity(), &format!("Load Test Business {i}"));
                }
                // Customers never get a reply here, so every message they
                // send is an initial message: the per-customer limit on
                // those (SPEC.md 14.11) would refuse a load test, so it is
                // lifted. Opening a store may block: off the workers.
                let relay = tokio::task::block_in_place(|| build_relay(&config.db, allow))?
                    .with_rate_limits(RateLimits::NONE)
                    .with_key(relay_key.clone());
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let addr = listener.local_addr()?;
                let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                let task = tokio::spawn(serve_node(
                    listener,
                    relay,
                    ServerLimits::default(),
                    config.db.postgres().cloned(),
                    async {
                        let _ = stopped.await;
                    },
                ));
                tracing::info!(%addr, "relay started in this process");
                stops.push(stop);
                tasks.push(task);
                bases.push(format!("http://{addr}"));
            }
            bases
        }
    };
    let base = bases[0].clone();
    let ws_url = |base: &str| {
        format!(
            "{}/v1/stream",
            base.replacen("http://", "ws://", 1)
                .replacen("https://", "wss://", 1)
        )
    };
    let http = reqwest::Client::new();

    // Businesses: register, upload prekeys, bind a stream.
    let mut streams = Vec::with_capacity(businesses.len());
    for (i, business) in businesses.iter_mut().enumerate() {
        let identity = business.identity();
        let answer = call(
            &http,
            &base,
            business,
            Request::RegisterBusiness {
                identity,
                certificate_chain: Vec::new(),
            },
        )
        .await?;
        expect("business registration", answer, |r| {
            *r == Response::Registered
        })?;
        let upload = business.update_prekeys(|p| {
            Ok::<_, std::convert::Infallible>(PreKeyUpload {
                signed_prekey: Some(p.signed_prekey()),
                last_resort_kem_prekey: Some(p.last_resort_kem_prekey()),
                one_time_prekeys: p.one_time_prekeys(),
                kem_prekeys: p.kem_prekeys(),
            })
        })?;
        let Ok(upload) = upload;
        let answer = call(&http, &base, business, Request::UploadPreKeys(upload)).await?;
        expect("prekey upload", answer, |r| {
            matches!(r, Response::PreKeysStored(_))
        })?;
        let (mut ws, _) = tokio_tungstenite::connect_async(ws_url(&bases[i % bases.len()])).await?;
        let signed = business.sign_request(Request::PreKeyStatus, now_secs())?;
        ws.send(Message::Binary(signed.to_bytes().into())).await?;
        match next_frame(&mut ws).await? {
            Some(Frame::Response(answer)) => {
                expect("stream binding", answer, |r| {
                    matches!(r, Response::PreKeyStatus(_))
                })?;
            }
            _ => return Err(LoadError::Unexpected("stream binding")),
        }
        streams.push(ws);
    }

    // Customers: register, fetch a bundle, start a session.
    let mut customers = Vec::with_capacity(config.customers);
    for i in 0..config.customers {
        let mut c = new_app(&mut rng)?;
        let identity = c.identity();
        let answer = call(&http, &base, &mut c, Request::RegisterCustomer { identity }).await?;
        expect("customer registration", answer, |r| {
            *r == Response::Registered
        })?;
        let owner = businesses[i % businesses.len()].account_id();
        let answer = call(&http, &base, &mut c, Request::FetchBundle { owner }).await?;
        let Response::Bundle { bundle, .. } = expect("bundle fetch", answer, |r| {
            matches!(r, Response::Bundle { .. })
        })?
        else {
            return Err(LoadError::Unexpected("bundle fetch"));
        };
        let to = PeerId::account(&owner);
        c.start_session(&to, &bundle, &mut rng)
            .map_err(|e| LoadError::Crypto(e.to_string()))?;
        let through = bases[(i % businesses.len() + 1) % bases.len()].clone();
        customers.push((
            c,
            to,
            ChaCha20Rng::seed_from_u64(rng_seed(config.seed, i)),
            through,
        ));
    }
    tracing::info!(
        customers = customers.len(),
        businesses = businesses.len(),
        "set up; sending"
    );

    // The measured part.
    let counters = Arc::new(Counters::default());
    let epoch = Instant::now();
    let deadline = config.duration.map(|d| epoch + d);
    let limit = config.messages.unwrap_or(u64::MAX);
    let tickets = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = watch::channel(false);

    let mut receivers = Vec::new();
    for (business, ws) in businesses.into_iter().zip(streams) {
        receivers.push(tokio::spawn(receive(
            business,
            ws,
            epoch,
            Arc::clone(&counters),
            stop_rx.clone(),
        )));
    }
    let mut senders = Vec::new();
    for (customer, to, crng, through) in customers {
        senders.push(tokio::spawn(send(
            customer,
            to,
            crng,
            Sender {
                http: http.clone(),
                base: through,
                epoch,
                deadline,
                limit,
                size: config.size,
                tickets: Arc::clone(&tickets),
                counters: Arc::clone(&counters),
            },
        )));
    }
    for s in senders {
        s.await?;
    }
    // Wait for the deliveries still on their way.
    let drain_until = Instant::now() + config.drain;
    loop {
        let sent = counters.sent.load(Ordering::SeqCst);
        let done = counters.acknowledged.load(Ordering::SeqCst) >= sent
            && counters.delivered.load(Ordering::SeqCst) >= sent;
        if done || Instant::now() >= drain_until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = stop_tx.send(true);
    let mut latency = new_histogram()?;
    for r in receivers {
        let h = r.await??;
        let _ = latency.add(&h);
    }
    for stop in stops {
        let _ = stop.send(());
    }
    for task in tasks {
        task.await??;
    }

    let cpu = cpu_bound(config.size, 200)?;
    let last_ack = Duration::from_nanos(counters.last_ack.load(Ordering::SeqCst));
    let refused = counters
        .refused
        .lock()
        .map(|m| m.clone())
        .unwrap_or_default();
    Ok(Report {
        sent: counters.sent.load(Ordering::SeqCst),
        delivered: counters.delivered.load(Ordering::SeqCst),
        acknowledged: counters.acknowledged.load(Ordering::SeqCst),
        duplicates: counters.duplicates.load(Ordering::SeqCst),
        undecryptable: counters.undecryptable.load(Ordering::SeqCst),
        refused,
        elapsed: last_ack,
        latency,
        cpu,
        clients: (config.customers, config.businesses),
    })
}

fn rng_seed(seed: u64, i: usize) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(i as u64 + 1)
}

fn new_histogram() -> Result<Histogram<u64>, LoadError> {
    // Microseconds up to an hour, three significant digits.
    Histogram::new_with_bounds(1, 3_600_000_000, 3)
        .map_err(|_| LoadError::Config("histogram bounds"))
}

/// What every customer task shares.
struct Sender {
    http: reqwest::Client,
    base: String,
    epoch: Instant,
    deadline: Option<Instant>,
    limit: u64,
    size: usize,
    tickets: Arc<AtomicU64>,
    counters: Arc<Counters>,
}

/// One customer: one message in flight at a time, until the deadline or
/// the message count.
async fn send(mut app: App, to: PeerId, mut rng: ChaCha20Rng, s: Sender) {
    let mut plaintext = vec![0u8; s.size];
    loop {
        if s.deadline.is_some_and(|d| Instant::now() >= d) {
            return;
        }
        let seq = s.tickets.fetch_add(1, Ordering::SeqCst);
        if seq >= s.limit {
            return;
        }
        let start = s.epoch.elapsed().as_nanos() as u64;
        plaintext[..8].copy_from_slice(&seq.to_le_bytes());
        plaintext[8..16].copy_from_slice(&start.to_le_bytes());
        let envelope = match app.seal(&to, MessageClass::Chat, now_secs(), &plaintext, &mut rng) {
            Ok(e) => e,
            Err(e) => {
                s.counters.refuse(format!("seal: {e}"));
                continue;
            }
        };
        match call(&s.http, &s.base, &mut app, Request::Send(envelope)).await {
            Ok(Ok(Response::Accepted {
                duplicate: false, ..
            })) => {
                s.counters.sent.fetch_add(1, Ordering::SeqCst);
            }
            Ok(Ok(_)) => s.counters.refuse("unexpected answer".to_owned()),
            Ok(Err(refusal)) => s.counters.refuse(format!("{refusal:?}")),
            Err(e) => s.counters.refuse(format!("transport: {e}")),
        }
    }
}

/// A frame from the relay.
enum Frame {
    Response(Result<Response, Refusal>),
    Push(Response),
}

/// The next frame, skipping control frames; `None` when the stream closed.
async fn next_frame(ws: &mut Ws) -> Result<Option<Frame>, LoadError> {
    loop {
        let Some(msg) = ws.next().await else {
            return Ok(None);
        };
        match msg? {
            Message::Binary(b) => {
                let Some((&kind, rest)) = b.split_first() else {
                    return Err(LoadError::Unexpected("empty frame"));
                };
                let decoded = Response::decode_result(rest)?;
                return match (kind, decoded) {
                    (FRAME_RESPONSE, d) => Ok(Some(Frame::Response(d))),
                    (FRAME_PUSH, Ok(r)) => Ok(Some(Frame::Push(r))),
                    _ => Err(LoadError::Unexpected("frame kind")),
                };
            }
            Message::Close(_) => return Ok(None),
            _ => continue,
        }
    }
}

/// One business: decrypts what is pushed, acknowledges it on the stream,
/// and returns the latencies it saw.
async fn receive(
    mut app: App,
    mut ws: Ws,
    epoch: Instant,
    counters: Arc<Counters>,
    mut stop: watch::Receiver<bool>,
) -> Result<Histogram<u64>, LoadError> {
    let mut latency = new_histogram()?;
    let mut seen_ids = HashSet::new();
    let mut seen_seqs = HashSet::new();
    loop {
        let frame = tokio::select! {
            f = next_frame(&mut ws) => f?,
            _ = stop.changed() => break,
        };
        match frame {
            None => break,
            Some(Frame::Push(Response::Mailbox { deliveries, .. })) => {
                let mut ids = Vec::with_capacity(deliveries.len());
                for d in deliveries {
                    ids.push(d.id);
                    if !seen_ids.insert(d.id) {
                        counters.duplicates.fetch_add(1, Ordering::SeqCst);
                        continue;
                    }
                    match app.open_envelope(&d.envelope) {
                        Ok(read) if read.plaintext.len() >= STAMP_LEN => {
                            let now = epoch.elapsed().as_nanos() as u64;
                            let mut seq = [0u8; 8];
                            let mut start = [0u8; 8];
                            seq.copy_from_slice(&read.plaintext[..8]);
                            start.copy_from_slice(&read.plaintext[8..16]);
                            if !seen_seqs.insert(u64::from_le_bytes(seq)) {
                                counters.duplicates.fetch_add(1, Ordering::SeqCst);
                                continue;
                            }
                            let micros = now.saturating_sub(u64::from_le_bytes(start)) / 1000;
                            let _ = latency.record(micros.max(1));
                            counters.delivered.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(_) | Err(_) => {
                            counters.undecryptable.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
                if !ids.is_empty() {
                    let signed = app.sign_request(Request::Acknowledge { ids }, now_secs())?;
                    ws.send(Message::Binary(signed.to_bytes().into())).await?;
                }
            }
            Some(Frame::Push(_)) => return Err(LoadError::Unexpected("push")),
            Some(Frame::Response(Ok(Response::Acknowledged { removed }))) => {
                counters
                    .acknowledged
                    .fetch_add(u64::from(removed), Ordering::SeqCst);
                counters
                    .last_ack
                    .fetch_max(epoch.elapsed().as_nanos() as u64, Ordering::SeqCst);
            }
            Some(Frame::Response(Ok(_))) => {}
            Some(Frame::Response(Err(refusal))) => {
                counters.refuse(format!("acknowledge: {refusal:?}"));
            }
        }
    }
    let _ = ws.close(None).await;
    Ok(latency)
}

/// Times the work no relay and no client can avoid per message, in this
/// process: signing a send request and verifying its signature, and
/// sealing a message of `size` bytes and opening it (mean of `iterations`).
pub fn cpu_bound(size: usize, iterations: u32) -> Result<CpuBound, LoadError> {
    let iterations = iterations.max(1);
    let mut rng = ChaCha20Rng::seed_from_u64(0x5eed);
    let mut customer = new_app(&mut rng)?;
    let mut business = new_app(&mut rng)?;
    let to = PeerId::account(&business.account_id());
    let bundle = business.bundle()?;
    customer
        .start_session(&to, &bundle, &mut rng)
        .map_err(|e| LoadError::Crypto(e.to_string()))?;
    let plaintext = vec![7u8; size];
    let signer = IdentityKeyPair::generate(&mut rng);

    let mut envelopes = Vec::with_capacity(iterations as usize);
    let started = Instant::now();
    for _ in 0..iterations {
        let e = customer
            .seal(&to, MessageClass::Chat, now_secs(), &plaintext, &mut rng)
            .map_err(|e| LoadError::Crypto(e.to_string()))?;
        business
            .open_envelope(&e)
            .map_err(|e| LoadError::Crypto(e.to_string()))?;
        envelopes.push(e);
    }
    let seal_open = started.elapsed() / iterations;

    let started = Instant::now();
    for (i, e) in envelopes.into_iter().enumerate() {
        let signed = SignedRequest::sign(&signer, i as u64 + 1, now_secs(), Request::Send(e));
        SignedRequest::from_bytes(&signed.to_bytes())
            .map_err(|e| LoadError::Crypto(e.to_string()))?;
    }
    let sign_verify = started.elapsed() / iterations;
    Ok(CpuBound {
        sign_verify,
        seal_open,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
    })
}

//! A relay server on loopback and clients that talk to it, for the tests.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use hotline::relay::{
    AllowList, CertificateValidator, MemoryStore as RelayMemory, PreKeyUpload, Refusal, Relay,
    RelayStore, Request, Response, SystemClock,
};
use hotline::store::{Client, MemoryStore, StorageKey};
use hotline_relay::{FRAME_PUSH, FRAME_RESPONSE, PostgresConfig, ServerLimits, serve_node};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use hotline::business::{
    BusinessCertificateRequest, BusinessId, CertificateChain, IssuerAuthority, LevelSet,
    RootAuthority, Validity, VerificationLevel,
};
use hotline::hazmat::ed25519::Ed25519Secret;
use std::path::{Path, PathBuf};

/// A client of the tests: the protocol crate's persistent client.
pub type App = Client<MemoryStore>;

/// How long a test waits for anything before failing.
pub const WAIT: Duration = Duration::from_secs(10);

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub fn app(rng: &mut ChaCha20Rng) -> App {
    Client::create(MemoryStore::in_memory(StorageKey::generate(rng)), 5, 5, rng)
        .expect("create a client")
}

/// A running server and the means to stop it.
pub struct Server {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn ws(&self) -> String {
        ws_url(&self.base())
    }
    /// Stops it and waits (bounded) until `serve` returned.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(WAIT, self.done)
            .await
            .expect("the server stops in time")
            .expect("the server task")
            .expect("serve returned Ok");
    }
}

/// A relay over an in-memory store, vouching for `businesses` by hand.
pub async fn start(businesses: &[&App], limits: ServerLimits) -> Server {
    let mut allow = AllowList::new();
    for b in businesses {
        allow.allow(&b.identity(), "Example Air");
    }
    start_with(Box::new(RelayMemory::new()), allow, limits).await
}

pub async fn start_with(
    store: Box<dyn RelayStore>,
    validator: impl CertificateValidator + 'static,
    limits: ServerLimits,
) -> Server {
    start_node(store, validator, limits, None).await
}

/// A relay node; with `peers`, one of several on a PostgreSQL database.
pub async fn start_node(
    store: Box<dyn RelayStore>,
    validator: impl CertificateValidator + 'static,
    limits: ServerLimits,
    peers: Option<PostgresConfig>,
) -> Server {
    let relay = Relay::new(store, SystemClock, validator);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local address");
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(serve_node(listener, relay, limits, peers, async move {
        let _ = stopped.await;
    }));
    Server {
        addr,
        stop: Some(stop),
        done,
    }
}

/// Sends `request` signed by `who` over HTTP and decodes the answer.
pub async fn call(server: &Server, who: &mut App, request: Request) -> Result<Response, Refusal> {
    call_at(&server.base(), who, request).await
}

/// Sends `request` signed by `who` to the relay at `base` (`http://ADDR`).
pub async fn call_at(base: &str, who: &mut App, request: Request) -> Result<Response, Refusal> {
    let signed = who.sign_request(request, now()).expect("sign");
    let body = reqwest::Client::new()
        .post(format!("{base}/v1/request"))
        .body(signed.to_bytes())
        .send()
        .await
        .expect("POST")
        .bytes()
        .await
        .expect("body");
    Response::decode_result(&body).expect("a well-formed response")
}

/// As [`call_at`], but a failed connection or an HTTP error is an `Err`
/// (for tests that kill servers or cut their database).
pub async fn try_call_at(
    base: &str,
    who: &mut App,
    request: Request,
) -> Result<Result<Response, Refusal>, String> {
    let signed = who.sign_request(request, now()).expect("sign");
    let reply = reqwest::Client::new()
        .post(format!("{base}/v1/request"))
        .timeout(WAIT)
        .body(signed.to_bytes())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !reply.status().is_success() {
        return Err(format!("HTTP {}", reply.status()));
    }
    let body = reply.bytes().await.map_err(|e| e.to_string())?;
    Response::decode_result(&body).map_err(|e| e.to_string())
}

/// Every prekey `client` holds, as one upload.
pub fn full_upload(client: &mut App) -> PreKeyUpload {
    client
        .update_prekeys(|p| {
            Ok::<_, std::convert::Infallible>(PreKeyUpload {
                signed_prekey: Some(p.signed_prekey()),
                last_resort_kem_prekey: Some(p.last_resort_kem_prekey()),
                one_time_prekeys: p.one_time_prekeys(),
                kem_prekeys: p.kem_prekeys(),
            })
        })
        .expect("store")
        .expect("upload")
}

/// Registers `business` (allowed by the server) and uploads its prekeys.
pub async fn register_business(server: &Server, business: &mut App) {
    let identity = business.identity();
    assert_eq!(
        call(
            server,
            business,
            Request::RegisterBusiness {
                identity,
                certificate_chain: Vec::new()
            }
        )
        .await,
        Ok(Response::Registered)
    );
    let upload = full_upload(business);
    assert!(matches!(
        call(server, business, Request::UploadPreKeys(upload)).await,
        Ok(Response::PreKeysStored(_))
    ));
}

pub async fn register_customer(server: &Server, customer: &mut App) {
    let identity = customer.identity();
    assert_eq!(
        call(server, customer, Request::RegisterCustomer { identity }).await,
        Ok(Response::Registered)
    );
}

/// A WebSocket stream of one client.
pub struct Stream(pub WebSocketStream<MaybeTlsStream<TcpStream>>);

/// A frame from the server.
#[derive(Debug)]
pub enum Frame {
    Response(Result<Response, Refusal>),
    Push(Response),
    Closed(Option<u16>),
}

/// The stream address of the relay at `base` (`http://ADDR`).
pub fn ws_url(base: &str) -> String {
    format!("{}/v1/stream", base.replacen("http://", "ws://", 1))
}

impl Stream {
    pub async fn connect(server: &Server) -> Self {
        Self::connect_to(&server.base())
            .await
            .expect("WebSocket handshake")
    }

    /// A stream to the relay at `base`, or why not.
    pub async fn connect_to(base: &str) -> Result<Self, String> {
        let (ws, _) = tokio_tungstenite::connect_async(ws_url(base))
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self(ws))
    }

    pub async fn send(&mut self, who: &mut App, request: Request) {
        self.try_send(who, request).await.expect("send a frame");
    }

    /// As [`send`](Self::send), but a broken connection is an `Err`.
    pub async fn try_send(&mut self, who: &mut App, request: Request) -> Result<(), String> {
        let signed = who.sign_request(request, now()).expect("sign");
        self.0
            .send(Message::Binary(signed.to_bytes().into()))
            .await
            .map_err(|e| e.to_string())
    }

    /// The next frame (pings skipped), or `None` if nothing came in `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Frame> {
        loop {
            let msg = match tokio::time::timeout(wait, self.0.next()).await {
                Err(_) => return None,
                Ok(None) => return Some(Frame::Closed(None)),
                Ok(Some(Err(_))) => return Some(Frame::Closed(None)),
                Ok(Some(Ok(m))) => m,
            };
            match msg {
                Message::Binary(b) => {
                    let decoded = Response::decode_result(&b[1..]).expect("a response");
                    return Some(match b[0] {
                        FRAME_RESPONSE => Frame::Response(decoded),
                        FRAME_PUSH => Frame::Push(decoded.expect("a push is never a refusal")),
                        other => panic!("unknown frame kind {other}"),
                    });
                }
                Message::Close(c) => return Some(Frame::Closed(c.map(|c| c.code.into()))),
                _ => continue,
            }
        }
    }

    pub async fn next(&mut self) -> Frame {
        self.next_within(WAIT).await.expect("a frame in time")
    }

    /// Sends `request` and returns its response (pushes before it fail).
    pub async fn call(&mut self, who: &mut App, request: Request) -> Result<Response, Refusal> {
        self.send(who, request).await;
        match self.next().await {
            Frame::Response(r) => r,
            other => panic!("expected a response, got {other:?}"),
        }
    }
}

/// A platform root written to `dir/root.pub`, and a business certified by
/// it as "Example Air".
pub fn certified_business(dir: &Path) -> (PathBuf, App, CertificateChain) {
    let always = Validity {
        not_before: 0,
        not_after: u64::MAX,
    };
    let root = RootAuthority::from_seed(&[0x51; 32], 1, always);
    let path = dir.join("root.pub");
    std::fs::write(&path, root.trust_root().to_bytes()).expect("write the root");
    let seed = [0x52; 32];
    let key = Ed25519Secret::from_seed(&seed).public_key();
    let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
    let issuer =
        IssuerAuthority::new(&seed, root.certify_issuer(7, &key, levels, always).unwrap()).unwrap();
    let mut business = app(&mut rng(0x53));
    let cert = issuer
        .issue(&BusinessCertificateRequest {
            serial: 1,
            business_id: BusinessId([1; 16]),
            identity_key: *business.identity().signing_key(),
            name: "Example Air".into(),
            localized: vec![],
            level: VerificationLevel::Verified,
            validity: always,
        })
        .unwrap();
    let chain = CertificateChain::new(issuer.certificate().clone(), cert);
    business
        .update_prekeys(|p| p.set_certificate_chain(chain.clone()))
        .unwrap()
        .unwrap();
    (path, business, chain)
}

/// An in-memory store whose every call takes `delay`, counting how many
/// calls run at once: a slow database.
pub struct SlowStore {
    pub inner: RelayMemory,
    pub delay: Duration,
    pub running: std::sync::atomic::AtomicUsize,
    pub most: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl SlowStore {
    fn gate<T>(&self, f: impl FnOnce() -> T) -> T {
        use std::sync::atomic::Ordering;
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        let out = f();
        self.running.fetch_sub(1, Ordering::SeqCst);
        out
    }
}

use hotline::relay::{
    AccountId, AccountRecord, BlockRecord, BundleParts, ConsentRecord, Delivery, EnqueueOutcome,
    MailboxLimits, MessageId, PairState, SendEffects, StoreError, StoredEnvelope, StoredReport,
    UploadOutcome,
};

impl RelayStore for SlowStore {
    fn register(&self, a: &AccountRecord, c: u64) -> Result<bool, StoreError> {
        self.gate(|| self.inner.register(a, c))
    }
    fn renew_business(&self, id: &AccountId, c: &[u8], n: &str) -> Result<bool, StoreError> {
        self.gate(|| self.inner.renew_business(id, c, n))
    }
    fn businesses(&self) -> Result<Vec<AccountRecord>, StoreError> {
        self.gate(|| self.inner.businesses())
    }
    fn put_status(&self, id: &AccountId, t: u64, st: &[u8]) -> Result<bool, StoreError> {
        self.gate(|| self.inner.put_status(id, t, st))
    }
    fn status(&self, id: &AccountId) -> Result<Option<Vec<u8>>, StoreError> {
        self.gate(|| self.inner.status(id))
    }
    fn account(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        self.gate(|| self.inner.account(id))
    }
    fn advance_counter(&self, id: &AccountId, c: u64) -> Result<Result<(), u64>, StoreError> {
        self.gate(|| self.inner.advance_counter(id, c))
    }
    fn add_prekeys(
        &self,
        id: &AccountId,
        u: &PreKeyUpload,
        m: usize,
    ) -> Result<UploadOutcome, StoreError> {
        self.gate(|| self.inner.add_prekeys(id, u, m))
    }
    fn take_bundle_parts(
        &self,
        id: &AccountId,
        one_time: bool,
    ) -> Result<Option<BundleParts>, StoreError> {
        self.gate(|| self.inner.take_bundle_parts(id, one_time))
    }
    fn prekey_counts(&self, id: &AccountId) -> Result<(usize, usize), StoreError> {
        self.gate(|| self.inner.prekey_counts(id))
    }
    fn is_stored(
        &self,
        r: &AccountId,
        se: &AccountId,
        m: &MessageId,
        l: &MailboxLimits,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.gate(|| self.inner.is_stored(r, se, m, l, now))
    }
    fn enqueue(
        &self,
        e: &StoredEnvelope,
        f: SendEffects,
        l: &MailboxLimits,
        now: u64,
    ) -> Result<EnqueueOutcome, StoreError> {
        self.gate(|| self.inner.enqueue(e, f, l, now))
    }
    fn fetch(
        &self,
        r: &AccountId,
        max: usize,
        l: &MailboxLimits,
        now: u64,
    ) -> Result<(Vec<Delivery>, bool), StoreError> {
        self.gate(|| self.inner.fetch(r, max, l, now))
    }
    fn acknowledge(
        &self,
        r: &AccountId,
        ids: &[u64],
        l: &MailboxLimits,
        now: u64,
    ) -> Result<usize, StoreError> {
        self.gate(|| self.inner.acknowledge(r, ids, l, now))
    }
    fn expire(&self, l: &MailboxLimits, now: u64) -> Result<usize, StoreError> {
        self.gate(|| self.inner.expire(l, now))
    }
    fn pair(&self, c: &AccountId, b: &AccountId) -> Result<PairState, StoreError> {
        self.gate(|| self.inner.pair(c, b))
    }
    fn put_consent(&self, r: &ConsentRecord, e: u64, h: usize) -> Result<bool, StoreError> {
        self.gate(|| self.inner.put_consent(r, e, h))
    }
    fn put_block(&self, r: &BlockRecord, e: u64) -> Result<bool, StoreError> {
        self.gate(|| self.inner.put_block(r, e))
    }
    fn consent_history(
        &self,
        c: &AccountId,
        b: &AccountId,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        self.gate(|| self.inner.consent_history(c, b))
    }
    fn notification_counts(&self) -> Result<Vec<(AccountId, u64)>, StoreError> {
        self.gate(|| self.inner.notification_counts())
    }
    fn put_report(&self, r: &StoredReport) -> Result<bool, StoreError> {
        self.gate(|| self.inner.put_report(r))
    }
    fn reporters(&self, b: &AccountId, since: u64) -> Result<u64, StoreError> {
        self.gate(|| self.inner.reporters(b, since))
    }
    fn reach(&self, b: &AccountId, c: &AccountId, since: u64) -> Result<(bool, u64), StoreError> {
        self.gate(|| self.inner.reach(b, c, since))
    }
    fn note_reach(&self, b: &AccountId, c: &AccountId, now: u64) -> Result<(), StoreError> {
        self.gate(|| self.inner.note_reach(b, c, now))
    }
    fn dump(&self) -> Result<Vec<u8>, StoreError> {
        self.gate(|| self.inner.dump())
    }
    fn delete_account(&self, id: &AccountId, now: u64) -> Result<bool, StoreError> {
        self.gate(|| self.inner.delete_account(id, now))
    }
    fn deleted_at(&self, id: &AccountId) -> Result<Option<u64>, StoreError> {
        self.gate(|| self.inner.deleted_at(id))
    }
    fn states(
        &self,
        s: &AccountId,
        after: u64,
        max: usize,
    ) -> Result<(Vec<hotline::relay::StateEntry>, bool), StoreError> {
        self.gate(|| self.inner.states(s, after, max))
    }
    fn billed(
        &self,
        s: &AccountId,
        period: u32,
    ) -> Result<Vec<hotline::relay::StateEntry>, StoreError> {
        self.gate(|| self.inner.billed(s, period))
    }
}

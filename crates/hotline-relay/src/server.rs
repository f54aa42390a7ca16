//! The HTTP and WebSocket binding of the relay (SPEC.md 14.14).

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, post};
use hotline::relay::{
    AccountId, Refusal, Relay, RelayError, RelayStore, Request, Response, SignedRequest,
};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::config::ServerLimits;
use crate::hub::{Hub, Subscription};
use crate::metrics::{self, EXPIRED, PUSHED, REJECTED, REQUEST_SECONDS, REQUESTS, STREAMS};

/// First byte of a server frame that answers the client's request (the
/// frames answer requests in the order they came).
pub const FRAME_RESPONSE: u8 = 0x01;
/// First byte of a server frame that pushes envelopes: a mailbox response
/// (SPEC.md 14.3, op `0x07`) the client did not ask for.
pub const FRAME_PUSH: u8 = 0x02;

/// WebSocket close codes (RFC 6455, 7.4.1).
const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_UNSUPPORTED: u16 = 1003;
const CLOSE_POLICY: u16 = 1008;
const CLOSE_TRY_AGAIN: u16 = 1013;

/// A relay shared by every connection of a server.
#[derive(Clone)]
pub struct RelayHandle(Arc<Inner>);

struct Inner {
    relay: Relay<Box<dyn RelayStore>>,
    hub: Arc<Hub>,
    limits: ServerLimits,
    /// One permit per open stream.
    streams: Arc<Semaphore>,
    /// One permit per request doing store work.
    work: Arc<Semaphore>,
    shutdown: watch::Sender<bool>,
}

impl core::fmt::Debug for RelayHandle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RelayHandle")
            .field("limits", &self.0.limits)
            .finish_non_exhaustive()
    }
}

/// What came of one request.
struct Processed {
    /// The encoded response (an answer or a refusal).
    bytes: Vec<u8>,
    /// The account that signed it, when the relay accepted it.
    accepted_from: Option<AccountId>,
}

/// Why a request got no protocol response.
enum Rejected {
    /// The deadline passed (the store may still complete the work: a retry
    /// of a send is then answered "duplicate").
    Timeout,
    /// The blocking task failed (it never should).
    Internal,
    /// Too many requests are doing store work already.
    Busy,
}

impl RelayHandle {
    /// Wraps `relay` for serving under `limits`.
    pub fn new(relay: Relay<Box<dyn RelayStore>>, limits: ServerLimits) -> Self {
        Self(Arc::new(Inner {
            relay,
            hub: Arc::new(Hub::default()),
            streams: Arc::new(Semaphore::new(limits.max_connections)),
            work: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
            limits,
            shutdown: watch::channel(false).0,
        }))
    }

    /// The relay (for operators: counts, evidence).
    pub fn relay(&self) -> &Relay<Box<dyn RelayStore>> {
        &self.0.relay
    }

    /// Tells every open stream to close (the server stops accepting new
    /// connections separately).
    pub fn shutdown(&self) {
        self.0.shutdown.send_replace(true);
    }

    /// Handles one request on the blocking pool, under the deadline.
    async fn process(&self, bytes: Bytes) -> Result<Processed, Rejected> {
        // Before any work: the permit travels with the blocking task and is
        // given back when the store work ends, not when the deadline does.
        let Ok(permit) = self.0.work.clone().try_acquire_owned() else {
            ::metrics::counter!(REJECTED, "reason" => "busy").increment(1);
            return Err(Rejected::Busy);
        };
        let inner = self.0.clone();
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            inner.process_blocking(&bytes)
        });
        match tokio::time::timeout(self.0.limits.request_timeout, task).await {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "request task failed");
                Err(Rejected::Internal)
            }
            Err(_) => {
                ::metrics::counter!(REJECTED, "reason" => "timeout").increment(1);
                tracing::warn!("request timed out");
                Err(Rejected::Timeout)
            }
        }
    }

    /// Pushes what `account` has waiting above delivery id `after`, and
    /// returns the new highest id pushed. `Err` if the socket failed.
    async fn push(
        &self,
        socket: &mut WebSocket,
        account: AccountId,
        after: u64,
    ) -> Result<u64, ()> {
        let inner = self.0.clone();
        let pending =
            tokio::task::spawn_blocking(move || inner.relay.pending(&account, after)).await;
        let response = match pending {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "pending envelopes unavailable");
                return Ok(after);
            }
            Err(_) => return Ok(after),
        };
        let Response::Mailbox { deliveries, .. } = &response else {
            return Ok(after);
        };
        let Some(highest) = deliveries.iter().map(|d| d.id).max() else {
            return Ok(after);
        };
        ::metrics::counter!(PUSHED).increment(deliveries.len() as u64);
        let mut frame = vec![FRAME_PUSH];
        frame.extend_from_slice(&Response::encode_result(&Ok(response)));
        socket
            .send(Message::Binary(frame.into()))
            .await
            .map_err(|_| ())?;
        Ok(highest)
    }

    /// Serves one WebSocket until the client leaves, idles out, breaks the
    /// protocol, or the server shuts down.
    async fn run_stream(self, mut socket: WebSocket) {
        ::metrics::gauge!(STREAMS).increment(1.0);
        let mut shutdown = self.0.shutdown.subscribe();
        let mut bound: Option<(AccountId, Subscription)> = None;
        let mut after = 0u64;
        let idle = self.0.limits.idle_timeout;
        let mut ping = tokio::time::interval(idle / 2);
        ping.tick().await;
        let mut last_seen = Instant::now();
        let close = |code: u16, reason: &'static str| {
            Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            }))
        };
        loop {
            let stopping = *shutdown.borrow_and_update();
            if stopping {
                let _ = socket
                    .send(close(CLOSE_GOING_AWAY, "relay shutting down"))
                    .await;
                break;
            }
            tokio::select! {
                // Only `true` is ever sent: the loop's check closes.
                _ = shutdown.changed() => continue,
                msg = socket.recv() => {
                    let Some(Ok(msg)) = msg else { break };
                    last_seen = Instant::now();
                    let bytes = match msg {
                        Message::Binary(bytes) => bytes,
                        Message::Ping(_) | Message::Pong(_) => continue,
                        Message::Close(_) => break,
                        Message::Text(_) => {
                            let _ = socket.send(close(CLOSE_UNSUPPORTED, "binary frames only")).await;
                            break;
                        }
                    };
                    let processed = match self.process(bytes).await {
                        Ok(p) => p,
                        Err(Rejected::Busy) => {
                            let _ = socket.send(close(CLOSE_TRY_AGAIN, "busy")).await;
                            break;
                        }
                        Err(_) => {
                            let _ = socket.send(close(CLOSE_TRY_AGAIN, "request timed out")).await;
                            break;
                        }
                    };
                    let mut frame = vec![FRAME_RESPONSE];
                    frame.extend_from_slice(&processed.bytes);
                    if socket.send(Message::Binary(frame.into())).await.is_err() {
                        break;
                    }
                    match (&bound, processed.accepted_from) {
                        // The first accepted request binds the stream to
                        // its signer: from now on its envelopes are pushed.
                        (None, Some(account)) => {
                            bound = Some((account, self.0.hub.subscribe(account)));
                            match self.push(&mut socket, account, after).await {
                                Ok(a) => after = a,
                                Err(()) => break,
                            }
                        }
                        (Some((account, _)), Some(other)) if *account != other => {
                            let _ = socket.send(close(CLOSE_POLICY, "one account per stream")).await;
                            break;
                        }
                        _ => {}
                    }
                }
                changed = wait_for_change(&mut bound) => {
                    let Some(account) = changed else { break };
                    match self.push(&mut socket, account, after).await {
                        Ok(a) => after = a,
                        Err(()) => break,
                    }
                }
                _ = ping.tick() => {
                    if last_seen.elapsed() > idle {
                        let _ = socket.send(close(CLOSE_GOING_AWAY, "idle")).await;
                        break;
                    }
                    if socket.send(Message::Ping(Bytes::new())).await.is_err() {
                        break;
                    }
                }
            }
        }
        ::metrics::gauge!(STREAMS).decrement(1.0);
    }
}

/// Waits until the bound account's channel changes; never returns for an
/// unbound stream. `None` if the channel closed.
async fn wait_for_change(bound: &mut Option<(AccountId, Subscription)>) -> Option<AccountId> {
    match bound {
        None => std::future::pending().await,
        Some((account, sub)) => sub.changes.changed().await.ok().map(|()| *account),
    }
}

impl Inner {
    fn process_blocking(&self, bytes: &[u8]) -> Processed {
        let start = Instant::now();
        let (result, op, account) = match SignedRequest::from_bytes(bytes) {
            Err(e) => (Err(RelayError::from(e)), "undecodable", None),
            Ok(req) => {
                let result = self.relay.handle_request(&req);
                match (req.request(), &result) {
                    (
                        Request::Send(envelope),
                        Ok(Response::Accepted {
                            duplicate: false, ..
                        }),
                    ) => {
                        self.hub.notify(&envelope.header.recipient);
                    }
                    // What was acknowledged is gone: push the next batch.
                    (Request::Acknowledge { .. }, Ok(_)) => self.hub.notify(&req.account()),
                    _ => {}
                }
                (result, op_name(req.request()), Some(req.account()))
            }
        };
        let outcome = match &result {
            Ok(_) => "ok".to_owned(),
            Err(e) => {
                if let RelayError::Store(error) = e {
                    tracing::error!(%error, op, "store failure");
                }
                refusal_name(e.refusal())
            }
        };
        tracing::debug!(op, outcome, "request");
        ::metrics::counter!(REQUESTS, "op" => op, "outcome" => outcome).increment(1);
        ::metrics::histogram!(REQUEST_SECONDS, "op" => op).record(start.elapsed().as_secs_f64());
        let accepted_from = account.filter(|_| result.is_ok());
        Processed {
            bytes: Response::encode_result(&result.map_err(|e| e.refusal())),
            accepted_from,
        }
    }
}

/// A stable label for an operation.
fn op_name(request: &Request) -> &'static str {
    match request {
        Request::RegisterCustomer { .. } => "register_customer",
        Request::RegisterBusiness { .. } => "register_business",
        Request::UploadPreKeys(_) => "upload_prekeys",
        Request::FetchBundle { .. } => "fetch_bundle",
        Request::PreKeyStatus => "prekey_status",
        Request::Send(_) => "send",
        Request::FetchMailbox { .. } => "fetch_mailbox",
        Request::Acknowledge { .. } => "acknowledge",
        Request::Consent(_) => "consent",
        Request::Block(_) => "block",
        Request::ExportConsent { .. } => "export_consent",
        Request::PublishStatus(_) => "publish_status",
        Request::PublishRevocationList { .. } => "publish_revocation_list",
        _ => "other",
    }
}

/// The refusal's name, without its fields ("RateLimited", "Blocked").
fn refusal_name(refusal: Refusal) -> String {
    let debug = format!("{refusal:?}");
    debug
        .split([' ', '{', '('])
        .next()
        .unwrap_or("Refused")
        .to_owned()
}

async fn post_request(State(h): State<RelayHandle>, body: Bytes) -> HttpResponse {
    match h.process(body).await {
        Ok(p) => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            p.bytes,
        )
            .into_response(),
        Err(Rejected::Timeout) => {
            (StatusCode::SERVICE_UNAVAILABLE, "request timed out; retry").into_response()
        }
        Err(Rejected::Internal) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
        Err(Rejected::Busy) => (StatusCode::SERVICE_UNAVAILABLE, "busy; retry").into_response(),
    }
}

async fn stream(State(h): State<RelayHandle>, ws: WebSocketUpgrade) -> HttpResponse {
    // The connection limit before the upgrade: a refused client costs no
    // WebSocket state.
    let Ok(permit) = h.0.streams.clone().try_acquire_owned() else {
        ::metrics::counter!(REJECTED, "reason" => "too_many_streams").increment(1);
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    };
    let max = h.0.limits.max_body;
    ws.max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| async move {
            let _permit = permit;
            h.run_stream(socket).await;
        })
}

async fn healthz(State(h): State<RelayHandle>) -> HttpResponse {
    let inner = h.0.clone();
    let probe =
        tokio::task::spawn_blocking(move || inner.relay.store().account(&AccountId([0; 32])));
    match probe.await {
        Ok(Ok(_)) => (StatusCode::OK, "ok\n").into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response(),
    }
}

async fn metrics_text(State(h): State<RelayHandle>) -> HttpResponse {
    let Some(handle) = metrics::handle() else {
        return (StatusCode::NOT_FOUND, "metrics are recorded elsewhere\n").into_response();
    };
    ::metrics::gauge!("hotline_stream_accounts").set(h.0.hub.accounts() as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// The server's routes over `handle` (for embedding in a larger router).
pub fn router(handle: RelayHandle) -> Router {
    // Installs the process's metrics recorder before the first request.
    let _ = metrics::handle();
    let max = handle.0.limits.max_body;
    Router::new()
        .route("/v1/request", post(post_request))
        .route("/v1/stream", get(stream))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .layer(DefaultBodyLimit::max(max))
        .with_state(handle)
}

/// Serves `relay` on `listener` until `shutdown` completes, then stops
/// accepting, closes every stream with "going away", and returns once the
/// requests in flight are answered (each answered only after its store
/// write returned). Expired envelopes are deleted every
/// [`ServerLimits::expiry_interval`].
pub async fn serve(
    listener: TcpListener,
    relay: Relay<Box<dyn RelayStore>>,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_node(listener, relay, limits, None, shutdown).await
}

/// [`serve`] for one node of several on one PostgreSQL database: with
/// `peers`, the node also listens (its own connection, reconnecting by
/// itself) for the envelopes that any node stores, and pushes them to its
/// streams. `relay` should be over a [`PostgresStore`](crate::PostgresStore)
/// of the same configuration, whose sends notify that channel.
pub async fn serve_node(
    listener: TcpListener,
    relay: Relay<Box<dyn RelayStore>>,
    limits: ServerLimits,
    peers: Option<crate::PostgresConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = RelayHandle::new(relay, limits);
    let app = router(handle.clone());
    let expiry = tokio::spawn(expire_periodically(handle.clone()));
    let listening = peers.map(|c| tokio::spawn(crate::postgres::listen(c, handle.0.hub.clone())));
    let stopping = handle.clone();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: closing streams, finishing requests");
        stopping.shutdown();
    };
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(signal)
        .await;
    expiry.abort();
    if let Some(l) = listening {
        l.abort();
    }
    // Streams run in their own tasks: wait (bounded) for them to close.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(
        limits.request_timeout,
        handle.0.streams.clone().acquire_many_owned(all),
    )
    .await;
    served
}

async fn expire_periodically(handle: RelayHandle) {
    let mut tick = tokio::time::interval(handle.0.limits.expiry_interval);
    loop {
        tick.tick().await;
        let inner = handle.0.clone();
        match tokio::task::spawn_blocking(move || inner.relay.expire()).await {
            Ok(Ok(n)) => {
                if n > 0 {
                    ::metrics::counter!(EXPIRED).increment(n as u64);
                    tracing::info!(expired = n, "expired envelopes deleted");
                }
            }
            Ok(Err(error)) => tracing::error!(%error, "expiry failed"),
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_names_drop_their_fields() {
        assert_eq!(refusal_name(Refusal::Blocked), "Blocked");
        assert_eq!(
            refusal_name(Refusal::RateLimited {
                limit: hotline::relay::RateLimit::BundleFetches,
                retry_after_secs: 3
            }),
            "RateLimited"
        );
    }
}

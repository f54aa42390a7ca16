//! The REST API: routes, authentication, errors.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hotline::business::{MessageTemplate, TemplatedNotification};
use hotline::constants::CHAT_WINDOW_SECS;
use hotline::relay::{
    AccountId, MessageClass, Refusal, Request as RelayRequest, Response as RelayResponse,
};
use hotline::store::SendError;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::Scope;
use crate::gateway::{Shared, now_secs};
use crate::store::{Conversation, Idempotency, StoredMessage};

/// The OpenAPI document of this API.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// The header of the idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// Longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;
/// Longest wait for the relay's record of a customer's consent.
pub const CONSENT_QUERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);
/// Most conversations or messages in one page.
pub const MAX_PAGE: usize = 500;

/// An API error: an HTTP status and the JSON `{code, message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code.
    pub code: &'static str,
    /// What happened, for people.
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the gateway failed; the request may be retried",
        )
    }

    fn body(&self) -> String {
        json!({"code": self.code, "message": self.message}).to_string()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            self.body(),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"hotline-gateway\""),
            );
        }
        r
    }
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    name: String,
    scopes: Vec<Scope>,
}

impl Caller {
    /// Passes when the caller holds one of `any` (admin holds them all).
    fn require(&self, any: &[Scope], what: &str) -> Result<(), ApiError> {
        if self
            .scopes
            .iter()
            .any(|s| *s == Scope::Admin || any.contains(s))
        {
            return Ok(());
        }
        let names: Vec<&str> = any.iter().map(|s| s.name()).collect();
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!(
                "{what} needs a token with the scope {} (or admin)",
                names.join(" or ")
            ),
        ))
    }
}

/// The tokens, by SHA-256 of the secret (so that lookups do not compare
/// secrets byte by byte).
pub(crate) type Tokens = HashMap<[u8; 32], (String, Vec<Scope>)>;

pub(crate) fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl FromRequestParts<Arc<Shared>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &Arc<Shared>) -> Result<Self, ApiError> {
        let unauthorized =
            |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m.to_owned());
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("missing Authorization: Bearer <token>"))?;
        let value = value
            .to_str()
            .map_err(|_| unauthorized("malformed Authorization header"))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("the Authorization header is not a bearer token"))?;
        let (name, scopes) = s
            .tokens
            .get(&token_hash(token))
            .ok_or_else(|| unauthorized("unknown token"))?;
        Ok(Self {
            name: name.clone(),
            scopes: scopes.clone(),
        })
    }
}

/// The API's routes, with the body limit and the request timeout.
pub(crate) fn router(s: Arc<Shared>) -> Router {
    let max_body = s.limits.max_body;
    Router::new()
        .route("/v1/messages", post(send_message))
        .route("/v1/conversations", get(list_conversations))
        .route("/v1/conversations/{customer}", get(get_conversation))
        .route("/v1/conversations/{customer}/messages", get(list_messages))
        .route(
            "/v1/customers/{customer}/block",
            post(block_customer).delete(unblock_customer),
        )
        .route("/v1/status", get(status))
        .route("/v1/openapi.json", get(openapi))
        .merge(crate::console::routes())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .layer(middleware::from_fn_with_state(s.clone(), deadline))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(s)
}

async fn deadline(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let Ok(_permit) = s.in_flight.clone().try_acquire_owned() else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "too many requests in progress; retry shortly",
        )
        .into_response();
    };
    match tokio::time::timeout(s.limits.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took too long; a send with an Idempotency-Key may be retried safely",
        )
        .into_response(),
    }
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// Parses a customer's account id (64 hex digits).
pub fn parse_account(s: &str) -> Result<AccountId, ApiError> {
    let bad = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_customer",
            "a customer is its account id: 64 hexadecimal digits",
        )
    };
    if s.len() != 64 {
        return Err(bad());
    }
    let bytes = hex::decode(s).map_err(|_| bad())?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map(AccountId)
        .map_err(|_| bad())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    customer: String,
    class: ClassName,
    /// The text of a chat message (for a notification, optional: the
    /// rendered template is recorded).
    #[serde(default)]
    text: String,
    /// A notification's template, as the issuer signed it (hex, SPEC.md
    /// 13.17): customers' apps show no notification that is not an approved
    /// template of this business.
    #[serde(default)]
    template: Option<String>,
    /// The template's parameters, in placeholder order.
    #[serde(default)]
    params: Vec<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum ClassName {
    Chat,
    Notification,
}

fn class_str(c: MessageClass) -> &'static str {
    if c == MessageClass::Notification {
        "notification"
    } else {
        "chat"
    }
}

async fn send_message(
    State(s): State<Arc<Shared>>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the body is over {} bytes", s.limits.max_body),
            )
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text())
        }
    })?;
    let req: SendBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("expected {{customer, class: chat|notification, text}}: {e}"),
        )
    })?;
    let customer = parse_account(&req.customer)?;
    let class = match req.class {
        ClassName::Chat => {
            caller.require(&[Scope::Agent, Scope::Bot], "sending a chat message")?;
            MessageClass::Chat
        }
        ClassName::Notification => {
            caller.require(&[Scope::Bot], "sending a notification")?;
            MessageClass::Notification
        }
    };
    // A notification is an approved template with its parameters: the
    // customer's app refuses anything else, so the gateway refuses it first.
    let (text, body) = match (class, &req.template) {
        (MessageClass::Notification, Some(hex_template)) => {
            let bad =
                |e: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_template", e);
            let bytes =
                hex::decode(hex_template).map_err(|e| bad(format!("template is not hex: {e}")))?;
            let template = MessageTemplate::from_bytes(&bytes).map_err(|e| bad(e.to_string()))?;
            let params: Vec<&str> = req.params.iter().map(String::as_str).collect();
            let content =
                TemplatedNotification::new(&template, &params).map_err(|e| bad(e.to_string()))?;
            let mut text = template.body().to_owned();
            for (i, p) in params.iter().enumerate() {
                text = text.replace(&format!("{{{{{}}}}}", i + 1), p);
            }
            (text, content.to_bytes())
        }
        (MessageClass::Notification, None) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "template_required",
                "a notification is an approved template with its parameters (template, params)",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "a chat message carries text, not a template",
            ));
        }
        (_, None) => (req.text.clone(), req.text.clone().into_bytes()),
    };
    if text.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "empty_text",
            "the text is empty",
        ));
    }
    if text.len() > s.limits.max_text {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "text_too_long",
            format!("the text is over {} bytes", s.limits.max_text),
        ));
    }
    let key = match headers.get(IDEMPOTENCY_HEADER) {
        None => None,
        Some(v) => {
            let k = v
                .to_str()
                .ok()
                .filter(|k| {
                    !k.is_empty()
                        && k.len() <= MAX_IDEMPOTENCY_KEY
                        && k.bytes().all(|b| b.is_ascii_graphic())
                })
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "bad_idempotency_key",
                        format!(
                            "an Idempotency-Key is 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"
                        ),
                    )
                })?;
            Some(k.to_owned())
        }
    };
    // Run to the end even if the caller goes away or the deadline passes,
    // so that the idempotency record always learns the outcome.
    let task = tokio::spawn(send_core(s, caller.name, key, customer, class, text, body));
    task.await.map_err(ApiError::internal)?
}

async fn send_core(
    s: Arc<Shared>,
    token: String,
    key: Option<String>,
    customer: AccountId,
    class: MessageClass,
    text: String,
    body: Vec<u8>,
) -> Result<Response, ApiError> {
    let hash = s.store.request_digest(&[
        &customer.0,
        &[u8::from(class == MessageClass::Notification)],
        &body,
    ]);
    let now = now_secs();
    if let Some(key) = &key {
        let ttl = s.limits.idempotency_ttl.as_secs();
        let reserved = {
            let (store, token, key) = (s.store.clone(), token.clone(), key.clone());
            tokio::task::spawn_blocking(move || store.reserve_key(&token, &key, &hash, now, ttl))
                .await
                .map_err(ApiError::internal)?
                .map_err(ApiError::internal)?
        };
        match reserved {
            Idempotency::Reserved => {}
            Idempotency::Mismatch => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used with another request",
                ));
            }
            Idempotency::InProgress => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "request_in_progress",
                    "a request with this Idempotency-Key is being handled; retry later",
                ));
            }
            Idempotency::InDoubt => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "idempotency_key_in_doubt",
                    "the gateway stopped while handling the first request with this key: \
                     the message may have been queued; see the conversation's messages",
                ));
            }
            Idempotency::Done { status, response } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::ACCEPTED);
                return Ok((
                    status,
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (
                            header::HeaderName::from_static("idempotent-replayed"),
                            "true",
                        ),
                    ],
                    response,
                )
                    .into_response());
            }
        }
    }
    match queue(
        &s,
        &token,
        key.as_deref(),
        customer,
        class,
        &text,
        body,
        now,
    )
    .await
    {
        Ok(r) => Ok(r),
        Err(Failed::Before(e)) => {
            if let Some(key) = &key {
                // Nothing was queued: a retry may send.
                let _ = s.store.release_key(&token, key);
            }
            Err(e)
        }
        Err(Failed::After(e)) => {
            if let Some(key) = &key {
                // Queued but not recorded: a retry must not send again.
                let _ = s.store.mark_in_doubt(&token, key);
            }
            Err(e)
        }
    }
}

/// Why a send failed: before the message was queued (a retry may send) or
/// after (it may be on its way: a retry must not send it again).
enum Failed {
    Before(ApiError),
    After(ApiError),
}

impl From<ApiError> for Failed {
    fn from(e: ApiError) -> Self {
        Self::Before(e)
    }
}

// The request's parts, each used: a struct for them would be this list.
#[allow(clippy::too_many_arguments)]
async fn queue(
    s: &Arc<Shared>,
    token: &str,
    key: Option<&str>,
    customer: AccountId,
    class: MessageClass,
    text: &str,
    body: Vec<u8>,
    now: u64,
) -> Result<Response, Failed> {
    let conversation = s
        .store
        .conversation(&customer)
        .map_err(ApiError::internal)?;
    if conversation.as_ref().is_some_and(|c| c.blocked) {
        return Err(Failed::Before(ApiError::new(
            StatusCode::CONFLICT,
            "blocked",
            "the customer blocked this business; nothing can be sent until they write again",
        )));
    }
    match class {
        MessageClass::Notification => {
            if let Some(consent) = consent(s, customer).await?
                && !consent.notifications
            {
                return Err(Failed::Before(ApiError::new(
                    StatusCode::CONFLICT,
                    "no_consent",
                    "the customer has not consented to notifications from this business",
                )));
            }
        }
        _ => {
            if !window(conversation.as_ref(), now).0 {
                return Err(Failed::Before(ApiError::new(
                    StatusCode::CONFLICT,
                    "window_closed",
                    "chat messages are allowed only within 24 hours of the customer's last \
                     message; send a notification instead",
                )));
            }
        }
    }
    let outbox_id = match s.client.send(customer, class, body).await {
        Ok(id) => id,
        Err(hotline_client::Error::Send(SendError::NoSession)) => {
            return Err(Failed::Before(ApiError::new(
                StatusCode::CONFLICT,
                "no_session",
                "no session with this customer: the customer must write to the business first",
            )));
        }
        Err(hotline_client::Error::Send(SendError::Blocked)) => {
            return Err(Failed::Before(ApiError::new(
                StatusCode::CONFLICT,
                "blocked",
                "this business blocked the customer",
            )));
        }
        Err(hotline_client::Error::Closed) => {
            // The client stopped with the call in flight: the message may
            // have been queued.
            return Err(Failed::After(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the gateway is shutting down; the message may have been queued",
            )));
        }
        Err(e) => return Err(Failed::Before(ApiError::internal(e))),
    };
    let hex_customer = hex::encode(customer.0);
    let recorded = {
        let (s, token, key, text) = (
            s.clone(),
            token.to_owned(),
            key.map(str::to_owned),
            text.to_owned(),
        );
        // The commit (with fsync) off the async threads.
        tokio::task::spawn_blocking(move || {
            // Under the lock of early deliveries: the relay's answer may
            // have come before this record (see `Shared::delivery`).
            let early = s
                .early
                .lock()
                .map_err(|_| ApiError::internal("lock poisoned"))?;
            let (_, body) = s
                .store
                .record_outbound(
                    &customer,
                    class,
                    &text,
                    outbox_id,
                    now,
                    key.as_deref().map(|k| (token.as_str(), k)),
                    |id| {
                        json!({
                            "id": id,
                            "customer": hex_customer,
                            "class": class_str(class),
                            "state": "queued",
                        })
                        .to_string()
                    },
                )
                .map_err(ApiError::internal)?;
            s.after_record(early, outbox_id);
            Ok::<_, ApiError>(body)
        })
        .await
    };
    let body = recorded
        .map_err(ApiError::internal)
        .and_then(|r| r)
        .map_err(Failed::After)?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// What the customer's consent in force allows, as the relay holds it
/// (`None` when the relay could not be asked: it decides on sending).
struct Consent {
    chat: bool,
    notifications: bool,
    since: Option<u64>,
}

async fn consent(s: &Shared, customer: AccountId) -> Result<Option<Consent>, ApiError> {
    // Bounded well inside the request's deadline: without an answer the
    // relay decides when the message reaches it.
    let asked = tokio::time::timeout(
        CONSENT_QUERY_TIMEOUT,
        s.client.request(RelayRequest::ExportConsent { customer }),
    )
    .await;
    let Ok(answer) = asked else {
        return Ok(None);
    };
    match answer {
        Ok(RelayResponse::ConsentEvidence(records)) => Ok(Some(match records.last() {
            Some(r) => Consent {
                chat: r.scope().chat,
                notifications: r.scope().notifications,
                since: Some(r.time()),
            },
            None => Consent {
                chat: false,
                notifications: false,
                since: None,
            },
        })),
        Err(hotline_client::Error::Refused(Refusal::UnknownAccount)) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_customer",
            "the relay knows no such customer",
        )),
        Ok(_) | Err(_) => Ok(None),
    }
}

/// Whether the chat window is open at `now`, and when it closes.
fn window(c: Option<&Conversation>, now: u64) -> (bool, Option<u64>) {
    match c.and_then(|c| c.last_inbound_at) {
        Some(t) => {
            let closes = t.saturating_add(CHAT_WINDOW_SECS);
            (now <= closes, Some(closes))
        }
        None => (false, None),
    }
}

fn conversation_json(c: &Conversation, now: u64) -> Value {
    let (open, closes) = window(Some(c), now);
    json!({
        "customer": hex::encode(c.customer.0),
        "last_inbound_at": c.last_inbound_at,
        "last_message_at": c.last_message_at,
        "blocked": c.blocked,
        "window_open": open,
        "window_closes_at": closes,
        "window_remaining_secs": closes.map(|t| t.saturating_sub(now)),
    })
}

fn message_json(m: &StoredMessage) -> Value {
    json!({
        "id": m.id,
        "customer": hex::encode(m.customer.0),
        "direction": m.direction,
        "class": m.class,
        "text": m.text,
        "at": m.at,
        "state": m.state,
        "reason": m.reason,
    })
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    after: Option<i64>,
    #[serde(default)]
    limit: Option<usize>,
}

const READERS: &[Scope] = &[Scope::Agent, Scope::Bot];

async fn list_conversations(
    State(s): State<Arc<Shared>>,
    caller: Caller,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(READERS, "reading conversations")?;
    let Query(page) =
        page.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))?;
    let limit = page.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let now = now_secs();
    let list = s.store.conversations(limit).map_err(ApiError::internal)?;
    Ok(Json(json!({
        "conversations": list.iter().map(|c| conversation_json(c, now)).collect::<Vec<_>>(),
    })))
}

async fn get_conversation(
    State(s): State<Arc<Shared>>,
    caller: Caller,
    Path(customer): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(READERS, "reading conversations")?;
    let customer = parse_account(&customer)?;
    let now = now_secs();
    let c = s
        .store
        .conversation(&customer)
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_conversation",
                "no message went either way with this customer",
            )
        })?;
    let mut v = conversation_json(&c, now);
    let consent = consent(&s, customer).await?;
    v["consent"] = match consent {
        Some(c) => json!({"chat": c.chat, "notifications": c.notifications, "since": c.since}),
        None => Value::Null,
    };
    Ok(Json(v))
}

async fn list_messages(
    State(s): State<Arc<Shared>>,
    caller: Caller,
    Path(customer): Path<String>,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(READERS, "reading conversations")?;
    let customer = parse_account(&customer)?;
    let Query(page) =
        page.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))?;
    let limit = page.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let list = s
        .store
        .messages(&customer, page.after.unwrap_or(0), limit)
        .map_err(ApiError::internal)?;
    Ok(Json(json!({
        "messages": list.iter().map(message_json).collect::<Vec<_>>(),
    })))
}

async fn block_customer(
    State(s): State<Arc<Shared>>,
    caller: Caller,
    Path(customer): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_block(&s, &caller, &customer, true).await
}

async fn unblock_customer(
    State(s): State<Arc<Shared>>,
    caller: Caller,
    Path(customer): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_block(&s, &caller, &customer, false).await
}

/// A business's block of an abusive customer (SPEC.md 14.6): signed by the
/// gateway's identity and stored at the relay, which then refuses the
/// customer's messages and deletes those still waiting; and locally, so
/// that anything already on its way is dropped unread.
async fn set_block(
    s: &Shared,
    caller: &Caller,
    customer: &str,
    blocked: bool,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Scope::Agent], "blocking a customer")?;
    let customer = parse_account(customer)?;
    let result = if blocked {
        s.client.block(customer).await
    } else {
        s.client.unblock(customer).await
    };
    match result {
        Ok(()) => Ok(Json(json!({
            "customer": hex::encode(customer.0),
            "blocked": blocked,
        }))),
        Err(hotline_client::Error::Refused(Refusal::UnknownAccount)) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_customer",
            "the relay knows no such customer",
        )),
        Err(hotline_client::Error::Refused(Refusal::UnsupportedRoute)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_a_customer",
            "this account is not a customer",
        )),
        Err(hotline_client::Error::Refused(r)) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "relay_refused",
            format!("the relay refused the block: {r:?}"),
        )),
        Err(e) => Err(ApiError::internal(e)),
    }
}

async fn status(State(s): State<Arc<Shared>>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(&[Scope::Admin], "reading the gateway's status")?;
    let client = s.client.status().await.map_err(ApiError::internal)?;
    let queue = s.store.webhook_queue_len().map_err(ApiError::internal)?;
    Ok(Json(json!({
        "account": hex::encode(s.client.account().0),
        "connected": client.connected && s.connected.load(Ordering::Relaxed),
        "outbox": client.outbox,
        "webhook_queue": queue,
    })))
}

//! Kotlin, Swift and Python bindings of the Hotline client SDK
//! (`hotline-client`), generated with [UniFFI](https://mozilla.github.io/uniffi-rs)
//! from the Rust code itself (proc-macro mode: no UDL file to keep in step).
//!
//! The bound API is a customer's app:
//!
//! | Rust (this crate)                  | what it does |
//! |------------------------------------|--------------|
//! | [`open_client`]                    | creates or opens the account in a SQLite file, sealed under the app's storage key, and connects to the relay in the background |
//! | [`generate_storage_key`]           | 32 fresh random bytes for the platform keychain |
//! | [`HotlineClient::consent`]         | lets a business write (chat, notifications) |
//! | [`HotlineClient::start_session`]   | fetches the business's bundle, verifies its chain against the trusted roots, starts the session; returns the [`Badge`] and the safety number |
//! | [`HotlineClient::send`], [`HotlineClient::send_text`] | encrypts into the durable outbox; the relay's answer comes as [`ClientEvent::Delivery`] |
//! | [`HotlineClient::next_event`]      | the next [`ClientEvent`] (message, delivery, badge change...), with a timeout |
//! | [`HotlineClient::confirm`], [`HotlineClient::inbox`] | the application has a message; the inbox read back |
//! | [`HotlineClient::badge`], [`HotlineClient::safety_number`] | the badge now (the verified name, or the precise reason it is not verified) and the safety number |
//! | [`HotlineClient::block`], [`HotlineClient::unblock`] | blocks a business at the relay and locally |
//! | [`HotlineClient::render_notification`] | shows a notification only as an approved template of a verified business |
//! | [`HotlineClient::status`], [`HotlineClient::shutdown`] | the connection and outbox; stopping |
//!
//! Every failure crosses as [`HotlineError`], one variant per kind of SDK
//! error (with its message), plus [`HotlineError::InvalidArgument`] for
//! what the foreign caller passed (an account id that is not 64 hex
//! digits, a key that is not 32 bytes, a trust root that does not decode).
//! Accounts cross as lowercase hex (`AccountId`'s 32 bytes), bodies as
//! bytes.
//!
//! # Async, on a runtime of this crate
//!
//! The SDK is async (tokio), and so is every binding that does I/O: a
//! Kotlin `suspend fun`, a Swift `async` function, a Python coroutine. A
//! blocking wrapper would hold a thread per call for as long as the relay
//! takes to answer, which is what mobile apps must not do on their main
//! thread, and would make every app start threads of its own to wait for
//! events. Each exported async function spawns its work on one
//! multi-threaded tokio runtime that this crate owns (started on first
//! use), and returns the task's `JoinHandle`, a future any executor can
//! poll: the foreign side's executor (Kotlin coroutines, Swift's
//! concurrency, Python's asyncio) only waits for it. So UniFFI's `tokio`
//! feature (which would run the futures inside `async-compat` on the
//! caller's polls) is not needed, and the SDK's background task (the
//! connection, the outbox) keeps running between calls.
//!
//! A future the caller drops does not cancel the work already spawned: a
//! dropped [`HotlineClient::next_event`] may take an event nobody reads.
//! Waiting with a timeout instead ([`HotlineClient::next_event`] takes
//! one) loses nothing: a message left unconfirmed is emitted again at the
//! next [`open_client`] anyway.
//!
//! # `unsafe` and the generated scaffolding
//!
//! The crate is `#![forbid(unsafe_code)]` like every crate of the
//! workspace. UniFFI's scaffolding (the `extern "C"` functions with
//! `#[unsafe(no_mangle)]` that every binding calls, and the raw buffer
//! handling behind them) is expanded from `uniffi`'s macros, and the
//! `unsafe_code` lint does not report code expanded from another crate's
//! macros: the `unsafe` lives in `uniffi_core` and `uniffi_macros`, a
//! dependency like `tokio`, not in this crate's source. Checked: the crate
//! builds with `forbid`, and the library exports the `uniffi_hotline_ffi_*`
//! symbols the generated Kotlin, Swift and Python call.
//!
//! # Generating the bindings
//!
//! The generator is built from the repository (`crates/hotline-ffi/uniffi-bindgen`,
//! the same exact `uniffi` version) and reads the metadata the macros put
//! in the built library ("library mode"):
//!
//! * `crates/hotline-ffi/python/build.sh` builds the library, generates
//!   `python/hotline/hotline_ffi.py` and copies the library beside it (not
//!   checked in; `python/tests` are its pytest tests);
//! * `crates/hotline-ffi/bindings/generate.sh` writes the Kotlin
//!   (`bindings/kotlin`, JNA and kotlinx-coroutines) and Swift
//!   (`bindings/swift`: the Swift file, the C header and its module map)
//!   sources, which are checked in; `--check` fails when they are not
//!   current, as CI runs it.
//!
//! The Kotlin and Swift sources are not compiled here: the development and
//! CI machines have no Swift compiler, and the only Kotlin compiler their
//! package manager offers (Debian's 1.3.31) predates the syntax UniFFI
//! generates (trailing commas in parameter lists, Kotlin 1.4). An Android
//! or iOS build compiles them with the app.
//!
//! # Example
//!
//! In Python, with the package `crates/hotline-ffi/python/build.sh` makes:
//!
//! ```python
//! import asyncio
//! from hotline import ClientConfig, generate_storage_key, open_client, ClientEvent
//!
//! async def main(relay_url, business, root_bytes):
//!     client = await open_client(ClientConfig(
//!         relay_url=relay_url, database_path="customer.db",
//!         storage_key=generate_storage_key(),  # keep it in the keychain
//!         trust_roots=[root_bytes]))
//!     await client.consent(business, chat=True, notifications=False)
//!     session = await client.start_session(business)
//!     print(session.badge.description, session.safety_number)
//!     await client.send_text(business, "Where is my bag?")
//!     while (event := await client.next_event(10_000)) is not None:
//!         if isinstance(event, ClientEvent.MESSAGE):
//!             print(event.message.body.decode())
//!             await client.confirm(event.message.seq)
//!             break
//!     await client.shutdown()
//! ```
//!
//! The same in Rust, through this crate's API (what the bindings call):
//!
//! ```no_run
//! use hotline_ffi::{ClientConfig, ClientEvent, generate_storage_key, open_client};
//! # async fn run(relay_url: String, business: String, root: Vec<u8>) -> Result<(), hotline_ffi::HotlineError> {
//! let client = open_client(ClientConfig {
//!     relay_url,
//!     database_path: Some("customer.db".into()),
//!     storage_key: generate_storage_key(),
//!     trust_roots: vec![root],
//! })
//! .await?;
//! client.consent(business.clone(), true, false).await?;
//! let session = client.start_session(business.clone()).await?;
//! assert!(session.badge.verified, "{}", session.badge.description);
//! client.send_text(business, "Where is my bag?".into()).await?;
//! while let Some(event) = client.next_event(10_000).await? {
//!     if let ClientEvent::Message { message } = event {
//!         println!("{}", String::from_utf8_lossy(&message.body));
//!         client.confirm(message.seq).await?;
//!         break;
//!     }
//! }
//! client.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hotline::business::{RenderedNotification, TemplateCategory, TrustRoot};
use hotline::relay::{AccountId, ConsentScope, MessageId};
use hotline::store::StorageKey;
use hotline_client::{Client, Config, Events};
use tokio::sync::Mutex;

// The C ABI every binding calls (see the crate docs on `unsafe`).
uniffi::setup_scaffolding!();

/// The runtime every exported async function runs on (and the SDK's
/// background tasks with them), started on first use.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("hotline-ffi")
            .enable_all()
            .build()
            // Without a runtime nothing can work; the OS refusing two
            // threads at start is not something an app can handle either.
            .unwrap_or_else(|e| panic!("hotline-ffi: cannot start the tokio runtime: {e}"))
    })
}

/// Runs `work` on this crate's runtime; the foreign executor only awaits
/// the handle. A panic in `work` becomes [`HotlineError::Closed`].
async fn on_runtime<T: Send + 'static>(
    work: impl Future<Output = Result<T, HotlineError>> + Send + 'static,
) -> Result<T, HotlineError> {
    runtime().spawn(work).await.unwrap_or_else(|e| {
        Err(HotlineError::Closed {
            message: e.to_string(),
        })
    })
}

/// Why an operation failed: one variant per kind of SDK error
/// ([`hotline_client::Error`]), each with the SDK's message, and
/// [`HotlineError::InvalidArgument`] for what the caller passed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum HotlineError {
    /// The client's database failed, or refused a record.
    #[error("{message}")]
    Store {
        /// The SDK's message.
        message: String,
    },
    /// Something stored by the SDK does not decode (a corrupted database,
    /// or the wrong storage key).
    #[error("{message}")]
    Corrupt {
        /// The SDK's message.
        message: String,
    },
    /// The relay refused the request.
    #[error("{message}")]
    Refused {
        /// What the relay said.
        refusal: Refusal,
        /// The SDK's message.
        message: String,
    },
    /// The relay's answer does not decode.
    #[error("{message}")]
    BadResponse {
        /// The SDK's message.
        message: String,
    },
    /// A session could not be started.
    #[error("{message}")]
    Start {
        /// The SDK's message.
        message: String,
    },
    /// A message could not be sealed (no session, blocked...).
    #[error("{message}")]
    Send {
        /// The SDK's message.
        message: String,
    },
    /// A message could not be opened.
    #[error("{message}")]
    Receive {
        /// The SDK's message.
        message: String,
    },
    /// The business's bundle did not verify as a business of a trusted
    /// root: the message says why.
    #[error("{message}")]
    NotVerified {
        /// The SDK's message.
        message: String,
    },
    /// A notification is not an approved template of a verified business.
    #[error("{message}")]
    Template {
        /// The SDK's message.
        message: String,
    },
    /// The relay URL is not `http://host:port` or `ws://host:port`.
    #[error("{message}")]
    BadUrl {
        /// The SDK's message.
        message: String,
    },
    /// The configuration cannot be used.
    #[error("{message}")]
    Config {
        /// The SDK's message.
        message: String,
    },
    /// The client was shut down (or its background task stopped).
    #[error("{message}")]
    Closed {
        /// The SDK's message.
        message: String,
    },
    /// The connection failed and the operation gave up (retrying is safe).
    #[error("{message}")]
    Network {
        /// The SDK's message.
        message: String,
    },
    /// An argument from the caller is not valid (an account id that is not
    /// 64 hex digits, a storage key that is not 32 bytes, a trust root that
    /// does not decode).
    #[error("{message}")]
    InvalidArgument {
        /// What is wrong with it.
        message: String,
    },
}

impl From<hotline_client::Error> for HotlineError {
    fn from(e: hotline_client::Error) -> Self {
        use hotline_client::Error as E;
        let message = e.to_string();
        match e {
            E::Store(_) => Self::Store { message },
            E::Corrupt(_) => Self::Corrupt { message },
            E::Refused(r) => Self::Refused {
                refusal: r.into(),
                message,
            },
            E::BadResponse(_) => Self::BadResponse { message },
            E::Start(_) => Self::Start { message },
            E::Send(_) => Self::Send { message },
            E::Receive(_) => Self::Receive { message },
            E::NotVerified(_) => Self::NotVerified { message },
            E::Template(_) => Self::Template { message },
            E::BadUrl(_) => Self::BadUrl { message },
            E::Config(_) => Self::Config { message },
            E::Closed => Self::Closed { message },
            E::Network(_) => Self::Network { message },
            // A kind added to the SDK later: the closest meaning until it
            // gets its own variant here.
            _ => Self::BadResponse { message },
        }
    }
}

fn invalid(message: impl Into<String>) -> HotlineError {
    HotlineError::InvalidArgument {
        message: message.into(),
    }
}

/// A relay's refusal (SPEC.md 14.3).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Refusal {
    /// The wire code (stable: `17` is "blocked", `19` "window closed").
    pub code: u16,
    /// Its name (`Blocked`, `WindowClosed`, `NoConsent`...).
    pub name: String,
    /// For a rate limit, the seconds until one more is allowed.
    pub retry_after_secs: Option<u32>,
}

impl From<hotline::relay::Refusal> for Refusal {
    fn from(r: hotline::relay::Refusal) -> Self {
        let debug = format!("{r:?}");
        let name = debug
            .split([' ', '{', '('])
            .next()
            .unwrap_or_default()
            .to_owned();
        let retry_after_secs = match r {
            hotline::relay::Refusal::RateLimited {
                retry_after_secs, ..
            } => Some(retry_after_secs),
            _ => None,
        };
        Self {
            code: r.code(),
            name,
            retry_after_secs,
        }
    }
}

/// An account id as the bindings pass it: 64 lowercase hex digits.
fn account(hex_id: &str) -> Result<AccountId, HotlineError> {
    let bytes = hex::decode(hex_id.trim())
        .map_err(|e| invalid(format!("account id {hex_id:?} is not hex: {e}")))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| invalid(format!("account id has {} bytes, not 32", b.len())))?;
    Ok(AccountId(bytes))
}

fn account_hex(id: &AccountId) -> String {
    hex::encode(id.0)
}

/// What [`open_client`] needs.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ClientConfig {
    /// The relay, as `http://host:port` (or `ws://host:port`).
    pub relay_url: String,
    /// The account's SQLite file, created with a new identity if missing;
    /// `None` keeps everything in memory, lost when the client stops.
    pub database_path: Option<String>,
    /// The 32-byte key every stored record is sealed with: keep it in the
    /// platform's keychain ([`generate_storage_key`] makes one).
    pub storage_key: Vec<u8>,
    /// Platform roots trusted to certify businesses, each encoded as
    /// `hotline-issuer create-root` writes it.
    pub trust_roots: Vec<Vec<u8>>,
}

/// 32 fresh random bytes: a storage key for a new account.
#[uniffi::export]
pub fn generate_storage_key() -> Vec<u8> {
    StorageKey::generate(&mut rand::rng()).as_bytes().to_vec()
}

/// Creates the customer account in `config.database_path` (or opens the
/// one there), and starts connecting to the relay in the background,
/// registering the account on its first connection. Messages the
/// application had not confirmed are emitted again as events.
#[uniffi::export]
pub async fn open_client(config: ClientConfig) -> Result<Arc<HotlineClient>, HotlineError> {
    let key: [u8; 32] = config.storage_key.as_slice().try_into().map_err(|_| {
        invalid(format!(
            "the storage key has {} bytes, not 32",
            config.storage_key.len()
        ))
    })?;
    let mut sdk = Config::new(config.relay_url, StorageKey::from_bytes(key));
    if let Some(path) = config.database_path {
        sdk = sdk.database(path);
    }
    for (i, bytes) in config.trust_roots.iter().enumerate() {
        let root = TrustRoot::from_bytes(bytes)
            .map_err(|e| invalid(format!("trust root {i} does not decode: {e}")))?;
        sdk = sdk.trust_root(root);
    }
    on_runtime(async move {
        let (client, events) = Client::open(sdk).await?;
        Ok(Arc::new(HotlineClient {
            client,
            events: Arc::new(Mutex::new(events)),
        }))
    })
    .await
}

/// The class of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MessageClass {
    /// Free-form conversation.
    Chat,
    /// A business's notification (an approved template).
    Notification,
}

impl From<hotline::relay::MessageClass> for MessageClass {
    fn from(c: hotline::relay::MessageClass) -> Self {
        match c {
            hotline::relay::MessageClass::Chat => Self::Chat,
            hotline::relay::MessageClass::Notification => Self::Notification,
        }
    }
}

impl From<MessageClass> for hotline::relay::MessageClass {
    fn from(c: MessageClass) -> Self {
        match c {
            MessageClass::Chat => Self::Chat,
            MessageClass::Notification => Self::Notification,
        }
    }
}

/// A message received, decrypted and kept in the inbox.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReceivedMessage {
    /// Its place in the inbox (grows by one per message): what
    /// [`HotlineClient::confirm`] takes.
    pub seq: u64,
    /// The sender's account (hex).
    pub sender: String,
    /// The sender's id for the message (32 hex digits).
    pub message_id: String,
    /// Chat or notification.
    pub class: MessageClass,
    /// When the sender says it sent it (Unix seconds, sender's clock).
    pub sent_at: u64,
    /// The plaintext.
    pub body: Vec<u8>,
}

impl From<hotline_client::Message> for ReceivedMessage {
    fn from(m: hotline_client::Message) -> Self {
        Self {
            seq: m.seq,
            sender: account_hex(&m.from),
            message_id: hex::encode(m.message_id.0),
            class: m.class.into(),
            sent_at: m.sent_at,
            body: m.body,
        }
    }
}

impl TryFrom<ReceivedMessage> for hotline_client::Message {
    type Error = HotlineError;
    fn try_from(m: ReceivedMessage) -> Result<Self, HotlineError> {
        let id: [u8; 16] = hex::decode(&m.message_id)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| invalid("message_id is not 32 hex digits"))?;
        Ok(Self {
            seq: m.seq,
            from: account(&m.sender)?,
            message_id: MessageId(id),
            class: m.class.into(),
            sent_at: m.sent_at,
            body: m.body,
        })
    }
}

/// What a badge says, at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum BadgeState {
    /// No session with this peer.
    NoSession,
    /// A verified business: show its name.
    Verified,
    /// The certificate, or the proof of good standing, ran out.
    Expired,
    /// The certificate or its issuer was revoked, or its root retired.
    Revoked,
    /// Not a verified business (the session was not started as one).
    Unverified,
}

/// The badge of a peer, judged now from the client's own trust state.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Badge {
    /// Which case.
    pub state: BadgeState,
    /// Whether the app may show the verified badge now.
    pub verified: bool,
    /// The certified name of the business (also when no longer verified:
    /// whose badge it was).
    pub business_name: Option<String>,
    /// The verification level (`verified`, `official`).
    pub level: Option<String>,
    /// For a verified badge, until when it holds without newer proof (Unix
    /// seconds).
    pub until: Option<u64>,
    /// The badge in words: "verified business: NAME (LEVEL), good until
    /// T", or the precise reason it is not verified.
    pub description: String,
}

impl Badge {
    fn of(badge: Option<&hotline::business::Badge>) -> Self {
        use hotline::business::Badge as B;
        let description = hotline_client::describe_badge(badge);
        let (state, business, until) = match badge {
            None => (BadgeState::NoSession, None, None),
            Some(B::Verified { business, until }) => {
                (BadgeState::Verified, Some(business), Some(*until))
            }
            Some(B::Expired { business, .. }) => (BadgeState::Expired, Some(business), None),
            Some(B::Revoked { business, .. }) => (BadgeState::Revoked, Some(business), None),
            Some(_) => (BadgeState::Unverified, None, None),
        };
        Self {
            state,
            verified: state == BadgeState::Verified,
            business_name: business.map(|b| b.name().to_owned()),
            level: business.map(|b| b.level().to_string()),
            until,
            description,
        }
    }
}

/// A session just started with a business.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SessionInfo {
    /// The badge, as the client judged it from its own trust state.
    pub badge: Badge,
    /// The safety number to compare out of band.
    pub safety_number: String,
}

/// What the relay made of an envelope of the outbox.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum DeliveryState {
    /// Stored in the recipient's mailbox.
    Accepted,
    /// Stored already by an earlier attempt whose answer was lost.
    AlreadyAccepted,
    /// Refused for good (no consent, window closed, blocked...): dropped
    /// from the outbox.
    Refused {
        /// Why.
        refusal: Refusal,
    },
}

/// What the application is told, in order.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ClientEvent {
    /// A connection to the relay is up.
    Connected,
    /// The connection was lost; the client reconnects by itself.
    Disconnected {
        /// Why.
        reason: String,
    },
    /// A message, durably in the inbox; emitted again after a restart
    /// until confirmed.
    Message {
        /// The message.
        message: ReceivedMessage,
    },
    /// The badge of a peer is not what it was.
    BadgeChanged {
        /// The peer (hex).
        peer: String,
        /// The badge now.
        badge: Badge,
    },
    /// A message came from a peer whose identity is not the trusted one:
    /// it was not accepted.
    IdentityChanged {
        /// The peer (hex).
        peer: String,
    },
    /// The relay answered for an envelope of the outbox.
    Delivery {
        /// What [`HotlineClient::send`] returned.
        id: u64,
        /// The recipient (hex).
        to: String,
        /// What the relay made of it.
        state: DeliveryState,
    },
    /// A message could not be opened; it was dropped.
    Undecryptable {
        /// The account the envelope claims (hex).
        sender: String,
        /// Why.
        reason: String,
    },
    /// One-time prekeys were uploaded because the relay reported them low.
    PreKeysUploaded {
        /// How many of each kind.
        count: u64,
    },
    /// An event of a newer SDK that these bindings do not know yet.
    Other {
        /// The event in words.
        description: String,
    },
}

impl From<hotline_client::Event> for ClientEvent {
    fn from(e: hotline_client::Event) -> Self {
        use hotline_client::Event as E;
        match e {
            E::Connected => Self::Connected,
            E::Disconnected { reason } => Self::Disconnected { reason },
            E::Message(m) => Self::Message { message: m.into() },
            E::BadgeChanged { peer, badge, .. } => Self::BadgeChanged {
                peer: account_hex(&peer),
                badge: Badge::of(badge.as_ref()),
            },
            E::IdentityChanged { peer, .. } => Self::IdentityChanged {
                peer: account_hex(&peer),
            },
            E::Delivery { id, to, state } => Self::Delivery {
                id,
                to: account_hex(&to),
                state: match state {
                    hotline_client::DeliveryState::Accepted => DeliveryState::Accepted,
                    hotline_client::DeliveryState::AlreadyAccepted => {
                        DeliveryState::AlreadyAccepted
                    }
                    hotline_client::DeliveryState::Refused(r) => {
                        DeliveryState::Refused { refusal: r.into() }
                    }
                    other => DeliveryState::Refused {
                        refusal: Refusal {
                            code: 0,
                            name: format!("{other:?}"),
                            retry_after_secs: None,
                        },
                    },
                },
            },
            E::Undecryptable { from, reason } => Self::Undecryptable {
                sender: account_hex(&from),
                reason,
            },
            E::PreKeysUploaded { count } => Self::PreKeysUploaded {
                count: u64::try_from(count).unwrap_or(u64::MAX),
            },
            other => Self::Other {
                description: format!("{other:?}"),
            },
        }
    }
}

/// The connection and outbox, at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Status {
    /// Whether a connection to the relay is up.
    pub connected: bool,
    /// Envelopes waiting in the outbox.
    pub outbox: u64,
}

/// A notification checked against its business and rendered.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Notification {
    /// The business's number for the template.
    pub template_id: u32,
    /// `utility`, `authentication` or `marketing`.
    pub category: String,
    /// The template's language.
    pub language: String,
    /// The text with its parameters in place.
    pub text: String,
}

impl From<RenderedNotification> for Notification {
    fn from(n: RenderedNotification) -> Self {
        let category = match n.category {
            TemplateCategory::Utility => "utility",
            TemplateCategory::Authentication => "authentication",
            TemplateCategory::Marketing => "marketing",
        };
        Self {
            template_id: n.template_id,
            category: category.to_owned(),
            language: n.language,
            text: n.text,
        }
    }
}

/// An account at a relay, connected in the background: what
/// [`open_client`] returns. Every method is safe to call from any thread.
#[derive(uniffi::Object)]
pub struct HotlineClient {
    client: Client,
    /// The SDK's event stream, read by one caller at a time.
    events: Arc<Mutex<Events>>,
}

impl core::fmt::Debug for HotlineClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HotlineClient")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

#[uniffi::export]
impl HotlineClient {
    /// This account's id at the relay (64 hex digits): what a business
    /// sees as the sender.
    pub fn account_id(&self) -> String {
        account_hex(&self.client.account())
    }

    /// Records at the relay, signed by this customer, that `business` may
    /// send chat messages and/or notifications.
    pub async fn consent(
        &self,
        business: String,
        chat: bool,
        notifications: bool,
    ) -> Result<(), HotlineError> {
        let business = account(&business)?;
        let client = self.client.clone();
        on_runtime(async move {
            let scope = ConsentScope {
                chat,
                notifications,
            };
            Ok(client.consent(business, scope).await?)
        })
        .await
    }

    /// Fetches `business`'s bundle, verifies its certificate chain against
    /// the trusted roots and the status the relay stapled, and starts a
    /// session. A chain that does not verify fails with
    /// [`HotlineError::NotVerified`] and starts nothing; a bundle without
    /// a chain starts an unverified session (its badge says so).
    pub async fn start_session(&self, business: String) -> Result<SessionInfo, HotlineError> {
        let business = account(&business)?;
        let client = self.client.clone();
        on_runtime(async move {
            let s = client.start_session(business).await?;
            Ok(SessionInfo {
                badge: Badge::of(Some(&s.badge)),
                safety_number: s.safety_number,
            })
        })
        .await
    }

    /// Encrypts `body` to `to` into the durable outbox and returns the
    /// outbox id; the relay's answer comes as [`ClientEvent::Delivery`]
    /// with that id.
    pub async fn send(
        &self,
        to: String,
        class: MessageClass,
        body: Vec<u8>,
    ) -> Result<u64, HotlineError> {
        let to = account(&to)?;
        let client = self.client.clone();
        on_runtime(async move { Ok(client.send(to, class.into(), body).await?) }).await
    }

    /// [`HotlineClient::send`] of a chat message in UTF-8.
    pub async fn send_text(&self, to: String, text: String) -> Result<u64, HotlineError> {
        self.send(to, MessageClass::Chat, text.into_bytes()).await
    }

    /// The next event, waiting at most `timeout_ms` milliseconds (`None`
    /// when none came in time). Fails with [`HotlineError::Closed`] once
    /// the client stopped.
    pub async fn next_event(&self, timeout_ms: u64) -> Result<Option<ClientEvent>, HotlineError> {
        let events = self.events.clone();
        on_runtime(async move {
            let mut events = events.lock().await;
            match tokio::time::timeout(Duration::from_millis(timeout_ms), events.next()).await {
                Err(_) => Ok(None),
                Ok(Some(e)) => Ok(Some(e.into())),
                Ok(None) => Err(HotlineError::Closed {
                    message: "the client is shut down".into(),
                }),
            }
        })
        .await
    }

    /// The application has the messages up to `seq`: they are not emitted
    /// again after a restart.
    pub async fn confirm(&self, seq: u64) -> Result<(), HotlineError> {
        let client = self.client.clone();
        on_runtime(async move { Ok(client.confirm(seq).await?) }).await
    }

    /// Up to `limit` messages of the inbox after `seq` (0: from the
    /// start), oldest first.
    pub async fn inbox(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<ReceivedMessage>, HotlineError> {
        let client = self.client.clone();
        on_runtime(async move {
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            let messages = client.inbox(after, limit).await?;
            Ok(messages.into_iter().map(Into::into).collect())
        })
        .await
    }

    /// Blocks `business`: a signed block record at the relay, which
    /// refuses its messages from now on, and locally, so that anything
    /// already on its way is dropped unread.
    pub async fn block(&self, business: String) -> Result<(), HotlineError> {
        let business = account(&business)?;
        let client = self.client.clone();
        on_runtime(async move { Ok(client.block(business).await?) }).await
    }

    /// Lifts a block, at the relay and locally.
    pub async fn unblock(&self, business: String) -> Result<(), HotlineError> {
        let business = account(&business)?;
        let client = self.client.clone();
        on_runtime(async move { Ok(client.unblock(business).await?) }).await
    }

    /// Erases this customer's account at the relay (SPEC.md 14.15): its
    /// mailbox, prekeys and the state of its conversations go at once, the
    /// relay accepts nothing more from it and never registers it again; the
    /// businesses keep the consent it gave them as evidence for three
    /// years. Shut the client down and delete its database afterwards.
    pub async fn delete_account(&self) -> Result<(), HotlineError> {
        let client = self.client.clone();
        on_runtime(async move { Ok(client.delete_account().await?) }).await
    }

    /// The badge of `peer` now, judged from this client's own trust state
    /// ([`BadgeState::NoSession`] without a session).
    pub async fn badge(&self, peer: String) -> Result<Badge, HotlineError> {
        let peer = account(&peer)?;
        let client = self.client.clone();
        on_runtime(async move { Ok(Badge::of(client.badge(peer).await?.as_ref())) }).await
    }

    /// The safety number of this account and `peer`'s trusted identity,
    /// the same on both sides (`None` if no identity is known for it).
    pub async fn safety_number(&self, peer: String) -> Result<Option<String>, HotlineError> {
        let peer = account(&peer)?;
        let client = self.client.clone();
        on_runtime(async move { Ok(client.safety_number(peer).await?) }).await
    }

    /// Checks and renders a notification: an approved template of the
    /// sending business, whose badge is verified now. Free text or a
    /// template of another business fails with [`HotlineError::Template`].
    pub async fn render_notification(
        &self,
        message: ReceivedMessage,
    ) -> Result<Notification, HotlineError> {
        let message = hotline_client::Message::try_from(message)?;
        let client = self.client.clone();
        on_runtime(async move { Ok(client.render_notification(&message).await?.into()) }).await
    }

    /// Whether a connection is up, and the outbox's length.
    pub async fn status(&self) -> Result<Status, HotlineError> {
        let client = self.client.clone();
        on_runtime(async move {
            let s = client.status().await?;
            Ok(Status {
                connected: s.connected,
                outbox: s.outbox,
            })
        })
        .await
    }

    /// Stops the client between two steps and waits for it: later calls
    /// fail with [`HotlineError::Closed`]. Everything committed stays in
    /// the database for the next [`open_client`].
    pub async fn shutdown(&self) {
        let client = self.client.clone();
        let _ = on_runtime(async move {
            client.shutdown().await;
            Ok(())
        })
        .await;
    }
}

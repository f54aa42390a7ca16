//! The client handle, its events, and the background task that owns the
//! state and the connection.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hotline::business::{
    Badge, Fingerprint, RenderedNotification, TemplateError, TemplatedNotification, TrustStore,
};
use hotline::constants::MAX_FETCH_STATES;
use hotline::relay::{
    AccountId, ConsentScope, Delivery, Envelope, MessageClass, MessageId, PreKeyUpload, Receipt,
    Refusal, RelayPublicKey, ReportReason, Request, Response, Statement, StatementDigest,
};
use hotline::store::{Client as Store, EncryptedStore, PeerId, ReceiveError};
use hotline::{IdentityKey, PreKeyStore};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::config::{Config, Role};
use crate::db::{Db, InboxRow, SdkBackend};
use crate::error::Error;

type App = Store<EncryptedStore<SdkBackend>>;
type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// First byte of a relay frame answering a request (SPEC.md 14.14).
const FRAME_RESPONSE: u8 = 0x01;
/// First byte of a relay frame pushing envelopes.
const FRAME_PUSH: u8 = 0x02;
/// Meta keys.
const META_REGISTERED: &str = "registered";
const META_CONFIRMED: &str = "confirmed_seq";
/// How often badges are judged again (a status or certificate runs out
/// with time alone).
const BADGE_TICK: Duration = Duration::from_secs(5);
/// How many times an operation the application asked for is tried over a
/// fresh connection before it fails with [`Error::Network`].
const CALL_ATTEMPTS: usize = 3;

/// An outbox entry: the id [`Client::send`] returns and
/// [`Event::Delivery`] reports on.
pub type OutboxId = u64;

/// A message received, decrypted and kept in the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its place in the inbox: grows by one per message, never reused.
    pub seq: u64,
    /// The sender's account.
    pub from: AccountId,
    /// The sender's id for the message (unique per sender).
    pub message_id: MessageId,
    /// Chat or notification (authenticated with the ciphertext).
    pub class: MessageClass,
    /// When the sender says it sent it (sender's clock).
    pub sent_at: u64,
    /// The plaintext.
    pub body: Vec<u8>,
}

impl Message {
    fn from_row(r: InboxRow) -> Self {
        Self {
            seq: r.seq,
            from: r.sender,
            message_id: r.message_id,
            class: r.class,
            sent_at: r.sent_at,
            body: r.body,
        }
    }
}

/// What the relay made of an envelope from the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryState {
    /// Stored in the recipient's mailbox.
    Accepted,
    /// Stored already by an earlier attempt whose answer was lost: the same
    /// ciphertext was sent again and the relay recognised it.
    AlreadyAccepted,
    /// Refused for good (no consent, window closed, blocked...): the
    /// message is dropped from the outbox.
    Refused(Refusal),
}

/// What the application is told, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A connection to the relay is up (after registration, if it was
    /// needed).
    Connected,
    /// The connection was lost; the client reconnects by itself.
    Disconnected {
        /// Why.
        reason: String,
    },
    /// A message, durably in the inbox. It is emitted again after a restart
    /// until [`Client::confirm`] is called with its `seq` or a later one.
    Message(Message),
    /// The badge of a peer is not what it was (verified, revoked, expired).
    BadgeChanged {
        /// The peer.
        peer: AccountId,
        /// The badge now.
        badge: Option<Badge>,
        /// Why, in words (the text of [`describe_badge`]).
        reason: String,
    },
    /// A message came from a peer whose identity is not the trusted one: it
    /// was not accepted.
    IdentityChanged {
        /// The peer.
        peer: AccountId,
        /// The identity trusted for it.
        trusted: IdentityKey,
        /// The identity presented.
        received: IdentityKey,
    },
    /// The relay answered for an envelope of the outbox.
    Delivery {
        /// The outbox entry.
        id: OutboxId,
        /// The recipient.
        to: AccountId,
        /// What the relay made of it.
        state: DeliveryState,
    },
    /// A message could not be opened (tampered, replayed, no session); it
    /// was dropped and acknowledged.
    Undecryptable {
        /// The account the envelope claims.
        from: AccountId,
        /// Why.
        reason: String,
    },
    /// One-time prekeys were generated and uploaded because the relay
    /// reported them low.
    PreKeysUploaded {
        /// How many of each kind.
        count: usize,
    },
}

/// A session just started with a business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The badge as the client judged it from its own trust state.
    pub badge: Badge,
    /// The safety number to compare out of band.
    pub safety_number: String,
}

/// The connection and outbox, at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Whether a connection is up.
    pub connected: bool,
    /// Envelopes waiting in the outbox.
    pub outbox: u64,
}

/// Checks a statement against the delivery states of its sender (SPEC.md
/// 14.16): the count and digest of the delivered notifications of its
/// period among `states` must be the statement's.
fn check_statement(statement: &Statement, states: &[Receipt]) -> Result<(), Error> {
    let mut digest = StatementDigest::new();
    for r in states {
        let e = r.entry();
        if e.billed_period() == Some(statement.period) {
            digest.add(e.sequence, &e.recipient, &e.message_id);
        }
    }
    let (delivered, mine) = digest.finish();
    if (delivered, mine) != (statement.count, statement.digest) {
        return Err(Error::StatementMismatch {
            period: statement.period,
            billed: statement.count,
            delivered,
        });
    }
    Ok(())
}

#[cfg(test)]
mod statement_tests {
    use super::*;
    use hotline::constants::BILLING_PERIOD_SECS;
    use hotline::relay::{DeliveryState, RelayKey, StateEntry};

    fn state(seq: u64, state: DeliveryState, class: MessageClass, time: u64) -> Receipt {
        Receipt::sign(
            &RelayKey::from_seed(&[3; 32]),
            StateEntry {
                sequence: seq,
                sender: AccountId([1; 32]),
                recipient: AccountId([2; 32]),
                message_id: MessageId([seq as u8; 16]),
                class,
                state,
                time,
            },
        )
    }

    fn statement(period: u32, billed: &[&Receipt]) -> Statement {
        let mut d = StatementDigest::new();
        for r in billed {
            d.add(
                r.entry().sequence,
                &r.entry().recipient,
                &r.entry().message_id,
            );
        }
        Statement::sign(
            &RelayKey::from_seed(&[3; 32]),
            AccountId([1; 32]),
            period,
            d,
            0,
        )
    }

    #[test]
    fn a_statement_must_bill_exactly_the_delivered_notifications_of_its_period() {
        let day = BILLING_PERIOD_SECS;
        let billed = state(
            1,
            DeliveryState::Delivered,
            MessageClass::Notification,
            5 * day,
        );
        let states = [
            billed,
            state(
                2,
                DeliveryState::Expired,
                MessageClass::Notification,
                5 * day,
            ),
            state(3, DeliveryState::Delivered, MessageClass::Chat, 5 * day),
            state(
                4,
                DeliveryState::Delivered,
                MessageClass::Notification,
                6 * day,
            ),
        ];
        assert!(check_statement(&statement(5, &[&billed]), &states).is_ok());
        // Billing one more (the expired one), or one fewer, or another
        // period's delivery, is a mismatch the business can prove.
        for wrong in [
            statement(5, &[&billed, &states[1]]),
            statement(5, &[]),
            statement(5, &[&states[3]]),
            statement(6, &[&billed]),
        ] {
            assert!(matches!(
                check_statement(&wrong, &states),
                Err(Error::StatementMismatch { .. })
            ));
        }
    }
}

/// The badge in words: what an app shows next to the business's name, and
/// why it is missing when it is.
///
/// ```
/// use hotline::business::Badge;
/// assert_eq!(hotline_client::describe_badge(Some(&Badge::Unverified)),
///            "unverified: the session was not started with a certified business");
/// ```
pub fn describe_badge(badge: Option<&Badge>) -> String {
    use hotline::business::{Expiry, RevokedBy};
    match badge {
        None => "no session".into(),
        Some(Badge::Verified { business, until }) => format!(
            "verified business: {} ({}), good until {until}",
            business.name(),
            business.level()
        ),
        Some(Badge::Revoked { business, by }) => match by {
            RevokedBy::Certificate {
                issuer_id,
                sequence,
            } => format!(
                "NOT verified: {}'s certificate was revoked by issuer {issuer_id} (list {sequence})",
                business.name()
            ),
            other => format!("NOT verified: {} revoked ({other:?})", business.name()),
        },
        Some(Badge::Expired {
            business,
            what,
            since,
        }) => match what {
            Expiry::Certificate => format!(
                "NOT verified: {}'s certificate expired at {since}",
                business.name()
            ),
            other => format!(
                "NOT verified: no fresh proof of {}'s good standing since {since} ({other:?})",
                business.name()
            ),
        },
        Some(Badge::Unverified) => {
            "unverified: the session was not started with a certified business".into()
        }
        Some(other) => format!("{other:?}"),
    }
}

fn badge_kind(badge: Option<&Badge>) -> u8 {
    match badge {
        None => 0,
        Some(Badge::Verified { .. }) => 1,
        Some(Badge::Revoked { .. }) => 2,
        Some(Badge::Expired { .. }) => 3,
        Some(Badge::Unverified) => 4,
        Some(_) => 5,
    }
}

type Reply<T> = oneshot::Sender<Result<T, Error>>;
type TrustChange = Box<dyn FnOnce(&mut TrustStore) -> Result<(), String> + Send>;

enum Command {
    StartSession(AccountId, Reply<SessionInfo>),
    Send(AccountId, MessageClass, Vec<u8>, Reply<OutboxId>),
    Consent(AccountId, ConsentScope, Reply<()>),
    Block(AccountId, bool, Reply<()>),
    Badge(AccountId, Reply<Option<Badge>>),
    Render(AccountId, Vec<u8>, Reply<RenderedNotification>),
    SafetyNumber(AccountId, Reply<Option<String>>),
    Confirm(u64, Reply<()>),
    Inbox(u64, usize, Reply<Vec<Message>>),
    Report(u64, ReportReason, Reply<bool>),
    Request(Box<Request>, Reply<Response>),
    UpdateTrust(TrustChange, Reply<()>),
    Status(Reply<Status>),
    Disconnect,
    Shutdown,
}

/// An account at a relay: its encrypted state, its outbox and inbox, and
/// a connection kept up in the background.
///
/// [`Client::open`] returns the handle and the [`Events`] stream. The
/// handle is `Clone`, `Send` and `Sync`; every method is a message to the
/// background task that owns the state, so calls are served in order.
///
/// ```no_run
/// use hotline_client::{Client, Config, Event};
/// use hotline::relay::{AccountId, ConsentScope, MessageClass};
/// use hotline::store::StorageKey;
/// # async fn run(business: AccountId, key: StorageKey) -> Result<(), hotline_client::Error> {
/// let (client, mut events) = Client::open(
///     Config::new("http://127.0.0.1:7400", key).database("customer.db"),
/// ).await?;
/// client.consent(business, ConsentScope::ALL).await?;
/// let session = client.start_session(business).await?;
/// println!("{} (safety number {})", hotline_client::describe_badge(Some(&session.badge)), session.safety_number);
/// client.send(business, MessageClass::Chat, b"Where is my bag?".to_vec()).await?;
/// while let Some(event) = events.next().await {
///     if let Event::Message(m) = event {
///         println!("{}", String::from_utf8_lossy(&m.body));
///         client.confirm(m.seq).await?;
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    tx: mpsc::Sender<Command>,
    task: std::sync::Arc<std::sync::Mutex<Option<JoinHandle<()>>>>,
    account: AccountId,
    identity: IdentityKey,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("account", &self.account.short())
            .finish_non_exhaustive()
    }
}

/// The client's events, in order (see [`Event`]).
#[derive(Debug)]
pub struct Events {
    rx: mpsc::Receiver<Event>,
}

impl Events {
    /// The next event; `None` once the client stopped.
    pub async fn next(&mut self) -> Option<Event> {
        self.rx.recv().await
    }
}

impl Client {
    /// Opens the account in `config.database` (creating the identity on
    /// first use), re-emits the messages the application has not
    /// confirmed, and starts connecting to the relay in the background
    /// (registering the account on the first connection).
    pub async fn open(config: Config) -> Result<(Self, Events), Error> {
        config.stream_url()?;
        let db = Db::open(config.database.as_deref(), &config.storage_key)?;
        let store = EncryptedStore::new(config.storage_key.clone(), db.backend());
        let mut app = match Store::open(store) {
            Ok(app) => app,
            Err(hotline::store::StoreError::NotInitialized) => {
                let store = EncryptedStore::new(config.storage_key.clone(), db.backend());
                create(store, &config)?
            }
            Err(e) => return Err(e.into()),
        };
        for root in &config.trust_roots {
            if app.trust_store().roots().all(|r| r != root) {
                app.update_trust(|t| t.add_root(root.clone()))
                    .map_err(|e| Error::NotVerified(e.to_string()))?;
            }
        }
        let (tx, rx) = mpsc::channel(64);
        let (etx, erx) = mpsc::channel(config.event_capacity.max(1));
        let account = app.account_id();
        let identity = app.identity();
        let actor = Actor {
            backoff: config.backoff.initial,
            next_try: Instant::now(),
            app: Some(app),
            db,
            config,
            ws: None,
            events: etx,
            acks: Vec::new(),
            need_prekeys: false,
            outbox_not_before: None,
            badges: HashMap::new(),
        };
        let task = tokio::spawn(actor.run(rx));
        Ok((
            Self {
                tx,
                task: std::sync::Arc::new(std::sync::Mutex::new(Some(task))),
                account,
                identity,
            },
            Events { rx: erx },
        ))
    }

    /// This account's id at the relay.
    pub fn account(&self) -> AccountId {
        self.account
    }

    /// This account's identity key.
    pub fn identity(&self) -> IdentityKey {
        self.identity
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, Error> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(make(reply)).await.map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }

    /// Fetches `business`'s bundle from the relay, verifies it (its
    /// certificate chain against the trusted roots, and the status the
    /// relay stapled), and starts a session: verified when the chain
    /// validates, unverified when the bundle carries none. A chain that
    /// does not validate fails with [`Error::NotVerified`] and starts
    /// nothing.
    pub async fn start_session(&self, business: AccountId) -> Result<SessionInfo, Error> {
        self.ask(|r| Command::StartSession(business, r)).await
    }

    /// Encrypts `body` to `to` and puts the envelope in the outbox, both in
    /// one transaction; the background task sends it (again after any
    /// failure, always the same ciphertext) until the relay answers, and
    /// reports with [`Event::Delivery`].
    pub async fn send(
        &self,
        to: AccountId,
        class: MessageClass,
        body: Vec<u8>,
    ) -> Result<OutboxId, Error> {
        self.ask(|r| Command::Send(to, class, body, r)).await
    }

    /// Records at the relay, signed by this customer, that `business` may
    /// send what `scope` allows.
    pub async fn consent(&self, business: AccountId, scope: ConsentScope) -> Result<(), Error> {
        self.ask(|r| Command::Consent(business, scope, r)).await
    }

    /// Blocks `business`: a signed block record at the relay, which refuses
    /// its messages from now on, and locally, so that anything already on
    /// its way is dropped unread and nothing is sent to it. A business's
    /// client blocks a customer the same way (the argument is then the
    /// customer): the relay refuses that customer's messages to it.
    pub async fn block(&self, business: AccountId) -> Result<(), Error> {
        self.ask(|r| Command::Block(business, true, r)).await
    }

    /// Lifts a block, at the relay and locally.
    pub async fn unblock(&self, business: AccountId) -> Result<(), Error> {
        self.ask(|r| Command::Block(business, false, r)).await
    }

    /// Erases this customer's account at the relay (SPEC.md 14.15): its
    /// directory entry, its mailbox and the rule state of its conversations
    /// go at once; its consent records are kept as the businesses' evidence
    /// for the retention period, then deleted. The relay accepts no further
    /// request from this identity and never registers it again, so the
    /// client is useless afterwards: shut it down and delete its database.
    /// Only a customer may; a business's account is refused
    /// ([`Refusal::WrongAccountKind`]).
    pub async fn delete_account(&self) -> Result<(), Error> {
        match self.request(Request::DeleteAccount).await? {
            Response::AccountDeleted => Ok(()),
            other => Err(Error::BadResponse(format!(
                "{other:?} in answer to an account deletion"
            ))),
        }
    }

    /// Up to `max` states of envelopes this account sent, with a sequence
    /// above `after`, oldest first, each verified under `relay_key` (SPEC.md
    /// 14.16), and whether more follow. A business keeps them as evidence
    /// of what was delivered, and so billed.
    pub async fn delivery_states(
        &self,
        relay_key: &RelayPublicKey,
        after: u64,
        max: u16,
    ) -> Result<(Vec<Receipt>, bool), Error> {
        match self.request(Request::FetchStates { after, max }).await? {
            Response::States { receipts, more } => {
                for r in &receipts {
                    r.verify(relay_key).map_err(Error::Receipt)?;
                    if r.entry().sender != self.account() || r.entry().sequence <= after {
                        return Err(Error::BadResponse(format!(
                            "a state of another sender or out of order: {r:?}"
                        )));
                    }
                }
                Ok((receipts, more))
            }
            other => Err(Error::BadResponse(format!(
                "{other:?} in answer to a request for delivery states"
            ))),
        }
    }

    /// The relay's statement of the notifications billed to this account in
    /// `period` (a UTC day, [`period_of`](hotline::relay::period_of)),
    /// verified under `relay_key` and checked against the relay's own signed
    /// delivery states of that period: count and digest recomputed (SPEC.md
    /// 14.16). A statement that does not match is
    /// [`Error::StatementMismatch`].
    pub async fn statement(
        &self,
        relay_key: &RelayPublicKey,
        period: u32,
    ) -> Result<Statement, Error> {
        let statement = match self.request(Request::FetchStatement { period }).await? {
            Response::Statement(s) => *s,
            other => {
                return Err(Error::BadResponse(format!(
                    "{other:?} in answer to a request for a statement"
                )));
            }
        };
        statement.verify(relay_key).map_err(Error::Receipt)?;
        if statement.business != self.account() || statement.period != period {
            return Err(Error::BadResponse(format!(
                "a statement of another account or period: {statement:?}"
            )));
        }
        let mut states = Vec::new();
        let mut after = 0;
        loop {
            let (receipts, more) = self
                .delivery_states(relay_key, after, MAX_FETCH_STATES as u16)
                .await?;
            let last = receipts.last().map(|r| r.entry().sequence);
            states.extend(receipts);
            match last {
                Some(last) if more => after = last,
                _ => break,
            }
        }
        check_statement(&statement, &states)?;
        Ok(statement)
    }

    /// The badge of `peer` now, judged from this client's own trust state
    /// (`None` without a session).
    pub async fn badge(&self, peer: AccountId) -> Result<Option<Badge>, Error> {
        self.ask(|r| Command::Badge(peer, r)).await
    }

    /// Checks and renders a notification (SPEC.md 13.17): its body must be
    /// a template that the issuer of the sending business approved for that
    /// business, and the business's badge must be verified now. An app
    /// shows a notification only through this; free text, a template of
    /// another business or one from a business that lost its badge is
    /// [`Error::Template`].
    pub async fn render_notification(
        &self,
        message: &Message,
    ) -> Result<RenderedNotification, Error> {
        let (from, body) = (message.from, message.body.clone());
        self.ask(|r| Command::Render(from, body, r)).await
    }

    /// The safety number of this account and `peer`'s trusted identity,
    /// the same on both sides (`None` if no identity is known for it).
    pub async fn safety_number(&self, peer: AccountId) -> Result<Option<String>, Error> {
        self.ask(|r| Command::SafetyNumber(peer, r)).await
    }

    /// The application has the messages up to `seq`: they are not emitted
    /// again after a restart.
    pub async fn confirm(&self, seq: u64) -> Result<(), Error> {
        self.ask(|r| Command::Confirm(seq, r)).await
    }

    /// Up to `limit` messages of the inbox after `seq`, oldest first.
    pub async fn inbox(&self, after: u64, limit: usize) -> Result<Vec<Message>, Error> {
        self.ask(|r| Command::Inbox(after, limit, r)).await
    }

    /// Reports the inbox message `seq` to the relay (SPEC.md 14.17): the
    /// report carries the message's content and the opening of the
    /// sender's commitment, so the relay can check that the business sent
    /// exactly this, and counts it against the business's quality. Returns
    /// whether this message had already been reported. Only a customer
    /// reports, and only a business's message, within 30 days of its
    /// delivery; the relay's refusals say which rule failed.
    pub async fn report(&self, seq: u64, reason: ReportReason) -> Result<bool, Error> {
        self.ask(|r| Command::Report(seq, reason, r)).await
    }

    /// Sends any request (publish a status, a revocation list, export
    /// consent...) signed by this account, over the connection.
    pub async fn request(&self, request: Request) -> Result<Response, Error> {
        self.ask(|r| Command::Request(Box::new(request), r)).await
    }

    /// Changes the client's trust state (apply a revocation list, add a
    /// root); it is stored, and badges are judged again at once.
    pub async fn update_trust(
        &self,
        change: impl FnOnce(&mut TrustStore) -> Result<(), String> + Send + 'static,
    ) -> Result<(), Error> {
        self.ask(|r| Command::UpdateTrust(Box::new(change), r))
            .await
    }

    /// Whether a connection is up, and the outbox's length.
    pub async fn status(&self) -> Result<Status, Error> {
        self.ask(Command::Status).await
    }

    /// Drops the connection now (as a network failure would); the client
    /// reconnects with backoff and resumes.
    pub async fn disconnect(&self) -> Result<(), Error> {
        self.tx
            .send(Command::Disconnect)
            .await
            .map_err(|_| Error::Closed)
    }

    /// Stops the background task where it is, as a crash would: whatever
    /// was committed stays committed (an envelope in the outbox, a message
    /// in the inbox), whatever was in flight is redone by the next
    /// [`Client::open`] of the same database.
    pub async fn kill(self) {
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }

    /// Stops the background task between two steps and waits for it (for
    /// every clone of this handle: their calls fail with [`Error::Closed`]
    /// from then on, and the events end).
    pub async fn shutdown(self) {
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        let _ = self.tx.send(Command::Shutdown).await;
        drop(self.tx);
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

fn create(store: EncryptedStore<SdkBackend>, config: &Config) -> Result<App, Error> {
    let mut rng = rand::rng();
    let identity = config
        .identity
        .clone()
        .unwrap_or_else(|| hotline::IdentityKeyPair::generate(&mut rng));
    let n = config.prekey_batch;
    let mut prekeys = PreKeyStore::new(&identity, n, n, &mut rng);
    if let Role::Business {
        certificate_chain: Some(chain),
    } = &config.role
    {
        prekeys
            .set_certificate_chain((**chain).clone())
            .map_err(|e| Error::NotVerified(format!("{e:?}")))?;
    }
    Ok(Store::create_with(store, identity, prekeys)?)
}

/// A network failure (the connection is dropped and rebuilt).
#[derive(Debug)]
struct NetError(String);

impl<E: std::fmt::Display> From<E> for NetError {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

/// The background task: owns the state and the connection.
struct Actor {
    /// Always `Some` except while being reopened.
    app: Option<App>,
    db: Db,
    config: Config,
    ws: Option<Ws>,
    events: mpsc::Sender<Event>,
    /// Delivery ids whose message is durably in the inbox, to acknowledge.
    acks: Vec<u64>,
    need_prekeys: bool,
    /// The outbox waits for a transient refusal (a rate limit) to pass.
    outbox_not_before: Option<Instant>,
    /// The last badge kind reported per peer.
    badges: HashMap<AccountId, u8>,
    backoff: Duration,
    next_try: Instant,
}

enum Step {
    Command(Option<Command>),
    Frame(Result<Option<Vec<u8>>, NetError>),
    Reconnect,
    Tick,
}

impl Actor {
    fn app(&mut self) -> &mut App {
        // Only `reopen` takes it out, and puts it back before returning.
        self.app.as_mut().expect("the protocol client is present")
    }

    fn now(&self) -> u64 {
        self.config.clock.now()
    }

    /// Reopens the protocol client from the database, forgetting what it
    /// kept in memory (after a held transaction was rolled back).
    fn reopen(&mut self) -> Result<(), Error> {
        if let Some(app) = self.app.take() {
            let store = app.into_store();
            match Store::open(store) {
                Ok(app) => self.app = Some(app),
                Err(e) => {
                    let store =
                        EncryptedStore::new(self.config.storage_key.clone(), self.db.backend());
                    self.app = Some(Store::open(store)?);
                    return Err(e.into());
                }
            }
        }
        Ok(())
    }

    async fn emit(&mut self, event: Event) {
        // An application that dropped its events just does not hear them.
        let _ = self.events.send(event).await;
    }

    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        // Messages the application has not confirmed, first.
        if let Err(e) = self.replay_unconfirmed().await {
            tracing::error!(error = %e, "inbox unreadable");
        }
        let mut tick = tokio::time::interval(BADGE_TICK);
        loop {
            if self.ws.is_some()
                && let Err(e) = self.background_work().await
            {
                self.lose_connection(e.0).await;
            }
            let step = {
                let next_try = self.next_try;
                let connected = self.ws.is_some();
                let ws = self.ws.as_mut();
                tokio::select! {
                    c = commands.recv() => Step::Command(c),
                    f = next_binary(ws) => Step::Frame(f),
                    _ = tokio::time::sleep_until(next_try), if !connected => Step::Reconnect,
                    _ = tokio::time::sleep_until(self.outbox_not_before.unwrap_or(next_try)),
                        if connected && self.outbox_not_before.is_some() => {
                            self.outbox_not_before = None;
                            Step::Tick
                        }
                    _ = tick.tick() => Step::Tick,
                }
            };
            match step {
                Step::Command(None | Some(Command::Shutdown)) => break,
                Step::Command(Some(c)) => self.command(c).await,
                Step::Frame(Ok(Some(frame))) => {
                    if let Err(e) = self.frame(&frame).await {
                        self.lose_connection(e.0).await;
                    }
                }
                Step::Frame(Ok(None)) => self.lose_connection("closed by the relay".into()).await,
                Step::Frame(Err(e)) => self.lose_connection(e.0).await,
                Step::Reconnect => {
                    let _ = self.connect().await;
                }
                Step::Tick => self.check_badges().await,
            }
        }
        if let Some(mut ws) = self.ws.take() {
            let _ = ws.close(None).await;
        }
    }

    async fn replay_unconfirmed(&mut self) -> Result<(), Error> {
        let mut after = self.db.meta(META_CONFIRMED)?.unwrap_or(0);
        loop {
            let rows = self.db.inbox_after(after, 100)?;
            let Some(last) = rows.last() else {
                return Ok(());
            };
            after = last.seq;
            for row in rows {
                self.emit(Event::Message(Message::from_row(row))).await;
            }
        }
    }

    async fn lose_connection(&mut self, reason: String) {
        if let Some(mut ws) = self.ws.take() {
            let _ = tokio::time::timeout(Duration::from_millis(100), ws.close(None)).await;
            tracing::debug!(%reason, "connection lost");
            self.emit(Event::Disconnected { reason }).await;
        }
        self.schedule_retry();
    }

    fn schedule_retry(&mut self) {
        let jitter = {
            use rand::RngExt as _;
            let quarter = (self.backoff.as_millis() as u64 / 4).max(1);
            Duration::from_millis(rand::rng().random_range(0..quarter))
        };
        self.next_try = Instant::now() + self.backoff + jitter;
        self.backoff = (self.backoff * 2).min(self.config.backoff.max);
    }

    /// Connects, registers the account if it never was, uploads its
    /// prekeys, and binds the stream (from then on the relay pushes).
    async fn connect(&mut self) -> Result<(), Error> {
        let url = self.config.stream_url()?;
        let connecting = tokio_tungstenite::connect_async(url.as_str());
        let ws = match tokio::time::timeout(self.config.request_timeout, connecting).await {
            Ok(Ok((ws, _))) => ws,
            Ok(Err(e)) => {
                self.schedule_retry();
                return Err(Error::Network(e.to_string()));
            }
            Err(_) => {
                self.schedule_retry();
                return Err(Error::Network("connection timed out".into()));
            }
        };
        self.ws = Some(ws);
        match self.bootstrap().await {
            Ok(()) => {
                self.backoff = self.config.backoff.initial;
                self.emit(Event::Connected).await;
                Ok(())
            }
            Err(BootError::Net(e)) => {
                self.lose_connection(e.0.clone()).await;
                Err(Error::Network(e.0))
            }
            Err(BootError::Other(e)) => {
                self.lose_connection(e.to_string()).await;
                Err(e)
            }
        }
    }

    async fn bootstrap(&mut self) -> Result<(), BootError> {
        if self
            .db
            .meta(META_REGISTERED)
            .map_err(Error::from)?
            .is_none()
        {
            let identity = self.app().identity();
            let request = match &self.config.role {
                Role::Customer => Request::RegisterCustomer { identity },
                Role::Business { certificate_chain } => Request::RegisterBusiness {
                    identity,
                    certificate_chain: certificate_chain
                        .as_ref()
                        .map(|c| c.to_bytes())
                        .unwrap_or_default(),
                },
            };
            match self.raw_call(request).await? {
                Ok(Response::Registered) | Err(Refusal::AlreadyRegistered) => {}
                Ok(other) => {
                    return Err(Error::BadResponse(format!("{other:?}")).into());
                }
                Err(r) => return Err(Error::Refused(r).into()),
            }
            if matches!(self.config.role, Role::Business { .. }) {
                let upload = self
                    .app()
                    .update_prekeys(|p| PreKeyUpload {
                        signed_prekey: Some(p.signed_prekey()),
                        last_resort_kem_prekey: Some(p.last_resort_kem_prekey()),
                        one_time_prekeys: p.one_time_prekeys(),
                        kem_prekeys: p.kem_prekeys(),
                    })
                    .map_err(Error::from)?;
                match self.raw_call(Request::UploadPreKeys(upload)).await? {
                    Ok(Response::PreKeysStored(_)) => {}
                    Ok(other) => return Err(Error::BadResponse(format!("{other:?}")).into()),
                    Err(r) => return Err(Error::Refused(r).into()),
                }
            }
            self.db.set_meta(META_REGISTERED, 1).map_err(Error::from)?;
        }
        match self.raw_call(Request::PreKeyStatus).await? {
            Ok(Response::PreKeyStatus(s)) => {
                if s.low && self.config.prekey_batch > 0 {
                    self.need_prekeys = true;
                }
                Ok(())
            }
            Ok(other) => Err(Error::BadResponse(format!("{other:?}")).into()),
            Err(r) => Err(Error::Refused(r).into()),
        }
    }

    /// Signs `request`, sends it on the open connection and waits for its
    /// answer, storing the envelopes pushed meanwhile.
    async fn raw_call(&mut self, request: Request) -> Result<Result<Response, Refusal>, NetError> {
        let now = self.now();
        let signed = self
            .app()
            .sign_request(request, now)
            .map_err(|e| NetError(format!("store: {e}")))?;
        let timeout = self.config.request_timeout;
        let ws = self
            .ws
            .as_mut()
            .ok_or_else(|| NetError("not connected".into()))?;
        tokio::time::timeout(
            timeout,
            ws.send(WsMessage::Binary(signed.to_bytes().into())),
        )
        .await
        .map_err(|_| NetError("send timed out".into()))??;
        let deadline = Instant::now() + timeout;
        loop {
            let ws = self
                .ws
                .as_mut()
                .ok_or_else(|| NetError("not connected".into()))?;
            let frame = tokio::time::timeout_at(deadline, next_binary(Some(ws)))
                .await
                .map_err(|_| NetError("the relay did not answer in time".into()))??
                .ok_or_else(|| NetError("closed by the relay".into()))?;
            match frame.split_first() {
                Some((&FRAME_RESPONSE, rest)) => {
                    return Response::decode_result(rest).map_err(NetError::from);
                }
                Some((&FRAME_PUSH, _)) => self.frame(&frame).await?,
                _ => return Err(NetError("unknown frame".into())),
            }
        }
    }

    /// Calls the relay for the application: connects first if needed, and
    /// tries again over a fresh connection after a network failure.
    async fn report(&mut self, seq: u64, reason: ReportReason) -> Result<bool, Error> {
        let (message, content) = self.db.reportable(seq)?.ok_or(Error::NotReportable(seq))?;
        let now = self.now();
        let report = self.app().spam_report(&message, &content, reason, now);
        match self.call(Request::Report(Box::new(report))).await? {
            Response::Reported { duplicate } => Ok(duplicate),
            other => Err(Error::BadResponse(format!(
                "{other:?} in answer to a report"
            ))),
        }
    }

    async fn call(&mut self, request: Request) -> Result<Response, Error> {
        let mut last = String::new();
        for _ in 0..CALL_ATTEMPTS {
            if self.ws.is_none()
                && let Err(e) = self.connect().await
            {
                last = e.to_string();
                continue;
            }
            match self.raw_call(request.clone()).await {
                Ok(Ok(r)) => return Ok(r),
                Ok(Err(refusal)) => return Err(Error::Refused(refusal)),
                Err(e) => {
                    last = e.0.clone();
                    self.lose_connection(e.0).await;
                }
            }
        }
        Err(Error::Network(last))
    }

    /// A frame that was not the answer to a call: envelopes pushed.
    async fn frame(&mut self, frame: &[u8]) -> Result<(), NetError> {
        match frame.split_first() {
            Some((&FRAME_PUSH, rest)) => match Response::decode_result(rest)? {
                Ok(Response::Mailbox {
                    deliveries,
                    prekeys_low,
                    statuses,
                    ..
                }) => {
                    if prekeys_low && self.config.prekey_batch > 0 {
                        self.need_prekeys = true;
                    }
                    self.learn_statuses(&deliveries, &statuses);
                    for d in deliveries {
                        self.deliver(d).await?;
                    }
                    Ok(())
                }
                _ => Err(NetError("unexpected push".into())),
            },
            // A late answer to a call that timed out: the connection is out
            // of step.
            Some((&FRAME_RESPONSE, _)) => Err(NetError("unexpected answer".into())),
            _ => Err(NetError("unknown frame".into())),
        }
    }

    fn learn_statuses(
        &mut self,
        deliveries: &[Delivery],
        statuses: &[hotline::business::CertificateStatus],
    ) {
        let now = self.now();
        for status in statuses {
            for d in deliveries {
                let peer = PeerId::account(&d.envelope.header.sender);
                // Only the status of the sender's own certificate applies.
                if self.app().learn_status(&peer, status, now).is_ok() {
                    break;
                }
            }
        }
    }

    /// Opens one delivery: the session change and the inbox row are made
    /// durable together, then the application hears of it, then the relay
    /// is told (on the next acknowledgement).
    async fn deliver(&mut self, d: Delivery) -> Result<(), NetError> {
        let h = d.envelope.header;
        if self.db.in_inbox(&h.sender, &h.message_id)? {
            self.acks.push(d.id);
            return Ok(());
        }
        let held = self.db.hold()?;
        let opened = self.app.as_mut().map(|a| a.open_envelope(&d.envelope));
        let outcome = match opened {
            Some(Ok(received)) => self
                .db
                .push_inbox(&d, &received.plaintext, received.franking_key.as_ref())
                .and_then(|seq| held.commit().map_err(Error::from).map(|()| (seq, received))),
            Some(Err(e)) => {
                drop(held);
                Err(Error::Receive(e))
            }
            None => Err(Error::Closed),
        };
        match outcome {
            Ok((seq, received)) => {
                self.acks.push(d.id);
                self.emit(Event::Message(Message {
                    seq,
                    from: h.sender,
                    message_id: h.message_id,
                    class: h.class,
                    sent_at: h.sent_at,
                    body: received.plaintext,
                }))
                .await;
                self.check_badge(h.sender).await;
                Ok(())
            }
            Err(Error::Receive(ReceiveError::Store(e))) => {
                // Not acknowledged: the relay pushes it again.
                let _ = self.reopen();
                Err(NetError(format!("store: {e}")))
            }
            Err(Error::Receive(ReceiveError::IdentityChanged(change))) => {
                self.acks.push(d.id);
                self.emit(Event::IdentityChanged {
                    peer: h.sender,
                    trusted: change.trusted,
                    received: change.received,
                })
                .await;
                Ok(())
            }
            Err(Error::Receive(ReceiveError::Blocked)) => {
                self.acks.push(d.id);
                Ok(())
            }
            Err(Error::Receive(e)) => {
                self.acks.push(d.id);
                self.emit(Event::Undecryptable {
                    from: h.sender,
                    reason: e.to_string(),
                })
                .await;
                Ok(())
            }
            Err(e) => {
                // The held transaction was rolled back: forget what the
                // protocol client kept in memory, and let the relay push
                // it again.
                let _ = self.reopen();
                Err(NetError(e.to_string()))
            }
        }
    }

    /// Acknowledgements, prekey replenishment and the outbox, while
    /// connected.
    async fn background_work(&mut self) -> Result<(), NetError> {
        while !self.acks.is_empty() {
            let ids: Vec<u64> = self
                .acks
                .drain(..self.acks.len().min(hotline::constants::MAX_ACK_BATCH))
                .collect();
            match self
                .raw_call(Request::Acknowledge { ids: ids.clone() })
                .await
            {
                Ok(Ok(_)) => {}
                Ok(Err(refusal)) => {
                    tracing::warn!(?refusal, "acknowledgement refused");
                }
                Err(e) => {
                    // Pushed again on the next connection, and found in the
                    // inbox then.
                    self.acks.extend(ids);
                    return Err(e);
                }
            }
        }
        if self.need_prekeys {
            self.need_prekeys = false;
            let n = self.config.prekey_batch;
            let upload = self
                .app()
                .update_prekeys(|p| {
                    let mut rng = rand::rng();
                    PreKeyUpload {
                        one_time_prekeys: p.add_one_time_prekeys(n, &mut rng),
                        kem_prekeys: p.add_kem_prekeys(n, &mut rng),
                        ..PreKeyUpload::default()
                    }
                })
                .map_err(|e| NetError(format!("store: {e}")))?;
            match self.raw_call(Request::UploadPreKeys(upload)).await? {
                Ok(_) => self.emit(Event::PreKeysUploaded { count: n }).await,
                Err(refusal) => tracing::warn!(?refusal, "prekey upload refused"),
            }
        }
        if self.outbox_not_before.is_none() {
            self.flush_outbox().await?;
        }
        Ok(())
    }

    /// Sends the outbox in order, the same envelope bytes every time.
    async fn flush_outbox(&mut self) -> Result<(), NetError> {
        while let Some((id, envelope)) = self.db.next_outbox().map_err(NetError::from)? {
            let to = envelope.header.recipient;
            let state = match self.raw_call(Request::Send(envelope)).await? {
                Ok(Response::Accepted {
                    duplicate: false, ..
                }) => DeliveryState::Accepted,
                Ok(Response::Accepted {
                    duplicate: true, ..
                }) => DeliveryState::AlreadyAccepted,
                Ok(other) => return Err(NetError(format!("unexpected answer {other:?}"))),
                Err(refusal) => match refusal {
                    Refusal::RateLimited {
                        retry_after_secs, ..
                    } => {
                        self.outbox_not_before = Some(
                            Instant::now()
                                + Duration::from_secs(u64::from(retry_after_secs.max(1))),
                        );
                        return Ok(());
                    }
                    Refusal::MailboxFull
                    | Refusal::SenderQuotaExceeded
                    | Refusal::Unavailable
                    | Refusal::StaleRequest
                    | Refusal::ReplayedRequest => {
                        self.outbox_not_before = Some(Instant::now() + self.config.backoff.max);
                        return Ok(());
                    }
                    other => DeliveryState::Refused(other),
                },
            };
            self.db.remove_outbox(id)?;
            self.emit(Event::Delivery { id, to, state }).await;
        }
        Ok(())
    }

    async fn check_badge(&mut self, peer: AccountId) {
        let now = self.now();
        let Ok(badge) = self.app().badge(&PeerId::account(&peer), now) else {
            return;
        };
        let kind = badge_kind(badge.as_ref());
        let before = self.badges.insert(peer, kind);
        if before.is_some_and(|b| b != kind) {
            let reason = describe_badge(badge.as_ref());
            self.emit(Event::BadgeChanged {
                peer,
                badge,
                reason,
            })
            .await;
        }
    }

    async fn check_badges(&mut self) {
        let peers: Vec<AccountId> = self.badges.keys().copied().collect();
        for peer in peers {
            self.check_badge(peer).await;
        }
    }

    async fn command(&mut self, command: Command) {
        match command {
            Command::StartSession(business, reply) => {
                let r = self.start_session(business).await;
                let _ = reply.send(r);
            }
            Command::Send(to, class, body, reply) => {
                let r = self.enqueue(to, class, &body);
                let _ = reply.send(r);
            }
            Command::Consent(business, scope, reply) => {
                let now = self.now();
                let record = self.app().consent_record(business, scope, now);
                let r = self
                    .call(Request::Consent(record))
                    .await
                    .and_then(|resp| expect(resp, |r| matches!(r, Response::ConsentStored)));
                let _ = reply.send(r);
            }
            Command::Block(business, blocked, reply) => {
                let r = self.block(business, blocked).await;
                let _ = reply.send(r);
            }
            Command::Render(from, body, reply) => {
                let now = self.now();
                let r = TemplatedNotification::from_bytes(&body)
                    .map_err(Error::Template)
                    .and_then(|n| {
                        match self.app().badge(&PeerId::account(&from), now)? {
                            Some(badge) => n.render_with_badge(&badge, now),
                            None => Err(TemplateError::NotVerified),
                        }
                        .map_err(Error::Template)
                    });
                let _ = reply.send(r);
            }
            Command::Badge(peer, reply) => {
                let now = self.now();
                let r = self
                    .app()
                    .badge(&PeerId::account(&peer), now)
                    .map_err(Error::from);
                if let Ok(b) = &r {
                    self.badges.insert(peer, badge_kind(b.as_ref()));
                }
                let _ = reply.send(r);
            }
            Command::SafetyNumber(peer, reply) => {
                let mine = self.app().identity();
                let r = self
                    .app()
                    .trusted_identity(&PeerId::account(&peer))
                    .map(|t| t.map(|theirs| Fingerprint::new(&mine, &theirs).digits().to_owned()))
                    .map_err(Error::from);
                let _ = reply.send(r);
            }
            Command::Confirm(seq, reply) => {
                let current = self.db.meta(META_CONFIRMED).ok().flatten().unwrap_or(0);
                let r = if seq > current {
                    self.db.set_meta(META_CONFIRMED, seq).map_err(Error::from)
                } else {
                    Ok(())
                };
                let _ = reply.send(r);
            }
            Command::Report(seq, reason, reply) => {
                let r = self.report(seq, reason).await;
                let _ = reply.send(r);
            }
            Command::Inbox(after, limit, reply) => {
                let r = self
                    .db
                    .inbox_after(after, limit.min(1000))
                    .map(|rows| rows.into_iter().map(Message::from_row).collect());
                let _ = reply.send(r);
            }
            Command::Request(request, reply) => {
                let r = self.call(*request).await;
                let _ = reply.send(r);
            }
            Command::UpdateTrust(change, reply) => {
                let mut change = Some(change);
                let r = self
                    .app()
                    .update_trust(|t| match change.take() {
                        Some(f) => f(t),
                        None => Err("already applied".into()),
                    })
                    .map_err(|e| Error::NotVerified(e.to_string()));
                let _ = reply.send(r);
                self.check_badges().await;
            }
            Command::Status(reply) => {
                let r = self
                    .db
                    .outbox_len()
                    .map_err(Error::from)
                    .map(|outbox| Status {
                        connected: self.ws.is_some(),
                        outbox,
                    });
                let _ = reply.send(r);
            }
            Command::Disconnect => {
                self.lose_connection("dropped by the application".into())
                    .await
            }
            Command::Shutdown => {}
        }
    }

    async fn start_session(&mut self, business: AccountId) -> Result<SessionInfo, Error> {
        let Response::Bundle { bundle, status } =
            self.call(Request::FetchBundle { owner: business }).await?
        else {
            return Err(Error::BadResponse("not a bundle".into()));
        };
        let peer = PeerId::account(&business);
        let now = self.now();
        if bundle.certificate_chain().is_some() {
            let verified = self
                .app()
                .trust_store()
                .verify_bundle(&bundle, now)
                .map_err(|e| Error::NotVerified(e.to_string()))?;
            self.app()
                .start_verified_session(&peer, &bundle, &verified, &mut rand::rng())?;
            if let Some(status) = status {
                // A stale or foreign status leaves the badge to the
                // certificate alone.
                let _ = self.app().learn_status(&peer, &status, now);
            }
        } else {
            self.app().start_session(&peer, &bundle, &mut rand::rng())?;
        }
        let badge = self.app().badge(&peer, now)?.unwrap_or(Badge::Unverified);
        self.badges.insert(business, badge_kind(Some(&badge)));
        let mine = self.app().identity();
        let safety_number = Fingerprint::new(&mine, bundle.identity())
            .digits()
            .to_owned();
        Ok(SessionInfo {
            badge,
            safety_number,
        })
    }

    /// Seals and puts in the outbox, in one transaction.
    fn enqueue(
        &mut self,
        to: AccountId,
        class: MessageClass,
        body: &[u8],
    ) -> Result<OutboxId, Error> {
        let now = self.now();
        let held = self.db.hold()?;
        let sealed: Result<Envelope, Error> = self
            .app()
            .seal(&PeerId::account(&to), class, now, body, &mut rand::rng())
            .map_err(Error::from);
        let result = sealed.and_then(|envelope| {
            let id = self.db.push_outbox(&envelope)?;
            held.commit()?;
            Ok(id)
        });
        if result.is_err() {
            // Whatever the protocol client committed inside the held
            // transaction was rolled back: reload it.
            let _ = self.reopen();
        }
        result
    }

    async fn block(&mut self, business: AccountId, blocked: bool) -> Result<(), Error> {
        // Locally first: nothing more is shown from it, whatever the relay.
        if blocked {
            self.app().block(&business)?;
        }
        let now = self.now();
        // A business blocks a customer with its own record (SPEC.md 14.6).
        let record = match self.config.role {
            Role::Business { .. } => self.app().business_block_record(business, blocked, now),
            Role::Customer => self.app().block_record(business, blocked, now),
        };
        let r = self.call(Request::Block(record)).await;
        if !blocked {
            self.app().unblock(&business)?;
        }
        match r {
            Ok(Response::BlockStored) => Ok(()),
            Ok(other) => Err(Error::BadResponse(format!("{other:?}"))),
            Err(e) => Err(e),
        }
    }
}

enum BootError {
    Net(NetError),
    Other(Error),
}

impl From<NetError> for BootError {
    fn from(e: NetError) -> Self {
        Self::Net(e)
    }
}

impl From<Error> for BootError {
    fn from(e: Error) -> Self {
        Self::Other(e)
    }
}

fn expect(response: Response, ok: impl Fn(&Response) -> bool) -> Result<(), Error> {
    if ok(&response) {
        Ok(())
    } else {
        Err(Error::BadResponse(format!("{response:?}")))
    }
}

/// The next binary frame (skipping control frames); never completes
/// without a connection; `None` when the connection closed.
async fn next_binary(ws: Option<&mut Ws>) -> Result<Option<Vec<u8>>, NetError> {
    let Some(ws) = ws else {
        return std::future::pending().await;
    };
    loop {
        match ws.next().await {
            None => return Ok(None),
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(WsMessage::Binary(b))) => return Ok(Some(b.to_vec())),
            Some(Ok(WsMessage::Close(_))) => return Ok(None),
            Some(Ok(_)) => continue,
        }
    }
}

#[allow(dead_code)]
fn _assert_send() {
    fn is_send<T: Send + Sync>() {}
    is_send::<Client>();
    is_send::<Events>();
    fn is_send_only<T: Send>() {}
    is_send_only::<Actor>();
}

//! `hotline-chat`: a customer's terminal client, built on the
//! `hotline-client` SDK alone.
//!
//! It keeps the account in a SQLite file (sealed under a key kept in a file
//! beside it), talks to one business, and reads lines from standard input,
//! interactively or from a script. A line that does not start with `/` is a
//! message to the business; the commands are:
//!
//! | command | what it does |
//! |---|---|
//! | `/optin` | records consent at the relay and starts a session, verifying the business |
//! | `/badge` | the business's badge now, and why it is missing when it is |
//! | `/safety` | the safety number to compare with the business out of band |
//! | `/block`, `/unblock` | blocks the business (at the relay and locally), or lifts it |
//! | `/history` | every message received, oldest first |
//! | `/wait` | waits (up to 15 s) for the next message from the business |
//! | `/status` | connection and outbox |
//! | `/erase` | erases the account at the relay (SPEC.md 14.15), then deletes the local database and its key file and stops |
//! | `/quit` | stops (also at the end of the input, once the outbox is empty) |
//!
//! Everything the client hears is printed as one line: `<name> text` for a
//! message, `delivered`, `refused: reason`, `badge: ...`.

use std::time::Duration;

use hotline::relay::{AccountId, ConsentScope, MessageClass};
use hotline::store::StorageKey;
use hotline_client::{Client, Config, DeliveryState, Event, Events, describe_badge};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

/// How long `/wait` and the end of the input wait.
const WAIT: Duration = Duration::from_secs(15);

/// What the chat is started with.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "hotline-chat",
    about = "Chat with a business over a Hotline relay (lines from stdin; /help lists commands)"
)]
pub struct Args {
    /// The relay, as http://host:port.
    #[arg(long, default_value = "http://127.0.0.1:7400")]
    pub relay: String,
    /// The account's database (created on first use).
    #[arg(long, default_value = "hotline-chat.db")]
    pub db: std::path::PathBuf,
    /// The file holding the database's storage key (created beside the
    /// database on first use; keep it private).
    #[arg(long)]
    pub key_file: Option<std::path::PathBuf>,
    /// A platform root trusted to certify businesses (as
    /// `hotline-issuer create-root` writes it).
    #[arg(long)]
    pub trust_root: Vec<std::path::PathBuf>,
    /// The business's account id (64 hex digits).
    #[arg(long)]
    pub business: String,
}

/// Why the chat stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChatError {
    /// The arguments or the files they name cannot be used.
    #[error("{0}")]
    Setup(String),
    /// The client failed.
    #[error(transparent)]
    Client(#[from] hotline_client::Error),
    /// Reading the input failed.
    #[error("input: {0}")]
    Io(#[from] std::io::Error),
}

fn key_path(args: &Args) -> std::path::PathBuf {
    args.key_file.clone().unwrap_or_else(|| {
        let mut p = args.db.clone().into_os_string();
        p.push(".key");
        p.into()
    })
}

fn storage_key(args: &Args) -> Result<StorageKey, ChatError> {
    let path = key_path(args);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let bytes: [u8; 32] = hex::decode(text.trim())
                .map_err(|_| ChatError::Setup(format!("{}: not a hex key", path.display())))?
                .try_into()
                .map_err(|_| ChatError::Setup(format!("{}: not a 32-byte key", path.display())))?;
            Ok(StorageKey::from_bytes(bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = StorageKey::generate(&mut rand::rng());
            std::fs::write(&path, hex::encode(key.as_bytes()))
                .map_err(|e| ChatError::Setup(format!("{}: {e}", path.display())))?;
            Ok(key)
        }
        Err(e) => Err(ChatError::Setup(format!("{}: {e}", path.display()))),
    }
}

fn parse_account(hex_id: &str) -> Result<AccountId, ChatError> {
    let bytes: [u8; 32] = hex::decode(hex_id.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ChatError::Setup("--business takes 64 hex digits".into()))?;
    Ok(AccountId(bytes))
}

/// Runs the chat: opens the account, reads lines from `input` until
/// `/quit` or its end, and writes what happens to `output`.
pub async fn run(
    args: Args,
    input: impl AsyncBufRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
) -> Result<(), ChatError> {
    let business = parse_account(&args.business)?;
    let mut config = Config::new(&args.relay, storage_key(&args)?).database(&args.db);
    for path in &args.trust_root {
        let bytes = std::fs::read(path)
            .map_err(|e| ChatError::Setup(format!("{}: {e}", path.display())))?;
        config = config.trust_root(
            hotline::business::TrustRoot::from_bytes(&bytes)
                .map_err(|e| ChatError::Setup(format!("{}: {e:?}", path.display())))?,
        );
    }
    let (client, mut events) = Client::open(config).await?;
    let mut out = Out(&mut output);
    out.line(&format!(
        "you are {}; talking to {} (/help lists commands)",
        hex::encode(client.account().0),
        business.short()
    ))
    .await;
    let mut lines = input.lines();
    let mut name = business.short();
    let mut erased = false;
    // A session from an earlier run names the business by its certificate.
    if let Some(hotline::business::Badge::Verified { business: b, .. }) =
        client.badge(business).await?
    {
        name = b.name().to_owned();
    }
    loop {
        let line = tokio::select! {
            l = lines.next_line() => l?,
            e = events.next() => {
                match e {
                    Some(e) => show(&client, &mut out, e, &mut name).await?,
                    None => return Err(ChatError::Setup("the client stopped".into())),
                }
                continue;
            }
        };
        let Some(line) = line else {
            // End of the script: let the outbox drain, then stop.
            drain(&client, &mut events, &mut out, &mut name).await?;
            break;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match line {
            "/quit" => {
                drain(&client, &mut events, &mut out, &mut name).await?;
                break;
            }
            "/help" => {
                out.line("/optin /badge /safety /block /unblock /history /wait /status /erase /quit; anything else is a message").await;
            }
            "/optin" => {
                client.consent(business, ConsentScope::ALL).await?;
                out.line("consent recorded at the relay (chat and notifications)")
                    .await;
                match client.start_session(business).await {
                    Ok(info) => {
                        if let hotline::business::Badge::Verified { business: b, .. } = &info.badge
                        {
                            name = b.name().to_owned();
                        }
                        out.line(&format!("badge: {}", describe_badge(Some(&info.badge))))
                            .await;
                        out.line(&format!("safety number: {}", info.safety_number))
                            .await;
                    }
                    Err(e) => out.line(&format!("no session: {e}")).await,
                }
            }
            "/badge" => {
                let badge = client.badge(business).await?;
                out.line(&format!("badge: {}", describe_badge(badge.as_ref())))
                    .await;
            }
            "/safety" => match client.safety_number(business).await? {
                Some(n) => out.line(&format!("safety number: {n}")).await,
                None => {
                    out.line("no identity known for the business yet (/optin)")
                        .await
                }
            },
            "/block" => {
                client.block(business).await?;
                out.line(&format!("blocked {name}: the relay refuses its messages"))
                    .await;
            }
            "/unblock" => {
                client.unblock(business).await?;
                out.line(&format!("unblocked {name}")).await;
            }
            "/history" => {
                for m in client.inbox(0, 1000).await? {
                    let from = if m.from == business {
                        name.clone()
                    } else {
                        m.from.short()
                    };
                    out.line(&format!(
                        "#{} <{}> {}",
                        m.seq,
                        from,
                        String::from_utf8_lossy(&m.body)
                    ))
                    .await;
                }
            }
            "/erase" => {
                client.delete_account().await?;
                erased = true;
                break;
            }
            "/status" => {
                let s = client.status().await?;
                out.line(&format!("connected: {}, outbox: {}", s.connected, s.outbox))
                    .await;
            }
            "/wait" => {
                let waited = tokio::time::timeout(WAIT, async {
                    while let Some(e) = events.next().await {
                        let message = matches!(e, Event::Message(_));
                        show(&client, &mut out, e, &mut name).await?;
                        if message {
                            return Ok::<bool, ChatError>(true);
                        }
                    }
                    Ok(false)
                })
                .await;
                if !matches!(waited, Ok(Ok(true))) {
                    out.line("no message came").await;
                }
            }
            text if text.starts_with('/') => {
                out.line(&format!("unknown command {text} (/help)")).await
            }
            text => match client
                .send(business, MessageClass::Chat, text.as_bytes().to_vec())
                .await
            {
                Ok(_) => {}
                Err(e) => out.line(&format!("not sent: {e} (did you /optin?)")).await,
            },
        }
    }
    client.shutdown().await;
    if erased {
        // The relay holds nothing of the account any more, and never
        // registers it again: its local state is of no use to anyone.
        let mut gone = vec![key_path(&args)];
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = args.db.clone().into_os_string();
            p.push(suffix);
            gone.push(p.into());
        }
        for path in gone {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(ChatError::Setup(format!("{}: {e}", path.display()))),
            }
        }
        out.line(
            "account erased: the relay deleted your mailbox, keys and conversation state \
             (a business keeps the consent you gave it as evidence for 3 years); \
             the local database and its key are deleted",
        )
        .await;
    }
    Ok(())
}

/// Waits (bounded) until the outbox is empty, showing events meanwhile.
async fn drain(
    client: &Client,
    events: &mut Events,
    out: &mut Out<'_, impl AsyncWrite + Unpin>,
    name: &mut String,
) -> Result<(), ChatError> {
    let deadline = tokio::time::Instant::now() + WAIT;
    while client.status().await?.outbox > 0 && tokio::time::Instant::now() < deadline {
        if let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(100), events.next()).await {
            show(client, out, e, name).await?;
        }
    }
    Ok(())
}

/// Prints one event.
async fn show(
    client: &Client,
    out: &mut Out<'_, impl AsyncWrite + Unpin>,
    event: Event,
    name: &mut String,
) -> Result<(), ChatError> {
    match event {
        Event::Message(m) => {
            let badge = client.badge(m.from).await?;
            if let Some(hotline::business::Badge::Verified { business, .. }) = &badge {
                *name = business.name().to_owned();
            }
            let mark = match &badge {
                Some(hotline::business::Badge::Verified { .. }) => "verified",
                _ => "NOT verified",
            };
            // A notification is shown only as an approved template of a
            // verified business (SPEC.md 13.17); anything else is dropped
            // with the reason.
            let line = match m.class {
                MessageClass::Notification => match client.render_notification(&m).await {
                    Ok(shown) => format!(
                        "<{name}, {mark}> (notification, {:?}) {}",
                        shown.category, shown.text
                    ),
                    Err(e) => format!("<{name}, {mark}> (notification not shown: {e})"),
                },
                _ => format!("<{name}, {mark}> {}", String::from_utf8_lossy(&m.body)),
            };
            out.line(&line).await;
            client.confirm(m.seq).await?;
        }
        Event::Delivery { state, .. } => match state {
            DeliveryState::Accepted | DeliveryState::AlreadyAccepted => out.line("delivered").await,
            DeliveryState::Refused(r) => out.line(&format!("refused: {r:?}")).await,
            other => out.line(&format!("{other:?}")).await,
        },
        Event::BadgeChanged { reason, .. } => out.line(&format!("badge changed: {reason}")).await,
        Event::IdentityChanged { .. } => {
            out.line("WARNING: the business's identity key changed; its message was not accepted")
                .await
        }
        Event::Undecryptable { reason, .. } => {
            out.line(&format!("a message could not be opened: {reason}"))
                .await
        }
        Event::Connected => out.line("connected").await,
        Event::Disconnected { reason } => {
            out.line(&format!("disconnected ({reason}); reconnecting"))
                .await
        }
        _ => {}
    }
    Ok(())
}

struct Out<'a, W>(&'a mut W);

impl<W: AsyncWrite + Unpin> Out<'_, W> {
    async fn line(&mut self, text: &str) {
        let _ = self.0.write_all(text.as_bytes()).await;
        let _ = self.0.write_all(b"\n").await;
        let _ = self.0.flush().await;
    }
}

//! Hotline over a real network, on loopback: a relay server, an airline and
//! a customer, each talking to the others only through sockets.
//!
//! ```sh
//! cargo run -p hotline-client --example network_demo
//! ```
//!
//! plays the story: the platform certifies the airline, which registers
//! with the relay; the customer opts in, starts a session it verifies
//! itself (badge and safety number) and asks a question; the airline
//! answers; 25 hours later (the relay's clock is moved, and so are the
//! clients' clocks) a free-form message is refused but a notification goes
//! through, billed once delivered, and the airline checks its bill
//! against the receipts the relay signed; the customer reports a second,
//! unwanted notification (the relay checks the report against its own stamp
//! and the airline's commitment) and blocks the airline, whose next
//! message is refused. Each line says what the customer, the airline and
//! the relay saw. It stops everything it started and exits 0.
//!
//! ```sh
//! cargo run -p hotline-client --example network_demo -- --serve 127.0.0.1:7400
//! ```
//!
//! keeps a relay and the airline (answering every message) running on the
//! system clock instead, writes the platform root to `demo-root.pub`, and
//! prints the command to chat with it from a second terminal with
//! `hotline-chat`.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use hotline::IdentityKeyPair;
use hotline::business::{
    BusinessCertificateRequest, BusinessId, CertificateChain, IssuerAuthority, LevelSet,
    RootAuthority, TemplateCategory, TemplatedNotification, TrustStore, Validity,
    VerificationLevel,
};
use hotline::relay::{
    Clock, ConsentScope, ManualClock, MemoryStore, MessageClass, Refusal, Relay, RelayStore,
    ReportReason, Request, SystemClock,
};
use hotline::store::StorageKey;
use hotline_client::{Client, Config, DeliveryState, Event, Events, Role, describe_badge};
use hotline_relay::{RelayHandle, ServerLimits, router};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Mon 1 Jun 2026 09:00 UTC, the clock of the story.
const START: u64 = 1_780_304_400;
const DAY: u64 = 86_400;
/// No step of the story waits longer for an event.
const STEP: Duration = Duration::from_secs(10);

/// The platform: a root, an issuer it certifies, and the airline's chain.
struct Platform {
    root: RootAuthority,
    issuer: IssuerAuthority,
    airline: IdentityKeyPair,
    chain: CertificateChain,
}

fn platform(now: u64) -> Result<Platform, Error> {
    let mut rng = rand::rng();
    let years = |n: u64| n * 365 * DAY;
    let root = RootAuthority::generate(
        1,
        Validity {
            not_before: now - years(1),
            not_after: now + years(10),
        },
        &mut rng,
    );
    let (seed, key) = IssuerAuthority::generate_key(&mut rng);
    let levels = LevelSet::new(&[VerificationLevel::Verified, VerificationLevel::Official])
        .ok_or("no levels")?;
    let cert = root.certify_issuer(
        7,
        &key,
        levels,
        Validity {
            not_before: now - years(1),
            not_after: now + years(3),
        },
    )?;
    let issuer = IssuerAuthority::new(&seed, cert)?;
    let airline = IdentityKeyPair::generate(&mut rng);
    let certificate = issuer.issue(&BusinessCertificateRequest {
        serial: 1001,
        business_id: BusinessId([0xEA; 16]),
        identity_key: *airline.public().signing_key(),
        name: "Example Air".into(),
        localized: vec![],
        level: VerificationLevel::Official,
        validity: Validity {
            not_before: now - 30 * DAY,
            not_after: now + years(1),
        },
    })?;
    let chain = CertificateChain::new(issuer.certificate().clone(), certificate);
    Ok(Platform {
        root,
        issuer,
        airline,
        chain,
    })
}

/// A relay server on `addr`, judging businesses by the platform's root, its
/// request log lines sent to `log`. Returns its URL, its handle (for the
/// operator's counts) and the switch that stops it.
async fn relay(
    addr: &str,
    platform: &Platform,
    clock: Arc<dyn Clock>,
    log: Arc<Mutex<Vec<String>>>,
) -> Result<(String, RelayHandle, tokio::sync::oneshot::Sender<()>), Error> {
    let mut trust = TrustStore::new();
    trust.add_root(platform.root.trust_root())?;
    let store: Box<dyn RelayStore> = Box::new(MemoryStore::new());
    let relay = Relay::new(store, clock, Arc::new(RwLock::new(trust))).with_log(move |line| {
        if let Ok(mut l) = log.lock() {
            l.push(line.to_owned());
        }
    });
    let handle = RelayHandle::new(relay, ServerLimits::default());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = router(handle.clone());
    let stopping = handle.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
                stopping.shutdown();
            })
            .await;
    });
    Ok((url, handle, stop))
}

fn key() -> StorageKey {
    StorageKey::generate(&mut rand::rng())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Waits for the first event `pick` accepts.
async fn next<T>(
    events: &mut Events,
    mut pick: impl FnMut(Event) -> Option<T>,
) -> Result<T, Error> {
    tokio::time::timeout(STEP, async {
        while let Some(e) = events.next().await {
            if let Some(t) = pick(e) {
                return Ok(t);
            }
        }
        Err("a client stopped".into())
    })
    .await
    .map_err(|_| "timed out waiting for an event")?
}

/// What the relay logged since the last call: one line per request,
/// metadata only (accounts, class, size, outcome). The stream binding and
/// the acknowledgements are left out.
fn relay_saw(log: &Mutex<Vec<String>>) {
    let lines: Vec<String> = log
        .lock()
        .map(|mut l| l.drain(..).collect())
        .unwrap_or_default();
    for line in lines {
        let what = line.split(": ").nth(1).unwrap_or_default();
        if what == "prekey status" || what.starts_with("acknowledge") {
            continue;
        }
        println!("   relay sees      {line}");
    }
}

/// The state the story expects at this step, or why the demo fails.
fn expect(got: DeliveryState, expected: DeliveryState) -> Result<DeliveryState, Error> {
    if got == expected {
        Ok(got)
    } else {
        Err(format!("expected {expected:?}, the relay answered {got:?}").into())
    }
}

async fn delivery(events: &mut Events, id: u64) -> Result<DeliveryState, Error> {
    next(events, |e| match e {
        Event::Delivery { id: i, state, .. } if i == id => Some(state),
        _ => None,
    })
    .await
}

/// The airline sends `note` to `to` as a notification; the customer reads
/// it (rendered against the approved template) and confirms it. Returns
/// the relay's answer to the airline and the message as the customer read
/// it, with its text.
async fn notify(
    (airline, airline_events): (&Client, &mut Events),
    (customer, customer_events): (&Client, &mut Events),
    note: &TemplatedNotification,
) -> Result<(DeliveryState, hotline_client::Message, String), Error> {
    let id = airline
        .send(
            customer.account(),
            MessageClass::Notification,
            note.to_bytes(),
        )
        .await?;
    let state = expect(delivery(airline_events, id).await?, DeliveryState::Accepted)?;
    let m = next(customer_events, |e| match e {
        Event::Message(m) => Some(m),
        _ => None,
    })
    .await?;
    let shown = customer.render_notification(&m).await?;
    customer.confirm(m.seq).await?;
    let text = format!("[{:?}, {:?}] {:?}", m.class, shown.category, shown.text);
    Ok((state, m, text))
}

async fn story() -> Result<(), Error> {
    let clock = ManualClock::new(START);
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let log = Arc::new(Mutex::new(Vec::new()));
    // Each app keeps its account in its own SQLite file, removed at the end.
    let dir = std::env::temp_dir().join(format!("hotline-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    println!("1. The platform certifies the airline; a relay server starts on loopback.");
    let p = platform(START)?;
    let (url, relay, stop_relay) = relay("127.0.0.1:0", &p, shared.clone(), log.clone()).await?;
    println!(
        "   platform        root 1 certifies issuer 7, which certifies \"Example Air\" (official)"
    );
    println!("   relay           listening on {url} (HTTP + WebSocket)");

    println!(
        "\n2. The airline's console connects, registers with its chain, and publishes its standing."
    );
    let mut airline_config = Config::new(&url, key())
        .database(dir.join("airline.db"))
        .role(Role::Business {
            certificate_chain: Some(Box::new(p.chain.clone())),
        })
        .clock(shared.clone());
    airline_config.identity = Some(p.airline.clone());
    let (airline, mut airline_events) = Client::open(airline_config).await?;
    next(&mut airline_events, |e| {
        matches!(e, Event::Connected).then_some(())
    })
    .await?;
    let status = p
        .issuer
        .certify_status(1001, clock.now(), clock.now() + 3 * DAY)?;
    airline.request(Request::PublishStatus(status)).await?;
    println!(
        "   airline sees    registered as {}, 20 + 20 one-time prekeys uploaded, status published",
        airline.account().short()
    );
    relay_saw(&log);

    println!("\n3. The customer's app connects and opts in to messages from the airline.");
    let customer_config = Config::new(&url, key())
        .database(dir.join("customer.db"))
        .trust_root(p.root.trust_root())
        .clock(shared.clone());
    let (customer, mut customer_events) = Client::open(customer_config).await?;
    customer
        .consent(airline.account(), ConsentScope::ALL)
        .await?;
    println!(
        "   customer sees   registered as {}, consent to chat and notifications sent",
        customer.account().short()
    );
    relay_saw(&log);

    println!("\n4. The customer verifies the airline and asks a question.");
    let session = customer.start_session(airline.account()).await?;
    if !matches!(session.badge, hotline::business::Badge::Verified { .. }) {
        return Err("the airline is not verified".into());
    }
    println!(
        "   customer sees   [{}]",
        describe_badge(Some(&session.badge))
    );
    println!("   customer sees   safety number {}", session.safety_number);
    let question = "Hi, can I move booking ZX81QK to Friday?";
    let id = customer
        .send(airline.account(), MessageClass::Chat, question.into())
        .await?;
    println!(
        "   customer wrote  {question:?} -> {:?}",
        expect(
            delivery(&mut customer_events, id).await?,
            DeliveryState::Accepted
        )?
    );
    let m = next(&mut airline_events, |e| match e {
        Event::Message(m) => Some(m),
        _ => None,
    })
    .await?;
    airline.confirm(m.seq).await?;
    println!(
        "   airline reads   {:?} from customer {}",
        String::from_utf8_lossy(&m.body),
        m.from.short()
    );
    println!(
        "   airline sees    safety number {}",
        airline.safety_number(m.from).await?.unwrap_or_default()
    );
    relay_saw(&log);

    println!("\n5. The airline answers within the 24-hour window.");
    let answer = "Yes: Friday 09:40, seat 14A. Your booking is changed.";
    let id = airline
        .send(customer.account(), MessageClass::Chat, answer.into())
        .await?;
    println!(
        "   airline wrote   {answer:?} -> {:?}",
        expect(
            delivery(&mut airline_events, id).await?,
            DeliveryState::Accepted
        )?
    );
    let m = next(&mut customer_events, |e| match e {
        Event::Message(m) => Some(m),
        _ => None,
    })
    .await?;
    customer.confirm(m.seq).await?;
    let badge = customer.badge(airline.account()).await?;
    println!(
        "   customer reads  [{}] {:?}",
        describe_badge(badge.as_ref()),
        String::from_utf8_lossy(&m.body)
    );
    relay_saw(&log);

    println!("\n6. 25 hours later the airline tries a free-form follow-up: the window is closed.");
    clock.advance(25 * 3600);
    let id = airline
        .send(
            customer.account(),
            MessageClass::Chat,
            "Anything else we can help with?".into(),
        )
        .await?;
    println!(
        "   airline sees    {:?}; the customer sees nothing",
        expect(
            delivery(&mut airline_events, id).await?,
            DeliveryState::Refused(Refusal::WindowClosed)
        )?
    );
    relay_saw(&log);

    println!(
        "\n7. A notification still goes through, as a template issuer 7 approved, and is billed once delivered."
    );
    let check_in = p.issuer.approve_template(
        BusinessId([0xEA; 16]),
        1,
        TemplateCategory::Utility,
        "en",
        "Flight {{1}} on {{2}}: check-in is open.",
        Validity {
            not_before: 0,
            not_after: u64::MAX,
        },
    )?;
    println!(
        "   platform        issuer 7 approves template 1 (utility): {:?}",
        check_in.body()
    );
    let note = TemplatedNotification::new(&check_in, &["EA212", "Friday"])?;
    let (state, _, text) = notify(
        (&airline, &mut airline_events),
        (&customer, &mut customer_events),
        &note,
    )
    .await?;
    println!("   airline sends   template 1 with [\"EA212\", \"Friday\"] -> {state:?}");
    println!("   customer reads  {text}");
    relay_saw(&log);
    // The airline checks the bill against what the relay signed (SPEC.md
    // 14.16): the delivery of its notification, and the day's statement.
    let relay_key = relay.relay().public_key();
    let delivered = {
        let mut tries = 0;
        loop {
            let (states, _) = airline.delivery_states(&relay_key, 0, 100).await?;
            if let Some(r) = states
                .into_iter()
                .find(|r| r.entry().billed_period().is_some())
            {
                break r;
            }
            tries += 1;
            if tries > 200 {
                return Err("the notification's delivery was never logged".into());
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    };
    println!(
        "   airline holds   a receipt signed by the relay: {:?} to {} at {}, billed in period {}",
        delivered.entry().state,
        delivered.entry().recipient.short(),
        delivered.entry().time,
        delivered.entry().billed_period().unwrap_or_default()
    );
    let period = delivered.entry().billed_period().unwrap_or_default();
    let statement = airline.statement(&relay_key, period).await?;
    println!(
        "   airline checks  the statement of period {}: {} notification(s) billed, matching its signed receipts",
        statement.period, statement.count
    );
    println!(
        "   operator reads  {} notification(s) from {} to bill",
        relay.relay().notification_count(&airline.account())?,
        airline.account().short()
    );

    println!("\n8. A second notification the customer did not want: the customer reports it.");
    let again = TemplatedNotification::new(&check_in, &["EA212", "Friday (reminder 3 of 5)"])?;
    let (_, m, text) = notify(
        (&airline, &mut airline_events),
        (&customer, &mut customer_events),
        &again,
    )
    .await?;
    println!("   customer reads  {text}");
    let duplicate = customer.report(m.seq, ReportReason::Spam).await?;
    let (reporters, tier, limit) = relay.relay().notification_standing(&airline.account())?;
    println!(
        "   relay checks    its own stamp and the opening of the airline's commitment: report recorded (duplicate: {duplicate})"
    );
    println!(
        "   operator reads  {} reporter(s) this week: tier {}, at most {} customers a day",
        reporters, tier, limit
    );

    println!("\n9. The customer blocks the airline: the relay refuses its next message.");
    customer.block(airline.account()).await?;
    println!(
        "   customer sees   {} blocked (at the relay and in the app)",
        airline.account().short()
    );
    relay_saw(&log);
    let id = airline
        .send(
            customer.account(),
            MessageClass::Notification,
            "Last chance: 20% off upgrades!".into(),
        )
        .await?;
    println!(
        "   airline sees    {:?}",
        expect(
            delivery(&mut airline_events, id).await?,
            DeliveryState::Refused(Refusal::Blocked)
        )?
    );
    relay_saw(&log);

    println!("\n10. Everyone stops.");
    customer.shutdown().await;
    airline.shutdown().await;
    let _ = stop_relay.send(());
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "   the relay saw only accounts, classes, sizes and ciphertext, and the one message the customer chose to report"
    );
    Ok(())
}

/// A relay and an airline that answers every message, until Ctrl-C.
async fn serve(addr: &str) -> Result<(), Error> {
    let now = SystemClock.now();
    let p = platform(now)?;
    std::fs::write("demo-root.pub", p.root.trust_root().to_bytes())?;
    let log = Arc::new(Mutex::new(Vec::new()));
    let (url, _relay, stop_relay) = relay(addr, &p, Arc::new(SystemClock), log.clone()).await?;
    let mut config = Config::new(&url, key()).role(Role::Business {
        certificate_chain: Some(Box::new(p.chain.clone())),
    });
    config.identity = Some(p.airline.clone());
    let (airline, mut events) = Client::open(config).await?;
    next(&mut events, |e| matches!(e, Event::Connected).then_some(())).await?;
    let status = p.issuer.certify_status(1001, now, now + 3 * DAY)?;
    airline.request(Request::PublishStatus(status)).await?;
    println!(
        "relay on {url}, airline \"Example Air\" is {}",
        hex(&airline.account().0)
    );
    println!("platform root written to demo-root.pub. In a second terminal:");
    println!(
        "  cargo run -p hotline-chat -- --relay {url} --db chat.db --trust-root demo-root.pub --business {}",
        hex(&airline.account().0)
    );
    println!("Ctrl-C stops.");
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            e = events.next() => match e {
                Some(Event::Message(m)) => {
                    let text = String::from_utf8_lossy(&m.body).into_owned();
                    println!("airline reads {:?} from {}", text, m.from.short());
                    let reply = format!("Example Air here: we got {text:?}. An agent will follow up.");
                    airline.send(m.from, MessageClass::Chat, reply.into_bytes()).await?;
                    airline.confirm(m.seq).await?;
                }
                Some(Event::Delivery { state, to, .. }) => println!("relay answered {state:?} for a message to {}", to.short()),
                Some(_) => {}
                None => break,
            }
        }
    }
    airline.shutdown().await;
    let _ = stop_relay.send(());
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => tokio::time::timeout(Duration::from_secs(60), story())
            .await
            .map_err(|_| "the demo took longer than a minute")?,
        [flag, addr] if flag == "--serve" => serve(addr).await,
        _ => Err("usage: network_demo [--serve ADDR]".into()),
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_story_plays_to_the_end_within_a_minute() {
        tokio::time::timeout(std::time::Duration::from_secs(60), super::story())
            .await
            .expect("within a minute")
            .expect("every step as told");
    }
}

//! `hotline-relay`: the relay server.
//!
//! ```text
//! hotline-relay --listen 127.0.0.1:7400 --db sqlite:relay.db --trust-root root.pub
//! ```
//!
//! Prints `listening on ADDR` once it accepts connections, logs with
//! `tracing` (`RUST_LOG`, default `info`), and on SIGTERM or Ctrl-C stops
//! accepting, closes streams and answers the requests in flight.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use clap::Parser;
use hotline::business::{TrustRoot, TrustStore};
use hotline::relay::{NoBusinesses, NotificationTiers};
use hotline_relay::{Database, ServerLimits, build_relay, load_or_create_relay_key, serve_node};

use std::io::Write as _;

fn hex_key(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The Hotline relay: signed requests over HTTP, envelopes pushed over
/// WebSocket.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "HOTLINE_LISTEN", default_value = "127.0.0.1:7400")]
    listen: SocketAddr,
    /// Database: sqlite:PATH, memory, or postgres://USER@HOST:PORT/DB
    /// (several nodes may share one PostgreSQL database).
    #[arg(long, env = "HOTLINE_DB", default_value = "sqlite:hotline-relay.db")]
    db: Database,
    /// The PostgreSQL schema of the relay's tables (nodes of one service
    /// share it).
    #[arg(long, env = "HOTLINE_DB_SCHEMA", default_value = "hotline")]
    db_schema: String,
    /// A platform trust root (the encoded root, as `hotline-issuer
    /// create-root` writes it) that business chains must chain to
    /// (repeatable). Without one, no business can register.
    #[arg(long, value_name = "FILE")]
    trust_root: Vec<PathBuf>,
    /// Require a status of good standing for businesses to send (SPEC.md
    /// 13.15).
    #[arg(long)]
    require_status: bool,
    /// Largest request body or WebSocket frame, in bytes.
    #[arg(long, default_value_t = ServerLimits::default().max_body)]
    max_body_bytes: usize,
    /// Deadline of each request, in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    request_timeout_secs: u64,
    /// Most WebSocket connections at once.
    #[arg(long, default_value_t = 10_000)]
    max_connections: usize,
    /// The file of the key that signs receipts and statements (SPEC.md
    /// 14.16), created on first start, readable by its owner only. Default:
    /// beside an SQLite database (`PATH.key`); a fresh key for `memory`;
    /// required with PostgreSQL, since every node must use the same file.
    #[arg(long, env = "HOTLINE_RELAY_KEY", value_name = "FILE")]
    relay_key: Option<PathBuf>,
    /// Most requests doing store work at once; more are answered 503.
    #[arg(long, default_value_t = ServerLimits::default().max_in_flight)]
    max_in_flight: usize,
    /// Daily limits of distinct customers a business may reach with
    /// notifications, by quality tier, lowest first (SPEC.md 14.17).
    #[arg(long, value_delimiter = ',', default_value = "250,2000,10000,100000")]
    notification_limits: Vec<u32>,
    /// The tier of a business no customer reported (0 is the first limit).
    #[arg(long, default_value_t = 1)]
    start_tier: u8,
    /// Distinct reporters within a week that lower a business by one tier.
    #[arg(long, default_value_t = 3)]
    reporters_per_tier: u32,
}

async fn terminated() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

async fn run(mut args: Args) -> Result<(), String> {
    if let Database::Postgres(c) = &mut args.db {
        c.schema = args.db_schema.clone();
    }
    // Checked before the database is opened: a bad flag costs nothing.
    let tiers = NotificationTiers::new(
        args.notification_limits.clone(),
        args.start_tier,
        args.reporters_per_tier,
    )
    .ok_or(
        "bad notification tiers: --notification-limits must be 1 to 255 limits, never decreasing, \
         --start-tier one of them, --reporters-per-tier at least 1",
    )?;
    let limits = ServerLimits {
        max_body: args.max_body_bytes,
        request_timeout: Duration::from_secs(args.request_timeout_secs),
        max_connections: args.max_connections,
        max_in_flight: args.max_in_flight,
        ..ServerLimits::default()
    };
    // Opening a database may block (PostgreSQL's client connects and
    // migrates synchronously): off the async workers.
    let relay = tokio::task::block_in_place(|| -> Result<_, String> {
        Ok(if args.trust_root.is_empty() {
            build_relay(&args.db, NoBusinesses)
        } else {
            let mut trust = TrustStore::new();
            for path in &args.trust_root {
                let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
                let root = TrustRoot::from_bytes(&bytes)
                    .map_err(|e| format!("{}: not a trust root: {e}", path.display()))?;
                trust
                    .add_root(root)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            trust.require_status(args.require_status);
            // Lists and statuses published through the relay update it.
            build_relay(&args.db, Arc::new(RwLock::new(trust)))
        })
    })?
    .map_err(|e| format!("cannot open the database: {e}"))?;
    let key_file = match (&args.relay_key, &args.db) {
        (Some(path), _) => Some(path.clone()),
        (None, Database::Sqlite(db)) => {
            let mut path = db.clone().into_os_string();
            path.push(".key");
            Some(PathBuf::from(path))
        }
        (None, Database::Memory) => None,
        (None, Database::Postgres(_)) => {
            return Err(
                "--relay-key FILE is required with PostgreSQL: every node must sign receipts with the same key"
                    .into(),
            );
        }
    };
    let relay = match &key_file {
        Some(path) => relay.with_key(load_or_create_relay_key(path).map_err(|e| e.to_string())?),
        None => relay,
    }
    .with_notification_tiers(tiers);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on {addr}");
    // Senders verify receipts with this key; the operator hands it out
    // with the relay's address.
    // Whoever started the relay may have stopped reading its output after
    // the address: a closed stdout is no reason to stop serving.
    let _ = writeln!(
        std::io::stdout(),
        "relay key {}",
        hex_key(&relay.public_key().to_bytes())
    );
    tracing::info!(%addr, db = ?args.db, "relay started");
    serve_node(
        listener,
        relay,
        limits,
        args.db.postgres().cloned(),
        terminated(),
    )
    .await
    .map_err(|e| format!("server failed: {e}"))?;
    tracing::info!("relay stopped");
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hotline-relay: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotline-relay: {e}");
            ExitCode::FAILURE
        }
    }
}

//! `hotline-load`: drives a Hotline relay over loopback with simulated
//! customers and businesses exchanging real encrypted messages.
//!
//! ```text
//! hotline-load --spawn --customers 100 --businesses 10 --duration 10
//! ```
//!
//! With `--spawn` (the main mode) it starts a relay in this process, in
//! memory or on `--db sqlite:PATH`, that vouches for its businesses by an
//! allow list, or several nodes on one PostgreSQL database
//! (`--db postgres://... --nodes 2`). With `--relay http://127.0.0.1:PORT` it drives a running
//! relay instead, whose validator must then accept the simulated
//! businesses (which carry no certificate chain). Exits non-zero if any
//! accepted message was lost, delivered twice or undecryptable.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use hotline_load::{Config, run};
use hotline_relay::Database;

/// Load generator for the Hotline relay.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// A running relay to drive, as http://127.0.0.1:PORT.
    #[arg(long, conflicts_with = "spawn", required_unless_present = "spawn")]
    relay: Option<String>,
    /// Start a relay in this process instead.
    #[arg(long)]
    spawn: bool,
    /// Store of the spawned relay: memory, sqlite:PATH or
    /// postgres://USER@HOST:PORT/DB.
    #[arg(long, default_value = "memory")]
    db: Database,
    /// Relay nodes to spawn on the one database (several need postgres://):
    /// businesses listen on one node, their customers send through the
    /// next.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// The PostgreSQL schema of the spawned nodes. By default a fresh
    /// `hotline_load_PID`, dropped after the run.
    #[arg(long)]
    db_schema: Option<String>,
    /// Simulated customers (one message in flight each).
    #[arg(long, default_value_t = 10)]
    customers: usize,
    /// Simulated businesses (one WebSocket stream each).
    #[arg(long, default_value_t = 2)]
    businesses: usize,
    /// Stop sending after this many seconds.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=3600))]
    duration: Option<u64>,
    /// Stop sending after this many messages.
    #[arg(long)]
    messages: Option<u64>,
    /// Plaintext bytes per message (at least 16).
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Seconds to wait for outstanding deliveries after sending stopped.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    drain: u64,
}

/// The database's committed transactions, rows written and WAL position,
/// or `None` if they cannot be read.
fn db_counters(url: &str) -> Option<(i64, i64, i64)> {
    tokio::task::block_in_place(|| {
        let mut client = postgres::Client::connect(url, postgres::NoTls).ok()?;
        let row = client
            .query_one(
                "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted,
                        (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint
                 FROM pg_stat_database WHERE datname = current_database()",
                &[],
            )
            .ok()?;
        Some((row.get(0), row.get(1), row.get(2)))
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let duration = match (args.duration, args.messages) {
        (None, None) => Some(Duration::from_secs(10)),
        (d, _) => d.map(Duration::from_secs),
    };
    let mut db = args.db;
    let mut drop_schema = None;
    if let Database::Postgres(c) = &mut db {
        match &args.db_schema {
            Some(s) => c.schema = s.clone(),
            None => {
                c.schema = format!("hotline_load_{}", std::process::id());
                drop_schema = Some(c.clone());
            }
        }
    }
    let before = db.postgres().map(|c| db_counters(&c.url));
    let config = Config {
        relay: args.relay,
        db: db.clone(),
        customers: args.customers,
        businesses: args.businesses,
        duration,
        messages: args.messages,
        size: args.size,
        drain: Duration::from_secs(args.drain),
        nodes: args.nodes,
        ..Config::default()
    };
    let result = run(&config).await;
    if let (Some(Some(before)), Some(c)) = (before, db.postgres()) {
        // The counters of the backends that just closed reach the
        // statistics within a second.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        if let (Some(after), Ok(report)) = (db_counters(&c.url), &result) {
            let n = report.sent.max(1) as f64;
            println!(
                "database, per accepted message (setup and every other client of the database included): \
                 {:.2} transactions, {:.2} rows written, {:.0} WAL bytes",
                (after.0 - before.0) as f64 / n,
                (after.1 - before.1) as f64 / n,
                (after.2 - before.2) as f64 / n,
            );
        }
    }
    if let Some(c) = drop_schema {
        let url = c.url.clone();
        let _ = tokio::task::block_in_place(|| -> Result<(), postgres::Error> {
            let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
            client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", c.schema))
        });
    }
    match result {
        Ok(report) => {
            println!("{report}");
            if report.is_clean() {
                ExitCode::SUCCESS
            } else {
                eprintln!("hotline-load: messages were lost, duplicated or undecryptable");
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("hotline-load: {e}");
            ExitCode::from(2)
        }
    }
}

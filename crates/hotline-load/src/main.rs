//! `hotline-load`: drives a Hotline relay over loopback with simulated
//! customers and businesses exchanging real encrypted messages.
//!
//! ```text
//! hotline-load --spawn --customers 100 --businesses 10 --duration 10
//! ```
//!
//! With `--spawn` (the main mode) it starts a relay in this process, in
//! memory or on `--db sqlite:PATH`, that vouches for its businesses by an
//! allow list. With `--relay http://127.0.0.1:PORT` it drives a running
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
    /// Store of the spawned relay: memory or sqlite:PATH.
    #[arg(long, default_value = "memory")]
    db: Database,
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
    let config = Config {
        relay: args.relay,
        db: args.db,
        customers: args.customers,
        businesses: args.businesses,
        duration,
        messages: args.messages,
        size: args.size,
        drain: Duration::from_secs(args.drain),
        ..Config::default()
    };
    match run(&config).await {
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

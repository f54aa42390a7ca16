//! `hotline-gateway`: runs a business's gateway against a relay.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Parser;
use hotline::IdentityKeyPair;
use hotline::business::CertificateChain;
use hotline::store::StorageKey;
use hotline_gateway::{ConfigFile, Gateway, GatewayConfig};

/// The business's on-premises Hotline endpoint: a REST API and signed
/// webhooks for the business's systems, one business identity at the relay.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The relay, `http://host:port`.
    #[arg(long, env = "HOTLINE_RELAY", default_value = "http://127.0.0.1:7400")]
    relay: String,
    /// Where the API listens.
    #[arg(long, env = "HOTLINE_GATEWAY_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory of the gateway's databases (`client.db`, `gateway.db`).
    #[arg(long, env = "HOTLINE_GATEWAY_DATA", default_value = "gateway-data")]
    data_dir: PathBuf,
    /// File holding the 32-byte storage key in hex (created, mode 0600, if
    /// missing).
    #[arg(long, env = "HOTLINE_GATEWAY_STORAGE_KEY")]
    storage_key_file: PathBuf,
    /// File holding the business identity's secrets: the `--secret-out` of
    /// `hotline-issuer new-business`, or plain hex (the 32-byte Ed25519
    /// seed then the 32-byte X25519 secret); created if missing. Only used
    /// when the database holds no identity yet.
    #[arg(long, env = "HOTLINE_GATEWAY_IDENTITY")]
    identity_file: PathBuf,
    /// The business's certificate chain (binary, SPEC.md "Certificate
    /// chain"); omit it for a relay that accepts the business by allow
    /// list.
    #[arg(long, env = "HOTLINE_GATEWAY_CERTIFICATE_CHAIN")]
    certificate_chain: Option<PathBuf>,
    /// JSON file with `tokens` and `webhooks`.
    #[arg(long, env = "HOTLINE_GATEWAY_CONFIG")]
    config: PathBuf,
}

fn read_or_create_secret(path: &Path, len: usize) -> Result<Vec<u8>, String> {
    match std::fs::read_to_string(path) {
        Ok(s) => {
            // Plain hex, or a `hotline-issuer` secret file (a `hotline
            // <kind> secret v1` line, then the hex).
            let mut lines = s.lines();
            let first = lines.next().unwrap_or_default().trim();
            let hex_line = if first.starts_with("hotline ") && first.ends_with(" secret v1") {
                lines.next().unwrap_or_default().trim()
            } else {
                first
            };
            let bytes = hex::decode(hex_line).map_err(|e| format!("{}: {e}", path.display()))?;
            if bytes.len() != len {
                return Err(format!("{}: expected {len} bytes of hex", path.display()));
            }
            Ok(bytes)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = vec![0u8; len];
            rand::fill(&mut bytes[..]);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            use std::io::Write as _;
            let mut f = options
                .open(path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            f.write_all(hex::encode(&bytes).as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(bytes)
        }
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn setup(args: &Args) -> Result<GatewayConfig, String> {
    let key = read_or_create_secret(&args.storage_key_file, 32)?;
    let key: [u8; 32] = key.try_into().map_err(|_| "storage key length")?;
    let id = read_or_create_secret(&args.identity_file, 64)?;
    let (seed, x) = id.split_at(32);
    let identity = IdentityKeyPair::from_secret_bytes(
        seed.try_into().map_err(|_| "identity length")?,
        x.try_into().map_err(|_| "identity length")?,
    );
    let certificate_chain = match &args.certificate_chain {
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
            Some(
                CertificateChain::from_bytes(&bytes)
                    .map_err(|e| format!("{}: {e}", p.display()))?,
            )
        }
        None => None,
    };
    let text = std::fs::read_to_string(&args.config)
        .map_err(|e| format!("{}: {e}", args.config.display()))?;
    let file: ConfigFile =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", args.config.display()))?;
    let mut config = GatewayConfig::new(&args.relay, StorageKey::from_bytes(key), args.listen);
    config.data_dir = Some(args.data_dir.clone());
    config.identity = Some(identity);
    config.certificate_chain = certificate_chain;
    config.file = file;
    Ok(config)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let config = match setup(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hotline-gateway: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let gateway = match Gateway::start(config).await {
        Ok(g) => g,
        Err(e) => {
            eprintln!("hotline-gateway: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!(
        "hotline-gateway: business account {} , API on http://{}",
        hex::encode(gateway.account().0),
        gateway.local_addr()
    );
    wait_for_signal().await;
    gateway.shutdown().await;
    std::process::ExitCode::SUCCESS
}

/// Ctrl-C, or SIGTERM (what service managers and containers send).
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

//! A certified business on the client SDK that answers every message, for
//! the Python tests of the bindings (`python/tests/test_relay.py`), which
//! drive it over its standard input and output:
//!
//! 1. it makes a platform (a root, an issuer, and the certificate of
//!    "Example Air"), writes the root to `DIR/root.pub` and prints
//!    `root DIR/root.pub`;
//! 2. it reads the relay's URL (a `hotline-relay` started on that root)
//!    from its first input line, registers, and prints `business <HEX>`;
//! 3. it answers every message `TEXT` with `re: TEXT`, printing
//!    `got <CUSTOMER> <TEXT>` and `safety <CUSTOMER> <NUMBER>`;
//! 4. an input line `send <CUSTOMER> <TEXT>` sends a message of its own,
//!    and every answer of the relay prints `delivery <STATE>`
//!    (`Accepted`, or the refusal's name).
//!
//! It stops when its input ends, or after `--limit-secs` (default 120)
//! whatever happens, so a test that dies never leaves it behind.
//!
//! ```sh
//! cargo run -p hotline-ffi --example echo_business -- --dir /tmp/x
//! ```
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::time::Duration;

use hotline::IdentityKeyPair;
use hotline::business::{
    BusinessCertificateRequest, BusinessId, CertificateChain, IssuerAuthority, LevelSet,
    RootAuthority, Validity, VerificationLevel,
};
use hotline::relay::{AccountId, Clock, MessageClass, SystemClock};
use hotline::store::StorageKey;
use hotline_client::{Client, Config, DeliveryState, Event, Role};
use tokio::io::{AsyncBufReadExt, BufReader};

type Error = Box<dyn std::error::Error + Send + Sync>;

const DAY: u64 = 86_400;

fn platform(dir: &std::path::Path) -> Result<(IdentityKeyPair, CertificateChain), Error> {
    let mut rng = rand::rng();
    let now = SystemClock.now();
    let validity = Validity {
        not_before: now - DAY,
        not_after: now + 365 * DAY,
    };
    let root = RootAuthority::generate(1, validity, &mut rng);
    let (seed, key) = IssuerAuthority::generate_key(&mut rng);
    let levels = LevelSet::new(&[VerificationLevel::Verified]).ok_or("no levels")?;
    let issuer = IssuerAuthority::new(&seed, root.certify_issuer(7, &key, levels, validity)?)?;
    let business = IdentityKeyPair::generate(&mut rng);
    let certificate = issuer.issue(&BusinessCertificateRequest {
        serial: 1,
        business_id: BusinessId([0x42; 16]),
        identity_key: *business.public().signing_key(),
        name: "Example Air".into(),
        localized: vec![],
        level: VerificationLevel::Verified,
        validity,
    })?;
    std::fs::write(dir.join("root.pub"), root.trust_root().to_bytes())?;
    Ok((
        business,
        CertificateChain::new(issuer.certificate().clone(), certificate),
    ))
}

fn account(hex_id: &str) -> Result<AccountId, Error> {
    let bytes: [u8; 32] = hex::decode(hex_id)?
        .try_into()
        .map_err(|_| "an account id is 32 bytes")?;
    Ok(AccountId(bytes))
}

async fn run(dir: PathBuf) -> Result<(), Error> {
    let (identity, chain) = platform(&dir)?;
    println!("root {}", dir.join("root.pub").display());
    let mut input = BufReader::new(tokio::io::stdin()).lines();
    let url = input.next_line().await?.ok_or("no relay URL on input")?;
    let mut config =
        Config::new(url.trim(), StorageKey::generate(&mut rand::rng())).role(Role::Business {
            certificate_chain: Some(Box::new(chain)),
        });
    config.identity = Some(identity);
    let (business, mut events) = Client::open(config).await?;
    loop {
        match events.next().await {
            Some(Event::Connected) => break,
            Some(_) => {}
            None => return Err("the client stopped before connecting".into()),
        }
    }
    println!("business {}", hex::encode(business.account().0));
    loop {
        tokio::select! {
            line = input.next_line() => {
                let Some(line) = line? else { break };
                let mut words = line.splitn(3, ' ');
                match (words.next(), words.next(), words.next()) {
                    (Some("send"), Some(to), Some(text)) => {
                        business.send(account(to)?, MessageClass::Chat, text.as_bytes().to_vec()).await?;
                    }
                    _ => return Err(format!("unknown command {line:?}").into()),
                }
            }
            event = events.next() => match event {
                Some(Event::Message(m)) => {
                    let text = String::from_utf8_lossy(&m.body).into_owned();
                    let from = hex::encode(m.from.0);
                    println!("got {from} {text}");
                    if let Some(number) = business.safety_number(m.from).await? {
                        println!("safety {from} {number}");
                    }
                    business.send(m.from, MessageClass::Chat, format!("re: {text}").into_bytes()).await?;
                    business.confirm(m.seq).await?;
                }
                Some(Event::Delivery { state, .. }) => match state {
                    DeliveryState::Refused(r) => println!("delivery {r:?}"),
                    other => println!("delivery {other:?}"),
                },
                Some(_) => {}
                None => return Err("the client stopped".into()),
            }
        }
    }
    business.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut dir = None;
    let mut limit = 120;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--dir" => dir = it.next().map(PathBuf::from),
            "--limit-secs" => limit = it.next().ok_or("--limit-secs N")?.parse()?,
            _ => return Err(format!("unknown argument {a:?}").into()),
        }
    }
    let dir = dir.ok_or("usage: echo_business --dir DIR [--limit-secs N]")?;
    tokio::time::timeout(Duration::from_secs(limit), run(dir))
        .await
        .map_err(|_| "time limit reached")?
}

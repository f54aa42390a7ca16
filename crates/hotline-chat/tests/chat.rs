//! `hotline-chat` end to end: the binary, driven by a script on standard
//! input, against a relay server on loopback and a certified business
//! running on the SDK.

use std::process::Stdio;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hotline::IdentityKeyPair;
use hotline::business::{
    BusinessCertificateRequest, BusinessId, CertificateChain, IssuerAuthority, LevelSet,
    RootAuthority, TrustStore, Validity, VerificationLevel,
};
use hotline::relay::{Clock, MemoryStore, MessageClass, Relay, RelayStore, SystemClock};
use hotline::store::StorageKey;
use hotline_client::{Client, Config, DeliveryState, Event, Role};
use hotline_relay::{ServerLimits, serve};
use tokio::io::AsyncWriteExt;

const DAY: u64 = 86_400;

struct Platform {
    root: RootAuthority,
    business: IdentityKeyPair,
    chain: CertificateChain,
}

fn platform() -> Platform {
    let mut rng = rand::rng();
    let now = SystemClock.now();
    let validity = Validity {
        not_before: now - DAY,
        not_after: now + 365 * DAY,
    };
    let root = RootAuthority::generate(1, validity, &mut rng);
    let (seed, key) = IssuerAuthority::generate_key(&mut rng);
    let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
    let cert = root.certify_issuer(7, &key, levels, validity).unwrap();
    let issuer = IssuerAuthority::new(&seed, cert).unwrap();
    let business = IdentityKeyPair::generate(&mut rng);
    let certificate = issuer
        .issue(&BusinessCertificateRequest {
            serial: 1,
            business_id: BusinessId([0x42; 16]),
            identity_key: *business.public().signing_key(),
            name: "Example Air".into(),
            localized: vec![],
            level: VerificationLevel::Verified,
            validity,
        })
        .unwrap();
    let chain = CertificateChain::new(issuer.certificate().clone(), certificate);
    Platform {
        root,
        business,
        chain,
    }
}

/// Runs the binary with `script` on its standard input; returns its output.
async fn chat(args: &[String], script: &str) -> String {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hotline-chat"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start hotline-chat");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(script.as_bytes()).await.unwrap();
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("hotline-chat stops by itself")
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "hotline-chat failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_opts_in_chats_checks_the_badge_and_safety_number_blocks_and_erases() {
    let p = platform();
    let mut trust = TrustStore::new();
    trust.add_root(p.root.trust_root()).unwrap();
    let store: Box<dyn RelayStore> = Box::new(MemoryStore::new());
    let relay = Relay::new(store, SystemClock, Arc::new(RwLock::new(trust)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, relay, ServerLimits::default(), async {
        let _ = stopped.await;
    }));

    // The business answers every message with "re: <text>".
    let mut config =
        Config::new(&url, StorageKey::generate(&mut rand::rng())).role(Role::Business {
            certificate_chain: Some(Box::new(p.chain.clone())),
        });
    config.identity = Some(p.business.clone());
    let (business, mut events) = Client::open(config).await.unwrap();
    loop {
        if let Some(Event::Connected) = events.next().await {
            break;
        }
    }
    let bot = business.clone();
    let (refused_tx, refused_rx) = tokio::sync::oneshot::channel();
    let bot_task = tokio::spawn(async move {
        let mut refused_tx = Some(refused_tx);
        while let Some(e) = events.next().await {
            match e {
                Event::Message(m) => {
                    let reply = format!("re: {}", String::from_utf8_lossy(&m.body));
                    bot.send(m.from, MessageClass::Chat, reply.into_bytes())
                        .await
                        .unwrap();
                    bot.confirm(m.seq).await.unwrap();
                }
                Event::Delivery {
                    state: DeliveryState::Refused(r),
                    ..
                } => {
                    if let Some(tx) = refused_tx.take() {
                        let _ = tx.send(r);
                    }
                }
                _ => {}
            }
        }
    });

    let dir = std::env::temp_dir().join(format!("hotline-chat-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let root_file = dir.join("root.pub");
    std::fs::write(&root_file, p.root.trust_root().to_bytes()).unwrap();
    let args: Vec<String> = [
        "--relay",
        &url,
        "--db",
        dir.join("chat.db").to_str().unwrap(),
        "--trust-root",
        root_file.to_str().unwrap(),
        "--business",
        &hex::encode(business.account().0),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();

    let out = chat(
        &args,
        "/badge\n/optin\nWhere is my bag?\n/wait\n/safety\n/status\n/quit\n",
    )
    .await;
    println!("{out}");
    assert!(out.contains("badge: no session"), "{out}");
    assert!(out.contains("consent recorded at the relay"), "{out}");
    assert!(
        out.contains("badge: verified business: Example Air (verified)"),
        "{out}"
    );
    assert!(
        out.contains("<Example Air, verified> re: Where is my bag?"),
        "{out}"
    );
    let customer_hex = out
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("you are "))
        .and_then(|l| l.split(';').next())
        .expect("the first line names the account")
        .to_owned();
    let customer =
        hotline::relay::AccountId(hex::decode(&customer_hex).unwrap().try_into().unwrap());
    // The safety number the customer sees is the business's.
    let number = business.safety_number(customer).await.unwrap().unwrap();
    assert!(out.contains(&format!("safety number: {number}")), "{out}");
    assert!(out.contains("outbox: 0"), "{out}");

    // Started again on the same database: the history is there, the badge
    // too; then the customer blocks the business.
    let out = chat(&args, "/history\n/badge\n/block\n").await;
    println!("{out}");
    assert!(out.contains("re: Where is my bag?"), "{out}");
    assert!(
        out.contains("badge: verified business: Example Air"),
        "{out}"
    );
    assert!(out.contains("blocked Example Air"), "{out}");
    business
        .send(customer, MessageClass::Chat, b"Still there?".to_vec())
        .await
        .unwrap();
    let refusal = tokio::time::timeout(Duration::from_secs(15), refused_rx)
        .await
        .expect("the relay answers")
        .unwrap();
    assert_eq!(refusal, hotline::relay::Refusal::Blocked);

    // Erased: the relay forgets the account, the local files go, and the
    // business keeps the consent evidence.
    let out = chat(&args, "/erase\n").await;
    println!("{out}");
    assert!(out.contains("account erased"), "{out}");
    for file in ["chat.db", "chat.db.key", "chat.db-wal"] {
        assert!(!dir.join(file).exists(), "{file} is left");
    }
    match business
        .request(hotline::relay::Request::ExportConsent { customer })
        .await
        .unwrap()
    {
        hotline::relay::Response::ConsentEvidence(records) => assert_eq!(records.len(), 1),
        other => panic!("unexpected {other:?}"),
    }

    business.shutdown().await;
    let _ = bot_task.await;
    let _ = stop.send(());
    let _ = server.await;
    let _ = std::fs::remove_dir_all(&dir);
}

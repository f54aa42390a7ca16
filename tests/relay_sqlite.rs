//! The relay's whole test suite on the SQLite store, plus the
//! kill-and-reopen durability test. Run with `cargo test --features sqlite`.
#![cfg(feature = "sqlite")]

/// A fresh database file per relay, removed at process exit by the OS temp
/// cleaner (each file is small).
fn new_store() -> Box<dyn hotline::relay::RelayStore> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("hotline-relay-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.db", N.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_file(&path);
    Box::new(hotline::relay::SqliteStore::open(path).unwrap())
}

include!("relay_suite/suite.rs");

mod kill {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use hotline::IdentityKeyPair;
    use hotline::relay::RequestSigner;
    use hotline::relay::{
        AccountId, AllowList, BlockRecord, Clock, ConsentRecord, ConsentScope, Envelope,
        EnvelopeHeader, MailboxLimits, ManualClock, MessageClass, MessageId, Relay, RelayStore,
        Request, SqliteStore,
    };

    const CHILD_ENV: &str = "HOTLINE_KILL_CHILD_DB";
    const T0: u64 = 1_800_000_000;

    fn limits() -> MailboxLimits {
        MailboxLimits {
            max_envelopes: usize::MAX,
            max_bytes: usize::MAX,
            ..MailboxLimits::default()
        }
    }

    fn customer() -> IdentityKeyPair {
        IdentityKeyPair::from_secret_bytes(&[0x11; 32], &[0x12; 32])
    }
    fn business() -> IdentityKeyPair {
        IdentityKeyPair::from_secret_bytes(&[0x21; 32], &[0x22; 32])
    }

    /// The child: stores envelopes, consents and blocks as fast as it can and
    /// prints a line for each one the relay acknowledged, until killed.
    fn child(path: &str) {
        let clock = ManualClock::new(T0);
        let mut trust = AllowList::new();
        trust.allow(&business().public(), "Example Air");
        let relay = Relay::new(SqliteStore::open(path).unwrap(), clock.clone(), trust)
            .with_limits(limits());
        let mut c = RequestSigner::new(customer(), 0);
        let mut b = RequestSigner::new(business(), 0);
        let identity = c.identity().public();
        relay
            .handle_request(&c.sign(Request::RegisterCustomer { identity }, T0))
            .unwrap();
        let identity = b.identity().public();
        relay
            .handle_request(&b.sign(
                Request::RegisterBusiness {
                    identity,
                    certificate_chain: vec![],
                },
                T0,
            ))
            .unwrap();
        println!("READY");
        for i in 0u64.. {
            clock.advance(1);
            let now = clock.now();
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&i.to_be_bytes());
            let header = EnvelopeHeader {
                sender: c.id(),
                recipient: b.id(),
                message_id: MessageId(id),
                class: MessageClass::Chat,
                sent_at: now,
                franking: Default::default(),
            };
            let env = Envelope {
                header,
                ciphertext: vec![(i % 251) as u8; 200],
            };
            relay
                .handle_request(&c.sign(Request::Send(env), now))
                .unwrap();
            println!("ACK send {i}");
            match i % 3 {
                0 => {
                    let rec = ConsentRecord::sign(c.identity(), b.id(), ConsentScope::ALL, now);
                    relay
                        .handle_request(&c.sign(Request::Consent(rec), now))
                        .unwrap();
                    println!("ACK consent {now}");
                }
                1 => {
                    let rec = BlockRecord::sign(c.identity(), b.id(), i % 2 == 0, now);
                    relay
                        .handle_request(&c.sign(Request::Block(rec), now))
                        .unwrap();
                    println!("ACK block {now} {}", i % 2 == 0);
                }
                _ => {}
            }
        }
    }

    #[test]
    fn killed_mid_load_loses_nothing_acknowledged() {
        if let Ok(path) = std::env::var(CHILD_ENV) {
            child(&path);
            return;
        }
        let dir = std::env::temp_dir().join(format!("hotline-kill-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("relay.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "kill::killed_mid_load_loses_nothing_acknowledged",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut acked = Vec::new();
        let start = Instant::now();
        // Kill once a thousand operations are acknowledged, mid-stream.
        while acked.len() < 1000 && start.elapsed() < Duration::from_secs(60) {
            match lines.next() {
                Some(Ok(line)) => acked.push(line),
                _ => break,
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        // Lines already in the pipe were printed after their commit.
        for line in lines.map_while(Result::ok) {
            acked.push(line);
        }
        let acked: Vec<&str> = acked
            .iter()
            .filter_map(|l| l.strip_prefix("ACK "))
            .collect();
        assert!(
            acked.len() >= 100,
            "the child made progress: {}",
            acked.len()
        );

        let store = SqliteStore::open(&path).unwrap();
        let c = AccountId::of(&customer().public());
        let b = AccountId::of(&business().public());
        let (deliveries, _) = store.fetch(&b, usize::MAX - 1, &limits(), T0).unwrap();
        let stored: std::collections::HashSet<u64> = deliveries
            .iter()
            .map(|d| u64::from_be_bytes(d.envelope.header.message_id.0[..8].try_into().unwrap()))
            .collect();
        let consents: Vec<u64> = store
            .consent_history(&c, &b)
            .unwrap()
            .iter()
            .map(|r| r.time())
            .collect();
        let block = store.pair(&c, &b).unwrap().block;
        let (mut sends, mut last_consent, mut last_block) = (0, 0, None);
        for line in &acked {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts[0] {
                "send" => {
                    let i: u64 = parts[1].parse().unwrap();
                    assert!(stored.contains(&i), "acknowledged envelope {i} lost");
                    sends += 1;
                }
                "consent" => last_consent = parts[1].parse().unwrap(),
                "block" => {
                    last_block = Some((parts[1].parse::<u64>().unwrap(), parts[2] == "true"))
                }
                other => panic!("unexpected line {other}"),
            }
        }
        assert!(
            consents.last().copied().unwrap_or(0) >= last_consent,
            "acknowledged consent lost"
        );
        if let Some((time, blocked)) = last_block {
            let stored = block.expect("acknowledged block lost");
            assert!(stored.time() >= time);
            if stored.time() == time {
                assert_eq!(stored.blocked(), blocked);
            }
        }
        eprintln!(
            "killed after {} acknowledged operations ({sends} envelopes); {} envelopes on disk",
            acked.len(),
            stored.len()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

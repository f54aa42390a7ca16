//! The `hotline-relay` program: it starts on a SQLite file, answers over
//! loopback, keeps every acknowledged send through a `kill -9`, and stops
//! cleanly on SIGTERM. Bounded in count and time.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use hotline::relay::{MessageClass, RelayPublicKey, Request, Response};
use hotline::store::PeerId;

const SENDS: usize = 40;

struct Running {
    child: Child,
    base: String,
    /// The key the relay signs receipts with, as it printed it.
    key: RelayPublicKey,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_binary(dir: &Path, root: &Path) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotline-relay"))
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(format!("sqlite:{}", dir.join("relay.db").display()))
        .arg("--trust-root")
        .arg(root)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start hotline-relay");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read the first line");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read the second line");
    let key: [u8; 32] = line
        .trim()
        .strip_prefix("relay key ")
        .and_then(|k| hex::decode(k).ok())
        .and_then(|k| k.try_into().ok())
        .unwrap_or_else(|| panic!("unexpected second line {line:?}"));
    Running {
        child,
        base: format!("http://{addr}"),
        key: RelayPublicKey::from_bytes(&key).expect("a valid relay key"),
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hotline-relay-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_send_survives_kill_9_and_sigterm_stops_cleanly() {
    let dir = temp_dir("kill");
    let (root, mut business, chain) = certified_business(&dir);
    let relay = start_binary(&dir, &root);
    let identity = business.identity();
    assert_eq!(
        call_at(
            &relay.base,
            &mut business,
            Request::RegisterBusiness {
                identity,
                certificate_chain: chain.to_bytes()
            }
        )
        .await,
        Ok(Response::Registered)
    );
    let upload = full_upload(&mut business);
    assert!(
        call_at(&relay.base, &mut business, Request::UploadPreKeys(upload))
            .await
            .is_ok()
    );
    let mut r = rng(0x54);
    let mut customer = app(&mut r);
    let identity = customer.identity();
    assert_eq!(
        call_at(
            &relay.base,
            &mut customer,
            Request::RegisterCustomer { identity }
        )
        .await,
        Ok(Response::Registered)
    );
    let owner = business.account_id();
    let Ok(Response::Bundle { bundle, .. }) =
        call_at(&relay.base, &mut customer, Request::FetchBundle { owner }).await
    else {
        panic!("no bundle");
    };
    let to = PeerId::account(&owner);
    customer.start_session(&to, &bundle, &mut r).unwrap();
    for i in 0..SENDS {
        let envelope = customer
            .seal(
                &to,
                MessageClass::Chat,
                now(),
                format!("m{i}").as_bytes(),
                &mut r,
            )
            .unwrap();
        let Ok(Response::Accepted {
            duplicate: false,
            receipt,
        }) = call_at(&relay.base, &mut customer, Request::Send(envelope)).await
        else {
            panic!("send {i} not accepted");
        };
        assert_eq!(receipt.verify(&relay.key), Ok(()), "send {i}: receipt");
    }
    // kill -9: no chance to flush anything the answers did not already
    // make durable.
    let key = relay.key;
    drop(relay);
    let relay = start_binary(&dir, &root);
    assert_eq!(
        relay.key, key,
        "the receipt key changed across a restart (SPEC.md 14.16)"
    );
    let Ok(Response::Mailbox {
        deliveries, more, ..
    }) = call_at(
        &relay.base,
        &mut business,
        Request::FetchMailbox { max: 100 },
    )
    .await
    else {
        panic!("no mailbox");
    };
    assert!(!more);
    let texts: Vec<String> = deliveries
        .iter()
        .map(|d| String::from_utf8(business.open_envelope(&d.envelope).unwrap().plaintext).unwrap())
        .collect();
    assert_eq!(
        texts,
        (0..SENDS).map(|i| format!("m{i}")).collect::<Vec<_>>()
    );

    // SIGTERM: the program finishes and exits with success.
    let mut relay = relay;
    let pid = relay.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = relay.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the relay did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_arguments_and_databases_are_refused_with_a_reason() {
    let out = Command::new(env!("CARGO_BIN_EXE_hotline-relay"))
        .args(["--db", "mysql://localhost/test", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database"));
    // A PostgreSQL database that does not answer: a reason, not a hang.
    let out = Command::new(env!("CARGO_BIN_EXE_hotline-relay"))
        .args([
            "--db",
            "postgres://nobody@127.0.0.1:1/none",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open the database"));
    let dir = temp_dir("badroot");
    let bad = dir.join("root.pub");
    std::fs::write(&bad, b"not a root").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hotline-relay"))
        .args(["--db", "memory", "--listen", "127.0.0.1:0", "--trust-root"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a trust root"));
    // Notification tiers that decrease, or a start tier past the last.
    for bad in [
        &["--notification-limits", "2000,250"][..],
        &["--notification-limits", "250,2000", "--start-tier", "2"],
        &["--reporters-per-tier", "0"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_hotline-relay"))
            .args(["--db", "memory", "--listen", "127.0.0.1:0"])
            .args(bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("bad notification tiers"),
            "{bad:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

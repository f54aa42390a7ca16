//! Two processes on one SQLite file, both encrypting to the same peer at
//! full speed (two agent workers of one business): the compare-and-swap
//! store makes the loser of every race reload and redo its work, so no
//! message key and no nonce is ever used twice, and the peer decrypts every
//! message exactly once.
//!
//! Runs with `cargo test --features sqlite --test two_processes`; the run
//! lasts `HOTLINE_TWO_PROCESS_SECS` seconds (10 by default).
#![cfg(feature = "sqlite")]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hotline::store::{Client, MemoryStore, PeerId, SendError, SqliteStore, StorageKey, StoreError};

const KEY: [u8; 32] = [0x2A; 32];

fn peer() -> PeerId {
    PeerId::new("customer").unwrap()
}

/// The header nonce of a wire message: derived from the message key, so two
/// ciphertexts made with the same message key have the same header nonce.
fn header_nonce(wire: &[u8]) -> [u8; 12] {
    let start = if wire[1] == 0x01 {
        let otk = if wire[136] == 1 { 4 } else { 0 };
        2 + 130 + 4 + 1 + otk + 4 + 33 + 1088
    } else {
        0
    };
    wire[start + 2..start + 14].try_into().unwrap()
}

/// A worker: encrypts numbered messages for `secs` seconds, appending each
/// ciphertext (hex, one per line) to its output file only after `encrypt`
/// returned, that is after the session was committed.
#[test]
#[ignore = "run by two_processes_never_reuse_a_key in child processes"]
fn writer_child() {
    let (Ok(db), Ok(name), Ok(secs)) = (
        std::env::var("HOTLINE_TP_DB"),
        std::env::var("HOTLINE_TP_NAME"),
        std::env::var("HOTLINE_TP_SECS"),
    ) else {
        return;
    };
    let secs: u64 = secs.parse().unwrap();
    let store = SqliteStore::open(&db, StorageKey::from_bytes(KEY)).unwrap();
    let mut client = Client::open(store).unwrap();
    let mut out = String::new();
    let start = Instant::now();
    let mut i = 0u64;
    let mut conflicts = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        let text = format!("{name}-{i}");
        // A writer that lost every one of its attempts to the other (a
        // conflict is progress for the other writer) tries again, as the
        // error asks; nothing was written or returned for the lost ones.
        let wire = loop {
            match client.encrypt(&peer(), text.as_bytes(), b"") {
                Ok(wire) => break wire,
                Err(SendError::Store(StoreError::Conflict { .. })) => conflicts += 1,
                Err(e) => panic!("{name}: {e}"),
            }
        };
        // When the commit returned: the order of these times is the order
        // of the chain (up to the few messages in between two clock reads).
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        out.push_str(&format!("{at} {text} {}\n", hex::encode(&wire)));
        i += 1;
    }
    eprintln!("worker {name}: {i} messages, {conflicts} operations that lost every attempt");
    std::fs::write(PathBuf::from(&db).with_extension(&name), out).unwrap();
}

fn spawn(db: &Path, name: &str, secs: u64) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "writer_child", "--ignored", "--test-threads=1"])
        .env("HOTLINE_TP_DB", db)
        .env("HOTLINE_TP_NAME", name)
        .env("HOTLINE_TP_SECS", secs.to_string())
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn two_processes_never_reuse_a_key() {
    let secs: u64 = std::env::var("HOTLINE_TWO_PROCESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let dir = std::env::temp_dir().join(format!("hotline-two-processes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("business.db");
    let _ = std::fs::remove_file(&db);
    let mut rng = rand::rng();

    // The business and its session with the customer, before the workers.
    let mut customer = Client::create(
        MemoryStore::in_memory(StorageKey::generate(&mut rng)),
        5,
        5,
        &mut rng,
    )
    .unwrap();
    let store = SqliteStore::open(&db, StorageKey::from_bytes(KEY)).unwrap();
    let mut business = Client::create(store, 0, 0, &mut rng).unwrap();
    let to_business = PeerId::new("business").unwrap();
    business
        .start_session(&peer(), &customer.bundle().unwrap(), &mut rng)
        .unwrap();
    let hello = business.encrypt(&peer(), b"hello", b"").unwrap();
    assert_eq!(
        customer.decrypt(&to_business, &hello, b"").unwrap(),
        b"hello"
    );
    drop(business);

    let mut a = spawn(&db, "a", secs);
    let mut b = spawn(&db, "b", secs);
    assert!(a.wait().unwrap().success(), "worker a failed");
    assert!(b.wait().unwrap().success(), "worker b failed");

    let mut messages = Vec::new();
    for name in ["a", "b"] {
        let text = std::fs::read_to_string(db.with_extension(name)).unwrap();
        for line in text.lines() {
            let mut parts = line.split(' ');
            let (Some(at), Some(label), Some(wire)) = (parts.next(), parts.next(), parts.next())
            else {
                panic!("bad line {line}");
            };
            let at: u128 = at.parse().unwrap();
            messages.push((at, label.to_owned(), hex::decode(wire).unwrap()));
        }
    }
    messages.sort();
    let messages: Vec<(String, Vec<u8>)> = messages.into_iter().map(|(_, l, w)| (l, w)).collect();
    let per_worker = |n: &str| messages.iter().filter(|(l, _)| l.starts_with(n)).count();
    assert!(
        per_worker("a-") > 10 && per_worker("b-") > 10,
        "both workers must have sent: a {} b {}",
        per_worker("a-"),
        per_worker("b-")
    );

    // What the relay saw: no two ciphertexts under one message key.
    let mut nonces = HashSet::new();
    for (label, wire) in &messages {
        assert!(
            nonces.insert(header_nonce(wire)),
            "{label}: a message key was used twice"
        );
    }
    // The customer decrypts every message, exactly once, in any order.
    for (label, wire) in &messages {
        let text = customer.decrypt(&to_business, wire, b"").unwrap();
        assert_eq!(text, label.as_bytes());
        assert!(customer.decrypt(&to_business, wire, b"").is_err());
    }
    eprintln!(
        "two processes for {secs} s: {} messages ({} and {}), no key reused",
        messages.len(),
        per_worker("a-"),
        per_worker("b-")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

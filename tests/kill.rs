//! Crash safety on the SQLite store: a child process runs each operation of
//! a conversation and is killed with SIGKILL at each step (before the commit,
//! after the commit, after the ciphertext or plaintext left the process);
//! the next process restarts from the database. No message key, chain step
//! or one-time prekey may ever be used twice.
//!
//! Runs with `cargo test --features sqlite --test kill`.
#![cfg(feature = "sqlite")]

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use hotline::business::TrustStore;
use hotline::store::{
    Client, ClientState, ClientStateRepository, ClientStore, IdentityStore, PeerId,
    PreKeyRepository, ReceiveError, SessionRecord, SessionRepository, SqliteStore, StorageKey,
    StoreError, StoreUpdate, Versioned,
};
use hotline::{
    DecryptError, HandshakeError, IdentityKey, IdentityKeyPair, PreKeyBundle, PreKeyStore,
};

const CUSTOMER_KEY: [u8; 32] = [0xC1; 32];
const BUSINESS_KEY: [u8; 32] = [0xB1; 32];

fn db(dir: &Path, party: &str) -> PathBuf {
    dir.join(format!("{party}.db"))
}

fn open_store(dir: &Path, party: &str) -> SqliteStore {
    let key = if party == "c" {
        CUSTOMER_KEY
    } else {
        BUSINESS_KEY
    };
    SqliteStore::open(db(dir, party), StorageKey::from_bytes(key)).unwrap()
}

fn peer_of(party: &str) -> PeerId {
    PeerId::new(if party == "c" { "business" } else { "customer" }).unwrap()
}

/// A store that stops (waiting for the parent's go-ahead, or its SIGKILL)
/// right before and right after each commit.
struct Pausing(SqliteStore);

fn pause(point: &str) {
    let mut out = std::io::stdout();
    writeln!(out, "PAUSE {point}").unwrap();
    out.flush().unwrap();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
}

impl IdentityStore for Pausing {
    fn local_identity(&self) -> Result<Option<IdentityKeyPair>, StoreError> {
        self.0.local_identity()
    }
    fn trusted_identity(
        &self,
        peer: &PeerId,
    ) -> Result<Option<Versioned<IdentityKey>>, StoreError> {
        self.0.trusted_identity(peer)
    }
}
impl PreKeyRepository for Pausing {
    fn load_prekeys(&self) -> Result<Option<Versioned<PreKeyStore>>, StoreError> {
        self.0.load_prekeys()
    }
}
impl SessionRepository for Pausing {
    fn load_sessions(&self, peer: &PeerId) -> Result<Option<Versioned<SessionRecord>>, StoreError> {
        self.0.load_sessions(peer)
    }
}
impl ClientStateRepository for Pausing {
    fn load_client_state(&self) -> Result<Option<Versioned<ClientState>>, StoreError> {
        self.0.load_client_state()
    }
    fn load_trust_state(&self) -> Result<Option<Versioned<TrustStore>>, StoreError> {
        self.0.load_trust_state()
    }
}
impl ClientStore for Pausing {
    fn commit(&mut self, update: &StoreUpdate<'_>) -> Result<(), StoreError> {
        pause("before-commit");
        self.0.commit(update)?;
        pause("after-commit");
        Ok(())
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The child: one operation, `send PARTY LABEL` or `recv PARTY LABEL`.
#[test]
#[ignore = "run by no_key_or_prekey_is_reused_when_killed_at_any_step in a child process"]
fn kill_child() {
    let (Ok(dir), Ok(op)) = (
        std::env::var("HOTLINE_KILL_DIR"),
        std::env::var("HOTLINE_KILL_OP"),
    ) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let parts: Vec<&str> = op.split(' ').collect();
    let (verb, party, label) = (parts[0], parts[1], parts[2]);
    let mut client = Client::open(Pausing(open_store(&dir, party))).unwrap();
    let peer = peer_of(party);
    match verb {
        "send" => {
            let wire = client.encrypt(&peer, label.as_bytes(), b"").unwrap();
            write_atomic(&dir.join(format!("out-{label}")), &wire);
        }
        "recv" => {
            let wire = std::fs::read(dir.join(format!("out-{label}"))).unwrap();
            let result = match client.decrypt(&peer, &wire, b"") {
                Ok(pt) => format!("OK {}", String::from_utf8(pt).unwrap()),
                Err(e) => format!("ERR {e:?}"),
            };
            write_atomic(&dir.join(format!("recv-{label}")), result.as_bytes());
        }
        other => panic!("unknown operation {other}"),
    }
    pause("after-output");
}

/// Runs one child for `op`; kills it with SIGKILL when it reaches `kill_at`.
/// Returns whether it was killed (false: it finished).
fn run_child(dir: &Path, op: &str, kill_at: Option<&str>) -> bool {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "kill_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("HOTLINE_KILL_DIR", dir)
        .env("HOTLINE_KILL_OP", op)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    for line in stdout.lines() {
        let line = line.unwrap();
        // The harness may print "test kill_child ... " on the same line.
        let Some((_, point)) = line.split_once("PAUSE ") else {
            continue;
        };
        if Some(point) == kill_at {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return true;
        }
        writeln!(stdin, "go").unwrap();
        stdin.flush().unwrap();
    }
    // Finished without reaching the kill point (an operation that fails
    // commits nothing); the checks on its output tell whether that was right.
    let status = child.wait().unwrap();
    assert!(status.success(), "{op}: child failed");
    false
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

#[test]
fn no_key_or_prekey_is_reused_when_killed_at_any_step() {
    let dir = std::env::temp_dir().join(format!(
        "hotline-kill-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = rand::rng();
    let business = Client::create(open_store(&dir, "b"), 3, 3, &mut rng).unwrap();
    let bundle: PreKeyBundle = business.bundle().unwrap();
    let one_time_before = business
        .store()
        .load_prekeys()
        .unwrap()
        .unwrap()
        .value
        .one_time_count();
    drop(business);
    let mut customer = Client::create(open_store(&dir, "c"), 1, 1, &mut rng).unwrap();
    customer
        .start_session(&peer_of("c"), &bundle, &mut rng)
        .unwrap();
    drop(customer);

    // (operation, kill points tried in order before it runs to the end, and
    // whether the message is lost: killed after its receiver committed).
    let script: &[(&str, &[&str])] = &[
        (
            "send c c0",
            &["before-commit", "after-commit", "after-output"],
        ),
        (
            "send c c1",
            &["before-commit", "after-commit", "after-output"],
        ),
        // The handshake arrives with c1 first: a one-time prekey is consumed.
        ("recv b c1", &["before-commit", "after-commit"]),
        ("recv b c0", &["before-commit"]),
        (
            "send b b0",
            &["before-commit", "after-commit", "after-output"],
        ),
        (
            "send b b1",
            &["before-commit", "after-commit", "after-output"],
        ),
        ("recv c b1", &["before-commit", "after-commit"]),
        (
            "send c c2",
            &["before-commit", "after-commit", "after-output"],
        ),
        ("recv c b0", &["before-commit"]),
        ("recv b c2", &["before-commit"]),
        (
            "send b b2",
            &["before-commit", "after-commit", "after-output"],
        ),
        (
            "send b b3",
            &["before-commit", "after-commit", "after-output"],
        ),
        ("recv c b3", &["before-commit"]),
        ("recv c b2", &["before-commit", "after-commit"]),
        (
            "send c c3",
            &["before-commit", "after-commit", "after-output"],
        ),
        ("recv b c3", &["before-commit"]),
    ];
    let mut kills = 0;
    for (op, points) in script {
        let label = op.split(' ').nth(2).unwrap();
        let out = dir.join(format!(
            "{}-{label}",
            if op.starts_with("send") {
                "out"
            } else {
                "recv"
            }
        ));
        for point in *points {
            if !run_child(&dir, op, Some(point)) {
                break;
            }
            kills += 1;
            if out.exists() {
                break;
            }
        }
        if !out.exists() {
            run_child(&dir, op, None);
        }
        assert!(out.exists(), "{op}");
    }

    // No two ciphertexts that left a process share a message key.
    let mut nonces = HashSet::new();
    for (op, _) in script.iter().filter(|(op, _)| op.starts_with("send")) {
        let label = op.split(' ').nth(2).unwrap();
        let wire = std::fs::read(dir.join(format!("out-{label}"))).unwrap();
        assert!(
            nonces.insert(header_nonce(&wire)),
            "{label}: message key reused"
        );
    }
    assert!(kills >= 35, "{kills} kills");
    eprintln!(
        "{} operations, {kills} processes killed with SIGKILL",
        script.len()
    );
    // Every message decrypted exactly once: the ones whose receiver was
    // killed after committing are consumed (refused as duplicates), every
    // other one decrypted to what was sent.
    for (op, points) in script.iter().filter(|(op, _)| op.starts_with("recv")) {
        let label = op.split(' ').nth(2).unwrap();
        let result = std::fs::read_to_string(dir.join(format!("recv-{label}"))).unwrap();
        if points.contains(&"after-commit") {
            assert_eq!(
                result,
                format!(
                    "ERR {:?}",
                    ReceiveError::Decrypt(DecryptError::DuplicateMessage)
                ),
                "{label}"
            );
        } else {
            assert_eq!(result, format!("OK {label}"), "{label}");
        }
    }
    // Exactly one one-time prekey was consumed, and durably: a second
    // initiator handed the same bundle is refused.
    let mut business = Client::open(open_store(&dir, "b")).unwrap();
    assert_eq!(
        business
            .store()
            .load_prekeys()
            .unwrap()
            .unwrap()
            .value
            .one_time_count(),
        one_time_before - 1
    );
    let mut other = Client::create(
        SqliteStore::open(dir.join("other.db"), StorageKey::from_bytes([0xAA; 32])).unwrap(),
        0,
        0,
        &mut rng,
    )
    .unwrap();
    other
        .start_session(&peer_of("c"), &bundle, &mut rng)
        .unwrap();
    let wire = other.encrypt(&peer_of("c"), b"me too", b"").unwrap();
    let intruder = PeerId::new("intruder").unwrap();
    assert!(matches!(
        business.decrypt(&intruder, &wire, b""),
        Err(ReceiveError::Handshake(
            HandshakeError::UnknownOneTimePreKey(_)
        ))
    ));
    // Both sides still talk.
    let w = business.encrypt(&peer_of("b"), b"still here", b"").unwrap();
    let mut customer = Client::open(open_store(&dir, "c")).unwrap();
    assert_eq!(
        customer.decrypt(&peer_of("c"), &w, b"").unwrap(),
        b"still here"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

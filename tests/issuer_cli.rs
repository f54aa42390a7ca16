//! The whole life of a certificate through the `hotline-issuer` binary, as an
//! operator runs it from a shell, plus bad input (clear message, non-zero
//! exit, never a panic).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let p = std::env::temp_dir().join(format!(
            "hotline-issuer-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_hotline-issuer"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    );
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    (status.code().unwrap_or(-1), out, err)
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(dir, args);
    assert_eq!(code, 0, "{args:?}\n{out}\n{err}");
    out
}

const NOW: &str = "1800000000";

#[test]
fn whole_certificate_lifecycle_through_the_cli() {
    let d = Dir::new("life");
    let p = d.0.as_path();
    ok(
        p,
        &[
            "create-root",
            "--id",
            "1",
            "--secret-out",
            "root.secret",
            "--root-out",
            "root.pub",
            "--not-before",
            "1700000000",
            "--not-after",
            "2100000000",
        ],
    );
    ok(
        p,
        &[
            "create-issuer",
            "--root-secret",
            "root.secret",
            "--root",
            "root.pub",
            "--id",
            "7",
            "--levels",
            "verified",
            "--secret-out",
            "issuer.secret",
            "--cert-out",
            "issuer.cert",
            "--not-before",
            "1700000000",
            "--not-after",
            "2000000000",
        ],
    );
    ok(
        p,
        &[
            "new-business",
            "--secret-out",
            "klm.secret",
            "--identity-out",
            "klm.identity",
        ],
    );
    let issued = ok(
        p,
        &[
            "issue",
            "--issuer-secret",
            "issuer.secret",
            "--issuer-cert",
            "issuer.cert",
            "--serial",
            "1001",
            "--business-id",
            "4b4c4d00000000000000000000000001",
            "--identity",
            "klm.identity",
            "--name",
            "KLM Royal Dutch Airlines",
            "--localized",
            "ja=KLMオランダ航空",
            "--not-before",
            "1750000000",
            "--not-after",
            "1850000000",
            "--name-index",
            "names.idx",
            "--cert-out",
            "klm.cert",
            "--chain-out",
            "klm.chain",
        ],
    );
    assert!(issued.contains("KLMオランダ航空"));
    ok(
        p,
        &[
            "bundle",
            "--business-secret",
            "klm.secret",
            "--chain",
            "klm.chain",
            "--out",
            "klm.bundle",
        ],
    );

    // Verify: the chain, the bundle, and the certificate with its issuer.
    for args in [
        vec!["verify", "klm.chain", "--root", "root.pub", "--now", NOW],
        vec!["verify", "klm.bundle", "--root", "root.pub", "--now", NOW],
        vec![
            "verify",
            "klm.cert",
            "--issuer-cert",
            "issuer.cert",
            "--root",
            "root.pub",
            "--now",
            NOW,
        ],
    ] {
        let out = ok(p, &args);
        assert!(
            out.contains("verdict: VALID: verified business \"KLM Royal Dutch Airlines\"")
                && out.contains("level verified"),
            "{out}"
        );
    }

    // Revoke, verify again: refused, with the reason.
    ok(
        p,
        &[
            "revoke",
            "--issuer-secret",
            "issuer.secret",
            "--issuer-cert",
            "issuer.cert",
            "--sequence",
            "2",
            "--serial",
            "1001",
            "--issued-at",
            "1790000000",
            "--out",
            "crl2.bin",
        ],
    );
    ok(
        p,
        &[
            "revoke",
            "--issuer-secret",
            "issuer.secret",
            "--issuer-cert",
            "issuer.cert",
            "--sequence",
            "1",
            "--issued-at",
            "1780000000",
            "--out",
            "crl1.bin",
        ],
    );
    let (code, out, _) = run(
        p,
        &[
            "verify",
            "klm.bundle",
            "--root",
            "root.pub",
            "--now",
            NOW,
            "--revocations",
            "crl2.bin",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("verdict: INVALID: certificate 1001 has been revoked by issuer 7"),
        "{out}"
    );
    // The older list, offered after the newer one, is ignored (no rollback).
    let (code, out, _) = run(
        p,
        &[
            "verify",
            "klm.chain",
            "--root",
            "root.pub",
            "--now",
            NOW,
            "--revocations",
            "crl2.bin",
            "--revocations",
            "crl1.bin",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ignored") && out.contains("stale"), "{out}");
    assert!(out.contains("has been revoked"), "{out}");

    // Revoking the issuer, and time passing, are explained too.
    ok(
        p,
        &[
            "revoke-issuer",
            "--root-secret",
            "root.secret",
            "--root",
            "root.pub",
            "--sequence",
            "1",
            "--issuer",
            "7",
            "--issued-at",
            "1790000000",
            "--out",
            "issuers.bin",
        ],
    );
    let (code, out, _) = run(
        p,
        &[
            "verify",
            "klm.chain",
            "--root",
            "root.pub",
            "--now",
            NOW,
            "--revocations",
            "issuers.bin",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        out.contains("issuer 7 has been revoked by its root"),
        "{out}"
    );
    let (code, out, _) = run(
        p,
        &[
            "verify",
            "klm.chain",
            "--root",
            "root.pub",
            "--now",
            "1900000000",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        out.contains("the business certificate expired at 2028-08-16T00:53:20Z"),
        "{out}"
    );

    // Inspect anything.
    for f in [
        "root.pub",
        "issuer.cert",
        "klm.cert",
        "klm.chain",
        "klm.bundle",
        "crl2.bin",
        "klm.identity",
    ] {
        ok(p, &["inspect", f]);
    }
}

#[test]
fn issuance_refuses_look_alike_names() {
    let d = Dir::new("names");
    let p = d.0.as_path();
    ok(
        p,
        &[
            "create-root",
            "--id",
            "1",
            "--secret-out",
            "r.secret",
            "--root-out",
            "r.pub",
        ],
    );
    ok(
        p,
        &[
            "create-issuer",
            "--root-secret",
            "r.secret",
            "--root",
            "r.pub",
            "--id",
            "7",
            "--levels",
            "verified,official",
            "--secret-out",
            "i.secret",
            "--cert-out",
            "i.cert",
        ],
    );
    ok(
        p,
        &[
            "new-business",
            "--secret-out",
            "b.secret",
            "--identity-out",
            "b.identity",
        ],
    );
    for (name, reason) in [
        ("P\u{430}yPal", "mixes scripts"),
        ("K\u{200D}LM", "invisible character U+200D"),
        ("KLM\u{202E}", "bidi control U+202E"),
        ("\u{FF2B}\u{FF2C}\u{FF2D}", "full-width"),
    ] {
        let (code, out, _) = run(
            p,
            &[
                "issue",
                "--issuer-secret",
                "i.secret",
                "--issuer-cert",
                "i.cert",
                "--serial",
                "1",
                "--business-id",
                "00000000000000000000000000000001",
                "--identity",
                "b.identity",
                "--name",
                name,
                "--name-index",
                "names.idx",
                "--cert-out",
                "x.cert",
            ],
        );
        assert_eq!(code, 1, "{name:?}: {out}");
        assert!(out.contains(reason), "{name:?}: {out}");
        assert!(!p.join("x.cert").exists());
        assert!(!p.join("names.idx").exists());
    }
    let (code, out, _) = run(p, &["check-name", "G\u{43E}\u{43E}gle"]);
    assert_eq!(code, 1);
    assert!(out.contains("mixes scripts"));
    assert!(ok(p, &["check-name", "Mu\u{308}ller"]).contains("Müller"));
}

#[test]
fn bad_input_gets_a_clear_message_and_a_non_zero_exit() {
    let d = Dir::new("bad");
    let p = d.0.as_path();
    std::fs::write(d.path("garbage.bin"), [1u8, 0x23, 9, 9, 9]).unwrap();
    std::fs::write(d.path("empty.bin"), []).unwrap();
    ok(
        p,
        &[
            "create-root",
            "--id",
            "1",
            "--secret-out",
            "r.secret",
            "--root-out",
            "r.pub",
        ],
    );
    for (args, code, needle) in [
        (vec![], 2, "Usage: hotline-issuer <COMMAND>"),
        (
            vec!["frobnicate"],
            2,
            "unrecognized subcommand 'frobnicate'",
        ),
        (
            vec!["create-root", "--id"],
            2,
            "a value is required for '--id <ID>'",
        ),
        (
            vec![
                "create-root",
                "--id",
                "x",
                "--secret-out",
                "a",
                "--root-out",
                "b",
            ],
            2,
            "invalid value 'x' for '--id <ID>'",
        ),
        (
            vec![
                "create-root",
                "--id",
                "1",
                "--secret-out",
                "r.secret",
                "--root-out",
                "r2.pub",
            ],
            2,
            "refusing to overwrite",
        ),
        (
            vec!["create-root", "--id", "1", "--bogus", "1"],
            2,
            "unexpected argument '--bogus'",
        ),
        (
            vec!["verify", "garbage.bin", "--root", "r.pub"],
            1,
            "not a well-formed certificate chain",
        ),
        (vec!["verify", "garbage.bin"], 2, "--root"),
        (
            vec!["verify", "missing.bin", "--root", "r.pub"],
            2,
            "missing.bin",
        ),
        (
            vec!["verify", "empty.bin", "--root", "r.pub"],
            2,
            "verify takes a chain",
        ),
        (
            vec!["verify", "r.pub", "--root", "garbage.bin"],
            2,
            "not a valid trust root",
        ),
        (vec!["inspect", "garbage.bin"], 1, "malformed"),
        (vec!["inspect", "r.secret"], 1, "malformed"),
        (
            vec![
                "create-issuer",
                "--root-secret",
                "r.pub",
                "--root",
                "r.pub",
                "--id",
                "1",
                "--levels",
                "verified",
                "--secret-out",
                "s",
                "--cert-out",
                "c",
            ],
            2,
            "not a root secret file",
        ),
        (
            vec![
                "create-issuer",
                "--root-secret",
                "r.secret",
                "--root",
                "r.pub",
                "--id",
                "1",
                "--levels",
                "gold",
                "--secret-out",
                "s",
                "--cert-out",
                "c",
            ],
            2,
            "invalid value 'gold' for '--levels <LEVELS>'",
        ),
        (
            vec![
                "issue",
                "--issuer-secret",
                "r.secret",
                "--issuer-cert",
                "r.pub",
                "--serial",
                "1",
                "--business-id",
                "00000000000000000000000000000001",
                "--identity",
                "r.pub",
                "--name",
                "KLM",
                "--name-index",
                "n.idx",
                "--cert-out",
                "c",
            ],
            2,
            "not an issuer certificate",
        ),
        (vec!["check-name"], 2, "<NAME>"),
    ] {
        let (got, out, err) = run(p, &args);
        assert_eq!(got, code, "{args:?}\n{out}\n{err}");
        assert!(
            out.contains(needle) || err.contains(needle),
            "{args:?}: expected {needle:?}\n{out}\n{err}"
        );
    }
}

/// Regression: `inspect` once sniffed the object type from the second byte,
/// which in an identity key is key material, so identities whose Ed25519 key
/// starts with an object-type byte were misread.
#[test]
fn inspect_reads_identity_keys_whatever_their_key_bytes() {
    let d = Dir::new("sniff");
    for wanted in [0x10u8, 0x20, 0x21, 0x22, 0x23, 0x24] {
        let id = (0u8..=255)
            .flat_map(|a| (0u8..=255).map(move |b| [a, b]))
            .map(|[a, b]| {
                let mut seed = [0u8; 32];
                seed[0] = a;
                seed[1] = b;
                hotline::IdentityKeyPair::from_secret_bytes(&seed, &[9u8; 32]).public()
            })
            .find(|id| id.to_bytes()[1] == wanted)
            .expect("some seed gives that first key byte");
        let path = d.path("id.identity");
        std::fs::write(&path, id.to_bytes()).unwrap();
        let out = ok(&d.0, &["inspect", &path]);
        assert!(out.contains("identity key"), "{wanted:#x}: {out}");
        std::fs::remove_file(&path).unwrap();
    }
}

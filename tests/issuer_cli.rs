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
            "--issuer-cert",
            "issuer.cert",
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

/// A root and an issuer (id 7, both levels) valid 2023..2033, written with
/// RFC 3339 times; and one business identity, `b.identity`.
fn platform(p: &Path) {
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
            "2023-11-14T22:13:20Z",
            "--not-after",
            "2036-07-18T13:20:00+05:00",
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
            "verified,official",
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
            "b.secret",
            "--identity-out",
            "b.identity",
        ],
    );
}

const ISSUER: [&str; 4] = [
    "--issuer-secret",
    "issuer.secret",
    "--issuer-cert",
    "issuer.cert",
];

/// `issue` of `name` (plus `extra` options) to business `id`, serial
/// `serial`, into `<serial>.cert` and `<serial>.chain`, with the index
/// `names.idx`.
fn issue(p: &Path, serial: &str, id: &str, name: &str, extra: &[&str]) -> (i32, String, String) {
    let (cert, chain) = (format!("{serial}.cert"), format!("{serial}.chain"));
    let mut args = vec!["issue"];
    args.extend(ISSUER);
    args.extend([
        "--serial",
        serial,
        "--business-id",
        id,
        "--identity",
        "b.identity",
        "--name",
        name,
        "--not-before",
        "1750000000",
        "--not-after",
        "1850000000",
        "--name-index",
        "names.idx",
        "--cert-out",
        &cert,
        "--chain-out",
        &chain,
    ]);
    args.extend(extra);
    run(p, &args)
}

const BOOKING: &str = "000000000000000000000000000000b0";
const OTHER: &str = "0000000000000000000000000000000e";
const KLM: &str = "4b4c4d00000000000000000000000001";

#[test]
fn the_name_index_refuses_look_alikes_of_another_business() {
    let d = Dir::new("index");
    let p = d.0.as_path();
    platform(p);
    let (code, out, err) = issue(p, "1", BOOKING, "Booking.com", &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("recorded the names in names.idx"), "{out}");

    for (serial, name) in [
        ("2", "Booking.corn"),
        ("3", "B00king.com"),
        ("4", "booking.com"),
        ("5", "Booking.com"),
    ] {
        let (code, out, err) = issue(p, serial, OTHER, name, &[]);
        assert_eq!(code, 1, "{name:?}: {out}{err}");
        assert!(
            out.contains(&format!(
                "refused to issue: name index: \"{name}\" can be mistaken for \"Booking.com\", already issued to business {BOOKING}"
            )),
            "{name:?}: {out}"
        );
        assert!(!p.join(format!("{serial}.cert")).exists());
        assert!(!p.join(format!("{serial}.chain")).exists());
    }

    // The same business id may be issued its name again (a renewal).
    let (code, out, err) = issue(p, "6", BOOKING, "Booking.com", &[]);
    assert_eq!(code, 0, "{out}{err}");

    // A localized name counts as much as the display name.
    let (code, out, err) = issue(
        p,
        "7",
        KLM,
        "KLM Royal Dutch Airlines",
        &["--localized", "nl=KLM"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = issue(
        p,
        "8",
        OTHER,
        "Skyline Travel BV",
        &["--localized", "en=KLM"],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!(
            "\"KLM\" can be mistaken for \"KLM\", already issued to business {KLM}"
        )),
        "{out}"
    );
    // Nothing of the refused request was recorded: another name is free.
    let (code, out, err) = issue(p, "9", OTHER, "Skyline Travel BV", &[]);
    assert_eq!(code, 0, "{out}{err}");

    let listed = ok(p, &["names", "--name-index", "names.idx"]);
    assert!(listed.starts_with("4 of 4 names in names.idx"), "{listed}");
    for (id, name) in [
        (BOOKING, "Booking.com"),
        (KLM, "KLM Royal Dutch Airlines"),
        (KLM, "KLM"),
        (OTHER, "Skyline Travel BV"),
    ] {
        assert!(
            listed.contains(&format!("{id}  {name}  (look-alike key")),
            "{listed}"
        );
    }
    let only = ok(
        p,
        &["names", "--name-index", "names.idx", "--business-id", KLM],
    );
    assert!(only.starts_with("2 of 4 names"), "{only}");
    assert!(!only.contains("Booking"), "{only}");
}

#[test]
fn a_damaged_name_index_stops_issuance() {
    let d = Dir::new("badindex");
    let p = d.0.as_path();
    platform(p);
    assert_eq!(issue(p, "1", BOOKING, "Booking.com", &[]).0, 0);
    let good = std::fs::read(d.path("names.idx")).unwrap();
    for (bytes, needle) in [
        (good[..good.len() - 1].to_vec(), "truncated"),
        (b"not an index at all".to_vec(), "not a name index"),
    ] {
        std::fs::write(d.path("names.idx"), &bytes).unwrap();
        let (code, out, err) = issue(p, "2", OTHER, "Something Else", &[]);
        assert_eq!(code, 2, "{out}{err}");
        assert!(err.contains("names.idx") && err.contains(needle), "{err}");
        assert!(!p.join("2.cert").exists());
        let (code, _, err) = run(p, &["names", "--name-index", "names.idx"]);
        assert_eq!(code, 2, "{err}");
        // The damaged index is left as it was, for the operator to look at.
        assert_eq!(std::fs::read(d.path("names.idx")).unwrap(), bytes);
    }
    let (code, _, err) = run(p, &["names", "--name-index", "missing.idx"]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.idx"), "{err}");
}

/// `args` with the argument `from` replaced by `to`.
fn swap<'a>(args: &[&'a str], from: &str, to: &'a str) -> Vec<&'a str> {
    let mut out = args.to_vec();
    let i = out
        .iter()
        .position(|a| *a == from)
        .expect("argument present");
    out[i] = to;
    out
}

/// The `name: value` lines of a description, for comparing two of them.
fn field(description: &str, label: &str) -> String {
    description
        .lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} in {description}"))
        .trim()
        .to_owned()
}

#[test]
fn renew_keeps_the_identity_and_business_id() {
    let d = Dir::new("renew");
    let p = d.0.as_path();
    platform(p);
    let (code, old, err) = issue(
        p,
        "1001",
        KLM,
        "KLM Royal Dutch Airlines",
        &["--localized", "ja=KLMオランダ航空", "--level", "official"],
    );
    assert_eq!(code, 0, "{old}{err}");
    let mut args = vec!["renew"];
    args.extend(ISSUER);
    args.extend([
        "--old",
        "1001.chain",
        "--serial",
        "1002",
        "--not-before",
        "2025-06-01T00:00:00Z",
        "--not-after",
        "2026-06-01T00:00:00Z",
        "--name-index",
        "names.idx",
        "--chain-out",
        "renewed.chain",
        "--cert-out",
        "renewed.cert",
    ]);
    let renewed = ok(p, &args);
    assert!(
        renewed.contains("renewing certificate 1001 of business 4b4c4d"),
        "{renewed}"
    );
    for label in [
        "identity key:",
        "business id:",
        "name:",
        "name [ja]:",
        "level:",
    ] {
        assert_eq!(field(&old, label), field(&renewed, label), "{label}");
    }
    assert_eq!(field(&renewed, "serial:"), "1002");
    assert_eq!(
        field(&renewed, "valid:"),
        "2025-06-01T00:00:00Z .. 2026-06-01T00:00:00Z (1748736000 .. 1780272000)"
    );
    // The new chain validates, and inspect agrees with what renew said.
    let out = ok(
        p,
        &[
            "verify",
            "renewed.chain",
            "--root",
            "root.pub",
            "--now",
            "2026-01-01T00:00:00Z",
        ],
    );
    assert!(out.contains("verdict: VALID: verified business \"KLM Royal Dutch Airlines\" (business id 4b4c4d00000000000000000000000001, level official)"), "{out}");
    let inspected = ok(p, &["inspect", "renewed.cert"]);
    assert_eq!(
        field(&inspected, "identity key:"),
        field(&old, "identity key:")
    );

    // A renewal under a new name for the same business is a rename; the
    // index still refuses another business the old name.
    let mut rename = args.clone();
    for (from, to) in [
        ("1002", "1003"),
        ("renewed.chain", "r2.chain"),
        ("renewed.cert", "r2.cert"),
    ] {
        for a in rename.iter_mut() {
            if *a == from {
                *a = to;
            }
        }
    }
    rename.extend(["--name", "KLM"]);
    let out = ok(p, &rename);
    assert_eq!(field(&out, "name:"), "KLM");
    assert_eq!(field(&out, "name [ja]:"), "KLMオランダ航空");
    let (code, out, _) = issue(p, "5", OTHER, "KLM Royal Dutch Airlines", &[]);
    assert_eq!(code, 1, "{out}");

    // The same serial again is refused; a bundle or a bare certificate
    // serves as the old one too.
    let same = swap(&args, "1002", "1001");
    let same = swap(&same, "renewed.chain", "x.chain");
    let same = swap(&same, "renewed.cert", "x.cert");
    let (code, out, _) = run(p, &same);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("serial 1001 is the serial of the certificate being renewed"),
        "{out}"
    );
    assert!(!p.join("x.chain").exists());
    ok(
        p,
        &[
            "bundle",
            "--business-secret",
            "b.secret",
            "--chain",
            "1001.chain",
            "--out",
            "b.bundle",
        ],
    );
    for old in ["b.bundle", "1001.cert"] {
        let mut from = vec!["renew"];
        from.extend(ISSUER);
        let out_name = format!("from-{old}.chain");
        from.extend([
            "--old",
            old,
            "--serial",
            "2000",
            "--name-index",
            "names.idx",
            "--chain-out",
            &out_name,
            "--not-before",
            "1750000000",
        ]);
        let out = ok(p, &from);
        let identity = ok(p, &["inspect", "b.identity"]);
        assert_eq!(
            field(&out, "identity key:"),
            field(&identity, "Ed25519 key:")
        );
    }
}

#[test]
fn status_signs_a_short_proof_of_good_standing() {
    let d = Dir::new("status");
    let p = d.0.as_path();
    platform(p);
    assert_eq!(issue(p, "1001", KLM, "KLM", &[]).0, 0);
    let mut args = vec!["status"];
    args.extend(ISSUER);
    args.extend([
        "--serial",
        "1001",
        "--from",
        "2027-01-15T08:00:00Z",
        "--out",
        "1001.status",
    ]);
    let out = ok(p, &args);
    // Three days by default.
    assert_eq!(
        field(&out, "good from:"),
        "2027-01-15T08:00:00Z (1800000000)"
    );
    assert_eq!(
        field(&out, "good until:"),
        "2027-01-18T08:00:00Z (1800259200)"
    );
    let inspected = ok(p, &["inspect", "1001.status"]);
    assert!(inspected.contains("certificate status"), "{inspected}");
    assert_eq!(field(&inspected, "serial:"), "1001");

    // A client holding the status shows the badge until it runs out.
    let verify = |now: &str, extra: &[&str]| {
        let mut a = vec!["verify", "1001.chain", "--root", "root.pub", "--now", now];
        a.extend(extra);
        run(p, &a)
    };
    let (code, out, _) = verify(
        "2027-01-16T00:00:00Z",
        &["--status", "1001.status", "--require-status"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("badge: verified until 2027-01-18T08:00:00Z"),
        "{out}"
    );
    let (code, out, _) = verify("2027-01-16T00:00:00Z", &["--require-status"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("badge: NOT SHOWN: a status is required and none applies"),
        "{out}"
    );
    let (code, out, _) = verify("2027-01-16T00:00:00Z", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("badge:"), "{out}");

    // Seven days at most; the status window is checked by the library too.
    let mut week = swap(&args, "1001.status", "week.status");
    week.extend(["--days", "7"]);
    let out = ok(p, &week);
    assert_eq!(
        field(&out, "good until:"),
        "2027-01-22T08:00:00Z (1800604800)"
    );
    for days in ["8", "0", "-1", "three"] {
        let mut long = swap(&args, "1001.status", "long.status");
        let days = format!("--days={days}");
        long.push(&days);
        let (code, _, err) = run(p, &long);
        assert_eq!(code, 2, "{days}: {err}");
        assert!(err.contains("--days"), "{err}");
        assert!(!p.join("long.status").exists());
    }
}

#[test]
fn revocation_sequences_default_to_the_issue_time() {
    let d = Dir::new("seq");
    let p = d.0.as_path();
    platform(p);
    let mut args = vec!["revoke"];
    args.extend(ISSUER);
    args.extend([
        "--serial",
        "5",
        "--issued-at",
        "2027-01-15T08:00:00Z",
        "--out",
        "crl.bin",
    ]);
    let out = ok(p, &args);
    assert_eq!(field(&out, "sequence:"), "1800000000");
    assert_eq!(
        field(&out, "issued at:"),
        "2027-01-15T08:00:00Z (1800000000)"
    );

    // A sequence ahead of the issue time is refused (SPEC 13.9).
    let mut ahead = swap(&args, "crl.bin", "ahead.bin");
    ahead.extend(["--sequence", "1800000001"]);
    let (code, out, _) = run(p, &ahead);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("refused: sequence 1800000001 is above the issue time 1800000000"),
        "{out}"
    );
    assert!(!p.join("ahead.bin").exists());

    // Without --issued-at, both are now.
    let mut now = vec!["revoke"];
    now.extend(ISSUER);
    now.extend(["--out", "now.bin"]);
    let out = ok(p, &now);
    assert_eq!(
        field(&out, "sequence:"),
        field(&out, "issued at:").split(['(', ')']).nth(1).unwrap()
    );

    let out = ok(
        p,
        &[
            "revoke-issuer",
            "--root-secret",
            "root.secret",
            "--root",
            "root.pub",
            "--issuer-cert",
            "issuer.cert",
            "--issued-at",
            "2027-01-15T09:00:00+01:00",
            "--out",
            "issuers.bin",
        ],
    );
    assert_eq!(field(&out, "sequence:"), "1800000000");
    // Issuers are revoked by key (SPEC.md 13.9).
    let issuer = ok(p, &["inspect", "issuer.cert"]);
    assert_eq!(
        field(&out, "revoked issuers:"),
        field(&issuer, "issuer key:")
    );
    assert_eq!(
        field(&out, "next update:").split(' ').next().unwrap(),
        "2027-02-12T08:00:00Z"
    );
}

#[test]
fn times_are_rfc_3339_or_unix_seconds() {
    let d = Dir::new("times");
    let p = d.0.as_path();
    platform(p);
    let root = ok(p, &["inspect", "root.pub"]);
    // 2036-07-18T13:20:00+05:00 is 08:20 UTC.
    assert_eq!(
        field(&root, "valid:"),
        "2023-11-14T22:13:20Z .. 2036-07-18T08:20:00Z (1700000000 .. 2099982000)"
    );
    for bad in [
        "yesterday",
        "2027-01-15",
        "2027-01-15T08:00:00",
        "1969-12-31T23:59:59Z",
        "-5",
        "18446744073709551616",
    ] {
        let now = format!("--now={bad}");
        let (code, _, err) = run(p, &["verify", "root.pub", "--root", "root.pub", &now]);
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(
            err.contains("invalid value") && err.contains("--now"),
            "{bad}: {err}"
        );
    }
    // Unix seconds and RFC 3339 name the same instant, printed in RFC 3339.
    assert_eq!(issue(p, "1", KLM, "KLM", &[]).0, 0);
    let verify = |now: &str| {
        ok(
            p,
            &["verify", "1.chain", "--root", "root.pub", "--now", now],
        )
    };
    let by_seconds = verify("1800000000");
    assert!(
        by_seconds.contains("at 2027-01-15T08:00:00Z"),
        "{by_seconds}"
    );
    assert_eq!(by_seconds, verify("2027-01-15T09:00:00+01:00"));
}

#[test]
fn bad_usage_of_the_new_commands_exits_2() {
    let d = Dir::new("usage2");
    let p = d.0.as_path();
    platform(p);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["status", "--serial", "1", "--out", "s"],
            "--issuer-secret",
        ),
        (
            [&["status"][..], &ISSUER, &["--out", "s"]].concat(),
            "--serial",
        ),
        (vec!["renew", "--serial", "2"], "--old"),
        (vec!["names"], "--name-index"),
        (
            vec!["names", "--name-index", "x", "--business-id", "12"],
            "not 32 hex digits",
        ),
        (
            vec![
                "revoke-issuer",
                "--root-secret",
                "root.secret",
                "--root",
                "root.pub",
                "--issuer-key",
                "x",
                "--out",
                "o",
            ],
            "--issuer-key",
        ),
        (
            vec![
                "revoke",
                "--issuer-secret",
                "issuer.secret",
                "--issuer-cert",
                "issuer.cert",
                "--sequence=-1",
                "--out",
                "o",
            ],
            "--sequence",
        ),
        (
            vec![
                "create-root",
                "--id",
                "1",
                "--secret-out",
                "a",
                "--root-out",
                "b",
                "--not-before",
                "2030-01-01T00:00:00Z",
                "--not-after",
                "2029-01-01T00:00:00Z",
            ],
            "--not-before is after --not-after",
        ),
        (
            vec![
                "issue",
                "--issuer-secret",
                "issuer.secret",
                "--issuer-cert",
                "issuer.cert",
                "--serial",
                "1",
                "--business-id",
                "zz000000000000000000000000000000",
                "--identity",
                "b.identity",
                "--name",
                "KLM",
                "--name-index",
                "n",
                "--cert-out",
                "c",
            ],
            "not 32 hex digits",
        ),
        (
            vec![
                "issue",
                "--issuer-secret",
                "issuer.secret",
                "--issuer-cert",
                "issuer.cert",
                "--serial",
                "1",
                "--business-id",
                KLM,
                "--identity",
                "b.identity",
                "--name",
                "KLM",
                "--cert-out",
                "c",
            ],
            "--name-index",
        ),
        (
            vec![
                "issue",
                "--issuer-secret",
                "issuer.secret",
                "--issuer-cert",
                "issuer.cert",
                "--serial",
                "1",
                "--business-id",
                KLM,
                "--identity",
                "b.identity",
                "--name",
                "KLM",
                "--localized",
                "nl",
                "--name-index",
                "n",
                "--cert-out",
                "c",
            ],
            "is not LANG=NAME",
        ),
        (
            vec![
                "issue",
                "--issuer-secret",
                "issuer.secret",
                "--issuer-cert",
                "issuer.cert",
                "--serial",
                "1",
                "--business-id",
                KLM,
                "--identity",
                "b.identity",
                "--name",
                "KLM",
                "--level",
                "gold",
                "--name-index",
                "n",
                "--cert-out",
                "c",
            ],
            "--level",
        ),
        (
            vec![
                "renew",
                "--issuer-secret",
                "issuer.secret",
                "--issuer-cert",
                "issuer.cert",
                "--old",
                "root.pub",
                "--serial",
                "2",
                "--name-index",
                "n",
                "--chain-out",
                "c",
            ],
            "not a business certificate, chain or bundle",
        ),
        (vec!["inspect"], "<FILE>"),
        (vec!["inspect", "a", "b"], "unexpected argument 'b'"),
    ];
    for (args, needle) in cases {
        let (code, out, err) = run(p, &args);
        assert_eq!(code, 2, "{args:?}\n{out}\n{err}");
        assert!(err.contains(needle), "{args:?}: expected {needle:?}\n{err}");
        for f in ["s", "o", "a", "b", "c", "n"] {
            assert!(!p.join(f).exists(), "{args:?} wrote {f}");
        }
    }
    // Help and version are not errors.
    for args in [
        vec!["help"],
        vec!["--help"],
        vec!["status", "--help"],
        vec!["--version"],
    ] {
        let (code, out, _) = run(p, &args);
        assert_eq!(code, 0, "{args:?}");
        assert!(!out.is_empty());
    }
}

#[cfg(unix)]
#[test]
fn non_unicode_arguments_exit_2() {
    use std::os::unix::ffi::OsStrExt;
    let d = Dir::new("utf8");
    let out = Command::new(env!("CARGO_BIN_EXE_hotline-issuer"))
        .current_dir(&d.0)
        .args([
            "check-name".as_ref(),
            std::ffi::OsStr::from_bytes(b"K\xffLM"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid UTF-8"));
}

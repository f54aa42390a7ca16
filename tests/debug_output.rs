//! `Debug` output of the types that hold secrets or stored data: it names
//! the type and its public fields, so logs stay useful, and never shows a
//! secret byte (in hex or as a list of numbers).

use hotline::business::{IssuerAuthority, LevelSet, RootAuthority, Validity, VerificationLevel};
use hotline::hazmat::ed25519::Ed25519Secret;
use hotline::hazmat::kem::KemSecret;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `shown` is non-empty, starts with `type_name` and contains none of
/// `secret`'s bytes, neither as hex nor as the decimal list a derived
/// `Debug` of an array would print.
fn assert_redacted(shown: &str, type_name: &str, secret: &[u8]) {
    assert!(shown.starts_with(type_name), "{shown:?}");
    assert!(!shown.contains(&hex(&secret[..8])), "{shown}");
    let decimal = secret[..4]
        .iter()
        .map(u8::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    assert!(!shown.contains(&decimal), "{shown}");
}

#[test]
fn ed25519_secret_debug_is_redacted() {
    let seed: [u8; 32] = core::array::from_fn(|i| 0xA0 ^ i as u8);
    let secret = Ed25519Secret::from_seed(&seed);
    assert_redacted(&format!("{secret:?}"), "Ed25519Secret", &seed);
    assert_redacted(&format!("{secret:#?}"), "Ed25519Secret", &seed);
}

#[test]
fn kem_secret_debug_is_redacted() {
    let seed: [u8; 64] = core::array::from_fn(|i| 0x30 + i as u8);
    let secret = KemSecret::from_seed(seed);
    assert_redacted(&format!("{secret:?}"), "KemSecret", &seed);
}

#[test]
fn issuer_authority_debug_shows_its_id_and_not_its_key() {
    let always = Validity {
        not_before: 0,
        not_after: u64::MAX,
    };
    let root = RootAuthority::from_seed(&[0x71; 32], 3, always);
    let seed: [u8; 32] = core::array::from_fn(|i| 0xC0 ^ i as u8);
    let key = Ed25519Secret::from_seed(&seed).public_key();
    let levels = LevelSet::new(&[VerificationLevel::Verified]).unwrap();
    let cert = root.certify_issuer(4242, &key, levels, always).unwrap();
    let issuer = IssuerAuthority::new(&seed, cert).unwrap();
    let shown = format!("{issuer:?}");
    assert_redacted(&shown, "IssuerAuthority", &seed);
    assert!(shown.contains("issuer_id: 4242"), "{shown}");
    let shown = format!("{root:?}");
    assert_redacted(&shown, "RootAuthority", &[0x71; 32]);
    assert!(shown.contains("root_id: 3"), "{shown}");
}

/// The relay's SQLite store prints its type and nothing it stores.
#[cfg(feature = "sqlite")]
#[test]
fn relay_sqlite_store_debug_names_the_store_only() {
    use hotline::IdentityKeyPair;
    use hotline::relay::{AccountId, AccountKind, AccountRecord, RelayStore, SqliteStore};

    let dir = std::env::temp_dir().join(format!("hotline-debug-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("relay.db");
    let _ = std::fs::remove_file(&path);
    let store = SqliteStore::open(&path).unwrap();
    let identity = IdentityKeyPair::from_secret_bytes(&[0x44; 32], &[0x45; 32]).public();
    let account = AccountRecord {
        kind: AccountKind::Business,
        identity,
        certificate_chain: vec![0x99; 40],
        name: "Example Air".into(),
    };
    assert!(store.register(&account, 1).unwrap());
    let shown = format!("{store:?}");
    assert!(shown.starts_with("SqliteStore"), "{shown:?}");
    assert!(!shown.contains("Example Air"), "{shown}");
    assert!(
        !shown.contains(&AccountId::of(&identity).short()),
        "{shown}"
    );
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

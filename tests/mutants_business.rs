//! Business trust edges that mutation testing found untested: a trust
//! store at its root limit, and the strict order of revoked issuer keys.

use hotline::DecodeError;
use hotline::business::{RevocationList, RootAuthority, TrustStore, TrustStoreError, Validity};
use hotline::constants::MAX_TRUST_ROOTS;
use hotline::hazmat::ed25519::Ed25519Secret;

const ALWAYS: Validity = Validity {
    not_before: 1_600_000_000,
    not_after: 2_000_000_000,
};
const T: u64 = 1_800_000_000;

/// A full trust store still accepts an installed root again (a no-op) and
/// refuses any other one, keeping exactly `MAX_TRUST_ROOTS`.
#[test]
fn a_full_trust_store_reinstalls_but_refuses_a_new_root() {
    let root = |i: u32| RootAuthority::from_seed(&[i as u8; 32], 1000 + i, ALWAYS).trust_root();
    let mut trust = TrustStore::new();
    for i in 0..MAX_TRUST_ROOTS as u32 {
        trust.add_root(root(i)).unwrap();
    }
    assert_eq!(trust.roots().count(), MAX_TRUST_ROOTS);
    assert_eq!(trust.add_root(root(0)), Ok(()));
    assert_eq!(trust.add_root(root(MAX_TRUST_ROOTS as u32 - 1)), Ok(()));
    assert_eq!(
        trust.add_root(root(MAX_TRUST_ROOTS as u32)),
        Err(TrustStoreError::Full)
    );
    assert_eq!(trust.roots().count(), MAX_TRUST_ROOTS);
    assert!(
        trust
            .roots()
            .all(|r| r.root_id() < 1000 + MAX_TRUST_ROOTS as u32)
    );
}

/// A list of revoked issuer keys decodes only with its keys strictly
/// ascending: the list as signed round-trips, and the same bytes with two
/// keys swapped or one repeated are refused as not canonical.
#[test]
fn revoked_issuer_keys_must_be_strictly_ascending() {
    let root = RootAuthority::from_seed(&[0x41; 32], 77, ALWAYS);
    let keys: Vec<_> = (1..=3u8)
        .map(|i| Ed25519Secret::from_seed(&[i; 32]).public_key())
        .collect();
    let list = root.revoke_issuers(1, T, T + 3600, &keys).unwrap();
    let bytes = list.to_bytes();
    let back = RevocationList::from_bytes(&bytes).unwrap();
    assert_eq!(back.len(), 3);
    assert_eq!(back.issuer_keys(), list.issuer_keys());
    let sorted = list.issuer_keys().to_vec();
    assert!(sorted.windows(2).all(|w| w[0] < w[1]));

    // The entries are the 3 × 32 bytes before the 64-byte signature.
    let start = bytes.len() - 64 - 3 * 32;
    assert_eq!(&bytes[start..start + 32], &sorted[0][..]);
    let mut swapped = bytes.clone();
    swapped[start..start + 32].copy_from_slice(&sorted[1]);
    swapped[start + 32..start + 64].copy_from_slice(&sorted[0]);
    let mut repeated = bytes.clone();
    repeated[start + 32..start + 64].copy_from_slice(&sorted[0]);
    for bad in [swapped, repeated] {
        assert!(matches!(
            RevocationList::from_bytes(&bad),
            Err(DecodeError::NotCanonical("revocation entries"))
        ));
    }
}

//! The trust store's roots, every field a validated chain reports (what a
//! client shows its user must come from the certificate it validated), and
//! the length checks of revocation lists.

mod common;

use hotline::DecodeError;
use hotline::business::*;
use hotline::constants::MAX_REVOKED_ENTRIES;
use hotline::hazmat::ed25519::Ed25519Secret;
use hotline::{IdentityKeyPair, PreKeyBundle, PreKeyStore, Session};

const NOW: u64 = 1_800_000_000;
const ALWAYS: Validity = Validity {
    not_before: 1_600_000_000,
    not_after: 2_000_000_000,
};
// Ids that no default (0) or placeholder (1) could stand in for.
const ROOT_ID: u32 = 0x5151;
const ISSUER_ID: u32 = 0x7272;

struct Platform {
    root: RootAuthority,
    issuer: IssuerAuthority,
}

fn platform() -> Platform {
    let root = RootAuthority::from_seed(&[0x31; 32], ROOT_ID, ALWAYS);
    let seed = [0x32; 32];
    let key = Ed25519Secret::from_seed(&seed).public_key();
    let levels =
        LevelSet::new(&[VerificationLevel::Verified, VerificationLevel::Official]).unwrap();
    let cert = root
        .certify_issuer(ISSUER_ID, &key, levels, ALWAYS)
        .unwrap();
    Platform {
        issuer: IssuerAuthority::new(&seed, cert).unwrap(),
        root,
    }
}

fn localized() -> Vec<(String, String)> {
    vec![
        ("de".into(), "Beispiel Fluglinie".into()),
        ("ja".into(), "例航空".into()),
    ]
}

fn certified_prekeys(p: &Platform, business: &IdentityKeyPair, seed: u64) -> PreKeyStore {
    let cert = p
        .issuer
        .issue(&BusinessCertificateRequest {
            serial: 4711,
            business_id: BusinessId([0x5b; 16]),
            identity_key: *business.public().signing_key(),
            name: "Example Air".into(),
            localized: localized(),
            level: VerificationLevel::Official,
            validity: ALWAYS,
        })
        .unwrap();
    let mut prekeys = PreKeyStore::new(business, 1, 1, &mut common::rng(seed));
    prekeys
        .set_certificate_chain(CertificateChain::new(p.issuer.certificate().clone(), cert))
        .unwrap();
    prekeys
}

#[test]
fn roots_lists_the_installed_roots_and_the_same_root_can_be_added_again() {
    let p = platform();
    let mut trust = TrustStore::new();
    assert_eq!(trust.roots().count(), 0);
    trust.add_root(p.root.trust_root()).unwrap();
    let other = RootAuthority::from_seed(&[0x33; 32], ROOT_ID + 1, ALWAYS);
    trust.add_root(other.trust_root()).unwrap();
    let ids: Vec<u32> = trust.roots().map(|r| r.root_id()).collect();
    assert_eq!(ids, [ROOT_ID, ROOT_ID + 1]);
    assert_eq!(trust.roots().next(), Some(&p.root.trust_root()));

    // Installing an installed root again (a client re-reading its
    // configuration) is a no-op, not a conflict.
    assert_eq!(trust.add_root(p.root.trust_root()), Ok(()));
    assert_eq!(trust.roots().count(), 2);
    // Another key under an installed id is one.
    let impostor = RootAuthority::from_seed(&[0x34; 32], ROOT_ID, ALWAYS);
    assert_eq!(
        trust.add_root(impostor.trust_root()),
        Err(TrustStoreError::DuplicateRoot(ROOT_ID))
    );
    assert_eq!(trust.roots().next(), Some(&p.root.trust_root()));
    // Retired roots are no longer listed.
    assert!(trust.retire_root(ROOT_ID));
    let ids: Vec<u32> = trust.roots().map(|r| r.root_id()).collect();
    assert_eq!(ids, [ROOT_ID + 1]);
}

#[test]
fn a_verified_business_reports_the_ids_and_names_of_its_chain() {
    let p = platform();
    let mut trust = TrustStore::new();
    trust.add_root(p.root.trust_root()).unwrap();
    let business = IdentityKeyPair::generate(&mut common::rng(1));
    let prekeys = certified_prekeys(&p, &business, 2);
    let verified = trust.verify_bundle(&prekeys.bundle(), NOW).unwrap();
    assert_eq!(verified.root_id(), ROOT_ID);
    assert_eq!(verified.issuer_id(), ISSUER_ID);
    assert_eq!(verified.serial(), 4711);
    let names: Vec<(String, String)> = verified
        .localized_names()
        .iter()
        .map(|l| (l.language.clone(), l.name.clone()))
        .collect();
    assert_eq!(names, localized());
}

#[test]
fn peer_reports_a_verified_business_only_for_a_verified_session() {
    let p = platform();
    let mut trust = TrustStore::new();
    trust.add_root(p.root.trust_root()).unwrap();
    let mut r = common::rng(3);
    let business = IdentityKeyPair::generate(&mut r);
    let customer = IdentityKeyPair::generate(&mut r);
    let mut prekeys = certified_prekeys(&p, &business, 4);
    let bundle = PreKeyBundle::from_bytes(&prekeys.bundle().to_bytes()).unwrap();
    let verified = trust.verify_bundle(&bundle, NOW).unwrap();

    let mut c = Session::initiate_verified(&customer, &bundle, &verified, &mut r).unwrap();
    assert_eq!(c.peer().verified_business(), Some(&verified));
    assert_eq!(
        c.peer().verified_business().map(VerifiedBusiness::name),
        Some("Example Air")
    );
    // The business sees an unverified customer.
    let m = c.encrypt_with_rng(b"hello", b"", &mut r).unwrap();
    let (b, _) = Session::respond(&mut prekeys, &m, b"").unwrap();
    assert_eq!(b.peer().verified_business(), None);
    assert_eq!(b.peer(), &Peer::Unverified(customer.public()));
}

/// The entry count is checked against the bytes left before anything is
/// read or allocated: exactly enough bytes pass (and the missing signature
/// is then reported), one byte fewer is refused as truncated entries.
#[test]
fn revocation_list_entry_count_against_the_bytes_left() {
    let p = platform();
    let entries = [10, 20, 30];
    let good = p
        .issuer
        .revoke(1, NOW, NOW + 604_800, &entries)
        .unwrap()
        .to_bytes();
    assert_eq!(
        RevocationList::from_bytes(&good).unwrap().serials(),
        &entries
    );
    let signature_at = good.len() - 64;
    assert_eq!(
        RevocationList::from_bytes(&good[..signature_at]),
        Err(DecodeError::Truncated("revocation list signature"))
    );

    // The largest count, its entries one byte short. They are all zero, so
    // reading them would fail differently (not ascending): the refusal
    // must come from the check that precedes reading.
    let count_at = signature_at - 8 * entries.len() - 4;
    let mut short = good[..count_at].to_vec();
    short.extend_from_slice(&u32::try_from(MAX_REVOKED_ENTRIES).unwrap().to_be_bytes());
    short.resize(short.len() + 8 * MAX_REVOKED_ENTRIES - 1, 0);
    assert_eq!(
        RevocationList::from_bytes(&short),
        Err(DecodeError::Truncated("revocation entries"))
    );
    // One above the largest count is refused as a length, whatever follows.
    let mut over = good[..count_at].to_vec();
    over.extend_from_slice(
        &u32::try_from(MAX_REVOKED_ENTRIES + 1)
            .unwrap()
            .to_be_bytes(),
    );
    assert_eq!(
        RevocationList::from_bytes(&over),
        Err(DecodeError::InvalidLength {
            field: "entry count",
            len: MAX_REVOKED_ENTRIES + 1
        })
    );
}

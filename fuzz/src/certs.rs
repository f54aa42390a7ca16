//! Deterministic certificate fixtures and the checks of the
//! `certificate_validate` target: a platform with two roots (one retired),
//! four issuers, genuine chains and revocation lists, and a client trust
//! store with a root's and an issuer's list applied.
//!
//! The checks compare the trust store with a small model of SPEC.md 13.7
//! and 13.9 written here from the specification: which step comes first,
//! what a revocation list in force revokes, and when a list is accepted.
//! Signatures in the model are checked with the primitive layer directly.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use hotline::PreKeyBundle;
use hotline::business::{
    BusinessCertificateRequest, BusinessId, CertificateChain, CertificateStatus, ChainLink,
    IssuerAuthority, IssuerCertificate, LevelSet, RevocationError, RevocationList, RevocationScope,
    RevocationUpdate, RootAuthority, TrustStore, ValidationError, Validity, VerificationLevel,
    VerifiedBusiness, check_name,
};
use hotline::constants::{
    CLOCK_SKEW_SECS, MAX_REVOCATION_LIST_LIFETIME_SECS, OBJ_TYPE_CERT_CHAIN,
    OBJ_TYPE_REVOCATION_LIST, REVOCATION_SCOPE_ISSUER, SIG_CTX_BUSINESS_CERT, SIG_CTX_ISSUER_CERT,
    SIG_CTX_REVOCATION_LIST,
};
use hotline::hazmat::ed25519::{Ed25519Public, Ed25519Secret};

use crate::{business, fixtures};

/// The time every chain is validated and every list applied at.
pub const NOW: u64 = 1_800_000_000;
const DAY: u64 = 86_400;
const YEAR: u64 = 365 * DAY;

/// The installed root.
pub const ROOT_ID: u32 = 1;
/// A root the store has retired (its chains give `RootRetired`).
pub const RETIRED_ROOT_ID: u32 = 2;
/// Issuer allowed "verified" only.
pub const ISSUER_VERIFIED: u32 = 7;
/// Issuer allowed "verified" and "official".
pub const ISSUER_BOTH: u32 = 8;
/// Issuer revoked by the root's list in force.
pub const ISSUER_REVOKED: u32 = 9;
/// Issuer certified by the retired root.
pub const ISSUER_RETIRED_ROOT: u32 = 10;

// (root id, Ed25519 seed)
const ROOTS: [(u32, [u8; 32]); 2] = [(ROOT_ID, [0x61; 32]), (RETIRED_ROOT_ID, [0x62; 32])];
// (issuer id, root id, Ed25519 seed, allowed levels)
const ISSUERS: [(u32, u32, [u8; 32], &[VerificationLevel]); 4] = [
    (
        ISSUER_VERIFIED,
        ROOT_ID,
        [0x71; 32],
        &[VerificationLevel::Verified],
    ),
    (
        ISSUER_BOTH,
        ROOT_ID,
        [0x72; 32],
        &[VerificationLevel::Verified, VerificationLevel::Official],
    ),
    (
        ISSUER_REVOKED,
        ROOT_ID,
        [0x73; 32],
        &[VerificationLevel::Verified, VerificationLevel::Official],
    ),
    (
        ISSUER_RETIRED_ROOT,
        RETIRED_ROOT_ID,
        [0x74; 32],
        &[VerificationLevel::Verified],
    ),
];

// Byte layout of an encoded chain (SPEC.md 13.4 to 13.6).
const CHAIN_ISSUER: usize = 2;
const ISSUER_ID_AT: usize = CHAIN_ISSUER + 2;
const ISSUER_ROOT_ID_AT: usize = CHAIN_ISSUER + 6;
const ISSUER_KEY_AT: usize = CHAIN_ISSUER + 11; // after the key's type tag
const ISSUER_SIGNATURE_AT: usize = CHAIN_ISSUER + 60;
const CHAIN_BUSINESS: usize = CHAIN_ISSUER + IssuerCertificate::ENCODED_LEN;
// Byte layout of an encoded revocation list (SPEC.md 13.9).
const LIST_SCOPE_AT: usize = 2;
const LIST_SIGNER_AT: usize = 3;
const LIST_HEADER_LEN: usize = 35;

/// An issuer of the fixture platform.
pub struct Issuer {
    /// Its id.
    pub id: u32,
    /// The root that certified it.
    pub root_id: u32,
    secret: Ed25519Secret,
    /// Its certificate.
    pub certificate: IssuerCertificate,
}

impl Issuer {
    /// A status signed by this issuer (SPEC.md 13.15) for `serial`, with
    /// any window (seeds need refused ones too).
    pub fn status(&self, serial: u64, this_update: u64, next_update: u64) -> CertificateStatus {
        let mut b = vec![1, hotline::constants::OBJ_TYPE_CERT_STATUS];
        b.extend_from_slice(&self.id.to_be_bytes());
        b.extend_from_slice(&serial.to_be_bytes());
        b.extend_from_slice(&this_update.to_be_bytes());
        b.extend_from_slice(&next_update.to_be_bytes());
        let sig = self
            .secret
            .sign(hotline::constants::SIG_CTX_CERT_STATUS, &b);
        b.extend_from_slice(&sig);
        CertificateStatus::from_bytes(&b).expect("a status decodes")
    }
}

/// A genuine certificate chain.
pub struct GenuineChain {
    /// Short name (used as the seed file name).
    pub name: &'static str,
    /// The chain.
    pub chain: CertificateChain,
    /// Its verdict in a store with the roots but no revocation list.
    clean: Result<VerifiedBusiness, ValidationError>,
}

/// A genuine revocation list (signed by a fixture root or issuer).
pub struct GenuineList {
    /// Short name (used as the seed file name).
    pub name: &'static str,
    /// The list.
    pub list: RevocationList,
}

/// The revocation lists in force, as the model sees them: per (scope,
/// signer), the sequence and the entries of the last list accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(clippy::type_complexity)]
pub struct Revocations(BTreeMap<(RevocationScope, u32), (u64, BTreeSet<u64>, BTreeSet<[u8; 32]>)>);

impl Revocations {
    fn sequence(&self, scope: RevocationScope, signer: u32) -> Option<u64> {
        self.0.get(&(scope, signer)).map(|(s, ..)| *s)
    }
    fn serial_revoked(&self, issuer: u32, serial: u64) -> bool {
        self.0
            .get(&(RevocationScope::BusinessCertificates, issuer))
            .is_some_and(|(_, e, _)| e.contains(&serial))
    }
    /// SPEC 13.9: issuers are revoked by key, by any root's list.
    fn issuer_key_revoked(&self, key: &[u8; 32]) -> bool {
        self.0.iter().any(|((scope, _), (_, _, keys))| {
            *scope == RevocationScope::Issuers && keys.contains(key)
        })
    }
    fn install(&mut self, list: &RevocationList) {
        self.0.insert(
            (list.scope(), list.signer_id()),
            (
                list.sequence(),
                list.serials().iter().copied().collect(),
                list.issuer_keys().iter().copied().collect(),
            ),
        );
    }
}

/// The fixture platform and the client's trust store.
pub struct CertFixtures {
    roots: Vec<(u32, Ed25519Secret)>,
    /// The issuers, in the order of `ISSUERS`.
    pub issuers: Vec<Issuer>,
    /// Genuine chains: valid, expired, revoked, under a retired root, ...
    pub chains: Vec<GenuineChain>,
    /// Genuine revocation lists of every kind, including the two in force
    /// in [`CertFixtures::store`] (which are stale there).
    pub lists: Vec<GenuineList>,
    /// The client's store: root 1 installed, root 2 retired, and the
    /// root's list revoking issuer 9 and issuer 7's list revoking serial
    /// 1002 applied (both with sequence 1).
    pub store: TrustStore,
    /// The same roots without any revocation list.
    clean: TrustStore,
    /// The model of the lists in force in `store`.
    pub revocations: Revocations,
}

/// The certificate fixtures, built once.
pub fn cert_fixtures() -> &'static CertFixtures {
    static F: OnceLock<CertFixtures> = OnceLock::new();
    F.get_or_init(build)
}

fn window(not_before: u64, not_after: u64) -> Validity {
    Validity {
        not_before,
        not_after,
    }
}

fn build() -> CertFixtures {
    let authorities: Vec<RootAuthority> = ROOTS
        .iter()
        .map(|(id, seed)| {
            RootAuthority::from_seed(seed, *id, window(NOW - 2 * YEAR, NOW + 10 * YEAR))
        })
        .collect();
    let root = |id: u32| {
        authorities
            .iter()
            .find(|a| a.trust_root().root_id() == id)
            .expect("fixture root")
    };
    let mut issuers = Vec::new();
    let mut authorities_of_issuers = Vec::new();
    for (id, root_id, seed, levels) in ISSUERS {
        let secret = Ed25519Secret::from_seed(&seed);
        let certificate = root(root_id)
            .certify_issuer(
                id,
                &secret.public_key(),
                LevelSet::new(levels).expect("levels"),
                window(NOW - YEAR, NOW + 5 * YEAR),
            )
            .expect("certify issuer");
        authorities_of_issuers
            .push(IssuerAuthority::new(&seed, certificate.clone()).expect("issuer key"));
        issuers.push(Issuer {
            id,
            root_id,
            secret,
            certificate,
        });
    }
    let issuer = |id: u32| {
        authorities_of_issuers
            .iter()
            .find(|a| a.certificate().issuer_id() == id)
            .expect("fixture issuer")
    };

    let business_key = *business().public().signing_key();
    let customer_key = *crate::customer().public().signing_key();
    let valid = window(NOW - 30 * DAY, NOW + YEAR);
    #[allow(clippy::type_complexity)]
    let specs: [(
        &str,
        u32,
        u64,
        &str,
        &[(&str, &str)],
        VerificationLevel,
        Validity,
        Ed25519Public,
    ); 8] = [
        (
            "chain_valid",
            ISSUER_VERIFIED,
            1001,
            "Example Air",
            &[("ja", "エグザンプル航空"), ("nl", "Voorbeeld Lucht")],
            VerificationLevel::Verified,
            valid,
            business_key,
        ),
        (
            "chain_official",
            ISSUER_BOTH,
            2001,
            "Example Air Cargo",
            &[],
            VerificationLevel::Official,
            valid,
            business_key,
        ),
        (
            "chain_expired",
            ISSUER_VERIFIED,
            1003,
            "Example Air",
            &[],
            VerificationLevel::Verified,
            window(NOW - YEAR, NOW - DAY),
            business_key,
        ),
        (
            "chain_not_yet_valid",
            ISSUER_BOTH,
            2002,
            "Example Air",
            &[],
            VerificationLevel::Verified,
            window(NOW + DAY, NOW + YEAR),
            business_key,
        ),
        (
            "chain_revoked_serial",
            ISSUER_VERIFIED,
            1002,
            "Example Air",
            &[],
            VerificationLevel::Verified,
            valid,
            business_key,
        ),
        (
            "chain_revoked_issuer",
            ISSUER_REVOKED,
            3001,
            "Example Air",
            &[],
            VerificationLevel::Official,
            valid,
            business_key,
        ),
        (
            "chain_retired_root",
            ISSUER_RETIRED_ROOT,
            4001,
            "Example Air",
            &[],
            VerificationLevel::Verified,
            valid,
            business_key,
        ),
        (
            "chain_other_key",
            ISSUER_BOTH,
            2003,
            "Example Air",
            &[],
            VerificationLevel::Verified,
            valid,
            customer_key,
        ),
    ];

    let mut clean = TrustStore::new();
    clean.retire_root(RETIRED_ROOT_ID);
    clean
        .add_root(root(ROOT_ID).trust_root())
        .expect("add root");

    let chains = specs
        .into_iter()
        .enumerate()
        .map(
            |(i, (name, issuer_id, serial, display, localized, level, validity, key))| {
                let a = issuer(issuer_id);
                let cert = a
                    .issue(&BusinessCertificateRequest {
                        serial,
                        business_id: BusinessId([0xb0 + i as u8; 16]),
                        identity_key: key,
                        name: display.into(),
                        localized: localized
                            .iter()
                            .map(|(l, n)| (l.to_string(), n.to_string()))
                            .collect(),
                        level,
                        validity,
                    })
                    .unwrap_or_else(|e| panic!("issue {name}: {e}"));
                let chain = CertificateChain::new(a.certificate().clone(), cert);
                GenuineChain {
                    name,
                    clean: clean.validate_chain(&chain, NOW),
                    chain,
                }
            },
        )
        .collect();

    let revoke_issuers = |root_id: u32, seq: u64, at: u64, ids: &[u32]| {
        let keys: Vec<_> = ids
            .iter()
            .map(|&id| *issuer(id).certificate().key())
            .collect();
        root(root_id)
            .revoke_issuers(seq, at, at + 28 * DAY, &keys)
            .expect("revoke issuers")
    };
    let revoke = |issuer_id: u32, seq: u64, at: u64, serials: &[u64]| {
        issuer(issuer_id)
            .revoke(seq, at, at + 604_800, serials)
            .expect("revoke serials")
    };
    let lists = vec![
        GenuineList {
            name: "list_root_seq1_in_force",
            list: revoke_issuers(ROOT_ID, 1, NOW - 10 * DAY, &[ISSUER_REVOKED]),
        },
        GenuineList {
            name: "list_issuer7_seq1_in_force",
            list: revoke(ISSUER_VERIFIED, 1, NOW - 10 * DAY, &[1002]),
        },
        GenuineList {
            name: "list_root_seq2",
            list: revoke_issuers(ROOT_ID, 2, NOW - DAY, &[ISSUER_BOTH, ISSUER_REVOKED]),
        },
        GenuineList {
            name: "list_root_seq3_empty",
            list: revoke_issuers(ROOT_ID, 3, NOW, &[]),
        },
        GenuineList {
            name: "list_root_future",
            list: revoke_issuers(ROOT_ID, 4, NOW + DAY, &[ISSUER_VERIFIED]),
        },
        GenuineList {
            name: "list_retired_root",
            list: revoke_issuers(RETIRED_ROOT_ID, 1, NOW - DAY, &[ISSUER_RETIRED_ROOT]),
        },
        GenuineList {
            name: "list_issuer7_seq2",
            list: revoke(ISSUER_VERIFIED, 2, NOW - DAY, &[1001, 1002]),
        },
        GenuineList {
            name: "list_issuer8_seq1",
            list: revoke(ISSUER_BOTH, 1, NOW - DAY, &[2001, 2003]),
        },
        GenuineList {
            name: "list_revoked_issuer9",
            list: revoke(ISSUER_REVOKED, 1, NOW - DAY, &[3001]),
        },
        GenuineList {
            name: "list_issuer10_retired_root",
            list: revoke(ISSUER_RETIRED_ROOT, 1, NOW - DAY, &[4001]),
        },
    ];

    let mut store = clean.clone();
    let mut revocations = Revocations::default();
    for g in &lists[..2] {
        let certificate = match g.list.scope() {
            RevocationScope::Issuers => None,
            RevocationScope::BusinessCertificates => Some(issuer(g.list.signer_id()).certificate()),
        };
        store
            .apply_revocation_list(&g.list, certificate, NOW)
            .expect("lists in force apply");
        revocations.install(&g.list);
    }

    CertFixtures {
        roots: ROOTS
            .iter()
            .map(|(id, seed)| (*id, Ed25519Secret::from_seed(seed)))
            .collect(),
        issuers,
        chains,
        lists,
        store,
        clean,
        revocations,
    }
}

impl CertFixtures {
    fn root_secret(&self, root_id: u32) -> &Ed25519Secret {
        let (_, s) = self
            .roots
            .iter()
            .find(|(id, _)| *id == root_id)
            .unwrap_or(&self.roots[0]);
        s
    }

    /// The fixture issuer with this id.
    pub fn issuer(&self, id: u32) -> Option<&Issuer> {
        self.issuers.iter().find(|i| i.id == id)
    }

    fn issuer_or_default(&self, id: u32) -> &Issuer {
        self.issuer(id).unwrap_or(&self.issuers[0])
    }

    /// The issuer certificate handed to `apply_revocation_list` with a list:
    /// the signer's for an issuer list (issuer 7's, which names another
    /// issuer, when the signer is unknown); none for a root list.
    pub fn issuer_certificate_for(&self, list: &RevocationList) -> Option<&IssuerCertificate> {
        match list.scope() {
            RevocationScope::Issuers => None,
            RevocationScope::BusinessCertificates => {
                Some(&self.issuer_or_default(list.signer_id()).certificate)
            }
        }
    }

    /// The verdict the model expects for a genuine chain under `revs`.
    pub fn expected_verdict(
        &self,
        g: &GenuineChain,
        revs: &Revocations,
    ) -> Result<VerifiedBusiness, ValidationError> {
        predicted(&g.chain, &g.clean, revs)
    }

    /// What the model expects `apply_revocation_list` to return for `list`
    /// (encoded as `bytes`) on a store whose lists in force are `revs`.
    pub fn expected_apply(
        &self,
        list: &RevocationList,
        bytes: &[u8],
        revs: &Revocations,
    ) -> Result<RevocationUpdate, RevocationError> {
        let signer = list.signer_id();
        let key = match list.scope() {
            RevocationScope::Issuers if signer == ROOT_ID => self.root_secret(ROOT_ID).public_key(),
            RevocationScope::Issuers => return Err(RevocationError::UnknownRoot(signer)),
            RevocationScope::BusinessCertificates => match self.issuer(signer) {
                None => return Err(RevocationError::IssuerCertificateNeeded(signer)),
                Some(i) if i.root_id != ROOT_ID => {
                    return Err(RevocationError::IssuerNotTrusted(
                        ValidationError::RootRetired(i.root_id),
                    ));
                }
                // SPEC 13.9: a revoked issuer's key changes nothing any more.
                Some(i) if revs.issuer_key_revoked(&i.secret.public_key().to_bytes()) => {
                    return Err(RevocationError::IssuerNotTrusted(
                        ValidationError::IssuerRevoked(signer),
                    ));
                }
                Some(i) => i.secret.public_key(),
            },
        };
        let (signed, signature) = bytes.split_at(bytes.len() - 64);
        if key
            .verify(
                SIG_CTX_REVOCATION_LIST,
                signed,
                signature.try_into().expect("64 bytes"),
            )
            .is_err()
        {
            return Err(RevocationError::BadSignature);
        }
        // SPEC 13.9 step 2a: a sequence never runs ahead of its issue time.
        if list.sequence() > list.issued_at() {
            return Err(RevocationError::SequenceAhead {
                sequence: list.sequence(),
                issued_at: list.issued_at(),
            });
        }
        // SPEC 13.9 step 2b: issued_at < next_update <= issued_at + 31 days.
        if list.next_update() <= list.issued_at()
            || list.next_update() - list.issued_at() > MAX_REVOCATION_LIST_LIFETIME_SECS
        {
            return Err(RevocationError::BadWindow {
                issued_at: list.issued_at(),
                next_update: list.next_update(),
            });
        }
        if list.issued_at() > NOW + CLOCK_SKEW_SECS {
            return Err(RevocationError::IssuedInFuture {
                issued_at: list.issued_at(),
                now: NOW,
            });
        }
        if let Some(current) = revs.sequence(list.scope(), signer)
            && list.sequence() <= current
        {
            return Err(RevocationError::Stale {
                current,
                offered: list.sequence(),
            });
        }
        Ok(RevocationUpdate {
            sequence: list.sequence(),
            revoked: list.len(),
        })
    }

    /// Checks that `store` behaves as the model `revs` says: the sequence
    /// in force for every fixture signer (and `extra`), and the verdict of
    /// every genuine chain.
    fn check_store(&self, store: &TrustStore, revs: &Revocations, extra: (RevocationScope, u32)) {
        let signers = ROOTS
            .iter()
            .map(|(id, _)| (RevocationScope::Issuers, *id))
            .chain(
                ISSUERS
                    .iter()
                    .map(|(id, ..)| (RevocationScope::BusinessCertificates, *id)),
            )
            .chain([extra]);
        for (scope, signer) in signers {
            assert_eq!(
                store.revocation_sequence(scope, signer),
                revs.sequence(scope, signer),
                "sequence in force for {scope:?} {signer}"
            );
        }
        for g in &self.chains {
            assert_eq!(
                store.validate_chain(&g.chain, NOW),
                self.expected_verdict(g, revs),
                "verdict on {}",
                g.name
            );
        }
    }
}

/// The step of SPEC.md 13.7 that reports `e`.
fn step(e: &ValidationError) -> u8 {
    use ChainLink as L;
    use ValidationError as E;
    match e {
        E::RootRetired(_) => 1,
        E::UnknownRoot(_) => 2,
        E::NotYetValid { link: L::Root, .. } | E::Expired { link: L::Root, .. } => 3,
        E::BadSignature(L::Issuer) => 4,
        E::IssuerRevoked(_) => 5,
        E::NotYetValid {
            link: L::Issuer, ..
        }
        | E::Expired {
            link: L::Issuer, ..
        } => 6,
        E::IssuerMismatch { .. } => 7,
        E::BadSignature(L::Business) => 8,
        E::CertificateRevoked { .. } => 9,
        E::NotYetValid {
            link: L::Business, ..
        }
        | E::Expired {
            link: L::Business, ..
        } => 10,
        E::LevelNotAllowed { .. } => 11,
        E::InvalidName(_) => 12,
        E::InvalidLocalizedName { .. } => 13,
        other => panic!("validate_chain returned {other:?}, which is not a validation step"),
    }
}

/// The verdict under revocation lists `revs`, from the verdict `clean` of a
/// store with the same roots and no list: the revocation steps (5 and 9)
/// apply only to chains that got past the steps before them.
fn predicted(
    chain: &CertificateChain,
    clean: &Result<VerifiedBusiness, ValidationError>,
    revs: &Revocations,
) -> Result<VerifiedBusiness, ValidationError> {
    let reached = clean.as_ref().map_or_else(step, |_| 14);
    assert!(
        reached != 5 && reached != 9,
        "a store without revocation lists reported a revocation: {clean:?}"
    );
    let (issuer, cert) = (chain.issuer(), chain.business());
    if reached > 5 && revs.issuer_key_revoked(&issuer.key().to_bytes()) {
        return Err(ValidationError::IssuerRevoked(issuer.issuer_id()));
    }
    if reached > 9 && revs.serial_revoked(issuer.issuer_id(), cert.serial()) {
        return Err(ValidationError::CertificateRevoked {
            issuer_id: issuer.issuer_id(),
            serial: cert.serial(),
        });
    }
    clean.clone()
}

fn within(v: Validity) -> bool {
    v.not_before.saturating_sub(CLOCK_SKEW_SECS) <= NOW
        && NOW <= v.not_after.saturating_add(CLOCK_SKEW_SECS)
}

/// Everything an accepted chain must satisfy, checked independently of
/// `validate_chain`: its signatures chain to the installed root (checked
/// with the primitives), every window contains `NOW`, the level is allowed,
/// the names pass the name rules, and the result repeats the leaf.
fn check_verified(fx: &CertFixtures, bytes: &[u8], chain: &CertificateChain, v: &VerifiedBusiness) {
    let (issuer, cert) = (chain.issuer(), chain.business());
    assert_eq!(
        issuer.root_id(),
        ROOT_ID,
        "accepted under a root that is not installed"
    );
    let root = fx.root_secret(ROOT_ID).public_key();
    let sig = |at: usize| -> &[u8; 64] { bytes[at..at + 64].try_into().expect("64 bytes") };
    root.verify(
        SIG_CTX_ISSUER_CERT,
        &bytes[CHAIN_ISSUER..ISSUER_SIGNATURE_AT],
        sig(ISSUER_SIGNATURE_AT),
    )
    .expect("accepted issuer certificate not signed by the root");
    let end = bytes.len() - 64;
    issuer
        .key()
        .verify(SIG_CTX_BUSINESS_CERT, &bytes[CHAIN_BUSINESS..end], sig(end))
        .expect("accepted business certificate not signed by its issuer's key");
    assert_eq!(cert.issuer_id(), issuer.issuer_id());
    assert!(within(fx.store.roots().next().expect("root").validity()));
    assert!(
        within(issuer.validity()),
        "issuer outside its window accepted"
    );
    assert!(
        within(cert.validity()),
        "certificate outside its window accepted"
    );
    assert!(
        issuer.allowed_levels().contains(cert.level()),
        "level {} accepted from an issuer without it",
        cert.level()
    );
    assert_eq!(
        check_name(cert.name()),
        Ok(()),
        "name {:?} accepted",
        cert.name()
    );
    for l in cert.localized_names() {
        assert_eq!(check_name(&l.name), Ok(()), "localized name {l:?} accepted");
    }
    assert_eq!(v.root_id(), ROOT_ID);
    assert_eq!(v.issuer_id(), issuer.issuer_id());
    assert_eq!(v.business_id(), cert.business_id());
    assert_eq!(v.name(), cert.name());
    assert_eq!(v.localized_names(), cert.localized_names());
    assert_eq!(v.level(), cert.level());
    assert_eq!(v.serial(), cert.serial());
    assert_eq!(v.identity_key(), cert.identity_key());
    assert_eq!(v.validity(), cert.validity());
    assert_eq!(v.chain_hash(), chain.hash());
}

/// Makes a chain-shaped byte string pass the signature checks: writes the
/// key of the fixture issuer named in the issuer slot (issuer 7 for an
/// unknown id) into the issuer certificate, has the root it names (root 1
/// for an unknown id) re-sign it, and has that issuer re-sign the business
/// certificate (everything between the issuer certificate and the last 64
/// bytes). Every other byte stays as the fuzzer chose it. Re-signing a
/// genuine chain gives it back unchanged.
pub fn resign_chain(data: &[u8]) -> Vec<u8> {
    let mut b = data.to_vec();
    if b.len() < CHAIN_BUSINESS || b[1] != OBJ_TYPE_CERT_CHAIN {
        return b;
    }
    let fx = cert_fixtures();
    let u32_at = |at: usize| u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"));
    let issuer = fx.issuer_or_default(u32_at(ISSUER_ID_AT));
    let root = fx.root_secret(u32_at(ISSUER_ROOT_ID_AT));
    b[ISSUER_KEY_AT..ISSUER_KEY_AT + 32].copy_from_slice(&issuer.secret.public_key().to_bytes());
    let sig = root.sign(SIG_CTX_ISSUER_CERT, &b[CHAIN_ISSUER..ISSUER_SIGNATURE_AT]);
    b[ISSUER_SIGNATURE_AT..CHAIN_BUSINESS].copy_from_slice(&sig);
    if b.len() >= CHAIN_BUSINESS + 64 {
        let end = b.len() - 64;
        let sig = issuer
            .secret
            .sign(SIG_CTX_BUSINESS_CERT, &b[CHAIN_BUSINESS..end]);
        b[end..].copy_from_slice(&sig);
    }
    b
}

/// Makes a list-shaped byte string carry a valid signature: a root list
/// (scope byte `0x02`) is signed by the root it names (root 1 for an unknown
/// id), any other by the issuer it names (issuer 7 for an unknown id).
/// Re-signing a genuine list gives it back unchanged.
pub fn resign_list(data: &[u8]) -> Vec<u8> {
    let mut b = data.to_vec();
    if b.len() < LIST_HEADER_LEN + 64 || b[1] != OBJ_TYPE_REVOCATION_LIST {
        return b;
    }
    let fx = cert_fixtures();
    let signer = u32::from_be_bytes(
        b[LIST_SIGNER_AT..LIST_SIGNER_AT + 4]
            .try_into()
            .expect("4 bytes"),
    );
    let secret = if b[LIST_SCOPE_AT] == REVOCATION_SCOPE_ISSUER {
        fx.root_secret(signer)
    } else {
        &fx.issuer_or_default(signer).secret
    };
    let end = b.len() - 64;
    let sig = secret.sign(SIG_CTX_REVOCATION_LIST, &b[..end]);
    b[end..].copy_from_slice(&sig);
    b
}

/// The business's genuine bundle, to carry fuzzed chains to `verify_bundle`.
fn bundle() -> &'static PreKeyBundle {
    &fixtures().bundles[0].1
}

/// Validates `data` as a certificate chain in the fixture store at [`NOW`]
/// and checks the verdict (panics if a check fails):
///
/// * `validate_chain_bytes` agrees with decoding then `validate_chain`, and
///   decoding is canonical;
/// * the verdict is the model's: the verdict of a store without revocation
///   lists, with the lists in force applied at steps 5 and 9;
/// * an accepted chain satisfies [`check_verified`]'s independent checks,
///   and unless `resigned`, both its certificates are genuine (byte for
///   byte: nobody else holds the fixture keys);
/// * a `resigned` chain never fails a signature check;
/// * `verify_bundle` on a bundle carrying an accepted chain accepts it
///   exactly when it names the bundle's key, and else says `KeyMismatch`.
pub fn check_chain(data: &[u8], resigned: bool) {
    let fx = cert_fixtures();
    let by_bytes = fx.store.validate_chain_bytes(data, NOW);
    let chain = match CertificateChain::from_bytes(data) {
        Ok(c) => c,
        Err(e) => {
            assert_eq!(by_bytes, Err(ValidationError::Malformed(e)));
            return;
        }
    };
    assert_eq!(chain.to_bytes(), data, "chain decoding is not canonical");
    let verdict = fx.store.validate_chain(&chain, NOW);
    assert_eq!(by_bytes, verdict, "validate_chain_bytes disagrees");
    let clean = fx.clean.validate_chain(&chain, NOW);
    if resigned {
        assert!(
            !matches!(clean, Err(ValidationError::BadSignature(_))),
            "re-signed chain failed a signature check: {clean:?}"
        );
    }
    assert_eq!(
        verdict,
        predicted(&chain, &clean, &fx.revocations),
        "verdict differs from the model"
    );
    let Ok(verified) = verdict else {
        return;
    };
    check_verified(fx, data, &chain, &verified);
    if !resigned {
        assert!(
            fx.issuers.iter().any(|i| i.certificate == *chain.issuer()),
            "accepted an issuer certificate the root never signed"
        );
        assert!(
            fx.chains
                .iter()
                .any(|g| g.chain.business() == chain.business()),
            "accepted a business certificate no issuer signed"
        );
    }
    let carried = bundle().clone().with_certificate_chain(Some(chain));
    let expected = if verified.identity_key() == business().public().signing_key() {
        Ok(verified)
    } else {
        Err(ValidationError::KeyMismatch)
    };
    assert_eq!(fx.store.verify_bundle(&carried, NOW), expected);
}

/// Applies `data` as a revocation list to a copy of the fixture store and
/// checks the outcome (panics if a check fails):
///
/// * decoding is canonical;
/// * the result is the model's (signer known and trusted, signature, a
///   sequence not above the issue time, issue time, a sequence above the
///   one in force), and unless `resigned`
///   only a genuine list is accepted;
/// * afterwards the store behaves as the model says: a refused list changed
///   nothing (every genuine chain gets the same verdict, every sequence in
///   force is the same), an accepted one is in force exactly;
/// * after an accepted list, the same list and every genuine list are
///   judged as the model says (the same list again and older ones are
///   `Stale`: a sequence never goes back).
pub fn check_list(data: &[u8], resigned: bool) {
    let fx = cert_fixtures();
    let Ok(list) = RevocationList::from_bytes(data) else {
        return;
    };
    assert_eq!(list.to_bytes(), data, "list decoding is not canonical");
    let mut store = fx.store.clone();
    let mut revs = fx.revocations.clone();
    let expected = fx.expected_apply(&list, data, &revs);
    let got = store.apply_revocation_list(&list, fx.issuer_certificate_for(&list), NOW);
    assert_eq!(
        got, expected,
        "apply_revocation_list differs from the model"
    );
    if resigned {
        assert_ne!(
            got,
            Err(RevocationError::BadSignature),
            "re-signed list refused"
        );
    }
    let signer = (list.scope(), list.signer_id());
    if got.is_err() {
        fx.check_store(&store, &revs, signer);
        return;
    }
    if !resigned {
        assert!(
            fx.lists.iter().any(|g| g.list == list),
            "accepted a list no fixture key signed"
        );
    }
    revs.install(&list);
    fx.check_store(&store, &revs, signer);
    let again = store.apply_revocation_list(&list, fx.issuer_certificate_for(&list), NOW);
    assert_eq!(
        again,
        Err(RevocationError::Stale {
            current: list.sequence(),
            offered: list.sequence()
        })
    );
    for g in &fx.lists {
        let mut s = store.clone();
        let bytes = g.list.to_bytes();
        assert_eq!(
            s.apply_revocation_list(&g.list, fx.issuer_certificate_for(&g.list), NOW),
            fx.expected_apply(&g.list, &bytes, &revs),
            "genuine list {} after an accepted list",
            g.name
        );
    }
}

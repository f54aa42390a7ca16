//! Safety-number style fingerprints of two identities (SPEC.md,
//! "Fingerprints"), for comparing keys out of band: read aloud as digits or
//! scanned as bytes from a QR code.

use subtle::ConstantTimeEq;

use crate::constants::{FINGERPRINT_DIGITS, FINGERPRINT_VERSION, LABEL_FINGERPRINT};
use crate::keys::IdentityKey;
use crate::primitives::kdf::sha256;
use crate::wire::KeyEncoding;

/// Length of the scannable encoding: version byte and two 32-byte hashes.
pub const FINGERPRINT_QR_LEN: usize = 65;

/// The fingerprint of a pair of identities. Both parties compute the same
/// value whichever side they are on: the two identities are ordered by
/// their hashes, not by who is local.
///
/// ```
/// use hotline::IdentityKeyPair;
/// use hotline::business::Fingerprint;
/// let mut rng = rand::rng();
/// let a = IdentityKeyPair::generate(&mut rng).public();
/// let b = IdentityKeyPair::generate(&mut rng).public();
/// let on_a = Fingerprint::new(&a, &b);
/// let on_b = Fingerprint::new(&b, &a);
/// assert_eq!(on_a.digits(), on_b.digits());
/// assert_eq!(on_a.digits().len(), 60);
/// assert!(on_b.matches_scanned(&on_a.scannable()));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Fingerprint {
    digits: String,
    scannable: [u8; FINGERPRINT_QR_LEN],
}

/// SHA-256(LABEL_FINGERPRINT || enc(IK.ed) || enc(IK.x)).
fn identity_hash(id: &IdentityKey) -> [u8; 32] {
    let mut buf = LABEL_FINGERPRINT.to_vec();
    id.signing_key().encode_into(&mut buf);
    id.dh_key().encode_into(&mut buf);
    sha256(&buf)
}

/// 30 digits: six 5-byte big-endian chunks of the hash, each mod 100000.
fn digits30(hash: &[u8; 32], out: &mut String) {
    for chunk in hash[..30].chunks(5) {
        let v = chunk.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        out.push_str(&format!("{:05}", v % 100_000));
    }
}

impl Fingerprint {
    /// The fingerprint of `local` and `remote` (the order does not matter).
    pub fn new(local: &IdentityKey, remote: &IdentityKey) -> Self {
        let mut hashes = [identity_hash(local), identity_hash(remote)];
        hashes.sort();
        let mut digits = String::with_capacity(FINGERPRINT_DIGITS);
        let mut scannable = [0u8; FINGERPRINT_QR_LEN];
        scannable[0] = FINGERPRINT_VERSION;
        for (i, h) in hashes.iter().enumerate() {
            digits30(h, &mut digits);
            scannable[1 + 32 * i..33 + 32 * i].copy_from_slice(h);
        }
        Self { digits, scannable }
    }

    /// The 60 decimal digits.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The digits in twelve groups of five, separated by spaces, for display.
    pub fn display_groups(&self) -> String {
        let groups: Vec<&str> = (0..FINGERPRINT_DIGITS / 5)
            .map(|i| &self.digits[5 * i..5 * i + 5])
            .collect();
        groups.join(" ")
    }

    /// The bytes to put in a QR code: version byte, then the two identity
    /// hashes in ascending order.
    pub fn scannable(&self) -> [u8; FINGERPRINT_QR_LEN] {
        self.scannable
    }

    /// Whether scanned bytes equal this fingerprint (constant time; any
    /// length or version mismatch is simply a non-match).
    pub fn matches_scanned(&self, scanned: &[u8]) -> bool {
        scanned.len() == FINGERPRINT_QR_LEN && bool::from(self.scannable.ct_eq(scanned))
    }
}

impl core::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Fingerprint({})", self.display_groups())
    }
}

impl core::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.display_groups())
    }
}

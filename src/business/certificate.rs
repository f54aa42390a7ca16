//! Trust roots, issuer certificates, business certificates and the chain a
//! business publishes (SPEC.md, "Certificate formats").
//!
//! Decoding is strict and structural: it checks every length, tag and
//! canonical form, but not signatures, times, revocation or name rules.
//! Those need the client's trust store and clock, and are the job of
//! [`TrustStore`](crate::business::TrustStore), which reports each failure
//! precisely. A decoded certificate is therefore *not* trusted.

use crate::constants::{
    LEVEL_OFFICIAL, LEVEL_VERIFIED, MAX_LOCALIZED_NAMES, OBJ_TYPE_BUSINESS_CERT,
    OBJ_TYPE_CERT_CHAIN, OBJ_TYPE_ISSUER_CERT, OBJ_TYPE_TRUST_ROOT, PROTOCOL_VERSION,
    SIG_CTX_TRUST_ROOT,
};
use crate::primitives::ed25519::{BadSignature, Ed25519Public};
use crate::primitives::kdf::sha256;
use crate::wire::{DecodeError, KeyEncoding, Reader};

use super::names::language_tag_ok;

/// How strongly a business was verified. Ordered: `Official` is above
/// `Verified`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VerificationLevel {
    /// The business's legal identity and name were verified.
    Verified,
    /// An official account: verified, and designated by the platform as the
    /// authoritative account of the organisation.
    Official,
}

impl VerificationLevel {
    /// The wire byte ([`LEVEL_VERIFIED`] or [`LEVEL_OFFICIAL`]).
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Verified => LEVEL_VERIFIED,
            Self::Official => LEVEL_OFFICIAL,
        }
    }

    /// Decodes a level byte.
    pub fn from_byte(b: u8) -> Result<Self, DecodeError> {
        match b {
            LEVEL_VERIFIED => Ok(Self::Verified),
            LEVEL_OFFICIAL => Ok(Self::Official),
            value => Err(DecodeError::InvalidValue {
                field: "verification level",
                value,
            }),
        }
    }

    /// The bit of this level in a [`LevelSet`].
    fn bit(self) -> u8 {
        1 << (self.to_byte() - 1)
    }

    /// A short lower-case name ("verified", "official").
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Official => "official",
        }
    }
}

impl core::fmt::Display for VerificationLevel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The set of levels an issuer may certify: a bit mask, bit 0 for
/// `Verified`, bit 1 for `Official`. Never empty, no unknown bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LevelSet(u8);

impl LevelSet {
    const KNOWN: u8 = 0b11;

    /// A set from its levels; `None` if `levels` is empty.
    pub fn new(levels: &[VerificationLevel]) -> Option<Self> {
        let mask = levels.iter().fold(0u8, |m, l| m | l.bit());
        (mask != 0).then_some(Self(mask))
    }

    /// Decodes a mask byte.
    pub fn from_byte(value: u8) -> Result<Self, DecodeError> {
        if value == 0 || value & !Self::KNOWN != 0 {
            return Err(DecodeError::InvalidValue {
                field: "allowed levels",
                value,
            });
        }
        Ok(Self(value))
    }

    /// The mask byte.
    pub fn to_byte(self) -> u8 {
        self.0
    }

    /// Whether `level` is in the set.
    pub fn contains(self, level: VerificationLevel) -> bool {
        self.0 & level.bit() != 0
    }

    /// The levels in the set, lowest first.
    pub fn levels(self) -> Vec<VerificationLevel> {
        [VerificationLevel::Verified, VerificationLevel::Official]
            .into_iter()
            .filter(|l| self.contains(*l))
            .collect()
    }
}

/// A business's stable id, assigned by the platform: 16 bytes, the same
/// across certificate renewals and identity key changes. Clients pin
/// identities by it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BusinessId(pub [u8; 16]);

impl BusinessId {
    /// Parses 32 hex digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, pair) in b.chunks(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            out[i] = (hi * 16 + lo) as u8;
        }
        Some(Self(out))
    }
}

impl core::fmt::Display for BusinessId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl core::fmt::Debug for BusinessId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "BusinessId({self})")
    }
}

/// A validity window in Unix seconds, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Validity {
    /// First second of validity.
    pub not_before: u64,
    /// Last second of validity.
    pub not_after: u64,
}

impl Validity {
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.not_before.to_be_bytes());
        out.extend_from_slice(&self.not_after.to_be_bytes());
    }
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            not_before: r.u64("not before")?,
            not_after: r.u64("not after")?,
        })
    }
}

fn header(out: &mut Vec<u8>, obj_type: u8) {
    out.push(PROTOCOL_VERSION);
    out.push(obj_type);
}

/// A platform trust root: an id, an Ed25519 key and a validity window,
/// self-signed. Clients ship with one or more of these (see
/// [`TrustStore`](crate::business::TrustStore)); the self-signature only
/// guards against corruption, trust comes from how the root was delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustRoot {
    pub(crate) root_id: u32,
    pub(crate) key: Ed25519Public,
    pub(crate) validity: Validity,
    pub(crate) signature: [u8; 64],
}

impl TrustRoot {
    /// Encoded length: 2 + 4 + 33 + 16 + 64.
    pub const ENCODED_LEN: usize = 119;

    pub(crate) fn signed_part(root_id: u32, key: &Ed25519Public, validity: &Validity) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::ENCODED_LEN);
        header(&mut out, OBJ_TYPE_TRUST_ROOT);
        out.extend_from_slice(&root_id.to_be_bytes());
        key.encode_into(&mut out);
        validity.encode_into(&mut out);
        out
    }

    /// The root's id.
    pub fn root_id(&self) -> u32 {
        self.root_id
    }
    /// The root's public key.
    pub fn key(&self) -> &Ed25519Public {
        &self.key
    }
    /// The root's validity window.
    pub fn validity(&self) -> Validity {
        self.validity
    }

    /// The encoding (SPEC.md, "Trust root").
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Self::signed_part(self.root_id, &self.key, &self.validity);
        out.extend_from_slice(&self.signature);
        out
    }

    /// Decodes a trust root and checks its self-signature (strict).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TrustRootError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        r.object_type(OBJ_TYPE_TRUST_ROOT)?;
        let root_id = r.u32("root id")?;
        let key = r.ed25519("root key")?;
        let validity = Validity::read(&mut r)?;
        let signature = *r.array::<64>("root signature")?;
        r.finish()?;
        key.verify(
            SIG_CTX_TRUST_ROOT,
            &Self::signed_part(root_id, &key, &validity),
            &signature,
        )
        .map_err(|BadSignature| TrustRootError::BadSignature)?;
        Ok(Self {
            root_id,
            key,
            validity,
            signature,
        })
    }
}

/// Why a trust root was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustRootError {
    /// The bytes are malformed.
    #[error("malformed trust root: {0}")]
    Decode(#[from] DecodeError),
    /// The self-signature fails strict verification.
    #[error("trust root self-signature is invalid")]
    BadSignature,
}

/// An issuer certificate: a root certifies an issuer's key and the levels
/// it may issue. Decoded structurally; not trusted until validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerCertificate {
    pub(crate) issuer_id: u32,
    pub(crate) root_id: u32,
    pub(crate) key: Ed25519Public,
    pub(crate) allowed: LevelSet,
    pub(crate) validity: Validity,
    pub(crate) signature: [u8; 64],
}

impl IssuerCertificate {
    /// Encoded length: 2 + 4 + 4 + 33 + 1 + 16 + 64.
    pub const ENCODED_LEN: usize = 124;

    pub(crate) fn signed_part(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::ENCODED_LEN);
        header(&mut out, OBJ_TYPE_ISSUER_CERT);
        out.extend_from_slice(&self.issuer_id.to_be_bytes());
        out.extend_from_slice(&self.root_id.to_be_bytes());
        self.key.encode_into(&mut out);
        out.push(self.allowed.to_byte());
        self.validity.encode_into(&mut out);
        out
    }

    /// The issuer's id.
    pub fn issuer_id(&self) -> u32 {
        self.issuer_id
    }
    /// The id of the root that signed it.
    pub fn root_id(&self) -> u32 {
        self.root_id
    }
    /// The issuer's public key.
    pub fn key(&self) -> &Ed25519Public {
        &self.key
    }
    /// The levels it may certify.
    pub fn allowed_levels(&self) -> LevelSet {
        self.allowed
    }
    /// Its validity window.
    pub fn validity(&self) -> Validity {
        self.validity
    }

    /// The encoding (SPEC.md, "Issuer certificate").
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.signed_part();
        out.extend_from_slice(&self.signature);
        out
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version()?;
        r.object_type(OBJ_TYPE_ISSUER_CERT)?;
        Ok(Self {
            issuer_id: r.u32("issuer id")?,
            root_id: r.u32("root id")?,
            key: r.ed25519("issuer key")?,
            allowed: LevelSet::from_byte(r.u8("allowed levels")?)?,
            validity: Validity::read(r)?,
            signature: *r.array::<64>("issuer certificate signature")?,
        })
    }

    /// Decodes an issuer certificate strictly (no signature check).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let c = Self::read(&mut r)?;
        r.finish()?;
        Ok(c)
    }
}

/// A name in one language, as carried in a business certificate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocalizedName {
    /// A BCP 47 style language tag (`"ja"`, `"zh-Hant"`).
    pub language: String,
    /// The name in that language.
    pub name: String,
}

/// Appends a display name and its localized names in the certificate layout
/// (also used by the stored layout of a verified business). Lengths were
/// bounded when the certificate was made or decoded.
pub(crate) fn encode_names(name: &str, localized: &[LocalizedName], out: &mut Vec<u8>) {
    out.push(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
    out.push(localized.len() as u8);
    for l in localized {
        out.push(l.language.len() as u8);
        out.extend_from_slice(l.language.as_bytes());
        out.push(l.name.len() as u8);
        out.extend_from_slice(l.name.as_bytes());
    }
}

fn read_text(
    r: &mut Reader<'_>,
    len_field: &'static str,
    field: &'static str,
    min: usize,
) -> Result<String, DecodeError> {
    let len = usize::from(r.u8(len_field)?);
    if len < min {
        return Err(DecodeError::InvalidLength { field, len });
    }
    let bytes = r.take(len, field)?;
    core::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| DecodeError::InvalidUtf8(field))
}

/// Reads the layout of [`encode_names`] strictly: a non-empty name, at most
/// `MAX_LOCALIZED_NAMES` localized names with well-formed, strictly
/// ascending language tags.
pub(crate) fn read_names(r: &mut Reader<'_>) -> Result<(String, Vec<LocalizedName>), DecodeError> {
    let name = read_text(r, "name length", "name", 1)?;
    let count = usize::from(r.u8("localized name count")?);
    if count > MAX_LOCALIZED_NAMES {
        return Err(DecodeError::InvalidLength {
            field: "localized name count",
            len: count,
        });
    }
    let mut localized: Vec<LocalizedName> = Vec::with_capacity(count);
    for _ in 0..count {
        let language = read_text(r, "language tag length", "language tag", 0)?;
        if !language_tag_ok(language.as_bytes()) {
            return Err(DecodeError::NotCanonical("language tag"));
        }
        // Strictly ascending tags: one encoding per set, no duplicates.
        if localized.last().is_some_and(|p| p.language >= language) {
            return Err(DecodeError::NotCanonical("language tag order"));
        }
        let name = read_text(r, "localized name length", "localized name", 1)?;
        localized.push(LocalizedName { language, name });
    }
    Ok((name, localized))
}

/// A business certificate: an issuer certifies that an identity key belongs
/// to a business with this id, verified name and level, for a time.
/// Decoded structurally; not trusted until validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCertificate {
    pub(crate) serial: u64,
    pub(crate) business_id: BusinessId,
    pub(crate) issuer_id: u32,
    pub(crate) identity_key: Ed25519Public,
    pub(crate) level: VerificationLevel,
    pub(crate) validity: Validity,
    pub(crate) name: String,
    pub(crate) localized: Vec<LocalizedName>,
    pub(crate) signature: [u8; 64],
}

impl BusinessCertificate {
    pub(crate) fn signed_part(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96 + self.name.len());
        header(&mut out, OBJ_TYPE_BUSINESS_CERT);
        out.extend_from_slice(&self.serial.to_be_bytes());
        out.extend_from_slice(&self.business_id.0);
        out.extend_from_slice(&self.issuer_id.to_be_bytes());
        self.identity_key.encode_into(&mut out);
        out.push(self.level.to_byte());
        self.validity.encode_into(&mut out);
        encode_names(&self.name, &self.localized, &mut out);
        out
    }

    /// The serial number (unique per issuer).
    pub fn serial(&self) -> u64 {
        self.serial
    }
    /// The business's stable id.
    pub fn business_id(&self) -> BusinessId {
        self.business_id
    }
    /// The id of the issuer that signed it.
    pub fn issuer_id(&self) -> u32 {
        self.issuer_id
    }
    /// The business's Ed25519 identity key this certificate names.
    pub fn identity_key(&self) -> &Ed25519Public {
        &self.identity_key
    }
    /// The verification level.
    pub fn level(&self) -> VerificationLevel {
        self.level
    }
    /// The validity window.
    pub fn validity(&self) -> Validity {
        self.validity
    }
    /// The verified display name (not checked against the name rules
    /// until validation).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The localized names, by ascending language tag.
    pub fn localized_names(&self) -> &[LocalizedName] {
        &self.localized
    }

    /// The encoding (SPEC.md, "Business certificate").
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.signed_part();
        out.extend_from_slice(&self.signature);
        out
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version()?;
        r.object_type(OBJ_TYPE_BUSINESS_CERT)?;
        let serial = r.u64("serial")?;
        let business_id = BusinessId(*r.array::<16>("business id")?);
        let issuer_id = r.u32("issuer id")?;
        let identity_key = r.ed25519("business identity key")?;
        let level = VerificationLevel::from_byte(r.u8("verification level")?)?;
        let validity = Validity::read(r)?;
        let (name, localized) = read_names(r)?;
        let signature = *r.array::<64>("business certificate signature")?;
        Ok(Self {
            serial,
            business_id,
            issuer_id,
            identity_key,
            level,
            validity,
            name,
            localized,
            signature,
        })
    }

    /// Decodes a business certificate strictly (no signature check).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let c = Self::read(&mut r)?;
        r.finish()?;
        Ok(c)
    }
}

/// What a business publishes with its prekey bundle: its issuer's
/// certificate and its own. Decoded structurally; validated by
/// [`TrustStore::validate_chain`](crate::business::TrustStore::validate_chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateChain {
    pub(crate) issuer: IssuerCertificate,
    pub(crate) business: BusinessCertificate,
}

impl CertificateChain {
    /// A chain from its two certificates.
    pub fn new(issuer: IssuerCertificate, business: BusinessCertificate) -> Self {
        Self { issuer, business }
    }
    /// The issuer certificate.
    pub fn issuer(&self) -> &IssuerCertificate {
        &self.issuer
    }
    /// The business certificate.
    pub fn business(&self) -> &BusinessCertificate {
        &self.business
    }

    /// The encoding (SPEC.md, "Certificate chain").
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + IssuerCertificate::ENCODED_LEN + 400);
        self.encode_into(&mut out);
        out
    }

    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        header(out, OBJ_TYPE_CERT_CHAIN);
        out.extend_from_slice(&self.issuer.to_bytes());
        out.extend_from_slice(&self.business.to_bytes());
    }

    /// SHA-256 of the encoding: the value bound into the handshake
    /// transcript (SPEC.md, "Transcript hash").
    pub fn hash(&self) -> [u8; 32] {
        sha256(&self.to_bytes())
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version()?;
        r.object_type(OBJ_TYPE_CERT_CHAIN)?;
        let issuer = IssuerCertificate::read(r)?;
        let business = BusinessCertificate::read(r)?;
        Ok(Self { issuer, business })
    }

    /// Decodes a chain strictly (no signature check).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let c = Self::read(&mut r)?;
        r.finish()?;
        Ok(c)
    }
}

#[cfg(test)]
mod name_bounds_tests {
    use super::{LocalizedName, encode_names, read_names};
    use crate::constants::MAX_LOCALIZED_NAMES;
    use crate::wire::{DecodeError, Reader};

    fn read(bytes: &[u8]) -> Result<(String, Vec<LocalizedName>), DecodeError> {
        let mut r = Reader::new(bytes);
        let names = read_names(&mut r)?;
        r.finish()?;
        Ok(names)
    }

    /// `n` localized names with ascending two-letter tags ("aa", "ab"...).
    fn localized(n: usize) -> Vec<LocalizedName> {
        (0..n)
            .map(|i| LocalizedName {
                language: format!("a{}", char::from(b'a' + i as u8)),
                name: "N".repeat(i + 1),
            })
            .collect()
    }

    fn encoded(name: &str, localized: &[LocalizedName]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_names(name, localized, &mut out);
        out
    }

    #[test]
    fn names_of_one_byte_are_the_shortest_accepted() {
        // One-byte display and localized names: the shortest allowed.
        let one = localized(1);
        assert_eq!(one[0].name.len(), 1);
        assert_eq!(read(&encoded("A", &one)), Ok(("A".to_owned(), one.clone())));
        assert_eq!(
            read(&encoded("", &[])),
            Err(DecodeError::InvalidLength {
                field: "name",
                len: 0
            })
        );
        let mut empty_localized = one;
        empty_localized[0].name.clear();
        assert_eq!(
            read(&encoded("A", &empty_localized)),
            Err(DecodeError::InvalidLength {
                field: "localized name",
                len: 0
            })
        );
        // An empty language tag has no minimum length of its own; the tag
        // rules refuse it.
        let empty_tag = [LocalizedName {
            language: String::new(),
            name: "N".into(),
        }];
        assert_eq!(
            read(&encoded("A", &empty_tag)),
            Err(DecodeError::NotCanonical("language tag"))
        );
    }

    #[test]
    fn localized_names_up_to_the_maximum_in_ascending_order() {
        let most = localized(MAX_LOCALIZED_NAMES);
        assert_eq!(
            read(&encoded("A", &most)),
            Ok(("A".to_owned(), most.clone()))
        );
        assert_eq!(
            read(&encoded("A", &localized(MAX_LOCALIZED_NAMES + 1))),
            Err(DecodeError::InvalidLength {
                field: "localized name count",
                len: MAX_LOCALIZED_NAMES + 1
            })
        );
        for out_of_order in [
            vec![most[1].clone(), most[0].clone()],
            vec![most[0].clone(), most[0].clone()],
        ] {
            assert_eq!(
                read(&encoded("A", &out_of_order)),
                Err(DecodeError::NotCanonical("language tag order"))
            );
        }
    }
}

//! The issuer's index of the names it has issued, so that no business gets a
//! name that can be mistaken for another business's (SPEC.md, "Name rules").
//!
//! Clients warn about look-alikes among the businesses they know
//! ([`KnownBusinesses`](crate::business::KnownBusinesses)); the issuer can do
//! better, since it sees every name it ever certified. The index maps the
//! [`confusable_key`] of every display name and localized name issued to the
//! business id it was issued to. A name whose key is already held by
//! another business id is refused (exact duplicates included); the same
//! business id may use its names again, for renewals and renames.
//!
//! The index is persisted in a small strict binary format
//! ([`NameIndex::to_bytes`], [`NameIndex::from_bytes`]): decoding untrusted
//! bytes never panics and allocates no more than the input's size.

use std::collections::BTreeMap;

use crate::constants::MAX_NAME_BYTES;
use crate::wire::{DecodeError, Reader};

use super::certificate::BusinessId;
use super::names::confusable_key;

/// The first bytes of an encoded name index.
pub const NAME_INDEX_MAGIC: &[u8; 8] = b"HLNAMEIX";
/// The encoding version [`NameIndex::to_bytes`] writes.
pub const NAME_INDEX_VERSION: u8 = 2;
/// Version 1 held keys made before `confusable_key` folded `i` to `l`; it
/// is read and re-keyed from its names.
const NAME_INDEX_VERSION_1: u8 = 1;
/// Most names an index holds (a million: a hundred thousand businesses with
/// a display name and up to nine localized names each).
pub const MAX_NAME_INDEX_ENTRIES: usize = 1_000_000;
/// Longest look-alike key indexed, in UTF-8 bytes. A skeleton can be much
/// longer than its name (one character may map to eighteen); a name within
/// the name rules stays well below this.
pub const MAX_NAME_KEY_BYTES: usize = 16 * 1024;

/// Smallest encoded entry: business id, key length and one byte of key,
/// name length and one byte of name.
const MIN_ENTRY_LEN: usize = 16 + 2 + 1 + 1 + 1;

/// Why a name was refused, or an index could not be read. A refused check
/// or record leaves the index unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameIndexError {
    /// The name can be mistaken for one already issued to another business.
    #[error("{name:?} can be mistaken for {existing:?}, already issued to business {business_id}")]
    Confusable {
        /// The name asked for.
        name: String,
        /// The name issued before with the same look-alike key.
        existing: String,
        /// The business it was issued to.
        business_id: BusinessId,
    },
    /// The name is empty or longer than a verified name can be.
    #[error("{0:?} is not a name the index can hold (empty or over {MAX_NAME_BYTES} bytes)")]
    InvalidName(String),
    /// The name's look-alike key is longer than [`MAX_NAME_KEY_BYTES`].
    #[error("the look-alike key of {0:?} is too long to index")]
    KeyTooLong(String),
    /// The index already holds [`MAX_NAME_INDEX_ENTRIES`] names.
    #[error("the name index is full ({MAX_NAME_INDEX_ENTRIES} names)")]
    Full,
    /// The bytes do not start with [`NAME_INDEX_MAGIC`].
    #[error("not a name index (wrong magic bytes)")]
    NotAnIndex,
    /// The bytes are a name index but malformed.
    #[error("malformed name index: {0}")]
    Decode(#[from] DecodeError),
}

/// A name as recorded in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedName {
    /// The business the name was issued to.
    pub business_id: BusinessId,
    /// The name as issued most recently with this key.
    pub name: String,
}

/// The look-alike keys of every name an issuer issued, each with the
/// business id it belongs to.
///
/// ```
/// use hotline::business::{BusinessId, NameIndex, NameIndexError};
/// let (booking, other) = (BusinessId([1; 16]), BusinessId([2; 16]));
/// let mut index = NameIndex::new();
/// index.record(booking, ["Booking.com"])?;
/// // Another business may not take a look-alike...
/// assert!(matches!(
///     index.check(other, ["Booking.corn"]),
///     Err(NameIndexError::Confusable { .. })
/// ));
/// // ...but the same business may renew under its name.
/// index.check(booking, ["Booking.com"])?;
/// let saved = index.to_bytes();
/// assert_eq!(NameIndex::from_bytes(&saved)?, index);
/// # Ok::<(), NameIndexError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameIndex {
    /// Look-alike key to the name that holds it.
    entries: BTreeMap<String, IndexedName>,
}

/// The look-alike key of a name, within the index's bounds.
fn key_of(name: &str) -> Result<String, NameIndexError> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(NameIndexError::InvalidName(name.to_owned()));
    }
    let key = confusable_key(name);
    if key.is_empty() || key.len() > MAX_NAME_KEY_BYTES {
        return Err(NameIndexError::KeyTooLong(name.to_owned()));
    }
    Ok(key)
}

impl NameIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many look-alike keys it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry as (look-alike key, name), in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &IndexedName)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Whether `business_id` may be issued all of `names`: refuses the
    /// first name whose look-alike key is held by another business id.
    pub fn check<'a>(
        &self,
        business_id: BusinessId,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), NameIndexError> {
        for name in names {
            self.check_one(business_id, name)?;
        }
        Ok(())
    }

    fn check_one(&self, business_id: BusinessId, name: &str) -> Result<String, NameIndexError> {
        let key = key_of(name)?;
        match self.entries.get(&key) {
            Some(held) if held.business_id != business_id => Err(NameIndexError::Confusable {
                name: name.to_owned(),
                existing: held.name.clone(),
                business_id: held.business_id,
            }),
            _ => Ok(key),
        }
    }

    /// Checks `names` as [`check`](Self::check) does, then records them for
    /// `business_id`. All or nothing: on an error the index is unchanged.
    pub fn record<'a>(
        &mut self,
        business_id: BusinessId,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), NameIndexError> {
        let mut keyed = Vec::new();
        for name in names {
            keyed.push((self.check_one(business_id, name)?, name));
        }
        let new_keys = keyed
            .iter()
            .filter(|(k, _)| !self.entries.contains_key(k))
            .map(|(k, _)| k)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        if self.entries.len().saturating_add(new_keys) > MAX_NAME_INDEX_ENTRIES {
            return Err(NameIndexError::Full);
        }
        for (key, name) in keyed {
            self.entries.insert(
                key,
                IndexedName {
                    business_id,
                    name: name.to_owned(),
                },
            );
        }
        Ok(())
    }

    /// The encoding: [`NAME_INDEX_MAGIC`], the version byte, a `u32` entry
    /// count, then per entry in ascending key order the business id (16
    /// bytes), the key (`u16` length, UTF-8) and the name (`u8` length,
    /// UTF-8). Integers are big-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            NAME_INDEX_MAGIC.len()
                + 5
                + self
                    .entries
                    .iter()
                    .map(|(k, v)| 16 + 2 + k.len() + 1 + v.name.len())
                    .sum::<usize>(),
        );
        out.extend_from_slice(NAME_INDEX_MAGIC);
        out.push(NAME_INDEX_VERSION);
        // Bounded by MAX_NAME_INDEX_ENTRIES, and each key and name by
        // MAX_NAME_KEY_BYTES and MAX_NAME_BYTES when recorded.
        out.extend_from_slice(&(self.entries.len() as u32).to_be_bytes());
        for (key, held) in &self.entries {
            out.extend_from_slice(&held.business_id.0);
            out.extend_from_slice(&(key.len() as u16).to_be_bytes());
            out.extend_from_slice(key.as_bytes());
            out.push(held.name.len() as u8);
            out.extend_from_slice(held.name.as_bytes());
        }
        out
    }

    /// Decodes strictly: the magic, version 1, a count within bounds and
    /// the bytes left, keys in strictly ascending order, lengths within
    /// bounds, valid UTF-8, no trailing bytes. Counts are checked before
    /// anything is allocated.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, NameIndexError> {
        let mut r = Reader::new(bytes);
        let magic = r
            .take(NAME_INDEX_MAGIC.len(), "name index magic")
            .map_err(|_| NameIndexError::NotAnIndex)?;
        if magic != NAME_INDEX_MAGIC {
            return Err(NameIndexError::NotAnIndex);
        }
        let version = match r.u8("name index version")? {
            v @ (NAME_INDEX_VERSION | NAME_INDEX_VERSION_1) => v,
            v => return Err(DecodeError::UnknownVersion(v).into()),
        };
        let count = r.u32("name index count")? as usize;
        if count > MAX_NAME_INDEX_ENTRIES || count.saturating_mul(MIN_ENTRY_LEN) > r.remaining() {
            return Err(DecodeError::InvalidLength {
                field: "name index count",
                len: count,
            }
            .into());
        }
        let mut entries = BTreeMap::new();
        let mut last: Option<&[u8]> = None;
        for _ in 0..count {
            let business_id = BusinessId(*r.array::<16>("business id")?);
            let key_len = usize::from(r.u16("key length")?);
            if key_len == 0 || key_len > MAX_NAME_KEY_BYTES {
                return Err(DecodeError::InvalidLength {
                    field: "look-alike key",
                    len: key_len,
                }
                .into());
            }
            let key = r.take(key_len, "look-alike key")?;
            // Strictly ascending keys: one encoding, no duplicates.
            if last.is_some_and(|prev| prev >= key) {
                return Err(DecodeError::NotCanonical("look-alike key order").into());
            }
            last = Some(key);
            let key = std::str::from_utf8(key).map_err(|_| DecodeError::InvalidUtf8("key"))?;
            let name_len = usize::from(r.u8("name length")?);
            if name_len == 0 || name_len > MAX_NAME_BYTES {
                return Err(DecodeError::InvalidLength {
                    field: "name",
                    len: name_len,
                }
                .into());
            }
            let name = std::str::from_utf8(r.take(name_len, "name")?)
                .map_err(|_| DecodeError::InvalidUtf8("name"))?;
            entries.insert(
                key.to_owned(),
                IndexedName {
                    business_id,
                    name: name.to_owned(),
                },
            );
        }
        r.finish()?;
        if version == NAME_INDEX_VERSION_1 {
            return Ok(Self::rekeyed(entries));
        }
        Ok(Self { entries })
    }

    /// Re-keys entries of version 1 with today's [`confusable_key`]. Names
    /// whose new keys meet keep the first in old key order: every
    /// look-alike of a dropped name has the kept name's key, so it stays
    /// refused for other businesses.
    fn rekeyed(old: BTreeMap<String, IndexedName>) -> Self {
        let mut entries = BTreeMap::new();
        for (_, named) in old {
            if let Ok(key) = key_of(&named.name) {
                entries.entry(key).or_insert(named);
            }
        }
        Self { entries }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: BusinessId = BusinessId([0xaa; 16]);
    const B: BusinessId = BusinessId([0xbb; 16]);

    fn sample() -> NameIndex {
        let mut index = NameIndex::new();
        index.record(A, ["Booking.com", "ブッキング"]).unwrap();
        index.record(B, ["KLM", "Skyline Travel BV"]).unwrap();
        index
    }

    #[test]
    fn look_alikes_of_another_business_are_refused() {
        let index = sample();
        for name in ["Booking.com", "booking.com", "Booking.corn", "B00king.com"] {
            match index.check(B, [name]) {
                Err(NameIndexError::Confusable {
                    name: n,
                    existing,
                    business_id,
                }) => {
                    assert_eq!(
                        (n.as_str(), existing.as_str(), business_id),
                        (name, "Booking.com", A)
                    );
                }
                other => panic!("{name:?}: {other:?}"),
            }
        }
        // A localized name counts as much as a display name.
        assert!(matches!(
            index.check(A, ["Air France", "KLM"]),
            Err(NameIndexError::Confusable { business_id: B, .. })
        ));
        assert!(index.check(B, ["Booking"]).is_ok());
    }

    #[test]
    fn the_same_business_renews_and_renames() {
        let mut index = sample();
        index.check(A, ["Booking.com", "booking.com"]).unwrap();
        index
            .record(A, ["Booking.com", "Booking Holdings"])
            .unwrap();
        assert_eq!(index.len(), 5);
        // The old name stays reserved for A after a rename.
        assert!(index.check(B, ["ブッキング"]).is_err());
    }

    #[test]
    fn a_refused_record_changes_nothing() {
        let mut index = sample();
        let before = index.clone();
        assert!(index.record(A, ["Fresh Name", "K1M"]).is_err());
        assert_eq!(index, before);
        assert!(matches!(
            index.record(A, [""]),
            Err(NameIndexError::InvalidName(_))
        ));
        let long = "a".repeat(MAX_NAME_BYTES + 1);
        assert!(matches!(
            index.record(A, [long.as_str()]),
            Err(NameIndexError::InvalidName(_))
        ));
        assert_eq!(index, before);
    }

    #[test]
    fn encoding_round_trips() {
        let index = sample();
        let bytes = index.to_bytes();
        assert_eq!(NameIndex::from_bytes(&bytes).unwrap(), index);
        let empty = NameIndex::new();
        assert_eq!(NameIndex::from_bytes(&empty.to_bytes()).unwrap(), empty);
        assert_eq!(empty.to_bytes().len(), NAME_INDEX_MAGIC.len() + 5);
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = sample().to_bytes();
        for n in 0..bytes.len() {
            assert!(NameIndex::from_bytes(&bytes[..n]).is_err(), "prefix {n}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            NameIndex::from_bytes(&longer),
            Err(NameIndexError::Decode(DecodeError::TrailingBytes(1)))
        );
    }

    /// Version 1 keys predate the i-to-l fold: they are recomputed from the
    /// names, so the all-capitals spelling of an indexed name is refused.
    #[test]
    fn version_1_indexes_are_rekeyed_from_their_names() {
        let entry = |id: u8, key: &str, name: &str| {
            let mut e = vec![id; 16];
            e.extend_from_slice(&(key.len() as u16).to_be_bytes());
            e.extend_from_slice(key.as_bytes());
            e.push(name.len() as u8);
            e.extend_from_slice(name.as_bytes());
            e
        };
        let mut v1 = NAME_INDEX_MAGIC.to_vec();
        v1.push(NAME_INDEX_VERSION_1);
        v1.extend_from_slice(&3u32.to_be_bytes());
        // Old keys: no fold. Two of them fold to one key.
        v1.extend(entry(1, "booking.com", "Booking.com"));
        v1.extend(entry(2, "booklng.com", "BOOKlNG.COM"));
        v1.extend(entry(3, "klm", "KLM"));
        let index = NameIndex::from_bytes(&v1).unwrap();
        assert_eq!(index.len(), 2);
        let booking = BusinessId([1; 16]);
        let other = BusinessId([9; 16]);
        assert!(index.check(booking, ["Booking.com"]).is_ok());
        assert!(matches!(
            index.check(other, ["BOOKING.COM"]),
            Err(NameIndexError::Confusable { business_id, .. }) if business_id == booking
        ));
        // Written back as the current version, which reads back the same.
        let again = index.to_bytes();
        assert_eq!(again[NAME_INDEX_MAGIC.len()], NAME_INDEX_VERSION);
        assert_eq!(NameIndex::from_bytes(&again).unwrap(), index);
    }

    #[test]
    fn hostile_counts_are_refused_before_allocating() {
        for count in [u32::MAX, MAX_NAME_INDEX_ENTRIES as u32 + 1, 1] {
            let mut bytes = NAME_INDEX_MAGIC.to_vec();
            bytes.push(NAME_INDEX_VERSION);
            bytes.extend_from_slice(&count.to_be_bytes());
            // Fewer bytes than even one entry needs.
            bytes.extend_from_slice(&[0; MIN_ENTRY_LEN - 1]);
            assert_eq!(
                NameIndex::from_bytes(&bytes),
                Err(NameIndexError::Decode(DecodeError::InvalidLength {
                    field: "name index count",
                    len: count as usize,
                }))
            );
        }
    }

    #[test]
    fn malformed_fields_are_refused() {
        let good = sample().to_bytes();
        let mut bad_magic = good.clone();
        bad_magic[0] ^= 1;
        assert_eq!(
            NameIndex::from_bytes(&bad_magic),
            Err(NameIndexError::NotAnIndex)
        );
        let mut bad_version = good.clone();
        bad_version[NAME_INDEX_MAGIC.len()] = 3;
        assert_eq!(
            NameIndex::from_bytes(&bad_version),
            Err(NameIndexError::Decode(DecodeError::UnknownVersion(3)))
        );

        let entry = |key: &[u8], name: &[u8]| {
            let mut e = vec![0u8; 16];
            e.extend_from_slice(&(key.len() as u16).to_be_bytes());
            e.extend_from_slice(key);
            e.push(name.len() as u8);
            e.extend_from_slice(name);
            e
        };
        let with = |entries: &[Vec<u8>]| {
            let mut b = NAME_INDEX_MAGIC.to_vec();
            b.push(NAME_INDEX_VERSION);
            b.extend_from_slice(&(entries.len() as u32).to_be_bytes());
            for e in entries {
                b.extend_from_slice(e);
            }
            b
        };
        assert!(NameIndex::from_bytes(&with(&[entry(b"a", b"A")])).is_ok());
        for (bytes, why) in [
            (
                with(&[entry(b"b", b"B"), entry(b"a", b"A")]),
                "descending keys",
            ),
            (
                with(&[entry(b"a", b"A"), entry(b"a", b"A")]),
                "repeated key",
            ),
            (with(&[entry(b"\xff", b"A")]), "key not UTF-8"),
            (with(&[entry(b"a", b"\xc3")]), "name not UTF-8"),
            (with(&[entry(b"a", b""), vec![0; 8]]), "empty name"),
            (with(&[entry(b"", b"AA")]), "empty key"),
        ] {
            assert!(NameIndex::from_bytes(&bytes).is_err(), "{why}");
        }
        // A key length over the bound is refused before reading the key.
        let mut huge = with(&[]);
        huge[NAME_INDEX_MAGIC.len() + 4] = 1;
        huge.extend_from_slice(&[0; 16]);
        huge.extend_from_slice(&(MAX_NAME_KEY_BYTES as u16 + 1).to_be_bytes());
        huge.extend_from_slice(&[b'a'; MIN_ENTRY_LEN]);
        assert_eq!(
            NameIndex::from_bytes(&huge),
            Err(NameIndexError::Decode(DecodeError::InvalidLength {
                field: "look-alike key",
                len: MAX_NAME_KEY_BYTES + 1,
            }))
        );
    }
}

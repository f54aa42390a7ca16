//! Strict binary decoding and encoding.
//!
//! Parsing is total: every byte string yields a value or a [`DecodeError`]
//! that names what was wrong. Lengths are fixed or checked against declared
//! maxima before anything is allocated, and trailing bytes are refused.

use crate::constants::{
    ED25519_LEN, KEY_TYPE_ED25519, KEY_TYPE_MLKEM768, KEY_TYPE_X25519, MLKEM768_EK_LEN,
    PROTOCOL_VERSION, X25519_LEN,
};
use crate::primitives::ed25519::Ed25519Public;
use crate::primitives::kem::KemPublic;
use crate::primitives::x25519::X25519Public;

/// Why a byte string could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before the named field was complete.
    #[error("input truncated while reading {0}")]
    Truncated(&'static str),
    /// Bytes remained after the last field.
    #[error("{0} trailing bytes after the end of the object")]
    TrailingBytes(usize),
    /// The version byte names a version this implementation does not speak.
    #[error("unknown version {0:#04x}")]
    UnknownVersion(u8),
    /// The type byte names no known message or object type.
    #[error("unknown message or object type {0:#04x}")]
    UnknownType(u8),
    /// A key's type tag is unknown.
    #[error("unknown key type {0:#04x}")]
    UnknownKeyType(u8),
    /// A key's type tag is known but not the one this field requires.
    #[error("wrong key type: expected {expected:#04x}, found {found:#04x}")]
    WrongKeyType {
        /// The tag the field requires.
        expected: u8,
        /// The tag found.
        found: u8,
    },
    /// A field held a value outside its allowed set (a flag, a kind).
    #[error("invalid value {value:#04x} for {field}")]
    InvalidValue {
        /// The field.
        field: &'static str,
        /// The value found.
        value: u8,
    },
    /// An Ed25519 public key is not a canonical point or is of small order.
    #[error("invalid Ed25519 public key")]
    InvalidEd25519Key,
    /// An ML-KEM-768 encapsulation key failed the FIPS 203 modulus check.
    #[error("invalid ML-KEM-768 encapsulation key")]
    InvalidKemKey,
    /// The type byte names a known object type, but not the one expected
    /// here (for example a business certificate where an issuer certificate
    /// belongs).
    #[error("wrong object type: expected {expected:#04x}, found {found:#04x}")]
    WrongObjectType {
        /// The type the field requires.
        expected: u8,
        /// The type found.
        found: u8,
    },
    /// A text field is not valid UTF-8.
    #[error("{0} is not valid UTF-8")]
    InvalidUtf8(&'static str),
    /// A field is well-formed but not in its one canonical form (for
    /// example list entries not strictly ascending).
    #[error("{0} is not in canonical form")]
    NotCanonical(&'static str),
    /// A length is outside the range the format allows.
    #[error("invalid length {len} for {field}")]
    InvalidLength {
        /// The field.
        field: &'static str,
        /// The length found.
        len: usize,
    },
}

/// A cursor over untrusted input.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated(what));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<&'a [u8; N], DecodeError> {
        let s = self.take(N, what)?;
        s.try_into().map_err(|_| DecodeError::Truncated(what))
    }

    /// The next byte, without consuming it.
    pub(crate) fn peek_u8(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(*self.array::<2>(what)?))
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(*self.array::<4>(what)?))
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(*self.array::<8>(what)?))
    }

    /// A `u32` length prefix checked against `max` before anything is
    /// allocated or read, then that many bytes.
    pub(crate) fn bytes_u32(
        &mut self,
        max: usize,
        what: &'static str,
    ) -> Result<&'a [u8], DecodeError> {
        let len = self.u32(what)? as usize;
        if len > max {
            return Err(DecodeError::InvalidLength { field: what, len });
        }
        self.take(len, what)
    }

    /// A `u16` element count checked against `max` (and against the bytes
    /// left, at `min_item` bytes per element) before any allocation.
    pub(crate) fn count_u16(
        &mut self,
        max: usize,
        min_item: usize,
        what: &'static str,
    ) -> Result<usize, DecodeError> {
        let n = self.u16(what)? as usize;
        if n > max || n.saturating_mul(min_item) > self.remaining() {
            return Err(DecodeError::InvalidLength {
                field: what,
                len: n,
            });
        }
        Ok(n)
    }

    /// Reads an object type byte: `expected`, or `WrongObjectType` for
    /// another object type of the registry (SPEC.md 4.1), or `UnknownType`.
    pub(crate) fn object_type(&mut self, expected: u8) -> Result<(), DecodeError> {
        use crate::constants::{
            OBJ_TYPE_BLOCK, OBJ_TYPE_BUNDLE, OBJ_TYPE_BUSINESS_CERT, OBJ_TYPE_CERT_CHAIN,
            OBJ_TYPE_CERT_STATUS, OBJ_TYPE_CONSENT, OBJ_TYPE_ENVELOPE, OBJ_TYPE_ISSUER_CERT,
            OBJ_TYPE_RECEIPT, OBJ_TYPE_RELAY_REQUEST, OBJ_TYPE_RELAY_RESPONSE,
            OBJ_TYPE_REVOCATION_LIST, OBJ_TYPE_STATEMENT, OBJ_TYPE_TEMPLATE, OBJ_TYPE_TRUST_ROOT,
        };
        match self.u8("object type")? {
            t if t == expected => Ok(()),
            found @ (OBJ_TYPE_BUNDLE
            | OBJ_TYPE_TRUST_ROOT
            | OBJ_TYPE_ISSUER_CERT
            | OBJ_TYPE_BUSINESS_CERT
            | OBJ_TYPE_CERT_CHAIN
            | OBJ_TYPE_REVOCATION_LIST
            | OBJ_TYPE_CERT_STATUS
            | OBJ_TYPE_TEMPLATE
            | OBJ_TYPE_RELAY_REQUEST
            | OBJ_TYPE_RELAY_RESPONSE
            | OBJ_TYPE_ENVELOPE
            | OBJ_TYPE_CONSENT
            | OBJ_TYPE_BLOCK
            | OBJ_TYPE_RECEIPT
            | OBJ_TYPE_STATEMENT) => Err(DecodeError::WrongObjectType { expected, found }),
            other => Err(DecodeError::UnknownType(other)),
        }
    }

    /// The rest of the input.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }

    /// Reads the version byte and refuses anything but [`PROTOCOL_VERSION`].
    pub(crate) fn version(&mut self) -> Result<(), DecodeError> {
        match self.u8("version")? {
            PROTOCOL_VERSION => Ok(()),
            v => Err(DecodeError::UnknownVersion(v)),
        }
    }

    fn key_tag(&mut self, expected: u8, what: &'static str) -> Result<(), DecodeError> {
        let found = self.u8(what)?;
        match found {
            t if t == expected => Ok(()),
            KEY_TYPE_X25519 | KEY_TYPE_ED25519 | KEY_TYPE_MLKEM768 => {
                Err(DecodeError::WrongKeyType { expected, found })
            }
            other => Err(DecodeError::UnknownKeyType(other)),
        }
    }

    pub(crate) fn x25519(&mut self, what: &'static str) -> Result<X25519Public, DecodeError> {
        self.key_tag(KEY_TYPE_X25519, what)?;
        Ok(X25519Public::from_bytes(*self.array::<X25519_LEN>(what)?))
    }

    pub(crate) fn ed25519(&mut self, what: &'static str) -> Result<Ed25519Public, DecodeError> {
        self.key_tag(KEY_TYPE_ED25519, what)?;
        Ed25519Public::from_bytes(self.array::<ED25519_LEN>(what)?)
            .map_err(|_| DecodeError::InvalidEd25519Key)
    }

    pub(crate) fn mlkem(&mut self, what: &'static str) -> Result<KemPublic, DecodeError> {
        self.key_tag(KEY_TYPE_MLKEM768, what)?;
        KemPublic::from_bytes(self.array::<MLKEM768_EK_LEN>(what)?)
            .map_err(|_| DecodeError::InvalidKemKey)
    }

    /// Refuses trailing bytes.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }
}

/// Typed key encodings: a one-byte type tag then the raw key. The tags are
/// pairwise distinct and every field names the one tag it accepts, so no key
/// can be read as another kind (X25519 and Ed25519 encodings share a length;
/// only the tag separates them, and it is always checked).
pub(crate) trait KeyEncoding {
    fn encode_into(&self, out: &mut Vec<u8>);
}

impl KeyEncoding for X25519Public {
    fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(KEY_TYPE_X25519);
        out.extend_from_slice(self.as_bytes());
    }
}

impl KeyEncoding for Ed25519Public {
    fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(KEY_TYPE_ED25519);
        out.extend_from_slice(&self.to_bytes());
    }
}

impl KeyEncoding for KemPublic {
    fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(KEY_TYPE_MLKEM768);
        out.extend_from_slice(self.as_bytes());
    }
}

/// The typed encoding of an X25519 key as a fixed array (no allocation).
pub(crate) fn x25519_encoded(key: &X25519Public) -> [u8; 33] {
    let mut out = [0u8; 33];
    out[0] = KEY_TYPE_X25519;
    out[1..].copy_from_slice(key.as_bytes());
    out
}

#[cfg(test)]
mod count_tests {
    use super::{DecodeError, Reader};

    /// A count prefix followed by `rest` bytes.
    fn input(count: u16, rest: usize) -> Vec<u8> {
        let mut b = count.to_be_bytes().to_vec();
        b.resize(2 + rest, 0);
        b
    }

    fn read(count: u16, rest: usize, max: usize, min_item: usize) -> Result<usize, DecodeError> {
        Reader::new(&input(count, rest)).count_u16(max, min_item, "items")
    }

    #[test]
    fn a_count_is_checked_against_its_maximum_and_the_bytes_left() {
        let refused = |len| {
            Err(DecodeError::InvalidLength {
                field: "items",
                len,
            })
        };
        // At the maximum, with exactly enough bytes: accepted.
        assert_eq!(read(4, 8, 4, 2), Ok(4));
        // One above the maximum, although the bytes left would hold it.
        assert_eq!(read(5, 100, 4, 2), refused(5));
        // Within the maximum, but one element's bytes short.
        assert_eq!(read(4, 7, 4, 2), refused(4));
        // A count far above anything the input could hold never overflows.
        assert_eq!(read(u16::MAX, 0, usize::MAX, usize::MAX), refused(65_535));
        assert_eq!(read(0, 0, 0, 8), Ok(0));
    }
}

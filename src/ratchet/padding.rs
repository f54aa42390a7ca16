//! Length hiding: Padmé padding with a floor.
//!
//! A plaintext of length `L` is followed by one `0x80` byte and then zero
//! bytes up to `padded_len(L) = max(MIN_PADDED_LEN, padme(L + 1))`.
//!
//! Why Padmé rather than fixed buckets: its overhead is at most 12 % at every
//! size, while it leaks only O(log log L) bits of the length; fixed
//! power-of-two buckets cost up to 100 %. The floor of 64 bytes makes every
//! short chat reply ("yes", "ok", a booking code) the same size on the wire,
//! where Padmé alone would leave small lengths almost exact.

use crate::constants::{
    MAX_PLAINTEXT_LEN, MIN_PADDED_LEN, PQ_CHUNK_CT, PQ_CHUNK_EK, PQ_TRAILER_LEN,
};

/// Padmé (Nikitin et al., PETS 2019): rounds `len` up so that only the top
/// `floor(log2(floor(log2 len))) + 1` bits of it remain significant.
pub const fn padme(len: usize) -> usize {
    if len < 2 {
        return len;
    }
    let e = usize::BITS - 1 - len.leading_zeros(); // floor(log2 len)
    let s = u32::BITS - e.leading_zeros(); // floor(log2 e) + 1
    let last_bits = e - s;
    let mask = (1usize << last_bits) - 1;
    (len + mask) & !mask
}

/// Length of the padded plaintext for a plaintext of `len` bytes.
pub const fn padded_len(len: usize) -> usize {
    let p = padme(len + 1);
    if p < MIN_PADDED_LEN {
        MIN_PADDED_LEN
    } else {
        p
    }
}

/// Largest padded plaintext (that of a [`MAX_PLAINTEXT_LEN`] plaintext).
pub const MAX_PADDED_LEN: usize = padded_len(MAX_PLAINTEXT_LEN);

/// Whether `len` is a length that [`padded_len`] can produce (checked before
/// decryption so malformed messages are refused cheaply).
pub fn is_valid_padded_len(len: usize) -> bool {
    (MIN_PADDED_LEN..=MAX_PADDED_LEN).contains(&len) && (len == MIN_PADDED_LEN || padme(len) == len)
}

/// Writes `plaintext || 0x80 || 0x00*` into `out` (exactly `padded_len` bytes).
pub(crate) fn pad_into(plaintext: &[u8], out: &mut Vec<u8>) {
    let total = padded_len(plaintext.len());
    out.extend_from_slice(plaintext);
    out.push(0x80);
    out.resize(out.len() + (total - plaintext.len() - 1), 0);
}

/// Returns the plaintext length of a padded buffer, or `None` if the padding
/// is not exactly what [`pad_into`] would write for that length.
pub(crate) fn unpadded_len(padded: &[u8]) -> Option<usize> {
    let end = padded.iter().rposition(|&b| b != 0)?;
    if padded[end] != 0x80 || padded_len(end) != padded.len() {
        return None;
    }
    Some(end)
}

/// Length of the padded body carrying a post-quantum chunk trailer after a
/// plaintext of `len` bytes: `padded_len(len + PQ_TRAILER_LEN)`.
pub(crate) const fn padded_len_with_trailer(len: usize) -> usize {
    padded_len(len + PQ_TRAILER_LEN)
}

/// Writes `plaintext || 0x80 || 0x00* || trailer`, exactly
/// [`padded_len_with_trailer`] bytes.
pub(crate) fn pad_with_trailer_into(
    plaintext: &[u8],
    trailer: &[u8; PQ_TRAILER_LEN],
    out: &mut Vec<u8>,
) {
    let total = padded_len_with_trailer(plaintext.len());
    out.extend_from_slice(plaintext);
    out.push(0x80);
    out.resize(
        out.len() + (total - plaintext.len() - 1 - PQ_TRAILER_LEN),
        0,
    );
    out.extend_from_slice(trailer);
}

/// Unpads a body of a session running the post-quantum ratchet: returns the
/// plaintext length and the chunk trailer, if the last byte names a chunk
/// kind (`0x01` or `0x02`); otherwise the body must be padded as
/// [`pad_into`] writes it. `None` if the padding is not canonical.
pub(crate) fn unpad_with_trailer(padded: &[u8]) -> Option<(usize, Option<&[u8; PQ_TRAILER_LEN]>)> {
    let last = *padded.last()?;
    if last != PQ_CHUNK_EK && last != PQ_CHUNK_CT {
        return unpadded_len(padded).map(|l| (l, None));
    }
    let split = padded.len().checked_sub(PQ_TRAILER_LEN)?;
    let (region, trailer) = padded.split_at(split);
    let end = region.iter().rposition(|&b| b != 0)?;
    if region[end] != 0x80 || padded_len_with_trailer(end) != padded.len() {
        return None;
    }
    Some((end, Some(trailer.try_into().ok()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padme_known_values() {
        // Values from the Padmé paper's definition, computed by hand.
        assert_eq!(padme(101), 104);
        assert_eq!(padme(1025), 1088);
        assert_eq!(padme(16385), 17408);
        assert_eq!(padded_len(0), 64);
        assert_eq!(padded_len(63), 64);
        assert_eq!(padded_len(64), 72);
    }

    #[test]
    fn every_length_round_trips_and_overhead_is_bounded() {
        for len in 0..=MAX_PLAINTEXT_LEN {
            let p = padded_len(len);
            assert!(p > len);
            assert!(is_valid_padded_len(p), "{len} -> {p}");
            if len >= MIN_PADDED_LEN {
                assert!((p - len) * 100 <= (len + 1) * 12 + 100, "{len} -> {p}");
            }
        }
        let mut buf = Vec::new();
        for len in [0usize, 1, 62, 63, 64, 100, 1000, 65_536] {
            buf.clear();
            let pt: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            pad_into(&pt, &mut buf);
            assert_eq!(buf.len(), padded_len(len));
            assert_eq!(unpadded_len(&buf), Some(len));
        }
    }

    #[test]
    fn non_canonical_padding_is_refused() {
        let mut buf = Vec::new();
        pad_into(b"hi", &mut buf);
        let mut extra = buf.clone();
        extra.extend_from_slice(&[0u8; 4]);
        assert_eq!(unpadded_len(&extra), None);
        let mut no_marker = buf.clone();
        no_marker[2] = 0x01;
        assert_eq!(unpadded_len(&no_marker), None);
        assert_eq!(unpadded_len(&[0u8; 64]), None);
    }
}

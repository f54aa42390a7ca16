//! Sealing arbitrary bytes as a storage record (SPEC.md 15.2 and 15.3),
//! written here from the specification with the primitive layer, so that the
//! `store_restore` target reaches the state decoders behind the record's tag
//! (a mutated genuine record only ever fails authentication).

use hotline::hazmat::aead::{open_in_place, seal_in_place};
use hotline::store::StorageKey;

/// `LABEL_STORAGE_RECORD` (SPEC.md 15.1).
const LABEL_STORAGE_RECORD: &[u8] = b"Hotline storage record";
/// `RECORD_HEADER_LEN` (SPEC.md 15.1).
const HEADER_LEN: usize = 26;
/// Every record the harness seals uses this nonce: its records protect
/// nothing, and a fixed nonce keeps the target deterministic.
const NONCE: [u8; 12] = [0x4e; 12];

/// The record kinds (SPEC.md 15.1) the target restores.
pub const RECORD_IDENTITY: u8 = 0x01;
/// Prekey store.
pub const RECORD_PREKEYS: u8 = 0x02;
/// One session.
pub const RECORD_SESSION: u8 = 0x03;
/// The sessions with one peer.
pub const RECORD_PEER_SESSIONS: u8 = 0x04;

fn associated_data(header: &[u8], name: &[u8]) -> Vec<u8> {
    let mut ad = Vec::with_capacity(LABEL_STORAGE_RECORD.len() + header.len() + 1 + name.len());
    ad.extend_from_slice(LABEL_STORAGE_RECORD);
    ad.extend_from_slice(header);
    ad.push(u8::try_from(name.len()).expect("names are at most 255 bytes"));
    ad.extend_from_slice(name);
    ad
}

/// `plaintext` sealed as a record of `version` and `kind` stored under
/// `name` (empty except for per-peer kinds).
pub fn seal_record(
    key: &StorageKey,
    version: u8,
    kind: u8,
    name: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + 16);
    out.push(version);
    out.push(kind);
    out.extend_from_slice(&key.key_id());
    out.extend_from_slice(&NONCE);
    let len = u32::try_from(plaintext.len()).expect("fuzz inputs are small");
    out.extend_from_slice(&len.to_be_bytes());
    let ad = associated_data(&out, name);
    out.extend_from_slice(plaintext);
    let tag = seal_in_place(key.as_bytes(), &NONCE, &ad, &mut out[HEADER_LEN..])
        .expect("the AEAD seals any small input");
    out.extend_from_slice(&tag);
    out
}

/// The version, kind and plaintext of a genuine record (for seed
/// generation); `None` if it does not authenticate.
pub fn open_record(key: &StorageKey, name: &[u8], record: &[u8]) -> Option<(u8, u8, Vec<u8>)> {
    if record.len() < HEADER_LEN + 16 {
        return None;
    }
    let (header, rest) = record.split_at(HEADER_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - 16);
    let nonce: [u8; 12] = header[10..22].try_into().ok()?;
    let mut plaintext = ciphertext.to_vec();
    open_in_place(
        key.as_bytes(),
        &nonce,
        &associated_data(header, name),
        &mut plaintext,
        tag.try_into().ok()?,
    )
    .ok()?;
    Some((header[0], header[1], plaintext))
}

//! Constants of the storage format (SPEC.md, section 15). Re-exported from
//! [`crate::constants`]; changing one changes the stored format and must
//! change SPEC.md and `tests/vectors/storage.json` in the same commit.

/// Version byte written into every new record.
pub const STORAGE_VERSION: u8 = 0x03;
/// The second record version: still read. Its layouts are those of
/// [`STORAGE_VERSION`] except sessions, which lack the post-quantum ratchet
/// state and are migrated as sessions without it (SPEC.md, sections 15.8
/// and 16.8). Never written.
pub const STORAGE_VERSION_2: u8 = 0x02;
/// The first record version: still read, and migrated to
/// [`STORAGE_VERSION`] on load (SPEC.md, section 15.8). Never written.
pub const STORAGE_VERSION_1: u8 = 0x01;

/// Record kind: a party's identity key pair.
pub const RECORD_IDENTITY: u8 = 0x01;
/// Record kind: a party's prekey store.
pub const RECORD_PREKEYS: u8 = 0x02;
/// Record kind: one session on its own.
pub const RECORD_SESSION: u8 = 0x03;
/// Record kind: the sessions with one peer (active and previous).
pub const RECORD_PEER_SESSIONS: u8 = 0x04;
/// Record kind: the identity key trusted for one peer.
pub const RECORD_PEER_IDENTITY: u8 = 0x05;
/// Record kind: the client's own state (relay request counter, blocks,
/// generation).
pub const RECORD_CLIENT_STATE: u8 = 0x06;
/// Record kind: the client's trust state (roots, revocation lists,
/// certificate statuses).
pub const RECORD_TRUST_STATE: u8 = 0x07;

/// Accounts (and, separately, verified business ids) one client can block.
pub const MAX_BLOCKED: usize = 10_000;
/// Times a client operation reloads and retries after losing a
/// compare-and-swap to another writer before it reports the conflict.
pub const MAX_COMMIT_ATTEMPTS: usize = 8;
/// Peers whose decoded sessions a client keeps in memory between
/// operations (each checked against the store's version when committed).
pub const MAX_CACHED_PEERS: usize = 1024;

/// Label at the start of every record's associated data.
pub const LABEL_STORAGE_RECORD: &[u8] = b"Hotline storage record";
/// HMAC input that derives a storage key's 8-byte key id.
pub const LABEL_STORAGE_KEY_ID: &[u8] = b"Hotline storage key id";

/// Length of a storage key.
pub const STORAGE_KEY_LEN: usize = 32;
/// Length of the key id in a record header.
pub const STORAGE_KEY_ID_LEN: usize = 8;
/// Record header: version, kind, key id, nonce, plaintext length.
pub const RECORD_HEADER_LEN: usize = 2 + STORAGE_KEY_ID_LEN + 12 + 4;
/// Bytes a record adds to its plaintext: the header and the tag.
pub const RECORD_OVERHEAD: usize = RECORD_HEADER_LEN + 16;
/// Longest record name (a peer address) bound into a record.
pub const MAX_RECORD_NAME_LEN: usize = 255;
/// Largest plaintext a record may declare: a prekey store with its replay
/// caches full is about 1 MB; nothing larger is ever written, so nothing
/// larger is accepted (bounding the allocation a hostile record can cause).
pub const MAX_RECORD_PLAINTEXT_LEN: usize = 16 * 1024 * 1024;

/// Previous sessions kept per peer besides the active one, newest first;
/// the oldest is dropped when a newer one is added (SPEC.md, section 15.10).
pub const MAX_PREVIOUS_SESSIONS: usize = 4;

//! Every protocol constant and KDF label, in one place.
//!
//! SPEC.md quotes each of these; changing one is a protocol change and must
//! change SPEC.md and `tests/vectors/` in the same commit.

pub use crate::store::constants::*;

/// Wire format and protocol version carried in the first byte of every
/// encoded object. Version 1 is the only version; anything else is refused
/// (there is no weaker version to fall back to).
pub const PROTOCOL_VERSION: u8 = 0x01;

/// Message type byte of an initial (handshake) message.
pub const MSG_TYPE_INITIAL: u8 = 0x01;
/// Message type byte of a ratchet message.
pub const MSG_TYPE_RATCHET: u8 = 0x02;
/// Object type byte of a prekey bundle.
pub const OBJ_TYPE_BUNDLE: u8 = 0x10;
/// Object type byte of a trust root (the platform's self-signed root key).
pub const OBJ_TYPE_TRUST_ROOT: u8 = 0x20;
/// Object type byte of an issuer certificate (signed by a trust root).
pub const OBJ_TYPE_ISSUER_CERT: u8 = 0x21;
/// Object type byte of a business certificate (signed by an issuer).
pub const OBJ_TYPE_BUSINESS_CERT: u8 = 0x22;
/// Object type byte of a certificate chain (issuer certificate, business certificate).
pub const OBJ_TYPE_CERT_CHAIN: u8 = 0x23;
/// Object type byte of a signed revocation list.
pub const OBJ_TYPE_REVOCATION_LIST: u8 = 0x24;
/// Object type: a certificate status (SPEC.md, section 13.15).
pub const OBJ_TYPE_CERT_STATUS: u8 = 0x25;
/// Object type: a message template approved by an issuer (SPEC.md, section
/// 13.17).
pub const OBJ_TYPE_TEMPLATE: u8 = 0x26;

/// Type tag of an encoded X25519 public key (33 bytes in all).
pub const KEY_TYPE_X25519: u8 = 0x05;
/// Type tag of an encoded Ed25519 public key (33 bytes in all).
pub const KEY_TYPE_ED25519: u8 = 0x06;
/// Type tag of an encoded ML-KEM-768 encapsulation key (1185 bytes in all).
pub const KEY_TYPE_MLKEM768: u8 = 0x08;

/// Raw length of an X25519 public key.
pub const X25519_LEN: usize = 32;
/// Raw length of an Ed25519 public key.
pub const ED25519_LEN: usize = 32;
/// Raw length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Raw length of an ML-KEM-768 encapsulation key.
pub const MLKEM768_EK_LEN: usize = 1184;
/// Length of an ML-KEM-768 ciphertext.
pub const MLKEM768_CT_LEN: usize = 1088;
/// Length of an ML-KEM-768 decapsulation key seed (d || z).
pub const MLKEM768_SEED_LEN: usize = 64;

/// KEM prekey kind: used for at most one handshake, then deleted.
pub const KEM_KIND_ONE_TIME: u8 = 0x01;
/// KEM prekey kind: reused until replaced, when one-time KEM prekeys run out.
pub const KEM_KIND_LAST_RESORT: u8 = 0x02;

/// Direction byte of messages sent by the initiator (the customer).
pub const DIRECTION_INITIATOR: u8 = 0x01;
/// Direction byte of messages sent by the responder (the business).
pub const DIRECTION_RESPONDER: u8 = 0x02;

// ---- Signature contexts: every signed object is prefixed with its own label,
// so a signature made for one purpose is never valid for another.

/// Signature context of the identity certificate (Ed25519 signs the X25519 identity key).
pub const SIG_CTX_IDENTITY: &[u8] = b"Hotline v1 identity x25519";
/// Signature context of a signed X25519 prekey.
pub const SIG_CTX_SIGNED_PREKEY: &[u8] = b"Hotline v1 signed prekey";
/// Signature context of a one-time X25519 prekey.
pub const SIG_CTX_ONE_TIME_PREKEY: &[u8] = b"Hotline v1 one-time prekey";
/// Signature context of an ML-KEM-768 prekey.
pub const SIG_CTX_KEM_PREKEY: &[u8] = b"Hotline v1 kem prekey";
/// Signature context of a trust root's self-signature.
pub const SIG_CTX_TRUST_ROOT: &[u8] = b"Hotline v1 trust root";
/// Signature context of an issuer certificate (signed by a root).
pub const SIG_CTX_ISSUER_CERT: &[u8] = b"Hotline v1 issuer certificate";
/// Signature context of a business certificate (signed by an issuer).
pub const SIG_CTX_BUSINESS_CERT: &[u8] = b"Hotline v1 business certificate";
/// Signature context of a revocation list (signed by a root or an issuer).
pub const SIG_CTX_REVOCATION_LIST: &[u8] = b"Hotline v1 revocation list";
/// Signature context of a certificate status.
pub const SIG_CTX_CERT_STATUS: &[u8] = b"Hotline v1 certificate status";
/// Signature context of a message template.
pub const SIG_CTX_TEMPLATE: &[u8] = b"Hotline v1 message template";
/// First byte of a notification's plaintext that carries a template and
/// its parameters (SPEC.md 13.17).
pub const CONTENT_TEMPLATED: u8 = 0x01;
/// Longest template text, in bytes.
pub const MAX_TEMPLATE_BODY_LEN: usize = 1024;
/// Most placeholders in one template (`{{1}}` to `{{9}}`).
pub const MAX_TEMPLATE_PARAMS: usize = 9;
/// Longest template parameter, in bytes.
pub const MAX_TEMPLATE_PARAM_LEN: usize = 256;
/// Longest window of a certificate status: a revoked certificate can look
/// good for at most this long to a client that is shown no newer state.
pub const MAX_STATUS_LIFETIME_SECS: u64 = 7 * 24 * 3600;
/// Longest time between a revocation list's issue and its `next_update`:
/// after `next_update` a list proves nothing about what it does not list,
/// so a relay that withholds a newer list holds a badge up for at most
/// this long (SPEC.md 13.9).
pub const MAX_REVOCATION_LIST_LIFETIME_SECS: u64 = 31 * 24 * 3600;
/// Statuses a trust store holds (expired ones are dropped first).
pub const MAX_HELD_STATUSES: usize = 65_536;
/// Roots, and separately revocation lists, a stored trust state holds.
pub const MAX_TRUST_ROOTS: usize = 64;
/// Revocation lists a stored trust state holds.
pub const MAX_HELD_REVOCATION_LISTS: usize = 4096;

// ---- KDF labels.

/// Domain separator hashed first into the transcript.
pub const LABEL_TRANSCRIPT: &[u8] = b"Hotline v1 transcript";
/// HKDF info of the handshake: yields root key, two header keys.
pub const LABEL_SESSION: &[u8] = b"Hotline v1 session";
/// HKDF info of a root-key step: yields root key, chain key, next header key.
pub const LABEL_ROOT: &[u8] = b"Hotline v1 root";
/// HKDF info of a message key: yields AEAD key, body nonce, header nonce.
pub const LABEL_MESSAGE: &[u8] = b"Hotline v1 message keys";
/// HMAC input deriving a message key seed from a chain key.
pub const CHAIN_MESSAGE_BYTE: u8 = 0x01;
/// HMAC input deriving the next chain key from a chain key.
pub const CHAIN_NEXT_BYTE: u8 = 0x02;
/// Leading 32 bytes of 0xFF in the handshake key material (as in X3DH/PQXDH,
/// keeps the input distinct from any X25519 output prefix).
pub const HANDSHAKE_PREFIX: [u8; 32] = [0xFF; 32];

/// Domain separator of an identity's fingerprint hash (safety numbers).
pub const LABEL_FINGERPRINT: &[u8] = b"Hotline v1 fingerprint";

// ---- Business identity (SPEC.md, "Business identity").

/// Verification level byte: the business's identity and name were verified.
pub const LEVEL_VERIFIED: u8 = 0x01;
/// Verification level byte: an official account (the highest level, for
/// example a government body or a company's primary account).
pub const LEVEL_OFFICIAL: u8 = 0x02;
/// Revocation list scope: serials of business certificates, signed by their issuer.
pub const REVOCATION_SCOPE_BUSINESS: u8 = 0x01;
/// Revocation list scope: issuer ids, signed by a trust root.
pub const REVOCATION_SCOPE_ISSUER: u8 = 0x02;
/// Clock-skew allowance in seconds: a validity window `[not_before,
/// not_after]` is accepted for `now` in `[not_before - 300, not_after + 300]`,
/// so a client whose clock is a few minutes off does not refuse a fresh
/// certificate (and accepts an expired one at most five minutes late).
pub const CLOCK_SKEW_SECS: u64 = 300;
/// Largest verified name, in Unicode scalar values.
pub const MAX_NAME_CHARS: usize = 64;
/// Largest verified name, in UTF-8 bytes (the wire length is one byte).
pub const MAX_NAME_BYTES: usize = 200;
/// Largest number of localized names in a business certificate.
pub const MAX_LOCALIZED_NAMES: usize = 8;
/// Shortest language tag of a localized name (`"de"`).
pub const MIN_LANGUAGE_TAG_LEN: usize = 2;
/// Longest language tag of a localized name (BCP 47 tags in practice).
pub const MAX_LANGUAGE_TAG_LEN: usize = 35;
/// Characters allowed in a verified name besides letters, marks and digits
/// allowed by the UTS #39 General Security Profile. ASCII only, so none of
/// them has a look-alike in another script that is also allowed.
pub const NAME_PUNCTUATION: &[char] = &[' ', '&', '\'', '-', '.', ',', '(', ')', '+', '!'];
/// Largest number of entries in one revocation list (bounds its decoding
/// to 512 KiB of entries).
pub const MAX_REVOKED_ENTRIES: usize = 65_536;
/// Number of previous certificate chains a responder keeps after renewal,
/// so initial messages in flight that name them still complete.
pub const MAX_OLD_CERTIFICATE_CHAINS: usize = 2;
/// Largest number of businesses a client pins (see `KnownBusinesses`).
pub const MAX_KNOWN_BUSINESSES: usize = 100_000;
/// Version byte of the scannable (QR) fingerprint encoding.
pub const FINGERPRINT_VERSION: u8 = 0x01;
/// Number of decimal digits of a displayed fingerprint (30 per identity).
pub const FINGERPRINT_DIGITS: usize = 60;

// ---- Sizes of the ratchet message.

/// Header plaintext: encoded ratchet key (33) || PN (4) || N (4).
pub const HEADER_PLAINTEXT_LEN: usize = 33 + 4 + 4;
/// AEAD nonce length (ChaCha20-Poly1305).
pub const NONCE_LEN: usize = 12;
/// AEAD tag length (Poly1305).
pub const TAG_LEN: usize = 16;
/// Encrypted header on the wire: nonce || ciphertext || tag.
pub const HEADER_WIRE_LEN: usize = NONCE_LEN + HEADER_PLAINTEXT_LEN + TAG_LEN;
/// Bytes before the body of a ratchet message: version, type, encrypted header.
pub const RATCHET_PREFIX_LEN: usize = 2 + HEADER_WIRE_LEN;

// ---- Limits.

/// Largest plaintext accepted by `encrypt`, in bytes (64 KiB). Larger content
/// (attachments) belongs in separately encrypted blobs.
pub const MAX_PLAINTEXT_LEN: usize = 65_536;
/// Smallest padded plaintext: short replies ("yes", "ok") are indistinguishable.
pub const MIN_PADDED_LEN: usize = 64;
/// Largest number of message keys skipped on one chain by a single message.
/// Bounds the work and memory one message can cause.
pub const MAX_SKIP: u32 = 1000;
/// Largest number of skipped message keys a session stores across all chains;
/// the oldest are evicted first.
pub const MAX_SKIPPED_KEYS: usize = 2000;
/// Largest number of receiving chains whose skipped keys are kept (the current
/// one included). Together with the current and next header key this bounds
/// header trial decryptions per message to `MAX_SKIPPED_CHAINS + 2`.
pub const MAX_SKIPPED_CHAINS: usize = 5;
// ---- The post-quantum ratchet (SPEC.md section 16).

/// Session feature byte hashed at the end of every transcript: this session
/// runs the sparse ML-KEM ratchet beside the DH ratchet (SPEC.md 7.4, 16).
pub const FEATURE_PQ_RATCHET: u8 = 0x01;
/// HKDF info of a DH ratchet step that also mixes an ML-KEM epoch secret.
pub const LABEL_ROOT_PQ: &[u8] = b"Hotline v1 root pq";
/// Bit set in the header's key tag byte on every message of a sending chain
/// whose root step mixed an epoch secret (`0x05 | 0x80 = 0x85`).
pub const HEADER_PQ_MIX_BIT: u8 = 0x80;
/// Bytes of one erasure-coded shard carried by one message.
pub const PQ_SHARD_LEN: usize = 64;
/// The chunk trailer at the end of a padded body: epoch (4), shard index
/// (1), shard (64), chunk kind (1).
pub const PQ_TRAILER_LEN: usize = 4 + 1 + PQ_SHARD_LEN + 1;
/// Chunk kind: a shard of an ML-KEM-768 encapsulation key.
pub const PQ_CHUNK_EK: u8 = 0x01;
/// Chunk kind: a shard of an ML-KEM-768 ciphertext.
pub const PQ_CHUNK_CT: u8 = 0x02;
/// Original shards of an encapsulation key (1184 bytes, zero-padded to 1216).
pub const PQ_EK_SHARDS: usize = MLKEM768_EK_LEN.div_ceil(PQ_SHARD_LEN);
/// Original shards of a ciphertext (1088 bytes, exactly 17 shards).
pub const PQ_CT_SHARDS: usize = MLKEM768_CT_LEN.div_ceil(PQ_SHARD_LEN);
/// A chunk is attached only if it grows the padded body by at most this
/// many bytes.
pub const PQ_MAX_GROWTH: usize = 100;

/// Upper bound on header decryption trials per incoming message.
pub const MAX_HEADER_TRIALS: usize = MAX_SKIPPED_CHAINS + 2;
/// Number of handshakes remembered per signed prekey to refuse a replayed
/// initial message that used no one-time prekey.
pub const MAX_REMEMBERED_HANDSHAKES: usize = 10_000;
/// Handshakes accepted under the current signed prekey after which the
/// persistent client rotates it (half the replay set, so the old prekey
/// keeps room for as many handshakes still in flight; SPEC.md 7.10).
pub const REPLAY_ROTATE_AT: usize = MAX_REMEMBERED_HANDSHAKES / 2;
/// Number of previous signed prekeys a responder keeps after rotation, so
/// initial messages in flight still complete.
pub const MAX_OLD_SIGNED_PREKEYS: usize = 2;
/// Largest accepted wire message: an initial message carrying the largest
/// padded plaintext.
pub const MAX_WIRE_LEN: usize = 2
    + 130
    + 4
    + 1
    + 4
    + 4
    + 33
    + MLKEM768_CT_LEN
    + 1
    + 32
    + RATCHET_PREFIX_LEN
    + crate::ratchet::padding::MAX_PADDED_LEN
    + TAG_LEN;

// ---- Relay (SPEC.md section 14). The relay sees only these objects, never a
// session secret.

/// Object type byte of a signed relay request.
pub const OBJ_TYPE_RELAY_REQUEST: u8 = 0x30;
/// Object type byte of a relay response.
pub const OBJ_TYPE_RELAY_RESPONSE: u8 = 0x31;
/// Object type byte of an envelope header (the metadata the relay sees and
/// both clients pass to the session as associated data).
pub const OBJ_TYPE_ENVELOPE: u8 = 0x32;
/// Object type byte of a consent record.
pub const OBJ_TYPE_CONSENT: u8 = 0x33;
/// Object type byte of a block record.
pub const OBJ_TYPE_BLOCK: u8 = 0x34;

/// Object type byte of a relay-signed receipt (a delivery state, SPEC.md 14.16).
pub const OBJ_TYPE_RECEIPT: u8 = 0x35;
/// Object type byte of a relay-signed billing statement (SPEC.md 14.16).
pub const OBJ_TYPE_STATEMENT: u8 = 0x36;

/// Object type byte of a customer's spam report (SPEC.md 14.17).
pub const OBJ_TYPE_REPORT: u8 = 0x37;

/// Signature context of a relay request.
pub const SIG_CTX_RELAY_REQUEST: &[u8] = b"Hotline v1 relay request";
/// Signature context of a consent record.
pub const SIG_CTX_CONSENT: &[u8] = b"Hotline v1 consent";
/// Signature context of a block record.
pub const SIG_CTX_BLOCK: &[u8] = b"Hotline v1 block";
/// Signature context of a receipt, signed by the relay's key.
pub const SIG_CTX_RECEIPT: &[u8] = b"Hotline v1 receipt";
/// Signature context of a billing statement, signed by the relay's key.
pub const SIG_CTX_STATEMENT: &[u8] = b"Hotline v1 statement";

/// Signature context of a spam report, signed by the reporting customer.
pub const SIG_CTX_REPORT: &[u8] = b"Hotline v1 report";
/// HKDF info of the relay's franking stamp key, derived from its key's
/// seed (SPEC.md 14.17).
pub const KDF_FRANKING_STAMP: &[u8] = b"Hotline v1 franking stamp";
/// Length of a franking commitment in an envelope header.
pub const FRANKING_TAG_LEN: usize = 32;
/// Length of a franking key, the first bytes of an envelope's plaintext.
pub const FRANKING_KEY_LEN: usize = 32;
/// Largest content a report carries: the largest plaintext an envelope's
/// message holds after its franking key.
pub const MAX_REPORT_CONTENT_LEN: usize = MAX_PLAINTEXT_LEN - FRANKING_KEY_LEN;
/// A report is accepted up to this many seconds after the relay accepted
/// the reported envelope (its mailbox time-to-live: 30 days).
pub const REPORT_WINDOW_SECS: u64 = ENVELOPE_TTL_SECS;
/// The quality signal of a business counts the distinct customers who
/// reported it within this many seconds (7 days).
pub const QUALITY_WINDOW_SECS: u64 = 7 * 24 * 60 * 60;
/// Reports are kept this many seconds after the relay accepted them (92
/// days, like delivery states), then deleted.
pub const REPORT_RETENTION_SECS: u64 = 92 * 24 * 60 * 60;
/// The daily notification limit counts the distinct customers a business
/// reached with notifications within this many seconds (a rolling day).
pub const REACH_WINDOW_SECS: u64 = 24 * 60 * 60;

/// Block record value bit: the record blocks (clear: it unblocks).
pub const BLOCK_SET: u8 = 0x01;
/// Block record value bit: the business blocks the customer, and signed the
/// record (clear: the customer blocks the business, and signed it).
pub const BLOCK_BY_BUSINESS: u8 = 0x02;

/// Message class byte: free-form chat.
pub const CLASS_CHAT: u8 = 0x01;
/// Message class byte: a business-to-customer notification (metered).
pub const CLASS_NOTIFICATION: u8 = 0x02;

/// Consent scope bit: the business may send chat messages (within the
/// 24-hour window).
pub const SCOPE_CHAT: u8 = 0x01;
/// Consent scope bit: the business may send notifications.
pub const SCOPE_NOTIFICATIONS: u8 = 0x02;

/// Largest distance, in seconds, between a request's timestamp and the
/// relay's clock (either direction). Also the largest amount by which a
/// consent or block record may lie in the future (the relay orders such a
/// record at its own time, SPEC.md 14.6).
pub const REQUEST_TIME_WINDOW_SECS: u64 = 300;
/// The customer-service window: a business may send chat messages to a
/// customer only this many seconds after the customer's last message to it.
pub const CHAT_WINDOW_SECS: u64 = 24 * 60 * 60;
/// Unfetched (or fetched but unacknowledged) envelopes are deleted this many
/// seconds after the relay accepted them (30 days).
pub const ENVELOPE_TTL_SECS: u64 = 30 * 24 * 60 * 60;
/// Largest number of envelopes waiting in one recipient's mailbox.
pub const MAX_MAILBOX_ENVELOPES: usize = 1000;
/// Largest total size, in bytes, of the envelopes waiting in one mailbox.
pub const MAX_MAILBOX_BYTES: usize = 16 * 1024 * 1024;
/// Largest number of envelopes from one sender waiting in one mailbox: a
/// tenth of [`MAX_MAILBOX_ENVELOPES`], so one account cannot fill a mailbox
/// that every other sender shares.
pub const MAX_MAILBOX_ENVELOPES_PER_SENDER: usize = MAX_MAILBOX_ENVELOPES / 10;
/// Largest total size, in bytes, of the envelopes from one sender waiting in
/// one mailbox: an eighth of [`MAX_MAILBOX_BYTES`] (room for about thirty
/// envelopes of the largest size).
pub const MAX_MAILBOX_BYTES_PER_SENDER: usize = MAX_MAILBOX_BYTES / 8;
/// Largest number of envelopes returned by one fetch.
pub const MAX_FETCH_BATCH: usize = 100;
/// Largest number of delivery ids in one acknowledgement.
pub const MAX_ACK_BATCH: usize = 1000;
/// Largest number of unused one-time prekeys of each kind (X25519, ML-KEM)
/// the directory keeps per account.
pub const MAX_DIRECTORY_PREKEYS: usize = 500;
/// Largest number of prekeys of each kind in one upload.
pub const MAX_UPLOAD_PREKEYS: usize = 100;
/// When fewer one-time prekeys of either kind than this remain, the relay
/// tells the owner to upload more.
pub const LOW_PREKEY_THRESHOLD: usize = 10;
/// Bundle fetches by one customer account, as a token bucket (SPEC.md
/// 14.11): at most this many at once. Further fetches are refused
/// (`RateLimited`) until the bucket refills.
pub const BUNDLE_FETCH_BURST: u32 = 20;
/// Seconds to refill one bundle fetch of a customer account (20 an hour
/// sustained; a customer fetches a bundle once per business it starts with).
pub const BUNDLE_FETCH_REFILL_SECS: u32 = 180;
/// One-time prekeys handed out per owner, as a token bucket (SPEC.md
/// 14.11): at most this many at once ([`MAX_UPLOAD_PREKEYS`], what one
/// upload restores). When the bucket is empty, bundles are handed out
/// without one-time prekeys instead of being refused.
pub const ONE_TIME_PREKEY_BURST: u32 = 100;
/// Seconds to refill one one-time prekey handout of an owner (360 an hour
/// sustained, below what an owner can restore by uploading).
pub const ONE_TIME_PREKEY_REFILL_SECS: u32 = 10;
/// Initial messages (the ones carrying a handshake) sent by one customer
/// account, as a token bucket (SPEC.md 14.11): at most this many at once.
pub const INITIAL_MESSAGE_BURST: u32 = 50;
/// Seconds to refill one initial message of a customer account.
pub const INITIAL_MESSAGE_REFILL_SECS: u32 = 60;
/// Largest number of accounts each rate limit (and the drain count) keeps
/// state for. Full buckets are forgotten first; beyond this, the bucket
/// closest to full is forgotten, so the relay's memory stays bounded.
pub const MAX_RATE_LIMITED_ACCOUNTS: usize = 100_000;
/// Width, in seconds, of the slots in which the relay counts the one-time
/// prekeys it hands out per owner (the drain rate, SPEC.md 14.8).
pub const DRAIN_SLOT_SECS: u64 = 3600;
/// Number of past slots, besides the current one, in the day's drain count.
pub const DRAIN_DAY_SLOTS: u64 = 24;
/// Largest certificate chain a business may register, in bytes.
pub const MAX_CERTIFICATE_CHAIN_LEN: usize = 16 * 1024;
/// Largest request body, in bytes: room for an envelope with the largest
/// message and for an upload of [`MAX_UPLOAD_PREKEYS`] prekeys of each kind.
pub const MAX_REQUEST_BODY_LEN: usize = 256 * 1024;
/// Consent records kept per customer and business as evidence; the oldest is
/// dropped first (the newest always decides).
pub const MAX_CONSENT_HISTORY: usize = 32;
/// How long the relay keeps the consent records of an erased customer
/// account (SPEC.md 14.15): three years of 365 days, so that a business can
/// still show the consent a notification was sent under while a claim about
/// it may be brought; then they are deleted.
pub const CONSENT_RETENTION_SECS: u64 = 3 * 365 * 24 * 60 * 60;
/// Length, in seconds, of a billing period (SPEC.md 14.16): one UTC day.
/// Period `p` covers relay times `p * 86400` to `p * 86400 + 86399`; an
/// invoice for a month is the sum of its days' statements.
pub const BILLING_PERIOD_SECS: u64 = 24 * 60 * 60;
/// How long the relay keeps the delivery states of envelopes (SPEC.md
/// 14.16), counted from the state's time: 92 days, so that a business can
/// check a monthly invoice against its statements for two months after the
/// month ends. A statement for a period that began longer ago is refused.
pub const STATE_RETENTION_SECS: u64 = 92 * 24 * 60 * 60;
/// Largest number of delivery states returned by one `FetchStates`.
pub const MAX_FETCH_STATES: usize = 100;
/// Message ids remembered per recipient after acknowledgement, so a sender's
/// retry of an already delivered message is collapsed, not delivered twice.
/// Forgotten after [`ENVELOPE_TTL_SECS`] or when more arrive (oldest first).
pub const MAX_REMEMBERED_MESSAGE_IDS: usize = 4096;

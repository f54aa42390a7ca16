//! Stable error codes (SPEC.md, section 10.7).
//!
//! Every error and verdict of the protocol has a code: a stable identifier
//! `type.variant` in snake case, with named fields. The codes, not the Rust
//! names or texts of the errors, are what the conformance vectors carry and
//! what another implementation reproduces. [`CODES`] is the table of every
//! code and its field names, the same table as SPEC.md section 10.7.
//!
//! ```
//! use hotline::code::Coded;
//! use hotline::PreKeyBundle;
//! let e = PreKeyBundle::from_bytes(&[]).unwrap_err();
//! assert_eq!(e.code(), "bundle.decode");
//! assert_eq!(
//!     e.error_code().to_string(),
//!     r#"{"code":"bundle.decode","error":{"code":"decode.truncated","field":"version"}}"#
//! );
//! ```

use core::fmt;

use crate::business::{
    Badge, ChainLink, Expiry, IssueError, NameError, PinCheckError, PinError, RevocationError,
    RevokedBy, StatusError, TemplateError, TrustRootError, TrustStoreError, ValidationError,
};
use crate::error::{DecryptError, EncryptError, HandshakeError};
use crate::keys::{BundleError, BundleField, IdentityError};
use crate::relay::{
    AccountKind, CertificateRefused, PolicyError, PreKeySlot, RateLimit, ReceiptError, RecordError,
    RelayError, ReportError, RequestError, ResponseError,
};
use crate::store::{ReceiveError, RestoreError, SendError, StartError};
use crate::wire::DecodeError;

/// The value of a named field of an [`ErrorCode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeField {
    /// An integer (ids, counts, lengths, byte values, times).
    Int(u64),
    /// A text: a field name of section 10.1, a language tag, a name, a
    /// snake-case enumeration value (`"signed_prekey"`, `"issuer"`), or a
    /// character written `U+XXXX`.
    Text(String),
    /// The code of a nested error or verdict.
    Code(Box<ErrorCode>),
}

/// An error's or verdict's stable code with its named fields, in the order
/// of SPEC.md section 10.7. Its `Display` is compact JSON:
/// `{"code":"decode.truncated","field":"version"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCode {
    /// The code, `type.variant`.
    pub code: &'static str,
    /// The named fields, in table order.
    pub fields: Vec<(&'static str, CodeField)>,
}

impl ErrorCode {
    fn new(code: &'static str) -> Self {
        Self {
            code,
            fields: Vec::new(),
        }
    }

    fn int(mut self, name: &'static str, value: impl TryInto<u64>) -> Self {
        let v = value.try_into().unwrap_or(u64::MAX);
        self.fields.push((name, CodeField::Int(v)));
        self
    }

    fn text(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((name, CodeField::Text(value.into())));
        self
    }

    fn ch(self, name: &'static str, c: char) -> Self {
        self.text(name, format!("U+{:04X}", c as u32))
    }

    fn cause(mut self, name: &'static str, error: &(impl Coded + ?Sized)) -> Self {
        self.fields
            .push((name, CodeField::Code(Box::new(error.error_code()))));
        self
    }

    /// Whether this code, and every code nested in its fields, is a row of
    /// [`CODES`] with exactly that row's field names in that order.
    pub fn matches_table(&self) -> bool {
        lookup(self.code).is_some_and(|entry| {
            entry.fields.len() == self.fields.len()
                && entry.fields.iter().zip(&self.fields).all(|(name, (n, v))| {
                    name == n
                        && match v {
                            CodeField::Code(inner) => inner.matches_table(),
                            _ => true,
                        }
                })
        })
    }

    /// The field of this name, if any.
    pub fn field(&self, name: &str) -> Option<&CodeField> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

fn write_json_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{\"code\":")?;
        write_json_str(f, self.code)?;
        for (name, value) in &self.fields {
            f.write_str(",")?;
            write_json_str(f, name)?;
            f.write_str(":")?;
            match value {
                CodeField::Int(v) => write!(f, "{v}")?,
                CodeField::Text(t) => write_json_str(f, t)?,
                CodeField::Code(c) => write!(f, "{c}")?,
            }
        }
        f.write_str("}")
    }
}

/// An error or verdict with a stable code (SPEC.md section 10.7).
pub trait Coded {
    /// The code with its named fields.
    fn error_code(&self) -> ErrorCode;
    /// The code alone, `type.variant`.
    fn code(&self) -> &'static str {
        self.error_code().code
    }
}

/// One row of the code table: a code and the names of its fields, in
/// order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeEntry {
    /// The code, `type.variant`.
    pub code: &'static str,
    /// The field names, in order.
    pub fields: &'static [&'static str],
}

macro_rules! code_table {
    ($($code:literal [$($field:literal),*],)*) => {
        /// Every code of SPEC.md section 10.7 with its field names.
        pub const CODES: &[CodeEntry] = &[
            $(CodeEntry { code: $code, fields: &[$($field),*] },)*
        ];
    };
}

code_table! {
    "decode.truncated" ["field"],
    "decode.trailing_bytes" ["count"],
    "decode.unknown_version" ["version"],
    "decode.unknown_type" ["type"],
    "decode.unknown_key_type" ["tag"],
    "decode.wrong_key_type" ["expected", "found"],
    "decode.invalid_value" ["field", "value"],
    "decode.invalid_ed25519_key" [],
    "decode.invalid_kem_key" [],
    "decode.wrong_object_type" ["expected", "found"],
    "decode.invalid_utf8" ["field"],
    "decode.not_canonical" ["field"],
    "decode.invalid_length" ["field", "len"],
    "identity.decode" ["error"],
    "identity.bad_signature" [],
    "identity.low_order_key" [],
    "bundle.decode" ["error"],
    "bundle.bad_signature" ["part"],
    "bundle.low_order_key" ["part"],
    "handshake.decode" ["error"],
    "handshake.identity" ["error"],
    "handshake.unknown_signed_prekey" ["id"],
    "handshake.unknown_one_time_prekey" ["id"],
    "handshake.unknown_kem_prekey" ["id"],
    "handshake.replayed_handshake" [],
    "handshake.replay_set_full" ["id"],
    "handshake.low_order_key" [],
    "handshake.same_identity" [],
    "handshake.unknown_certificate" [],
    "handshake.certificate_mismatch" [],
    "handshake.decrypt" ["error"],
    "decrypt.decode" ["error"],
    "decrypt.header_not_decryptable" [],
    "decrypt.malformed_header" [],
    "decrypt.duplicate_message" [],
    "decrypt.too_far_ahead" ["skip"],
    "decrypt.counter_overflow" [],
    "decrypt.low_order_ratchet_key" [],
    "decrypt.authentication_failed" [],
    "decrypt.invalid_padding" [],
    "decrypt.wrong_session" [],
    "decrypt.post_quantum" ["error"],
    "pq.shard_index" ["index"],
    "pq.unexpected_chunk" ["epoch"],
    "pq.invalid_key" [],
    "pq.unexpected_mix" [],
    "pq.not_enabled" [],
    "encrypt.plaintext_too_long" ["len"],
    "encrypt.associated_data_too_long" [],
    "encrypt.chain_exhausted" [],
    "encrypt.not_ready" [],
    "validation.malformed" ["error"],
    "validation.no_certificate" [],
    "validation.unknown_root" ["root_id"],
    "validation.root_retired" ["root_id"],
    "validation.not_yet_valid" ["link", "not_before", "now"],
    "validation.expired" ["link", "not_after", "now"],
    "validation.bad_signature" ["link"],
    "validation.issuer_revoked" ["issuer_id"],
    "validation.issuer_mismatch" ["named", "present"],
    "validation.certificate_revoked" ["issuer_id", "serial"],
    "validation.level_not_allowed" ["issuer_id", "level"],
    "validation.invalid_name" ["error"],
    "validation.invalid_localized_name" ["language", "error"],
    "validation.key_mismatch" [],
    "revocation.issuer_certificate_needed" ["issuer_id"],
    "revocation.unknown_root" ["root_id"],
    "revocation.issuer_not_trusted" ["error"],
    "revocation.bad_signature" [],
    "revocation.sequence_ahead" ["sequence", "issued_at"],
    "revocation.stale" ["current", "offered"],
    "revocation.too_many_lists" [],
    "revocation.issued_in_future" ["issued_at", "now"],
    "revocation.bad_window" ["issued_at", "next_update"],
    "status.issuer_certificate_needed" ["issuer_id"],
    "status.issuer_not_trusted" ["error"],
    "status.bad_signature" [],
    "status.bad_window" ["this_update", "next_update"],
    "status.in_future" ["this_update", "now"],
    "status.stale" ["current", "offered"],
    "status.full" [],
    "status.wrong_certificate" ["issuer_id", "serial"],
    "template.decode" ["error"],
    "template.bad_text" ["rule"],
    "template.placeholders" [],
    "template.bad_signature" [],
    "template.wrong_business" [],
    "template.not_valid" ["now"],
    "template.param_count" ["expected", "got"],
    "template.bad_param" ["index"],
    "template.not_verified" [],
    "template.issuer_unknown" [],
    "badge.verified" ["until"],
    "badge.expired" ["what", "since"],
    "expiry.certificate" [],
    "expiry.status" [],
    "expiry.no_status" [],
    "expiry.revocation_list" ["scope", "signer_id"],
    "badge.revoked" ["by"],
    "badge.unverified" [],
    "revoked_by.certificate" ["issuer_id", "sequence"],
    "revoked_by.issuer" ["root_id", "sequence"],
    "revoked_by.root_retired" ["root_id"],
    "name.empty" [],
    "name.too_many_bytes" ["len"],
    "name.too_many_chars" ["len"],
    "name.not_normalized" [],
    "name.control_character" ["position", "char"],
    "name.bidi_control" ["position", "char"],
    "name.invisible_character" ["position", "char"],
    "name.full_width_form" ["position", "char"],
    "name.disallowed_character" ["position", "char"],
    "name.bad_spacing" [],
    "name.no_letter" [],
    "name.mixed_script" ["level"],
    "name.latin_word_mix" ["position", "char"],
    "name.ascii_lookalike" ["skeleton"],
    "issue.name" ["error"],
    "issue.localized_name" ["language", "error"],
    "issue.language_tag" ["tag"],
    "issue.too_many_localized_names" ["count"],
    "issue.empty_validity" [],
    "issue.validity_outside_issuer" [],
    "issue.level_not_allowed" ["level"],
    "issue.key_mismatch" [],
    "issue.too_many_entries" ["count"],
    "issue.status_window" [],
    "issue.list_window" [],
    "issue.sequence_ahead" ["sequence", "issued_at"],
    "trust_store.duplicate_root" ["root_id"],
    "trust_store.retired" ["root_id"],
    "trust_store.full" [],
    "trust_root.decode" ["error"],
    "trust_root.bad_signature" [],
    "pin_check.identity_changed" ["business_id"],
    "pin.full" [],
    "record.decode" ["error"],
    "record.bad_signature" [],
    "record.same_account" [],
    "request.decode" ["error"],
    "request.bad_signature" [],
    "request.bad_identity" ["error"],
    "request.bad_record" ["error"],
    "request.bad_report" ["error"],
    "response.decode" ["error"],
    "response.bundle" ["error"],
    "response.record" ["error"],
    "receipt.decode" ["error"],
    "receipt.bad_signature" [],
    "receipt.bad_key" [],
    "report.decode" ["error"],
    "report.bad_signature" [],
    "report.bad_opening" [],
    "certificate_refused.untrusted" [],
    "certificate_refused.invalid" ["error"],
    "relay.request" ["error"],
    "relay.stale_request" ["timestamp", "now"],
    "relay.replayed_request" ["counter", "last"],
    "relay.unknown_account" [],
    "relay.already_registered" [],
    "relay.account_deleted" [],
    "relay.period_unavailable" ["period", "first", "current"],
    "relay.bad_stamp" [],
    "relay.report_too_old" ["received_at", "now"],
    "relay.daily_limit_reached" ["limit", "tier"],
    "relay.identity_mismatch" [],
    "relay.certificate_refused" ["error"],
    "relay.not_in_good_standing" ["badge"],
    "relay.confusable_name" ["name", "existing"],
    "relay.wrong_account_kind" ["required"],
    "relay.bad_prekey_signature" ["slot", "id"],
    "relay.low_order_prekey" ["slot", "id"],
    "relay.wrong_kem_kind" ["slot", "id"],
    "relay.too_many_prekeys" [],
    "relay.spent_prekey_id" ["slot", "id", "spent"],
    "relay.no_bundle" [],
    "relay.sender_mismatch" [],
    "relay.mailbox_full" [],
    "relay.sender_quota_exceeded" [],
    "relay.rate_limited" ["limit", "retry_after"],
    "relay.blocked" [],
    "relay.blocked_by_business" [],
    "relay.no_consent" [],
    "relay.window_closed" [],
    "relay.notification_from_customer" [],
    "relay.unsupported_route" [],
    "relay.record_not_yours" [],
    "relay.stale_record" [],
    "relay.unavailable" [],
    "relay.bad_status" ["error"],
    "relay.bad_revocation_list" ["error"],
    "relay.trust_state_fixed" [],
    "restore.truncated" [],
    "restore.trailing_bytes" ["count"],
    "restore.unknown_version" ["version"],
    "restore.unknown_kind" ["kind"],
    "restore.wrong_kind" ["expected", "found"],
    "restore.wrong_key" [],
    "restore.too_long" ["len"],
    "restore.authentication_failed" [],
    "restore.malformed" ["error"],
    "restore.inconsistent" ["reason"],
    "restore.retired_version" ["kind", "version"],
    "store.restore" ["what", "error"],
    "store.not_initialized" [],
    "store.already_initialized" [],
    "store.conflict" ["kind"],
    "store.rolled_back" ["stored", "guard"],
    "store.full" ["what"],
    "store.backend" [],
    "start.store" ["error"],
    "start.identity_changed" [],
    "start.account_mismatch" [],
    "start.not_this_business" [],
    "start.handshake" ["error"],
    "send.store" ["error"],
    "send.no_session" [],
    "send.identity_changed" [],
    "send.not_an_account" [],
    "send.blocked" [],
    "send.encrypt" ["error"],
    "receive.store" ["error"],
    "receive.no_session" [],
    "receive.identity_changed" [],
    "receive.sender_mismatch" [],
    "receive.not_for_me" [],
    "receive.blocked" [],
    "receive.handshake" ["error"],
    "receive.decrypt" ["error"],
    "receive.bad_franking" [],
}

/// The table row of a code, if it is one.
pub fn lookup(code: &str) -> Option<&'static CodeEntry> {
    CODES.iter().find(|e| e.code == code)
}

fn c(code: &'static str) -> ErrorCode {
    ErrorCode::new(code)
}

impl Coded for DecodeError {
    fn error_code(&self) -> ErrorCode {
        match *self {
            Self::Truncated(field) => c("decode.truncated").text("field", field),
            Self::TrailingBytes(n) => c("decode.trailing_bytes").int("count", n),
            Self::UnknownVersion(v) => c("decode.unknown_version").int("version", v),
            Self::UnknownType(t) => c("decode.unknown_type").int("type", t),
            Self::UnknownKeyType(t) => c("decode.unknown_key_type").int("tag", t),
            Self::WrongKeyType { expected, found } => c("decode.wrong_key_type")
                .int("expected", expected)
                .int("found", found),
            Self::InvalidValue { field, value } => c("decode.invalid_value")
                .text("field", field)
                .int("value", value),
            Self::InvalidEd25519Key => c("decode.invalid_ed25519_key"),
            Self::InvalidKemKey => c("decode.invalid_kem_key"),
            Self::WrongObjectType { expected, found } => c("decode.wrong_object_type")
                .int("expected", expected)
                .int("found", found),
            Self::InvalidUtf8(field) => c("decode.invalid_utf8").text("field", field),
            Self::NotCanonical(field) => c("decode.not_canonical").text("field", field),
            Self::InvalidLength { field, len } => c("decode.invalid_length")
                .text("field", field)
                .int("len", len),
        }
    }
}

impl Coded for IdentityError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Decode(e) => c("identity.decode").cause("error", e),
            Self::BadSignature => c("identity.bad_signature"),
            Self::LowOrderKey => c("identity.low_order_key"),
        }
    }
}

fn bundle_part(part: BundleField) -> &'static str {
    match part {
        BundleField::Identity => "identity",
        BundleField::SignedPreKey => "signed_prekey",
        BundleField::OneTimePreKey => "one_time_prekey",
        BundleField::KemPreKey => "kem_prekey",
    }
}

impl Coded for BundleError {
    fn error_code(&self) -> ErrorCode {
        match *self {
            Self::Decode(ref e) => c("bundle.decode").cause("error", e),
            Self::BadSignature(p) => c("bundle.bad_signature").text("part", bundle_part(p)),
            Self::LowOrderKey(p) => c("bundle.low_order_key").text("part", bundle_part(p)),
        }
    }
}

impl Coded for HandshakeError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Decode(e) => c("handshake.decode").cause("error", e),
            Self::Identity(e) => c("handshake.identity").cause("error", e),
            Self::UnknownSignedPreKey(id) => c("handshake.unknown_signed_prekey").int("id", *id),
            Self::UnknownOneTimePreKey(id) => c("handshake.unknown_one_time_prekey").int("id", *id),
            Self::UnknownKemPreKey(id) => c("handshake.unknown_kem_prekey").int("id", *id),
            Self::ReplayedHandshake => c("handshake.replayed_handshake"),
            Self::ReplaySetFull(id) => c("handshake.replay_set_full").int("id", *id),
            Self::LowOrderKey => c("handshake.low_order_key"),
            Self::SameIdentity => c("handshake.same_identity"),
            Self::UnknownCertificate => c("handshake.unknown_certificate"),
            Self::CertificateMismatch => c("handshake.certificate_mismatch"),
            Self::Decrypt(e) => c("handshake.decrypt").cause("error", e),
        }
    }
}

impl Coded for DecryptError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Decode(e) => c("decrypt.decode").cause("error", e),
            Self::HeaderNotDecryptable => c("decrypt.header_not_decryptable"),
            Self::MalformedHeader => c("decrypt.malformed_header"),
            Self::DuplicateMessage => c("decrypt.duplicate_message"),
            Self::TooFarAhead { skip } => c("decrypt.too_far_ahead").int("skip", *skip),
            Self::CounterOverflow => c("decrypt.counter_overflow"),
            Self::LowOrderRatchetKey => c("decrypt.low_order_ratchet_key"),
            Self::AuthenticationFailed => c("decrypt.authentication_failed"),
            Self::InvalidPadding => c("decrypt.invalid_padding"),
            Self::WrongSession => c("decrypt.wrong_session"),
            Self::PostQuantum(e) => c("decrypt.post_quantum").cause("error", e),
        }
    }
}

impl Coded for crate::error::PqError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::ShardIndex { index } => c("pq.shard_index").int("index", *index),
            Self::UnexpectedChunk { epoch } => c("pq.unexpected_chunk").int("epoch", *epoch),
            Self::InvalidKey => c("pq.invalid_key"),
            Self::UnexpectedMix => c("pq.unexpected_mix"),
            Self::NotEnabled => c("pq.not_enabled"),
        }
    }
}

impl Coded for EncryptError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::PlaintextTooLong(len) => c("encrypt.plaintext_too_long").int("len", *len),
            Self::AssociatedDataTooLong => c("encrypt.associated_data_too_long"),
            Self::ChainExhausted => c("encrypt.chain_exhausted"),
            Self::NotReady => c("encrypt.not_ready"),
        }
    }
}

fn link(l: ChainLink) -> &'static str {
    match l {
        ChainLink::Root => "root",
        ChainLink::Issuer => "issuer",
        ChainLink::Business => "business",
    }
}

impl Coded for ValidationError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Malformed(e) => c("validation.malformed").cause("error", e),
            Self::NoCertificate => c("validation.no_certificate"),
            Self::UnknownRoot(id) => c("validation.unknown_root").int("root_id", *id),
            Self::RootRetired(id) => c("validation.root_retired").int("root_id", *id),
            Self::NotYetValid {
                link: l,
                not_before,
                now,
            } => c("validation.not_yet_valid")
                .text("link", link(*l))
                .int("not_before", *not_before)
                .int("now", *now),
            Self::Expired {
                link: l,
                not_after,
                now,
            } => c("validation.expired")
                .text("link", link(*l))
                .int("not_after", *not_after)
                .int("now", *now),
            Self::BadSignature(l) => c("validation.bad_signature").text("link", link(*l)),
            Self::IssuerRevoked(id) => c("validation.issuer_revoked").int("issuer_id", *id),
            Self::IssuerMismatch { named, present } => c("validation.issuer_mismatch")
                .int("named", *named)
                .int("present", *present),
            Self::CertificateRevoked { issuer_id, serial } => c("validation.certificate_revoked")
                .int("issuer_id", *issuer_id)
                .int("serial", *serial),
            Self::LevelNotAllowed { issuer_id, level } => c("validation.level_not_allowed")
                .int("issuer_id", *issuer_id)
                .text("level", level.as_str()),
            Self::InvalidName(e) => c("validation.invalid_name").cause("error", e),
            Self::InvalidLocalizedName { language, error } => {
                c("validation.invalid_localized_name")
                    .text("language", language.as_str())
                    .cause("error", error)
            }
            Self::KeyMismatch => c("validation.key_mismatch"),
        }
    }
}

impl Coded for RevocationError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::IssuerCertificateNeeded(id) => {
                c("revocation.issuer_certificate_needed").int("issuer_id", *id)
            }
            Self::UnknownRoot(id) => c("revocation.unknown_root").int("root_id", *id),
            Self::IssuerNotTrusted(e) => c("revocation.issuer_not_trusted").cause("error", e),
            Self::BadSignature => c("revocation.bad_signature"),
            Self::SequenceAhead {
                sequence,
                issued_at,
            } => c("revocation.sequence_ahead")
                .int("sequence", *sequence)
                .int("issued_at", *issued_at),
            Self::Stale { current, offered } => c("revocation.stale")
                .int("current", *current)
                .int("offered", *offered),
            Self::TooManyLists => c("revocation.too_many_lists"),
            Self::IssuedInFuture { issued_at, now } => c("revocation.issued_in_future")
                .int("issued_at", *issued_at)
                .int("now", *now),
            Self::BadWindow {
                issued_at,
                next_update,
            } => c("revocation.bad_window")
                .int("issued_at", *issued_at)
                .int("next_update", *next_update),
        }
    }
}

impl Coded for StatusError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::IssuerCertificateNeeded(id) => {
                c("status.issuer_certificate_needed").int("issuer_id", *id)
            }
            Self::IssuerNotTrusted(e) => c("status.issuer_not_trusted").cause("error", e),
            Self::BadSignature => c("status.bad_signature"),
            Self::BadWindow {
                this_update,
                next_update,
            } => c("status.bad_window")
                .int("this_update", *this_update)
                .int("next_update", *next_update),
            Self::InFuture { this_update, now } => c("status.in_future")
                .int("this_update", *this_update)
                .int("now", *now),
            Self::Stale { current, offered } => c("status.stale")
                .int("current", *current)
                .int("offered", *offered),
            Self::Full => c("status.full"),
            Self::WrongCertificate { issuer_id, serial } => c("status.wrong_certificate")
                .int("issuer_id", *issuer_id)
                .int("serial", *serial),
        }
    }
}

impl Coded for TemplateError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Decode(e) => c("template.decode").cause("error", e),
            Self::BadText(rule) => c("template.bad_text").text("rule", *rule),
            Self::Placeholders => c("template.placeholders"),
            Self::BadSignature => c("template.bad_signature"),
            Self::WrongBusiness => c("template.wrong_business"),
            Self::NotValid { now } => c("template.not_valid").int("now", *now),
            Self::ParamCount { expected, got } => c("template.param_count")
                .int("expected", *expected)
                .int("got", *got),
            Self::BadParam { index } => c("template.bad_param").int("index", *index),
            Self::NotVerified => c("template.not_verified"),
            Self::IssuerUnknown => c("template.issuer_unknown"),
        }
    }
}

impl Coded for RevokedBy {
    fn error_code(&self) -> ErrorCode {
        match *self {
            Self::Certificate {
                issuer_id,
                sequence,
            } => c("revoked_by.certificate")
                .int("issuer_id", issuer_id)
                .int("sequence", sequence),
            Self::Issuer { root_id, sequence } => c("revoked_by.issuer")
                .int("root_id", root_id)
                .int("sequence", sequence),
            Self::RootRetired(id) => c("revoked_by.root_retired").int("root_id", id),
        }
    }
}

impl Coded for Expiry {
    fn error_code(&self) -> ErrorCode {
        match *self {
            Self::Certificate => c("expiry.certificate"),
            Self::Status => c("expiry.status"),
            Self::NoStatus => c("expiry.no_status"),
            Self::RevocationList { scope, signer_id } => c("expiry.revocation_list")
                .int("scope", scope.to_byte())
                .int("signer_id", signer_id),
        }
    }
}

/// The badge's code leaves out the business it names (the verified
/// business of the chain judged).
impl Coded for Badge {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Verified { until, .. } => c("badge.verified").int("until", *until),
            Self::Expired { what, since, .. } => {
                c("badge.expired").cause("what", what).int("since", *since)
            }
            Self::Revoked { by, .. } => c("badge.revoked").cause("by", by),
            Self::Unverified => c("badge.unverified"),
        }
    }
}

impl Coded for NameError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Empty => c("name.empty"),
            Self::TooManyBytes(n) => c("name.too_many_bytes").int("len", *n),
            Self::TooManyChars(n) => c("name.too_many_chars").int("len", *n),
            Self::NotNormalized => c("name.not_normalized"),
            Self::ControlCharacter { position, ch } => c("name.control_character")
                .int("position", *position)
                .ch("char", *ch),
            Self::BidiControl { position, ch } => c("name.bidi_control")
                .int("position", *position)
                .ch("char", *ch),
            Self::InvisibleCharacter { position, ch } => c("name.invisible_character")
                .int("position", *position)
                .ch("char", *ch),
            Self::FullWidthForm { position, ch } => c("name.full_width_form")
                .int("position", *position)
                .ch("char", *ch),
            Self::DisallowedCharacter { position, ch } => c("name.disallowed_character")
                .int("position", *position)
                .ch("char", *ch),
            Self::BadSpacing => c("name.bad_spacing"),
            Self::NoLetter => c("name.no_letter"),
            Self::MixedScript(level) => {
                c("name.mixed_script").text("level", level.replace(' ', "_").to_lowercase())
            }
            Self::LatinWordMix { position, ch } => c("name.latin_word_mix")
                .int("position", *position)
                .ch("char", *ch),
            Self::AsciiLookalike(skeleton) => {
                c("name.ascii_lookalike").text("skeleton", skeleton.as_str())
            }
        }
    }
}

impl Coded for IssueError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Name(e) => c("issue.name").cause("error", e),
            Self::LocalizedName { language, error } => c("issue.localized_name")
                .text("language", language.as_str())
                .cause("error", error),
            Self::LanguageTag(tag) => c("issue.language_tag").text("tag", tag.as_str()),
            Self::TooManyLocalizedNames(n) => c("issue.too_many_localized_names").int("count", *n),
            Self::EmptyValidity => c("issue.empty_validity"),
            Self::ValidityOutsideIssuer => c("issue.validity_outside_issuer"),
            Self::LevelNotAllowed(level) => {
                c("issue.level_not_allowed").text("level", level.as_str())
            }
            Self::KeyMismatch => c("issue.key_mismatch"),
            Self::TooManyEntries(n) => c("issue.too_many_entries").int("count", *n),
            Self::StatusWindow => c("issue.status_window"),
            Self::ListWindow => c("issue.list_window"),
            Self::SequenceAhead {
                sequence,
                issued_at,
            } => c("issue.sequence_ahead")
                .int("sequence", *sequence)
                .int("issued_at", *issued_at),
        }
    }
}

impl Coded for TrustStoreError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::DuplicateRoot(id) => c("trust_store.duplicate_root").int("root_id", *id),
            Self::Retired(id) => c("trust_store.retired").int("root_id", *id),
            Self::Full => c("trust_store.full"),
        }
    }
}

impl Coded for TrustRootError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Decode(e) => c("trust_root.decode").cause("error", e),
            Self::BadSignature => c("trust_root.bad_signature"),
        }
    }
}

impl Coded for PinCheckError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::IdentityChanged { business_id, .. } => {
                c("pin_check.identity_changed").text("business_id", business_id.to_string())
            }
        }
    }
}

impl Coded for PinError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Full => c("pin.full"),
        }
    }
}

impl Coded for RecordError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Decode(e) => c("record.decode").cause("error", e),
            Self::BadSignature => c("record.bad_signature"),
            Self::SameAccount => c("record.same_account"),
        }
    }
}

impl Coded for RequestError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Decode(e) => c("request.decode").cause("error", e),
            Self::BadSignature => c("request.bad_signature"),
            Self::BadIdentity(e) => c("request.bad_identity").cause("error", e),
            Self::BadRecord(e) => c("request.bad_record").cause("error", e),
            Self::BadReport(e) => c("request.bad_report").cause("error", e),
        }
    }
}

impl Coded for ReportError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Decode(e) => c("report.decode").cause("error", e),
            Self::BadSignature => c("report.bad_signature"),
            Self::BadOpening => c("report.bad_opening"),
        }
    }
}

impl Coded for ReceiptError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Decode(e) => c("receipt.decode").cause("error", e),
            Self::BadSignature => c("receipt.bad_signature"),
            Self::BadKey => c("receipt.bad_key"),
        }
    }
}

impl Coded for ResponseError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Decode(e) => c("response.decode").cause("error", e),
            Self::Bundle(e) => c("response.bundle").cause("error", e),
            Self::Record(e) => c("response.record").cause("error", e),
        }
    }
}

impl Coded for CertificateRefused {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Untrusted => c("certificate_refused.untrusted"),
            Self::Invalid(e) => c("certificate_refused.invalid").cause("error", e),
        }
    }
}

fn slot(s: PreKeySlot) -> &'static str {
    match s {
        PreKeySlot::Signed => "signed",
        PreKeySlot::LastResort => "last_resort",
        PreKeySlot::OneTime => "one_time",
        PreKeySlot::Kem => "kem",
    }
}

impl Coded for RelayError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Request(e) => c("relay.request").cause("error", e),
            Self::StaleRequest { timestamp, now } => c("relay.stale_request")
                .int("timestamp", *timestamp)
                .int("now", *now),
            Self::ReplayedRequest { counter, last } => c("relay.replayed_request")
                .int("counter", *counter)
                .int("last", *last),
            Self::UnknownAccount => c("relay.unknown_account"),
            Self::AlreadyRegistered => c("relay.already_registered"),
            Self::AccountDeleted => c("relay.account_deleted"),
            Self::PeriodUnavailable {
                period,
                first,
                current,
            } => c("relay.period_unavailable")
                .int("period", u64::from(*period))
                .int("first", u64::from(*first))
                .int("current", u64::from(*current)),
            Self::IdentityMismatch => c("relay.identity_mismatch"),
            Self::CertificateRefused(e) => c("relay.certificate_refused").cause("error", e),
            Self::NotInGoodStanding(badge) => {
                c("relay.not_in_good_standing").cause("badge", badge.as_ref())
            }
            Self::ConfusableName { name, existing } => c("relay.confusable_name")
                .text("name", name.as_str())
                .text("existing", existing.as_str()),
            Self::WrongAccountKind(kind) => c("relay.wrong_account_kind").text(
                "required",
                match kind {
                    AccountKind::Customer => "customer",
                    AccountKind::Business => "business",
                },
            ),
            Self::BadPreKeySignature { slot: s, id } => c("relay.bad_prekey_signature")
                .text("slot", slot(*s))
                .int("id", *id),
            Self::LowOrderPreKey { slot: s, id } => c("relay.low_order_prekey")
                .text("slot", slot(*s))
                .int("id", *id),
            Self::WrongKemKind { slot: s, id } => c("relay.wrong_kem_kind")
                .text("slot", slot(*s))
                .int("id", *id),
            Self::TooManyPreKeys => c("relay.too_many_prekeys"),
            Self::SpentPreKeyId { slot: s, id, spent } => c("relay.spent_prekey_id")
                .text("slot", slot(*s))
                .int("id", *id)
                .int("spent", *spent),
            Self::NoBundle => c("relay.no_bundle"),
            Self::SenderMismatch => c("relay.sender_mismatch"),
            Self::MailboxFull => c("relay.mailbox_full"),
            Self::SenderQuotaExceeded => c("relay.sender_quota_exceeded"),
            Self::RateLimited {
                limit,
                retry_after_secs,
            } => c("relay.rate_limited")
                .text(
                    "limit",
                    match limit {
                        RateLimit::BundleFetches => "bundle_fetches",
                        RateLimit::InitialMessages => "initial_messages",
                    },
                )
                .int("retry_after", *retry_after_secs),
            Self::Policy(p) => match p {
                PolicyError::Blocked => c("relay.blocked"),
                PolicyError::BlockedByBusiness => c("relay.blocked_by_business"),
                PolicyError::NoConsent => c("relay.no_consent"),
                PolicyError::WindowClosed => c("relay.window_closed"),
                PolicyError::NotificationFromCustomer => c("relay.notification_from_customer"),
                PolicyError::UnsupportedRoute => c("relay.unsupported_route"),
            },
            Self::RecordNotYours => c("relay.record_not_yours"),
            Self::StaleRecord => c("relay.stale_record"),
            Self::Store(_) => c("relay.unavailable"),
            Self::BadStatus(e) => c("relay.bad_status").cause("error", e),
            Self::BadRevocationList(e) => c("relay.bad_revocation_list").cause("error", e),
            Self::TrustStateFixed => c("relay.trust_state_fixed"),
            Self::BadStamp => c("relay.bad_stamp"),
            Self::ReportTooOld { received_at, now } => c("relay.report_too_old")
                .int("received_at", *received_at)
                .int("now", *now),
            Self::DailyLimitReached { limit, tier } => c("relay.daily_limit_reached")
                .int("limit", u64::from(*limit))
                .int("tier", u64::from(*tier)),
        }
    }
}

impl Coded for RestoreError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Truncated => c("restore.truncated"),
            Self::TrailingBytes(n) => c("restore.trailing_bytes").int("count", *n),
            Self::UnknownVersion(v) => c("restore.unknown_version").int("version", *v),
            Self::UnknownKind(k) => c("restore.unknown_kind").int("kind", *k),
            Self::WrongKind { expected, found } => c("restore.wrong_kind")
                .int("expected", *expected)
                .int("found", *found),
            Self::WrongKey => c("restore.wrong_key"),
            Self::TooLong(len) => c("restore.too_long").int("len", *len),
            Self::AuthenticationFailed => c("restore.authentication_failed"),
            Self::Malformed(e) => c("restore.malformed").cause("error", e),
            Self::Inconsistent(reason) => c("restore.inconsistent").text("reason", *reason),
            Self::RetiredVersion { kind, version } => c("restore.retired_version")
                .int("kind", *kind)
                .int("version", *version),
        }
    }
}

impl Coded for crate::store::StoreError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Restore { what, error } => {
                c("store.restore").text("what", *what).cause("error", error)
            }
            Self::NotInitialized => c("store.not_initialized"),
            Self::AlreadyInitialized => c("store.already_initialized"),
            Self::Conflict { kind } => c("store.conflict").int("kind", *kind),
            Self::RolledBack { stored, guard } => c("store.rolled_back")
                .int("stored", *stored)
                .int("guard", *guard),
            Self::Full { what } => c("store.full").text("what", *what),
            Self::Backend(_) => c("store.backend"),
        }
    }
}

impl Coded for StartError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Store(e) => c("start.store").cause("error", e),
            Self::IdentityChanged(_) => c("start.identity_changed"),
            Self::AccountMismatch { .. } => c("start.account_mismatch"),
            Self::NotThisBusiness => c("start.not_this_business"),
            Self::Handshake(e) => c("start.handshake").cause("error", e),
        }
    }
}

impl Coded for SendError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Store(e) => c("send.store").cause("error", e),
            Self::NoSession => c("send.no_session"),
            Self::IdentityChanged(_) => c("send.identity_changed"),
            Self::NotAnAccount => c("send.not_an_account"),
            Self::Blocked => c("send.blocked"),
            Self::Encrypt(e) => c("send.encrypt").cause("error", e),
        }
    }
}

impl Coded for ReceiveError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::Store(e) => c("receive.store").cause("error", e),
            Self::NoSession => c("receive.no_session"),
            Self::IdentityChanged(_) => c("receive.identity_changed"),
            Self::SenderMismatch { .. } => c("receive.sender_mismatch"),
            Self::NotForMe => c("receive.not_for_me"),
            Self::Blocked => c("receive.blocked"),
            Self::Handshake(e) => c("receive.handshake").cause("error", e),
            Self::Decrypt(e) => c("receive.decrypt").cause("error", e),
            Self::BadFranking => c("receive.bad_franking"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_in_table(code: &ErrorCode) {
        assert!(code.matches_table(), "{code} does not match CODES");
    }

    #[test]
    fn table_has_no_duplicates_and_well_formed_codes() {
        let mut seen = std::collections::BTreeSet::new();
        for e in CODES {
            assert!(seen.insert(e.code), "{} twice", e.code);
            let (ty, variant) = e.code.split_once('.').expect("type.variant");
            for part in [ty, variant] {
                assert!(!part.is_empty());
                assert!(
                    part.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                    "{} is not snake case",
                    e.code
                );
            }
        }
    }

    #[test]
    fn display_is_json_with_nested_codes() {
        let e = HandshakeError::Identity(IdentityError::Decode(DecodeError::InvalidValue {
            field: "a \"quoted\" field",
            value: 7,
        }));
        let code = e.error_code();
        assert_in_table(&code);
        assert_eq!(
            code.to_string(),
            r#"{"code":"handshake.identity","error":{"code":"identity.decode","error":{"code":"decode.invalid_value","field":"a \"quoted\" field","value":7}}}"#
        );
        let n = NameError::BidiControl {
            position: 3,
            ch: '\u{202e}',
        };
        assert_eq!(
            n.error_code().to_string(),
            r#"{"code":"name.bidi_control","position":3,"char":"U+202E"}"#
        );
    }
}

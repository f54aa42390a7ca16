//! Business identity: certificates from the platform's trust root to a
//! business's identity key and verified name, checked by the customer's
//! client and bound into the handshake (SPEC.md, "Business identity").
//!
//! * [`certificate`](self) — trust roots, issuer and business certificates,
//!   the chain a business publishes in its bundle;
//! * [`RootAuthority`], [`IssuerAuthority`] — issuance, for the operator;
//! * [`TrustStore`] — the client's roots, revocations and chain validation,
//!   giving a [`VerifiedBusiness`] or a precise [`ValidationError`];
//! * [`check_name`], [`normalize_name`], [`names_confusable`] — the name rules;
//! * [`NameIndex`] — the issuer's index of the names it issued, refusing
//!   look-alikes of another business's;
//! * [`KnownBusinesses`] — pinning and look-alike warnings;
//! * [`Fingerprint`] — safety numbers.
//!
//! Every function that depends on time takes `now` in Unix seconds; nothing
//! here reads a clock.

mod authority;
mod certificate;
mod fingerprint;
mod name_index;
mod names;
mod pinning;
pub(crate) mod revocation;
mod status;
mod template;
mod validation;

pub use authority::{BusinessCertificateRequest, IssueError, IssuerAuthority, RootAuthority};
pub use certificate::{
    BusinessCertificate, BusinessId, CertificateChain, IssuerCertificate, LevelSet, LocalizedName,
    TrustRoot, TrustRootError, Validity, VerificationLevel,
};
pub use fingerprint::{FINGERPRINT_QR_LEN, Fingerprint};
pub use name_index::{
    IndexedName, MAX_NAME_INDEX_ENTRIES, MAX_NAME_KEY_BYTES, NAME_INDEX_MAGIC, NAME_INDEX_VERSION,
    NameIndex, NameIndexError,
};
pub use names::{NameError, check_name, confusable_key, names_confusable, normalize_name};
pub use pinning::{ConfusableName, KnownBusinesses, PinCheckError, PinError, PinStatus};
pub use revocation::{RevocationError, RevocationList, RevocationScope, RevocationUpdate};
pub use status::{CERT_STATUS_LEN, CertificateStatus, StatusError};
pub use template::{
    MessageTemplate, RenderedNotification, TemplateCategory, TemplateError, TemplatedNotification,
};
pub use validation::{
    Badge, ChainLink, Expiry, Peer, RevokedBy, TrustStore, TrustStoreError, ValidationError,
    VerifiedBusiness,
};

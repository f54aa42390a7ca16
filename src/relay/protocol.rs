//! Request and response bodies and their strict encodings (SPEC.md 14.2,
//! 14.3). Any transport can carry them: the relay's whole API is
//! [`Relay::handle`](crate::relay::Relay::handle), bytes in, bytes out.

use crate::business::{CERT_STATUS_LEN, CertificateStatus, IssuerCertificate, RevocationList};
use crate::constants::{
    MAX_ACK_BATCH, MAX_CERTIFICATE_CHAIN_LEN, MAX_CONSENT_HISTORY, MAX_FETCH_BATCH,
    MAX_FETCH_STATES, MAX_REQUEST_BODY_LEN, MAX_UPLOAD_PREKEYS, OBJ_TYPE_RELAY_RESPONSE,
    PROTOCOL_VERSION,
};
use crate::keys::{
    BundleError, IdentityError, IdentityKey, KemPreKeyPublic, OneTimePreKeyPublic, PreKeyBundle,
    SignedPreKeyPublic,
};
use crate::relay::auth::{AccountId, RequestError};
use crate::relay::envelope::{ENVELOPE_HEADER_LEN, Envelope};
use crate::relay::error::{DAILY_LIMIT_CODE, RATE_LIMITED_CODE, Refusal};
use crate::relay::franking::{FrankingStamp, SpamReport};
use crate::relay::limits::{PreKeyDrain, RateLimit};
use crate::relay::policy::{BlockRecord, ConsentRecord, RECORD_LEN, RecordError};
use crate::relay::receipt::{RECEIPT_LEN, Receipt, Statement};
use crate::wire::{DecodeError, Reader};

const OP_REGISTER_CUSTOMER: u8 = 0x01;
const OP_REGISTER_BUSINESS: u8 = 0x02;
const OP_UPLOAD_PREKEYS: u8 = 0x03;
const OP_FETCH_BUNDLE: u8 = 0x04;
const OP_PREKEY_STATUS: u8 = 0x05;
const OP_SEND: u8 = 0x06;
const OP_FETCH_MAILBOX: u8 = 0x07;
const OP_ACKNOWLEDGE: u8 = 0x08;
const OP_CONSENT: u8 = 0x09;
const OP_BLOCK: u8 = 0x0A;
const OP_EXPORT_CONSENT: u8 = 0x0B;
const OP_PUBLISH_STATUS: u8 = 0x0C;
const OP_PUBLISH_REVOCATION_LIST: u8 = 0x0D;
const OP_DELETE_ACCOUNT: u8 = 0x0E;
const OP_FETCH_STATES: u8 = 0x0F;
const OP_FETCH_STATEMENT: u8 = 0x10;
const OP_REPORT: u8 = 0x11;

const STATUS_OK: u8 = 0x00;
const STATUS_REFUSED: u8 = 0x01;

/// Largest encoded bundle in a response: every prekey present, with room for
/// a certificate chain should the bundle carry one.
const MAX_BUNDLE_LEN: usize = 2 + 130 + 101 + 1 + 101 + 1254 + 1 + MAX_CERTIFICATE_CHAIN_LEN;
/// Encoded sizes used to bound element counts before allocation.
const SIGNED_PREKEY_LEN: usize = 4 + 33 + 64;
const KEM_PREKEY_LEN: usize = 4 + 1 + 1185 + 64;

/// Public prekeys to add to the directory. Every signature is checked
/// against the uploading account's identity before anything is stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreKeyUpload {
    /// A new signed prekey, replacing the current one.
    pub signed_prekey: Option<SignedPreKeyPublic>,
    /// A new last-resort ML-KEM prekey, replacing the current one.
    pub last_resort_kem_prekey: Option<KemPreKeyPublic>,
    /// One-time X25519 prekeys to add.
    pub one_time_prekeys: Vec<OneTimePreKeyPublic>,
    /// One-time ML-KEM prekeys to add.
    pub kem_prekeys: Vec<KemPreKeyPublic>,
}

/// A relay operation and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// Register a customer account for this identity.
    RegisterCustomer {
        /// The identity (must be the one that signs the request).
        identity: IdentityKey,
    },
    /// Register a business account; the relay validates the certificate
    /// chain against its trust roots.
    RegisterBusiness {
        /// The identity (must be the one that signs the request).
        identity: IdentityKey,
        /// The certificate chain, at most
        /// [`MAX_CERTIFICATE_CHAIN_LEN`](crate::constants::MAX_CERTIFICATE_CHAIN_LEN) bytes.
        certificate_chain: Vec<u8>,
    },
    /// Add prekeys to the account's directory entry.
    UploadPreKeys(PreKeyUpload),
    /// Fetch a bundle to start a session with `owner` (consumes one one-time
    /// prekey of each kind, if any are left).
    FetchBundle {
        /// Whose bundle.
        owner: AccountId,
    },
    /// How many one-time prekeys the account has left.
    PreKeyStatus,
    /// Store an envelope in the recipient's mailbox.
    Send(Envelope),
    /// Fetch up to `max` envelopes from the account's own mailbox, oldest first.
    FetchMailbox {
        /// Largest number to return (capped at
        /// [`MAX_FETCH_BATCH`](crate::constants::MAX_FETCH_BATCH)).
        max: u16,
    },
    /// Delete fetched envelopes from the account's own mailbox.
    Acknowledge {
        /// Delivery ids from [`Delivery::id`].
        ids: Vec<u64>,
    },
    /// Record a customer's consent (sent by that customer).
    Consent(ConsentRecord),
    /// Record a customer's block or unblock (sent by that customer).
    Block(BlockRecord),
    /// A business asks for the consent records a customer gave it.
    ExportConsent {
        /// The customer.
        customer: AccountId,
    },
    /// A business hands the relay a fresh status of its own certificate
    /// (SPEC.md 13.15), which the relay staples to its bundles and to the
    /// mailbox batches that carry its envelopes.
    PublishStatus(CertificateStatus),
    /// Anyone hands the relay a signed revocation list (the platform, or a
    /// client passing on what it learned): the relay applies it to the
    /// trust state it judges businesses by (SPEC.md 14.7).
    PublishRevocationList {
        /// The list.
        list: RevocationList,
        /// The certificate of the issuer that signed it (an issuer's list),
        /// or none (a root's list).
        issuer: Option<IssuerCertificate>,
    },
    /// A customer erases its account (SPEC.md 14.15): its directory entry,
    /// mailbox and the rule state of its pairs go at once, its consent
    /// evidence after the retention period, and its id is never registered
    /// again.
    DeleteAccount,
    /// The relay-signed states of envelopes the account sent (SPEC.md
    /// 14.16), oldest first: delivered, expired, deleted.
    FetchStates {
        /// Only states with a sequence above this one (0: from the oldest
        /// kept).
        after: u64,
        /// Largest number to return (capped at
        /// [`MAX_FETCH_STATES`](crate::constants::MAX_FETCH_STATES)).
        max: u16,
    },
    /// The relay-signed statement of the notifications billed to the
    /// account in one billing period (SPEC.md 14.16).
    FetchStatement {
        /// The period ([`period_of`](crate::relay::period_of)).
        period: u32,
    },
    /// A customer reports a message a business sent it (SPEC.md 14.17),
    /// with the content and the opening of the sender's commitment.
    Report(Box<SpamReport>),
}

impl Request {
    fn op(&self) -> u8 {
        match self {
            Self::RegisterCustomer { .. } => OP_REGISTER_CUSTOMER,
            Self::RegisterBusiness { .. } => OP_REGISTER_BUSINESS,
            Self::UploadPreKeys(_) => OP_UPLOAD_PREKEYS,
            Self::FetchBundle { .. } => OP_FETCH_BUNDLE,
            Self::PreKeyStatus => OP_PREKEY_STATUS,
            Self::Send(_) => OP_SEND,
            Self::FetchMailbox { .. } => OP_FETCH_MAILBOX,
            Self::Acknowledge { .. } => OP_ACKNOWLEDGE,
            Self::Consent(_) => OP_CONSENT,
            Self::Block(_) => OP_BLOCK,
            Self::ExportConsent { .. } => OP_EXPORT_CONSENT,
            Self::PublishStatus(_) => OP_PUBLISH_STATUS,
            Self::PublishRevocationList { .. } => OP_PUBLISH_REVOCATION_LIST,
            Self::DeleteAccount => OP_DELETE_ACCOUNT,
            Self::FetchStates { .. } => OP_FETCH_STATES,
            Self::FetchStatement { .. } => OP_FETCH_STATEMENT,
            Self::Report(_) => OP_REPORT,
        }
    }

    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(self.op());
        match self {
            Self::RegisterCustomer { identity } => identity.encode_into(out),
            Self::RegisterBusiness {
                identity,
                certificate_chain,
            } => {
                identity.encode_into(out);
                put_bytes(out, certificate_chain);
            }
            Self::UploadPreKeys(u) => {
                match &u.signed_prekey {
                    None => out.push(0),
                    Some(k) => {
                        out.push(1);
                        k.encode_into(out);
                    }
                }
                match &u.last_resort_kem_prekey {
                    None => out.push(0),
                    Some(k) => {
                        out.push(1);
                        k.encode_into(out);
                    }
                }
                put_count(out, u.one_time_prekeys.len());
                for k in &u.one_time_prekeys {
                    k.encode_into(out);
                }
                put_count(out, u.kem_prekeys.len());
                for k in &u.kem_prekeys {
                    k.encode_into(out);
                }
            }
            Self::FetchBundle { owner } => out.extend_from_slice(&owner.0),
            Self::PreKeyStatus | Self::DeleteAccount => {}
            Self::Send(e) => e.encode_into(out),
            Self::FetchMailbox { max } => out.extend_from_slice(&max.to_be_bytes()),
            Self::Acknowledge { ids } => {
                put_count(out, ids.len());
                for id in ids {
                    out.extend_from_slice(&id.to_be_bytes());
                }
            }
            Self::Consent(c) => out.extend_from_slice(&c.to_bytes()),
            Self::Block(b) => out.extend_from_slice(&b.to_bytes()),
            Self::ExportConsent { customer } => out.extend_from_slice(&customer.0),
            Self::PublishStatus(status) => out.extend_from_slice(&status.to_bytes()),
            Self::FetchStates { after, max } => {
                out.extend_from_slice(&after.to_be_bytes());
                out.extend_from_slice(&max.to_be_bytes());
            }
            Self::FetchStatement { period } => out.extend_from_slice(&period.to_be_bytes()),
            Self::Report(report) => report.encode_into(out),
            Self::PublishRevocationList { list, issuer } => {
                put_bytes(out, &list.to_bytes());
                match issuer {
                    None => out.push(0),
                    Some(i) => {
                        out.push(1);
                        put_bytes(out, &i.to_bytes());
                    }
                }
            }
        }
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, RequestError> {
        let op = r.u8("operation")?;
        Ok(match op {
            OP_REGISTER_CUSTOMER => Self::RegisterCustomer {
                identity: read_identity(r)?,
            },
            OP_REGISTER_BUSINESS => Self::RegisterBusiness {
                identity: read_identity(r)?,
                certificate_chain: r
                    .bytes_u32(MAX_CERTIFICATE_CHAIN_LEN, "certificate chain")?
                    .to_vec(),
            },
            OP_UPLOAD_PREKEYS => {
                let signed_prekey = match flag(r, "signed prekey flag")? {
                    false => None,
                    true => Some(SignedPreKeyPublic::read(r)?),
                };
                let last_resort_kem_prekey = match flag(r, "last-resort prekey flag")? {
                    false => None,
                    true => Some(KemPreKeyPublic::read(r)?),
                };
                let n = r.count_u16(
                    MAX_UPLOAD_PREKEYS,
                    SIGNED_PREKEY_LEN,
                    "one-time prekey count",
                )?;
                let mut one_time_prekeys = Vec::with_capacity(n);
                for _ in 0..n {
                    one_time_prekeys.push(OneTimePreKeyPublic::read(r)?);
                }
                let n = r.count_u16(MAX_UPLOAD_PREKEYS, KEM_PREKEY_LEN, "KEM prekey count")?;
                let mut kem_prekeys = Vec::with_capacity(n);
                for _ in 0..n {
                    kem_prekeys.push(KemPreKeyPublic::read(r)?);
                }
                Self::UploadPreKeys(PreKeyUpload {
                    signed_prekey,
                    last_resort_kem_prekey,
                    one_time_prekeys,
                    kem_prekeys,
                })
            }
            OP_FETCH_BUNDLE => Self::FetchBundle {
                owner: AccountId(*r.array("bundle owner")?),
            },
            OP_PREKEY_STATUS => Self::PreKeyStatus,
            OP_SEND => Self::Send(Envelope::read(r)?),
            OP_FETCH_MAILBOX => Self::FetchMailbox {
                max: r.u16("fetch count")?,
            },
            OP_ACKNOWLEDGE => {
                let n = r.count_u16(MAX_ACK_BATCH, 8, "acknowledged id count")?;
                let mut ids = Vec::with_capacity(n);
                for _ in 0..n {
                    ids.push(r.u64("delivery id")?);
                }
                Self::Acknowledge { ids }
            }
            OP_CONSENT => Self::Consent(ConsentRecord::read(r).map_err(RequestError::BadRecord)?),
            OP_BLOCK => Self::Block(BlockRecord::read(r).map_err(RequestError::BadRecord)?),
            OP_EXPORT_CONSENT => Self::ExportConsent {
                customer: AccountId(*r.array("customer")?),
            },
            OP_PUBLISH_STATUS => Self::PublishStatus(read_status(r)?),
            OP_PUBLISH_REVOCATION_LIST => Self::PublishRevocationList {
                list: RevocationList::from_bytes(
                    r.bytes_u32(MAX_REQUEST_BODY_LEN, "revocation list")?,
                )?,
                issuer: match flag(r, "issuer certificate flag")? {
                    false => None,
                    true => Some(IssuerCertificate::from_bytes(
                        r.bytes_u32(MAX_CERTIFICATE_CHAIN_LEN, "issuer certificate")?,
                    )?),
                },
            },
            OP_DELETE_ACCOUNT => Self::DeleteAccount,
            OP_FETCH_STATES => Self::FetchStates {
                after: r.u64("states after")?,
                max: r.u16("fetch count")?,
            },
            OP_FETCH_STATEMENT => Self::FetchStatement {
                period: r.u32("statement period")?,
            },
            OP_REPORT => Self::Report(Box::new(
                SpamReport::read(r).map_err(RequestError::BadReport)?,
            )),
            other => return Err(DecodeError::UnknownType(other).into()),
        })
    }
}

fn read_status(r: &mut Reader<'_>) -> Result<CertificateStatus, DecodeError> {
    CertificateStatus::from_bytes(r.take(CERT_STATUS_LEN, "certificate status")?)
}

/// Reads a registration's identity and checks it as a standalone identity
/// key (SPEC.md 6.1, steps 1 to 5): an account whose X25519 key is of low
/// order could never publish a bundle that verifies.
fn read_identity(r: &mut Reader<'_>) -> Result<IdentityKey, RequestError> {
    let identity = IdentityKey::read(r).map_err(|e| match e {
        IdentityError::Decode(d) => RequestError::Decode(d),
        other => RequestError::BadIdentity(other),
    })?;
    if identity.dh_key().is_low_order() {
        return Err(RequestError::BadIdentity(IdentityError::LowOrderKey));
    }
    Ok(identity)
}

fn flag(r: &mut Reader<'_>, what: &'static str) -> Result<bool, DecodeError> {
    match r.u8(what)? {
        0 => Ok(false),
        1 => Ok(true),
        value => Err(DecodeError::InvalidValue { field: what, value }),
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

fn put_drain(out: &mut Vec<u8>, d: &PreKeyDrain) {
    out.extend_from_slice(&d.last_hour.to_be_bytes());
    out.extend_from_slice(&d.last_day.to_be_bytes());
}

fn read_drain(r: &mut Reader<'_>) -> Result<PreKeyDrain, DecodeError> {
    Ok(PreKeyDrain {
        last_hour: r.u32("drained last hour")?,
        last_day: r.u32("drained last day")?,
    })
}

fn put_count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n.min(u16::MAX as usize) as u16).to_be_bytes());
}

/// How many one-time prekeys an account has left in the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PreKeyStatus {
    /// Unused one-time X25519 prekeys.
    pub one_time: u32,
    /// Unused one-time ML-KEM prekeys.
    pub kem: u32,
    /// Fewer than [`LOW_PREKEY_THRESHOLD`](crate::constants::LOW_PREKEY_THRESHOLD)
    /// of either kind are left: upload more.
    pub low: bool,
    /// How fast the account's one-time prekeys are being handed out, so
    /// that it can upload in proportion.
    pub drained: PreKeyDrain,
}

/// An envelope waiting in a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The relay's id for this delivery, used to acknowledge it.
    pub id: u64,
    /// When the relay accepted it (relay clock).
    pub received_at: u64,
    /// The relay's franking stamp of the envelope's header and
    /// `received_at` (SPEC.md 14.17), which the recipient presents with a
    /// report. Stores leave it zero; the relay stamps each delivery as it
    /// hands it out.
    pub stamp: FrankingStamp,
    /// The envelope, exactly as the sender submitted it.
    pub envelope: Envelope,
}

/// A successful relay response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Response {
    /// The account was registered.
    Registered,
    /// The prekeys were stored; how many are now available.
    PreKeysStored(PreKeyStatus),
    /// A verified bundle. A business's bundle carries the certificate chain
    /// it registered with ([`PreKeyBundle::certificate_chain`]), which the
    /// customer's client validates with
    /// [`TrustStore::verify_bundle`](crate::business::TrustStore::verify_bundle).
    /// The relay assembled and verified it; the client verifies it again
    /// when decoding.
    Bundle {
        /// The bundle.
        bundle: Box<PreKeyBundle>,
        /// The newest status the business published for its certificate
        /// (SPEC.md 13.15), stapled as TLS staples OCSP responses; the
        /// client applies it with
        /// [`TrustStore::apply_stapled_status`](crate::business::TrustStore::apply_stapled_status).
        status: Option<CertificateStatus>,
    },
    /// The account's prekey counts.
    PreKeyStatus(PreKeyStatus),
    /// The envelope is stored (`duplicate`: an envelope with the same sender
    /// and message id was already accepted, and nothing new was stored).
    Accepted {
        /// Whether this was a retry of an already accepted envelope.
        duplicate: bool,
        /// The relay-signed receipt of the envelope's acceptance (state
        /// [`DeliveryState::Accepted`](crate::relay::DeliveryState::Accepted),
        /// SPEC.md 14.16). Decoding does not check its signature, which
        /// needs the relay's key ([`Receipt::verify`]).
        receipt: Box<Receipt>,
    },
    /// Envelopes from the mailbox, oldest first.
    Mailbox {
        /// The envelopes.
        deliveries: Vec<Delivery>,
        /// More envelopes are waiting.
        more: bool,
        /// The account's one-time prekeys are running low.
        prekeys_low: bool,
        /// How fast the account's one-time prekeys are being handed out.
        prekeys_drained: PreKeyDrain,
        /// The newest status each business sender of these envelopes
        /// published, so that open sessions learn statuses as messages
        /// arrive (SPEC.md 13.15).
        statuses: Vec<CertificateStatus>,
    },
    /// How many of the acknowledged envelopes were deleted (already deleted
    /// or unknown ids are ignored, so acknowledging twice is harmless).
    Acknowledged {
        /// Number deleted.
        removed: u32,
    },
    /// The consent record was stored.
    ConsentStored,
    /// The block record was stored.
    BlockStored,
    /// The consent records the customer gave the requesting business,
    /// oldest first; the last one is in force.
    ConsentEvidence(Vec<ConsentRecord>),
    /// The status was checked and is stapled from now on.
    StatusStored,
    /// The revocation list was applied.
    RevocationListApplied {
        /// The sequence now in force for the list's signer.
        sequence: u64,
    },
    /// The account is erased (SPEC.md 14.15): the relay accepts no further
    /// request from it.
    AccountDeleted,
    /// Relay-signed states of envelopes the account sent, oldest first
    /// (SPEC.md 14.16). Decoding does not check their signatures.
    States {
        /// The states.
        receipts: Vec<Receipt>,
        /// More states are logged after the last one.
        more: bool,
    },
    /// The relay-signed statement of a billing period (SPEC.md 14.16).
    /// Decoding does not check its signature.
    Statement(Box<Statement>),
    /// The report was checked and recorded (SPEC.md 14.17).
    Reported {
        /// The customer had already reported this message; nothing new was
        /// recorded.
        duplicate: bool,
    },
}

impl Response {
    fn op(&self) -> u8 {
        match self {
            Self::Registered => OP_REGISTER_CUSTOMER,
            Self::PreKeysStored(_) => OP_UPLOAD_PREKEYS,
            Self::Bundle { .. } => OP_FETCH_BUNDLE,
            Self::PreKeyStatus(_) => OP_PREKEY_STATUS,
            Self::Accepted { .. } => OP_SEND,
            Self::Mailbox { .. } => OP_FETCH_MAILBOX,
            Self::Acknowledged { .. } => OP_ACKNOWLEDGE,
            Self::ConsentStored => OP_CONSENT,
            Self::BlockStored => OP_BLOCK,
            Self::ConsentEvidence(_) => OP_EXPORT_CONSENT,
            Self::StatusStored => OP_PUBLISH_STATUS,
            Self::RevocationListApplied { .. } => OP_PUBLISH_REVOCATION_LIST,
            Self::AccountDeleted => OP_DELETE_ACCOUNT,
            Self::States { .. } => OP_FETCH_STATES,
            Self::Statement(_) => OP_FETCH_STATEMENT,
            Self::Reported { .. } => OP_REPORT,
        }
    }

    /// Encodes the outcome of a request (SPEC.md 14.3).
    pub fn encode_result(result: &Result<Response, Refusal>) -> Vec<u8> {
        let mut out = vec![PROTOCOL_VERSION, OBJ_TYPE_RELAY_RESPONSE];
        match result {
            Err(refusal) => {
                out.push(STATUS_REFUSED);
                out.extend_from_slice(&refusal.code().to_be_bytes());
                match refusal {
                    Refusal::RateLimited {
                        limit,
                        retry_after_secs,
                    } => {
                        out.push(limit.to_byte());
                        out.extend_from_slice(&retry_after_secs.to_be_bytes());
                    }
                    Refusal::DailyLimitReached { limit, tier } => {
                        out.extend_from_slice(&limit.to_be_bytes());
                        out.push(*tier);
                    }
                    _ => {}
                }
            }
            Ok(resp) => {
                out.push(STATUS_OK);
                out.push(resp.op());
                resp.encode_body(&mut out);
            }
        }
        out
    }

    fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            Self::Registered
            | Self::ConsentStored
            | Self::BlockStored
            | Self::StatusStored
            | Self::AccountDeleted => {}
            Self::RevocationListApplied { sequence } => {
                out.extend_from_slice(&sequence.to_be_bytes());
            }
            Self::PreKeysStored(s) | Self::PreKeyStatus(s) => {
                out.extend_from_slice(&s.one_time.to_be_bytes());
                out.extend_from_slice(&s.kem.to_be_bytes());
                out.push(u8::from(s.low));
                put_drain(out, &s.drained);
            }
            Self::Bundle { bundle, status } => {
                put_bytes(out, &bundle.to_bytes());
                match status {
                    None => out.push(0),
                    Some(s) => {
                        out.push(1);
                        out.extend_from_slice(&s.to_bytes());
                    }
                }
            }
            Self::Accepted { duplicate, receipt } => {
                out.push(u8::from(*duplicate));
                out.extend_from_slice(&receipt.to_bytes());
            }
            Self::States { receipts, more } => {
                out.push(u8::from(*more));
                put_count(out, receipts.len());
                for r in receipts {
                    out.extend_from_slice(&r.to_bytes());
                }
            }
            Self::Statement(s) => out.extend_from_slice(&s.to_bytes()),
            Self::Reported { duplicate } => out.push(u8::from(*duplicate)),
            Self::Mailbox {
                deliveries,
                more,
                prekeys_low,
                prekeys_drained,
                statuses,
            } => {
                out.push(u8::from(*more));
                out.push(u8::from(*prekeys_low));
                put_drain(out, prekeys_drained);
                put_count(out, deliveries.len());
                for d in deliveries {
                    out.extend_from_slice(&d.id.to_be_bytes());
                    out.extend_from_slice(&d.received_at.to_be_bytes());
                    out.extend_from_slice(&d.stamp.0);
                    d.envelope.encode_into(out);
                }
                put_count(out, statuses.len());
                for s in statuses {
                    out.extend_from_slice(&s.to_bytes());
                }
            }
            Self::Acknowledged { removed } => out.extend_from_slice(&removed.to_be_bytes()),
            Self::ConsentEvidence(records) => {
                put_count(out, records.len());
                for rec in records {
                    out.extend_from_slice(&rec.to_bytes());
                }
            }
        }
    }

    /// Decodes a response: the relay's answer or its refusal. Every bundle
    /// and record in it is verified again; a client trusts nothing the relay
    /// says about keys.
    pub fn decode_result(bytes: &[u8]) -> Result<Result<Response, Refusal>, ResponseError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        match r.u8("object type")? {
            OBJ_TYPE_RELAY_RESPONSE => {}
            other => return Err(DecodeError::UnknownType(other).into()),
        }
        let out = match r.u8("response status")? {
            STATUS_REFUSED => match r.u16("refusal code")? {
                RATE_LIMITED_CODE => {
                    let value = r.u8("rate limit")?;
                    let limit = RateLimit::from_byte(value).ok_or(DecodeError::InvalidValue {
                        field: "rate limit",
                        value,
                    })?;
                    Err(Refusal::RateLimited {
                        limit,
                        retry_after_secs: r.u32("retry after")?,
                    })
                }
                DAILY_LIMIT_CODE => Err(Refusal::DailyLimitReached {
                    limit: r.u32("daily limit")?,
                    tier: r.u8("tier")?,
                }),
                code => Err(Refusal::from_code(code).ok_or(DecodeError::InvalidValue {
                    field: "refusal code",
                    value: code.min(255) as u8,
                })?),
            },
            STATUS_OK => Ok(Self::read_body(&mut r)?),
            value => {
                return Err(DecodeError::InvalidValue {
                    field: "response status",
                    value,
                }
                .into());
            }
        };
        r.finish()?;
        Ok(out)
    }

    fn read_body(r: &mut Reader<'_>) -> Result<Self, ResponseError> {
        let status = |r: &mut Reader<'_>| -> Result<PreKeyStatus, DecodeError> {
            Ok(PreKeyStatus {
                one_time: r.u32("one-time count")?,
                kem: r.u32("KEM count")?,
                low: flag(r, "low flag")?,
                drained: read_drain(r)?,
            })
        };
        Ok(match r.u8("operation")? {
            OP_REGISTER_CUSTOMER => Self::Registered,
            OP_UPLOAD_PREKEYS => Self::PreKeysStored(status(r)?),
            OP_FETCH_BUNDLE => Self::Bundle {
                bundle: Box::new(PreKeyBundle::from_bytes(
                    r.bytes_u32(MAX_BUNDLE_LEN, "bundle")?,
                )?),
                status: match flag(r, "status flag")? {
                    false => None,
                    true => Some(read_status(r)?),
                },
            },
            OP_PREKEY_STATUS => Self::PreKeyStatus(status(r)?),
            OP_SEND => Self::Accepted {
                duplicate: flag(r, "duplicate flag")?,
                receipt: Box::new(Receipt::read(r)?),
            },
            OP_FETCH_MAILBOX => {
                let more = flag(r, "more flag")?;
                let prekeys_low = flag(r, "low flag")?;
                let prekeys_drained = read_drain(r)?;
                let n = r.count_u16(
                    MAX_FETCH_BATCH,
                    16 + 32 + ENVELOPE_HEADER_LEN + 5,
                    "delivery count",
                )?;
                let mut deliveries = Vec::with_capacity(n);
                for _ in 0..n {
                    deliveries.push(Delivery {
                        id: r.u64("delivery id")?,
                        received_at: r.u64("received at")?,
                        stamp: FrankingStamp(*r.array("delivery stamp")?),
                        envelope: Envelope::read(r)?,
                    });
                }
                let n = r.count_u16(MAX_FETCH_BATCH, CERT_STATUS_LEN, "status count")?;
                let mut statuses = Vec::with_capacity(n);
                for _ in 0..n {
                    statuses.push(read_status(r)?);
                }
                Self::Mailbox {
                    deliveries,
                    more,
                    prekeys_low,
                    prekeys_drained,
                    statuses,
                }
            }
            OP_ACKNOWLEDGE => Self::Acknowledged {
                removed: r.u32("removed count")?,
            },
            OP_CONSENT => Self::ConsentStored,
            OP_BLOCK => Self::BlockStored,
            OP_EXPORT_CONSENT => {
                let n = r.count_u16(MAX_CONSENT_HISTORY, RECORD_LEN, "consent record count")?;
                let mut records = Vec::with_capacity(n);
                for _ in 0..n {
                    records.push(ConsentRecord::read(r)?);
                }
                Self::ConsentEvidence(records)
            }
            OP_PUBLISH_STATUS => Self::StatusStored,
            OP_PUBLISH_REVOCATION_LIST => Self::RevocationListApplied {
                sequence: r.u64("sequence")?,
            },
            OP_DELETE_ACCOUNT => Self::AccountDeleted,
            OP_FETCH_STATES => {
                let more = flag(r, "more flag")?;
                let n = r.count_u16(MAX_FETCH_STATES, RECEIPT_LEN, "state count")?;
                let mut receipts = Vec::with_capacity(n);
                for _ in 0..n {
                    receipts.push(Receipt::read(r)?);
                }
                Self::States { receipts, more }
            }
            OP_FETCH_STATEMENT => Self::Statement(Box::new(Statement::read(r)?)),
            OP_REPORT => Self::Reported {
                duplicate: flag(r, "duplicate flag")?,
            },
            other => return Err(DecodeError::UnknownType(other).into()),
        })
    }
}

/// Why a relay response could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The bytes are malformed.
    #[error("malformed response: {0}")]
    Decode(#[from] DecodeError),
    /// A bundle in the response failed verification.
    #[error("bundle refused: {0}")]
    Bundle(#[from] BundleError),
    /// A consent record in the response failed verification.
    #[error("consent record refused: {0}")]
    Record(#[from] RecordError),
}

//! What can go wrong, by operation.

use hotline::relay::{Refusal, ResponseError};
use hotline::store::{ReceiveError, SendError, StartError, StoreError};

/// Why a client operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client's database failed, or refused a record.
    #[error("client store: {0}")]
    Store(#[from] StoreError),
    /// Something stored by this SDK does not decode (a corrupted database).
    #[error("corrupted client database: {0}")]
    Corrupt(&'static str),
    /// The relay refused the request.
    #[error("the relay refused: {0:?}")]
    Refused(Refusal),
    /// The relay's answer does not decode (or is the answer to another
    /// operation).
    #[error("unexpected answer from the relay: {0}")]
    BadResponse(String),
    /// A session could not be started.
    #[error("session: {0}")]
    Start(#[from] StartError),
    /// A message could not be sealed.
    #[error("send: {0}")]
    Send(#[from] SendError),
    /// A message could not be opened.
    #[error("receive: {0}")]
    Receive(#[from] ReceiveError),
    /// The business's bundle did not verify as a business of a trusted
    /// root; the reason says why.
    #[error("the business is not verified: {0}")]
    NotVerified(String),
    /// A notification is not an approved template of a verified business
    /// (SPEC.md 13.17).
    #[error("notification refused: {0}")]
    Template(hotline::business::TemplateError),
    /// A receipt or statement of the relay failed verification under the
    /// relay's key (SPEC.md 14.16): not signed by that relay.
    #[error("relay receipt refused: {0}")]
    Receipt(hotline::relay::ReceiptError),
    /// No message with this inbox sequence number can be reported: none is
    /// in the inbox, or it arrived before this client kept the franking
    /// evidence (SPEC.md 14.17).
    #[error("inbox message {0} cannot be reported")]
    NotReportable(u64),
    /// The relay's statement of a billing period does not match the
    /// delivery states it signed for the same period (SPEC.md 14.16): the
    /// bill cannot be trusted.
    #[error(
        "the relay's statement of period {period} bills {billed} notifications, its own delivery states show {delivered}"
    )]
    StatementMismatch {
        /// The period.
        period: u32,
        /// What the statement bills.
        billed: u64,
        /// The delivered notifications among the relay's signed states.
        delivered: u64,
    },
    /// The relay URL is not `http://host:port` or `ws://host:port`.
    #[error("bad relay URL {0:?}")]
    BadUrl(String),
    /// The configuration cannot be used.
    #[error("configuration: {0}")]
    Config(&'static str),
    /// The client was shut down (or its background task stopped).
    #[error("the client is shut down")]
    Closed,
    /// The connection failed and the operation gave up (it was not made, or
    /// it is unknown whether the relay saw it; retrying is safe).
    #[error("network: {0}")]
    Network(String),
}

impl From<ResponseError> for Error {
    fn from(e: ResponseError) -> Self {
        Self::BadResponse(e.to_string())
    }
}

//! The Double Ratchet with header encryption (Signal's specification, section 4).

pub(crate) mod keys;
pub mod padding;
pub(crate) mod pq;
pub(crate) mod skipped;
pub(crate) mod state;

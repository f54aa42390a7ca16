//! The prekey directory: checks every uploaded prekey against its owner's
//! identity, and assembles bundles that hand out each one-time prekey once.

use crate::keys::{IdentityKey, KemPreKeyKind, PreKeyBundle};
use crate::relay::error::{PreKeySlot, RelayError};
use crate::relay::protocol::PreKeyUpload;
use crate::relay::store::BundleParts;

/// Checks every signature (strictly, under `owner`), every X25519 key (not
/// of low order) and every KEM kind of an upload. The first failure is
/// returned and nothing is stored.
pub(crate) fn validate_upload(owner: &IdentityKey, u: &PreKeyUpload) -> Result<(), RelayError> {
    let key = owner.signing_key();
    if let Some(s) = &u.signed_prekey {
        let slot = PreKeySlot::Signed;
        s.verify(key)
            .map_err(|_| RelayError::BadPreKeySignature { slot, id: s.id })?;
        if s.key.is_low_order() {
            return Err(RelayError::LowOrderPreKey { slot, id: s.id });
        }
    }
    if let Some(k) = &u.last_resort_kem_prekey {
        let slot = PreKeySlot::LastResort;
        if k.kind != KemPreKeyKind::LastResort {
            return Err(RelayError::WrongKemKind { slot, id: k.id });
        }
        k.verify(key)
            .map_err(|_| RelayError::BadPreKeySignature { slot, id: k.id })?;
    }
    for k in &u.one_time_prekeys {
        let slot = PreKeySlot::OneTime;
        k.verify(key)
            .map_err(|_| RelayError::BadPreKeySignature { slot, id: k.id })?;
        if k.key.is_low_order() {
            return Err(RelayError::LowOrderPreKey { slot, id: k.id });
        }
    }
    for k in &u.kem_prekeys {
        let slot = PreKeySlot::Kem;
        if k.kind != KemPreKeyKind::OneTime {
            return Err(RelayError::WrongKemKind { slot, id: k.id });
        }
        k.verify(key)
            .map_err(|_| RelayError::BadPreKeySignature { slot, id: k.id })?;
    }
    Ok(())
}

/// Assembles and verifies a bundle from stored parts. Stored parts were
/// verified at upload; verifying again means a corrupted store yields an
/// error, not a bad bundle.
pub(crate) fn assemble(
    owner: &IdentityKey,
    parts: BundleParts,
) -> Result<PreKeyBundle, RelayError> {
    PreKeyBundle::new(
        *owner,
        parts.signed_prekey,
        parts.one_time_prekey,
        parts.kem_prekey,
    )
    .map_err(|_| RelayError::Store(crate::relay::store::StoreError::Corrupt("prekey")))
}

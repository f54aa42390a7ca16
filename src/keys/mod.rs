//! Long-term identities, prekeys and prekey bundles.

mod bundle;
mod identity;
mod prekeys;
mod store;

pub use bundle::{BundleError, BundleField, PreKeyBundle};
pub use identity::{IdentityError, IdentityKey, IdentityKeyPair};
#[cfg(feature = "conformance")]
pub use prekeys::{KemPreKey, OneTimePreKey, SignedPreKey};
pub use prekeys::{KemPreKeyKind, KemPreKeyPublic, OneTimePreKeyPublic, SignedPreKeyPublic};
pub use store::PreKeyStore;

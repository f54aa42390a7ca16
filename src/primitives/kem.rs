//! ML-KEM-768 (FIPS 203).

use ml_kem::kem::{Decapsulate, KeyExport};
use ml_kem::{DecapsulationKey, EncapsulationKey, MlKem768, Seed};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::constants::{MLKEM768_CT_LEN, MLKEM768_EK_LEN, MLKEM768_SEED_LEN};

/// An ML-KEM-768 decapsulation key. Stored as its 64-byte seed (d || z);
/// the expanded key is kept beside it so decapsulation does not repeat key
/// generation. Both are zeroized on drop.
#[derive(Clone)]
pub struct KemSecret {
    seed: [u8; MLKEM768_SEED_LEN],
    expanded: Box<DecapsulationKey<MlKem768>>,
}

impl Drop for KemSecret {
    fn drop(&mut self) {
        // The expanded key zeroizes itself (ml-kem's `zeroize` feature).
        self.seed.zeroize();
        // Safe code cannot read memory after a drop, so the unit test looks
        // at the seed here, as the wipe left it.
        #[cfg(test)]
        drop_tests::observe(&self.seed);
    }
}

impl ZeroizeOnDrop for KemSecret {}

/// An ML-KEM-768 encapsulation key, checked on decoding (FIPS 203 modulus
/// check) and kept decoded for encapsulation.
#[derive(Clone)]
pub struct KemPublic {
    bytes: Box<[u8; MLKEM768_EK_LEN]>,
    key: Box<EncapsulationKey<MlKem768>>,
}

impl PartialEq for KemPublic {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for KemPublic {}

/// The 32-byte shared secret of an encapsulation. Zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct KemShared(pub(crate) [u8; 32]);

/// An encapsulation key failed the FIPS 203 input check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidKemKey;

impl KemSecret {
    /// A fresh random key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = [0u8; MLKEM768_SEED_LEN];
        rng.fill_bytes(&mut seed);
        let key = Self::from_seed(seed);
        seed.zeroize();
        key
    }

    /// A key from its 64-byte seed (d || z).
    pub fn from_seed(seed: [u8; MLKEM768_SEED_LEN]) -> Self {
        let s: Seed = seed.into();
        Self {
            seed,
            expanded: Box::new(DecapsulationKey::<MlKem768>::from_seed(s)),
        }
    }

    /// The 64-byte seed, for storage.
    pub fn seed(&self) -> &[u8; MLKEM768_SEED_LEN] {
        &self.seed
    }

    /// The matching encapsulation key.
    pub fn public_key(&self) -> KemPublic {
        let ek = self.expanded.encapsulation_key().clone();
        let mut bytes = Box::new([0u8; MLKEM768_EK_LEN]);
        bytes.copy_from_slice(ek.to_bytes().as_slice());
        KemPublic {
            bytes,
            key: Box::new(ek),
        }
    }

    /// Decapsulates a ciphertext. ML-KEM rejects implicitly: a wrong
    /// ciphertext yields an unrelated secret, which then fails authentication.
    pub fn decapsulate(&self, ciphertext: &[u8; MLKEM768_CT_LEN]) -> KemShared {
        let ct: ml_kem::Ciphertext<MlKem768> = (*ciphertext).into();
        let ss = self.expanded.decapsulate(&ct);
        let mut out = [0u8; 32];
        out.copy_from_slice(ss.as_slice());
        KemShared(out)
    }
}

impl core::fmt::Debug for KemSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("KemSecret(<redacted>)")
    }
}

impl KemPublic {
    /// Decodes and checks an encapsulation key.
    pub fn from_bytes(bytes: &[u8; MLKEM768_EK_LEN]) -> Result<Self, InvalidKemKey> {
        let encoded: ml_kem::Key<EncapsulationKey<MlKem768>> = (*bytes).into();
        let key = EncapsulationKey::<MlKem768>::new(&encoded).map_err(|_| InvalidKemKey)?;
        Ok(Self {
            bytes: Box::new(*bytes),
            key: Box::new(key),
        })
    }

    /// The raw 1184 bytes.
    pub fn as_bytes(&self) -> &[u8; MLKEM768_EK_LEN] {
        &self.bytes
    }

    /// Encapsulates with explicit 32-byte randomness `m` (FIPS 203
    /// ML-KEM.Encaps_internal); callers draw `m` from a CSPRNG.
    pub fn encapsulate(&self, m: &[u8; 32]) -> ([u8; MLKEM768_CT_LEN], KemShared) {
        let (ct, ss) = self.key.encapsulate_deterministic(&(*m).into());
        let mut ct_out = [0u8; MLKEM768_CT_LEN];
        ct_out.copy_from_slice(ct.as_slice());
        let mut ss_out = [0u8; 32];
        ss_out.copy_from_slice(ss.as_slice());
        (ct_out, KemShared(ss_out))
    }
}

impl core::fmt::Debug for KemPublic {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "KemPublic(")?;
        for b in &self.bytes[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "..)")
    }
}

impl KemShared {
    /// The shared secret bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

#[cfg(test)]
mod drop_tests {
    use core::cell::RefCell;

    use super::KemSecret;
    use crate::constants::MLKEM768_SEED_LEN;

    thread_local! {
        /// While a test observes: the seed of each `KemSecret` dropped on
        /// this thread, as its `Drop` left it. Off otherwise, so other
        /// tests' drops are not kept.
        static DROPPED: RefCell<Option<Vec<[u8; MLKEM768_SEED_LEN]>>> =
            const { RefCell::new(None) };
    }

    pub(super) fn observe(seed: &[u8; MLKEM768_SEED_LEN]) {
        DROPPED.with(|d| {
            if let Some(seen) = d.borrow_mut().as_mut() {
                seen.push(*seed);
            }
        });
    }

    #[test]
    fn dropping_a_kem_secret_wipes_its_seed() {
        let seed: [u8; MLKEM768_SEED_LEN] = core::array::from_fn(|i| 1 + i as u8);
        let secret = KemSecret::from_seed(seed);
        let copy = secret.clone();
        assert_eq!(copy.seed(), &seed);
        DROPPED.with(|d| *d.borrow_mut() = Some(Vec::new()));
        drop(secret);
        drop(copy);
        let seen = DROPPED.with(|d| d.borrow_mut().take()).unwrap();
        assert_eq!(seen.len(), 2, "both drops ran");
        for s in seen {
            assert_eq!(s, [0u8; MLKEM768_SEED_LEN]);
        }
    }
}

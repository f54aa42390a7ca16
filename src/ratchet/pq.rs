//! The sparse post-quantum ratchet beside the DH ratchet (SPEC.md, section 16).
//!
//! Epochs `E = 1, 2, ...` each agree one ML-KEM-768 secret. The *owner* of
//! epoch `E` (the initiator for odd `E`, the responder for even `E`) draws a
//! key pair and streams its encapsulation key; the other side, the
//! *encapsulator*, reconstructs it, encapsulates, and streams the ciphertext.
//! Both travel as erasure-coded shards (any `k` of `2k` rebuild the object),
//! one shard in the padded body of an ordinary message. Once the owner has
//! decapsulated, its next sending DH step mixes the secret into the root key
//! and flags every header of that chain; the encapsulator mixes the same
//! secret when it takes the matching receiving step. The epoch is then
//! complete, and the roles swap.
//!
//! Decrypt stays transactional: [`PqRatchet::plan_receive`] computes a
//! [`PqUpdate`] without changing anything, and [`PqRatchet::apply`] commits it.

use std::sync::OnceLock;

use rand_core::CryptoRng;
use reed_solomon_erasure::galois_8::ReedSolomon;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::constants::{
    DIRECTION_INITIATOR, DIRECTION_RESPONDER, MLKEM768_CT_LEN, MLKEM768_EK_LEN, MLKEM768_SEED_LEN,
    PQ_CHUNK_CT, PQ_CHUNK_EK, PQ_CT_SHARDS, PQ_EK_SHARDS, PQ_SHARD_LEN, PQ_TRAILER_LEN,
};
use crate::error::PqError;
use crate::primitives::kem::{KemPublic, KemSecret};

/// One shard.
pub(crate) type Shard = [u8; PQ_SHARD_LEN];

/// A 32-byte epoch secret, zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct EpochSecret(pub(crate) [u8; 32]);

/// Original shard count of a chunk kind.
pub(crate) const fn originals(kind: u8) -> usize {
    if kind == PQ_CHUNK_EK {
        PQ_EK_SHARDS
    } else {
        PQ_CT_SHARDS
    }
}

/// All shards of a kind: `k` originals then `k` recovery shards.
pub(crate) const fn total_shards(kind: u8) -> usize {
    2 * originals(kind)
}

/// The systematic Reed-Solomon code over GF(2^8) with `k` data and `k`
/// parity shards (built once per kind: its encoding matrix is fixed).
fn codec(kind: u8) -> &'static ReedSolomon {
    static EK: OnceLock<ReedSolomon> = OnceLock::new();
    static CT: OnceLock<ReedSolomon> = OnceLock::new();
    let cell = if kind == PQ_CHUNK_EK { &EK } else { &CT };
    cell.get_or_init(|| {
        let k = originals(kind);
        // Fixed, valid parameters (2k <= 38 <= 256 shards): cannot fail.
        ReedSolomon::new(k, k).unwrap_or_else(|_| unreachable!("valid code parameters"))
    })
}

/// Erasure-codes `data` into `2k` shards: the `k` originals (the data,
/// zero-padded to `k * 64` bytes) followed by `k` Reed-Solomon parity
/// shards, so that any `k` distinct shards rebuild the data.
pub fn encode_shards(kind: u8, data: &[u8]) -> Vec<Shard> {
    let k = originals(kind);
    let mut shards = vec![[0u8; PQ_SHARD_LEN]; 2 * k];
    for (shard, part) in shards.iter_mut().zip(data.chunks(PQ_SHARD_LEN)) {
        shard[..part.len()].copy_from_slice(part);
    }
    // Equal-length shards in the code's count: the encoder cannot refuse.
    codec(kind)
        .encode(&mut shards)
        .unwrap_or_else(|_| unreachable!("shards fit the code"));
    shards
}

/// Rebuilds the `k * 64` data bytes from at least `k` distinct shards
/// (indices below `2k`). `None` only if the decoder refuses.
fn decode_shards(kind: u8, held: &[(u8, Shard)]) -> Option<Vec<u8>> {
    let k = originals(kind);
    let mut slots: Vec<Option<Vec<u8>>> = vec![None; 2 * k];
    for (i, s) in held {
        *slots.get_mut(*i as usize)? = Some(s.to_vec());
    }
    codec(kind).reconstruct_data(&mut slots).ok()?;
    let mut data = Vec::with_capacity(k * PQ_SHARD_LEN);
    for slot in slots.iter().take(k) {
        data.extend_from_slice(slot.as_deref()?);
    }
    (data.len() == k * PQ_SHARD_LEN).then_some(data)
}

/// Shards received for the current epoch: distinct indices, ascending,
/// fewer than the originals needed (the object is rebuilt at the `k`-th).
#[derive(Clone, Default)]
pub(crate) struct ShardSet(pub(crate) Vec<(u8, Shard)>);

impl ShardSet {
    fn has(&self, index: u8) -> bool {
        self.0.iter().any(|(i, _)| *i == index)
    }

    fn with(&self, index: u8, shard: &Shard) -> Vec<(u8, Shard)> {
        let mut v = self.0.clone();
        let at = v.partition_point(|(i, _)| *i < index);
        v.insert(at, (index, *shard));
        v
    }
}

/// Where this side stands in the epoch in progress.
#[derive(Clone)]
pub(crate) enum Phase {
    /// Owner; no key drawn yet (drawn at the next `encrypt`).
    OwnerIdle,
    /// Owner; the key is drawn and its shards are being sent; ciphertext
    /// shards are collected.
    OwnerSending {
        dk: KemSecret,
        shards: Vec<Shard>,
        next: u32,
        ct_rx: ShardSet,
    },
    /// Owner; decapsulated. The next sending DH step mixes the secret.
    OwnerReady { ss: EpochSecret },
    /// Encapsulator; collecting the owner's key shards.
    EncapCollecting { ek_rx: ShardSet },
    /// Encapsulator; holds the owner's key, encapsulates at the next `encrypt`.
    EncapHaveKey { ek: KemPublic },
    /// Encapsulator; sending ciphertext shards until the owner's mixing step.
    EncapSending {
        ct: Box<[u8; MLKEM768_CT_LEN]>,
        shards: Vec<Shard>,
        next: u32,
        ss: EpochSecret,
    },
}

/// The post-quantum ratchet state of one session.
#[derive(Clone)]
pub(crate) struct PqRatchet {
    /// Our direction byte (decides the role in each epoch).
    pub(crate) direction: u8,
    /// Completed epochs (each mixed into the root key once).
    pub(crate) epoch: u32,
    /// Messages sent and received since the last epoch completed (saturating).
    pub(crate) since: u32,
    /// Whether our current sending chain's root step mixed an epoch secret
    /// (flags every header of that chain).
    pub(crate) send_mixed: bool,
    pub(crate) phase: Phase,
}

/// A decoded chunk trailer.
pub(crate) struct Chunk<'a> {
    pub(crate) epoch: u32,
    pub(crate) index: u8,
    pub(crate) shard: &'a Shard,
    pub(crate) kind: u8,
}

impl<'a> Chunk<'a> {
    /// Reads a trailer: epoch (u32) || index || shard (64) || kind.
    pub(crate) fn parse(t: &'a [u8; PQ_TRAILER_LEN]) -> Self {
        let epoch = u32::from_be_bytes([t[0], t[1], t[2], t[3]]);
        let index = t[4];
        let shard: &Shard = t[5..5 + PQ_SHARD_LEN]
            .try_into()
            .unwrap_or_else(|_| unreachable!());
        Self {
            epoch,
            index,
            shard,
            kind: t[PQ_TRAILER_LEN - 1],
        }
    }
}

/// What a received message changes, computed before the commit.
pub(crate) enum PqUpdate {
    /// No chunk, a stale one, or one already held.
    Nothing,
    /// A new shard to keep.
    Shard { index: u8, shard: Shard },
    /// The encapsulation key is complete.
    Key(KemPublic),
    /// The ciphertext is complete and decapsulated.
    Secret(EpochSecret),
}

/// The owner's direction byte in epoch `e` (odd: initiator).
pub(crate) const fn owner_of(e: u32) -> u8 {
    if e % 2 == 1 {
        DIRECTION_INITIATOR
    } else {
        DIRECTION_RESPONDER
    }
}

impl PqRatchet {
    /// A new session's state: epoch 0 complete, epoch 1 owned by the initiator.
    pub(crate) fn new(direction: u8) -> Self {
        let phase = if owner_of(1) == direction {
            Phase::OwnerIdle
        } else {
            Phase::EncapCollecting {
                ek_rx: ShardSet::default(),
            }
        };
        Self {
            direction,
            epoch: 0,
            since: 0,
            send_mixed: false,
            phase,
        }
    }

    /// Whether we own the epoch in progress.
    pub(crate) fn is_owner(&self) -> bool {
        owner_of(self.epoch.wrapping_add(1)) == self.direction
    }

    /// The secret to mix at the next sending DH step, if any (owner only).
    pub(crate) fn sending_mix(&self) -> Option<&EpochSecret> {
        match &self.phase {
            Phase::OwnerReady { ss } => Some(ss),
            _ => None,
        }
    }

    /// The secret a received step flagged as mixing must use (encapsulator only).
    pub(crate) fn receiving_mix(&self) -> Result<&EpochSecret, PqError> {
        match &self.phase {
            Phase::EncapSending { ss, .. } => Ok(ss),
            _ => Err(PqError::UnexpectedMix),
        }
    }

    /// The epoch completed by a mix (ours or the peer's): count it, swap roles.
    fn complete_epoch(&mut self) {
        self.epoch = self.epoch.saturating_add(1);
        self.since = 0;
        self.phase = if self.is_owner() {
            Phase::OwnerIdle
        } else {
            Phase::EncapCollecting {
                ek_rx: ShardSet::default(),
            }
        };
    }

    /// Called when a sending DH step is taken: whether it mixed (the caller
    /// used [`PqRatchet::sending_mix`]).
    pub(crate) fn sent_step(&mut self, mixed: bool) {
        self.send_mixed = mixed;
        if mixed {
            self.complete_epoch();
        }
    }

    /// Before a message is sealed: draws the owner's key or encapsulates,
    /// if due (the only randomness the ratchet uses).
    pub(crate) fn prepare_send<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) {
        match &self.phase {
            Phase::OwnerIdle => {
                let mut seed = Zeroizing::new([0u8; MLKEM768_SEED_LEN]);
                rng.fill_bytes(&mut seed[..]);
                let dk = KemSecret::from_seed(*seed);
                let shards = encode_shards(PQ_CHUNK_EK, dk.public_key().as_bytes());
                self.phase = Phase::OwnerSending {
                    dk,
                    shards,
                    next: 0,
                    ct_rx: ShardSet::default(),
                };
            }
            Phase::EncapHaveKey { ek } => {
                let mut m = Zeroizing::new([0u8; 32]);
                rng.fill_bytes(&mut m[..]);
                let (ct, ss) = ek.encapsulate(&m);
                let shards = encode_shards(PQ_CHUNK_CT, &ct);
                self.phase = Phase::EncapSending {
                    ct: Box::new(ct),
                    shards,
                    next: 0,
                    ss: EpochSecret(*ss.as_bytes()),
                };
            }
            _ => {}
        }
    }

    /// The chunk trailer the next message would carry, if any.
    pub(crate) fn next_trailer(&self) -> Option<[u8; PQ_TRAILER_LEN]> {
        let (kind, shards, next) = match &self.phase {
            // Once a ciphertext shard arrived, the peer has our key.
            Phase::OwnerSending {
                shards,
                next,
                ct_rx,
                ..
            } if ct_rx.0.is_empty() => (PQ_CHUNK_EK, shards, *next),
            Phase::EncapSending { shards, next, .. } => (PQ_CHUNK_CT, shards, *next),
            _ => return None,
        };
        let index = (next as usize % shards.len()) as u8;
        let mut t = [0u8; PQ_TRAILER_LEN];
        t[..4].copy_from_slice(&self.epoch.wrapping_add(1).to_be_bytes());
        t[4] = index;
        t[5..5 + PQ_SHARD_LEN].copy_from_slice(&shards[index as usize]);
        t[PQ_TRAILER_LEN - 1] = kind;
        Some(t)
    }

    /// A trailer from [`PqRatchet::next_trailer`] was sent.
    pub(crate) fn trailer_sent(&mut self) {
        match &mut self.phase {
            Phase::OwnerSending { next, .. } | Phase::EncapSending { next, .. } => {
                *next = next.wrapping_add(1);
            }
            _ => {}
        }
    }

    /// One message sent or received.
    pub(crate) fn count_message(&mut self) {
        self.since = self.since.saturating_add(1);
    }

    /// Plans what a received chunk changes. `after_mix`: the message's
    /// receiving step mixed the pending secret, so the chunk is judged
    /// against the epoch that follows.
    pub(crate) fn plan_receive(
        &self,
        chunk: &Chunk<'_>,
        after_mix: bool,
    ) -> Result<PqUpdate, PqError> {
        if chunk.index as usize >= total_shards(chunk.kind) {
            return Err(PqError::ShardIndex { index: chunk.index });
        }
        let completed = self.epoch.saturating_add(u32::from(after_mix));
        let current = completed.saturating_add(1);
        if chunk.epoch <= completed {
            return Ok(PqUpdate::Nothing); // a late chunk of a finished epoch
        }
        if chunk.epoch > current || after_mix {
            // After a mix we own the next epoch and have sent nothing for it.
            return Err(PqError::UnexpectedChunk { epoch: chunk.epoch });
        }
        let unexpected = PqError::UnexpectedChunk { epoch: chunk.epoch };
        match (&self.phase, chunk.kind) {
            (Phase::OwnerSending { dk, ct_rx, .. }, PQ_CHUNK_CT) => {
                if ct_rx.has(chunk.index) {
                    return Ok(PqUpdate::Nothing);
                }
                if ct_rx.0.len() + 1 < PQ_CT_SHARDS {
                    return Ok(PqUpdate::Shard {
                        index: chunk.index,
                        shard: *chunk.shard,
                    });
                }
                let held = ct_rx.with(chunk.index, chunk.shard);
                let data = decode_shards(PQ_CHUNK_CT, &held).ok_or(PqError::InvalidKey)?;
                let mut ct = [0u8; MLKEM768_CT_LEN];
                ct.copy_from_slice(&data[..MLKEM768_CT_LEN]);
                let ss = dk.decapsulate(&ct);
                Ok(PqUpdate::Secret(EpochSecret(*ss.as_bytes())))
            }
            (Phase::OwnerReady { .. }, PQ_CHUNK_CT) => Ok(PqUpdate::Nothing),
            (Phase::EncapCollecting { ek_rx }, PQ_CHUNK_EK) => {
                if ek_rx.has(chunk.index) {
                    return Ok(PqUpdate::Nothing);
                }
                if ek_rx.0.len() + 1 < PQ_EK_SHARDS {
                    return Ok(PqUpdate::Shard {
                        index: chunk.index,
                        shard: *chunk.shard,
                    });
                }
                let held = ek_rx.with(chunk.index, chunk.shard);
                let data = decode_shards(PQ_CHUNK_EK, &held).ok_or(PqError::InvalidKey)?;
                if data[MLKEM768_EK_LEN..].iter().any(|&b| b != 0) {
                    return Err(PqError::InvalidKey);
                }
                let mut bytes = [0u8; MLKEM768_EK_LEN];
                bytes.copy_from_slice(&data[..MLKEM768_EK_LEN]);
                let ek = KemPublic::from_bytes(&bytes).map_err(|_| PqError::InvalidKey)?;
                Ok(PqUpdate::Key(ek))
            }
            (Phase::EncapHaveKey { .. } | Phase::EncapSending { .. }, PQ_CHUNK_EK) => {
                Ok(PqUpdate::Nothing)
            }
            _ => Err(unexpected),
        }
    }

    /// Commits a received message: first the mix of its receiving step (if
    /// flagged), then its chunk's update.
    pub(crate) fn apply(&mut self, mixed: bool, update: PqUpdate) {
        if mixed {
            self.complete_epoch();
        }
        self.count_message();
        match update {
            PqUpdate::Nothing => {}
            PqUpdate::Shard { index, shard } => match &mut self.phase {
                Phase::OwnerSending { ct_rx: set, .. } | Phase::EncapCollecting { ek_rx: set } => {
                    let v = set.with(index, &shard);
                    set.0 = v;
                }
                _ => {}
            },
            PqUpdate::Key(ek) => self.phase = Phase::EncapHaveKey { ek },
            PqUpdate::Secret(ss) => self.phase = Phase::OwnerReady { ss },
        }
    }

    /// Whether the epoch in progress waits on the peer (what this side had
    /// to send is out, or it has nothing to send yet).
    pub(crate) fn waiting_for_peer(&self) -> bool {
        !matches!(self.phase, Phase::OwnerIdle | Phase::EncapHaveKey { .. })
    }
}

// ---- Stored layout (SPEC.md, section 16.8).

const PHASE_OWNER_IDLE: u8 = 0x01;
const PHASE_OWNER_SENDING: u8 = 0x02;
const PHASE_OWNER_READY: u8 = 0x03;
const PHASE_ENCAP_COLLECTING: u8 = 0x04;
const PHASE_ENCAP_HAVE_KEY: u8 = 0x05;
const PHASE_ENCAP_SENDING: u8 = 0x06;

fn encode_set(set: &ShardSet, out: &mut Vec<u8>) {
    out.push(set.0.len() as u8);
    for (i, s) in &set.0 {
        out.push(*i);
        out.extend_from_slice(s);
    }
}

impl PqRatchet {
    /// Appends the stored layout: epoch, message count, the sending-chain
    /// mix flag, then the phase and its fields.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&self.since.to_be_bytes());
        out.push(u8::from(self.send_mixed));
        match &self.phase {
            Phase::OwnerIdle => out.push(PHASE_OWNER_IDLE),
            Phase::OwnerSending {
                dk, next, ct_rx, ..
            } => {
                out.push(PHASE_OWNER_SENDING);
                out.extend_from_slice(dk.seed());
                out.extend_from_slice(&next.to_be_bytes());
                encode_set(ct_rx, out);
            }
            Phase::OwnerReady { ss } => {
                out.push(PHASE_OWNER_READY);
                out.extend_from_slice(&ss.0);
            }
            Phase::EncapCollecting { ek_rx } => {
                out.push(PHASE_ENCAP_COLLECTING);
                encode_set(ek_rx, out);
            }
            Phase::EncapHaveKey { ek } => {
                out.push(PHASE_ENCAP_HAVE_KEY);
                out.extend_from_slice(ek.as_bytes());
            }
            Phase::EncapSending { ct, next, ss, .. } => {
                out.push(PHASE_ENCAP_SENDING);
                out.extend_from_slice(&ct[..]);
                out.extend_from_slice(&next.to_be_bytes());
                out.extend_from_slice(&ss.0);
            }
        }
    }

    /// Largest stored layout.
    pub(crate) const STORED_MAX: usize =
        4 + 4 + 1 + 1 + MLKEM768_EK_LEN + MLKEM768_SEED_LEN + 4 + 1 + 65 * 19;

    /// Reads the layout of [`PqRatchet::encode_into`] for a session whose
    /// direction is `direction`.
    pub(crate) fn read(
        r: &mut crate::wire::Reader<'_>,
        direction: u8,
    ) -> Result<Self, crate::store::record::RestoreError> {
        use crate::store::record::RestoreError;
        use crate::wire::DecodeError;
        let epoch = r.u32("pq epoch")?;
        let since = r.u32("pq message count")?;
        let send_mixed = match r.u8("pq sending mix flag")? {
            0 => false,
            1 => true,
            value => {
                return Err(DecodeError::InvalidValue {
                    field: "pq sending mix flag",
                    value,
                }
                .into());
            }
        };
        let owner = owner_of(epoch.wrapping_add(1)) == direction;
        let read_set =
            |r: &mut crate::wire::Reader<'_>, kind: u8| -> Result<ShardSet, RestoreError> {
                let n = r.u8("pq shard count")? as usize;
                if n >= originals(kind) {
                    return Err(RestoreError::Inconsistent(
                        "pq shard set holds enough shards to be complete",
                    ));
                }
                let mut v: Vec<(u8, Shard)> = Vec::with_capacity(n);
                for _ in 0..n {
                    let i = r.u8("pq shard index")?;
                    if i as usize >= total_shards(kind) || v.last().is_some_and(|(l, _)| *l >= i) {
                        return Err(RestoreError::Inconsistent("pq shard indices"));
                    }
                    v.push((i, *r.array::<PQ_SHARD_LEN>("pq shard")?));
                }
                Ok(ShardSet(v))
            };
        let tag = r.u8("pq phase")?;
        let phase = match tag {
            PHASE_OWNER_IDLE => Phase::OwnerIdle,
            PHASE_OWNER_SENDING => {
                let seed = Zeroizing::new(*r.array::<MLKEM768_SEED_LEN>("pq key seed")?);
                let next = r.u32("pq next shard")?;
                let ct_rx = read_set(r, PQ_CHUNK_CT)?;
                let dk = KemSecret::from_seed(*seed);
                let shards = encode_shards(PQ_CHUNK_EK, dk.public_key().as_bytes());
                Phase::OwnerSending {
                    dk,
                    shards,
                    next,
                    ct_rx,
                }
            }
            PHASE_OWNER_READY => Phase::OwnerReady {
                ss: EpochSecret(*r.array::<32>("pq epoch secret")?),
            },
            PHASE_ENCAP_COLLECTING => Phase::EncapCollecting {
                ek_rx: read_set(r, PQ_CHUNK_EK)?,
            },
            PHASE_ENCAP_HAVE_KEY => {
                let bytes = r.array::<MLKEM768_EK_LEN>("pq encapsulation key")?;
                let ek = KemPublic::from_bytes(bytes)
                    .map_err(|_| RestoreError::Inconsistent("pq encapsulation key is invalid"))?;
                Phase::EncapHaveKey { ek }
            }
            PHASE_ENCAP_SENDING => {
                let ct = Box::new(*r.array::<MLKEM768_CT_LEN>("pq ciphertext")?);
                let next = r.u32("pq next shard")?;
                let ss = EpochSecret(*r.array::<32>("pq epoch secret")?);
                let shards = encode_shards(PQ_CHUNK_CT, &ct[..]);
                Phase::EncapSending {
                    ct,
                    shards,
                    next,
                    ss,
                }
            }
            value => {
                return Err(DecodeError::InvalidValue {
                    field: "pq phase",
                    value,
                }
                .into());
            }
        };
        let owner_phase = matches!(
            phase,
            Phase::OwnerIdle | Phase::OwnerSending { .. } | Phase::OwnerReady { .. }
        );
        if owner_phase != owner {
            return Err(RestoreError::Inconsistent(
                "pq phase does not match the role in the epoch",
            ));
        }
        Ok(Self {
            direction,
            epoch,
            since,
            send_mixed,
            phase,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_k_shards_rebuild_the_data() {
        let data: Vec<u8> = (0..MLKEM768_EK_LEN).map(|i| (i * 31 % 251) as u8).collect();
        let shards = encode_shards(PQ_CHUNK_EK, &data);
        assert_eq!(shards.len(), 2 * PQ_EK_SHARDS);
        // Every window of k consecutive indices (mod 2k), and the odd ones.
        for start in 0..shards.len() {
            let mut held: Vec<(u8, Shard)> = (0..PQ_EK_SHARDS)
                .map(|j| {
                    let i = (start + j) % shards.len();
                    (i as u8, shards[i])
                })
                .collect();
            held.sort_by_key(|(i, _)| *i);
            let out = decode_shards(PQ_CHUNK_EK, &held).unwrap();
            assert_eq!(&out[..MLKEM768_EK_LEN], &data[..], "start {start}");
            assert!(out[MLKEM768_EK_LEN..].iter().all(|&b| b == 0));
        }
    }
}

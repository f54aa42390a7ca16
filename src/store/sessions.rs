//! The sessions with one peer: the active session and a bounded list of
//! previous ones, and the deterministic rules that choose the active one
//! (SPEC.md, section 15.10).

use std::collections::VecDeque;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;

use crate::error::DecryptError;
use crate::session::{MessageType, Role, Session, message_type};
use crate::store::constants::{MAX_PREVIOUS_SESSIONS, RECORD_PEER_SESSIONS};
use crate::store::pickle::{open_state, seal_state};
use crate::store::record::{RestoreError, StorageKey};
use crate::store::state::flag;
use crate::wire::{DecodeError, Reader};

/// A session kept besides the active one.
struct Previous {
    session: Session,
    /// Lost a simultaneous start (or was replaced by one of ours): it still
    /// decrypts, but never becomes active again.
    retired: bool,
}

/// Every session with one peer: the one messages are sent on, and up to
/// [`MAX_PREVIOUS_SESSIONS`] earlier ones (newest first) that still decrypt
/// messages in flight.
///
/// Which session is active follows fixed rules, the same on both sides
/// (SPEC.md, section 15.10):
/// - a session we start becomes active and retires the one it replaces;
/// - a session the peer starts becomes active, except when our active session
///   is one we started that is still awaiting its first reply and has the
///   lower handshake id (both sides started at once: the lower id wins, and
///   the loser is retired on both sides);
/// - a message that decrypts on a previous session that is not retired makes
///   it active (the peer sends on its active session, so we follow it).
pub struct SessionRecord {
    active: Session,
    previous: VecDeque<Previous>,
}

/// Where [`SessionRecord::install_responded`] put a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Installed {
    /// It became the active session.
    Active,
    /// It lost a simultaneous start and was retired.
    Retired,
    /// It was held back behind a verified session.
    HeldBack,
}

impl core::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("active", &self.active)
            .field("previous", &self.previous.len())
            .finish()
    }
}

/// What a successful [`SessionRecord::decrypt`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decrypted {
    /// Decrypted by the active session.
    Active,
    /// Decrypted by a previous session, which became active.
    Promoted,
    /// Decrypted by a retired previous session (which stays retired).
    Retired,
}

fn id_lt(a: &[u8; 32], b: &[u8; 32]) -> bool {
    // Handshake ids are public (hashes of bytes sent in clear).
    a < b
}

impl SessionRecord {
    /// A record holding one session.
    pub fn new(session: Session) -> Self {
        Self {
            active: session,
            previous: VecDeque::new(),
        }
    }

    /// The session messages are sent on.
    pub fn active(&self) -> &Session {
        &self.active
    }

    /// The previous sessions, newest first.
    pub fn previous(&self) -> impl Iterator<Item = &Session> {
        self.previous.iter().map(|p| &p.session)
    }

    /// Number of sessions held (at most `1 + MAX_PREVIOUS_SESSIONS`).
    pub fn len(&self) -> usize {
        1 + self.previous.len()
    }

    /// Always false: a record holds at least its active session.
    pub fn is_empty(&self) -> bool {
        false
    }

    fn push_previous(&mut self, session: Session, retired: bool) {
        self.previous.push_front(Previous { session, retired });
        self.previous.truncate(MAX_PREVIOUS_SESSIONS);
    }

    /// Installs a session this party started; it becomes active and the one
    /// it replaces is retired. Sessions with another peer identity (after an
    /// accepted identity change) are dropped.
    pub(crate) fn install_initiated(&mut self, session: Session) {
        let old = core::mem::replace(&mut self.active, session);
        let peer = *self.active.peer_identity();
        self.previous.retain(|p| *p.session.peer_identity() == peer);
        if *old.peer_identity() == peer {
            self.push_previous(old, true);
        }
    }

    /// Installs a session the peer started (from its initial message).
    pub(crate) fn install_responded(&mut self, session: Session) -> Installed {
        if *self.active.peer_identity() != *session.peer_identity() {
            // An accepted identity change: start over with the new identity.
            self.active = session;
            self.previous.clear();
            return Installed::Active;
        }
        let ours_waiting = self.active.role() == Role::Initiator && self.active.awaiting_reply();
        if ours_waiting && id_lt(&self.active.handshake_id(), &session.handshake_id()) {
            // Simultaneous start, and ours has the lower id: ours stays.
            self.push_previous(session, true);
            Installed::Retired
        } else if self.active.peer().verified_business().is_some() {
            // A session the peer starts is never verified (SPEC.md 13.10):
            // it must not take the badge away silently. It decrypts, but
            // stays behind the verified one until the application adopts
            // it (SPEC.md, section 15.10).
            self.push_previous(session, true);
            Installed::HeldBack
        } else {
            // The peer started anew (restart, reinstall), or won a
            // simultaneous start: its session becomes active.
            let old = core::mem::replace(&mut self.active, session);
            self.push_previous(old, ours_waiting);
            Installed::Active
        }
    }

    /// Makes the newest previous session the peer started (for example one
    /// held back behind a verified session) the active one; the active one
    /// is kept as a previous session. Returns false if there is none.
    pub(crate) fn adopt_held_back(&mut self) -> bool {
        let Some(i) = self
            .previous
            .iter()
            .position(|p| p.session.role() == Role::Responder)
        else {
            return false;
        };
        let Some(newest) = self.previous.remove(i) else {
            return false;
        };
        let old = core::mem::replace(&mut self.active, newest.session);
        self.push_previous(old, true);
        true
    }

    /// Every session, the active one first.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Session> {
        core::iter::once(&self.active).chain(self.previous.iter().map(|p| &p.session))
    }

    /// Finds the session an initial message belongs to (a responder session
    /// with its handshake id) and decrypts with it. `None` if no session has
    /// that handshake: the caller then runs the handshake.
    pub(crate) fn decrypt_initial(
        &mut self,
        message: &[u8],
        associated_data: &[u8],
    ) -> Option<Result<(Vec<u8>, Decrypted), DecryptError>> {
        self.decrypt_where(message, associated_data, |e| {
            matches!(e, DecryptError::WrongSession)
        })
    }

    /// Decrypts a ratchet message with the active session, then the previous
    /// ones, newest first (at most `1 + MAX_PREVIOUS_SESSIONS` sessions, each
    /// costing at most `MAX_HEADER_TRIALS` header trials). On failure every
    /// session is unchanged.
    pub(crate) fn decrypt(
        &mut self,
        message: &[u8],
        associated_data: &[u8],
    ) -> Result<(Vec<u8>, Decrypted), DecryptError> {
        if message_type(message)? != MessageType::Ratchet {
            return Err(DecryptError::WrongSession);
        }
        self.decrypt_where(message, associated_data, |e| {
            matches!(e, DecryptError::HeaderNotDecryptable)
        })
        .unwrap_or(Err(DecryptError::HeaderNotDecryptable))
    }

    /// Tries each session in order; `not_mine` says an error means "another
    /// session's message", so the next one is tried. Any other error comes
    /// from the session the message belongs to and is returned.
    fn decrypt_where(
        &mut self,
        message: &[u8],
        associated_data: &[u8],
        not_mine: impl Fn(&DecryptError) -> bool,
    ) -> Option<Result<(Vec<u8>, Decrypted), DecryptError>> {
        match self.active.decrypt(message, associated_data) {
            Ok(p) => return Some(Ok((p, Decrypted::Active))),
            Err(e) if !not_mine(&e) => return Some(Err(e)),
            Err(_) => {}
        }
        for i in 0..self.previous.len() {
            match self.previous[i].session.decrypt(message, associated_data) {
                Ok(p) => {
                    if self.previous[i].retired {
                        return Some(Ok((p, Decrypted::Retired)));
                    }
                    let Some(prev) = self.previous.remove(i) else {
                        unreachable!("index in range")
                    };
                    let old = core::mem::replace(&mut self.active, prev.session);
                    self.previous.push_front(Previous {
                        session: old,
                        retired: false,
                    });
                    return Some(Ok((p, Decrypted::Promoted)));
                }
                Err(e) if !not_mine(&e) => return Some(Err(e)),
                Err(_) => {}
            }
        }
        None
    }

    /// The active session, to encrypt with.
    pub(crate) fn active_mut(&mut self) -> &mut Session {
        &mut self.active
    }

    /// Whether a session of this record has the given handshake id.
    pub fn has_handshake(&self, handshake_id: &[u8; 32]) -> bool {
        core::iter::once(&self.active)
            .chain(self.previous())
            .any(|s| bool::from(s.handshake_id().ct_eq(handshake_id)))
    }

    /// Appends the stored layout (SPEC.md, section 15.7).
    /// An upper bound of [`SessionRecord::encode_state`]'s output.
    pub(crate) fn state_len_bound(&self) -> usize {
        1 + self.all().map(|s| 5 + s.state_len_bound()).sum::<usize>()
    }

    pub(crate) fn encode_state(&self, out: &mut Vec<u8>) {
        out.push(self.len() as u8);
        let entries = core::iter::once((&self.active, false))
            .chain(self.previous.iter().map(|p| (&p.session, p.retired)));
        for (session, retired) in entries {
            out.push(u8::from(retired));
            let len_at = out.len();
            out.extend_from_slice(&[0; 4]);
            session.encode_state(out);
            let len = (out.len() - len_at - 4) as u32;
            out[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
        }
    }

    pub(crate) fn read_state(r: &mut Reader<'_>, version: u8) -> Result<Self, RestoreError> {
        let n = r.u8("session count")? as usize;
        if n == 0 || n > 1 + MAX_PREVIOUS_SESSIONS {
            return Err(DecodeError::InvalidLength {
                field: "session count",
                len: n,
            }
            .into());
        }
        let mut sessions: Vec<(Session, bool)> = Vec::with_capacity(n);
        for _ in 0..n {
            let retired = flag(r, "retired flag")?;
            let len = r.u32("session length")? as usize;
            let mut sub = Reader::new(r.take(len, "session")?);
            let session = Session::read_state(&mut sub, version)?;
            sub.finish()?;
            if sessions
                .iter()
                .any(|(s, _)| s.handshake_id() == session.handshake_id())
            {
                return Err(RestoreError::Inconsistent("two sessions of one handshake"));
            }
            if sessions
                .first()
                .is_some_and(|(s, _)| s.local_identity() != session.local_identity())
            {
                return Err(RestoreError::Inconsistent(
                    "sessions of different local identities",
                ));
            }
            sessions.push((session, retired));
        }
        let mut it = sessions.into_iter();
        let Some((active, retired)) = it.next() else {
            unreachable!("n >= 1")
        };
        if retired {
            return Err(RestoreError::Inconsistent("the active session is retired"));
        }
        Ok(Self {
            active,
            previous: it
                .map(|(session, retired)| Previous { session, retired })
                .collect(),
        })
    }

    /// Seals the record under `key`, bound to the peer's address `peer`.
    pub fn pickle<R: CryptoRng + ?Sized>(
        &self,
        key: &StorageKey,
        peer: &crate::store::PeerId,
        rng: &mut R,
    ) -> Vec<u8> {
        seal_state(
            key,
            RECORD_PEER_SESSIONS,
            peer.as_bytes(),
            self.state_len_bound(),
            rng,
            |out| self.encode_state(out),
        )
    }

    /// Restores a record sealed by [`SessionRecord::pickle`] for `peer`; a
    /// record moved from another peer's slot fails to authenticate.
    pub fn from_pickle(
        record: &[u8],
        key: &StorageKey,
        peer: &crate::store::PeerId,
    ) -> Result<Self, RestoreError> {
        open_state(
            key,
            RECORD_PEER_SESSIONS,
            peer.as_bytes(),
            record,
            |r, version| {
                Session::check_version(RECORD_PEER_SESSIONS, version)?;
                Self::read_state(r, version)
            },
        )
    }
}

//! A client store as an application might write it, without the crate's
//! `EncryptedStore`: shared by the tests that hold such a store to the
//! same contract as the crate's own (store_reopen.rs, store_conformance.rs).

use std::collections::HashMap;

use hotline::business::TrustStore;
use hotline::store::{
    ClientState, ClientStateRepository, ClientStore, IdentityStore, PeerId, PreKeyRepository,
    SessionRecord, SessionRepository, StorageKey, StoreError, StoreUpdate, Versioned,
};
use hotline::{IdentityKey, IdentityKeyPair, PreKeyStore};

/// A store as an application might write it: one map per object kind,
/// each object pickled under a storage key, with a version per entry and a
/// `commit` that checks every version before it writes anything.
pub struct MapStore {
    key: StorageKey,
    identity: Option<Vec<u8>>,
    prekeys: Option<(Vec<u8>, u64)>,
    trusted: HashMap<PeerId, (IdentityKey, u64)>,
    sessions: HashMap<PeerId, (Vec<u8>, u64)>,
    state: Option<(ClientState, u64)>,
    trust: Option<(TrustStore, u64)>,
}

impl MapStore {
    pub fn new(key: StorageKey) -> Self {
        Self {
            key,
            identity: None,
            prekeys: None,
            trusted: HashMap::new(),
            sessions: HashMap::new(),
            state: None,
            trust: None,
        }
    }
}

fn refused(what: &'static str) -> impl Fn(hotline::store::RestoreError) -> StoreError {
    move |error| StoreError::Restore { what, error }
}

fn version<T>(entry: Option<&(T, u64)>) -> u64 {
    entry.map_or(0, |(_, v)| *v)
}

impl IdentityStore for MapStore {
    fn local_identity(&self) -> Result<Option<IdentityKeyPair>, StoreError> {
        self.identity
            .as_deref()
            .map(|b| IdentityKeyPair::from_pickle(b, &self.key).map_err(refused("identity")))
            .transpose()
    }
    fn trusted_identity(
        &self,
        peer: &PeerId,
    ) -> Result<Option<Versioned<IdentityKey>>, StoreError> {
        Ok(self.trusted.get(peer).map(|(value, version)| Versioned {
            value: *value,
            version: *version,
        }))
    }
}

impl PreKeyRepository for MapStore {
    fn load_prekeys(&self) -> Result<Option<Versioned<PreKeyStore>>, StoreError> {
        self.prekeys
            .as_ref()
            .map(|(b, version)| {
                Ok(Versioned {
                    value: PreKeyStore::from_pickle(b, &self.key).map_err(refused("prekeys"))?,
                    version: *version,
                })
            })
            .transpose()
    }
}

impl SessionRepository for MapStore {
    fn load_sessions(&self, peer: &PeerId) -> Result<Option<Versioned<SessionRecord>>, StoreError> {
        self.sessions
            .get(peer)
            .map(|(b, version)| {
                Ok(Versioned {
                    value: SessionRecord::from_pickle(b, &self.key, peer)
                        .map_err(refused("sessions"))?,
                    version: *version,
                })
            })
            .transpose()
    }
}

impl ClientStateRepository for MapStore {
    fn load_client_state(&self) -> Result<Option<Versioned<ClientState>>, StoreError> {
        Ok(self.state.as_ref().map(|(value, version)| Versioned {
            value: value.clone(),
            version: *version,
        }))
    }
    fn load_trust_state(&self) -> Result<Option<Versioned<TrustStore>>, StoreError> {
        Ok(self.trust.as_ref().map(|(value, version)| Versioned {
            value: value.clone(),
            version: *version,
        }))
    }
}

impl ClientStore for MapStore {
    fn commit(&mut self, u: &StoreUpdate<'_>) -> Result<(), StoreError> {
        let conflict = |kind| Err(StoreError::Conflict { kind });
        // Every check first, so a conflict writes nothing.
        if u.local_identity.is_some() && self.identity.is_some() {
            return conflict(1);
        }
        if let Some((_, v)) = u.prekeys
            && v != version(self.prekeys.as_ref())
        {
            return conflict(2);
        }
        if let Some((peer, _, v)) = u.trusted_identity
            && v != version(self.trusted.get(peer))
        {
            return conflict(5);
        }
        if let Some((peer, v)) = u.unchanged_identity
            && v != version(self.trusted.get(peer))
        {
            return conflict(5);
        }
        if let Some((peer, _, v)) = u.sessions
            && v != version(self.sessions.get(peer))
        {
            return conflict(4);
        }
        if let Some((_, v)) = u.client_state
            && v != version(self.state.as_ref())
        {
            return conflict(6);
        }
        if let Some((_, v)) = u.trust_state
            && v != version(self.trust.as_ref())
        {
            return conflict(7);
        }
        let mut rng = rand::rng();
        if let Some(identity) = u.local_identity {
            self.identity = Some(identity.pickle(&self.key, &mut rng));
        }
        if let Some((prekeys, v)) = u.prekeys {
            self.prekeys = Some((prekeys.pickle(&self.key, &mut rng), v + 1));
        }
        if let Some((peer, identity, v)) = u.trusted_identity {
            self.trusted.insert(peer.clone(), (*identity, v + 1));
        }
        if let Some((peer, record, v)) = u.sessions {
            let sealed = record.pickle(&self.key, peer, &mut rng);
            self.sessions.insert(peer.clone(), (sealed, v + 1));
        }
        if let Some((state, v)) = u.client_state {
            self.state = Some((state.clone(), v + 1));
        }
        if let Some((trust, v)) = u.trust_state {
            self.trust = Some((trust.clone(), v + 1));
        }
        Ok(())
    }
}

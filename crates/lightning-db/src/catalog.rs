//! The catalog of named keyspaces: name → id, stored in the system keyspace
//! (docs/format/keyspaces.md).
//!
//! **Ids are never reused.** The next id to give out is stored (`keyspace-next-id`), so a
//! keyspace created after a drop never sees entries of the dropped one, even entries a stale
//! handle wrote after the drop.
//!
//! **Dropping** is one durable batch that removes the name and records a `keyspace-dropped/<id>`
//! marker; the keyspace is gone from that moment. Its entries are then deleted in bounded
//! batches and the marker removed last. A crash in between leaves the marker, and the next
//! open finishes the purge.

use std::collections::HashMap;

use lightning_core_storage::engine::{Direction, EngineBatch};
use lightning_txn::TxnStore;
use lightning_wal::Durability;
use parking_lot::Mutex;

use crate::{
    Error, Result,
    keys::{self, DEFAULT, KeyspaceId, SYSTEM},
};

const CATALOG_PREFIX: &[u8] = b"keyspace/";
const NEXT_ID_KEY: &[u8] = b"keyspace-next-id";
const DROPPED_PREFIX: &[u8] = b"keyspace-dropped/";
const MAX_NAME_LEN: usize = 255;
/// Entries deleted per batch while purging a dropped keyspace.
const PURGE_BATCH_ENTRIES: usize = 1024;

#[derive(Debug)]
struct State {
    ids: HashMap<String, KeyspaceId>,
    next_id: KeyspaceId,
}

/// Name → id of every named keyspace, loaded at open.
#[derive(Debug)]
pub(crate) struct Catalog {
    state: Mutex<State>,
}

impl Catalog {
    /// Loads the catalog and finishes the purge of any keyspace dropped before a crash.
    pub(crate) fn load(store: &TxnStore) -> Result<Catalog> {
        let mut ids = HashMap::new();
        for entry in store.scan(keys::prefix(SYSTEM, CATALOG_PREFIX), Direction::Forward)? {
            let (key, value) = entry?;
            let name = &key[keys::PREFIX_LEN + CATALOG_PREFIX.len()..];
            let name = String::from_utf8(name.to_vec())
                .map_err(|_| corrupt("keyspace name is not UTF-8"))?;
            ids.insert(name, decode_id(&value, "keyspace id")?);
        }
        let mut next_id = ids.values().copied().max().unwrap_or(DEFAULT) + 1;
        if let Some(stored) = store.get(&keys::encode(SYSTEM, NEXT_ID_KEY))? {
            next_id = next_id.max(decode_id(&stored, "next keyspace id")?);
        }
        let mut dropped = Vec::new();
        for entry in store.scan(keys::prefix(SYSTEM, DROPPED_PREFIX), Direction::Forward)? {
            let (key, _) = entry?;
            dropped.push(decode_id(&key[keys::PREFIX_LEN + DROPPED_PREFIX.len()..], "dropped id")?);
        }
        for id in dropped {
            tracing::info!(keyspace_id = id, "finishing the purge of a dropped keyspace");
            purge(store, id)?;
        }
        Ok(Catalog { state: Mutex::new(State { ids, next_id }) })
    }

    /// The id of `name`, creating the keyspace durably if it is new.
    pub(crate) fn get_or_create(&self, store: &TxnStore, name: &str) -> Result<KeyspaceId> {
        check_name(name)?;
        let mut state = self.state.lock();
        if let Some(id) = state.ids.get(name) {
            return Ok(*id);
        }
        let id = state.next_id;
        if id == KeyspaceId::MAX {
            return Err(Error::InvalidInput("too many keyspaces".into()));
        }
        let mut batch = EngineBatch::new();
        batch.put(name_key(name), id.to_be_bytes().to_vec());
        batch.put(keys::encode(SYSTEM, NEXT_ID_KEY), (id + 1).to_be_bytes().to_vec());
        store.write(batch, Durability::Immediate)?;
        state.ids.insert(name.to_string(), id);
        state.next_id = id + 1;
        Ok(id)
    }

    /// Drops keyspace `name`: durably removes it from the catalog (from then on it is gone),
    /// then deletes its entries. `Ok(false)` if there is no such keyspace.
    pub(crate) fn drop_keyspace(&self, store: &TxnStore, name: &str) -> Result<bool> {
        check_name(name)?;
        let id = {
            let mut state = self.state.lock();
            let Some(&id) = state.ids.get(name) else { return Ok(false) };
            let mut batch = EngineBatch::new();
            batch.delete(name_key(name));
            batch.put(dropped_key(id), Vec::new());
            batch.put(keys::encode(SYSTEM, NEXT_ID_KEY), state.next_id.to_be_bytes().to_vec());
            store.write(batch, Durability::Immediate)?;
            state.ids.remove(name);
            id
        };
        purge(store, id)?;
        Ok(true)
    }

    /// True while `name` is the live keyspace with id `id` (not dropped, not re-created).
    pub(crate) fn is_live(&self, name: &str, id: KeyspaceId) -> bool {
        self.state.lock().ids.get(name) == Some(&id)
    }

    pub(crate) fn len(&self) -> usize {
        self.state.lock().ids.len()
    }

    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.state.lock().ids.keys().cloned().collect();
        names.sort();
        names
    }
}

/// Deletes every entry of keyspace `id` in bounded batches, then its drop marker (durably:
/// the marker's `Immediate` write syncs the log over the batches before it).
fn purge(store: &TxnStore, id: KeyspaceId) -> Result<()> {
    loop {
        let mut batch = EngineBatch::new();
        for entry in store.scan(keys::range::<&[u8]>(id, ..), Direction::Forward)? {
            let (key, _) = entry?;
            batch.delete(key);
            if batch.len() == PURGE_BATCH_ENTRIES {
                break;
            }
        }
        if batch.is_empty() {
            break;
        }
        store.write(batch, Durability::None)?;
    }
    let mut batch = EngineBatch::new();
    batch.delete(dropped_key(id));
    store.write(batch, Durability::Immediate)?;
    Ok(())
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(Error::InvalidInput(format!(
            "keyspace names are 1 to {MAX_NAME_LEN} bytes, got {}",
            name.len()
        )));
    }
    Ok(())
}

fn name_key(name: &str) -> Vec<u8> {
    let mut key = CATALOG_PREFIX.to_vec();
    key.extend_from_slice(name.as_bytes());
    keys::encode(SYSTEM, &key)
}

fn dropped_key(id: KeyspaceId) -> Vec<u8> {
    let mut key = DROPPED_PREFIX.to_vec();
    key.extend_from_slice(&id.to_be_bytes());
    keys::encode(SYSTEM, &key)
}

fn decode_id(bytes: &[u8], what: &str) -> Result<KeyspaceId> {
    let id: [u8; 2] = bytes.try_into().map_err(|_| corrupt(&format!("{what} is not 2 bytes")))?;
    Ok(KeyspaceId::from_be_bytes(id))
}

fn corrupt(what: &str) -> Error {
    Error::Corruption { what: what.to_string(), location: "keyspace catalog".into() }
}

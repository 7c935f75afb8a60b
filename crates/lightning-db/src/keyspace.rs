//! Named keyspaces: the catalog (name → id, stored in the system keyspace) and the
//! [`Keyspace`] handle with the same operations as the default keyspace.

use std::{collections::HashMap, ops::RangeBounds};

use lightning_core_storage::engine::{Direction, EngineBatch};
use lightning_txn::TxnStore;
use parking_lot::Mutex;

use crate::{
    Database, Error, Iter, Result,
    keys::{self, DEFAULT, KeyspaceId, SYSTEM},
};

const CATALOG_PREFIX: &[u8] = b"keyspace/";
const MAX_NAME_LEN: usize = 255;

/// Name → id of every named keyspace, loaded at open.
#[derive(Debug)]
pub(crate) struct Catalog {
    ids: Mutex<HashMap<String, KeyspaceId>>,
}

impl Catalog {
    pub(crate) fn load(store: &TxnStore) -> Result<Catalog> {
        let mut ids = HashMap::new();
        let range = keys::prefix(SYSTEM, CATALOG_PREFIX);
        for entry in store.scan(range, Direction::Forward)? {
            let (key, value) = entry?;
            let name = &key[keys::PREFIX_LEN + CATALOG_PREFIX.len()..];
            let name = String::from_utf8(name.to_vec())
                .map_err(|_| corrupt("keyspace name is not UTF-8"))?;
            let id: [u8; 2] =
                value.try_into().map_err(|_| corrupt("keyspace id is not 2 bytes"))?;
            ids.insert(name, KeyspaceId::from_be_bytes(id));
        }
        Ok(Catalog { ids: Mutex::new(ids) })
    }

    /// The id of `name`, creating the keyspace durably if it is new.
    pub(crate) fn get_or_create(&self, store: &TxnStore, name: &str) -> Result<KeyspaceId> {
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return Err(Error::InvalidInput(format!(
                "keyspace names are 1 to {MAX_NAME_LEN} bytes, got {}",
                name.len()
            )));
        }
        let mut ids = self.ids.lock();
        if let Some(id) = ids.get(name) {
            return Ok(*id);
        }
        let next = ids.values().copied().max().unwrap_or(DEFAULT) + 1;
        if next == KeyspaceId::MAX {
            return Err(Error::InvalidInput("too many keyspaces".into()));
        }
        let mut batch = EngineBatch::new();
        let mut key = CATALOG_PREFIX.to_vec();
        key.extend_from_slice(name.as_bytes());
        batch.put(keys::encode(SYSTEM, &key), next.to_be_bytes().to_vec());
        store.write(batch, lightning_wal::Durability::Immediate)?;
        ids.insert(name.to_string(), next);
        Ok(next)
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.lock().len()
    }

    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.ids.lock().keys().cloned().collect();
        names.sort();
        names
    }
}

fn corrupt(what: &str) -> Error {
    Error::Corruption { what: what.to_string(), location: "keyspace catalog".into() }
}

/// A named keyspace: a separate, ordered set of keys in the same database, with the same
/// operations as the default keyspace. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Keyspace {
    db: Database,
    pub(crate) id: KeyspaceId,
    name: String,
}

impl Keyspace {
    pub(crate) fn new(db: Database, id: KeyspaceId, name: &str) -> Self {
        Keyspace { db, id, name: name.to_string() }
    }

    /// The keyspace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets `key` to `value` in this keyspace.
    pub fn put(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
        self.db.write_one(self.id, key.as_ref(), Some(value.as_ref()))
    }

    /// The value of `key` in this keyspace.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        self.db.get_in(self.id, key.as_ref())
    }

    /// Deletes `key` from this keyspace.
    pub fn delete(&self, key: impl AsRef<[u8]>) -> Result<()> {
        self.db.write_one(self.id, key.as_ref(), None)
    }

    /// Entries of this keyspace with keys in `range`.
    pub fn range<K: AsRef<[u8]>>(&self, range: impl RangeBounds<K>) -> Result<Iter> {
        self.db.range_in(self.id, range)
    }

    /// Entries of this keyspace whose keys start with `prefix`.
    pub fn prefix(&self, prefix: impl AsRef<[u8]>) -> Result<Iter> {
        self.db.prefix_in(self.id, prefix.as_ref())
    }

    /// Every entry of this keyspace.
    pub fn iter(&self) -> Result<Iter> {
        self.db.range_in::<&[u8]>(self.id, ..)
    }
}

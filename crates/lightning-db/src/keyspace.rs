//! Named keyspaces: the [`Keyspace`] handle, with the same operations as the default keyspace
//! (the catalog of names lives in `catalog.rs`).

use std::ops::RangeBounds;

pub(crate) use crate::catalog::Catalog;
use crate::{Database, Error, Iter, Result, keys::KeyspaceId};

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

    /// `Error::KeyspaceDropped` once the keyspace was dropped (even if its name was re-created
    /// since: this handle names the old keyspace).
    pub(crate) fn check_live(&self) -> Result<()> {
        if self.db.inner.catalog.is_live(&self.name, self.id) {
            Ok(())
        } else {
            Err(Error::KeyspaceDropped { name: self.name.clone() })
        }
    }

    /// Sets `key` to `value` in this keyspace.
    pub fn put(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
        self.check_live()?;
        self.db.write_one(self.id, key.as_ref(), Some(value.as_ref()))
    }

    /// The value of `key` in this keyspace.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        self.check_live()?;
        self.db.get_in(self.id, key.as_ref())
    }

    /// Deletes `key` from this keyspace.
    pub fn delete(&self, key: impl AsRef<[u8]>) -> Result<()> {
        self.check_live()?;
        self.db.write_one(self.id, key.as_ref(), None)
    }

    /// Entries of this keyspace with keys in `range`.
    pub fn range<K: AsRef<[u8]>>(&self, range: impl RangeBounds<K>) -> Result<Iter> {
        self.check_live()?;
        self.db.range_in(self.id, range)
    }

    /// Entries of this keyspace whose keys start with `prefix`.
    pub fn prefix(&self, prefix: impl AsRef<[u8]>) -> Result<Iter> {
        self.check_live()?;
        self.db.prefix_in(self.id, prefix.as_ref())
    }

    /// Every entry of this keyspace.
    pub fn iter(&self) -> Result<Iter> {
        self.check_live()?;
        self.db.range_in::<&[u8]>(self.id, ..)
    }
}

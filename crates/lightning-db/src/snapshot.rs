//! [`Snapshot`]: a read-only view that outlives transactions.

use std::{ops::RangeBounds, sync::Arc};

use crate::{
    Iter, Keyspace, Result,
    keys::{self, DEFAULT},
};

/// A consistent read-only view of the database at the moment it was taken. While it lives the
/// versions it sees are kept (see `Stats` for the oldest snapshot's age).
#[derive(Debug, Clone)]
pub struct Snapshot {
    inner: Arc<lightning_txn::Snapshot>,
    /// Declared last, dropped last: the snapshot is released before the database may close.
    db: crate::Database,
}

impl Snapshot {
    pub(crate) fn new(db: crate::Database, inner: Arc<lightning_txn::Snapshot>) -> Self {
        Snapshot { inner, db }
    }

    /// The value of `key` in this view.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        keys::check_key(key.as_ref())?;
        Ok(self.inner.get(&keys::encode(DEFAULT, key.as_ref()))?)
    }

    /// The value of `key` in `keyspace`, in this view.
    pub fn get_in(&self, keyspace: &Keyspace, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        keys::check_key(key.as_ref())?;
        Ok(self.inner.get(&keys::encode(keyspace.id, key.as_ref()))?)
    }

    /// Entries with keys in `range`, in this view.
    pub fn range<K: AsRef<[u8]>>(&self, range: impl RangeBounds<K>) -> Result<Iter> {
        Ok(Iter::from_snapshot(self.db.clone(), self.inner.clone(), keys::range(DEFAULT, range)))
    }

    /// Entries whose keys start with `prefix`, in this view.
    pub fn prefix(&self, prefix: impl AsRef<[u8]>) -> Result<Iter> {
        Ok(Iter::from_snapshot(
            self.db.clone(),
            self.inner.clone(),
            keys::prefix(DEFAULT, prefix.as_ref()),
        ))
    }

    /// Every entry of the default keyspace, in this view.
    pub fn iter(&self) -> Result<Iter> {
        self.range::<&[u8]>(..)
    }
}

//! [`Snapshot`]: a read-only view that outlives transactions.

use std::{
    ops::{ControlFlow, RangeBounds},
    sync::Arc,
};

use lightning_core_storage::engine::Direction;

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

    /// Entries of `keyspace` with keys in `range`, in this view.
    pub fn range_in<K: AsRef<[u8]>>(
        &self,
        keyspace: &Keyspace,
        range: impl RangeBounds<K>,
    ) -> Result<Iter> {
        Ok(Iter::from_snapshot(
            self.db.clone(),
            self.inner.clone(),
            keys::range(keyspace.id, range),
        ))
    }

    /// Entries of `keyspace` whose keys start with `prefix`, in this view.
    pub fn prefix_in(&self, keyspace: &Keyspace, prefix: impl AsRef<[u8]>) -> Result<Iter> {
        Ok(Iter::from_snapshot(
            self.db.clone(),
            self.inner.clone(),
            keys::prefix(keyspace.id, prefix.as_ref()),
        ))
    }

    /// Every entry of `keyspace`, in this view.
    pub fn iter_in(&self, keyspace: &Keyspace) -> Result<Iter> {
        self.range_in::<&[u8]>(keyspace, ..)
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

    /// Entries with keys in `range`, in this view, lent to `visit` as borrowed `(key, value)`
    /// slices in key order until the range ends or `visit` returns `Break`. The fastest way to
    /// read a range: nothing is allocated or copied per entry (values are lent straight from
    /// the engine's pages), where an [`Iter`] hands out an owned key and value, two
    /// allocations and copies per entry.
    ///
    /// `visit` runs with no lock of the database held: it may read from or write to the
    /// database (its writes are not seen by this snapshot).
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// # let dir = tempfile::tempdir()?;
    /// # let db = lightning_db::Database::open(dir.path(), lightning_db::Config::default())?;
    /// db.put("a", "1")?;
    /// db.put("b", "22")?;
    /// let mut bytes = 0;
    /// db.snapshot()?.scan_with("a".."z", |_key, value| {
    ///     bytes += value.len();
    ///     ControlFlow::Continue(())
    /// })?;
    /// assert_eq!(bytes, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scan_with<K: AsRef<[u8]>>(
        &self,
        range: impl RangeBounds<K>,
        mut visit: impl FnMut(&[u8], &[u8]) -> ControlFlow<()>,
    ) -> Result<()> {
        let range = keys::range(DEFAULT, range);
        self.inner.scan_with(&range, Direction::Forward, &mut |key, value| {
            visit(&key[keys::PREFIX_LEN..], value)
        })?;
        Ok(())
    }

    /// Every entry of the default keyspace, in this view.
    pub fn iter(&self) -> Result<Iter> {
        self.range::<&[u8]>(..)
    }
}

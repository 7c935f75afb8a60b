//! [`Transaction`]: the facade's transaction, spanning keyspaces.

use std::ops::RangeBounds;

use lightning_core_storage::{Timestamp, engine::KeyRange};
use lightning_txn::Isolation;
use lightning_wal::Durability;

use crate::{
    Database, Iter, Keyspace, Result,
    keys::{self, DEFAULT, KeyspaceId},
};

/// A transaction: reads from one snapshot (per its isolation level), buffers writes, and
/// commits them atomically. Dropping it without `commit` rolls it back.
#[derive(Debug)]
pub struct Transaction {
    inner: lightning_txn::Transaction,
    /// Declared last, dropped last: the transaction ends before the database may close.
    db: Database,
}

impl Transaction {
    pub(crate) fn new(db: Database, inner: lightning_txn::Transaction) -> Self {
        Transaction { inner, db }
    }

    /// The isolation level.
    pub fn isolation(&self) -> Isolation {
        self.inner.isolation()
    }

    fn get_at(&mut self, id: KeyspaceId, key: &[u8]) -> Result<Option<Vec<u8>>> {
        keys::check_key(key)?;
        Ok(self.inner.get(&keys::encode(id, key))?)
    }

    fn put_at(&mut self, id: KeyspaceId, key: &[u8], value: &[u8]) -> Result<()> {
        keys::check_key(key)?;
        keys::check_value(value)?;
        Ok(self.inner.put(&keys::encode(id, key), value)?)
    }

    fn delete_at(&mut self, id: KeyspaceId, key: &[u8]) -> Result<()> {
        keys::check_key(key)?;
        Ok(self.inner.delete(&keys::encode(id, key))?)
    }

    fn scan_at(&mut self, range: KeyRange) -> Result<Iter> {
        let (front, back) = self.inner.scan_both_ends(range)?;
        Ok(Iter::from_scans(self.db.clone(), front, back))
    }

    /// The value of `key` as this transaction sees it.
    pub fn get(&mut self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        self.get_at(DEFAULT, key.as_ref())
    }

    /// Locks `key` until the transaction ends, then reads it (pessimistic locking; a cycle of
    /// waiters is broken with `Error::Deadlock`).
    pub fn get_for_update(&mut self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        keys::check_key(key.as_ref())?;
        Ok(self.inner.get_for_update(&keys::encode(DEFAULT, key.as_ref()))?)
    }

    /// Sets `key` to `value` at commit.
    pub fn put(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
        self.put_at(DEFAULT, key.as_ref(), value.as_ref())
    }

    /// Deletes `key` at commit.
    pub fn delete(&mut self, key: impl AsRef<[u8]>) -> Result<()> {
        self.delete_at(DEFAULT, key.as_ref())
    }

    /// Entries with keys in `range`, as this transaction sees them (its own writes included).
    pub fn range<K: AsRef<[u8]>>(&mut self, range: impl RangeBounds<K>) -> Result<Iter> {
        self.scan_at(keys::range(DEFAULT, range))
    }

    /// Entries whose keys start with `prefix`.
    pub fn prefix(&mut self, prefix: impl AsRef<[u8]>) -> Result<Iter> {
        self.scan_at(keys::prefix(DEFAULT, prefix.as_ref()))
    }

    /// Every entry of the default keyspace.
    pub fn iter(&mut self) -> Result<Iter> {
        self.scan_at(keys::range::<&[u8]>(DEFAULT, ..))
    }

    /// The same operations on another keyspace, inside this transaction.
    pub fn keyspace<'t>(&'t mut self, keyspace: &Keyspace) -> TxKeyspace<'t> {
        TxKeyspace { tx: self, keyspace: keyspace.clone() }
    }

    /// Commits atomically with the database's configured durability.
    /// `Err(Error::Conflict { .. })` if a concurrent transaction won.
    pub fn commit(self) -> Result<()> {
        self.commit_timestamp().map(|_| ())
    }

    /// Commits atomically with `durability` instead of the configured one: for example one
    /// `Immediate` commit (acknowledged only once it survives power loss) in a database
    /// opened with `Durability::Eventual`.
    pub fn commit_with(self, durability: Durability) -> Result<()> {
        drop(self.db.store_for_write()?); // refuse commits after close or poison
        self.inner.commit_with(durability)?;
        Ok(())
    }

    /// Commits and returns the commit timestamp (for tests and replication).
    pub fn commit_timestamp(self) -> Result<Timestamp> {
        drop(self.db.store_for_write()?); // refuse commits after close or poison
        Ok(self.inner.commit()?)
    }

    /// Abandons every write.
    pub fn rollback(self) {
        self.inner.rollback();
    }
}

/// A keyspace seen through a transaction: see [`Transaction::keyspace`].
#[derive(Debug)]
pub struct TxKeyspace<'t> {
    tx: &'t mut Transaction,
    keyspace: Keyspace,
}

impl TxKeyspace<'_> {
    /// The keyspace's id, or `Error::KeyspaceDropped`.
    fn id(&self) -> Result<KeyspaceId> {
        self.keyspace.check_live()?;
        Ok(self.keyspace.id)
    }

    /// The value of `key` in this keyspace, as the transaction sees it.
    pub fn get(&mut self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let id = self.id()?;
        self.tx.get_at(id, key.as_ref())
    }

    /// Sets `key` to `value` in this keyspace at commit.
    pub fn put(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
        let id = self.id()?;
        self.tx.put_at(id, key.as_ref(), value.as_ref())
    }

    /// Deletes `key` from this keyspace at commit.
    pub fn delete(&mut self, key: impl AsRef<[u8]>) -> Result<()> {
        let id = self.id()?;
        self.tx.delete_at(id, key.as_ref())
    }

    /// Entries of this keyspace with keys in `range`.
    pub fn range<K: AsRef<[u8]>>(&mut self, range: impl RangeBounds<K>) -> Result<Iter> {
        let id = self.id()?;
        self.tx.scan_at(keys::range(id, range))
    }
}

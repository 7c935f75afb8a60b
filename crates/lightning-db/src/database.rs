//! [`Database`]: opening, the default keyspace's operations, transactions, maintenance, close.

use std::{
    ops::RangeBounds,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use lightning_core_storage::{
    Poison,
    engine::{CheckReport, EngineBatch},
    vfs::{StdFs, Vfs},
};
use lightning_txn::{Isolation, TxnStore};
use lightning_wal::Durability;
use parking_lot::{MappedRwLockReadGuard, Mutex, RwLock, RwLockReadGuard};

use crate::{
    Config, Error, Iter, Keyspace, Result, Snapshot, Stats, Transaction, WriteBatch,
    keys::{self, DEFAULT, KeyspaceId},
    open::{self, Opened},
};

pub(crate) struct DbInner {
    /// `None` once closed: dropping the store stops the engine's and the log's threads.
    store: RwLock<Option<TxnStore>>,
    pub(crate) config: Config,
    pub(crate) path: PathBuf,
    pub(crate) catalog: crate::keyspace::Catalog,
    closed: AtomicBool,
    /// Set when a part of the facade fails past repair (the maintenance thread panicked):
    /// writes are refused until the database is reopened. The store keeps its own.
    pub(crate) poison: Poison,
    maintenance: Mutex<Option<crate::maintenance::Worker>>,
    /// Released only after the store is gone, so no other process can open the files while
    /// this one may still touch them.
    lock: Mutex<Option<Box<dyn lightning_core_storage::vfs::VfsLock>>>,
}

impl std::fmt::Debug for DbInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("path", &self.path).finish_non_exhaustive()
    }
}

/// An open database. A cheap handle: clone it to share between threads (`Clone + Send +
/// Sync`). Dropping the last handle closes the database cleanly.
#[derive(Debug, Clone)]
pub struct Database {
    pub(crate) inner: Arc<DbInner>,
}

/// Transactions retried by [`Database::transaction`] before giving up.
const MAX_RETRIES: u32 = 16;

impl Database {
    /// Opens the database in directory `path`, creating it if missing (unless
    /// `Config::create_if_missing(false)`). Fails clearly if another process has it open, if
    /// it was created with another engine, or if the engine is not available in this build.
    pub fn open(path: impl AsRef<Path>, config: Config) -> Result<Database> {
        Self::open_with_vfs(Arc::new(StdFs::new()), path, config)
    }

    /// Opens the database in `path` on the file system `vfs`: every file access of the
    /// database, its engine and its log goes through it. [`Database::open`] uses
    /// [`crate::vfs::StdFs`]; tests use [`crate::vfs::FaultFs`] to inject I/O errors and
    /// simulate power cuts under the whole database, background threads included.
    pub fn open_with_vfs(
        vfs: Arc<dyn Vfs>,
        path: impl AsRef<Path>,
        config: Config,
    ) -> Result<Database> {
        let Opened { store, lock, catalog } = open::open(vfs, path.as_ref(), &config)?;
        let poison = Poison::new();
        let worker = crate::maintenance::Worker::start(
            store.clone(),
            config.checkpoint_interval,
            poison.clone(),
        );
        let inner = DbInner {
            store: RwLock::new(Some(store)),
            config,
            path: path.as_ref().to_path_buf(),
            catalog,
            closed: AtomicBool::new(false),
            poison,
            maintenance: Mutex::new(Some(worker)),
            lock: Mutex::new(Some(lock)),
        };
        Ok(Database { inner: Arc::new(inner) })
    }

    /// The store, or `Error::Closed`. The guard is held only for one operation.
    pub(crate) fn store(&self) -> Result<MappedRwLockReadGuard<'_, TxnStore>> {
        RwLockReadGuard::try_map(self.inner.store.read(), Option::as_ref).map_err(|_| Error::Closed)
    }

    /// The store for a write: `Error::Closed`, or `Error::Poisoned` once the facade is.
    pub(crate) fn store_for_write(&self) -> Result<MappedRwLockReadGuard<'_, TxnStore>> {
        let store = self.store()?;
        self.inner.poison.check()?;
        Ok(store)
    }

    /// The directory of this database.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub(crate) fn get_in(&self, id: KeyspaceId, key: &[u8]) -> Result<Option<Vec<u8>>> {
        keys::check_key(key)?;
        Ok(self.store()?.get(&keys::encode(id, key))?)
    }

    pub(crate) fn write_one(&self, id: KeyspaceId, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        keys::check_key(key)?;
        let mut batch = EngineBatch::new();
        match value {
            Some(value) => {
                keys::check_value(value)?;
                batch.put(keys::encode(id, key), value.to_vec());
            }
            None => batch.delete(keys::encode(id, key)),
        }
        self.store_for_write()?.write(batch, self.inner.config.durability)?;
        Ok(())
    }

    pub(crate) fn range_in<K: AsRef<[u8]>>(
        &self,
        id: KeyspaceId,
        range: impl RangeBounds<K>,
    ) -> Result<Iter> {
        let snapshot = Arc::new(self.store()?.snapshot());
        Ok(Iter::from_snapshot(self.clone(), snapshot, keys::range(id, range)))
    }

    pub(crate) fn prefix_in(&self, id: KeyspaceId, prefix: &[u8]) -> Result<Iter> {
        let snapshot = Arc::new(self.store()?.snapshot());
        Ok(Iter::from_snapshot(self.clone(), snapshot, keys::prefix(id, prefix)))
    }

    /// Sets `key` to `value` (an atomic, durable-per-config write).
    ///
    /// Like every write, it waits for a key lock a transaction holds (`get_for_update`) and
    /// fails with `Error::LockTimeout` after `Config::lock_timeout` — also when that
    /// transaction belongs to the calling thread, which the lock manager cannot tell: write
    /// through the transaction itself, or finish it first.
    pub fn put(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
        self.write_one(DEFAULT, key.as_ref(), Some(value.as_ref()))
    }

    /// The value of `key`, if it has one.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        self.get_in(DEFAULT, key.as_ref())
    }

    /// Deletes `key` (deleting a missing key is not an error).
    pub fn delete(&self, key: impl AsRef<[u8]>) -> Result<()> {
        self.write_one(DEFAULT, key.as_ref(), None)
    }

    /// The entries with keys in `range`, in key order (`.rev()` for descending), as of now.
    pub fn range<K: AsRef<[u8]>>(&self, range: impl RangeBounds<K>) -> Result<Iter> {
        self.range_in(DEFAULT, range)
    }

    /// The entries whose keys start with `prefix`.
    pub fn prefix(&self, prefix: impl AsRef<[u8]>) -> Result<Iter> {
        self.prefix_in(DEFAULT, prefix.as_ref())
    }

    /// Every entry of the default keyspace.
    pub fn iter(&self) -> Result<Iter> {
        self.range_in::<&[u8]>(DEFAULT, ..)
    }

    /// Applies `batch` atomically, with the configured durability.
    pub fn write(&self, batch: WriteBatch) -> Result<()> {
        self.write_with(batch, self.inner.config.durability)
    }

    /// Applies `batch` atomically with `durability` instead of the configured one.
    pub fn write_with(&self, batch: WriteBatch, durability: Durability) -> Result<()> {
        let store = self.store_for_write()?;
        if let Some(error) = batch.error {
            return Err(Error::InvalidInput(format!("write batch: {error}")));
        }
        if let Some((name, _)) =
            batch.keyspaces.iter().find(|(name, id)| !self.inner.catalog.is_live(name, *id))
        {
            return Err(Error::KeyspaceDropped { name: name.clone() });
        }
        if batch.ops.is_empty() {
            return Ok(());
        }
        store.write(batch.ops, durability)?;
        Ok(())
    }

    /// Starts a transaction at the configured isolation level (default `Snapshot`).
    pub fn begin(&self) -> Result<Transaction> {
        self.begin_with(self.inner.config.isolation)
    }

    /// Starts a transaction at `isolation`.
    pub fn begin_with(&self, isolation: Isolation) -> Result<Transaction> {
        let inner = self.store_for_write()?.begin(isolation)?;
        Ok(Transaction::new(self.clone(), inner))
    }

    /// Runs `body` in a transaction and commits it, retrying (with backoff, at most 16 times)
    /// when it fails with a conflict or deadlock. `body` may run more than once.
    pub fn transaction<T>(&self, mut body: impl FnMut(&mut Transaction) -> Result<T>) -> Result<T> {
        let mut backoff = Duration::from_micros(200);
        for attempt in 0..=MAX_RETRIES {
            let mut tx = self.begin()?;
            let outcome = body(&mut tx).and_then(|value| tx.commit().map(|()| value));
            match outcome {
                Err(e) if e.is_retryable() && attempt < MAX_RETRIES => {
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(50));
                }
                other => return other,
            }
        }
        unreachable!("the last attempt returns")
    }

    /// A read-only view of the database as of now, kept consistent while it lives.
    pub fn snapshot(&self) -> Result<Snapshot> {
        Ok(Snapshot::new(self.clone(), Arc::new(self.store()?.snapshot())))
    }

    /// The keyspace `name`, created (durably) if it does not exist. Keyspaces are disjoint;
    /// transactions span them.
    pub fn keyspace(&self, name: &str) -> Result<Keyspace> {
        let id = self.inner.catalog.get_or_create(&*self.store_for_write()?, name)?;
        Ok(Keyspace::new(self.clone(), id, name))
    }

    /// Drops keyspace `name` and every entry in it. Durable and atomic: once this returns the
    /// keyspace is gone even after a crash (its entries are deleted right after, and a crash
    /// midway is finished at the next open). Handles to it get `Error::KeyspaceDropped`;
    /// `keyspace(name)` creates a new, empty one. Returns false if there was none.
    pub fn drop_keyspace(&self, name: &str) -> Result<bool> {
        self.inner.catalog.drop_keyspace(&*self.store_for_write()?, name)
    }

    /// The names of every named keyspace, sorted.
    pub fn keyspaces(&self) -> Result<Vec<String>> {
        drop(self.store()?);
        Ok(self.inner.catalog.names())
    }

    /// Makes everything written so far durable now (syncs the log, checkpoints the engine).
    pub fn flush(&self) -> Result<()> {
        self.store_for_write()?.checkpoint()?;
        Ok(())
    }

    /// Makes every write acknowledged so far survive power loss, without a checkpoint: one
    /// sync of the write-ahead log. Cheaper than [`Database::flush`]; use it after a run of
    /// `Eventual` or `None` writes.
    pub fn sync(&self) -> Result<()> {
        self.store_for_write()?.sync()?;
        Ok(())
    }

    /// Checks the engine's integrity (every page it references, read from disk and verified,
    /// the order of keys, the accounting of space) and reports what it walked and what it
    /// found wrong. Damage is reported in [`CheckReport::problems`], not as an error.
    pub fn check(&self) -> Result<CheckReport> {
        Ok(self.store()?.engine().check()?)
    }

    /// Statistics of the engine, cache, log and transactions.
    pub fn stats(&self) -> Result<Stats> {
        Stats::collect(self, &*self.store()?)
    }

    /// Closes the database: stops background work, makes everything durable, stops the
    /// engine's and the log's threads and releases the directory lock, so the database can be
    /// opened again (by this or another process). Other handles (clones, keyspaces) get
    /// `Error::Closed` afterwards. Fails, leaving the database open, while a transaction,
    /// snapshot or iterator of it is still alive. After an earlier failure poisoned the
    /// database it still closes, but returns `Error::Poisoned`: what was not yet durable
    /// stays so until a reopen recovers what is.
    pub fn close(self) -> Result<()> {
        self.inner.shutdown()
    }
}

impl DbInner {
    fn shutdown(&self) -> Result<()> {
        self.shutdown_with(false)
    }

    /// Closes the store. With `dropping`, live handles cannot exist (every facade object holds
    /// a `Database` and drops it last); if some lower-level handle still does, the directory
    /// lock is leaked rather than released, so no other process opens files still in use.
    fn shutdown_with(&self, dropping: bool) -> Result<()> {
        let mut slot = self.store.write();
        let Some(store) = slot.as_ref() else { return Ok(()) };
        if let Some(worker) = self.maintenance.lock().take() {
            worker.stop();
        }
        let live = store.handle_count() - 1;
        if live > 0 && dropping {
            tracing::error!(live, "database dropped while store handles live; keeping its lock");
            if let Some(lock) = self.lock.lock().take() {
                std::mem::forget(lock);
            }
            self.closed.store(true, Ordering::Release);
            *slot = None;
            return Ok(());
        }
        if live > 0 {
            let worker = crate::maintenance::Worker::start(
                store.clone(),
                self.config.checkpoint_interval,
                self.poison.clone(),
            );
            *self.maintenance.lock() = Some(worker);
            return Err(Error::InvalidInput(format!(
                "cannot close: {live} transactions, snapshots or iterators are still alive"
            )));
        }
        self.closed.store(true, Ordering::Release);
        let poisoned = store.poisoned().or_else(|| self.poison.reason());
        let result = if let Some(reason) = poisoned {
            // Nothing more can be made durable safely; reopening recovers what is. Say so:
            // an Ok here would tell the caller everything acknowledged is durable.
            Err(Error::Poisoned(reason))
        } else {
            store.checkpoint().map_err(Error::from)
        };
        // The engine and the log stop here; after a good checkpoint the log is closed cleanly
        // (its end proves every record in it fsynced).
        let result = match (slot.take(), result) {
            (Some(store), Ok(())) => store.close().map_err(Error::from),
            (_, result) => result,
        };
        drop(slot);
        self.lock.lock().take();
        result
    }
}

impl Drop for DbInner {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown_with(true) {
            tracing::warn!(error = %e, "closing the database on drop failed; recovery will replay the log");
        }
    }
}

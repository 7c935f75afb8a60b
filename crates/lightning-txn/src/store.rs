//! [`TxnStore`]: the transactional store over any engine and the WAL.
//!
//! Commit path (one function, [`TxnStore::commit_batch`], used by transactions and plain write
//! batches alike):
//!
//! 1. under the commit lock: check that no other transaction holds a lock on a key written,
//!    validate (per isolation level), assign the commit timestamp, and append the commit
//!    record to the WAL without I/O ([`Wal::append_deferred`]) — so timestamp order is log
//!    order and the lock is never held across a write or an fsync;
//! 2. outside the lock: wait for the WAL write (`Eventual`) or sync (`Immediate`) that covers
//!    the record (group commit: concurrent committers share one write and one fsync);
//! 3. apply the versioned writes to the engine;
//! 4. publish the timestamp and wait until it is visible, so the caller's next read sees it.
//!
//! A failure after step 1 (fsync, apply) poisons the store for writes: the log and the engine
//! may disagree about an unacknowledged commit, and only recovery on reopen can settle that.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use lightning_core_storage::{
    Lsn, Poison, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine},
};
use lightning_wal::{Durability, Wal};

use crate::{
    Error, Isolation, LockManager, LockMode, Result, Snapshot, Transaction, TxnId, TxnOptions,
    TxnStats,
    apply_order::ApplyOrder,
    horizon::SnapshotLimits,
    merge::TxnIter,
    oracle::{Oracle, Validation},
    record, recovery,
};

pub(crate) struct StoreInner {
    pub(crate) engine: Arc<dyn StorageEngine>,
    pub(crate) wal: Wal,
    pub(crate) oracle: Oracle,
    pub(crate) locks: LockManager,
    pub(crate) options: TxnOptions,
    next_txn_id: AtomicU64,
    /// Set by a failure past the point of no return (see [`TxnStore::fail`]).
    poison: Poison,
    pub(crate) counters: Counters,
    pub(crate) apply_order: ApplyOrder,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub commits: AtomicU64,
    pub aborts: AtomicU64,
    pub conflicts: AtomicU64,
    pub deadlocks: AtomicU64,
    pub active: AtomicU64,
}

impl fmt::Debug for StoreInner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TxnStore")
            .field("engine", &self.engine.name())
            .field("visible", &self.oracle.visible())
            .finish_non_exhaustive()
    }
}

/// The committer id of a plain write that holds no locks (transaction ids start at 1).
pub(crate) const NO_TXN: TxnId = TxnId(0);

/// How [`TxnStore::commit_batch`] ended.
#[derive(Debug)]
pub(crate) enum Commit {
    /// Committed at this timestamp.
    Done(Timestamp),
    /// Nothing was logged: another transaction holds a lock on this key of the batch.
    LockedByOther(Vec<u8>),
}

/// A transactional store: MVCC transactions over one engine and one WAL. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TxnStore {
    pub(crate) inner: Arc<StoreInner>,
}

/// Poisons the store if a commit past the point of no return unwinds (a panic in the engine),
/// so that later commits fail instead of waiting forever for its timestamp.
struct FailOnUnwind<'a> {
    store: &'a TxnStore,
    armed: bool,
}

impl FailOnUnwind<'_> {
    fn fail(mut self, error: Error) -> Error {
        self.armed = false;
        self.store.fail(error)
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for FailOnUnwind<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.store.fail(Error::Poisoned { reason: "a commit panicked while applying".into() });
        }
    }
}

/// What recovery did when the store opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecoveryReport {
    /// The engine's durable LSN before replay.
    pub engine_durable_lsn: Lsn,
    /// Commit records re-applied from the WAL.
    pub replayed_records: u64,
    /// The highest commit timestamp after recovery.
    pub last_commit_ts: Timestamp,
}

impl TxnStore {
    /// Opens the store: the engine is at its durable state; the WAL must reach back to it
    /// (else [`Error::Storage`] with a corruption naming both LSNs) and is replayed above it,
    /// each committed transaction re-applied once; the WAL is then truncated below the
    /// engine's log floor.
    pub fn open(
        engine: Arc<dyn StorageEngine>,
        wal: Wal,
        options: TxnOptions,
    ) -> Result<(TxnStore, RecoveryReport)> {
        // Before anything is applied: an engine checkpointing on its own syncs the log up to
        // what it makes durable, so it is never ahead of the log (Durability::None commits).
        engine.set_log_barrier(Arc::new(wal.barrier()));
        let report = recovery::recover(engine.as_ref(), &wal)?;
        let apply_order = ApplyOrder::new(wal.last_lsn().next());
        let poison = Poison::new();
        let inner = StoreInner {
            apply_order,
            engine,
            wal,
            oracle: Oracle::new(
                report.last_commit_ts,
                SnapshotLimits {
                    max_age: options.max_snapshot_age,
                    max_retained_versions: options.max_retained_versions,
                },
                poison.clone(),
            ),
            locks: LockManager::new(),
            options,
            next_txn_id: AtomicU64::new(1),
            poison,
            counters: Counters::default(),
        };
        Ok((TxnStore { inner: Arc::new(inner) }, report))
    }

    /// Starts a transaction. Snapshot and serializable transactions register their snapshot
    /// (holding the GC horizon down until they end); read-committed ones read the latest
    /// visible data and hold nothing.
    pub fn begin(&self, isolation: Isolation) -> Result<Transaction> {
        self.check_writable()?;
        let id = self.new_txn_id();
        let start_ts = match isolation {
            Isolation::ReadCommitted => self.inner.oracle.visible(),
            Isolation::Snapshot | Isolation::Serializable => self.inner.oracle.register_snapshot(),
        };
        self.inner.counters.active.fetch_add(1, Ordering::Relaxed);
        Ok(Transaction::new(self.clone(), id, isolation, start_ts))
    }

    /// A read-only view of the latest committed state that lives until dropped (it holds the
    /// GC horizon down meanwhile).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::new(self.clone(), self.inner.oracle.register_snapshot())
    }

    /// The latest committed value of `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let read = self.inner.oracle.plain_read();
        let version = self.inner.engine.get(key, read.timestamp())?;
        Ok(version.and_then(|v| v.value))
    }

    /// Latest committed entries of `range` in `direction`.
    pub fn scan(&self, range: KeyRange, direction: Direction) -> Result<TxnIter> {
        let snapshot = self.snapshot();
        snapshot.scan(range, direction)
    }

    /// Applies `batch` atomically, without a transaction's validation (last writer wins).
    /// Keys that transactions hold locks on (`get_for_update`, `lock`) are waited for like any
    /// writer does, up to the lock timeout: a plain write never lands between a locker's read
    /// and its write. When no lock is held anywhere this costs one atomic load.
    ///
    /// # Errors
    /// As a commit, plus [`Error::LockTimeout`] and [`Error::Deadlock`] while waiting.
    pub fn write(&self, batch: EngineBatch, durability: Durability) -> Result<Timestamp> {
        // The locks this write took while waiting, under an id of its own (made on first need).
        let mut waited: Option<(TxnId, Vec<Vec<u8>>)> = None;
        let result = loop {
            let owner = waited.as_ref().map_or(NO_TXN, |(id, _)| *id);
            match self.commit_batch(&batch, durability, None, owner) {
                Ok(Commit::Done(ts)) => break Ok(ts),
                Ok(Commit::LockedByOther(key)) => {
                    let (id, locked) =
                        waited.get_or_insert_with(|| (self.new_txn_id(), Vec::new()));
                    match self.lock_for_commit(*id, &key) {
                        Ok(()) => locked.push(key),
                        Err(e) => break Err(e),
                    }
                }
                Err(e) => break Err(e),
            }
        };
        if let Some((id, locked)) = waited {
            self.inner.locks.release_all(id, locked.iter().map(Vec::as_slice));
        }
        result
    }

    /// Waits for an exclusive lock on `key` for the committer `id` (a transaction or a plain
    /// write), counting deadlocks.
    pub(crate) fn lock_for_commit(&self, id: TxnId, key: &[u8]) -> Result<()> {
        let timeout = self.inner.options.lock_timeout;
        self.inner.locks.lock(id, key, LockMode::Exclusive, timeout).inspect_err(|e| {
            if matches!(e, Error::Deadlock { .. }) {
                self.inner.counters.deadlocks.fetch_add(1, Ordering::Relaxed);
            }
        })
    }

    fn new_txn_id(&self) -> TxnId {
        TxnId(self.inner.next_txn_id.fetch_add(1, Ordering::Relaxed))
    }

    /// Refuses, before anything is logged, a batch the engine or the log would refuse: once a
    /// record is in the log, recovery replays it, so a rejected write must never get there.
    fn check_limits(&self, batch: &EngineBatch) -> Result<()> {
        let engine = &self.inner.engine;
        let (max_key, max_value) = (engine.max_key_len(), engine.max_value_len());
        for op in batch.ops() {
            if op.key().len() > max_key {
                return Err(Error::Storage(lightning_core_storage::Error::InvalidInput(format!(
                    "key of {} bytes exceeds the engine's limit of {max_key} bytes",
                    op.key().len()
                ))));
            }
            if op.value().is_some_and(|v| v.len() > max_value) {
                return Err(Error::Storage(lightning_core_storage::Error::InvalidInput(format!(
                    "value exceeds the engine's limit of {max_value} bytes"
                ))));
            }
        }
        let limit = self.inner.options.max_write_set_bytes;
        if batch.size_bytes() > limit {
            return Err(Error::TransactionTooLarge { what: "write set bytes", limit });
        }
        Ok(())
    }

    /// The commit path shared by transactions and write batches (see the module docs), for
    /// the committer `owner` (its locks do not block it; [`NO_TXN`] for a plain write that
    /// holds none). Returns [`Commit::LockedByOther`] without logging anything if another
    /// transaction holds a lock on a key of `batch`: the caller waits for that lock outside
    /// the commit lock and calls again.
    pub(crate) fn commit_batch(
        &self,
        batch: &EngineBatch,
        durability: Durability,
        validation: Option<&Validation<'_>>,
        owner: TxnId,
    ) -> Result<Commit> {
        self.check_writable()?;
        self.check_limits(batch)?;
        let inner = &self.inner;
        inner.engine.admit_write()?; // may stall: before the commit lock and the apply turn
        // Armed once the timestamp is assigned: from then on a failure or panic (encoding and
        // compressing the record included) must poison the store, or the unpublished timestamp
        // would hold visibility, and every later commit, back forever. Declared before the
        // commit lock's guard so that, unwinding, the lock is released before it poisons.
        let mut guard = FailOnUnwind { store: self, armed: false };
        let (ts, pending) = {
            let mut state = inner.oracle.lock_commit();
            // Checked under the commit lock: a lock granted after this check is taken by a
            // locker that then reads at or above this commit (see `Oracle::last_assigned`).
            let keys = batch.ops().iter().map(|op| op.key());
            if let Some(key) = inner.locks.first_held_by_other(owner, keys) {
                return Ok(Commit::LockedByOther(key.to_vec()));
            }
            if let Some(validation) = validation {
                inner.oracle.validate(&mut state, validation).inspect_err(|_| {
                    inner.counters.conflicts.fetch_add(1, Ordering::Relaxed);
                })?;
            }
            // Checked again under the lock, right before logging: a background checkpoint may
            // have failed since `check_writable`.
            if let Some(reason) = inner.engine.poisoned() {
                drop(state);
                return Err(self.fail(Error::Poisoned { reason }));
            }
            let ts = inner.oracle.assign(&mut state, batch.ops().iter().map(|op| op.key()));
            guard.armed = true;
            let record = record::encode(ts, batch);
            // Appended without I/O here: the write (and for Immediate the sync) happens below,
            // outside the lock, so concurrent committers share one write and one fsync and no
            // commit waits for another's I/O to take the lock.
            match inner.wal.append_deferred(&[&record], durability) {
                Ok(pending) => (ts, pending),
                Err(e) => {
                    drop(state);
                    return Err(guard.fail(e.into()));
                }
            }
        };
        // From here on the commit is in the log: any failure or panic poisons the store (and
        // the timestamp is never published, so no reader sees a half-applied commit).
        // Immediate: durable; Eventual: written (survives a process kill) before it returns.
        let lsn = match pending.wait() {
            Ok(lsn) => lsn,
            Err(e) => return Err(guard.fail(e.into())),
        };
        let stop = || inner.poison.is_poisoned();
        match inner.apply_order.in_turn(lsn, stop, || inner.engine.apply(batch, ts, lsn)) {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(guard.fail(e.into())),
            None => return Err(guard.fail(self.poisoned_error())),
        }
        guard.disarm();
        inner.oracle.publish(ts);
        inner.oracle.wait_visible(ts)?;
        inner.counters.commits.fetch_add(1, Ordering::Relaxed);
        Ok(Commit::Done(ts))
    }

    fn poisoned_error(&self) -> Error {
        let reason = self.inner.poison.reason().unwrap_or_default();
        Error::Poisoned { reason }
    }

    /// Poisons the store after a failure past the point of no return and returns the error.
    /// The failed commit's timestamp stays unpublished, so visibility stops below it; everyone
    /// waiting (for their turn to apply, or for visibility) is woken to see the poison.
    fn fail(&self, error: Error) -> Error {
        self.inner.poison.poison(&error);
        self.inner.oracle.wake_after_poison();
        self.inner.apply_order.wake_all();
        error
    }

    /// Fails if the store or its engine refuses writes. An engine poisoned by a failed
    /// background checkpoint poisons the store here, before any commit is logged.
    pub(crate) fn check_writable(&self) -> Result<()> {
        if let Some(reason) = self.inner.poison.reason() {
            return Err(Error::Poisoned { reason });
        }
        match self.inner.engine.poisoned() {
            Some(reason) => Err(self.fail(Error::Poisoned { reason })),
            None => Ok(()),
        }
    }

    /// Makes every commit so far durable: syncs the WAL, checkpoints the engine, and truncates
    /// the WAL below the engine's log floor (what it may replay from after falling back to its
    /// older durable state).
    pub fn checkpoint(&self) -> Result<()> {
        self.inner.wal.sync()?;
        let durable = self.inner.engine.checkpoint()?;
        self.inner.wal.truncate_before(durable.log_floor.next())?;
        Ok(())
    }

    /// Closes the store if this is its last handle: closes the log cleanly (`Wal::close`:
    /// synced, and ended with a `Synced` fragment that proves every record in it fsynced, so
    /// later damage in them is corruption, never taken for a torn tail). With other handles
    /// alive it only drops this one; the last of them stops the store when dropped.
    ///
    /// # Errors
    /// The log's sync or write failure.
    pub fn close(self) -> Result<()> {
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => {
                let StoreInner { engine, wal, .. } = inner;
                let closed = wal.close();
                drop(engine); // after the log: nothing it makes durable can outrun the log
                Ok(closed?)
            }
            Err(_) => Ok(()),
        }
    }

    /// Syncs the WAL: every commit acknowledged so far survives power loss.
    pub fn sync(&self) -> Result<()> {
        self.inner.wal.sync()?;
        Ok(())
    }

    /// The oldest timestamp a live reader may use (expired snapshots do not count).
    pub fn gc_horizon(&self) -> Timestamp {
        self.inner.oracle.horizon()
    }

    /// Asks the engine to drop versions no live reader can see; returns how many it dropped.
    pub fn collect_garbage(&self) -> Result<u64> {
        let horizon = self.inner.oracle.horizon_for_gc();
        Ok(self.inner.engine.collect_garbage(horizon)?)
    }

    /// A bounded, incremental [`TxnStore::collect_garbage`] for periodic maintenance (see
    /// `StorageEngine::collect_garbage_step`): cheap when there is no garbage.
    pub fn collect_garbage_step(&self) -> Result<u64> {
        let horizon = self.inner.oracle.horizon_for_gc();
        Ok(self.inner.engine.collect_garbage_step(horizon)?)
    }

    /// The engine under the store.
    pub fn engine(&self) -> &Arc<dyn StorageEngine> {
        &self.inner.engine
    }

    /// The write-ahead log.
    pub fn wal(&self) -> &Wal {
        &self.inner.wal
    }

    /// The store's options.
    pub fn options(&self) -> &TxnOptions {
        &self.inner.options
    }

    /// How many handles share this store: this one, its clones, and every transaction,
    /// snapshot and scan iterator made from it (each holds the store). The owner of a store
    /// uses it to refuse closing while any of them is alive.
    pub fn handle_count(&self) -> usize {
        Arc::strong_count(&self.inner)
    }

    /// Why writes are refused, if they are.
    pub fn poisoned(&self) -> Option<String> {
        self.inner.poison.reason()
    }

    /// Counters: commits, aborts, conflicts, live snapshots and the oldest one's age, locks.
    pub fn stats(&self) -> TxnStats {
        let counters = &self.inner.counters;
        let oldest = self.inner.oracle.oldest_snapshot();
        let committed = self.inner.oracle.committed_stats();
        TxnStats {
            commits: counters.commits.load(Ordering::Relaxed),
            aborts: counters.aborts.load(Ordering::Relaxed),
            conflicts: counters.conflicts.load(Ordering::Relaxed),
            deadlocks: counters.deadlocks.load(Ordering::Relaxed),
            active_transactions: counters.active.load(Ordering::Relaxed),
            live_snapshots: self.inner.oracle.live_snapshots() as u64,
            oldest_snapshot_ts: oldest.map(|(ts, _)| ts),
            oldest_snapshot_age: oldest.map_or(Duration::ZERO, |(_, since)| since.elapsed()),
            visible_ts: self.inner.oracle.visible(),
            gc_horizon: self.gc_horizon(),
            locks: self.inner.locks.stats(),
            conflict_table_keys: committed.keys as u64,
            conflict_table_examined: committed.examined,
        }
    }
}

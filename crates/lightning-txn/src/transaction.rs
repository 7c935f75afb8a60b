//! [`Transaction`]: buffered writes, reads from a snapshot (or the latest commit, under read
//! committed), optional pessimistic locks, validation and commit.

use std::{
    collections::{BTreeMap, HashSet, btree_map::Entry},
    ops::Bound,
    sync::atomic::Ordering,
};

use lightning_core_storage::{
    Timestamp,
    engine::{Direction, EngineBatch, KeyRange},
};
use lightning_wal::Durability;

use crate::{
    Error, Isolation, LockMode, Result, TxnId, TxnStore, merge::TxnIter, oracle::Validation,
    snapshot::SnapshotGuard, store::Commit,
};

/// A transaction. Writes are buffered until [`Transaction::commit`]; dropping an uncommitted
/// transaction rolls it back (releasing its locks and its snapshot).
#[derive(Debug)]
pub struct Transaction {
    store: TxnStore,
    id: TxnId,
    isolation: Isolation,
    start_ts: Timestamp,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    write_bytes: usize,
    reads: HashSet<Vec<u8>>,
    read_ranges: Vec<KeyRange>,
    locked: Vec<Vec<u8>>,
    finished: bool,
}

impl Transaction {
    pub(crate) fn new(
        store: TxnStore,
        id: TxnId,
        isolation: Isolation,
        start_ts: Timestamp,
    ) -> Self {
        Transaction {
            store,
            id,
            isolation,
            start_ts,
            writes: BTreeMap::new(),
            write_bytes: 0,
            reads: HashSet::new(),
            read_ranges: Vec::new(),
            locked: Vec::new(),
            finished: false,
        }
    }

    /// This transaction's id (as named in deadlock errors).
    pub fn id(&self) -> TxnId {
        self.id
    }

    /// Its isolation level.
    pub fn isolation(&self) -> Isolation {
        self.isolation
    }

    /// The snapshot timestamp it reads at (under read committed: the latest visible timestamp
    /// when it began; its reads see newer data, and it registers no snapshot).
    pub fn start_ts(&self) -> Timestamp {
        self.start_ts
    }

    /// A registration of the timestamp a scan reads at: this transaction's snapshot, or under
    /// read committed a new one at the latest visible timestamp (held by the scan only).
    fn read_view(&self) -> SnapshotGuard {
        match self.isolation {
            Isolation::ReadCommitted => SnapshotGuard::latest(&self.store),
            Isolation::Snapshot | Isolation::Serializable => {
                SnapshotGuard::at(&self.store, self.start_ts)
            }
        }
    }

    fn track_read(&mut self, key: &[u8]) -> Result<()> {
        if self.isolation == Isolation::Serializable && !self.reads.contains(key) {
            self.check_read_set_room()?;
            self.reads.insert(key.to_vec());
        }
        Ok(())
    }

    fn check_read_set_room(&self) -> Result<()> {
        let limit = self.store.inner.options.max_read_set_entries;
        if self.reads.len() + self.read_ranges.len() >= limit {
            return Err(Error::TransactionTooLarge { what: "read set entries", limit });
        }
        Ok(())
    }

    /// The value of `key` as this transaction sees it (its own writes first).
    pub fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(own) = self.writes.get(key) {
            return Ok(own.clone());
        }
        self.track_read(key)?;
        let inner = &self.store.inner;
        let version = match self.isolation {
            Isolation::ReadCommitted => {
                let read = inner.oracle.plain_read();
                inner.engine.get(key, read.timestamp())?
            }
            Isolation::Snapshot | Isolation::Serializable => {
                let version = inner.engine.get(key, self.start_ts)?;
                inner.oracle.check_snapshot(self.start_ts)?;
                version
            }
        };
        Ok(version.and_then(|v| v.value))
    }

    /// Locks `key` exclusively (waiting behind other holders, with deadlock detection and a
    /// timeout), then reads it. Under snapshot and serializable isolation, a key changed since
    /// this transaction began is a `Conflict` at once rather than at commit.
    pub fn get_for_update(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.lock(key, LockMode::Exclusive)?;
        if self.isolation == Isolation::ReadCommitted {
            // A plain write that checked the lock table before this lock was granted has its
            // timestamp already (it checks under the commit lock): read at or above it.
            let oracle = &self.store.inner.oracle;
            oracle.wait_visible(oracle.last_assigned())?;
        } else if !self.writes.contains_key(key) {
            // An expired snapshot is that, not a conflict.
            self.store.inner.oracle.check_snapshot(self.start_ts)?;
            let latest = self.store.inner.engine.get(key, Timestamp::MAX)?;
            let in_flight_or_newer = {
                let mut state = self.store.inner.oracle.lock_commit();
                let validation =
                    Validation { start_ts: self.start_ts, writes: vec![key], ..Default::default() };
                self.store.inner.oracle.validate(&mut state, &validation).is_err()
            };
            if in_flight_or_newer || latest.is_some_and(|v| v.commit_ts > self.start_ts) {
                return Err(Error::Conflict {
                    key: Some(key.to_vec()),
                    reason: "locked for update, but changed since this transaction began",
                });
            }
        }
        self.get(key)
    }

    /// Takes a lock on `key` in `mode` until the transaction ends.
    pub fn lock(&mut self, key: &[u8], mode: LockMode) -> Result<()> {
        let timeout = self.store.inner.options.lock_timeout;
        match self.store.inner.locks.lock(self.id, key, mode, timeout) {
            Ok(()) => {
                if !self.locked.iter().any(|k| k == key) {
                    self.locked.push(key.to_vec());
                }
                Ok(())
            }
            Err(e) => {
                if matches!(e, Error::Deadlock { .. }) {
                    self.store.inner.counters.deadlocks.fetch_add(1, Ordering::Relaxed);
                }
                Err(e)
            }
        }
    }

    /// Adds a write to the write set, within its limits. One search of the set per write (a
    /// bulk load buffers millions).
    fn buffer(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        let options = &self.store.inner.options;
        let added = key.len() + value.map_or(0, <[u8]>::len);
        let entries = self.writes.len();
        let too_many_bytes = |total: usize| {
            (total > options.max_write_set_bytes).then_some(Error::TransactionTooLarge {
                what: "write set bytes",
                limit: options.max_write_set_bytes,
            })
        };
        match self.writes.entry(key.to_vec()) {
            Entry::Occupied(mut slot) => {
                let replaced = key.len() + slot.get().as_ref().map_or(0, Vec::len);
                let new_total = self.write_bytes - replaced + added;
                if let Some(error) = too_many_bytes(new_total) {
                    return Err(error);
                }
                self.write_bytes = new_total;
                slot.insert(value.map(<[u8]>::to_vec));
            }
            Entry::Vacant(slot) => {
                if entries >= options.max_write_set_entries {
                    let limit = options.max_write_set_entries;
                    return Err(Error::TransactionTooLarge { what: "write set entries", limit });
                }
                let new_total = self.write_bytes + added;
                if let Some(error) = too_many_bytes(new_total) {
                    return Err(error);
                }
                self.write_bytes = new_total;
                slot.insert(value.map(<[u8]>::to_vec));
            }
        }
        Ok(())
    }

    /// Sets `key` to `value` when the transaction commits.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.buffer(key, Some(value))
    }

    /// Deletes `key` when the transaction commits.
    pub fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.buffer(key, None)
    }

    /// The entries of `range` as this transaction sees them, in `direction` order. Under
    /// serializable isolation the range joins the read set (phantoms are detected).
    pub fn scan(&mut self, range: KeyRange, direction: Direction) -> Result<TxnIter> {
        let view = self.read_view();
        self.scan_at(range, direction, view)
    }

    /// Two scans of `range`, forward and reverse, of the same view (under read committed, at
    /// the same timestamp): the two ends of one double-ended iterator.
    pub fn scan_both_ends(&mut self, range: KeyRange) -> Result<(TxnIter, TxnIter)> {
        let view = self.read_view();
        let other_end = SnapshotGuard::at(&self.store, view.timestamp());
        let forward = self.scan_at(range.clone(), Direction::Forward, view)?;
        let reverse = self.scan_at(range, Direction::Reverse, other_end)?;
        Ok((forward, reverse))
    }

    fn scan_at(
        &mut self,
        range: KeyRange,
        direction: Direction,
        view: SnapshotGuard,
    ) -> Result<TxnIter> {
        if self.isolation == Isolation::Serializable {
            self.check_read_set_room()?;
            self.read_ranges.push(range.clone());
        }
        let mut own: Vec<(Vec<u8>, Option<Vec<u8>>)> = if range.is_empty() {
            Vec::new()
        } else {
            let (start, end) = range.as_slices();
            self.writes
                .range::<[u8], (Bound<&[u8]>, Bound<&[u8]>)>((start, end))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        if direction == Direction::Reverse {
            own.reverse();
        }
        let engine = self.store.inner.engine.scan(range, view.timestamp(), direction)?;
        Ok(TxnIter::new(engine, own, direction).with_guard(view))
    }

    /// Commits with the store's default durability.
    pub fn commit(self) -> Result<Timestamp> {
        let durability = self.store.inner.options.durability;
        self.commit_with(durability)
    }

    /// Commits: validates, logs, applies and publishes the writes atomically; returns the
    /// commit timestamp. A read-only transaction commits without touching the log.
    pub fn commit_with(mut self, durability: Durability) -> Result<Timestamp> {
        let result = self.try_commit(durability);
        self.finish(result.is_ok());
        result
    }

    fn try_commit(&mut self, durability: Durability) -> Result<Timestamp> {
        if self.writes.is_empty() {
            return Ok(self.start_ts);
        }
        let mut batch = EngineBatch::new();
        for (key, value) in &self.writes {
            match value {
                Some(value) => batch.put(key.clone(), value.clone()),
                None => batch.delete(key.clone()),
            }
        }
        // Pessimistic locks others hold on keys we write are waited for (with deadlock
        // detection) and the commit retried, so a locker's update is never overwritten blindly.
        let store = self.store.clone();
        loop {
            match store.commit_batch(&batch, durability, self.validation().as_ref(), self.id)? {
                Commit::Done(ts) => return Ok(ts),
                Commit::LockedByOther(key) => self.lock(&key, LockMode::Exclusive)?,
            }
        }
    }

    /// What the commit must check, per isolation level.
    fn validation(&self) -> Option<Validation<'_>> {
        match self.isolation {
            Isolation::ReadCommitted => None,
            Isolation::Snapshot => Some(Validation {
                start_ts: self.start_ts,
                writes: self.writes.keys().map(Vec::as_slice).collect(),
                ..Default::default()
            }),
            Isolation::Serializable => Some(Validation {
                start_ts: self.start_ts,
                writes: self.writes.keys().map(Vec::as_slice).collect(),
                reads: self.reads.iter().map(Vec::as_slice).collect(),
                ranges: self.read_ranges.iter().collect(),
            }),
        }
    }

    /// Abandons the transaction: nothing it wrote is applied.
    pub fn rollback(mut self) {
        self.finish(false);
    }

    fn finish(&mut self, committed: bool) {
        if self.finished {
            return;
        }
        self.finished = true;
        let inner = &self.store.inner;
        inner.locks.release_all(self.id, self.locked.iter().map(Vec::as_slice));
        if self.isolation != Isolation::ReadCommitted {
            inner.oracle.release_snapshot(self.start_ts);
        }
        inner.counters.active.fetch_sub(1, Ordering::Relaxed);
        if !committed {
            inner.counters.aborts.fetch_add(1, Ordering::Relaxed);
        }
        // Reclaim the buffers now, not when the handle is dropped.
        self.writes = BTreeMap::new();
        self.reads = HashSet::new();
        self.read_ranges = Vec::new();
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        self.finish(false);
    }
}

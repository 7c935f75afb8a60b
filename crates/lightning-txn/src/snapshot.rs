//! [`Snapshot`]: a read-only view at one timestamp that lives until dropped.

use std::{ops::ControlFlow, sync::Arc};

use lightning_core_storage::{
    Timestamp,
    engine::{Direction, KeyRange},
};

use crate::{Result, TxnStore, merge::TxnIter};

/// A consistent read-only view of the store as of its timestamp. While it lives, the versions
/// it can see are kept (it holds the GC horizon down; `TxnStats` shows the oldest one's age).
#[derive(Debug)]
pub struct Snapshot {
    store: TxnStore,
    ts: Timestamp,
}

impl Snapshot {
    pub(crate) fn new(store: TxnStore, ts: Timestamp) -> Self {
        Snapshot { store, ts }
    }

    /// The timestamp this view reads at.
    pub fn timestamp(&self) -> Timestamp {
        self.ts
    }

    /// The value of `key` in this view.
    ///
    /// # Errors
    /// [`crate::Error::SnapshotTooOld`] once the snapshot is expired (see `TxnOptions`).
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let version = self.store.inner.engine.get(key, self.ts)?;
        self.store.inner.oracle.check_snapshot(self.ts)?;
        Ok(version.and_then(|v| v.value))
    }

    /// The entries of `range` in this view, in `direction` order.
    pub fn scan(&self, range: KeyRange, direction: Direction) -> Result<TxnIter> {
        let engine = self.store.inner.engine.scan(range, self.ts, direction)?;
        Ok(TxnIter::new(engine, Vec::new(), direction).with_guard(SnapshotGuard::new(self)))
    }

    /// [`Snapshot::scan`] for a shared snapshot: the iterator keeps the snapshot alive instead
    /// of registering a hold of its own on the timestamp (cheaper: no registry lock).
    pub fn scan_shared(self: &Arc<Self>, range: KeyRange, direction: Direction) -> Result<TxnIter> {
        let engine = self.store.inner.engine.scan(range, self.ts, direction)?;
        Ok(TxnIter::new(engine, Vec::new(), direction).with_snapshot(Arc::clone(self)))
    }

    /// Fails with `SnapshotTooOld` once this snapshot is expired (call after a read).
    pub(crate) fn check(&self) -> Result<()> {
        self.store.inner.oracle.check_snapshot(self.ts)
    }
}

/// What [`Snapshot::scan_with`] calls for each `(key, value)`: `Break` ends the scan.
pub type KeyValueVisitor<'v> = dyn FnMut(&[u8], &[u8]) -> ControlFlow<()> + 'v;

impl Snapshot {
    /// The entries of `range` in this view, in `direction` order, lent to `visit` as borrowed
    /// `(key, value)` slices until the range ends or `visit` returns `Break`: the copy-free
    /// read (see `StorageEngine::scan_with`). Deleted keys are skipped.
    ///
    /// `visit` runs with no engine lock held: it may read from or write to the store.
    pub fn scan_with(
        &self,
        range: &KeyRange,
        direction: Direction,
        visit: &mut KeyValueVisitor<'_>,
    ) -> Result<()> {
        let oracle = &self.store.inner.oracle;
        let mut expired = None;
        self.store.inner.engine.scan_with(range, self.ts, direction, &mut |entry| {
            // Each entry is checked after it is read and before it is lent out.
            if let Err(error) = oracle.check_snapshot(self.ts) {
                expired = Some(error);
                return ControlFlow::Break(());
            }
            match entry.value {
                Some(value) => visit(entry.key, value),
                None => ControlFlow::Continue(()),
            }
        })?;
        match expired {
            Some(error) => Err(error),
            None => oracle.check_snapshot(self.ts),
        }
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        self.store.inner.oracle.release_snapshot(self.ts);
    }
}

/// Keeps a snapshot's timestamp registered while an iterator from it is alive, so dropping the
/// `Snapshot` first cannot let GC remove versions the iterator still reads.
#[derive(Debug)]
pub(crate) struct SnapshotGuard {
    store: TxnStore,
    ts: Timestamp,
}

impl SnapshotGuard {
    pub(crate) fn new(snapshot: &Snapshot) -> Self {
        Self::at(&snapshot.store, snapshot.ts)
    }

    /// Registers one more hold on `ts`. REQUIRES: `ts` is already registered (held by a live
    /// snapshot or transaction), so GC cannot have passed it.
    pub(crate) fn at(store: &TxnStore, ts: Timestamp) -> Self {
        store.inner.oracle.retain_snapshot(ts);
        SnapshotGuard { store: store.clone(), ts }
    }

    /// Registers a new snapshot at the latest visible timestamp.
    pub(crate) fn latest(store: &TxnStore) -> Self {
        let ts = store.inner.oracle.register_snapshot();
        SnapshotGuard { store: store.clone(), ts }
    }

    /// The timestamp held.
    pub(crate) fn timestamp(&self) -> Timestamp {
        self.ts
    }

    /// Fails with `SnapshotTooOld` once the held timestamp is expired (call after a read).
    pub(crate) fn check(&self) -> Result<()> {
        self.store.inner.oracle.check_snapshot(self.ts)
    }
}

impl Drop for SnapshotGuard {
    fn drop(&mut self) {
        self.store.inner.oracle.release_snapshot(self.ts);
    }
}

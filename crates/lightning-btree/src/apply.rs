//! Applying a batch: limits, the in-flight LSN count, and the one write-locked section, which
//! normally does no I/O (the pages a batch needs are read under the read lock first).

use std::sync::atomic::Ordering;

use lightning_core_storage::{Lsn, Result as CoreResult, Timestamp, engine::EngineBatch};

use crate::{Error, MAX_KEY_LEN, MAX_VALUE_LEN, engine::Shared};

/// How often a batch releases the write lock to read missing pages under the read lock
/// before it reads them under the write lock.
const PRE_READ_ATTEMPTS: usize = 2;

impl Shared {
    /// Applies a batch atomically. REQUIRES: no tree lock held.
    pub(crate) fn apply(
        &self,
        batch: &EngineBatch,
        commit_ts: Timestamp,
        lsn: Lsn,
    ) -> CoreResult<()> {
        self.check_writable()?;
        for op in batch.ops() {
            if op.key().len() > MAX_KEY_LEN {
                return Err(Error::KeyTooLarge { len: op.key().len(), max: MAX_KEY_LEN }.into());
            }
            if let Some(value) = op.value().filter(|v| v.len() > MAX_VALUE_LEN) {
                return Err(Error::ValueTooLarge { len: value.len(), max: MAX_VALUE_LEN }.into());
            }
        }
        *self.inflight.lock().entry(lsn.0).or_default() += 1;
        let result = self.apply_locked(batch, commit_ts, lsn);
        let mut inflight = self.inflight.lock();
        if let Some(count) = inflight.get_mut(&lsn.0) {
            *count -= 1;
            if *count == 0 {
                inflight.remove(&lsn.0);
            }
        }
        drop(inflight);
        result?;
        self.signal.after_write(&self.options, self.dirty_bytes.load(Ordering::Relaxed));
        Ok(())
    }

    /// Applies `batch` under the tree write lock. The pages it needs are read first: under the
    /// write lock only if they are all in memory already; otherwise the lock is released, the
    /// missing pages are read (and pinned) under the read lock, where readers go on, and the
    /// write lock is taken again (a bounded number of times: a checkpoint or vacuum in between
    /// may move pages out again; the last attempt reads what is missing under the lock). An
    /// I/O or corruption error thus surfaces before the batch changes anything.
    fn apply_locked(&self, batch: &EngineBatch, commit_ts: Timestamp, lsn: Lsn) -> CoreResult<()> {
        let reads = || self.store.counters.pages_read.load(Ordering::Relaxed);
        let mut pinned = Vec::new();
        let mut state = self.tree.write();
        let mut locked_at = reads();
        for attempt in 0.. {
            pinned.clear();
            let mut resident = true;
            for op in batch.ops() {
                if !state.pin_path_resident(&self.store, op.key(), commit_ts.0, &mut pinned)? {
                    resident = false;
                    break;
                }
            }
            if resident {
                break;
            }
            if attempt == PRE_READ_ATTEMPTS {
                for op in batch.ops() {
                    state.pin_path(&self.store, op.key(), commit_ts.0, &mut pinned)?;
                }
                break;
            }
            drop(state);
            {
                let read = self.tree.read();
                for op in batch.ops() {
                    read.pin_path(&self.store, op.key(), commit_ts.0, &mut pinned)?;
                }
            }
            state = self.tree.write();
            locked_at = reads();
        }
        for op in batch.ops() {
            match state.insert_version(&self.store, op.key(), commit_ts.0, op.value()) {
                Ok(true) => state.garbage_ts = state.garbage_ts.max(commit_ts.0),
                Ok(false) => {}
                Err(e) => {
                    self.poison(&format!("a batch failed half-applied: {e}"));
                    return Err(e);
                }
            }
        }
        let under_lock = reads() - locked_at;
        self.store.counters.pages_read_under_write_lock.fetch_add(under_lock, Ordering::Relaxed);
        drop(pinned);
        if let Some(proposals) = self.store.take_pins() {
            state.hot.apply(&self.store, proposals);
        }
        state.applied_lsn = state.applied_lsn.max(lsn);
        state.max_commit_ts = state.max_commit_ts.max(commit_ts);
        self.dirty_bytes.store(state.dirty_bytes(self.store.geometry.page_size), Ordering::Relaxed);
        Ok(())
    }
}

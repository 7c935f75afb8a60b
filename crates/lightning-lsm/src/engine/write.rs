//! The write path: applying a batch to the active memtable, switching a full memtable to
//! immutable, and the back-pressure of `admit_write`.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use lightning_core_storage::{Lsn, Result, Timestamp, engine::EngineBatch};

use super::{Shared, state::SuperVersion};
use crate::memtable::Memtable;

/// Why `admit_write` holds a writer back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pressure {
    /// Admit at once.
    None,
    /// Admit after a short sleep.
    Slowdown,
    /// Wait until a flush or compaction makes room.
    Stop,
}

impl Shared {
    /// How much unflushed or uncompacted data holds writers back now.
    pub(crate) fn pressure(&self) -> Pressure {
        let sv = self.current();
        let immutables = sv.immutables.len();
        let l0 = sv.version.levels().first().map_or(0, Vec::len);
        let c = &self.options.compaction;
        if immutables >= self.options.max_immutable_memtables || l0 >= c.l0_stop {
            Pressure::Stop
        } else if l0 >= c.l0_slowdown
            || (self.options.max_immutable_memtables > 1
                && immutables + 1 >= self.options.max_immutable_memtables)
        {
            Pressure::Slowdown
        } else {
            Pressure::None
        }
    }

    /// Waits while writers must stop, sleeps once if they must slow down; counts both.
    pub(crate) fn admit_write(&self) -> Result<()> {
        let mut stopped = false;
        loop {
            self.check_writable()?;
            match self.pressure() {
                Pressure::None => return Ok(()),
                Pressure::Slowdown => {
                    self.counters.slowdowns.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_micros(self.options.slowdown_micros));
                    return self.check_writable();
                }
                Pressure::Stop => {
                    if !stopped {
                        stopped = true;
                        self.counters.stops.fetch_add(1, Ordering::Relaxed);
                    }
                    self.signal.work();
                    self.signal.wait_for_progress(Duration::from_millis(50));
                }
            }
        }
    }

    /// Inserts every write of `batch` at `commit_ts` into the active memtable, all at once for
    /// readers (under the apply gate), and switches the memtable if it is full.
    pub(crate) fn apply(&self, batch: &EngineBatch, commit_ts: Timestamp, lsn: Lsn) -> Result<()> {
        self.check_writable()?;
        let _gate = self.apply_gate.write();
        let sv = self.current();
        let memtable = &sv.active;
        for op in batch.ops() {
            memtable.insert(op.key(), commit_ts, op.value());
        }
        memtable.record_batch(lsn, commit_ts);
        self.counters.bytes_applied.fetch_add(batch.size_bytes() as u64, Ordering::Relaxed);
        if memtable.approximate_bytes() >= self.options.memtable_bytes {
            self.switch_memtable(&sv);
            self.signal.work();
        }
        Ok(())
    }

    /// Makes the active memtable of `seen` immutable and starts a new one, if `seen` is still
    /// current. REQUIRES: the apply gate held for writing (no insert in flight).
    pub(crate) fn switch_memtable(&self, seen: &Arc<SuperVersion>) {
        let mut state = self.state.write();
        if !Arc::ptr_eq(&state, seen) && !Arc::ptr_eq(&state.active, &seen.active) {
            return;
        }
        let id = self.next_memtable_id.fetch_add(1, Ordering::Relaxed);
        let mut immutables = Vec::with_capacity(state.immutables.len() + 1);
        immutables.push(Arc::clone(&state.active));
        immutables.extend(state.immutables.iter().cloned());
        *state = Arc::new(SuperVersion {
            active: Arc::new(Memtable::new(id)),
            immutables,
            version: Arc::clone(&state.version),
            tables: Arc::clone(&state.tables),
            // The levels did not change: the runs built for them stay valid.
            level_runs: state.level_runs.clone(),
        });
    }

    /// Raises the GC horizon compactions use (a lower one is ignored).
    pub(crate) fn raise_horizon(&self, horizon: Timestamp) {
        self.gc_horizon.fetch_max(horizon.0, Ordering::Relaxed);
    }
}

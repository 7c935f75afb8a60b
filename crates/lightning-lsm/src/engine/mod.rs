//! [`LsmEngine`]: the LSM tree behind the engine trait.
//!
//! Writes go into the active memtable; a full memtable becomes immutable and the flush thread
//! writes it to an L0 table, logs the version edit in the manifest (with the highest LSN now
//! in tables) and only then drops it. Compaction threads merge tables down the levels. Reads
//! take an `Arc` of the current `SuperVersion` (`state.rs`) and then hold no lock while they walk
//! it.
//!
//! Locks, in the order they may be taken: `flush_lock` (one flush at a time), then `manifest`
//! (serialises version edits and their installation), then `state` (the current super
//! version), then the leaves (`durable`, `busy`, `obsolete`, the worker signal). The
//! `apply_gate` comes before `state` and is never held with `flush_lock` or `manifest`: an
//! apply holds it for writing while it inserts a batch (and switches a full memtable), so a
//! memtable read under the gate for reading sees a batch all or nothing.
//!
//! Code map: `options` ([`LsmOptions`]), `state` (the super version), `open` (creation and recovery),
//! `write` (apply, memtable switch, back-pressure), `read` (get, scans), `flush`,
//! `worker` (background threads), `compact` (running compactions, GC), `check`, `stats`.

mod check;
mod compact;
mod flush;
mod open;
mod options;
mod read;
mod state;
mod stats;
mod worker;
mod write;

use std::{
    collections::HashSet,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    thread::JoinHandle,
};

use lightning_core_storage::{
    Lsn, Poison, Result, Timestamp,
    engine::{
        CheckReport, Direction, DurableState, EngineBatch, EngineIter, EngineStats, KeyRange,
        LogBarrier, StorageEngine, Version, Visitor,
    },
    vfs::Vfs,
};
use parking_lot::{Mutex, RwLock};

pub use options::LsmOptions;

use crate::{
    manifest::Manifest,
    sstable::{BlockCache, Table},
};
use state::SuperVersion;
use worker::Signal;

/// The longest key the engine accepts: a table entry holds key and value together in one block
/// of at most [`crate::sstable::MAX_ENTRY_BYTES`], so the value may take the rest. A write the
/// flush would refuse must be refused before it is logged (see `StorageEngine::max_key_len`).
pub const MAX_KEY_LEN: usize = 64 << 10;

/// Counters of the engine's work, for stats.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) bytes_applied: AtomicU64,
    pub(crate) bytes_flushed: AtomicU64,
    pub(crate) bytes_compacted: AtomicU64,
    pub(crate) flushes: AtomicU64,
    pub(crate) compactions: AtomicU64,
    pub(crate) trivial_moves: AtomicU64,
    pub(crate) versions_dropped: AtomicU64,
    pub(crate) slowdowns: AtomicU64,
    pub(crate) stops: AtomicU64,
}

/// Everything the engine handle and its background threads share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) vfs: Arc<dyn Vfs>,
    pub(crate) dir: PathBuf,
    pub(crate) options: LsmOptions,
    pub(crate) cache: Option<Arc<BlockCache>>,
    pub(crate) apply_gate: RwLock<()>,
    pub(crate) state: RwLock<Arc<SuperVersion>>,
    pub(crate) flush_lock: Mutex<()>,
    pub(crate) manifest: Mutex<Manifest>,
    pub(crate) next_file_number: AtomicU64,
    pub(crate) next_memtable_id: AtomicU64,
    pub(crate) durable: Mutex<DurableState>,
    pub(crate) poison: Poison,
    pub(crate) signal: Signal,
    /// The GC horizon compactions drop versions below.
    pub(crate) gc_horizon: AtomicU64,
    /// Versions dropped by background compactions not yet reported by a GC step.
    pub(crate) unreported_dropped: AtomicU64,
    /// Tables being compacted.
    pub(crate) busy: Mutex<HashSet<u64>>,
    /// Tables no longer in the current version, deleted once no snapshot holds them.
    pub(crate) obsolete: Mutex<Vec<Arc<Table>>>,
    pub(crate) counters: Counters,
    /// The log's barrier, called before a flush makes LSNs durable (the log first).
    pub(crate) log_barrier: Mutex<Option<Arc<dyn LogBarrier>>>,
}

impl Shared {
    /// The current sources.
    pub(crate) fn current(&self) -> Arc<SuperVersion> {
        Arc::clone(&self.state.read())
    }

    /// Fails if an earlier failure poisoned the engine for writes.
    pub(crate) fn check_writable(&self) -> Result<()> {
        self.poison.check()
    }

    /// Records `error` as the reason no more writes are accepted and wakes every waiter.
    pub(crate) fn fail(&self, error: &lightning_core_storage::Error) {
        if self.poison.poison(error) {
            tracing::error!(dir = %self.dir.display(), %error, "LSM engine poisoned");
        }
        self.signal.notify_all();
    }

    /// The path of table `file_number`.
    pub(crate) fn table_path(&self, file_number: u64) -> PathBuf {
        self.dir.join(crate::TableMeta::file_name(file_number))
    }

    /// The GC horizon.
    pub(crate) fn horizon(&self) -> Timestamp {
        Timestamp(self.gc_horizon.load(Ordering::Relaxed))
    }
}

/// The LSM-tree storage engine. `Send + Sync`; iterators keep what they read alive.
#[derive(Debug)]
pub struct LsmEngine {
    pub(crate) shared: Arc<Shared>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl LsmEngine {
    /// Makes every memtable a table and waits until they are flushed.
    pub fn flush(&self) -> Result<()> {
        self.shared.flush_all().map(|_| ())
    }

    /// Compacts every table overlapping `[start, end]` (inclusive, `None` unbounded) down to
    /// the last level, flushing the memtables first.
    pub fn compact_range(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<()> {
        self.shared.flush_all()?;
        self.shared.compact_range(start, end).map(|_| ())
    }

    /// Stops and joins the background threads. Nothing unflushed is written: what is durable
    /// is what the last flush made so (the log above replays the rest).
    fn stop_workers(&self) {
        self.shared.signal.stop();
        for handle in self.workers.lock().drain(..) {
            // A panicking worker poisoned the engine through its guard already.
            let _ = handle.join();
        }
        self.shared.delete_obsolete();
    }
}

impl Drop for LsmEngine {
    fn drop(&mut self) {
        self.stop_workers();
    }
}

impl StorageEngine for LsmEngine {
    fn name(&self) -> &'static str {
        "lsm"
    }

    fn get(&self, key: &[u8], read_ts: Timestamp) -> Result<Option<Version>> {
        self.shared.get(key, read_ts)
    }

    fn scan(
        &self,
        range: KeyRange,
        read_ts: Timestamp,
        direction: Direction,
    ) -> Result<EngineIter> {
        read::scan(&self.shared, range, read_ts, direction)
    }

    fn scan_with(
        &self,
        range: &KeyRange,
        read_ts: Timestamp,
        direction: Direction,
        visit: &mut Visitor<'_>,
    ) -> Result<()> {
        read::scan_with(&self.shared, range, read_ts, direction, visit)
    }

    fn admit_write(&self) -> Result<()> {
        self.shared.admit_write()
    }

    fn apply(&self, batch: &EngineBatch, commit_ts: Timestamp, lsn: Lsn) -> Result<()> {
        self.shared.apply(batch, commit_ts, lsn)
    }

    fn durable_state(&self) -> DurableState {
        *self.shared.durable.lock()
    }

    fn checkpoint(&self) -> Result<DurableState> {
        self.shared.flush_all()
    }

    fn collect_garbage(&self, horizon: Timestamp) -> Result<u64> {
        self.shared.raise_horizon(horizon);
        self.shared.flush_all()?;
        self.shared.compact_range(None, None)
    }

    fn collect_garbage_step(&self, horizon: Timestamp) -> Result<u64> {
        self.shared.check_writable()?;
        self.shared.raise_horizon(horizon);
        self.shared.signal.work();
        Ok(self.shared.unreported_dropped.swap(0, Ordering::Relaxed))
    }

    fn stats(&self) -> Result<EngineStats> {
        Ok(self.shared.stats())
    }

    fn poisoned(&self) -> Option<String> {
        self.shared.poison.reason()
    }

    fn check(&self) -> Result<CheckReport> {
        self.shared.check()
    }

    fn max_key_len(&self) -> usize {
        MAX_KEY_LEN
    }

    fn max_value_len(&self) -> usize {
        crate::sstable::MAX_ENTRY_BYTES - MAX_KEY_LEN
    }

    fn set_log_barrier(&self, barrier: Arc<dyn LogBarrier>) {
        *self.shared.log_barrier.lock() = Some(barrier);
    }
}

//! [`BTreeEngine`]: opening, the engine trait, checkpoints and shutdown.
//!
//! Lock order (take them in this order, never the reverse): the checkpoint lock, then the tree
//! lock, then the small mutexes (in-flight LSNs, durable state, poison, worker signal). The
//! page manager's and the cache's internal locks are leaves below all of them.

use std::{
    collections::BTreeMap,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    thread::JoinHandle,
};

use parking_lot::Mutex;

use lightning_core_storage::{
    Error as CoreError, Lsn, Poison, Result as CoreResult, Timestamp,
    engine::{
        Direction, DurableState, EngineBatch, EngineIter, EngineStats, KeyRange, LogBarrier,
        StorageEngine, Version, Visitor,
    },
    page_manager::PageManager,
    vfs::{Vfs, create_dir_durably},
};

use crate::{
    BTreeOptions, Error, MAX_KEY_LEN, MAX_VALUE_LEN, Result, checkpoint,
    lock::TreeLock,
    meta::TreeMeta,
    scan::{self, ScanIter, Versions},
    store::Store,
    tree::TreeState,
    vacuum::GcCursor,
    worker::{self, Signal},
};

/// The name of the engine's file inside its directory.
pub const FILE_NAME: &str = "btree.ldb";

/// Everything the engine handle, its iterators and its background thread share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) tree: TreeLock,
    /// Serialises checkpoints, bulk loads and checks.
    pub(crate) checkpoint_lock: Mutex<()>,
    pub(crate) durable: Mutex<DurableState>,
    /// LSNs of batches being applied (count per LSN).
    pub(crate) inflight: Mutex<BTreeMap<u64, usize>>,
    /// Set by a failed checkpoint, a batch failed half-applied or a panicking worker.
    poison: Poison,
    pub(crate) options: BTreeOptions,
    pub(crate) signal: Signal,
    /// The background vacuum: its horizon and position.
    pub(crate) gc: Mutex<(Timestamp, GcCursor)>,
    pub(crate) checkpoints: AtomicU64,
    pub(crate) dirty_bytes: AtomicU64,
    /// Called before a checkpoint's meta page makes its LSN durable: the log above must hold
    /// every record up to it first (installed by the transaction layer).
    log_barrier: Mutex<Option<Arc<dyn LogBarrier>>>,
}

/// The B+Tree storage engine. `Send + Sync`; share it with `Arc` (iterators keep what they
/// need alive on their own).
#[derive(Debug)]
pub struct BTreeEngine {
    pub(crate) shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl BTreeEngine {
    /// The longest key accepted, in bytes.
    pub const MAX_KEY_LEN: usize = MAX_KEY_LEN;
    /// The longest value accepted, in bytes.
    pub const MAX_VALUE_LEN: usize = MAX_VALUE_LEN;

    /// Opens the engine in `dir` (creating the directory and `btree.ldb` if missing) and starts
    /// its background checkpointer. For a new database, or a caller that cannot tell.
    pub fn open(vfs: Arc<dyn Vfs>, dir: &Path, options: BTreeOptions) -> Result<BTreeEngine> {
        Self::open_with(vfs, dir, options, true)
    }

    /// Opens the engine of an existing database in `dir`: a missing `btree.ldb` is
    /// [`CoreError::Corruption`], never replaced by an empty tree (the log above the engine
    /// would then replay onto nothing and the data below its truncation point be lost).
    pub fn open_existing(
        vfs: Arc<dyn Vfs>,
        dir: &Path,
        options: BTreeOptions,
    ) -> Result<BTreeEngine> {
        Self::open_with(vfs, dir, options, false)
    }

    fn open_with(
        vfs: Arc<dyn Vfs>,
        dir: &Path,
        options: BTreeOptions,
        create_if_missing: bool,
    ) -> Result<BTreeEngine> {
        options.validate()?;
        let path = dir.join(FILE_NAME);
        let format = options.format(options.page_size);
        let pm = if vfs.exists(&path)? {
            PageManager::open(&*vfs, &path, format)?
        } else if create_if_missing {
            create_dir_durably(&*vfs, dir)?;
            PageManager::create(&*vfs, &path, format)?
        } else {
            return Err(CoreError::corruption(
                "the engine file is missing from an existing database",
                path.display().to_string(),
            )
            .into());
        };
        let page_size = pm.format().page_size().bytes();
        if page_size < crate::MIN_PAGE_SIZE {
            return Err(Error::InvalidOptions(format!(
                "{} has {page_size}-byte pages; the B+Tree needs at least {}",
                path.display(),
                crate::MIN_PAGE_SIZE
            )));
        }
        let meta = TreeMeta::decode(&pm.user_meta(), &format!("{} meta page", path.display()))?;
        if let Some(m) = &meta {
            crate::node::validate::check_page_ref(m.root, pm.stats().page_count, "root").map_err(
                |what| CoreError::corruption(what, format!("{} meta page", path.display())),
            )?;
        }
        let page_size_bytes = pm.format().page_size().bytes() as u64;
        let max_hot = (options.cache_size_bytes / 2 / page_size_bytes).max(64);
        let store =
            Store::new(pm, options.cache_size_bytes.saturating_sub(max_hot * page_size_bytes))?;
        let durable = meta.map_or_else(DurableState::default, |m| DurableState {
            lsn: m.lsn,
            log_floor: older_checkpoint_lsn(&store.pm, m.lsn),
            max_commit_ts: m.max_commit_ts,
        });
        let tree = TreeState::open(store.format.clone(), meta, max_hot as usize);
        let dirty = tree.dirty_bytes(store.geometry.page_size);
        let shared = Arc::new(Shared {
            store,
            tree: TreeLock::new(tree),
            checkpoint_lock: Mutex::new(()),
            durable: Mutex::new(durable),
            inflight: Mutex::new(BTreeMap::new()),
            poison: Poison::new(),
            options,
            signal: Signal::default(),
            gc: Mutex::new((Timestamp::ZERO, GcCursor::finished())),
            checkpoints: AtomicU64::new(0),
            dirty_bytes: AtomicU64::new(dirty),
            log_barrier: Mutex::new(None),
        });
        let handle = worker::spawn(Arc::clone(&shared))?;
        Ok(BTreeEngine { shared, worker: Mutex::new(Some(handle)) })
    }

    /// Checkpoints, stops and joins the background thread, and closes the file.
    pub fn close(self) -> Result<()> {
        self.stop_worker();
        self.shared.checkpoint()?;
        Ok(())
    }

    fn stop_worker(&self) {
        if let Some(handle) = self.worker.lock().take() {
            self.shared.signal.stop();
            // A panicking worker already poisoned the engine; nothing more to report here.
            let _ = handle.join();
        }
    }

    /// Every version (not just the newest) of every key in `range`, in `direction` order:
    /// for integrity tools, dumps and tests.
    pub fn scan_versions(&self, range: KeyRange, direction: Direction) -> EngineIter {
        Box::new(ScanIter::new(
            Arc::clone(&self.shared),
            range,
            Timestamp::MAX,
            direction,
            Versions::All,
        ))
    }

    /// Tells the background thread to vacuum versions that no read at or above `horizon` can
    /// see (incrementally, a few leaves at a time), if anything written since its last
    /// completed pass may be garbage there. Lower horizons than the current are ignored.
    pub fn set_gc_horizon(&self, horizon: Timestamp) {
        // Zero leaves: only (re)start the pass; the background thread does the work.
        let _ = self.shared.vacuum_round(horizon, 0, true);
        self.shared.signal.wake();
    }
}

/// The checkpoint LSN of the older meta slot, the state open falls back to if the newest slot
/// is damaged: `Lsn::ZERO` for the empty tree of a new file, `lsn` (no fallback) if that slot
/// is not valid.
fn older_checkpoint_lsn(pm: &PageManager, lsn: Lsn) -> Lsn {
    match pm.older_user_meta().map(|user| TreeMeta::decode(&user, "older meta slot")) {
        Some(Ok(Some(older))) => older.lsn.min(lsn),
        Some(Ok(None)) => Lsn::ZERO,
        Some(Err(_)) | None => lsn,
    }
}

impl Drop for BTreeEngine {
    fn drop(&mut self) {
        self.stop_worker();
    }
}

impl Shared {
    /// Fails if an earlier failure poisoned the engine for writes.
    pub(crate) fn check_writable(&self) -> CoreResult<()> {
        self.poison.check()?;
        if let Some(reason) = self.store.pm.poisoned() {
            return Err(CoreError::Poisoned { reason });
        }
        Ok(())
    }

    /// Records why no more writes are accepted.
    pub(crate) fn poison(&self, why: &dyn std::fmt::Display) {
        self.poison.poison(why);
    }

    /// The LSN a checkpoint taken now may claim: the highest applied, but below any batch
    /// still being applied. REQUIRES: the tree lock.
    fn checkpoint_lsn(&self, state: &TreeState, durable: Lsn) -> Lsn {
        let applied = state.applied_lsn;
        let lsn = match self.inflight.lock().keys().next() {
            Some(&first) if first <= applied.0 => Lsn(first.saturating_sub(1)),
            _ => applied,
        };
        lsn.max(durable)
    }

    /// Applies the hot-set proposals readers queued. REQUIRES: no tree lock held.
    pub(crate) fn apply_pins(&self) {
        if let Some(proposals) = self.store.take_pins() {
            let mut state = self.tree.write();
            state.hot.apply(&self.store, proposals);
        }
    }

    /// Makes everything applied so far durable. REQUIRES: no tree lock held.
    pub(crate) fn checkpoint(&self) -> CoreResult<DurableState> {
        let _guard = self.checkpoint_lock.lock();
        self.checkpoint_locked()
    }

    /// [`Shared::checkpoint`]. REQUIRES: the checkpoint lock, no tree lock.
    pub(crate) fn checkpoint_locked(&self) -> CoreResult<DurableState> {
        self.check_writable()?;
        let durable = *self.durable.lock();
        let snapshot = {
            let mut state = self.tree.write();
            let lsn = self.checkpoint_lsn(&state, durable.lsn);
            if state.is_clean(lsn, durable.lsn, durable.max_commit_ts) {
                return Ok(durable);
            }
            state.snapshot(lsn).inspect_err(|e| self.poison(e))?
        };
        // The log first: a record applied but still buffered in the log (`Durability::None`)
        // must not become durable here only, or a crash that loses the log's tail would leave
        // the engine ahead of it (see "The log first" in the engine trait's docs). Without the
        // tree lock; a failure poisons like a failed write (the snapshot took the freed pages).
        let barrier = self.log_barrier.lock().clone();
        if let Some(barrier) = barrier {
            barrier.make_durable(snapshot.lsn()).inspect_err(|e| self.poison(e))?;
        }
        let written = checkpoint::write(&self.store, &snapshot).inspect_err(|e| self.poison(e))?;
        {
            let mut state = self.tree.write();
            state.swap(&self.store, snapshot, &written).inspect_err(|e| self.poison(e))?;
            self.dirty_bytes
                .store(state.dirty_bytes(self.store.geometry.page_size), Ordering::Relaxed);
        }
        // The checkpoint just replaced is now the older meta slot: open falls back to it if
        // the new one is damaged, so the log must keep what lies above it.
        let state = DurableState {
            lsn: written.meta.lsn,
            log_floor: durable.lsn,
            max_commit_ts: written.meta.max_commit_ts,
        };
        *self.durable.lock() = state;
        self.checkpoints.fetch_add(1, Ordering::Relaxed);
        self.signal.checkpointed();
        Ok(state)
    }

    /// Runs vacuum steps until the pass ends. REQUIRES: no tree lock held.
    pub(crate) fn collect_garbage(
        &self,
        horizon: Timestamp,
        gc: &mut GcCursor,
        max_steps: usize,
    ) -> CoreResult<u64> {
        let mut dropped = 0;
        for _ in 0..max_steps {
            if gc.done {
                break;
            }
            self.check_writable()?;
            let mut state = self.tree.write();
            dropped += state.gc_step(&self.store, horizon.0, gc)?;
            self.dirty_bytes
                .store(state.dirty_bytes(self.store.geometry.page_size), Ordering::Relaxed);
        }
        Ok(dropped)
    }
}

impl StorageEngine for BTreeEngine {
    fn max_key_len(&self) -> usize {
        MAX_KEY_LEN
    }

    fn max_value_len(&self) -> usize {
        MAX_VALUE_LEN
    }

    fn name(&self) -> &'static str {
        "btree"
    }

    fn get(&self, key: &[u8], read_ts: Timestamp) -> CoreResult<Option<Version>> {
        let found = self.shared.tree.read().get(&self.shared.store, key, read_ts.0);
        self.shared.apply_pins();
        found
    }

    fn scan(
        &self,
        range: KeyRange,
        read_ts: Timestamp,
        direction: Direction,
    ) -> CoreResult<EngineIter> {
        Ok(Box::new(ScanIter::new(
            Arc::clone(&self.shared),
            range,
            read_ts,
            direction,
            Versions::Visible,
        )))
    }

    fn scan_with(
        &self,
        range: &KeyRange,
        read_ts: Timestamp,
        direction: Direction,
        visit: &mut Visitor<'_>,
    ) -> CoreResult<()> {
        scan::visit::visit(&self.shared, range, read_ts, direction, visit)
    }

    fn admit_write(&self) -> CoreResult<()> {
        self.shared.check_writable()?;
        self.shared.signal.admit(&self.shared.options, &self.shared);
        Ok(())
    }

    fn apply(&self, batch: &EngineBatch, commit_ts: Timestamp, lsn: Lsn) -> CoreResult<()> {
        self.shared.apply(batch, commit_ts, lsn)
    }

    fn durable_state(&self) -> DurableState {
        *self.shared.durable.lock()
    }

    fn checkpoint(&self) -> CoreResult<DurableState> {
        self.shared.checkpoint()
    }

    fn set_log_barrier(&self, barrier: Arc<dyn LogBarrier>) {
        *self.shared.log_barrier.lock() = Some(barrier);
    }

    fn collect_garbage(&self, horizon: Timestamp) -> CoreResult<u64> {
        let mut gc = GcCursor::default();
        self.shared.collect_garbage(horizon, &mut gc, usize::MAX)
    }

    fn collect_garbage_step(&self, horizon: Timestamp) -> CoreResult<u64> {
        self.shared.store.counters.gc_requests.fetch_add(1, Ordering::Relaxed);
        let dropped = self.shared.vacuum_round(horizon, crate::vacuum::LEAVES_PER_CALL, true)?;
        if self.shared.gc.lock().1.wants_more() {
            // The background thread continues the pass, a bounded round at a time.
            self.shared.signal.wake();
        }
        Ok(dropped)
    }

    fn stats(&self) -> CoreResult<EngineStats> {
        Ok(self.btree_stats().engine_stats())
    }

    fn poisoned(&self) -> Option<String> {
        self.shared.check_writable().err().map(|e| e.to_string())
    }

    /// [`BTreeEngine::check`] as plain data: its corruption finding becomes the report's problem.
    fn check(&self) -> CoreResult<lightning_core_storage::engine::CheckReport> {
        use lightning_core_storage::engine::{CheckProblem, CheckReport};
        let mut report = CheckReport { engine: self.name().into(), ..CheckReport::default() };
        match BTreeEngine::check(self) {
            Ok(found) => {
                report.counts = [
                    ("height", found.height as u64),
                    ("versions", found.versions),
                    ("leaf_pages", found.leaf_pages),
                    ("branch_pages", found.branch_pages),
                    ("overflow_pages", found.overflow_pages),
                    ("dirty_nodes", found.dirty_nodes),
                    ("underfull_pages", found.underfull_pages),
                    ("file_pages", found.file_pages),
                    ("free_pages", found.free_pages),
                ]
                .map(|(name, count)| (name.to_string(), count))
                .to_vec();
            }
            Err(Error::Storage(CoreError::Corruption { what, location })) => {
                report.problems.push(CheckProblem { location, what });
            }
            Err(other) => return Err(other.into()),
        }
        Ok(report)
    }
}

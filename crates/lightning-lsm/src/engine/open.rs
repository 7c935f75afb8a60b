//! Creating and recovering an engine: the manifest is replayed, orphan files (tables and
//! manifests it does not name, left by a crash mid-flush or mid-compaction) are deleted, and
//! every table it names is opened — a missing one is corruption, never skipped.

use std::{
    collections::{HashMap, HashSet},
    path::Path,
    sync::{Arc, atomic::AtomicU64},
};

use lightning_core_storage::{Error, Result, Timestamp, engine::DurableState, vfs::Vfs};
use parking_lot::{Mutex, RwLock};

use super::{Counters, LsmEngine, LsmOptions, Shared, state::SuperVersion, worker};
use crate::{
    TableMeta,
    manifest::{Manifest, ManifestOptions, RecoveredState, orphan_files},
    memtable::Memtable,
    sstable::{BlockCache, Table},
};

/// The file naming the live manifest; its presence marks an existing engine directory.
pub const CURRENT: &str = "CURRENT";

/// Open rewrites the manifest as one snapshot when its log holds at least this many edits.
const REWRITE_MANIFEST_AT_OPEN: u64 = 64;

impl LsmEngine {
    /// Opens the engine in `dir`, creating the directory and an empty engine if there is none:
    /// for a new database, or a caller that cannot tell.
    pub fn open(vfs: Arc<dyn Vfs>, dir: &Path, options: LsmOptions) -> Result<LsmEngine> {
        Self::open_with(vfs, dir, options, true)
    }

    /// Opens the engine of an existing database in `dir`: a missing directory or `CURRENT` is
    /// [`Error::Corruption`], never replaced by an empty engine (the log above would replay
    /// onto nothing and whatever it had truncated be lost).
    pub fn open_existing(vfs: Arc<dyn Vfs>, dir: &Path, options: LsmOptions) -> Result<LsmEngine> {
        Self::open_with(vfs, dir, options, false)
    }

    fn open_with(
        vfs: Arc<dyn Vfs>,
        dir: &Path,
        options: LsmOptions,
        create_if_missing: bool,
    ) -> Result<LsmEngine> {
        options.validate()?;
        let current = dir.join(CURRENT);
        if !create_if_missing && !vfs.exists(&current)? {
            return Err(Error::corruption(
                "the LSM engine's CURRENT file is missing from an existing database",
                current.display().to_string(),
            ));
        }
        let levels = options.compaction.num_levels;
        let (mut manifest, state) = if create_if_missing {
            Manifest::open(Arc::clone(&vfs), dir, levels)?
        } else {
            Manifest::open_existing(Arc::clone(&vfs), dir, levels, ManifestOptions::default())?
        };
        if manifest.edits_in_log() >= REWRITE_MANIFEST_AT_OPEN {
            // Bounds the next open's replay (RocksDB starts a new manifest at every open).
            manifest.rewrite()?;
        }
        delete_orphans(&*vfs, dir, &state, &manifest.current_name())?;
        let cache = block_cache(options.cache_size_bytes)?;
        let tables = open_tables(&*vfs, dir, &state, cache.as_ref())?;
        let durable = DurableState {
            lsn: state.durable_lsn,
            log_floor: state.durable_lsn,
            max_commit_ts: state.max_commit_ts,
        };
        let sv = SuperVersion {
            active: Arc::new(Memtable::new(1)),
            immutables: Vec::new(),
            version: Arc::new(state.version.clone()),
            tables: Arc::new(tables),
            level_runs: std::sync::OnceLock::new(),
        };
        let shared = Arc::new(Shared {
            vfs,
            dir: dir.to_path_buf(),
            options,
            cache,
            apply_gate: RwLock::new(()),
            state: RwLock::new(Arc::new(sv)),
            flush_lock: Mutex::new(()),
            manifest: Mutex::new(manifest),
            next_file_number: AtomicU64::new(state.next_file_number),
            next_memtable_id: AtomicU64::new(2),
            durable: Mutex::new(durable),
            poison: lightning_core_storage::Poison::new(),
            signal: worker::Signal::default(),
            gc_horizon: AtomicU64::new(Timestamp::ZERO.0),
            unreported_dropped: AtomicU64::new(0),
            busy: Mutex::new(HashSet::new()),
            obsolete: Mutex::new(Vec::new()),
            counters: Counters::default(),
            log_barrier: Mutex::new(None),
        });
        let workers = worker::spawn(&shared)?;
        shared.signal.work();
        Ok(LsmEngine { shared, workers: Mutex::new(workers) })
    }
}

/// The shared data-block cache (`None` for 0 bytes).
fn block_cache(bytes: u64) -> Result<Option<Arc<BlockCache>>> {
    if bytes == 0 {
        return Ok(None);
    }
    let shards = if bytes < 1 << 20 { 1 } else { lightning_cache::DEFAULT_SHARDS };
    let config = lightning_cache::CacheConfig::new(usize::try_from(bytes).unwrap_or(usize::MAX))
        .with_shards(shards)
        .with_name("lsm-block");
    let cache = BlockCache::new(config)
        .map_err(|e| Error::InvalidInput(format!("LSM block cache: {e}")))?;
    Ok(Some(Arc::new(cache)))
}

/// Deletes what a crash left behind: tables and manifests the recovered state does not name.
fn delete_orphans(vfs: &dyn Vfs, dir: &Path, state: &RecoveredState, manifest: &str) -> Result<()> {
    let orphans = orphan_files(vfs, dir, state, manifest)?;
    for name in &orphans {
        tracing::info!(file = %name, dir = %dir.display(), "deleting an orphan file left by an interrupted flush or compaction");
        vfs.remove(&dir.join(name))?;
    }
    if !orphans.is_empty() {
        vfs.sync_dir(dir)?;
    }
    Ok(())
}

/// Opens every table the state names, checking each one's size against the manifest.
fn open_tables(
    vfs: &dyn Vfs,
    dir: &Path,
    state: &RecoveredState,
    cache: Option<&Arc<BlockCache>>,
) -> Result<HashMap<u64, Arc<Table>>> {
    let mut tables = HashMap::new();
    for meta in state.version.levels().iter().flatten() {
        let name = TableMeta::file_name(meta.file_number);
        let path = dir.join(&name);
        if !vfs.exists(&path)? {
            return Err(Error::corruption("a table the manifest names is missing", name));
        }
        let table = Table::open(vfs, &path, meta.file_number, cache.cloned())?;
        if table.file_size() != meta.file_size {
            return Err(Error::corruption(
                format!(
                    "the table is {} bytes, the manifest recorded {}",
                    table.file_size(),
                    meta.file_size
                ),
                name,
            ));
        }
        tables.insert(meta.file_number, table);
    }
    Ok(tables)
}

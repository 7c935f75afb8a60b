//! Opening a database directory: lock, format check, engine, log, recovery, catalog.
//!
//! Layout of a database directory:
//!
//! ```text
//! <dir>/LOCK      held (flock) while a process has the database open
//! <dir>/FORMAT    format version and engine (see format_file.rs)
//! <dir>/wal/      write-ahead-log segments (docs/format/wal.md)
//! <dir>/btree/    the B+Tree engine's files (docs/format/btree.md)
//! <dir>/lsm/      the LSM engine's tables and manifest (docs/format/sstable.md, manifest.md)
//! ```
//!
//! Creation order: `LOCK`, the engine's files, the log, then `FORMAT` (written under
//! `FORMAT.tmp`, synced and renamed). `FORMAT` is the commit point: a directory holding it is
//! an existing database whose engine file must be there (a missing one is corruption, never
//! recreated empty); a directory without it holding only what creation writes first is an
//! interrupted creation that opening finishes (nothing in it was ever acknowledged).

use std::{path::Path, sync::Arc};

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    engine::StorageEngine,
    vfs::{Vfs, VfsLock, parent_dir},
};
use lightning_lsm::{LsmEngine, LsmOptions};
use lightning_txn::{TxnOptions, TxnStore};
use lightning_wal::{Wal, WalOptions};

use crate::{Config, Engine, Error, Result, format_file, keyspace::Catalog};

pub(crate) struct Opened {
    pub store: TxnStore,
    pub lock: Box<dyn VfsLock>,
    pub catalog: Catalog,
}

pub(crate) fn open(vfs: Arc<dyn Vfs>, path: &Path, config: &Config) -> Result<Opened> {
    let exists = vfs.exists(path)?;
    if !exists {
        if !config.create_if_missing {
            return Err(Error::InvalidInput(format!("no database at {}", path.display())));
        }
        vfs.create_dir_all(path)?;
        vfs.sync_dir(&parent_dir(path))?;
    }
    // A held lock maps to `Error::Locked` naming the directory (see `From` in error.rs).
    let lock = vfs.lock(&path.join("LOCK"))?;
    let (engine_kind, is_new) = match format_file::read(vfs.as_ref(), path)? {
        Some(found) if found != config.engine => {
            return Err(Error::EngineMismatch {
                path: path.to_path_buf(),
                found,
                asked: config.engine,
            });
        }
        Some(found) => (found, false),
        None => {
            check_interrupted_creation(vfs.as_ref(), path)?;
            (config.engine, true)
        }
    };
    let engine: Arc<dyn StorageEngine> = match engine_kind {
        Engine::BTree => {
            let options = btree_options(config);
            let dir = path.join("btree");
            let engine = if is_new {
                BTreeEngine::open(vfs.clone(), &dir, options)
            } else {
                BTreeEngine::open_existing(vfs.clone(), &dir, options)
            };
            Arc::new(engine.map_err(lightning_core_storage::Error::from)?)
        }
        Engine::Lsm => {
            let options =
                LsmOptions { cache_size_bytes: config.cache_size_bytes, ..LsmOptions::default() };
            let dir = path.join("lsm");
            let engine = if is_new {
                LsmEngine::open(vfs.clone(), &dir, options)
            } else {
                LsmEngine::open_existing(vfs.clone(), &dir, options)
            };
            Arc::new(engine?)
        }
    };
    let wal_options = WalOptions {
        segment_size_bytes: config.wal_segment_size_bytes,
        sync_interval_ms: config.sync_interval.as_millis() as u64,
        ..WalOptions::default()
    };
    let wal = Wal::open(vfs.clone(), &path.join("wal"), wal_options)?;
    if is_new {
        // The commit point of creation: written only once the engine's file and the log exist,
        // so a directory with a FORMAT file always has both (see the module docs).
        format_file::write(vfs.as_ref(), path, engine_kind)?;
    }
    let txn_options = TxnOptions {
        durability: config.durability,
        lock_timeout: config.lock_timeout,
        max_snapshot_age: config.max_snapshot_age,
        max_retained_versions: config.max_retained_versions,
        ..TxnOptions::default()
    };
    let (store, report) = TxnStore::open(engine, wal, txn_options)?;
    if report.replayed_records > 0 {
        tracing::info!(
            records = report.replayed_records,
            "recovered commits from the write-ahead log"
        );
    }
    let catalog = Catalog::load(&store)?;
    Ok(Opened { store, lock, catalog })
}

/// The B+Tree's options for `config`. Time-based checkpoints belong to the database's
/// maintenance thread alone, every [`Config::checkpoint_interval`] (sync the log, checkpoint,
/// truncate the log: `TxnStore::checkpoint`), so the engine's own thread gets no timer of its
/// own; it still checkpoints when `checkpoint_dirty_bytes` are dirty (bounding memory, and
/// the write stall waits for it), syncing the log first through the log barrier.
fn btree_options(config: &Config) -> BTreeOptions {
    BTreeOptions {
        page_size: config.page_size,
        cache_size_bytes: config.cache_size_bytes,
        checkpoint_interval_ms: 0,
        ..BTreeOptions::default()
    }
}

/// What creating a database leaves in its directory before the FORMAT file is renamed into
/// place: a crash there leaves only these, and opening again finishes the creation.
const CREATION_LEFTOVERS: &[&str] = &["LOCK", "FORMAT.tmp", "btree", "lsm", "wal"];

/// Accepts a directory without a FORMAT file only if it is empty or holds what an interrupted
/// creation leaves ([`CREATION_LEFTOVERS`]); anything else is not ours to write into.
fn check_interrupted_creation(vfs: &dyn Vfs, path: &Path) -> Result<()> {
    let names = vfs.list(path)?;
    if let Some(stranger) = names.iter().find(|name| !CREATION_LEFTOVERS.contains(&name.as_str())) {
        return Err(Error::InvalidInput(format!(
            "{} is not empty (it holds {stranger}) and holds no Lightning DB FORMAT file",
            path.display()
        )));
    }
    let leftovers: Vec<&str> =
        names.iter().map(String::as_str).filter(|name| *name != "LOCK").collect();
    if !leftovers.is_empty() {
        tracing::warn!(
            path = %path.display(),
            ?leftovers,
            "finishing the creation of a database interrupted before its FORMAT file was written"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Regression: the engine kept its own 30 s checkpoint timer whatever
    /// `Config::checkpoint_interval` said (the setting reached only the maintenance thread).
    #[test]
    fn checkpoint_interval_does_not_reach_the_btree_checkpointer() {
        for interval in [Duration::from_millis(20), Duration::from_secs(3600)] {
            let options = btree_options(&Config::default().checkpoint_interval(interval));
            assert_eq!(options.checkpoint_interval_ms, 0, "no timer beside the database's");
            assert_eq!(
                options.checkpoint_dirty_bytes,
                BTreeOptions::default().checkpoint_dirty_bytes,
                "the dirty-bytes trigger stays"
            );
        }
    }
}

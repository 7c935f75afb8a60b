//! Opening a database directory: lock, format check, engine, log, recovery, catalog.
//!
//! Layout of a database directory:
//!
//! ```text
//! <dir>/LOCK      held (flock) while a process has the database open
//! <dir>/FORMAT    format version and engine (see format_file.rs)
//! <dir>/wal/      write-ahead-log segments (docs/format/wal.md)
//! <dir>/btree/    the B+Tree engine's files (docs/format/btree.md)
//! ```

use std::{path::Path, sync::Arc};

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    engine::StorageEngine,
    vfs::{Vfs, VfsLock, parent_dir},
};
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
        if config.engine == Engine::Lsm {
            return Err(lsm_unsupported());
        }
        vfs.create_dir_all(path)?;
        vfs.sync_dir(&parent_dir(path))?;
    }
    // A held lock maps to `Error::Locked` naming the directory (see `From` in error.rs).
    let lock = vfs.lock(&path.join("LOCK"))?;
    let engine_kind = match format_file::read(vfs.as_ref(), path)? {
        Some(found) if found != config.engine => {
            return Err(Error::EngineMismatch {
                path: path.to_path_buf(),
                found,
                asked: config.engine,
            });
        }
        Some(found) => found,
        None => {
            if !vfs.list(path)?.iter().all(|name| name == "LOCK") {
                return Err(Error::InvalidInput(format!(
                    "{} is not empty and holds no Lightning DB FORMAT file",
                    path.display()
                )));
            }
            if config.engine == Engine::Lsm {
                return Err(lsm_unsupported());
            }
            format_file::write(vfs.as_ref(), path, config.engine)?;
            config.engine
        }
    };
    let engine: Arc<dyn StorageEngine> = match engine_kind {
        Engine::BTree => {
            let options = BTreeOptions {
                page_size: config.page_size,
                cache_size_bytes: config.cache_size_bytes,
                ..BTreeOptions::default()
            };
            Arc::new(
                BTreeEngine::open(vfs.clone(), &path.join("btree"), options)
                    .map_err(lightning_core_storage::Error::from)?,
            )
        }
        Engine::Lsm => return Err(lsm_unsupported()),
    };
    let wal_options = WalOptions {
        segment_size_bytes: config.wal_segment_size_bytes,
        sync_interval_ms: config.sync_interval.as_millis() as u64,
        ..WalOptions::default()
    };
    let wal = Wal::open(vfs.clone(), &path.join("wal"), wal_options)?;
    let txn_options = TxnOptions {
        durability: config.durability,
        lock_timeout: config.lock_timeout,
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

fn lsm_unsupported() -> Error {
    Error::Unsupported(
        "the LSM engine (Engine::Lsm) is not available in this build yet; use Engine::BTree".into(),
    )
}

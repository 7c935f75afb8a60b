//! Shared test harness: a transactional store over each engine, reopenable after a crash.

#![allow(dead_code)]

pub mod hooked;

use std::{path::Path, sync::Arc};

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    engine::{MemoryEngine, StorageEngine},
    vfs::{FaultFs, PowerCut, Vfs},
};
use lightning_lsm::{LsmEngine, LsmOptions};
use lightning_txn::{TxnOptions, TxnStore};
use lightning_wal::{Wal, WalOptions};

/// The engines every transactional test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// The in-memory reference engine (its checkpoints survive a simulated crash only).
    Memory,
    /// The B+Tree engine, on the same in-memory file system as the log.
    BTree,
    /// The LSM engine, on the same in-memory file system as the log.
    Lsm,
}

pub const ENGINES: &[EngineKind] = &[EngineKind::Memory, EngineKind::BTree, EngineKind::Lsm];

/// A store on an in-memory file system, with what is needed to crash and reopen it.
pub struct Harness {
    pub kind: EngineKind,
    pub fs: FaultFs,
    memory: Option<MemoryEngine>,
    pub options: TxnOptions,
}

impl Harness {
    pub fn new(kind: EngineKind) -> Self {
        let fs = FaultFs::new();
        fs.create_dir_all(Path::new("/db/wal")).unwrap();
        fs.sync_dir(Path::new("/")).unwrap();
        fs.sync_dir(Path::new("/db")).unwrap();
        Harness { kind, fs, memory: None, options: TxnOptions::default() }
    }

    fn engine(&mut self, reopen: bool) -> Arc<dyn StorageEngine> {
        match self.kind {
            EngineKind::Memory => {
                let engine = match (&self.memory, reopen) {
                    (Some(old), true) => old.crash_and_reopen(),
                    _ => MemoryEngine::new(),
                };
                self.memory = Some(engine.clone());
                Arc::new(engine)
            }
            EngineKind::BTree => {
                let vfs: Arc<dyn Vfs> = Arc::new(self.fs.clone());
                let options = BTreeOptions { cache_size_bytes: 8 << 20, ..BTreeOptions::default() };
                let engine =
                    BTreeEngine::open(vfs, Path::new("/db/btree"), options.manual_checkpoints());
                Arc::new(engine.unwrap())
            }
            EngineKind::Lsm => {
                let vfs: Arc<dyn Vfs> = Arc::new(self.fs.clone());
                let options = LsmOptions { cache_size_bytes: 8 << 20, ..LsmOptions::default() };
                Arc::new(LsmEngine::open(vfs, Path::new("/db/lsm"), options).unwrap())
            }
        }
    }

    fn wal(&self) -> Wal {
        let vfs: Arc<dyn Vfs> = Arc::new(self.fs.clone());
        Wal::open(vfs, Path::new("/db/wal"), WalOptions::default()).unwrap()
    }

    /// Opens the store for the first time.
    pub fn open(&mut self) -> TxnStore {
        let engine = self.engine(false);
        TxnStore::open(engine, self.wal(), self.options.clone()).unwrap().0
    }

    /// Simulates a power cut (dropping everything unsynced) and reopens.
    pub fn crash_and_reopen(&mut self, store: TxnStore) -> TxnStore {
        drop(store);
        self.fs.power_cut(PowerCut::DropUnsynced);
        let engine = self.engine(true);
        TxnStore::open(engine, self.wal(), self.options.clone()).unwrap().0
    }
}

//! The engine conformance suite of `lightning-core-storage`, run against the B+Tree over the
//! fault-injecting file system (reopen after a clean drop, and after a power cut) and over
//! the real file system.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    engine::conformance::{self, EngineHarness},
    vfs::{FaultFs, PowerCut, StdFs, Vfs},
};

/// Engines over one `FaultFs`, each in its own directory.
struct Fault {
    fs: FaultFs,
    dir: PathBuf,
    engines: u32,
    power_cut: bool,
    options: BTreeOptions,
}

impl Fault {
    fn new(power_cut: bool, options: BTreeOptions) -> Self {
        Fault { fs: FaultFs::new(), dir: PathBuf::new(), engines: 0, power_cut, options }
    }

    fn open(&self) -> BTreeEngine {
        let vfs: Arc<dyn Vfs> = Arc::new(self.fs.clone());
        BTreeEngine::open(vfs, &self.dir, self.options.clone()).expect("open")
    }
}

impl EngineHarness for Fault {
    type Engine = BTreeEngine;

    fn create(&mut self) -> BTreeEngine {
        self.engines += 1;
        self.dir = Path::new("/db").join(self.engines.to_string());
        self.open()
    }

    fn reopen(&mut self, engine: BTreeEngine) -> BTreeEngine {
        drop(engine);
        if self.power_cut {
            self.fs.power_cut(PowerCut::DropUnsynced);
        }
        let engine = self.open();
        engine.check().expect("check after reopen");
        engine
    }
}

#[test]
fn suite_over_fault_fs_with_reopen() {
    conformance::run_all(&mut Fault::new(false, BTreeOptions::default().manual_checkpoints()));
}

#[test]
fn suite_over_fault_fs_with_power_cuts_and_background_checkpoints() {
    let options = BTreeOptions {
        checkpoint_dirty_bytes: 256 << 10,
        checkpoint_interval_ms: 20,
        cache_size_bytes: 4 << 20,
        ..BTreeOptions::default()
    };
    conformance::run_all(&mut Fault::new(true, options));
}

#[test]
fn longer_model_runs_over_fault_fs() {
    let mut harness = Fault::new(true, BTreeOptions::default().manual_checkpoints());
    for seed in 1..=3 {
        conformance::model_test(&mut harness, seed, 6_000);
    }
}

/// Engines over the real file system, each in its own temporary directory.
struct Std {
    root: tempfile::TempDir,
    dir: PathBuf,
    engines: u32,
}

impl EngineHarness for Std {
    type Engine = BTreeEngine;

    fn create(&mut self) -> BTreeEngine {
        self.engines += 1;
        self.dir = self.root.path().join(self.engines.to_string());
        BTreeEngine::open(Arc::new(StdFs::new()), &self.dir, BTreeOptions::default()).expect("open")
    }

    fn reopen(&mut self, engine: BTreeEngine) -> BTreeEngine {
        drop(engine);
        BTreeEngine::open(Arc::new(StdFs::new()), &self.dir, BTreeOptions::default())
            .expect("reopen")
    }
}

#[test]
fn suite_over_std_fs() {
    let root = tempfile::tempdir().expect("tempdir");
    conformance::run_all(&mut Std { root, dir: PathBuf::new(), engines: 0 });
}

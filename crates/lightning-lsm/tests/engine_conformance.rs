//! The engine conformance suite of `lightning-core-storage`, run against the LSM engine over
//! the fault-injecting file system (reopen after a clean drop, and after a power cut), with
//! default and with tiny memtables (so that the suite's writes are flushed and compacted while
//! it runs), and over the real file system.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use lightning_core_storage::{
    engine::{
        StorageEngine,
        conformance::{self, EngineHarness},
    },
    vfs::{FaultFs, PowerCut, StdFs, Vfs},
};
use lightning_lsm::{LsmEngine, LsmOptions};

/// Engines over one `FaultFs`, each in its own directory.
struct Fault {
    fs: FaultFs,
    dir: PathBuf,
    engines: u32,
    power_cut: bool,
    options: LsmOptions,
}

impl Fault {
    fn new(power_cut: bool, options: LsmOptions) -> Self {
        Fault { fs: FaultFs::new(), dir: PathBuf::new(), engines: 0, power_cut, options }
    }

    fn open(&self) -> LsmEngine {
        let vfs: Arc<dyn Vfs> = Arc::new(self.fs.clone());
        LsmEngine::open(vfs, &self.dir, self.options.clone()).expect("open")
    }
}

impl EngineHarness for Fault {
    type Engine = LsmEngine;

    fn create(&mut self) -> LsmEngine {
        self.engines += 1;
        self.dir = Path::new("/db").join(self.engines.to_string());
        self.open()
    }

    fn reopen(&mut self, engine: LsmEngine) -> LsmEngine {
        drop(engine);
        if self.power_cut {
            self.fs.power_cut(PowerCut::DropUnsynced);
        }
        let engine = self.open();
        let report = engine.check().expect("check after reopen");
        assert!(report.is_clean(), "check after reopen: {:?}", report.problems);
        engine
    }
}

#[test]
fn suite_over_fault_fs_with_reopen() {
    conformance::run_all(&mut Fault::new(false, LsmOptions::default()));
}

#[test]
fn suite_over_fault_fs_with_power_cuts_and_tiny_memtables() {
    conformance::run_all(&mut Fault::new(true, LsmOptions::tiny()));
}

#[test]
fn longer_model_runs_over_fault_fs_with_tiny_memtables() {
    let mut harness = Fault::new(true, LsmOptions::tiny());
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
    type Engine = LsmEngine;

    fn create(&mut self) -> LsmEngine {
        self.engines += 1;
        self.dir = self.root.path().join(self.engines.to_string());
        LsmEngine::open(Arc::new(StdFs::new()), &self.dir, LsmOptions::tiny()).expect("open")
    }

    fn reopen(&mut self, engine: LsmEngine) -> LsmEngine {
        drop(engine);
        LsmEngine::open_existing(Arc::new(StdFs::new()), &self.dir, LsmOptions::tiny())
            .expect("reopen")
    }
}

#[test]
fn suite_over_std_fs() {
    let root = tempfile::tempdir().expect("tempdir");
    conformance::run_all(&mut Std { root, dir: PathBuf::new(), engines: 0 });
}

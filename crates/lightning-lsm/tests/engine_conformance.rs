//! The engine conformance suite of `lightning-core-storage`, run against the LSM engine over
//! the fault-injecting file system (reopen after a clean drop, and after a power cut), with
//! default and with tiny memtables (so that the suite's writes are flushed and compacted while
//! it runs), and over the real file system.

use std::{path::Path, sync::Arc};

use lightning_core_storage::{
    engine::{
        StorageEngine,
        conformance::{self, DirHarness, EngineHarness, Opening},
    },
    vfs::{FaultFs, Vfs},
};
use lightning_lsm::{LsmEngine, LsmOptions};

/// Engines over one `FaultFs`, each in its own directory; every reopen must check clean.
fn fault(power_cut: bool, options: LsmOptions) -> impl EngineHarness<Engine = LsmEngine> {
    DirHarness::fault_fs(&FaultFs::new(), power_cut, move |vfs, dir: &Path, opening| {
        let engine = LsmEngine::open(vfs, dir, options.clone()).expect("open");
        if opening == Opening::Reopen {
            let report = engine.check().expect("check after reopen");
            assert!(report.is_clean(), "check after reopen: {:?}", report.problems);
        }
        engine
    })
}

#[test]
fn suite_over_fault_fs_with_reopen() {
    conformance::run_all(&mut fault(false, LsmOptions::default()));
}

#[test]
fn suite_over_fault_fs_with_power_cuts_and_tiny_memtables() {
    conformance::run_all(&mut fault(true, LsmOptions::tiny()));
}

#[test]
fn longer_model_runs_over_fault_fs_with_tiny_memtables() {
    let mut harness = fault(true, LsmOptions::tiny());
    for seed in 1..=3 {
        conformance::model_test(&mut harness, seed, 6_000);
    }
}

/// Engines over the real file system, each in its own temporary directory.
#[test]
fn suite_over_std_fs() {
    let root = tempfile::tempdir().expect("tempdir");
    let open = |vfs: Arc<dyn Vfs>, dir: &Path, opening| match opening {
        Opening::Create => LsmEngine::open(vfs, dir, LsmOptions::tiny()).expect("open"),
        Opening::Reopen => LsmEngine::open_existing(vfs, dir, LsmOptions::tiny()).expect("reopen"),
    };
    conformance::run_all(&mut DirHarness::std_fs(root.path(), open));
}

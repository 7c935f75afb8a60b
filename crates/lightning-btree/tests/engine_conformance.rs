//! The engine conformance suite of `lightning-core-storage`, run against the B+Tree over the
//! fault-injecting file system (reopen after a clean drop, and after a power cut) and over
//! the real file system.

use std::path::Path;

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    engine::conformance::{self, DirHarness, EngineHarness, Opening},
    vfs::FaultFs,
};

/// Engines over one `FaultFs`, each in its own directory; every reopen runs the check.
fn fault(power_cut: bool, options: BTreeOptions) -> impl EngineHarness<Engine = BTreeEngine> {
    DirHarness::fault_fs(&FaultFs::new(), power_cut, move |vfs, dir: &Path, opening| {
        let engine = BTreeEngine::open(vfs, dir, options.clone()).expect("open");
        if opening == Opening::Reopen {
            engine.check().expect("check after reopen");
        }
        engine
    })
}

#[test]
fn suite_over_fault_fs_with_reopen() {
    conformance::run_all(&mut fault(false, BTreeOptions::default().manual_checkpoints()));
}

#[test]
fn suite_over_fault_fs_with_power_cuts_and_background_checkpoints() {
    let options = BTreeOptions {
        checkpoint_dirty_bytes: 256 << 10,
        checkpoint_interval_ms: 20,
        cache_size_bytes: 4 << 20,
        ..BTreeOptions::default()
    };
    conformance::run_all(&mut fault(true, options));
}

#[test]
fn longer_model_runs_over_fault_fs() {
    let mut harness = fault(true, BTreeOptions::default().manual_checkpoints());
    for seed in 1..=3 {
        conformance::model_test(&mut harness, seed, 6_000);
    }
}

/// Engines over the real file system, each in its own temporary directory.
#[test]
fn suite_over_std_fs() {
    let root = tempfile::tempdir().expect("tempdir");
    let open =
        |vfs, dir: &Path, _| BTreeEngine::open(vfs, dir, BTreeOptions::default()).expect("open");
    conformance::run_all(&mut DirHarness::std_fs(root.path(), open));
}

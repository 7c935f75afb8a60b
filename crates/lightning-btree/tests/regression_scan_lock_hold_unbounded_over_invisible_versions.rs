//! Regression: a scan batch counted only the entries it handed out, so a scan over a range of
//! versions all invisible at its read timestamp walked the whole range under one hold of the
//! tree read lock (writers waited for all of it). Every hold now examines a bounded number of
//! entries, handed out or not; `scan_lock_holds` counts the holds.

use std::{path::Path, sync::Arc};

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine},
    vfs::{FaultFs, Vfs},
};

const KEYS: u64 = 100_000;
/// Far fewer holds than entries, far more than one: any bound of at most 10k entries per hold.
const MIN_HOLDS: u64 = KEYS / 10_000;

fn engine_with_invisible_versions() -> BTreeEngine {
    let vfs: Arc<dyn Vfs> = Arc::new(FaultFs::new());
    let engine = BTreeEngine::open(vfs, Path::new("/db"), BTreeOptions::default()).unwrap();
    for chunk in 0..KEYS / 5_000 {
        let mut batch = EngineBatch::new();
        for i in chunk * 5_000..(chunk + 1) * 5_000 {
            batch.put(format!("key{i:07}"), b"v".to_vec());
        }
        engine.apply(&batch, Timestamp(10 + chunk), Lsn(chunk + 1)).unwrap();
    }
    engine
}

fn holds(engine: &BTreeEngine) -> u64 {
    engine.btree_stats().scan_lock_holds
}

#[test]
fn a_scan_over_one_hundred_thousand_invisible_versions_releases_the_lock_between_batches() {
    let engine = engine_with_invisible_versions();
    for direction in [Direction::Forward, Direction::Reverse] {
        let before = holds(&engine);
        let mut lent = 0;
        engine
            .scan_with(&KeyRange::all(), Timestamp(5), direction, &mut |_| {
                lent += 1;
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(lent, 0, "nothing is visible at timestamp 5");
        let used = holds(&engine) - before;
        assert!(used >= MIN_HOLDS, "scan_with {direction:?}: {used} lock holds for {KEYS} entries");

        let before = holds(&engine);
        let scanned = engine.scan(KeyRange::all(), Timestamp(5), direction).unwrap().count();
        assert_eq!(scanned, 0);
        let used = holds(&engine) - before;
        assert!(used >= MIN_HOLDS, "scan {direction:?}: {used} lock holds for {KEYS} entries");
    }
    // The bound does not change what a scan sees.
    let visible = engine.scan(KeyRange::all(), Timestamp(1_000), Direction::Reverse).unwrap();
    assert_eq!(visible.count() as u64, KEYS);
    let mut forward = 0;
    engine
        .scan_with(&KeyRange::all(), Timestamp(1_000), Direction::Forward, &mut |_| {
            forward += 1;
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(forward, KEYS);
}

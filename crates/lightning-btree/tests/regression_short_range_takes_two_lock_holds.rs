//! Regression (issue #12, the `range` benchmark row 25% slower): a short range read walked
//! batches of 4 then 8 entries, each under its own hold of the tree read lock, and lent them
//! in a second pass, so `seek + 10 next` took the lock twice and walked 12 entries even inside
//! one leaf. The walk now takes the lock only to find a leaf and lends the leaf's entries in
//! one pass with no lock held: a short range inside one leaf takes the lock once.

use std::{ops::ControlFlow, path::Path, sync::Arc};

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine},
    vfs::{FaultFs, Vfs},
};

fn engine_with_keys(count: u64) -> BTreeEngine {
    let vfs: Arc<dyn Vfs> = Arc::new(FaultFs::new());
    let engine = BTreeEngine::open(vfs, Path::new("/db"), BTreeOptions::default()).unwrap();
    let mut batch = EngineBatch::new();
    for i in 0..count {
        batch.put(format!("key{i:05}"), format!("v{i}"));
    }
    engine.apply(&batch, Timestamp(10), Lsn(1)).unwrap();
    engine
}

fn holds(engine: &BTreeEngine) -> u64 {
    engine.btree_stats().scan_lock_holds
}

/// Lock holds taken by `seek + 10 next` from `start` through `scan_with`, and through the
/// owning iterator.
fn holds_of_ten(engine: &BTreeEngine, start: &str, direction: Direction) -> (u64, u64) {
    let range = match direction {
        Direction::Forward => KeyRange::new(start.as_bytes()..),
        Direction::Reverse => KeyRange::new(..=start.as_bytes()),
    };
    let before = holds(engine);
    let mut lent = 0;
    engine
        .scan_with(&range, Timestamp(10), direction, &mut |_| {
            lent += 1;
            if lent < 10 { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
        })
        .unwrap();
    assert_eq!(lent, 10);
    let visiting = holds(engine) - before;
    let before = holds(engine);
    let taken = engine.scan(range, Timestamp(10), direction).unwrap().take(10).count();
    assert_eq!(taken, 10);
    (visiting, holds(engine) - before)
}

#[test]
fn a_short_range_inside_one_leaf_takes_the_tree_lock_once() {
    let engine = engine_with_keys(50);
    assert_eq!(engine.btree_stats().leaf_pages, 1, "all the keys are in one leaf");
    let starts = [
        (Direction::Forward, "key00000"),
        (Direction::Forward, "key00025"),
        (Direction::Reverse, "key00049"),
        (Direction::Reverse, "key00030"),
    ];
    for (direction, start) in starts {
        let (visiting, iterating) = holds_of_ten(&engine, start, direction);
        assert_eq!(visiting, 1, "scan_with {direction:?} from {start}: lock holds");
        assert_eq!(iterating, 1, "scan {direction:?} from {start}: lock holds");
    }
}

#[test]
fn short_ranges_across_many_leaves_take_the_lock_about_once_each() {
    let engine = engine_with_keys(20_000);
    let leaves = engine.btree_stats().leaf_pages;
    assert!(leaves > 50, "{leaves} leaves");
    let scans = 200u64;
    for direction in [Direction::Forward, Direction::Reverse] {
        let (mut visiting, mut iterating) = (0, 0);
        for n in 0..scans {
            let start = format!("key{:05}", 10 + n * 97);
            let (v, i) = holds_of_ten(&engine, &start, direction);
            // One hold to find the leaf, one more only where the ten cross into the next.
            assert!(v <= 2 && i <= 2, "{direction:?} from {start}: {v} and {i} holds");
            visiting += v;
            iterating += i;
        }
        // Entries per leaf are far more than ten: most short ranges stay in one leaf.
        let most = scans + scans / 2;
        assert!(visiting < most, "scan_with {direction:?}: {visiting} holds for {scans} ranges");
        assert!(iterating < most, "scan {direction:?}: {iterating} holds for {scans} ranges");
    }
}

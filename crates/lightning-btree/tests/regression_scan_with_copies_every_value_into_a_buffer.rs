//! Regression: `scan_with` copied every entry (key and value) into a buffer under the tree
//! read lock and lent from the buffer, which cost about a quarter of a short range read. It now
//! keeps the `Arc`s of the leaves it read and lends values straight from them once the lock is
//! released (a leaf never changes under a holder). Observable: two scans of the same unchanged
//! key, one inside the other's closure (allowed: the closure runs with no lock held), are lent
//! the very same value bytes — two buffers would give two addresses.

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
        batch.put(format!("key{i:05}"), vec![i as u8; 100]);
    }
    engine.apply(&batch, Timestamp(10), Lsn(1)).unwrap();
    engine
}

/// The address of the value of the first entry of `range` that `scan_with` lends, and (from a
/// second `scan_with` of the same range made inside the first one's closure) the address the
/// nested scan lends for it.
fn outer_and_nested_value_addresses(
    engine: &BTreeEngine,
    range: &KeyRange,
    direction: Direction,
) -> (usize, usize) {
    let mut addresses = None;
    engine
        .scan_with(range, Timestamp(20), direction, &mut |outer| {
            let outer_value = outer.value.expect("a live key");
            let mut nested = None;
            engine
                .scan_with(range, Timestamp(20), direction, &mut |inner| {
                    assert_eq!(inner.key, outer.key);
                    assert_eq!(inner.value, Some(outer_value));
                    nested = Some(inner.value.expect("a live key").as_ptr() as usize);
                    ControlFlow::Break(())
                })
                .unwrap();
            addresses = Some((outer_value.as_ptr() as usize, nested.expect("one entry lent")));
            ControlFlow::Break(())
        })
        .unwrap();
    addresses.expect("one entry lent")
}

#[test]
fn scan_with_lends_values_from_the_leaf_instead_of_a_copy() {
    let engine = engine_with_keys(2_000);
    let ranges = [KeyRange::all(), KeyRange::new(b"key01000".as_slice()..b"key01500".as_slice())];
    for range in &ranges {
        for direction in [Direction::Forward, Direction::Reverse] {
            let (outer, nested) = outer_and_nested_value_addresses(&engine, range, direction);
            assert_eq!(outer, nested, "{direction:?} {range:?}: the value was copied");
        }
    }
}

#[test]
fn scan_with_still_lends_every_visible_entry_in_order() {
    let engine = engine_with_keys(2_000);
    let mut batch = EngineBatch::new();
    for i in (0..2_000u64).step_by(3) {
        batch.delete(format!("key{i:05}"));
    }
    engine.apply(&batch, Timestamp(15), Lsn(2)).unwrap();
    for (ts, expected) in [(Timestamp(12), 2_000), (Timestamp(20), 2_000 - 667)] {
        let mut keys = Vec::new();
        engine
            .scan_with(&KeyRange::all(), ts, Direction::Forward, &mut |entry| {
                if let Some(value) = entry.value {
                    let i: u64 = std::str::from_utf8(&entry.key[3..]).unwrap().parse().unwrap();
                    assert_eq!(value, vec![i as u8; 100].as_slice());
                    keys.push(i);
                }
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(keys.len(), expected, "at {ts:?}");
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "in key order at {ts:?}");
    }
}

//! Regression (issue #12): a long-lived snapshot made every commit O(n). With the GC horizon
//! pinned, the oracle ran a full `retain` over its committed-key table under the commit lock
//! on every commit once the table passed 16 Ki keys; nothing bounded how long a snapshot could
//! hold the horizon; and read-committed transactions pinned it too. Now pruning examines a
//! bounded number of entries per commit (counted by `TxnStats::conflict_table_examined`), a
//! snapshot past `max_retained_versions` / `max_snapshot_age` is expired with `SnapshotTooOld`,
//! and read-committed transactions hold nothing.

mod common;

use std::time::Duration;

use common::{ENGINES, EngineKind, Harness};
use lightning_core_storage::engine::{Direction, EngineBatch, KeyRange};
use lightning_txn::{Error, Isolation, SnapshotBound, TxnStore};
use lightning_wal::Durability;

/// Distinct keys written while the snapshot is held: past the old 16 Ki pruning threshold.
const PINNED_WRITES: u64 = 20_000;

fn put(store: &TxnStore, key: u64) {
    let mut batch = EngineBatch::new();
    batch.put(key.to_be_bytes().to_vec(), b"v".to_vec());
    store.write(batch, Durability::None).unwrap();
}

#[test]
fn pruning_work_per_commit_stays_bounded_while_a_snapshot_is_held() {
    let mut harness = Harness::new(EngineKind::Memory);
    let store = harness.open();
    let snapshot = store.snapshot();
    for key in 0..PINNED_WRITES {
        put(&store, key);
    }
    let before = store.stats();
    assert_eq!(before.conflict_table_keys, PINNED_WRITES, "the held snapshot keeps them");
    let commits = 1_000u64;
    for key in PINNED_WRITES..PINNED_WRITES + commits {
        put(&store, key);
    }
    let examined = store.stats().conflict_table_examined - before.conflict_table_examined;
    // Each commit may examine twice what it writes plus a small step (see committed.rs);
    // a full pass over the table would be ~20,000 per commit.
    assert!(examined <= commits * 66, "pruning examined {examined} entries in {commits} commits");
    assert_eq!(snapshot.get(&0u64.to_be_bytes()).unwrap(), None, "the snapshot still reads");
    drop(snapshot);
    for key in 0..1_000 {
        put(&store, key);
    }
    let after = store.stats();
    assert!(after.conflict_table_keys < 100, "released: the table shrinks back ({after:?})");
}

#[test]
fn a_snapshot_past_max_retained_versions_is_too_old_and_frees_the_horizon() {
    for &engine in ENGINES {
        let mut harness = Harness::new(engine);
        harness.options.max_retained_versions = 50;
        let store = harness.open();
        put(&store, 1_000);
        let old = store.snapshot();
        let mut tx = store.begin(Isolation::Snapshot).unwrap();
        tx.put(b"t", b"1").unwrap();
        let mut locker = store.begin(Isolation::Serializable).unwrap();
        assert_eq!(old.get(&1_000u64.to_be_bytes()).unwrap().unwrap(), b"v");
        for key in 0..40 {
            put(&store, key);
        }
        assert_eq!(store.gc_horizon(), old.timestamp(), "within the bound: still held");
        for key in 40..60 {
            put(&store, key);
        }
        assert!(store.gc_horizon() > old.timestamp(), "past the bound: the horizon moves on");
        let error = old.get(&1_000u64.to_be_bytes()).unwrap_err();
        match &error {
            Error::SnapshotTooOld { snapshot, bound, .. } => {
                assert_eq!(*snapshot, old.timestamp());
                assert_eq!(*bound, SnapshotBound::RetainedVersions { limit: 50 });
            }
            other => panic!("expected SnapshotTooOld, got {other:?}"),
        }
        let message = error.to_string();
        assert!(message.contains("max_retained_versions (50)"), "{message}");
        let scan = old.scan(KeyRange::all(), Direction::Forward).unwrap().next();
        assert!(matches!(scan, Some(Err(Error::SnapshotTooOld { .. }))), "{scan:?}");
        let locked = locker.get_for_update(b"z").unwrap_err();
        assert!(matches!(locked, Error::SnapshotTooOld { .. }), "not a conflict: {locked:?}");
        let commit = tx.commit().unwrap_err();
        assert!(matches!(commit, Error::SnapshotTooOld { .. }), "{commit:?}");
        let fresh = store.snapshot();
        assert_eq!(fresh.get(&1_000u64.to_be_bytes()).unwrap().unwrap(), b"v");
        store.collect_garbage().unwrap();
        assert_eq!(fresh.get(&59u64.to_be_bytes()).unwrap().unwrap(), b"v");
    }
}

#[test]
fn a_snapshot_past_max_snapshot_age_is_too_old() {
    let mut harness = Harness::new(EngineKind::Memory);
    harness.options.max_snapshot_age = Some(Duration::from_millis(1));
    let store = harness.open();
    put(&store, 1);
    let old = store.snapshot();
    put(&store, 2);
    std::thread::sleep(Duration::from_millis(5));
    // Garbage collection applies the age bound even when nothing commits.
    store.collect_garbage().unwrap();
    let error = old.get(&1u64.to_be_bytes()).unwrap_err();
    assert!(
        matches!(error, Error::SnapshotTooOld { bound: SnapshotBound::Age { .. }, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("max_snapshot_age"), "{error}");
    assert_eq!(store.gc_horizon(), store.stats().visible_ts);
}

#[test]
fn a_read_committed_transaction_does_not_hold_the_gc_horizon() {
    for &engine in ENGINES {
        let mut harness = Harness::new(engine);
        let store = harness.open();
        put(&store, 1);
        let mut rc = store.begin(Isolation::ReadCommitted).unwrap();
        assert_eq!(rc.get(&1u64.to_be_bytes()).unwrap().unwrap(), b"v");
        let held_at = store.gc_horizon();
        for key in 2..10 {
            put(&store, key);
        }
        assert!(store.gc_horizon() > held_at, "the horizon advances past the open RC txn");
        assert_eq!(store.gc_horizon(), store.stats().visible_ts);
        assert_eq!(store.stats().live_snapshots, 0);
        assert_eq!(rc.get(&9u64.to_be_bytes()).unwrap().unwrap(), b"v", "it reads the latest");
        let seen = rc.scan(KeyRange::all(), Direction::Forward).unwrap().count();
        assert_eq!(seen, 9);
        rc.put(b"x", b"y").unwrap();
        rc.commit().unwrap();
        assert_eq!(store.get(b"x").unwrap().unwrap(), b"y");
    }
}

//! Vacuum drops exactly the versions no read at or above the horizon can see; the pages it
//! empties are merged or refilled so that no non-root node stays under a quarter full; the
//! background thread vacuums incrementally once told the horizon.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine, VersionedEntry},
    vfs::{FaultFs, Vfs},
};

const KEYS: u64 = 20_000;

fn open(options: BTreeOptions) -> BTreeEngine {
    let vfs: Arc<dyn Vfs> = Arc::new(FaultFs::new());
    BTreeEngine::open(vfs, Path::new("/db"), options).expect("open")
}

/// Three versions per key at timestamps 1, 2, 3; the third is a tombstone for 9 keys in 10.
fn fill(engine: &BTreeEngine) {
    for ts in 1..=3u64 {
        let mut batch = EngineBatch::new();
        for i in 0..KEYS {
            let key = format!("key{i:06}");
            if ts == 3 && i % 10 != 0 {
                batch.delete(key);
            } else {
                batch.put(key, vec![ts as u8; 40 + (i % 60) as usize]);
            }
        }
        engine.apply(&batch, Timestamp(ts), Lsn(ts)).expect("apply");
    }
}

fn visible(engine: &BTreeEngine, at: u64) -> Vec<VersionedEntry> {
    engine
        .scan(KeyRange::all(), Timestamp(at), Direction::Forward)
        .expect("scan")
        .collect::<Result<Vec<_>, _>>()
        .expect("entry")
        .into_iter()
        .filter(|e| e.value.is_some())
        .collect()
}

#[test]
fn vacuum_keeps_what_reads_see_and_merges_emptied_pages() {
    let engine = open(BTreeOptions::default().manual_checkpoints());
    fill(&engine);
    engine.checkpoint().expect("checkpoint");
    let before = engine.btree_stats();
    let (at2, at3) = (visible(&engine, 2), visible(&engine, 3));
    // Horizon 2: each key keeps its version 2 (and version 3); version 1 goes.
    assert_eq!(engine.collect_garbage(Timestamp(2)).expect("gc"), KEYS);
    assert_eq!(visible(&engine, 2), at2);
    assert_eq!(visible(&engine, 3), at3);
    // Horizon 3: tombstones at the horizon go with everything older.
    let dropped = engine.collect_garbage(Timestamp(3)).expect("gc");
    assert_eq!(dropped, KEYS / 10 + 2 * (KEYS - KEYS / 10));
    assert_eq!(visible(&engine, 3), at3);
    assert_eq!(engine.btree_stats().versions, KEYS / 10);
    engine.checkpoint().expect("checkpoint");
    let after = engine.btree_stats();
    let report = engine.check().expect("check");
    assert_eq!(report.underfull_pages, 0, "emptied pages were merged: {report:?}");
    assert!(
        after.leaf_pages * 10 < before.leaf_pages,
        "{} -> {} leaves",
        before.leaf_pages,
        after.leaf_pages
    );
    assert!(after.fill_factor > 0.3, "{after:?}");
    assert!(after.free_pages > before.leaf_pages / 2, "freed pages are reusable: {after:?}");
    // The freed pages are reused rather than growing the file. A checkpoint holds the pages it
    // freed for the older meta slot until the next checkpoint, so one small commit first.
    let pages = after.file_pages;
    let mut release = EngineBatch::new();
    release.put("release", "held pages");
    engine.apply(&release, Timestamp(4), Lsn(4)).expect("apply");
    engine.checkpoint().expect("checkpoint");
    fill(&engine);
    engine.checkpoint().expect("checkpoint");
    assert!(engine.btree_stats().file_pages < pages + pages / 2, "free pages were reused");
    engine.check().expect("check after refill");
}

#[test]
fn the_background_thread_vacuums_once_told_the_horizon() {
    let options = BTreeOptions { checkpoint_interval_ms: 20, ..BTreeOptions::default() };
    let engine = open(options);
    fill(&engine);
    let at3 = visible(&engine, 3);
    engine.set_gc_horizon(Timestamp(3));
    engine.set_gc_horizon(Timestamp(1)); // a lower horizon is ignored
    let deadline = Instant::now() + Duration::from_secs(60);
    while engine.btree_stats().versions > KEYS / 10 {
        assert!(Instant::now() < deadline, "background vacuum did not finish");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(visible(&engine, 3), at3);
    while engine.btree_stats().dirty_nodes > 0 {
        assert!(Instant::now() < deadline, "background checkpoint did not run");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(engine.durable_state().lsn, Lsn(3), "the time trigger checkpointed");
    assert_eq!(engine.check().expect("check").underfull_pages, 0);
    engine.close().expect("close");
}

//! What the LSM engine promises beyond the conformance suite: back-pressure that stops writers
//! while flushes are behind (and counts it), scans whose visitor may call back into the
//! engine, garbage collection through compaction, filters that spare point reads, and the
//! stats that report all of it.

mod common;

use std::{ops::ControlFlow, sync::Arc};

use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine},
    vfs::FaultFs,
};
use lightning_lsm::LsmOptions;

use common::{put, stat};

#[test]
fn writers_stop_in_admit_write_while_a_flush_is_behind_and_the_stall_is_counted() {
    let fs = FaultFs::new();
    let options =
        LsmOptions { memtable_bytes: 4 << 10, max_immutable_memtables: 1, ..LsmOptions::tiny() };
    let engine = Arc::new(common::open(&fs, &options).expect("open"));
    fs.hold_syncs(); // the flush thread cannot finish its table
    common::fill_until_immutable(&engine);
    let writer = {
        let engine = Arc::clone(&engine);
        std::thread::spawn(move || engine.admit_write())
    };
    while stat(&engine, "stall_stops") == 0 {
        std::thread::yield_now();
    }
    assert!(!writer.is_finished(), "the writer waits while the flush cannot complete");
    fs.release_syncs();
    writer.join().expect("writer").expect("admitted once the flush is done");
    assert!(stat(&engine, "flushes") >= 1);
}

#[test]
fn a_scan_with_visitor_may_write_to_the_engine_without_deadlock() {
    let fs = FaultFs::new();
    let engine = common::open(&fs, &LsmOptions::tiny()).expect("open");
    for i in 0..300u64 {
        put(&engine, format!("k{i:04}").as_bytes(), b"v", i + 1);
    }
    let mut seen = 0u64;
    engine
        .scan_with(&KeyRange::all(), Timestamp(300), Direction::Forward, &mut |entry| {
            seen += 1;
            let mut batch = EngineBatch::new();
            batch.put(entry.key, b"rewritten");
            engine.apply(&batch, Timestamp(1000 + seen), Lsn(1000 + seen)).expect("apply");
            assert!(engine.get(entry.key, Timestamp::MAX).expect("get").is_some());
            ControlFlow::Continue(())
        })
        .expect("scan_with");
    assert_eq!(seen, 300, "the scan at its timestamp does not see the visitor's writes");
}

#[test]
fn garbage_collection_compacts_away_versions_no_read_at_the_horizon_sees() {
    let fs = FaultFs::new();
    let engine = common::open(&fs, &LsmOptions::tiny()).expect("open");
    for at in 1..=50u64 {
        put(&engine, b"hot", format!("v{at}").as_bytes(), at);
        if at % 10 == 0 {
            engine.flush().expect("flush");
        }
    }
    let dropped = engine.collect_garbage(Timestamp(40)).expect("gc");
    assert!(dropped >= 1, "collect_garbage reports what it dropped");
    let value = |at: u64| engine.get(b"hot", Timestamp(at)).expect("get").and_then(|v| v.value);
    assert_eq!(value(40), Some(b"v40".to_vec()), "the version visible at the horizon stays");
    assert_eq!(value(45), Some(b"v45".to_vec()), "newer versions stay");
    assert_eq!(engine.stats().expect("stats").versions, 11);
    // A background compaction may have taken part once the horizon was raised; together they
    // dropped every version below the one visible at 40.
    assert_eq!(stat(&engine, "versions_dropped"), 39);
    let report = engine.check().expect("check");
    assert!(report.is_clean(), "{:?}", report.problems);
}

#[test]
fn point_reads_of_missing_keys_are_answered_by_the_filters() {
    let fs = FaultFs::new();
    let engine = common::open(&fs, &LsmOptions::tiny()).expect("open");
    for i in 0..2_000u64 {
        put(&engine, format!("present{i:05}").as_bytes(), &[1; 20], i + 1);
    }
    engine.flush().expect("flush");
    for i in 0..2_000u64 {
        assert_eq!(engine.get(format!("present{i:05}x").as_bytes(), Timestamp::MAX).unwrap(), None);
    }
    let useful = stat(&engine, "filter_useful");
    let false_positive = stat(&engine, "filter_false_positive");
    assert!(useful > 0, "the filters said no: {useful} useful, {false_positive} false positives");
    assert!(false_positive < useful / 10, "10 bits per key: few false positives");
}

#[test]
fn stats_report_levels_flushes_and_write_amplification() {
    let fs = FaultFs::new();
    let engine = common::open(&fs, &LsmOptions::tiny()).expect("open");
    for i in 0..3_000u64 {
        put(&engine, format!("k{:05}", (i * 7919) % 3_000).as_bytes(), &[3; 60], i + 1);
    }
    engine.flush().expect("flush");
    engine.compact_range(None, None).expect("compact");
    let stats = engine.stats().expect("stats");
    assert!(stat(&engine, "flushes") >= 5, "{stats:?}");
    assert!(stat(&engine, "write_amplification_x100") > 0, "{stats:?}");
    let files: u64 =
        stats.extra.iter().filter(|(n, _)| n.ends_with("_files")).map(|(_, v)| v).sum();
    assert!(files >= 1 && stats.disk_bytes > 0, "{stats:?}");
    assert_eq!(stat(&engine, "l0_files"), 0, "compact_range pushed L0 down: {stats:?}");
    assert_eq!(stats.durable_lsn, Lsn(3_000));
}

#[test]
fn open_rewrites_a_long_manifest_log_so_the_next_replay_is_short() {
    let fs = FaultFs::new();
    let manifests = || -> Vec<(String, usize)> {
        let dir = std::path::Path::new(common::DIR);
        let names = lightning_core_storage::vfs::Vfs::list(&fs, dir).expect("list");
        names
            .into_iter()
            .filter(|n| n.starts_with("MANIFEST-"))
            .map(|n| {
                let len = fs.file_contents(&dir.join(&n)).expect("manifest").len();
                (n, len)
            })
            .collect()
    };
    let engine = common::open(&fs, &LsmOptions::tiny()).expect("open");
    for at in 1..=100u64 {
        put(&engine, b"k", b"v", at);
        engine.flush().expect("flush"); // one edit each
    }
    engine.compact_range(None, None).expect("compact"); // no background work left pending
    drop(engine);
    let before = manifests();
    assert_eq!(before.len(), 1, "{before:?}");
    let engine = common::open(&fs, &LsmOptions::tiny()).expect("reopen");
    let after = manifests();
    assert_eq!(after.len(), 1, "the old manifest is gone: {after:?}");
    assert_ne!(after[0].0, before[0].0, "a new manifest was started");
    assert!(
        after[0].1 < before[0].1 / 4,
        "one snapshot instead of 100 edits: {before:?} {after:?}"
    );
    assert_eq!(
        engine.get(b"k", Timestamp::MAX).expect("get").and_then(|v| v.value),
        Some(b"v".to_vec())
    );
}

#[test]
fn a_gc_step_past_the_last_levels_tombstones_has_them_compacted_away() {
    let fs = FaultFs::new();
    let engine = common::open(&fs, &LsmOptions::tiny()).expect("open");
    for i in 0..100u64 {
        put(&engine, format!("k{i:03}").as_bytes(), &[5; 30], i + 1);
    }
    let mut batch = EngineBatch::new();
    for i in 0..50u64 {
        batch.delete(format!("k{i:03}"));
    }
    engine.apply(&batch, Timestamp(200), Lsn(200)).expect("delete");
    engine.compact_range(None, None).expect("compact"); // horizon 0: the tombstones stay
    assert_eq!(engine.stats().expect("stats").versions, 150);
    // The step queues the work; what the background pass drops is reported by this or a later
    // step.
    let mut reported = engine.collect_garbage_step(Timestamp(300)).expect("gc step");
    // The background compaction drops the 50 tombstones and the 50 versions they hide.
    while engine.stats().expect("stats").versions > 50 {
        std::thread::yield_now();
    }
    assert_eq!(engine.stats().expect("stats").versions, 50);
    assert_eq!(engine.get(b"k000", Timestamp::MAX).expect("get"), None, "deleted reads absent");
    assert!(engine.get(b"k099", Timestamp::MAX).expect("get").is_some());
    reported += (0..5).map(|_| engine.collect_garbage_step(Timestamp(300)).unwrap()).sum::<u64>();
    assert_eq!(reported, 100, "the steps report what the background pass dropped");
}

//! The durability levels and group commit: what survives a power cut or a process crash, the
//! background syncer's bound, order preservation, and concurrent committers sharing fsyncs.

mod common;

use std::{
    sync::{Arc, Barrier, atomic::Ordering},
    thread,
    time::{Duration, Instant},
};

use common::{SlowSyncFs, dir, open, payload, replay, small};
use lightning_core_storage::vfs::{FaultFs, PowerCut};
use lightning_wal::{Durability, Lsn, Wal, WalOptions};

#[test]
fn immediate_records_survive_a_power_cut_and_none_records_do_not() {
    let fs = FaultFs::new();
    let wal = open(&fs, small(4096)).unwrap();
    wal.append(b"durable", Durability::Immediate).unwrap();
    wal.append(b"in memory", Durability::None).unwrap();
    wal.append(b"written", Durability::Eventual).unwrap();
    assert_eq!(wal.durable_lsn(), Lsn(1));
    fs.power_cut(PowerCut::DropUnsynced);
    drop(wal);
    let wal = open(&fs, small(4096)).unwrap();
    assert_eq!(replay(&wal, 1), vec![(1, b"durable".to_vec())]);
    assert_eq!(wal.append(b"next", Durability::Immediate).unwrap(), Lsn(2), "LSN 2 is reused");
}

#[test]
fn eventual_records_survive_a_process_crash() {
    let fs = FaultFs::new();
    let wal = open(&fs, small(4096)).unwrap();
    wal.append(b"a", Durability::Eventual).unwrap();
    wal.append(b"b", Durability::Eventual).unwrap();
    drop(wal); // the process dies: no close, no sync; the OS keeps what was written
    let wal = open(&fs, small(4096)).unwrap();
    assert_eq!(replay(&wal, 1), vec![(1, b"a".to_vec()), (2, b"b".to_vec())]);
}

#[test]
fn none_records_are_dropped_with_the_handle_unless_closed() {
    let fs = FaultFs::new();
    let wal = open(&fs, small(4096)).unwrap();
    wal.append(b"kept", Durability::Eventual).unwrap();
    wal.append(b"lost", Durability::None).unwrap();
    drop(wal);
    let wal = open(&fs, small(4096)).unwrap();
    assert_eq!(replay(&wal, 1), vec![(1, b"kept".to_vec())]);
    wal.append(b"closed", Durability::None).unwrap();
    wal.close().unwrap();
    fs.power_cut(PowerCut::DropUnsynced);
    let wal = open(&fs, small(4096)).unwrap();
    assert_eq!(replay(&wal, 2), vec![(2, b"closed".to_vec())], "close syncs");
}

#[test]
fn a_later_immediate_append_makes_every_earlier_record_durable() {
    let fs = FaultFs::new();
    let wal = open(&fs, small(1024)).unwrap();
    for i in 1..=30 {
        let durability = if i % 2 == 0 { Durability::None } else { Durability::Eventual };
        wal.append(&payload(i, 90), durability).unwrap();
    }
    assert!(wal.durable_lsn() < Lsn(30));
    wal.append(b"commit", Durability::Immediate).unwrap();
    assert_eq!(wal.durable_lsn(), Lsn(31));
    fs.power_cut(PowerCut::DropUnsynced);
    drop(wal);
    let wal = open(&fs, small(1024)).unwrap();
    let records = replay(&wal, 1);
    assert_eq!(records.len(), 31);
    assert_eq!(records[29], (30, payload(30, 90)));
}

#[test]
fn sync_makes_everything_durable_and_reports_it() {
    let fs = FaultFs::new();
    let wal = open(&fs, small(4096)).unwrap();
    assert_eq!(wal.sync().unwrap(), Lsn(0), "sync of an empty log");
    wal.append(b"x", Durability::None).unwrap();
    wal.append(b"y", Durability::Eventual).unwrap();
    assert_eq!(wal.sync().unwrap(), Lsn(2));
    assert_eq!(wal.durable_lsn(), Lsn(2));
    fs.power_cut(PowerCut::DropUnsynced);
    drop(wal);
    assert_eq!(replay(&open(&fs, small(4096)).unwrap(), 1).len(), 2);
}

#[test]
fn sync_to_makes_a_record_durable_and_concurrent_callers_share_fsyncs() {
    let fs = FaultFs::new();
    let syncs = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let slow = SlowSyncFs {
        inner: fs.clone(),
        delay: Duration::from_millis(2),
        syncs: Arc::clone(&syncs),
    };
    let wal = Arc::new(Wal::open(Arc::new(slow), dir(), small(1 << 20)).unwrap());
    let first = wal.append(b"first", Durability::None).unwrap();
    wal.sync_to(first).unwrap();
    assert!(wal.durable_lsn() >= first, "durable once sync_to returns");
    wal.sync_to(Lsn(1_000)).unwrap();
    assert_eq!(wal.durable_lsn(), first, "an LSN beyond the end waits for the last record");
    // Appended without syncing (as the transaction layer does under its commit lock), then
    // made durable outside: concurrent callers ride the same fsyncs.
    let syncs_before = syncs.load(Ordering::Relaxed);
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8u64)
        .map(|t| {
            let (wal, barrier) = (Arc::clone(&wal), Arc::clone(&barrier));
            thread::spawn(move || {
                barrier.wait();
                let mut acked = Vec::new();
                for i in 0..10 {
                    let lsn = wal.append(&payload(t * 100 + i, 40), Durability::None).unwrap();
                    wal.sync_to(lsn).unwrap();
                    assert!(wal.durable_lsn() >= lsn);
                    acked.push(lsn);
                }
                acked
            })
        })
        .collect();
    let acked: Vec<Lsn> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let used = syncs.load(Ordering::Relaxed) - syncs_before;
    assert!(used < 80, "80 commits shared fsyncs: {used} fsyncs");
    drop(wal);
    fs.power_cut(PowerCut::DropUnsynced);
    let recovered = replay(&open(&fs, small(1 << 20)).unwrap(), 1);
    assert!(acked.iter().all(|lsn| recovered.iter().any(|r| r.0 == lsn.get())));
}

#[test]
fn the_background_syncer_makes_eventual_records_durable_within_the_interval() {
    let fs = FaultFs::new();
    let options =
        WalOptions { sync_interval_ms: 20, segment_size_bytes: 4096, ..Default::default() };
    let wal = open(&fs, options.clone()).unwrap();
    let started = Instant::now();
    let lsn = wal.append(b"eventually", Durability::Eventual).unwrap();
    assert_eq!(wal.durable_lsn(), Lsn(0), "not durable when append returns");
    while wal.durable_lsn() < lsn {
        assert!(started.elapsed() < Duration::from_secs(5), "the syncer never ran");
        thread::sleep(Duration::from_millis(2));
    }
    assert!(started.elapsed() >= Duration::from_millis(15), "it waited for the interval");
    fs.power_cut(PowerCut::DropUnsynced);
    drop(wal);
    assert_eq!(replay(&open(&fs, options).unwrap(), 1), vec![(1, b"eventually".to_vec())]);
}

#[test]
fn the_background_syncer_leaves_none_records_alone() {
    let fs = FaultFs::new();
    let options =
        WalOptions { sync_interval_ms: 5, segment_size_bytes: 4096, ..Default::default() };
    let wal = open(&fs, options).unwrap();
    wal.append(b"lazy", Durability::None).unwrap();
    thread::sleep(Duration::from_millis(50));
    assert_eq!(wal.durable_lsn(), Lsn(0));
    assert!(wal.stats().buffered_bytes > 0);
}

#[test]
fn concurrent_immediate_committers_share_fsyncs() {
    let fs = FaultFs::new();
    let syncs = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let slow = SlowSyncFs {
        inner: fs.clone(),
        delay: Duration::from_millis(3),
        syncs: Arc::clone(&syncs),
    };
    let wal = Arc::new(Wal::open(Arc::new(slow), dir(), small(1 << 20)).unwrap());
    let before = syncs.load(Ordering::SeqCst);
    const THREADS: u64 = 8;
    const EACH: u64 = 25;
    let barrier = Arc::new(Barrier::new(THREADS as usize));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let wal = Arc::clone(&wal);
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                let mut lsns = Vec::new();
                for i in 0..EACH {
                    let lsn =
                        wal.append(&payload(t * 1000 + i, 64), Durability::Immediate).unwrap();
                    assert!(wal.durable_lsn() >= lsn, "acknowledged means durable");
                    lsns.push(lsn);
                }
                lsns
            })
        })
        .collect();
    let mut all: Vec<Lsn> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    all.sort();
    assert_eq!(all, (1..=THREADS * EACH).map(Lsn).collect::<Vec<_>>(), "no LSN twice, no gap");
    let file_syncs = syncs.load(Ordering::SeqCst) - before;
    let stats = wal.stats();
    assert_eq!(stats.syncs + 1, file_syncs, "commit syncs, plus one for the preallocated space");
    assert!(
        file_syncs * 3 <= THREADS * EACH,
        "{} commits took {file_syncs} fsyncs: group commit is not batching",
        THREADS * EACH
    );
    assert!(stats.group_commits > 0 && stats.max_group_size >= 3, "{stats:?}");
    fs.power_cut(PowerCut::DropUnsynced);
    drop(wal);
    assert_eq!(replay(&open(&fs, small(1 << 20)).unwrap(), 1).len() as u64, THREADS * EACH);
}

#[test]
fn a_single_committer_pays_one_fsync_per_commit() {
    let fs = FaultFs::new();
    let syncs = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let slow = SlowSyncFs { inner: fs, delay: Duration::ZERO, syncs: Arc::clone(&syncs) };
    let wal = Wal::open(Arc::new(slow), dir(), small(1 << 20)).unwrap();
    let before = syncs.load(Ordering::SeqCst);
    for i in 0..20 {
        wal.append(&payload(i, 100), Durability::Immediate).unwrap();
    }
    let file_syncs = syncs.load(Ordering::SeqCst) - before;
    assert_eq!(file_syncs, 21, "one fsync per commit, plus one for the preallocated space");
}

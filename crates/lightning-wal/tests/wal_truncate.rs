//! `truncate_before`: removes only whole segments below the LSN, never the active one, keeps
//! LSNs monotonic, and leaves a readable log whatever point a crash interrupts it at.

mod common;

use common::{dir, open, payload, replay, small, with_mode};
use lightning_core_storage::vfs::{FaultFs, FaultKind, PowerCut, Vfs};
use lightning_wal::{Durability, Lsn, RecoveryMode, Wal};

const SIZE: u64 = 1024;

fn log_of(fs: &FaultFs, n: u64) -> Wal {
    let wal = open(fs, small(SIZE)).unwrap();
    for i in 1..=n {
        wal.append(&payload(i, 100), Durability::Eventual).unwrap();
    }
    wal.sync().unwrap();
    wal
}

fn first_lsn(wal: &Wal) -> u64 {
    replay(wal, 1).first().map_or(0, |r| r.0)
}

#[test]
fn removes_only_segments_wholly_below_the_lsn() {
    let fs = FaultFs::new();
    let wal = log_of(&fs, 80);
    let before = wal.stats().segments;
    assert!(before >= 10);
    for target in [1u64, 5, 20, 21, 47, 80] {
        wal.truncate_before(Lsn(target)).unwrap();
        let records = replay(&wal, 1);
        let first = records[0].0;
        assert!(first <= target, "record {target} and later are kept (first left {first})");
        assert!(target - first < 8, "at most one segment's worth below {target} is kept");
        assert_eq!(records.last().unwrap().0, 80);
        assert_eq!(records.len() as u64, 81 - first, "no gap");
    }
    let stats = wal.stats();
    assert_eq!(stats.segments_removed, before - stats.segments);
    wal.truncate_before(Lsn::MAX).unwrap();
    assert!(wal.stats().segments >= 1, "the active segment stays");
    assert_eq!(wal.append(b"next", Durability::Immediate).unwrap(), Lsn(81));
}

#[test]
fn lsns_continue_after_everything_is_truncated_and_the_log_reopened() {
    let fs = FaultFs::new();
    let wal = log_of(&fs, 40);
    for i in 41..=60 {
        wal.append(&payload(i, 200), Durability::Eventual).unwrap();
    }
    wal.truncate_before(Lsn(61)).unwrap();
    wal.close().unwrap();
    let wal = open(&fs, small(SIZE)).unwrap();
    assert_eq!(wal.last_lsn(), Lsn(60));
    let left = replay(&wal, 1);
    assert!(left.len() <= 4, "only the active segment's records are left: {}", left.len());
    assert_eq!(wal.append(b"x", Durability::Immediate).unwrap(), Lsn(61));
    assert_eq!(replay(&wal, 61), vec![(61, b"x".to_vec())]);
}

#[test]
fn a_record_spanning_segments_keeps_its_first_segment() {
    let fs = FaultFs::new();
    let wal = open(&fs, small(SIZE)).unwrap();
    wal.append(b"small", Durability::Eventual).unwrap();
    let big = payload(2, 3000);
    wal.append(&big, Durability::Eventual).unwrap();
    wal.append(b"after", Durability::Eventual).unwrap();
    wal.sync().unwrap();
    wal.truncate_before(Lsn(2)).unwrap();
    assert_eq!(replay(&wal, 2)[0], (2, big.clone()), "record 2 is whole");
    wal.truncate_before(Lsn(3)).unwrap();
    let left = replay(&wal, 1);
    assert_eq!(left.last().unwrap(), &(3, b"after".to_vec()));
    assert!(left.iter().all(|r| r.0 >= 2 || r.0 == 1));
    wal.close().unwrap();
    let wal = open(&fs, with_mode(small(SIZE), RecoveryMode::AbsoluteConsistency)).unwrap();
    assert_eq!(replay(&wal, 3), vec![(3, b"after".to_vec())], "a continued record is skipped");
}

#[test]
fn records_below_the_lsn_are_made_durable_first() {
    let fs = FaultFs::new();
    let wal = open(&fs, small(SIZE)).unwrap();
    for i in 1..=30 {
        wal.append(&payload(i, 100), Durability::None).unwrap();
    }
    wal.truncate_before(Lsn(20)).unwrap();
    assert!(wal.durable_lsn() >= Lsn(19));
    fs.power_cut(PowerCut::DropUnsynced);
    drop(wal);
    let wal = open(&fs, small(SIZE)).unwrap();
    let records = replay(&wal, 1);
    assert!(records.first().unwrap().0 <= 20 && records.last().unwrap().0 >= 19);
}

/// Builds the same 60-record log, then truncates below `target` with `crash` armed.
fn truncate_with(crash: Option<FaultKind>, target: u64) -> (FaultFs, u64) {
    let fs = FaultFs::new();
    let wal = log_of(&fs, 60);
    let base = fs.durability_points();
    if let Some(crash) = crash {
        let shifted = match crash {
            FaultKind::CrashAfterPoint { n, cut } => {
                FaultKind::CrashAfterPoint { n: base + n, cut }
            }
            FaultKind::CrashBeforePoint { n, cut } => {
                FaultKind::CrashBeforePoint { n: base + n, cut }
            }
            other => other,
        };
        fs.inject(shifted);
    }
    let _ = wal.truncate_before(Lsn(target));
    let points = fs.durability_points() - base;
    drop(wal);
    (fs, points)
}

#[test]
fn a_crash_at_any_point_of_a_truncation_leaves_a_readable_log() {
    let target = 45;
    let (dry, points) = truncate_with(None, target);
    assert!(points >= 8, "several removals, each with a directory sync: {points}");
    assert!(dry.list(dir()).unwrap().len() < 4);
    for n in 1..=points {
        for crash in FaultKind::crashes_at(n) {
            let (fs, _) = truncate_with(Some(crash), target);
            assert!(fs.is_dead(), "{crash:?} fired");
            fs.restart();
            let options = with_mode(small(SIZE), RecoveryMode::AbsoluteConsistency);
            let wal = open(&fs, options).unwrap_or_else(|e| panic!("{crash:?}: {e}"));
            let records = replay(&wal, 1);
            let first = records[0].0;
            assert!(first <= target, "{crash:?}: records from {target} on are kept");
            assert_eq!(records.len() as u64, 61 - first, "{crash:?}: contiguous up to 60");
            assert_eq!(first_lsn(&wal), first);
            assert_eq!(wal.append(b"next", Durability::Immediate).unwrap(), Lsn(61));
        }
    }
}

//! Regression: a zeroed region followed by valid data in the last segment was always classed
//! as a torn tail and dropped silently, even when the records in it had been fsynced and
//! acknowledged. Since format version 2 every group-commit write carries a `Synced` fragment
//! with the LSN the previous fsync covered, so a record after the gap that proves the gap was
//! synced makes it `Corruption`; a gap in never-synced data stays a torn tail.

mod common;

use common::{open, replay, segment, small};
use lightning_core_storage::vfs::{FaultFs, OpenMode, Vfs};
use lightning_wal::{Durability, Error};

const SEGMENT: u64 = 64 << 10;

fn record(i: u64) -> Vec<u8> {
    format!("record {i:03} of the zeroed-gap test").into_bytes()
}

/// Zeroes record `i`'s fragment (header and payload) in segment 1, as a lost write would.
fn zero_record(fs: &FaultFs, i: u64) {
    let bytes = fs.file_contents(&segment(1)).unwrap();
    let wanted = record(i);
    let payload_at = bytes.windows(wanted.len()).position(|w| w == wanted).unwrap();
    let start = payload_at - 24;
    let file = fs.open(&segment(1), OpenMode::ReadWrite).unwrap();
    file.write_all_at(&vec![0; 24 + wanted.len()], start as u64).unwrap();
    file.sync_data().unwrap();
}

#[test]
fn a_zeroed_gap_that_later_writes_prove_synced_is_corruption() {
    let fs = FaultFs::new();
    let wal = open(&fs, small(SEGMENT)).unwrap();
    for i in 1..=10 {
        wal.append(&record(i), Durability::Immediate).unwrap(); // acknowledged: fsynced
    }
    drop(wal);
    zero_record(&fs, 3);

    match open(&fs, small(SEGMENT)) {
        Err(error @ Error::Corruption { segment: 1, .. }) => {
            assert!(error.to_string().contains("fsynced"), "{error}");
        }
        Err(other) => panic!("expected Corruption, got {other}"),
        Ok(wal) => panic!("opened, keeping only up to LSN {}", wal.last_lsn().0),
    }
}

#[test]
fn a_zeroed_gap_in_a_never_synced_tail_is_dropped_as_torn() {
    let fs = FaultFs::new();
    let wal = open(&fs, small(SEGMENT)).unwrap();
    for i in 1..=5 {
        wal.append(&record(i), Durability::Immediate).unwrap();
    }
    for i in 6..=10 {
        wal.append(&record(i), Durability::Eventual).unwrap(); // written, never synced
    }
    drop(wal);
    zero_record(&fs, 7); // as if that write's sectors never reached the disk

    let wal = open(&fs, small(SEGMENT)).unwrap();
    assert_eq!(wal.last_lsn().0, 6, "the torn unsynced tail is cut after record 6");
    let kept: Vec<Vec<u8>> = replay(&wal, 1).into_iter().map(|(_, payload)| payload).collect();
    assert_eq!(kept, (1..=6).map(record).collect::<Vec<_>>());
}

//! A roll whose directory sync fails poisons the log with the new segment's file present but its
//! name not durable. The next open must not adopt that segment as a tail it then reports
//! durable: records acknowledged after the reopen (through several more rolls) survive a power
//! cut that drops every unsynced name and byte. (A reviewer's suspected hole; this pins that the
//! open path handles it.)

mod common;

use common::{open, replay, small};
use lightning_core_storage::vfs::{FaultFs, FaultKind, OpKind, PowerCut};
use lightning_wal::Durability;

#[test]
fn records_acknowledged_after_a_roll_lost_its_directory_sync_survive_a_power_cut() {
    let fs = FaultFs::new();
    let options = small(4096);
    let wal = open(&fs, options.clone()).expect("open");
    // The next directory sync fails: the one that makes the next segment's name durable.
    fs.inject(FaultKind::FailNth { op: Some(OpKind::SyncDir), n: 1, persistent: false });
    let mut acknowledged = Vec::new();
    for i in 1..=64u64 {
        match wal.append(&common::payload(i, 300), Durability::Immediate) {
            Ok(lsn) => acknowledged.push(lsn.get()),
            Err(_) => break, // the roll's directory sync failed: the log is poisoned
        }
    }
    assert!(wal.poisoned().is_some(), "the failed directory sync poisons the log");
    drop(wal);

    // The process starts again (no power cut): the new segment's file is there, its name is not
    // durable. What is appended now, across more rolls, is acknowledged as durable.
    fs.clear_faults();
    let wal = open(&fs, options.clone()).expect("reopen");
    for i in 0..64u64 {
        let lsn = wal.append(&common::payload(i, 300), Durability::Immediate).expect("append");
        acknowledged.push(lsn.get());
    }
    drop(wal);

    fs.power_cut(PowerCut::DropUnsynced);
    let wal = open(&fs, options).expect("open after the power cut");
    let present: Vec<u64> = replay(&wal, 1).into_iter().map(|(lsn, _)| lsn).collect();
    for lsn in acknowledged {
        assert!(present.contains(&lsn), "acknowledged record {lsn} lost; present {present:?}");
    }
}

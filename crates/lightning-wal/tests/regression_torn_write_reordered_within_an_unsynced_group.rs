//! Regression: a power cut that persisted a later part of one unsynced group-commit write but
//! not an earlier part (a disk may write the sectors of one request in any order) left a
//! damaged fragment followed by valid ones, and default-mode recovery reported Corruption
//! although nothing in that write had been synced, so nothing in it was acknowledged as
//! durable. Now such damage is a torn tail unless a later `Synced` fragment proves the damaged
//! record was fsynced — by a later group commit, or by the mark a clean close ends the log
//! with — and then it stays Corruption: the two cases are told apart and both tested here.

mod common;

use common::{open, payload, replay, segment, small};
use lightning_core_storage::vfs::{FaultFs, OpenMode, Vfs};
use lightning_wal::{Durability, Error, Lsn, Wal};

const SEGMENT: u64 = 64 << 10;
const LEN: usize = 1500;
const SYNCED: u8 = 6;
const SECTOR_SIZE: usize = 512;

/// A log holding record 1 (synced) and records 2..=5 appended in one unsynced write.
fn log_with_an_unsynced_group(fs: &FaultFs) -> Wal {
    let wal = open(fs, small(SEGMENT)).unwrap();
    wal.append(&payload(1, LEN), Durability::Immediate).unwrap();
    let group: Vec<Vec<u8>> = (2..=5).map(|i| payload(i, LEN)).collect();
    let records: Vec<&[u8]> = group.iter().map(Vec::as_slice).collect();
    wal.append_batch(&records, Durability::Eventual).unwrap();
    assert_eq!(wal.durable_lsn(), Lsn(1), "the group is written, not synced");
    wal
}

/// (offset, type, lsn, length) of every fragment in segment 1.
fn fragments(fs: &FaultFs) -> Vec<(u64, u8, u64, usize)> {
    let bytes = fs.file_contents(&segment(1)).unwrap();
    let mut out = Vec::new();
    let mut at = 40;
    while at + 24 <= bytes.len() && bytes[at + 12] != 0 {
        let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        let lsn = u64::from_le_bytes(bytes[at + 16..at + 24].try_into().unwrap());
        out.push((at as u64, bytes[at + 12], lsn, len));
        at += 24 + len;
    }
    out
}

/// Zeroes (never written, as the preallocated space reads) one whole sector inside record
/// `lsn`'s payload, as a power cut that lost that sector of the write would; returns the
/// record's offset.
fn lose_a_sector_of(fs: &FaultFs, lsn: u64) -> u64 {
    let (offset, _, _, len) = *fragments(fs)
        .iter()
        .find(|f| f.1 != SYNCED && f.2 == lsn)
        .unwrap_or_else(|| panic!("record {lsn} is in segment 1"));
    let payload_start = offset + 24;
    let sector = payload_start.next_multiple_of(SECTOR_SIZE as u64);
    assert!(sector + SECTOR_SIZE as u64 <= payload_start + len as u64, "a sector inside it");
    let file = fs.open(&segment(1), OpenMode::ReadWrite).unwrap();
    file.write_all_at(&[0u8; SECTOR_SIZE], sector).unwrap();
    file.sync_data().unwrap();
    offset
}

fn expect_corruption_at(fs: &FaultFs, offset: u64) -> String {
    match open(fs, small(SEGMENT)) {
        Err(Error::Corruption { segment: 1, offset: at, what }) if at == offset => what,
        Err(other) => panic!("expected Corruption at offset {offset}, got {other}"),
        Ok(_) => panic!("expected Corruption at offset {offset}, the log opened"),
    }
}

#[test]
fn torn_write_reordered_within_an_unsynced_group_is_a_torn_tail() {
    let fs = FaultFs::new();
    let wal = log_with_an_unsynced_group(&fs);
    drop(wal); // a crash: no clean close
    lose_a_sector_of(&fs, 2);
    let later = fragments(&fs).into_iter().filter(|f| f.2 > 2 && f.1 != SYNCED).count();
    assert_eq!(later, 3, "records 3..=5 of the same write are intact after the damage");

    let wal = open(&fs, small(SEGMENT)).expect("a torn unsynced write is a torn tail");
    assert_eq!(replay(&wal, 1), vec![(1, payload(1, LEN))], "the synced record stays");
    assert_eq!(wal.append(b"next", Durability::Immediate).unwrap(), Lsn(2));
    wal.close().unwrap();
    let wal = open(&fs, small(SEGMENT)).unwrap();
    assert_eq!(replay(&wal, 2), vec![(2, b"next".to_vec())], "the tail was cut and reused");
}

#[test]
fn damage_in_a_write_that_a_later_sync_mark_proves_fsynced_is_corruption() {
    let fs = FaultFs::new();
    let wal = log_with_an_unsynced_group(&fs);
    wal.sync().unwrap();
    // The next group commit starts with a Synced fragment recording records 1..=5 durable.
    wal.append(&payload(6, LEN), Durability::Eventual).unwrap();
    drop(wal);
    let offset = lose_a_sector_of(&fs, 2);
    let what = expect_corruption_at(&fs, offset);
    assert!(what.contains("fsynced"), "{what}");
}

#[test]
fn damage_in_the_last_write_of_a_cleanly_closed_log_is_corruption() {
    let fs = FaultFs::new();
    let wal = log_with_an_unsynced_group(&fs);
    wal.close().unwrap(); // syncs, then ends the log with a Synced fragment saying so
    let last = *fragments(&fs).last().unwrap();
    assert_eq!((last.1, last.2), (SYNCED, 6), "the closing Synced fragment");
    let offset = lose_a_sector_of(&fs, 3);
    let what = expect_corruption_at(&fs, offset);
    assert!(what.contains("synced data is damaged"), "{what}");
}

//! Damaged bytes: a flipped byte before the tail is `Corruption` naming segment and offset; a
//! damaged or torn tail is handled as each recovery mode says; nothing panics.

mod common;

use common::{Rng, dir, open, payload, replay, segment, small, with_mode};
use lightning_core_storage::vfs::{FaultFs, OpenMode, Vfs};
use lightning_wal::{Durability, Error, Lsn, RecoveryMode, Wal};

const SIZE: u64 = 1024;
const ALL_MODES: [RecoveryMode; 3] = [
    RecoveryMode::AbsoluteConsistency,
    RecoveryMode::TolerateCorruptedTail,
    RecoveryMode::PointInTime,
];

/// A closed log of `n` records of 100 bytes in 1 KiB segments (8 records per segment).
fn log_of(n: u64) -> (FaultFs, Vec<(u64, Vec<u8>)>) {
    let fs = FaultFs::new();
    let wal = open(&fs, small(SIZE)).unwrap();
    let mut records = Vec::new();
    for i in 1..=n {
        wal.append(&payload(i, 100), Durability::Eventual).unwrap();
        records.push((i, payload(i, 100)));
    }
    wal.close().unwrap();
    (fs, records)
}

/// A log of `n` records of 100 bytes in 1 KiB segments left by a crash: written, never
/// closed (so no closing `Synced` fragment proves its last records fsynced).
fn crashed_log_of(n: u64) -> (FaultFs, Vec<(u64, Vec<u8>)>) {
    let fs = FaultFs::new();
    let wal = open(&fs, small(SIZE)).unwrap();
    let mut records = Vec::new();
    for i in 1..=n {
        wal.append(&payload(i, 100), Durability::Eventual).unwrap();
        records.push((i, payload(i, 100)));
    }
    drop(wal);
    (fs, records)
}

/// The last fragment of a segment file that belongs to a record (not a `Synced` one).
fn last_record_fragment(bytes: &[u8]) -> (u64, u8, u64) {
    *fragments(bytes).iter().rfind(|f| f.1 != 6).expect("a record fragment")
}

/// (offset, type, lsn) of each fragment of a segment file, read per `docs/format/wal.md`
/// (the preallocated zeros after the last one are not fragments).
fn fragments(bytes: &[u8]) -> Vec<(u64, u8, u64)> {
    let mut out = Vec::new();
    let mut at = 40;
    while at + 24 <= bytes.len() && bytes[at + 12] != 0 {
        let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        let lsn = u64::from_le_bytes(bytes[at + 16..at + 24].try_into().unwrap());
        out.push((at as u64, bytes[at + 12], lsn));
        at += 24 + len;
    }
    out
}

fn segments(fs: &FaultFs) -> Vec<u64> {
    let names = fs.list(dir()).unwrap();
    names.iter().map(|n| n.trim_end_matches(".log").parse().unwrap()).collect()
}

fn open_mode(fs: &FaultFs, mode: RecoveryMode) -> lightning_wal::Result<Wal> {
    open(fs, with_mode(small(SIZE), mode))
}

fn expect_corruption(result: lightning_wal::Result<Wal>, segment: u64, offset: u64) -> String {
    match result {
        Err(Error::Corruption { segment: s, offset: o, what }) => {
            assert_eq!((s, o), (segment, offset), "location of: {what}");
            what
        }
        Err(other) => panic!("expected Corruption, got {other}"),
        Ok(_) => panic!("expected Corruption at segment {segment} offset {offset}, opened fine"),
    }
}

#[test]
fn a_flipped_byte_in_an_earlier_segment_is_corruption_with_its_location() {
    let (fs, records) = log_of(40);
    let frags = fragments(&fs.file_contents(&segment(2)).unwrap());
    let (offset, _, lsn) = frags[3];
    assert!(fs.corrupt_byte(&segment(2), offset + 24 + 50, 0x20), "flip inside the payload");
    for mode in [RecoveryMode::AbsoluteConsistency, RecoveryMode::TolerateCorruptedTail] {
        let what = expect_corruption(open_mode(&fs, mode), 2, offset);
        assert!(what.contains("checksum"), "{what}");
    }
    // PointInTime keeps the good prefix and drops everything after the damage.
    let wal = open_mode(&fs, RecoveryMode::PointInTime).unwrap();
    assert_eq!(replay(&wal, 1), records[..lsn as usize - 1].to_vec());
    assert_eq!(segments(&fs), vec![1, 2], "later segments are deleted");
    assert_eq!(wal.append(b"after", Durability::Immediate).unwrap(), Lsn(lsn));
    wal.close().unwrap();
    let wal = open_mode(&fs, RecoveryMode::AbsoluteConsistency).unwrap();
    assert_eq!(replay(&wal, 1).len() as u64, lsn, "the repaired log is consistent");
}

#[test]
fn a_flipped_byte_in_a_header_field_before_the_tail_is_corruption() {
    for field in [0u64, 8, 12, 16] {
        let (fs, _) = log_of(40);
        let last = *segments(&fs).last().unwrap();
        let frags = fragments(&fs.file_contents(&segment(last)).unwrap());
        assert!(frags.len() >= 3, "the last segment has several records");
        let offset = frags[0].0;
        assert!(fs.corrupt_byte(&segment(last), offset + field, 0x01));
        for mode in [RecoveryMode::AbsoluteConsistency, RecoveryMode::TolerateCorruptedTail] {
            expect_corruption(open_mode(&fs, mode), last, offset);
        }
    }
}

#[test]
fn a_damaged_segment_header_is_corruption_at_offset_zero() {
    let (fs, _) = log_of(40);
    assert!(fs.corrupt_byte(&segment(3), 20, 0xFF));
    let what = expect_corruption(open_mode(&fs, RecoveryMode::TolerateCorruptedTail), 3, 0);
    assert!(what.contains("header"), "{what}");
}

#[test]
fn a_missing_segment_is_corruption() {
    let (fs, _) = log_of(40);
    fs.remove(&segment(3)).unwrap();
    let what = expect_corruption(open_mode(&fs, RecoveryMode::TolerateCorruptedTail), 4, 0);
    assert!(what.contains("segment 3 is missing"), "{what}");
}

/// A log of 20 records left by a crash whose last record has a flipped byte; returns its
/// location. (In a closed log the closing `Synced` fragment proves it fsynced: corruption.)
fn log_with_damaged_tail() -> (FaultFs, Vec<(u64, Vec<u8>)>, u64, u64) {
    let (fs, records) = crashed_log_of(20);
    let last = *segments(&fs).last().unwrap();
    let (offset, _, lsn) = last_record_fragment(&fs.file_contents(&segment(last)).unwrap());
    assert_eq!(lsn, 20);
    assert!(fs.corrupt_byte(&segment(last), offset + 30, 0x08));
    (fs, records, last, offset)
}

#[test]
fn a_flipped_byte_in_the_tail_is_handled_per_recovery_mode() {
    let (fs, _, last, offset) = log_with_damaged_tail();
    let what = expect_corruption(open_mode(&fs, RecoveryMode::AbsoluteConsistency), last, offset);
    assert!(what.contains("tail"), "{what}");
    for mode in [RecoveryMode::TolerateCorruptedTail, RecoveryMode::PointInTime] {
        let (fs, records, _, _) = log_with_damaged_tail();
        let wal = open_mode(&fs, mode).unwrap();
        assert_eq!(replay(&wal, 1), records[..19].to_vec(), "{mode:?} drops the damaged tail");
        assert_eq!(wal.append(b"new", Durability::Immediate).unwrap(), Lsn(20));
        wal.close().unwrap();
        let wal = open_mode(&fs, RecoveryMode::AbsoluteConsistency).unwrap();
        assert_eq!(replay(&wal, 19).len(), 2, "{mode:?}: the tail was cut, the log is clean");
        assert_eq!(replay(&wal, 20), vec![(20, b"new".to_vec())]);
    }
}

#[test]
fn a_torn_tail_is_handled_per_recovery_mode() {
    for cut in [1u64, 10, 23, 24, 60] {
        let (fs, records) = log_of(12);
        let last = *segments(&fs).last().unwrap();
        let (offset, _, lsn) = last_record_fragment(&fs.file_contents(&segment(last)).unwrap());
        assert_eq!(lsn, 12);
        let file = fs.open(&segment(last), OpenMode::ReadWrite).unwrap();
        file.set_len(offset + 124 - cut).unwrap();
        file.sync_data().unwrap();
        let err = open_mode(&fs, RecoveryMode::AbsoluteConsistency).unwrap_err();
        assert!(err.is_corruption(), "cut {cut}: {err}");
        let wal = open_mode(&fs, RecoveryMode::TolerateCorruptedTail).unwrap();
        assert_eq!(replay(&wal, 1), records[..11].to_vec(), "cut {cut}");
        assert_eq!(wal.last_lsn(), Lsn(11));
    }
}

#[test]
fn damage_found_by_replay_on_an_open_log_is_corruption() {
    let (fs, _) = log_of(40);
    let wal = open(&fs, small(SIZE)).unwrap();
    let frags = fragments(&fs.file_contents(&segment(2)).unwrap());
    assert!(fs.corrupt_byte(&segment(2), frags[1].0 + 40, 0x02));
    let results: Vec<_> = wal.replay(Lsn(1)).unwrap().collect();
    let err = results.last().unwrap().as_ref().unwrap_err();
    match err {
        Error::Corruption { segment, offset, .. } => {
            assert_eq!((*segment, *offset), (2, frags[1].0))
        }
        other => panic!("expected Corruption, got {other}"),
    }
    assert!(results[..results.len() - 1].iter().all(|r| r.is_ok()), "good records before it");
}

/// Damages a fresh log at random places (flipped bits, truncated files) chosen by `rng`.
fn damaged_log(rng: &mut Rng) -> (FaultFs, Vec<(u64, Vec<u8>)>) {
    let (fs, records) = log_of(30);
    let numbers = segments(&fs);
    for _ in 0..=rng.below(3) {
        let number = numbers[rng.below(numbers.len() as u64) as usize];
        let len = fs.file_contents(&segment(number)).unwrap().len() as u64;
        if rng.below(3) == 0 {
            let file = fs.open(&segment(number), OpenMode::ReadWrite).unwrap();
            file.set_len(rng.below(len)).unwrap();
        } else {
            let mask = 1u8 << rng.below(8);
            assert!(fs.corrupt_byte(&segment(number), rng.below(len), mask));
        }
    }
    (fs, records)
}

#[test]
fn random_damage_never_panics_and_never_yields_wrong_records() {
    let mut opened = [0; 3];
    for round in 0..80 {
        for (m, mode) in ALL_MODES.into_iter().enumerate() {
            let (fs, records) = damaged_log(&mut Rng::new(round));
            match open_mode(&fs, mode) {
                Ok(wal) => {
                    opened[m] += 1;
                    let got: Vec<_> = wal.replay(Lsn(1)).unwrap().collect();
                    for (i, record) in got.iter().enumerate() {
                        let record = record
                            .as_ref()
                            .unwrap_or_else(|e| panic!("round {round} {mode:?}: {e}"));
                        assert_eq!(
                            (record.lsn.get(), &record.payload),
                            (records[i].0, &records[i].1)
                        );
                    }
                    let next = wal.append(b"after", Durability::Immediate).unwrap();
                    assert_eq!(next.get(), got.len() as u64 + 1, "round {round} {mode:?}");
                }
                Err(err) => assert!(err.is_corruption(), "round {round} {mode:?}: {err}"),
            }
        }
    }
    assert_eq!(opened[2], 80, "PointInTime always opens");
    assert!(opened[1] > opened[0], "TolerateCorruptedTail accepts more than Absolute: {opened:?}");
}

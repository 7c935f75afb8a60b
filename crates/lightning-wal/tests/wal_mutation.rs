//! Seeded mutation testing of recovery and replay: a valid log of records of many sizes (some
//! spanning segments as FIRST/MIDDLE/LAST fragments) is damaged at random (flipped bytes,
//! truncated or removed segments, random or zeroed ranges), then opened in every recovery mode
//! and replayed to the end. Whatever the damage, nothing panics, and what comes back is either
//! an error or an unbroken run of the records appended, intact (a prefix, or a later start when
//! leading segments were removed, which is what truncation looks like): a checksum never lets
//! damaged bytes through as a record.

mod common;

use common::{Rng, dir, open, payload, small, with_mode};
use lightning_core_storage::vfs::{FaultFs, OpenMode, Vfs};
use lightning_wal::{Durability, Lsn, RecoveryMode};

const SEGMENT: u64 = 1024;
const MODES: [RecoveryMode; 3] = [
    RecoveryMode::AbsoluteConsistency,
    RecoveryMode::TolerateCorruptedTail,
    RecoveryMode::PointInTime,
];

/// The files of a log: (name, bytes).
type Files = Vec<(String, Vec<u8>)>;

/// The files of a closed log and the records in it.
fn valid_log() -> (Files, Vec<Vec<u8>>) {
    let fs = FaultFs::new();
    let wal = open(&fs, small(SEGMENT)).unwrap();
    let mut rng = Rng::new(7);
    let mut records = Vec::new();
    for i in 1..=60u64 {
        let len = match rng.below(10) {
            0 => 0,
            1 => 1500 + rng.below(1500) as usize,
            _ => 1 + rng.below(200) as usize,
        };
        let record = payload(i, len);
        wal.append(&record, Durability::Eventual).unwrap();
        records.push(record);
    }
    wal.close().unwrap();
    let mut files = Vec::new();
    for name in fs.list(dir()).unwrap() {
        let file = fs.open(&dir().join(&name), OpenMode::Read).unwrap();
        let mut bytes = vec![0u8; file.len().unwrap() as usize];
        file.read_exact_at(&mut bytes, 0).unwrap();
        files.push((name, bytes));
    }
    files.sort();
    (files, records)
}

/// Applies one to three random mutations.
fn mutate(files: &mut Files, rng: &mut Rng) -> Vec<String> {
    let mut done = Vec::new();
    for _ in 0..=rng.below(3) {
        let f = rng.below(files.len() as u64) as usize;
        let (name, bytes) = &mut files[f];
        if bytes.is_empty() {
            continue;
        }
        let at = rng.below(bytes.len() as u64) as usize;
        match rng.below(6) {
            0 | 1 => {
                bytes[at] ^= 1 << rng.below(8);
                done.push(format!("flip {name}@{at}"));
            }
            2 => {
                bytes.truncate(at);
                done.push(format!("truncate {name} to {at}"));
            }
            3 => {
                let end = (at + 1 + rng.below(64) as usize).min(bytes.len());
                for byte in &mut bytes[at..end] {
                    *byte = rng.next_u64() as u8;
                }
                done.push(format!("randomize {name}[{at}..{end}]"));
            }
            4 => {
                let end = (at + 1 + rng.below(64) as usize).min(bytes.len());
                bytes[at..end].fill(0);
                done.push(format!("zero {name}[{at}..{end}]"));
            }
            _ if files.len() > 1 => {
                let (name, _) = files.remove(f);
                done.push(format!("remove {name}"));
            }
            _ => {}
        }
    }
    done
}

fn write_files(files: &[(String, Vec<u8>)]) -> FaultFs {
    let fs = FaultFs::new();
    fs.create_dir_all(dir()).unwrap();
    for (name, bytes) in files {
        let file = fs.open(&dir().join(name), OpenMode::CreateNew).unwrap();
        file.write_all_at(bytes, 0).unwrap();
        file.sync_data().unwrap();
    }
    fs.sync_dir(dir()).unwrap();
    fs
}

#[test]
fn damaged_logs_never_panic_and_never_yield_damaged_records() {
    let (files, records) = valid_log();
    assert!(files.len() > 5, "the log spans several segments: {}", files.len());
    let (mut opened, mut refused) = (0, 0);
    for seed in 0..400u64 {
        let mut rng = Rng::new(seed);
        let mut damaged = files.clone();
        let mutations = mutate(&mut damaged, &mut rng);
        for mode in MODES {
            let fs = write_files(&damaged);
            let Ok(wal) = open(&fs, with_mode(small(SEGMENT), mode)) else {
                refused += 1;
                continue;
            };
            opened += 1;
            let Ok(iter) = wal.replay(Lsn(1)) else { continue };
            // Removing leading segments looks exactly like truncation: the run may start later.
            let mut expected = None;
            for record in iter {
                let Ok(record) = record else { break };
                let expected = expected.get_or_insert(record.lsn.get());
                assert_eq!(
                    record.lsn.get(),
                    *expected,
                    "seed {seed}, {mode:?}, {mutations:?}: consecutive records"
                );
                assert_eq!(
                    record.payload,
                    records[*expected as usize - 1],
                    "seed {seed}, {mode:?}, {mutations:?}: record {expected} intact"
                );
                *expected += 1;
            }
            let expected = expected.unwrap_or(1);
            // Appending after recovery works and continues the LSNs.
            if wal.poisoned().is_none()
                && let Ok(lsn) = wal.append(b"after recovery", Durability::Immediate)
            {
                assert!(lsn.get() >= expected, "seed {seed}, {mode:?}: LSNs continue");
            }
        }
    }
    assert!(opened > 100 && refused > 100, "both outcomes were exercised: {opened} / {refused}");
}

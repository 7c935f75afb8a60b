//! The fixtures: segment files written by lightning-wal 0.1.0 (version 1, under
//! `tests/fixtures/wal-v1/`), by the build that introduced version 2 (`Synced` fragments,
//! under `tests/fixtures/wal-v2/`) and by the one that introduced version 3 (a clean close
//! ends the log with a `Synced` fragment, `tests/fixtures/wal-v3/`) must open and replay with
//! every later build; and while version 3 is the current format, the writer must still
//! produce exactly the version-3 bytes.
//!
//! To regenerate the current version's fixture after a deliberate change (which needs a new
//! format version and a new fixture directory, keeping the old ones):
//! `LIGHTNING_WAL_BLESS=1 cargo test -p lightning-wal --test wal_fixture`.

mod common;

use std::path::{Path, PathBuf};

use common::{dir, small, with_mode};
use lightning_core_storage::vfs::{FaultFs, OpenMode, Vfs};
use lightning_wal::{Durability, Lsn, RecoveryMode, Wal};

/// The format version the writer produces now.
const CURRENT: u16 = 3;

fn fixture_dir(version: u16) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/wal-v{version}"))
}

/// The records of the fixture: empty, small, one spanning three 512-byte segments, and more.
fn records() -> Vec<Vec<u8>> {
    let spanning: Vec<u8> = (0..900u32).map(|i| (i % 251) as u8).collect();
    vec![
        b"".to_vec(),
        b"hello, log".to_vec(),
        spanning,
        b"after the big one".to_vec(),
        vec![0xff; 7],
    ]
}

/// Writes the fixture's records into a fresh log and returns its files.
fn write_log() -> Vec<(String, Vec<u8>)> {
    let fs = FaultFs::new();
    let wal = Wal::open(std::sync::Arc::new(fs.clone()), dir(), small(512)).unwrap();
    for record in records() {
        wal.append(&record, Durability::Immediate).unwrap();
    }
    wal.close().unwrap();
    let names = fs.list(dir()).unwrap();
    names.into_iter().map(|n| (n.clone(), fs.file_contents(&dir().join(&n)).unwrap())).collect()
}

fn read_fixture(version: u16) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(fixture_dir(version))
        .expect("the fixture directory exists")
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn bless_current() {
    if std::env::var_os("LIGHTNING_WAL_BLESS").is_some() {
        std::fs::create_dir_all(fixture_dir(CURRENT)).unwrap();
        let files = write_log();
        let active = files.len() - 1;
        for (i, (name, mut bytes)) in files.into_iter().enumerate() {
            // The active segment's preallocated zeros are space, not format: it is kept up
            // to the end of its last fragment (the closing Synced fragment may end in zero
            // bytes). A sealed segment is kept whole: its End fragment may end in zeros too.
            if i == active {
                bytes.truncate(end_of_fragments(&bytes));
            }
            std::fs::write(fixture_dir(CURRENT).join(name), bytes).unwrap();
        }
    }
}

/// Where the fragments of a segment file end (fragment types are never zero; the zeros of
/// preallocated space follow).
fn end_of_fragments(bytes: &[u8]) -> usize {
    let mut at = 40;
    while at + 24 <= bytes.len() && bytes[at + 12] != 0 {
        at += 24 + u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
    }
    at.min(bytes.len())
}

#[test]
fn the_version_1_fixture_still_opens_and_replays() {
    opens_and_replays(1);
}

#[test]
fn the_version_2_fixture_still_opens_and_replays() {
    opens_and_replays(2);
}

#[test]
fn the_version_3_fixture_opens_and_replays() {
    bless_current();
    opens_and_replays(3);
}

fn opens_and_replays(version: u16) {
    let files = read_fixture(version);
    assert_eq!(
        files.len(),
        3,
        "three segments: {:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    let magic = [&b"LIGHTWAL"[..], &version.to_le_bytes()].concat();
    assert!(files.iter().all(|(_, bytes)| bytes.starts_with(&magic)), "v{version} headers");
    let fs = FaultFs::new();
    fs.create_dir_all(dir()).unwrap();
    for (name, bytes) in &files {
        let file = fs.open(&dir().join(name), OpenMode::CreateNew).unwrap();
        file.write_all_at(bytes, 0).unwrap();
        file.sync_data().unwrap();
    }
    let options = with_mode(small(512), RecoveryMode::AbsoluteConsistency);
    let wal = Wal::open(std::sync::Arc::new(fs.clone()), dir(), options.clone()).unwrap();
    let read: Vec<(u64, Vec<u8>)> =
        wal.replay(Lsn(1)).unwrap().map(|r| r.map(|r| (r.lsn.get(), r.payload)).unwrap()).collect();
    let expected: Vec<(u64, Vec<u8>)> =
        records().into_iter().enumerate().map(|(i, r)| (i as u64 + 1, r)).collect();
    assert_eq!(read, expected);
    assert_eq!(wal.append(b"new", Durability::Immediate).unwrap(), Lsn(6));
    assert_eq!(wal.append(b"newer", Durability::Immediate).unwrap(), Lsn(7));
    drop(wal);
    // Appended into the fixture's tail segment (no Synced fragments in a version-1 one), the
    // log still opens strictly.
    let wal = Wal::open(std::sync::Arc::new(fs), dir(), options).unwrap();
    let read = wal.replay(Lsn(6)).unwrap().map(|r| r.unwrap().payload).collect::<Vec<_>>();
    assert_eq!(read, vec![b"new".to_vec(), b"newer".to_vec()]);
}

/// The log's files with the active segment's preallocated zeros cut off (they are space, not
/// format: the fixture ends exactly at its last fragment, which readers must accept too).
fn without_preallocation(
    files: Vec<(String, Vec<u8>)>,
    fixture: &[(String, Vec<u8>)],
) -> Vec<(String, Vec<u8>)> {
    files
        .into_iter()
        .zip(fixture)
        .map(|((name, mut bytes), (_, expected))| {
            assert!(bytes.len() >= expected.len(), "{name} is shorter than the fixture");
            assert!(bytes[expected.len()..].iter().all(|b| *b == 0), "{name}: only zeros follow");
            bytes.truncate(expected.len());
            (name, bytes)
        })
        .collect()
}

#[test]
fn the_writer_still_produces_the_current_version_bytes() {
    bless_current();
    let fixture = read_fixture(CURRENT);
    let written = write_log();
    assert_eq!(written.len(), fixture.len(), "as many segments as the fixture");
    let written = without_preallocation(written, &fixture);
    for ((name, bytes), (fixture_name, expected)) in written.iter().zip(&fixture) {
        assert_eq!(name, fixture_name);
        let first_difference = bytes.iter().zip(expected).position(|(a, b)| a != b);
        assert!(
            bytes == expected,
            "{name}: the v{CURRENT} format changed at byte {first_difference:?} (lengths {} / {}): add a \
             version and keep this fixture",
            bytes.len(),
            expected.len()
        );
    }
}

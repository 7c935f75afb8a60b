//! The format-v1 fixture: a small table committed under `tests/fixtures/` that every later
//! build must read with exactly its contents, and that the writer must still produce byte for
//! byte while v1 is current; its corrupt twin (one flipped byte in data block 0) must be
//! detected. A format change that breaks old files fails here.
//!
//! To rewrite the fixtures after a deliberate format change (a new version keeps the old
//! fixture and adds its own): `LIGHTNING_BLESS_FIXTURES=1 cargo test -p lightning-lsm --test
//! sstable_fixture`.

mod sstable_support;

use std::path::{Path, PathBuf};

use lightning_core_storage::codec::{CodecId, Compression};
use lightning_core_storage::vfs::{OpenMode, StdFs, Vfs};
use lightning_core_storage::{Error, Timestamp};
use lightning_lsm::internal_key::InternalKey;
use lightning_lsm::sstable::{FormatVersion, Table, TableOptions};
use sstable_support::*;

const FIXTURE: &str = "sstable-v1.sst";
const CORRUPT_TWIN: &str = "sstable-v1-corrupt.sst";
/// The byte flipped in the twin: inside data block 0's payload (its header is 20 bytes).
const FLIPPED_OFFSET: usize = 40;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures")
}

fn fixture_options() -> TableOptions {
    // No compression, so that the bytes do not depend on a codec library's version; small
    // blocks and restart interval 4, so that the fixture has several blocks and restarts.
    TableOptions {
        block_size: 128,
        restart_interval: 4,
        compression: Compression::None,
        bloom_bits_per_key: 10,
    }
}

fn fixture_model() -> Model {
    let mut model = Model::new();
    let mut put = |key: &[u8], ts: u64, value: Option<&[u8]>| {
        model.insert(InternalKey::new(key, Timestamp(ts)), value.map(<[u8]>::to_vec));
    };
    put(b"\x00\xff", 1, Some(b"binary key"));
    put(b"apple", 30, Some(b"red"));
    put(b"apple", 20, None);
    put(b"apple", 10, Some(b"green"));
    put(b"banana", 25, Some(b""));
    let big: Vec<u8> = (0..300u32).map(|i| b'a' + (i % 26) as u8).collect();
    put(b"cherry", 40, Some(&big));
    put(b"date", 5, None);
    for i in 0..20u64 {
        put(format!("fig-{i:03}").as_bytes(), 7 + i, Some(format!("v{i}").as_bytes()));
    }
    model
}

fn write_fixture_bytes() -> Vec<u8> {
    let fs = both_file_systems().remove(1);
    let path = fs.table_path(1);
    write_table(fs.vfs.as_ref(), &path, 1, &fixture_options(), &fixture_model());
    fs.fault.as_ref().and_then(|fault| fault.file_contents(&path)).expect("the written table")
}

/// The fixture's bytes, written first when blessing.
fn fixture_bytes() -> Vec<u8> {
    let dir = fixtures_dir();
    if std::env::var_os("LIGHTNING_BLESS_FIXTURES").is_some() {
        let bytes = write_fixture_bytes();
        std::fs::create_dir_all(&dir).expect("fixtures dir");
        let mut twin = bytes.clone();
        twin[FLIPPED_OFFSET] ^= 0x01;
        for (name, contents) in [(FIXTURE, &bytes), (CORRUPT_TWIN, &twin)] {
            // Written aside and renamed: the tests of this file may bless at the same time.
            let aside = dir.join(format!("{name}.{}.tmp", std::process::id()));
            std::fs::write(&aside, contents).expect("write fixture");
            std::fs::rename(&aside, dir.join(name)).expect("rename fixture");
        }
    }
    std::fs::read(dir.join(FIXTURE)).expect("the v1 fixture is committed")
}

fn open_fixture(name: &str) -> std::sync::Arc<Table> {
    Table::open(&StdFs::new(), &fixtures_dir().join(name), 1, None).expect("the fixture opens")
}

#[test]
fn the_v1_fixture_reads_back_with_exactly_its_contents() {
    fixture_bytes();
    let table = open_fixture(FIXTURE);
    let model = fixture_model();
    let expected: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert!(collect_forward(&mut table.iter()) == expected, "forward contents differ");
    let mut backward = collect_backward(&mut table.iter());
    backward.reverse();
    assert!(backward == expected, "backward contents differ");
    for key in model.keys() {
        assert_eq!(table.get(&key.key, key.ts).expect("get"), model_get(&model, &key.key, key.ts));
    }
    assert_eq!(table.get(b"apple", Timestamp(25)).expect("get").map(|v| v.value), Some(None));
    assert_eq!(table.get(b"elderberry", Timestamp::MAX).expect("get"), None);

    let p = table.properties();
    assert_eq!(p.format_version, FormatVersion::V1);
    assert_eq!((p.entries, p.tombstones, p.distinct_keys), (27, 2, 25));
    assert_eq!((p.min_ts, p.max_ts), (Timestamp(1), Timestamp(40)));
    assert_eq!(p.smallest, InternalKey::new(*b"\x00\xff", Timestamp(1)));
    assert_eq!(p.largest, InternalKey::new(*b"fig-019", Timestamp(26)));
    assert_eq!(p.compression, CodecId::None);
    assert_eq!((p.bloom_bits_per_key, p.restart_interval, p.block_size), (10, 4, 128));
    assert_eq!((p.data_blocks, table.file_size()), (4, 1283));
    assert_eq!(table.check().expect("check"), Vec::new());
}

#[test]
fn the_writer_still_produces_the_v1_fixture_byte_for_byte() {
    let committed = fixture_bytes();
    let written = write_fixture_bytes();
    assert_eq!(written.len(), committed.len(), "the v1 layout changed size");
    let first_difference = written.iter().zip(&committed).position(|(a, b)| a != b);
    assert_eq!(first_difference, None, "the v1 layout changed: bump the format version");
}

#[test]
fn the_corrupt_twin_differs_by_one_byte_and_is_detected() {
    let committed = fixture_bytes();
    let twin_path = fixtures_dir().join(CORRUPT_TWIN);
    let twin = std::fs::read(&twin_path).expect("the corrupt twin is committed");
    let differences: Vec<usize> = (0..twin.len()).filter(|&i| twin[i] != committed[i]).collect();
    assert_eq!((twin.len(), differences), (committed.len(), vec![FLIPPED_OFFSET]));
    assert!(StdFs::new().open(&twin_path, OpenMode::Read).is_ok());

    let table = open_fixture(CORRUPT_TWIN);
    let location = format!("{CORRUPT_TWIN} offset 0");
    let problems = table.check().expect("check");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].location, location);
    match table.get(b"\x00\xff", Timestamp(1)) {
        Err(Error::Corruption { location: at, .. }) => assert_eq!(at, location),
        other => panic!("expected corruption, got {other:?}"),
    }
    let mut iter = table.iter();
    assert!(matches!(
        lightning_lsm::InternalIter::seek_to_first(&mut iter),
        Err(Error::Corruption { .. })
    ));
}

//! Damage on disk seen through the engine: a flipped byte in a table's data block is
//! `Corruption` naming the table file and the block's offset, through `get`, through scans and
//! in `check()`'s report; a table whose size differs from the manifest's record is refused at
//! open.

mod common;

use std::path::Path;

use lightning_core_storage::{
    Error, Lsn, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine},
    vfs::{FaultFs, Vfs},
};
use lightning_lsm::LsmOptions;

fn options() -> LsmOptions {
    LsmOptions { cache_size_bytes: 0, ..LsmOptions::default() }
}

/// One flushed table of 200 keys; returns its file name.
fn one_table(fs: &FaultFs) -> String {
    let engine = common::open(fs, &options()).expect("open");
    let mut batch = EngineBatch::new();
    for i in 0..200u32 {
        batch.put(format!("key{i:04}"), vec![i as u8; 50]);
    }
    engine.apply(&batch, Timestamp(1), Lsn(1)).expect("apply");
    engine.checkpoint().expect("checkpoint");
    drop(engine);
    let names = fs.list(Path::new(common::DIR)).expect("list");
    names.into_iter().find(|n| n.ends_with(".sst")).expect("a table")
}

fn names_block_zero(error: &Error, table: &str) -> bool {
    matches!(error, Error::Corruption { location, .. } if *location == format!("{table} offset 0"))
}

#[test]
fn a_flipped_byte_in_a_data_block_is_corruption_through_get_scan_and_check() {
    let fs = FaultFs::new();
    let table = one_table(&fs);
    assert!(fs.corrupt_byte(&Path::new(common::DIR).join(&table), 20, 0x40));
    let engine = common::open(&fs, &options()).expect("the footer, index and filter are intact");

    let error = engine.get(b"key0000", Timestamp::MAX).expect_err("get reads the damaged block");
    assert!(names_block_zero(&error, &table), "{error:?}");

    let scanned: Result<Vec<_>, _> =
        engine.scan(KeyRange::all(), Timestamp::MAX, Direction::Forward).expect("scan").collect();
    let error = scanned.expect_err("the scan reads the damaged block");
    assert!(names_block_zero(&error, &table), "{error:?}");
    let mut visited = 0;
    let error = engine
        .scan_with(&KeyRange::all(), Timestamp::MAX, Direction::Reverse, &mut |_| {
            visited += 1;
            std::ops::ControlFlow::Continue(())
        })
        .expect_err("scan_with reaches the damaged block");
    assert!(names_block_zero(&error, &table), "{error:?}");

    let report = engine.check().expect("check runs");
    assert!(
        report.problems.iter().any(|p| p.location == format!("{table} offset 0")),
        "check names the block: {:?}",
        report.problems
    );
    assert!(engine.get(b"key0199", Timestamp::MAX).is_ok(), "other blocks still read");
}

#[test]
fn a_table_cut_short_is_refused_at_open() {
    let fs = FaultFs::new();
    let table = one_table(&fs);
    let path = Path::new(common::DIR).join(&table);
    let bytes = fs.file_contents(&path).expect("table");
    let file = fs.open(&path, lightning_core_storage::vfs::OpenMode::ReadWrite).expect("open");
    file.set_len(bytes.len() as u64 - 1).expect("truncate");
    file.sync_all().expect("sync");
    drop(file);
    let error = common::open(&fs, &options()).expect_err("a damaged table is not opened");
    assert!(error.is_corruption(), "{error:?}");
}

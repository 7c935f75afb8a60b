//! Property test: bytes damaged *below* the checksum (a block rewritten with a fresh checksum,
//! as a buggy writer or a forged file would) never panic the reader or loop without end: open,
//! both cursor directions, seeks, point reads and `check` either work or return
//! `Error::Corruption`.

mod sstable_support;

use std::path::Path;

use lightning_core_storage::codec::Compression;
use lightning_core_storage::{Error, Result, Timestamp};
use lightning_lsm::InternalIter;
use lightning_lsm::sstable::{Table, TableOptions};
use proptest::prelude::*;
use sstable_support::*;

/// The offsets of a table's blocks: data blocks, then index, filter and properties.
fn block_offsets(bytes: &[u8]) -> Vec<u64> {
    let footer = footer_of(bytes);
    let mut offsets = Vec::new();
    let mut at = 0;
    while at < footer.index.offset {
        offsets.push(at);
        at += block_len(bytes, at as usize) as u64;
    }
    offsets.extend([footer.index.offset, footer.filter.offset, footer.properties.offset]);
    offsets
}

fn corruption_or_ok<T>(
    result: Result<T>,
    what: &str,
) -> std::result::Result<Option<T>, TestCaseError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(Error::Corruption { .. }) => Ok(None),
        Err(other) => Err(TestCaseError::fail(format!("{what}: not corruption: {other}"))),
    }
}

/// Walks the cursor with `step` until it is invalid or fails; at most `bound` steps.
fn walk(
    iter: &mut dyn InternalIter,
    bound: usize,
    forward: bool,
) -> std::result::Result<(), TestCaseError> {
    let first = if forward { iter.seek_to_first() } else { iter.seek_to_last() };
    if corruption_or_ok(first, "seek to an end")?.is_none() {
        return Ok(());
    }
    for _ in 0..bound {
        if !iter.valid() {
            return Ok(());
        }
        let step = if forward { iter.next() } else { iter.prev() };
        if corruption_or_ok(step, "step")?.is_none() {
            prop_assert!(!iter.valid(), "a failed step leaves the cursor invalid");
            return Ok(());
        }
    }
    Err(TestCaseError::fail("the cursor ran past the number of entries the file can hold"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn damage_below_the_checksum_is_corruption_or_harmless(
        block_choice in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
    ) {
        let model = sample_model(120, 21);
        let fs = both_file_systems().remove(1);
        let path = fs.table_path(1);
        let options = TableOptions { block_size: 512, compression: Compression::None, ..TableOptions::default() };
        write_table(fs.vfs.as_ref(), &path, 1, &options, &model);
        let bytes = read_file(&fs, &path);
        let offsets = block_offsets(&bytes);
        let offset = offsets[block_choice.index(offsets.len())];
        rewrite_block(&fs, &path, offset, |block| {
            for (at, mask) in &edits {
                let at = at.index(block.len());
                block[at] ^= mask;
            }
        });
        exercise(&fs, &path, &model, bytes.len())?;
    }
}

fn exercise(
    fs: &TestFs,
    path: &Path,
    model: &Model,
    file_len: usize,
) -> std::result::Result<(), TestCaseError> {
    let Some(table) = corruption_or_ok(Table::open(fs.vfs.as_ref(), path, 1, None), "open")? else {
        return Ok(());
    };
    walk(&mut table.iter(), file_len, true)?;
    walk(&mut table.iter(), file_len, false)?;
    let mut iter = table.iter();
    for key in model.keys().step_by(7) {
        corruption_or_ok(table.get(&key.key, key.ts), "get")?;
        corruption_or_ok(iter.seek(&key.key, key.ts), "seek")?;
        corruption_or_ok(iter.seek_for_prev(&key.key, Timestamp(key.ts.0 + 1)), "seek_for_prev")?;
    }
    let problems = table.check();
    prop_assert!(problems.is_ok(), "check returns problems, not errors: {problems:?}");
    Ok(())
}

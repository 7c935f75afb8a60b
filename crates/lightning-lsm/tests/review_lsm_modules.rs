//! Regression tests for bugs found reviewing the SSTable and manifest/version/picker modules
//! (issue #13). Each test is named after the bug it pins.

mod sstable_support;

use std::{path::Path, sync::Arc};

use lightning_core_storage::codec::{Compression, NoCodec, compress_block};
use lightning_core_storage::vfs::{FaultFs, OpenMode, Vfs};
use lightning_core_storage::{Error, Timestamp};
use lightning_lsm::compaction::pick::{CompactionOptions, level_scores, pick_compaction};
use lightning_lsm::manifest::{Manifest, orphan_files};
use lightning_lsm::sstable::format::{BlockHandle, FOOTER_LEN, Footer};
use lightning_lsm::sstable::varint::put_varint;
use lightning_lsm::sstable::{Table, TableOptions, TableWriter};
use lightning_lsm::version::{Version, VersionEdit};
use lightning_lsm::{InternalKey, TableMeta};
use sstable_support::*;

/// The raw bytes of a block (restart interval 1) holding `entries` as (key, ts, value).
fn raw_block(entries: &[(&[u8], u64, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut restarts = Vec::new();
    for (key, ts, value) in entries {
        restarts.push(out.len() as u32);
        put_varint(&mut out, 0);
        put_varint(&mut out, key.len() as u64);
        out.push(1);
        put_varint(&mut out, value.len() as u64);
        out.extend_from_slice(key);
        out.extend_from_slice(&ts.to_le_bytes());
        out.extend_from_slice(value);
    }
    for restart in &restarts {
        out.extend_from_slice(&restart.to_le_bytes());
    }
    out.extend_from_slice(&(restarts.len() as u32).to_le_bytes());
    out
}

/// `Table::check` added every index entry's block length to a `u64` without overflow
/// checking: an index (checksum intact, as a buggy writer or a forged file has it) naming two
/// blocks of length near 2^64 panicked `check()` instead of reporting problems.
#[test]
fn check_with_huge_index_block_lengths_reports_problems_instead_of_overflowing() {
    let fs = both_file_systems().remove(1);
    let good = fs.table_path(1);
    let mut model = Model::new();
    model.insert(InternalKey::new(*b"a", Timestamp(1)), Some(b"x".to_vec()));
    model.insert(InternalKey::new(*b"b", Timestamp(1)), Some(b"y".to_vec()));
    write_table(fs.vfs.as_ref(), &good, 1, &TableOptions::default(), &model);
    let bytes = read_file(&fs, &good);
    let footer = footer_of(&bytes);
    let footer_offset = bytes.len() - FOOTER_LEN;

    let handle = |length: u64| {
        let mut value = Vec::new();
        BlockHandle { offset: 0, length }.encode_to(&mut value);
        value
    };
    let index = raw_block(&[(b"a", 1, handle(u64::MAX - 1)), (b"b", 1, handle(u64::MAX - 1))]);
    let mut forged = bytes[..footer_offset].to_vec();
    let index_offset = forged.len() as u64;
    compress_block(&NoCodec, &index, &mut forged).expect("compress");
    let index_handle =
        BlockHandle { offset: index_offset, length: forged.len() as u64 - index_offset };
    forged.extend_from_slice(&Footer { index: index_handle, ..footer }.encode());
    let path = fs.table_path(2);
    let file = fs.vfs.open(&path, OpenMode::CreateNew).expect("create");
    file.write_all_at(&forged, 0).expect("write");
    drop(file);

    let table = Table::open(fs.vfs.as_ref(), &path, 2, None).expect("the forged table opens");
    let problems = table.check().expect("check reports problems, not an error");
    assert!(!problems.is_empty(), "the impossible handles are problems");
}

fn table_of_size(number: u64, first: &str, last: &str, file_size: u64) -> TableMeta {
    TableMeta {
        file_number: number,
        file_size,
        smallest: InternalKey::new(first.as_bytes(), Timestamp(9)),
        largest: InternalKey::new(last.as_bytes(), Timestamp(1)),
        entries: 2,
        tombstones: 0,
        min_ts: Timestamp(1),
        max_ts: Timestamp(9),
    }
}

/// Level sizes were summed with a plain `u64` sum: a replayed manifest whose tables' recorded
/// file sizes add past 2^64 (nothing bounds them on decode or apply) panicked
/// `Version::level_bytes`, `level_scores` and `pick_compaction`.
#[test]
fn level_bytes_and_scores_do_not_overflow_on_huge_recorded_file_sizes() {
    let fs = FaultFs::new();
    let dir = Path::new("/db/lsm");
    let (mut manifest, _) = Manifest::open(Arc::new(fs.clone()), dir, 4).expect("create");
    let huge = u64::MAX / 2 + 1;
    let mut edit = VersionEdit::new();
    edit.add_table(1, table_of_size(1, "a", "b", huge))
        .add_table(1, table_of_size(2, "c", "d", huge))
        .add_table(2, table_of_size(3, "a", "d", huge));
    manifest.log_edit(&edit).expect("the manifest accepts the sizes");
    drop(manifest);
    let (_, state) = Manifest::open(Arc::new(fs.clone()), dir, 4).expect("reopen");
    let version: &Version = &state.version;
    assert_eq!(version.level_bytes(1), u64::MAX, "saturates");
    let options = CompactionOptions { num_levels: 4, ..CompactionOptions::default() };
    let scores = level_scores(version, &options);
    assert_eq!(scores.len(), 4);
    let job = pick_compaction(version, &options, &Default::default());
    assert!(job.is_some(), "L1 is far over its target");
}

/// `read_current` accepted a non-canonical manifest name (`MANIFEST-1`, fewer than the six
/// digits the format requires) while the open manifest calls itself `manifest_name(number)`
/// (`MANIFEST-000001`): `orphan_files(.., &manifest.current_name())` then listed the live
/// manifest as an orphan, for the engine to delete.
#[test]
fn a_non_canonical_manifest_name_in_current_is_never_listed_as_an_orphan() {
    let fs = FaultFs::new();
    let dir = Path::new("/db/lsm");
    let (manifest, _) = Manifest::open(Arc::new(fs.clone()), dir, 4).expect("create");
    drop(manifest);
    fs.rename(&dir.join("MANIFEST-000001"), &dir.join("MANIFEST-1")).expect("rename");
    let current = fs.open(&dir.join("CURRENT"), OpenMode::ReadWrite).expect("CURRENT");
    current.set_len(0).expect("truncate");
    current.write_all_at(b"MANIFEST-1\n", 0).expect("write");
    drop(current);
    match Manifest::open(Arc::new(fs.clone()), dir, 4) {
        Err(Error::Corruption { .. }) => {}
        Err(other) => panic!("expected Corruption or a consistent open, got {other}"),
        Ok((manifest, state)) => {
            let orphans =
                orphan_files(&fs, dir, &state, &manifest.current_name()).expect("orphans");
            assert!(
                !orphans.iter().any(|name| name == "MANIFEST-1"),
                "the live manifest is listed as an orphan: {orphans:?} (current_name {})",
                manifest.current_name()
            );
        }
    }
}

/// `TableWriter::add` accepted an entry up to the 1 GiB block bound minus its overhead, but
/// appended it to the pending data block: with any entry already pending, the block then
/// exceeded the bound and the flush inside `add` failed with `InvalidInput` (after the entry
/// had been counted), so a value the writer promises to take could not be written.
#[test]
fn a_value_near_the_block_bound_after_a_small_entry_is_written() {
    let fs = both_file_systems().remove(1);
    let path = fs.table_path(1);
    let options = TableOptions {
        compression: Compression::None,
        bloom_bits_per_key: 0,
        ..TableOptions::default()
    };
    let mut writer = TableWriter::create(fs.vfs.as_ref(), &path, 1, &options).expect("create");
    // Below the 4096-byte block size: it stays pending.
    writer.add(b"a", Timestamp(1), Some(&[1u8; 3_000])).expect("small entry");
    let big = vec![7u8; lightning_core_storage::codec::MAX_UNCOMPRESSED_LEN - 1_000];
    writer.add(b"b", Timestamp(1), Some(&big)).expect("a value below the bound is accepted");
    drop(big);
    writer.add(b"c", Timestamp(1), Some(b"small")).expect("small entry after it");
    let meta = writer.finish().expect("finish");
    assert_eq!(meta.entries, 3);
    if let Some(fault) = &fs.fault {
        fault.remove(&path).expect("free the in-memory file");
    }
}

/// `docs/format/sstable.md` and `TableOptions::block_size` said an entry larger than the block
/// size "gets a block of its own"; the writer closes a block only once it has reached the block
/// size, so such an entry joins (and ends) the pending block. The docs now say so; this pins
/// the behaviour they describe (the v1 fixture depends on it).
#[test]
fn an_entry_larger_than_the_block_size_ends_the_block_it_joins() {
    let fs = both_file_systems().remove(1);
    let mut model = Model::new();
    model.insert(InternalKey::new(*b"a", Timestamp(1)), Some(b"small".to_vec()));
    model.insert(InternalKey::new(*b"b", Timestamp(1)), Some(vec![3u8; 10_000]));
    model.insert(InternalKey::new(*b"c", Timestamp(1)), Some(b"small".to_vec()));
    let options = TableOptions { compression: Compression::None, ..TableOptions::default() };
    write_table(fs.vfs.as_ref(), &fs.table_path(1), 1, &options, &model);
    let table = fs.open(1);
    assert_eq!(table.properties().data_blocks, 2, "[a, b] then [c]");
    assert!(table.check().expect("check").is_empty());
}

/// `Manifest::rewrite` computed the next manifest number as `self.number + 1`, a number read
/// from CURRENT: a (checksum-valid) `MANIFEST-18446744073709551615` opened fine and its first
/// rewrite panicked on the overflow instead of returning an error.
#[test]
fn a_rewrite_of_the_last_possible_manifest_number_is_an_error_not_a_panic() {
    use lightning_lsm::manifest::format::{FRAME_HEADER, frame_record, manifest_name};

    let fs = FaultFs::new();
    let dir = Path::new("/db/lsm");
    let (manifest, _) = Manifest::open(Arc::new(fs.clone()), dir, 4).expect("create");
    drop(manifest);
    let first = dir.join("MANIFEST-000001");
    let bytes = fs.file_contents(&first).expect("the first manifest");
    let last = dir.join(manifest_name(u64::MAX));
    let file = fs.open(&last, OpenMode::CreateNew).expect("create");
    file.write_all_at(&frame_record(u64::MAX, &bytes[FRAME_HEADER..]), 0).expect("write");
    drop(file);
    fs.remove(&first).expect("remove");
    let current = fs.open(&dir.join("CURRENT"), OpenMode::ReadWrite).expect("CURRENT");
    current.set_len(0).expect("truncate");
    current.write_all_at(format!("{}\n", manifest_name(u64::MAX)).as_bytes(), 0).expect("write");
    drop(current);
    let (mut manifest, _) = Manifest::open(Arc::new(fs.clone()), dir, 4).expect("opens");
    assert!(manifest.rewrite().is_err(), "no manifest number is left for the rewrite");
}

/// `log_edit` rewrote the manifest whenever the live log was longer than `max_log_bytes`,
/// counting the snapshot: once the state's own snapshot is over the bound (many tables, or
/// long keys: each table records its smallest and largest key), every edit rewrote the whole
/// state into a new manifest (a full write, three syncs and a CURRENT switch per flush).
#[test]
fn a_snapshot_larger_than_max_log_bytes_is_not_rewritten_on_every_edit() {
    use lightning_core_storage::Lsn;
    use lightning_lsm::manifest::ManifestOptions;

    let fs = FaultFs::new();
    let dir = Path::new("/db/lsm");
    let options = ManifestOptions { max_log_bytes: 4096, max_log_edits: u64::MAX };
    let (mut manifest, _) =
        Manifest::open_with_options(Arc::new(fs.clone()), dir, 4, options).expect("create");
    let key = |i: u64| format!("{i:04}{}", "k".repeat(500));
    let mut edit = VersionEdit::new();
    for i in 1..=10 {
        let mut table = table_of_size(i, "", "", 1 << 20);
        table.smallest.key = key(2 * i).into_bytes();
        table.largest.key = key(2 * i + 1).into_bytes();
        edit.add_table(1, table);
    }
    manifest.log_edit(&edit).expect("ten tables with long keys");
    let after_big_edit = manifest.number();
    for lsn in 1..=10 {
        let mut counters = VersionEdit::new();
        counters.durable_lsn = Some(Lsn(lsn));
        manifest.log_edit(&counters).expect("a small edit");
    }
    assert!(
        manifest.number() <= after_big_edit + 1,
        "ten small edits rewrote the manifest {} times",
        manifest.number() - after_big_edit
    );
}

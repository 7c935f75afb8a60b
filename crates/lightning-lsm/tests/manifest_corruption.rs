//! Damage to a manifest is `Corruption` naming the file and the offset, never a silent
//! fresh start; only damage to the last record reads as the torn append it cannot be told
//! apart from.

use std::{path::Path, sync::Arc};

use lightning_core_storage::{
    Error, Lsn, Result, Timestamp,
    vfs::{FaultFs, OpenMode, Vfs},
};
use lightning_lsm::{
    InternalKey, TableMeta,
    manifest::{Manifest, RecoveredState},
    version::VersionEdit,
};

const DIR: &str = "/db/lsm";
const MANIFEST: &str = "/db/lsm/MANIFEST-000001";

fn flush_edit(number: u64) -> VersionEdit {
    let mut edit = VersionEdit::new();
    edit.add_table(
        0,
        TableMeta {
            file_number: number,
            file_size: 2048,
            smallest: InternalKey::new(*b"apple", Timestamp(9)),
            largest: InternalKey::new(*b"pear", Timestamp(3)),
            entries: 4,
            tombstones: 1,
            min_ts: Timestamp(3),
            max_ts: Timestamp(9),
        },
    );
    edit.next_file_number = Some(number + 1);
    edit.durable_lsn = Some(Lsn(number));
    edit
}

fn open(fs: &FaultFs) -> Result<(Manifest, RecoveredState)> {
    Manifest::open(Arc::new(fs.clone()), Path::new(DIR), 7)
}

/// A manifest with a snapshot and three edits; returns the offsets of the four records and
/// the file's length.
fn three_edits(fs: &FaultFs) -> (Vec<u64>, u64) {
    let (mut manifest, _) = open(fs).expect("create");
    let mut offsets = vec![0];
    for n in 1..=3 {
        offsets.push(manifest.log_bytes());
        manifest.log_edit(&flush_edit(n)).expect("edit");
    }
    (offsets, manifest.log_bytes())
}

fn corruption_text(result: Result<(Manifest, RecoveredState)>) -> String {
    match result {
        Err(err @ Error::Corruption { .. }) => err.to_string(),
        Err(other) => panic!("expected Corruption, got {other}"),
        Ok((_, state)) => panic!("expected Corruption, opened to {state:?}"),
    }
}

#[test]
fn a_flipped_byte_anywhere_in_a_middle_record_is_corruption_at_its_offset() {
    let fs = FaultFs::new();
    let (offsets, _) = three_edits(&fs);
    let original = fs.file_contents(Path::new(MANIFEST)).expect("manifest");
    for record in 1..=2 {
        for at in offsets[record]..offsets[record + 1] {
            assert!(fs.corrupt_byte(Path::new(MANIFEST), at, 0x04));
            let text = corruption_text(open(&fs));
            let expected = format!("MANIFEST-000001 offset {}", offsets[record]);
            assert!(text.contains(&expected), "byte {at}: {text}");
            assert!(fs.corrupt_byte(Path::new(MANIFEST), at, 0x04), "undo");
        }
    }
    assert_eq!(fs.file_contents(Path::new(MANIFEST)).expect("manifest"), original);
    open(&fs).expect("the undamaged manifest opens");
}

#[test]
fn a_flipped_byte_in_the_snapshot_record_is_corruption() {
    let fs = FaultFs::new();
    let (offsets, _) = three_edits(&fs);
    assert!(fs.corrupt_byte(Path::new(MANIFEST), offsets[1] / 2, 0x80));
    let text = corruption_text(open(&fs));
    assert!(text.contains("MANIFEST-000001 offset 0"), "{text}");
}

#[test]
fn a_flipped_byte_in_the_last_record_drops_that_edit_as_a_torn_append() {
    let fs = FaultFs::new();
    let (offsets, end) = three_edits(&fs);
    assert!(fs.corrupt_byte(Path::new(MANIFEST), end - 1, 0x01));
    let (_, state) = open(&fs).expect("a damaged last record reads as a torn tail");
    assert_eq!(state.version.level(0).len(), 2, "the third edit is dropped");
    assert_eq!(state.durable_lsn, Lsn(2));
    let len = fs.file_contents(Path::new(MANIFEST)).expect("manifest").len() as u64;
    assert_eq!(len, offsets[3], "and cut off");
}

#[test]
fn a_manifest_of_garbage_or_nothing_named_by_current_is_corruption() {
    for contents in [&b""[..], &[0x42; 100][..]] {
        let fs = FaultFs::new();
        drop(open(&fs).expect("create"));
        let file = fs.open(Path::new(MANIFEST), OpenMode::ReadWrite).expect("open");
        file.set_len(0).expect("truncate");
        file.write_all_at(contents, 0).expect("write");
        file.sync_data().expect("sync");
        let text = corruption_text(open(&fs));
        assert!(
            text.contains("MANIFEST-000001 offset 0: the manifest holds no valid record"),
            "{text}"
        );
    }
}

#[test]
fn a_manifest_renamed_to_another_number_does_not_verify() {
    let fs = FaultFs::new();
    three_edits(&fs);
    fs.rename(Path::new(MANIFEST), Path::new("/db/lsm/MANIFEST-000002")).expect("rename");
    let current = fs.open(&Path::new(DIR).join("CURRENT"), OpenMode::ReadWrite).expect("CURRENT");
    current.write_all_at(b"MANIFEST-000002\n", 0).expect("write");
    let text = corruption_text(open(&fs));
    assert!(text.contains("MANIFEST-000002 offset 0"), "{text}");
}

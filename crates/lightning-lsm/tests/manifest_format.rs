//! The manifest format pinned byte for byte (`docs/format/manifest.md`, version 1): this
//! build must write exactly these bytes for these edits, and every later build must still
//! open them.

use std::{path::Path, sync::Arc};

use lightning_core_storage::{
    Lsn, Timestamp,
    vfs::{FaultFs, OpenMode, Vfs},
};
use lightning_lsm::{InternalKey, TableMeta, manifest::Manifest, version::VersionEdit};

const DIR: &str = "/lsm";

/// MANIFEST-000001 after `edits()`: the empty snapshot, a flush, a move with counters.
const V1_MANIFEST_HEX: &str = concat!(
    // record 1 at offset 0: the empty snapshot
    "240000005126059be020075c", // length, checksum
    "010107000100000000000000000000000000000000000000000000000000000000000000", // fixed payload
    // record 2 at offset 48: a delta adding table 7 to L0
    "72000000b20c7dfd0c11db19", // length, checksum
    "010201000800000000000000000000000000000000000000000000000000000001000000", // fixed payload
    "00070000000000000034120000000000000500000000000000010000000000000002000000000000000900000000000000090000000000000002000000000000000200000003000000616278797a",
    // record 3 at offset 174: a delta moving table 7 to L1, setting durable_lsn and max_commit_ts
    "7b0000005f8dd55cb86613be", // length, checksum
    "010206000000000000000000420000000000000009000000000000000100000001000000", // fixed payload
    "00070000000000000001070000000000000034120000000000000500000000000000010000000000000002000000000000000900000000000000090000000000000002000000000000000200000003000000616278797a",
);

fn edits() -> Vec<VersionEdit> {
    let mut flush = VersionEdit::new();
    flush.add_table(
        0,
        TableMeta {
            file_number: 7,
            file_size: 0x1234,
            smallest: InternalKey::new(*b"ab", Timestamp(9)),
            largest: InternalKey::new(*b"xyz", Timestamp(2)),
            entries: 5,
            tombstones: 1,
            min_ts: Timestamp(2),
            max_ts: Timestamp(9),
        },
    );
    flush.next_file_number = Some(8);
    let mut moved = VersionEdit::new();
    moved.remove_table(0, 7);
    moved.add_table(1, flush.added[0].1.clone());
    moved.durable_lsn = Some(Lsn(0x42));
    moved.max_commit_ts = Some(Timestamp(9));
    vec![flush, moved]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn the_writer_reproduces_the_version_1_bytes() {
    let fs = FaultFs::new();
    let (mut manifest, _) =
        Manifest::open(Arc::new(fs.clone()), Path::new(DIR), 7).expect("create");
    for edit in edits() {
        manifest.log_edit(&edit).expect("edit");
    }
    let bytes = fs.file_contents(&Path::new(DIR).join("MANIFEST-000001")).expect("manifest");
    assert_eq!(hex(&bytes), V1_MANIFEST_HEX);
}

#[test]
fn version_1_bytes_open_to_their_state() {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new(DIR)).expect("mkdir");
    for (name, bytes) in
        [("MANIFEST-000001", unhex(V1_MANIFEST_HEX)), ("CURRENT", b"MANIFEST-000001\n".to_vec())]
    {
        let file = fs.open(&Path::new(DIR).join(name), OpenMode::CreateNew).expect("create");
        file.write_all_at(&bytes, 0).expect("write");
    }
    let (_, state) = Manifest::open(Arc::new(fs), Path::new(DIR), 7).expect("open the fixture");
    assert!(state.version.level(0).is_empty());
    let table = &state.version.level(1)[0];
    assert_eq!(
        (table.file_number, table.file_size, table.entries, table.tombstones),
        (7, 0x1234, 5, 1)
    );
    assert_eq!(table.smallest, InternalKey::new(*b"ab", Timestamp(9)));
    assert_eq!(table.largest, InternalKey::new(*b"xyz", Timestamp(2)));
    assert_eq!(
        (state.next_file_number, state.durable_lsn, state.max_commit_ts),
        (8, Lsn(0x42), Timestamp(9))
    );
}

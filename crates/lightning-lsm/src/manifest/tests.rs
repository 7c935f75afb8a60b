//! Unit tests of the manifest's record codec and log reader.

use lightning_core_storage::{Lsn, Timestamp};

use super::{
    codec::{decode_payload, encode_payload},
    format::{FRAME_HEADER, RecordKind, frame_record, manifest_name, parse_manifest_name},
    orphans::parse_table_name,
    replay::read_log,
};
use crate::{internal_key::InternalKey, table_meta::TableMeta, version::VersionEdit};

fn table(number: u64, first: &[u8], last: &[u8]) -> TableMeta {
    TableMeta {
        file_number: number,
        file_size: 4096 + number,
        smallest: InternalKey::new(first, Timestamp(90 + number)),
        largest: InternalKey::new(last, Timestamp(3)),
        entries: 1000 + number,
        tombstones: 7,
        min_ts: Timestamp(3),
        max_ts: Timestamp(90 + number),
    }
}

fn sample_edit() -> VersionEdit {
    let mut edit = VersionEdit::new();
    edit.add_table(0, table(12, b"apple", b"pear"))
        .add_table(3, table(13, b"", b"\xff\x00binary"))
        .remove_table(1, 4)
        .remove_table(6, 9);
    edit.next_file_number = Some(14);
    edit.durable_lsn = Some(Lsn(5000));
    edit
}

#[test]
fn an_edit_round_trips_through_its_payload() {
    let edit = sample_edit();
    let payload = encode_payload(RecordKind::Delta, &edit).expect("encodes");
    let (kind, decoded) = decode_payload(&payload).expect("decodes");
    assert_eq!(kind, RecordKind::Delta);
    assert_eq!(decoded, edit);
    assert_eq!(decoded.max_commit_ts, None, "an absent counter stays absent");
}

#[test]
fn decoding_refuses_every_malformed_field() {
    let payload = encode_payload(RecordKind::Delta, &sample_edit()).expect("encodes");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            {
                let mut p = payload.clone();
                p[0] = 9;
                p
            },
            "unknown manifest format version 9",
        ),
        (
            {
                let mut p = payload.clone();
                p[1] = 0;
                p
            },
            "unknown record kind 0",
        ),
        (
            {
                let mut p = payload.clone();
                p[2] |= 0x80;
                p
            },
            "unknown flag bits",
        ),
        (
            {
                let mut p = payload.clone();
                p[3] = 1;
                p
            },
            "reserved byte",
        ),
        (
            {
                let mut p = payload.clone();
                p.push(0);
                p
            },
            "1 bytes left over",
        ),
        (payload[..payload.len() - 1].to_vec(), "payload ends inside"),
        (
            {
                let mut p = payload.clone();
                p[28..32].copy_from_slice(&u32::MAX.to_le_bytes());
                p
            },
            "need at least",
        ),
        (Vec::new(), "payload ends inside the format version"),
    ];
    for (bytes, expected) in cases {
        let err = decode_payload(&bytes).expect_err(expected);
        assert!(err.contains(expected), "expected {expected:?}, got {err:?}");
    }
}

#[test]
fn a_snapshot_must_set_every_counter_and_remove_nothing() {
    let payload = encode_payload(RecordKind::Snapshot, &sample_edit()).expect("encodes");
    let err = decode_payload(&payload).expect_err("a snapshot that removes tables");
    assert!(err.contains("snapshot record must set every counter"), "{err}");
    let mut snapshot = VersionEdit::new();
    snapshot.next_file_number = Some(1);
    snapshot.durable_lsn = Some(Lsn(0));
    snapshot.max_commit_ts = Some(Timestamp(0));
    let payload = encode_payload(RecordKind::Snapshot, &snapshot).expect("encodes");
    assert_eq!(decode_payload(&payload).expect("decodes"), (RecordKind::Snapshot, snapshot));
}

#[test]
fn a_level_above_255_cannot_be_encoded() {
    let mut edit = VersionEdit::new();
    edit.remove_table(256, 1);
    let err = encode_payload(RecordKind::Delta, &edit).expect_err("level 256");
    assert!(err.to_string().contains("level 256"), "{err}");
}

fn log_of(records: &[VersionEdit], number: u64) -> (Vec<u8>, Vec<usize>) {
    let mut bytes = Vec::new();
    let mut offsets = Vec::new();
    for (i, edit) in records.iter().enumerate() {
        let kind = if i == 0 { RecordKind::Snapshot } else { RecordKind::Delta };
        let payload = if i == 0 {
            let mut snapshot = edit.clone();
            snapshot.removed.clear();
            snapshot.next_file_number = Some(1);
            snapshot.durable_lsn = Some(Lsn(0));
            snapshot.max_commit_ts = Some(Timestamp(0));
            encode_payload(kind, &snapshot)
        } else {
            encode_payload(kind, edit)
        };
        offsets.push(bytes.len());
        bytes.extend(frame_record(number, &payload.expect("encodes")));
    }
    (bytes, offsets)
}

#[test]
fn a_torn_last_record_is_dropped_and_its_bytes_counted() {
    let (bytes, offsets) = log_of(&[VersionEdit::new(), sample_edit(), sample_edit()], 3);
    for cut in offsets[2] + 1..bytes.len() {
        let log = read_log(&bytes[..cut], 3, "MANIFEST-000003").expect("a torn tail is not damage");
        assert_eq!(log.records.len(), 2);
        assert_eq!(log.valid_len, offsets[2] as u64);
        assert_eq!(log.torn_bytes(), (cut - offsets[2]) as u64);
    }
    let log = read_log(&bytes, 3, "MANIFEST-000003").expect("whole log");
    assert_eq!(log.records.len(), 3);
    assert_eq!(log.torn_bytes(), 0);
}

#[test]
fn garbage_after_the_last_record_is_a_torn_tail() {
    let (mut bytes, offsets) = log_of(&[VersionEdit::new(), sample_edit()], 3);
    let end = bytes.len();
    bytes.extend(std::iter::repeat_n(0u8, 700));
    bytes.extend(std::iter::repeat_n(0xa5u8, 300));
    let log = read_log(&bytes, 3, "MANIFEST-000003").expect("garbage tail");
    assert_eq!(log.records.len(), offsets.len());
    assert_eq!(log.valid_len, end as u64);
    assert_eq!(log.torn_bytes(), 1000);
}

#[test]
fn a_damaged_record_followed_by_a_valid_one_is_corruption_at_its_offset() {
    let (bytes, offsets) = log_of(&[VersionEdit::new(), sample_edit(), sample_edit()], 3);
    for at in offsets[1]..offsets[2] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x10;
        let err =
            read_log(&damaged, 3, "MANIFEST-000003").expect_err("damage before a valid record");
        let text = err.to_string();
        assert!(err.is_corruption(), "{text}");
        assert!(
            text.contains(&format!("MANIFEST-000003 offset {}", offsets[1])),
            "byte {at}: {text}"
        );
        assert!(
            text.contains(&format!("valid record at offset {}", offsets[2])),
            "byte {at}: {text}"
        );
    }
}

#[test]
fn a_record_from_another_manifest_does_not_verify() {
    let (bytes, _) = log_of(&[VersionEdit::new()], 3);
    let log = read_log(&bytes, 4, "MANIFEST-000004").expect("reads as a torn tail");
    assert!(log.records.is_empty());
    assert_eq!(log.torn_bytes(), bytes.len() as u64);
    assert!(bytes.len() > FRAME_HEADER);
}

#[test]
fn file_names_parse_only_in_their_own_spelling() {
    assert_eq!(manifest_name(7), "MANIFEST-000007");
    assert_eq!(parse_manifest_name("MANIFEST-000007"), Some(7));
    assert_eq!(parse_manifest_name("MANIFEST-12345678"), Some(12_345_678));
    for bad in ["MANIFEST-", "MANIFEST-12a", "MANIFEST-+1", "CURRENT", "manifest-000001"] {
        assert_eq!(parse_manifest_name(bad), None, "{bad}");
    }
    assert_eq!(parse_table_name("000042.sst"), Some(42));
    for bad in [".sst", "x1.sst", "000042.sst.tmp", "000042"] {
        assert_eq!(parse_table_name(bad), None, "{bad}");
    }
}

mod open_rules {
    use std::{path::Path, sync::Arc};

    use lightning_core_storage::vfs::{FaultFs, OpenMode, Vfs};

    use super::*;
    use crate::manifest::Manifest;

    /// A directory whose CURRENT names MANIFEST-000001 holding records of these payloads.
    fn manifest_of(payloads: &[Vec<u8>]) -> FaultFs {
        let fs = FaultFs::new();
        drop(Manifest::open(Arc::new(fs.clone()), Path::new("/lsm"), 7).expect("create"));
        let file = fs.open(Path::new("/lsm/MANIFEST-000001"), OpenMode::ReadWrite).expect("open");
        file.set_len(0).expect("truncate");
        let mut at = 0;
        for payload in payloads {
            let record = frame_record(1, payload);
            file.write_all_at(&record, at).expect("write");
            at += record.len() as u64;
        }
        file.sync_data().expect("sync");
        fs
    }

    fn snapshot() -> Vec<u8> {
        let mut edit = VersionEdit::new();
        edit.next_file_number = Some(1);
        edit.durable_lsn = Some(Lsn(0));
        edit.max_commit_ts = Some(Timestamp(0));
        encode_payload(RecordKind::Snapshot, &edit).expect("encodes")
    }

    fn open_error(fs: &FaultFs) -> String {
        match Manifest::open(Arc::new(fs.clone()), Path::new("/lsm"), 7) {
            Err(err) if err.is_corruption() => err.to_string(),
            Err(err) => panic!("expected Corruption, got {err}"),
            Ok(_) => panic!("expected Corruption, but it opened"),
        }
    }

    #[test]
    fn the_first_record_must_be_a_snapshot() {
        let delta = encode_payload(RecordKind::Delta, &VersionEdit::new()).expect("encodes");
        let fs = manifest_of(&[delta]);
        assert!(
            open_error(&fs).contains("offset 0: the manifest's first record is not a snapshot")
        );
    }

    #[test]
    fn a_second_snapshot_is_corruption_at_its_offset() {
        let first = snapshot();
        let offset = FRAME_HEADER + first.len();
        let fs = manifest_of(&[first, snapshot()]);
        let text = open_error(&fs);
        assert!(
            text.contains(&format!("offset {offset}: a snapshot record after the first")),
            "{text}"
        );
    }

    #[test]
    fn a_verified_record_of_a_newer_format_version_is_corruption_naming_it() {
        let mut newer = encode_payload(RecordKind::Delta, &VersionEdit::new()).expect("encodes");
        newer[0] = 2;
        let offset = FRAME_HEADER + snapshot().len();
        let fs = manifest_of(&[snapshot(), newer]);
        let text = open_error(&fs);
        assert!(
            text.contains(&format!("offset {offset}: unknown manifest format version 2")),
            "{text}"
        );
    }
}

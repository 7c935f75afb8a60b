//! Reading a manifest file back: its records in order, and where the valid log ends.
//!
//! The rule for damage (LevelDB's, made strict): a record that does not verify is either the
//! torn tail of an append the power cut interrupted, or damage. It is the tail if no verifying
//! record starts anywhere after it; then it and everything after it is dropped (the append was
//! never acknowledged, since `log_edit` returns only after `sync_data`). If a verifying record
//! follows, acknowledged edits lie beyond the damage, and the file is `Corruption`.

use lightning_core_storage::{Error, Result};

use super::{
    codec::decode_payload,
    format::{RecordKind, verified_record_at},
};
use crate::version::VersionEdit;

/// One record read back.
#[derive(Debug)]
pub struct LoggedEdit {
    /// The record's offset in the file.
    pub offset: u64,
    /// Snapshot or delta.
    pub kind: RecordKind,
    /// The edit it holds.
    pub edit: VersionEdit,
}

/// A manifest file read back.
#[derive(Debug)]
pub struct ManifestLog {
    /// The verified records, in order.
    pub records: Vec<LoggedEdit>,
    /// Where the last verified record ends: the offset the next append goes to.
    pub valid_len: u64,
    /// The file's length; beyond `valid_len` is a torn tail.
    pub file_len: u64,
}

impl ManifestLog {
    /// Bytes after the last valid record (a torn append).
    pub fn torn_bytes(&self) -> u64 {
        self.file_len - self.valid_len
    }
}

/// The location string of byte `offset` of manifest `name`.
pub fn location(name: &str, offset: u64) -> String {
    format!("{name} offset {offset}")
}

/// Reads the records of manifest `name` (number `manifest_number`) from its `bytes`.
pub fn read_log(bytes: &[u8], manifest_number: u64, name: &str) -> Result<ManifestLog> {
    let mut records = Vec::new();
    let mut offset = 0usize;
    while offset < bytes.len() {
        let Some((payload, next)) = verified_record_at(bytes, offset, manifest_number) else {
            if let Some(later) = first_verified_after(bytes, offset, manifest_number) {
                return Err(Error::corruption(
                    format!(
                        "damaged record (bad length or checksum) followed by a valid record at \
                         offset {later}: not a torn append"
                    ),
                    location(name, offset as u64),
                ));
            }
            break;
        };
        let (kind, edit) = decode_payload(payload)
            .map_err(|what| Error::corruption(what, location(name, offset as u64)))?;
        records.push(LoggedEdit { offset: offset as u64, kind, edit });
        offset = next;
    }
    Ok(ManifestLog { records, valid_len: offset as u64, file_len: bytes.len() as u64 })
}

/// The offset of the first record after `offset` whose frame verifies, if any. Each candidate
/// costs a bounds check, and a checksum only when its length fits the file.
fn first_verified_after(bytes: &[u8], offset: usize, manifest_number: u64) -> Option<usize> {
    (offset + 1..bytes.len()).find(|&at| verified_record_at(bytes, at, manifest_number).is_some())
}

//! Encoding a [`VersionEdit`] as a record payload and decoding it back (layout in
//! [`super::format`], spec in `docs/format/manifest.md`). Little-endian, fixed-width fields.

use lightning_core_storage::{Error, Lsn, Result, Timestamp};

use super::format::{
    ADDED_FIXED, FLAG_DURABLE_LSN, FLAG_MAX_COMMIT_TS, FLAG_NEXT_FILE_NUMBER, FLAGS_KNOWN,
    FormatVersion, MAX_PAYLOAD_BYTES, PAYLOAD_FIXED, REMOVED_ENTRY, RecordKind,
};
use crate::{internal_key::InternalKey, table_meta::TableMeta, version::VersionEdit};

fn too_big(what: String) -> Error {
    Error::InvalidInput(format!("version edit cannot be stored: {what}"))
}

fn level_byte(level: usize) -> Result<u8> {
    u8::try_from(level).map_err(|_| too_big(format!("level {level} is above 255")))
}

fn count_u32(count: usize, what: &str) -> Result<u32> {
    u32::try_from(count).map_err(|_| too_big(format!("{count} {what}")))
}

/// The payload of a record of `kind` holding `edit`. `InvalidInput` if a field does not fit
/// its width (a level above 255, a key over 4 GiB) or the payload exceeds the record limit.
pub fn encode_payload(kind: RecordKind, edit: &VersionEdit) -> Result<Vec<u8>> {
    let keys: usize =
        edit.added.iter().map(|(_, t)| t.smallest.key.len() + t.largest.key.len()).sum();
    let size =
        PAYLOAD_FIXED + edit.removed.len() * REMOVED_ENTRY + edit.added.len() * ADDED_FIXED + keys;
    if size > MAX_PAYLOAD_BYTES {
        return Err(too_big(format!("{size} bytes, above the {MAX_PAYLOAD_BYTES}-byte limit")));
    }
    let mut out = Vec::with_capacity(size);
    let mut flags = 0;
    for (present, flag) in [
        (edit.next_file_number.is_some(), FLAG_NEXT_FILE_NUMBER),
        (edit.durable_lsn.is_some(), FLAG_DURABLE_LSN),
        (edit.max_commit_ts.is_some(), FLAG_MAX_COMMIT_TS),
    ] {
        if present {
            flags |= flag;
        }
    }
    out.extend_from_slice(&[FormatVersion::CURRENT as u8, kind as u8, flags, 0]);
    out.extend_from_slice(&edit.next_file_number.unwrap_or(0).to_le_bytes());
    out.extend_from_slice(&edit.durable_lsn.unwrap_or(Lsn::ZERO).0.to_le_bytes());
    out.extend_from_slice(&edit.max_commit_ts.unwrap_or(Timestamp::ZERO).0.to_le_bytes());
    out.extend_from_slice(&count_u32(edit.removed.len(), "removed tables")?.to_le_bytes());
    out.extend_from_slice(&count_u32(edit.added.len(), "added tables")?.to_le_bytes());
    for &(level, number) in &edit.removed {
        out.push(level_byte(level)?);
        out.extend_from_slice(&number.to_le_bytes());
    }
    for (level, table) in &edit.added {
        out.push(level_byte(*level)?);
        for field in [
            table.file_number,
            table.file_size,
            table.entries,
            table.tombstones,
            table.min_ts.0,
            table.max_ts.0,
            table.smallest.ts.0,
            table.largest.ts.0,
        ] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        out.extend_from_slice(&count_u32(table.smallest.key.len(), "bytes of key")?.to_le_bytes());
        out.extend_from_slice(&count_u32(table.largest.key.len(), "bytes of key")?.to_le_bytes());
        out.extend_from_slice(&table.smallest.key);
        out.extend_from_slice(&table.largest.key);
    }
    debug_assert_eq!(out.len(), size, "the size computed up front is the size written");
    Ok(out)
}

/// A cursor over payload bytes whose every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end =
            self.at.checked_add(n).filter(|&end| end <= self.bytes.len()).ok_or_else(|| {
                format!("payload ends inside {what} (needs {n} bytes at payload byte {})", self.at)
            })?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        let bytes = self.take(4, what)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64, String> {
        let mut word = [0u8; 8];
        word.copy_from_slice(self.take(8, what)?);
        Ok(u64::from_le_bytes(word))
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }
}

/// The kind and edit a payload holds, or what is wrong with it (the caller names the file and
/// offset). Every field is checked: an unknown version, kind or flag, a nonzero reserved byte,
/// a snapshot missing a counter or removing tables, and bytes left over are all refused.
pub fn decode_payload(payload: &[u8]) -> Result<(RecordKind, VersionEdit), String> {
    let mut r = Reader { bytes: payload, at: 0 };
    let version = r.u8("the format version")?;
    if FormatVersion::from_byte(version).is_none() {
        return Err(format!(
            "unknown manifest format version {version} (this build reads version {})",
            FormatVersion::CURRENT as u8
        ));
    }
    let kind_byte = r.u8("the record kind")?;
    let kind =
        RecordKind::from_byte(kind_byte).ok_or(format!("unknown record kind {kind_byte}"))?;
    let flags = r.u8("the flags")?;
    if flags & !FLAGS_KNOWN != 0 {
        return Err(format!("unknown flag bits {flags:#04x}"));
    }
    if r.u8("the reserved byte")? != 0 {
        return Err("reserved byte is not zero".to_owned());
    }
    let next_file_number = r.u64("next_file_number")?;
    let durable_lsn = r.u64("durable_lsn")?;
    let max_commit_ts = r.u64("max_commit_ts")?;
    let removed_count = r.u32("the removed-table count")? as usize;
    let added_count = r.u32("the added-table count")? as usize;
    let least = (removed_count.saturating_mul(REMOVED_ENTRY))
        .saturating_add(added_count.saturating_mul(ADDED_FIXED));
    if least > r.remaining() {
        return Err(format!(
            "{removed_count} removed and {added_count} added tables need at least {least} bytes, \
             but {} remain",
            r.remaining()
        ));
    }
    let mut edit = VersionEdit {
        next_file_number: (flags & FLAG_NEXT_FILE_NUMBER != 0).then_some(next_file_number),
        durable_lsn: (flags & FLAG_DURABLE_LSN != 0).then_some(Lsn(durable_lsn)),
        max_commit_ts: (flags & FLAG_MAX_COMMIT_TS != 0).then_some(Timestamp(max_commit_ts)),
        ..VersionEdit::default()
    };
    edit.removed.reserve(removed_count);
    for _ in 0..removed_count {
        let level = r.u8("a removed table's level")? as usize;
        edit.removed.push((level, r.u64("a removed table's number")?));
    }
    edit.added.reserve(added_count);
    for _ in 0..added_count {
        edit.added.push(decode_table(&mut r)?);
    }
    if r.remaining() != 0 {
        return Err(format!("{} bytes left over after the last table", r.remaining()));
    }
    if kind == RecordKind::Snapshot && (flags != FLAGS_KNOWN || !edit.removed.is_empty()) {
        return Err("a snapshot record must set every counter and remove nothing".to_owned());
    }
    Ok((kind, edit))
}

fn decode_table(r: &mut Reader<'_>) -> Result<(usize, TableMeta), String> {
    let level = r.u8("an added table's level")? as usize;
    let mut fields = [0u64; 8];
    for field in &mut fields {
        *field = r.u64("an added table's fields")?;
    }
    let [file_number, file_size, entries, tombstones, min_ts, max_ts, smallest_ts, largest_ts] =
        fields;
    let smallest_len = r.u32("an added table's key length")? as usize;
    let largest_len = r.u32("an added table's key length")? as usize;
    let smallest = r.take(smallest_len, "an added table's smallest key")?.to_vec();
    let largest = r.take(largest_len, "an added table's largest key")?.to_vec();
    let table = TableMeta {
        file_number,
        file_size,
        smallest: InternalKey::new(smallest, Timestamp(smallest_ts)),
        largest: InternalKey::new(largest, Timestamp(largest_ts)),
        entries,
        tombstones,
        min_ts: Timestamp(min_ts),
        max_ts: Timestamp(max_ts),
    };
    Ok((level, table))
}

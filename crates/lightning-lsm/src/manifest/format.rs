//! The one description in code of the manifest's layout (spec: `docs/format/manifest.md`):
//! file names, the record frame and the payload's fixed fields, as cumulative offsets.

use xxhash_rust::xxh3::Xxh3;

/// The name of the file naming the live manifest.
pub const CURRENT: &str = "CURRENT";
/// The temporary name CURRENT is written under before it is renamed into place.
pub const CURRENT_TMP: &str = "CURRENT.tmp";
/// The prefix of a manifest file's name; the manifest number follows in 6 or more digits.
pub const MANIFEST_PREFIX: &str = "MANIFEST-";
/// The longest CURRENT file accepted (a manifest name and a newline are far shorter).
pub const MAX_CURRENT_BYTES: u64 = 64;

/// The name of manifest `number`.
pub fn manifest_name(number: u64) -> String {
    format!("{MANIFEST_PREFIX}{number:06}")
}

/// The number of a manifest file's name, or `None` if `name` is not one.
pub fn parse_manifest_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(MANIFEST_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

// The record frame: `[length u32][checksum u64][payload]`.
/// Offset of the payload length (u32).
pub const FRAME_LENGTH: usize = 0;
/// Offset of the checksum (u64): xxh3-64 seeded with the manifest number over the length
/// field and the payload.
pub const FRAME_CHECKSUM: usize = FRAME_LENGTH + 4;
/// The frame header's size; the payload starts here.
pub const FRAME_HEADER: usize = FRAME_CHECKSUM + 8;
const _: () = assert!(FRAME_HEADER == 12);
/// The largest payload a record may carry.
pub const MAX_PAYLOAD_BYTES: usize = 1 << 30;

/// The payload format versions this build knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FormatVersion {
    /// The first (and current) version.
    V1 = 1,
}

impl FormatVersion {
    /// The version new records are written in.
    pub const CURRENT: FormatVersion = FormatVersion::V1;

    /// The version of a stored byte, if this build reads it.
    pub fn from_byte(byte: u8) -> Option<FormatVersion> {
        match byte {
            1 => Some(FormatVersion::V1),
            _ => None,
        }
    }
}

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RecordKind {
    /// The whole state (applied to empty levels); always the first record, and only it.
    Snapshot = 1,
    /// A change to the state so far.
    Delta = 2,
}

impl RecordKind {
    /// The kind of a stored byte.
    pub fn from_byte(byte: u8) -> Option<RecordKind> {
        match byte {
            1 => Some(RecordKind::Snapshot),
            2 => Some(RecordKind::Delta),
            _ => None,
        }
    }
}

// The payload's fixed part.
/// Offset of the format version (u8).
pub const PAYLOAD_VERSION: usize = 0;
/// Offset of the record kind (u8).
pub const PAYLOAD_KIND: usize = PAYLOAD_VERSION + 1;
/// Offset of the flags saying which counters are present (u8).
pub const PAYLOAD_FLAGS: usize = PAYLOAD_KIND + 1;
/// Offset of a reserved byte (zero).
pub const PAYLOAD_RESERVED: usize = PAYLOAD_FLAGS + 1;
/// Offset of `next_file_number` (u64; meaningful if [`FLAG_NEXT_FILE_NUMBER`]).
pub const PAYLOAD_NEXT_FILE_NUMBER: usize = PAYLOAD_RESERVED + 1;
/// Offset of `durable_lsn` (u64; meaningful if [`FLAG_DURABLE_LSN`]).
pub const PAYLOAD_DURABLE_LSN: usize = PAYLOAD_NEXT_FILE_NUMBER + 8;
/// Offset of `max_commit_ts` (u64; meaningful if [`FLAG_MAX_COMMIT_TS`]).
pub const PAYLOAD_MAX_COMMIT_TS: usize = PAYLOAD_DURABLE_LSN + 8;
/// Offset of the count of removed tables (u32).
pub const PAYLOAD_REMOVED_COUNT: usize = PAYLOAD_MAX_COMMIT_TS + 8;
/// Offset of the count of added tables (u32).
pub const PAYLOAD_ADDED_COUNT: usize = PAYLOAD_REMOVED_COUNT + 4;
/// The fixed part's size: the removed entries follow, then the added ones.
pub const PAYLOAD_FIXED: usize = PAYLOAD_ADDED_COUNT + 4;
const _: () = assert!(PAYLOAD_FIXED == 36);

/// Flag bit: `next_file_number` is present.
pub const FLAG_NEXT_FILE_NUMBER: u8 = 1 << 0;
/// Flag bit: `durable_lsn` is present.
pub const FLAG_DURABLE_LSN: u8 = 1 << 1;
/// Flag bit: `max_commit_ts` is present.
pub const FLAG_MAX_COMMIT_TS: u8 = 1 << 2;
/// Every flag bit this version defines.
pub const FLAGS_KNOWN: u8 = FLAG_NEXT_FILE_NUMBER | FLAG_DURABLE_LSN | FLAG_MAX_COMMIT_TS;

/// A removed entry: level (u8), file number (u64).
pub const REMOVED_ENTRY: usize = 1 + 8;
/// An added entry's fixed part: level (u8), eight u64 (file number, file size, entries,
/// tombstones, min ts, max ts, smallest key's ts, largest key's ts), two u32 key lengths; the
/// smallest and largest user keys follow.
pub const ADDED_FIXED: usize = 1 + 8 * 8 + 4 * 2;
const _: () = assert!(ADDED_FIXED == 73);

/// The checksum of a record: xxh3-64 seeded with the manifest number, over the length field
/// and the payload (so a record copied into another manifest does not verify).
pub fn record_checksum(manifest_number: u64, length: [u8; 4], payload: &[u8]) -> u64 {
    let mut hasher = Xxh3::with_seed(manifest_number);
    hasher.update(&length);
    hasher.update(payload);
    hasher.digest()
}

/// The framed record holding `payload`. REQUIRES: `payload.len() <= MAX_PAYLOAD_BYTES`.
pub fn frame_record(manifest_number: u64, payload: &[u8]) -> Vec<u8> {
    debug_assert!(payload.len() <= MAX_PAYLOAD_BYTES);
    let length = (payload.len() as u32).to_le_bytes();
    let mut record = Vec::with_capacity(FRAME_HEADER + payload.len());
    record.extend_from_slice(&length);
    record.extend_from_slice(&record_checksum(manifest_number, length, payload).to_le_bytes());
    record.extend_from_slice(payload);
    record
}

/// The payload of the record at `offset` of `bytes` and the offset after it, if a whole
/// record with a matching checksum starts there.
pub fn verified_record_at(
    bytes: &[u8],
    offset: usize,
    manifest_number: u64,
) -> Option<(&[u8], usize)> {
    let header = bytes.get(offset..offset.checked_add(FRAME_HEADER)?)?;
    let length: [u8; 4] = header[FRAME_LENGTH..FRAME_CHECKSUM].try_into().ok()?;
    let payload_len = u32::from_le_bytes(length) as usize;
    if payload_len == 0 || payload_len > MAX_PAYLOAD_BYTES {
        return None;
    }
    let stored = u64::from_le_bytes(header[FRAME_CHECKSUM..FRAME_HEADER].try_into().ok()?);
    let start = offset + FRAME_HEADER;
    let payload = bytes.get(start..start.checked_add(payload_len)?)?;
    (record_checksum(manifest_number, length, payload) == stored)
        .then_some((payload, start + payload_len))
}

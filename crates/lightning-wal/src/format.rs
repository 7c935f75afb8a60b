//! The byte layout of a WAL segment: the one description of it in code.
//!
//! `docs/format/wal.md` specifies it byte by byte; the offsets below are its only copy here,
//! as cumulative constants pinned by `const` assertions. All integers are little-endian.
//!
//! A segment is a [`SegmentHeader`] followed by fragments. A fragment is a 24-byte header and
//! `length` payload bytes; a record is one `Full` fragment or `First`, any `Middle`s, `Last`,
//! possibly across segments. A sealed segment ends with an `End` fragment. Between records, a
//! `Synced` fragment (version 2) records how far the log was fsynced before it was written; a
//! cleanly closed log ends with one (version 3).

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// The first 8 bytes of every segment.
pub const MAGIC: [u8; 8] = *b"LIGHTWAL";

// Segment header: cumulative offsets.
const HDR_MAGIC: usize = 0;
const HDR_VERSION: usize = HDR_MAGIC + 8;
const HDR_FLAGS: usize = HDR_VERSION + 2;
const HDR_RESERVED: usize = HDR_FLAGS + 2;
const HDR_SEGMENT: usize = HDR_RESERVED + 4;
const HDR_FIRST_LSN: usize = HDR_SEGMENT + 8;
const HDR_CHECKSUM: usize = HDR_FIRST_LSN + 8;
/// Length of the segment header.
pub const SEGMENT_HEADER_LEN: usize = HDR_CHECKSUM + 8;

// Fragment header: cumulative offsets.
const FRAG_CHECKSUM: usize = 0;
const FRAG_LENGTH: usize = FRAG_CHECKSUM + 8;
const FRAG_TYPE: usize = FRAG_LENGTH + 4;
const FRAG_FLAGS: usize = FRAG_TYPE + 1;
const FRAG_RESERVED: usize = FRAG_FLAGS + 1;
const FRAG_LSN: usize = FRAG_RESERVED + 2;
/// Length of a fragment header.
pub const FRAGMENT_HEADER_LEN: usize = FRAG_LSN + 8;

const _: () = assert!(SEGMENT_HEADER_LEN == 40);
const _: () = assert!(FRAGMENT_HEADER_LEN == 24);

/// Segment header flag: the segment's first fragment continues a record begun in the previous
/// segment (its LSN is `first_lsn`).
pub const SEGMENT_CONTINUES: u16 = 1;
/// Record flag: the payload is a compressed block (`lightning_core_storage::codec`).
pub const RECORD_COMPRESSED: u8 = 1;
/// Record flag: the payload is sealed with the data key.
pub const RECORD_ENCRYPTED: u8 = 2;
const KNOWN_RECORD_FLAGS: u8 = RECORD_COMPRESSED | RECORD_ENCRYPTED;

/// Versions of the segment format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u16)]
pub enum FormatVersion {
    /// The first format (lightning-wal 0.1.0).
    V1 = 1,
    /// Adds the `Synced` fragment (issue #12): a gap in synced data is told from a torn tail.
    V2 = 2,
    /// A log closed cleanly ends with a `Synced` fragment covering every record; a damaged
    /// fragment followed by valid data is a torn tail unless a later `Synced` fragment proves
    /// it was fsynced.
    V3 = 3,
}

impl FormatVersion {
    /// The version new segments are written in.
    pub const CURRENT: FormatVersion = FormatVersion::V3;

    /// Decodes a version number; `None` if unknown.
    pub fn from_u16(value: u16) -> Option<FormatVersion> {
        match value {
            1 => Some(FormatVersion::V1),
            2 => Some(FormatVersion::V2),
            3 => Some(FormatVersion::V3),
            _ => None,
        }
    }

    /// The version of a segment whose header bytes start `bytes`, if known. REQUIRES: the
    /// header was verified ([`SegmentHeader::decode`]).
    pub fn of_header(bytes: &[u8]) -> Option<FormatVersion> {
        (bytes.len() >= HDR_FLAGS).then(|| u16_at(bytes, HDR_VERSION)).and_then(Self::from_u16)
    }

    /// True if segments of this version may hold `Synced` fragments.
    pub fn has_sync_marks(self) -> bool {
        self >= FormatVersion::V2
    }
}

/// Payload length of a `Synced` fragment: the synced LSN (u64).
pub const SYNCED_PAYLOAD_LEN: usize = 8;
/// Bytes a `Synced` fragment takes.
pub const SYNCED_FRAGMENT_LEN: usize = FRAGMENT_HEADER_LEN + SYNCED_PAYLOAD_LEN;

/// The type byte of a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FragmentType {
    /// A whole record.
    Full = 1,
    /// The first piece of a record.
    First = 2,
    /// A piece between the first and the last.
    Middle = 3,
    /// The last piece of a record.
    Last = 4,
    /// Seals the segment: nothing follows in it. Its LSN is the next segment's `first_lsn`.
    End = 5,
    /// Between records, or last in a cleanly closed log (version 2 and later): its 8-byte
    /// payload is an LSN up to which every record was durable (fsynced) before this fragment
    /// was written. Its LSN is the next record's.
    Synced = 6,
}

impl FragmentType {
    /// Decodes a type byte; `None` if unknown (0 is never a type: zeroed space is not a fragment).
    pub fn from_u8(value: u8) -> Option<FragmentType> {
        match value {
            1 => Some(FragmentType::Full),
            2 => Some(FragmentType::First),
            3 => Some(FragmentType::Middle),
            4 => Some(FragmentType::Last),
            5 => Some(FragmentType::End),
            6 => Some(FragmentType::Synced),
            _ => None,
        }
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// The header at the start of every segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    /// The segment number (also in the file name).
    pub number: u64,
    /// The LSN of the segment's first fragment: the record in progress when the segment was
    /// started if `continues`, else the next record to be appended.
    pub first_lsn: u64,
    /// The first fragment continues a record from the previous segment.
    pub continues: bool,
}

impl SegmentHeader {
    /// The header's bytes.
    pub fn encode(&self) -> [u8; SEGMENT_HEADER_LEN] {
        let mut out = [0u8; SEGMENT_HEADER_LEN];
        out[HDR_MAGIC..HDR_VERSION].copy_from_slice(&MAGIC);
        out[HDR_VERSION..HDR_FLAGS].copy_from_slice(&(FormatVersion::CURRENT as u16).to_le_bytes());
        let flags = if self.continues { SEGMENT_CONTINUES } else { 0 };
        out[HDR_FLAGS..HDR_RESERVED].copy_from_slice(&flags.to_le_bytes());
        out[HDR_SEGMENT..HDR_FIRST_LSN].copy_from_slice(&self.number.to_le_bytes());
        out[HDR_FIRST_LSN..HDR_CHECKSUM].copy_from_slice(&self.first_lsn.to_le_bytes());
        let checksum = xxh3_64(&out[..HDR_CHECKSUM]);
        out[HDR_CHECKSUM..].copy_from_slice(&checksum.to_le_bytes());
        out
    }

    /// Decodes and verifies a header; the error says what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<SegmentHeader, String> {
        if bytes.len() < SEGMENT_HEADER_LEN {
            return Err(format!("{} bytes is shorter than a segment header", bytes.len()));
        }
        if bytes[HDR_MAGIC..HDR_VERSION] != MAGIC {
            return Err("bad magic: not a WAL segment".into());
        }
        let stored = u64_at(bytes, HDR_CHECKSUM);
        let computed = xxh3_64(&bytes[..HDR_CHECKSUM]);
        if stored != computed {
            return Err(format!(
                "segment header checksum mismatch (stored {stored:#018x}, computed {computed:#018x})"
            ));
        }
        let version = u16_at(bytes, HDR_VERSION);
        if FormatVersion::from_u16(version).is_none() {
            return Err(format!("unknown segment format version {version}"));
        }
        let flags = u16_at(bytes, HDR_FLAGS);
        if flags & !SEGMENT_CONTINUES != 0 || u32_at(bytes, HDR_RESERVED) != 0 {
            return Err(format!("unknown segment header flags {flags:#x} or reserved bits"));
        }
        let first_lsn = u64_at(bytes, HDR_FIRST_LSN);
        if first_lsn == 0 {
            return Err("segment header first LSN is 0".into());
        }
        Ok(SegmentHeader {
            number: u64_at(bytes, HDR_SEGMENT),
            first_lsn,
            continues: flags & SEGMENT_CONTINUES != 0,
        })
    }
}

/// A decoded fragment header (not yet verified against its payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentHeader {
    /// The stored checksum.
    pub checksum: u64,
    /// Payload bytes after the header.
    pub length: u32,
    /// The raw type byte.
    pub type_byte: u8,
    /// Record flags ([`RECORD_COMPRESSED`], [`RECORD_ENCRYPTED`]).
    pub flags: u8,
    /// Must be zero.
    pub reserved: u16,
    /// The LSN of the record this fragment belongs to.
    pub lsn: u64,
}

impl FragmentHeader {
    /// Splits the header fields out of 24 bytes.
    pub fn parse(bytes: &[u8; FRAGMENT_HEADER_LEN]) -> FragmentHeader {
        FragmentHeader {
            checksum: u64_at(bytes, FRAG_CHECKSUM),
            length: u32_at(bytes, FRAG_LENGTH),
            type_byte: bytes[FRAG_TYPE],
            flags: bytes[FRAG_FLAGS],
            reserved: u16_at(bytes, FRAG_RESERVED),
            lsn: u64_at(bytes, FRAG_LSN),
        }
    }

    /// The fragment type, if the type byte, flags and reserved field are well formed (checked
    /// before the checksum, to reject garbage cheaply).
    pub fn plausible_type(&self) -> Option<FragmentType> {
        let kind = FragmentType::from_u8(self.type_byte)?;
        let record = !matches!(kind, FragmentType::End | FragmentType::Synced);
        let flags_ok = self.flags & !KNOWN_RECORD_FLAGS == 0 && (record || self.flags == 0);
        (flags_ok && self.reserved == 0 && self.lsn != 0).then_some(kind)
    }
}

/// The checksum of a fragment: xxh3-64, seeded with the segment number, over the header after
/// the checksum field and the payload. The seed makes a fragment copied into another segment
/// (or left over from an older use of the file) fail.
pub fn fragment_checksum(segment: u64, header_tail: &[u8], payload: &[u8]) -> u64 {
    debug_assert_eq!(header_tail.len(), FRAGMENT_HEADER_LEN - FRAG_LENGTH);
    if payload.len() <= 4096 {
        let mut buf = [0u8; FRAGMENT_HEADER_LEN - FRAG_LENGTH + 4096];
        let n = header_tail.len() + payload.len();
        buf[..header_tail.len()].copy_from_slice(header_tail);
        buf[header_tail.len()..n].copy_from_slice(payload);
        return xxh3_64_with_seed(&buf[..n], segment);
    }
    let mut hasher = xxhash_rust::xxh3::Xxh3::with_seed(segment);
    hasher.update(header_tail);
    hasher.update(payload);
    hasher.digest()
}

/// True if `header` (as stored) and `payload` carry a valid checksum for `segment`.
pub fn verify_fragment(segment: u64, header: &[u8; FRAGMENT_HEADER_LEN], payload: &[u8]) -> bool {
    let stored = u64_at(header, FRAG_CHECKSUM);
    stored == fragment_checksum(segment, &header[FRAG_LENGTH..], payload)
}

/// Appends one fragment (header and payload) to `out`.
pub fn encode_fragment(
    out: &mut Vec<u8>,
    segment: u64,
    kind: FragmentType,
    flags: u8,
    lsn: u64,
    payload: &[u8],
) {
    debug_assert!(flags & !KNOWN_RECORD_FLAGS == 0, "unknown record flags {flags:#x}");
    debug_assert!(lsn != 0, "LSN 0 is never written");
    let length = u32::try_from(payload.len()).expect("fragment payload fits in 32 bits");
    let start = out.len();
    out.resize(start + FRAGMENT_HEADER_LEN, 0);
    let header = &mut out[start..];
    header[FRAG_LENGTH..FRAG_TYPE].copy_from_slice(&length.to_le_bytes());
    header[FRAG_TYPE] = kind as u8;
    header[FRAG_FLAGS] = flags;
    header[FRAG_LSN..FRAGMENT_HEADER_LEN].copy_from_slice(&lsn.to_le_bytes());
    let checksum = fragment_checksum(segment, &header[FRAG_LENGTH..], payload);
    header[FRAG_CHECKSUM..FRAG_LENGTH].copy_from_slice(&checksum.to_le_bytes());
    out.extend_from_slice(payload);
}

/// The file name of segment `number`: 20 decimal digits (so names sort as numbers) and `.log`.
pub fn segment_file_name(number: u64) -> String {
    format!("{number:020}.log")
}

/// The segment number in a file name made by [`segment_file_name`]; `None` for other files.
pub fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".log")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_header_round_trips_and_detects_damage() {
        let header = SegmentHeader { number: 42, first_lsn: 1000, continues: true };
        let bytes = header.encode();
        assert_eq!(&bytes[..8], b"LIGHTWAL");
        assert_eq!(SegmentHeader::decode(&bytes).unwrap(), header);
        for at in 0..SEGMENT_HEADER_LEN {
            let mut damaged = bytes;
            damaged[at] ^= 0x04;
            assert!(SegmentHeader::decode(&damaged).is_err(), "flip at {at} detected");
        }
        assert!(SegmentHeader::decode(&bytes[..39]).is_err());
    }

    #[test]
    fn fragment_round_trips_and_binds_its_segment() {
        let mut out = Vec::new();
        encode_fragment(&mut out, 9, FragmentType::First, RECORD_COMPRESSED, 77, b"payload");
        assert_eq!(out.len(), FRAGMENT_HEADER_LEN + 7);
        let header: [u8; FRAGMENT_HEADER_LEN] = out[..FRAGMENT_HEADER_LEN].try_into().unwrap();
        let parsed = FragmentHeader::parse(&header);
        assert_eq!(parsed.length, 7);
        assert_eq!(parsed.lsn, 77);
        assert_eq!(parsed.flags, RECORD_COMPRESSED);
        assert_eq!(parsed.plausible_type(), Some(FragmentType::First));
        assert!(verify_fragment(9, &header, b"payload"));
        assert!(!verify_fragment(10, &header, b"payload"), "another segment's fragment fails");
        assert!(!verify_fragment(9, &header, b"paylaod"));
    }

    #[test]
    fn large_payload_checksum_matches_streaming_and_inline_paths() {
        let payload: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        encode_fragment(&mut out, 3, FragmentType::Full, 0, 5, &payload);
        let header: [u8; FRAGMENT_HEADER_LEN] = out[..FRAGMENT_HEADER_LEN].try_into().unwrap();
        assert!(verify_fragment(3, &header, &payload));
        let mut joined = out[FRAG_LENGTH..].to_vec();
        joined.truncate(FRAGMENT_HEADER_LEN - FRAG_LENGTH + payload.len());
        assert_eq!(
            u64_at(&out, 0),
            xxh3_64_with_seed(&joined, 3),
            "the checksum is one xxh3 over header tail ++ payload"
        );
    }

    #[test]
    fn zeroed_space_is_not_a_fragment() {
        let parsed = FragmentHeader::parse(&[0u8; FRAGMENT_HEADER_LEN]);
        assert_eq!(parsed.plausible_type(), None);
        let mut end = [0u8; FRAGMENT_HEADER_LEN];
        end[FRAG_TYPE] = FragmentType::End as u8;
        end[FRAG_FLAGS] = RECORD_COMPRESSED;
        end[FRAG_LSN] = 1;
        assert_eq!(FragmentHeader::parse(&end).plausible_type(), None, "end takes no flags");
    }

    #[test]
    fn file_names_sort_as_numbers() {
        assert_eq!(segment_file_name(7), "00000000000000000007.log");
        assert_eq!(parse_segment_file_name("00000000000000000007.log"), Some(7));
        assert_eq!(parse_segment_file_name(&segment_file_name(u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_segment_file_name("7.log"), None);
        assert_eq!(parse_segment_file_name("0000000000000000000x.log"), None);
        assert_eq!(parse_segment_file_name("00000000000000000007.tmp"), None);
        assert!(segment_file_name(9) < segment_file_name(10));
    }
}

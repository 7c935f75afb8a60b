//! The table format's one layout description in code: value kinds, block handles, the footer
//! (offsets as cumulative constants) and the format version. Byte by byte in
//! `docs/format/sstable.md`.

use lightning_core_storage::{Error, Result};
use xxhash_rust::xxh3::xxh3_64;

use super::varint::{get_varint, put_varint};

/// Value kind of a tombstone (no value bytes).
pub const KIND_TOMBSTONE: u8 = 0;
/// Value kind of an inline value.
pub const KIND_VALUE: u8 = 1;
/// Value kind reserved for a reference into a blob file (key-value separation); format v1
/// never writes it and refuses it as corruption.
pub const KIND_BLOB_REFERENCE: u8 = 2;

/// The last eight bytes of every table file: "LgtnSST1" read as a little-endian u64.
pub const MAGIC: u64 = u64::from_le_bytes(*b"LgtnSST1");

/// Versions of the table format. The number is stored in the footer and in the properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum FormatVersion {
    /// The first format.
    V1 = 1,
}

impl FormatVersion {
    /// The version this code writes.
    pub const CURRENT: FormatVersion = FormatVersion::V1;

    /// Decodes a stored version number.
    pub fn from_u32(value: u32) -> Option<FormatVersion> {
        match value {
            1 => Some(FormatVersion::V1),
            _ => None,
        }
    }
}

/// Where a block lies in the file: its offset and its on-disk length (compressed-block header
/// included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockHandle {
    /// Byte offset of the block in the file.
    pub offset: u64,
    /// Bytes the block occupies on disk.
    pub length: u64,
}

impl BlockHandle {
    /// Appends the handle as two varints (the value of an index entry).
    pub fn encode_to(&self, out: &mut Vec<u8>) {
        put_varint(out, self.offset);
        put_varint(out, self.length);
    }

    /// Decodes a handle that must fill `input` exactly.
    pub fn decode(input: &[u8]) -> Option<BlockHandle> {
        let mut pos = 0;
        let offset = get_varint(input, &mut pos)?;
        let length = get_varint(input, &mut pos)?;
        (pos == input.len()).then_some(BlockHandle { offset, length })
    }

    /// The offset just past the block.
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.length)
    }
}

const INDEX_OFFSET: usize = 0;
const INDEX_LENGTH: usize = INDEX_OFFSET + 8;
const FILTER_OFFSET: usize = INDEX_LENGTH + 8;
const FILTER_LENGTH: usize = FILTER_OFFSET + 8;
const PROPERTIES_OFFSET: usize = FILTER_LENGTH + 8;
const PROPERTIES_LENGTH: usize = PROPERTIES_OFFSET + 8;
const VERSION: usize = PROPERTIES_LENGTH + 8;
const RESERVED: usize = VERSION + 4;
const CHECKSUM: usize = RESERVED + 4;
const MAGIC_AT: usize = CHECKSUM + 8;
/// The footer's length in bytes.
pub const FOOTER_LEN: usize = MAGIC_AT + 8;

const _: () = assert!(FOOTER_LEN == 72);

/// The fixed-size end of a table: where the index, filter and properties blocks are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footer {
    /// The index block.
    pub index: BlockHandle,
    /// The filter block; length 0 when the table has no filter.
    pub filter: BlockHandle,
    /// The properties block.
    pub properties: BlockHandle,
    /// The format version.
    pub version: FormatVersion,
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

impl Footer {
    /// The footer's bytes.
    pub fn encode(&self) -> [u8; FOOTER_LEN] {
        let mut out = [0u8; FOOTER_LEN];
        let fields = [
            (INDEX_OFFSET, self.index.offset),
            (INDEX_LENGTH, self.index.length),
            (FILTER_OFFSET, self.filter.offset),
            (FILTER_LENGTH, self.filter.length),
            (PROPERTIES_OFFSET, self.properties.offset),
            (PROPERTIES_LENGTH, self.properties.length),
        ];
        for (at, value) in fields {
            out[at..at + 8].copy_from_slice(&value.to_le_bytes());
        }
        out[VERSION..RESERVED].copy_from_slice(&(self.version as u32).to_le_bytes());
        out[MAGIC_AT..FOOTER_LEN].copy_from_slice(&MAGIC.to_le_bytes());
        let checksum = footer_checksum(&out);
        out[CHECKSUM..MAGIC_AT].copy_from_slice(&checksum.to_le_bytes());
        out
    }

    /// Decodes and verifies a footer; `location` names it in errors. The handles are not yet
    /// checked against the file size (the table does that).
    pub fn decode(bytes: &[u8; FOOTER_LEN], location: &str) -> Result<Footer> {
        let bad = |what: String| Error::corruption(format!("footer: {what}"), location);
        let magic = u64_at(bytes, MAGIC_AT);
        if magic != MAGIC {
            return Err(bad(format!("bad magic {magic:#018x}: not a table file")));
        }
        let stored = u64_at(bytes, CHECKSUM);
        let computed = footer_checksum(bytes);
        if stored != computed {
            return Err(bad(format!(
                "checksum mismatch (stored {stored:#018x}, computed {computed:#018x})"
            )));
        }
        let mut version = [0u8; 4];
        version.copy_from_slice(&bytes[VERSION..RESERVED]);
        let version = u32::from_le_bytes(version);
        let version = FormatVersion::from_u32(version)
            .ok_or_else(|| bad(format!("unknown format version {version}")))?;
        let handle = |offset, length| BlockHandle {
            offset: u64_at(bytes, offset),
            length: u64_at(bytes, length),
        };
        Ok(Footer {
            index: handle(INDEX_OFFSET, INDEX_LENGTH),
            filter: handle(FILTER_OFFSET, FILTER_LENGTH),
            properties: handle(PROPERTIES_OFFSET, PROPERTIES_LENGTH),
            version,
        })
    }
}

/// xxh3-64 of the footer's bytes before the checksum field and of the magic after it.
fn footer_checksum(bytes: &[u8; FOOTER_LEN]) -> u64 {
    let mut covered = [0u8; FOOTER_LEN - 8];
    covered[..CHECKSUM].copy_from_slice(&bytes[..CHECKSUM]);
    covered[CHECKSUM..].copy_from_slice(&bytes[MAGIC_AT..]);
    xxh3_64(&covered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn footer() -> Footer {
        Footer {
            index: BlockHandle { offset: 4096, length: 100 },
            filter: BlockHandle { offset: 4196, length: 50 },
            properties: BlockHandle { offset: 4246, length: 80 },
            version: FormatVersion::V1,
        }
    }

    #[test]
    fn a_footer_round_trips_and_any_flipped_byte_is_refused() {
        let bytes = footer().encode();
        assert_eq!(Footer::decode(&bytes, "t").expect("decodes"), footer());
        for at in 0..FOOTER_LEN {
            let mut damaged = bytes;
            damaged[at] ^= 0x10;
            let err = Footer::decode(&damaged, "t offset 9").expect_err("damage is detected");
            assert!(err.is_corruption(), "byte {at}: {err}");
        }
    }

    #[test]
    fn block_handles_round_trip_and_trailing_bytes_are_refused() {
        let handle = BlockHandle { offset: 1 << 40, length: 4117 };
        let mut out = Vec::new();
        handle.encode_to(&mut out);
        assert_eq!(BlockHandle::decode(&out), Some(handle));
        out.push(0);
        assert_eq!(BlockHandle::decode(&out), None);
    }
}

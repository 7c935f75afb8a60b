//! [`TableProperties`]: what a table says about itself (key range, counts, timestamp range,
//! codec, sizes), stored in its properties block and read at open. Layout in
//! `docs/format/sstable.md` ("Properties block").

use lightning_core_storage::codec::CodecId;
use lightning_core_storage::{Error, Result, Timestamp};

use super::format::FormatVersion;
use super::varint::{get_varint, put_varint};
use crate::internal_key::InternalKey;

/// A table's properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableProperties {
    /// The format version the table was written in.
    pub format_version: FormatVersion,
    /// Versions in the table, tombstones included.
    pub entries: u64,
    /// Tombstones in the table.
    pub tombstones: u64,
    /// Distinct user keys (the keys in the filter).
    pub distinct_keys: u64,
    /// Data blocks.
    pub data_blocks: u64,
    /// Bytes the data blocks occupy on disk (headers included).
    pub data_size_bytes: u64,
    /// Bytes of the data blocks before compression.
    pub raw_data_size_bytes: u64,
    /// The smallest commit timestamp.
    pub min_ts: Timestamp,
    /// The largest commit timestamp.
    pub max_ts: Timestamp,
    /// The codec the writer was configured with (a block it did not shrink is stored raw).
    pub compression: CodecId,
    /// Bits per key of the filter; 0 when the table has none.
    pub bloom_bits_per_key: u32,
    /// Entries between restart points in data blocks.
    pub restart_interval: u32,
    /// The target uncompressed size of a data block.
    pub block_size: u32,
    /// The first internal key.
    pub smallest: InternalKey,
    /// The last internal key.
    pub largest: InternalKey,
}

fn put_key(out: &mut Vec<u8>, key: &InternalKey) {
    put_varint(out, key.key.len() as u64);
    out.extend_from_slice(&key.key);
    out.extend_from_slice(&key.ts.0.to_le_bytes());
}

/// A bounds-checked reader over the properties' bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n).filter(|end| *end <= self.bytes.len())?;
        let taken = &self.bytes[self.pos..end];
        self.pos = end;
        Some(taken)
    }

    fn u64(&mut self) -> Option<u64> {
        let mut word = [0u8; 8];
        word.copy_from_slice(self.take(8)?);
        Some(u64::from_le_bytes(word))
    }

    fn u32(&mut self) -> Option<u32> {
        let mut word = [0u8; 4];
        word.copy_from_slice(self.take(4)?);
        Some(u32::from_le_bytes(word))
    }

    fn key(&mut self) -> Option<InternalKey> {
        let len = usize::try_from(get_varint(self.bytes, &mut self.pos)?).ok()?;
        let key = self.take(len)?.to_vec();
        Some(InternalKey { key, ts: Timestamp(self.u64()?) })
    }
}

impl TableProperties {
    /// The properties block's contents.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.smallest.key.len() + self.largest.key.len());
        out.extend_from_slice(&(self.format_version as u32).to_le_bytes());
        for value in [
            self.entries,
            self.tombstones,
            self.distinct_keys,
            self.data_blocks,
            self.data_size_bytes,
            self.raw_data_size_bytes,
            self.min_ts.0,
            self.max_ts.0,
        ] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.push(self.compression as u8);
        for value in [self.bloom_bits_per_key, self.restart_interval, self.block_size] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        put_key(&mut out, &self.smallest);
        put_key(&mut out, &self.largest);
        out
    }

    /// Decodes a properties block's contents; `location` names it in errors.
    pub(crate) fn decode(bytes: &[u8], location: &str) -> Result<TableProperties> {
        let bad = |what: &str| Error::corruption(format!("properties: {what}"), location);
        let mut r = Reader { bytes, pos: 0 };
        let truncated = || bad("truncated");
        let version = r.u32().ok_or_else(truncated)?;
        let format_version =
            FormatVersion::from_u32(version).ok_or_else(|| bad("unknown format version"))?;
        let mut counts = [0u64; 8];
        for count in &mut counts {
            *count = r.u64().ok_or_else(truncated)?;
        }
        let codec = r.take(1).ok_or_else(truncated)?[0];
        let compression = CodecId::from_byte(codec).ok_or_else(|| bad("unknown codec id"))?;
        let bloom_bits_per_key = r.u32().ok_or_else(truncated)?;
        let restart_interval = r.u32().ok_or_else(truncated)?;
        let block_size = r.u32().ok_or_else(truncated)?;
        let smallest = r.key().ok_or_else(|| bad("bad smallest key"))?;
        let largest = r.key().ok_or_else(|| bad("bad largest key"))?;
        if r.pos != bytes.len() {
            return Err(bad("trailing bytes"));
        }
        let [entries, tombstones, distinct_keys, data_blocks, data_size, raw_size, min, max] =
            counts;
        let props = TableProperties {
            format_version,
            entries,
            tombstones,
            distinct_keys,
            data_blocks,
            data_size_bytes: data_size,
            raw_data_size_bytes: raw_size,
            min_ts: Timestamp(min),
            max_ts: Timestamp(max),
            compression,
            bloom_bits_per_key,
            restart_interval,
            block_size,
            smallest,
            largest,
        };
        props.check_consistent().map_err(|what| bad(&what))?;
        Ok(props)
    }

    /// The relations any table's properties satisfy.
    fn check_consistent(&self) -> Result<(), String> {
        if self.entries == 0 || self.data_blocks == 0 {
            return Err("a table without entries".to_owned());
        }
        if self.tombstones > self.entries || self.distinct_keys > self.entries {
            return Err("counts exceed the entries".to_owned());
        }
        if self.min_ts > self.max_ts {
            return Err("min_ts is above max_ts".to_owned());
        }
        if self.smallest > self.largest {
            return Err("the smallest key sorts after the largest".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TableProperties {
        TableProperties {
            format_version: FormatVersion::V1,
            entries: 10,
            tombstones: 2,
            distinct_keys: 7,
            data_blocks: 1,
            data_size_bytes: 300,
            raw_data_size_bytes: 400,
            min_ts: Timestamp(3),
            max_ts: Timestamp(9),
            compression: CodecId::Lz4,
            bloom_bits_per_key: 10,
            restart_interval: 16,
            block_size: 4096,
            smallest: InternalKey::new(*b"apple", Timestamp(9)),
            largest: InternalKey::new(*b"pear", Timestamp(3)),
        }
    }

    #[test]
    fn properties_round_trip() {
        let bytes = sample().encode();
        assert_eq!(TableProperties::decode(&bytes, "t").expect("decodes"), sample());
    }

    #[test]
    fn truncated_trailing_and_inconsistent_properties_are_corruption() {
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            let err = TableProperties::decode(&bytes[..len], "t").expect_err("truncated");
            assert!(err.is_corruption());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(TableProperties::decode(&longer, "t").is_err());
        let inverted = TableProperties { min_ts: Timestamp(10), ..sample() };
        assert!(TableProperties::decode(&inverted.encode(), "t").is_err());
    }
}

//! [`TableWriter`]: writes one table file from versions given in internal-key order: data
//! blocks as they fill, then the index, filter and properties blocks and the footer.

use std::cmp::Ordering;
use std::path::Path;

use lightning_core_storage::codec::{Codec, MAX_UNCOMPRESSED_LEN, NoCodec, compress_block};
use lightning_core_storage::vfs::{FileHandle, OpenMode, Vfs};
use lightning_core_storage::{Error, Result, Timestamp};

use super::TableOptions;
use super::block_builder::BlockBuilder;
use super::format::{BlockHandle, Footer, FormatVersion};
use super::properties::TableProperties;
use crate::filter::BloomFilterBuilder;
use crate::internal_key::{InternalKey, compare_internal};
use crate::table_meta::TableMeta;

/// Bytes of finished blocks gathered before one write to the file.
const WRITE_BUFFER_BYTES: usize = 256 * 1024;

/// Room kept in a block for an entry's lengths, kind and timestamp beside its key and value.
const ENTRY_OVERHEAD_BYTES: usize = 64;

/// The most bytes of key plus value one entry may hold ([`TableWriter::add`] refuses more).
pub const MAX_ENTRY_BYTES: usize = MAX_UNCOMPRESSED_LEN - ENTRY_OVERHEAD_BYTES;

/// Writes one table. Entries must come in strictly increasing internal-key order.
#[derive(Debug)]
pub struct TableWriter {
    file: FileHandle,
    file_number: u64,
    options: TableOptions,
    codec: Box<dyn Codec>,
    data: BlockBuilder,
    index: BlockBuilder,
    filter: Option<BloomFilterBuilder>,
    /// Finished blocks not yet written; they start at file offset `written`.
    out: Vec<u8>,
    written: u64,
    last: Option<InternalKey>,
    first: Option<InternalKey>,
    entries: u64,
    tombstones: u64,
    distinct_keys: u64,
    min_ts: Timestamp,
    max_ts: Timestamp,
    data_blocks: u64,
    data_size_bytes: u64,
    raw_data_size_bytes: u64,
    /// Set when a write failed: the file is then unusable and the writer refuses more work.
    failed: bool,
}

/// Appends `bytes` as one compressed block to `out`, which starts at file offset `base`.
fn append_block(
    out: &mut Vec<u8>,
    base: u64,
    codec: &dyn Codec,
    bytes: &[u8],
) -> Result<BlockHandle> {
    let start = out.len();
    compress_block(codec, bytes, out)?;
    Ok(BlockHandle { offset: base + start as u64, length: (out.len() - start) as u64 })
}

impl TableWriter {
    /// Creates the table file `path` (which must not exist) for table `file_number`.
    pub fn create(
        vfs: &dyn Vfs,
        path: &Path,
        file_number: u64,
        options: &TableOptions,
    ) -> Result<Self> {
        let file = vfs.open(path, OpenMode::CreateNew)?;
        let filter = (options.bloom_bits_per_key > 0)
            .then(|| BloomFilterBuilder::new(options.bloom_bits_per_key));
        Ok(TableWriter {
            file,
            file_number,
            options: options.clone(),
            codec: options.compression.codec(),
            data: BlockBuilder::new(options.restart_interval),
            index: BlockBuilder::new(1),
            filter,
            out: Vec::with_capacity(WRITE_BUFFER_BYTES + options.block_size),
            written: 0,
            last: None,
            first: None,
            entries: 0,
            tombstones: 0,
            distinct_keys: 0,
            min_ts: Timestamp::MAX,
            max_ts: Timestamp::ZERO,
            data_blocks: 0,
            data_size_bytes: 0,
            raw_data_size_bytes: 0,
            failed: false,
        })
    }

    fn refuse_if_failed(&self) -> Result<()> {
        if self.failed {
            return Err(Error::Poisoned {
                reason: format!("an earlier write of table {} failed", self.file_number),
            });
        }
        Ok(())
    }

    /// Adds a version (`None` is a tombstone). It must sort strictly after the previous one in
    /// internal order (user key ascending, timestamp descending), else `Error::InvalidInput`.
    pub fn add(&mut self, key: &[u8], ts: Timestamp, value: Option<&[u8]>) -> Result<()> {
        self.refuse_if_failed()?;
        let value_len = value.map_or(0, <[u8]>::len);
        if key.len().saturating_add(value_len) > MAX_ENTRY_BYTES {
            return Err(Error::InvalidInput(format!(
                "an entry of {} key and {value_len} value bytes does not fit in a block",
                key.len()
            )));
        }
        let new_key = match &self.last {
            None => true,
            Some(last) => match compare_internal(key, ts, &last.key, last.ts) {
                Ordering::Greater => last.key != key,
                _ => {
                    return Err(Error::InvalidInput(format!(
                        "table {}: ({key:?}, {ts}) does not sort after ({:?}, {})",
                        self.file_number, last.key, last.ts
                    )));
                }
            },
        };
        if new_key {
            self.distinct_keys += 1;
            if let Some(filter) = &mut self.filter {
                filter.add_key(key);
            }
        }
        // An entry that would push the pending block past the compressed-block bound starts a
        // block of its own (the size check above promised it fits in one).
        let entry_bound = key.len() + value_len + ENTRY_OVERHEAD_BYTES;
        if !self.data.is_empty() && self.data.estimated_size() + entry_bound > MAX_UNCOMPRESSED_LEN
        {
            self.flush_data_block()?;
        }
        self.data.add(key, ts, value);
        self.entries += 1;
        self.tombstones += u64::from(value.is_none());
        self.min_ts = self.min_ts.min(ts);
        self.max_ts = self.max_ts.max(ts);
        match &mut self.last {
            Some(last) => {
                last.key.clear();
                last.key.extend_from_slice(key);
                last.ts = ts;
            }
            None => {
                self.first = Some(InternalKey::new(key, ts));
                self.last = Some(InternalKey::new(key, ts));
            }
        }
        if self.data.estimated_size() >= self.options.block_size {
            self.flush_data_block()?;
        }
        Ok(())
    }

    /// Bytes written so far, buffered blocks and the pending data block included.
    pub fn estimated_size(&self) -> u64 {
        let pending = if self.data.is_empty() { 0 } else { self.data.estimated_size() };
        self.written + (self.out.len() + pending) as u64
    }

    /// Versions added so far.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    fn flush_data_block(&mut self) -> Result<()> {
        debug_assert!(self.data.entries() > 0, "flushing an empty data block");
        let bytes = self.data.finish();
        self.raw_data_size_bytes += bytes.len() as u64;
        let handle = append_block(&mut self.out, self.written, self.codec.as_ref(), bytes)?;
        let (last_key, last_ts) = self.data.last();
        let mut encoded = Vec::with_capacity(20);
        handle.encode_to(&mut encoded);
        self.index.add(last_key, last_ts, Some(&encoded));
        self.data.reset();
        self.data_blocks += 1;
        self.data_size_bytes += handle.length;
        if self.out.len() >= WRITE_BUFFER_BYTES {
            self.write_out()?;
        }
        Ok(())
    }

    /// Writes the buffered blocks to the file.
    fn write_out(&mut self) -> Result<()> {
        if let Err(error) = self.file.write_all_at(&self.out, self.written) {
            self.failed = true;
            return Err(error);
        }
        self.written += self.out.len() as u64;
        self.out.clear();
        Ok(())
    }

    /// Writes the last data block, the index, filter and properties blocks and the footer,
    /// then `sync_data`s the file. Returns the table's metadata. The caller syncs the
    /// directory. A table needs at least one entry (`Error::InvalidInput` otherwise).
    pub fn finish(mut self) -> Result<TableMeta> {
        self.refuse_if_failed()?;
        let (Some(smallest), Some(largest)) = (self.first.take(), self.last.take()) else {
            return Err(Error::InvalidInput(format!(
                "table {} has no entries: a table holds at least one",
                self.file_number
            )));
        };
        if !self.data.is_empty() {
            self.flush_data_block()?;
        }
        let index = self.index.finish();
        let base = self.written;
        let index = append_block(&mut self.out, base, self.codec.as_ref(), index)?;
        let filter = match &self.filter {
            Some(builder) => append_block(&mut self.out, base, &NoCodec, &builder.finish())?,
            None => BlockHandle { offset: base + self.out.len() as u64, length: 0 },
        };
        let properties = TableProperties {
            format_version: FormatVersion::CURRENT,
            entries: self.entries,
            tombstones: self.tombstones,
            distinct_keys: self.distinct_keys,
            data_blocks: self.data_blocks,
            data_size_bytes: self.data_size_bytes,
            raw_data_size_bytes: self.raw_data_size_bytes,
            min_ts: self.min_ts,
            max_ts: self.max_ts,
            compression: self.codec.id(),
            bloom_bits_per_key: if self.filter.is_some() {
                self.options.bloom_bits_per_key
            } else {
                0
            },
            restart_interval: self.options.restart_interval.max(1) as u32,
            block_size: self.options.block_size.min(u32::MAX as usize) as u32,
            smallest: smallest.clone(),
            largest: largest.clone(),
        };
        let properties = append_block(&mut self.out, base, &NoCodec, &properties.encode())?;
        let footer = Footer { index, filter, properties, version: FormatVersion::CURRENT };
        self.out.extend_from_slice(&footer.encode());
        self.write_out()?;
        if let Err(error) = self.file.sync_data() {
            self.failed = true;
            return Err(error);
        }
        Ok(TableMeta {
            file_number: self.file_number,
            file_size: self.written,
            smallest,
            largest,
            entries: self.entries,
            tombstones: self.tombstones,
            min_ts: self.min_ts,
            max_ts: self.max_ts,
        })
    }
}

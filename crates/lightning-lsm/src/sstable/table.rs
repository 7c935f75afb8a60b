//! [`Table`]: an open, immutable table. Opening verifies the footer, properties, index and
//! filter and keeps them in memory; data blocks are read on demand, through the shared
//! [`BlockCache`] when there is one.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lightning_core_storage::codec::decompress_block;
use lightning_core_storage::engine::Version;
use lightning_core_storage::vfs::{FileHandle, OpenMode, Vfs};
use lightning_core_storage::{Error, Result, Timestamp};

use super::block::{Block, BlockIter};
use super::format::{BlockHandle, FOOTER_LEN, Footer};
use super::properties::TableProperties;
use super::table_iter::TableIter;
use crate::filter::{BloomFilter, FilterCounters};
use crate::iter::InternalIter;
use crate::table_meta::TableMeta;

/// The cache of decoded data blocks shared by all tables, keyed by (file number, block
/// offset).
pub type BlockCache = lightning_cache::ArcCache<(u64, u64), Block>;

/// An open table. `Send + Sync`: shared by readers as `Arc<Table>`.
#[derive(Debug)]
pub struct Table {
    source: TableFile,
    file_number: u64,
    file_size: u64,
    footer: Footer,
    properties: TableProperties,
    index: Arc<Block>,
    filter: Option<BloomFilter>,
    cache: Option<Arc<BlockCache>>,
    filter_useful: AtomicU64,
    filter_false_positive: AtomicU64,
}

/// The open file of a table and its name, for reads and error locations.
#[derive(Debug)]
struct TableFile {
    file: FileHandle,
    name: String,
}

impl TableFile {
    fn location(&self, offset: u64) -> String {
        format!("{} offset {offset}", self.name)
    }

    /// The verified, decompressed contents of the block at `handle`; `what` names the kind of
    /// block in errors.
    fn read_block_bytes(&self, handle: BlockHandle, what: &str) -> Result<Vec<u8>> {
        let location = || self.location(handle.offset);
        let length = usize::try_from(handle.length).map_err(|_| {
            Error::corruption(format!("{what} block: impossible length"), location())
        })?;
        let mut raw = vec![0u8; length];
        self.file.read_exact_at(&mut raw, handle.offset)?;
        let mut out = Vec::new();
        let used = decompress_block(&raw, &mut out).map_err(|error| match error {
            Error::Corruption { what: detail, .. } => {
                Error::corruption(format!("{what} block: {detail}"), location())
            }
            other => other,
        })?;
        if used != length {
            return Err(Error::corruption(
                format!("{what} block: {used} bytes used of the {length} its handle names"),
                location(),
            ));
        }
        Ok(out)
    }
}

impl Table {
    /// Opens table `file_number` at `path`, verifying its footer, properties, index and filter.
    pub fn open(
        vfs: &dyn Vfs,
        path: &Path,
        file_number: u64,
        cache: Option<Arc<BlockCache>>,
    ) -> Result<Arc<Table>> {
        let file = vfs.open(path, OpenMode::Read)?;
        let file_name = path
            .file_name()
            .map_or_else(|| path.display().to_string(), |name| name.to_string_lossy().into_owned());
        let file_size = file.len()?;
        let footer_offset = file_size.checked_sub(FOOTER_LEN as u64).ok_or_else(|| {
            Error::corruption(
                format!("file of {file_size} bytes is shorter than a table footer"),
                format!("{file_name} offset 0"),
            )
        })?;
        let mut footer_bytes = [0u8; FOOTER_LEN];
        file.read_exact_at(&mut footer_bytes, footer_offset)?;
        let footer_location = format!("{file_name} offset {footer_offset}");
        let footer = Footer::decode(&footer_bytes, &footer_location)?;
        let handles = [footer.index, footer.filter, footer.properties];
        if handles.iter().any(|h| h.end() > footer_offset) || footer.index.length == 0 {
            return Err(Error::corruption(
                "footer: a block handle points outside the table",
                footer_location,
            ));
        }
        let source = TableFile { file, name: file_name };
        let properties = source.read_block_bytes(footer.properties, "properties")?;
        let properties =
            TableProperties::decode(&properties, &source.location(footer.properties.offset))?;
        let index = source.read_block_bytes(footer.index, "index")?;
        let index = Arc::new(Block::decode(index, source.location(footer.index.offset))?);
        let has_filter = footer.filter.length > 0;
        if has_filter != (properties.bloom_bits_per_key > 0) {
            return Err(Error::corruption(
                "the footer and the properties disagree on whether there is a filter",
                source.location(footer.properties.offset),
            ));
        }
        let filter = if has_filter {
            let filter = source.read_block_bytes(footer.filter, "filter")?;
            let filter = BloomFilter::decode(filter).map_err(|what| {
                Error::corruption(format!("filter: {what}"), source.location(footer.filter.offset))
            })?;
            Some(filter)
        } else {
            None
        };
        Ok(Arc::new(Table {
            source,
            file_number,
            file_size,
            footer,
            properties,
            index,
            filter,
            cache,
            filter_useful: AtomicU64::new(0),
            filter_false_positive: AtomicU64::new(0),
        }))
    }

    /// `"<file name> offset <n>"`, the location of every error about this table.
    pub(crate) fn location(&self, offset: u64) -> String {
        self.source.location(offset)
    }

    /// The verified, decompressed contents of the block at `handle`.
    pub(crate) fn read_block_bytes(&self, handle: BlockHandle, what: &str) -> Result<Vec<u8>> {
        self.source.read_block_bytes(handle, what)
    }

    /// Reads and decodes the data block at `handle` from the file (never from the cache).
    pub(crate) fn load_data_block(&self, handle: BlockHandle) -> Result<Block> {
        if handle.end() > self.footer.index.offset {
            return Err(Error::corruption(
                format!("index entry names a data block at {} beyond the data", handle.offset),
                self.location(self.footer.index.offset),
            ));
        }
        let bytes = self.read_block_bytes(handle, "data")?;
        Block::decode(bytes, self.location(handle.offset))
    }

    /// The data block at `handle`, through the block cache when there is one; a block read
    /// from the file is added to the cache only if `fill_cache`.
    pub(crate) fn data_block(&self, handle: BlockHandle, fill_cache: bool) -> Result<Arc<Block>> {
        match &self.cache {
            None => self.load_data_block(handle).map(Arc::new),
            Some(cache) if !fill_cache => match cache.get(&(self.file_number, handle.offset)) {
                Some(block) => Ok(block),
                None => self.load_data_block(handle).map(Arc::new),
            },
            Some(cache) => cache
                .get_or_load(&(self.file_number, handle.offset), || {
                    let block = self.load_data_block(handle)?;
                    let size = block.size_bytes();
                    Ok::<_, Error>((block, size))
                })
                .map_err(|error| Error::duplicate(&error)),
        }
    }

    /// The block handle an index entry holds.
    pub(crate) fn handle_of(&self, index: &BlockIter) -> Result<BlockHandle> {
        BlockHandle::decode(index.raw_value()).ok_or_else(|| {
            Error::corruption("index entry holds no valid block handle", index.block().location())
        })
    }

    /// The pinned index block.
    pub(crate) fn index_block(&self) -> &Arc<Block> {
        &self.index
    }

    /// The footer read at open.
    pub(crate) fn footer(&self) -> &Footer {
        &self.footer
    }

    /// The filter, if the table has one.
    pub(crate) fn filter(&self) -> Option<&BloomFilter> {
        self.filter.as_ref()
    }

    /// The table's file number.
    pub fn file_number(&self) -> u64 {
        self.file_number
    }

    /// The file's length in bytes.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// The file's name (for messages).
    pub fn file_name(&self) -> &str {
        &self.source.name
    }

    /// What the table says about itself.
    pub fn properties(&self) -> &TableProperties {
        &self.properties
    }

    /// The table's metadata as the manifest records it.
    pub fn meta(&self) -> TableMeta {
        let p = &self.properties;
        TableMeta {
            file_number: self.file_number,
            file_size: self.file_size,
            smallest: p.smallest.clone(),
            largest: p.largest.clone(),
            entries: p.entries,
            tombstones: p.tombstones,
            min_ts: p.min_ts,
            max_ts: p.max_ts,
        }
    }

    /// False if the filter says `key` is certainly absent; true if it may be present (always,
    /// when the table has no filter).
    pub fn may_contain(&self, key: &[u8]) -> bool {
        self.filter.as_ref().is_none_or(|filter| filter.may_contain(key))
    }

    /// The newest version of `key` at or below `read_ts` (a tombstone is `Some` with no
    /// value), or `None`. Consults the filter first.
    pub fn get(&self, key: &[u8], read_ts: Timestamp) -> Result<Option<Version>> {
        if !self.may_contain(key) {
            self.filter_useful.fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        }
        let found = self.first_at_or_after(key, read_ts)?;
        if let Some(found) = found.as_ref().filter(|it| it.key() == key) {
            let value = found.value().map(<[u8]>::to_vec);
            return Ok(Some(Version { commit_ts: found.ts(), value }));
        }
        if self.filter.is_some() {
            // Absent at read_ts; a false positive only if no version of the key is here at all.
            let newest = self.first_at_or_after(key, Timestamp::MAX)?;
            if newest.is_none_or(|it| it.key() != key) {
                self.filter_false_positive.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(None)
    }

    /// A block cursor on the first entry at or after `(key, ts)`, or `None` past the end.
    fn first_at_or_after(&self, key: &[u8], ts: Timestamp) -> Result<Option<BlockIter>> {
        let mut index = BlockIter::new(Arc::clone(&self.index));
        index.seek(key, ts)?;
        if !index.valid() {
            return Ok(None);
        }
        let mut data = BlockIter::new(self.data_block(self.handle_of(&index)?, true)?);
        data.seek(key, ts)?;
        if !data.valid() {
            // The index key is the block's last key, so the block holds the target.
            return Err(Error::corruption(
                "index key is beyond the last key of its block",
                data.block().location(),
            ));
        }
        Ok(Some(data))
    }

    /// A cursor over every version in the table (not positioned yet). Blocks it reads are
    /// added to the block cache.
    pub fn iter(self: &Arc<Self>) -> TableIter {
        TableIter::new(Arc::clone(self), true)
    }

    /// A cursor like [`Table::iter`] that uses cached blocks but adds none to the cache: for
    /// compactions, whose one pass over the input would push the readers' working set out.
    pub fn iter_without_caching(self: &Arc<Self>) -> TableIter {
        TableIter::new(Arc::clone(self), false)
    }

    /// The filter's answers in point reads so far.
    pub fn filter_counters(&self) -> FilterCounters {
        FilterCounters {
            useful: self.filter_useful.load(Ordering::Relaxed),
            false_positive: self.filter_false_positive.load(Ordering::Relaxed),
        }
    }
}

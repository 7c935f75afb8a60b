//! [`BTreeOptions`] and the page geometry derived from them.

use lightning_core_storage::{
    FileId,
    page::{PageFormat, PageSize, layout::SEAL_OVERHEAD},
};
use lightning_security::DataKey;

use crate::{
    Error, MAX_KEY_LEN, Result,
    node::{ENTRY_HEADER, HEADER_LEN, OVERFLOW_REF_LEN, SLOT_LEN},
    overflow,
};

/// The smallest page size the engine accepts: 16 KiB, so that at least three entries with a
/// key of [`MAX_KEY_LEN`] bytes fit inline in one node even on an encrypted page (see
/// `docs/format/btree.md`, "Why 16 KiB pages").
pub const MIN_PAGE_SIZE: usize = 16 * 1024;

/// How a [`BTreeEngine`](crate::BTreeEngine) is opened.
#[derive(Debug, Clone)]
pub struct BTreeOptions {
    /// Page size for a new file (an existing file keeps its own). At least [`MIN_PAGE_SIZE`];
    /// default 16 KiB.
    pub page_size: PageSize,
    /// Bytes of clean pages kept in the ARC cache. Default 256 MiB.
    pub cache_size_bytes: u64,
    /// The background thread checkpoints once this many bytes are dirty (0: never by size).
    /// Default 64 MiB.
    pub checkpoint_dirty_bytes: u64,
    /// The background thread checkpoints dirty data at least this often (0: never by time).
    /// Default 30 s.
    pub checkpoint_interval_ms: u64,
    /// Seal every page with this key (AEAD). `None`: plain pages.
    pub encryption: Option<DataKey>,
    /// The file id bound into every sealed page's associated data. Default 1.
    pub file_id: FileId,
}

impl Default for BTreeOptions {
    fn default() -> Self {
        BTreeOptions {
            page_size: PageSize::new(MIN_PAGE_SIZE as u32).expect("16 KiB is a valid page size"),
            cache_size_bytes: 256 << 20,
            checkpoint_dirty_bytes: 64 << 20,
            checkpoint_interval_ms: 30_000,
            encryption: None,
            file_id: FileId(1),
        }
    }
}

impl BTreeOptions {
    /// Options that never checkpoint in the background (tests and tools that checkpoint
    /// explicitly).
    pub fn manual_checkpoints(mut self) -> Self {
        self.checkpoint_dirty_bytes = 0;
        self.checkpoint_interval_ms = 0;
        self
    }

    /// Checks the options.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.page_size.bytes() < MIN_PAGE_SIZE {
            return Err(Error::InvalidOptions(format!(
                "page size {} is below the minimum of {MIN_PAGE_SIZE} bytes",
                self.page_size.bytes()
            )));
        }
        Ok(())
    }

    /// The page format for pages of `size`.
    pub(crate) fn format(&self, size: PageSize) -> PageFormat {
        match &self.encryption {
            Some(key) => PageFormat::encrypted(size, key.clone(), self.file_id),
            None => PageFormat::plain(size),
        }
    }
}

/// Sizes derived from the page format of an open file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geometry {
    /// Page size in bytes.
    pub(crate) page_size: usize,
    /// Bytes of a node available for prefix, slots and entries.
    pub(crate) capacity: usize,
    /// A leaf entry (slot included) larger than this moves its value to an overflow chain.
    pub(crate) max_inline_entry: usize,
    /// A non-root node using fewer bytes than this is underfull and gets merged or refilled.
    pub(crate) min_fill: usize,
    /// Value bytes per overflow page.
    pub(crate) overflow_chunk: usize,
}

/// The largest leaf or branch entry, slot included: a maximal key and an overflow reference.
pub(crate) const MAX_ENTRY: usize = SLOT_LEN + ENTRY_HEADER + MAX_KEY_LEN + OVERFLOW_REF_LEN;

/// Node capacity of the smallest (encrypted) page.
const MIN_CAPACITY: usize = MIN_PAGE_SIZE - 32 - SEAL_OVERHEAD - HEADER_LEN;

// Any entry is at most a third of a node: an overflowing node always splits into two that fit.
const _: () = assert!(3 * MAX_ENTRY <= MIN_CAPACITY, "max-size entries must fit 3 per node");

impl Geometry {
    /// The geometry of pages in `format`.
    pub(crate) fn of(format: &PageFormat) -> Geometry {
        let capacity = format.body_len() - HEADER_LEN;
        debug_assert!(3 * MAX_ENTRY <= capacity);
        Geometry {
            page_size: format.page_size().bytes(),
            capacity,
            max_inline_entry: capacity / 4,
            min_fill: capacity / 4,
            overflow_chunk: overflow::chunk_len(format.body_len()),
        }
    }

    /// True if a value of `value_len` bytes under a key of `key_len` bytes is stored inline.
    pub(crate) fn inline(&self, key_len: usize, value_len: usize) -> bool {
        value_len == 0 || SLOT_LEN + ENTRY_HEADER + key_len + value_len <= self.max_inline_entry
    }

    /// Overflow pages a value of `len` bytes needs.
    pub(crate) fn overflow_pages(&self, len: usize) -> u64 {
        len.div_ceil(self.overflow_chunk) as u64
    }
}

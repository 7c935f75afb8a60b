//! SSTables: immutable sorted files of versions, written once by a flush or a compaction and
//! read through [`Table`].
//!
//! A table is a run of data blocks (about [`TableOptions::block_size`] bytes each before
//! compression, keys prefix-compressed with restart points), an index block (the last internal
//! key of each data block and where the block is), a bloom filter over the user keys, a
//! properties block and a fixed-size footer. Every block goes through the self-describing,
//! checksummed compressed-block format of `lightning_core_storage::codec`. The layout, byte by
//! byte, is in `docs/format/sstable.md`; [`format`](mod@format) is its one copy in code.
//!
//! Reading: [`Table::open`] verifies and pins the footer, properties, index and filter; data
//! blocks are read on demand through the shared [`BlockCache`] when one is given. Damage
//! anywhere is `Error::Corruption` whose location is `"<file name> offset <n>"`.
//!
//! Code map: [`varint`] (LEB128), `block_builder` and [`block`] (one block's layout, written
//! and read), [`format`](mod@format) (value kinds, block handles, footer, version), [`properties`],
//! `writer` ([`TableWriter`]), `table` ([`Table`], point reads), `table_iter` ([`TableIter`])
//! and `check` ([`Table::check`]).

pub mod block;
mod block_builder;
mod check;
pub mod format;
pub mod properties;
mod table;
mod table_iter;
pub mod varint;
mod writer;

pub use block::{Block, BlockIter};
pub use format::{BlockHandle, FormatVersion};
pub use properties::TableProperties;
pub use table::{BlockCache, Table};
pub use table_iter::TableIter;
pub use writer::{MAX_ENTRY_BYTES, TableWriter};

pub use crate::filter::FilterCounters;

use lightning_core_storage::codec::Compression;

/// How tables are written (reading needs none of it: a table describes itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOptions {
    /// Target uncompressed size of a data block in bytes (a block closes once an added entry
    /// makes it reach this, so an entry larger than this ends the block it joins). Default 4096.
    pub block_size: usize,
    /// Entries between restart points in a data block (0 is taken as 1). Default 16.
    pub restart_interval: usize,
    /// The codec of data and index blocks. Default LZ4.
    pub compression: Compression,
    /// Bits per user key of the bloom filter; 0 writes no filter. Default 10.
    pub bloom_bits_per_key: u32,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            block_size: 4096,
            restart_interval: 16,
            compression: Compression::Lz4,
            bloom_bits_per_key: 10,
        }
    }
}

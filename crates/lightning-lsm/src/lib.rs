//! # lightning-lsm
//!
//! The LSM-tree engine: memtable, SSTables, manifest and leveled compaction. Implements the
//! engine trait of `lightning-core-storage`.
//!
//! **Walls:** Depends on `lightning-core-storage` and `lightning-cache`; never on `lightning-btree`.
//!
//! # Code map
//!
//! - [`compaction`]: [`compaction::pick`], which tables to compact next (dynamic level sizes,
//!   scores, overlap), and the runner that merges them.
//! - [`internal_key`]: the order of versions (user key ascending, commit timestamp descending).
//! - [`iter`]: [`InternalIter`], the positioned cursor every source of versions implements
//!   (memtables, tables, levels, the merge of them all).
//! - [`manifest`]: [`manifest::Manifest`], the durable log of version edits and the CURRENT
//!   switch; recovery of the levels from it.
//! - [`table_meta`]: [`TableMeta`], what the manifest and the levels know of one table file.
//! - [`sstable`]: table files ([`sstable::TableWriter`], [`sstable::Table`],
//!   [`sstable::TableIter`]); byte layout in `docs/format/sstable.md`.
//! - [`filter`]: the bloom filter over a table's user keys.
//! - [`version`]: [`version::Version`], the immutable levels of tables, and
//!   [`version::VersionEdit`], the change the manifest logs.

#![forbid(unsafe_code)]

pub mod compaction;
pub mod filter;
pub mod internal_key;
pub mod iter;
pub mod manifest;
pub mod sstable;
pub mod table_meta;
pub mod version;

pub use internal_key::{InternalKey, compare_internal};
pub use iter::InternalIter;
pub use table_meta::TableMeta;

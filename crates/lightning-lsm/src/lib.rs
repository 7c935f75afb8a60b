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
//! - [`memtable`]: the in-memory skiplist of the newest versions and its cursor.
//! - [`merge`]: the merge of many cursors into one order, and the visible-version walk of a
//!   key range that scans are built on.
//! - [`manifest`]: [`manifest::Manifest`], the durable log of version edits and the CURRENT
//!   switch; recovery of the levels from it.
//! - [`level_iter`]: [`level_iter::LevelIter`], one cursor over a level's run of tables.
//! - [`engine`]: [`LsmEngine`], the engine trait over memtables, levels and background
//!   flushes and compactions; [`LsmOptions`].
//! - [`compaction`]: choosing compactions ([`compaction::pick`]) and running their merge
//!   ([`compaction::run`]).
//! - [`table_meta`]: [`TableMeta`], what the manifest and the levels know of one table file.
//! - [`version`]: [`version::Version`], the immutable levels of tables, and
//!   [`version::VersionEdit`], the change the manifest logs.
//! - [`sstable`]: table files ([`sstable::TableWriter`], [`sstable::Table`],
//!   [`sstable::TableIter`]); byte layout in `docs/format/sstable.md`.
//! - [`filter`]: the bloom filter over a table's user keys.

#![forbid(unsafe_code)]

pub mod compaction;
pub mod engine;
pub mod filter;
pub mod internal_key;
pub mod iter;
pub mod level_iter;
pub mod manifest;
pub mod memtable;
pub mod merge;
pub mod sstable;
pub mod table_meta;
pub mod version;

pub use engine::{LsmEngine, LsmOptions};
pub use internal_key::{InternalKey, compare_internal};
pub use iter::InternalIter;
pub use table_meta::TableMeta;

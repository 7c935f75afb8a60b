//! # lightning-btree
//!
//! The read-optimised storage engine of Lightning DB: a copy-on-write B+Tree of versioned
//! keys over the page manager of `lightning-core-storage`, read through the ARC cache of
//! `lightning-cache`, implementing
//! [`StorageEngine`](lightning_core_storage::engine::StorageEngine).
//!
//! **Walls:** depends only on `lightning-core-storage`, `lightning-cache` and
//! `lightning-security`; never on the WAL, the transaction layer or the LSM engine. Versions
//! arrive as plain data through the engine trait.
//!
//! **Invariants:**
//! - entries are ordered by `(user key ascending, commit timestamp descending)`; a point read
//!   at `read_ts` is one descent to the first entry at or after `(key, read_ts)`;
//! - every node is one page of at least 16 KiB; any entry is at most a third of a node, so an
//!   overflowing node always splits in two; a non-root node under a quarter full is merged or
//!   refilled; no descent goes deeper than [`MAX_DEPTH`];
//! - nothing on disk is changed in place: a checkpoint writes dirty nodes to fresh pages and
//!   then flips one of two meta pages; a page freed by a checkpoint is reused only once that
//!   checkpoint is durable, and never while the live tree references it;
//! - every page read is checksummed and structurally validated before use: damage is
//!   `Corruption` naming the page, never a panic or a wrong answer.
//!
//! Map: [`engine`](BTreeEngine) (open, the trait, checkpoints, shutdown), `apply` (a batch) →
//! `lock` (the reader-sharded tree lock) → `tree` (the live state: `write` for copy-on-write
//! descent, insert and split, `rebalance` for remove, merge and refill, `read` for point reads)
//! → `node` (slotted pages: layout and search, `edit`, `build`, `validate`); `hot` (resident
//! clean nodes in front of the cache) and `store` (page manager + ARC cache); `cursor` and
//! `scan` (iteration in batches), `checkpoint`, `vacuum`, `bulk`, `check`, `stats`, `overflow`
//! (large values), `meta` (the meta record), `key` (the order), `worker` (background thread),
//! `id_map`. The byte layouts are specified in `docs/format/btree.md`.
//!
//! Concurrency: one read-write lock guards the live tree. A point read holds the read side;
//! a scan holds it only to find each leaf (the leaf's entries are walked and handed out with
//! no lock held, so `scan_with` calls its closure with no lock held); a batch, a vacuum step, and the two in-memory phases of a checkpoint
//! hold the write side briefly. A checkpoint writes pages without the lock, so readers never
//! wait for I/O of a checkpoint.
//!
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod apply;
mod bulk;
mod check;
mod checkpoint;
mod cursor;
mod engine;
mod error;
mod hot;
mod id_map;
mod key;
mod lock;
mod meta;
mod node;
mod options;
mod overflow;
mod scan;
mod stats;
mod store;
mod tree;
mod vacuum;
mod worker;

pub use check::CheckReport;
pub use engine::{BTreeEngine, FILE_NAME};
pub use error::{Error, Result};
pub use options::{BTreeOptions, MIN_PAGE_SIZE};
pub use stats::BTreeStats;

/// The longest key the engine accepts: 4 KiB plus 64 bytes, so that layers above can prefix a
/// user's 4 KiB key (the facade adds a 2-byte keyspace id).
pub const MAX_KEY_LEN: usize = 4096 + 64;
/// The longest value the engine accepts: 64 MiB.
pub const MAX_VALUE_LEN: usize = 64 << 20;
/// The most levels a tree may have; every descent checks it. With at least three entries per
/// node, 32 levels hold more pages than any file can.
pub const MAX_DEPTH: usize = 32;

//! The engine-neutral driver: what every database under test must offer the harness.
//!
//! One [`Driver`] is one open database in its own directory. Every write method is **one
//! atomic commit** (a write transaction, a write batch) whose durability is the mode the
//! database was opened with ([`Durability`]); the harness never mixes modes within one open.
//! Reads go through a [`Reader`] (a snapshot or read transaction, the engine's fastest way to
//! read many keys) or through the one-shot [`Driver::get`] / [`Driver::scan`] (what a YCSB client
//! does between writes).
//!
//! Values come back as a [`fingerprint`](crate::workloads::fingerprint) so that every engine does
//! the same small amount of work per value read and the harness can verify what it read.

use std::fmt;
use std::path::Path;

use crate::workloads::KEY_LEN;

/// How commits are made durable, fixed when a database is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync (or fdatasync) before a commit is acknowledged.
    Durable,
    /// No sync on commit: the engine's fastest mode; data may be lost on power failure.
    NoSync,
}

/// A key and a value to write. Keys are fixed-size in every workload.
pub type Entry<'a> = ([u8; KEY_LEN], &'a [u8]);

/// Why a benchmark step did not produce a number.
#[derive(Debug)]
pub enum BenchError {
    /// The engine is not available in this build (printed as "n/a", not as a failure).
    Unsupported(String),
    /// Anything else: an engine error, an I/O error, a wrong value read back.
    Failed(String),
}

/// The result of every driver call.
pub type BenchResult<T> = Result<T, BenchError>;

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsupported(reason) => write!(f, "unsupported: {reason}"),
            Self::Failed(reason) => f.write_str(reason),
        }
    }
}

/// Every engine's error converts with `?` (`BenchError` itself is not a `std::error::Error`,
/// which keeps this blanket conversion coherent).
impl<E: std::error::Error> From<E> for BenchError {
    fn from(error: E) -> Self {
        Self::Failed(error.to_string())
    }
}

/// Reads from one consistent view. Not `Send`: a thread opens its own (LMDB read
/// transactions belong to the thread that opened them).
pub trait Reader {
    /// The fingerprint of `key`'s value, or `None` when the key is missing.
    fn get(&mut self, key: &[u8]) -> BenchResult<Option<u64>>;

    /// Seeks to the first key `>= start` and reads up to `count` entries in key order;
    /// returns how many it read.
    fn scan(&mut self, start: &[u8], count: usize) -> BenchResult<usize>;

    /// [`Reader::scan`] through the engine's ordinary owning iterator (the `range-iter` row).
    /// The default is `scan`: for the peers it already is their ordinary iterator; Lightning
    /// DB's `scan` uses the lending `scan_with` and overrides this with `Iter`.
    fn scan_iter(&mut self, start: &[u8], count: usize) -> BenchResult<usize> {
        self.scan(start, count)
    }
}

/// One open database under test.
pub trait Driver: Send + Sync {
    /// Writes every entry in **one** transaction (the bulk-load and sorted-load rows).
    fn bulk_load(&self, entries: &mut dyn Iterator<Item = Entry<'_>>) -> BenchResult<()>;

    /// Writes one key in its own transaction.
    fn put(&self, key: &[u8], value: &[u8]) -> BenchResult<()>;

    /// Writes every entry in one transaction (a batch of the batch-writes row, a YCSB load
    /// batch). Same contract as `bulk_load`; engines may use a write batch instead of a
    /// transaction where that is their idiomatic atomic multi-key write.
    fn write_batch(&self, entries: &mut dyn Iterator<Item = Entry<'_>>) -> BenchResult<()>;

    /// Deletes every key in one transaction.
    fn delete_all(&self, keys: &mut dyn Iterator<Item = [u8; KEY_LEN]>) -> BenchResult<()>;

    /// Reads `key` and then writes `value` to it (YCSB F), atomically where the engine has
    /// transactions.
    fn read_modify_write(&self, key: &[u8], value: &[u8]) -> BenchResult<()>;

    /// A reader over a consistent view of the database as of now.
    fn reader(&self) -> BenchResult<Box<dyn Reader + '_>>;

    /// One-shot point read of the latest value.
    fn get(&self, key: &[u8]) -> BenchResult<Option<u64>> {
        self.reader()?.get(key)
    }

    /// One-shot short scan of the latest data.
    fn scan(&self, start: &[u8], count: usize) -> BenchResult<usize> {
        self.reader()?.scan(start, count)
    }

    /// Compacts the files if the engine can (`Ok(false)` when it has no compaction).
    fn compact(&mut self) -> BenchResult<bool>;

    /// Closes cleanly: everything written is on disk and the directory can be reopened.
    fn close(self: Box<Self>) -> BenchResult<()>;
}

/// Opens (creating if needed) the database in `dir`.
pub type OpenFn = fn(dir: &Path, durability: Durability) -> BenchResult<Box<dyn Driver>>;

/// Bytes of user-space cache given to every engine that has one (LMDB uses the OS page cache
/// only). Large enough that the default data set fits: the read rows measure the engines,
/// not the disk.
pub const CACHE_BYTES: u64 = 1 << 30;

/// Checks a read value against what was written, as an error rather than a panic.
pub fn verify(what: &str, found: u64, expected: u64) -> BenchResult<()> {
    if found == expected {
        Ok(())
    } else {
        Err(BenchError::Failed(format!("{what}: read back {found}, expected {expected}")))
    }
}

//! The memtable: the newest writes, in memory, in internal-key order.
//!
//! A [`Memtable`] is a concurrent skiplist (crossbeam-skiplist) of versions keyed by
//! [`InternalKey`], with a running size estimate. The engine writes into one *active*
//! memtable; when it is full it becomes immutable (no more inserts) and a background thread
//! flushes it to an L0 table. A [`MemtableIter`] owns an `Arc` of its memtable, so it may
//! outlive the engine state it was taken from.

mod iter;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crossbeam_skiplist::SkipMap;
use lightning_core_storage::{Lsn, Timestamp, engine::Version};

use crate::internal_key::InternalKey;

pub use iter::MemtableIter;

/// Bytes of bookkeeping counted per entry beyond its key and value (skiplist node, tower,
/// timestamp, vector headers): an estimate, so that many tiny entries still fill a memtable.
pub const ENTRY_OVERHEAD: usize = 64;

/// One memtable. Inserting the same internal key twice keeps the later value (idempotent
/// replay of a batch writes the same bytes again).
#[derive(Debug)]
pub struct Memtable {
    id: u64,
    map: SkipMap<InternalKey, Option<Vec<u8>>>,
    bytes: AtomicUsize,
    /// Lowest LSN applied into it (`u64::MAX` while none).
    min_lsn: AtomicU64,
    /// Highest LSN applied into it.
    max_lsn: AtomicU64,
    /// Highest commit timestamp applied into it.
    max_ts: AtomicU64,
}

impl Memtable {
    /// An empty memtable; `id` orders memtables by age (higher is newer).
    pub fn new(id: u64) -> Self {
        Memtable {
            id,
            map: SkipMap::new(),
            bytes: AtomicUsize::new(0),
            min_lsn: AtomicU64::new(u64::MAX),
            max_lsn: AtomicU64::new(0),
            max_ts: AtomicU64::new(0),
        }
    }

    /// The memtable's age order (higher is newer).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Inserts one version (`None` is a tombstone).
    pub fn insert(&self, key: &[u8], ts: Timestamp, value: Option<&[u8]>) {
        let size = key.len() + value.map_or(0, <[u8]>::len) + ENTRY_OVERHEAD;
        self.map.insert(InternalKey::new(key, ts), value.map(<[u8]>::to_vec));
        self.bytes.fetch_add(size, Ordering::Relaxed);
        self.max_ts.fetch_max(ts.0, Ordering::Relaxed);
    }

    /// Records that the batch logged at `lsn` (and committed at `commit_ts`) was applied here,
    /// even if it wrote nothing.
    pub fn record_batch(&self, lsn: Lsn, commit_ts: Timestamp) {
        self.min_lsn.fetch_min(lsn.0, Ordering::Relaxed);
        self.max_lsn.fetch_max(lsn.0, Ordering::Relaxed);
        self.max_ts.fetch_max(commit_ts.0, Ordering::Relaxed);
    }

    /// The newest version of `key` at or below `read_ts`, tombstones included.
    pub fn get(&self, key: &[u8], read_ts: Timestamp) -> Option<Version> {
        let entry =
            self.map.lower_bound(std::ops::Bound::Included(&InternalKey::new(key, read_ts)))?;
        let found = entry.key();
        (found.key == key).then(|| Version { commit_ts: found.ts, value: entry.value().clone() })
    }

    /// Estimated bytes held (keys, values and per-entry overhead).
    pub fn approximate_bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Versions held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True if it holds no version (it may still have recorded empty batches).
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// True if some batch was recorded (even one that wrote nothing).
    pub fn has_batches(&self) -> bool {
        self.min_lsn.load(Ordering::Relaxed) != u64::MAX
    }

    /// The lowest LSN applied, if any batch was.
    pub fn min_lsn(&self) -> Option<Lsn> {
        let lsn = self.min_lsn.load(Ordering::Relaxed);
        (lsn != u64::MAX).then_some(Lsn(lsn))
    }

    /// The highest LSN applied (`Lsn::ZERO` if none).
    pub fn max_lsn(&self) -> Lsn {
        Lsn(self.max_lsn.load(Ordering::Relaxed))
    }

    /// The highest commit timestamp applied.
    pub fn max_ts(&self) -> Timestamp {
        Timestamp(self.max_ts.load(Ordering::Relaxed))
    }

    /// The skiplist, for iterators and flush.
    pub(crate) fn map(&self) -> &SkipMap<InternalKey, Option<Vec<u8>>> {
        &self.map
    }
}

#[cfg(test)]
mod tests;

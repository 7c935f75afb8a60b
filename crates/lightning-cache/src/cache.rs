//! [`ArcCache`]: the sharded, concurrent ARC cache and its public operations.
//!
//! A key's hash picks its shard (bits 32.. of the hash, so that the shard choice does not
//! correlate with the bits the shard's own hash table uses); every operation on a key takes
//! only that shard's lock. Operations over all keys (`remove_if`, `clear`, `stats`) visit the
//! shards one at a time and never hold two shard locks.

use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use hashbrown::DefaultHashBuilder;

use crate::shard::Shard;
use crate::stats::{self, CacheStats};
use crate::{CacheConfig, CacheError};

/// A key that belongs to a file, so that all of a file's entries can be invalidated at once
/// (see [`ArcCache::invalidate_file`]).
pub trait FileKey {
    /// The id of the file this key's entry was read from.
    fn file_id(&self) -> u64;
}

/// `(file id, page id)`.
impl FileKey for (u64, u64) {
    fn file_id(&self) -> u64 {
        self.0
    }
}

/// A sharded Adaptive Replacement Cache with capacity in bytes, whose values are shared as
/// `Arc<V>` handles.
///
/// * Each entry has a size in bytes given by the caller; the resident entries of a shard
///   never add up to more than its share of the capacity.
/// * A value handed out is *pinned* while any caller holds its `Arc`: it is never chosen
///   for eviction. If making room would require evicting pinned entries only, the new entry
///   is not cached (insert returns `false`) rather than exceeding the capacity.
/// * `S` hashes keys, both to pick a shard and inside the shard.
pub struct ArcCache<K, V, S = DefaultHashBuilder> {
    shards: Box<[Shard<K, V>]>,
    shard_mask: usize,
    hasher: S,
    config: CacheConfig,
}

impl<K, V, S> fmt::Debug for ArcCache<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArcCache")
            .field("name", &self.config.name)
            .field("capacity_bytes", &self.config.capacity_bytes)
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone, V> ArcCache<K, V> {
    /// An empty cache hashing keys with hashbrown's default (foldhash) hasher.
    pub fn new(config: CacheConfig) -> Result<Self, CacheError> {
        Self::with_hasher(config, DefaultHashBuilder::default())
    }
}

impl<K: Hash + Eq + Clone, V, S: BuildHasher> ArcCache<K, V, S> {
    /// An empty cache hashing keys with `hasher`.
    pub fn with_hasher(config: CacheConfig, hasher: S) -> Result<Self, CacheError> {
        config.validate()?;
        let shards = (0..config.shards).map(|i| Shard::new(config.shard_capacity(i))).collect();
        Ok(Self { shards, shard_mask: config.shards - 1, hasher, config })
    }

    /// The hash of `key` and its shard.
    #[inline]
    pub(crate) fn locate(&self, key: &K) -> (u64, &Shard<K, V>) {
        let hash = self.hasher.hash_one(key);
        // Truncating to usize is fine: the mask is below 2^16.
        (hash, &self.shards[(spread(hash) >> 32) as usize & self.shard_mask])
    }

    /// The value of `key` if resident, which also counts as a use of it (ARC moves it to the
    /// frequency list). Counts a hit or a miss.
    #[inline]
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        let (hash, shard) = self.locate(key);
        let mut state = shard.lock();
        let value = state.core.get(hash, key);
        state.core.count_lookup(value.is_some());
        value
    }

    /// Whether `key` is resident. Neither a use nor a lookup: recency and counters stay.
    pub fn contains(&self, key: &K) -> bool {
        let (hash, shard) = self.locate(key);
        shard.lock().core.contains(hash, key)
    }

    /// Caches `value` for `key` with a size of `size_bytes` (0 counts as 1), replacing any
    /// older value. Returns whether the value is now resident: it is not when it is larger
    /// than a shard's capacity or when the only entries that could make room are pinned; an
    /// older value of `key` is gone in either case. A load of `key` in flight at the same time
    /// is not cached when it ends (this value is taken to be newer).
    pub fn insert(&self, key: K, value: impl Into<Arc<V>>, size_bytes: usize) -> bool {
        let (hash, shard) = self.locate(&key);
        let mut state = shard.lock();
        if !state.inflight.is_empty() {
            state.discard_inflight(|k| *k == key);
        }
        state.core.insert(hash, key, value.into(), size_bytes)
    }

    /// Removes `key` and forgets its ghost; returns the value if it was resident. Readers
    /// holding the value keep it. A load of `key` in flight is not cached when it ends.
    pub fn remove(&self, key: &K) -> Option<Arc<V>> {
        let (hash, shard) = self.locate(key);
        let mut state = shard.lock();
        state.discard_inflight(|k| k == key);
        state.core.remove(hash, key)
    }

    /// Removes every entry (and ghost) whose key matches `matches`, and keeps in-flight loads
    /// of matching keys out of the cache; returns the number of resident entries removed.
    /// O(entries), one shard locked at a time.
    ///
    /// REQUIRES: `matches` does not call into this cache (it runs under a shard lock).
    pub fn remove_if(&self, mut matches: impl FnMut(&K) -> bool) -> usize {
        let mut removed = 0;
        for shard in self.shards.iter() {
            let mut state = shard.lock();
            state.discard_inflight(&mut matches);
            removed += state.core.remove_if(&mut matches);
        }
        removed
    }

    /// Removes every resident entry and ghost, keeping the counters; in-flight loads are not
    /// cached when they end.
    pub fn clear(&self) {
        for shard in self.shards.iter() {
            let mut state = shard.lock();
            state.discard_inflight(|_| true);
            state.core.clear();
        }
    }

    /// Number of resident entries (summed shard by shard).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().core.len()).sum()
    }

    /// Whether no entry is resident.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of the resident entries (summed shard by shard).
    pub fn resident_bytes(&self) -> usize {
        self.shards.iter().map(|s| s.lock().core.resident_bytes()).sum()
    }

    /// The configured capacity in bytes.
    pub fn capacity_bytes(&self) -> usize {
        self.config.capacity_bytes
    }

    /// The number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The `cache` label of this cache's metrics.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// A snapshot of every shard's statistics and their total.
    pub fn stats(&self) -> CacheStats {
        CacheStats::from_shards(self.shards.iter().map(|s| s.lock().core.stats()).collect())
    }

    /// Publishes the totals of [`stats`](Self::stats) through the `metrics` facade (label
    /// `cache` = the configured name). Call it periodically, e.g. from a stats thread: the
    /// cache itself never touches the facade, so lookups stay free of shared counters.
    pub fn report_metrics(&self) {
        stats::publish(&self.config.name, &self.stats().total);
    }

    /// Checks every shard's ARC invariants (byte bounds, ghost bounds, `p` range, list and
    /// index consistency). O(entries); meant for tests and debugging.
    pub fn check_invariants(&self) -> Result<(), String> {
        for (i, shard) in self.shards.iter().enumerate() {
            shard.lock().core.check_invariants().map_err(|e| format!("shard {i}: {e}"))?;
        }
        Ok(())
    }
}

/// Mixes every bit of a key's hash into every bit of the result (the MurmurHash3 finaliser)
/// before the shard is chosen. A fast hasher need not spread small sequential keys over a few
/// bits: with some of foldhash's per-process seeds, keys 0..200 landed in 2 of 8 shards, so one
/// shard thrashed while six sat idle. Page ids are such keys.
#[inline]
fn spread(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

impl<K: FileKey + Hash + Eq + Clone, V, S: BuildHasher> ArcCache<K, V, S> {
    /// Removes every entry of file `file_id` (e.g. after the file was deleted or rewritten);
    /// returns the number of resident entries removed. O(entries).
    pub fn invalidate_file(&self, file_id: u64) -> usize {
        self.remove_if(|key| key.file_id() == file_id)
    }
}

//! Cache statistics: plain counters kept under each shard's lock, snapshots as plain structs,
//! and their export through the `metrics` facade.
//!
//! The counters are ordinary `u64` fields updated while the shard lock is held anyway, so the
//! hit path pays no atomic and no extra cache line for them (the hit and miss counters sit
//! in the lock's cache line, see `shard.rs`). The `metrics` facade is fed only
//! when the owner calls [`ArcCache::report_metrics`](crate::ArcCache::report_metrics), which
//! sums the shards and publishes the totals.

use std::ops::AddAssign;

/// Event counters of one shard. REQUIRES: updated only under the shard's lock.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counters {
    pub(crate) inserts: u64,
    pub(crate) rejected: u64,
    pub(crate) evictions: u64,
    pub(crate) removals: u64,
    pub(crate) ghost_hits_b1: u64,
    pub(crate) ghost_hits_b2: u64,
    pub(crate) loads: u64,
    pub(crate) load_waits: u64,
    pub(crate) load_failures: u64,
}

/// A snapshot of one shard's statistics (or, in [`CacheStats::total`], of all shards summed).
///
/// Every lookup ([`get`](crate::ArcCache::get) or
/// [`get_or_load`](crate::ArcCache::get_or_load)) counts exactly once, as a hit or as a miss,
/// so `hits + misses` is the number of lookups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShardStats {
    /// Lookups that found a resident entry.
    pub hits: u64,
    /// Lookups that found no resident entry (including `get_or_load` calls that waited for
    /// another thread's load).
    pub misses: u64,
    /// Entries admitted (new entries, replacements and readmitted ghosts).
    pub inserts: u64,
    /// Insertions refused: larger than a shard, or no room because the resident entries that
    /// would have had to go are pinned. The value was returned to the caller uncached.
    pub rejected: u64,
    /// Resident entries evicted to make room (demoted to a ghost list or dropped).
    pub evictions: u64,
    /// Resident entries removed explicitly (`remove`, `remove_if`, `invalidate_file`).
    pub removals: u64,
    /// Insertions of a key remembered in ghost list B1 (recency side): they grow the T1 target.
    pub ghost_hits_b1: u64,
    /// Insertions of a key remembered in ghost list B2 (frequency side): they shrink it.
    pub ghost_hits_b2: u64,
    /// Loader calls made by `get_or_load`.
    pub loads: u64,
    /// `get_or_load` calls that waited for a load already in flight instead of loading.
    pub load_waits: u64,
    /// Loader calls that returned an error.
    pub load_failures: u64,
    /// Resident entries.
    pub entries: u64,
    /// Bytes of the resident entries (T1 + T2), as given by the callers.
    pub resident_bytes: u64,
    /// Bytes in T1 (seen once recently).
    pub t1_bytes: u64,
    /// Bytes in T2 (seen at least twice recently).
    pub t2_bytes: u64,
    /// Bytes remembered by the ghost list B1 (evicted from T1).
    pub b1_bytes: u64,
    /// Bytes remembered by the ghost list B2 (evicted from T2).
    pub b2_bytes: u64,
    /// Keys remembered by the ghost lists.
    pub ghost_entries: u64,
    /// ARC's adaptive target size of T1 in bytes (`p` in the paper); summed in totals.
    pub target_t1_bytes: u64,
    /// Capacity in bytes.
    pub capacity_bytes: u64,
}

impl ShardStats {
    /// `self` with the event counters (all but hits and misses) taken from `c`.
    pub(crate) fn with_counters(mut self, c: &Counters) -> Self {
        self.inserts = c.inserts;
        self.rejected = c.rejected;
        self.evictions = c.evictions;
        self.removals = c.removals;
        self.ghost_hits_b1 = c.ghost_hits_b1;
        self.ghost_hits_b2 = c.ghost_hits_b2;
        self.loads = c.loads;
        self.load_waits = c.load_waits;
        self.load_failures = c.load_failures;
        self
    }

    /// `hits / (hits + misses)`, or 0 before the first lookup.
    pub fn hit_ratio(&self) -> f64 {
        let lookups = self.hits + self.misses;
        if lookups == 0 { 0.0 } else { self.hits as f64 / lookups as f64 }
    }
}

impl AddAssign<&ShardStats> for ShardStats {
    fn add_assign(&mut self, o: &ShardStats) {
        self.hits += o.hits;
        self.misses += o.misses;
        self.inserts += o.inserts;
        self.rejected += o.rejected;
        self.evictions += o.evictions;
        self.removals += o.removals;
        self.ghost_hits_b1 += o.ghost_hits_b1;
        self.ghost_hits_b2 += o.ghost_hits_b2;
        self.loads += o.loads;
        self.load_waits += o.load_waits;
        self.load_failures += o.load_failures;
        self.entries += o.entries;
        self.resident_bytes += o.resident_bytes;
        self.t1_bytes += o.t1_bytes;
        self.t2_bytes += o.t2_bytes;
        self.b1_bytes += o.b1_bytes;
        self.b2_bytes += o.b2_bytes;
        self.ghost_entries += o.ghost_entries;
        self.target_t1_bytes += o.target_t1_bytes;
        self.capacity_bytes += o.capacity_bytes;
    }
}

/// Statistics of a whole cache: each shard's snapshot and their sum.
///
/// Shards are read one after another, each under its own lock, so the total is not one
/// atomic instant of the whole cache while other threads are using it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// The sum over all shards.
    pub total: ShardStats,
    /// One snapshot per shard, in shard order.
    pub shards: Vec<ShardStats>,
}

impl CacheStats {
    pub(crate) fn from_shards(shards: Vec<ShardStats>) -> Self {
        let mut total = ShardStats::default();
        for s in &shards {
            total += s;
        }
        Self { total, shards }
    }
}

/// Publishes `stats` through the `metrics` facade with the label `cache = name`:
/// counters `lightning_cache_{hits,misses,inserts,rejected,evictions,removals,loads,
/// load_waits,load_failures}_total` and `lightning_cache_ghost_hits_total` (label
/// `list = b1|b2`), and gauges `lightning_cache_{entries,resident_bytes,capacity_bytes,
/// target_t1_bytes,ghost_entries}`.
pub(crate) fn publish(name: &str, s: &ShardStats) {
    let counters = [
        ("lightning_cache_hits_total", s.hits),
        ("lightning_cache_misses_total", s.misses),
        ("lightning_cache_inserts_total", s.inserts),
        ("lightning_cache_rejected_total", s.rejected),
        ("lightning_cache_evictions_total", s.evictions),
        ("lightning_cache_removals_total", s.removals),
        ("lightning_cache_loads_total", s.loads),
        ("lightning_cache_load_waits_total", s.load_waits),
        ("lightning_cache_load_failures_total", s.load_failures),
    ];
    for (metric, value) in counters {
        metrics::counter!(metric, "cache" => name.to_owned()).absolute(value);
    }
    for (list, value) in [("b1", s.ghost_hits_b1), ("b2", s.ghost_hits_b2)] {
        metrics::counter!("lightning_cache_ghost_hits_total", "cache" => name.to_owned(), "list" => list)
            .absolute(value);
    }
    let gauges = [
        ("lightning_cache_entries", s.entries),
        ("lightning_cache_resident_bytes", s.resident_bytes),
        ("lightning_cache_capacity_bytes", s.capacity_bytes),
        ("lightning_cache_target_t1_bytes", s.target_t1_bytes),
        ("lightning_cache_ghost_entries", s.ghost_entries),
    ];
    for (metric, value) in gauges {
        metrics::gauge!(metric, "cache" => name.to_owned()).set(value as f64);
    }
}

//! [`BTreeStats`]: what the tree looks like now, cheaply (from counters kept exact).

use std::sync::atomic::Ordering;

use lightning_cache::ShardStats;
use lightning_core_storage::{Lsn, engine::EngineStats};

use crate::BTreeEngine;

/// Shape, space and cache figures of a B+Tree.
#[derive(Debug, Clone, PartialEq)]
pub struct BTreeStats {
    /// Levels of nodes (1: the root is a leaf).
    pub height: usize,
    /// Versions stored (tombstones included).
    pub versions: u64,
    /// Leaf nodes.
    pub leaf_pages: u64,
    /// Branch nodes.
    pub branch_pages: u64,
    /// Overflow pages (pending values counted by the pages they will take).
    pub overflow_pages: u64,
    /// Bytes used in leaves over their capacity, in `[0, 1]`.
    pub fill_factor: f64,
    /// Page size in bytes.
    pub page_size: usize,
    /// Pages in the file, meta and free pages included.
    pub file_pages: u64,
    /// Pages free now or after the next checkpoint.
    pub free_pages: u64,
    /// Bytes of the file.
    pub disk_bytes: u64,
    /// Nodes held dirty in memory.
    pub dirty_nodes: u64,
    /// Bytes held only in memory until the next checkpoint.
    pub dirty_bytes: u64,
    /// Checkpoints completed since open.
    pub checkpoints: u64,
    /// The durable LSN.
    pub durable_lsn: Lsn,
    /// Clean nodes resident in the hot set (in front of the cache).
    pub resident_nodes: u64,
    /// The node cache (ARC), all shards summed.
    pub cache: ShardStats,
    /// Pages read from the file since open (node cache misses, overflow pages, checks).
    pub pages_read: u64,
    /// Holds of the tree read lock by scans since open (each finds one leaf or reads one
    /// overflow value; the entries of a leaf are walked with no lock held).
    pub scan_lock_holds: u64,
    /// Pages read from the file by batches under the tree write lock since open.
    pub pages_read_under_write_lock: u64,
    /// Incremental garbage-collection requests (`collect_garbage_step`) since open.
    pub gc_requests: u64,
    /// Incremental vacuum passes completed since open.
    pub gc_passes: u64,
}

impl BTreeStats {
    /// The engine-neutral form, with the B+Tree figures as extras.
    pub(crate) fn engine_stats(&self) -> EngineStats {
        let extra = [
            ("height", self.height as u64),
            ("leaf_pages", self.leaf_pages),
            ("branch_pages", self.branch_pages),
            ("overflow_pages", self.overflow_pages),
            ("fill_permille", (self.fill_factor * 1000.0) as u64),
            ("free_pages", self.free_pages),
            ("dirty_nodes", self.dirty_nodes),
            ("checkpoints", self.checkpoints),
            ("resident_nodes", self.resident_nodes),
            ("cache_hits", self.cache.hits),
            ("cache_misses", self.cache.misses),
            ("cache_bytes", self.cache.resident_bytes),
            ("pages_read", self.pages_read),
            ("scan_lock_holds", self.scan_lock_holds),
            ("pages_read_under_write_lock", self.pages_read_under_write_lock),
            ("gc_requests", self.gc_requests),
            ("gc_passes", self.gc_passes),
        ];
        EngineStats {
            engine: "btree".to_string(),
            versions: self.versions,
            disk_bytes: self.disk_bytes,
            memory_bytes: self.dirty_bytes
                + self.cache.resident_bytes
                + self.resident_nodes * self.page_size as u64,
            durable_lsn: self.durable_lsn,
            extra: extra.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        }
    }
}

impl BTreeEngine {
    /// Height, page counts by type, fill factor, free pages, bytes and cache figures.
    pub fn btree_stats(&self) -> BTreeStats {
        let shared = &self.shared;
        let pm = shared.store.pm.stats();
        let (height, counters, dirty_nodes, dirty_bytes, resident) = {
            let state = shared.tree.read();
            let dirty = state.dirty_bytes(shared.store.geometry.page_size);
            (state.height, state.counters, state.dirty.len() as u64, dirty, state.hot.len())
        };
        let capacity = (counters.leaf_pages * shared.store.geometry.capacity as u64).max(1);
        BTreeStats {
            height,
            versions: counters.versions,
            leaf_pages: counters.leaf_pages,
            branch_pages: counters.branch_pages,
            overflow_pages: counters.overflow_pages,
            fill_factor: counters.leaf_used as f64 / capacity as f64,
            page_size: pm.page_size,
            file_pages: pm.page_count,
            free_pages: pm.free_pages + pm.pending_free_pages,
            disk_bytes: pm.page_count * pm.page_size as u64,
            dirty_nodes,
            dirty_bytes,
            checkpoints: shared.checkpoints.load(Ordering::Relaxed),
            durable_lsn: shared.durable.lock().lsn,
            resident_nodes: resident as u64,
            cache: shared.store.cache.stats().total,
            pages_read: shared.store.counters.pages_read.load(Ordering::Relaxed),
            scan_lock_holds: shared.store.counters.scan_lock_holds.load(Ordering::Relaxed),
            pages_read_under_write_lock: shared
                .store
                .counters
                .pages_read_under_write_lock
                .load(Ordering::Relaxed),
            gc_requests: shared.store.counters.gc_requests.load(Ordering::Relaxed),
            gc_passes: shared.store.counters.gc_passes.load(Ordering::Relaxed),
        }
    }
}

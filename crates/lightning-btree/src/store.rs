//! Clean pages: the page manager, and the ARC cache of validated nodes in front of it.
//!
//! A node read from disk is checksum-verified by the page manager, structurally validated
//! (`node::validate`) and only then cached, so cached nodes are trusted by the read path.
//! Cache entries are keyed by page id. A page id is reused only after the page was freed by a
//! checkpoint and that checkpoint is durable; the checkpoint that writes it again replaces the
//! cache entry, and no node of the live tree can reference a freed page, so a stale entry is
//! never reached.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

use lightning_cache::{ArcCache, CacheConfig};
use lightning_core_storage::{Error, PageId, Result, page::PageFormat, page_manager::PageManager};
use parking_lot::Mutex;

use crate::{
    node::{Node, OVERFLOW, validate::validate},
    options::Geometry,
    overflow,
};

/// The page manager and the node cache.
#[derive(Debug)]
pub(crate) struct Store {
    /// The paged file.
    pub(crate) pm: PageManager,
    /// Validated clean nodes by page id.
    pub(crate) cache: ArcCache<u64, Node>,
    /// The page format of the file.
    pub(crate) format: PageFormat,
    /// Sizes derived from the format.
    pub(crate) geometry: Geometry,
    /// Hot-set proposals by readers: `(page, node, hot-set epoch when read)`.
    pin_requests: Mutex<Vec<(u64, Arc<Node>, u64)>>,
    pins_pending: AtomicBool,
    /// Work counters for stats and tests.
    pub(crate) counters: StoreCounters,
}

/// Counters of the work done through the store (monotonic since open).
#[derive(Debug, Default)]
pub(crate) struct StoreCounters {
    /// Pages read from the page manager (cache misses of nodes, overflow pages, checks).
    pub(crate) pages_read: AtomicU64,
    /// Holds of the tree read lock by scans (one per leaf found or overflow value read).
    pub(crate) scan_lock_holds: AtomicU64,
    /// Pages read from the file while a batch held the tree write lock (normally none: a
    /// batch reads its pages before it takes the lock).
    pub(crate) pages_read_under_write_lock: AtomicU64,
    /// Calls of `StorageEngine::collect_garbage_step` (the facade's maintenance rounds).
    pub(crate) gc_requests: AtomicU64,
    /// Incremental vacuum passes completed.
    pub(crate) gc_passes: AtomicU64,
}

impl Store {
    /// Wraps an open page manager with a cache of `cache_size_bytes` (the ARC part of the
    /// node cache; the hot set is the rest).
    pub(crate) fn new(pm: PageManager, cache_size_bytes: u64) -> Result<Store> {
        let format = pm.format().clone();
        let geometry = Geometry::of(&format);
        let capacity = usize::try_from(cache_size_bytes).unwrap_or(usize::MAX).max(1);
        // At least 64 pages per shard, at most 16 shards.
        let pages = capacity / geometry.page_size;
        let wanted = (pages / 64).clamp(1, 16);
        let shards = 1usize << (usize::BITS - 1 - wanted.leading_zeros());
        let config = CacheConfig::new(capacity.max(shards)).with_shards(shards).with_name("btree");
        let cache =
            ArcCache::new(config).map_err(|e| Error::InvalidInput(format!("B+Tree cache: {e}")))?;
        Ok(Store {
            pm,
            cache,
            format,
            geometry,
            pin_requests: Mutex::new(Vec::new()),
            pins_pending: AtomicBool::new(false),
            counters: StoreCounters::default(),
        })
    }

    /// Proposes clean node `id` (read under hot-set epoch `epoch`) for the hot set; a reader
    /// cannot change the tree state under its read lock, so the proposal is applied by the
    /// next caller of [`Store::take_pins`] that holds the write lock.
    pub(crate) fn request_pin(&self, id: u64, node: &Arc<Node>, epoch: u64) {
        self.pin_requests.lock().push((id, Arc::clone(node), epoch));
        self.pins_pending.store(true, Ordering::Release);
    }

    /// The pins asked for since the last call, if any (cheap when there are none).
    pub(crate) fn take_pins(&self) -> Option<Vec<(u64, Arc<Node>, u64)>> {
        if !self.pins_pending.load(Ordering::Acquire)
            || !self.pins_pending.swap(false, Ordering::AcqRel)
        {
            return None;
        }
        Some(std::mem::take(&mut *self.pin_requests.lock()))
    }

    /// `"<file> page <id>"`.
    pub(crate) fn location(&self, id: u64) -> String {
        overflow::location(&self.pm, id)
    }

    /// The error for node `id` found at `found` where the tree expects level `expected`.
    pub(crate) fn misplaced(&self, id: u64, found: u8, expected: usize) -> Error {
        Error::corruption(
            format!("node at level {found} where the tree expects level {expected}"),
            self.location(id),
        )
    }

    /// Pages in the file now.
    pub(crate) fn page_count(&self) -> u64 {
        self.pm.stats().page_count
    }

    /// `Corruption` unless page `id`, read from disk with write stamp `found`, carries the
    /// stamp its referrer (parent node, leaf entry or meta record) recorded: `expected`.
    pub(crate) fn check_stamp(&self, found: u64, id: u64, expected: u64) -> Result<()> {
        if found == expected {
            return Ok(());
        }
        Err(Error::corruption(
            format!(
                "stale page: written with stamp {found:#x} where its referrer expects \
                 {expected:#x} (a lost or misdirected write left an older version)"
            ),
            self.location(id),
        ))
    }

    /// Reads and validates node `id` without the cache (for `check`).
    pub(crate) fn read_node(&self, id: u64) -> Result<Node> {
        self.counters.pages_read.fetch_add(1, Ordering::Relaxed);
        let page = self.pm.read_page(PageId(id))?;
        let node = Node::from_page(page);
        validate(&node, self.page_count())
            .map_err(|what| Error::corruption(what, self.location(id)))?;
        Ok(node)
    }

    /// Appends the `len`-byte value of the overflow chain at `first`, written with `stamp`, to
    /// `out`. A chain of at most an eighth of the cache is read through the cache (a repeated
    /// read of it costs no I/O); a larger one from the file, so that one value cannot flush the
    /// cache. Every page read from disk must carry `stamp` (as nodes do, see [`Store::load`]).
    /// REQUIRES: the chain is live (the tree lock is held and a live leaf references it).
    pub(crate) fn read_value(
        &self,
        first: u64,
        len: usize,
        stamp: u64,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        out.reserve(len);
        let pages = self.geometry.overflow_pages(len) as usize;
        let cached =
            pages.saturating_mul(self.geometry.page_size) <= self.cache.capacity_bytes() / 8;
        let visit = |_, data: &[u8]| out.extend_from_slice(data);
        if !cached {
            let read = |id: PageId| {
                self.counters.pages_read.fetch_add(1, Ordering::Relaxed);
                let page = self.pm.read_page(id)?;
                self.check_stamp(page.lsn().0, id.0, stamp)?;
                Ok(page)
            };
            return overflow::walk_chain_with(&self.pm, first, len, read, visit);
        }
        let read = |id: PageId| {
            let node = self
                .cache
                .get_or_load(&id.0, || {
                    self.counters.pages_read.fetch_add(1, Ordering::Relaxed);
                    let page = self.pm.read_page(id)?;
                    self.check_stamp(page.lsn().0, id.0, stamp)?;
                    Ok((Node::from_page(page), self.geometry.page_size))
                })
                .map_err(|e| Error::duplicate(&e))?;
            Ok(OverflowPage(node))
        };
        overflow::walk_chain_with(&self.pm, first, len, read, visit)
    }

    /// Node `id` at tree `level`, through the cache. A page read from disk (a cache miss) must
    /// carry the write stamp its parent recorded, given by `stamp` (called only on a miss):
    /// an older valid page left at `id` by a lost write is `Corruption`, never current data. A
    /// cached node was checked when it was read or written, so a hit costs nothing more.
    pub(crate) fn load(
        &self,
        id: u64,
        stamp: impl FnOnce() -> u64,
        level: usize,
    ) -> Result<Arc<Node>> {
        let node = self
            .cache
            .get_or_load(&id, || {
                let node = self.read_node(id)?;
                self.check_stamp(node.stamp(), id, stamp())?;
                Ok((node, self.geometry.page_size))
            })
            .map_err(|e| Error::duplicate(&e))?;
        // The cache also holds overflow pages (read through `read_value`): a branch that
        // points at one is damaged.
        if node.page().page_type() == OVERFLOW {
            return Err(Error::corruption(
                "an overflow page where the tree expects a node",
                self.location(id),
            ));
        }
        if usize::from(node.level()) != level {
            return Err(self.misplaced(id, node.level(), level));
        }
        Ok(node)
    }
}

/// An overflow page held in the node cache.
struct OverflowPage(Arc<Node>);

impl std::borrow::Borrow<lightning_core_storage::page::Page> for OverflowPage {
    fn borrow(&self) -> &lightning_core_storage::page::Page {
        self.0.page()
    }
}

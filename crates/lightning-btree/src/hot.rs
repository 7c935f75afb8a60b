//! The hot set: clean nodes kept resident in the tree state, in front of the ARC cache.
//!
//! Every read descends through the root and the upper levels, and read-heavy workloads
//! revisit a working set of leaves. Reading a node out of the ARC cache writes to shared
//! state (the shard lock, the recency lists, the entry's reference count), which costs little
//! on one core but makes cores fight over cache lines when several read at once. Nodes in the
//! hot set are reached under the tree lock with plain reads: the only write is a reference
//! bit, set once per sweep.
//!
//! Policy: a clean node read through the cache is proposed for the hot set while it has room
//! (readers hold only the read lock, so proposals are queued in the store and applied by the
//! next holder of the write lock). A node joining the set leaves the ARC cache, so the two
//! never hold the same node and together stay within `cache_size_bytes`. When the set is
//! nearly full, the background thread sweeps it like CLOCK: nodes not read since the last
//! sweep go back to the ARC cache, making room for what is hot now. A page leaving the live
//! tree (copied on write, merged away) leaves the set at once; proposals made before that are
//! recognised by the set's epoch and dropped.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use crate::{id_map::IdMap, node::Node, store::Store};

#[derive(Debug)]
struct HotNode {
    node: Arc<Node>,
    referenced: AtomicBool,
}

/// Resident clean nodes by page id.
#[derive(Debug)]
pub(crate) struct HotSet {
    nodes: IdMap<HotNode>,
    max: usize,
    /// Bumped whenever a page leaves the live tree; a proposal made under an older epoch may
    /// name a page that is gone and is dropped.
    pub(crate) epoch: u64,
}

impl HotSet {
    /// An empty set of at most `max` nodes.
    pub(crate) fn new(max: usize) -> HotSet {
        HotSet { nodes: IdMap::default(), max, epoch: 0 }
    }

    /// The resident node `id`, marked as recently read.
    #[inline]
    pub(crate) fn get(&self, id: u64) -> Option<&Arc<Node>> {
        let hot = self.nodes.get(&id)?;
        if !hot.referenced.load(Ordering::Relaxed) {
            hot.referenced.store(true, Ordering::Relaxed);
        }
        Some(&hot.node)
    }

    /// True if another node may join.
    #[inline]
    pub(crate) fn has_room(&self) -> bool {
        self.nodes.len() < self.max
    }

    /// Nodes resident.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Page ids and nodes resident (for `check`).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &Arc<Node>)> {
        self.nodes.iter().map(|(id, hot)| (*id, &hot.node))
    }

    /// The resident node `id`, without marking it (for `check`).
    pub(crate) fn peek(&self, id: u64) -> Option<&Arc<Node>> {
        self.nodes.get(&id).map(|hot| &hot.node)
    }

    /// Makes node `id` resident if there is room, taking it out of the ARC cache.
    /// REQUIRES: the tree write lock; `node` is the live tree's page `id`.
    pub(crate) fn insert(&mut self, store: &Store, id: u64, node: Arc<Node>) {
        if self.has_room() {
            store.cache.remove(&id);
            self.nodes.insert(id, HotNode { node, referenced: AtomicBool::new(true) });
        }
    }

    /// Page `id` leaves the live tree. REQUIRES: the tree write lock.
    pub(crate) fn remove(&mut self, id: u64) {
        self.nodes.remove(&id);
        self.epoch += 1;
    }

    /// Applies the proposals readers queued, unless their pages left the tree meanwhile.
    /// REQUIRES: the tree write lock.
    pub(crate) fn apply(&mut self, store: &Store, proposals: Vec<(u64, Arc<Node>, u64)>) {
        for (id, node, epoch) in proposals {
            if epoch == self.epoch && !self.nodes.contains_key(&id) {
                self.insert(store, id, node);
            }
        }
    }

    /// True when the set is full enough to be worth a sweep.
    pub(crate) fn needs_sweep(&self) -> bool {
        self.nodes.len() * 10 >= self.max * 9
    }

    /// One CLOCK sweep: nodes not read since the last sweep go back to the ARC cache; the
    /// others lose their mark. Returns how many left. REQUIRES: the tree write lock.
    pub(crate) fn sweep(&mut self, store: &Store) -> usize {
        let cold: Vec<u64> = self
            .nodes
            .iter()
            .filter(|(_, hot)| !hot.referenced.swap(false, Ordering::Relaxed))
            .map(|(id, _)| *id)
            .collect();
        for id in &cold {
            if let Some(hot) = self.nodes.remove(id) {
                store.cache.insert(*id, hot.node, store.geometry.page_size);
            }
        }
        cold.len()
    }
}

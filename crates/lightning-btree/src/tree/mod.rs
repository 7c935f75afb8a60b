//! The live tree: clean pages on disk plus dirty nodes in memory, behind one `RwLock`.
//!
//! Node references are `u64`s: a page id, or (with [`VIRTUAL_BIT`](crate::node::VIRTUAL_BIT)
//! set) the id of a dirty node held in [`TreeState::dirty`]. A dirty node's parent is always
//! dirty too, so every virtual id is reachable from the root through dirty nodes only, and no
//! page on disk ever holds a virtual id. Writers copy a clean page into a dirty node the first
//! time they change it (copy-on-write); the page it came from (its *origin*) stays intact on
//! disk until the checkpoint that writes the node's new version frees it.
//!
//! Values too large to sit inline are *blobs* while pending: kept in [`TreeState::blobs`]
//! under a virtual id until a checkpoint writes their overflow chain.
//!
//! Submodules: [`write`] (descent for writing, insert, split), [`rebalance`] (remove, merge,
//! redistribute), [`read`] (point reads).

pub(crate) mod read;
pub(crate) mod rebalance;
pub(crate) mod write;

use std::sync::Arc;

use lightning_core_storage::{Error, Lsn, Result, Timestamp, page::PageFormat};

use crate::{
    MAX_DEPTH,
    hot::HotSet,
    id_map::IdMap,
    meta::{Counters, TreeMeta},
    node::{Node, VIRTUAL_BIT, is_virtual},
    store::Store,
};

/// A node borrowed from the tree state or shared with the cache.
#[derive(Debug, Clone)]
pub(crate) enum NodeRef<'a> {
    /// A dirty node or a pinned branch, valid while the tree lock is held.
    Borrowed(&'a Arc<Node>),
    /// A node from the cache.
    Shared(Arc<Node>),
}

impl NodeRef<'_> {
    /// An owned handle to the node.
    pub(crate) fn to_arc(&self) -> Arc<Node> {
        match self {
            NodeRef::Borrowed(node) => Arc::clone(node),
            NodeRef::Shared(node) => Arc::clone(node),
        }
    }
}

impl std::ops::Deref for NodeRef<'_> {
    type Target = Node;

    #[inline]
    fn deref(&self) -> &Node {
        match self {
            NodeRef::Borrowed(node) => node,
            NodeRef::Shared(node) => node,
        }
    }
}

/// A dirty node and the page it replaces.
#[derive(Debug, Clone)]
pub(crate) struct Dirty {
    /// The node; shared with a checkpoint's snapshot while one is writing it.
    pub(crate) node: Arc<Node>,
    /// The page this node is a new version of, freed when the node is written. `None` for a
    /// new node, or once a running checkpoint has taken charge of freeing it.
    pub(crate) origin: Option<u64>,
}

/// Disk space the live tree no longer references, freed by the next checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Release {
    /// A node page.
    Page(u64),
    /// An overflow chain of a `len`-byte value starting at `first`.
    Chain {
        /// First page.
        first: u64,
        /// Value length (gives the number of pages).
        len: usize,
    },
}

/// Everything the tree lock protects.
#[derive(Debug)]
pub(crate) struct TreeState {
    /// The root node (page or virtual id).
    pub(crate) root: u64,
    /// The write stamp the root page was written with (0 while the root is dirty).
    pub(crate) root_stamp: u64,
    /// Levels of nodes; 1 when the root is a leaf.
    pub(crate) height: usize,
    /// Dirty nodes by virtual id.
    pub(crate) dirty: IdMap<Dirty>,
    /// Pending overflow values by virtual id.
    pub(crate) blobs: IdMap<Arc<[u8]>>,
    /// Bytes of pending overflow values.
    pub(crate) blob_bytes: u64,
    /// Space to free at the next checkpoint.
    pub(crate) to_free: Vec<Release>,
    /// Exact counters of the live tree.
    pub(crate) counters: Counters,
    /// Highest LSN applied.
    pub(crate) applied_lsn: Lsn,
    /// Highest commit timestamp applied.
    pub(crate) max_commit_ts: Timestamp,
    /// The page format, for new nodes.
    pub(crate) format: PageFormat,
    /// Clean nodes resident in front of the cache.
    pub(crate) hot: HotSet,
    /// The highest commit timestamp of a version that may have left garbage (a tombstone or
    /// a superseding version): vacuum has nothing new to do below a horizon it has already
    /// completed a pass at, unless this is above it. Not persisted: on open it is the
    /// durable `max_commit_ts` (one pass after open finds what is there).
    pub(crate) garbage_ts: u64,
    /// Counts holds of the tree write lock: while it is unchanged, no node of the live tree
    /// has changed (scans continue in the leaf they ended in).
    pub(crate) version: u64,
    next_virtual: u64,
    /// The write stamp the next checkpoint (or bulk load) gives its pages.
    next_stamp: u64,
}

impl TreeState {
    /// The tree recorded by `meta`, or a new empty tree (one empty dirty leaf).
    pub(crate) fn open(format: PageFormat, meta: Option<TreeMeta>, max_hot: usize) -> TreeState {
        let mut state = TreeState {
            root: 0,
            root_stamp: 0,
            height: 1,
            dirty: IdMap::default(),
            blobs: IdMap::default(),
            blob_bytes: 0,
            to_free: Vec::new(),
            counters: Counters::default(),
            applied_lsn: Lsn::ZERO,
            max_commit_ts: Timestamp::ZERO,
            format,
            hot: HotSet::new(max_hot),
            garbage_ts: 0,
            version: 0,
            next_virtual: 0,
            next_stamp: first_stamp(meta.map_or(0, |m| m.generation)),
        };
        match meta {
            Some(meta) => {
                state.root = meta.root;
                state.root_stamp = meta.root_stamp;
                state.height = meta.height as usize;
                state.counters = meta.counters;
                state.applied_lsn = meta.lsn;
                state.max_commit_ts = meta.max_commit_ts;
                state.garbage_ts = meta.max_commit_ts.0;
            }
            None => {
                let root = Node::empty(&state.format, 0);
                state.root = state.add_dirty(root, None);
                state.counters.leaf_pages = 1;
            }
        }
        state
    }

    /// A write stamp no page of the file carries (see [`first_stamp`]).
    pub(crate) fn take_stamp(&mut self) -> u64 {
        let stamp = self.next_stamp;
        self.next_stamp = self.next_stamp.wrapping_add(1).max(1);
        stamp
    }

    /// A fresh virtual id.
    pub(crate) fn new_virtual(&mut self) -> u64 {
        self.next_virtual += 1;
        VIRTUAL_BIT | self.next_virtual
    }

    /// Adds a dirty node; returns its virtual id.
    pub(crate) fn add_dirty(&mut self, node: Node, origin: Option<u64>) -> u64 {
        let id = self.new_virtual();
        self.dirty.insert(id, Dirty { node: Arc::new(node), origin });
        id
    }

    /// The dirty node `id`.
    pub(crate) fn dirty_node(&self, id: u64) -> Result<&Arc<Node>> {
        self.dirty.get(&id).map(|d| &d.node).ok_or_else(|| dangling(id))
    }

    /// The dirty node `id`, writable (cloned first if a checkpoint shares it).
    pub(crate) fn node_mut(&mut self, id: u64) -> Result<&mut Node> {
        self.dirty.get_mut(&id).map(|d| Arc::make_mut(&mut d.node)).ok_or_else(|| dangling(id))
    }

    /// Replaces the contents of dirty node `id`.
    pub(crate) fn set_node(&mut self, id: u64, node: Node) -> Result<()> {
        let slot = self.dirty.get_mut(&id).ok_or_else(|| dangling(id))?;
        slot.node = Arc::new(node);
        Ok(())
    }

    /// Node `id` (dirty or clean) expected at `level`, borrowed from the tree state when it
    /// lives there (dirty nodes, the hot set: no reference count is touched, so readers on
    /// several threads do not contend). Any other node is read through the cache and
    /// proposed for the hot set (see [`Store::request_pin`]); a page read from disk must
    /// carry the write stamp its parent (or the meta record) recorded, which `stamp` gives
    /// (called only on a cache miss).
    #[inline]
    pub(crate) fn lookup<'a>(
        &'a self,
        store: &Store,
        id: u64,
        stamp: impl FnOnce() -> u64,
        level: usize,
    ) -> Result<NodeRef<'a>> {
        if is_virtual(id) {
            let node = self.dirty_node(id)?;
            debug_assert_eq!(usize::from(node.level()), level, "dirty node at the wrong level");
            return Ok(NodeRef::Borrowed(node));
        }
        if let Some(node) = self.hot.get(id) {
            if usize::from(node.level()) != level {
                return Err(store.misplaced(id, node.level(), level));
            }
            return Ok(NodeRef::Borrowed(node));
        }
        let node = store.load(id, stamp, level)?;
        if self.hot.has_room() {
            store.request_pin(id, &node, self.hot.epoch);
        }
        Ok(NodeRef::Shared(node))
    }

    /// Child `c` of branch `parent`, at `level`: [`TreeState::lookup`] with the stamp the
    /// parent recorded for it. A damaged child's error also names the parent.
    #[inline]
    pub(crate) fn lookup_child<'a>(
        &'a self,
        store: &Store,
        parent: &Node,
        c: usize,
        level: usize,
    ) -> Result<NodeRef<'a>> {
        let stamp = || parent.child_stamp(c);
        self.lookup(store, parent.child(c), stamp, level).map_err(|e| match e {
            Error::Corruption { what, location } => Error::Corruption {
                what: format!("{what} (child {c} of the node of page {})", parent.page().id().0),
                location,
            },
            other => other,
        })
    }

    /// [`TreeState::lookup`] without I/O: `None` if node `id` is not in memory.
    pub(crate) fn lookup_resident<'a>(
        &'a self,
        store: &Store,
        id: u64,
        stamp: u64,
        level: usize,
    ) -> Result<Option<NodeRef<'a>>> {
        if is_virtual(id) || self.hot.get(id).is_some() {
            return self.lookup(store, id, || stamp, level).map(Some);
        }
        match store.cache.get(&id) {
            Some(_) => self.lookup(store, id, || stamp, level).map(Some),
            None => Ok(None),
        }
    }

    /// [`TreeState::lookup`], as an owned handle.
    pub(crate) fn resolve(
        &self,
        store: &Store,
        id: u64,
        stamp: u64,
        level: usize,
    ) -> Result<Arc<Node>> {
        self.lookup(store, id, || stamp, level).map(|node| node.to_arc())
    }

    /// Forgets clean page `id`, which is leaving the live tree: from the hot set and the
    /// cache.
    pub(crate) fn unpin(&mut self, store: &Store, id: u64) {
        self.hot.remove(id);
        store.cache.remove(&id);
    }

    /// The root node, checking the height bound.
    pub(crate) fn root_node(&self, store: &Store) -> Result<NodeRef<'_>> {
        if self.height == 0 || self.height > MAX_DEPTH {
            return Err(Error::corruption(
                format!("tree height {} exceeds the bound of {MAX_DEPTH}", self.height),
                store.location(self.root),
            ));
        }
        self.lookup(store, self.root, || self.root_stamp, self.height - 1)
    }

    /// Bytes held only in memory until the next checkpoint.
    pub(crate) fn dirty_bytes(&self, page_size: usize) -> u64 {
        (self.dirty.len() * page_size) as u64 + self.blob_bytes
    }

    /// The meta record describing this tree if `root` (written with `root_stamp`) were its
    /// root page and `generation` the last write stamp used.
    pub(crate) fn meta(&self, root: u64, root_stamp: u64, generation: u64, lsn: Lsn) -> TreeMeta {
        TreeMeta {
            height: self.height as u32,
            root,
            root_stamp,
            generation,
            lsn,
            max_commit_ts: self.max_commit_ts,
            counters: self.counters,
        }
    }
}

/// The first write stamp after an open whose last durable checkpoint used `generation`.
///
/// Stamps only need to differ from every stamp of a page that could still sit at a reused
/// page id. A checkpoint that crashed before its meta page was durable wrote pages with stamps
/// after `generation` that no record remembers, so an open skips ahead by a random amount below
/// 2^32 (a stamp repeats only if a crashed attempt's page is reused and its rewrite is lost
/// and the jump lands on the same stamp). Never 0: that means "no page yet".
fn first_stamp(generation: u64) -> u64 {
    use std::hash::BuildHasher;
    let jump = std::collections::hash_map::RandomState::new().hash_one(generation) >> 32;
    generation.wrapping_add(1).wrapping_add(jump).max(1)
}

/// The error for a virtual id with no dirty node: a bug, reported rather than panicking.
pub(crate) fn dangling(id: u64) -> Error {
    Error::corruption(
        format!("in-memory node {:#x} is referenced but missing", id & !VIRTUAL_BIT),
        "B+Tree dirty node table",
    )
}

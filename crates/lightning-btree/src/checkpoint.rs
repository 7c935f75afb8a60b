//! Checkpoints: dirty nodes and pending values go to fresh pages, then one meta page flips.
//!
//! 1. **Snapshot** (tree write lock, in-memory only): the dirty nodes reachable from the root
//!    in post-order (`Arc` clones: writers that change a node afterwards copy it), the pending
//!    blobs, the pages to free, the counters and the checkpoint LSN.
//! 2. **Write** (no tree lock: readers and writers run): each blob becomes an overflow chain;
//!    each node, children first, is laid out canonically with its virtual references replaced
//!    by the pages just written (and the checkpoint's write stamp, see `node/mod.rs`), and
//!    written to a freshly allocated page carrying that stamp. The origins of the
//!    written nodes and the released space are freed — reusable only after this commit is
//!    durable, which the page manager enforces. Then `PageManager::commit` syncs the data,
//!    writes the inactive meta slot with the new root, and syncs again.
//! 3. **Swap** (tree write lock, in-memory only): a dirty node that no writer touched since
//!    the snapshot, and whose dirty children were all swapped, is replaced by its page. A
//!    node changed meanwhile stays dirty, its origin now the page just written; a node that
//!    left the tree meanwhile has its new page freed by the next checkpoint. Remaining dirty
//!    nodes have their references to swapped nodes and written blobs rewritten.
//!
//! Readers never wait for the write phase; writers wait only for the two in-memory phases.

use std::{collections::HashMap, sync::Arc};

use lightning_core_storage::{Error, Lsn, PageId, Result, Timestamp};

use crate::{
    MAX_DEPTH,
    meta::TreeMeta,
    node::{FLAG_OVERFLOW, Node, ValueRef, is_virtual},
    overflow,
    store::Store,
    tree::{Release, TreeState, dangling},
};

/// What a checkpoint takes from the live tree.
#[derive(Debug)]
pub(crate) struct Snapshot {
    /// Dirty nodes, children before parents.
    nodes: Vec<(u64, Arc<Node>)>,
    /// Pending values.
    blobs: Vec<(u64, Arc<[u8]>)>,
    /// Pages replaced by the snapshot's nodes.
    origins: Vec<u64>,
    /// Space released since the last checkpoint.
    released: Vec<Release>,
    /// The root (virtual or page).
    root: u64,
    /// The write stamp of the root if it is a page.
    root_stamp: u64,
    /// The write stamp of every page this checkpoint writes.
    stamp: u64,
    /// The meta record, root to be filled in.
    meta: TreeMeta,
}

/// Where the write phase put things.
#[derive(Debug)]
pub(crate) struct Written {
    pages: HashMap<u64, u64>,
    /// The branch nodes written, by page (pinned if they join the live tree).
    branches: HashMap<u64, Arc<Node>>,
    blob_pages: HashMap<u64, (u64, usize)>,
    /// The record committed.
    pub(crate) meta: TreeMeta,
}

impl Snapshot {
    /// The LSN this checkpoint makes durable.
    pub(crate) fn lsn(&self) -> Lsn {
        self.meta.lsn
    }
}

impl TreeState {
    /// True if a checkpoint at `lsn` would write nothing new.
    pub(crate) fn is_clean(&self, lsn: Lsn, durable_lsn: Lsn, durable_ts: Timestamp) -> bool {
        self.dirty.is_empty()
            && self.to_free.is_empty()
            && lsn == durable_lsn
            && self.max_commit_ts == durable_ts
    }

    /// Phase 1. REQUIRES: the tree write lock.
    pub(crate) fn snapshot(&mut self, lsn: Lsn) -> Result<Snapshot> {
        let mut order = Vec::with_capacity(self.dirty.len());
        if is_virtual(self.root) {
            let mut stack = vec![(self.root, 0usize)];
            while let Some(&(id, next)) = stack.last() {
                let node = self.dirty_node(id)?;
                if node.is_leaf() || next > node.count() {
                    order.push(id);
                    stack.pop();
                    continue;
                }
                let child = node.child(next);
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                if is_virtual(child) {
                    if stack.len() >= MAX_DEPTH {
                        return Err(Error::corruption(
                            "dirty path deeper than the bound",
                            "checkpoint",
                        ));
                    }
                    stack.push((child, 0));
                }
            }
        }
        if order.len() != self.dirty.len() {
            return Err(Error::corruption(
                format!("{} dirty nodes but {} reachable", self.dirty.len(), order.len()),
                "B+Tree dirty node table",
            ));
        }
        let nodes = order.iter().map(|id| (*id, Arc::clone(&self.dirty[id].node))).collect();
        let origins = self.dirty.values_mut().filter_map(|d| d.origin.take()).collect();
        let blobs = self.blobs.iter().map(|(id, b)| (*id, Arc::clone(b))).collect();
        let stamp = self.take_stamp();
        Ok(Snapshot {
            nodes,
            blobs,
            origins,
            released: std::mem::take(&mut self.to_free),
            root: self.root,
            root_stamp: self.root_stamp,
            stamp,
            meta: self.meta(0, 0, stamp, lsn),
        })
    }

    /// Phase 3. REQUIRES: the tree write lock.
    pub(crate) fn swap(
        &mut self,
        store: &Store,
        snapshot: Snapshot,
        written: &Written,
    ) -> Result<()> {
        let mut swapped: HashMap<u64, u64> = HashMap::new();
        for (id, snap) in &snapshot.nodes {
            let page = *written.pages.get(id).ok_or_else(|| dangling(*id))?;
            match self.dirty.get_mut(id) {
                None => self.to_free.push(Release::Page(page)),
                Some(live) => {
                    let children_swapped = snap.is_leaf()
                        || (0..=snap.count())
                            .map(|c| snap.child(c))
                            .all(|c| !is_virtual(c) || swapped.contains_key(&c));
                    if Arc::ptr_eq(&live.node, snap) && children_swapped {
                        swapped.insert(*id, page);
                        if let Some(node) = written.branches.get(&page) {
                            self.hot.insert(store, page, Arc::clone(node));
                        }
                    } else {
                        debug_assert!(live.origin.is_none(), "a snapshot node regained an origin");
                        live.origin = Some(page);
                        store.cache.remove(&page);
                    }
                }
            }
        }
        drop(snapshot);
        for id in swapped.keys() {
            self.dirty.remove(id);
        }
        for (blob, &(first, len)) in &written.blob_pages {
            match self.blobs.remove(blob) {
                Some(data) => self.blob_bytes -= data.len() as u64,
                None => self.to_free.push(Release::Chain { first, len }),
            }
        }
        let stamp = written.meta.generation;
        for live in self.dirty.values_mut() {
            remap_references(&mut live.node, &swapped, &written.blob_pages, stamp);
        }
        if let Some(&page) = swapped.get(&self.root) {
            self.root = page;
            self.root_stamp = stamp;
        }
        Ok(())
    }
}

/// Rewrites references of `node` to swapped nodes (written with `stamp`) and written blobs
/// (copying it only if something changes).
fn remap_references(
    node: &mut Arc<Node>,
    pages: &HashMap<u64, u64>,
    blobs: &HashMap<u64, (u64, usize)>,
    stamp: u64,
) {
    if node.is_leaf() {
        let targets: Vec<(usize, u64)> = (0..node.count())
            .filter(|&i| node.word(i) as u8 & FLAG_OVERFLOW != 0)
            .filter_map(|i| match node.value(i) {
                ValueRef::Overflow { first, .. } => blobs.get(&first).map(|&(page, _)| (i, page)),
                _ => None,
            })
            .collect();
        if !targets.is_empty() {
            let node = Arc::make_mut(node);
            for (i, page) in targets {
                node.set_overflow(i, page, stamp);
            }
        }
    } else {
        let targets: Vec<(usize, u64)> =
            (0..=node.count()).filter_map(|c| pages.get(&node.child(c)).map(|&p| (c, p))).collect();
        if !targets.is_empty() {
            let node = Arc::make_mut(node);
            for (c, page) in targets {
                node.set_child(c, page, stamp);
            }
        }
    }
}

/// Phase 2: writes the snapshot and commits it. REQUIRES: the checkpoint lock, not the tree
/// lock.
pub(crate) fn write(store: &Store, snapshot: &Snapshot) -> Result<Written> {
    let pm = &store.pm;
    // Every page of this checkpoint carries its write stamp in the page header's `lsn` field.
    let stamp = snapshot.stamp;
    let lsn = Lsn(stamp);
    let mut blob_pages = HashMap::with_capacity(snapshot.blobs.len());
    for (blob, data) in &snapshot.blobs {
        let chain = overflow::write_chain(pm, data, lsn)?;
        blob_pages.insert(*blob, (chain[0].0, data.len()));
    }
    let mut pages: HashMap<u64, u64> = HashMap::with_capacity(snapshot.nodes.len());
    let mut branches = HashMap::new();
    for (id, node) in &snapshot.nodes {
        let mut copy = Node::clone(node);
        if !copy.is_canonical() {
            copy.compact();
        }
        remap_in_place(&mut copy, &pages, &blob_pages, stamp)?;
        let page_id = pm.allocate()?;
        let mut page = copy.into_page();
        page.set_id(page_id);
        page.set_lsn(lsn);
        pm.write_page(&page)?;
        let node = Arc::new(Node::from_page(page));
        debug_assert_eq!(crate::node::validate::validate(&node, store.page_count()), Ok(()));
        if node.is_leaf() {
            store.cache.insert(page_id.0, Arc::clone(&node), store.geometry.page_size);
        } else {
            branches.insert(page_id.0, node);
        }
        pages.insert(*id, page_id.0);
    }
    for &origin in &snapshot.origins {
        free(store, origin)?;
    }
    for release in &snapshot.released {
        match *release {
            Release::Page(page) => free(store, page)?,
            Release::Chain { first, len } => {
                for page in overflow::chain_pages(pm, first, len)? {
                    free(store, page.0)?;
                }
            }
        }
    }
    let (root, root_stamp) = if is_virtual(snapshot.root) {
        (*pages.get(&snapshot.root).ok_or_else(|| dangling(snapshot.root))?, stamp)
    } else {
        (snapshot.root, snapshot.root_stamp)
    };
    let meta = TreeMeta { root, root_stamp, ..snapshot.meta };
    pm.commit(&meta.encode())?;
    Ok(Written { pages, branches, blob_pages, meta })
}

fn free(store: &Store, page: u64) -> Result<()> {
    store.cache.remove(&page);
    store.pm.free(PageId(page))
}

/// Replaces the virtual references of a node about to be written (its children were written
/// with `stamp`).
fn remap_in_place(
    node: &mut Node,
    pages: &HashMap<u64, u64>,
    blobs: &HashMap<u64, (u64, usize)>,
    stamp: u64,
) -> Result<()> {
    if node.is_leaf() {
        for i in 0..node.count() {
            if let ValueRef::Overflow { first, .. } = node.value(i)
                && is_virtual(first)
            {
                let page = blobs.get(&first).ok_or_else(|| dangling(first))?.0;
                node.set_overflow(i, page, stamp);
            }
        }
    } else {
        for c in 0..=node.count() {
            let child = node.child(c);
            if is_virtual(child) {
                node.set_child(c, *pages.get(&child).ok_or_else(|| dangling(child))?, stamp);
            }
        }
    }
    Ok(())
}

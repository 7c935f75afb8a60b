//! Writing: copy-on-write descent, inserting versions, and splits that propagate upwards.
//!
//! REQUIRES (whole module): the caller holds the tree write lock.

use lightning_core_storage::{Error, Result};

use super::{Release, TreeState};
use crate::{
    MAX_DEPTH,
    key::{PrefixRel, relate_to_prefix, separator},
    node::{
        FLAG_OVERFLOW, FLAG_TOMBSTONE, Node, Payload, ValueRef,
        build::{Parts, branch_split_point, build, leaf_split_point, node_size},
        is_virtual, leaf_word,
    },
    store::Store,
};

/// One branch on a path from the root: its (dirty) id and the child the path took.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    /// The branch.
    pub(crate) id: u64,
    /// Index of the child taken.
    pub(crate) child: usize,
}

/// An error for a split that finds no valid cut: a broken size invariant, never expected.
fn no_split(what: &str) -> Error {
    Error::corruption(format!("no valid split of an overflowing {what}"), "B+Tree node split")
}

impl TreeState {
    /// Makes node `id` (at `level`) dirty: a clean page is copied into a new dirty node whose
    /// origin is the page. Returns the dirty node's id (`id` itself if already dirty).
    /// `stamp` is the write stamp the parent (or the meta record) expects of page `id`.
    pub(crate) fn make_dirty(
        &mut self,
        store: &Store,
        id: u64,
        stamp: u64,
        level: usize,
    ) -> Result<u64> {
        if is_virtual(id) {
            return Ok(id);
        }
        let node = self.resolve(store, id, stamp, level)?;
        // The page stays valid on disk until the next checkpoint frees it, but the live tree
        // will not reach it again.
        self.unpin(store, id);
        Ok(self.add_dirty(Node::clone(&node), Some(id)))
    }

    /// Makes child `c` of dirty branch `parent` dirty and points the branch at the copy.
    pub(crate) fn dirty_child(
        &mut self,
        store: &Store,
        parent: u64,
        c: usize,
        level: usize,
    ) -> Result<u64> {
        let node = self.dirty_node(parent)?;
        let (child, stamp) = (node.child(c), node.child_stamp(c));
        let dirty = self.make_dirty(store, child, stamp, level)?;
        if dirty != child {
            self.node_mut(parent)?.set_child(c, dirty, 0);
        }
        Ok(dirty)
    }

    /// Descends towards `(key, ts)` making every node on the way dirty. Returns the branches
    /// passed (root first) and the dirty leaf.
    pub(crate) fn descend_mut(
        &mut self,
        store: &Store,
        key: &[u8],
        ts: u64,
    ) -> Result<(Vec<Step>, u64)> {
        if self.height == 0 || self.height > MAX_DEPTH {
            return Err(Error::corruption(format!("tree height {}", self.height), "B+Tree root"));
        }
        self.root = self.make_dirty(store, self.root, self.root_stamp, self.height - 1)?;
        let mut path = Vec::with_capacity(self.height);
        let mut id = self.root;
        for level in (1..self.height).rev() {
            let c = self.dirty_node(id)?.child_index(key, ts);
            let child = self.dirty_child(store, id, c, level - 1)?;
            path.push(Step { id, child: c });
            id = child;
        }
        Ok((path, id))
    }

    /// Frees what the value of leaf entry `i` holds outside the leaf.
    pub(crate) fn release_value(&mut self, store: &Store, node: &Node, i: usize) {
        if let ValueRef::Overflow { len, first, .. } = node.value(i) {
            self.release_overflow(store, len, first);
        }
    }

    /// Frees an overflow value: a pending blob at once, a chain at the next checkpoint.
    pub(crate) fn release_overflow(&mut self, store: &Store, len: u32, first: u64) {
        self.counters.overflow_pages -= store.geometry.overflow_pages(len as usize);
        if is_virtual(first) {
            if let Some(blob) = self.blobs.remove(&first) {
                self.blob_bytes -= blob.len() as u64;
            }
        } else {
            self.to_free.push(Release::Chain { first, len: len as usize });
        }
    }

    /// Records that a leaf went from using `old` bytes to `new`.
    pub(crate) fn adjust_leaf_used(&mut self, old: usize, new: usize) {
        self.counters.leaf_used = self.counters.leaf_used - old as u64 + new as u64;
    }

    /// Inserts the version `(key, ts) -> value` (`None`: a tombstone), replacing an entry with
    /// the same key and timestamp (so replaying a batch changes nothing). Returns true if the
    /// version may leave garbage for vacuum (a tombstone, or an older version it supersedes).
    pub(crate) fn insert_version(
        &mut self,
        store: &Store,
        key: &[u8],
        ts: u64,
        value: Option<&[u8]>,
    ) -> Result<bool> {
        let (path, leaf_id) = self.descend_mut(store, key, ts)?;
        let (word, payload) = match value {
            None => (leaf_word(FLAG_TOMBSTONE, 0), Payload::Bytes(&[])),
            Some(v) if store.geometry.inline(key.len(), v.len()) => {
                (leaf_word(0, v.len() as u32), Payload::Bytes(v))
            }
            Some(v) => {
                let blob = self.new_virtual();
                self.blobs.insert(blob, v.into());
                self.blob_bytes += v.len() as u64;
                self.counters.overflow_pages += store.geometry.overflow_pages(v.len());
                (
                    leaf_word(FLAG_OVERFLOW, v.len() as u32),
                    Payload::Overflow { first: blob, stamp: 0 },
                )
            }
        };
        let garbage;
        let (i, before, replaced) = {
            let leaf = self.dirty_node(leaf_id)?;
            let i = leaf.search(key, ts, false);
            let same = i < leaf.count() && leaf.ts(i) == ts && leaf.key_eq(i, key);
            let replaced = same.then(|| match leaf.value(i) {
                ValueRef::Overflow { len, first, .. } => Some((len, first)),
                _ => None,
            });
            // An older version of the key follows the new one (here, or possibly in the next
            // leaf when the new one goes last and this is not the rightmost leaf).
            let supersedes = if i + usize::from(same) < leaf.count() {
                leaf.key_eq(i + usize::from(same), key)
            } else {
                !self.is_rightmost(&path)?
            };
            garbage = value.is_none() || supersedes;
            (i, leaf.used(), replaced)
        };
        if let Some(overflow) = replaced {
            if let Some((len, first)) = overflow {
                self.release_overflow(store, len, first);
            }
            self.node_mut(leaf_id)?.remove(i);
            self.counters.versions -= 1;
        }
        self.counters.versions += 1;
        let node = self.node_mut(leaf_id)?;
        if let PrefixRel::Within(rest) = relate_to_prefix(key, node.prefix())
            && node.try_insert(i, rest, ts, word, payload)
        {
            let after = node.used();
            self.adjust_leaf_used(before, after);
            return Ok(garbage);
        }
        let leaf = std::sync::Arc::clone(self.dirty_node(leaf_id)?);
        let mut entries: Vec<Parts<'_>> = (0..leaf.count()).map(|j| Parts::of(&leaf, j)).collect();
        entries.insert(i, Parts::new(key, ts, word, payload));
        self.store_leaf(&path, leaf_id, &entries, before)?;
        Ok(garbage)
    }

    /// True if `path` (from [`TreeState::descend_mut`]) ends at the rightmost leaf.
    fn is_rightmost(&self, path: &[Step]) -> Result<bool> {
        for step in path {
            if step.child < self.dirty_node(step.id)?.count() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Stores `entries` as the contents of dirty leaf `id` (whose old contents used `old_used`
    /// bytes), splitting it in two if they do not fit, and links the new leaf into the parent.
    pub(crate) fn store_leaf(
        &mut self,
        path: &[Step],
        id: u64,
        entries: &[Parts<'_>],
        old_used: usize,
    ) -> Result<()> {
        let capacity = self.format.body_len() - crate::node::HEADER_LEN;
        if node_size(entries) <= capacity {
            let node = build(&self.format, 0, 0, 0, entries);
            self.adjust_leaf_used(old_used, node.used());
            return self.set_node(id, node);
        }
        let k = leaf_split_point(entries, capacity).ok_or_else(|| no_split("leaf"))?;
        let (left, right) = (
            build(&self.format, 0, 0, 0, &entries[..k]),
            build(&self.format, 0, 0, 0, &entries[k..]),
        );
        self.adjust_leaf_used(old_used, left.used() + right.used());
        self.counters.leaf_pages += 1;
        let (l, r) = (&entries[k - 1], &entries[k]);
        let (sep, sep_ts) = separator(&l.key(), l.ts, &r.key(), r.ts);
        self.set_node(id, left)?;
        let right_id = self.add_dirty(right, None);
        self.insert_branch_entry(path, &sep, sep_ts, right_id)
    }

    /// Inserts separator `(key, ts)` with child `child` into the last branch of `path`, right
    /// after the child the path took; splits the branch (and so on upwards) if it is full. An
    /// empty `path` means the root split: a new root is made.
    pub(crate) fn insert_branch_entry(
        &mut self,
        path: &[Step],
        key: &[u8],
        ts: u64,
        child: u64,
    ) -> Result<()> {
        let Some((step, above)) = path.split_last() else {
            return self.grow_root(key, ts, child);
        };
        let node = self.node_mut(step.id)?;
        if let PrefixRel::Within(rest) = relate_to_prefix(key, node.prefix())
            && node.try_insert(step.child, rest, ts, child, Payload::Page(0))
        {
            return Ok(());
        }
        let branch = std::sync::Arc::clone(self.dirty_node(step.id)?);
        let mut entries: Vec<Parts<'_>> =
            (0..branch.count()).map(|j| Parts::of(&branch, j)).collect();
        entries.insert(step.child, Parts::branch(key, ts, child, 0));
        let leftmost = (branch.leftmost(), branch.child_stamp(0));
        self.store_branch(above, step.id, leftmost, usize::from(branch.level()), &entries)
    }

    /// Stores `leftmost` (child and stamp) and `entries` as the contents of dirty branch `id`
    /// at `level`,
    /// splitting it if they do not fit; `above` is the path to its parent.
    pub(crate) fn store_branch(
        &mut self,
        above: &[Step],
        id: u64,
        (leftmost, leftmost_stamp): (u64, u64),
        level: usize,
        entries: &[Parts<'_>],
    ) -> Result<()> {
        let capacity = self.format.body_len() - crate::node::HEADER_LEN;
        let level8 = level as u8;
        if node_size(entries) <= capacity {
            return self
                .set_node(id, build(&self.format, level8, leftmost, leftmost_stamp, entries));
        }
        let m = branch_split_point(entries, capacity).ok_or_else(|| no_split("branch"))?;
        let up = entries[m];
        let left = build(&self.format, level8, leftmost, leftmost_stamp, &entries[..m]);
        let right = build(&self.format, level8, up.word, up.child_stamp(), &entries[m + 1..]);
        self.set_node(id, left)?;
        let right_id = self.add_dirty(right, None);
        self.counters.branch_pages += 1;
        self.insert_branch_entry(above, &up.key(), up.ts, right_id)
    }

    /// A new root above the current one, with `(key, ts) -> child` as its only separator.
    fn grow_root(&mut self, key: &[u8], ts: u64, child: u64) -> Result<()> {
        if self.height >= MAX_DEPTH {
            return Err(Error::InvalidInput(format!("the tree would exceed {MAX_DEPTH} levels")));
        }
        let entry = [Parts::branch(key, ts, child, 0)];
        let root = build(&self.format, self.height as u8, self.root, self.root_stamp, &entry);
        self.root = self.add_dirty(root, None);
        self.height += 1;
        self.counters.branch_pages += 1;
        Ok(())
    }
}

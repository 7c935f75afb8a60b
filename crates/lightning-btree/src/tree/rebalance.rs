//! Removing entries and keeping nodes filled: merge with a sibling when both fit in one node,
//! otherwise refill from the sibling (redistribute), then fix the parent the same way; a root
//! branch left with one child is replaced by that child.
//!
//! A non-root node is *underfull* when it uses less than a quarter of its capacity (or, for a
//! branch, has a single child). After a fix the pair either became one node or was split at
//! the balance point, so each side holds about half of what the two held, and the two held
//! more than a node's capacity.
//!
//! REQUIRES (whole module): the caller holds the tree write lock.

use std::sync::Arc;

use lightning_core_storage::{Error, Result};

use super::{Release, TreeState, write::Step};
use crate::{
    key::{PrefixRel, relate_to_prefix, separator},
    node::{
        HEADER_LEN, Payload,
        build::{Parts, branch_split_point, build, leaf_split_point, node_size},
        is_virtual,
    },
    store::Store,
};

/// What fixing an underfull child did to its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fixed {
    /// The parent has a single child: nothing to pair it with.
    Alone,
    /// Two children became one: the parent lost an entry.
    Merged,
    /// The children were rebalanced: the parent's separator changed in place.
    Refilled,
    /// The new separator did not fit: the parent split (it grew, so the walk stops).
    Split,
}

fn no_split() -> Error {
    Error::corruption("no valid split while rebalancing", "B+Tree rebalance")
}

impl TreeState {
    /// Removes the entries at `indices` (ascending) from dirty leaf `leaf_id` at the end of
    /// `path`, frees their values, and restores the fill invariant up the path.
    pub(crate) fn remove_entries(
        &mut self,
        store: &Store,
        path: &[Step],
        leaf_id: u64,
        indices: &[usize],
    ) -> Result<()> {
        let leaf = Arc::clone(self.dirty_node(leaf_id)?);
        let before = leaf.used();
        for &i in indices {
            self.release_value(store, &leaf, i);
        }
        drop(leaf);
        let node = self.node_mut(leaf_id)?;
        for &i in indices.iter().rev() {
            node.remove(i);
        }
        let after = node.used();
        self.counters.versions -= indices.len() as u64;
        self.adjust_leaf_used(before, after);
        self.rebalance(store, path, leaf_id)
    }

    /// Frees a node that left the tree.
    pub(crate) fn release_node(&mut self, store: &Store, id: u64) {
        if is_virtual(id) {
            if let Some(origin) = self.dirty.remove(&id).and_then(|d| d.origin) {
                self.to_free.push(Release::Page(origin));
            }
        } else {
            self.unpin(store, id);
            self.to_free.push(Release::Page(id));
        }
    }

    /// Fixes underfull nodes from dirty node `id` (the end of `path`) up to the root.
    pub(crate) fn rebalance(&mut self, store: &Store, path: &[Step], id: u64) -> Result<()> {
        let mut depth = path.len();
        let mut id = id;
        while depth > 0 {
            let node = self.dirty_node(id)?;
            // An empty leaf or a branch with a single child is underfull whatever its size.
            if node.used() >= store.geometry.min_fill && node.count() > 0 {
                return Ok(());
            }
            let parent = path[depth - 1];
            if self.fix_underflow(store, &path[..depth - 1], parent)? == Fixed::Split {
                return Ok(());
            }
            id = parent.id;
            depth -= 1;
        }
        self.collapse_root(store)
    }

    /// Replaces a root branch that has a single child by the child, as often as needed.
    fn collapse_root(&mut self, store: &Store) -> Result<()> {
        while self.height > 1 {
            let root = self.resolve(store, self.root, self.root_stamp, self.height - 1)?;
            if root.count() > 0 {
                break;
            }
            let (child, stamp) = (root.leftmost(), root.child_stamp(0));
            self.release_node(store, self.root);
            self.root = child;
            self.root_stamp = stamp;
            self.height -= 1;
            self.counters.branch_pages -= 1;
        }
        Ok(())
    }

    /// Merges the underfull child `parent.child` of `parent` with a sibling, or refills it
    /// from the sibling when the two do not fit in one node.
    fn fix_underflow(&mut self, store: &Store, above: &[Step], parent: Step) -> Result<Fixed> {
        let (count, level) = {
            let p = self.dirty_node(parent.id)?;
            (p.count(), usize::from(p.level()) - 1)
        };
        if count == 0 {
            return Ok(Fixed::Alone);
        }
        let (l, r) = if parent.child > 0 { (parent.child - 1, parent.child) } else { (0, 1) };
        let left_id = self.dirty_child(store, parent.id, l, level)?;
        let right_id = self.dirty_child(store, parent.id, r, level)?;
        let left = Arc::clone(self.dirty_node(left_id)?);
        let right = Arc::clone(self.dirty_node(right_id)?);
        let p = Arc::clone(self.dirty_node(parent.id)?);
        let capacity = self.format.body_len() - HEADER_LEN;
        let mut entries: Vec<Parts<'_>> = (0..left.count()).map(|i| Parts::of(&left, i)).collect();
        if level > 0 {
            // The parent's separator comes down between the two halves.
            entries.push(Parts::of(&p, r - 1).with_child(right.leftmost(), right.child_stamp(0)));
        }
        entries.extend((0..right.count()).map(|i| Parts::of(&right, i)));
        let level8 = level as u8;
        if node_size(&entries) <= capacity {
            let merged =
                build(&self.format, level8, left.leftmost(), left.child_stamp(0), &entries);
            if level == 0 {
                self.adjust_leaf_used(left.used() + right.used(), merged.used());
                self.counters.leaf_pages -= 1;
            } else {
                self.counters.branch_pages -= 1;
            }
            self.set_node(left_id, merged)?;
            self.release_node(store, right_id);
            drop(p);
            self.node_mut(parent.id)?.remove(r - 1);
            return Ok(Fixed::Merged);
        }
        let (a, b, sep, sep_ts) = if level == 0 {
            let k = leaf_split_point(&entries, capacity).ok_or_else(no_split)?;
            let (a, b) = (
                build(&self.format, 0, 0, 0, &entries[..k]),
                build(&self.format, 0, 0, 0, &entries[k..]),
            );
            self.adjust_leaf_used(left.used() + right.used(), a.used() + b.used());
            let (x, y) = (&entries[k - 1], &entries[k]);
            let (sep, ts) = separator(&x.key(), x.ts, &y.key(), y.ts);
            (a, b, sep, ts)
        } else {
            let m = branch_split_point(&entries, capacity).ok_or_else(no_split)?;
            let up = entries[m];
            let a =
                build(&self.format, level8, left.leftmost(), left.child_stamp(0), &entries[..m]);
            let b = build(&self.format, level8, up.word, up.child_stamp(), &entries[m + 1..]);
            (a, b, up.key(), up.ts)
        };
        self.set_node(left_id, a)?;
        self.set_node(right_id, b)?;
        drop(p);
        self.replace_separator(above, parent, r - 1, &sep, sep_ts, right_id)
    }

    /// Replaces entry `index` of branch `parent` by `(key, ts) -> child`, splitting the branch
    /// if the new separator does not fit.
    fn replace_separator(
        &mut self,
        above: &[Step],
        parent: Step,
        index: usize,
        key: &[u8],
        ts: u64,
        child: u64,
    ) -> Result<Fixed> {
        let node = self.node_mut(parent.id)?;
        node.remove(index);
        if let PrefixRel::Within(rest) = relate_to_prefix(key, node.prefix())
            && node.try_insert(index, rest, ts, child, Payload::Page(0))
        {
            return Ok(Fixed::Refilled);
        }
        let branch = Arc::clone(self.dirty_node(parent.id)?);
        let mut entries: Vec<Parts<'_>> =
            (0..branch.count()).map(|j| Parts::of(&branch, j)).collect();
        entries.insert(index, Parts::branch(key, ts, child, 0));
        let pages = self.counters.branch_pages;
        let level = usize::from(branch.level());
        let leftmost = (branch.leftmost(), branch.child_stamp(0));
        self.store_branch(above, parent.id, leftmost, level, &entries)?;
        Ok(if self.counters.branch_pages > pages { Fixed::Split } else { Fixed::Refilled })
    }
}

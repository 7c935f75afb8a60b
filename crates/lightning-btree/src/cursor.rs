//! A read cursor over the entries of the live tree, in both directions.
//!
//! Nodes carry no sibling links (with copy-on-write pages a sibling link would force every
//! neighbour to be rewritten too); the cursor keeps the path from the root instead and moves
//! to the next or previous leaf through the nearest ancestor with another child. The path is
//! at most [`MAX_DEPTH`](crate::MAX_DEPTH) long and each move visits each node once, so every
//! traversal is bounded.
//!
//! REQUIRES: a cursor borrows the [`TreeState`] under the tree lock; it must not outlive the
//! guard (it holds `Arc`s of nodes, which stay valid, but page ids it would follow next could
//! be freed by a checkpoint once the lock is released). A scan keeps its path across holds
//! with [`Cursor::into_path`] and continues with [`Cursor::resume`] only if no writer took the
//! lock in between (`TreeState::version` unchanged), so the path is still the live tree's.

use lightning_core_storage::Result;

use crate::{
    store::Store,
    tree::{NodeRef, TreeState},
};

/// A cursor's path kept across holds of the tree lock: owned node handles, `(node, index)`
/// from the root down (see [`Cursor::into_path`]).
pub(crate) type Path = Vec<(NodeRef<'static>, usize)>;

/// A position in the tree: the path from the root and an entry index in the leaf.
#[derive(Debug)]
pub(crate) struct Cursor<'s> {
    state: &'s TreeState,
    store: &'s Store,
    /// `(node, index)` from the root down: the child taken in branches, the entry in the leaf
    /// (`count` = past the end).
    path: Vec<(NodeRef<'s>, usize)>,
    /// Moved before the first entry.
    before_start: bool,
}

impl<'s> Cursor<'s> {
    /// A cursor at the first entry `>= (key, ts)` (`upper == false`) or `> (key, ts)`.
    pub(crate) fn seek(
        state: &'s TreeState,
        store: &'s Store,
        key: &[u8],
        ts: u64,
        upper: bool,
    ) -> Result<Cursor<'s>> {
        let mut cursor = Cursor::at_root(state, store)?;
        for level in (1..state.height).rev() {
            let node = cursor.top();
            let c = node.child_index(key, ts);
            let child = state.lookup_child(store, node, c, level - 1)?;
            cursor.set_top_index(c);
            cursor.path.push((child, 0));
        }
        let i = cursor.top().search(key, ts, upper);
        cursor.set_top_index(i);
        if i == cursor.top().count() {
            cursor.next_leaf()?;
        }
        Ok(cursor)
    }

    /// A cursor on `path`, taken with [`Cursor::into_path`] under an earlier hold of the lock.
    /// REQUIRES: no writer took the tree lock since (`TreeState::version` is what it was), so
    /// every node on the path is still the live tree's; `path` is not empty.
    pub(crate) fn resume(state: &'s TreeState, store: &'s Store, path: Path) -> Cursor<'s> {
        debug_assert_eq!(path.len(), state.height, "a path runs from the root to a leaf");
        Cursor { state, store, path, before_start: false }
    }

    /// The path from the root, as owned handles that outlive the lock guard (the index in the
    /// leaf is the cursor's entry).
    pub(crate) fn into_path(self) -> Path {
        // Same layout in and out: the vector is converted in place.
        self.path
            .into_iter()
            .map(|(node, index)| match node {
                NodeRef::Borrowed(node) => (NodeRef::Shared(std::sync::Arc::clone(node)), index),
                NodeRef::Shared(node) => (NodeRef::Shared(node), index),
            })
            .collect()
    }

    /// A cursor at the first entry of the tree.
    pub(crate) fn first(state: &'s TreeState, store: &'s Store) -> Result<Cursor<'s>> {
        let mut cursor = Cursor::at_root(state, store)?;
        cursor.descend_edge(false)?;
        if cursor.top().count() == 0 {
            cursor.next_leaf()?;
        }
        Ok(cursor)
    }

    /// A cursor at the last entry of the tree.
    pub(crate) fn last(state: &'s TreeState, store: &'s Store) -> Result<Cursor<'s>> {
        let mut cursor = Cursor::at_root(state, store)?;
        cursor.descend_edge(true)?;
        if cursor.top().count() == 0 {
            cursor.prev_leaf()?;
        } else {
            let last = cursor.top().count() - 1;
            cursor.set_top_index(last);
        }
        Ok(cursor)
    }

    fn at_root(state: &'s TreeState, store: &'s Store) -> Result<Cursor<'s>> {
        let root = state.root_node(store)?;
        let mut path = Vec::with_capacity(state.height);
        path.push((root, 0));
        Ok(Cursor { state, store, path, before_start: false })
    }

    fn top(&self) -> &NodeRef<'s> {
        &self.path.last().expect("a cursor path is never empty").0
    }

    fn set_top_index(&mut self, index: usize) {
        self.path.last_mut().expect("a cursor path is never empty").1 = index;
    }

    /// The leaf and entry index under the cursor, if it is at an entry.
    pub(crate) fn current(&self) -> Option<(&NodeRef<'s>, usize)> {
        let (leaf, i) = self.path.last()?;
        (!self.before_start && *i < leaf.count()).then_some((leaf, *i))
    }

    /// Moves to the first entry of the next leaf (past the end: `current` is `None`).
    pub(crate) fn next_leaf_start(&mut self) -> Result<()> {
        let (leaf, i) = self.path.last_mut().expect("a cursor path is never empty");
        *i = leaf.count();
        self.next_leaf()
    }

    /// Moves to the previous entry (before the start: `current` is `None`).
    pub(crate) fn prev(&mut self) -> Result<()> {
        if self.before_start {
            return Ok(());
        }
        let (leaf, i) = self.path.last_mut().expect("a cursor path is never empty");
        let at = (*i).min(leaf.count());
        if at > 0 {
            *i = at - 1;
            return Ok(());
        }
        self.prev_leaf()
    }

    /// From the node on top, follows the first (or last) children down to a leaf.
    fn descend_edge(&mut self, last: bool) -> Result<()> {
        let mut level = self.state.height - self.path.len();
        while level > 0 {
            let node = self.top();
            let c = if last { node.count() } else { 0 };
            let child = self.state.lookup_child(self.store, node, c, level - 1)?;
            self.set_top_index(c);
            let index = if last { child.count() } else { 0 };
            self.path.push((child, index));
            level -= 1;
        }
        Ok(())
    }

    /// Moves to the first entry of the next non-empty leaf; at the end of the tree the cursor
    /// stays past the last entry of the last leaf.
    fn next_leaf(&mut self) -> Result<()> {
        loop {
            let Some(depth) = (0..self.path.len() - 1).rev().find(|&d| {
                let (node, c) = &self.path[d];
                *c < node.count()
            }) else {
                return Ok(());
            };
            self.path.truncate(depth + 1);
            self.path[depth].1 += 1;
            let level = self.state.height - 1 - depth;
            let (node, c) = &self.path[depth];
            let child = self.state.lookup_child(self.store, node, *c, level - 1)?;
            self.path.push((child, 0));
            self.descend_edge(false)?;
            if self.top().count() > 0 {
                return Ok(());
            }
        }
    }

    /// Moves to the last entry of the previous non-empty leaf, or before the start.
    fn prev_leaf(&mut self) -> Result<()> {
        loop {
            let Some(depth) = (0..self.path.len() - 1).rev().find(|&d| self.path[d].1 > 0) else {
                self.before_start = true;
                return Ok(());
            };
            self.path.truncate(depth + 1);
            self.path[depth].1 -= 1;
            let level = self.state.height - 1 - depth;
            let (node, c) = &self.path[depth];
            let child = self.state.lookup_child(self.store, node, *c, level - 1)?;
            let index = child.count();
            self.path.push((child, index));
            self.descend_edge(true)?;
            let count = self.top().count();
            if count > 0 {
                self.set_top_index(count - 1);
                return Ok(());
            }
        }
    }
}

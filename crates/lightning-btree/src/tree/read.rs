//! Point reads: one descent to the first entry at or after `(key, read_ts)`.

use lightning_core_storage::{Result, Timestamp, engine::Version};

use super::{TreeState, dangling};
use crate::{
    cursor::Cursor,
    node::{Node, ValueRef, is_virtual},
    store::Store,
};

impl TreeState {
    /// The newest version of `key` at or below `read_ts`, tombstones included.
    ///
    /// REQUIRES: the tree lock is held (read or write) for the duration of the call.
    pub(crate) fn get(&self, store: &Store, key: &[u8], read_ts: u64) -> Result<Option<Version>> {
        let mut node = self.root_node(store)?;
        for level in (1..self.height).rev() {
            node = self.lookup_child(store, &node, node.child_index(key, read_ts), level - 1)?;
        }
        let i = node.search(key, read_ts, false);
        if i < node.count() {
            return self.version_if(store, &node, i, key);
        }
        // Every entry of this leaf is older than the target: the answer, if any, opens the
        // next leaf (the versions of one key may straddle two leaves).
        let cursor = Cursor::seek(self, store, key, read_ts, false)?;
        match cursor.current() {
            Some((leaf, i)) => self.version_if(store, leaf, i, key),
            None => Ok(None),
        }
    }

    fn version_if(
        &self,
        store: &Store,
        node: &Node,
        i: usize,
        key: &[u8],
    ) -> Result<Option<Version>> {
        if !node.key_eq(i, key) {
            return Ok(None);
        }
        let value = self.value_of(store, node, i)?;
        Ok(Some(Version { commit_ts: Timestamp(node.ts(i)), value }))
    }

    /// The value of leaf entry `i` (`None` for a tombstone), read from its overflow chain or
    /// pending blob when it is not inline.
    pub(crate) fn value_of(&self, store: &Store, node: &Node, i: usize) -> Result<Option<Vec<u8>>> {
        Ok(match node.value(i) {
            ValueRef::Tombstone => None,
            ValueRef::Inline(value) => Some(value.to_vec()),
            ValueRef::Overflow { first, .. } if is_virtual(first) => {
                Some(self.blobs.get(&first).ok_or_else(|| dangling(first))?.to_vec())
            }
            ValueRef::Overflow { len, first, stamp } => {
                let mut value = Vec::new();
                store.read_value(first, len as usize, stamp, &mut value)?;
                Some(value)
            }
        })
    }
}

impl TreeState {
    /// [`TreeState::pin_path`] without I/O: false as soon as a node on the path is not in
    /// memory (dirty, hot or cached); the nodes pinned so far stay in `pinned`.
    ///
    /// REQUIRES: the tree lock is held.
    pub(crate) fn pin_path_resident(
        &self,
        store: &Store,
        key: &[u8],
        ts: u64,
        pinned: &mut Vec<std::sync::Arc<Node>>,
    ) -> Result<bool> {
        if self.height == 0 || self.height > crate::MAX_DEPTH {
            return Ok(false);
        }
        let mut id = self.root;
        let Some(mut node) = self.lookup_resident(store, id, self.root_stamp, self.height - 1)?
        else {
            return Ok(false);
        };
        for level in (1..self.height).rev() {
            let c = node.child_index(key, ts);
            let (child, stamp) = (node.child(c), node.child_stamp(c));
            let Some(next) = self.lookup_resident(store, child, stamp, level - 1)? else {
                return Ok(false);
            };
            if !is_virtual(id) {
                pinned.push(node.to_arc());
            }
            (id, node) = (child, next);
        }
        if !is_virtual(id) {
            pinned.push(node.to_arc());
        }
        Ok(true)
    }

    /// Appends the value of leaf entry `i` to `out` (nothing for a tombstone).
    pub(crate) fn value_into(
        &self,
        store: &Store,
        node: &Node,
        i: usize,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        match node.value(i) {
            ValueRef::Tombstone => {}
            ValueRef::Inline(value) => out.extend_from_slice(value),
            ValueRef::Overflow { len, first, stamp } if !is_virtual(first) => {
                store.read_value(first, len as usize, stamp, out)?;
            }
            ValueRef::Overflow { .. } => {
                out.extend_from_slice(&self.value_of(store, node, i)?.unwrap_or_default());
            }
        }
        Ok(())
    }

    /// Loads the clean nodes on the path to `(key, ts)` and keeps them in `pinned` (the cache
    /// never evicts a node whose `Arc` is held).
    ///
    /// REQUIRES: the tree lock is held.
    pub(crate) fn pin_path(
        &self,
        store: &Store,
        key: &[u8],
        ts: u64,
        pinned: &mut Vec<std::sync::Arc<Node>>,
    ) -> Result<()> {
        let mut id = self.root;
        let mut node = self.root_node(store)?;
        for level in (1..self.height).rev() {
            let c = node.child_index(key, ts);
            let child = node.child(c);
            let next = self.lookup_child(store, &node, c, level - 1)?;
            if !is_virtual(id) {
                pinned.push(node.to_arc());
            }
            (id, node) = (child, next);
        }
        if !is_virtual(id) {
            pinned.push(node.to_arc());
        }
        Ok(())
    }
}

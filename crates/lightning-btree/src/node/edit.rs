//! In-place edits of a node: the fast paths of insert and remove, and heap compaction.
//!
//! Only dirty (in-memory) nodes are edited; pages read from disk are immutable and are copied
//! first (copy-on-write). Every edit keeps the layout invariants of `node/mod.rs`, which
//! `debug_assert!`s re-check after each change in debug builds.

use lightning_core_storage::{PageId, page::PageFormat};

use super::{
    BRANCH, COUNT, E_SUFFIX_LEN, E_TS, E_WORD, ENTRY_HEADER, GARBAGE, HEAP_START, LEAF, LEFTMOST,
    LEFTMOST_STAMP, LEVEL, Node, PREFIX_LEN, Payload, S_HINT, S_OFFSET, SLOT_LEN, hint_of,
};

impl Node {
    /// An empty leaf (`level == 0`) or branch.
    pub(crate) fn empty(format: &PageFormat, level: u8) -> Node {
        let page_type = if level == 0 { LEAF } else { BRANCH };
        let mut node = Node::from_page(format.new_page(page_type, PageId::ZERO));
        let len = node.body().len();
        node.set_u16(HEAP_START, len);
        node.body_mut()[LEVEL] = level;
        node
    }

    pub(crate) fn set_u16(&mut self, at: usize, value: usize) {
        debug_assert!(value <= usize::from(u16::MAX), "u16 field overflow: {value}");
        self.body_mut()[at..at + 2].copy_from_slice(&(value as u16).to_le_bytes());
    }

    fn set_u64(&mut self, at: usize, value: u64) {
        self.body_mut()[at..at + 8].copy_from_slice(&value.to_le_bytes());
    }

    /// Sets the first child of a branch and the stamp it was written with.
    pub(crate) fn set_leftmost(&mut self, id: u64, stamp: u64) {
        self.set_u64(LEFTMOST, id);
        self.set_u64(LEFTMOST_STAMP, stamp);
    }

    /// Sets child `c` of a branch and the stamp it was written with (0 for a virtual child).
    pub(crate) fn set_child(&mut self, c: usize, id: u64, stamp: u64) {
        if c == 0 {
            self.set_leftmost(id, stamp);
        } else {
            let at = self.offset(c - 1);
            let suffix_len = self.suffix(c - 1).len();
            self.set_u64(at + E_WORD, id);
            self.set_u64(at + ENTRY_HEADER + suffix_len, stamp);
        }
    }

    /// Rewrites the overflow reference of entry `i` of a leaf: the first page and the stamp
    /// its chain was written with.
    pub(crate) fn set_overflow(&mut self, i: usize, first: u64, stamp: u64) {
        let at = self.offset(i) + ENTRY_HEADER + self.suffix(i).len();
        debug_assert_eq!(self.payload(i).len(), super::OVERFLOW_REF_LEN, "not an overflow entry");
        self.set_u64(at, first);
        self.set_u64(at + 8, stamp);
    }

    /// Free bytes between the slot array and the heap.
    fn contiguous_free(&self) -> usize {
        self.heap_start() - (self.slots_start() + SLOT_LEN * self.count())
    }

    /// Inserts an entry at index `i` if it fits. `suffix` is the key without the node prefix.
    /// Returns false (and changes nothing) if the node has no room.
    ///
    /// REQUIRES: the entry belongs at `i` in key order and its key has the node's prefix.
    pub(crate) fn try_insert(
        &mut self,
        i: usize,
        suffix: &[u8],
        ts: u64,
        word: u64,
        payload: Payload<'_>,
    ) -> bool {
        debug_assert!(i <= self.count());
        debug_assert!(
            i == 0
                || crate::key::cmp_internal(self.suffix(i - 1), self.ts(i - 1), suffix, ts).is_lt(),
            "insert out of order (after the previous entry)"
        );
        debug_assert!(
            i == self.count()
                || crate::key::cmp_internal(suffix, ts, self.suffix(i), self.ts(i)).is_lt(),
            "insert out of order (before the next entry)"
        );
        let len = ENTRY_HEADER + suffix.len() + payload.len();
        if self.used() + len + SLOT_LEN > self.capacity() {
            return false;
        }
        if self.contiguous_free() < len + SLOT_LEN {
            self.compact();
        }
        let at = self.heap_start() - len;
        let body = self.body_mut();
        body[at + E_SUFFIX_LEN..at + E_TS].copy_from_slice(&(suffix.len() as u16).to_le_bytes());
        body[at + E_TS..at + E_WORD].copy_from_slice(&ts.to_le_bytes());
        body[at + E_WORD..at + ENTRY_HEADER].copy_from_slice(&word.to_le_bytes());
        let data = at + ENTRY_HEADER;
        body[data..data + suffix.len()].copy_from_slice(suffix);
        let payload_at = data + suffix.len();
        payload.write_to(&mut body[payload_at..payload_at + payload.len()]);
        let count = self.count();
        let slot = self.slots_start() + SLOT_LEN * i;
        let slots_end = self.slots_start() + SLOT_LEN * count;
        self.body_mut().copy_within(slot..slots_end, slot + SLOT_LEN);
        self.set_u16(slot + S_OFFSET, at);
        self.body_mut()[slot + S_HINT..slot + SLOT_LEN]
            .copy_from_slice(&hint_of(suffix).to_le_bytes());
        self.set_u16(COUNT, count + 1);
        self.set_u16(HEAP_START, at);
        debug_assert!(self.used() <= self.capacity());
        true
    }

    /// Removes entry `i`; its bytes become garbage (or free space if it was lowest).
    pub(crate) fn remove(&mut self, i: usize) {
        let count = self.count();
        debug_assert!(i < count);
        let (at, len) = (self.offset(i), self.entry_len(i));
        if at == self.heap_start() {
            self.set_u16(HEAP_START, at + len);
        } else {
            let garbage = self.garbage() + len;
            self.set_u16(GARBAGE, garbage);
        }
        let slot = self.slots_start() + SLOT_LEN * i;
        let slots_end = self.slots_start() + SLOT_LEN * count;
        self.body_mut().copy_within(slot + SLOT_LEN..slots_end, slot);
        self.set_u16(COUNT, count - 1);
        if count == 1 {
            // Empty: no prefix either, so an empty node uses nothing.
            let len = self.body().len();
            self.set_u16(HEAP_START, len);
            self.set_u16(GARBAGE, 0);
            self.set_u16(PREFIX_LEN, 0);
        }
    }

    /// True if the entries are laid out canonically (as on disk): in slot order, packed
    /// against the end of the body, no garbage.
    pub(crate) fn is_canonical(&self) -> bool {
        let mut expected = self.heap_start();
        for i in 0..self.count() {
            if self.offset(i) != expected {
                return false;
            }
            expected += self.entry_len(i);
        }
        self.garbage() == 0 && expected == self.body().len()
    }

    /// Rewrites the heap canonically, dropping garbage.
    pub(crate) fn compact(&mut self) {
        let count = self.count();
        let mut heap = Vec::with_capacity(self.body().len() - self.heap_start());
        let mut lens = Vec::with_capacity(count);
        for i in 0..count {
            let (at, len) = (self.offset(i), self.entry_len(i));
            heap.extend_from_slice(&self.body()[at..at + len]);
            lens.push(len);
        }
        let start = self.body().len() - heap.len();
        self.body_mut()[start..].copy_from_slice(&heap);
        let slots = self.slots_start();
        let mut at = start;
        for (i, len) in lens.into_iter().enumerate() {
            self.set_u16(slots + SLOT_LEN * i + S_OFFSET, at);
            at += len;
        }
        self.set_u16(HEAP_START, start);
        self.set_u16(GARBAGE, 0);
        debug_assert!(self.is_canonical());
    }
}

#[cfg(test)]
mod tests {
    use lightning_core_storage::page::{PageFormat, PageSize};

    use super::*;
    use crate::node::{ValueRef, leaf_word};

    fn format() -> PageFormat {
        PageFormat::plain(PageSize::new(16384).unwrap())
    }

    #[test]
    fn insert_remove_and_compact_keep_the_order() {
        let mut node = Node::empty(&format(), 0);
        for (n, k) in [5u8, 1, 9, 3, 7].into_iter().enumerate() {
            let key = [b'k', k];
            let i = node.search(&key, 1, false);
            let value = vec![k; usize::from(k) * 10];
            let word = leaf_word(0, value.len() as u32);
            assert!(node.try_insert(i, &key, 1, word, Payload::Bytes(&value)));
            assert_eq!(node.count(), n + 1);
        }
        let keys: Vec<Vec<u8>> = (0..node.count()).map(|i| node.key(i)).collect();
        assert_eq!(keys, [[b'k', 1], [b'k', 3], [b'k', 5], [b'k', 7], [b'k', 9]]);
        let used = node.used();
        node.remove(2);
        assert_eq!(node.used(), used - (ENTRY_HEADER + 2 + 50) - SLOT_LEN);
        assert!(node.garbage() > 0 || node.is_canonical());
        node.compact();
        assert!(node.is_canonical());
        assert_eq!(node.value(2), ValueRef::Inline(&[7u8; 70][..]));
        assert_eq!(node.search(&[b'k', 5], 1, false), 2, "the removed key is gone");
    }

    #[test]
    fn a_full_node_refuses_an_insert_and_stays_intact() {
        let mut node = Node::empty(&format(), 0);
        let value = [0xabu8; 1000];
        let mut n = 0u16;
        while node.try_insert(
            node.count(),
            &n.to_be_bytes(),
            1,
            leaf_word(0, 1000),
            Payload::Bytes(&value),
        ) {
            n += 1;
        }
        assert_eq!(node.count(), 15, "16 KiB holds 15 entries of ~1 KiB");
        let before = node.clone();
        assert!(!node.try_insert(0, b"", 1, leaf_word(0, 1000), Payload::Bytes(&value)));
        assert_eq!(node, before);
        assert!(node.used() <= node.capacity());
    }
}

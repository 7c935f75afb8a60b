//! Slotted tree nodes: leaves hold versions, branches hold separators and child page ids.
//!
//! A node is one page body (after the 32-byte page header of `lightning-core-storage`):
//! header, key prefix, slot array (6 bytes per slot), free space, entries. The byte layout is
//! specified once, in `docs/format/btree.md`; the offset constants below are its one mirror
//! in code (the compile-time asserts pin the sizes the document states).
//!
//! Every key in a node starts with the node's prefix, which is stored once; entries store only
//! the rest of their key (the *suffix*). Slot `i` holds the offset of entry `i` (u16) and a
//! *hint* (u32): the first four bytes of its suffix read big-endian, zero-padded. Hints order
//! like the suffixes they start (a smaller hint means a smaller key), so a binary search runs
//! on the compact slot array and reads an entry only when hints tie. Slots are in key order.
//! On disk the entries are *canonical*: entry 0 starts at `heap_start` and each follows the
//! previous one, ending exactly at the end of the body (no garbage). In memory a
//! dirty node may hold garbage and entries in any order; [`Node::used`] counts live bytes.
//!
//! Entry (both kinds): `suffix_len u16 | ts u64 | word u64 | suffix | payload`. In a leaf the
//! word is `flags u8 | 0 u8 ×3 | value_len u32` and the payload is the inline value, the first
//! overflow page and the chain's write stamp (8 + 8 bytes), or nothing for a tombstone. In a
//! branch the word is the page id of the child to the right of the separator and the payload
//! is that child's *write stamp* (8 bytes); the header's `leftmost` and `leftmost_stamp`
//! fields hold the first child.
//!
//! A write stamp is the stamp of the checkpoint that wrote a page, kept in its page header's
//! `lsn` field: the parent records the stamp its child was written with, so a lost write that
//! leaves an older valid page at the child's id is detected on read (see `Store::load`). A
//! virtual (dirty) child has stamp 0 until a checkpoint writes it.

pub(crate) mod build;
pub(crate) mod edit;
mod search;
pub(crate) mod validate;

pub(crate) use build::Payload;

use lightning_core_storage::page::{Page, PageType};

/// Page type of a leaf node.
pub(crate) const LEAF: PageType = PageType(PageType::FIRST_ENGINE_TYPE);
/// Page type of a branch node.
pub(crate) const BRANCH: PageType = PageType(PageType::FIRST_ENGINE_TYPE + 1);
/// Page type of an overflow page (see `overflow.rs`).
pub(crate) const OVERFLOW: PageType = PageType(PageType::FIRST_ENGINE_TYPE + 2);

/// Node header: number of entries (u16).
pub(crate) const COUNT: usize = 0;
/// Node header: offset of the lowest entry byte (u16).
pub(crate) const HEAP_START: usize = COUNT + 2;
/// Node header: bytes of dead entries in the heap (u16; zero on disk).
pub(crate) const GARBAGE: usize = HEAP_START + 2;
/// Node header: length of the key prefix (u16).
pub(crate) const PREFIX_LEN: usize = GARBAGE + 2;
/// Node header: 0 for a leaf, the height above the leaves for a branch (u8).
pub(crate) const LEVEL: usize = PREFIX_LEN + 2;
/// Node header: reserved, zero (7 bytes).
pub(crate) const RESERVED: usize = LEVEL + 1;
/// Node header: the first child of a branch, zero in a leaf (u64).
pub(crate) const LEFTMOST: usize = RESERVED + 7;
/// Node header: the write stamp of the first child of a branch, zero in a leaf (u64).
pub(crate) const LEFTMOST_STAMP: usize = LEFTMOST + 8;
/// Length of the node header; the prefix follows.
pub(crate) const HEADER_LEN: usize = LEFTMOST_STAMP + 8;

/// Entry: length of the key suffix (u16).
pub(crate) const E_SUFFIX_LEN: usize = 0;
/// Entry: commit timestamp (u64).
pub(crate) const E_TS: usize = E_SUFFIX_LEN + 2;
/// Entry: leaf flags and value length, or a branch's child page id (u64).
pub(crate) const E_WORD: usize = E_TS + 8;
/// Length of an entry's fixed part; the key suffix follows.
pub(crate) const ENTRY_HEADER: usize = E_WORD + 8;
/// Slot: offset of the entry (u16).
pub(crate) const S_OFFSET: usize = 0;
/// Slot: the key hint (u32).
pub(crate) const S_HINT: usize = S_OFFSET + 2;
/// Bytes of one slot.
pub(crate) const SLOT_LEN: usize = S_HINT + 4;

const _: () = assert!(HEADER_LEN == 32, "node header is 32 bytes");
const _: () = assert!(ENTRY_HEADER == 18, "entry header is 18 bytes");
const _: () = assert!(SLOT_LEN == 6, "a slot is 6 bytes");

/// The hint of a key suffix: its first four bytes, zero-padded, as a big-endian number.
#[inline]
pub(crate) fn hint_of(suffix: &[u8]) -> u32 {
    let mut bytes = [0u8; 4];
    let n = suffix.len().min(4);
    bytes[..n].copy_from_slice(&suffix[..n]);
    u32::from_be_bytes(bytes)
}

/// Leaf flag: the version is a tombstone (no value).
pub(crate) const FLAG_TOMBSTONE: u8 = 1;
/// Leaf flag: the value lives in an overflow chain; the payload is its first page.
pub(crate) const FLAG_OVERFLOW: u8 = 2;
/// Every leaf flag this version understands.
pub(crate) const KNOWN_FLAGS: u8 = FLAG_TOMBSTONE | FLAG_OVERFLOW;

/// Node ids with this bit set name in-memory (dirty) nodes and pending overflow values;
/// without it they are page ids. Never written to disk.
pub(crate) const VIRTUAL_BIT: u64 = 1 << 63;

/// True if `id` names an in-memory node or value rather than a page.
#[inline]
pub(crate) fn is_virtual(id: u64) -> bool {
    id & VIRTUAL_BIT != 0
}

/// The word of a leaf entry.
#[inline]
pub(crate) fn leaf_word(flags: u8, value_len: u32) -> u64 {
    u64::from(flags) | (u64::from(value_len) << 32)
}

/// Bytes of a branch entry's payload: the child's write stamp.
pub(crate) const STAMP_LEN: usize = 8;
/// Bytes of an overflow reference in a leaf: the first page, then the chain's write stamp.
pub(crate) const OVERFLOW_REF_LEN: usize = 16;

/// Payload length of an entry with `word`, in a leaf or a branch.
#[inline]
pub(crate) fn payload_len(leaf: bool, word: u64) -> usize {
    if !leaf {
        return STAMP_LEN;
    }
    let flags = word as u8;
    if flags & FLAG_TOMBSTONE != 0 {
        0
    } else if flags & FLAG_OVERFLOW != 0 {
        OVERFLOW_REF_LEN
    } else {
        (word >> 32) as usize
    }
}

/// A leaf entry's value as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueRef<'a> {
    /// A deletion.
    Tombstone,
    /// The value itself.
    Inline(&'a [u8]),
    /// A value of `len` bytes in the overflow chain starting at `first` (or a pending value
    /// when `first` is virtual).
    Overflow {
        /// Total value length.
        len: u32,
        /// First overflow page, or the virtual id of a pending value.
        first: u64,
        /// The write stamp of every page of the chain (0 for a pending value).
        stamp: u64,
    },
}

/// One node: a page whose body is laid out as this module describes.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Node {
    page: Page,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("leaf", &self.is_leaf())
            .field("level", &self.level())
            .field("count", &self.count())
            .field("used", &self.used())
            .finish()
    }
}

#[inline]
fn u16_at(body: &[u8], at: usize) -> usize {
    u16::from_le_bytes([body[at], body[at + 1]]) as usize
}

#[inline]
fn u64_at(body: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&body[at..at + 8]);
    u64::from_le_bytes(bytes)
}

impl Node {
    /// Wraps a page without checking it (see [`validate`] for pages read from disk).
    pub(crate) fn from_page(page: Page) -> Node {
        Node { page }
    }

    /// The underlying page.
    pub(crate) fn page(&self) -> &Page {
        &self.page
    }

    /// Consumes the node, returning its page.
    pub(crate) fn into_page(self) -> Page {
        self.page
    }

    /// True for a leaf.
    #[inline]
    pub(crate) fn is_leaf(&self) -> bool {
        self.page.page_type() == LEAF
    }

    /// The page body.
    #[inline]
    pub(crate) fn body(&self) -> &[u8] {
        self.page.body()
    }

    pub(crate) fn body_mut(&mut self) -> &mut [u8] {
        self.page.body_mut()
    }

    /// Number of entries.
    #[inline]
    pub(crate) fn count(&self) -> usize {
        u16_at(self.body(), COUNT)
    }

    /// 0 for a leaf; the height above the leaves for a branch.
    #[inline]
    pub(crate) fn level(&self) -> u8 {
        self.body()[LEVEL]
    }

    pub(crate) fn heap_start(&self) -> usize {
        u16_at(self.body(), HEAP_START)
    }

    pub(crate) fn garbage(&self) -> usize {
        u16_at(self.body(), GARBAGE)
    }

    /// The key prefix shared by every entry.
    #[inline]
    pub(crate) fn prefix(&self) -> &[u8] {
        let len = u16_at(self.body(), PREFIX_LEN);
        &self.body()[HEADER_LEN..HEADER_LEN + len]
    }

    /// Offset of the slot array.
    #[inline]
    pub(crate) fn slots_start(&self) -> usize {
        HEADER_LEN + u16_at(self.body(), PREFIX_LEN)
    }

    /// Offset of entry `i`.
    #[inline]
    pub(crate) fn offset(&self, i: usize) -> usize {
        u16_at(self.body(), self.slots_start() + SLOT_LEN * i + S_OFFSET)
    }

    /// The key suffix of entry `i`.
    #[inline]
    pub(crate) fn suffix(&self, i: usize) -> &[u8] {
        let at = self.offset(i);
        let len = u16_at(self.body(), at + E_SUFFIX_LEN);
        &self.body()[at + ENTRY_HEADER..at + ENTRY_HEADER + len]
    }

    /// The key hint of entry `i`: different hints mean different keys.
    #[inline]
    pub(crate) fn hint(&self, i: usize) -> u32 {
        let at = self.slots_start() + SLOT_LEN * i + S_HINT;
        let b = self.body();
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    /// True if entries `i` and `j` of this node have the same key.
    #[inline]
    pub(crate) fn same_key_here(&self, i: usize, j: usize) -> bool {
        self.hint(i) == self.hint(j) && self.suffix(i) == self.suffix(j)
    }

    /// The timestamp of entry `i`.
    #[inline]
    pub(crate) fn ts(&self, i: usize) -> u64 {
        u64_at(self.body(), self.offset(i) + E_TS)
    }

    /// The word of entry `i` (leaf flags and length, or a branch child).
    #[inline]
    pub(crate) fn word(&self, i: usize) -> u64 {
        u64_at(self.body(), self.offset(i) + E_WORD)
    }

    /// The payload of entry `i`.
    pub(crate) fn payload(&self, i: usize) -> &[u8] {
        let at = self.offset(i);
        let start = at + ENTRY_HEADER + u16_at(self.body(), at + E_SUFFIX_LEN);
        &self.body()[start..start + payload_len(self.is_leaf(), self.word(i))]
    }

    /// Bytes of entry `i` in the heap.
    pub(crate) fn entry_len(&self, i: usize) -> usize {
        let at = self.offset(i);
        ENTRY_HEADER
            + u16_at(self.body(), at + E_SUFFIX_LEN)
            + payload_len(self.is_leaf(), self.word(i))
    }

    /// Bytes available for prefix, slots and entries.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.body().len() - HEADER_LEN
    }

    /// Bytes used by prefix, slots and live entries.
    pub(crate) fn used(&self) -> usize {
        let live_heap = self.body().len() - self.heap_start() - self.garbage();
        self.slots_start() - HEADER_LEN + SLOT_LEN * self.count() + live_heap
    }

    /// The first child of a branch.
    pub(crate) fn leftmost(&self) -> u64 {
        u64_at(self.body(), LEFTMOST)
    }

    /// Child `c` of a branch, `0 <= c <= count`.
    #[inline]
    pub(crate) fn child(&self, c: usize) -> u64 {
        if c == 0 { self.leftmost() } else { self.word(c - 1) }
    }

    /// The write stamp child `c` of a branch was written with (0 for a virtual child).
    #[inline]
    pub(crate) fn child_stamp(&self, c: usize) -> u64 {
        if c == 0 { u64_at(self.body(), LEFTMOST_STAMP) } else { u64_at(self.payload(c - 1), 0) }
    }

    /// The write stamp of this node's page as read from disk (the page header's `lsn`).
    #[inline]
    pub(crate) fn stamp(&self) -> u64 {
        self.page.lsn().0
    }

    /// The full key of entry `i`.
    pub(crate) fn key(&self, i: usize) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.prefix().len() + self.suffix(i).len());
        self.key_into(i, &mut key);
        key
    }

    /// Writes the full key of entry `i` into `out` (cleared first), reusing its allocation.
    pub(crate) fn key_into(&self, i: usize, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(self.prefix());
        out.extend_from_slice(self.suffix(i));
    }

    /// True if entry `i` has user key `key`.
    pub(crate) fn key_eq(&self, i: usize, key: &[u8]) -> bool {
        match key.strip_prefix(self.prefix()) {
            Some(rest) => self.suffix(i) == rest,
            None => false,
        }
    }

    /// True if entry `i` of this node and entry `j` of `other` have the same user key.
    pub(crate) fn same_key(&self, i: usize, other: &Node, j: usize) -> bool {
        let (a, b) = ((self.prefix(), self.suffix(i)), (other.prefix(), other.suffix(j)));
        a.0.len() + a.1.len() == b.0.len() + b.1.len()
            && a.0.iter().chain(a.1).eq(b.0.iter().chain(b.1))
    }

    /// The value of leaf entry `i`.
    pub(crate) fn value(&self, i: usize) -> ValueRef<'_> {
        let word = self.word(i);
        let flags = word as u8;
        if flags & FLAG_TOMBSTONE != 0 {
            ValueRef::Tombstone
        } else if flags & FLAG_OVERFLOW != 0 {
            let payload = self.payload(i);
            let (first, stamp) = (u64_at(payload, 0), u64_at(payload, 8));
            ValueRef::Overflow { len: (word >> 32) as u32, first, stamp }
        } else {
            ValueRef::Inline(self.payload(i))
        }
    }
}

//! Building nodes from lists of entries: splits, merges, redistribution and prefix changes.
//!
//! Entries are described by [`Parts`], which borrow from existing nodes (or from a new key), so
//! rebuilding a node copies each byte once and allocates nothing per entry. A built node's
//! prefix is the longest common prefix of its first and last keys (in a sorted node that is
//! the prefix common to all keys).
//!
//! Split planning measures each candidate half with its *own* prefix. That matters: keys that
//! share a prefix form one interval of the key order, so when an insert shortens a node's
//! prefix the new key lies at one end, and splitting right beside it gives two halves that
//! each fit, however much the shorter prefix would have inflated the whole.

use std::ops::Range;

use lightning_core_storage::page::PageFormat;

use super::{
    COUNT, E_SUFFIX_LEN, E_TS, E_WORD, ENTRY_HEADER, HEADER_LEN, HEAP_START, Node,
    OVERFLOW_REF_LEN, PREFIX_LEN, S_HINT, S_OFFSET, SLOT_LEN,
};

/// An entry's payload while it is being written.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Payload<'a> {
    /// Bytes copied as they are (an inline value, or nothing).
    Bytes(&'a [u8]),
    /// A page or virtual id (or a stamp), written as 8 little-endian bytes.
    Page(u64),
    /// An overflow reference: the first page (or virtual id) and the chain's write stamp.
    Overflow {
        /// First page, or the virtual id of a pending value.
        first: u64,
        /// The write stamp of the chain's pages (0 while pending).
        stamp: u64,
    },
}

impl Payload<'_> {
    /// Bytes the payload takes in the entry.
    pub(crate) fn len(&self) -> usize {
        match self {
            Payload::Bytes(b) => b.len(),
            Payload::Page(_) => 8,
            Payload::Overflow { .. } => OVERFLOW_REF_LEN,
        }
    }

    /// Writes the payload into `out` (exactly [`Payload::len`] bytes).
    pub(crate) fn write_to(&self, out: &mut [u8]) {
        match *self {
            Payload::Bytes(b) => out.copy_from_slice(b),
            Payload::Page(id) => out.copy_from_slice(&id.to_le_bytes()),
            Payload::Overflow { first, stamp } => {
                out[..8].copy_from_slice(&first.to_le_bytes());
                out[8..].copy_from_slice(&stamp.to_le_bytes());
            }
        }
    }
}

/// One entry to be written: key = `head ++ tail`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parts<'a> {
    head: &'a [u8],
    tail: &'a [u8],
    /// Commit timestamp (or separator timestamp).
    pub(crate) ts: u64,
    /// The entry word (leaf flags and length, or branch child).
    pub(crate) word: u64,
    /// The payload.
    pub(crate) payload: Payload<'a>,
}

impl<'a> Parts<'a> {
    /// An entry with a whole key.
    pub(crate) fn new(key: &'a [u8], ts: u64, word: u64, payload: Payload<'a>) -> Self {
        Parts { head: key, tail: &[], ts, word, payload }
    }

    /// Entry `i` of `node`, as stored.
    pub(crate) fn of(node: &'a Node, i: usize) -> Self {
        let payload = Payload::Bytes(node.payload(i));
        Parts {
            head: node.prefix(),
            tail: node.suffix(i),
            ts: node.ts(i),
            word: node.word(i),
            payload,
        }
    }

    /// A branch entry: separator `(key, ts)` with child page or virtual id `child`, written
    /// with `stamp` (0 for a virtual child).
    pub(crate) fn branch(key: &'a [u8], ts: u64, child: u64, stamp: u64) -> Self {
        Parts::new(key, ts, child, Payload::Page(stamp))
    }

    /// The same branch entry given another child and its stamp.
    pub(crate) fn with_child(self, child: u64, stamp: u64) -> Self {
        Parts { word: child, payload: Payload::Page(stamp), ..self }
    }

    /// The child stamp of a branch entry (its payload).
    pub(crate) fn child_stamp(&self) -> u64 {
        match self.payload {
            Payload::Page(stamp) => stamp,
            Payload::Overflow { stamp, .. } => stamp,
            Payload::Bytes(bytes) => {
                let mut word = [0u8; 8];
                let n = bytes.len().min(8);
                word[..n].copy_from_slice(&bytes[..n]);
                u64::from_le_bytes(word)
            }
        }
    }

    /// Length of the whole key.
    pub(crate) fn key_len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    /// The whole key, copied.
    pub(crate) fn key(&self) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.key_len());
        key.extend_from_slice(self.head);
        key.extend_from_slice(self.tail);
        key
    }

    fn bytes(&self) -> impl Iterator<Item = &u8> {
        self.head.iter().chain(self.tail)
    }

    /// Bytes the entry takes (slot included) in a node with no prefix.
    pub(crate) fn base_size(&self) -> usize {
        SLOT_LEN + ENTRY_HEADER + self.key_len() + self.payload.len()
    }

    /// Copies key bytes `from..from + out.len()` into `out`.
    fn write_key_from(&self, from: usize, out: &mut [u8]) {
        let end = from + out.len();
        let mut at = 0;
        if from < self.head.len() {
            let head = &self.head[from..end.min(self.head.len())];
            out[..head.len()].copy_from_slice(head);
            at = head.len();
        }
        if at < out.len() {
            let tail_from = from + at - self.head.len();
            let rest = out.len() - at;
            out[at..].copy_from_slice(&self.tail[tail_from..tail_from + rest]);
        }
    }
}

/// Longest common prefix of two entries' keys.
pub(crate) fn common_prefix(a: &Parts<'_>, b: &Parts<'_>) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

/// Bytes a node holding exactly `entries` (sorted) would use, with its own prefix.
pub(crate) fn node_size(entries: &[Parts<'_>]) -> usize {
    let Some((first, last)) = entries.first().zip(entries.last()) else {
        return 0;
    };
    let prefix = common_prefix(first, last);
    prefix + entries.iter().map(|e| e.base_size() - prefix).sum::<usize>()
}

/// Builds a node holding `entries` (sorted), with `leftmost` (written with `leftmost_stamp`)
/// as the first child of a branch.
///
/// REQUIRES: `node_size(entries) <= capacity` (checked in debug builds).
pub(crate) fn build(
    format: &PageFormat,
    level: u8,
    leftmost: u64,
    leftmost_stamp: u64,
    entries: &[Parts<'_>],
) -> Node {
    let mut node = Node::empty(format, level);
    debug_assert!(node_size(entries) <= node.capacity(), "built node overflows");
    let prefix_len = match (entries.first(), entries.last()) {
        (Some(first), Some(last)) => common_prefix(first, last),
        _ => 0,
    };
    if let Some(first) = entries.first() {
        let mut prefix = vec![0u8; prefix_len];
        first.write_key_from(0, &mut prefix[..]);
        node.body_mut()[HEADER_LEN..HEADER_LEN + prefix_len].copy_from_slice(&prefix);
    }
    node.set_u16(PREFIX_LEN, prefix_len);
    node.set_leftmost(leftmost, leftmost_stamp);
    let heap_bytes: usize = entries.iter().map(|e| e.base_size() - SLOT_LEN - prefix_len).sum();
    let mut at = node.body().len() - heap_bytes;
    node.set_u16(HEAP_START, at);
    node.set_u16(COUNT, entries.len());
    let slots = HEADER_LEN + prefix_len;
    for (i, entry) in entries.iter().enumerate() {
        let suffix_len = entry.key_len() - prefix_len;
        let slot = slots + SLOT_LEN * i;
        node.set_u16(slot + S_OFFSET, at);
        let mut head = [0u8; 4];
        let n = suffix_len.min(4);
        entry.write_key_from(prefix_len, &mut head[..n]);
        let hint = u32::from_be_bytes(head).to_le_bytes();
        node.body_mut()[slot + S_HINT..slot + SLOT_LEN].copy_from_slice(&hint);
        let body = node.body_mut();
        body[at + E_SUFFIX_LEN..at + E_TS].copy_from_slice(&(suffix_len as u16).to_le_bytes());
        body[at + E_TS..at + E_WORD].copy_from_slice(&entry.ts.to_le_bytes());
        body[at + E_WORD..at + ENTRY_HEADER].copy_from_slice(&entry.word.to_le_bytes());
        let key_at = at + ENTRY_HEADER;
        entry.write_key_from(prefix_len, &mut body[key_at..key_at + suffix_len]);
        let payload_at = key_at + suffix_len;
        entry.payload.write_to(&mut body[payload_at..payload_at + entry.payload.len()]);
        at = payload_at + entry.payload.len();
    }
    debug_assert_eq!(at, node.body().len());
    debug_assert!(node.is_canonical());
    node
}

/// Sizes of ranges of a sorted entry list, each measured with its own prefix.
struct Sizer<'e, 'a> {
    entries: &'e [Parts<'a>],
    sums: Vec<usize>,
}

impl<'e, 'a> Sizer<'e, 'a> {
    fn new(entries: &'e [Parts<'a>]) -> Self {
        let mut sums = Vec::with_capacity(entries.len() + 1);
        sums.push(0);
        for e in entries {
            sums.push(sums.last().copied().unwrap_or(0) + e.base_size());
        }
        Sizer { entries, sums }
    }

    fn size(&self, range: Range<usize>) -> usize {
        if range.is_empty() {
            return 0;
        }
        let n = range.len();
        let prefix = common_prefix(&self.entries[range.start], &self.entries[range.end - 1]);
        prefix + self.sums[range.end] - self.sums[range.start] - n * prefix
    }
}

/// Where to cut a sorted leaf entry list into two nodes that each fit `capacity`: the cut
/// `k` (left `..k`, right `k..`) that balances them best. `None` if no cut fits (a caller bug:
/// see the module docs for why an overflowing insert always has one).
pub(crate) fn leaf_split_point(entries: &[Parts<'_>], capacity: usize) -> Option<usize> {
    let sizer = Sizer::new(entries);
    let n = entries.len();
    (1..n)
        .map(|k| (k, sizer.size(0..k), sizer.size(k..n)))
        .filter(|&(_, l, r)| l <= capacity && r <= capacity)
        .min_by_key(|&(_, l, r)| l.max(r))
        .map(|(k, _, _)| k)
}

/// Where to cut a branch's entry list: entry `m` moves up to the parent; the left node keeps
/// `..m`, the right node gets `m`'s child as its first child and `m + 1..` as entries. Both
/// sides keep at least one entry. `None` if no cut fits.
pub(crate) fn branch_split_point(entries: &[Parts<'_>], capacity: usize) -> Option<usize> {
    let sizer = Sizer::new(entries);
    let n = entries.len();
    (1..n.saturating_sub(1))
        .map(|m| (m, sizer.size(0..m), sizer.size(m + 1..n)))
        .filter(|&(_, l, r)| l <= capacity && r <= capacity)
        .min_by_key(|&(_, l, r)| l.max(r))
        .map(|(m, _, _)| m)
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
    fn build_computes_the_prefix_and_round_trips_entries() {
        let keys: Vec<Vec<u8>> = (0..50u32).map(|i| format!("user:{i:04}").into_bytes()).collect();
        let value = b"value".to_vec();
        let parts: Vec<Parts<'_>> = keys
            .iter()
            .map(|k| Parts::new(k, 7, leaf_word(0, 5), Payload::Bytes(&value)))
            .collect();
        let node = build(&format(), 0, 0, 0, &parts);
        assert_eq!(node.prefix(), b"user:00");
        assert_eq!(node.used(), node_size(&parts));
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(&node.key(i), key);
            assert_eq!(node.value(i), ValueRef::Inline(b"value"));
        }
        // Rebuilding from a node's own entries with another prefix keeps the keys.
        let again: Vec<Parts<'_>> = (10..20).map(|i| Parts::of(&node, i)).collect();
        let half = build(&format(), 0, 0, 0, &again);
        assert_eq!(half.prefix(), b"user:001");
        assert_eq!(half.key(3), b"user:0013");
    }

    #[test]
    fn a_key_without_the_prefix_splits_beside_it() {
        // 300 keys sharing a 60-byte prefix fill a node only because the prefix is stored once.
        let long: Vec<Vec<u8>> =
            (0..300u32).map(|i| [vec![b'p'; 60], i.to_be_bytes().to_vec()].concat()).collect();
        let mut parts: Vec<Parts<'_>> =
            long.iter().map(|k| Parts::new(k, 1, leaf_word(0, 0), Payload::Bytes(&[]))).collect();
        let capacity = 16384 - 32 - HEADER_LEN;
        assert!(node_size(&parts) <= capacity);
        parts.push(Parts::new(b"z", 1, leaf_word(0, 0), Payload::Bytes(&[])));
        assert!(node_size(&parts) > capacity, "the short prefix inflates the node");
        let k = leaf_split_point(&parts, capacity).expect("a split exists");
        assert!(node_size(&parts[..k]) <= capacity && node_size(&parts[k..]) <= capacity);
        assert!(k > 150, "the halves balance by size with their own prefixes (cut at {k})");
    }

    #[test]
    fn branch_split_keeps_an_entry_on_each_side() {
        let keys: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i; 5000]).collect();
        let parts: Vec<Parts<'_>> = keys.iter().map(|k| Parts::branch(k, 1, 99, 0)).collect();
        assert_eq!(branch_split_point(&parts, 16000), Some(1));
        assert_eq!(branch_split_point(&parts[..2], 16000), None, "two entries cannot split");
        assert_eq!(branch_split_point(&parts, 4000), None, "no side fits");
    }
}

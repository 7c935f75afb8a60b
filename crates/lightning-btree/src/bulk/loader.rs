//! The bottom-up builder behind [`BTreeEngine::bulk_load`](crate::BTreeEngine::bulk_load):
//! leaves packed full from sorted input and written straight to disk, then branch levels.

use std::{ops::Range, sync::Arc};

use lightning_core_storage::{Lsn, PageId, Timestamp};

use crate::{
    MAX_KEY_LEN, MAX_VALUE_LEN,
    error::{Error, Result},
    key::{common_prefix_len, separator},
    meta::Counters,
    node::{
        ENTRY_HEADER, FLAG_OVERFLOW, HEADER_LEN, Node, OVERFLOW_REF_LEN, Payload, SLOT_LEN,
        build::{Parts, branch_split_point, build, common_prefix, leaf_split_point, node_size},
        leaf_word,
    },
    overflow,
    store::Store,
};

/// One leaf entry of the input: ranges of its leaf buffer's bytes.
struct Entry {
    key: Range<usize>,
    word: u64,
    inline: Range<usize>,
    chain: Option<u64>,
}

/// The entries of one leaf being built, their bytes in one buffer (reused leaf after leaf,
/// so the load allocates nothing per entry).
#[derive(Default)]
struct LeafBuf {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

impl LeafBuf {
    fn push(&mut self, key: &[u8], value: &[u8], word: u64, chain: Option<u64>) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(key);
        let key = start..self.bytes.len();
        let inline_start = self.bytes.len();
        if chain.is_none() {
            self.bytes.extend_from_slice(value);
        }
        self.entries.push(Entry { key, word, inline: inline_start..self.bytes.len(), chain });
    }

    fn key(&self, i: usize) -> &[u8] {
        &self.bytes[self.entries[i].key.clone()]
    }

    /// The entries as parts, overflow chains written with `stamp`.
    fn parts(&self, ts: u64, stamp: u64) -> impl Iterator<Item = Parts<'_>> {
        self.entries.iter().map(move |e| {
            let payload = e.chain.map_or(Payload::Bytes(&self.bytes[e.inline.clone()]), |first| {
                Payload::Overflow { first, stamp }
            });
            Parts::new(&self.bytes[e.key.clone()], ts, e.word, payload)
        })
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.entries.clear();
    }
}

/// A written node and the separator that precedes it in its parent.
struct Placed {
    page: u64,
    low: Option<(Vec<u8>, u64)>,
}

/// The tree a bulk load built.
pub(crate) struct Loaded {
    /// The written branch nodes, to pin.
    pub(crate) branches: Vec<(u64, Arc<Node>)>,
    pub(crate) root: u64,
    /// The write stamp of every page of the load.
    pub(crate) root_stamp: u64,
    pub(crate) height: usize,
    pub(crate) counters: Counters,
}

/// Builds the tree; remembers every page it allocated so that a failed load frees them.
pub(crate) struct Loader<'a> {
    store: &'a Store,
    ts: u64,
    /// The write stamp of every page written (in the page header's `lsn` field).
    stamp: u64,
    capacity: usize,
    pub(crate) allocated: Vec<PageId>,
    held: LeafBuf,
    current: LeafBuf,
    current_base: usize,
    current_prefix: usize,
    leaves: Vec<Placed>,
    last_of_previous: Option<Vec<u8>>,
    counters: Counters,
    branches: Vec<(u64, Arc<Node>)>,
}

impl<'a> Loader<'a> {
    pub(crate) fn new(store: &'a Store, ts: Timestamp, stamp: u64) -> Loader<'a> {
        Loader {
            store,
            ts: ts.0,
            stamp,
            capacity: store.format.body_len() - HEADER_LEN,
            allocated: Vec::new(),
            held: LeafBuf::default(),
            current: LeafBuf::default(),
            current_base: 0,
            current_prefix: 0,
            leaves: Vec::new(),
            last_of_previous: None,
            counters: Counters::default(),
            branches: Vec::new(),
        }
    }

    /// Adds the next entry. REQUIRES: keys strictly increasing (checked by the caller).
    pub(crate) fn push(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        if key.len() > MAX_KEY_LEN {
            return Err(Error::KeyTooLarge { len: key.len(), max: MAX_KEY_LEN });
        }
        if value.len() > MAX_VALUE_LEN {
            return Err(Error::ValueTooLarge { len: value.len(), max: MAX_VALUE_LEN });
        }
        let (word, chain) = if self.store.geometry.inline(key.len(), value.len()) {
            (leaf_word(0, value.len() as u32), None)
        } else {
            let pages = overflow::write_chain(&self.store.pm, value, Lsn(self.stamp))?;
            self.counters.overflow_pages += pages.len() as u64;
            let first = pages[0].0;
            self.allocated.extend(pages);
            (leaf_word(FLAG_OVERFLOW, value.len() as u32), Some(first))
        };
        let base =
            SLOT_LEN + ENTRY_HEADER + key.len() + chain.map_or(value.len(), |_| OVERFLOW_REF_LEN);
        let prefix = match self.current.len() {
            0 => key.len(),
            _ => self.current_prefix.min(common_prefix_len(self.current.key(0), key)),
        };
        let n = self.current.len() + 1;
        if n > 1 && prefix + self.current_base + base - n * prefix > self.capacity {
            // The current leaf is full: write the one held back, hold this one.
            self.flush_held()?;
            std::mem::swap(&mut self.held, &mut self.current);
            self.current.clear();
            self.current_base = base;
            self.current_prefix = key.len();
        } else {
            self.current_base += base;
            self.current_prefix = prefix;
        }
        self.current.push(key, value, word, chain);
        Ok(())
    }

    /// Writes the held-back leaf.
    fn flush_held(&mut self) -> Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let held = std::mem::take(&mut self.held);
        let parts: Vec<Parts<'_>> = held.parts(self.ts, self.stamp).collect();
        let written = self.write_leaf(&parts);
        drop(parts);
        self.held = held;
        written
    }

    fn write_leaf(&mut self, parts: &[Parts<'_>]) -> Result<()> {
        let node = build(&self.store.format, 0, 0, 0, parts);
        let (first, last) = (&parts[0], &parts[parts.len() - 1]);
        let low = self
            .last_of_previous
            .as_ref()
            .map(|prev| separator(prev, self.ts, &first.key(), self.ts));
        self.last_of_previous = Some(last.key());
        self.counters.versions += parts.len() as u64;
        self.counters.leaf_pages += 1;
        self.counters.leaf_used += node.used() as u64;
        let page = self.write_node(node)?;
        self.leaves.push(Placed { page, low });
        Ok(())
    }

    fn write_node(&mut self, node: Node) -> Result<u64> {
        let id = self.store.pm.allocate()?;
        self.allocated.push(id);
        let mut page = node.into_page();
        page.set_id(id);
        page.set_lsn(Lsn(self.stamp));
        self.store.pm.write_page(&page)?;
        // Leaves are read back on demand (a load larger than the cache would only churn it);
        // branches join the hot set when the tree is installed.
        let node = Node::from_page(page);
        if !node.is_leaf() {
            self.branches.push((id.0, Arc::new(node)));
        }
        Ok(id.0)
    }

    /// The key pushed last.
    pub(crate) fn last_key(&self) -> Option<&[u8]> {
        match (self.current.len(), self.held.len()) {
            (0, 0) => None,
            (0, n) => Some(self.held.key(n - 1)),
            (n, _) => Some(self.current.key(n - 1)),
        }
    }

    /// Writes what is left, builds the branch levels, and returns the tree (`None` if the
    /// input was empty).
    pub(crate) fn finish(&mut self) -> Result<Option<Loaded>> {
        let held = std::mem::take(&mut self.held);
        let current = std::mem::take(&mut self.current);
        let ts = self.ts;
        let mut all: Vec<Parts<'_>> =
            held.parts(ts, self.stamp).chain(current.parts(ts, self.stamp)).collect();
        if all.is_empty() {
            return Ok(None);
        }
        let last_small = node_size(&all[held.len()..]) < self.store.geometry.min_fill;
        if held.is_empty() || node_size(&all) <= self.capacity {
            self.write_leaf(&all)?;
        } else {
            let k = if last_small {
                leaf_split_point(&all, self.capacity).ok_or_else(no_split)?
            } else {
                held.len()
            };
            let right = all.split_off(k);
            self.write_leaf(&all)?;
            self.write_leaf(&right)?;
        }
        let mut level = std::mem::take(&mut self.leaves);
        let mut height = 1;
        while level.len() > 1 {
            level = self.pack_level(&level, height as u8)?;
            height += 1;
        }
        let branches = std::mem::take(&mut self.branches);
        let loaded = Loaded {
            branches,
            root: level[0].page,
            root_stamp: self.stamp,
            height,
            counters: self.counters,
        };
        Ok(Some(loaded))
    }

    /// Packs the nodes of one level under as few full branches as possible.
    fn pack_level(&mut self, children: &[Placed], level: u8) -> Result<Vec<Placed>> {
        let entries: Vec<Parts<'_>> = children[1..]
            .iter()
            .filter_map(|c| {
                c.low.as_ref().map(|(key, ts)| Parts::branch(key, *ts, c.page, self.stamp))
            })
            .collect();
        if entries.len() + 1 != children.len() {
            return Err(no_split());
        }
        // Greedy groups: (leftmost, low separator, entry range); the entry after a group moves
        // up and its child opens the next group.
        let mut groups: Vec<(u64, Option<Parts<'_>>, usize, usize)> = Vec::new();
        let (mut leftmost, mut low, mut start) = (children[0].page, None, 0);
        loop {
            let end = self.fill(&entries, start);
            groups.push((leftmost, low, start, end));
            if end == entries.len() {
                break;
            }
            (leftmost, low, start) = (entries[end].word, Some(entries[end]), end + 1);
        }
        let last = groups.len() - 1;
        let (_, _, s, e) = groups[last];
        if last > 0 && (e == s || node_size(&entries[s..e]) < self.store.geometry.min_fill) {
            // Rebalance the last two groups: the separator between them comes down.
            let (p_left, p_low, ps, _) = groups[last - 1];
            groups.truncate(last - 1);
            let combined = &entries[ps..e];
            if node_size(combined) <= self.capacity {
                groups.push((p_left, p_low, ps, e));
            } else {
                let m = ps + branch_split_point(combined, self.capacity).ok_or_else(no_split)?;
                groups.push((p_left, p_low, ps, m));
                groups.push((entries[m].word, Some(entries[m]), m + 1, e));
            }
        }
        let mut placed = Vec::with_capacity(groups.len());
        for (leftmost, low, s, e) in groups {
            let node = build(&self.store.format, level, leftmost, self.stamp, &entries[s..e]);
            self.counters.branch_pages += 1;
            let page = self.write_node(node)?;
            placed.push(Placed { page, low: low.map(|p| (p.key(), p.ts)) });
        }
        Ok(placed)
    }

    /// The end of the longest run of `entries` from `start` that fits one node.
    fn fill(&self, entries: &[Parts<'_>], start: usize) -> usize {
        let (mut end, mut base, mut prefix) = (start, 0, usize::MAX);
        while end < entries.len() {
            let next_prefix = prefix.min(common_prefix(&entries[start], &entries[end]));
            let next_base = base + entries[end].base_size();
            let count = end + 1 - start;
            if next_prefix + next_base - count * next_prefix > self.capacity {
                break;
            }
            (end, base, prefix) = (end + 1, next_base, next_prefix);
        }
        end
    }
}

fn no_split() -> Error {
    Error::Storage(lightning_core_storage::Error::corruption(
        "bulk load found no valid node split",
        "B+Tree bulk load",
    ))
}

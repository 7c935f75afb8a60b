//! Range scans: an owning iterator that reads the tree in bounded batches.
//!
//! Each batch takes the tree read lock, seeks just past the last key returned, collects up to
//! a bounded number of entries (and bytes), and releases the lock; the caller consumes the
//! batch without holding anything. This is a consistent view under MVCC: versions applied
//! after the scan began carry commit timestamps above its read timestamp, and vacuum never
//! drops a version visible at or above the horizon, so re-seeking yields exactly what one long
//! read would have. Batches end only at key boundaries, so a key's versions are never split.
//!
//! A batch holds the leaves it read (`Arc`s: a leaf's contents never change under a holder,
//! since writers copy a shared node before changing it) and entry positions in them; an entry
//! is copied out only when the caller takes it, so a short scan of a long batch copies only
//! what it uses. Values in overflow chains are read under the lock, while the chain is
//! certainly live.

use std::{collections::VecDeque, ops::Bound, sync::Arc};

use lightning_core_storage::{
    Result, Timestamp,
    engine::{Direction, KeyRange, VersionedEntry},
};

use crate::{
    cursor::Cursor,
    engine::Shared,
    key::TS_MAX,
    node::{Node, ValueRef},
    tree::TreeState,
};

const FIRST_BATCH: usize = 16;
const MAX_BATCH: usize = 1024;
const MAX_BATCH_BYTES: usize = 4 << 20;

/// What a scan yields per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Versions {
    /// The newest version at or below the read timestamp.
    Visible,
    /// Every version.
    All,
}

/// An entry of a batch.
#[derive(Debug)]
enum Item {
    /// Entry `index` of leaf `leaf` of the batch, copied out when taken.
    Lazy { leaf: usize, index: usize },
    /// An entry whose value was read from an overflow chain.
    Ready(VersionedEntry),
}

/// The iterator behind `StorageEngine::scan` and `BTreeEngine::scan_versions`.
#[derive(Debug)]
pub(crate) struct ScanIter {
    shared: Arc<Shared>,
    range: KeyRange,
    read_ts: u64,
    direction: Direction,
    versions: Versions,
    leaves: Vec<Arc<Node>>,
    items: VecDeque<Item>,
    /// The last entry collected in this batch: an index into `leaves` and an entry index.
    last: Option<(usize, usize)>,
    /// The last key (and timestamp, for `Versions::All`) returned by earlier batches.
    resume: Option<(Vec<u8>, u64)>,
    done: bool,
    batch: usize,
}

impl ScanIter {
    pub(crate) fn new(
        shared: Arc<Shared>,
        range: KeyRange,
        read_ts: Timestamp,
        direction: Direction,
        versions: Versions,
    ) -> ScanIter {
        ScanIter {
            shared,
            range,
            read_ts: read_ts.0,
            direction,
            versions,
            leaves: Vec::with_capacity(4),
            items: VecDeque::with_capacity(FIRST_BATCH),
            last: None,
            resume: None,
            done: false,
            batch: FIRST_BATCH,
        }
    }

    fn above_end(&self, node: &Node, i: usize) -> bool {
        match &self.range.end {
            Bound::Included(end) => node.cmp_entry(i, end, 0).is_gt(),
            Bound::Excluded(end) => node.cmp_entry(i, end, TS_MAX).is_ge(),
            Bound::Unbounded => false,
        }
    }

    fn below_start(&self, node: &Node, i: usize) -> bool {
        match &self.range.start {
            Bound::Included(start) => node.cmp_entry(i, start, TS_MAX).is_lt(),
            Bound::Excluded(start) => node.cmp_entry(i, start, 0).is_le(),
            Bound::Unbounded => false,
        }
    }

    /// True if entry `i` of `node` has the key of the last entry returned before this batch.
    fn same_key_as_resume(&self, node: &Node, i: usize) -> bool {
        self.resume.as_ref().is_some_and(|(k, _)| node.key_eq(i, k))
    }

    /// Collects entry `i` of `node`. Returns the bytes it will copy.
    fn collect(&mut self, state: &TreeState, node: &Arc<Node>, i: usize) -> Result<usize> {
        let leaf = self.leaf_index(node);
        self.last = Some((leaf, i));
        if let ValueRef::Overflow { len, .. } = node.value(i) {
            let value = state.value_of(&self.shared.store, node, i)?;
            let entry =
                VersionedEntry { key: node.key(i), commit_ts: Timestamp(node.ts(i)), value };
            self.items.push_back(Item::Ready(entry));
            return Ok(len as usize);
        }
        self.items.push_back(Item::Lazy { leaf, index: i });
        Ok(node.suffix(i).len() + node.payload(i).len())
    }

    /// The index of `node` in `leaves`, added if it is not the last one there.
    fn leaf_index(&mut self, node: &Arc<Node>) -> usize {
        if !self.leaves.last().is_some_and(|last| Arc::ptr_eq(last, node)) {
            self.leaves.push(Arc::clone(node));
        }
        self.leaves.len() - 1
    }

    fn full(&self, bytes: usize) -> bool {
        self.items.len() >= self.batch || bytes >= MAX_BATCH_BYTES
    }

    /// Where the next batch starts: just past the last entry collected.
    fn resume_point(&mut self) {
        if let Some((leaf, i)) = self.last.take() {
            let leaf = &self.leaves[leaf];
            let ts = if self.versions == Versions::All { leaf.ts(i) } else { 0 };
            self.resume = Some((leaf.key(i), ts));
        }
    }

    /// Reads the next batch forward, a leaf at a time. REQUIRES: no tree lock held by the
    /// caller.
    fn fill_forward(&mut self) -> Result<()> {
        let shared = Arc::clone(&self.shared);
        let state = shared.tree.read();
        let store = &shared.store;
        let mut cursor = match (&self.resume, &self.range.start) {
            (Some((key, ts)), _) => Cursor::seek(&state, store, key, *ts, true)?,
            (None, Bound::Included(key)) => Cursor::seek(&state, store, key, TS_MAX, false)?,
            (None, Bound::Excluded(key)) => Cursor::seek(&state, store, key, 0, true)?,
            (None, Bound::Unbounded) => Cursor::first(&state, store)?,
        };
        let mut bytes = 0;
        // The key of the entry before the current one: (leaf, index), or the resume key.
        let mut previous: Option<(Arc<Node>, usize)> = None;
        loop {
            let Some((leaf, start)) = cursor.current() else {
                self.done = true;
                return Ok(());
            };
            let leaf = leaf.to_arc();
            for i in start..leaf.count() {
                if self.above_end(&leaf, i) {
                    self.done = true;
                    return Ok(());
                }
                if self.versions == Versions::All {
                    if self.full(bytes) {
                        return Ok(());
                    }
                    bytes += self.collect(&state, &leaf, i)?;
                    continue;
                }
                let ts = leaf.ts(i);
                let same_key = match &previous {
                    _ if i > start => leaf.same_key_here(i - 1, i),
                    Some((p, pi)) => leaf.same_key(i, p, *pi),
                    None => self.same_key_as_resume(&leaf, i),
                };
                if !same_key {
                    if self.full(bytes) {
                        return Ok(());
                    }
                    // The newest version of a new key; older ones of it are skipped below.
                    if ts <= self.read_ts {
                        bytes += self.collect(&state, &leaf, i)?;
                    }
                } else if ts <= self.read_ts && !self.collected_key(&leaf, i) {
                    bytes += self.collect(&state, &leaf, i)?;
                }
            }
            previous = Some((Arc::clone(&leaf), leaf.count() - 1));
            cursor.next_leaf_start()?;
        }
    }

    /// True if the visible version of entry `i`'s key was already collected (or returned).
    fn collected_key(&self, node: &Node, i: usize) -> bool {
        match &self.last {
            Some((leaf, j)) => node.same_key(i, &self.leaves[*leaf], *j),
            None => self.same_key_as_resume(node, i),
        }
    }

    /// Reads the next batch in reverse. REQUIRES: no tree lock held by the caller.
    fn fill_reverse(&mut self) -> Result<()> {
        let shared = Arc::clone(&self.shared);
        let state = shared.tree.read();
        let store = &shared.store;
        let mut cursor = match (&self.resume, &self.range.end) {
            (Some((key, ts)), _) if self.versions == Versions::All => {
                Cursor::seek(&state, store, key, *ts, false)?
            }
            (Some((key, _)), _) | (None, Bound::Excluded(key)) => {
                Cursor::seek(&state, store, key, TS_MAX, false)?
            }
            (None, Bound::Included(key)) => Cursor::seek(&state, store, key, 0, true)?,
            (None, Bound::Unbounded) => Cursor::last(&state, store)?,
        };
        if !matches!((&self.resume, &self.range.end), (None, Bound::Unbounded)) {
            cursor.prev()?;
        }
        let mut bytes = 0;
        // The newest version at or below the read timestamp of the key being walked.
        let mut candidate: Option<(Arc<Node>, usize)> = None;
        loop {
            let in_range = cursor.current().filter(|(leaf, i)| !self.below_start(leaf, *i));
            let new_key = match (&candidate, in_range) {
                (Some((c, ci)), Some((leaf, i))) => !leaf.same_key(i, c, *ci),
                _ => true,
            };
            if new_key && let Some((c, ci)) = candidate.take() {
                bytes += self.collect(&state, &c, ci)?;
            }
            let Some((leaf, i)) = in_range else {
                self.done = true;
                return Ok(());
            };
            if self.versions == Versions::All {
                if self.full(bytes) {
                    return Ok(());
                }
                let leaf = leaf.to_arc();
                bytes += self.collect(&state, &leaf, i)?;
            } else {
                if new_key && self.full(bytes) {
                    return Ok(());
                }
                if leaf.ts(i) <= self.read_ts {
                    candidate = Some((leaf.to_arc(), i));
                }
            }
            cursor.prev()?;
        }
    }

    /// Copies out the next collected entry.
    fn take(&mut self) -> Option<VersionedEntry> {
        Some(match self.items.pop_front()? {
            Item::Ready(entry) => entry,
            Item::Lazy { leaf, index } => {
                let node = &self.leaves[leaf];
                // `collect` reads overflow values eagerly: a lazy entry is inline or deleted.
                debug_assert!(!matches!(node.value(index), ValueRef::Overflow { .. }));
                let value = match node.value(index) {
                    ValueRef::Inline(value) => Some(value.to_vec()),
                    ValueRef::Tombstone | ValueRef::Overflow { .. } => None,
                };
                VersionedEntry { key: node.key(index), commit_ts: Timestamp(node.ts(index)), value }
            }
        })
    }
}

impl Iterator for ScanIter {
    type Item = Result<VersionedEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(entry) = self.take() {
            return Some(Ok(entry));
        }
        if self.done {
            return None;
        }
        // The key to resume after is copied only now, when another batch is really needed.
        self.resume_point();
        self.leaves.clear();
        let filled = match self.direction {
            Direction::Forward => self.fill_forward(),
            Direction::Reverse => self.fill_reverse(),
        };
        self.shared.apply_pins();
        self.batch = (self.batch * 2).min(MAX_BATCH);
        if let Err(e) = filled {
            self.done = true;
            self.items.clear();
            return Some(Err(e));
        }
        self.take().map(Ok)
    }
}

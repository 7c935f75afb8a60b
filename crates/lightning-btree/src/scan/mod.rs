//! Range scans: a walk over the tree in bounded batches, and the two consumers of a batch.
//!
//! Each batch takes the tree read lock, seeks just past the last key handed out, hands a
//! bounded number of entries (and bytes) to a [`Sink`], and releases the lock. This is a
//! consistent view under MVCC: versions applied after the scan began carry commit timestamps
//! above its read timestamp, and vacuum never drops a version visible at or above the horizon,
//! so re-seeking yields exactly what one long read would have. Batches end only at key
//! boundaries, so a key's versions are never split.
//!
//! The sinks: [`iter::ScanIter`] keeps a batch for an owning iterator (`StorageEngine::scan`),
//! [`visit::visit`] lends each entry to a caller's closure (`StorageEngine::scan_with`),
//! copying nothing.

pub(crate) mod iter;
pub(crate) mod visit;

use std::{ops::Bound, sync::Arc};

use lightning_core_storage::{Result, engine::KeyRange};

use crate::{cursor::Cursor, engine::Shared, key::TS_MAX, node::Node, tree::TreeState};

pub(crate) use iter::ScanIter;

/// What a scan yields per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Versions {
    /// The newest version at or below the read timestamp.
    Visible,
    /// Every version.
    All,
}

/// Where a scan is: what it reads, and where the next batch starts.
#[derive(Debug)]
pub(crate) struct Walk {
    pub(crate) read_ts: u64,
    pub(crate) versions: Versions,
    /// The last key (and timestamp, for `Versions::All`) handed out by earlier batches.
    pub(crate) resume: Option<(Vec<u8>, u64)>,
    /// The range is exhausted.
    pub(crate) done: bool,
}

/// What a batch hands its entries to.
pub(crate) trait Sink {
    /// Takes entry `i` of `leaf`: the newest visible version of its key (every version, for
    /// `Versions::All`). Returns the bytes it accounts for against the batch limit.
    fn take(
        &mut self,
        state: &TreeState,
        shared: &Shared,
        leaf: &Arc<Node>,
        i: usize,
    ) -> Result<usize>;

    /// True when the batch must end before the next key: enough taken, or the consumer
    /// wants no more.
    fn full(&self, bytes: usize) -> bool;
}

fn above_end(range: &KeyRange, node: &Node, i: usize) -> bool {
    match &range.end {
        Bound::Included(end) => node.cmp_entry(i, end, 0).is_gt(),
        Bound::Excluded(end) => node.cmp_entry(i, end, TS_MAX).is_ge(),
        Bound::Unbounded => false,
    }
}

fn below_start(range: &KeyRange, node: &Node, i: usize) -> bool {
    match &range.start {
        Bound::Included(start) => node.cmp_entry(i, start, TS_MAX).is_lt(),
        Bound::Excluded(start) => node.cmp_entry(i, start, 0).is_le(),
        Bound::Unbounded => false,
    }
}

impl Walk {
    pub(crate) fn new(read_ts: u64, versions: Versions) -> Walk {
        Walk { read_ts, versions, resume: None, done: false }
    }

    /// True if entry `i` of `node` has the key handed out last before this batch.
    fn same_key_as_resume(&self, node: &Node, i: usize) -> bool {
        self.resume.as_ref().is_some_and(|(k, _)| node.key_eq(i, k))
    }

    /// Hands the next batch to `sink`, forward, a leaf at a time. Sets `done` at the end of
    /// the range. REQUIRES: no tree lock held by the caller.
    pub(crate) fn fill_forward<S: Sink>(
        &mut self,
        shared: &Shared,
        range: &KeyRange,
        sink: &mut S,
    ) -> Result<()> {
        let state = shared.tree.read();
        let store = &shared.store;
        let mut cursor = match (&self.resume, &range.start) {
            (Some((key, ts)), _) => Cursor::seek(&state, store, key, *ts, true)?,
            (None, Bound::Included(key)) => Cursor::seek(&state, store, key, TS_MAX, false)?,
            (None, Bound::Excluded(key)) => Cursor::seek(&state, store, key, 0, true)?,
            (None, Bound::Unbounded) => Cursor::first(&state, store)?,
        };
        let mut bytes = 0;
        // The last entry of the previous leaf, for telling a new key from more versions.
        let mut previous: Option<(Arc<Node>, usize)> = None;
        // The current key's visible version was handed out (true at the start: the first
        // entry either opens a new key or continues the key handed out last).
        let mut key_done = true;
        loop {
            let Some((leaf, start)) = cursor.current() else {
                self.done = true;
                return Ok(());
            };
            let leaf = leaf.to_arc();
            for i in start..leaf.count() {
                if above_end(range, &leaf, i) {
                    self.done = true;
                    return Ok(());
                }
                if self.versions == Versions::All {
                    if sink.full(bytes) {
                        return Ok(());
                    }
                    bytes += sink.take(&state, shared, &leaf, i)?;
                    continue;
                }
                let same_key = match &previous {
                    _ if i > start => leaf.same_key_here(i - 1, i),
                    Some((p, pi)) => leaf.same_key(i, p, *pi),
                    None => self.same_key_as_resume(&leaf, i),
                };
                if !same_key {
                    if sink.full(bytes) {
                        return Ok(());
                    }
                    key_done = false;
                }
                // Versions run newest first: the first at or below the read timestamp is the
                // visible one, and older ones of the key are skipped.
                if !key_done && leaf.ts(i) <= self.read_ts {
                    bytes += sink.take(&state, shared, &leaf, i)?;
                    key_done = true;
                }
            }
            previous = Some((Arc::clone(&leaf), leaf.count() - 1));
            cursor.next_leaf_start()?;
        }
    }

    /// Hands the next batch to `sink`, in reverse. Sets `done` at the start of the range.
    /// REQUIRES: no tree lock held by the caller.
    pub(crate) fn fill_reverse<S: Sink>(
        &mut self,
        shared: &Shared,
        range: &KeyRange,
        sink: &mut S,
    ) -> Result<()> {
        let state = shared.tree.read();
        let store = &shared.store;
        let mut cursor = match (&self.resume, &range.end) {
            (Some((key, ts)), _) if self.versions == Versions::All => {
                Cursor::seek(&state, store, key, *ts, false)?
            }
            (Some((key, _)), _) | (None, Bound::Excluded(key)) => {
                Cursor::seek(&state, store, key, TS_MAX, false)?
            }
            (None, Bound::Included(key)) => Cursor::seek(&state, store, key, 0, true)?,
            (None, Bound::Unbounded) => Cursor::last(&state, store)?,
        };
        if !matches!((&self.resume, &range.end), (None, Bound::Unbounded)) {
            cursor.prev()?;
        }
        let mut bytes = 0;
        // The newest version at or below the read timestamp of the key being walked.
        let mut candidate: Option<(Arc<Node>, usize)> = None;
        loop {
            let in_range = cursor.current().filter(|(leaf, i)| !below_start(range, leaf, *i));
            let new_key = match (&candidate, in_range) {
                (Some((c, ci)), Some((leaf, i))) => !leaf.same_key(i, c, *ci),
                _ => true,
            };
            if new_key && let Some((c, ci)) = candidate.take() {
                bytes += sink.take(&state, shared, &c, ci)?;
            }
            let Some((leaf, i)) = in_range else {
                self.done = true;
                return Ok(());
            };
            if self.versions == Versions::All {
                if sink.full(bytes) {
                    return Ok(());
                }
                bytes += sink.take(&state, shared, &leaf.to_arc(), i)?;
            } else {
                if new_key && sink.full(bytes) {
                    return Ok(());
                }
                if leaf.ts(i) <= self.read_ts {
                    candidate = Some((leaf.to_arc(), i));
                }
            }
            cursor.prev()?;
        }
    }
}

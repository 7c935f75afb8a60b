//! Range scans: a walk over the tree in bounded batches, and the two consumers of a batch.
//!
//! Each batch takes the tree read lock, seeks just past the entry the last batch finished
//! with, hands a bounded number of entries (and bytes) to a [`Sink`], and releases the lock.
//! Every hold also *examines* at most [`EXAMINE_LIMIT`] entries, handed out or not, so a range
//! of invisible versions does not keep writers out either. This is a consistent view under
//! MVCC: versions applied after the scan began carry commit timestamps above its read
//! timestamp, and vacuum never drops a version visible at or above the horizon, so re-seeking
//! yields exactly what one long read would have. Batches end only at key boundaries, so a
//! key's versions are never split.
//!
//! The sinks: [`iter::ScanIter`] keeps a batch for an owning iterator (`StorageEngine::scan`),
//! [`visit::visit`] keeps a batch's leaves and, after releasing the lock, lends its entries
//! straight from them to a caller's closure (`StorageEngine::scan_with`).

pub(crate) mod iter;
pub(crate) mod visit;

use std::{
    ops::Bound,
    sync::{Arc, atomic::Ordering},
};

use lightning_core_storage::{Result, engine::KeyRange};

use crate::{
    cursor::Cursor,
    engine::Shared,
    key::TS_MAX,
    node::Node,
    tree::{NodeRef, TreeState},
};

pub(crate) use iter::ScanIter;

/// What a scan yields per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Versions {
    /// The newest version at or below the read timestamp.
    Visible,
    /// Every version.
    All,
}

/// Entries a batch examines at most under one hold of the tree read lock (handed out or not:
/// a range of invisible versions or tombstones is walked in bounded holds too). A batch ends
/// at the first key boundary past the bound, so a key with more versions than this is the one
/// exception: its versions are never split across holds.
pub(crate) const EXAMINE_LIMIT: usize = 4096;

/// Where a scan is: what it reads, and where the next batch starts.
#[derive(Debug)]
pub(crate) struct Walk {
    pub(crate) read_ts: u64,
    pub(crate) versions: Versions,
    /// The entry the earlier batches finished with (its leaf keeps it readable without the
    /// lock: a node never changes under a holder): the next batch starts after its key (and
    /// timestamp, for `Versions::All`). Its key is assembled only when a batch starts.
    resume: Option<(Arc<Node>, usize)>,
    /// Where the resume key is assembled (reused across batches).
    key: Vec<u8>,
    /// `TreeState::version` when the last batch ended: unchanged, the resume leaf is still
    /// the live one and the next batch continues in it without a descent.
    tree_version: u64,
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

/// The running totals of one forward batch.
struct Pass {
    bytes: usize,
    examined: usize,
    /// The current key's visible version was handed out (true at the start: the first entry
    /// either opens a new key or continues the key the last batch finished).
    key_done: bool,
    /// The entry examined last before the current leaf (at first: where the last batch
    /// ended), for telling a new key from more versions and for resuming.
    previous: Option<(Arc<Node>, usize)>,
}

/// Remembers entry `i` of `leaf` in `slot`, cloning the leaf's `Arc` only when it changes.
fn remember<'s>(
    slot: &'s mut Option<(Arc<Node>, usize)>,
    leaf: &NodeRef<'_>,
    i: usize,
) -> &'s Arc<Node> {
    match &mut *slot {
        Some((node, index)) if std::ptr::eq::<Node>(&**node, &**leaf) => *index = i,
        other => *other = Some((leaf.to_arc(), i)),
    }
    &slot.as_ref().expect("just set").0
}

impl Walk {
    pub(crate) fn new(read_ts: u64, versions: Versions) -> Walk {
        Walk {
            read_ts,
            versions,
            resume: None,
            key: Vec::new(),
            tree_version: u64::MAX,
            done: false,
        }
    }

    /// Hands the next batch to `sink`, forward, a leaf at a time. Sets `done` at the end of
    /// the range. If no writer took the tree lock since the last batch, it continues in the
    /// leaf that batch ended in without a new descent (so small first batches cost little).
    /// REQUIRES: no tree lock held by the caller.
    pub(crate) fn fill_forward<S: Sink>(
        &mut self,
        shared: &Shared,
        range: &KeyRange,
        sink: &mut S,
    ) -> Result<()> {
        let state = shared.tree.read();
        let store = &shared.store;
        store.counters.scan_lock_holds.fetch_add(1, Ordering::Relaxed);
        let mut pass =
            Pass { bytes: 0, examined: 0, key_done: true, previous: self.resume.clone() };
        // After walking the rest of the resume leaf, the walk goes on right after its last
        // entry, which may be a version of a key that continues in the next leaf.
        let mut exact = false;
        if self.tree_version == state.version
            && let Some((leaf, i)) = &self.resume
            && i + 1 < leaf.count()
        {
            let (leaf, start) = (Arc::clone(leaf), i + 1);
            if self.walk_leaf(&state, shared, range, sink, &mut pass, leaf, start)? {
                self.tree_version = state.version;
                return Ok(());
            }
            exact = true;
        }
        let all = self.versions == Versions::All;
        let mut cursor = match (&pass.previous, &range.start) {
            (Some((leaf, i)), _) => {
                // A batch ends after the last version of a key: the next starts past the key.
                leaf.key_into(*i, &mut self.key);
                let ts = if all || exact { leaf.ts(*i) } else { 0 };
                Cursor::seek(&state, store, &self.key, ts, true)?
            }
            (None, Bound::Included(key)) => Cursor::seek(&state, store, key, TS_MAX, false)?,
            (None, Bound::Excluded(key)) => Cursor::seek(&state, store, key, 0, true)?,
            (None, Bound::Unbounded) => Cursor::first(&state, store)?,
        };
        loop {
            let Some((leaf, start)) = cursor.current() else {
                self.done = true;
                return Ok(());
            };
            let leaf = leaf.to_arc();
            if self.walk_leaf(&state, shared, range, sink, &mut pass, leaf, start)? {
                self.tree_version = state.version;
                return Ok(());
            }
            cursor.next_leaf_start()?;
        }
    }

    /// Walks `leaf` forward from entry `start`; true if the batch (or the range: then `done`
    /// is set) ended in it.
    #[allow(clippy::too_many_arguments)]
    fn walk_leaf<S: Sink>(
        &mut self,
        state: &TreeState,
        shared: &Shared,
        range: &KeyRange,
        sink: &mut S,
        pass: &mut Pass,
        leaf: Arc<Node>,
        start: usize,
    ) -> Result<bool> {
        let all = self.versions == Versions::All;
        for i in start..leaf.count() {
            if above_end(range, &leaf, i) {
                self.done = true;
                return Ok(true);
            }
            let new_key = all
                || match &pass.previous {
                    _ if i > start => !leaf.same_key_here(i - 1, i),
                    Some((p, pi)) => !leaf.same_key(i, p, *pi),
                    None => true,
                };
            if new_key {
                // `examined > 0`: an entry before this one exists to resume after.
                if pass.examined > 0 && (pass.examined >= EXAMINE_LIMIT || sink.full(pass.bytes)) {
                    self.resume =
                        if i > start { Some((leaf, i - 1)) } else { pass.previous.take() };
                    return Ok(true);
                }
                pass.key_done = false;
            }
            pass.examined += 1;
            // Versions run newest first: the first at or below the read timestamp is the
            // visible one, and older ones of the key are skipped.
            if all || (!pass.key_done && leaf.ts(i) <= self.read_ts) {
                pass.bytes += sink.take(state, shared, &leaf, i)?;
                pass.key_done = true;
            }
        }
        let last = leaf.count() - 1;
        pass.previous = Some((leaf, last));
        Ok(false)
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
        store.counters.scan_lock_holds.fetch_add(1, Ordering::Relaxed);
        let all = self.versions == Versions::All;
        let mut cursor = match (&self.resume, &range.end) {
            (Some((leaf, i)), _) => {
                leaf.key_into(*i, &mut self.key);
                let ts = if all { leaf.ts(*i) } else { TS_MAX };
                Cursor::seek(&state, store, &self.key, ts, false)?
            }
            (None, Bound::Excluded(key)) => Cursor::seek(&state, store, key, TS_MAX, false)?,
            (None, Bound::Included(key)) => Cursor::seek(&state, store, key, 0, true)?,
            (None, Bound::Unbounded) => Cursor::last(&state, store)?,
        };
        if !matches!((&self.resume, &range.end), (None, Bound::Unbounded)) {
            cursor.prev()?;
        }
        let mut bytes = 0;
        let mut examined = 0;
        // The newest version at or below the read timestamp of the key being walked.
        let mut candidate: Option<(Arc<Node>, usize)> = None;
        // The entry examined last (the next batch resumes before its key).
        let mut last: Option<(Arc<Node>, usize)> = None;
        loop {
            let in_range = cursor.current().filter(|(leaf, i)| !below_start(range, leaf, *i));
            let new_key = all
                || match (&last, in_range) {
                    (Some((l, li)), Some((leaf, i))) => !leaf.same_key(i, l, *li),
                    _ => true,
                };
            if new_key && let Some((c, ci)) = candidate.take() {
                bytes += sink.take(&state, shared, &c, ci)?;
            }
            let Some((leaf, i)) = in_range else {
                self.done = true;
                return Ok(());
            };
            if new_key && examined > 0 && (examined >= EXAMINE_LIMIT || sink.full(bytes)) {
                self.resume = last;
                return Ok(());
            }
            examined += 1;
            let node = remember(&mut last, leaf, i);
            if all {
                bytes += sink.take(&state, shared, node, i)?;
            } else if leaf.ts(i) <= self.read_ts {
                candidate = Some((Arc::clone(node), i));
            }
            cursor.prev()?;
        }
    }
}

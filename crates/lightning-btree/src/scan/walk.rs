//! [`Walk`]: where a scan is, and how it moves to the next entry it yields.
//!
//! The walk holds the leaf it is in (with the cursor path to it) and examines the leaf's
//! entries without the tree lock; it takes the lock only to find the next leaf, and (through
//! [`Walk::value_into`]) to read a value from an overflow chain, which must be live while it
//! is read.

use std::{
    ops::Bound,
    sync::{Arc, atomic::Ordering},
};

use lightning_core_storage::{
    Error, Result,
    engine::{Direction, KeyRange},
};

use super::{Versions, above_end, below_start};
use crate::{
    cursor::{Cursor, Path},
    engine::Shared,
    key::TS_MAX,
    node::Node,
    tree::{NodeRef, TreeState},
};

/// A scan's position: the leaf being walked and what was decided so far.
#[derive(Debug)]
pub(crate) struct Walk {
    read_ts: u64,
    versions: Versions,
    direction: Direction,
    /// The cursor path to the leaf being walked (the leaf last); empty before the first leaf
    /// and after the end.
    path: Path,
    /// `TreeState::version` when `path` was taken: unchanged, the path is still the live
    /// tree's (the next leaf is one step along it, an overflow chain of the leaf is live).
    version: u64,
    /// Forward: the next entry of the leaf to examine. Reverse: one past it (0: the leaf is
    /// walked).
    next: usize,
    /// The first entry examined in this leaf (the cursor's position when it was found).
    start: usize,
    /// The leaf walked before this one (its entry examined last, the last one forward or the
    /// first one in reverse, tells whether this leaf's first entry examined starts a new key).
    previous: Option<Arc<Node>>,
    /// Forward: the current key's visible version was handed out.
    key_done: bool,
    /// Reverse: the newest version at or below the read timestamp of the key being walked
    /// (versions run newest first, so in reverse it is the last such one seen).
    candidate: Option<(Arc<Node>, usize)>,
    /// The entry handed out last: `lent` if set (a reverse candidate), else entry `at` of
    /// the leaf.
    lent: Option<(Arc<Node>, usize)>,
    at: usize,
    /// No entries are left to examine (a reverse walk may still hand out its candidate).
    exhausted: bool,
    done: bool,
    /// Where a key to seek is assembled (reused).
    key: Vec<u8>,
}

impl Walk {
    pub(crate) fn new(read_ts: u64, versions: Versions, direction: Direction) -> Walk {
        Walk {
            read_ts,
            versions,
            direction,
            path: Vec::new(),
            version: 0,
            next: 0,
            start: 0,
            previous: None,
            key_done: true,
            candidate: None,
            lent: None,
            at: 0,
            exhausted: false,
            done: false,
            key: Vec::new(),
        }
    }

    /// Moves to the next entry to hand out (see [`Walk::current`]); false at the end of the
    /// range (and from then on). REQUIRES: no tree lock held by the caller.
    pub(crate) fn advance(&mut self, shared: &Shared, range: &KeyRange) -> Result<bool> {
        let result = match self.direction {
            Direction::Forward => self.advance_forward(shared, range),
            Direction::Reverse => self.advance_reverse(shared, range),
        };
        match result {
            Ok(true) => Ok(true),
            other => {
                self.finish();
                other
            }
        }
    }

    /// The entry [`Walk::advance`] moved to: entry `.1` of leaf `.0`. REQUIRES: the last
    /// `advance` returned true.
    pub(crate) fn current(&self) -> (&Node, usize) {
        match &self.lent {
            Some((node, i)) => (&**node, *i),
            None => (&**self.leaf().expect("advance found an entry"), self.at),
        }
    }

    /// Appends the value of the current entry to `out`, reading its overflow chain (or pending
    /// blob) under the tree lock, in the leaf it was found in if the tree has not changed
    /// since, else in the live tree. False if that version is gone from the live tree, which
    /// only `Versions::All` may see (vacuum dropped a version no read can see).
    /// REQUIRES: the last `advance` returned true; no tree lock held by the caller.
    pub(crate) fn value_into(&self, shared: &Shared, out: &mut Vec<u8>) -> Result<bool> {
        let (node, i) = self.current();
        let state = shared.tree.read();
        shared.store.counters.scan_lock_holds.fetch_add(1, Ordering::Relaxed);
        let found = self.value_locked(&state, shared, node, i, out);
        drop(state);
        shared.apply_pins();
        found
    }

    fn value_locked(
        &self,
        state: &TreeState,
        shared: &Shared,
        node: &Node,
        i: usize,
        out: &mut Vec<u8>,
    ) -> Result<bool> {
        let store = &shared.store;
        let live = state.version == self.version
            && self.leaf().is_some_and(|leaf| std::ptr::eq::<Node>(&**leaf, node));
        if live {
            state.value_into(store, node, i, out)?;
            return Ok(true);
        }
        let key = node.key(i);
        let ts = node.ts(i);
        let cursor = Cursor::seek(state, store, &key, ts, false)?;
        match cursor.current() {
            Some((leaf, j)) if leaf.key_eq(j, &key) && leaf.ts(j) == ts => {
                state.value_into(store, leaf, j, out)?;
                Ok(true)
            }
            _ if self.versions == Versions::All => Ok(false),
            _ => Err(Error::corruption(
                "a version visible to a running scan is gone from the tree",
                format!(
                    "{} (the overflow value of a leaf entry)",
                    store.location(node.page().id().0)
                ),
            )),
        }
    }

    fn leaf(&self) -> Option<&NodeRef<'static>> {
        self.path.last().map(|(leaf, _)| leaf)
    }

    /// Ends the walk and lets go of every node it holds.
    fn finish(&mut self) {
        self.done = true;
        self.exhausted = true;
        self.path.clear();
        self.previous = None;
        self.candidate = None;
        self.lent = None;
    }

    fn advance_forward(&mut self, shared: &Shared, range: &KeyRange) -> Result<bool> {
        let all = self.versions == Versions::All;
        loop {
            if self.exhausted {
                return Ok(false);
            }
            let Some((leaf, _)) = self.path.last() else {
                self.find_leaf(shared, range)?;
                continue;
            };
            let i = self.next;
            if i == leaf.count() {
                self.find_leaf(shared, range)?;
                continue;
            }
            if above_end(range, leaf, i) {
                return Ok(false);
            }
            self.next = i + 1;
            if all {
                self.at = i;
                return Ok(true);
            }
            let new_key = if i > self.start {
                !leaf.same_key_here(i - 1, i)
            } else {
                self.previous.as_ref().is_none_or(|p| !leaf.same_key(i, p, p.count() - 1))
            };
            if new_key {
                self.key_done = false;
            }
            // Versions run newest first: the first at or below the read timestamp is the
            // visible one, and older ones of the key are skipped.
            if !self.key_done && leaf.ts(i) <= self.read_ts {
                self.key_done = true;
                self.at = i;
                return Ok(true);
            }
        }
    }

    fn advance_reverse(&mut self, shared: &Shared, range: &KeyRange) -> Result<bool> {
        let all = self.versions == Versions::All;
        // The leaf handle of the entry handed out last, reused for the next candidate.
        let mut spare = self.lent.take();
        loop {
            if self.done {
                return Ok(false);
            }
            if !self.exhausted && (self.path.is_empty() || self.next == 0) {
                self.find_leaf(shared, range)?;
                continue;
            }
            let at = match self.path.last() {
                Some((leaf, _)) if !self.exhausted => {
                    let i = self.next - 1;
                    (!below_start(range, leaf, i)).then_some((leaf, i))
                }
                _ => None,
            };
            let Some((leaf, i)) = at else {
                self.exhausted = true;
                if let Some(candidate) = self.candidate.take() {
                    self.lent = Some(candidate);
                    return Ok(true);
                }
                return Ok(false);
            };
            if all {
                self.next = i;
                self.at = i;
                return Ok(true);
            }
            let new_key = if i < self.start {
                !leaf.same_key_here(i, i + 1)
            } else {
                self.previous.as_ref().is_none_or(|p| !leaf.same_key(i, p, 0))
            };
            // The key before this one is walked: hand out its visible version (entry `i` is
            // examined on the next call).
            if new_key && let Some(candidate) = self.candidate.take() {
                self.lent = Some(candidate);
                return Ok(true);
            }
            self.next = i;
            if leaf.ts(i) <= self.read_ts {
                match &mut self.candidate {
                    Some((node, index)) if std::ptr::eq::<Node>(&**node, &**leaf) => *index = i,
                    slot => {
                        let node = match spare.take() {
                            Some((node, _)) if std::ptr::eq::<Node>(&*node, &**leaf) => node,
                            _ => leaf.to_arc(),
                        };
                        *slot = Some((node, i));
                    }
                }
            }
        }
    }

    /// Finds the next leaf to walk in the live tree, under the tree read lock: where the range
    /// starts, or just past the last entry walked (one step along the kept path if no writer
    /// took the lock since). Sets `exhausted` if there is none.
    fn find_leaf(&mut self, shared: &Shared, range: &KeyRange) -> Result<()> {
        let state = shared.tree.read();
        shared.store.counters.scan_lock_holds.fetch_add(1, Ordering::Relaxed);
        let found = self.find_leaf_locked(&state, shared, range);
        drop(state);
        shared.apply_pins();
        found
    }

    fn find_leaf_locked(
        &mut self,
        state: &TreeState,
        shared: &Shared,
        range: &KeyRange,
    ) -> Result<()> {
        let store = &shared.store;
        let previous = self.leaf().map(NodeRef::to_arc);
        let forward = self.direction == Direction::Forward;
        let unchanged = state.version == self.version;
        let cursor = match (&previous, forward) {
            (Some(_), true) if unchanged => {
                let mut cursor = Cursor::resume(state, store, std::mem::take(&mut self.path));
                cursor.next_leaf_start()?;
                cursor
            }
            (Some(_), false) if unchanged => {
                let mut path = std::mem::take(&mut self.path);
                if let Some((_, index)) = path.last_mut() {
                    *index = 0;
                }
                let mut cursor = Cursor::resume(state, store, path);
                cursor.prev()?;
                cursor
            }
            (Some(leaf), true) => {
                let last = leaf.count() - 1;
                leaf.key_into(last, &mut self.key);
                Cursor::seek(state, store, &self.key, leaf.ts(last), true)?
            }
            (Some(leaf), false) => {
                leaf.key_into(0, &mut self.key);
                let mut cursor = Cursor::seek(state, store, &self.key, leaf.ts(0), false)?;
                cursor.prev()?;
                cursor
            }
            (None, true) => match &range.start {
                Bound::Included(key) => Cursor::seek(state, store, key, TS_MAX, false)?,
                Bound::Excluded(key) => Cursor::seek(state, store, key, 0, true)?,
                Bound::Unbounded => Cursor::first(state, store)?,
            },
            (None, false) => {
                let mut cursor = match &range.end {
                    Bound::Excluded(key) => Cursor::seek(state, store, key, TS_MAX, false)?,
                    Bound::Included(key) => Cursor::seek(state, store, key, 0, true)?,
                    Bound::Unbounded => Cursor::last(state, store)?,
                };
                if !matches!(range.end, Bound::Unbounded) {
                    cursor.prev()?;
                }
                cursor
            }
        };
        let Some((_, i)) = cursor.current() else {
            self.exhausted = true;
            self.path.clear();
            return Ok(());
        };
        self.start = i;
        self.next = if forward { i } else { i + 1 };
        self.path = cursor.into_path();
        self.version = state.version;
        self.previous = previous;
        Ok(())
    }
}

//! Reading many sources as one: [`MergingIter`] merges cursors (memtables, L0 tables, levels)
//! into one internal-key order, both directions; [`VisibleIter`] walks it within a
//! [`KeyRange`] and yields, per user key, the newest version at or below a read timestamp
//! (tombstones included, as the engine trait's scans do).
//!
//! Direction switches follow LevelDB's `MergingIterator`: when `prev` follows `next` (or the
//! reverse), every other child is repositioned just before (after) the current entry. An
//! internal key held by two children (a batch replayed into the memtable after its table was
//! flushed) holds the same value in both, and the visible layer yields it once.

use std::{cmp::Ordering, ops::Bound};

use lightning_core_storage::{
    Result, Timestamp,
    engine::{Direction, KeyRange, VersionedEntry},
};

use crate::{InternalIter, compare_internal};

/// A cursor over the union of its children (see the module docs). Children are given newest
/// first; of equal internal keys the newest child's comes first going forward.
pub struct MergingIter {
    children: Vec<Box<dyn InternalIter>>,
    current: Option<usize>,
    direction: Direction,
}

impl std::fmt::Debug for MergingIter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MergingIter")
            .field("children", &self.children.len())
            .field("current", &self.current)
            .finish()
    }
}

impl MergingIter {
    /// A merge of `children` (newest first).
    pub fn new(children: Vec<Box<dyn InternalIter>>) -> Self {
        MergingIter { children, current: None, direction: Direction::Forward }
    }

    fn order(&self, a: usize, b: usize) -> Ordering {
        let (x, y) = (&self.children[a], &self.children[b]);
        compare_internal(x.key(), x.ts(), y.key(), y.ts())
    }

    fn find_smallest(&mut self) {
        let mut best: Option<usize> = None;
        for i in 0..self.children.len() {
            if self.children[i].valid() && best.is_none_or(|b| self.order(i, b) == Ordering::Less) {
                best = Some(i);
            }
        }
        self.current = best;
    }

    fn find_largest(&mut self) {
        let mut best: Option<usize> = None;
        for i in (0..self.children.len()).rev() {
            if self.children[i].valid()
                && best.is_none_or(|b| self.order(i, b) == Ordering::Greater)
            {
                best = Some(i);
            }
        }
        self.current = best;
    }

    fn current_index(&self) -> usize {
        self.current.expect("REQUIRES: the merging cursor is valid")
    }

    /// Runs `f` on every child; on an error the cursor becomes invalid.
    fn each_child(
        &mut self,
        mut f: impl FnMut(usize, &mut dyn InternalIter) -> Result<()>,
    ) -> Result<()> {
        for (i, child) in self.children.iter_mut().enumerate() {
            if let Err(e) = f(i, child.as_mut()) {
                self.current = None;
                return Err(e);
            }
        }
        Ok(())
    }
}

impl InternalIter for MergingIter {
    fn valid(&self) -> bool {
        self.current.is_some()
    }

    fn seek_to_first(&mut self) -> Result<()> {
        self.each_child(|_, c| c.seek_to_first())?;
        self.direction = Direction::Forward;
        self.find_smallest();
        Ok(())
    }

    fn seek_to_last(&mut self) -> Result<()> {
        self.each_child(|_, c| c.seek_to_last())?;
        self.direction = Direction::Reverse;
        self.find_largest();
        Ok(())
    }

    fn seek(&mut self, key: &[u8], ts: Timestamp) -> Result<()> {
        self.each_child(|_, c| c.seek(key, ts))?;
        self.direction = Direction::Forward;
        self.find_smallest();
        Ok(())
    }

    fn seek_for_prev(&mut self, key: &[u8], ts: Timestamp) -> Result<()> {
        self.each_child(|_, c| c.seek_for_prev(key, ts))?;
        self.direction = Direction::Reverse;
        self.find_largest();
        Ok(())
    }

    fn next(&mut self) -> Result<()> {
        let current = self.current_index();
        if self.direction != Direction::Forward {
            let (key, ts) = (self.children[current].key().to_vec(), self.children[current].ts());
            self.each_child(|i, c| {
                if i == current {
                    return Ok(());
                }
                c.seek(&key, ts)?;
                if c.valid() && compare_internal(c.key(), c.ts(), &key, ts) == Ordering::Equal {
                    c.next()?;
                }
                Ok(())
            })?;
            self.direction = Direction::Forward;
        }
        if let Err(e) = self.children[current].next() {
            self.current = None;
            return Err(e);
        }
        self.find_smallest();
        Ok(())
    }

    fn prev(&mut self) -> Result<()> {
        let current = self.current_index();
        if self.direction != Direction::Reverse {
            let (key, ts) = (self.children[current].key().to_vec(), self.children[current].ts());
            self.each_child(|i, c| {
                if i == current {
                    return Ok(());
                }
                c.seek_for_prev(&key, ts)?;
                if c.valid() && compare_internal(c.key(), c.ts(), &key, ts) == Ordering::Equal {
                    c.prev()?;
                }
                Ok(())
            })?;
            self.direction = Direction::Reverse;
        }
        if let Err(e) = self.children[current].prev() {
            self.current = None;
            return Err(e);
        }
        self.find_largest();
        Ok(())
    }

    fn key(&self) -> &[u8] {
        self.children[self.current_index()].key()
    }

    fn ts(&self) -> Timestamp {
        self.children[self.current_index()].ts()
    }

    fn value(&self) -> Option<&[u8]> {
        self.children[self.current_index()].value()
    }
}

/// What one bounded step of a [`VisibleIter`] produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// The next visible entry.
    Entry(VersionedEntry),
    /// The range is exhausted.
    Done,
    /// The step examined its budget of versions without finding an entry; call again.
    Paused,
}

/// Per user key in a range, its newest version at or below a read timestamp, in one direction
/// (see the module docs), found in bounded steps.
#[derive(Debug)]
pub struct VisibleIter<I> {
    inner: I,
    range: KeyRange,
    read_ts: Timestamp,
    direction: Direction,
    started: bool,
    done: bool,
    /// Forward: the inner cursor is still on the entry last yielded.
    advance_first: bool,
    /// Forward: the key last yielded (older versions of it are skipped).
    last_key: Option<Vec<u8>>,
    /// Reverse: the newest visible version seen so far of the key being walked.
    candidate: Option<VersionedEntry>,
}

impl<I: InternalIter> VisibleIter<I> {
    /// A walk of `inner` over `range` at `read_ts` in `direction`; it positions `inner` itself.
    pub fn new(inner: I, range: KeyRange, read_ts: Timestamp, direction: Direction) -> Self {
        let done = range.is_empty();
        VisibleIter {
            inner,
            range,
            read_ts,
            direction,
            started: false,
            done,
            advance_first: false,
            last_key: None,
            candidate: None,
        }
    }

    /// The next visible entry, examining at most `*budget` versions before pausing; each
    /// version examined is taken off `*budget`.
    pub fn step(&mut self, budget: &mut usize) -> Result<Step> {
        if self.done {
            return Ok(Step::Done);
        }
        let result = match self.direction {
            Direction::Forward => self.step_forward(budget),
            Direction::Reverse => self.step_reverse(budget),
        };
        if !matches!(result, Ok(Step::Entry(_)) | Ok(Step::Paused)) {
            self.done = true;
        }
        result
    }

    fn step_forward(&mut self, budget: &mut usize) -> Result<Step> {
        if !self.started {
            self.started = true;
            match &self.range.start {
                Bound::Included(k) | Bound::Excluded(k) => self.inner.seek(k, Timestamp::MAX)?,
                Bound::Unbounded => self.inner.seek_to_first()?,
            }
        }
        if std::mem::take(&mut self.advance_first) {
            self.inner.next()?;
        }
        while *budget > 0 {
            *budget -= 1;
            if !self.inner.valid() {
                return Ok(Step::Done);
            }
            let key = self.inner.key();
            let past_end = match &self.range.end {
                Bound::Included(e) => key > e.as_slice(),
                Bound::Excluded(e) => key >= e.as_slice(),
                Bound::Unbounded => false,
            };
            if past_end {
                return Ok(Step::Done);
            }
            let skip = self.inner.ts() > self.read_ts
                || self.last_key.as_deref() == Some(key)
                || matches!(&self.range.start, Bound::Excluded(s) if s.as_slice() == key);
            if !skip {
                let entry = VersionedEntry {
                    key: key.to_vec(),
                    commit_ts: self.inner.ts(),
                    value: self.inner.value().map(<[u8]>::to_vec),
                };
                let last = self.last_key.get_or_insert_with(Vec::new);
                last.clear();
                last.extend_from_slice(&entry.key);
                self.advance_first = true;
                return Ok(Step::Entry(entry));
            }
            self.inner.next()?;
        }
        Ok(Step::Paused)
    }

    fn step_reverse(&mut self, budget: &mut usize) -> Result<Step> {
        if !self.started {
            self.started = true;
            match &self.range.end {
                Bound::Included(k) => self.inner.seek_for_prev(k, Timestamp::ZERO)?,
                Bound::Excluded(k) => self.inner.seek_for_prev(k, Timestamp::MAX)?,
                Bound::Unbounded => self.inner.seek_to_last()?,
            }
        }
        while *budget > 0 {
            *budget -= 1;
            if !self.inner.valid() {
                return Ok(self.candidate.take().map_or(Step::Done, Step::Entry));
            }
            let key = self.inner.key();
            let before_start = match &self.range.start {
                Bound::Included(s) => key < s.as_slice(),
                Bound::Excluded(s) => key <= s.as_slice(),
                Bound::Unbounded => false,
            };
            if before_start {
                return Ok(self.candidate.take().map_or(Step::Done, Step::Entry));
            }
            if matches!(&self.range.end, Bound::Excluded(e) if key >= e.as_slice()) {
                self.inner.prev()?;
                continue;
            }
            if self.candidate.as_ref().is_some_and(|c| c.key.as_slice() != key) {
                // A new key: the one walked so far is complete.
                return Ok(self.candidate.take().map_or(Step::Done, Step::Entry));
            }
            if self.inner.ts() <= self.read_ts {
                self.candidate = Some(VersionedEntry {
                    key: key.to_vec(),
                    commit_ts: self.inner.ts(),
                    value: self.inner.value().map(<[u8]>::to_vec),
                });
            }
            self.inner.prev()?;
        }
        Ok(Step::Paused)
    }
}

#[cfg(test)]
mod tests;

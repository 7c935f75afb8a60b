//! The copy-free scan behind `StorageEngine::scan_with`: entries are lent to the caller's
//! closure straight from the leaves, under the tree read lock, a batch at a time.
//!
//! Only a key split by the page's shared prefix is assembled (into one reused buffer) and a
//! value in an overflow chain read; nothing is allocated per entry, and the key to resume
//! after is copied only when a batch ends short of the range's end. The lock is released
//! every [`VISIT_BATCH`] entries so that a slow closure delays writers by one batch at most.

use std::{ops::ControlFlow, sync::Arc};

use lightning_core_storage::{
    Result, Timestamp,
    engine::{Direction, EntryRef, KeyRange, Visitor},
};

use super::{Sink, Versions, Walk};
use crate::{
    engine::Shared,
    node::{Node, ValueRef},
    tree::TreeState,
};

/// Entries lent per hold of the tree read lock.
const VISIT_BATCH: usize = 256;
/// Bytes lent per hold of the tree read lock.
const VISIT_BATCH_BYTES: usize = 4 << 20;

struct Lender<'f, 'v> {
    visit: &'f mut Visitor<'v>,
    /// Where keys split by a node prefix are assembled.
    key: Vec<u8>,
    /// The entry lent last (the next batch resumes after its key): its leaf is kept only
    /// when it changes, not per entry.
    last: Option<(Arc<Node>, usize)>,
    /// Entries lent in this batch.
    lent: usize,
    /// The closure returned `Break`.
    stopped: bool,
}

impl Sink for Lender<'_, '_> {
    fn take(
        &mut self,
        state: &TreeState,
        shared: &Shared,
        leaf: &Arc<Node>,
        i: usize,
    ) -> Result<usize> {
        if self.stopped {
            return Ok(0);
        }
        match &mut self.last {
            Some((last, index)) if Arc::ptr_eq(last, leaf) => *index = i,
            last => *last = Some((Arc::clone(leaf), i)),
        }
        // Most nodes of random keys have no shared prefix: the suffix is the whole key.
        let key = if leaf.prefix().is_empty() {
            leaf.suffix(i)
        } else {
            leaf.key_into(i, &mut self.key);
            &self.key
        };
        let commit_ts = Timestamp(leaf.ts(i));
        let chain;
        let value = match leaf.value(i) {
            ValueRef::Inline(value) => Some(value),
            ValueRef::Tombstone => None,
            ValueRef::Overflow { .. } => {
                chain = state.value_of(&shared.store, leaf, i)?;
                chain.as_deref()
            }
        };
        let flow = (self.visit)(EntryRef { key, commit_ts, value });
        self.stopped = flow == ControlFlow::Break(());
        self.lent += 1;
        Ok(key.len() + value.map_or(0, <[u8]>::len))
    }

    fn full(&self, bytes: usize) -> bool {
        self.stopped || self.lent >= VISIT_BATCH || bytes >= VISIT_BATCH_BYTES
    }
}

/// Lends each entry of `range` visible at `read_ts` to `visit`, in `direction` order, until
/// the range ends or `visit` returns `Break`. REQUIRES: no tree lock held by the caller, and
/// `visit` does not call into the engine.
pub(crate) fn visit(
    shared: &Shared,
    range: &KeyRange,
    read_ts: Timestamp,
    direction: Direction,
    visit: &mut Visitor<'_>,
) -> Result<()> {
    let mut walk = Walk::new(read_ts.0, Versions::Visible);
    let mut lender = Lender { visit, key: Vec::new(), last: None, lent: 0, stopped: false };
    // Bounded: every batch that does not end the walk lends at least one entry, and the
    // next batch resumes after it.
    loop {
        lender.lent = 0;
        let filled = match direction {
            Direction::Forward => walk.fill_forward(shared, range, &mut lender),
            Direction::Reverse => walk.fill_reverse(shared, range, &mut lender),
        };
        shared.apply_pins();
        filled?;
        if walk.done || lender.stopped {
            return Ok(());
        }
        let (leaf, i) = lender.last.take().expect("a batch that does not end the walk lends");
        walk.resume = Some((leaf.key(i), 0));
    }
}

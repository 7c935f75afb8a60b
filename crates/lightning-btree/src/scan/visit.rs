//! The scan behind `StorageEngine::scan_with`: a bounded batch of entries is chosen under the
//! tree read lock, the lock is released, and only then are the entries lent to the caller's
//! closure. The closure therefore runs with no engine lock held: it may read or write the
//! database (a `get` inside it cannot deadlock against a waiting writer), and a slow closure
//! delays nobody.
//!
//! Copy-free for inline values: a batch keeps the `Arc`s of the leaves it read (a leaf's
//! contents never change under a holder: writers copy a shared node before changing it) and
//! entry positions in them, and lends each value straight from its leaf. Only a key is
//! assembled (prefix + suffix, into one reused buffer) as it is lent; values in overflow
//! chains are read under the lock, while the chain is certainly live, into one reused buffer.
//! Batches start small and double, so a caller that stops after a few entries walks few.
//! Every hold of the lock examines a bounded number of entries (see
//! [`EXAMINE_LIMIT`](super::EXAMINE_LIMIT)), handed out or not.

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

/// Entries in the first batch; each later batch doubles it up to [`MAX_BATCH`]. Small: a
/// short read costs mostly the entries it walks (a cache miss each on a cold leaf), and a
/// batch continues without a descent when the tree did not change.
const FIRST_BATCH: usize = 4;
/// Entries per hold of the tree read lock, at most.
const MAX_BATCH: usize = 512;
/// Bytes per hold of the tree read lock (a batch always takes at least one entry).
const MAX_BATCH_BYTES: usize = 1 << 20;

/// One entry of a batch: entry `index` of `leaves[leaf]`.
struct Slot {
    leaf: usize,
    index: usize,
    /// Where its value is in [`Lender::overflow`] if it lives in an overflow chain.
    overflow: (usize, usize),
}

/// The batch: the leaves it read and the entries chosen in them, lent after the lock is
/// released.
struct Lender {
    leaves: Vec<Arc<Node>>,
    slots: Vec<Slot>,
    /// Overflow values of the batch, read under the lock.
    overflow: Vec<u8>,
    /// Where a key is assembled as it is lent (reused).
    key: Vec<u8>,
    limit: usize,
}

impl Sink for Lender {
    fn take(
        &mut self,
        state: &TreeState,
        shared: &Shared,
        leaf: &Arc<Node>,
        i: usize,
    ) -> Result<usize> {
        if !self.leaves.last().is_some_and(|last| Arc::ptr_eq(last, leaf)) {
            self.leaves.push(Arc::clone(leaf));
        }
        let slot = Slot { leaf: self.leaves.len() - 1, index: i, overflow: (0, 0) };
        let value_len = match leaf.value(i) {
            ValueRef::Overflow { .. } => {
                let start = self.overflow.len();
                state.value_into(&shared.store, leaf, i, &mut self.overflow)?;
                let end = self.overflow.len();
                self.slots.push(Slot { overflow: (start, end), ..slot });
                end - start
            }
            ValueRef::Inline(_) | ValueRef::Tombstone => {
                self.slots.push(slot);
                leaf.payload(i).len()
            }
        };
        Ok(leaf.suffix(i).len() + value_len)
    }

    fn full(&self, bytes: usize) -> bool {
        self.slots.len() >= self.limit || bytes >= MAX_BATCH_BYTES
    }
}

impl Lender {
    /// Lends the batch's entries to `visit`; false if it returned `Break`.
    fn lend(&mut self, visit: &mut Visitor<'_>) -> bool {
        for slot in &self.slots {
            let node = &self.leaves[slot.leaf];
            node.key_into(slot.index, &mut self.key);
            let value = match node.value(slot.index) {
                ValueRef::Inline(value) => Some(value),
                ValueRef::Tombstone => None,
                ValueRef::Overflow { .. } => Some(&self.overflow[slot.overflow.0..slot.overflow.1]),
            };
            let entry =
                EntryRef { key: &self.key, commit_ts: Timestamp(node.ts(slot.index)), value };
            if visit(entry) == ControlFlow::Break(()) {
                return false;
            }
        }
        true
    }

    /// Drops the batch (its leaves too: a writer need not copy a leaf nobody reads).
    fn clear(&mut self) {
        self.leaves.clear();
        self.slots.clear();
        self.overflow.clear();
    }
}

/// Lends each entry of `range` visible at `read_ts` to `visit`, in `direction` order, until
/// the range ends or `visit` returns `Break`. `visit` runs with no engine lock held (it may
/// call into the engine). REQUIRES: no tree lock held by the caller.
pub(crate) fn visit(
    shared: &Shared,
    range: &KeyRange,
    read_ts: Timestamp,
    direction: Direction,
    visit: &mut Visitor<'_>,
) -> Result<()> {
    let mut walk = Walk::new(read_ts.0, Versions::Visible);
    let mut lender = Lender {
        leaves: Vec::with_capacity(4),
        slots: Vec::with_capacity(FIRST_BATCH),
        overflow: Vec::new(),
        key: Vec::with_capacity(64),
        limit: FIRST_BATCH,
    };
    // Bounded: every batch that does not end the walk examines at least one entry, and the
    // next batch resumes after it.
    loop {
        lender.clear();
        let filled = match direction {
            Direction::Forward => walk.fill_forward(shared, range, &mut lender),
            Direction::Reverse => walk.fill_reverse(shared, range, &mut lender),
        };
        shared.apply_pins();
        filled?;
        if !lender.lend(visit) || walk.done {
            return Ok(());
        }
        lender.limit = (lender.limit * 2).min(MAX_BATCH);
    }
}

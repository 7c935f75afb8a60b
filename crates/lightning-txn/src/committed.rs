//! The committed-key table of the oracle: for each key, the timestamp of the last commit that
//! wrote it (what conflict detection reads), plus every write in timestamp order, so that
//! pruning what fell to or below the GC horizon takes the oldest writes off the front and never
//! looks at the ones it keeps. A commit costs O(log n) per key it writes however long an old
//! snapshot pins the horizon; pruning is amortised (each write is pruned once) and bounded per
//! commit.
//!
//! While no snapshot is registered, a commit's keys are only copied into one block
//! ([`CommittedTable::record_block`]) and indexed when a conflict check first needs them
//! ([`CommittedTable::index`]); with no snapshot to check against, the next commit prunes the
//! block whole, so plain writes never pay for the index (a key allocation and a map insert and
//! removal each). A snapshot registered meanwhile finds the few blocks of the commits then in
//! flight and indexes them when it validates; once one is registered, commits index at once.
//!
//! The number of writes kept ([`CommittedTable::retained`]) is the number of key versions
//! committed above the horizon: the bound `TxnOptions::max_retained_versions` applies to it.

use std::{collections::BTreeMap, collections::VecDeque, ops::Bound, sync::Arc};

use lightning_core_storage::Timestamp;

/// Writes a commit may prune besides twice its own: enough that the table shrinks back after
/// an old snapshot is released, small enough that no single commit does unbounded work.
const PRUNE_STEP: usize = 64;

/// The keys of one commit, not indexed yet: concatenated, with the end offset of each.
#[derive(Debug)]
struct Block {
    ts: Timestamp,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Block {
    fn keys(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(self.ends.iter().copied()).map(|(start, end)| &self.bytes[start..end])
    }
}

/// See the module docs. REQUIRES: used under the commit lock only, with timestamps recorded
/// in increasing order (they are assigned under that lock).
#[derive(Debug, Default)]
pub(crate) struct CommittedTable {
    /// Key → timestamp of the last commit that wrote it (above the pruned horizon).
    latest: BTreeMap<Arc<[u8]>, Timestamp>,
    /// Every indexed write kept, oldest first (timestamps never decrease along it); a key's
    /// bytes are shared with `latest`.
    writes: VecDeque<(Timestamp, Arc<[u8]>)>,
    /// Commits recorded but not indexed, oldest first, every one newer than all of `writes`.
    blocks: VecDeque<Block>,
    /// Keys in `blocks`.
    block_keys: usize,
    /// Writes examined by pruning since the store opened (each is examined once; a block
    /// pruned whole counts once).
    examined: u64,
}

impl CommittedTable {
    /// Records that the commit at `ts` writes `key`, indexed at once. REQUIRES: no block is
    /// waiting ([`CommittedTable::index`] first).
    pub fn record(&mut self, key: &[u8], ts: Timestamp) {
        debug_assert!(self.blocks.is_empty(), "blocks are older than what is recorded now");
        debug_assert!(self.writes.back().is_none_or(|(last, _)| *last <= ts), "out of order");
        let shared = match self.latest.get_key_value(key) {
            Some((shared, _)) => Arc::clone(shared),
            None => Arc::from(key),
        };
        self.latest.insert(Arc::clone(&shared), ts);
        self.writes.push_back((ts, shared));
    }

    /// Records that the commit at `ts` writes `keys`, as one block indexed only when a check
    /// needs it; returns how many keys. For commits made while no snapshot is registered.
    pub fn record_block<'k>(
        &mut self,
        keys: impl Iterator<Item = &'k [u8]>,
        ts: Timestamp,
    ) -> usize {
        let mut block = Block { ts, bytes: Vec::new(), ends: Vec::new() };
        for key in keys {
            block.bytes.extend_from_slice(key);
            block.ends.push(block.bytes.len());
        }
        let count = block.ends.len();
        self.block_keys += count;
        self.blocks.push_back(block);
        count
    }

    /// Indexes every waiting block, oldest first: after it, [`CommittedTable::latest`] and
    /// [`CommittedTable::first_changed_in`] see every write kept.
    pub fn index(&mut self) {
        while let Some(block) = self.blocks.pop_front() {
            self.block_keys -= block.ends.len();
            for key in block.keys() {
                let shared = match self.latest.get_key_value(key) {
                    Some((shared, _)) => Arc::clone(shared),
                    None => Arc::from(key),
                };
                self.latest.insert(Arc::clone(&shared), block.ts);
                self.writes.push_back((block.ts, shared));
            }
        }
    }

    /// The timestamp of the last kept commit that wrote `key`. REQUIRES: indexed.
    pub fn latest(&self, key: &[u8]) -> Option<Timestamp> {
        debug_assert!(self.blocks.is_empty(), "index() before a conflict check");
        self.latest.get(key).copied()
    }

    /// The first key in `(start, end)` whose last kept commit is above `after`. REQUIRES:
    /// indexed.
    pub fn first_changed_in(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        after: Timestamp,
    ) -> Option<&[u8]> {
        debug_assert!(self.blocks.is_empty(), "index() before a conflict check");
        self.latest
            .range::<[u8], _>((start, end))
            .find(|(_, ts)| **ts > after)
            .map(|(key, _)| &**key)
    }

    /// Writes kept (versions committed above the pruned horizon).
    pub fn retained(&self) -> usize {
        self.writes.len() + self.block_keys
    }

    /// Distinct keys in the table. REQUIRES: indexed.
    pub fn keys(&self) -> usize {
        self.latest.len()
    }

    /// Writes examined by pruning since the store opened.
    pub fn examined(&self) -> u64 {
        self.examined
    }

    /// The timestamp at or below which writes must be pruned so that at most `max` remain:
    /// `None` if at most `max` are kept now.
    pub fn prune_point_for(&self, max: usize) -> Option<Timestamp> {
        let excess = self.retained().checked_sub(max).filter(|excess| *excess > 0)?;
        if let Some((ts, _)) = self.writes.get(excess - 1) {
            return Some(*ts);
        }
        let mut left = excess - self.writes.len();
        for block in &self.blocks {
            if left <= block.ends.len() {
                return Some(block.ts);
            }
            left -= block.ends.len();
        }
        None
    }

    /// Drops writes at or below `horizon` (no live transaction can conflict with them), oldest
    /// first, at most `2 * written + PRUNE_STEP` of them (a block counts one): a commit that
    /// wrote `written` keys prunes more than it adds while anything is prunable, and never
    /// does unbounded work.
    pub fn prune(&mut self, horizon: Timestamp, written: usize) {
        let mut budget = written.saturating_mul(2).saturating_add(PRUNE_STEP);
        while budget > 0 {
            match self.writes.front() {
                Some((ts, _)) if *ts <= horizon => {}
                Some(_) => return, // the blocks are newer still
                None => break,
            }
            let Some((ts, key)) = self.writes.pop_front() else { return };
            self.examined += 1;
            budget -= 1;
            // Only the key's last write owns its entry; older writes of it just leave.
            if self.latest.get(&*key) == Some(&ts) {
                self.latest.remove(&*key);
            }
        }
        while budget > 0 && self.blocks.front().is_some_and(|block| block.ts <= horizon) {
            if let Some(block) = self.blocks.pop_front() {
                self.block_keys -= block.ends.len();
                self.examined += 1;
                budget -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_keeps_what_is_above_the_horizon_and_is_bounded() {
        let mut table = CommittedTable::default();
        for ts in 1..=200u64 {
            table.record(&(ts % 10).to_be_bytes(), Timestamp(ts));
        }
        assert_eq!((table.retained(), table.keys()), (200, 10));
        assert_eq!(table.prune_point_for(150), Some(Timestamp(50)));
        assert_eq!(table.prune_point_for(200), None);
        table.prune(Timestamp(195), 0);
        assert_eq!(table.examined(), PRUNE_STEP as u64, "bounded by the budget");
        table.prune(Timestamp(195), 1000);
        assert_eq!(table.retained(), 5);
        assert_eq!(table.keys(), 5, "keys whose last write is above 195");
        assert_eq!(table.latest(&6u64.to_be_bytes()), Some(Timestamp(196)));
        assert_eq!(table.latest(&5u64.to_be_bytes()), None);
        let changed = table.first_changed_in(Bound::Unbounded, Bound::Unbounded, Timestamp(197));
        assert_eq!(changed, Some(0u64.to_be_bytes().as_slice()), "key 0 was written at 200");
        let from_one = Bound::Included(1u64.to_be_bytes());
        let changed = table.first_changed_in(
            from_one.as_ref().map(|k| k.as_slice()),
            Bound::Unbounded,
            Timestamp(197),
        );
        assert_eq!(changed, Some(8u64.to_be_bytes().as_slice()));
    }

    #[test]
    fn blocks_are_pruned_whole_and_indexed_when_a_check_needs_them() {
        let mut table = CommittedTable::default();
        let keys = |ts: u64| [ts.to_be_bytes(), (ts + 100).to_be_bytes()];
        for ts in 1..=4u64 {
            let batch = keys(ts);
            assert_eq!(table.record_block(batch.iter().map(|k| k.as_slice()), Timestamp(ts)), 2);
        }
        assert_eq!(table.retained(), 8);
        assert_eq!(table.prune_point_for(5), Some(Timestamp(2)), "3 too many: up to commit 2");
        table.prune(Timestamp(2), 0);
        assert_eq!((table.retained(), table.examined()), (4, 2), "two blocks, one step each");
        table.index();
        assert_eq!(table.keys(), 4);
        assert_eq!(table.latest(&3u64.to_be_bytes()), Some(Timestamp(3)));
        assert_eq!(table.latest(&104u64.to_be_bytes()), Some(Timestamp(4)));
        assert_eq!(table.latest(&1u64.to_be_bytes()), None, "pruned with its block");
        table.record(&3u64.to_be_bytes(), Timestamp(5));
        assert_eq!(table.latest(&3u64.to_be_bytes()), Some(Timestamp(5)));
        table.prune(Timestamp(4), 0);
        assert_eq!((table.retained(), table.keys()), (1, 1), "only commit 5's write is left");
    }
}

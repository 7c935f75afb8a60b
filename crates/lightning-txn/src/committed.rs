//! The committed-key table of the oracle: for each key, the timestamp of the last commit that
//! wrote it (what conflict detection reads), plus every write in timestamp order, so that
//! pruning what fell to or below the GC horizon takes the oldest writes off the front and never
//! looks at the ones it keeps. A commit costs O(log n) per key it writes however long an old
//! snapshot pins the horizon; pruning is amortised (each write is pruned once) and bounded per
//! commit.
//!
//! The number of writes kept ([`CommittedTable::retained`]) is the number of key versions
//! committed above the horizon: the bound `TxnOptions::max_retained_versions` applies to it.

use std::{collections::BTreeMap, collections::VecDeque, ops::Bound, sync::Arc};

use lightning_core_storage::Timestamp;

/// Writes a commit may prune besides twice its own: enough that the table shrinks back after
/// an old snapshot is released, small enough that no single commit does unbounded work.
const PRUNE_STEP: usize = 64;

/// See the module docs. REQUIRES: used under the commit lock only, with timestamps recorded
/// in increasing order (they are assigned under that lock).
#[derive(Debug, Default)]
pub(crate) struct CommittedTable {
    /// Key → timestamp of the last commit that wrote it (above the pruned horizon).
    latest: BTreeMap<Arc<[u8]>, Timestamp>,
    /// Every write kept, oldest first (timestamps never decrease along it); a key's bytes are
    /// shared with `latest`.
    writes: VecDeque<(Timestamp, Arc<[u8]>)>,
    /// Writes examined by pruning since the store opened (each is examined once).
    examined: u64,
}

impl CommittedTable {
    /// Records that the commit at `ts` writes `key`.
    pub fn record(&mut self, key: &[u8], ts: Timestamp) {
        debug_assert!(self.writes.back().is_none_or(|(last, _)| *last <= ts), "out of order");
        let shared = match self.latest.get_key_value(key) {
            Some((shared, _)) => Arc::clone(shared),
            None => Arc::from(key),
        };
        self.latest.insert(Arc::clone(&shared), ts);
        self.writes.push_back((ts, shared));
    }

    /// The timestamp of the last kept commit that wrote `key`.
    pub fn latest(&self, key: &[u8]) -> Option<Timestamp> {
        self.latest.get(key).copied()
    }

    /// The first key in `(start, end)` whose last kept commit is above `after`.
    pub fn first_changed_in(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        after: Timestamp,
    ) -> Option<&[u8]> {
        self.latest
            .range::<[u8], _>((start, end))
            .find(|(_, ts)| **ts > after)
            .map(|(key, _)| &**key)
    }

    /// Writes kept (versions committed above the pruned horizon).
    #[cfg(test)]
    pub fn retained(&self) -> usize {
        self.writes.len()
    }

    /// Distinct keys in the table.
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
        let excess = self.writes.len().checked_sub(max).filter(|excess| *excess > 0)?;
        self.writes.get(excess - 1).map(|(ts, _)| *ts)
    }

    /// Drops writes at or below `horizon` (no live transaction can conflict with them), oldest
    /// first, at most `2 * written + PRUNE_STEP` of them: a commit that wrote `written` keys
    /// prunes more than it adds while anything is prunable, and never does unbounded work.
    pub fn prune(&mut self, horizon: Timestamp, written: usize) {
        let budget = written.saturating_mul(2).saturating_add(PRUNE_STEP);
        for _ in 0..budget {
            match self.writes.front() {
                Some((ts, _)) if *ts <= horizon => {}
                _ => return,
            }
            let Some((ts, key)) = self.writes.pop_front() else { return };
            self.examined += 1;
            // Only the key's last write owns its entry; older writes of it just leave.
            if self.latest.get(&*key) == Some(&ts) {
                self.latest.remove(&*key);
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
}

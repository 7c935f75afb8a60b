//! The wait-for graph: an edge `a → b` means transaction `a` waits for a lock `b` holds or is
//! queued for ahead of it. A cycle is a deadlock.

use std::collections::{HashMap, HashSet};

use crate::TxnId;

/// Edges of the wait-for graph, by waiter.
#[derive(Debug, Default)]
pub(super) struct WaitForGraph {
    waits_for: HashMap<TxnId, Vec<TxnId>>,
}

impl WaitForGraph {
    /// Replaces `txn`'s outgoing edges.
    pub(super) fn set_waits(&mut self, txn: TxnId, blockers: &[TxnId]) {
        self.waits_for.insert(txn, blockers.to_vec());
    }

    /// `txn` waits for nobody now.
    pub(super) fn clear_waits(&mut self, txn: TxnId) {
        self.waits_for.remove(&txn);
    }

    /// `txn` released its locks: drop its edges and every edge to it, so a stale edge cannot
    /// make a false cycle before its waiters wake and recompute theirs.
    pub(super) fn remove(&mut self, txn: TxnId) {
        self.waits_for.remove(&txn);
        for blockers in self.waits_for.values_mut() {
            blockers.retain(|blocker| *blocker != txn);
        }
    }

    /// A cycle through `start`, as the list of transactions on it, if there is one. The search
    /// visits each transaction at most once, so it is bounded by the number of waiters.
    pub(super) fn cycle_through(&self, start: TxnId) -> Option<Vec<TxnId>> {
        let mut path = vec![start];
        let mut visited = HashSet::new();
        self.search(start, start, &mut path, &mut visited).then_some(path)
    }

    fn search(
        &self,
        start: TxnId,
        at: TxnId,
        path: &mut Vec<TxnId>,
        visited: &mut HashSet<TxnId>,
    ) -> bool {
        for &next in self.waits_for.get(&at).into_iter().flatten() {
            if next == start {
                return true;
            }
            if visited.insert(next) {
                path.push(next);
                if self.search(start, next, path, visited) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cycles_and_only_cycles() {
        let mut graph = WaitForGraph::default();
        graph.set_waits(TxnId(1), &[TxnId(2)]);
        graph.set_waits(TxnId(2), &[TxnId(3)]);
        assert_eq!(graph.cycle_through(TxnId(1)), None, "a chain is not a cycle");
        graph.set_waits(TxnId(3), &[TxnId(1)]);
        assert_eq!(graph.cycle_through(TxnId(1)), Some(vec![TxnId(1), TxnId(2), TxnId(3)]));
        graph.clear_waits(TxnId(3));
        assert_eq!(graph.cycle_through(TxnId(2)), None);
        graph.set_waits(TxnId(4), &[TxnId(4)]);
        assert_eq!(graph.cycle_through(TxnId(4)), Some(vec![TxnId(4)]), "self-wait");
    }
}

//! The lock manager: shared and exclusive key locks for pessimistic transactions, granted in
//! FIFO order, with a timeout and a wait-for-graph deadlock detector.
//!
//! A request that cannot be granted joins the key's queue; a request is granted only when it is
//! compatible with the holders *and* no incompatible request is queued ahead of it (fairness: a
//! stream of readers cannot starve a writer). Before waiting, the requester adds edges "I wait
//! for X" to the wait-for graph; if that closes a cycle, the requester is the victim and gets
//! [`Error::Deadlock`] at once — not after its timeout.

mod graph;

use std::{
    collections::{HashMap, VecDeque},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use parking_lot::{Condvar, Mutex};

use crate::{Error, Result, TxnId};
use graph::WaitForGraph;

/// How a key is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Many holders at once; excludes exclusive holders.
    Shared,
    /// One holder; excludes everyone else.
    Exclusive,
}

impl LockMode {
    fn compatible(self, other: LockMode) -> bool {
        self == LockMode::Shared && other == LockMode::Shared
    }
}

#[derive(Debug, Default)]
struct KeyLock {
    holders: HashMap<TxnId, LockMode>,
    queue: VecDeque<(TxnId, LockMode)>,
}

impl KeyLock {
    /// The transactions `txn` would wait for if it asked for `mode` now. A holder upgrading
    /// (shared to exclusive) waits only for the other holders, not for requests queued behind
    /// its own lock: they wait for it anyway, so queueing it after them would be a deadlock.
    fn blockers(&self, txn: TxnId, mode: LockMode) -> Vec<TxnId> {
        let mut blockers: Vec<TxnId> = self
            .holders
            .iter()
            .filter(|(holder, held)| **holder != txn && !mode.compatible(**held))
            .map(|(holder, _)| *holder)
            .collect();
        if self.holders.contains_key(&txn) {
            return blockers;
        }
        for (waiter, wanted) in &self.queue {
            if *waiter == txn {
                break;
            }
            if !mode.compatible(*wanted) {
                blockers.push(*waiter);
            }
        }
        blockers
    }

    fn held_mode(&self, txn: TxnId) -> Option<LockMode> {
        self.holders.get(&txn).copied()
    }
}

#[derive(Debug, Default)]
struct Table {
    keys: HashMap<Vec<u8>, KeyLock>,
    graph: WaitForGraph,
    held_total: usize,
}

/// Counters of the lock manager.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LockStats {
    /// Locks held now.
    pub held: usize,
    /// Requests waiting now.
    pub waiting: usize,
}

/// Key locks shared by all transactions of a store.
#[derive(Debug, Default)]
pub struct LockManager {
    table: Mutex<Table>,
    changed: Condvar,
    /// A copy of `Table::held_total`, stored under the table lock: committers read it without
    /// the lock to skip lock checks when nobody holds a lock.
    held_any: AtomicUsize,
}

impl LockManager {
    /// An empty lock table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Locks `key` for `txn` in `mode`, waiting up to `timeout`. Re-locking a held key is a
    /// no-op; asking for exclusive while holding shared upgrades.
    pub fn lock(&self, txn: TxnId, key: &[u8], mode: LockMode, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut table = self.table.lock();
        let entry = table.keys.entry(key.to_vec()).or_default();
        match (entry.held_mode(txn), mode) {
            (Some(LockMode::Exclusive), _) | (Some(LockMode::Shared), LockMode::Shared) => {
                return Ok(());
            }
            _ => {}
        }
        entry.queue.push_back((txn, mode));
        loop {
            let entry = table.keys.get_mut(key).expect("a queued key stays in the table");
            let blockers = entry.blockers(txn, mode);
            if blockers.is_empty() {
                entry.queue.retain(|(waiter, _)| *waiter != txn);
                if entry.holders.insert(txn, mode).is_none() {
                    table.held_total += 1;
                    self.held_any.store(table.held_total, Ordering::SeqCst);
                }
                table.graph.clear_waits(txn);
                // Others queued behind us may now be grantable (shared after shared).
                self.changed.notify_all();
                return Ok(());
            }
            table.graph.set_waits(txn, &blockers);
            if let Some(cycle) = table.graph.cycle_through(txn) {
                self.abandon(&mut table, txn, key);
                return Err(Error::Deadlock { victim: txn, cycle });
            }
            if self.changed.wait_until(&mut table, deadline).timed_out() {
                let entry = table.keys.get(key).expect("queued key");
                if !entry.blockers(txn, mode).is_empty() {
                    self.abandon(&mut table, txn, key);
                    return Err(Error::LockTimeout { key: key.to_vec(), waited: timeout });
                }
            }
        }
    }

    /// Removes `txn`'s request for `key` from the queue after a deadlock or timeout.
    /// REQUIRES: the table lock is held (passed in).
    fn abandon(&self, table: &mut Table, txn: TxnId, key: &[u8]) {
        if let Some(entry) = table.keys.get_mut(key) {
            entry.queue.retain(|(waiter, _)| *waiter != txn);
            if entry.holders.is_empty() && entry.queue.is_empty() {
                table.keys.remove(key);
            }
        }
        table.graph.clear_waits(txn);
        self.changed.notify_all();
    }

    /// Releases every lock `txn` holds on `keys`.
    pub fn release_all<'k>(&self, txn: TxnId, keys: impl IntoIterator<Item = &'k [u8]>) {
        let mut table = self.table.lock();
        let mut released = false;
        for key in keys {
            if let Some(entry) = table.keys.get_mut(key) {
                if entry.holders.remove(&txn).is_some() {
                    table.held_total -= 1;
                    released = true;
                }
                let entry = table.keys.get(key).expect("present");
                if entry.holders.is_empty() && entry.queue.is_empty() {
                    table.keys.remove(key);
                }
            }
        }
        table.graph.remove(txn);
        self.held_any.store(table.held_total, Ordering::SeqCst);
        if released {
            self.changed.notify_all();
        }
    }

    /// The mode in which `txn` holds `key`, if it does.
    pub fn held(&self, txn: TxnId, key: &[u8]) -> Option<LockMode> {
        self.table.lock().keys.get(key).and_then(|entry| entry.held_mode(txn))
    }

    /// True if some transaction other than `txn` holds `key`.
    pub fn held_by_other(&self, txn: TxnId, key: &[u8]) -> bool {
        self.table.lock().keys.get(key).is_some_and(|e| e.holders.keys().any(|h| *h != txn))
    }

    /// The first of `keys` that a transaction other than `txn` holds a lock on, if any: one
    /// atomic load when no lock is held anywhere (the committers' fast path).
    pub fn first_held_by_other<'k>(
        &self,
        txn: TxnId,
        mut keys: impl Iterator<Item = &'k [u8]>,
    ) -> Option<&'k [u8]> {
        if !self.any_held() {
            return None;
        }
        let table = self.table.lock();
        keys.find(|key| table.keys.get(*key).is_some_and(|e| e.holders.keys().any(|h| *h != txn)))
    }

    /// True if any lock is held: lets committers skip lock checks when nobody locks. An atomic
    /// load (no lock): a lock granted before a committer takes the commit lock is seen by it.
    pub fn any_held(&self) -> bool {
        self.held_any.load(Ordering::SeqCst) > 0
    }

    /// Counters.
    pub fn stats(&self) -> LockStats {
        let table = self.table.lock();
        LockStats {
            held: table.held_total,
            waiting: table.keys.values().map(|entry| entry.queue.len()).sum(),
        }
    }
}

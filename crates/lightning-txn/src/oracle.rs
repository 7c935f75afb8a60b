//! The timestamp oracle: commit order, visibility, conflict detection and the GC horizon.
//!
//! - Commit timestamps are handed out under the *commit lock*, in the same order as the WAL
//!   records are appended, so log order and timestamp order agree: a sync that makes a commit
//!   durable makes every earlier commit durable too.
//! - A commit becomes *visible* (new snapshots read at or above its timestamp) only once it and
//!   every earlier commit are published: durable as its durability level asks, and applied to
//!   the engine. `visible` is the highest timestamp with that property.
//! - Conflicts are found in the *committed table*: for each key, the timestamp of the last
//!   commit that wrote it, recorded when the timestamp is assigned (so commits still being
//!   applied count). Entries at or below the GC horizon can conflict with no live transaction and
//!   are pruned.
//! - The GC horizon is the oldest registered snapshot, or `visible` when there is none.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    time::Instant,
};

use lightning_core_storage::{Timestamp, engine::KeyRange};
use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::{Error, Result};

/// Prune the committed table when it holds more keys than this.
const PRUNE_THRESHOLD: usize = 16 * 1024;

/// What a committing transaction asks the oracle to check.
#[derive(Debug, Default)]
pub(crate) struct Validation<'a> {
    /// The snapshot the transaction read from.
    pub start_ts: Timestamp,
    /// Keys it writes (first committer wins on these).
    pub writes: Vec<&'a [u8]>,
    /// Keys it read (serializable only).
    pub reads: Vec<&'a [u8]>,
    /// Ranges it scanned (serializable only).
    pub ranges: Vec<&'a KeyRange>,
}

/// State guarded by the commit lock.
#[derive(Debug)]
pub(crate) struct CommitState {
    next_ts: u64,
    in_flight: BTreeSet<u64>,
    committed: BTreeMap<Vec<u8>, Timestamp>,
}

#[derive(Debug, Default)]
struct Snapshots {
    /// Registered snapshots: timestamp → (count, when the first of them was taken).
    active: BTreeMap<Timestamp, (usize, Instant)>,
}

/// The oracle of one store.
#[derive(Debug)]
pub(crate) struct Oracle {
    visible: AtomicU64,
    commit: Mutex<CommitState>,
    published: Condvar,
    snapshots: Mutex<Snapshots>,
    /// Set when the store is poisoned: waiters for visibility give up.
    poisoned: AtomicBool,
    /// Plain reads in progress (reads at `visible` without a registered snapshot), counted
    /// per epoch: garbage collection waits for the epoch it closes to drain (a grace period),
    /// so it never drops a version such a read is about to look up.
    plain_readers: [AtomicU64; 2],
    epoch: AtomicU64,
}

/// A plain read in progress (see [`Oracle::plain_read`]).
pub(crate) struct PlainRead<'a> {
    oracle: &'a Oracle,
    slot: usize,
    ts: Timestamp,
}

impl PlainRead<'_> {
    /// The timestamp to read at.
    pub fn timestamp(&self) -> Timestamp {
        self.ts
    }
}

impl Drop for PlainRead<'_> {
    fn drop(&mut self) {
        self.oracle.plain_readers[self.slot].fetch_sub(1, Ordering::SeqCst);
    }
}

impl Oracle {
    /// An oracle whose next commit gets a timestamp above `last_committed`.
    pub fn new(last_committed: Timestamp) -> Self {
        Oracle {
            visible: AtomicU64::new(last_committed.0),
            commit: Mutex::new(CommitState {
                next_ts: last_committed.0 + 1,
                in_flight: BTreeSet::new(),
                committed: BTreeMap::new(),
            }),
            published: Condvar::new(),
            snapshots: Mutex::new(Snapshots::default()),
            poisoned: AtomicBool::new(false),
            plain_readers: [AtomicU64::new(0), AtomicU64::new(0)],
            epoch: AtomicU64::new(0),
        }
    }

    /// Starts a read of the latest visible data without registering a snapshot (cheap: two
    /// atomic operations). Hold the returned guard until the engine lookup is done.
    pub fn plain_read(&self) -> PlainRead<'_> {
        let slot = (self.epoch.load(Ordering::SeqCst) & 1) as usize;
        self.plain_readers[slot].fetch_add(1, Ordering::SeqCst);
        // Loaded after joining the epoch: a GC that has already waited for this epoch chose
        // its horizon before, and `visible` only grows, so this timestamp is at or above it.
        PlainRead { oracle: self, slot, ts: self.visible() }
    }

    /// The horizon garbage collection may use now: [`Oracle::horizon`], after a grace period
    /// that lets every plain read that might have loaded an older `visible` finish.
    pub fn horizon_for_gc(&self) -> Timestamp {
        let horizon = self.horizon();
        let closing = (self.epoch.fetch_add(1, Ordering::SeqCst) & 1) as usize;
        while self.plain_readers[closing].load(Ordering::SeqCst) != 0 {
            std::thread::yield_now();
        }
        horizon
    }

    /// Marks the store poisoned and wakes everyone waiting for visibility.
    pub fn poison(&self) {
        self.poisoned.store(true, Ordering::SeqCst);
        let _state = self.commit.lock();
        self.published.notify_all();
    }

    /// The highest timestamp whose commit and every earlier one is published.
    pub fn visible(&self) -> Timestamp {
        Timestamp(self.visible.load(Ordering::Acquire))
    }

    /// Takes the commit lock. REQUIRES: held only for validation, timestamp assignment and the
    /// WAL append (never across an fsync), so commits stay concurrent where it matters.
    pub fn lock_commit(&self) -> MutexGuard<'_, CommitState> {
        self.commit.lock()
    }

    /// Checks `validation` against commits after its snapshot. REQUIRES: commit lock held.
    pub fn validate(&self, state: &CommitState, validation: &Validation<'_>) -> Result<()> {
        let newer =
            |key: &[u8]| state.committed.get(key).is_some_and(|ts| *ts > validation.start_ts);
        if let Some(key) = validation.writes.iter().find(|key| newer(key)) {
            return Err(Error::Conflict {
                key: Some(key.to_vec()),
                reason: "write-write: another transaction committed this key after this one began",
            });
        }
        if let Some(key) = validation.reads.iter().find(|key| newer(key)) {
            return Err(Error::Conflict {
                key: Some(key.to_vec()),
                reason: "read-write: a key this transaction read was changed by a later commit",
            });
        }
        for range in validation.ranges.iter().filter(|range| !range.is_empty()) {
            let (start, end) = range.as_slices();
            let changed = state
                .committed
                .range::<[u8], _>((start, end))
                .find(|(_, ts)| **ts > validation.start_ts);
            if let Some((key, _)) = changed {
                return Err(Error::Conflict {
                    key: Some(key.clone()),
                    reason: "predicate: a range this transaction scanned was changed by a later commit",
                });
            }
        }
        Ok(())
    }

    /// Assigns the next commit timestamp to a commit writing `keys`. REQUIRES: commit lock held.
    pub fn assign<'k>(
        &self,
        state: &mut CommitState,
        keys: impl Iterator<Item = &'k [u8]>,
    ) -> Timestamp {
        let ts = Timestamp(state.next_ts);
        state.next_ts += 1;
        state.in_flight.insert(ts.0);
        for key in keys {
            state.committed.insert(key.to_vec(), ts);
        }
        if state.committed.len() > PRUNE_THRESHOLD {
            let horizon = self.horizon();
            state.committed.retain(|_, committed| *committed > horizon);
        }
        ts
    }

    /// The last commit timestamp handed out (published or not). Taken under the commit lock,
    /// so it covers every commit that has passed its lock check.
    pub fn last_assigned(&self) -> Timestamp {
        Timestamp(self.commit.lock().next_ts - 1)
    }

    /// Marks `ts` as published (durable as asked and applied, or failed) and advances
    /// `visible` past every published timestamp.
    pub fn publish(&self, ts: Timestamp) {
        let mut state = self.commit.lock();
        state.in_flight.remove(&ts.0);
        let visible = match state.in_flight.first() {
            Some(first) => first - 1,
            None => state.next_ts - 1,
        };
        self.visible.fetch_max(visible, Ordering::AcqRel);
        drop(state);
        self.published.notify_all();
    }

    /// Waits until `ts` is visible, so a commit that returns is seen by its caller's next read.
    /// Fails if the store is poisoned meanwhile (an earlier commit failed and will never be
    /// published).
    pub fn wait_visible(&self, ts: Timestamp) -> Result<()> {
        let mut state = self.commit.lock();
        while self.visible() < ts {
            if self.poisoned.load(Ordering::SeqCst) {
                return Err(Error::Poisoned {
                    reason: "an earlier commit failed; this one was applied but not published"
                        .into(),
                });
            }
            self.published.wait(&mut state);
        }
        Ok(())
    }

    /// Registers a snapshot at the current visible timestamp and returns it; it holds the GC
    /// horizon down until [`Oracle::release_snapshot`].
    pub fn register_snapshot(&self) -> Timestamp {
        let mut snapshots = self.snapshots.lock();
        let ts = self.visible();
        snapshots.active.entry(ts).or_insert((0, Instant::now())).0 += 1;
        ts
    }

    /// Adds a hold on an already registered snapshot timestamp (for iterators that outlive
    /// their snapshot handle). REQUIRES: `ts` is registered now.
    pub fn retain_snapshot(&self, ts: Timestamp) {
        let mut snapshots = self.snapshots.lock();
        debug_assert!(snapshots.active.contains_key(&ts), "retain of an unregistered snapshot");
        snapshots.active.entry(ts).or_insert((0, Instant::now())).0 += 1;
    }

    /// Releases a snapshot taken by [`Oracle::register_snapshot`].
    pub fn release_snapshot(&self, ts: Timestamp) {
        let mut snapshots = self.snapshots.lock();
        if let Some((count, _)) = snapshots.active.get_mut(&ts) {
            *count -= 1;
            if *count == 0 {
                snapshots.active.remove(&ts);
            }
        }
    }

    /// The oldest timestamp any live snapshot may read at: versions no read at or above it can
    /// see may be dropped.
    pub fn horizon(&self) -> Timestamp {
        let snapshots = self.snapshots.lock();
        snapshots.active.keys().next().copied().unwrap_or_else(|| self.visible())
    }

    /// The oldest live snapshot and when it was taken.
    pub fn oldest_snapshot(&self) -> Option<(Timestamp, Instant)> {
        let snapshots = self.snapshots.lock();
        snapshots.active.iter().next().map(|(ts, (_, since))| (*ts, *since))
    }

    /// Number of live snapshots (transactions included).
    pub fn live_snapshots(&self) -> usize {
        self.snapshots.lock().active.values().map(|(count, _)| count).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_waits_for_every_earlier_commit() {
        let oracle = Oracle::new(Timestamp(10));
        let (a, b) = {
            let mut state = oracle.lock_commit();
            let a = oracle.assign(&mut state, [b"x".as_slice()].into_iter());
            let b = oracle.assign(&mut state, [b"y".as_slice()].into_iter());
            (a, b)
        };
        assert_eq!((a, b), (Timestamp(11), Timestamp(12)));
        oracle.publish(b);
        assert_eq!(oracle.visible(), Timestamp(10), "12 waits for 11");
        oracle.publish(a);
        assert_eq!(oracle.visible(), Timestamp(12));
    }

    #[test]
    fn first_committer_wins_and_ranges_conflict() {
        let oracle = Oracle::new(Timestamp(0));
        let start = oracle.register_snapshot();
        {
            let mut state = oracle.lock_commit();
            oracle.assign(&mut state, [b"k".as_slice()].into_iter());
        }
        let state = oracle.lock_commit();
        let writes = Validation { start_ts: start, writes: vec![b"k"], ..Default::default() };
        assert!(matches!(oracle.validate(&state, &writes), Err(Error::Conflict { .. })));
        let other = Validation { start_ts: start, writes: vec![b"j"], ..Default::default() };
        assert!(oracle.validate(&state, &other).is_ok());
        let range = KeyRange::new(b"a".to_vec()..b"z".to_vec());
        let scan = Validation { start_ts: start, ranges: vec![&range], ..Default::default() };
        assert!(matches!(oracle.validate(&state, &scan), Err(Error::Conflict { .. })));
    }

    #[test]
    fn horizon_follows_the_oldest_snapshot() {
        let oracle = Oracle::new(Timestamp(5));
        let old = oracle.register_snapshot();
        let ts = {
            let mut state = oracle.lock_commit();
            oracle.assign(&mut state, std::iter::empty())
        };
        oracle.publish(ts);
        let new = oracle.register_snapshot();
        assert_eq!((old, new), (Timestamp(5), Timestamp(6)));
        assert_eq!(oracle.horizon(), Timestamp(5));
        oracle.release_snapshot(old);
        assert_eq!(oracle.horizon(), Timestamp(6));
        oracle.release_snapshot(new);
        assert_eq!(oracle.horizon(), oracle.visible());
        assert_eq!(oracle.live_snapshots(), 0);
    }
}

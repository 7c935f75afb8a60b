//! The timestamp oracle: commit order, visibility, conflict detection and the GC horizon.
//!
//! - Commit timestamps are handed out under the *commit lock*, in the same order as the WAL
//!   records are appended, so log order and timestamp order agree: a sync that makes a commit
//!   durable makes every earlier commit durable too.
//! - A commit becomes *visible* (new snapshots read at or above its timestamp) only once it and
//!   every earlier commit are published: durable as its durability level asks, and applied to
//!   the engine. `visible` is the highest timestamp with that property.
//! - Conflicts are found in the *committed table* ([`crate::committed`]): for each key, the
//!   timestamp of the last commit that wrote it, recorded when the timestamp is assigned (so
//!   commits still being applied count). Entries at or below the GC horizon can conflict with
//!   no live transaction and are pruned, oldest first, a bounded amount per commit.
//! - The GC horizon is the oldest registered snapshot that is not expired, or `visible` when
//!   there is none ([`crate::horizon`]); each commit applies the bounds that expire an old
//!   snapshot, so neither the table nor the engine's old versions grow without limit.

use std::{
    collections::BTreeSet,
    sync::atomic::{AtomicU64, Ordering},
    time::Instant,
};

use lightning_core_storage::{Poison, Timestamp, engine::KeyRange};
use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::{
    Error, Result,
    committed::CommittedTable,
    horizon::{Horizon, SnapshotLimits},
};

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
    committed: CommittedTable,
}

/// What the committed table holds (for stats and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CommittedStats {
    /// Distinct keys.
    pub keys: usize,
    /// Writes examined by pruning since the store opened.
    pub examined: u64,
}

/// The oracle of one store.
#[derive(Debug)]
pub(crate) struct Oracle {
    visible: AtomicU64,
    commit: Mutex<CommitState>,
    published: Condvar,
    snapshots: Horizon,
    /// The store's poison (shared): once set, waiters for visibility give up.
    poison: Poison,
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
    /// `poison` is the store's: the oracle reads it to release visibility waiters.
    pub fn new(last_committed: Timestamp, limits: SnapshotLimits, poison: Poison) -> Self {
        Oracle {
            visible: AtomicU64::new(last_committed.0),
            commit: Mutex::new(CommitState {
                next_ts: last_committed.0 + 1,
                in_flight: BTreeSet::new(),
                committed: CommittedTable::default(),
            }),
            published: Condvar::new(),
            snapshots: Horizon::new(limits),
            poison,
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
        // Expire snapshots held past their age even when nothing commits.
        let horizon = self.snapshots.enforce(&self.visible, None);
        let closing = (self.epoch.fetch_add(1, Ordering::SeqCst) & 1) as usize;
        while self.plain_readers[closing].load(Ordering::SeqCst) != 0 {
            std::thread::yield_now();
        }
        horizon
    }

    /// Wakes everyone waiting for visibility, after the store's poison was set.
    pub fn wake_after_poison(&self) {
        debug_assert!(self.poison.is_poisoned(), "woken for a poison that is not set");
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

    /// Checks `validation` against commits after its snapshot; an expired snapshot fails
    /// with `SnapshotTooOld` (the table no longer holds what it must check). REQUIRES: commit
    /// lock held.
    pub fn validate(&self, state: &mut CommitState, validation: &Validation<'_>) -> Result<()> {
        self.snapshots.check(validation.start_ts)?;
        state.committed.index();
        let newer =
            |key: &[u8]| state.committed.latest(key).is_some_and(|ts| ts > validation.start_ts);
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
            if let Some(key) = state.committed.first_changed_in(start, end, validation.start_ts) {
                return Err(Error::Conflict {
                    key: Some(key.to_vec()),
                    reason: "predicate: a range this transaction scanned was changed by a later commit",
                });
            }
        }
        Ok(())
    }

    /// Assigns the next commit timestamp to a commit writing `keys`, applies the snapshot
    /// bounds and prunes the committed table (O(log n) per key written, a bounded number of
    /// entries examined, however old the oldest snapshot). REQUIRES: commit lock held.
    pub fn assign<'k>(
        &self,
        state: &mut CommitState,
        keys: impl Iterator<Item = &'k [u8]>,
    ) -> Timestamp {
        let ts = Timestamp(state.next_ts);
        state.next_ts += 1;
        state.in_flight.insert(ts.0);
        // With no snapshot registered, no live transaction can conflict with this commit:
        // its keys wait as one block, indexed only if a snapshot registered meanwhile checks
        // against them (see committed.rs).
        let written = if self.snapshots.any_registered() {
            state.committed.index();
            let mut written = 0;
            for key in keys {
                state.committed.record(key, ts);
                written += 1;
            }
            written
        } else {
            state.committed.record_block(keys, ts)
        };
        let limit = self.snapshots.limits().max_retained_versions;
        let horizon = self.snapshots.enforce(&self.visible, state.committed.prune_point_for(limit));
        state.committed.prune(horizon, written);
        ts
    }

    /// What the committed table holds. REQUIRES: commit lock not held by the caller.
    pub fn committed_stats(&self) -> CommittedStats {
        let mut state = self.commit.lock();
        state.committed.index();
        CommittedStats { keys: state.committed.keys(), examined: state.committed.examined() }
    }

    /// Fails with `SnapshotTooOld` if the snapshot at `ts` was expired. Call it after reading
    /// at `ts` (see [`Horizon::check`]).
    pub fn check_snapshot(&self, ts: Timestamp) -> Result<()> {
        self.snapshots.check(ts)
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
            if self.poison.is_poisoned() {
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
        self.snapshots.register(&self.visible)
    }

    /// Adds a hold on an already registered snapshot timestamp (for iterators that outlive
    /// their snapshot handle). REQUIRES: `ts` is registered now.
    pub fn retain_snapshot(&self, ts: Timestamp) {
        self.snapshots.retain(ts);
    }

    /// Releases a snapshot taken by [`Oracle::register_snapshot`].
    pub fn release_snapshot(&self, ts: Timestamp) {
        self.snapshots.release(ts);
    }

    /// The oldest timestamp any live (unexpired) snapshot may read at: versions no read at or
    /// above it can see may be dropped.
    pub fn horizon(&self) -> Timestamp {
        self.snapshots.horizon(&self.visible)
    }

    /// The oldest live snapshot and when it was taken.
    pub fn oldest_snapshot(&self) -> Option<(Timestamp, Instant)> {
        self.snapshots.oldest()
    }

    /// Number of live snapshots (transactions included).
    pub fn live_snapshots(&self) -> usize {
        self.snapshots.live()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_LIMITS: SnapshotLimits =
        SnapshotLimits { max_age: None, max_retained_versions: usize::MAX };

    #[test]
    fn visibility_waits_for_every_earlier_commit() {
        let oracle = Oracle::new(Timestamp(10), NO_LIMITS, Poison::new());
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
    fn a_snapshot_registered_while_a_commit_without_one_is_in_flight_still_conflicts() {
        let oracle = Oracle::new(Timestamp(0), NO_LIMITS, Poison::new());
        let ts = {
            let mut state = oracle.lock_commit();
            oracle.assign(&mut state, [b"k".as_slice(), b"m".as_slice()].into_iter())
        };
        // No snapshot was registered: the keys wait unindexed. One registers before the commit
        // is published, so it reads below it.
        let start = oracle.register_snapshot();
        assert!(start < ts);
        {
            let mut state = oracle.lock_commit();
            let writes = Validation { start_ts: start, writes: vec![b"m"], ..Default::default() };
            assert!(matches!(oracle.validate(&mut state, &writes), Err(Error::Conflict { .. })));
        }
        oracle.publish(ts);
        // A later commit, with the snapshot registered, indexes at once; both stay visible to
        // the snapshot's checks.
        let mut state = oracle.lock_commit();
        oracle.assign(&mut state, [b"n".as_slice()].into_iter());
        let range = KeyRange::new(b"a".to_vec()..b"l".to_vec());
        let scan = Validation { start_ts: start, ranges: vec![&range], ..Default::default() };
        assert!(matches!(oracle.validate(&mut state, &scan), Err(Error::Conflict { .. })));
        let late = Validation { start_ts: start, writes: vec![b"n"], ..Default::default() };
        assert!(matches!(oracle.validate(&mut state, &late), Err(Error::Conflict { .. })));
    }

    #[test]
    fn first_committer_wins_and_ranges_conflict() {
        let oracle = Oracle::new(Timestamp(0), NO_LIMITS, Poison::new());
        let start = oracle.register_snapshot();
        {
            let mut state = oracle.lock_commit();
            oracle.assign(&mut state, [b"k".as_slice()].into_iter());
        }
        let mut state = oracle.lock_commit();
        let writes = Validation { start_ts: start, writes: vec![b"k"], ..Default::default() };
        assert!(matches!(oracle.validate(&mut state, &writes), Err(Error::Conflict { .. })));
        let other = Validation { start_ts: start, writes: vec![b"j"], ..Default::default() };
        assert!(oracle.validate(&mut state, &other).is_ok());
        let range = KeyRange::new(b"a".to_vec()..b"z".to_vec());
        let scan = Validation { start_ts: start, ranges: vec![&range], ..Default::default() };
        assert!(matches!(oracle.validate(&mut state, &scan), Err(Error::Conflict { .. })));
    }

    #[test]
    fn horizon_follows_the_oldest_snapshot() {
        let oracle = Oracle::new(Timestamp(5), NO_LIMITS, Poison::new());
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

//! Vacuum: dropping versions that no read at or above the horizon can see.
//!
//! For each key, walking its versions newest first: versions above the horizon stay; the
//! newest version at or below the horizon stays unless it is a tombstone (a read at the horizon
//! then sees "absent", as it would with nothing); every older version goes.
//!
//! The work is incremental: one step examines one leaf under the tree write lock, so writers
//! and readers interleave with a long vacuum. A [`GcCursor`] carries the position and the
//! per-key state between steps. Versions applied between steps have commit timestamps above
//! any live reader's snapshot and so above the horizon, which keeps the carried state valid.
//! Horizons only move forward; a pass may continue under a newer horizon (it then drops at
//! most what the newer horizon allows).
//!
//! Pacing ([`Shared::vacuum_round`]): a pass starts only if a version written since the last
//! completed pass may be garbage (`TreeState::garbage_ts` above that pass's horizon) and the
//! horizon has moved past it; a round examines a bounded number of leaves. An idle database
//! therefore reads nothing for vacuum once one pass has run.

use std::sync::atomic::Ordering;

use lightning_core_storage::{Result, Timestamp};

use crate::{cursor::Cursor, engine::Shared, node::ValueRef, store::Store, tree::TreeState};

/// Leaves one `collect_garbage_step` call examines at most (the background thread continues
/// a pass in rounds of its own).
pub(crate) const LEAVES_PER_CALL: usize = 64;

/// Where a vacuum pass is.
#[derive(Debug, Default, Clone)]
pub(crate) struct GcCursor {
    /// The last entry examined; the next step starts after it.
    resume: Option<(Vec<u8>, u64)>,
    /// The key whose versions are being walked.
    key: Option<Vec<u8>>,
    /// A version of `key` at or below the horizon has been seen.
    seen_visible: bool,
    /// The pass reached the end of the tree.
    pub(crate) done: bool,
    /// The horizon the pass started under.
    pass_horizon: u64,
    /// The horizon of the last pass completed: garbage left by versions at or below it is
    /// gone.
    completed: u64,
    /// A round is running (another caller skips rather than duplicating the work).
    active: bool,
}

impl GcCursor {
    /// A pass that has nothing left to do.
    pub(crate) fn finished() -> GcCursor {
        GcCursor { done: true, ..GcCursor::default() }
    }

    /// A pass is under way and no round of it is running now.
    pub(crate) fn wants_more(&self) -> bool {
        !self.done && !self.active
    }
}

impl Shared {
    /// A bounded round of incremental vacuum toward `horizon` (the target horizon is raised to
    /// it, never lowered): continues the current pass for up to `max_leaves` leaves, or, if
    /// `may_start`, starts a pass when versions written since the last completed pass may be
    /// garbage at the target. Otherwise it touches nothing. Returns versions dropped.
    ///
    /// REQUIRES: no tree lock held.
    pub(crate) fn vacuum_round(
        &self,
        horizon: Timestamp,
        max_leaves: usize,
        may_start: bool,
    ) -> Result<u64> {
        let garbage_ts = self.tree.read().garbage_ts;
        let (target, mut cursor) = {
            let mut gc = self.gc.lock();
            gc.0 = gc.0.max(horizon);
            let (target, state) = (gc.0, &mut gc.1);
            if state.active {
                return Ok(0);
            }
            if state.done {
                let new_garbage = target.0 > state.completed && garbage_ts > state.completed;
                if !(may_start && new_garbage) {
                    return Ok(0);
                }
                *state = GcCursor {
                    pass_horizon: target.0,
                    completed: state.completed,
                    ..GcCursor::default()
                };
            }
            state.active = true;
            (target, state.clone())
        };
        let outcome = self.collect_garbage(target, &mut cursor, max_leaves);
        cursor.active = false;
        match &outcome {
            // An error ends the pass; the next request starts a new one.
            Err(_) => cursor.done = true,
            Ok(_) if cursor.done => {
                cursor.completed = cursor.pass_horizon;
                self.store.counters.gc_passes.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {}
        }
        self.gc.lock().1 = cursor;
        outcome
    }
}

impl TreeState {
    /// Examines the next leaf of the pass and drops its garbage; returns versions dropped.
    ///
    /// REQUIRES: the tree write lock.
    pub(crate) fn gc_step(
        &mut self,
        store: &Store,
        horizon: u64,
        gc: &mut GcCursor,
    ) -> Result<u64> {
        let (leaf, start) = {
            let cursor = match &gc.resume {
                None => Cursor::first(self, store)?,
                Some((key, ts)) => Cursor::seek(self, store, key, *ts, true)?,
            };
            match cursor.current() {
                Some((leaf, i)) => (leaf.to_arc(), i),
                None => {
                    gc.done = true;
                    return Ok(0);
                }
            }
        };
        let mut drops = Vec::new();
        for i in start..leaf.count() {
            if !gc.key.as_ref().is_some_and(|k| leaf.key_eq(i, k)) {
                gc.key = Some(leaf.key(i));
                gc.seen_visible = false;
            }
            if leaf.ts(i) > horizon {
                continue;
            }
            if gc.seen_visible || leaf.value(i) == ValueRef::Tombstone {
                drops.push(i);
            }
            gc.seen_visible = true;
        }
        let last = leaf.count() - 1;
        gc.resume = Some((leaf.key(last), leaf.ts(last)));
        if drops.is_empty() {
            return Ok(0);
        }
        let (target_key, target_ts) = (leaf.key(start), leaf.ts(start));
        let expected_count = leaf.count();
        drop(leaf);
        let (path, leaf_id) = self.descend_mut(store, &target_key, target_ts)?;
        debug_assert_eq!(self.dirty_node(leaf_id)?.count(), expected_count, "vacuum re-descent");
        self.remove_entries(store, &path, leaf_id, &drops)?;
        Ok(drops.len() as u64)
    }
}

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

use lightning_core_storage::Result;

use crate::{cursor::Cursor, node::ValueRef, store::Store, tree::TreeState};

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
}

impl GcCursor {
    /// A pass that has nothing left to do.
    pub(crate) fn finished() -> GcCursor {
        GcCursor { done: true, ..GcCursor::default() }
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

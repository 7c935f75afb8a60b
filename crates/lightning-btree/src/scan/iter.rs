//! The owning scan iterator behind `StorageEngine::scan` and `BTreeEngine::scan_versions`.
//!
//! Lazy: each `next` moves the [`Walk`] one entry on (in the leaf it holds, with no lock;
//! the tree read lock only to find the next leaf) and copies that one entry out. Nothing is
//! walked or copied ahead of the caller, so `range(..).take(n)` costs what `n` entries cost.

use std::sync::Arc;

use lightning_core_storage::{
    Result, Timestamp,
    engine::{Direction, KeyRange, VersionedEntry},
};

use super::{Versions, walk::Walk};
use crate::{engine::Shared, node::ValueRef};

/// The iterator behind `StorageEngine::scan` and `BTreeEngine::scan_versions`.
#[derive(Debug)]
pub(crate) struct ScanIter {
    shared: Arc<Shared>,
    range: KeyRange,
    walk: Walk,
}

impl ScanIter {
    pub(crate) fn new(
        shared: Arc<Shared>,
        range: KeyRange,
        read_ts: Timestamp,
        direction: Direction,
        versions: Versions,
    ) -> ScanIter {
        ScanIter { shared, range, walk: Walk::new(read_ts.0, versions, direction) }
    }
}

impl Iterator for ScanIter {
    type Item = Result<VersionedEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.walk.advance(&self.shared, &self.range) {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => return Some(Err(e)),
            }
            let (node, i) = self.walk.current();
            let value = match node.value(i) {
                ValueRef::Inline(value) => Some(value.to_vec()),
                ValueRef::Tombstone => None,
                ValueRef::Overflow { len, .. } => {
                    let mut value = Vec::with_capacity(len as usize);
                    match self.walk.value_into(&self.shared, &mut value) {
                        Ok(true) => Some(value),
                        // Vacuumed since the leaf was read (only every-version scans see it).
                        Ok(false) => continue,
                        Err(e) => return Some(Err(e)),
                    }
                }
            };
            let entry =
                VersionedEntry { key: node.key(i), commit_ts: Timestamp(node.ts(i)), value };
            return Some(Ok(entry));
        }
    }
}

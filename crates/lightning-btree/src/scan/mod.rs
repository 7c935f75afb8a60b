//! Range scans: a walk over the tree a leaf at a time, and its two consumers.
//!
//! The tree read lock is taken only to *find* a leaf (a descent, or a step along the cursor
//! path kept from the last leaf) and to read a value from an overflow chain. The leaf's
//! entries are then walked, chosen and handed out with no lock held, straight from the leaf's
//! `Arc` (a node never changes under a holder: writers copy a shared node before changing
//! it). So every hold of the lock examines no entry at all beyond the binary search of a
//! seek, writers wait for at most one descent, and a consumer that runs code per entry (a
//! `scan_with` closure) runs it with no engine lock held.
//!
//! This is a consistent view under MVCC: versions applied after the scan began carry commit
//! timestamps above its read timestamp, and vacuum never drops a version visible at or above
//! the horizon, so a leaf the tree has since replaced still holds exactly what the scan must
//! see, and the next leaf, found again in the live tree just past the last entry walked,
//! continues it.
//!
//! The consumers: [`iter::ScanIter`], the owning iterator (`StorageEngine::scan`), copies an
//! entry out only when the caller asks for the next one; [`visit::visit`] lends each entry
//! to a caller's closure (`StorageEngine::scan_with`).

pub(crate) mod iter;
pub(crate) mod visit;
mod walk;

use std::ops::Bound;

use lightning_core_storage::engine::KeyRange;

use crate::{key::TS_MAX, node::Node};

pub(crate) use iter::ScanIter;

/// What a scan yields per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Versions {
    /// The newest version at or below the read timestamp.
    Visible,
    /// Every version.
    All,
}

fn above_end(range: &KeyRange, node: &Node, i: usize) -> bool {
    match &range.end {
        Bound::Included(end) => node.cmp_entry(i, end, 0).is_gt(),
        Bound::Excluded(end) => node.cmp_entry(i, end, TS_MAX).is_ge(),
        Bound::Unbounded => false,
    }
}

fn below_start(range: &KeyRange, node: &Node, i: usize) -> bool {
    match &range.start {
        Bound::Included(start) => node.cmp_entry(i, start, TS_MAX).is_lt(),
        Bound::Excluded(start) => node.cmp_entry(i, start, 0).is_le(),
        Bound::Unbounded => false,
    }
}

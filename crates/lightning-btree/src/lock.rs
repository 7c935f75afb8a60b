//! The tree lock: a reader-sharded read-write lock around [`TreeState`].
//!
//! Every point read and scan batch takes the read side, so with one plain `RwLock` all reader
//! threads would bounce its counter's cache line between cores. The sharded lock gives each
//! thread its own shard to read-lock; a writer takes every shard (a batch, a checkpoint's two
//! short in-memory phases, a vacuum step). A panic while holding it does not poison the tree:
//! every change a writer makes leaves a consistent tree (a batch that fails half-way poisons
//! the engine for writes instead).

use std::{fmt, sync::PoisonError};

use crossbeam_utils::sync::{ShardedLock, ShardedLockReadGuard, ShardedLockWriteGuard};

use crate::tree::TreeState;

/// The lock around the live tree.
pub(crate) struct TreeLock(ShardedLock<TreeState>);

impl fmt::Debug for TreeLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TreeLock")
    }
}

impl TreeLock {
    pub(crate) fn new(state: TreeState) -> TreeLock {
        TreeLock(ShardedLock::new(state))
    }

    /// Shared access. REQUIRES: the caller holds neither side of this lock already.
    #[inline]
    pub(crate) fn read(&self) -> ShardedLockReadGuard<'_, TreeState> {
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Exclusive access; counts a new tree version (a holder may change anything).
    /// REQUIRES: the caller holds neither side of this lock already.
    pub(crate) fn write(&self) -> ShardedLockWriteGuard<'_, TreeState> {
        let mut state = self.0.write().unwrap_or_else(PoisonError::into_inner);
        state.version = state.version.wrapping_add(1);
        state
    }
}

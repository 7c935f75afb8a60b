//! [`InternalIter`]: a positioned cursor over versions in internal-key order
//! ([`crate::internal_key`]).
//!
//! Memtables, tables, a level's run of tables and the merge of all sources implement it, so the
//! engine composes reads from one small vocabulary (as LevelDB's `Iterator`). A cursor is either
//! positioned on an entry (`valid()`) or exhausted; `key`, `ts` and `value` may be called only
//! while it is valid. Errors (a corrupt block) are returned by the moving calls, and the cursor
//! is then invalid.
//!
//! A cursor yields *every* version it holds, tombstones included; choosing the newest visible
//! version per key is the job of the layer that reads through it.

use lightning_core_storage::{Result, Timestamp};

/// A cursor over versions in internal-key order (user key ascending, timestamp descending).
pub trait InternalIter: Send {
    /// True while positioned on an entry.
    fn valid(&self) -> bool;

    /// Positions on the first entry.
    fn seek_to_first(&mut self) -> Result<()>;

    /// Positions on the last entry.
    fn seek_to_last(&mut self) -> Result<()>;

    /// Positions on the first entry at or after `(key, ts)` in internal order: with
    /// `ts = read_ts` that is the newest version of `key` visible at `read_ts`, if `key` has one.
    fn seek(&mut self, key: &[u8], ts: Timestamp) -> Result<()>;

    /// Positions on the last entry at or before `(key, ts)` in internal order.
    fn seek_for_prev(&mut self, key: &[u8], ts: Timestamp) -> Result<()>;

    /// Moves to the next entry (REQUIRES: `valid()`).
    fn next(&mut self) -> Result<()>;

    /// Moves to the previous entry (REQUIRES: `valid()`).
    fn prev(&mut self) -> Result<()>;

    /// The user key of the current entry.
    fn key(&self) -> &[u8];

    /// The commit timestamp of the current entry.
    fn ts(&self) -> Timestamp;

    /// The value of the current entry, or `None` for a tombstone.
    fn value(&self) -> Option<&[u8]>;
}

impl<I: InternalIter + ?Sized> InternalIter for Box<I> {
    fn valid(&self) -> bool {
        (**self).valid()
    }
    fn seek_to_first(&mut self) -> Result<()> {
        (**self).seek_to_first()
    }
    fn seek_to_last(&mut self) -> Result<()> {
        (**self).seek_to_last()
    }
    fn seek(&mut self, key: &[u8], ts: Timestamp) -> Result<()> {
        (**self).seek(key, ts)
    }
    fn seek_for_prev(&mut self, key: &[u8], ts: Timestamp) -> Result<()> {
        (**self).seek_for_prev(key, ts)
    }
    fn next(&mut self) -> Result<()> {
        (**self).next()
    }
    fn prev(&mut self) -> Result<()> {
        (**self).prev()
    }
    fn key(&self) -> &[u8] {
        (**self).key()
    }
    fn ts(&self) -> Timestamp {
        (**self).ts()
    }
    fn value(&self) -> Option<&[u8]> {
        (**self).value()
    }
}

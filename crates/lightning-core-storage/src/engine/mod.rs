//! The engine trait: the one contract between the storage engines and the layers above.
//!
//! Traits and plain data only (as TiKV's `engine_traits`). Both engines — the B+Tree and the
//! LSM tree — implement [`StorageEngine`] and must pass the [`conformance`] suite; the
//! transaction layer is written against the trait and never names a concrete engine.
//!
//! # The contract
//!
//! - **Versions.** An engine stores *versions*: `(key, commit timestamp) → value or tombstone`.
//!   Keys are arbitrary byte strings ordered bytewise; the empty value is a value, distinct from
//!   a tombstone. [`StorageEngine::get`] returns the newest version at or below a read timestamp
//!   (tombstones included, so callers can tell "deleted" from "never written"); a good engine
//!   finds it in one descent, not by scanning versions.
//! - **Scans** yield, for each key in the range, its newest version at or below the read
//!   timestamp, in key order forward or reverse. A scan is a consistent view: versions applied
//!   later at higher timestamps do not appear in it (they are above its read timestamp).
//! - **Atomic apply.** [`StorageEngine::apply`] makes every write of a batch visible at one
//!   commit timestamp, all or nothing, and tags it with the log position (LSN) of the batch in
//!   the write-ahead log. Applying the same batch at the same timestamp again changes nothing:
//!   recovery may replay batches the engine already holds.
//! - **Durability** is the engine's own: [`StorageEngine::checkpoint`] makes everything applied
//!   so far durable and [`StorageEngine::durable_state`] reports the LSN up to which *every*
//!   batch is durable. After a crash and reopen, every batch at or below that LSN is present;
//!   batches above it may or may not be (the log replays them). An engine that can fall back to
//!   an older durable state at open reports its LSN as [`DurableState::log_floor`]; the log may
//!   be truncated only below the minimum log floor of all engines.
//! - **The log first.** An engine that makes batches durable on its own (a background
//!   checkpoint or flush, not only when [`StorageEngine::checkpoint`] is called) calls the
//!   [`LogBarrier`] the layer above installed ([`StorageEngine::set_log_barrier`]) before its
//!   durable LSN passes a record: so the log holds every record the engine claims, even one
//!   appended without durability (`Durability::None`). Otherwise a crash that loses the log's
//!   unsynced tail leaves the engine ahead of the log, and a later fall back to the engine's
//!   older durable state replays a log without those records (a hole).
//! - **Garbage.** [`StorageEngine::collect_garbage`] may drop any version that no read at or
//!   above the horizon timestamp can see. Reads below the horizon are no longer answered
//!   exactly; the transaction layer never issues them.
//! - **Errors, not panics.** Anything wrong on disk is [`crate::Error::Corruption`].
//! - **Integrity.** [`StorageEngine::check`] walks everything the engine holds and returns a
//!   plain-data [`CheckReport`]: damage is a [`CheckProblem`] in it (what and where), not an
//!   error, so a caller sees every problem the engine could name.

pub mod conformance;
mod memory;
mod types;

pub use memory::MemoryEngine;
pub use types::{
    CheckProblem, CheckReport, Direction, DurableState, EngineBatch, EngineIter, EngineStats,
    EntryRef, KeyRange, Version, VersionedEntry, Visitor, WriteOp, prefix_successor,
};

use std::sync::Arc;

use crate::{Lsn, Result, Timestamp};

/// The hook an engine calls before its durable LSN moves past a log record (see "The log
/// first" in the module docs): the transaction layer installs one that syncs its write-ahead
/// log.
pub trait LogBarrier: Send + Sync + std::fmt::Debug {
    /// Returns once every log record up to `lsn` is durable in the log (written and synced).
    ///
    /// # Errors
    /// The log's failure (it is then poisoned); the engine must not make `lsn` durable.
    fn make_durable(&self, lsn: Lsn) -> Result<()>;
}

/// A storage engine: versioned, ordered byte keys with atomic batches and its own durability.
///
/// Implementations are shared between threads (`Send + Sync`); readers must never wait for a
/// checkpoint.
pub trait StorageEngine: Send + Sync + 'static {
    /// A short name for stats and errors (`"btree"`, `"lsm"`, `"memory"`).
    fn name(&self) -> &'static str;

    /// The newest version of `key` with commit timestamp at or below `read_ts`, if any.
    fn get(&self, key: &[u8], read_ts: Timestamp) -> Result<Option<Version>>;

    /// For each key in `range`, its newest version at or below `read_ts`, in `direction` order.
    /// The iterator owns what it needs (it may outlive the borrow of `self`).
    fn scan(&self, range: KeyRange, read_ts: Timestamp, direction: Direction)
    -> Result<EngineIter>;

    /// The entries [`StorageEngine::scan`] would yield, handed to `visit` one at a time as
    /// borrowed slices, until the range ends or `visit` returns `Break`: the copy-free way to
    /// read a range (an engine lends its pages instead of allocating an owned entry each).
    ///
    /// REQUIRES (of an implementation): no engine lock is held while `visit` runs, so `visit`
    /// may call into the engine (read or write) without deadlocking; and every hold of an
    /// internal lock examines a bounded number of entries, handed out or not (a range of
    /// invisible versions must not be walked under one hold). The B+Tree takes its read
    /// lock only to find each leaf and lends the leaf's entries with no lock held.
    fn scan_with(
        &self,
        range: &KeyRange,
        read_ts: Timestamp,
        direction: Direction,
        visit: &mut Visitor<'_>,
    ) -> Result<()> {
        for entry in self.scan(range.clone(), read_ts, direction)? {
            if visit(entry?.as_ref()).is_break() {
                break;
            }
        }
        Ok(())
    }

    /// Called by the layer above before it logs a batch, holding none of its own locks that
    /// other writers need (before the commit lock and the apply turn): an engine that must
    /// slow writers down (too much unflushed data) waits here, so a stalled writer holds up no
    /// other commit. Fails if the engine no longer accepts writes. The default admits at once.
    fn admit_write(&self) -> Result<()> {
        Ok(())
    }

    /// Applies every write of `batch` at `commit_ts`, atomically, as log record `lsn`.
    fn apply(&self, batch: &EngineBatch, commit_ts: Timestamp, lsn: Lsn) -> Result<()>;

    /// What is durable now: every batch at or below `lsn` survives a crash.
    fn durable_state(&self) -> DurableState;

    /// Makes everything applied so far durable and returns the new durable state.
    fn checkpoint(&self) -> Result<DurableState>;

    /// Installs the [`LogBarrier`] this engine calls before its durable LSN passes a log
    /// record. The layer above installs it once, before it applies anything, and makes the log
    /// durable itself before it calls [`StorageEngine::checkpoint`]. The default ignores it:
    /// right for an engine that makes batches durable only in `checkpoint`; an engine that
    /// checkpoints or flushes in the background must keep it and call it first.
    fn set_log_barrier(&self, barrier: Arc<dyn LogBarrier>) {
        let _ = barrier;
    }

    /// Drops versions that no read at or above `horizon` can see; returns how many it dropped.
    fn collect_garbage(&self, horizon: Timestamp) -> Result<u64>;

    /// A bounded slice of incremental garbage collection toward `horizon`, for a background
    /// thread that calls it periodically: it does a bounded amount of work per call (an engine
    /// may continue the pass in the background, boundedly per lock hold) and nothing at all —
    /// no page read — when nothing written since its last completed pass can be garbage at
    /// `horizon`. Returns how many versions this call dropped. The default runs
    /// [`StorageEngine::collect_garbage`] (fine for an in-memory engine).
    fn collect_garbage_step(&self, horizon: Timestamp) -> Result<u64> {
        self.collect_garbage(horizon)
    }

    /// Counters for `stats` output.
    fn stats(&self) -> Result<EngineStats>;

    /// Why the engine refuses writes after an earlier failure (a failed checkpoint, a batch
    /// that failed half-applied), or `None` while it accepts them. Layers above check it
    /// *before* logging a commit: a commit logged and then refused by the engine would be
    /// acknowledged as failed yet replayed by recovery after reopen.
    fn poisoned(&self) -> Option<String> {
        None
    }

    /// Checks the engine's integrity (structure, order, checksums, space accounting) and
    /// reports what it walked and every inconsistency. Damage is a problem in the report, not
    /// an error; `Err` means the check itself could not run (an I/O error).
    ///
    /// The default says the engine has no integrity check; every shipped engine overrides it.
    fn check(&self) -> Result<CheckReport> {
        Err(crate::Error::Unsupported(format!("the {} engine has no integrity check", self.name())))
    }

    /// The longest key [`StorageEngine::apply`] accepts. Layers above check batches against it
    /// *before* logging them: a write the engine would refuse must never reach the log, where
    /// recovery would replay it forever.
    fn max_key_len(&self) -> usize {
        usize::MAX
    }

    /// The longest value [`StorageEngine::apply`] accepts (see [`StorageEngine::max_key_len`]).
    fn max_value_len(&self) -> usize {
        usize::MAX
    }
}

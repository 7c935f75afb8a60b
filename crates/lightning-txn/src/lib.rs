//! # lightning-txn
//!
//! MVCC transactions over any storage engine: the timestamp oracle, snapshots and the GC
//! horizon, three isolation levels, a lock manager with deadlock detection for pessimistic
//! locking, and recovery by WAL replay.
//!
//! **Walls:** written against the engine trait of `lightning-core-storage` and the WAL of
//! `lightning-wal` only; it never names a concrete engine, so every engine that passes the
//! conformance suite runs under it.
//!
//! **Invariants:**
//! - commit timestamps are assigned in WAL order, so a durable commit implies every earlier one
//!   is durable;
//! - a commit is visible to new snapshots only once it and every earlier commit are durable (as
//!   their durability level asks) and applied to the engine;
//! - a failed fsync or apply poisons the store for writes (no retry-and-pretend).
//!
//! See [`Isolation`] for the anomalies each level allows.

#![forbid(unsafe_code)]

mod apply_order;
mod committed;
mod error;
mod horizon;
mod locks;
mod merge;
mod options;
mod oracle;
pub mod record;
mod recovery;
mod snapshot;
mod store;
mod transaction;

use std::{fmt, time::Duration};

use lightning_core_storage::Timestamp;

pub use error::{Error, Result, SnapshotBound};
pub use locks::{LockManager, LockMode, LockStats};
pub use merge::{KeyValue, TxnIter};
pub use options::{Isolation, TxnOptions};
pub use snapshot::{KeyValueVisitor, Snapshot};
pub use store::{RecoveryReport, TxnStore};
pub use transaction::Transaction;

/// Identifies a transaction (in lock tables and deadlock reports).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxnId(pub u64);

impl fmt::Debug for TxnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "txn#{}", self.0)
    }
}

/// Counters of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnStats {
    /// Commits (transactions and write batches).
    pub commits: u64,
    /// Transactions rolled back or failed.
    pub aborts: u64,
    /// Commits refused for a conflict.
    pub conflicts: u64,
    /// Lock requests refused as deadlock victims.
    pub deadlocks: u64,
    /// Transactions begun and not yet finished.
    pub active_transactions: u64,
    /// Live snapshots, transactions included.
    pub live_snapshots: u64,
    /// The oldest live snapshot's timestamp.
    pub oldest_snapshot_ts: Option<Timestamp>,
    /// How long the oldest live snapshot has been held (a long-held one keeps garbage alive).
    pub oldest_snapshot_age: Duration,
    /// The newest visible commit timestamp.
    pub visible_ts: Timestamp,
    /// The oldest timestamp a live reader may use.
    pub gc_horizon: Timestamp,
    /// Lock manager counters.
    pub locks: LockStats,
    /// Distinct keys in the oracle's conflict table (keys committed above the GC horizon).
    pub conflict_table_keys: u64,
    /// Conflict-table entries examined by pruning since the store opened (each once: the
    /// pruning work, which stays proportional to what is written however old a snapshot is).
    pub conflict_table_examined: u64,
}

/// Renders a key for messages: UTF-8 when printable, hex otherwise, cut at 64 bytes.
pub(crate) fn display_key(key: &[u8]) -> String {
    let shown = &key[..key.len().min(64)];
    let more = if key.len() > 64 { "…" } else { "" };
    match std::str::from_utf8(shown) {
        Ok(text) if text.chars().all(|c| !c.is_control()) => format!("{text:?}{more}"),
        _ => format!("0x{}{more}", shown.iter().map(|b| format!("{b:02x}")).collect::<String>()),
    }
}

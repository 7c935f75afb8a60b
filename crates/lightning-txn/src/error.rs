//! Errors of the transaction layer.

use std::{fmt, time::Duration};

use lightning_core_storage::Timestamp;

use crate::TxnId;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong in a transaction or the store under it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error from storage (I/O, corruption, limits of the engine).
    #[error(transparent)]
    Storage(#[from] lightning_core_storage::Error),

    /// An error from the write-ahead log.
    #[error(transparent)]
    Wal(#[from] lightning_wal::Error),

    /// The transaction conflicts with one that committed after it began; retry it.
    #[error("transaction conflict: {reason}{}", key.as_ref().map(|k| format!(" (key {})", crate::display_key(k))).unwrap_or_default())]
    Conflict {
        /// The key involved, when one is known.
        key: Option<Vec<u8>>,
        /// What conflicted.
        reason: &'static str,
    },

    /// Waiting for a lock would close a cycle of waiting transactions; this one was chosen to
    /// abort so the others can go on.
    #[error("deadlock: transaction {victim:?} aborted to break the cycle {cycle:?}")]
    Deadlock {
        /// The aborted transaction (this one).
        victim: TxnId,
        /// The transactions in the cycle.
        cycle: Vec<TxnId>,
    },

    /// A lock was not granted in time.
    #[error("lock on key {} not granted within {waited:?}", crate::display_key(key))]
    LockTimeout {
        /// The key.
        key: Vec<u8>,
        /// How long the request waited.
        waited: Duration,
    },

    /// A transaction grew past a configured limit.
    #[error("transaction too large: {what} exceeds the limit of {limit}")]
    TransactionTooLarge {
        /// Which limit.
        what: &'static str,
        /// Its value.
        limit: usize,
    },

    /// An earlier failure (a failed fsync, a failed apply) left the store unable to accept
    /// writes safely; reopen it to recover from what is durable.
    #[error("the store accepts no more writes after an earlier failure: {reason}")]
    Poisoned {
        /// The failure.
        reason: String,
    },

    /// The snapshot (or snapshot-isolated transaction) was expired: it passed a bound on how
    /// far back a snapshot may hold garbage collection, and the horizon moved past it, so its
    /// view may be incomplete. Read from a newer snapshot, or raise the bound.
    #[error(
        "snapshot at timestamp {} is too old: {bound}, so it was expired and the GC horizon          moved past it (to {}); read from a newer snapshot, or raise the bound          (TxnOptions::{}; Config::{} in lightning-db)",
        snapshot.0, horizon.0, bound.option_name(), bound.option_name()
    )]
    SnapshotTooOld {
        /// The expired snapshot's timestamp.
        snapshot: Timestamp,
        /// The oldest timestamp a snapshot may read at now.
        horizon: Timestamp,
        /// The bound it passed.
        bound: SnapshotBound,
    },

    /// The store was closed.
    #[error("the store is closed")]
    Closed,
}

/// The bound an expired snapshot passed (see [`Error::SnapshotTooOld`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotBound {
    /// It was held longer than this while newer commits existed.
    Age {
        /// `TxnOptions::max_snapshot_age`.
        limit: Duration,
    },
    /// More than this many key versions were committed after it.
    RetainedVersions {
        /// `TxnOptions::max_retained_versions`.
        limit: usize,
    },
}

impl SnapshotBound {
    /// The option that sets this bound (the same name in `TxnOptions` and the facade's
    /// `Config`).
    pub fn option_name(&self) -> &'static str {
        match self {
            SnapshotBound::Age { .. } => "max_snapshot_age",
            SnapshotBound::RetainedVersions { .. } => "max_retained_versions",
        }
    }
}

impl fmt::Display for SnapshotBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotBound::Age { limit } => {
                write!(f, "it was held longer than max_snapshot_age ({limit:?})")
            }
            SnapshotBound::RetainedVersions { limit } => write!(
                f,
                "more than max_retained_versions ({limit}) key versions were committed after it"
            ),
        }
    }
}

impl Error {
    /// True for errors that retrying the transaction may cure (conflicts, deadlocks, lock
    /// timeouts).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Conflict { .. } | Error::Deadlock { .. } | Error::LockTimeout { .. })
    }
}

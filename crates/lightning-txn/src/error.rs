//! Errors of the transaction layer.

use std::time::Duration;

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

    /// The store was closed.
    #[error("the store is closed")]
    Closed,
}

impl Error {
    /// True for errors that retrying the transaction may cure (conflicts, deadlocks, lock
    /// timeouts).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Conflict { .. } | Error::Deadlock { .. } | Error::LockTimeout { .. })
    }
}

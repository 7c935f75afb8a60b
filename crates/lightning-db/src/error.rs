//! The facade's error: every lower crate's error, mapped to what a user can act on.

use std::path::PathBuf;

use crate::Engine;

/// The result type of Lightning DB.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong using a database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system I/O error.
    #[error("I/O error: {0}")]
    Io(String),

    /// Bytes on disk are damaged: what, and where.
    #[error("corruption in {location}: {what}")]
    Corruption {
        /// What is wrong.
        what: String,
        /// Where it was found.
        location: String,
    },

    /// The transaction conflicts with a concurrent one; retry it (or use
    /// `Database::transaction`, which retries for you).
    #[error("transaction conflict: {reason}")]
    Conflict {
        /// What conflicted.
        reason: String,
        /// The key involved, when known.
        key: Option<Vec<u8>>,
    },

    /// This transaction was chosen to abort to break a deadlock.
    #[error("deadlock: {0}")]
    Deadlock(String),

    /// A lock was not granted in time.
    #[error("lock timeout: {0}")]
    LockTimeout(String),

    /// Another process has the database open.
    #[error("{} is in use by another process (only one process may open a database)", path.display())]
    Locked {
        /// The database directory.
        path: PathBuf,
    },

    /// The directory holds a database made with another engine.
    #[error("{} was created with the {} engine; open it with Engine::{:?} (asked for {})", path.display(), found.name(), found, asked.name())]
    EngineMismatch {
        /// The database directory.
        path: PathBuf,
        /// The engine it was created with.
        found: Engine,
        /// The engine asked for.
        asked: Engine,
    },

    /// The feature or engine is not available in this build.
    #[error("unsupported: {0}")]
    Unsupported(String),

    /// A key longer than the limit.
    #[error("key of {len} bytes exceeds the maximum of {max} bytes")]
    KeyTooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },

    /// A value longer than the limit.
    #[error("value of {len} bytes exceeds the maximum of {max} bytes")]
    ValueTooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },

    /// A transaction or batch grew past a configured limit.
    #[error("transaction too large: {0}")]
    TransactionTooLarge(String),

    /// An earlier failure (such as a failed fsync) makes further writes unsafe; reopen the
    /// database to recover from what is durable.
    #[error("database refuses writes after an earlier failure: {0}")]
    Poisoned(String),

    /// The keyspace was dropped (`Database::drop_keyspace`); this handle names it no more.
    /// `Database::keyspace` with the same name creates a new, empty keyspace.
    #[error("keyspace {name:?} was dropped")]
    KeyspaceDropped {
        /// The keyspace's name.
        name: String,
    },

    /// The database was closed.
    #[error("the database is closed")]
    Closed,

    /// A caller mistake: a bad name, a bad option, a missing database.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl Error {
    /// True for errors a retry of the same transaction may cure.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Conflict { .. } | Error::Deadlock(_) | Error::LockTimeout(_))
    }
}

impl From<lightning_core_storage::Error> for Error {
    fn from(e: lightning_core_storage::Error) -> Self {
        use lightning_core_storage::Error as E;
        match e {
            E::Corruption { what, location } => Error::Corruption { what, location },
            E::Locked { path } => {
                Error::Locked { path: path.parent().map(PathBuf::from).unwrap_or(path) }
            }
            E::Poisoned { reason } => Error::Poisoned(reason),
            E::InvalidInput(what) => Error::InvalidInput(what),
            E::Unsupported(what) => Error::Unsupported(what),
            other => Error::Io(other.to_string()),
        }
    }
}

impl From<lightning_wal::Error> for Error {
    fn from(e: lightning_wal::Error) -> Self {
        if e.is_corruption() {
            Error::Corruption { what: e.to_string(), location: "write-ahead log".into() }
        } else if e.is_poisoned() {
            Error::Poisoned(e.to_string())
        } else {
            Error::Io(e.to_string())
        }
    }
}

impl From<lightning_txn::Error> for Error {
    fn from(e: lightning_txn::Error) -> Self {
        use lightning_txn::Error as E;
        match e {
            E::Storage(inner) => inner.into(),
            E::Wal(inner) => inner.into(),
            E::Conflict { key, reason } => Error::Conflict { reason: reason.to_string(), key },
            e @ E::Deadlock { .. } => Error::Deadlock(e.to_string()),
            e @ E::LockTimeout { .. } => Error::LockTimeout(e.to_string()),
            e @ E::TransactionTooLarge { .. } => Error::TransactionTooLarge(e.to_string()),
            E::Poisoned { reason } => Error::Poisoned(reason),
            E::Closed => Error::Closed,
            other => Error::Io(other.to_string()),
        }
    }
}

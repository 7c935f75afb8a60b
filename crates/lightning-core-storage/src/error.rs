//! The error type of the storage foundation, shared by every crate above it.
//!
//! Nothing read from disk may panic the process: bad bytes become [`Error::Corruption`] with
//! what was wrong and where. After a failed fsync the owner of the file must poison itself and
//! return [`Error::Poisoned`] for every later write: the kernel may have dropped the dirty pages,
//! so retrying the fsync and reporting success would be a lie.

use std::{io, path::PathBuf};

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the storage foundation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system I/O error, with the operation and path that caused it.
    #[error("I/O error during {op} on {}: {source}", path.display())]
    Io {
        /// The operation that failed (`"read"`, `"sync"`, ...).
        op: &'static str,
        /// The file or directory it was applied to.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// Bytes read from disk are not what was written: a checksum mismatch, an impossible field,
    /// a truncated structure.
    #[error("corruption in {location}: {what}")]
    Corruption {
        /// What is wrong (for example `"page checksum mismatch"`).
        what: String,
        /// Where it was found (for example `"data.db page 17"`).
        location: String,
    },

    /// A previous write or fsync failed, so the state on disk is unknown and no further writes
    /// are accepted. Reopen the database to recover from what is durable.
    #[error("storage is poisoned by an earlier failure and accepts no more writes: {reason}")]
    Poisoned {
        /// The failure that poisoned it.
        reason: String,
    },

    /// The caller passed something this crate cannot accept (an oversized key, a bad page size).
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// The operation is not supported by this implementation (writing through a read-only mmap).
    #[error("unsupported: {0}")]
    Unsupported(String),

    /// Another process holds the lock on this database directory.
    #[error("{} is locked by another process (only one process may open a database at a time)", path.display())]
    Locked {
        /// The lock file.
        path: PathBuf,
    },

    /// Encryption or decryption failed (wrong key, tampered data).
    #[error(transparent)]
    Security(#[from] lightning_security::Error),
}

impl Error {
    /// Builds an [`Error::Io`].
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io { op, path: path.into(), source }
    }

    /// Builds an [`Error::Corruption`].
    pub fn corruption(what: impl Into<String>, location: impl Into<String>) -> Self {
        Error::Corruption { what: what.into(), location: location.into() }
    }

    /// A copy of a shared error, for the waiters of one failed load (a cache hands the same
    /// error to each). Every variant keeps its kind, except that an encryption error keeps only
    /// its message (as `InvalidInput`).
    pub fn duplicate(&self) -> Error {
        match self {
            Error::Io { op, path, source } => Error::Io {
                op,
                path: path.clone(),
                source: io::Error::new(source.kind(), source.to_string()),
            },
            Error::Corruption { what, location } => {
                Error::Corruption { what: what.clone(), location: location.clone() }
            }
            Error::Poisoned { reason } => Error::Poisoned { reason: reason.clone() },
            Error::InvalidInput(m) => Error::InvalidInput(m.clone()),
            Error::Unsupported(m) => Error::Unsupported(m.clone()),
            Error::Locked { path } => Error::Locked { path: path.clone() },
            other @ Error::Security(_) => Error::InvalidInput(other.to_string()),
        }
    }

    /// True if this error means bytes on disk are damaged.
    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Corruption { .. })
    }
}

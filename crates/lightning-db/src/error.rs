//! The facade's error: every lower crate's error, mapped to what a user can act on.
//!
//! Lower errors are wrapped, never flattened into strings: [`Error::Io`], [`Error::WrongKey`]
//! and [`Error::Other`] carry the lower error as their `source()`, so the chain down to the
//! operating system's `io::Error` survives ([`Error::io_error_kind`] finds its kind). Damage
//! on disk is always [`Error::Corruption`] with what and where; a refusal after an earlier
//! failure is always [`Error::Poisoned`].

use std::{io, path::PathBuf};

use crate::Engine;

/// The result type of Lightning DB.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong using a database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system I/O error. `source()` is the lower layer's error (naming the
    /// operation and the file); its chain ends at the `io::Error` ([`Error::io_error_kind`]).
    #[error("{source}")]
    Io {
        /// The lower layer's error.
        #[source]
        source: BoxError,
    },

    /// The encryption key or passphrase is wrong (or encrypted data was altered so that it no
    /// longer authenticates under the key).
    #[error("wrong key or passphrase: {source}")]
    WrongKey {
        /// The security layer's error.
        #[source]
        source: BoxError,
    },

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

    /// A snapshot (or a snapshot-isolated transaction) was held past a configured bound and
    /// expired, so garbage collection could move on; take a newer one, or raise the bound.
    #[error(
        "snapshot at timestamp {snapshot_ts} is too old: {bound}; read from a newer snapshot, \
         or raise the bound with Config::{option}"
    )]
    SnapshotTooOld {
        /// The expired snapshot's timestamp.
        snapshot_ts: u64,
        /// The bound it passed, in words.
        bound: String,
        /// The `Config` method that sets that bound.
        option: &'static str,
    },

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

    /// Any other failure of a lower layer, with that layer's error as the source.
    #[error("{source}")]
    Other {
        /// The lower layer's error.
        #[source]
        source: BoxError,
    },
}

/// A lower layer's error, as the source of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl Error {
    /// True for errors a retry of the same transaction may cure.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Conflict { .. } | Error::Deadlock(_) | Error::LockTimeout(_))
    }

    /// The kind of the operating-system error at the end of the source chain, if there is one
    /// (`NotFound`, `PermissionDenied`, `StorageFull`, ...).
    pub fn io_error_kind(&self) -> Option<io::ErrorKind> {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(error) = next {
            if let Some(io) = error.downcast_ref::<io::Error>() {
                return Some(io.kind());
            }
            next = error.source();
        }
        None
    }

    /// A lower error that has no more specific variant: `Io` if an `io::Error` is in its chain.
    fn wrap(source: impl std::error::Error + Send + Sync + 'static) -> Error {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&source);
        while let Some(error) = next {
            if error.is::<io::Error>() {
                return Error::Io { source: Box::new(source) };
            }
            next = error.source();
        }
        Error::Other { source: Box::new(source) }
    }
}

impl From<lightning_core_storage::Error> for Error {
    fn from(e: lightning_core_storage::Error) -> Self {
        use lightning_core_storage::Error as E;
        use lightning_security::Error as S;
        match e {
            e @ E::Io { .. } => Error::Io { source: Box::new(e) },
            E::Corruption { what, location } => Error::Corruption { what, location },
            E::Locked { path } => {
                Error::Locked { path: path.parent().map(PathBuf::from).unwrap_or(path) }
            }
            E::Poisoned { reason } => Error::Poisoned(reason),
            E::InvalidInput(what) => Error::InvalidInput(what),
            E::Unsupported(what) => Error::Unsupported(what),
            E::Security(e @ (S::AuthenticationFailed | S::WrongPassphrase)) => {
                Error::WrongKey { source: Box::new(e) }
            }
            other => Error::wrap(other),
        }
    }
}

impl From<lightning_wal::Error> for Error {
    fn from(e: lightning_wal::Error) -> Self {
        use lightning_wal::Error as E;
        match e {
            E::Storage(inner) => inner.into(),
            E::Corruption { segment, offset, what } => Error::Corruption {
                what,
                location: format!("write-ahead log segment {segment} at offset {offset}"),
            },
            E::Poisoned { reason } => Error::Poisoned(reason),
            E::Closed => Error::Closed,
            e @ E::RecordTooLarge => Error::TransactionTooLarge(e.to_string()),
            E::InvalidOptions(what) => Error::InvalidInput(what),
            other => Error::wrap(other),
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
            E::SnapshotTooOld { snapshot, bound, .. } => Error::SnapshotTooOld {
                snapshot_ts: snapshot.0,
                bound: bound.to_string(),
                option: bound.option_name(),
            },
            E::Closed => Error::Closed,
            other => Error::wrap(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_wrong_key_or_passphrase_is_wrong_key_with_its_source() {
        for security in [
            lightning_security::Error::WrongPassphrase,
            lightning_security::Error::AuthenticationFailed,
        ] {
            let error = Error::from(lightning_core_storage::Error::Security(security));
            assert!(matches!(error, Error::WrongKey { .. }), "{error:?}");
            let source = error.source().expect("the security error is the source");
            assert!(source.downcast_ref::<lightning_security::Error>().is_some(), "{source:?}");
        }
        let other = lightning_core_storage::Error::Security(lightning_security::Error::Random(
            "no entropy".into(),
        ));
        assert!(matches!(Error::from(other), Error::Other { .. }));
    }

    #[test]
    fn every_layer_keeps_the_io_error_at_the_end_of_the_chain() {
        let io = || io::Error::new(io::ErrorKind::StorageFull, "disk full");
        let core = || lightning_core_storage::Error::io("write", "/db/wal/1.log", io());
        let through_wal = lightning_wal::Error::Storage(core());
        let through_txn = lightning_txn::Error::Wal(lightning_wal::Error::Storage(core()));
        for error in [Error::from(core()), Error::from(through_wal), Error::from(through_txn)] {
            assert!(matches!(error, Error::Io { .. }), "{error:?}");
            assert_eq!(error.io_error_kind(), Some(io::ErrorKind::StorageFull), "{error:?}");
            assert!(error.to_string().contains("/db/wal/1.log"), "{error}");
        }
    }

    #[test]
    fn log_corruption_names_the_segment_and_offset() {
        let wal = lightning_wal::Error::Corruption { segment: 7, offset: 4096, what: "bad".into() };
        match Error::from(wal) {
            Error::Corruption { what, location } => {
                assert_eq!(what, "bad");
                assert_eq!(location, "write-ahead log segment 7 at offset 4096");
            }
            other => panic!("{other:?}"),
        }
        let poisoned = lightning_txn::Error::Poisoned { reason: "fsync failed".into() };
        assert!(matches!(Error::from(poisoned), Error::Poisoned(r) if r == "fsync failed"));
    }
}

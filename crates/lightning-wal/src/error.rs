//! The error type of the write-ahead log.
//!
//! Storage errors from the VFS pass through as [`Error::Storage`]. Damage found in a segment is
//! [`Error::Corruption`] with the segment number and the byte offset of the first bad fragment,
//! never a panic. After a failed write or fsync the log is poisoned: every later write returns
//! [`Error::Poisoned`] carrying the original failure (the kernel may have dropped the dirty
//! pages, so retrying the fsync and reporting success would be a lie).

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in the write-ahead log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error from the storage foundation: I/O through the VFS, a failed encryption.
    #[error(transparent)]
    Storage(#[from] lightning_core_storage::Error),

    /// An earlier write or fsync failed, so what is on disk is unknown and the log accepts no
    /// more writes. Reopen it to recover what is durable.
    #[error(
        "the write-ahead log is poisoned by an earlier failure and accepts no more writes: {reason}"
    )]
    Poisoned {
        /// The failure that poisoned the log, as it was reported to the append that hit it.
        reason: String,
    },

    /// Bytes in a segment are not what was written.
    #[error("corruption in WAL segment {segment} at offset {offset}: {what}")]
    Corruption {
        /// The segment number (the file `<segment>.log`).
        segment: u64,
        /// The byte offset in that file of the damaged header or fragment.
        offset: u64,
        /// What is wrong.
        what: String,
    },

    /// A record longer than [`crate::MAX_RECORD_LEN`] (1 GiB); nothing was appended.
    #[error("the record exceeds the {}-byte limit of one WAL record", crate::MAX_RECORD_LEN)]
    RecordTooLarge,

    /// The log is shutting down (its handle is being closed or dropped).
    #[error("the write-ahead log is closed")]
    Closed,

    /// An option is out of range.
    #[error("invalid WAL options: {0}")]
    InvalidOptions(String),
}

impl Error {
    /// True if this error means bytes on disk are damaged.
    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Corruption { .. })
            || matches!(self, Error::Storage(e) if e.is_corruption())
    }

    /// True if the log refused the operation because an earlier failure poisoned it.
    pub fn is_poisoned(&self) -> bool {
        matches!(self, Error::Poisoned { .. })
    }

    pub(crate) fn corruption(segment: u64, offset: u64, what: impl Into<String>) -> Self {
        Error::Corruption { segment, offset, what: what.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corruption_names_segment_and_offset() {
        let err = Error::corruption(7, 4096, "fragment checksum mismatch");
        assert!(err.is_corruption());
        assert!(!err.is_poisoned());
        assert_eq!(
            err.to_string(),
            "corruption in WAL segment 7 at offset 4096: fragment checksum mismatch"
        );
    }

    #[test]
    fn storage_errors_convert_and_keep_their_kind() {
        let inner = lightning_core_storage::Error::corruption("bad", "somewhere");
        let err: Error = inner.into();
        assert!(err.is_corruption());
        let poisoned = Error::Poisoned { reason: "sync failed".into() };
        assert!(poisoned.is_poisoned());
        assert!(poisoned.to_string().contains("sync failed"));
    }
}

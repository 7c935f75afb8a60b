//! # lightning-wal
//!
//! The write-ahead log of Lightning DB: segmented log files under `wal/`, checksummed records,
//! group commit (concurrent committers share one fsync), replay from an LSN, and truncation
//! below what the engines made durable.
//!
//! **Walls:** depends only on `lightning-core-storage` (VFS, errors, codecs) and
//! `lightning-security` (the encryption envelope). Knows nothing of engines, transactions or
//! the cache: a record is opaque bytes. All file access goes through the VFS.
//!
//! **Invariants:**
//! - LSNs are 1, 2, 3, ... with no gap, across restarts and truncation;
//! - a record is durable only if every earlier record is: after any crash the log is a
//!   prefix of what was appended, containing every record acknowledged as
//!   [`Durability::Immediate`];
//! - a failed write or fsync poisons the log: no retry, every later write is refused with the
//!   original reason;
//! - nothing read from disk panics: damage is [`Error::Corruption`] with segment and offset.
//!
//! **Map:** [`format`] (the byte layout, `docs/format/wal.md`), `encoder` (records to
//! fragments at their final position), `group_commit` (leader/follower I/O rounds), `syncer`
//! (background fsync for [`Durability::Eventual`]), `recovery` (scan, judge, repair at open),
//! `reader`/`replay` (reading), `segment` (files and the segment index), `transform`
//! (compression and encryption of payloads), [`WalStats`] and the metrics.
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod barrier;
mod encoder;
mod error;
pub mod format;
mod group_commit;
mod options;
mod reader;
mod recovery;
mod replay;
mod segment;
mod stats;
mod syncer;
mod transform;
mod wal;

pub use barrier::WalBarrier;
pub use error::{Error, Result};
pub use group_commit::PREALLOCATE_BYTES;
pub use lightning_core_storage::Lsn;
pub use options::{
    Durability, MAX_SEGMENT_SIZE_BYTES, MIN_SEGMENT_SIZE_BYTES, RecoveryMode, WalOptions,
};
pub use replay::{WalIter, WalRecord};
pub use stats::{
    METRIC_BYTES_WRITTEN, METRIC_GROUP_SIZE, METRIC_RECORDS_APPENDED, METRIC_SEGMENTS_CREATED,
    METRIC_SEGMENTS_REMOVED, METRIC_SYNC_SECONDS, METRIC_SYNCS, WalStats,
};
pub use transform::MAX_RECORD_LEN;
pub use wal::{MAX_BUFFERED_BYTES, PendingAppend, Wal};

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn the_handles_are_send_and_sync() {
        assert_send_sync::<Wal>();
        assert_send_sync::<std::sync::Arc<Wal>>();
        assert_send_sync::<WalIter>();
        assert_eq!(format::SEGMENT_HEADER_LEN, 40);
    }
}

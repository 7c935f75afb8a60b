//! Counters behind [`WalStats`] and the metrics the log emits through the `metrics` facade.
//!
//! Metric names (all prefixed `lightning_wal_`):
//! - counters `bytes_written_total`, `records_appended_total`, `syncs_total`,
//!   `segments_created_total`, `segments_removed_total`;
//! - histograms `group_commit_records` (records made durable by one fsync) and `sync_seconds`
//!   (fsync latency).

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use lightning_core_storage::Lsn;

/// Counter: bytes written to segment files (headers, fragments, end markers).
pub const METRIC_BYTES_WRITTEN: &str = "lightning_wal_bytes_written_total";
/// Counter: records appended.
pub const METRIC_RECORDS_APPENDED: &str = "lightning_wal_records_appended_total";
/// Counter: fsyncs that made records durable (group commits and background syncs).
pub const METRIC_SYNCS: &str = "lightning_wal_syncs_total";
/// Histogram: records made durable by one fsync (the group size).
pub const METRIC_GROUP_SIZE: &str = "lightning_wal_group_commit_records";
/// Histogram: fsync latency in seconds.
pub const METRIC_SYNC_SECONDS: &str = "lightning_wal_sync_seconds";
/// Counter: segments created.
pub const METRIC_SEGMENTS_CREATED: &str = "lightning_wal_segments_created_total";
/// Counter: segments removed by truncation or recovery.
pub const METRIC_SEGMENTS_REMOVED: &str = "lightning_wal_segments_removed_total";

/// A snapshot of what the log has done since it was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WalStats {
    /// Bytes written to segment files.
    pub bytes_written: u64,
    /// Records appended.
    pub records_appended: u64,
    /// Fsyncs of the log that made records durable (commit groups and background syncs).
    pub syncs: u64,
    /// Fsyncs that made more than one record durable at once.
    pub group_commits: u64,
    /// The most records one fsync made durable.
    pub max_group_size: u64,
    /// Time spent in those fsyncs, in total (divide by `syncs` for the mean).
    pub sync_time: Duration,
    /// Segments created.
    pub segments_created: u64,
    /// Segments removed.
    pub segments_removed: u64,
    /// Segments on disk now.
    pub segments: u64,
    /// The number of the segment being written.
    pub active_segment: u64,
    /// The last LSN appended.
    pub last_lsn: Lsn,
    /// The last LSN known durable.
    pub durable_lsn: Lsn,
    /// Bytes encoded but not yet written (records appended with `Durability::None`).
    pub buffered_bytes: u64,
}

/// The running counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    bytes_written: AtomicU64,
    records_appended: AtomicU64,
    syncs: AtomicU64,
    group_commits: AtomicU64,
    max_group_size: AtomicU64,
    sync_nanos: AtomicU64,
    segments_created: AtomicU64,
    segments_removed: AtomicU64,
}

impl Counters {
    pub(crate) fn appended(&self, records: u64) {
        self.records_appended.fetch_add(records, Ordering::Relaxed);
        metrics::counter!(METRIC_RECORDS_APPENDED).increment(records);
    }

    pub(crate) fn written(&self, bytes: u64) {
        self.bytes_written.fetch_add(bytes, Ordering::Relaxed);
        metrics::counter!(METRIC_BYTES_WRITTEN).increment(bytes);
    }

    pub(crate) fn synced(&self, group_size: u64, latency: Duration) {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        if group_size > 1 {
            self.group_commits.fetch_add(1, Ordering::Relaxed);
        }
        self.max_group_size.fetch_max(group_size, Ordering::Relaxed);
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.sync_nanos.fetch_add(nanos, Ordering::Relaxed);
        metrics::counter!(METRIC_SYNCS).increment(1);
        metrics::histogram!(METRIC_GROUP_SIZE).record(group_size as f64);
        metrics::histogram!(METRIC_SYNC_SECONDS).record(latency.as_secs_f64());
    }

    pub(crate) fn segment_created(&self) {
        self.segments_created.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(METRIC_SEGMENTS_CREATED).increment(1);
    }

    pub(crate) fn segment_removed(&self) {
        self.segments_removed.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(METRIC_SEGMENTS_REMOVED).increment(1);
    }

    /// The counters' part of a [`WalStats`].
    pub(crate) fn snapshot(&self) -> WalStats {
        WalStats {
            bytes_written: self.bytes_written.load(Ordering::Relaxed),
            records_appended: self.records_appended.load(Ordering::Relaxed),
            syncs: self.syncs.load(Ordering::Relaxed),
            group_commits: self.group_commits.load(Ordering::Relaxed),
            max_group_size: self.max_group_size.load(Ordering::Relaxed),
            sync_time: Duration::from_nanos(self.sync_nanos.load(Ordering::Relaxed)),
            segments_created: self.segments_created.load(Ordering::Relaxed),
            segments_removed: self.segments_removed.load(Ordering::Relaxed),
            ..WalStats::default()
        }
    }
}

//! What a caller chooses: durability per append, recovery behaviour at open, and [`WalOptions`].

use lightning_core_storage::codec::Compression;
use lightning_security::DataKey;

use crate::{
    error::{Error, Result},
    format::{FRAGMENT_HEADER_LEN, SEGMENT_HEADER_LEN},
};

/// How durable an appended record is when [`crate::Wal::append`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Written and `fdatasync`ed (shared with concurrent committers: group commit). Survives a
    /// power cut.
    #[default]
    Immediate,
    /// Written to the operating system (`write(2)`); the background syncer makes it durable
    /// within `sync_interval_ms`. Survives a process crash; a power cut may lose it.
    Eventual,
    /// Kept in memory until the next sync, flush, `Immediate` append or `Eventual` write. A
    /// crash of any kind may lose it.
    None,
}

/// What [`crate::Wal::open`] does with damage it finds (the names follow RocksDB's
/// `WALRecoveryMode`). In every mode the recovered log is a prefix of what was written: never
/// a hole, never a record twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecoveryMode {
    /// Any damage, even a torn record at the very tail (what a crash during a write leaves), is
    /// an error. For logs that must have been closed cleanly.
    AbsoluteConsistency,
    /// A torn or damaged tail of the last segment (which was never acknowledged as durable) is
    /// dropped; damage anywhere else is [`Error::Corruption`].
    #[default]
    TolerateCorruptedTail,
    /// Recovery stops at the first damage anywhere and keeps the good prefix; everything after
    /// it, later segments included, is deleted. Acknowledged records after the damage are lost.
    PointInTime,
}

/// The smallest segment size accepted (a segment must hold its header, one fragment and the
/// end marker).
pub const MIN_SEGMENT_SIZE_BYTES: u64 = 512;
/// The largest segment size accepted (fragment lengths are 32-bit).
pub const MAX_SEGMENT_SIZE_BYTES: u64 = 1 << 32;

const _: () = assert!(
    MIN_SEGMENT_SIZE_BYTES as usize >= SEGMENT_HEADER_LEN + 3 * FRAGMENT_HEADER_LEN + 64,
    "a minimal segment holds a header, an end marker and a useful fragment"
);

/// Options of a [`crate::Wal`].
#[derive(Debug, Clone)]
pub struct WalOptions {
    /// Size at which a segment is sealed and the next one started (default 64 MiB). Records
    /// larger than the free space are split into fragments across segments.
    pub segment_size_bytes: u64,
    /// Bound on how long an [`Durability::Eventual`] record waits for the background fsync
    /// (default 100 ms).
    pub sync_interval_ms: u64,
    /// What to do with damage found at open (default [`RecoveryMode::TolerateCorruptedTail`]).
    pub recovery_mode: RecoveryMode,
    /// Per-record compression of payloads (default none). Records say on disk whether they are
    /// compressed, so the setting may change between opens.
    pub compression: Compression,
    /// Per-record encryption of payloads with this key (default none); the associated data
    /// binds a record to its segment, offset and LSN.
    pub encryption: Option<DataKey>,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_size_bytes: 64 << 20,
            sync_interval_ms: 100,
            recovery_mode: RecoveryMode::default(),
            compression: Compression::None,
            encryption: None,
        }
    }
}

impl WalOptions {
    /// Checks the options are in range.
    pub fn validate(&self) -> Result<()> {
        if !(MIN_SEGMENT_SIZE_BYTES..=MAX_SEGMENT_SIZE_BYTES).contains(&self.segment_size_bytes) {
            return Err(Error::InvalidOptions(format!(
                "segment_size_bytes {} is outside {MIN_SEGMENT_SIZE_BYTES}..={MAX_SEGMENT_SIZE_BYTES}",
                self.segment_size_bytes
            )));
        }
        if self.sync_interval_ms > 3_600_000 {
            return Err(Error::InvalidOptions(format!(
                "sync_interval_ms {} exceeds one hour",
                self.sync_interval_ms
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let options = WalOptions::default();
        assert_eq!(options.segment_size_bytes, 64 << 20);
        assert_eq!(options.sync_interval_ms, 100);
        assert_eq!(options.recovery_mode, RecoveryMode::TolerateCorruptedTail);
        assert_eq!(options.compression, Compression::None);
        assert!(options.encryption.is_none());
        assert_eq!(Durability::default(), Durability::Immediate);
        options.validate().unwrap();
    }

    #[test]
    fn out_of_range_options_are_refused() {
        let small = WalOptions { segment_size_bytes: 100, ..WalOptions::default() };
        assert!(matches!(small.validate(), Err(Error::InvalidOptions(_))));
        let huge = WalOptions { segment_size_bytes: 1 << 40, ..WalOptions::default() };
        assert!(matches!(huge.validate(), Err(Error::InvalidOptions(_))));
        let slow = WalOptions { sync_interval_ms: 1 << 40, ..WalOptions::default() };
        assert!(matches!(slow.validate(), Err(Error::InvalidOptions(_))));
    }
}

//! The crate's error type: invalid configurations and a background worker that could not
//! start. Cache lookups themselves never fail; a loader's own error is handed back as is.

/// Errors from building a cache, a buffer pool or a prefetcher.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The shard count is not a power of two within `1..=max`.
    #[error("shard count {shards} is not a power of two in 1..={max}")]
    InvalidShardCount {
        /// The requested shard count.
        shards: usize,
        /// The largest shard count accepted.
        max: usize,
    },
    /// The capacity cannot give every shard at least one byte.
    #[error("capacity of {capacity_bytes} bytes is less than one byte per shard ({shards} shards)")]
    CapacityTooSmall {
        /// The requested capacity.
        capacity_bytes: usize,
        /// The requested shard count.
        shards: usize,
    },
    /// A size or count in a configuration that must be positive is zero.
    #[error("{what} must be at least 1")]
    Zero {
        /// The configuration field.
        what: &'static str,
    },
    /// The prefetcher's background thread could not be started.
    #[error("cannot start the prefetch thread")]
    SpawnWorker(#[source] std::io::Error),
}

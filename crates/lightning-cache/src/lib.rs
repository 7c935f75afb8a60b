//! # lightning-cache
//!
//! The page cache: a sharded, concurrent Adaptive Replacement Cache (ARC) with capacity in
//! bytes, a buffer pool for page-sized buffers, and a sequential/strided prefetch detector.
//!
//! **Walls:** Depends only on `lightning-core-storage` (and today not even on that: the cache
//! is generic over its keys and values). Knows nothing of what the cached bytes mean.
//!
//! **Invariants:** a shard's resident bytes never exceed its share of the capacity, after
//! any operation; ghost lists remember at most twice the capacity; a value handed out is
//! never evicted while its handle is held (the new entry is refused instead); a lookup takes
//! exactly one shard lock and never a global one; `get_or_load` runs at most one loader per
//! key at a time. No `unsafe`.
//!
//! Map: [`cache`](ArcCache) (public operations) → `shard` (lock + in-flight loads) → `arc`
//! (one shard's ARC) → `list` (indexed linked lists); `load` (`get_or_load`), `stats`,
//! `pool` ([`BufferPool`]), `prefetch` ([`PatternDetector`]) and `prefetcher`
//! ([`Prefetcher`]).
//!
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod arc;
mod cache;
mod config;
mod error;
mod list;
mod load;
mod pool;
mod prefetch;
mod prefetcher;
mod shard;
mod stats;

pub use cache::{ArcCache, FileKey};
pub use config::{CacheConfig, DEFAULT_SHARDS, MAX_SHARDS};
pub use error::CacheError;
pub use pool::{BufferPool, PoolStats, PooledBuffer};
pub use prefetch::{PatternDetector, PrefetchConfig, ReadAhead, StreamDetector, StreamId};
pub use prefetcher::{CancelHandle, PageLoader, PrefetchStream, Prefetcher, PrefetcherStats};
pub use stats::{CacheStats, ShardStats};

//! Configuration of an [`ArcCache`](crate::ArcCache): capacity, sharding and metrics name.

use crate::CacheError;

/// The shard count used by [`CacheConfig::new`].
pub const DEFAULT_SHARDS: usize = 16;

/// The largest shard count accepted.
pub const MAX_SHARDS: usize = 1 << 16;

/// How to build an [`ArcCache`](crate::ArcCache).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// The most bytes the resident entries may add up to (sizes as given by the callers).
    /// Divided evenly among the shards; each shard runs its own ARC on its share.
    pub capacity_bytes: usize,
    /// Number of shards, a power of two. More shards mean less lock contention but a coarser
    /// split of the capacity: an entry larger than one shard's share is never cached.
    pub shards: usize,
    /// The value of the `cache` label on the metrics this cache reports.
    pub name: String,
}

impl CacheConfig {
    /// A configuration of `capacity_bytes` over [`DEFAULT_SHARDS`] shards, named `"page"`.
    pub fn new(capacity_bytes: usize) -> Self {
        Self { capacity_bytes, shards: DEFAULT_SHARDS, name: "page".to_owned() }
    }

    /// Sets the shard count (a power of two in `1..=MAX_SHARDS`).
    pub fn with_shards(mut self, shards: usize) -> Self {
        self.shards = shards;
        self
    }

    /// Sets the `cache` label of the reported metrics.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Checks the shard count and that every shard gets at least one byte.
    pub fn validate(&self) -> Result<(), CacheError> {
        if !self.shards.is_power_of_two() || self.shards > MAX_SHARDS {
            return Err(CacheError::InvalidShardCount { shards: self.shards, max: MAX_SHARDS });
        }
        if self.capacity_bytes < self.shards {
            return Err(CacheError::CapacityTooSmall {
                capacity_bytes: self.capacity_bytes,
                shards: self.shards,
            });
        }
        Ok(())
    }

    /// The capacity of shard `index`: an even split, the remainder going to the first shards,
    /// so that the shard capacities add up to `capacity_bytes` exactly.
    pub(crate) fn shard_capacity(&self, index: usize) -> usize {
        let base = self.capacity_bytes / self.shards;
        base + usize::from(index < self.capacity_bytes % self.shards)
    }
}

#[cfg(test)]
mod tests {
    use super::CacheConfig;
    use crate::CacheError;

    #[test]
    fn rejects_bad_shard_counts_and_tiny_capacities() {
        let bad = CacheConfig::new(1 << 20).with_shards(3).validate();
        assert!(matches!(bad, Err(CacheError::InvalidShardCount { shards: 3, .. })));
        let bad = CacheConfig::new(1 << 20).with_shards(0).validate();
        assert!(matches!(bad, Err(CacheError::InvalidShardCount { shards: 0, .. })));
        let tiny = CacheConfig::new(3).with_shards(4).validate();
        assert!(matches!(tiny, Err(CacheError::CapacityTooSmall { capacity_bytes: 3, shards: 4 })));
        assert!(CacheConfig::new(4).with_shards(4).validate().is_ok());
    }

    #[test]
    fn shard_capacities_add_up_to_the_capacity() {
        let config = CacheConfig::new(1003).with_shards(4);
        let caps: Vec<usize> = (0..4).map(|i| config.shard_capacity(i)).collect();
        assert_eq!(caps, [251, 251, 251, 250]);
        assert_eq!(caps.iter().sum::<usize>(), 1003);
    }
}

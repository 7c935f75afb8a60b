//! Keys are spread over every shard even when the hasher spreads them badly: the shard is
//! chosen from a mix of all the hash's bits. (With foldhash, whose seed changes per process,
//! sequential keys sometimes landed in 2 of 8 shards, and the scan-resistance test failed
//! about once in 500 runs.)

use std::hash::{BuildHasherDefault, Hasher};

use lightning_cache::{ArcCache, CacheConfig};

/// The weakest hasher: the key itself, so bits 32 and up of every small key are zero.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[test]
fn sequential_keys_fill_every_shard_even_with_an_identity_hash() {
    let config = CacheConfig::new(1_000 * 4096).with_shards(8);
    let cache: ArcCache<u64, u64, BuildHasherDefault<Identity>> =
        ArcCache::with_hasher(config, BuildHasherDefault::default()).unwrap();
    for key in 0..800u64 {
        cache.insert(key, key, 4096);
    }
    let per_shard: Vec<u64> = cache.stats().shards.iter().map(|s| s.entries).collect();
    assert!(per_shard.iter().all(|&n| n >= 60), "800 keys over 8 shards: {per_shard:?}");
    assert_eq!((0..800).filter(|k| cache.contains(k)).count(), 800, "all of them resident");
}

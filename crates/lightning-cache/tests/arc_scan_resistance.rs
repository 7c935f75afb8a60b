//! ARC's defining behaviour, beside a plain LRU in the same test: a one-pass scan larger than
//! the cache does not evict a frequently used set, where LRU loses all of it.

use std::num::NonZeroUsize;

use lightning_cache::{ArcCache, CacheConfig};
use lru::LruCache;

const PAGE_BYTES: usize = 4096;

/// Replays `keys` through both caches as get-then-insert-on-miss.
fn replay(
    arc: &ArcCache<u64, u64>,
    lru: &mut LruCache<u64, u64>,
    keys: impl IntoIterator<Item = u64>,
) {
    for key in keys {
        if arc.get(&key).is_none() {
            arc.insert(key, key, PAGE_BYTES);
        }
        if lru.get(&key).is_none() {
            lru.put(key, key);
        }
    }
}

/// Runs hot rounds, one scan, then one more hot round; returns the hot keys each cache kept
/// after the scan and the hits of that last round.
fn scan_after_hot_set(pages: usize, shards: usize, hot: u64, scan: u64) -> [(usize, usize); 2] {
    let arc = ArcCache::new(CacheConfig::new(pages * PAGE_BYTES).with_shards(shards)).unwrap();
    let mut lru = LruCache::new(NonZeroUsize::new(pages).unwrap());
    for _ in 0..5 {
        replay(&arc, &mut lru, 0..hot);
    }
    replay(&arc, &mut lru, 1_000_000..1_000_000 + scan);
    arc.check_invariants().unwrap();
    let arc_kept = (0..hot).filter(|k| arc.contains(k)).count();
    let lru_kept = (0..hot).filter(|k| lru.contains(k)).count();
    let hits_before = arc.stats().total.hits;
    let lru_hits = (0..hot).filter(|k| lru.get(k).is_some()).count();
    replay(&arc, &mut lru, 0..hot);
    let arc_hits = (arc.stats().total.hits - hits_before) as usize;
    [(arc_kept, arc_hits), (lru_kept, lru_hits)]
}

#[test]
fn one_pass_scan_keeps_the_hot_set_in_arc_but_flushes_lru() {
    let [(arc_kept, arc_hits), (lru_kept, lru_hits)] = scan_after_hot_set(100, 1, 50, 1_000);
    assert_eq!(arc_kept, 50, "ARC keeps the whole hot set through a scan 10x its size");
    assert_eq!(arc_hits, 50, "and every hot access after the scan hits");
    assert_eq!(lru_kept, 0, "LRU loses the whole hot set to the same scan");
    assert_eq!(lru_hits, 0);
}

#[test]
fn sharded_cache_keeps_the_hot_set_too() {
    let [(arc_kept, arc_hits), (lru_kept, _)] = scan_after_hot_set(1_000, 8, 200, 10_000);
    assert_eq!((arc_kept, arc_hits), (200, 200));
    assert_eq!(lru_kept, 0);
}

#[test]
fn repeated_scans_with_hot_traffic_between_them_cost_arc_nothing() {
    let arc = ArcCache::new(CacheConfig::new(100 * PAGE_BYTES).with_shards(1)).unwrap();
    let mut lru = LruCache::new(NonZeroUsize::new(100).unwrap());
    let mut scan_start = 1_000_000;
    for _ in 0..10 {
        for _ in 0..3 {
            replay(&arc, &mut lru, 0..60);
        }
        replay(&arc, &mut lru, scan_start..scan_start + 500);
        scan_start += 500;
    }
    let (arc_kept, lru_kept) =
        ((0..60).filter(|k| arc.contains(k)).count(), (0..60).filter(|k| lru.contains(k)).count());
    assert_eq!(arc_kept, 60, "ARC still holds the hot set after ten scans");
    assert_eq!(lru_kept, 0);
    let s = arc.stats().total;
    assert!(s.resident_bytes as usize <= 100 * PAGE_BYTES);
    assert_eq!(s.hits + s.misses, 10 * (3 * 60 + 500));
}

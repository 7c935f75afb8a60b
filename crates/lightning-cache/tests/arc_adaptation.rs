//! ARC's adaptation through the public API: a re-inserted B1 ghost grows the T1 target `p`,
//! a re-inserted B2 ghost shrinks it, nothing else moves it, and it stays in `0..=c`.

use lightning_cache::{ArcCache, CacheConfig, ShardStats};

fn shard0(cache: &ArcCache<u64, u64>) -> ShardStats {
    cache.stats().shards[0]
}

#[test]
fn ghost_hits_move_p_the_right_way_on_a_mixed_workload() {
    const CAPACITY: usize = 64 * 1024;
    let cache = ArcCache::new(CacheConfig::new(CAPACITY).with_shards(1)).unwrap();
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let (mut grew, mut shrank) = (0, 0);
    for step in 0..50_000u64 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // A hot set and a larger warm set, both bigger together than the cache: entries
        // fall out of T1 and T2 alike and come back, so both ghost lists get hits.
        let key = if rng & 1 == 0 { (rng >> 8) % 30 } else { 100 + (rng >> 8) % 200 };
        let size = 512 + (key as usize % 4) * 512;
        let before = shard0(&cache);
        if cache.get(&key).is_none() {
            cache.insert(key, key, size);
        }
        let after = shard0(&cache);
        let (p0, p1) = (before.target_t1_bytes, after.target_t1_bytes);
        if after.ghost_hits_b1 > before.ghost_hits_b1 {
            assert!(
                p1 > p0 || p0 == CAPACITY as u64,
                "B1 ghost hit at step {step}: p {p0} -> {p1}"
            );
            grew += 1;
        } else if after.ghost_hits_b2 > before.ghost_hits_b2 {
            assert!(p1 < p0 || p0 == 0, "B2 ghost hit at step {step}: p {p0} -> {p1}");
            shrank += 1;
        } else {
            assert_eq!(p0, p1, "p moved without a ghost hit at step {step}");
        }
        assert!(p1 <= CAPACITY as u64);
    }
    assert!(grew > 100 && shrank > 100, "both directions exercised: {grew} up, {shrank} down");
    cache.check_invariants().unwrap();
}

#[test]
fn p_tracks_the_workload_recency_loop_raises_it_frequency_lowers_it() {
    const PAGE: usize = 100;
    let cache = ArcCache::new(CacheConfig::new(100 * PAGE).with_shards(1)).unwrap();
    let access = |key: u64| {
        if cache.get(&key).is_none() {
            cache.insert(key, key, PAGE);
        }
    };
    // A hot set used twice (T2), then a loop a bit larger than what is left: its keys fall
    // out of T1 into B1 and come back, so p must rise (until the loop has moved to T2).
    for _ in 0..2 {
        (0..50).for_each(access);
    }
    for _ in 0..20 {
        (100..160).for_each(access);
    }
    let risen = shard0(&cache).target_t1_bytes;
    assert!(risen >= 10 * PAGE as u64, "a recency loop drives p up, got {risen}");
    // Now a frequency workload: two alternating hot sets, each used twice, together larger
    // than T2's share; their keys fall out of T2 into B2 and come back, so p must fall.
    for round in 0..40u64 {
        let base = 1_000 + (round % 2) * 100;
        for _ in 0..2 {
            (base..base + 60).for_each(access);
        }
    }
    let fallen = shard0(&cache).target_t1_bytes;
    assert!(fallen < risen, "a frequency workload drives p down: {risen} -> {fallen}");
}

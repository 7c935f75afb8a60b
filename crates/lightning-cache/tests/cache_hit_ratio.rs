//! Hit ratio on synthetic traces beside the `lru` crate: ARC is at least as good as LRU on a
//! Zipf(0.99) trace and clearly better when long one-pass scans pollute it. (The benchmark
//! measures the same on longer traces and reports the numbers.)

#[path = "support/trace.rs"]
mod trace;

const KEYS: usize = 20_000;
const LEN: usize = 200_000;

#[test]
fn arc_matches_or_beats_lru_on_a_zipf_trace() {
    let trace = trace::zipf_trace(KEYS, 0.99, LEN, 7);
    for entries in [200, 2_000] {
        let arc = trace::arc_hit_ratio(&trace, entries, 1);
        let lru = trace::lru_hit_ratio(&trace, entries);
        assert!(arc >= lru, "{entries} entries: ARC {arc:.4} < LRU {lru:.4}");
        assert!(arc > 0.2, "a Zipf(0.99) trace has a hot head: ARC {arc:.4}");
    }
}

#[test]
fn arc_beats_lru_when_scans_pollute_a_zipf_trace() {
    // Every 10,000 requests, a scan of 4,000 cold keys (twice the cache).
    let trace = trace::scan_polluted_trace(KEYS, 0.99, LEN, 10_000, 4_000, 11);
    let entries = 2_000;
    let arc = trace::arc_hit_ratio(&trace, entries, 1);
    let arc_sharded = trace::arc_hit_ratio(&trace, entries, 8);
    let lru = trace::lru_hit_ratio(&trace, entries);
    assert!(arc > lru + 0.02, "ARC {arc:.4} vs LRU {lru:.4}");
    assert!(arc_sharded > lru, "8 shards: ARC {arc_sharded:.4} vs LRU {lru:.4}");
}

//! Benchmark of the page cache beside two baselines in the same run: `lru` (a plain LRU,
//! behind a `parking_lot::Mutex` so that it can be shared) and `quick_cache` (a sharded
//! concurrent cache with a CLOCK-PRO-like policy).
//!
//! * `hit_get/1_thread/*`, `hit_get/2_threads/*`: latency of `get` on resident keys (every
//!   lookup a hit), one thread alone and two threads on the same cache at once.
//! * Hit ratios (printed to stderr before the timings, as a markdown table): a Zipf(0.99)
//!   trace and the same trace polluted by periodic one-pass scans, at two cache sizes.
//!
//! Run: `cargo bench -p lightning-cache --bench cache`.

#[path = "../tests/support/trace.rs"]
mod trace;

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use lightning_cache::{ArcCache, CacheConfig};
use parking_lot::Mutex;

/// Resident keys for the hit-path benchmarks.
const ENTRIES: u64 = 16_384;
/// Length of the pre-generated key sequence (a power of two).
const SEQUENCE: usize = 4_096;
const PAGE_BYTES: usize = 4_096;

type Key = (u64, u64);

/// The three caches, filled with the same `ENTRIES` keys.
struct Caches {
    arc: ArcCache<Key, u64>,
    quick: quick_cache::sync::Cache<Key, Arc<u64>>,
    lru: Mutex<lru::LruCache<Key, Arc<u64>>>,
    keys: Vec<Key>,
}

impl Caches {
    fn new() -> Self {
        let room = 2 * ENTRIES as usize;
        let arc = ArcCache::new(CacheConfig::new(room * PAGE_BYTES)).expect("valid config");
        let quick = quick_cache::sync::Cache::new(room);
        let lru = Mutex::new(lru::LruCache::new(NonZeroUsize::new(room).expect("room > 0")));
        for page in 0..ENTRIES {
            let key = (page % 8, page);
            arc.insert(key, page, PAGE_BYTES);
            quick.insert(key, Arc::new(page));
            lru.lock().put(key, Arc::new(page));
        }
        let mut rng = trace::SplitMix64(42);
        let keys = (0..SEQUENCE).map(|_| rng.next_u64() % ENTRIES).map(|p| (p % 8, p)).collect();
        Self { arc, quick, lru, keys }
    }

    /// Looks up `n` keys of the sequence from `start` with `get`, each a hit.
    fn run(&self, which: Which, start: usize, n: u64) {
        let mut i = start;
        for _ in 0..n {
            i = (i + 1) & (SEQUENCE - 1);
            let key = &self.keys[i];
            let found = match which {
                Which::Arc => self.arc.get(key),
                Which::Quick => self.quick.get(key),
                Which::Lru => self.lru.lock().get(key).cloned(),
            };
            black_box(found);
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Which {
    Arc,
    Quick,
    Lru,
}

const ALL: [(&str, Which); 3] =
    [("lightning_arc", Which::Arc), ("quick_cache", Which::Quick), ("lru_mutex", Which::Lru)];

fn hit_path(c: &mut Criterion) {
    let caches = Caches::new();
    {
        let mut group: BenchmarkGroup<'_, WallTime> = c.benchmark_group("hit_get/1_thread");
        for (name, which) in ALL {
            group.bench_function(name, |b| {
                let mut start = 0;
                b.iter(|| {
                    caches.run(which, start, 1);
                    start = (start + 1) & (SEQUENCE - 1);
                });
            });
        }
        group.finish();
    }
    let mut group = c.benchmark_group("hit_get/2_threads");
    for (name, which) in ALL {
        // Time per lookup as seen by each of two threads running at once.
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                std::thread::scope(|s| {
                    for t in 0..2 {
                        let caches = &caches;
                        s.spawn(move || caches.run(which, t * SEQUENCE / 2, iters));
                    }
                });
                start.elapsed()
            });
        });
    }
    group.finish();
    assert!(caches.arc.stats().total.misses == 0, "the hit-path benchmark only hits");
}

/// Prints hit ratios of ARC (1 and 16 shards), LRU and quick_cache on both traces.
fn hit_ratios() {
    const KEYS: usize = 100_000;
    const LEN: usize = 2_000_000;
    let zipf = trace::zipf_trace(KEYS, 0.99, LEN, 1);
    let started = Instant::now();
    eprintln!(
        "\nHit ratio, {LEN} requests over {KEYS} keys (get, insert on miss; unit-size entries)\n"
    );
    eprintln!("| trace | cache entries | ARC 1 shard | ARC 16 shards | lru (LRU) | quick_cache |");
    eprintln!("|---|---:|---:|---:|---:|---:|");
    for entries in [1_000, 10_000] {
        // Every 50,000 Zipf requests, a one-pass scan of twice the cache's size in cold keys.
        let polluted = trace::scan_polluted_trace(KEYS, 0.99, LEN, 50_000, 2 * entries, 2);
        for (name, t) in [("zipf 0.99", &zipf), ("zipf 0.99 + scans", &polluted)] {
            eprintln!(
                "| {name} | {entries} | {:.4} | {:.4} | {:.4} | {:.4} |",
                trace::arc_hit_ratio(t, entries, 1),
                trace::arc_hit_ratio(t, entries, 16),
                trace::lru_hit_ratio(t, entries),
                trace::quick_cache_hit_ratio(t, entries),
            );
        }
    }
    eprintln!("\n(hit ratios computed in {:.1?})\n", started.elapsed());
}

fn benches(c: &mut Criterion) {
    hit_ratios();
    hit_path(c);
}

criterion_group! {
    name = cache;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(20);
    targets = benches
}
criterion_main!(cache);

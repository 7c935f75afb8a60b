//! Statistics through the `metrics` facade: `report_metrics` publishes the totals of
//! `stats()` with the cache's name as the `cache` label, and nothing is published before.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use lightning_cache::{ArcCache, CacheConfig};
use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, Key, KeyName, Metadata, Recorder, SharedString,
    Unit,
};

/// Metric values by `name{label=value,...}`.
type Values = Arc<Mutex<BTreeMap<String, f64>>>;

/// A recorder that keeps the last value of every counter and gauge.
#[derive(Default)]
struct Capture {
    values: Values,
}

struct Cell {
    key: String,
    values: Values,
}

impl Cell {
    fn update(&self, f: impl FnOnce(f64) -> f64) {
        let mut values = self.values.lock().unwrap();
        let slot = values.entry(self.key.clone()).or_insert(0.0);
        *slot = f(*slot);
    }
}

impl CounterFn for Cell {
    fn increment(&self, value: u64) {
        self.update(|v| v + value as f64);
    }
    fn absolute(&self, value: u64) {
        self.update(|_| value as f64);
    }
}

impl GaugeFn for Cell {
    fn increment(&self, value: f64) {
        self.update(|v| v + value);
    }
    fn decrement(&self, value: f64) {
        self.update(|v| v - value);
    }
    fn set(&self, value: f64) {
        self.update(|_| value);
    }
}

impl Capture {
    fn cell(&self, key: &Key) -> Arc<Cell> {
        let labels: Vec<String> =
            key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
        Arc::new(Cell {
            key: format!("{}{{{}}}", key.name(), labels.join(",")),
            values: self.values.clone(),
        })
    }

    fn get(&self, key: &str) -> Option<f64> {
        self.values.lock().unwrap().get(key).copied()
    }
}

impl Recorder for Capture {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.cell(key))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.cell(key))
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

#[test]
fn report_metrics_publishes_the_totals_with_the_cache_label() {
    let recorder = Capture::default();
    let cache: ArcCache<u64, u64> =
        ArcCache::new(CacheConfig::new(1_000).with_shards(2).with_name("btree")).unwrap();
    metrics::with_local_recorder(&recorder, || {
        for key in 0..30 {
            cache.insert(key, key, 100);
            cache.get(&key);
            cache.get(&(key + 1_000));
        }
    });
    assert!(recorder.values.lock().unwrap().is_empty(), "lookups publish nothing by themselves");

    metrics::with_local_recorder(&recorder, || cache.report_metrics());
    let s = cache.stats().total;
    let metric = |name: &str| recorder.get(&format!("{name}{{cache=btree}}"));
    assert_eq!(metric("lightning_cache_hits_total"), Some(s.hits as f64));
    assert_eq!(metric("lightning_cache_misses_total"), Some(s.misses as f64));
    assert_eq!(metric("lightning_cache_evictions_total"), Some(s.evictions as f64));
    assert_eq!(metric("lightning_cache_resident_bytes"), Some(s.resident_bytes as f64));
    assert_eq!(metric("lightning_cache_entries"), Some(s.entries as f64));
    assert_eq!(metric("lightning_cache_capacity_bytes"), Some(1_000.0));
    assert_eq!(
        recorder.get("lightning_cache_ghost_hits_total{cache=btree,list=b1}"),
        Some(s.ghost_hits_b1 as f64)
    );
    assert_eq!((s.hits, s.misses), (30, 30));
    assert!(s.evictions > 0 && s.resident_bytes <= 1_000);

    // Counters are absolute totals: reporting twice does not double them.
    metrics::with_local_recorder(&recorder, || cache.report_metrics());
    assert_eq!(metric("lightning_cache_hits_total"), Some(30.0));
}

#[test]
fn per_shard_statistics_add_up_to_the_total() {
    let cache: ArcCache<u64, u64> =
        ArcCache::new(CacheConfig::new(1 << 20).with_shards(8)).unwrap();
    for key in 0..1_000 {
        cache.insert(key, key, 10);
        cache.get(&(key / 2));
    }
    let stats = cache.stats();
    assert_eq!(stats.shards.len(), 8);
    assert!(stats.shards.iter().all(|s| s.entries > 0), "keys spread over every shard");
    let entries: u64 = stats.shards.iter().map(|s| s.entries).sum();
    let hits: u64 = stats.shards.iter().map(|s| s.hits).sum();
    assert_eq!((stats.total.entries, entries), (1_000, 1_000));
    assert_eq!(stats.total.hits, hits);
    assert_eq!(stats.total.hit_ratio(), 1.0);
    assert_eq!((cache.len(), cache.resident_bytes()), (1_000, 10_000));
}

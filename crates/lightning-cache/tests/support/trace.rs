//! Synthetic access traces and hit-ratio simulation, shared by the hit-ratio test and the
//! benchmark (included with `#[path]`): a Zipf generator, a scan-polluted variant, and
//! replays of a trace through ARC, `lru` and `quick_cache`.
#![allow(dead_code)] // each includer uses a different part

use std::num::NonZeroUsize;

use lightning_cache::{ArcCache, CacheConfig};

/// SplitMix64: a small, seedable, good-enough generator.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Zipf over ranks `0..n` with exponent `theta` (rank 0 most popular), by inverse CDF.
#[derive(Debug)]
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize, theta: f64) -> Self {
        let mut cdf = Vec::with_capacity(n);
        let mut sum = 0.0;
        for rank in 1..=n {
            sum += 1.0 / (rank as f64).powf(theta);
            cdf.push(sum);
        }
        cdf.iter_mut().for_each(|c| *c /= sum);
        Self { cdf }
    }

    pub fn sample(&self, rng: &mut SplitMix64) -> u64 {
        let u = rng.next_f64();
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1) as u64
    }
}

/// `len` keys drawn from Zipf(`theta`) over the keys `0..keys` (the key is the rank; the
/// caches hash their keys, so adjacency of popular keys does not matter).
pub fn zipf_trace(keys: usize, theta: f64, len: usize, seed: u64) -> Vec<u64> {
    let zipf = Zipf::new(keys, theta);
    let mut rng = SplitMix64(seed);
    (0..len).map(|_| zipf.sample(&mut rng)).collect()
}

/// A Zipf trace in which, after every `scan_every` requests, a one-pass scan reads
/// `scan_len` keys never seen before (like a range query over cold data).
pub fn scan_polluted_trace(
    keys: usize,
    theta: f64,
    len: usize,
    scan_every: usize,
    scan_len: usize,
    seed: u64,
) -> Vec<u64> {
    let zipf = Zipf::new(keys, theta);
    let mut rng = SplitMix64(seed);
    let mut next_cold = keys as u64;
    let mut trace = Vec::with_capacity(len);
    while trace.len() < len {
        for _ in 0..scan_every.min(len - trace.len()) {
            trace.push(zipf.sample(&mut rng));
        }
        for _ in 0..scan_len.min(len - trace.len()) {
            trace.push(next_cold);
            next_cold += 1;
        }
    }
    trace
}

/// Hit ratio of an [`ArcCache`] of `entries` unit-sized entries over `shards` shards,
/// replaying `trace` as get-then-insert-on-miss.
pub fn arc_hit_ratio(trace: &[u64], entries: usize, shards: usize) -> f64 {
    let cache: ArcCache<u64, ()> =
        ArcCache::new(CacheConfig::new(entries).with_shards(shards)).expect("valid config");
    let mut hits = 0usize;
    for &key in trace {
        if cache.get(&key).is_some() {
            hits += 1;
        } else {
            cache.insert(key, (), 1);
        }
    }
    hits as f64 / trace.len() as f64
}

/// Hit ratio of an `lru::LruCache` of `entries` entries.
pub fn lru_hit_ratio(trace: &[u64], entries: usize) -> f64 {
    let mut cache = lru::LruCache::new(NonZeroUsize::new(entries).expect("entries > 0"));
    let mut hits = 0usize;
    for &key in trace {
        if cache.get(&key).is_some() {
            hits += 1;
        } else {
            cache.put(key, ());
        }
    }
    hits as f64 / trace.len() as f64
}

/// Hit ratio of a `quick_cache::unsync::Cache` of `entries` entries (CLOCK-PRO-like).
pub fn quick_cache_hit_ratio(trace: &[u64], entries: usize) -> f64 {
    let mut cache = quick_cache::unsync::Cache::new(entries);
    let mut hits = 0usize;
    for &key in trace {
        if cache.get(&key).is_some() {
            hits += 1;
        } else {
            cache.insert(key, ());
        }
    }
    hits as f64 / trace.len() as f64
}

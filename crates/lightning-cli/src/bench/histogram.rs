//! A latency histogram with log-linear buckets: every power of two is split into 16 equal
//! buckets, so a percentile is within 1/16 (6.25%) of the true value at any scale, in a fixed
//! 8 KiB of counters. Minimum and maximum are exact.

use std::time::Duration;

/// Linear buckets per power of two (`2^SUB_BITS`).
const SUB_BITS: u32 = 4;
const SUB_BUCKETS: usize = 1 << SUB_BITS;
/// Enough buckets for every `u64` nanosecond count.
const BUCKETS: usize = SUB_BUCKETS + (64 - SUB_BITS as usize) * SUB_BUCKETS;

/// Operation latencies, recorded in nanoseconds.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    count: u64,
    min_nanos: u64,
    max_nanos: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: vec![0; BUCKETS], count: 0, min_nanos: u64::MAX, max_nanos: 0 }
    }
}

/// The bucket holding `nanos`.
fn bucket_of(nanos: u64) -> usize {
    if nanos < SUB_BUCKETS as u64 {
        return nanos as usize;
    }
    let exponent = nanos.ilog2(); // >= SUB_BITS
    let sub = (nanos >> (exponent - SUB_BITS)) as usize & (SUB_BUCKETS - 1);
    SUB_BUCKETS + (exponent - SUB_BITS) as usize * SUB_BUCKETS + sub
}

/// The largest value in bucket `index`.
fn bucket_upper(index: usize) -> u64 {
    if index < SUB_BUCKETS {
        return index as u64;
    }
    let exponent = ((index - SUB_BUCKETS) / SUB_BUCKETS) as u32 + SUB_BITS;
    let sub = ((index - SUB_BUCKETS) % SUB_BUCKETS) as u64;
    let width = 1u64 << (exponent - SUB_BITS);
    let lower = (1u64 << exponent) | (sub << (exponent - SUB_BITS));
    lower + (width - 1)
}

impl Histogram {
    /// Records one operation that took `latency`.
    pub fn record(&mut self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.record_nanos(nanos);
    }

    /// Records one operation that took `nanos` nanoseconds.
    pub fn record_nanos(&mut self, nanos: u64) {
        self.counts[bucket_of(nanos)] += 1;
        self.count += 1;
        self.min_nanos = self.min_nanos.min(nanos);
        self.max_nanos = self.max_nanos.max(nanos);
    }

    /// Adds every recording of `other` (for merging per-thread histograms).
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.count += other.count;
        self.min_nanos = self.min_nanos.min(other.min_nanos);
        self.max_nanos = self.max_nanos.max(other.max_nanos);
    }

    /// Number of recordings.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The largest recording (zero when empty).
    pub fn max_nanos(&self) -> u64 {
        self.max_nanos
    }

    /// The `percentile` (0..=100) in nanoseconds: the upper end of the bucket holding that
    /// rank, clamped to the exact minimum and maximum (which are exact for the first and last
    /// rank). Zero when empty.
    pub fn percentile_nanos(&self, percentile: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let fraction = (percentile / 100.0).clamp(0.0, 1.0);
        let rank = ((fraction * self.count as f64).ceil() as u64).clamp(1, self.count);
        // The smallest and largest recordings are known exactly.
        if rank == 1 {
            return self.min_nanos;
        }
        if rank == self.count {
            return self.max_nanos;
        }
        let mut seen = 0;
        for (index, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return bucket_upper(index).clamp(self.min_nanos, self.max_nanos);
            }
        }
        self.max_nanos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order() {
        let samples = [0, 1, 15, 16, 17, 31, 32, 1000, 123_456_789, u64::MAX / 3, u64::MAX];
        for &v in &samples {
            let b = bucket_of(v);
            assert!(b < BUCKETS, "{v} -> {b}");
            assert!(bucket_upper(b) >= v, "{v} above its bucket's upper end");
            if b > 0 {
                assert!(bucket_upper(b - 1) < v, "{v} belongs to an earlier bucket");
            }
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
        for b in 1..BUCKETS {
            assert!(bucket_upper(b) > bucket_upper(b - 1));
        }
    }

    #[test]
    fn percentiles_are_within_one_sixteenth() {
        let mut h = Histogram::default();
        for v in 1..=10_000u64 {
            h.record_nanos(v * 1000);
        }
        for (p, exact) in [(50.0, 5_000_000.0), (95.0, 9_500_000.0), (99.0, 9_900_000.0)] {
            let got = h.percentile_nanos(p) as f64;
            assert!(got >= exact && got <= exact * (1.0 + 1.0 / 16.0), "p{p}: {got} vs {exact}");
        }
        assert_eq!(h.percentile_nanos(100.0), 10_000_000);
        assert_eq!(h.percentile_nanos(0.0), 1000);
        assert_eq!(h.max_nanos(), 10_000_000);
        assert_eq!(h.count(), 10_000);
    }

    #[test]
    fn a_single_value_is_every_percentile() {
        let mut h = Histogram::default();
        h.record(Duration::from_micros(7));
        for p in [0.0, 50.0, 99.9, 100.0] {
            assert_eq!(h.percentile_nanos(p), 7000);
        }
    }

    #[test]
    fn empty_and_merged_histograms() {
        let empty = Histogram::default();
        assert_eq!(empty.percentile_nanos(50.0), 0);
        assert_eq!(empty.max_nanos(), 0);
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        (0..100).for_each(|_| a.record_nanos(10));
        (0..100).for_each(|_| b.record_nanos(1_000_000));
        a.merge(&b);
        a.merge(&empty);
        assert_eq!(a.count(), 200);
        assert_eq!(a.percentile_nanos(50.0), 10);
        assert!(a.percentile_nanos(51.0) >= 1_000_000);
        assert_eq!(a.max_nanos(), 1_000_000);
    }
}

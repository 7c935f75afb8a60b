//! Workload inputs: the scaled sizes and the deterministic key and value generators (the
//! table's rows are in `rows.rs`).
//!
//! Keys are a pure function of (key space, index), so any phase can regenerate any key without
//! storing it: random keys are three rounds of the SplitMix64 finaliser, a bijection on `u64`,
//! so two different (space, index) pairs never give the same key, and a "missing" key can
//! never collide with a loaded one. Values are slices of one random pool at an offset derived
//! from the index: unique enough, free to produce, and checkable by fingerprint.

use std::time::Duration;

/// Bytes in every key (the 24-byte keys).
pub const KEY_LEN: usize = 24;
/// Bytes in every value of the load, write and read rows.
pub const VALUE_LEN: usize = 150;
/// Bytes in every YCSB record (YCSB's default: 10 fields of 100 bytes).
pub const YCSB_VALUE_LEN: usize = 1000;
/// Entries read per range read (seek + 10 next).
pub const RANGE_LEN: usize = 10;
/// Keys per transaction in the batch-writes row and the YCSB load.
pub const BATCH_SIZE: u64 = 1000;
/// Size of the random pool values are cut from.
const POOL_BYTES: usize = 1 << 20;

/// The SplitMix64 finaliser: a bijection on `u64` with good avalanche.
pub fn mix64(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// SplitMix64: small, fast, seedable; every thread gets its own.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose sequence depends only on `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(mix64(seed ^ 0x5EED))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-shift.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Disjoint families of random keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpace {
    /// The bulk-loaded keys.
    Loaded = 1,
    /// Keys written after the load (individual, threaded, batch, no-sync writes).
    Written = 2,
    /// Keys that are never written.
    Missing = 3,
    /// YCSB records (loaded and inserted).
    Ycsb = 4,
}

/// The `index`-th key of `space` (`index < 2^56`).
pub fn random_key(space: KeySpace, index: u64) -> [u8; KEY_LEN] {
    debug_assert!(index < 1 << 56, "key index {index} out of range");
    let mut key = [0u8; KEY_LEN];
    let mut word = mix64(((space as u64) << 56) ^ index);
    for chunk in key.chunks_exact_mut(8) {
        chunk.copy_from_slice(&word.to_be_bytes());
        word = mix64(word);
    }
    key
}

/// The `index`-th key of the sorted load: ascending with `index`.
pub fn sorted_key(index: u64) -> [u8; KEY_LEN] {
    let mut key = [0u8; KEY_LEN];
    key[..16].copy_from_slice(b"sorted-load-key:");
    key[16..].copy_from_slice(&index.to_be_bytes());
    key
}

/// A cheap summary of a value that every engine computes the same way on every read.
pub fn fingerprint(value: &[u8]) -> u64 {
    match (value.first(), value.last()) {
        (Some(&first), Some(&last)) => {
            ((value.len() as u64) << 16) | (u64::from(first) << 8) | u64::from(last)
        }
        _ => 0,
    }
}

/// Random bytes that values are cut from.
#[derive(Debug)]
pub struct ValuePool {
    bytes: Vec<u8>,
}

impl ValuePool {
    /// One MiB of random bytes from a fixed seed.
    pub fn new() -> Self {
        let mut rng = Rng::new(0x00FA_11ED);
        let bytes = (0..POOL_BYTES / 8).flat_map(|_| rng.next_u64().to_le_bytes()).collect();
        ValuePool { bytes }
    }

    /// The value of the `index`-th entry: `len` bytes (`len <= 64 KiB`).
    pub fn value(&self, index: u64, len: usize) -> &[u8] {
        let offsets = (self.bytes.len() - len + 1) as u64;
        let offset = (mix64(index ^ 0xDA7A) % offsets) as usize;
        &self.bytes[offset..offset + len]
    }
}

impl Default for ValuePool {
    fn default() -> Self {
        Self::new()
    }
}

/// How much work each row does; the sizes times `--scale`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sizes {
    pub scale: f64,
    pub load_keys: u64,
    pub individual_writes: u64,
    pub thread_commits: u64,
    pub batches: u64,
    pub nosync_writes: u64,
    pub reads: u64,
    pub range_reads: u64,
    pub ycsb_records: u64,
    pub ycsb_duration: Duration,
}

fn scaled(base: u64, scale: f64, floor: u64) -> u64 {
    ((base as f64 * scale).round() as u64).max(floor)
}

impl Sizes {
    /// The sizes multiplied by `scale`, each with a small floor so a tiny scale still
    /// measures something; YCSB runs for `ycsb_secs` per mix.
    pub fn new(scale: f64, ycsb_secs: f64) -> Sizes {
        Sizes {
            scale,
            load_keys: scaled(1_000_000, scale, 1_000),
            individual_writes: scaled(1_000, scale, 16),
            thread_commits: scaled(1_000, scale, 64),
            batches: scaled(100, scale, 2),
            nosync_writes: scaled(10_000, scale, 100),
            reads: scaled(1_000_000, scale, 1_000),
            range_reads: scaled(500_000, scale, 500),
            ycsb_records: scaled(100_000, scale, 1_000),
            ycsb_duration: Duration::from_secs_f64(ycsb_secs),
        }
    }

    /// Keys deleted by the removal row: the first half of the loaded keys.
    pub fn removals(&self) -> u64 {
        self.load_keys / 2
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn random_keys_are_deterministic_distinct_and_disjoint_by_space() {
        assert_eq!(random_key(KeySpace::Loaded, 7), random_key(KeySpace::Loaded, 7));
        let loaded: HashSet<_> = (0..20_000).map(|i| random_key(KeySpace::Loaded, i)).collect();
        assert_eq!(loaded.len(), 20_000);
        for space in [KeySpace::Written, KeySpace::Missing, KeySpace::Ycsb] {
            assert!((0..20_000).all(|i| !loaded.contains(&random_key(space, i))), "{space:?}");
        }
    }

    #[test]
    fn random_keys_are_spread_and_sorted_keys_ascend() {
        let first_bytes: HashSet<u8> =
            (0..4_096).map(|i| random_key(KeySpace::Loaded, i)[0]).collect();
        assert!(first_bytes.len() > 200, "first bytes poorly spread: {}", first_bytes.len());
        let sorted: Vec<_> = (0..1_000).map(sorted_key).collect();
        assert!(sorted.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(sorted_key(0).len(), KEY_LEN);
    }

    #[test]
    fn values_have_their_length_and_a_stable_fingerprint() {
        let pool = ValuePool::new();
        for index in [0, 1, 999_999] {
            assert_eq!(pool.value(index, VALUE_LEN).len(), VALUE_LEN);
            assert_eq!(pool.value(index, YCSB_VALUE_LEN).len(), YCSB_VALUE_LEN);
            let again = ValuePool::new();
            assert_eq!(
                fingerprint(pool.value(index, VALUE_LEN)),
                fingerprint(again.value(index, VALUE_LEN))
            );
        }
        assert_eq!(fingerprint(b""), 0);
        assert_eq!(fingerprint(b"ab"), (2 << 16) | (u64::from(b'a') << 8) | u64::from(b'b'));
    }

    #[test]
    fn rng_bounds_hold() {
        let mut rng = Rng::new(1);
        assert!((0..10_000).all(|_| rng.below(7) < 7));
        assert!((0..10_000).map(|_| rng.unit()).all(|u| (0.0..1.0).contains(&u)));
    }
}

//! The db_bench-style workloads and what they need that is not a database: the workload names,
//! key formatting, a small deterministic random generator and a source of value bytes.

use std::{fmt, sync::Arc};

/// A built-in workload (the names and meanings follow LevelDB/RocksDB `db_bench`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workload {
    /// Write N keys in ascending order into a fresh database.
    FillSeq,
    /// Write N keys in random order into a fresh database.
    FillRandom,
    /// Overwrite N random existing keys.
    Overwrite,
    /// Read N random keys.
    ReadRandom,
    /// Read N entries in key order with one iterator.
    ReadSeq,
    /// Seek to N random keys (a range scan's first step) and read the entry found.
    SeekRandom,
    /// Read N random keys while one extra thread overwrites random keys.
    ReadWhileWriting,
}

impl Workload {
    /// Every workload, in the default order.
    pub const ALL: [Workload; 7] = [
        Workload::FillSeq,
        Workload::FillRandom,
        Workload::Overwrite,
        Workload::ReadRandom,
        Workload::ReadSeq,
        Workload::SeekRandom,
        Workload::ReadWhileWriting,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Workload::FillSeq => "fillseq",
            Workload::FillRandom => "fillrandom",
            Workload::Overwrite => "overwrite",
            Workload::ReadRandom => "readrandom",
            Workload::ReadSeq => "readseq",
            Workload::SeekRandom => "seekrandom",
            Workload::ReadWhileWriting => "readwhilewriting",
        }
    }

    /// Parses a name written by [`Workload::name`] (the clap value parser).
    pub fn parse(name: &str) -> Result<Workload, String> {
        let name = name.trim();
        Workload::ALL.into_iter().find(|w| w.name() == name).ok_or_else(|| {
            let known: Vec<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
            format!("unknown workload `{name}`; known: {}", known.join(", "))
        })
    }

    /// True for the workloads that start from an empty database, as in db_bench.
    pub fn wants_fresh_database(self) -> bool {
        matches!(self, Workload::FillSeq | Workload::FillRandom)
    }

    /// True for the workloads whose operations are writes.
    pub fn writes(self) -> bool {
        matches!(self, Workload::FillSeq | Workload::FillRandom | Workload::Overwrite)
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Formats key numbers as zero-padded decimal of a fixed width, so key order is number order.
#[derive(Debug, Clone, Copy)]
pub struct KeyFormat {
    key_size: usize,
}

/// Number of decimal digits of `n` (at least 1).
fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |log| log as usize + 1)
}

impl KeyFormat {
    /// Keys of `key_size` bytes for the numbers `0..num`; an error if they cannot be distinct.
    pub fn new(key_size: usize, num: u64) -> Result<KeyFormat, String> {
        let needed = digits(num.saturating_sub(1));
        if key_size < needed {
            return Err(format!(
                "--key-size {key_size} cannot hold {num} distinct keys; use at least {needed}"
            ));
        }
        Ok(KeyFormat { key_size })
    }

    /// Writes the key for `n` into `out` (cleared first).
    pub fn write(&self, n: u64, out: &mut Vec<u8>) {
        out.clear();
        let text = n.to_string();
        out.resize(self.key_size.saturating_sub(text.len()), b'0');
        out.extend_from_slice(text.as_bytes());
    }

    /// Bytes per key.
    pub fn key_size(&self) -> usize {
        self.key_size
    }
}

/// A small, fast, deterministic random generator (SplitMix64): each thread gets its own seed,
/// so runs are repeatable.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0), without modulo bias worth measuring.
    pub fn below(&mut self, bound: u64) -> u64 {
        debug_assert!(bound > 0, "below(0) has no answer");
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }
}

/// Value bytes: a pool of random bytes from which each value is a slice at a moving offset
/// (like db_bench's `RandomGenerator`, without its compressible half: this build does not
/// compress values). One pool is shared by every thread; each thread reads it from its own
/// offset.
#[derive(Debug, Clone)]
pub struct ValueSource {
    pool: Arc<[u8]>,
    position: usize,
    value_size: usize,
}

impl ValueSource {
    /// Values of `value_size` bytes, drawn from `rng`.
    pub fn new(value_size: usize, rng: &mut Rng) -> ValueSource {
        let len = (1 << 20).max(value_size * 2);
        let mut pool = Vec::with_capacity(len + 8);
        while pool.len() < len {
            pool.extend_from_slice(&rng.next_u64().to_le_bytes());
        }
        pool.truncate(len);
        ValueSource { pool: pool.into(), position: 0, value_size }
    }

    /// A source sharing this one's pool, starting at an offset drawn from `rng`.
    pub fn fork(&self, rng: &mut Rng) -> ValueSource {
        let starts = (self.pool.len() - self.value_size) as u64 + 1;
        ValueSource { position: rng.below(starts) as usize, ..self.clone() }
    }

    /// The next value.
    pub fn next_value(&mut self) -> &[u8] {
        if self.position + self.value_size > self.pool.len() {
            self.position = 0;
        }
        let start = self.position;
        self.position += self.value_size.max(1);
        &self.pool[start..start + self.value_size]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for w in Workload::ALL {
            assert_eq!(Workload::parse(w.name()), Ok(w));
            assert_eq!(w.to_string(), w.name());
        }
        assert!(Workload::parse("fillbatch").unwrap_err().contains("known: fillseq, fillrandom"));
    }

    #[test]
    fn keys_are_fixed_width_and_ordered_like_numbers() {
        let format = KeyFormat::new(16, 1_000_000).unwrap();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        format.write(9, &mut a);
        format.write(10, &mut b);
        assert_eq!(a, b"0000000000000009");
        assert!(a < b);
        assert_eq!(format.key_size(), 16);
        let tight = KeyFormat::new(3, 1000).unwrap();
        tight.write(999, &mut a);
        assert_eq!(a, b"999");
    }

    #[test]
    fn keys_that_cannot_be_distinct_are_refused() {
        assert!(KeyFormat::new(3, 1001).unwrap_err().contains("use at least 4"));
        assert!(KeyFormat::new(1, 1).is_ok());
        assert!(KeyFormat::new(20, u64::MAX).is_ok());
    }

    #[test]
    fn rng_is_deterministic_and_in_bounds() {
        let (mut a, mut b) = (Rng::new(301), Rng::new(301));
        let xs: Vec<u64> = (0..100).map(|_| a.below(10)).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.below(10)).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|&x| x < 10));
        let mut seen = [false; 10];
        xs.iter().for_each(|&x| seen[x as usize] = true);
        assert!(seen.iter().all(|&s| s), "every value in 0..10 appears in 100 draws");
    }

    #[test]
    fn values_have_the_requested_size() {
        let mut rng = Rng::new(1);
        for size in [0, 1, 100, 3 << 20] {
            let mut source = ValueSource::new(size, &mut rng);
            for _ in 0..5 {
                assert_eq!(source.next_value().len(), size);
            }
        }
        let mut source = ValueSource::new(100, &mut rng);
        let first = source.next_value().to_vec();
        assert_ne!(source.next_value(), first.as_slice());
        let mut fork = source.fork(&mut rng);
        assert_eq!(fork.next_value().len(), 100);
        assert!(Arc::ptr_eq(&fork.pool, &source.pool), "forks share the pool");
    }
}

//! Bloom filters over user keys: a table's filter answers "maybe" or "certainly not" for a
//! key without reading a data block.
//!
//! Each key is hashed once with xxh3-128; its `k` probe positions come from double hashing
//! (Kirsch and Mitzenmacher: probe `i` is `h1 + i * h2`), mapped onto the bit array by a
//! multiply-shift instead of a division. With `b` bits per key the filter uses
//! `k = round(b * ln 2)` probes, which minimises the false-positive rate
//! `(1 - e^(-k/b))^k` (about 0.82% at 10 bits per key). The byte layout is in
//! `docs/format/sstable.md` ("Filter block").

use xxhash_rust::xxh3::xxh3_128;

/// The most probes a filter may use (format limit).
pub const MAX_PROBES: u8 = 30;

/// How many probes minimise the false-positive rate at `bits_per_key` (at least 1).
pub fn probes_for(bits_per_key: u32) -> u8 {
    let probes = (f64::from(bits_per_key) * std::f64::consts::LN_2).round();
    probes.clamp(1.0, f64::from(MAX_PROBES)) as u8
}

/// The false-positive rate theory predicts for a bloom filter of `bits` bits holding `keys`
/// keys with `probes` probes: `(1 - e^(-probes * keys / bits))^probes`.
pub fn theoretical_false_positive_rate(bits: u64, keys: u64, probes: u8) -> f64 {
    let k = f64::from(probes);
    let fill = 1.0 - (-k * keys as f64 / bits as f64).exp();
    fill.powf(k)
}

/// The two 64-bit halves of a key's hash.
fn key_hash(key: &[u8]) -> (u64, u64) {
    let hash = xxh3_128(key);
    (hash as u64, (hash >> 64) as u64)
}

/// Probe `i` of a key with hash halves `(h1, h2)`, as a bit number below `num_bits`.
fn probe(h1: u64, h2: u64, i: u64, num_bits: u64) -> u64 {
    let mixed = h1.wrapping_add(i.wrapping_mul(h2));
    ((u128::from(mixed) * u128::from(num_bits)) >> 64) as u64
}

/// Collects the keys of one table and lays out its filter.
#[derive(Debug)]
pub struct BloomFilterBuilder {
    bits_per_key: u32,
    hashes: Vec<(u64, u64)>,
}

impl BloomFilterBuilder {
    /// A builder for a filter of `bits_per_key` bits per key (at least 1).
    pub fn new(bits_per_key: u32) -> Self {
        BloomFilterBuilder { bits_per_key: bits_per_key.max(1), hashes: Vec::new() }
    }

    /// Adds a key (the caller adds each distinct key once).
    pub fn add_key(&mut self, key: &[u8]) {
        self.hashes.push(key_hash(key));
    }

    /// Keys added so far.
    pub fn keys(&self) -> u64 {
        self.hashes.len() as u64
    }

    /// The filter's bytes: the bit array (at least 8 bytes), then the probe count.
    pub fn finish(&self) -> Vec<u8> {
        let wanted_bits = self.keys().saturating_mul(u64::from(self.bits_per_key)).max(64);
        let num_bytes = wanted_bits.div_ceil(8) as usize;
        let num_bits = num_bytes as u64 * 8;
        let probes = probes_for(self.bits_per_key);
        let mut out = vec![0u8; num_bytes + 1];
        for &(h1, h2) in &self.hashes {
            for i in 0..u64::from(probes) {
                let bit = probe(h1, h2, i, num_bits);
                out[(bit / 8) as usize] |= 1 << (bit % 8);
            }
        }
        out[num_bytes] = probes;
        out
    }
}

/// A filter read back from a table (held in memory while the table is open).
#[derive(Debug, Clone)]
pub struct BloomFilter {
    bits: Vec<u8>,
    probes: u8,
}

impl BloomFilter {
    /// Decodes a filter's bytes; `Err` says what is wrong with them.
    pub fn decode(mut bytes: Vec<u8>) -> Result<BloomFilter, String> {
        let probes = bytes.pop().ok_or("an empty filter")?;
        if bytes.len() < 8 {
            return Err(format!("a bit array of {} bytes (at least 8)", bytes.len()));
        }
        if probes == 0 || probes > MAX_PROBES {
            return Err(format!("{probes} probes (1 to {MAX_PROBES})"));
        }
        Ok(BloomFilter { bits: bytes, probes })
    }

    /// False if `key` was certainly not added; true if it may have been.
    pub fn may_contain(&self, key: &[u8]) -> bool {
        let (h1, h2) = key_hash(key);
        let num_bits = self.num_bits();
        (0..u64::from(self.probes)).all(|i| {
            let bit = probe(h1, h2, i, num_bits);
            self.bits[(bit / 8) as usize] & (1 << (bit % 8)) != 0
        })
    }

    /// Bits in the filter.
    pub fn num_bits(&self) -> u64 {
        self.bits.len() as u64 * 8
    }

    /// Probes per key.
    pub fn probes(&self) -> u8 {
        self.probes
    }

    /// Bytes the filter holds in memory.
    pub fn size_bytes(&self) -> usize {
        self.bits.len() + 1
    }
}

/// Counts of a table's filter answers in point reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FilterCounters {
    /// Reads the filter answered "certainly not", saving a block read.
    pub useful: u64,
    /// Reads the filter answered "maybe" for a key the table does not hold.
    pub false_positive: u64,
}

#[cfg(test)]
mod tests;

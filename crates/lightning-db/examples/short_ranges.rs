//! Short ranges two ways, side by side in one process: `Snapshot::scan_with` and the owning
//! `Iter` (`snapshot.range(start..).take(10)`), each `reads` times from a random start over
//! `keys` keys of 24 B with 150 B values (the layout of the side-by-side benchmark's `range`
//! and `range-iter` rows). The two alternate for several rounds and the medians are shown in
//! CPU time of the reading thread, which other processes on a busy machine disturb far less
//! than wall time.
//!
//! `cargo run --release -p lightning-db --example short_ranges [keys] [reads] [rounds]`
//! (Linux: reads `/proc/thread-self/schedstat`).

use std::{error::Error, ops::ControlFlow};

use lightning_db::{Config, Database, Durability, WriteBatch};

/// Entries read per range.
const RANGE_LEN: usize = 10;

fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The `i`-th key: 24 pseudo-random bytes.
fn key(i: u64) -> [u8; 24] {
    let mut key = [0u8; 24];
    let mut word = mix64((1 << 56) ^ i);
    for chunk in key.chunks_exact_mut(8) {
        chunk.copy_from_slice(&word.to_be_bytes());
        word = mix64(word);
    }
    key
}

/// Nanoseconds this thread has run on a CPU.
fn cpu_ns() -> Result<u64, Box<dyn Error>> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    Ok(stat.split_whitespace().next().ok_or("empty schedstat")?.parse()?)
}

fn touch(value: &[u8]) -> u64 {
    value.len() as u64 + u64::from(value.first().copied().unwrap_or(0))
}

fn median(mut seconds: Vec<f64>) -> f64 {
    seconds.sort_by(f64::total_cmp);
    seconds[seconds.len() / 2]
}

fn main() -> Result<(), Box<dyn Error>> {
    let arg = |i: usize, default: u64| -> Result<u64, Box<dyn Error>> {
        Ok(std::env::args().nth(i).map(|s| s.parse()).transpose()?.unwrap_or(default))
    };
    let (keys, reads, rounds) = (arg(1, 1_000_000)?, arg(2, 500_000)?, arg(3, 7)?);
    let dir = tempfile::tempdir()?;
    let config = Config::default().durability(Durability::None).cache_size_bytes(1 << 30);
    let db = Database::open(dir.path(), config)?;
    let value = [7u8; 150];
    for chunk in (0..keys).collect::<Vec<_>>().chunks(10_000) {
        let mut batch = WriteBatch::new();
        for &i in chunk {
            batch.put(key(i), value);
        }
        db.write(batch)?;
    }
    let snapshot = db.snapshot()?;
    let (mut visiting, mut iterating) = (Vec::new(), Vec::new());
    let mut sum = 0;
    // Round 0 warms the cache and is not counted.
    for round in 0..=rounds {
        let started = cpu_ns()?;
        let mut rng = 1;
        for _ in 0..reads {
            rng = mix64(rng);
            let mut read = 0;
            snapshot.scan_with(&key(rng % keys)[..].., |_, value| {
                sum += touch(value);
                read += 1;
                if read < RANGE_LEN { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
            })?;
        }
        let between = cpu_ns()?;
        let mut rng = 1;
        for _ in 0..reads {
            rng = mix64(rng);
            for entry in snapshot.range(&key(rng % keys)[..]..)?.take(RANGE_LEN) {
                sum += touch(&entry?.1);
            }
        }
        let ended = cpu_ns()?;
        if round > 0 {
            visiting.push((between - started) as f64 / 1e9);
            iterating.push((ended - between) as f64 / 1e9);
        }
    }
    std::hint::black_box(sum);
    let (visiting, iterating) = (median(visiting), median(iterating));
    println!(
        "{reads} x (seek + {RANGE_LEN} next) over {keys} keys, median of {rounds} rounds, CPU \
         time: scan_with {visiting:.3} s, Iter {iterating:.3} s, Iter / scan_with {:.2}",
        iterating / visiting
    );
    Ok(())
}

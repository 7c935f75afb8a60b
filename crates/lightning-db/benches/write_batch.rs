//! `Database::write` of 1,000-key `WriteBatch`es with `Durability::None`: the shared write
//! path above the engine (batch building, the commit record, the timestamp, the in-order
//! apply) plus the B+Tree's inserts, on a real directory.
//!
//! Run: `cargo bench -p lightning-db --bench write_batch` (prints a markdown table). Two key
//! orders: `sequential` (each batch appends 1,000 new keys in order: the engine's work is
//! small, so the path above it shows) and `random` (1,000 keys drawn from 1,000,000: every key
//! copy-on-writes a leaf). Batches are built inside the timed loop, as a user builds them.
//! `WRITE_BATCH_ORDER=sequential` (or `random`) runs one of them, e.g. under `perf record`;
//! `WRITE_BATCH_COUNT=n` writes exactly n batches (for `perf stat -e instructions:u`, whose
//! count does not depend on how loaded the machine is).

use std::time::{Duration, Instant};

use lightning_db::{Config, Database, Durability, WriteBatch};

const BATCH: u64 = 1_000;
const RUN: Duration = Duration::from_secs(4);
const VALUE: [u8; 100] = [7u8; 100];

fn open(dir: &std::path::Path) -> Database {
    let config = Config::default()
        .durability(Durability::None)
        .checkpoint_interval(Duration::from_secs(3600));
    Database::open(dir, config).unwrap()
}

/// Writes batches for [`RUN`] (or exactly `count` of them); returns (batches, mean time per
/// batch).
fn run(db: &Database, count: Option<u64>, mut key_of: impl FnMut(u64) -> u64) -> (u64, Duration) {
    let started = Instant::now();
    let mut batches = 0u64;
    let mut n = 0u64;
    while count.map_or(started.elapsed() < RUN, |count| batches < count) {
        let mut batch = WriteBatch::new();
        for _ in 0..BATCH {
            batch.put(key_of(n).to_be_bytes(), VALUE);
            n += 1;
        }
        db.write(batch).unwrap();
        batches += 1;
    }
    (batches, started.elapsed() / batches as u32)
}

fn main() {
    println!("| keys | batches | per 1,000-key batch | keys/s |");
    println!("|---|---:|---:|---:|");
    // `WRITE_BATCH_ORDER=sequential` runs one order only (for a profiler).
    let only = std::env::var("WRITE_BATCH_ORDER").ok();
    // `WRITE_BATCH_COUNT=n` writes exactly n batches instead of running for a fixed time (a
    // fixed amount of work, for `perf stat -e instructions` on a loaded machine).
    let count = std::env::var("WRITE_BATCH_COUNT").ok().and_then(|n| n.parse().ok());
    for order in ["sequential", "random"] {
        if only.as_deref().is_some_and(|only| only != order) {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let (batches, per_batch) = match order {
            "sequential" => run(&db, count, |n| n),
            _ => run(&db, count, |_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x % 1_000_000
            }),
        };
        let keys_per_s = BATCH as f64 / per_batch.as_secs_f64();
        println!("| {order} | {batches} | {per_batch:.1?} | {keys_per_s:.0} |");
        db.close().unwrap();
    }
}

//! YCSB core workloads A, B, C, E and F: zipfian (θ = 0.99, scrambled) key choice over 1 KB
//! records, 2 client threads, each mix run for a fixed time; the result is operations per
//! second over both threads.
//!
//! Records are loaded in batches of [`BATCH_SIZE`] into a fresh directory opened no-sync (the
//! YCSB rows are about the engines' read and write paths, not the disk's fsync rate; the table
//! states it). Mixes run in the order A, B, C, F, E: E inserts new records, so it goes last.
//! Reads and read-modify-writes always pick loaded records and must find them.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Instant;

use crate::driver::{BenchError, BenchResult, Driver, Durability};
use crate::engines::EngineSpec;
use crate::suite::{Selection, join, report};
use crate::workloads::{BATCH_SIZE, KeySpace, Rng, Sizes, ValuePool, YCSB_VALUE_LEN, random_key};
use crate::zipf::ScrambledZipfian;

/// Client threads per mix.
pub const THREADS: u64 = 2;
/// Longest scan of mix E (YCSB's default `maxscanlength`); lengths are uniform in 1..=this.
pub const MAX_SCAN_LEN: u64 = 100;
/// Operations between two looks at the clock.
const CLOCK_EVERY: u64 = 16;

/// One operation of a YCSB client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Read,
    Update,
    Scan,
    Insert,
    ReadModifyWrite,
}

/// A YCSB mix: the share of each operation.
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    /// The row id.
    pub id: &'static str,
    pub shares: [(Op, f64); 2],
}

/// The mixes in the order they run.
pub const MIXES: &[Mix] = &[
    Mix { id: "ycsb-a", shares: [(Op::Read, 0.50), (Op::Update, 0.50)] },
    Mix { id: "ycsb-b", shares: [(Op::Read, 0.95), (Op::Update, 0.05)] },
    Mix { id: "ycsb-c", shares: [(Op::Read, 1.00), (Op::Update, 0.00)] },
    Mix { id: "ycsb-f", shares: [(Op::Read, 0.50), (Op::ReadModifyWrite, 0.50)] },
    Mix { id: "ycsb-e", shares: [(Op::Scan, 0.95), (Op::Insert, 0.05)] },
];

impl Mix {
    /// The operation for a uniform `u` in `[0, 1)`.
    pub fn choose(&self, u: f64) -> Op {
        let [(first, share), (second, _)] = self.shares;
        if u < share { first } else { second }
    }
}

/// Loads the records, runs every selected mix and reports its operations per second.
pub fn run(
    engine: &EngineSpec,
    dir: &Path,
    sizes: &Sizes,
    selection: &Selection,
    pool: &ValuePool,
) -> BenchResult<()> {
    let db = (engine.open)(dir, Durability::NoSync)?;
    let records = sizes.ycsb_records;
    let mut first = 0;
    while first < records {
        let last = (first + BATCH_SIZE).min(records);
        db.write_batch(
            &mut (first..last)
                .map(|i| (random_key(KeySpace::Ycsb, i), pool.value(i, YCSB_VALUE_LEN))),
        )?;
        first = last;
    }
    let keys = ScrambledZipfian::new(records);
    let inserted = AtomicU64::new(records);
    for (index, mix) in MIXES.iter().enumerate() {
        if selection.wants(mix.id) {
            let client = Client { db: db.as_ref(), mix, keys: &keys, pool, inserted: &inserted };
            let ops_per_second = client.run(sizes, 100 + index as u64)?;
            report(engine.id, mix.id, ops_per_second, "");
        }
    }
    db.close()
}

/// What the client threads of one mix share.
struct Client<'a> {
    db: &'a dyn Driver,
    mix: &'a Mix,
    keys: &'a ScrambledZipfian,
    pool: &'a ValuePool,
    /// The next record id mix E inserts.
    inserted: &'a AtomicU64,
}

impl Client<'_> {
    /// Runs [`THREADS`] clients for the configured time; returns operations per second.
    fn run(&self, sizes: &Sizes, seed: u64) -> BenchResult<f64> {
        let deadline = Instant::now() + sizes.ycsb_duration;
        let start = Instant::now();
        let results: Vec<BenchResult<u64>> = thread::scope(|scope| {
            let handles: Vec<_> = (0..THREADS)
                .map(|thread| {
                    scope.spawn(move || self.thread(Rng::new(seed * 31 + thread), deadline))
                })
                .collect();
            handles.into_iter().map(join).collect()
        });
        let seconds = start.elapsed().as_secs_f64();
        let mut ops = 0;
        for result in results {
            ops += result?;
        }
        Ok(ops as f64 / seconds)
    }

    fn thread(&self, mut rng: Rng, deadline: Instant) -> BenchResult<u64> {
        let mut ops = 0;
        loop {
            if ops % CLOCK_EVERY == 0 && Instant::now() >= deadline {
                return Ok(ops);
            }
            self.one(&mut rng)?;
            ops += 1;
        }
    }

    fn one(&self, rng: &mut Rng) -> BenchResult<()> {
        let value = |rng: &mut Rng| self.pool.value(rng.next_u64(), YCSB_VALUE_LEN);
        match self.mix.choose(rng.unit()) {
            Op::Read => self.read(self.keys.next(rng)),
            Op::Update => self.db.put(&random_key(KeySpace::Ycsb, self.keys.next(rng)), value(rng)),
            Op::ReadModifyWrite => {
                let id = self.keys.next(rng);
                self.read(id)?;
                self.db.read_modify_write(&random_key(KeySpace::Ycsb, id), value(rng))
            }
            Op::Scan => {
                let length = 1 + rng.below(MAX_SCAN_LEN) as usize;
                let read =
                    self.db.scan(&random_key(KeySpace::Ycsb, self.keys.next(rng)), length)?;
                std::hint::black_box(read);
                Ok(())
            }
            Op::Insert => {
                let id = self.inserted.fetch_add(1, Ordering::Relaxed);
                self.db.put(&random_key(KeySpace::Ycsb, id), value(rng))
            }
        }
    }

    fn read(&self, id: u64) -> BenchResult<()> {
        match self.db.get(&random_key(KeySpace::Ycsb, id))? {
            Some(_) => Ok(()),
            None => {
                Err(BenchError::Failed(format!("YCSB {}: record {id} is missing", self.mix.id)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_sum_to_one_and_choose_follows_them() {
        for mix in MIXES {
            let total: f64 = mix.shares.iter().map(|(_, share)| share).sum();
            assert!((total - 1.0).abs() < 1e-12, "{}", mix.id);
            let mut rng = Rng::new(9);
            let samples = 100_000;
            let first = (0..samples).filter(|_| mix.choose(rng.unit()) == mix.shares[0].0).count();
            let observed = first as f64 / samples as f64;
            assert!((observed - mix.shares[0].1).abs() < 0.01, "{}: {observed}", mix.id);
        }
    }

    #[test]
    fn mixes_are_the_issues_and_e_runs_last() {
        let ids: Vec<_> = MIXES.iter().map(|mix| mix.id).collect();
        assert_eq!(ids, ["ycsb-a", "ycsb-b", "ycsb-c", "ycsb-f", "ycsb-e"]);
        let e = MIXES.last().unwrap();
        assert_eq!((e.choose(0.0), e.choose(0.99)), (Op::Scan, Op::Insert));
        assert!(MIXES.iter().all(|mix| crate::rows::ROW_IDS.contains(&mix.id)));
    }
}

//! One engine's whole run, in a child process of its own: the workloads in order, each
//! measurement printed to stdout as one line for the parent ([`RESULT_TAG`]).
//!
//! The main data set goes through three opens of the same directory:
//! 1. durable: bulk load, size, individual writes, 4- and 16-thread commits, batch writes,
//!    close (the write-amplification window: `/proc/self/io` `write_bytes` from before the open
//!    to after the close, over the logical bytes written);
//! 2. no-sync: individual writes, an untimed full scan (warm-up), then the read rows (1 and 2
//!    threads, missing keys, ranges);
//! 3. durable: removal of half the loaded keys, size, compaction (or close + reopen), size.
//!
//! The sorted load and YCSB use fresh directories of their own.

use std::path::Path;
use std::thread;
use std::time::Instant;

use crate::driver::{BenchError, BenchResult, Driver, Durability, verify};
use crate::engines::EngineSpec;
use crate::workloads::{
    BATCH_SIZE, KEY_LEN, KeySpace, RANGE_LEN, Rng, Sizes, VALUE_LEN, ValuePool, fingerprint,
    random_key, sorted_key,
};
use crate::ycsb;

/// First word of a measurement line: `result <row id> <value> [marker]`.
pub const RESULT_TAG: &str = "result";

/// Which rows to measure.
#[derive(Debug, Clone)]
pub struct Selection(pub Vec<&'static str>);

impl Selection {
    /// Whether row `id` is wanted.
    pub fn wants(&self, id: &str) -> bool {
        self.0.contains(&id)
    }

    fn any(&self, ids: &[&str]) -> bool {
        ids.iter().any(|id| self.wants(id))
    }
}

/// Prints one measurement for the parent, and a progress line for a human.
pub fn report(engine: &str, id: &str, value: f64, marker: &str) {
    println!("{RESULT_TAG}\t{id}\t{value}\t{marker}");
    eprintln!("    {engine:<14} {id:<13} {value:.6} {marker}");
}

/// Seconds `body` took.
fn timed(body: impl FnOnce() -> BenchResult<()>) -> BenchResult<f64> {
    let start = Instant::now();
    body()?;
    Ok(start.elapsed().as_secs_f64())
}

/// Apparent size of every file under `dir`.
pub fn dir_size(dir: &Path) -> BenchResult<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() { dir_size(&entry.path())? } else { meta.len() };
    }
    Ok(total)
}

/// Bytes this process has caused to be written to storage (`/proc/self/io`), if available.
pub fn write_bytes() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines().find_map(|line| line.strip_prefix("write_bytes:")?.trim().parse().ok())
}

const ENTRY_BYTES: u64 = (KEY_LEN + VALUE_LEN) as u64;
const MAIN_ROWS: &[&str] = &[
    "bulk",
    "individual",
    "commits4",
    "commits16",
    "batch",
    "nosync",
    "reads1",
    "reads2",
    "missing",
    "range",
    "range-iter",
    "remove",
    "size-load",
    "size-remove",
    "size-compact",
    "wamp",
];
const READ_ROWS: &[&str] = &["nosync", "reads1", "reads2", "missing", "range", "range-iter"];
const REMOVE_ROWS: &[&str] = &["remove", "size-remove", "size-compact"];

/// Runs every selected workload on `engine` under `dir`.
pub fn run(
    engine: &EngineSpec,
    dir: &Path,
    sizes: &Sizes,
    selection: &Selection,
) -> BenchResult<()> {
    let pool = ValuePool::new();
    if selection.any(MAIN_ROWS) {
        main_data_set(engine, &dir.join("main"), sizes, selection, &pool)?;
    }
    if selection.wants("sorted") {
        let db = (engine.open)(&dir.join("sorted"), Durability::Durable)?;
        let n = sizes.load_keys;
        let seconds =
            timed(|| db.bulk_load(&mut (0..n).map(|i| (sorted_key(i), pool.value(i, VALUE_LEN)))))?;
        report(engine.id, "sorted", seconds, "");
        db.close()?;
    }
    if ycsb::MIXES.iter().any(|mix| selection.wants(mix.id)) {
        ycsb::run(engine, &dir.join("ycsb"), sizes, selection, &pool)?;
    }
    Ok(())
}

/// The main data set's three sessions, sharing what they need.
struct MainDataSet<'a> {
    engine: &'a EngineSpec,
    dir: &'a Path,
    sizes: &'a Sizes,
    selection: &'a Selection,
    pool: &'a ValuePool,
}

fn main_data_set(
    engine: &EngineSpec,
    dir: &Path,
    sizes: &Sizes,
    selection: &Selection,
    pool: &ValuePool,
) -> BenchResult<()> {
    let data = MainDataSet { engine, dir, sizes, selection, pool };
    let next = data.write_session()?;
    if selection.any(READ_ROWS) {
        data.read_session(next)?;
    }
    if selection.any(REMOVE_ROWS) {
        data.removal_session()?;
    }
    Ok(())
}

impl MainDataSet<'_> {
    fn report(&self, id: &str, value: f64, marker: &str) {
        if self.selection.wants(id) {
            report(self.engine.id, id, value, marker);
        }
    }

    fn loaded(&self, i: u64) -> ([u8; KEY_LEN], &[u8]) {
        (random_key(KeySpace::Loaded, i), self.pool.value(i, VALUE_LEN))
    }

    fn written(&self, i: u64) -> ([u8; KEY_LEN], &[u8]) {
        (random_key(KeySpace::Written, i), self.pool.value(i, VALUE_LEN))
    }

    /// `count` single-key commits of written keys from `first`, one after the other.
    fn puts(&self, db: &dyn Driver, first: u64, count: u64) -> BenchResult<f64> {
        timed(|| {
            (first..first + count).try_for_each(|i| {
                let (key, value) = self.written(i);
                db.put(&key, value)
            })
        })
    }

    /// Durable: load, size, the durable write rows, close, write amplification. Returns the
    /// next unused index of `KeySpace::Written`.
    fn write_session(&self) -> BenchResult<u64> {
        let (sizes, selection) = (self.sizes, self.selection);
        let written_before = write_bytes();
        let db = (self.engine.open)(self.dir, Durability::Durable)?;
        let n = sizes.load_keys;
        self.report("bulk", timed(|| db.bulk_load(&mut (0..n).map(|i| self.loaded(i))))?, "");
        if selection.wants("size-load") {
            self.report("size-load", dir_size(self.dir)? as f64, "");
        }
        let mut next = 0;
        if selection.wants("individual") {
            self.report("individual", self.puts(db.as_ref(), next, sizes.individual_writes)?, "");
            next += sizes.individual_writes;
        }
        for (id, threads) in [("commits4", 4), ("commits16", 16)] {
            if selection.wants(id) {
                let count = sizes.thread_commits;
                self.report(
                    id,
                    threaded_commits(db.as_ref(), threads, next, count, self.pool)?,
                    "",
                );
                next += count;
            }
        }
        if selection.wants("batch") {
            let first = next;
            let seconds = timed(|| {
                for batch in 0..sizes.batches {
                    let keys = first + batch * BATCH_SIZE..first + (batch + 1) * BATCH_SIZE;
                    db.write_batch(&mut keys.map(|i| self.written(i)))?;
                }
                Ok(())
            })?;
            self.report("batch", seconds, "");
            next += sizes.batches * BATCH_SIZE;
        }
        db.close()?;
        if let (Some(before), Some(after)) = (written_before, write_bytes()) {
            let logical = (n + next) * ENTRY_BYTES;
            self.report("wamp", after.saturating_sub(before) as f64 / logical as f64, "");
        }
        Ok(next)
    }

    /// No-sync: individual writes from `next`, then the read rows.
    fn read_session(&self, next: u64) -> BenchResult<()> {
        let db = (self.engine.open)(self.dir, Durability::NoSync)?;
        if self.selection.wants("nosync") {
            self.report("nosync", self.puts(db.as_ref(), next, self.sizes.nosync_writes)?, "");
        }
        read_rows(self.engine.id, db.as_ref(), self.sizes, self.selection, self.pool)?;
        db.close()
    }

    /// Durable: removal of the first half of the loaded keys, sizes, compaction.
    fn removal_session(&self) -> BenchResult<()> {
        let mut db = (self.engine.open)(self.dir, Durability::Durable)?;
        let keys = 0..self.sizes.removals();
        self.report("remove", timed(|| db.delete_all(&mut keys.map(|i| self.loaded(i).0)))?, "");
        if self.selection.wants("size-remove") {
            self.report("size-remove", dir_size(self.dir)? as f64, "");
        }
        let compact = self.selection.wants("size-compact");
        let compacted = compact && db.compact()?;
        db.close()?;
        if compact {
            if !compacted {
                (self.engine.open)(self.dir, Durability::Durable)?.close()?;
            }
            let marker = if compacted { "" } else { "†" };
            self.report("size-compact", dir_size(self.dir)? as f64, marker);
        }
        Ok(())
    }
}

/// `count` single-key durable commits of keys `first..first + count`, spread over `threads`.
fn threaded_commits(
    db: &dyn Driver,
    threads: u64,
    first: u64,
    count: u64,
    pool: &ValuePool,
) -> BenchResult<f64> {
    let start = Instant::now();
    let results: Vec<BenchResult<()>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (lo, hi) = (first + count * t / threads, first + count * (t + 1) / threads);
                scope.spawn(move || {
                    (lo..hi).try_for_each(|i| {
                        db.put(&random_key(KeySpace::Written, i), pool.value(i, VALUE_LEN))
                    })
                })
            })
            .collect();
        handles.into_iter().map(join).collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    results.into_iter().try_for_each(|result| result)?;
    Ok(seconds)
}

/// A scoped thread's result; a panic becomes an error.
pub fn join<T>(handle: thread::ScopedJoinHandle<'_, BenchResult<T>>) -> BenchResult<T> {
    handle.join().unwrap_or_else(|_| Err(BenchError::Failed("a benchmark thread panicked".into())))
}

/// `count` random reads of loaded keys by one reader; returns (found, fingerprint sum).
fn random_reads(db: &dyn Driver, seed: u64, count: u64, load_keys: u64) -> BenchResult<(u64, u64)> {
    let mut reader = db.reader()?;
    let mut rng = Rng::new(seed);
    let (mut found, mut sum) = (0, 0);
    for _ in 0..count {
        if let Some(print) = reader.get(&random_key(KeySpace::Loaded, rng.below(load_keys)))? {
            (found, sum) = (found + 1, sum + print);
        }
    }
    Ok((found, sum))
}

/// What `random_reads` must find: regenerated after the timing, outside it.
fn expected_reads(pool: &ValuePool, seed: u64, count: u64, load_keys: u64) -> u64 {
    let mut rng = Rng::new(seed);
    (0..count).map(|_| fingerprint(pool.value(rng.below(load_keys), VALUE_LEN))).sum()
}

fn read_rows(
    name: &str,
    db: &dyn Driver,
    sizes: &Sizes,
    selection: &Selection,
    pool: &ValuePool,
) -> BenchResult<()> {
    let (n, reads) = (sizes.load_keys, sizes.reads);
    // Untimed warm-up: one full scan, so engines with a user-space cache start the read rows
    // as warm as LMDB does with the OS page cache (the data set fits in memory).
    let entries = db.reader()?.scan(&[0u8; KEY_LEN], usize::MAX)?;
    if (entries as u64) < n {
        return Err(BenchError::Failed(format!(
            "warm-up scan read {entries} entries, expected at least {n}"
        )));
    }
    if selection.wants("reads1") {
        let start = Instant::now();
        let (found, sum) = random_reads(db, 1, reads, n)?;
        let seconds = start.elapsed().as_secs_f64();
        verify("random reads: keys found", found, reads)?;
        verify("random reads: value fingerprints", sum, expected_reads(pool, 1, reads, n))?;
        report(name, "reads1", seconds, "");
    }
    if selection.wants("reads2") {
        let halves = [(2, reads / 2), (3, reads - reads / 2)];
        let start = Instant::now();
        let results: Vec<BenchResult<(u64, u64)>> = thread::scope(|scope| {
            let handles: Vec<_> = halves
                .iter()
                .map(|&(seed, count)| scope.spawn(move || random_reads(db, seed, count, n)))
                .collect();
            handles.into_iter().map(join).collect()
        });
        let seconds = start.elapsed().as_secs_f64();
        for (result, &(seed, count)) in results.into_iter().zip(&halves) {
            let (found, sum) = result?;
            verify("random reads (2 threads): keys found", found, count)?;
            verify(
                "random reads (2 threads): fingerprints",
                sum,
                expected_reads(pool, seed, count, n),
            )?;
        }
        report(name, "reads2", seconds, "");
    }
    if selection.wants("missing") {
        let mut reader = db.reader()?;
        let mut found = 0;
        let seconds = timed(|| {
            for i in 0..reads {
                found += u64::from(reader.get(&random_key(KeySpace::Missing, i))?.is_some());
            }
            Ok(())
        })?;
        verify("missing-key reads: keys found", found, 0)?;
        report(name, "missing", seconds, "");
    }
    for (row, through_iter) in [("range", false), ("range-iter", true)] {
        if !selection.wants(row) {
            continue;
        }
        let mut reader = db.reader()?;
        let mut rng = Rng::new(4);
        let mut entries = 0;
        let seconds = timed(|| {
            for _ in 0..sizes.range_reads {
                let start = random_key(KeySpace::Loaded, rng.below(n));
                let read = if through_iter {
                    reader.scan_iter(&start, RANGE_LEN)?
                } else {
                    reader.scan(&start, RANGE_LEN)?
                };
                entries += read as u64;
            }
            Ok(())
        })?;
        // Scans that start near the end of the key space read fewer than RANGE_LEN entries.
        if entries < sizes.range_reads * RANGE_LEN as u64 * 9 / 10 {
            return Err(BenchError::Failed(format!("{row} reads returned only {entries} entries")));
        }
        report(name, row, seconds, "");
    }
    Ok(())
}

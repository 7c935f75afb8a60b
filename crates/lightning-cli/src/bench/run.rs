//! Running one workload against an open database: client threads started together, every
//! operation timed with `Instant`, per-thread histograms merged into a [`WorkloadResult`].

use std::{
    sync::{
        Barrier,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use indicatif::ProgressBar;
use lightning_db::Database;

use super::{
    histogram::Histogram,
    report::WorkloadResult,
    workloads::{KeyFormat, Rng, ValueSource, Workload},
};

/// Seed of the first thread's generator (db_bench's seed).
const BASE_SEED: u64 = 301;
/// Operations between progress bar updates.
const PROGRESS_STEP: u64 = 1024;

/// The fixed parameters of a benchmark run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Operations per workload and distinct keys.
    pub num: u64,
    /// Client threads.
    pub threads: usize,
    /// Key layout.
    pub keys: KeyFormat,
    /// Where values come from (shared by the threads).
    pub values: ValueSource,
}

/// What one thread measured.
#[derive(Debug)]
struct ThreadOutcome {
    ops: u64,
    bytes: u64,
    found: u64,
    /// When the thread started its first operation and finished its last.
    started: Instant,
    finished: Instant,
    latencies: Histogram,
}

impl ThreadOutcome {
    fn new() -> Self {
        let now = Instant::now();
        ThreadOutcome {
            ops: 0,
            bytes: 0,
            found: 0,
            started: now,
            finished: now,
            latencies: Histogram::default(),
        }
    }
}

/// What a thread needs to do its share.
struct Share<'a> {
    db: &'a Database,
    plan: &'a Plan,
    workload: Workload,
    /// Index of the thread's first key (fillseq) and its number of operations.
    first: u64,
    ops: u64,
    rng: Rng,
    progress: &'a ProgressBar,
    failed: &'a AtomicBool,
}

/// Runs `workload` on `db` with `plan.threads` client threads; `index` (the workload's position
/// in the run) varies the random seeds between workloads.
pub fn run_workload(
    db: &Database,
    plan: &Plan,
    workload: Workload,
    index: usize,
    progress: &ProgressBar,
) -> lightning_db::Result<WorkloadResult> {
    let threads = plan.threads.max(1);
    let start_line = Barrier::new(threads + 1);
    let failed = AtomicBool::new(false);
    let stop_writer = AtomicBool::new(false);
    let background_writes = AtomicU64::new(0);
    let seed = BASE_SEED + (index as u64) * 1000;
    let (outcomes, writer_result) = thread::scope(|scope| {
        let writer = (workload == Workload::ReadWhileWriting).then(|| {
            let (stop, writes) = (&stop_writer, &background_writes);
            scope.spawn(move || background_writer(db, plan, Rng::new(seed + 999), stop, writes))
        });
        let handles: Vec<_> = (0..threads as u64)
            .map(|t| {
                let base = plan.num / threads as u64;
                let extra = plan.num % threads as u64;
                let share = Share {
                    db,
                    plan,
                    workload,
                    first: t * base + t.min(extra),
                    ops: base + u64::from(t < extra),
                    rng: Rng::new(seed + t),
                    progress,
                    failed: &failed,
                };
                let start_line = &start_line;
                scope.spawn(move || run_share(share, start_line))
            })
            .collect();
        start_line.wait();
        let results: Vec<_> = handles.into_iter().map(join).collect();
        stop_writer.store(true, Ordering::Release);
        let writer_result = writer.map(join);
        (results, writer_result)
    });
    if let Some(result) = writer_result {
        result?;
    }
    let mut total = ThreadOutcome::new();
    let mut thread_time = Duration::ZERO;
    let (mut first_start, mut last_end) = (None::<Instant>, None::<Instant>);
    for outcome in outcomes {
        let outcome = outcome?;
        first_start = Some(first_start.map_or(outcome.started, |t| t.min(outcome.started)));
        last_end = Some(last_end.map_or(outcome.finished, |t| t.max(outcome.finished)));
        total.ops += outcome.ops;
        total.bytes += outcome.bytes;
        total.found += outcome.found;
        thread_time += outcome.finished.duration_since(outcome.started);
        total.latencies.merge(&outcome.latencies);
    }
    debug_assert_eq!(total.latencies.count(), total.ops, "one latency per operation");
    let wall = match (first_start, last_end) {
        (Some(first), Some(last)) => last.duration_since(first),
        _ => Duration::ZERO,
    };
    let reads_keys = matches!(
        workload,
        Workload::ReadRandom | Workload::SeekRandom | Workload::ReadWhileWriting
    );
    Ok(WorkloadResult {
        workload,
        threads,
        ops: total.ops,
        bytes: total.bytes,
        wall,
        thread_time,
        latencies: total.latencies,
        found: reads_keys.then_some((total.found, total.ops)),
        background_writes: (workload == Workload::ReadWhileWriting)
            .then(|| background_writes.load(Ordering::Acquire)),
    })
}

/// Waits for a thread; a panic in it (a bug) is re-raised here.
fn join<T>(handle: thread::ScopedJoinHandle<'_, T>) -> T {
    handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// One thread's share of a workload: set up, wait at `start_line` for the other threads, run.
fn run_share(mut share: Share<'_>, start_line: &Barrier) -> lightning_db::Result<ThreadOutcome> {
    let mut values = share.plan.values.fork(&mut share.rng);
    let mut key = Vec::with_capacity(share.plan.keys.key_size());
    start_line.wait();
    let mut outcome = ThreadOutcome::new();
    let result = match share.workload {
        Workload::ReadSeq => read_seq(&share, &mut outcome),
        _ => (0..share.ops).try_for_each(|i| {
            if share.failed.load(Ordering::Relaxed) {
                return Ok(());
            }
            let n = match share.workload {
                Workload::FillSeq => share.first + i,
                _ => share.rng.below(share.plan.num),
            };
            share.plan.keys.write(n, &mut key);
            let value = if share.workload.writes() { values.next_value() } else { &[] };
            let timer = Instant::now();
            let bytes = one_op(share.db, share.workload, &key, value)?;
            outcome.latencies.record(timer.elapsed());
            outcome.ops += 1;
            if let Some(bytes) = bytes {
                outcome.found += 1;
                outcome.bytes += bytes;
            }
            tick(share.progress, outcome.ops);
            Ok(())
        }),
    };
    share.progress.inc(outcome.ops % PROGRESS_STEP);
    if result.is_err() {
        share.failed.store(true, Ordering::Relaxed);
    }
    result?;
    outcome.finished = Instant::now();
    Ok(outcome)
}

fn tick(progress: &ProgressBar, ops: u64) {
    if ops.is_multiple_of(PROGRESS_STEP) {
        progress.inc(PROGRESS_STEP);
    }
}

/// One operation; `Some(bytes)` of key and value written or found, `None` for a miss.
fn one_op(
    db: &Database,
    workload: Workload,
    key: &[u8],
    value: &[u8],
) -> lightning_db::Result<Option<u64>> {
    Ok(match workload {
        Workload::FillSeq | Workload::FillRandom | Workload::Overwrite => {
            db.put(key, value)?;
            Some((key.len() + value.len()) as u64)
        }
        Workload::ReadRandom | Workload::ReadWhileWriting => {
            db.get(key)?.map(|v| (key.len() + v.len()) as u64)
        }
        Workload::SeekRandom => match db.range(key..)?.next().transpose()? {
            Some((k, v)) if k == key => Some((k.len() + v.len()) as u64),
            _ => None,
        },
        Workload::ReadSeq => None,
    })
}

/// readseq: one iterator from the first key, `share.ops` entries or the end of the data.
fn read_seq(share: &Share<'_>, outcome: &mut ThreadOutcome) -> lightning_db::Result<()> {
    let mut entries = share.db.iter()?;
    while outcome.ops < share.ops && !share.failed.load(Ordering::Relaxed) {
        let timer = Instant::now();
        let Some(entry) = entries.next() else { break };
        let (key, value) = entry?;
        outcome.latencies.record(timer.elapsed());
        outcome.ops += 1;
        outcome.bytes += (key.len() + value.len()) as u64;
        tick(share.progress, outcome.ops);
    }
    Ok(())
}

/// readwhilewriting's writer: random overwrites until the readers are done.
fn background_writer(
    db: &Database,
    plan: &Plan,
    mut rng: Rng,
    stop: &AtomicBool,
    writes: &AtomicU64,
) -> lightning_db::Result<()> {
    let mut values = plan.values.fork(&mut rng);
    let mut key = Vec::with_capacity(plan.keys.key_size());
    while !stop.load(Ordering::Acquire) {
        plan.keys.write(rng.below(plan.num), &mut key);
        db.put(&key, values.next_value())?;
        writes.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

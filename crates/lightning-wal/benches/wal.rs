//! Durable-append benchmark: `Immediate` appends with 1, 4 and 16 concurrent committers and
//! 100-byte and 4 KiB records, beside two fsync floors measured on the same disk in the same
//! run: a plain `write + fdatasync` append loop, and `pwrite + fdatasync` over preallocated
//! (already written and synced) space. Prints a markdown table of commits/s and ratios, with
//! the mean fsync latency and the share of the wall time spent inside fsyncs ("fsyncs busy":
//! near 100% means the disk bounds the case, well below it means the time goes elsewhere).
//!
//! `cargo bench -p lightning-wal --bench wal` runs it fully (2 s per case); without `--bench`
//! (as `cargo test --benches` runs it) every case runs for a few milliseconds, as a smoke test.
//! The files go under `LIGHTNING_BENCH_DIR` if set, else the target directory's tmp folder
//! (a real disk: fsync on tmpfs costs nothing and would flatter every number).

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use lightning_core_storage::vfs::{FileHandle, OpenMode, StdFs, Vfs};
use lightning_wal::{Durability, Wal, WalOptions};

/// One case, kept open across rounds.
enum Case {
    /// `write + fdatasync` at the end of a growing file.
    AppendFloor { file: FileHandle, offset: u64 },
    /// `pwrite + fdatasync` over space written and synced beforehand.
    OverwriteFloor { file: FileHandle, offset: u64 },
    /// `Immediate` appends from this many threads.
    Wal { wal: Arc<Wal>, committers: usize },
}

/// Space preallocated for the overwrite floor (wrapped around when used up).
const OVERWRITE_SPACE: u64 = 64 << 20;

impl Case {
    fn name(&self) -> &'static str {
        match self {
            Case::AppendFloor { .. } => "floor: write + fdatasync (append)",
            Case::OverwriteFloor { .. } => "floor: pwrite + fdatasync (preallocated)",
            Case::Wal { .. } => "lightning-wal Immediate",
        }
    }

    fn committers(&self) -> usize {
        match self {
            Case::Wal { committers, .. } => *committers,
            _ => 1,
        }
    }

    fn open_all(dir: &Path, record_bytes: usize) -> Vec<Case> {
        let append = StdFs.open(&dir.join("append-floor"), OpenMode::CreateNew).unwrap();
        let overwrite = StdFs.open(&dir.join("overwrite-floor"), OpenMode::CreateNew).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for chunk in 0..OVERWRITE_SPACE >> 20 {
            overwrite.write_all_at(&zeros, chunk << 20).unwrap();
        }
        overwrite.sync_data().unwrap();
        let mut cases = vec![
            Case::AppendFloor { file: append, offset: 0 },
            Case::OverwriteFloor { file: overwrite, offset: 0 },
        ];
        for committers in [1usize, 4, 16] {
            let wal_dir = dir.join(format!("wal-{committers}"));
            let wal = Wal::open(Arc::new(StdFs), &wal_dir, WalOptions::default()).unwrap();
            // Warm-up: the first append creates the preallocated space (zeros, synced).
            wal.append(&vec![0u8; record_bytes], Durability::Immediate).unwrap();
            cases.push(Case::Wal { wal: Arc::new(wal), committers });
        }
        cases
    }

    /// Runs for `run`; returns (commits, fsyncs, time inside the log's fsyncs).
    fn run(&mut self, record_bytes: usize, run: Duration) -> (u64, u64, Duration) {
        let record = vec![0x3Cu8; record_bytes];
        let wraps = matches!(self, Case::OverwriteFloor { .. });
        match self {
            Case::AppendFloor { file, offset } | Case::OverwriteFloor { file, offset } => {
                let started = Instant::now();
                let mut commits = 0;
                let mut synced = Duration::ZERO;
                while started.elapsed() < run {
                    if wraps && *offset + record_bytes as u64 > OVERWRITE_SPACE {
                        *offset = 0;
                    }
                    file.write_all_at(&record, *offset).unwrap();
                    let sync_started = Instant::now();
                    file.sync_data().unwrap();
                    synced += sync_started.elapsed();
                    *offset += record_bytes as u64;
                    commits += 1;
                }
                (commits, commits, synced)
            }
            Case::Wal { wal, committers } => {
                let stop = Arc::new(AtomicBool::new(false));
                let commits = Arc::new(AtomicU64::new(0));
                let before = wal.stats();
                let handles: Vec<_> = (0..*committers)
                    .map(|_| {
                        let (wal, stop, commits) =
                            (Arc::clone(wal), Arc::clone(&stop), Arc::clone(&commits));
                        let record = record.clone();
                        thread::spawn(move || {
                            while !stop.load(Ordering::Relaxed) {
                                wal.append(&record, Durability::Immediate).unwrap();
                                commits.fetch_add(1, Ordering::Relaxed);
                            }
                        })
                    })
                    .collect();
                thread::sleep(run);
                stop.store(true, Ordering::Relaxed);
                for handle in handles {
                    handle.join().unwrap();
                }
                let after = wal.stats();
                let syncs = after.syncs - before.syncs;
                (commits.load(Ordering::Relaxed), syncs, after.sync_time - before.sync_time)
            }
        }
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn bench_root() -> PathBuf {
    match std::env::var_os("LIGHTNING_BENCH_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_TARGET_TMPDIR")),
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (rounds, slice) =
        if full { (9, Duration::from_millis(400)) } else { (1, Duration::from_millis(20)) };
    let root = bench_root();
    std::fs::create_dir_all(&root).unwrap();
    let temp = tempfile::tempdir_in(&root).unwrap();
    println!(
        "\nWAL durable appends on {}: {rounds} interleaved rounds of {} ms per case, median",
        root.display(),
        slice.as_millis()
    );
    println!(
        "\n| case | record | committers | commits/s | records per fsync | mean fsync | fsyncs busy | × append floor | × 1 committer |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for record_bytes in [100usize, 4096] {
        let dir = temp.path().join(format!("records-{record_bytes}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cases = Case::open_all(&dir, record_bytes);
        let mut rates = vec![Vec::new(); cases.len()];
        let mut groups = vec![Vec::new(); cases.len()];
        let mut sync_means = vec![Vec::new(); cases.len()];
        let mut busy = vec![Vec::new(); cases.len()];
        // Interleaved, so that the disk's drift (other tenants, write-back) hits every case alike.
        for _ in 0..rounds {
            for (i, case) in cases.iter_mut().enumerate() {
                let (commits, syncs, synced) = case.run(record_bytes, slice);
                rates[i].push(commits as f64 / slice.as_secs_f64());
                groups[i].push(commits as f64 / syncs.max(1) as f64);
                sync_means[i].push(synced.as_secs_f64() * 1e6 / syncs.max(1) as f64);
                busy[i].push(synced.as_secs_f64() / slice.as_secs_f64());
            }
        }
        let medians: Vec<f64> = rates.iter_mut().map(|r| median(r)).collect();
        let floor = medians[0];
        let single = medians[2];
        for (i, case) in cases.iter().enumerate() {
            let is_wal = matches!(case, Case::Wal { .. });
            println!(
                "| {} | {} B | {} | {:.0} | {} | {:.0} µs | {:.0}% | {:.2} | {} |",
                case.name(),
                record_bytes,
                case.committers(),
                medians[i],
                if is_wal { format!("{:.1}", median(&mut groups[i])) } else { "—".into() },
                median(&mut sync_means[i]),
                median(&mut busy[i]) * 100.0,
                medians[i] / floor,
                if is_wal { format!("{:.2}", medians[i] / single) } else { "—".into() },
            );
        }
    }
}

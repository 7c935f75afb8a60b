//! Short update transactions (read 2 keys, write 2 keys) with 1 and 2 threads, under snapshot
//! and serializable isolation, with `Immediate` and `None` durability, on a real directory.
//!
//! Run: `cargo bench -p lightning-txn --bench txn_updates` (prints a markdown table).
//! The engine is the in-memory reference engine, so the figures isolate the transaction
//! layer and the WAL (group commit); engine costs are measured by the engines' benchmarks.

use std::{
    path::Path,
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use lightning_core_storage::{
    engine::MemoryEngine,
    vfs::{StdFs, Vfs},
};
use lightning_txn::{Isolation, TxnOptions, TxnStore};
use lightning_wal::{Durability, Wal, WalOptions};

const KEYS: u64 = 100_000;
const RUN: Duration = Duration::from_secs(3);

fn open(dir: &Path, durability: Durability) -> TxnStore {
    let vfs: Arc<dyn Vfs> = Arc::new(StdFs::new());
    let wal = Wal::open(vfs, &dir.join("wal"), WalOptions::default()).unwrap();
    let options = TxnOptions { durability, ..TxnOptions::default() };
    let store = TxnStore::open(Arc::new(MemoryEngine::new()), wal, options).unwrap().0;
    let mut tx = store.begin(Isolation::Snapshot).unwrap();
    for k in 0..KEYS {
        tx.put(&k.to_be_bytes(), &[0u8; 100]).unwrap();
    }
    tx.commit_with(Durability::None).unwrap();
    store.sync().unwrap();
    store
}

/// Runs `threads` workers for `RUN`; returns (commits/s, conflicts/s).
fn run(store: &TxnStore, isolation: Isolation, threads: u64) -> (f64, f64) {
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let store = store.clone();
            thread::spawn(move || {
                let (mut commits, mut conflicts) = (0u64, 0u64);
                let mut x = 0x2545_f491_4f6c_dd1du64 ^ (t + 1);
                while started.elapsed() < RUN {
                    let mut keys = [0u64; 2];
                    for key in &mut keys {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        *key = x % KEYS;
                    }
                    let mut tx = store.begin(isolation).unwrap();
                    let a = tx.get(&keys[0].to_be_bytes()).unwrap().unwrap_or_default();
                    let b = tx.get(&keys[1].to_be_bytes()).unwrap().unwrap_or_default();
                    tx.put(&keys[0].to_be_bytes(), &b).unwrap();
                    tx.put(&keys[1].to_be_bytes(), &a).unwrap();
                    match tx.commit() {
                        Ok(_) => commits += 1,
                        Err(e) if e.is_retryable() => conflicts += 1,
                        Err(e) => panic!("{e}"),
                    }
                }
                (commits, conflicts)
            })
        })
        .collect();
    let (mut commits, mut conflicts) = (0, 0);
    for worker in workers {
        let (c, x) = worker.join().unwrap();
        commits += c;
        conflicts += x;
    }
    let secs = started.elapsed().as_secs_f64();
    (commits as f64 / secs, conflicts as f64 / secs)
}

fn main() {
    // Criterion-style harness flags (e.g. `--bench`) are accepted and ignored.
    let base = std::env::current_dir().unwrap().join("target").join("bench-txn");
    std::fs::create_dir_all(&base).unwrap();
    println!("| durability | isolation | threads | commits/s | conflicts/s |");
    println!("|---|---|---:|---:|---:|");
    for durability in [Durability::Immediate, Durability::None] {
        for isolation in [Isolation::Snapshot, Isolation::Serializable] {
            for threads in [1u64, 2] {
                let dir = tempfile::tempdir_in(&base).unwrap();
                let store = open(dir.path(), durability);
                let (commits, conflicts) = run(&store, isolation, threads);
                println!(
                    "| {durability:?} | {isolation:?} | {threads} | {commits:.0} | {conflicts:.1} |"
                );
            }
        }
    }
}

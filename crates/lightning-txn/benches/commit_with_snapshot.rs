//! Commit latency with a snapshot held open for the whole run, against none.
//!
//! Each commit is a plain write batch of one random key (of 1,000,000) with a 100-byte value,
//! on the in-memory reference engine over a WAL in a real directory, so the figures isolate
//! the transaction layer (the oracle's committed-key table, which a held snapshot keeps from
//! being pruned) and the WAL. Before the held-snapshot runs are measured, 20,000 commits are
//! made with the snapshot already held, so the table is past any pruning threshold.
//!
//! Rows: durability `None` and `Immediate`, 1 and 4 committing threads, snapshot `none` or
//! `held`. The reported time is the latency of one commit as seen by one thread (with 4
//! threads, each thread makes `iters` commits concurrently).
//!
//! Run: `cargo bench -p lightning-txn --bench commit_with_snapshot`.

use std::{
    path::Path,
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use lightning_core_storage::{
    engine::{EngineBatch, MemoryEngine},
    rng::SplitMix64 as Rng,
    vfs::{StdFs, Vfs},
};
use lightning_txn::{Snapshot, TxnOptions, TxnStore};
use lightning_wal::{Durability, Wal, WalOptions};

const KEYS: u64 = 1_000_000;
const WARM_COMMITS: u64 = 20_000;

fn open(dir: &Path) -> TxnStore {
    let vfs: Arc<dyn Vfs> = Arc::new(StdFs::new());
    let wal = Wal::open(vfs, &dir.join("wal"), WalOptions::default()).unwrap();
    TxnStore::open(Arc::new(MemoryEngine::new()), wal, TxnOptions::default()).unwrap().0
}

fn commit(store: &TxnStore, rng: &mut Rng, durability: Durability) {
    let mut batch = EngineBatch::new();
    batch.put((rng.next_u64() % KEYS).to_be_bytes().to_vec(), vec![7u8; 100]);
    store.write(batch, durability).unwrap();
}

/// `threads` threads each make `iters` commits; returns the elapsed time.
fn run(store: &TxnStore, durability: Durability, threads: u64, iters: u64, seed: u64) -> Duration {
    let started = Instant::now();
    thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || {
                let mut rng = Rng::new(seed ^ (t + 1));
                for _ in 0..iters {
                    commit(store, &mut rng, durability);
                }
            });
        }
    });
    started.elapsed()
}

fn commit_latency(c: &mut Criterion) {
    let base = std::env::current_dir().unwrap().join("target").join("bench-txn");
    std::fs::create_dir_all(&base).unwrap();
    let mut group = c.benchmark_group("commit_latency");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for durability in [Durability::None, Durability::Immediate] {
        for threads in [1u64, 4] {
            for held in [false, true] {
                let dir = tempfile::tempdir_in(&base).unwrap();
                let store = open(dir.path());
                let snapshot: Option<Snapshot> = held.then(|| store.snapshot());
                let mut rng = Rng::new(1);
                if held {
                    for _ in 0..WARM_COMMITS {
                        commit(&store, &mut rng, Durability::None);
                    }
                }
                let name = format!(
                    "{durability:?}/{threads}t/{}",
                    if held { "snapshot-held" } else { "no-snapshot" }
                );
                let mut seed = 0;
                group.bench_function(BenchmarkId::from_parameter(name), |b| {
                    b.iter_custom(|iters| {
                        seed += 1;
                        run(&store, durability, threads, iters, seed)
                    });
                });
                drop(snapshot);
            }
        }
    }
    group.finish();
}

criterion_group!(benches, commit_latency);
criterion_main!(benches);

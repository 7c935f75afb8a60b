//! Read benchmark of the B+Tree engine against LMDB (heed) and redb, same data, same machine.
//!
//! 1,000,000 entries with 24-byte random keys and 150-byte random values:
//! - `bulk_load`: sorted input into an empty store, committed durably (LMDB: one write
//!   transaction with `APPEND` puts; redb: one write transaction; Lightning: `bulk_load`);
//! - `get`: random point reads of present keys, 1 and 2 threads;
//! - `range10`: seek to a random present key and read it and the next 9 (Lightning: with the
//!   copy-free `scan_with`, and as `lightning-iter` with the owning `scan` iterator);
//! - `get_missing`: random point reads of absent keys.
//!
//! Reads from LMDB and redb use one read transaction per measured batch (their fastest use);
//! Lightning reads need no transaction (a read timestamp is a number). Every read consumes
//! what it returns (a sum over the bytes of each key read by a scan and of each value), so an
//! engine that hands out slices of its pages pays for touching the data as an engine that
//! copies it does: a read that never looks at the value is not a read. Run with
//! `cargo bench -p lightning-btree --bench btree` (filter with `-- get` etc.).

use std::{
    ops::{Bound, ControlFlow},
    path::Path,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{Direction, KeyRange, StorageEngine},
    rng::SplitMix64 as Rng,
    vfs::StdFs,
};

const ENTRIES: usize = 1_000_000;
const KEY_LEN: usize = 24;
const VALUE_LEN: usize = 150;

/// The data set: sorted keys with their values, a shuffled read order, and absent keys.
struct Data {
    entries: Vec<([u8; KEY_LEN], Vec<u8>)>,
    order: Vec<u32>,
    missing: Vec<[u8; KEY_LEN]>,
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let mut rng = Rng::new(42);
        let mut entries: Vec<([u8; KEY_LEN], Vec<u8>)> = (0..ENTRIES)
            .map(|_| {
                let mut key = [0u8; KEY_LEN];
                rng.fill(&mut key);
                let mut value = vec![0u8; VALUE_LEN];
                rng.fill(&mut value);
                (key, value)
            })
            .collect();
        entries.sort_unstable_by_key(|e| e.0);
        entries.dedup_by(|a, b| a.0 == b.0);
        let mut order: Vec<u32> = (0..entries.len() as u32).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.next_u64() as usize % (i + 1));
        }
        let missing = (0..ENTRIES)
            .map(|_| {
                // Spread over the whole key space like the present keys (a fixed first byte
                // would send every miss to the same 1/256 of the leaves, all in CPU cache).
                let mut key = [0u8; KEY_LEN];
                rng.fill(&mut key);
                key
            })
            .filter(|k| entries.binary_search_by(|e| e.0.cmp(k)).is_err())
            .collect();
        Data { entries, order, missing }
    })
}

/// The read operations every engine offers.
trait Reader: Sync {
    /// Gets `n` keys from position `start` of the read order (or of the absent keys);
    /// returns how many were found.
    fn gets(&self, start: usize, n: u64, missing: bool) -> u64;
    /// Seeks to `n` keys of the read order, reading 10 entries from each; returns entries read.
    fn ranges(&self, start: usize, n: u64) -> u64;
    /// [`Reader::ranges`] through an owning iterator, where the engine has one besides its
    /// fastest way.
    fn ranges_owned(&self, start: usize, n: u64) -> u64 {
        self.ranges(start, n)
    }
}

/// Reads every byte of `parts` (cheaply), as a caller using them would; counts one read.
fn consume(parts: &[&[u8]]) -> u64 {
    for bytes in parts {
        std::hint::black_box(bytes.iter().map(|&b| u64::from(b)).sum::<u64>());
    }
    1
}

fn key_at(d: &Data, start: usize, i: u64, missing: bool) -> &[u8] {
    if missing {
        &d.missing[(start + i as usize) % d.missing.len()]
    } else {
        &d.entries[d.order[(start + i as usize) % d.order.len()] as usize].0
    }
}

mod lightning {
    use super::*;

    /// The keys from `key` on.
    fn from_key(key: &[u8]) -> KeyRange {
        KeyRange { start: Bound::Included(key.to_vec()), end: Bound::Unbounded }
    }

    pub struct Engine(pub BTreeEngine);

    pub fn load(dir: &Path) -> (Engine, Duration) {
        let options = BTreeOptions { cache_size_bytes: 2 << 30, ..BTreeOptions::default() };
        let engine = BTreeEngine::open(Arc::new(StdFs::new()), dir, options).expect("open");
        let start = Instant::now();
        let input = data().entries.iter().map(|(k, v)| (&k[..], &v[..]));
        engine.bulk_load(input, Timestamp(1), Lsn(1)).expect("bulk load");
        (Engine(engine), start.elapsed())
    }

    impl Reader for Engine {
        fn gets(&self, start: usize, n: u64, missing: bool) -> u64 {
            let d = data();
            (0..n)
                .filter_map(|i| {
                    self.0.get(key_at(d, start, i, missing), Timestamp(1)).expect("get")
                })
                .map(|v| consume(&[&v.value.expect("a value")]))
                .sum()
        }

        /// The copy-free scan: entries lent from the leaves, as LMDB and redb lend theirs.
        fn ranges(&self, start: usize, n: u64) -> u64 {
            let d = data();
            let mut read = 0;
            for i in 0..n {
                let range = from_key(key_at(d, start, i, false));
                let mut left = 10;
                self.0
                    .scan_with(&range, Timestamp(1), Direction::Forward, &mut |e| {
                        read += consume(&[e.key, e.value.expect("a value")]);
                        left -= 1;
                        if left == 0 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
                    })
                    .expect("scan");
            }
            read
        }

        fn ranges_owned(&self, start: usize, n: u64) -> u64 {
            let d = data();
            let mut read = 0;
            for i in 0..n {
                let range = from_key(key_at(d, start, i, false));
                let scan = self.0.scan(range, Timestamp(1), Direction::Forward).expect("scan");
                read += scan
                    .take(10)
                    .map(|e| e.expect("entry"))
                    .map(|e| consume(&[&e.key, &e.value.expect("a value")]))
                    .sum::<u64>();
            }
            read
        }
    }
}

mod lmdb {
    use heed::{Database, Env, EnvOpenOptions, PutFlags, types::Bytes};

    use super::*;

    pub struct Engine(pub Env, pub Database<Bytes, Bytes>);

    pub fn load(dir: &Path) -> (Engine, Duration) {
        // SAFETY: the directory is private to this benchmark; nothing else maps the file.
        let env = unsafe { EnvOpenOptions::new().map_size(4 << 30).open(dir) }.expect("lmdb env");
        let start = Instant::now();
        let mut txn = env.write_txn().expect("txn");
        let db: Database<Bytes, Bytes> = env.create_database(&mut txn, None).expect("db");
        for (k, v) in &data().entries {
            db.put_with_flags(&mut txn, PutFlags::APPEND, k, v).expect("put");
        }
        txn.commit().expect("commit");
        (Engine(env, db), start.elapsed())
    }

    impl Reader for Engine {
        fn gets(&self, start: usize, n: u64, missing: bool) -> u64 {
            let d = data();
            let txn = self.0.read_txn().expect("txn");
            (0..n)
                .filter_map(|i| self.1.get(&txn, key_at(d, start, i, missing)).expect("get"))
                .map(|v| consume(&[v]))
                .sum()
        }

        fn ranges(&self, start: usize, n: u64) -> u64 {
            let d = data();
            let txn = self.0.read_txn().expect("txn");
            let mut read = 0;
            for i in 0..n {
                let from = key_at(d, start, i, false);
                let iter =
                    self.1.range(&txn, &(Bound::Included(from), Bound::Unbounded)).expect("range");
                read += iter
                    .take(10)
                    .map(|e| e.expect("entry"))
                    .map(|(k, v)| consume(&[k, v]))
                    .sum::<u64>();
            }
            read
        }
    }
}

mod redb_store {
    use redb::{Database, ReadableDatabase, TableDefinition};

    use super::*;

    const TABLE: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("bench");

    pub struct Engine(pub Database);

    pub fn load(dir: &Path) -> (Engine, Duration) {
        let db =
            Database::builder().set_cache_size(2 << 30).create(dir.join("redb")).expect("redb");
        let start = Instant::now();
        let txn = db.begin_write().expect("txn");
        {
            let mut table = txn.open_table(TABLE).expect("table");
            for (k, v) in &data().entries {
                table.insert(&k[..], &v[..]).expect("insert");
            }
        }
        txn.commit().expect("commit");
        (Engine(db), start.elapsed())
    }

    impl Reader for Engine {
        fn gets(&self, start: usize, n: u64, missing: bool) -> u64 {
            let d = data();
            let txn = self.0.begin_read().expect("txn");
            let table = txn.open_table(TABLE).expect("table");
            (0..n)
                .filter_map(|i| table.get(key_at(d, start, i, missing)).expect("get"))
                .map(|v| consume(&[v.value()]))
                .sum()
        }

        fn ranges(&self, start: usize, n: u64) -> u64 {
            let d = data();
            let txn = self.0.begin_read().expect("txn");
            let table = txn.open_table(TABLE).expect("table");
            let mut read = 0;
            for i in 0..n {
                let iter = table.range(key_at(d, start, i, false)..).expect("range");
                read += iter
                    .take(10)
                    .map(|e| e.expect("entry"))
                    .map(|(k, v)| consume(&[k.value(), v.value()]))
                    .sum::<u64>();
            }
            read
        }
    }
}

/// One loaded store per engine, kept for all read benchmarks.
struct Loaded {
    _dir: tempfile::TempDir,
    reader: Box<dyn Reader + Send>,
}

const ENGINES: [&str; 3] = ["lightning", "lmdb", "redb"];

/// The store of engine `name`, loaded on first use (so a filtered run loads only what it reads).
fn store(name: &str) -> &'static Loaded {
    static STORES: [OnceLock<Loaded>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let index = ENGINES.iter().position(|e| *e == name).expect("known engine");
    STORES[index].get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let reader: Box<dyn Reader + Send> = match name {
            "lightning" => Box::new(lightning::load(dir.path()).0),
            "lmdb" => Box::new(lmdb::load(dir.path()).0),
            _ => Box::new(redb_store::load(dir.path()).0),
        };
        Loaded { _dir: dir, reader }
    })
}

fn bulk_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("bulk_load");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(ENTRIES as u64));
    type Load = fn(&Path) -> Duration;
    let loads: [(&str, Load); 3] = [
        ("lightning", |p| lightning::load(p).1),
        ("lmdb", |p| lmdb::load(p).1),
        ("redb", |p| redb_store::load(p).1),
    ];
    for (name, load) in loads {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                (0..iters).map(|_| load(tempfile::tempdir().expect("tempdir").path())).sum()
            })
        });
    }
    group.finish();
}

fn reads(c: &mut Criterion) {
    let mut cursor = 0usize;
    let mut next_start = |n: u64| {
        cursor = (cursor + n as usize) % ENTRIES;
        cursor
    };
    for (group_name, threads, missing, range) in [
        ("get", 1, false, false),
        ("get_2_threads", 2, false, false),
        ("range10", 1, false, true),
        ("get_missing", 1, true, false),
    ] {
        let mut group = c.benchmark_group(group_name);
        group.throughput(Throughput::Elements(1)).measurement_time(Duration::from_secs(5));
        // The range group also measures Lightning's owning iterator (`scan`), beside its
        // copy-free scan (`scan_with`) under the plain engine name.
        let variants: &[(&str, &str)] = if range {
            &[
                ("lightning", "lightning"),
                ("lightning", "lightning-iter"),
                ("lmdb", "lmdb"),
                ("redb", "redb"),
            ]
        } else {
            &[("lightning", "lightning"), ("lmdb", "lmdb"), ("redb", "redb")]
        };
        for &(name, label) in variants {
            let owned = label.ends_with("-iter");
            group.bench_function(BenchmarkId::from_parameter(label), |b| {
                let store = store(name);
                b.iter_custom(|iters| {
                    let start_at = next_start(iters);
                    let started = Instant::now();
                    let found = std::thread::scope(|s| {
                        let per = iters.div_ceil(threads);
                        let workers: Vec<_> = (0..threads as usize)
                            .map(|t| {
                                let reader = &store.reader;
                                s.spawn(move || {
                                    let start = start_at + t * per as usize;
                                    if range && owned {
                                        reader.ranges_owned(start, per)
                                    } else if range {
                                        reader.ranges(start, per)
                                    } else {
                                        reader.gets(start, per, missing)
                                    }
                                })
                            })
                            .collect();
                        workers.into_iter().map(|w| w.join().expect("reader")).sum::<u64>()
                    });
                    let elapsed = started.elapsed();
                    let expected = if missing {
                        0
                    } else if range {
                        10 * iters.div_ceil(threads) * threads
                    } else {
                        iters.div_ceil(threads) * threads
                    };
                    assert!(
                        found <= expected && (missing || found * 10 >= expected * 9),
                        "{found} of {expected}"
                    );
                    elapsed
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, reads, bulk_load);
criterion_main!(benches);

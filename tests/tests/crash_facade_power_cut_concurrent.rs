//! Power cuts at random durability points under concurrent writers, the database as it ships
//! over `FaultFs` (maintenance thread checkpointing every few milliseconds, group commit,
//! small log segments). Each writer commits transactions that write its own key in the default
//! keyspace and in a named one; one writer also calls `Database::sync` now and then.
//!
//! After the cut and a reopen: each commit is in both keyspaces or neither (nothing torn);
//! the commits present are a prefix of the commit order: if an acknowledged commit is present,
//! every commit acknowledged with a lower timestamp is too; every commit made durable (each
//! one under `Immediate`, every one acknowledged before a successful `sync`) is present.
//!
//! `LIGHTNING_CRASH_SEEDS` sets the number of random cuts (default 16).

use std::{
    path::Path,
    sync::{Arc, Mutex},
    thread,
    time::Duration,
};

mod common;

use common::ENGINES;
use lightning_db::{
    Config, Database, Durability, Engine,
    vfs::{FaultFs, FaultKind, PowerCut, Vfs},
};

const DIR: &str = "/db";
const WRITERS: usize = 3;
const COMMITS_PER_WRITER: u64 = 40;

fn config(engine: Engine, durability: Durability) -> Config {
    Config::default()
        .engine(engine)
        .durability(durability)
        .checkpoint_interval(Duration::from_millis(3))
        .sync_interval(Duration::from_millis(2))
        .wal_segment_size_bytes(4096)
}

fn open(fs: &FaultFs, engine: Engine, durability: Durability) -> lightning_db::Result<Database> {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    Database::open_with_vfs(vfs, Path::new(DIR), config(engine, durability))
}

fn key(writer: usize, seq: u64) -> String {
    format!("w{writer}:{seq:04}")
}

/// What the writers had acknowledged when the workload stopped.
#[derive(Debug, Default, Clone)]
struct Acks {
    /// Per writer, the commit timestamp of each acknowledged commit, in order (seq = index).
    timestamps: Vec<Vec<u64>>,
    /// Per writer, how many of its first commits were made durable.
    durable: Vec<usize>,
}

fn run(fs: &FaultFs, engine: Engine, durability: Durability) -> Acks {
    let acks = Arc::new(Mutex::new(Acks {
        timestamps: vec![Vec::new(); WRITERS],
        durable: vec![0; WRITERS],
    }));
    let Ok(db) = open(fs, engine, durability) else { return acks.lock().unwrap().clone() };
    let Ok(mirror) = db.keyspace("mirror") else { return acks.lock().unwrap().clone() };
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (db, mirror, acks) = (db.clone(), mirror.clone(), Arc::clone(&acks));
            thread::spawn(move || {
                for seq in 0..COMMITS_PER_WRITER {
                    let commit = || -> lightning_db::Result<u64> {
                        let mut tx = db.begin()?;
                        let value = vec![b'a' + writer as u8; 10 + (seq as usize * 53) % 900];
                        tx.put(key(writer, seq), &value)?;
                        tx.keyspace(&mirror).put(key(writer, seq), &value)?;
                        Ok(tx.commit_timestamp()?.0)
                    };
                    let Ok(ts) = commit() else { return };
                    let mut guard = acks.lock().unwrap();
                    guard.timestamps[writer].push(ts);
                    if durability == Durability::Immediate {
                        guard.durable[writer] = guard.timestamps[writer].len();
                    }
                    drop(guard);
                    if writer == 0 && seq % 7 == 6 {
                        let before: Vec<usize> = acks_lengths(&acks.lock().unwrap().timestamps);
                        if db.sync().is_err() {
                            return;
                        }
                        let mut guard = acks.lock().unwrap();
                        for (durable, len) in guard.durable.iter_mut().zip(before) {
                            *durable = (*durable).max(len);
                        }
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    drop(mirror);
    let mut acks = acks.lock().unwrap().clone();
    // A close that succeeds before any power cut made everything durable. (After a cut the
    // store is poisoned and close returns `Poisoned`.)
    if db.close().is_ok() && !fs.is_dead() {
        acks.durable = acks_lengths(&acks.timestamps);
    }
    acks
}

fn acks_lengths(timestamps: &[Vec<u64>]) -> Vec<usize> {
    timestamps.iter().map(Vec::len).collect()
}

fn verify(fs: &FaultFs, engine: Engine, durability: Durability, acks: &Acks, label: &str) {
    let db = open(fs, engine, durability).unwrap_or_else(|e| panic!("{label}: reopen failed: {e}"));
    let mirror = db.keyspace("mirror").unwrap();
    let mut newest_present = 0u64;
    let mut present = [0usize; WRITERS];
    for (writer, present) in present.iter_mut().enumerate() {
        for seq in 0..COMMITS_PER_WRITER {
            let in_default = db.get(key(writer, seq)).unwrap();
            let in_mirror = mirror.get(key(writer, seq)).unwrap();
            assert_eq!(in_default, in_mirror, "{label}: commit {writer}/{seq} torn");
            if in_default.is_none() {
                let rest = (seq + 1..COMMITS_PER_WRITER)
                    .find(|&s| db.get(key(writer, s)).unwrap().is_some());
                assert_eq!(rest, None, "{label}: writer {writer} has {rest:?} without {seq}");
                break;
            }
            *present += 1;
            if let Some(&ts) = acks.timestamps[writer].get(seq as usize) {
                newest_present = newest_present.max(ts);
            }
        }
        assert!(
            *present >= acks.durable[writer],
            "{label}: writer {writer}: {} durable commits, {present} present",
            acks.durable[writer],
        );
    }
    for (writer, timestamps) in acks.timestamps.iter().enumerate() {
        for (seq, &ts) in timestamps.iter().enumerate() {
            assert!(
                ts > newest_present || seq < present[writer],
                "{label}: commit {writer}/{seq} at {ts} lost below {newest_present}, present"
            );
        }
    }
    assert!(db.check().unwrap().is_clean(), "{label}: integrity check after recovery");
    drop(mirror);
    db.close().unwrap();
}

#[test]
fn power_cuts_under_concurrent_writers_keep_a_prefix_of_the_commit_order() {
    for &engine in ENGINES {
        let dry = FaultFs::new();
        let acks = run(&dry, engine, Durability::Eventual);
        assert_eq!(
            acks.timestamps.iter().map(Vec::len).sum::<usize>(),
            WRITERS * COMMITS_PER_WRITER as usize
        );
        let points = dry.durability_points();
        verify(&dry, engine, Durability::Eventual, &acks, "dry run");
        let seeds: u64 =
            std::env::var("LIGHTNING_CRASH_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(16);
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for seed in 1..=seeds {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let n = 1 + rng % (2 * points);
            let crash = match (rng >> 32) % 3 {
                0 => FaultKind::CrashAfterPoint { n, cut: PowerCut::DropUnsynced },
                1 => FaultKind::CrashBeforePoint { n, cut: PowerCut::TearUnsynced { seed } },
                _ => FaultKind::CrashBeforePoint { n, cut: PowerCut::ReorderUnsynced { seed } },
            };
            let durability = if (rng >> 40).is_multiple_of(2) {
                Durability::Immediate
            } else {
                Durability::Eventual
            };
            let fs = FaultFs::new();
            fs.inject(crash);
            let acks = run(&fs, engine, durability);
            fs.finish_with_crash(); // the armed cut, or one now if the run ended before it
            verify(
                &fs,
                engine,
                durability,
                &acks,
                &format!("{engine:?} seed {seed} {durability:?} {crash:?}"),
            );
        }
    }
}

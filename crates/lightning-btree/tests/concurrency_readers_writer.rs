//! Readers at a fixed snapshot see stable answers while a writer applies newer versions,
//! vacuum runs and checkpoints run (in the background and explicitly); nothing deadlocks.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread,
    time::Duration,
};

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine, VersionedEntry},
    vfs::{FaultFs, Vfs},
};

const KEYS: u64 = 4000;

fn key(i: u64) -> Vec<u8> {
    format!("key{i:06}").into_bytes()
}

fn scan(
    engine: &BTreeEngine,
    range: KeyRange,
    at: u64,
    direction: Direction,
) -> Vec<VersionedEntry> {
    engine
        .scan(range, Timestamp(at), direction)
        .expect("scan")
        .collect::<Result<_, _>>()
        .expect("entry")
}

#[test]
fn snapshot_reads_are_stable_while_writes_vacuum_and_checkpoints_run() {
    let fs = FaultFs::new();
    let vfs: Arc<dyn Vfs> = Arc::new(fs);
    let options = BTreeOptions {
        cache_size_bytes: 2 << 20,
        checkpoint_dirty_bytes: 512 << 10,
        checkpoint_interval_ms: 10,
        ..BTreeOptions::default()
    };
    let engine = Arc::new(BTreeEngine::open(vfs, Path::new("/db"), options).expect("open"));
    for chunk in 0..KEYS / 500 {
        let mut batch = EngineBatch::new();
        for i in chunk * 500..(chunk + 1) * 500 {
            batch.put(key(i), vec![(i % 251) as u8; (i % 700) as usize]);
        }
        engine.apply(&batch, Timestamp(1), Lsn(chunk + 1)).expect("preload");
    }
    let expected = Arc::new(scan(&engine, KeyRange::all(), 1, Direction::Forward));
    assert_eq!(expected.len() as u64, KEYS);
    let stop = Arc::new(AtomicBool::new(false));
    let (done, finished) = mpsc::channel::<&'static str>();
    let mut threads = Vec::new();
    {
        let (engine, stop, done) = (Arc::clone(&engine), Arc::clone(&stop), done.clone());
        threads.push(thread::spawn(move || {
            for round in 0..600u64 {
                let mut batch = EngineBatch::new();
                for j in 0..40 {
                    let i = (round * 97 + j * 13) % KEYS;
                    batch.put(key(i), vec![round as u8; ((round + j) % 900) as usize]);
                    batch.put(
                        format!("{}-new{round}", String::from_utf8_lossy(&key(i))),
                        b"x".to_vec(),
                    );
                    if j % 7 == 0 {
                        batch.delete(key((i + 1) % KEYS));
                    }
                }
                engine.apply(&batch, Timestamp(2 + round), Lsn(100 + round)).expect("apply");
                if round % 25 == 0 {
                    // Nothing visible at timestamp 1 or later may go.
                    engine.collect_garbage(Timestamp(1)).expect("gc");
                }
            }
            stop.store(true, Ordering::Release);
            done.send("writer").expect("report");
        }));
    }
    {
        let (engine, stop, done) = (Arc::clone(&engine), Arc::clone(&stop), done.clone());
        threads.push(thread::spawn(move || {
            while !stop.load(Ordering::Acquire) {
                engine.checkpoint().expect("explicit checkpoint");
                thread::sleep(Duration::from_millis(3));
            }
            done.send("checkpointer").expect("report");
        }));
    }
    for reader in 0..2u64 {
        let (engine, stop, done, expected) =
            (Arc::clone(&engine), Arc::clone(&stop), done.clone(), Arc::clone(&expected));
        threads.push(thread::spawn(move || {
            let mut n = reader;
            let mut rounds = 0;
            while !stop.load(Ordering::Acquire) || rounds < 20 {
                n = n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let i = (n >> 33) % KEYS;
                let got = engine.get(&key(i), Timestamp(1)).expect("get");
                let want = &expected[i as usize];
                assert_eq!(
                    got.map(|v| (v.commit_ts, v.value)),
                    Some((want.commit_ts, want.value.clone()))
                );
                let (lo, hi) = (i, (i + 1 + (n >> 20) % 300).min(KEYS));
                let range = KeyRange::new(key(lo)..key(hi));
                let direction = if n & 1 == 0 { Direction::Forward } else { Direction::Reverse };
                let mut want: Vec<VersionedEntry> = expected[lo as usize..hi as usize].to_vec();
                if direction == Direction::Reverse {
                    want.reverse();
                }
                assert_eq!(scan(&engine, range, 1, direction), want, "stable range scan");
                rounds += 1;
                if rounds % 50 == 0 {
                    assert_eq!(scan(&engine, KeyRange::all(), 1, Direction::Forward), *expected);
                }
            }
            done.send("reader").expect("report");
        }));
    }
    drop(done);
    for _ in 0..threads.len() {
        let who =
            finished.recv_timeout(Duration::from_secs(120)).expect("a thread is stuck: deadlock");
        assert!(!who.is_empty());
    }
    for t in threads {
        t.join().expect("thread");
    }
    assert_eq!(scan(&engine, KeyRange::all(), 1, Direction::Forward), *expected);
    let stats = engine.btree_stats();
    assert!(stats.checkpoints > 5, "checkpoints ran during the test: {stats:?}");
    engine.check().expect("check after the run");
}

//! The rule of `StorageEngine::scan_with` (and of the owning `scan` iterator between calls):
//! no engine lock is held while the caller's code runs, and each hold of the tree lock
//! examines a bounded number of entries. Shown here by a visitor that writes, checkpoints and
//! vacuums the engine from inside a leaf (any lock held would deadlock against its own write
//! lock), by a visitor that reads while another thread waits to write, and by a range of
//! invisible versions walked one leaf per hold. A watchdog turns a deadlock into a failure.

use std::{
    ops::ControlFlow,
    path::Path,
    sync::{Arc, mpsc},
    thread,
    time::Duration,
};

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine},
    vfs::{FaultFs, Vfs},
};

/// Long enough for a debug build on a loaded machine; a deadlock never finishes at all.
const WATCHDOG: Duration = Duration::from_secs(120);

/// Runs `body` on its own thread and fails if it does not finish before the watchdog.
fn without_deadlock(what: &str, body: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let handle = thread::spawn(move || {
        body();
        let _ = done.send(());
    });
    match finished.recv_timeout(WATCHDOG) {
        Ok(()) => handle.join().expect("the test body panicked"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(handle.join().expect_err("the body ended without a result"))
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("deadlock: {what} did not finish"),
    }
}

fn engine() -> Arc<BTreeEngine> {
    let vfs: Arc<dyn Vfs> = Arc::new(FaultFs::new());
    let options = BTreeOptions::default().manual_checkpoints();
    Arc::new(BTreeEngine::open(vfs, Path::new("/db"), options).unwrap())
}

const KEYS: u32 = 300;

fn key(i: u32) -> Vec<u8> {
    format!("key{i:05}").into_bytes()
}

/// The value of key `i` at `version`: every fifth one too large for a leaf (an overflow
/// chain, or a pending blob until a checkpoint writes it).
fn value(i: u32, version: u8) -> Vec<u8> {
    let len = if i.is_multiple_of(5) { 9_000 } else { 40 };
    vec![version.wrapping_add(i as u8); len]
}

/// `KEYS` keys at timestamp 10, not checkpointed: large values are still pending blobs.
fn filled() -> Arc<BTreeEngine> {
    let engine = engine();
    let mut batch = EngineBatch::new();
    for i in 0..KEYS {
        batch.put(key(i), value(i, 1));
    }
    engine.apply(&batch, Timestamp(10), Lsn(1)).unwrap();
    engine
}

/// Rewrites every key at `ts` (even ones deleted), then checkpoints (pending blobs become
/// chains, every leaf is replaced) and vacuums at the horizon 10 (what timestamp 10 sees
/// stays).
fn rewrite_checkpoint_vacuum(engine: &BTreeEngine, ts: u64) {
    let mut batch = EngineBatch::new();
    for i in 0..KEYS {
        if i % 2 == 0 {
            batch.delete(key(i));
        } else {
            batch.put(key(i), value(i, ts as u8));
        }
    }
    engine.apply(&batch, Timestamp(ts), Lsn(ts)).unwrap();
    engine.checkpoint().unwrap();
    engine.collect_garbage(Timestamp(10)).unwrap();
}

fn expected(direction: Direction) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut all: Vec<_> = (0..KEYS).map(|i| (key(i), value(i, 1))).collect();
    if direction == Direction::Reverse {
        all.reverse();
    }
    all
}

#[test]
fn a_visitor_that_writes_checkpoints_and_vacuums_mid_leaf_still_sees_its_view() {
    without_deadlock("writes from inside scan_with", || {
        for direction in [Direction::Forward, Direction::Reverse] {
            let engine = filled();
            let mut seen = Vec::new();
            let mut ts = 10;
            engine
                .scan_with(&KeyRange::all(), Timestamp(10), direction, &mut |entry| {
                    seen.push((entry.key.to_vec(), entry.value.expect("a live key").to_vec()));
                    // Every 40 entries: far inside a leaf, and often just before an
                    // overflow value the walk has not read yet.
                    if seen.len() % 40 == 1 {
                        ts += 1;
                        rewrite_checkpoint_vacuum(&engine, ts);
                    }
                    ControlFlow::Continue(())
                })
                .unwrap();
            assert!(seen == expected(direction), "scan_with {direction:?} saw its view");
        }
    });
}

#[test]
fn an_owning_scan_sees_its_view_while_the_tree_changes_between_calls() {
    without_deadlock("writes between calls of a scan iterator", || {
        for direction in [Direction::Forward, Direction::Reverse] {
            let engine = filled();
            let scan = engine.scan(KeyRange::all(), Timestamp(10), direction).unwrap();
            let mut seen = Vec::new();
            let mut ts = 10;
            for entry in scan {
                let entry = entry.unwrap();
                seen.push((entry.key, entry.value.expect("a live key")));
                if seen.len() % 40 == 1 {
                    ts += 1;
                    rewrite_checkpoint_vacuum(&engine, ts);
                }
            }
            assert!(seen == expected(direction), "scan {direction:?} saw its view");
        }
    });
}

#[test]
fn a_visitor_that_reads_while_a_writer_waits_does_not_deadlock() {
    without_deadlock("a get inside scan_with with a writer waiting", || {
        let engine = filled();
        let mut writer = None;
        let mut read = 0;
        engine
            .scan_with(&KeyRange::all(), Timestamp(10), Direction::Forward, &mut |entry| {
                if writer.is_none() {
                    let engine = Arc::clone(&engine);
                    writer = Some(thread::spawn(move || {
                        let mut batch = EngineBatch::new();
                        batch.put(b"written-meanwhile".to_vec(), b"w".to_vec());
                        engine.apply(&batch, Timestamp(20), Lsn(2))
                    }));
                    // Time for the writer to queue for the write lock: a scan holding the
                    // read lock here would make the get below wait behind it forever.
                    thread::sleep(Duration::from_millis(200));
                }
                let version = engine.get(entry.key, Timestamp(10)).unwrap().expect("present");
                assert_eq!(version.value.as_deref(), entry.value);
                read += 1;
                ControlFlow::Continue(())
            })
            .unwrap();
        writer.expect("the visitor ran").join().unwrap().unwrap();
        assert_eq!(read, KEYS);
        let written = engine.get(b"written-meanwhile", Timestamp(20)).unwrap();
        assert_eq!(written.and_then(|v| v.value).as_deref(), Some(&b"w"[..]));
    });
}

#[test]
fn a_range_of_invisible_versions_is_walked_one_leaf_per_lock_hold() {
    let engine = engine();
    for chunk in 0..10u64 {
        let mut batch = EngineBatch::new();
        for i in chunk * 2_000..(chunk + 1) * 2_000 {
            batch.put(format!("key{i:07}"), b"v".to_vec());
        }
        engine.apply(&batch, Timestamp(10 + chunk), Lsn(chunk + 1)).unwrap();
    }
    let leaves = engine.btree_stats().leaf_pages;
    for direction in [Direction::Forward, Direction::Reverse] {
        let before = engine.btree_stats().scan_lock_holds;
        let mut lent = 0;
        engine
            .scan_with(&KeyRange::all(), Timestamp(5), direction, &mut |_| {
                lent += 1;
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(lent, 0, "nothing is visible at timestamp 5");
        let holds = engine.btree_stats().scan_lock_holds - before;
        // One hold finds each leaf (and one more finds the end): no hold walks two leaves'
        // entries, however few of them are visible.
        assert!(holds >= leaves, "{direction:?}: {holds} lock holds for {leaves} leaves");
        assert!(holds <= leaves + 1, "{direction:?}: {holds} lock holds for {leaves} leaves");
    }
}

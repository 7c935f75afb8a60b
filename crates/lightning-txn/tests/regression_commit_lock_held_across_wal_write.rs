//! Regression (issue #12): an `Eventual` commit called write(2) — and sometimes created and
//! preallocated a segment — inside the global commit lock (it appended with
//! `Durability::Eventual`, which waits for the write), and any commit whose append pushed the
//! WAL buffer past `MAX_BUFFERED_BYTES` did the same. Every other committer waited for that
//! I/O. Now the record is appended without I/O under the lock and the write is waited for
//! outside it.
//!
//! The test holds WAL writes at `FaultFs`'s write gate. While a commit's write is stuck there,
//! another transaction must still get through the commit lock (it conflicts on the same key,
//! so it returns without waiting for anything else); and the blocked commit must not return
//! before its write is done.

use std::{
    path::Path,
    sync::{Arc, mpsc},
    thread,
    time::Duration,
};

use lightning_core_storage::{
    engine::{EngineBatch, MemoryEngine},
    vfs::{FaultFs, Vfs},
};
use lightning_txn::{Error, Isolation, TxnOptions, TxnStore};
use lightning_wal::{Durability, MAX_BUFFERED_BYTES, Wal, WalOptions};

fn open(fs: &FaultFs) -> TxnStore {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    vfs.create_dir_all(Path::new("/db/wal")).unwrap();
    let wal = Wal::open(vfs, Path::new("/db/wal"), WalOptions::default()).unwrap();
    TxnStore::open(Arc::new(MemoryEngine::new()), wal, TxnOptions::default()).unwrap().0
}

/// While `batch`, committed with `durability`, is stuck in its WAL write, a conflicting
/// transaction gets through the commit lock and the stuck commit has not returned.
fn another_commit_passes_while_a_write_is_blocked(durability: Durability, value_len: usize) {
    let fs = FaultFs::new();
    let store = open(&fs);
    let mut rival = store.begin(Isolation::Snapshot).unwrap();
    rival.put(b"k", b"rival").unwrap();
    let mut batch = EngineBatch::new();
    batch.put(b"k".to_vec(), vec![1u8; value_len]);
    fs.hold_writes();
    let writer = {
        let store = store.clone();
        thread::spawn(move || store.write(batch, durability))
    };
    fs.wait_for_held_writes(1);
    let (sender, outcome) = mpsc::channel();
    let committer = thread::spawn(move || sender.send(rival.commit()).unwrap());
    // Before the fix this never arrives while the gate is closed (the writer holds the commit
    // lock); the wait only bounds how long the failing case takes.
    let result = outcome.recv_timeout(Duration::from_secs(60));
    let writer_returned_early = writer.is_finished();
    fs.release_writes();
    committer.join().unwrap();
    let written = writer.join().unwrap();
    let result = result.expect("the rival commit could not take the commit lock during I/O");
    assert!(matches!(result, Err(Error::Conflict { .. })), "{result:?}");
    assert!(!writer_returned_early, "a {durability:?} commit returned before its write");
    written.unwrap();
    assert_eq!(store.get(b"k").unwrap().unwrap().len(), value_len);
}

#[test]
fn an_eventual_commit_writes_outside_the_commit_lock() {
    another_commit_passes_while_a_write_is_blocked(Durability::Eventual, 16);
}

#[test]
fn a_commit_that_fills_the_wal_buffer_writes_it_outside_the_commit_lock() {
    // Durability::None returns without writing unless the buffer passes the bound.
    another_commit_passes_while_a_write_is_blocked(Durability::None, MAX_BUFFERED_BYTES + 1);
}

#[test]
fn an_immediate_commit_that_fills_the_wal_buffer_writes_outside_the_commit_lock() {
    another_commit_passes_while_a_write_is_blocked(Durability::Immediate, MAX_BUFFERED_BYTES + 1);
}

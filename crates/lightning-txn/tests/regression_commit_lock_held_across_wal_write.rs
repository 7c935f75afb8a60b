//! Regression (issue #12): an `Eventual` commit called write(2) — and sometimes created and
//! preallocated a segment — inside the global commit lock (it appended with
//! `Durability::Eventual`, which waits for the write), and any commit whose append pushed the
//! WAL buffer past `MAX_BUFFERED_BYTES` did the same. Every other committer waited for that
//! I/O. Now the record is appended without I/O under the lock and the write is waited for
//! outside it.
//!
//! The test blocks WAL writes at a gate. While a commit's write is stuck there, another
//! transaction must still get through the commit lock (it conflicts on the same key, so it
//! returns without waiting for anything else); and the blocked commit must not return before
//! its write is done.

use std::{
    path::Path,
    sync::{Arc, mpsc},
    thread,
    time::Duration,
};

use lightning_core_storage::{
    engine::{EngineBatch, MemoryEngine},
    vfs::{FaultFs, FileHandle, OpenMode, Vfs, VfsFile, VfsLock},
};
use lightning_txn::{Error, Isolation, TxnOptions, TxnStore};
use lightning_wal::{Durability, MAX_BUFFERED_BYTES, Wal, WalOptions};
use parking_lot::{Condvar, Mutex};

/// Blocks every file write while closed, counting the writers it holds.
#[derive(Debug, Default)]
struct Gate {
    state: Mutex<(bool, usize)>,
    changed: Condvar,
}

impl Gate {
    fn close(&self) {
        self.state.lock().0 = true;
    }

    fn open(&self) {
        self.state.lock().0 = false;
        self.changed.notify_all();
    }

    fn pass(&self) {
        let mut state = self.state.lock();
        if state.0 {
            state.1 += 1;
            self.changed.notify_all();
            while state.0 {
                self.changed.wait(&mut state);
            }
            state.1 -= 1;
        }
    }

    fn wait_for_a_blocked_writer(&self) {
        let mut state = self.state.lock();
        while state.1 == 0 {
            self.changed.wait(&mut state);
        }
    }
}

#[derive(Debug)]
struct GatedFs {
    inner: FaultFs,
    gate: Arc<Gate>,
}

#[derive(Debug)]
struct GatedFile {
    inner: FileHandle,
    gate: Arc<Gate>,
}

impl VfsFile for GatedFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> lightning_core_storage::Result<()> {
        self.inner.read_exact_at(buf, offset)
    }
    fn write_all_at(&self, buf: &[u8], offset: u64) -> lightning_core_storage::Result<()> {
        self.gate.pass();
        self.inner.write_all_at(buf, offset)
    }
    fn sync_data(&self) -> lightning_core_storage::Result<()> {
        self.inner.sync_data()
    }
    fn sync_all(&self) -> lightning_core_storage::Result<()> {
        self.inner.sync_all()
    }
    fn len(&self) -> lightning_core_storage::Result<u64> {
        self.inner.len()
    }
    fn set_len(&self, len: u64) -> lightning_core_storage::Result<()> {
        self.inner.set_len(len)
    }
    fn path(&self) -> &Path {
        self.inner.path()
    }
}

impl Vfs for GatedFs {
    fn open(&self, path: &Path, mode: OpenMode) -> lightning_core_storage::Result<FileHandle> {
        let inner = self.inner.open(path, mode)?;
        Ok(Arc::new(GatedFile { inner, gate: Arc::clone(&self.gate) }))
    }
    fn remove(&self, path: &Path) -> lightning_core_storage::Result<()> {
        self.inner.remove(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> lightning_core_storage::Result<()> {
        self.inner.rename(from, to)
    }
    fn list(&self, dir: &Path) -> lightning_core_storage::Result<Vec<String>> {
        self.inner.list(dir)
    }
    fn exists(&self, path: &Path) -> lightning_core_storage::Result<bool> {
        self.inner.exists(path)
    }
    fn create_dir_all(&self, dir: &Path) -> lightning_core_storage::Result<()> {
        self.inner.create_dir_all(dir)
    }
    fn sync_dir(&self, dir: &Path) -> lightning_core_storage::Result<()> {
        self.inner.sync_dir(dir)
    }
    fn lock(&self, path: &Path) -> lightning_core_storage::Result<Box<dyn VfsLock>> {
        self.inner.lock(path)
    }
}

fn open(gate: &Arc<Gate>) -> TxnStore {
    let vfs: Arc<dyn Vfs> = Arc::new(GatedFs { inner: FaultFs::new(), gate: Arc::clone(gate) });
    vfs.create_dir_all(Path::new("/db/wal")).unwrap();
    let wal = Wal::open(vfs, Path::new("/db/wal"), WalOptions::default()).unwrap();
    TxnStore::open(Arc::new(MemoryEngine::new()), wal, TxnOptions::default()).unwrap().0
}

/// While `batch`, committed with `durability`, is stuck in its WAL write, a conflicting
/// transaction gets through the commit lock and the stuck commit has not returned.
fn another_commit_passes_while_a_write_is_blocked(durability: Durability, value_len: usize) {
    let gate = Arc::new(Gate::default());
    let store = open(&gate);
    let mut rival = store.begin(Isolation::Snapshot).unwrap();
    rival.put(b"k", b"rival").unwrap();
    let mut batch = EngineBatch::new();
    batch.put(b"k".to_vec(), vec![1u8; value_len]);
    gate.close();
    let writer = {
        let store = store.clone();
        thread::spawn(move || store.write(batch, durability))
    };
    gate.wait_for_a_blocked_writer();
    let (sender, outcome) = mpsc::channel();
    let committer = thread::spawn(move || sender.send(rival.commit()).unwrap());
    // Before the fix this never arrives while the gate is closed (the writer holds the commit
    // lock); the wait only bounds how long the failing case takes.
    let result = outcome.recv_timeout(Duration::from_secs(60));
    let writer_returned_early = writer.is_finished();
    gate.open();
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

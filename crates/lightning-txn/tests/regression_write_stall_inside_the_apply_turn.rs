//! Regression: an engine's write stall (the B+Tree waits up to 10 s for a checkpoint when too
//! much is dirty) ran inside `StorageEngine::apply`, which the store calls in the commit's
//! apply turn: every later commit waited behind the stalled one. The store now calls
//! `StorageEngine::admit_write` before its commit lock: a writer stalled there holds no LSN and
//! no turn, and other commits go on. Shown with an engine whose admission blocks one writer
//! until the test releases it (no timing: channels and a watchdog).

use std::{
    path::Path,
    sync::{Arc, mpsc},
    thread,
    time::Duration,
};

use lightning_core_storage::{
    Lsn, Result, Timestamp,
    engine::{
        Direction, DurableState, EngineBatch, EngineIter, EngineStats, KeyRange, MemoryEngine,
        StorageEngine, Version,
    },
    vfs::{FaultFs, Vfs},
};
use lightning_txn::{TxnOptions, TxnStore};
use lightning_wal::{Durability, Wal, WalOptions};
use parking_lot::Mutex;

/// Generous: a broken ordering never finishes at all.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Delegates to `inner`; the first writer to be admitted stalls until released.
struct StallingEngine {
    inner: MemoryEngine,
    stalled: Mutex<Option<mpsc::Sender<()>>>,
    release: Mutex<Option<mpsc::Receiver<()>>>,
}

impl StorageEngine for StallingEngine {
    fn name(&self) -> &'static str {
        "stalling"
    }
    fn admit_write(&self) -> Result<()> {
        let first = self.stalled.lock().take();
        if let Some(tx) = first {
            tx.send(()).unwrap();
            let rx = self.release.lock().take().expect("one stall");
            rx.recv().unwrap();
        }
        Ok(())
    }
    fn get(&self, key: &[u8], read_ts: Timestamp) -> Result<Option<Version>> {
        self.inner.get(key, read_ts)
    }
    fn scan(&self, range: KeyRange, ts: Timestamp, d: Direction) -> Result<EngineIter> {
        self.inner.scan(range, ts, d)
    }
    fn apply(&self, batch: &EngineBatch, commit_ts: Timestamp, lsn: Lsn) -> Result<()> {
        self.inner.apply(batch, commit_ts, lsn)
    }
    fn durable_state(&self) -> DurableState {
        self.inner.durable_state()
    }
    fn checkpoint(&self) -> Result<DurableState> {
        self.inner.checkpoint()
    }
    fn collect_garbage(&self, horizon: Timestamp) -> Result<u64> {
        self.inner.collect_garbage(horizon)
    }
    fn stats(&self) -> Result<EngineStats> {
        self.inner.stats()
    }
}

fn batch(key: &[u8]) -> EngineBatch {
    let mut batch = EngineBatch::new();
    batch.put(key.to_vec(), b"v".to_vec());
    batch
}

#[test]
fn a_writer_stalled_by_the_engine_does_not_hold_up_other_commits() {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new("/db/wal")).unwrap();
    let vfs: Arc<dyn Vfs> = Arc::new(fs);
    let wal = Wal::open(vfs, Path::new("/db/wal"), WalOptions::default()).unwrap();
    let (stalled_tx, stalled_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let engine = Arc::new(StallingEngine {
        inner: MemoryEngine::new(),
        stalled: Mutex::new(Some(stalled_tx)),
        release: Mutex::new(Some(release_rx)),
    });
    let (store, _) = TxnStore::open(engine, wal, TxnOptions::default()).unwrap();

    let a = {
        let store = store.clone();
        thread::spawn(move || store.write(batch(b"stalled"), Durability::Immediate))
    };
    stalled_rx.recv_timeout(WATCHDOG).expect("the store asks the engine to admit a write");
    // A is stalled in admission. B must commit (logged, applied, visible) meanwhile.
    let (b_done_tx, b_done_rx) = mpsc::channel();
    {
        let store = store.clone();
        thread::spawn(move || {
            let result = store.write(batch(b"other"), Durability::Immediate);
            let _ = b_done_tx.send(result.map(|_| ()));
        });
    }
    let b = b_done_rx.recv_timeout(WATCHDOG).expect("B waited behind the stalled writer A");
    b.expect("B commits");
    assert!(store.get(b"other").unwrap().is_some(), "B is visible while A is stalled");
    assert!(store.get(b"stalled").unwrap().is_none(), "A is not logged before it is admitted");
    release_tx.send(()).unwrap();
    a.join().unwrap().expect("A commits once admitted");
    assert!(store.get(b"stalled").unwrap().is_some());
}

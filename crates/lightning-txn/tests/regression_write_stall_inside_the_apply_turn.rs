//! Regression: an engine's write stall (the B+Tree waits up to 10 s for a checkpoint when too
//! much is dirty) ran inside `StorageEngine::apply`, which the store calls in the commit's
//! apply turn: every later commit waited behind the stalled one. The store now calls
//! `StorageEngine::admit_write` before its commit lock: a writer stalled there holds no LSN and
//! no turn, and other commits go on. Shown with an engine whose admission blocks one writer
//! until the test releases it (no timing: channels and a watchdog).

mod common;

use std::{
    path::Path,
    sync::{Arc, mpsc},
    thread,
    time::Duration,
};

use common::hooked::{EngineHooks, Hooked};
use lightning_core_storage::{
    Result,
    engine::{EngineBatch, MemoryEngine},
    vfs::{FaultFs, Vfs},
};
use lightning_txn::{TxnOptions, TxnStore};
use lightning_wal::{Durability, Wal, WalOptions};
use parking_lot::Mutex;

/// Generous: a broken ordering never finishes at all.
const WATCHDOG: Duration = Duration::from_secs(60);

/// The first writer to be admitted stalls until released.
struct Stall {
    stalled: Mutex<Option<mpsc::Sender<()>>>,
    release: Mutex<Option<mpsc::Receiver<()>>>,
}

impl EngineHooks for Stall {
    fn admit_write(&self) -> Result<()> {
        let first = self.stalled.lock().take();
        if let Some(tx) = first {
            tx.send(()).unwrap();
            let rx = self.release.lock().take().expect("one stall");
            rx.recv().unwrap();
        }
        Ok(())
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
    let stall =
        Stall { stalled: Mutex::new(Some(stalled_tx)), release: Mutex::new(Some(release_rx)) };
    let engine = Arc::new(Hooked::new("stalling", Arc::new(MemoryEngine::new()), stall));
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

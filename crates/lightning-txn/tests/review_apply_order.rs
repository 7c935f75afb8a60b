//! Review: commits are applied to the engine out of LSN order (apply runs outside the commit
//! lock, after the per-commit fsync), but engines report "durable up to the highest applied
//! LSN". A checkpoint taken while an earlier LSN is not yet applied claims it durable; after a
//! crash, recovery replays only above that LSN and the earlier, acknowledged Immediate commit
//! is gone (a hole: the later commit survives, the earlier one does not).

mod common;

use std::{
    path::Path,
    sync::{Arc, mpsc},
    thread,
    time::Duration,
};

use common::hooked::{EngineHooks, Hooked};
use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    Lsn, Result, Timestamp,
    engine::{EngineBatch, StorageEngine},
    vfs::{FaultFs, PowerCut, Vfs},
};
use lightning_txn::{TxnOptions, TxnStore};
use lightning_wal::{Durability, Wal, WalOptions};
use parking_lot::Mutex;

/// A batch writing key `slow` waits (before the inner engine sees it) until released: the
/// committing thread is merely descheduled between its fsync and its apply, which the commit
/// path allows.
struct Pause {
    entered: Mutex<Option<mpsc::Sender<()>>>,
    release: Mutex<Option<mpsc::Receiver<()>>>,
}

impl EngineHooks for Pause {
    fn apply(
        &self,
        inner: &dyn StorageEngine,
        batch: &EngineBatch,
        commit_ts: Timestamp,
        lsn: Lsn,
    ) -> Result<()> {
        if batch.ops().iter().any(|op| op.key() == b"slow") {
            if let Some(tx) = self.entered.lock().take() {
                tx.send(()).unwrap();
            }
            let rx = self.release.lock().take();
            if let Some(rx) = rx {
                rx.recv().unwrap();
            }
        }
        inner.apply(batch, commit_ts, lsn)
    }
}

fn btree(fs: &FaultFs) -> Arc<dyn StorageEngine> {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    let options = BTreeOptions { cache_size_bytes: 8 << 20, ..BTreeOptions::default() };
    Arc::new(BTreeEngine::open(vfs, Path::new("/db/btree"), options.manual_checkpoints()).unwrap())
}

fn wal(fs: &FaultFs) -> Wal {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    Wal::open(vfs, Path::new("/db/wal"), WalOptions::default()).unwrap()
}

fn batch(key: &[u8]) -> EngineBatch {
    let mut batch = EngineBatch::new();
    batch.put(key.to_vec(), b"v".to_vec());
    batch
}

#[test]
fn a_checkpoint_while_an_earlier_commit_is_unapplied_loses_nothing() {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new("/db/wal")).unwrap();
    fs.sync_dir(Path::new("/")).unwrap();
    fs.sync_dir(Path::new("/db")).unwrap();

    let (entered_tx, entered_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let pause =
        Pause { entered: Mutex::new(Some(entered_tx)), release: Mutex::new(Some(release_rx)) };
    let engine = Arc::new(Hooked::new("pausing", btree(&fs), pause));
    let (store, _) = TxnStore::open(engine, wal(&fs), TxnOptions::default()).unwrap();

    // A: Immediate commit of `slow` (LSN 1): logged and fsynced, then paused before apply.
    let a = {
        let store = store.clone();
        thread::spawn(move || store.write(batch(b"slow"), Durability::Immediate))
    };
    entered_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    // B: a later commit (LSN 2), logged and fsynced. It must not be applied before A: commits
    // reach the engine in log order, so no checkpoint can claim LSN 2 without LSN 1.
    let b = {
        let store = store.clone();
        thread::spawn(move || store.write(batch(b"fast"), Durability::Immediate))
    };
    thread::sleep(Duration::from_millis(100));
    assert!(
        store.engine().get(b"fast", Timestamp::MAX).unwrap().is_none(),
        "B was applied while A (an earlier LSN) was not"
    );
    // A checkpoint now (the maintenance thread, db.flush(), or the engine's own worker).
    store.checkpoint().unwrap();
    assert_eq!(store.engine().durable_state().lsn, Lsn(0), "nothing past the unapplied LSN 1");
    // A goes on, applies, publishes: acknowledged as durable.
    release_tx.send(()).unwrap();
    a.join().unwrap().expect("A is acknowledged");
    b.join().unwrap().expect("B is acknowledged");
    assert!(store.get(b"slow").unwrap().is_some());

    // Power cut, reopen: every acknowledged Immediate commit must be there.
    drop(store);
    fs.power_cut(PowerCut::DropUnsynced);
    let (store, report) = TxnStore::open(btree(&fs), wal(&fs), TxnOptions::default()).unwrap();
    assert!(store.get(b"fast").unwrap().is_some(), "B survives");
    assert!(
        store.get(b"slow").unwrap().is_some(),
        "acknowledged Immediate commit A was lost after recovery (report {report:?}): the \
         checkpoint claimed LSN 2 durable while LSN 1 was not yet applied"
    );
}

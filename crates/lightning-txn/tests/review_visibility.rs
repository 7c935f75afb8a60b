//! Review: visibility and GC-horizon holes in the store's read and commit paths.

mod common;

use std::{
    path::Path,
    sync::{Arc, mpsc},
    thread,
    time::Duration,
};

use common::hooked::{EngineHooks, Hooked};
use lightning_core_storage::{
    Error as StorageError, Lsn, Result, Timestamp,
    engine::{EngineBatch, MemoryEngine, StorageEngine},
    vfs::{FaultFs, Vfs},
};
use lightning_txn::{TxnOptions, TxnStore};
use lightning_wal::{Durability, Wal, WalOptions};
use parking_lot::Mutex;

type Hook = Box<dyn Fn(&str, &[u8]) + Send + Sync>;

/// Hooks on the memory engine: `get` of a chosen key can pause (the reader is descheduled
/// after choosing its read timestamp), `apply` can fail half-way or panic.
struct Hooks {
    hook: Mutex<Option<Arc<Hook>>>,
}

impl EngineHooks for Hooks {
    fn before_get(&self, key: &[u8]) {
        let hook = self.hook.lock().clone();
        if let Some(hook) = hook {
            hook("get", key);
        }
    }

    fn apply(
        &self,
        inner: &dyn StorageEngine,
        batch: &EngineBatch,
        commit_ts: Timestamp,
        lsn: Lsn,
    ) -> Result<()> {
        if batch.ops().iter().any(|op| op.key() == b"half") {
            // Models an engine that fails part-way (the B+Tree's "a batch failed
            // half-applied" path): the first write lands, then an I/O error.
            let mut first = EngineBatch::new();
            first.push(batch.ops()[0].clone());
            inner.apply(&first, commit_ts, lsn)?;
            return Err(StorageError::InvalidInput("injected I/O failure mid-batch".into()));
        }
        if batch.ops().iter().any(|op| op.key() == b"boom") {
            panic!("injected panic inside engine.apply");
        }
        inner.apply(batch, commit_ts, lsn)
    }
}

type HookEngine = Hooked<Hooks>;

fn open() -> (TxnStore, Arc<HookEngine>) {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new("/db/wal")).unwrap();
    let vfs: Arc<dyn Vfs> = Arc::new(fs);
    let wal = Wal::open(vfs, Path::new("/db/wal"), WalOptions::default()).unwrap();
    let hooks = Hooks { hook: Mutex::new(None) };
    let engine = Arc::new(Hooked::new("hook", Arc::new(MemoryEngine::new()), hooks));
    let (store, _) = TxnStore::open(engine.clone(), wal, TxnOptions::default()).unwrap();
    (store, engine)
}

fn put(store: &TxnStore, key: &[u8], value: &[u8]) {
    let mut batch = EngineBatch::new();
    batch.put(key.to_vec(), value.to_vec());
    store.write(batch, Durability::None).unwrap();
}

/// `TxnStore::get` (and so `Database::get`) reads at `visible()` without registering that
/// timestamp: GC may move the horizon past it between choosing the timestamp and reading,
/// dropping the version the read needs, and an existing key reads as absent.
#[test]
fn latest_reads_are_protected_from_gc() {
    let (store, engine) = open();
    put(&store, b"k", b"v1");
    let (entered_tx, entered_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let once = Mutex::new(Some((entered_tx, release_rx)));
    let hook: Hook = Box::new(move |what, key| {
        if what == "get" && key == b"k" {
            let taken = once.lock().take();
            if let Some((entered, release)) = taken {
                entered.send(()).unwrap();
                release.recv().unwrap();
            }
        }
    });
    *engine.hooks.hook.lock() = Some(Arc::new(hook));
    let reader = {
        let store = store.clone();
        thread::spawn(move || store.get(b"k"))
    };
    entered_rx.recv_timeout(Duration::from_secs(10)).unwrap(); // read ts chosen = 1
    put(&store, b"k", b"v2"); // ts 2
    // GC now waits for the in-flight plain read (a grace period) before dropping anything, so
    // it runs on its own thread while the reader is released.
    let gc = {
        let store = store.clone();
        thread::spawn(move || store.collect_garbage().unwrap())
    };
    thread::sleep(Duration::from_millis(50));
    release_tx.send(()).unwrap();
    let seen = reader.join().unwrap().unwrap();
    let dropped = gc.join().unwrap();
    assert!(
        seen.is_some(),
        "key k always had a value, but a latest-value read returned None (GC dropped {dropped} \
         version(s) below the reader's unregistered read timestamp)"
    );
}

/// When `engine.apply` fails part-way, `fail()` still publishes the timestamp, so `visible`
/// moves past a batch that is half in the engine: readers see a torn transaction.
#[test]
fn a_failed_half_applied_commit_stays_invisible() {
    let (store, _engine) = open();
    let mut batch = EngineBatch::new();
    batch.put(b"half".to_vec(), b"1".to_vec());
    batch.put(b"other".to_vec(), b"1".to_vec());
    let err = store.write(batch, Durability::None).unwrap_err();
    assert!(store.poisoned().is_some(), "failure poisons: {err}");
    let half = store.get(b"half").unwrap();
    let other = store.get(b"other").unwrap();
    assert_eq!(
        (half.is_some(), other.is_some()),
        (false, false),
        "a failed commit is (partly) visible to readers: torn transaction"
    );
}

/// A panic between timestamp assignment and publish (here inside `engine.apply`) leaves the
/// timestamp in flight for ever: `visible` never advances again and every later commit hangs
/// in `wait_visible` instead of failing.
#[test]
fn a_panic_in_apply_poisons_instead_of_hanging() {
    let (store, _engine) = open();
    let s = store.clone();
    let panicked = thread::spawn(move || {
        let mut batch = EngineBatch::new();
        batch.put(b"boom".to_vec(), b"1".to_vec());
        s.write(batch, Durability::None)
    })
    .join();
    assert!(panicked.is_err());
    let (done_tx, done_rx) = mpsc::channel();
    let s = store.clone();
    thread::spawn(move || {
        let mut batch = EngineBatch::new();
        batch.put(b"after".to_vec(), b"1".to_vec());
        let _ =
            done_tx.send(s.write(batch, Durability::None).map(|_| ()).map_err(|e| e.to_string()));
    });
    let outcome = done_rx.recv_timeout(Duration::from_secs(3));
    assert!(outcome.is_ok(), "a commit after a panicked committer hangs in wait_visible");
}

//! Regression: a `Durability::None` commit is applied to the engine while its log record is
//! still buffered in memory, and the B+Tree's background checkpointer used to make it durable
//! in the engine only. A power cut then lost the record from the log while the engine kept it;
//! recovery padded the log up to the engine's durable LSN with empty records and later commits
//! followed. When the newest meta slot was damaged after that, open fell back to the older
//! checkpoint and replayed empty records where those commits belonged: a hole (the later
//! commits were there, the earlier ones gone). Now the engine's checkpoint syncs the log up to
//! its LSN first (the log's barrier), so the engine is never durable ahead of the log.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use lightning_btree::{BTreeEngine, BTreeOptions, FILE_NAME};
use lightning_core_storage::{
    Lsn,
    engine::EngineBatch,
    vfs::{FaultFs, PowerCut, Vfs},
};
use lightning_txn::{TxnOptions, TxnStore};
use lightning_wal::{Durability, Wal, WalOptions};

const KEYS: u32 = 10;
const PAGE_SIZE: usize = 16 * 1024;

/// A store whose engine checkpoints every 10 ms on its own (`background`) or only when asked.
fn open(fs: &FaultFs, background: bool) -> TxnStore {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    let interval = if background { 10 } else { 0 };
    let options = BTreeOptions {
        cache_size_bytes: 8 << 20,
        checkpoint_dirty_bytes: 0,
        checkpoint_interval_ms: interval,
        ..BTreeOptions::default()
    };
    let engine = BTreeEngine::open(Arc::clone(&vfs), Path::new("/db/btree"), options).unwrap();
    // The background syncer stays out of the way: only the checkpoint can sync the log.
    let wal_options = WalOptions { sync_interval_ms: 600_000, ..WalOptions::default() };
    let wal = Wal::open(vfs, Path::new("/db/wal"), wal_options).unwrap();
    TxnStore::open(Arc::new(engine), wal, TxnOptions::default()).unwrap().0
}

fn put(store: &TxnStore, key: &str, durability: Durability) {
    let mut batch = EngineBatch::new();
    batch.put(key.as_bytes().to_vec(), format!("value of {key}").into_bytes());
    store.write(batch, durability).unwrap();
}

/// The generation in a meta slot's body (after the 32-byte page header, at body offset 16).
fn generation(file: &[u8], slot: usize) -> u64 {
    let at = slot * PAGE_SIZE + 32 + 16;
    u64::from_le_bytes(file[at..at + 8].try_into().unwrap())
}

/// Waits until the engine's own background work (`who`) made `lsn` durable, then checks that
/// the log is durable at least as far as the engine; returns the engine's durable LSN.
fn durable_in_the_background(store: &TxnStore, lsn: Lsn, who: &str) -> Lsn {
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.engine().durable_state().lsn < lsn {
        assert!(Instant::now() < deadline, "{who} never covered {lsn:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let engine_durable = store.engine().durable_state().lsn;
    assert!(
        store.wal().durable_lsn() >= engine_durable,
        "the engine is durable up to {engine_durable:?} but the log only up to {:?}",
        store.wal().durable_lsn()
    );
    engine_durable
}

#[test]
fn none_commit_checkpointed_before_it_is_logged_leaves_no_hole_after_a_fallback() {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new("/db")).unwrap();
    fs.sync_dir(Path::new("/")).unwrap();
    let store = open(&fs, true);
    put(&store, "base", Durability::Immediate);
    for k in 0..KEYS {
        put(&store, &format!("none{k}"), Durability::None);
    }
    let last = store.wal().last_lsn();
    // Wait for the background checkpointer to cover every commit (it runs every 10 ms).
    durable_in_the_background(&store, last, "the background checkpointer");

    // A power cut: everything unsynced is lost.
    drop(store);
    fs.power_cut(PowerCut::DropUnsynced);

    let store = open(&fs, false);
    put(&store, "late", Durability::Immediate);
    assert!(store.wal().last_lsn() > Lsn(u64::from(KEYS) + 1));
    drop(store);

    // The newest meta slot is damaged: open falls back to an older checkpoint and replays.
    let path = Path::new("/db/btree").join(FILE_NAME);
    let bytes = fs.file_contents(&path).unwrap();
    let newest = if generation(&bytes, 0) > generation(&bytes, 1) { 0 } else { 1 };
    assert!(fs.corrupt_byte(&path, (newest * PAGE_SIZE + 100) as u64, 0x5a));

    let store = open(&fs, false);
    let got = |key: &str| store.get(key.as_bytes()).unwrap();
    assert!(got("late").is_some(), "the last commit was acknowledged as durable");
    for k in 0..KEYS {
        let key = format!("none{k}");
        assert_eq!(got(&key), Some(format!("value of {key}").into_bytes()), "{key}: a hole");
    }
}

/// The LSM's twin: its background flush made `Durability::None` commits durable in the
/// manifest while their log records were still buffered, so after a power cut the engine held
/// records the log had lost. The flush now syncs the log up to its LSN first.
#[test]
fn none_commit_flushed_by_the_lsm_before_it_is_logged_is_in_the_log_first() {
    use lightning_lsm::{LsmEngine, LsmOptions};

    let fs = FaultFs::new();
    fs.create_dir_all(Path::new("/db")).unwrap();
    fs.sync_dir(Path::new("/")).unwrap();
    let open_lsm = |fs: &FaultFs| {
        let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
        // Memtables of a few hundred bytes: a handful of commits fills one and the background
        // flush writes it out.
        let options = LsmOptions { memtable_bytes: 512, ..LsmOptions::tiny() };
        let engine = LsmEngine::open(Arc::clone(&vfs), Path::new("/db/lsm"), options).unwrap();
        let wal_options = WalOptions { sync_interval_ms: 600_000, ..WalOptions::default() };
        let wal = Wal::open(vfs, Path::new("/db/wal"), wal_options).unwrap();
        TxnStore::open(Arc::new(engine), wal, TxnOptions::default()).unwrap().0
    };
    let store = open_lsm(&fs);
    put(&store, "base", Durability::Immediate);
    for k in 0..40 {
        put(&store, &format!("none{k:02}"), Durability::None);
    }
    let engine_durable = durable_in_the_background(&store, Lsn(10), "the background flush");
    drop(store);
    fs.power_cut(PowerCut::DropUnsynced);
    let store = open_lsm(&fs);
    let flushed = engine_durable.0 - 1; // LSN 1 is "base"
    for k in 0..flushed {
        let key = format!("none{k:02}");
        assert_eq!(
            store.get(key.as_bytes()).unwrap(),
            Some(format!("value of {key}").into_bytes()),
            "{key} was durable in the engine"
        );
    }
}

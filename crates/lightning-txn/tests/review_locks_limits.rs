//! Review: lock-manager upgrade handling, write-set byte accounting, an engine-rejected write
//! that poisons the store and then bricks recovery, inverted scan ranges.

mod common;

use std::{sync::mpsc, thread, time::Duration};

use common::{EngineKind, Harness};
use lightning_core_storage::engine::{Direction, EngineBatch, KeyRange};
use lightning_txn::{Isolation, LockManager, LockMode, TxnId};
use lightning_wal::Durability;

/// T1 is the only holder of a shared lock and asks to upgrade it while T2 waits for exclusive.
/// Granting the upgrade is safe (T1 is the sole holder) and is what lock managers do; here the
/// upgrade queues behind T2, T2 waits for T1, and T1 is made a deadlock victim.
#[test]
fn sole_shared_holder_upgrade_is_not_a_deadlock() {
    let locks = std::sync::Arc::new(LockManager::new());
    let timeout = Duration::from_secs(5);
    locks.lock(TxnId(1), b"k", LockMode::Shared, timeout).unwrap();
    let (tx, rx) = mpsc::channel();
    let l = locks.clone();
    let waiter = thread::spawn(move || {
        let result = l.lock(TxnId(2), b"k", LockMode::Exclusive, timeout);
        tx.send(()).unwrap();
        result
    });
    // Let T2 queue.
    while locks.stats().waiting == 0 {
        thread::sleep(Duration::from_millis(1));
    }
    let upgrade = locks.lock(TxnId(1), b"k", LockMode::Exclusive, timeout);
    locks.release_all(TxnId(1), [b"k".as_slice()]);
    rx.recv_timeout(timeout).unwrap();
    waiter.join().unwrap().unwrap();
    assert!(upgrade.is_ok(), "sole holder's upgrade refused: {upgrade:?}");
}

/// Overwriting a buffered key counts its bytes again: a transaction that rewrites one small key
/// many times hits "write set bytes" although it buffers only one small write.
#[test]
fn overwrites_are_not_double_counted_in_write_set_bytes() {
    let mut harness = Harness::new(EngineKind::Memory);
    harness.options.max_write_set_bytes = 1_000;
    let store = harness.open();
    let mut tx = store.begin(Isolation::Snapshot).unwrap();
    for i in 0..100u32 {
        let result = tx.put(b"counter", &i.to_le_bytes());
        assert!(result.is_ok(), "overwrite #{i} of a 4-byte value refused: {result:?}");
    }
}

/// A write the engine refuses deterministically (a key over the B+Tree's limit) is logged
/// before `apply` refuses it: the store is poisoned by a caller mistake, and on reopen
/// recovery replays the same record, the engine refuses it again, and the store cannot open.
///
/// The LSM stores key and value of an entry in one table block, so its flush refuses what no
/// block can hold; it declares a key limit (64 KiB) so the store refuses such writes first.
#[test]
fn an_engine_rejected_write_is_refused_before_logging() {
    for (kind, key_len) in [(EngineKind::BTree, 8 * 1024), (EngineKind::Lsm, (64 << 10) + 1)] {
        refused_before_logging(kind, key_len);
    }
}

fn refused_before_logging(kind: EngineKind, key_len: usize) {
    let mut harness = Harness::new(kind);
    let store = harness.open();
    let mut batch = EngineBatch::new();
    batch.put(vec![b'k'; key_len], b"v".to_vec());
    let err = match store.write(batch, Durability::Immediate) {
        Ok(_) => panic!("{kind:?}: a {key_len}-byte key was accepted"),
        Err(err) => err,
    };
    let poisoned = store.poisoned();
    let mut ok = EngineBatch::new();
    ok.put(b"fine".to_vec(), b"v".to_vec());
    let later = store.write(ok, Durability::Immediate);
    // Reopen after a crash (catch the harness's unwrap on a failed recovery).
    let reopened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        harness.crash_and_reopen(store);
    }));
    assert!(
        poisoned.is_none() && later.is_ok() && reopened.is_ok(),
        "{kind:?}: an oversized key ({err}) poisoned the store ({poisoned:?}; next write: {later:?}) and \
         recovery {} afterwards",
        if reopened.is_ok() { "succeeded" } else { "FAILED (database cannot be opened)" }
    );
}

/// A scan of an inverted range (start > end) is caller input; it must yield nothing or a clear
/// error, never panic (BTreeMap::range panics on it: own-write overlay, serializable
/// validation).
#[test]
fn inverted_range_scan_does_not_panic() {
    let mut harness = Harness::new(EngineKind::BTree);
    let store = harness.open();
    for isolation in [Isolation::Snapshot, Isolation::Serializable] {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut tx = store.begin(isolation).unwrap();
            tx.put(b"m", b"1").unwrap();
            let range = KeyRange::new(b"z".to_vec()..b"a".to_vec());
            let scanned = tx.scan(range, Direction::Forward).map(|it| it.count());
            let committed = tx.commit();
            (scanned.is_ok(), committed.is_ok())
        }));
        assert!(result.is_ok(), "inverted range panicked under {isolation:?}");
    }
}

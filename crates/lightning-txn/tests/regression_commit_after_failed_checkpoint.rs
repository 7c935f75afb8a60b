//! Regression: a failed background checkpoint poisons the engine, but the store used to log
//! (and fsync) the next commit anyway, fail it at apply, and then replay it after reopen: a
//! commit reported as failed came back. The store must see the engine's poison before it
//! logs anything.

mod common;

use common::{EngineKind, Harness};
use lightning_core_storage::engine::EngineBatch;
use lightning_txn::Error;
use lightning_wal::Durability;

#[test]
fn commit_after_a_failed_checkpoint_is_refused_before_it_is_logged() {
    let mut harness = Harness::new(EngineKind::BTree);
    let store = harness.open();
    let mut first = EngineBatch::new();
    first.put(b"before".to_vec(), b"1".to_vec());
    store.write(first, Durability::Immediate).unwrap();
    let logged_before = store.wal().last_lsn();

    // The checkpoint's fsync fails, as a background checkpoint's would.
    harness.fs.fail_next_sync(false);
    assert!(store.engine().checkpoint().is_err(), "the injected fsync failure fails it");
    assert!(store.engine().poisoned().is_some(), "the engine is poisoned");
    assert!(store.wal().poisoned().is_none(), "the log itself is fine");

    let mut second = EngineBatch::new();
    second.put(b"after".to_vec(), b"2".to_vec());
    let error = store.write(second, Durability::Immediate).unwrap_err();
    assert!(matches!(error, Error::Poisoned { .. }), "{error}");
    assert_eq!(store.wal().last_lsn(), logged_before, "nothing was logged for it");

    let store = harness.crash_and_reopen(store);
    assert_eq!(store.get(b"before").unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(store.get(b"after").unwrap(), None, "the refused commit does not reappear");
}

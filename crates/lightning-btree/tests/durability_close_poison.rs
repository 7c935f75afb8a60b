//! What survives what: `close` checkpoints, a plain drop keeps only the last checkpoint (the
//! WAL replays the rest), and a failed sync poisons the engine for writes while reads go on.

use std::{path::Path, sync::Arc};

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    Error, Lsn, Timestamp,
    engine::{EngineBatch, StorageEngine},
    vfs::{FaultFs, PowerCut, Vfs},
};

fn open(fs: &FaultFs) -> BTreeEngine {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    BTreeEngine::open(vfs, Path::new("/db"), BTreeOptions::default().manual_checkpoints())
        .expect("open")
}

fn put(engine: &BTreeEngine, key: &str, ts: u64) -> Result<(), Error> {
    let mut batch = EngineBatch::new();
    batch.put(key, format!("{key}@{ts}"));
    engine.apply(&batch, Timestamp(ts), Lsn(ts))
}

fn has(engine: &BTreeEngine, key: &str) -> bool {
    engine.get(key.as_bytes(), Timestamp::MAX).expect("get").is_some()
}

#[test]
fn close_checkpoints_and_drop_does_not() {
    let fs = FaultFs::new();
    let engine = open(&fs);
    put(&engine, "a", 1).expect("put");
    engine.close().expect("close");
    fs.power_cut(PowerCut::DropUnsynced);
    let engine = open(&fs);
    assert!(has(&engine, "a"), "close made it durable");
    assert_eq!(engine.durable_state().lsn, Lsn(1));
    put(&engine, "b", 2).expect("put");
    drop(engine);
    let engine = open(&fs);
    assert!(!has(&engine, "b"), "a drop is a crash: the log replays what was not checkpointed");
    assert_eq!(
        engine.durable_state(),
        lightning_core_storage::engine::DurableState {
            lsn: Lsn(1),
            log_floor: Lsn(0), // the older meta slot holds the new file's empty tree
            max_commit_ts: Timestamp(1)
        }
    );
}

#[test]
fn a_failed_sync_poisons_writes_but_not_reads() {
    let fs = FaultFs::new();
    let engine = open(&fs);
    put(&engine, "a", 1).expect("put");
    engine.checkpoint().expect("checkpoint");
    put(&engine, "b", 2).expect("put");
    fs.fail_next_sync(false);
    assert!(matches!(engine.checkpoint(), Err(Error::Io { .. })));
    let err = put(&engine, "c", 3).unwrap_err();
    assert!(matches!(err, Error::Poisoned { .. }), "no write after a failed sync: {err}");
    assert!(matches!(engine.checkpoint(), Err(Error::Poisoned { .. })), "no retry-and-pretend");
    assert!(has(&engine, "a") && has(&engine, "b"), "reads still work");
    assert_eq!(engine.durable_state().lsn, Lsn(1));
    drop(engine);
    let engine = open(&fs);
    assert!(has(&engine, "a") && !has(&engine, "b"), "reopen recovers the last checkpoint");
    put(&engine, "c", 3).expect("writable again after reopen");
    engine.check().expect("check");
}

//! Regression: `Config::checkpoint_interval` reached only the maintenance thread; the B+Tree
//! kept its own 30 s checkpoint timer beside it. Now the setting is the one timer of
//! checkpoints: a short interval makes unsynced writes durable in the engine without a flush,
//! and a long one leaves the engine alone meanwhile. (The options themselves are checked by a
//! unit test in `open.rs`; a 30 s wait has no place here.)
//!
//! No timing is asserted: the test waits, with a generous watchdog, for the short interval's
//! checkpoint, then looks at the other database.

use std::{
    thread,
    time::{Duration, Instant},
};

use lightning_db::{Config, Database, Durability};

const WATCHDOG: Duration = Duration::from_secs(120);

fn open(dir: &std::path::Path, interval: Duration) -> Database {
    let config = Config::default().durability(Durability::None).checkpoint_interval(interval);
    Database::open(dir, config).unwrap()
}

fn engine_durable_lsn(db: &Database) -> u64 {
    db.stats().unwrap().engine.durable_lsn.get()
}

fn write_some(db: &Database) {
    for k in 0..100u32 {
        db.put(format!("key{k:03}"), format!("value {k}")).unwrap();
    }
}

#[test]
fn the_checkpoint_interval_alone_decides_when_the_engine_checkpoints() {
    let (short_dir, long_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let short = open(short_dir.path(), Duration::from_millis(20));
    let long = open(long_dir.path(), Duration::from_secs(3600));
    let long_before = engine_durable_lsn(&long);
    write_some(&long);
    write_some(&short);

    let last = short.stats().unwrap().wal.last_lsn.get();
    let start = Instant::now();
    while engine_durable_lsn(&short) < last {
        assert!(start.elapsed() < WATCHDOG, "the short interval never checkpointed");
        thread::sleep(Duration::from_millis(10));
    }
    assert!(
        short.stats().unwrap().wal.durable_lsn.get() >= last,
        "the checkpoint synced the log up to what it made durable"
    );
    assert_eq!(
        engine_durable_lsn(&long),
        long_before,
        "a one-hour interval checkpointed while the other database did"
    );
}

//! Regression: the maintenance thread ran a full-tree vacuum every period, each leaf under
//! the tree write lock and read from disk when not cached, even on an idle database. Garbage
//! collection is now incremental and runs only when something written since the last pass can
//! be garbage: an idle database reads no pages for it, and updated keys are still collected.
//!
//! No timing is asserted: the tests wait (with a generous watchdog) for the maintenance
//! thread's own counters — its rounds (`gc_requests`) and completed passes (`gc_passes`).

use std::{
    thread,
    time::{Duration, Instant},
};

use lightning_db::{Config, Database, WriteBatch};

const KEYS: u32 = 20_000;
/// Fails a wait that never ends (a broken pacing, not a slow machine).
const WATCHDOG: Duration = Duration::from_secs(120);

fn extra(db: &Database, name: &str) -> u64 {
    let stats = db.stats().unwrap();
    stats.engine.extra.iter().find(|(n, _)| n == name).map_or_else(
        || panic!("the engine reports no {name}: {:?}", stats.engine.extra),
        |(_, v)| *v,
    )
}

/// Waits until `done` holds, polling; panics after the watchdog.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < WATCHDOG, "gave up waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// Waits for `rounds` more maintenance rounds (each calls the engine's GC step).
fn wait_rounds(db: &Database, rounds: u64) {
    let target = extra(db, "gc_requests") + rounds;
    wait_for("maintenance rounds", || extra(db, "gc_requests") >= target);
}

/// A database whose tree is far larger than its cache, so a vacuum pass must read pages.
fn open_small_cache(dir: &std::path::Path) -> Database {
    let config =
        Config::default().cache_size_bytes(1 << 20).checkpoint_interval(Duration::from_millis(20));
    Database::open(dir, config).unwrap()
}

fn load(db: &Database, round: u32) {
    for chunk in 0..KEYS / 1_000 {
        let mut batch = WriteBatch::new();
        for i in chunk * 1_000..(chunk + 1) * 1_000 {
            batch.put(format!("key{i:06}"), format!("value {round} {i:0>120}"));
        }
        db.write(batch).unwrap();
    }
}

#[test]
fn an_idle_database_reads_no_pages_for_garbage_collection() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_small_cache(dir.path());
    load(&db, 0);
    // Let the maintenance thread checkpoint and finish whatever the load asks of it.
    wait_rounds(&db, 3);
    wait_for("the load's pages to be checkpointed", || extra(&db, "dirty_nodes") == 0);
    wait_rounds(&db, 3);
    let before = extra(&db, "pages_read");
    wait_rounds(&db, 10);
    let after = extra(&db, "pages_read");
    assert_eq!(after, before, "pages read by 10 maintenance rounds of an idle database");
}

#[test]
fn garbage_left_by_updates_is_collected_by_maintenance() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_small_cache(dir.path());
    load(&db, 0);
    load(&db, 1);
    load(&db, 2);
    let versions = || db.stats().unwrap().engine.versions;
    assert!(versions() > u64::from(KEYS), "the updates left old versions");
    wait_for("vacuum to drop the superseded versions", || versions() == u64::from(KEYS));
    assert!(extra(&db, "gc_passes") >= 1);
    assert_eq!(db.get("key000007").unwrap().unwrap(), format!("value 2 {:0>120}", 7).into_bytes());
}

//! Limits that hold under load (write-set and read-set caps with clear errors, memory of
//! finished transactions released) and the GC horizon held by long-lived snapshots.

mod common;

use common::{ENGINES, Harness};
use lightning_core_storage::engine::{Direction, KeyRange};
use lightning_txn::{Error, Isolation};

#[test]
fn write_and_read_set_caps_give_clear_errors() {
    for &engine in ENGINES {
        let mut harness = Harness::new(engine);
        harness.options.max_write_set_entries = 10;
        harness.options.max_write_set_bytes = 1_000;
        harness.options.max_read_set_entries = 5;
        let store = harness.open();
        let mut tx = store.begin(Isolation::Snapshot).unwrap();
        for i in 0..10u32 {
            tx.put(&i.to_be_bytes(), b"v").unwrap();
        }
        tx.put(&3u32.to_be_bytes(), b"overwrite is not a new entry").unwrap();
        let err = tx.put(b"eleventh", b"v").unwrap_err();
        assert!(matches!(err, Error::TransactionTooLarge { what: "write set entries", limit: 10 }));
        assert!(err.to_string().contains("exceeds the limit of 10"), "{err}");
        let mut tx = store.begin(Isolation::Snapshot).unwrap();
        let err = tx.put(b"big", &[0u8; 2_000]).unwrap_err();
        assert!(matches!(err, Error::TransactionTooLarge { what: "write set bytes", .. }), "{err}");
        let mut tx = store.begin(Isolation::Serializable).unwrap();
        for i in 0..4u32 {
            tx.get(&i.to_be_bytes()).unwrap();
        }
        tx.scan(KeyRange::prefix(b"x"), Direction::Forward).unwrap();
        let err = tx.get(b"one more").unwrap_err();
        assert!(matches!(err, Error::TransactionTooLarge { what: "read set entries", limit: 5 }));
        // The same reads under snapshot isolation track nothing and hit no cap.
        let mut tx = store.begin(Isolation::Snapshot).unwrap();
        for i in 0..100u32 {
            tx.get(&i.to_be_bytes()).unwrap();
        }
        tx.commit().unwrap();
    }
}

#[test]
fn finished_transactions_release_everything() {
    for &engine in ENGINES {
        let mut harness = Harness::new(engine);
        let store = harness.open();
        for round in 0..200u32 {
            let mut tx = store.begin(Isolation::Serializable).unwrap();
            tx.get(b"k").unwrap();
            tx.put(b"k", &round.to_le_bytes()).unwrap();
            if round % 2 == 0 {
                tx.commit().unwrap();
            } else {
                drop(tx); // rolled back
            }
        }
        let stats = store.stats();
        assert_eq!(stats.active_transactions, 0, "{stats:?}");
        assert_eq!(stats.live_snapshots, 0, "{stats:?}");
        assert_eq!(stats.commits, 100);
        assert_eq!(stats.aborts, 100);
        assert_eq!(store.handle_count(), 1, "no transaction keeps the store alive");
    }
}

#[test]
fn a_long_held_snapshot_holds_the_horizon_and_shows_in_stats() {
    for &engine in ENGINES {
        let mut harness = Harness::new(engine);
        let store = harness.open();
        let mut tx = store.begin(Isolation::Snapshot).unwrap();
        tx.put(b"k", b"v1").unwrap();
        tx.commit().unwrap();
        let old = store.snapshot();
        for i in 2..20u32 {
            let mut tx = store.begin(Isolation::Snapshot).unwrap();
            tx.put(b"k", format!("v{i}").as_bytes()).unwrap();
            tx.commit().unwrap();
        }
        let stats = store.stats();
        assert_eq!(stats.gc_horizon, old.timestamp(), "the old snapshot holds the horizon");
        assert_eq!(stats.oldest_snapshot_ts, Some(old.timestamp()));
        assert!(stats.visible_ts > stats.gc_horizon);
        store.collect_garbage().unwrap();
        assert_eq!(old.get(b"k").unwrap().unwrap(), b"v1", "GC keeps what a live snapshot sees");
        drop(old);
        assert_eq!(store.gc_horizon(), store.stats().visible_ts, "released: horizon moves up");
        let dropped = store.collect_garbage().unwrap();
        assert!(dropped >= 1, "old versions are collected once no snapshot needs them");
        assert_eq!(store.get(b"k").unwrap().unwrap(), b"v19");
    }
}

//! Review: facade shutdown ordering, inverted ranges, write-batch ordering.

mod common;

use common::{ENGINES, collect};
use lightning_db::{Config, Database, Durability, WriteBatch};

/// The last `Database` handle is often held by a snapshot or an iterator (`Iter`, `Snapshot`
/// and `Transaction` each hold a `Database` as their *first* field). When it drops, `DbInner`
/// drops before the store handle next to it, so `shutdown` sees a live store handle, refuses to
/// close (logging a warning), releases the LOCK while the store is still alive, and never
/// checkpoints: writes made with `Durability::None` are silently lost on a clean drop.
#[test]
fn dropping_the_last_handle_via_a_snapshot_still_closes_cleanly() {
    for &engine in ENGINES {
        for via in ["snapshot", "iterator"] {
            let dir = tempfile::tempdir().unwrap();
            let config = || Config::default().engine(engine).durability(Durability::None);
            {
                let db = Database::open(dir.path(), config()).unwrap();
                db.put(b"k", b"v").unwrap();
                match via {
                    "snapshot" => {
                        let snap = db.snapshot().unwrap();
                        drop(db);
                        assert_eq!(snap.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
                        drop(snap); // last handle: must close cleanly
                    }
                    _ => {
                        let iter = db.iter().unwrap();
                        drop(db);
                        assert_eq!(collect(iter).len(), 1); // last handle dropped here
                    }
                }
            }
            let db = Database::open(dir.path(), config()).unwrap();
            assert_eq!(
                db.get(b"k").unwrap().as_deref(),
                Some(&b"v"[..]),
                "{engine:?}: a write was lost although the last handle ({via}) was dropped \
                 cleanly in-process"
            );
        }
    }
}

/// An inverted range (start > end) from user input must give an empty result or an error,
/// never a panic.
#[test]
fn inverted_ranges_do_not_panic() {
    for &engine in ENGINES {
        let (_dir, db) = common::temp_db(engine);
        db.put(b"m", b"1").unwrap();
        let plain = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            db.range(b"z".to_vec()..b"a".to_vec()).map(|it| it.count())
        }));
        assert!(plain.is_ok(), "{engine:?}: db.range(z..a) panicked");
        let tx = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut tx = db.begin().unwrap();
            tx.put(b"n", b"2").unwrap();
            tx.range(b"z".to_vec()..b"a".to_vec()).map(|it| it.count())
        }));
        assert!(tx.is_ok(), "{engine:?}: tx.range(z..a) with a buffered write panicked");
    }
}

/// "Later writes to the same key win" in a WriteBatch, put-then-delete and delete-then-put,
/// both live and after a reopen (replay).
#[test]
fn write_batch_later_write_wins() {
    for &engine in ENGINES {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path(), Config::default().engine(engine)).unwrap();
        db.put(b"b", b"old").unwrap();
        let mut batch = WriteBatch::new();
        batch
            .put(b"a", b"1")
            .delete(b"a")
            .delete(b"b")
            .put(b"b", b"2")
            .put(b"c", b"1")
            .put(b"c", b"2");
        db.write(batch).unwrap();
        let check = |db: &Database| {
            assert_eq!(db.get(b"a").unwrap(), None);
            assert_eq!(db.get(b"b").unwrap().as_deref(), Some(&b"2"[..]));
            assert_eq!(db.get(b"c").unwrap().as_deref(), Some(&b"2"[..]));
        };
        check(&db);
        db.close().unwrap();
        let db = Database::open(dir.path(), Config::default().engine(engine)).unwrap();
        check(&db);
    }
}

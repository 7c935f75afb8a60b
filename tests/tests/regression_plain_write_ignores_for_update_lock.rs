//! Regression (issue #12): plain writes (`db.put`, `db.write`) ignored locks taken with
//! `get_for_update`. Under read committed that was a lost update: T1 locks and reads 1, a
//! plain `put(k, 5)` lands at once, T1 writes 2 and commits, and the 5 is gone with no error.
//! Plain writes now wait for the lock like any writer (or fail with `LockTimeout`).

mod common;

use std::{
    sync::atomic::{AtomicBool, Ordering},
    thread,
    time::Duration,
};

use common::{ENGINES, temp_db};
use lightning_db::{Config, Database, Error, Isolation, WriteBatch};

/// Waits until `done` is set or someone waits for a lock (whichever the code lets happen).
fn until_done_or_waiting(db: &Database, done: &AtomicBool) {
    while !done.load(Ordering::SeqCst) && db.stats().unwrap().transactions.locks.waiting == 0 {
        thread::yield_now();
    }
}

fn lost_update_case(write: impl Fn(&Database) + Sync) {
    for &engine in ENGINES {
        let (_dir, db) = temp_db(engine);
        db.put(b"k", b"1").unwrap();
        let mut t1 = db.begin_with(Isolation::ReadCommitted).unwrap();
        assert_eq!(t1.get_for_update(b"k").unwrap().unwrap(), b"1");
        let done = AtomicBool::new(false);
        thread::scope(|scope| {
            scope.spawn(|| {
                write(&db);
                done.store(true, Ordering::SeqCst);
            });
            until_done_or_waiting(&db, &done);
            assert!(!done.load(Ordering::SeqCst), "the plain write did not wait for the lock");
            t1.put(b"k", b"2").unwrap();
            t1.commit().unwrap();
        });
        assert_eq!(
            db.get(b"k").unwrap().unwrap(),
            b"5",
            "the plain write lands after the locker's commit, not under it"
        );
    }
}

#[test]
fn plain_put_waits_for_a_get_for_update_lock() {
    lost_update_case(|db| db.put(b"k", b"5").unwrap());
}

#[test]
fn plain_write_batch_waits_for_a_get_for_update_lock() {
    lost_update_case(|db| {
        let mut batch = WriteBatch::new();
        batch.put(b"other", b"x");
        batch.put(b"k", b"5");
        db.write(batch).unwrap();
    });
}

#[test]
fn plain_put_on_a_locked_key_fails_after_the_lock_timeout() {
    for &engine in ENGINES {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::default().engine(engine).lock_timeout(Duration::from_millis(20));
        let db = Database::open(dir.path(), config).unwrap();
        db.put(b"k", b"1").unwrap();
        let mut t1 = db.begin_with(Isolation::ReadCommitted).unwrap();
        t1.get_for_update(b"k").unwrap();
        let error = db.put(b"k", b"5").unwrap_err();
        assert!(matches!(error, Error::LockTimeout(_)), "{error:?}");
        db.put(b"unlocked", b"5").unwrap();
        t1.rollback();
        db.put(b"k", b"5").unwrap();
        assert_eq!(db.get(b"k").unwrap().unwrap(), b"5");
        assert_eq!(
            db.stats().unwrap().transactions.locks.held,
            0,
            "the write's locks are released"
        );
    }
}

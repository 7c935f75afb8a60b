//! Transactions, snapshots and keyspaces through the facade, on every engine.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::{ENGINES, collect, keys_of, temp_db};
use lightning_db::{Error, Isolation};

#[test]
fn commit_makes_writes_visible_and_drop_rolls_back() {
    for &engine in ENGINES {
        let (_dir, db) = temp_db(engine);
        let mut tx = db.begin().unwrap();
        tx.put(b"a", b"1").unwrap();
        assert_eq!(tx.get(b"a").unwrap().unwrap(), b"1", "a transaction reads its own writes");
        assert_eq!(db.get(b"a").unwrap(), None, "others do not see it before commit");
        tx.commit().unwrap();
        assert_eq!(db.get(b"a").unwrap().unwrap(), b"1");
        {
            let mut tx = db.begin().unwrap();
            tx.put(b"b", b"2").unwrap();
            tx.delete(b"a").unwrap();
        } // dropped: rolled back
        assert_eq!(db.get(b"b").unwrap(), None);
        assert_eq!(db.get(b"a").unwrap().unwrap(), b"1");
        let mut tx = db.begin().unwrap();
        tx.put(b"c", b"3").unwrap();
        tx.rollback();
        assert_eq!(db.get(b"c").unwrap(), None);
    }
}

#[test]
fn concurrent_writers_conflict() {
    for &engine in ENGINES {
        let (_dir, db) = temp_db(engine);
        db.put(b"counter", b"0").unwrap();
        let mut t1 = db.begin().unwrap();
        let mut t2 = db.begin_with(Isolation::Serializable).unwrap();
        t1.get(b"counter").unwrap();
        t2.get(b"counter").unwrap();
        t1.put(b"counter", b"1").unwrap();
        t2.put(b"counter", b"2").unwrap();
        t1.commit().unwrap();
        let err = t2.commit().unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }), "{err}");
        assert!(err.is_retryable());
        assert_eq!(db.get(b"counter").unwrap().unwrap(), b"1");
    }
}

#[test]
fn transaction_closure_retries_on_conflict() {
    for &engine in ENGINES {
        let (_dir, db) = temp_db(engine);
        db.put(b"n", b"0").unwrap();
        let attempts = AtomicU32::new(0);
        let result = db
            .transaction(|tx| {
                let n = attempts.fetch_add(1, Ordering::SeqCst);
                let value = tx.get(b"n")?.unwrap();
                if n == 0 {
                    db.put(b"n", b"interloper")?; // makes the first attempt conflict
                }
                tx.put(b"n", [value, b"+1".to_vec()].concat())?;
                Ok(n)
            })
            .unwrap();
        assert_eq!(result, 1, "the second attempt committed");
        assert_eq!(db.get(b"n").unwrap().unwrap(), b"interloper+1");
    }
}

#[test]
fn transaction_ranges_merge_own_writes_both_directions() {
    for &engine in ENGINES {
        let (_dir, db) = temp_db(engine);
        for key in ["a", "c", "e"] {
            db.put(key, b"committed").unwrap();
        }
        let mut tx = db.begin().unwrap();
        tx.put(b"b", b"mine").unwrap();
        tx.delete(b"c").unwrap();
        tx.put(b"e", b"overwritten").unwrap();
        let forward = collect(tx.range::<&[u8]>(..).unwrap());
        assert_eq!(keys_of(&forward), ["a", "b", "e"]);
        assert_eq!(forward[2].1, b"overwritten");
        let reverse = collect(tx.iter().unwrap().rev());
        assert_eq!(keys_of(&reverse), ["e", "b", "a"]);
        tx.get_for_update(b"a").unwrap();
        tx.commit().unwrap();
        assert_eq!(keys_of(&collect(db.iter().unwrap())), ["a", "b", "e"]);
    }
}

#[test]
fn snapshots_outlive_later_writes() {
    for &engine in ENGINES {
        let (_dir, db) = temp_db(engine);
        db.put(b"x", b"1").unwrap();
        let snap = db.snapshot().unwrap();
        db.put(b"x", b"2").unwrap();
        db.put(b"y", b"new").unwrap();
        assert_eq!(snap.get(b"x").unwrap().unwrap(), b"1");
        assert_eq!(snap.get(b"y").unwrap(), None);
        assert_eq!(keys_of(&collect(snap.range::<&[u8]>(..).unwrap())), ["x"]);
        assert_eq!(db.stats().unwrap().transactions.live_snapshots, 1);
        drop(snap);
        assert_eq!(db.stats().unwrap().transactions.live_snapshots, 0);
    }
}

#[test]
fn keyspaces_are_isolated_and_transactions_span_them() {
    for &engine in ENGINES {
        let (dir, db) = temp_db(engine);
        let users = db.keyspace("users").unwrap();
        let orders = db.keyspace("orders").unwrap();
        users.put(b"1", b"ada").unwrap();
        orders.put(b"1", b"order for ada").unwrap();
        db.put(b"1", b"default").unwrap();
        assert_eq!(users.get(b"1").unwrap().unwrap(), b"ada");
        assert_eq!(orders.get(b"1").unwrap().unwrap(), b"order for ada");
        assert_eq!(db.get(b"1").unwrap().unwrap(), b"default");
        assert_eq!(collect(users.iter().unwrap()).len(), 1);
        assert_eq!(collect(db.iter().unwrap()).len(), 1, "default keyspace sees only its own");
        let mut tx = db.begin().unwrap();
        tx.keyspace(&users).put(b"2", b"grace").unwrap();
        tx.keyspace(&orders).delete(b"1").unwrap();
        tx.put(b"2", b"default 2").unwrap();
        tx.commit().unwrap();
        assert_eq!(users.get(b"2").unwrap().unwrap(), b"grace");
        assert_eq!(orders.get(b"1").unwrap(), None);
        assert!(db.keyspace("").is_err(), "empty names are refused");
        db.close().unwrap();
        let config = lightning_db::Config::default().engine(engine);
        let db = lightning_db::Database::open(dir.path(), config).unwrap();
        let users = db.keyspace("users").unwrap();
        assert_eq!(keys_of(&collect(users.iter().unwrap())), ["1", "2"], "keyspaces persist");
        assert_eq!(db.stats().unwrap().keyspaces, 2);
        assert_eq!(db.keyspaces().unwrap(), ["orders", "users"]);
        let shown = db.stats().unwrap().to_string();
        assert!(shown.contains("engine") && shown.contains("wal durable lsn"), "{shown}");
    }
}

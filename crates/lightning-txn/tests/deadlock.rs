//! Pessimistic locks: cycles of waiting transactions are broken promptly by a deadlock victim;
//! the others commit; nothing hangs.

mod common;

use std::{
    sync::{Arc, Barrier},
    thread,
    time::{Duration, Instant},
};

use common::{ENGINES, Harness};
use lightning_txn::{Error, Isolation, LockMode, TxnStore};

fn seed(store: &TxnStore, keys: &[&str]) {
    let mut tx = store.begin(Isolation::Snapshot).unwrap();
    for key in keys {
        tx.put(key.as_bytes(), b"0").unwrap();
    }
    tx.commit().unwrap();
}

/// `n` transactions each lock key i, then ask for key (i + 1) % n: a cycle of length n.
fn cycle(store: &TxnStore, n: usize) -> (usize, usize) {
    let keys: Vec<String> = (0..n).map(|i| format!("k{i}")).collect();
    let barrier = Arc::new(Barrier::new(n));
    let started = Instant::now();
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (store, barrier, keys) = (store.clone(), barrier.clone(), keys.clone());
            thread::spawn(move || {
                let mut tx = store.begin(Isolation::Snapshot).unwrap();
                tx.get_for_update(keys[i].as_bytes()).unwrap();
                barrier.wait();
                match tx.get_for_update(keys[(i + 1) % keys.len()].as_bytes()) {
                    Ok(_) => {
                        // Write elsewhere: the locked keys stay unchanged, so the survivors'
                        // later lock requests see no conflict, only the deadlock.
                        tx.put(format!("out{i}").as_bytes(), b"done").unwrap();
                        tx.commit().map(|_| true).unwrap_or(false)
                    }
                    Err(Error::Deadlock { .. }) => false,
                    Err(e) => panic!("unexpected error: {e}"),
                }
            })
        })
        .collect();
    let results: Vec<bool> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(started.elapsed() < Duration::from_secs(5), "deadlock broken promptly, not by timeout");
    let committed = results.iter().filter(|ok| **ok).count();
    (committed, n - committed)
}

#[test]
fn two_transaction_deadlock_has_one_victim() {
    for &engine in ENGINES {
        let mut harness = Harness::new(engine);
        let store = harness.open();
        seed(&store, &["k0", "k1"]);
        let (committed, victims) = cycle(&store, 2);
        assert_eq!((committed, victims), (1, 1));
        assert_eq!(store.stats().deadlocks, 1);
        assert_eq!(store.stats().locks.held, 0, "all locks released");
    }
}

#[test]
fn three_transaction_deadlock_has_one_victim() {
    for &engine in ENGINES {
        let mut harness = Harness::new(engine);
        let store = harness.open();
        seed(&store, &["k0", "k1", "k2"]);
        let (committed, victims) = cycle(&store, 3);
        assert_eq!(victims, 1, "exactly one victim breaks a 3-cycle");
        assert_eq!(committed, 2);
    }
}

#[test]
fn lock_waits_time_out_and_shared_locks_share() {
    for &engine in ENGINES {
        let mut harness = Harness::new(engine);
        harness.options.lock_timeout = Duration::from_millis(200);
        let store = harness.open();
        seed(&store, &["a"]);
        let mut t1 = store.begin(Isolation::Snapshot).unwrap();
        let mut t2 = store.begin(Isolation::Snapshot).unwrap();
        t1.lock(b"a", LockMode::Shared).unwrap();
        t2.lock(b"a", LockMode::Shared).unwrap();
        let mut t3 = store.begin(Isolation::Snapshot).unwrap();
        let started = Instant::now();
        let err = t3.lock(b"a", LockMode::Exclusive).unwrap_err();
        assert!(matches!(err, Error::LockTimeout { .. }), "{err}");
        assert!(started.elapsed() >= Duration::from_millis(150));
        drop(t1);
        drop(t2);
        t3.lock(b"a", LockMode::Exclusive).unwrap();
    }
}

#[test]
fn an_optimistic_writer_waits_for_a_lock_holder_and_then_conflicts() {
    for &engine in ENGINES {
        let mut harness = Harness::new(engine);
        let store = harness.open();
        seed(&store, &["a"]);
        let mut holder = store.begin(Isolation::Snapshot).unwrap();
        holder.get_for_update(b"a").unwrap();
        let writer = {
            let store = store.clone();
            thread::spawn(move || {
                let mut tx = store.begin(Isolation::Snapshot).unwrap();
                tx.put(b"a", b"writer").unwrap();
                tx.commit()
            })
        };
        thread::sleep(Duration::from_millis(100));
        holder.put(b"a", b"holder").unwrap();
        holder.commit().unwrap();
        let result = writer.join().unwrap();
        assert!(matches!(result, Err(Error::Conflict { .. })), "{result:?}");
        assert_eq!(store.get(b"a").unwrap().unwrap(), b"holder");
    }
}

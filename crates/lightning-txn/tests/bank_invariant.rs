//! Bank transfers: concurrent transfers under snapshot and serializable isolation never change
//! the total, as seen by concurrent readers summing every balance in one transaction; the total
//! and every transfer also survive power cuts.

mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use common::{ENGINES, Harness};
use lightning_core_storage::engine::{Direction, KeyRange};
use lightning_txn::{Isolation, TxnStore};

const ACCOUNTS: u64 = 20;
const INITIAL: u64 = 1000;

fn account(i: u64) -> Vec<u8> {
    format!("acct:{i:03}").into_bytes()
}

fn seed(store: &TxnStore) {
    let mut tx = store.begin(Isolation::Snapshot).unwrap();
    for i in 0..ACCOUNTS {
        tx.put(&account(i), &INITIAL.to_le_bytes()).unwrap();
    }
    tx.commit().unwrap();
}

fn balance(bytes: Vec<u8>) -> u64 {
    u64::from_le_bytes(bytes.try_into().expect("8-byte balance"))
}

/// One transfer with retries on conflict; returns true if it committed.
fn transfer(store: &TxnStore, isolation: Isolation, from: u64, to: u64, amount: u64) -> bool {
    for _ in 0..100 {
        let mut tx = store.begin(isolation).unwrap();
        let a = balance(tx.get(&account(from)).unwrap().unwrap());
        let b = balance(tx.get(&account(to)).unwrap().unwrap());
        if a < amount {
            return false;
        }
        tx.put(&account(from), &(a - amount).to_le_bytes()).unwrap();
        tx.put(&account(to), &(b + amount).to_le_bytes()).unwrap();
        match tx.commit() {
            Ok(_) => return true,
            Err(e) if e.is_retryable() => continue,
            Err(e) => panic!("transfer failed: {e}"),
        }
    }
    false
}

fn total_by_scan(store: &TxnStore, isolation: Isolation) -> u64 {
    let mut tx = store.begin(isolation).unwrap();
    let sum = tx
        .scan(KeyRange::prefix(b"acct:"), Direction::Forward)
        .unwrap()
        .map(|kv| balance(kv.unwrap().1))
        .sum();
    tx.commit().unwrap();
    sum
}

fn total_by_gets(store: &TxnStore) -> u64 {
    let snapshot = store.snapshot();
    (0..ACCOUNTS).map(|i| balance(snapshot.get(&account(i)).unwrap().unwrap())).sum()
}

#[test]
fn concurrent_transfers_keep_the_total() {
    for &engine in ENGINES {
        for isolation in [Isolation::Snapshot, Isolation::Serializable] {
            let mut harness = Harness::new(engine);
            harness.options.durability = lightning_wal::Durability::None;
            let store = harness.open();
            seed(&store);
            let stop = Arc::new(AtomicBool::new(false));
            let committed = Arc::new(AtomicU64::new(0));
            let writers: Vec<_> = (0..2u64)
                .map(|t| {
                    let (store, stop, committed) = (store.clone(), stop.clone(), committed.clone());
                    thread::spawn(move || {
                        let mut x = 0x1234_5678u64 + t;
                        for _ in 0..400 {
                            x = x
                                .wrapping_mul(6364136223846793005)
                                .wrapping_add(1442695040888963407);
                            let from = (x >> 33) % ACCOUNTS;
                            let to = (from + 1 + (x >> 40) % (ACCOUNTS - 1)) % ACCOUNTS;
                            if transfer(&store, isolation, from, to, 1 + (x >> 50) % 50) {
                                committed.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        stop.store(true, Ordering::Relaxed);
                    })
                })
                .collect();
            let mut checks = 0;
            while !stop.load(Ordering::Relaxed) || checks < 10 {
                assert_eq!(
                    total_by_scan(&store, isolation),
                    ACCOUNTS * INITIAL,
                    "{isolation:?} scan sum"
                );
                assert_eq!(total_by_gets(&store), ACCOUNTS * INITIAL, "{isolation:?} get sum");
                checks += 1;
            }
            for writer in writers {
                writer.join().unwrap();
            }
            assert!(committed.load(Ordering::Relaxed) > 100, "transfers made progress");
            assert_eq!(total_by_scan(&store, isolation), ACCOUNTS * INITIAL);
            let stats = store.stats();
            assert_eq!(stats.active_transactions, 0, "every transaction finished: {stats:?}");
            assert_eq!(stats.locks.held, 0);
        }
    }
}

#[test]
fn transfers_survive_power_cuts() {
    for &engine in ENGINES {
        let mut harness = Harness::new(engine);
        let mut store = harness.open();
        seed(&store);
        let mut expected = vec![INITIAL; ACCOUNTS as usize];
        let deadline = Instant::now() + Duration::from_secs(20);
        for round in 0..25u64 {
            for i in 0..8u64 {
                let (from, to) = ((round + i) % ACCOUNTS, (round * 7 + i * 3 + 1) % ACCOUNTS);
                if from == to {
                    continue;
                }
                // Immediate durability (the default): acknowledged means durable.
                if transfer(&store, Isolation::Serializable, from, to, 3) {
                    expected[from as usize] -= 3;
                    expected[to as usize] += 3;
                }
            }
            if round % 5 == 4 {
                store.checkpoint().unwrap();
            }
            store = harness.crash_and_reopen(store);
            let snapshot = store.snapshot();
            for (i, want) in expected.iter().enumerate() {
                let got = balance(snapshot.get(&account(i as u64)).unwrap().unwrap());
                assert_eq!(got, *want, "round {round}: account {i} after a power cut");
            }
            assert!(Instant::now() < deadline, "power-cut loop took too long");
        }
        assert_eq!(total_by_gets(&store), ACCOUNTS * INITIAL);
    }
}

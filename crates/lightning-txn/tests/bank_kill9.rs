//! Bank transfers in a child process killed with SIGKILL at random moments, on the B+Tree
//! engine and on the LSM engine (small memtables, so flushes run under fire), with a real log:
//! after every restart the total is unchanged, every acknowledged transfer is present, and the
//! transfers present are a gap-free prefix.
//!
//! The test binary re-runs itself as the child (`bank_child`, with `LIGHTNING_BANK_DIR` set)
//! through the shared `kill9-harness`; `LIGHTNING_BANK_ENGINE` names its engine.
//! `LIGHTNING_CRASH_CYCLES` sets the number of kill cycles (default 20).

use std::{
    collections::BTreeSet,
    io::Write,
    path::Path,
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use kill9_harness::{Child, KillClock, numbers_after};

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    engine::{Direction, KeyRange, StorageEngine},
    vfs::{StdFs, Vfs},
};
use lightning_lsm::{LsmEngine, LsmOptions};
use lightning_txn::{Isolation, TxnOptions, TxnStore};
use lightning_wal::{Wal, WalOptions};

const DIR_ENV: &str = "LIGHTNING_BANK_DIR";
const ENGINE_ENV: &str = "LIGHTNING_BANK_ENGINE";
const ACCOUNTS: u64 = 16;
const INITIAL: u64 = 1_000;

/// The engines the kill test runs on, by the name the child is given.
const ENGINES: &[&str] = &["btree", "lsm"];

fn open(dir: &Path, engine: &str) -> TxnStore {
    let vfs: Arc<dyn Vfs> = Arc::new(StdFs::new());
    let engine: Arc<dyn StorageEngine> = match engine {
        "lsm" => {
            let options = LsmOptions { memtable_bytes: 64 << 10, ..LsmOptions::default() };
            Arc::new(LsmEngine::open(vfs.clone(), &dir.join("lsm"), options).unwrap())
        }
        _ => {
            let options = BTreeOptions { cache_size_bytes: 8 << 20, ..BTreeOptions::default() };
            Arc::new(BTreeEngine::open(vfs.clone(), &dir.join("btree"), options).unwrap())
        }
    };
    let wal_options = WalOptions { segment_size_bytes: 1 << 20, ..WalOptions::default() };
    let wal = Wal::open(vfs, &dir.join("wal"), wal_options).unwrap();
    TxnStore::open(engine, wal, TxnOptions::default()).unwrap().0
}

fn account(i: u64) -> Vec<u8> {
    format!("acct:{i:02}").into_bytes()
}

fn log_key(seq: u64) -> Vec<u8> {
    format!("log:{seq:010}").into_bytes()
}

fn number(bytes: Vec<u8>) -> u64 {
    u64::from_le_bytes(bytes.try_into().expect("8-byte number"))
}

/// The child: seeds the accounts once, then transfers forever, printing `ACK <seq>` after each
/// commit returns (Immediate durability: acknowledged means durable).
fn child(dir: &Path, engine: &str) {
    let store = open(dir, engine);
    let snapshot = store.snapshot();
    if snapshot.get(&account(0)).unwrap().is_none() {
        let mut tx = store.begin(Isolation::Serializable).unwrap();
        for i in 0..ACCOUNTS {
            tx.put(&account(i), &INITIAL.to_le_bytes()).unwrap();
        }
        tx.commit().unwrap();
    }
    let last = snapshot
        .scan(KeyRange::prefix(b"log:"), Direction::Reverse)
        .unwrap()
        .next()
        .map(|kv| number(kv.unwrap().1))
        .unwrap_or(0);
    drop(snapshot);
    let mut out = std::io::stdout().lock();
    writeln!(out, "READY {last}").unwrap();
    out.flush().unwrap();
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ last;
    for seq in last + 1.. {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (from, to) = (x % ACCOUNTS, (x >> 20) % ACCOUNTS);
        let mut tx = store.begin(Isolation::Serializable).unwrap();
        let a = number(tx.get(&account(from)).unwrap().unwrap());
        let b = number(tx.get(&account(to)).unwrap().unwrap());
        let amount = (x >> 40) % 10;
        if from != to && a >= amount {
            tx.put(&account(from), &(a - amount).to_le_bytes()).unwrap();
            tx.put(&account(to), &(b + amount).to_le_bytes()).unwrap();
        }
        tx.put(&log_key(seq), &seq.to_le_bytes()).unwrap();
        tx.commit().unwrap();
        writeln!(out, "ACK {seq}").unwrap();
        out.flush().unwrap();
        if seq % 150 == 0 {
            store.checkpoint().unwrap(); // engine checkpoints and log truncation under fire
        }
    }
}

#[test]
fn bank_child() {
    match std::env::var(DIR_ENV) {
        Ok(dir) => child(Path::new(&dir), &std::env::var(ENGINE_ENV).unwrap_or_default()),
        Err(_) => {
            // Run directly: check the verification against a store the test fills itself.
            for engine in ENGINES {
                let dir = tempfile::tempdir().unwrap();
                let store = open(dir.path(), engine);
                let mut tx = store.begin(Isolation::Serializable).unwrap();
                for i in 0..ACCOUNTS {
                    tx.put(&account(i), &INITIAL.to_le_bytes()).unwrap();
                }
                tx.put(&log_key(1), &1u64.to_le_bytes()).unwrap();
                tx.commit().unwrap();
                drop(store);
                assert_eq!(verify(dir.path(), engine, &BTreeSet::from([1])), 1);
            }
        }
    }
}

/// Reopens and checks the invariants; returns the number of transfers present.
fn verify(dir: &Path, engine: &str, acked: &BTreeSet<u64>) -> u64 {
    let store = open(dir, engine);
    let snapshot = store.snapshot();
    let total: u64 =
        (0..ACCOUNTS).map(|i| snapshot.get(&account(i)).unwrap().map_or(INITIAL, number)).sum();
    assert_eq!(total, ACCOUNTS * INITIAL, "the total survives the crash");
    let present: Vec<u64> = snapshot
        .scan(KeyRange::prefix(b"log:"), Direction::Forward)
        .unwrap()
        .map(|kv| number(kv.unwrap().1))
        .collect();
    let expected: Vec<u64> = (1..=present.len() as u64).collect();
    assert_eq!(present, expected, "transfers present are a gap-free prefix");
    for seq in acked {
        assert!(*seq <= present.len() as u64, "acknowledged transfer {seq} was lost");
    }
    present.len() as u64
}

#[test]
fn kill_9_during_transfers_keeps_the_total_and_every_acknowledged_transfer() {
    for engine in ENGINES {
        kill_cycles(engine);
    }
}

fn kill_cycles(engine: &str) {
    let cycles = kill9_harness::cycles(20);
    let dir = tempfile::tempdir().unwrap();
    let mut acked = BTreeSet::new();
    let mut clock = KillClock::new(0x1234_5678_9abc_def0);
    let started = Instant::now();
    for _ in 0..cycles {
        let mut child = Child::spawn(
            "bank_child",
            &[(DIR_ENV, dir.path().as_os_str()), (ENGINE_ENV, std::ffi::OsStr::new(engine))],
        );
        child.wait_for("READY ", Duration::from_secs(30));
        thread::sleep(clock.next_delay(Duration::from_millis(20), Duration::from_millis(200)));
        acked.extend(numbers_after(&child.kill().0, "ACK "));
        verify(dir.path(), engine, &acked);
    }
    assert!(
        acked.len() as u64 > cycles * 5,
        "{engine}: the child made progress: {} acks",
        acked.len()
    );
    assert!(started.elapsed() < Duration::from_secs(120), "kill loop took too long");
}

//! `Durability::Eventual` through the facade, in a child process killed with SIGKILL at random
//! moments: every commit acknowledged before the kill is present after reopening (Eventual
//! survives a process crash), the commits present are a gap-free prefix, and no commit is torn
//! between the two keyspaces it writes. The child runs the database as it ships, its
//! maintenance thread checkpointing every few milliseconds.
//!
//! The test binary re-runs itself as the child (`eventual_child`, with
//! `LIGHTNING_FACADE_KILL9_DIR` set, and `LIGHTNING_FACADE_KILL9_ENGINE` naming the engine; the
//! cycles run on every engine) through the shared `kill9-harness`. `LIGHTNING_CRASH_CYCLES`
//! sets the number of kill cycles (default 8).

mod common;

use std::{ffi::OsStr, io::Write, path::Path, thread, time::Duration};

use kill9_harness::{Child, KillClock, numbers_after};

use common::ENGINES;
use lightning_db::{Config, Database, Durability, Engine};

const DIR_ENV: &str = "LIGHTNING_FACADE_KILL9_DIR";
const ENGINE_ENV: &str = "LIGHTNING_FACADE_KILL9_ENGINE";

fn open(dir: &Path, engine: Engine) -> Database {
    let config = Config::default()
        .engine(engine)
        .durability(Durability::Eventual)
        .checkpoint_interval(Duration::from_millis(5))
        .wal_segment_size_bytes(64 << 10);
    Database::open(dir, config).unwrap()
}

fn log_key(seq: u64) -> String {
    format!("log:{seq:010}")
}

fn last_seq(db: &Database) -> u64 {
    let last = db.prefix("log:").unwrap().next_back().map(|kv| kv.unwrap().1);
    last.map_or(0, |v| u64::from_be_bytes(v.try_into().expect("8-byte sequence number")))
}

/// The child: commits forever with `Eventual` durability, printing `ACK <seq>` after each
/// commit returns.
fn child(dir: &Path, engine: Engine) {
    let db = open(dir, engine);
    let mirror = db.keyspace("mirror").unwrap();
    let last = last_seq(&db);
    let mut out = std::io::stdout().lock();
    writeln!(out, "READY {last}").unwrap();
    out.flush().unwrap();
    for seq in last + 1.. {
        let mut tx = db.begin().unwrap();
        tx.put(log_key(seq), seq.to_be_bytes()).unwrap();
        tx.keyspace(&mirror)
            .put(log_key(seq), vec![(seq % 251) as u8; (seq % 300) as usize])
            .unwrap();
        tx.commit().unwrap();
        writeln!(out, "ACK {seq}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn eventual_child() {
    match std::env::var(DIR_ENV) {
        Ok(dir) => {
            let name = std::env::var(ENGINE_ENV).unwrap_or_default();
            child(Path::new(&dir), Engine::from_name(&name).unwrap_or(Engine::BTree))
        }
        Err(_) => {
            // Run directly: check the verification against a database filled here.
            for &engine in ENGINES {
                let dir = tempfile::tempdir().unwrap();
                let db = open(dir.path(), engine);
                let mirror = db.keyspace("mirror").unwrap();
                for seq in 1..=3u64 {
                    let mut tx = db.begin().unwrap();
                    tx.put(log_key(seq), seq.to_be_bytes()).unwrap();
                    tx.keyspace(&mirror)
                        .put(log_key(seq), vec![(seq % 251) as u8; seq as usize])
                        .unwrap();
                    tx.commit().unwrap();
                }
                db.close().unwrap();
                assert_eq!(verify(dir.path(), engine, 3), 3);
            }
        }
    }
}

/// Reopens and checks the invariants; returns the number of commits present.
fn verify(dir: &Path, engine: Engine, acked: u64) -> u64 {
    let db = open(dir, engine);
    let present: Vec<u64> = db
        .prefix("log:")
        .unwrap()
        .map(|kv| u64::from_be_bytes(kv.unwrap().1.try_into().unwrap()))
        .collect();
    let expected: Vec<u64> = (1..=present.len() as u64).collect();
    assert_eq!(present, expected, "the commits present are a gap-free prefix");
    let count = present.len() as u64;
    assert!(count >= acked, "acknowledged Eventual commit {acked} lost ({count} present)");
    let mirror = db.keyspace("mirror").unwrap();
    let mirrored: Vec<Vec<u8>> = mirror.iter().unwrap().map(|kv| kv.unwrap().0).collect();
    let keys: Vec<Vec<u8>> = (1..=count).map(|seq| log_key(seq).into_bytes()).collect();
    assert_eq!(mirrored, keys, "every commit wrote both keyspaces or neither");
    db.close().unwrap();
    count
}

#[test]
fn kill_9_keeps_every_acknowledged_eventual_commit() {
    for &engine in ENGINES {
        kill_cycles(engine);
    }
}

fn kill_cycles(engine: Engine) {
    let cycles = kill9_harness::cycles(8);
    let dir = tempfile::tempdir().unwrap();
    let mut acked = 0u64;
    let mut clock = KillClock::new(0x2545_f491_4f6c_dd1d);
    for cycle in 0..cycles {
        let mut child = Child::spawn(
            "eventual_child",
            &[(DIR_ENV, dir.path().as_os_str()), (ENGINE_ENV, OsStr::new(engine.name()))],
        );
        let resumed: u64 = child.wait_for("READY ", Duration::from_secs(120)).parse().unwrap();
        assert!(resumed >= acked, "cycle {cycle}: the child resumed at {resumed}");
        thread::sleep(clock.next_delay(Duration::from_millis(10), Duration::from_millis(150)));
        acked = numbers_after(&child.kill().0, "ACK ").fold(acked, u64::max);
        verify(dir.path(), engine, acked);
    }
    assert!(acked > cycles, "{engine:?}: the child made progress: {acked} commits acknowledged");
}

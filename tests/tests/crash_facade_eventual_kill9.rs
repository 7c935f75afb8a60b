//! `Durability::Eventual` through the facade, in a child process killed with SIGKILL at random
//! moments: every commit acknowledged before the kill is present after reopening (Eventual
//! survives a process crash), the commits present are a gap-free prefix, and no commit is torn
//! between the two keyspaces it writes. The child runs the database as it ships, its
//! maintenance thread checkpointing every few milliseconds.
//!
//! The test binary re-runs itself as the child (`eventual_child`, with
//! `LIGHTNING_FACADE_KILL9_DIR` set, and `LIGHTNING_FACADE_KILL9_ENGINE` naming the engine; the
//! cycles run on every engine). `LIGHTNING_CRASH_CYCLES` sets the number of kill cycles
//! (default 8).

mod common;

use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Stdio},
    sync::mpsc,
    thread,
    time::Duration,
};

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
    let cycles: u64 =
        std::env::var("LIGHTNING_CRASH_CYCLES").ok().and_then(|s| s.parse().ok()).unwrap_or(8);
    let dir = tempfile::tempdir().unwrap();
    let mut acked = 0u64;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for cycle in 0..cycles {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "eventual_child", "--nocapture", "--test-threads=1"])
            .env(DIR_ENV, dir.path())
            .env(ENGINE_ENV, engine.name())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines) = mpsc::channel();
        let reader = thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        // The harness prints its own lines first (and may put "test eventual_child ... " in
        // front of ours); wait for READY. The timeout only keeps a broken child from hanging CI.
        loop {
            let line = lines.recv_timeout(Duration::from_secs(120)).expect("child became ready");
            assert!(!line.contains("panicked"), "cycle {cycle}: child failed: {line}");
            if let Some(at) = line.find("READY ") {
                let resumed: u64 = line[at + 6..].trim().parse().unwrap();
                assert!(resumed >= acked, "cycle {cycle}: the child resumed at {resumed}");
                break;
            }
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        thread::sleep(Duration::from_millis(10 + rng % 150));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        for line in lines.try_iter() {
            if let Some(at) = line.find("ACK ") {
                // Each line is one write(2) of a few bytes to a pipe: never cut by the kill.
                acked = acked.max(line[at + 4..].trim().parse().unwrap());
            }
        }
        verify(dir.path(), engine, acked);
    }
    assert!(acked > cycles, "{engine:?}: the child made progress: {acked} commits acknowledged");
}

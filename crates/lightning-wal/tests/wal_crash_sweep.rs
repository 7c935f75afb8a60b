//! Power cuts through `FaultFs`: after a cut at any durability point of a deterministic
//! workload (and at random points of concurrent ones), the reopened log is exactly a prefix of
//! the appended records, in LSN order, with no gap and no duplicate, holding every record
//! acknowledged as `Immediate` (and everything a successful `sync` covered).

mod common;

use std::{
    sync::{Arc, Mutex},
    thread,
};

use common::{Rng, dir, open, small};
use lightning_core_storage::vfs::{FaultFs, FaultKind, PowerCut};
use lightning_wal::{Durability, Lsn, Wal, WalOptions};

const SIZE: u64 = 1024;

/// What the deterministic workload did before it stopped.
#[derive(Debug, Default, Clone)]
struct Outcome {
    /// Payloads in append order: attempt `k` got LSN `k + 1` if the log accepted it.
    attempted: Vec<Vec<u8>>,
    /// The highest LSN acknowledged as durable (Immediate appends, successful syncs, closes).
    durable: u64,
    /// The highest `truncate_before` target issued.
    truncated_below: u64,
}

fn durability_of(i: u64) -> Durability {
    match i % 7 {
        0 | 3 => Durability::Immediate,
        1 | 4 | 6 => Durability::Eventual,
        _ => Durability::None,
    }
}

fn payload_of(i: u64) -> Vec<u8> {
    let len = match i {
        _ if i.is_multiple_of(23) => 0,
        _ if i.is_multiple_of(17) => 2500,
        _ => 40 + (i * 37 % 260) as usize,
    };
    let mut out = format!("#{i}#").into_bytes();
    out.resize(len.max(out.len()), (i % 250) as u8);
    out
}

fn run_deterministic(fs: &FaultFs, out: &mut Outcome) -> lightning_wal::Result<()> {
    let mut wal = open(fs, small(SIZE))?;
    for i in 1..=150u64 {
        let record = payload_of(i);
        out.attempted.push(record.clone());
        let lsn = wal.append(&record, durability_of(i))?;
        assert_eq!(lsn, Lsn(i), "single-threaded LSNs are consecutive");
        if durability_of(i) == Durability::Immediate {
            out.durable = i;
        }
        if i % 40 == 0 {
            out.durable = wal.sync()?.get();
        }
        if i % 50 == 0 {
            out.truncated_below = i - 25;
            wal.truncate_before(Lsn(i - 25))?;
        }
        if i == 75 {
            wal.close()?;
            out.durable = i;
            wal = open(fs, small(SIZE))?;
        }
    }
    wal.close()?;
    out.durable = 150;
    Ok(())
}

/// Reopens after a crash and checks the recovered log against what was appended.
fn verify(fs: &FaultFs, out: &Outcome, label: &str) {
    let wal = open(fs, small(SIZE)).unwrap_or_else(|e| panic!("{label}: reopen failed: {e}"));
    let records: Vec<_> = wal
        .replay(Lsn(1))
        .unwrap()
        .map(|r| r.unwrap_or_else(|e| panic!("{label}: replay failed: {e}")))
        .collect();
    let first = records.first().map_or(wal.last_lsn().get() + 1, |r| r.lsn.get());
    assert!(first <= out.truncated_below.max(1), "{label}: records below truncation only");
    for (k, record) in records.iter().enumerate() {
        let lsn = record.lsn.get();
        assert_eq!(lsn, first + k as u64, "{label}: gap or duplicate at {lsn}");
        let expected = out.attempted.get(lsn as usize - 1);
        assert_eq!(
            Some(&record.payload),
            expected,
            "{label}: record {lsn} is not what was appended"
        );
    }
    let last = wal.last_lsn().get();
    assert!(last >= out.durable, "{label}: acknowledged record {} lost (last {last})", out.durable);
    assert!(last <= out.attempted.len() as u64, "{label}: records never appended");
    // The log goes on where it stopped.
    assert_eq!(wal.append(b"after", Durability::Immediate).unwrap(), Lsn(last + 1), "{label}");
    wal.close().unwrap();
    let wal = open(fs, small(SIZE)).unwrap_or_else(|e| panic!("{label}: second reopen: {e}"));
    let tail: Vec<_> = wal.replay(Lsn(last)).unwrap().map(|r| r.unwrap().payload).collect();
    assert_eq!(
        tail.last().map(Vec::as_slice),
        Some(&b"after"[..]),
        "{label}: appended after recovery"
    );
}

#[test]
fn power_cut_at_every_durability_point_of_a_mixed_workload() {
    let dry = FaultFs::new();
    let mut outcome = Outcome::default();
    run_deterministic(&dry, &mut outcome).unwrap();
    let points = dry.durability_points();
    assert!(points > 150, "rolls, syncs, removals and reopens: {points} points");
    verify(&dry, &outcome, "dry run");
    for n in 1..=points {
        for crash in FaultKind::crashes_at(n) {
            let fs = FaultFs::new();
            fs.inject(crash);
            let mut outcome = Outcome::default();
            let result = run_deterministic(&fs, &mut outcome);
            assert!(fs.is_dead(), "{crash:?}: the power was cut");
            assert!(result.is_err() || n == points, "{crash:?}: the workload saw the failure");
            fs.restart();
            verify(&fs, &outcome, &format!("{crash:?}"));
        }
    }
}

/// What one thread of the concurrent workload had acknowledged.
#[derive(Debug, Default, Clone)]
struct Acks {
    /// (seq, lsn, durability) per acknowledged append, in order.
    acked: Vec<(u64, u64, Durability)>,
}

fn concurrent_payload(thread: u64, seq: u64, len: usize) -> Vec<u8> {
    let mut out = format!("{thread}:{seq}:").into_bytes();
    out.resize(len.max(out.len()), b'0' + (seq % 10) as u8);
    out
}

fn parse_concurrent(payload: &[u8]) -> (u64, u64) {
    let text = std::str::from_utf8(payload).expect("ascii payload");
    let mut parts = text.split(':');
    let thread = parts.next().unwrap().parse().unwrap();
    let seq = parts.next().unwrap().parse().unwrap();
    (thread, seq)
}

const THREADS: u64 = 3;

fn run_concurrent(fs: &FaultFs, seed: u64) -> Vec<Acks> {
    let options =
        WalOptions { segment_size_bytes: 2048, sync_interval_ms: 1, ..Default::default() };
    let Ok(wal) = Wal::open(Arc::new(fs.clone()), dir(), options) else {
        return vec![Acks::default(); THREADS as usize];
    };
    let wal = Arc::new(wal);
    let acks = Arc::new(Mutex::new(vec![Acks::default(); THREADS as usize]));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (wal, acks) = (Arc::clone(&wal), Arc::clone(&acks));
            thread::spawn(move || {
                let mut rng = Rng::new(seed * 31 + t);
                for seq in 0..60 {
                    let durability = match rng.below(3) {
                        0 => Durability::Immediate,
                        1 => Durability::Eventual,
                        _ => Durability::None,
                    };
                    let len = if rng.below(10) == 0 { 3000 } else { rng.below(300) as usize };
                    match wal.append(&concurrent_payload(t, seq, len), durability) {
                        Ok(lsn) => acks.lock().unwrap()[t as usize].acked.push((
                            seq,
                            lsn.get(),
                            durability,
                        )),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let _ = wal.sync();
    drop(wal);
    acks.lock().unwrap().clone()
}

#[test]
fn power_cuts_at_random_points_of_concurrent_workloads() {
    let dry = FaultFs::new();
    run_concurrent(&dry, 0);
    let points = dry.durability_points();
    let mut rng = Rng::new(99);
    // `LIGHTNING_CRASH_SEEDS` raises the number of workloads (for `cargo xtask crash`).
    let seeds: u64 =
        std::env::var("LIGHTNING_CRASH_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    for seed in 1..=seeds {
        let n = 1 + rng.below(points);
        let crash = match rng.below(3) {
            0 => FaultKind::CrashAfterPoint { n, cut: PowerCut::DropUnsynced },
            1 => FaultKind::CrashBeforePoint { n, cut: PowerCut::TearUnsynced { seed } },
            _ => FaultKind::CrashBeforePoint { n, cut: PowerCut::ReorderUnsynced { seed } },
        };
        let fs = FaultFs::new();
        fs.inject(crash);
        let acks = run_concurrent(&fs, seed);
        fs.finish_with_crash(); // the armed cut, or one now if the run ended before it
        let label = format!("seed {seed} {crash:?}");
        let wal = open(&fs, small(2048)).unwrap_or_else(|e| panic!("{label}: {e}"));
        let records: Vec<_> = wal.replay(Lsn(1)).unwrap().map(|r| r.unwrap()).collect();
        let mut next_seq = [0u64; THREADS as usize];
        for (k, record) in records.iter().enumerate() {
            assert_eq!(record.lsn.get(), k as u64 + 1, "{label}: gap or duplicate");
            let (thread, seq) = parse_concurrent(&record.payload);
            assert_eq!(seq, next_seq[thread as usize], "{label}: thread {thread} out of order");
            next_seq[thread as usize] += 1;
        }
        let last = records.len() as u64;
        for (t, thread_acks) in acks.iter().enumerate() {
            for &(seq, lsn, durability) in &thread_acks.acked {
                if durability == Durability::Immediate {
                    assert!(lsn <= last, "{label}: Immediate ({t}, {seq}) at {lsn} lost");
                }
                if lsn <= last {
                    let found = parse_concurrent(&records[lsn as usize - 1].payload);
                    assert_eq!(found, (t as u64, seq), "{label}: LSN {lsn} holds another record");
                }
            }
        }
    }
}

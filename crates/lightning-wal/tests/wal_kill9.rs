//! kill -9: a child process appends with `Immediate` on real files and reports every
//! acknowledged LSN on stdout; the parent kills it (SIGKILL) at random moments, reopens the
//! log and checks that every reported record is there, intact, in a gap-free log.
//!
//! The child is this test binary itself, re-executed (through the shared `kill9-harness`) with
//! [`CHILD_ENV`] set to the log directory and told to run only [`crash_child`] (this works the
//! same under `cargo test` and `cargo nextest run`). Run without the variable, `crash_child` runs the child's workload
//! in-process for a bounded number of records and checks its report. The number of cycles is
//! `LIGHTNING_CRASH_CYCLES` (`kill9_harness::CYCLES_ENV`, default 50), so `cargo xtask crash` can run thousands.

mod common;

use std::{
    collections::BTreeMap,
    ffi::OsStr,
    io::Write,
    path::Path,
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use common::Rng;
use kill9_harness::Child;
use lightning_core_storage::vfs::StdFs;
use lightning_wal::{Durability, Lsn, Wal, WalOptions};

/// Set (to the log directory) in the child process.
const CHILD_ENV: &str = "LIGHTNING_WAL_CRASH_CHILD_DIR";
/// The child's seed (the cycle number), so payloads differ from cycle to cycle.
const SEED_ENV: &str = "LIGHTNING_WAL_CRASH_CHILD_SEED";
/// A child left alone stops by itself after this long.
const CHILD_LIFETIME: Duration = Duration::from_secs(30);

fn options() -> WalOptions {
    WalOptions { segment_size_bytes: 64 << 10, ..WalOptions::default() }
}

/// The payload a child appends for `token` (which it reports): deterministic, so the parent
/// can rebuild and compare every byte.
fn payload(token: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let seed = token.as_bytes();
    for i in 0..len {
        out.push(seed[i % seed.len()] ^ (i / seed.len()) as u8);
    }
    out
}

/// The child's workload: two threads append `Immediate` records and print
/// `ACK <lsn> <token> <len>` once each append returns. Stops after `limit` records if given.
fn child_main(dir: &Path, seed: u64, out: Box<dyn Write + Send>, limit: Option<u64>) {
    let wal = Arc::new(Wal::open(Arc::new(StdFs::new()), dir, options()).expect("child opens"));
    let out = Arc::new(Mutex::new(out));
    {
        let mut out = out.lock().unwrap();
        // On a line of its own: the test harness may have printed a partial line before.
        writeln!(out, "\nREADY {}", wal.last_lsn()).unwrap();
        out.flush().unwrap();
    }
    let started = Instant::now();
    let handles: Vec<_> = (0..2u64)
        .map(|t| {
            let (wal, out) = (Arc::clone(&wal), Arc::clone(&out));
            thread::spawn(move || {
                let mut rng = Rng::new(seed * 7919 + t);
                for i in 0..limit.map_or(u64::MAX, |l| l / 2) {
                    if started.elapsed() > CHILD_LIFETIME {
                        return;
                    }
                    let len = match rng.below(20) {
                        0 => 150_000, // spans segments
                        1 => 0,
                        _ => rng.below(2000) as usize,
                    };
                    let token = format!("s{seed}t{t}i{i}");
                    let lsn = wal.append(&payload(&token, len), Durability::Immediate).unwrap();
                    let mut out = out.lock().unwrap();
                    writeln!(out, "ACK {} {token} {len}", lsn.get()).unwrap();
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

/// The acknowledgements in a child's output: complete `ACK` lines only (a line cut by the kill
/// has no newline and is ignored).
fn parse_acks(output: &str) -> Vec<(u64, Vec<u8>)> {
    let mut acks = Vec::new();
    for line in output.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let ["ACK", lsn, token, len] = fields[..] {
            acks.push((lsn.parse().unwrap(), payload(token, len.parse().unwrap())));
        }
    }
    acks
}

/// Reopens the log and checks it: gap-free from its first record, every acknowledged record
/// at or above `floor` present with its payload. Returns the last LSN.
fn verify(dir: &Path, acked: &BTreeMap<u64, Vec<u8>>, floor: u64) -> u64 {
    let wal = Wal::open(Arc::new(StdFs::new()), dir, options()).expect("reopen after kill");
    let records: BTreeMap<u64, Vec<u8>> = wal
        .replay(Lsn(1))
        .unwrap()
        .map(|r| r.map(|r| (r.lsn.get(), r.payload)).expect("replay"))
        .collect();
    let first = records.keys().next().copied().unwrap_or(1);
    assert!(first <= floor.max(1), "nothing at or above {floor} was truncated (first {first})");
    for (k, lsn) in records.keys().enumerate() {
        assert_eq!(*lsn, first + k as u64, "gap in the log at {lsn}");
    }
    for (lsn, payload) in acked.range(floor..) {
        let found = records.get(lsn).unwrap_or_else(|| panic!("acknowledged LSN {lsn} lost"));
        assert!(found == payload, "acknowledged LSN {lsn} has other bytes");
    }
    let last = wal.last_lsn().get();
    wal.close().unwrap();
    last
}

#[test]
fn crash_child() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        let seed = std::env::var(SEED_ENV).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
        child_main(Path::new(&dir), seed, Box::new(std::io::stdout()), None);
        return;
    }
    // Not spawned by the parent: run the child's workload in-process and check its report.
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("wal");
    let output = Arc::new(Mutex::new(Vec::new()));
    child_main(&dir, 1, Box::new(SharedBuf(Arc::clone(&output))), Some(30));
    let text = String::from_utf8(output.lock().unwrap().clone()).unwrap();
    assert!(text.starts_with("\nREADY 0\n"), "{text}");
    let acks: BTreeMap<u64, Vec<u8>> = parse_acks(&text).into_iter().collect();
    assert_eq!(acks.keys().copied().collect::<Vec<_>>(), (1..=30).collect::<Vec<_>>());
    assert_eq!(verify(&dir, &acks, 1), 30);
    assert_eq!(parse_acks("ACK 1 s0t0i0 5\nACK 2 s0t0i1 5"), vec![(1, payload("s0t0i0", 5))]);
}

/// A writer into shared memory (the in-process child's stdout).
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn kill_9_at_random_moments_loses_no_acknowledged_record() {
    let cycles = kill9_harness::cycles(50);
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("wal");
    let mut acked: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut rng = Rng::new(0x5eed);
    let mut floor = 1;
    let mut killed_mid_work = 0;
    for cycle in 1..=cycles {
        let seed = cycle.to_string();
        let env = [(CHILD_ENV, dir.as_os_str()), (SEED_ENV, OsStr::new(&seed))];
        let mut child = Child::spawn("crash_child", &env);
        if cycle % 5 == 0 {
            // Early: while the child starts, opens and repairs the log.
            thread::sleep(Duration::from_millis(rng.below(15)));
        } else {
            child.wait_for("ACK", Duration::from_secs(30));
            thread::sleep(Duration::from_millis(rng.below(30)));
        }
        let (lines, status) = child.kill(); // SIGKILL
        assert!(!status.success(), "cycle {cycle}: the child was killed, it did not finish");
        let output: String = lines.iter().map(|line| format!("{line}\n")).collect();
        let acks = parse_acks(&output);
        if !acks.is_empty() {
            killed_mid_work += 1;
        }
        for (lsn, payload) in acks {
            if let Some(before) = acked.insert(lsn, payload.clone()) {
                assert!(before == payload, "cycle {cycle}: LSN {lsn} acknowledged twice");
            }
        }
        let last = verify(&dir, &acked, floor);
        assert!(acked.keys().next_back().is_none_or(|max| *max <= last));
        if cycle % 10 == 0 && last > 200 {
            // Keep the log short for long runs, as a checkpoint would.
            floor = last - 100;
            let wal = Wal::open(Arc::new(StdFs::new()), &dir, options()).unwrap();
            wal.truncate_before(Lsn(floor)).unwrap();
            wal.close().unwrap();
        }
    }
    assert!(
        killed_mid_work * 2 >= cycles,
        "most kills hit a working child ({killed_mid_work}/{cycles})"
    );
    assert!(!acked.is_empty());
}

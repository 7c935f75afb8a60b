//! Test-only: the kill -9 harness the crash suites share (`lightning-wal`'s `wal_kill9`,
//! `lightning-txn`'s `bank_kill9`, the facade's `crash_facade_eventual_kill9`).
//!
//! A suite's test binary runs itself again as the child: [`Child::spawn`] starts
//! `current_exe()` told to run one test exactly (this works the same under `cargo test` and
//! `cargo nextest run`), with an environment variable that tells that test it is the child.
//! The child prints progress lines (`READY …`, `ACK <n>`) on stdout; the parent waits for
//! one ([`Child::wait_for`]), lets it run for a random moment ([`KillClock`]), kills it with
//! SIGKILL ([`Child::kill`]) and checks what survived against what the child acknowledged
//! ([`numbers_after`], or the suite's own parsing of richer lines).
//!
//! It depends on no Lightning crate, so any layer's tests may use it (it sits outside the
//! layer table, as test tooling does: `docs/ARCHITECTURE.md`).

use std::{
    ffi::OsStr,
    io::{BufRead, BufReader},
    process::{Command, ExitStatus, Stdio},
    sync::mpsc,
    thread::{self, JoinHandle},
    time::Duration,
};

/// The environment variable that sets how many kill cycles a suite runs.
pub const CYCLES_ENV: &str = "LIGHTNING_CRASH_CYCLES";

/// How many kill cycles to run: [`CYCLES_ENV`] if set to a number, else `default`.
pub fn cycles(default: u64) -> u64 {
    std::env::var(CYCLES_ENV).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// A child process running one test of the current test binary, its stdout read line by line
/// (complete lines only: a line the kill cut short, with no newline, is dropped).
#[derive(Debug)]
pub struct Child {
    process: std::process::Child,
    lines: mpsc::Receiver<String>,
    /// Lines [`Child::wait_for`] consumed, kept for [`Child::kill`].
    seen: Vec<String>,
    reader: Option<JoinHandle<()>>,
}

impl Child {
    /// Runs the current test binary again, running only the test named `test` (exactly), with
    /// the environment variables `env` set. Its stderr is discarded.
    ///
    /// # Panics
    /// If the binary cannot be started (a broken test setup).
    pub fn spawn(test: &str, env: &[(&str, &OsStr)]) -> Child {
        let exe = std::env::current_exe().expect("the test binary's path");
        let mut command = Command::new(exe);
        command.args(["--exact", test, "--nocapture", "--test-threads=1"]);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut process = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the child test process starts");
        let stdout = process.stdout.take().expect("stdout is piped");
        let (send, lines) = mpsc::channel();
        let reader = thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            // Bounded by the child's output, which ends when it dies.
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if !line.ends_with('\n') {
                    break; // cut short by the kill: nothing in it can be trusted
                }
                if send.send(line.trim_end_matches(['\n', '\r']).to_owned()).is_err() {
                    break;
                }
                line.clear();
            }
        });
        Child { process, lines, seen: Vec::new(), reader: Some(reader) }
    }

    /// Waits for the first line holding `marker` and returns what follows the marker on that
    /// line, trimmed. The test harness prints lines of its own first (and may put
    /// `test <name> ... ` in front of the child's), which are skipped.
    ///
    /// # Panics
    /// If a line says the child panicked, or no line comes for `timeout` (a broken child must
    /// not hang the suite; the timeout is a watchdog, not a measurement).
    pub fn wait_for(&mut self, marker: &str, timeout: Duration) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(timeout)
                .unwrap_or_else(|e| panic!("no {marker:?} line from the child: {e}"));
            assert!(!line.contains("panicked"), "the child failed: {line}");
            let found = line.find(marker).map(|at| line[at + marker.len()..].trim().to_owned());
            self.seen.push(line);
            if let Some(rest) = found {
                return rest;
            }
        }
    }

    /// Kills the child with SIGKILL, waits for it to end, and returns every complete line it
    /// printed (those [`Child::wait_for`] read included) and how it ended.
    pub fn kill(mut self) -> (Vec<String>, ExitStatus) {
        // An error means it has already exited, which `wait` reports below.
        let _ = self.process.kill();
        let status = self.process.wait().expect("waiting for the killed child");
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the child's stdout reader");
        }
        let mut lines = std::mem::take(&mut self.seen);
        lines.extend(self.lines.try_iter());
        (lines, status)
    }
}

impl Drop for Child {
    /// A child left behind by a failing test is killed, never left running.
    fn drop(&mut self) {
        if self.reader.is_some() {
            let _ = self.process.kill();
            let _ = self.process.wait();
        }
    }
}

/// The numbers right after `marker` in `lines` (for `ACK 17`: 17); lines without one are
/// skipped.
pub fn numbers_after<'a>(lines: &'a [String], marker: &'a str) -> impl Iterator<Item = u64> + 'a {
    lines.iter().filter_map(move |line| {
        let at = line.find(marker)?;
        line[at + marker.len()..].split_whitespace().next()?.parse().ok()
    })
}

/// Seeded random kill moments (xorshift64), so a failing run replays.
#[derive(Debug, Clone)]
pub struct KillClock(u64);

impl KillClock {
    /// A clock seeded with `seed` (not zero).
    pub fn new(seed: u64) -> KillClock {
        KillClock(seed.max(1))
    }

    /// How long to let the child run this cycle: `min` plus up to `spread` more.
    pub fn next_delay(&mut self, min: Duration, spread: Duration) -> Duration {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        let spread_ms = spread.as_millis().max(1) as u64;
        min + Duration::from_millis(x % spread_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_after_skips_cut_and_foreign_lines() {
        let lines: Vec<String> = ["test x ... ACK 3", "ACK 4 token 5", "ACK ", "READY 9", "ACK 1x"]
            .map(String::from)
            .into();
        assert_eq!(numbers_after(&lines, "ACK ").collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(numbers_after(&lines, "READY ").collect::<Vec<_>>(), vec![9]);
    }

    #[test]
    fn kill_delays_stay_in_range_and_replay() {
        let (min, spread) = (Duration::from_millis(20), Duration::from_millis(200));
        let mut a = KillClock::new(7);
        let mut b = KillClock::new(7);
        for _ in 0..100 {
            let delay = a.next_delay(min, spread);
            assert!(delay >= min && delay < min + spread, "{delay:?}");
            assert_eq!(delay, b.next_delay(min, spread), "the same seed gives the same moments");
        }
    }
}

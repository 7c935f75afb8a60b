//! The machine line printed above every table, so that numbers from different machines can be
//! read side by side: CPU, cores, memory, kernel, the file system under the benchmark
//! directory, and two probes measured on the spot:
//!
//! - fsync latency: 200 × (append 4 KiB + `fdatasync`) to a file in the benchmark directory
//!   (median and 99th percentile) — the floor under every durable commit — and the same with
//!   4 KiB overwrites of an already-synced file (no file-size change for the journal to log,
//!   the floor of engines that rewrite preallocated space);
//! - memory latency: one pass of pointer chasing through a random single cycle over the cache
//!   lines of a 256 MiB buffer (nanoseconds per dependent load) — the cost of a cache miss.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::workloads::Rng;

/// Appends of the fsync probe.
pub const FSYNC_PROBES: usize = 200;
/// Bytes per append of the fsync probe.
const FSYNC_BLOCK: usize = 4096;
/// Buffer of the memory-latency probe.
pub const CHASE_BYTES: usize = 256 << 20;
/// Bytes per cache line (one link of the chain per line).
const LINE_BYTES: usize = 64;

/// What the machine line says.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub filesystem: String,
    pub fsync_median: Duration,
    pub fsync_p99: Duration,
    pub fsync_overwrite_median: Duration,
    pub memory_latency: Duration,
}

impl Machine {
    /// Probes the machine, with the fsync probe in `dir`.
    pub fn probe(dir: &Path) -> io::Result<Machine> {
        let (fsync_median, fsync_p99) = fsync_latency(dir, false)?;
        let (fsync_overwrite_median, _) = fsync_latency(dir, true)?;
        Ok(Machine {
            cpu: proc_field("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown CPU".into()),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_gib: proc_field("/proc/meminfo", "MemTotal")
                .and_then(|kib| kib.trim_end_matches("kB").trim().parse::<f64>().ok())
                .map_or(0.0, |kib| kib / (1024.0 * 1024.0)),
            kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| "unknown".into(), |text| text.trim().to_owned()),
            filesystem: filesystem_of(dir),
            fsync_median,
            fsync_p99,
            fsync_overwrite_median,
            memory_latency: memory_latency(),
        })
    }

    /// One line of markdown.
    pub fn line(&self) -> String {
        format!(
            "{}, {} cores, {:.0} GiB RAM, Linux {}; benchmark directory on {}; \
             fsync: 4 KiB append + fdatasync median {:.0} µs (p99 {:.0} µs), 4 KiB overwrite + \
             fdatasync median {:.0} µs; \
             memory latency (pointer chase, 256 MiB) {:.0} ns",
            self.cpu,
            self.cores,
            self.memory_gib,
            self.kernel,
            self.filesystem,
            self.fsync_median.as_secs_f64() * 1e6,
            self.fsync_p99.as_secs_f64() * 1e6,
            self.fsync_overwrite_median.as_secs_f64() * 1e6,
            self.memory_latency.as_secs_f64() * 1e9,
        )
    }
}

/// The value of the first `field: value` line of a /proc file.
fn proc_field(path: &str, field: &str) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    text.lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_once(':'))
        .map(|(_, value)| value.trim().to_owned())
}

/// The type and source of the mount holding `dir` (the longest matching mount point).
pub fn filesystem_of(dir: &Path) -> String {
    let dir = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mounts = fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (source, point, kind) = (fields.next()?, fields.next()?, fields.next()?);
            dir.starts_with(point).then(|| (point.len(), format!("{kind} ({source})")))
        })
        .max_by_key(|(length, _)| *length)
        .map_or_else(|| "an unknown file system".into(), |(_, text)| text)
}

/// Median and 99th percentile of [`FSYNC_PROBES`] writes of 4 KiB, each followed by
/// `fdatasync`, to a new file in `dir` (removed afterwards): appends, or with `overwrite`
/// rewrites of blocks already written and synced.
pub fn fsync_latency(dir: &Path, overwrite: bool) -> io::Result<(Duration, Duration)> {
    fs::create_dir_all(dir)?;
    let path = dir.join("fsync-probe");
    let mut file = OpenOptions::new().create(true).truncate(true).write(true).open(&path)?;
    let block = [0xA5u8; FSYNC_BLOCK];
    if overwrite {
        for _ in 0..FSYNC_PROBES {
            file.write_all(&block)?;
        }
        file.sync_all()?;
    }
    let mut samples = Vec::with_capacity(FSYNC_PROBES);
    for index in 0..FSYNC_PROBES {
        let start = Instant::now();
        if overwrite {
            file.write_all_at(&block, (index * FSYNC_BLOCK) as u64)?;
        } else {
            file.write_all(&block)?;
        }
        file.sync_data()?;
        samples.push(start.elapsed());
    }
    drop(file);
    fs::remove_file(&path)?;
    samples.sort();
    Ok((samples[samples.len() / 2], samples[samples.len() * 99 / 100]))
}

/// A random single cycle (Sattolo's algorithm) through `lines` slots: `next[i]` is the slot
/// after `i`, and following it from any slot visits every slot once before returning.
pub fn single_cycle(lines: usize, rng: &mut Rng) -> Vec<u32> {
    let mut order: Vec<u32> = (0..lines as u32).collect();
    for i in (1..lines).rev() {
        let j = rng.below(i as u64) as usize; // j < i: Sattolo, not Fisher–Yates
        order.swap(i, j);
    }
    let mut next = vec![0u32; lines];
    for (i, &slot) in order.iter().enumerate() {
        next[slot as usize] = order[(i + 1) % lines];
    }
    next
}

/// Nanoseconds per dependent load over a [`CHASE_BYTES`] buffer (one pass of the cycle).
pub fn memory_latency() -> Duration {
    let lines = CHASE_BYTES / LINE_BYTES;
    let words_per_line = LINE_BYTES / 8;
    let next = single_cycle(lines, &mut Rng::new(7));
    // One link per cache line, at the line's first word, in a buffer of CHASE_BYTES.
    let mut buffer = vec![0u64; lines * words_per_line];
    for (line, &to) in next.iter().enumerate() {
        buffer[line * words_per_line] = (to as usize * words_per_line) as u64;
    }
    drop(next);
    let start = Instant::now();
    let mut at = 0usize;
    for _ in 0..lines {
        at = buffer[at] as usize;
    }
    let elapsed = start.elapsed();
    std::hint::black_box(at);
    elapsed / lines as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_is_one_cycle_through_every_slot() {
        let lines = 10_000;
        let next = single_cycle(lines, &mut Rng::new(3));
        let mut seen = vec![false; lines];
        let mut at = 0usize;
        for _ in 0..lines {
            assert!(!seen[at], "slot {at} visited twice");
            seen[at] = true;
            at = next[at] as usize;
        }
        assert_eq!(at, 0);
        assert!(seen.iter().all(|&visited| visited));
    }

    #[test]
    fn the_root_file_system_is_found() {
        assert!(!filesystem_of(Path::new("/")).is_empty());
    }
}

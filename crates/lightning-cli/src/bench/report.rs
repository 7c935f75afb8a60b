//! What `lightning bench` prints: a header describing the run, one db_bench-style line per
//! workload as it finishes, and a summary table with throughput and latency percentiles.
//!
//! The per-workload line has the layout of RocksDB's db_bench so the figures can be compared
//! side by side:
//!
//! ```text
//! fillseq      :       2.345 micros/op 426439 ops/sec 0.234 seconds 100000 operations;   47.2 MB/s
//! ```
//!
//! `micros/op` is the summed busy time of the threads divided by the operations (db_bench's
//! per-op latency); `ops/sec` and `MB/s` use the wall-clock time of the workload; 1 MB is
//! 1,048,576 bytes, as in db_bench.

use std::{fmt::Write as _, time::Duration};

use super::{histogram::Histogram, workloads::Workload};
use crate::table::{Align, Table};

/// The measurements of one workload.
#[derive(Debug, Clone)]
pub struct WorkloadResult {
    /// Which workload.
    pub workload: Workload,
    /// Client threads (readwhilewriting's writer not counted).
    pub threads: usize,
    /// Operations measured.
    pub ops: u64,
    /// Key and value bytes written or read by those operations.
    pub bytes: u64,
    /// Wall-clock time from the start of the first thread to the end of the last.
    pub wall: Duration,
    /// Sum over threads of each thread's own elapsed time.
    pub thread_time: Duration,
    /// Latency of every operation.
    pub latencies: Histogram,
    /// For reads: entries found, out of lookups made.
    pub found: Option<(u64, u64)>,
    /// For readwhilewriting: writes done by the background writer meanwhile.
    pub background_writes: Option<u64>,
}

const MIB: f64 = 1_048_576.0;

impl WorkloadResult {
    /// Operations per second of wall-clock time.
    pub fn ops_per_sec(&self) -> f64 {
        per_second(self.ops as f64, self.wall)
    }

    /// Megabytes (MiB) per second of wall-clock time.
    pub fn mb_per_sec(&self) -> f64 {
        per_second(self.bytes as f64 / MIB, self.wall)
    }

    /// Microseconds per operation, db_bench style (thread busy time / operations).
    pub fn micros_per_op(&self) -> f64 {
        if self.ops == 0 { 0.0 } else { self.thread_time.as_secs_f64() * 1e6 / self.ops as f64 }
    }

    /// The db_bench-style line for this workload.
    pub fn db_bench_line(&self) -> String {
        let mut line = format!(
            "{:<12} : {:>11.3} micros/op {:.0} ops/sec {:.3} seconds {} operations;",
            self.workload.name(),
            self.micros_per_op(),
            self.ops_per_sec(),
            self.wall.as_secs_f64(),
            self.ops,
        );
        if self.bytes > 0 {
            let _ = write!(line, " {:>6.1} MB/s", self.mb_per_sec());
        }
        if let Some((found, of)) = self.found {
            let _ = write!(line, " ({found} of {of} found)");
        }
        if let Some(writes) = self.background_writes {
            let _ = write!(line, " ({writes} background writes)");
        }
        line
    }
}

fn per_second(amount: f64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 { amount / seconds } else { 0.0 }
}

fn micros(nanos: u64) -> String {
    format!("{:.2}", nanos as f64 / 1000.0)
}

/// The percentiles in the summary table, with their column names.
pub const PERCENTILES: [(f64, &str); 4] =
    [(50.0, "p50"), (95.0, "p95"), (99.0, "p99"), (99.9, "p99.9")];

/// The summary table of every workload run.
pub fn summary_table(results: &[WorkloadResult]) -> String {
    let mut columns = vec![
        ("workload", Align::Left),
        ("threads", Align::Right),
        ("ops", Align::Right),
        ("seconds", Align::Right),
        ("ops/s", Align::Right),
        ("MB/s", Align::Right),
    ];
    columns.extend(PERCENTILES.iter().map(|(_, name)| (*name, Align::Right)));
    columns.push(("max", Align::Right));
    let mut table = Table::new(&columns);
    for r in results {
        let mut row = vec![
            r.workload.name().to_owned(),
            r.threads.to_string(),
            r.ops.to_string(),
            format!("{:.3}", r.wall.as_secs_f64()),
            format!("{:.0}", r.ops_per_sec()),
            format!("{:.1}", r.mb_per_sec()),
        ];
        row.extend(PERCENTILES.iter().map(|(p, _)| micros(r.latencies.percentile_nanos(*p))));
        row.push(micros(r.latencies.max_nanos()));
        table.push(row);
    }
    format!("Latency (microseconds per operation):\n{}", table.render())
}

/// What a run is about, for the header.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// Where the database is, as shown.
    pub database: String,
    /// True if it is a temporary directory removed at the end.
    pub temporary: bool,
    /// Engine name.
    pub engine: &'static str,
    /// Durability name.
    pub durability: &'static str,
    /// Operations per workload (and distinct keys).
    pub num: u64,
    /// Bytes per key.
    pub key_size: usize,
    /// Bytes per value.
    pub value_size: usize,
    /// Client threads.
    pub threads: usize,
}

/// The header printed before the first workload, like db_bench's.
pub fn header(info: &RunInfo) -> String {
    let raw_mib = info.num as f64 * (info.key_size + info.value_size) as f64 / MIB;
    let place = if info.temporary { " (temporary, removed at exit)" } else { "" };
    format!(
        "Lightning DB bench\n\
         Database:   {}{place}\n\
         Engine:     {}\n\
         Durability: {}\n\
         Keys:       {} bytes each\n\
         Values:     {} bytes each\n\
         Entries:    {}\n\
         RawSize:    {raw_mib:.1} MB (estimated)\n\
         Threads:    {}\n\
         ------------------------------------------------",
        info.database,
        info.engine,
        info.durability,
        info.key_size,
        info.value_size,
        info.num,
        info.threads,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> WorkloadResult {
        let mut latencies = Histogram::default();
        (0..1000).for_each(|i| latencies.record_nanos(1000 + i));
        WorkloadResult {
            workload: Workload::ReadRandom,
            threads: 1,
            ops: 1000,
            bytes: 1000 * 116,
            wall: Duration::from_millis(2),
            thread_time: Duration::from_millis(2),
            latencies,
            found: Some((999, 1000)),
            background_writes: None,
        }
    }

    #[test]
    fn db_bench_line_has_db_bench_layout() {
        assert_eq!(
            result().db_bench_line(),
            "readrandom   :       2.000 micros/op 500000 ops/sec 0.002 seconds 1000 operations;   \
             55.3 MB/s (999 of 1000 found)"
        );
    }

    #[test]
    fn summary_table_has_a_row_per_workload_and_aligned_columns() {
        let mut second = result();
        second.workload = Workload::FillSeq;
        second.found = None;
        let table = summary_table(&[result(), second]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "Latency (microseconds per operation):");
        assert!(
            lines[1].starts_with("workload    threads   ops  seconds   ops/s  MB/s"),
            "{table}"
        );
        assert!(lines[1].ends_with("p50   p95   p99  p99.9   max"), "{table}");
        assert!(
            lines[2].starts_with("readrandom        1  1000    0.002  500000  55.3"),
            "{table}"
        );
        assert!(lines[3].starts_with("fillseq"));
        assert!(lines[2].ends_with("2.00"), "max is 1.999 us: {table}");
        assert_eq!(lines[2].len(), lines[1].len());
    }

    #[test]
    fn zero_time_and_zero_ops_do_not_divide_by_zero() {
        let mut r = result();
        r.ops = 0;
        r.wall = Duration::ZERO;
        assert_eq!(r.ops_per_sec(), 0.0);
        assert_eq!(r.micros_per_op(), 0.0);
        assert_eq!(r.mb_per_sec(), 0.0);
    }

    #[test]
    fn header_names_the_database_and_sizes() {
        let info = RunInfo {
            database: "/tmp/x".into(),
            temporary: true,
            engine: "btree",
            durability: "eventual",
            num: 1000,
            key_size: 16,
            value_size: 100,
            threads: 2,
        };
        let text = header(&info);
        assert!(text.contains("Database:   /tmp/x (temporary, removed at exit)"));
        assert!(text.contains("RawSize:    0.1 MB (estimated)"));
        assert!(text.contains("Threads:    2"));
    }
}

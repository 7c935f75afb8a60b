//! The table's rows: one per measured workload, in report order, with its label (sizes
//! filled in), the durability it runs at and what its number means.

use crate::workloads::{BATCH_SIZE, RANGE_LEN, Sizes};

/// What a row's number means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Wall time in seconds: lower is better.
    Time,
    /// Operations per second: higher is better.
    Throughput,
    /// Bytes on disk: lower is better.
    Bytes,
    /// A ratio such as write amplification: lower is better.
    Factor,
}

/// The durability a row runs at, stated in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowDurability {
    /// Every commit fsynced before it is acknowledged.
    Durable,
    /// No sync on commit.
    NoSync,
    /// Not about commits (reads, sizes).
    None,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: &'static str,
    pub label: String,
    pub durability: RowDurability,
    pub metric: Metric,
}

/// Every row id, in report order (the values `--workloads` accepts).
pub const ROW_IDS: &[&str] = &[
    "bulk",
    "sorted",
    "individual",
    "commits4",
    "commits16",
    "batch",
    "nosync",
    "reads1",
    "reads2",
    "missing",
    "range",
    "range-iter",
    "ycsb-a",
    "ycsb-b",
    "ycsb-c",
    "ycsb-e",
    "ycsb-f",
    "remove",
    "size-load",
    "size-remove",
    "size-compact",
    "wamp",
];

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The rows for `sizes`, in [`ROW_IDS`] order.
pub fn rows(s: &Sizes) -> Vec<Row> {
    use Metric::{Bytes, Factor, Throughput, Time};
    use RowDurability::{Durable, NoSync};
    let n = thousands;
    let ycsb = |mix: &str| {
        format!(
            "YCSB {mix}, zipfian 0.99, {} × 1 KB records, 2 threads, {} s (ops/s)",
            n(s.ycsb_records),
            s.ycsb_duration.as_secs_f64()
        )
    };
    let row = |id, label: String, durability, metric| Row { id, label, durability, metric };
    vec![
        row(
            "bulk",
            format!("bulk load: {} random keys, one transaction", n(s.load_keys)),
            Durable,
            Time,
        ),
        row(
            "sorted",
            format!("sorted load: {} ascending keys, one transaction", n(s.load_keys)),
            Durable,
            Time,
        ),
        row(
            "individual",
            format!("individual writes: {} transactions", n(s.individual_writes)),
            Durable,
            Time,
        ),
        row(
            "commits4",
            format!("commits from 4 threads: {} transactions", n(s.thread_commits)),
            Durable,
            Time,
        ),
        row(
            "commits16",
            format!("commits from 16 threads: {} transactions", n(s.thread_commits)),
            Durable,
            Time,
        ),
        row(
            "batch",
            format!("batch writes: {} × {} keys", n(s.batches), n(BATCH_SIZE)),
            Durable,
            Time,
        ),
        row(
            "nosync",
            format!("individual writes: {} transactions", n(s.nosync_writes)),
            NoSync,
            Time,
        ),
        row(
            "reads1",
            format!("random reads: {} gets, 1 thread", n(s.reads)),
            RowDurability::None,
            Time,
        ),
        row(
            "reads2",
            format!("random reads: {} gets, 2 threads", n(s.reads)),
            RowDurability::None,
            Time,
        ),
        row(
            "missing",
            format!("missing-key reads: {} gets", n(s.reads)),
            RowDurability::None,
            Time,
        ),
        row(
            "range",
            format!("range reads: {} × (seek + {RANGE_LEN} next)", n(s.range_reads)),
            RowDurability::None,
            Time,
        ),
        row(
            "range-iter",
            format!(
                "range reads through the owning iterator: {} × (seek + {RANGE_LEN} next)",
                n(s.range_reads)
            ),
            RowDurability::None,
            Time,
        ),
        row("ycsb-a", ycsb("A (50% read, 50% update)"), NoSync, Throughput),
        row("ycsb-b", ycsb("B (95% read, 5% update)"), NoSync, Throughput),
        row("ycsb-c", ycsb("C (100% read)"), NoSync, Throughput),
        row("ycsb-e", ycsb("E (95% scan ≤ 100, 5% insert)"), NoSync, Throughput),
        row("ycsb-f", ycsb("F (50% read, 50% read-modify-write)"), NoSync, Throughput),
        row(
            "remove",
            format!("removal of half the keys: {} deletes, one transaction", n(s.removals())),
            Durable,
            Time,
        ),
        row("size-load", "file size after bulk load".to_owned(), RowDurability::None, Bytes),
        row("size-remove", "file size after removal".to_owned(), RowDurability::None, Bytes),
        row(
            "size-compact",
            "file size after compaction († close + reopen)".to_owned(),
            RowDurability::None,
            Bytes,
        ),
        row(
            "wamp",
            "write amplification: bytes written ÷ logical bytes (load → batch writes, close)"
                .to_owned(),
            Durable,
            Factor,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_scale_with_floors_and_rows_cover_every_id_in_order() {
        let full = Sizes::new(1.0, 2.0);
        assert_eq!((full.load_keys, full.reads, full.range_reads), (1_000_000, 1_000_000, 500_000));
        assert_eq!(
            (full.individual_writes, full.batches, full.ycsb_records),
            (1_000, 100, 100_000)
        );
        let tiny = Sizes::new(0.000_001, 0.1);
        assert_eq!((tiny.load_keys, tiny.batches), (1_000, 2));
        let ids: Vec<_> = rows(&full).iter().map(|row| row.id).collect();
        assert_eq!(ids, ROW_IDS);
        assert!(rows(&full)[0].label.contains("1,000,000"));
    }

    #[test]
    fn thousands_separates_groups() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}

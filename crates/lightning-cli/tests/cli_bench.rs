//! `bench` through the built binary: every workload runs and is reported in both the
//! db_bench-style lines and the summary table; the temporary database is named and removed;
//! bad options are usage errors.

mod common;

use common::{fails, lightning, ok_text};

const WORKLOADS: [&str; 7] = [
    "fillseq",
    "fillrandom",
    "overwrite",
    "readrandom",
    "readseq",
    "seekrandom",
    "readwhilewriting",
];

/// The summary table's rows, by workload name: the cells after the name.
fn table_rows(output: &str) -> Vec<(String, Vec<String>)> {
    let table =
        output.split("Latency (microseconds per operation):\n").nth(1).expect("a summary table");
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "workload", "threads", "ops", "seconds", "ops/s", "MB/s", "p50", "p95", "p99", "p99.9",
            "max"
        ]
    );
    lines
        .map(|line| {
            let mut cells = line.split_whitespace().map(str::to_owned);
            (cells.next().unwrap(), cells.collect())
        })
        .collect()
}

/// The db_bench-style line of `workload`.
fn db_bench_line<'a>(output: &'a str, workload: &str) -> &'a str {
    output
        .lines()
        .find(|line| line.split(" : ").next().map(str::trim_end) == Some(workload))
        .unwrap_or_else(|| panic!("no db_bench line for {workload} in:\n{output}"))
}

#[test]
fn every_workload_is_reported_in_both_formats() {
    let output = lightning()
        .args(["bench", "--num", "300", "--workloads", &WORKLOADS.join(",")])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.stderr.is_empty(), "no progress bar when stderr is not a terminal");

    let database = stdout.lines().find_map(|l| l.strip_prefix("Database:   ")).unwrap();
    let path = database.strip_suffix(" (temporary, removed at exit)").expect("a temporary db");
    assert!(!std::path::Path::new(path).exists(), "the temporary database is removed");
    assert!(stdout.contains("Durability: eventual\n"), "{stdout}");

    for workload in WORKLOADS {
        let line = db_bench_line(&stdout, workload);
        assert!(line.contains(" micros/op ") && line.contains(" ops/sec "), "{line}");
        assert!(line.contains(" MB/s"), "{line}");
    }
    assert!(db_bench_line(&stdout, "readrandom").ends_with(" of 300 found)"), "{stdout}");
    let rows = table_rows(&stdout);
    let names: Vec<&str> = rows.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, WORKLOADS);
    for (name, cells) in &rows {
        assert_eq!(cells.len(), 10, "{name}: {cells:?}");
        let ops: u64 = cells[1].parse().unwrap();
        assert!(ops > 0 && ops <= 300, "{name}: {ops} ops");
        let numbers: Vec<f64> = cells[5..].iter().map(|c| c.parse().unwrap()).collect();
        assert!(numbers.windows(2).all(|w| w[0] <= w[1]), "{name}: percentiles ascend: {cells:?}");
        assert!(numbers[4] > 0.0, "{name}: a real maximum latency");
    }
}

#[test]
fn each_workload_runs_alone_with_threads() {
    let parent = tempfile::tempdir().unwrap();
    for (i, workload) in WORKLOADS.iter().enumerate() {
        let dir = parent.path().join(format!("db{i}"));
        let output = ok_text(
            &dir,
            &["bench", "--num", "64", "--threads", "2", "--key-size", "8", "--workloads", workload],
        );
        let rows = table_rows(&output);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, *workload);
        assert_eq!(rows[0].1[0], "2", "threads column");
        assert!(output.contains(&format!("Database:   {}\n", dir.display())), "{output}");
        assert!(dir.join("FORMAT").exists(), "the --db database is kept");
    }
}

#[test]
fn bad_bench_options_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh");
    let stderr = fails(&fresh, &["bench", "--num", "1000", "--key-size", "2"], 2);
    assert_eq!(
        stderr,
        "lightning: error: --key-size 2 cannot hold 1000 distinct keys; use at least 3\n"
    );
    assert!(fails(&fresh, &["bench", "--threads", "0"], 2).contains("--threads"));
    assert!(fails(&fresh, &["bench", "--workloads", "fillbatch"], 2).contains("unknown workload"));
    std::fs::write(dir.path().join("precious"), b"data").unwrap();
    let stderr = fails(dir.path(), &["bench", "--num", "10"], 2);
    assert!(stderr.contains("--db must name a new or empty directory"), "{stderr}");
    assert_eq!(std::fs::read(dir.path().join("precious")).unwrap(), b"data");
}

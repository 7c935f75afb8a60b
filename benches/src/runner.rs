//! The parent process: runs every engine `runs` times, each run in a child process of its own
//! (a clean allocator, its own `/proc/self/io` counters, its own threads) and a fresh
//! directory, rotating the engine order from run to run, then takes each cell's median.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::engines::EngineSpec;
use crate::rows::{Row, RowDurability};
use crate::suite::RESULT_TAG;
use crate::table::{Cell, Column, Table};

/// First word of the line a child prints when its engine is not in this build.
pub const UNSUPPORTED_TAG: &str = "unsupported";

/// What the parent asks each child to do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub engines: Vec<EngineSpec>,
    pub rows: Vec<Row>,
    pub runs: usize,
    /// Where each engine-run gets its fresh directory.
    pub dir: PathBuf,
    /// Passed through to every child: scale and YCSB time (the workloads are added per engine).
    pub child_args: Vec<String>,
}

/// Everything the children reported.
#[derive(Debug, Default)]
pub struct Outcome {
    /// (engine id, row id) → one (value, marker) per successful run.
    pub values: HashMap<(&'static str, &'static str), Vec<(f64, String)>>,
    /// Engines that are not available, with the reason.
    pub unsupported: HashMap<&'static str, String>,
    /// One line per failed engine-run.
    pub failures: Vec<String>,
}

/// The engines of run `run` (0-based), rotated so each engine takes each position in turn.
pub fn rotated<T: Clone>(engines: &[T], run: usize) -> Vec<T> {
    let mut order = engines.to_vec();
    if !order.is_empty() {
        let shift = run % order.len();
        order.rotate_left(shift);
    }
    order
}

/// Runs every engine-run of `plan`.
pub fn run(plan: &Plan) -> std::io::Result<Outcome> {
    let exe = std::env::current_exe()?;
    let mut outcome = Outcome::default();
    for run in 0..plan.runs {
        for engine in rotated(&plan.engines, run) {
            if outcome.unsupported.contains_key(engine.id) {
                continue;
            }
            eprintln!("  run {}/{}: {}", run + 1, plan.runs, engine.id);
            let dir = plan.dir.join(format!("{}-run{}", engine.id, run + 1));
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
            std::fs::create_dir_all(&dir)?;
            if let Err(failure) = run_child(&exe, plan, &engine, &dir, &mut outcome) {
                eprintln!("  {failure}");
                outcome.failures.push(format!("{} run {}: {failure}", engine.id, run + 1));
            }
            std::fs::remove_dir_all(&dir)?;
        }
    }
    Ok(outcome)
}

fn run_child(
    exe: &Path,
    plan: &Plan,
    engine: &EngineSpec,
    dir: &Path,
    outcome: &mut Outcome,
) -> Result<(), String> {
    let mut child = Command::new(exe)
        .args(["--child", engine.id, "--dir"])
        .arg(dir)
        .args(&plan.child_args)
        .args(["--workloads", &child_workloads(plan, engine).join(",")])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| format!("cannot start the child process: {error}"))?;
    let stdout = child.stdout.take().ok_or("the child has no stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|error| format!("reading the child's output: {error}"))?;
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            [tag, id, value, marker] if *tag == RESULT_TAG => {
                let row = plan
                    .rows
                    .iter()
                    .find(|row| row.id == *id)
                    .ok_or(format!("unknown row {id}"))?;
                let value: f64 = value.parse().map_err(|_| format!("bad value in {line:?}"))?;
                outcome
                    .values
                    .entry((engine.id, row.id))
                    .or_default()
                    .push((value, (*marker).to_owned()));
            }
            [tag, reason] if *tag == UNSUPPORTED_TAG => {
                outcome.unsupported.insert(engine.id, (*reason).to_owned());
            }
            _ => return Err(format!("unexpected line from the child: {line:?}")),
        }
    }
    let status = child.wait().map_err(|error| format!("waiting for the child: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("the child failed ({status})")) }
}

/// The rows a child measures: all of them, except that an engine which does not fsync skips
/// the durable rows (they would print n/a; the setup they depend on runs regardless).
pub fn child_workloads(plan: &Plan, engine: &EngineSpec) -> Vec<&'static str> {
    plan.rows
        .iter()
        .filter(|row| engine.syncs || row.durability != RowDurability::Durable)
        .map(|row| row.id)
        .collect()
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The table of medians.
pub fn table(plan: &Plan, outcome: &Outcome) -> Table {
    let columns = plan
        .engines
        .iter()
        .map(|engine| Column { name: engine.column.to_owned(), lightning: engine.lightning })
        .collect();
    let rows = plan
        .rows
        .iter()
        .map(|row| {
            let cells = plan.engines.iter().map(|engine| cell(engine, row, outcome)).collect();
            (row.clone(), cells)
        })
        .collect();
    Table { columns, rows }
}

fn cell(engine: &EngineSpec, row: &Row, outcome: &Outcome) -> Cell {
    if outcome.unsupported.contains_key(engine.id)
        || (!engine.syncs && row.durability == RowDurability::Durable)
    {
        return Cell::NotApplicable;
    }
    let Some(runs) = outcome.values.get(&(engine.id, row.id)) else { return Cell::Failed };
    let values: Vec<f64> = runs.iter().map(|(value, _)| *value).collect();
    let marker = runs
        .iter()
        .map(|(_, marker)| marker.clone())
        .find(|marker| !marker.is_empty())
        .unwrap_or_default();
    median(&values).map_or(Cell::Failed, |value| Cell::Value { value, marker })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_takes_every_position() {
        let engines = ["a", "b", "c"];
        assert_eq!(rotated(&engines, 0), ["a", "b", "c"]);
        assert_eq!(rotated(&engines, 1), ["b", "c", "a"]);
        assert_eq!(rotated(&engines, 2), ["c", "a", "b"]);
        assert_eq!(rotated(&engines, 3), ["a", "b", "c"]);
        assert!(rotated::<&str>(&[], 5).is_empty());
    }

    #[test]
    fn engines_that_do_not_fsync_skip_the_durable_rows() {
        let rows = crate::rows::rows(&crate::workloads::Sizes::new(1.0, 1.0));
        let engines = ["redb", "sled"].map(|id| crate::engines::find(id).expect("engine"));
        let plan = Plan {
            engines: engines.to_vec(),
            rows,
            runs: 1,
            dir: PathBuf::new(),
            child_args: vec![],
        };
        assert_eq!(child_workloads(&plan, &engines[0]).len(), crate::rows::ROW_IDS.len());
        let sled = child_workloads(&plan, &engines[1]);
        assert!(
            sled.contains(&"reads1") && sled.contains(&"nosync") && sled.contains(&"size-compact")
        );
        assert!(
            !sled.contains(&"bulk") && !sled.contains(&"sorted") && !sled.contains(&"individual")
        );
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[9.0, 1.0, 5.0]), Some(5.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}

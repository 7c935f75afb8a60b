//! `bench`: checks the options, owns the benchmark database directory (a fresh temporary one
//! unless `--db` names a new or empty directory), runs the workloads in order and prints the
//! db_bench-style lines and the summary table (format in the crate README).
//!
//! As in db_bench, `fillseq` and `fillrandom` start from an empty database: the directory is
//! deleted and recreated before them (only ever a directory this command created or found
//! empty).

use std::{
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lightning_db::{Database, Durability, MAX_KEY_LEN, MAX_VALUE_LEN};

use super::{Context, close, finish_output, open_with, stdout};
use crate::{
    bench::{
        report::{RunInfo, WorkloadResult, header, summary_table},
        run::{Plan, run_workload},
        workloads::{KeyFormat, Rng, ValueSource},
    },
    cli::BenchArgs,
    error::{CliError, CliResult},
};

/// Most client threads accepted.
const MAX_THREADS: usize = 1024;

/// Where the benchmark database lives, and who cleans it up.
struct BenchDir {
    /// The database directory.
    path: PathBuf,
    /// The temporary parent, removed when dropped (`None` for `--db`).
    temp: Option<tempfile::TempDir>,
}

fn bench_dir(context: &Context) -> CliResult<BenchDir> {
    match &context.db {
        Some(path) => {
            let empty = match std::fs::read_dir(path) {
                Ok(mut entries) => entries.next().is_none(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
                Err(e) => return Err(CliError::io(format!("reading {}", path.display()), e)),
            };
            if !empty {
                return Err(CliError::Usage(format!(
                    "bench writes and deletes its own data: --db must name a new or empty \
                     directory, and {} is not empty",
                    path.display()
                )));
            }
            Ok(BenchDir { path: path.clone(), temp: None })
        }
        None => {
            let temp = tempfile::Builder::new()
                .prefix("lightning-bench-")
                .tempdir()
                .map_err(|e| CliError::io("creating a temporary directory", e))?;
            Ok(BenchDir { path: temp.path().join("db"), temp: Some(temp) })
        }
    }
}

fn check_args(args: &BenchArgs) -> CliResult<KeyFormat> {
    let usage = |what: String| Err(CliError::Usage(what));
    if args.num == 0 {
        return usage("--num must be at least 1".into());
    }
    if args.threads == 0 || args.threads > MAX_THREADS {
        return usage(format!("--threads must be between 1 and {MAX_THREADS}"));
    }
    if args.key_size == 0 || args.key_size > MAX_KEY_LEN {
        return usage(format!("--key-size must be between 1 and {MAX_KEY_LEN}"));
    }
    if args.value_size > MAX_VALUE_LEN {
        return usage(format!("--value-size must be at most {MAX_VALUE_LEN}"));
    }
    KeyFormat::new(args.key_size, args.num).map_err(CliError::Usage)
}

fn progress_bar(name: &str, total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{prefix:>16} [{bar:40}] {human_pos}/{human_len} ({eta} left)")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(name.to_owned());
    bar
}

fn durability_name(durability: Durability) -> &'static str {
    match durability {
        Durability::Immediate => "immediate",
        Durability::Eventual => "eventual",
        _ => "none",
    }
}

/// Deletes the database directory `path` (one this command owns) so the next open starts empty.
fn remove_database(path: &Path) -> CliResult {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(CliError::io(format!("removing {}", path.display()), e))
        }
        _ => Ok(()),
    }
}

/// `bench`.
pub fn run(context: &Context, args: &BenchArgs) -> CliResult {
    let keys = check_args(args)?;
    let dir = bench_dir(context)?;
    // db_bench's default is sync=false: writes reach the OS but are not fsynced, which is
    // `Eventual` here.
    let config = context.config(Durability::Eventual);
    let durability = context.durability.unwrap_or(Durability::Eventual);
    let info = RunInfo {
        database: dir.path.display().to_string(),
        temporary: dir.temp.is_some(),
        engine: context.engine.name(),
        durability: durability_name(durability),
        num: args.num,
        key_size: args.key_size,
        value_size: args.value_size,
        threads: args.threads,
    };
    let values = ValueSource::new(args.value_size, &mut Rng::new(0));
    let plan = Plan { num: args.num, threads: args.threads, keys, values };
    let mut out = stdout();
    writeln!(out, "{}", header(&info))?;
    out.flush()?;

    let mut db: Option<Database> = None;
    let mut fresh = true;
    let mut results: Vec<WorkloadResult> = Vec::new();
    for (index, &workload) in args.workloads.iter().enumerate() {
        if workload.wants_fresh_database() && !fresh {
            if let Some(open) = db.take() {
                close(open)?;
            }
            remove_database(&dir.path)?;
        }
        let handle = match db.take() {
            Some(open) => open,
            None => open_with(&dir.path, config.clone())?,
        };
        let progress = progress_bar(workload.name(), args.num);
        let result = run_workload(&handle, &plan, workload, index, &progress)
            .map_err(|e| CliError::Runtime(format!("{workload}: {e}")));
        progress.finish_and_clear();
        db = Some(handle);
        let result = result?;
        fresh = false;
        writeln!(out, "{}", result.db_bench_line())?;
        out.flush()?;
        results.push(result);
    }
    if let Some(open) = db.take() {
        close(open)?;
    }
    writeln!(out)?;
    write!(out, "{}", summary_table(&results))?;
    finish_output(out)
}

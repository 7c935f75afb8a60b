//! `lightning-benches`: Lightning DB side by side with redb, LMDB (heed), fjall, sled and (with
//! the `rocksdb` feature) RocksDB — same machine, same data, same durability, one run.
//!
//! The parent probes the machine (fsync and memory latency), then runs each engine `--runs`
//! times, each run in a child process (`--child`) and a fresh directory, engine order rotated
//! between runs, and prints the table of medians as markdown on stdout (progress goes to
//! stderr). `cargo xtask bench` builds this in release, runs it and puts the table into
//! `docs/BENCHMARKS.md`.
//!
//! Walls: Lightning DB is used through its public facade only. `unsafe` is denied everywhere
//! except the LMDB adapter, where heed requires it to open an environment (see its `SAFETY`
//! comments); it cannot be `forbid` because that module must opt back in.

#![deny(unsafe_code)]

mod driver;
mod engines;
mod probes;
mod rows;
mod runner;
mod suite;
mod table;
mod workloads;
mod ycsb;
mod zipf;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::driver::BenchError;
use crate::rows::{ROW_IDS, thousands};
use crate::workloads::Sizes;

const USAGE: &str = "\
usage: lightning-benches [--quick] [--scale F] [--runs N] [--engines a,b] [--workloads x,y]
                         [--ycsb-secs S] [--dir PATH]

  --quick        small sizes (scale 0.02, YCSB 0.25 s per mix): a smoke test, < 2 minutes
  --scale F      multiply every size by F (default 1: 1,000,000 keys)
  --runs N       runs per engine; the table shows the median (default 3)
  --engines      comma-separated, default all in this build
  --workloads    comma-separated row ids (or `ycsb` for all five mixes), default all
  --ycsb-secs S  seconds per YCSB mix (default 1)
  --dir PATH     where engines get their fresh directories (default target/bench-data,
                 next to the binary's target directory; must be a real disk, not tmpfs)
";

/// The command line, resolved.
#[derive(Debug)]
struct Options {
    scale: f64,
    ycsb_secs: f64,
    runs: usize,
    engines: Vec<engines::EngineSpec>,
    rows: Vec<&'static str>,
    dir: PathBuf,
    /// Set in a child process: the engine it runs.
    child: Option<engines::EngineSpec>,
}

fn number<T: std::str::FromStr>(flag: &str, value: Option<&String>) -> Result<T, String> {
    value.and_then(|v| v.parse().ok()).ok_or_else(|| format!("{flag} needs a number"))
}

fn parse(args: &[String]) -> Result<Options, String> {
    let (mut quick, mut scale, mut ycsb_secs, mut runs) = (false, None, None, 3);
    let (mut engine_ids, mut row_ids, mut dir, mut child) = (None, None, None, None);
    let mut words = args.iter();
    while let Some(flag) = words.next() {
        match flag.as_str() {
            "--quick" => quick = true,
            "--scale" => scale = Some(number::<f64>(flag, words.next())?),
            "--ycsb-secs" => ycsb_secs = Some(number::<f64>(flag, words.next())?),
            "--runs" => runs = number(flag, words.next())?,
            "--engines" => engine_ids = words.next().cloned(),
            "--workloads" => row_ids = words.next().cloned(),
            "--dir" => dir = words.next().map(PathBuf::from),
            "--child" => child = words.next().cloned(),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    let scale = scale.unwrap_or(if quick { 0.02 } else { 1.0 });
    let ycsb_secs = ycsb_secs.unwrap_or(if quick { 0.25 } else { 1.0 });
    if !(scale > 0.0 && ycsb_secs > 0.0 && runs > 0) {
        return Err("--scale, --ycsb-secs and --runs must be positive".into());
    }
    let engines = match engine_ids {
        None => engines::all(),
        Some(list) => list
            .split(',')
            .map(|id| engines::find(id.trim()).ok_or_else(|| format!("unknown engine {id:?}")))
            .collect::<Result<_, _>>()?,
    };
    let rows = match row_ids {
        None => ROW_IDS.to_vec(),
        Some(list) => {
            let wanted: Vec<&str> = list.split(',').map(str::trim).collect();
            if let Some(bad) = wanted.iter().find(|id| **id != "ycsb" && !ROW_IDS.contains(id)) {
                return Err(format!(
                    "unknown workload {bad:?}; known: ycsb, {}",
                    ROW_IDS.join(", ")
                ));
            }
            let picked = |id: &&str| {
                wanted.contains(id) || (id.starts_with("ycsb-") && wanted.contains(&"ycsb"))
            };
            ROW_IDS.iter().copied().filter(picked).collect()
        }
    };
    let child =
        child.map(|id| engines::find(&id).ok_or(format!("unknown engine {id:?}"))).transpose()?;
    let dir = match dir {
        Some(dir) => dir,
        None => default_dir().ok_or("cannot find the target directory; pass --dir")?,
    };
    Ok(Options { scale, ycsb_secs, runs, engines, rows, dir, child })
}

/// `target/bench-data`: the binary lives in `target/release/`.
fn default_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.join("bench-data"))
}

/// Child mode: one engine, every selected row, results on stdout.
fn child(options: &Options, engine: &engines::EngineSpec) -> ExitCode {
    let sizes = Sizes::new(options.scale, options.ycsb_secs);
    match suite::run(engine, &options.dir, &sizes, &suite::Selection(options.rows.clone())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(BenchError::Unsupported(reason)) => {
            println!("{}\t{}", runner::UNSUPPORTED_TAG, reason.replace(['\t', '\n'], " "));
            eprintln!("    {:<14} n/a: {reason}", engine.id);
            ExitCode::SUCCESS
        }
        Err(BenchError::Failed(reason)) => {
            eprintln!("    {:<14} FAILED: {reason}", engine.id);
            ExitCode::FAILURE
        }
    }
}

/// Parent mode: probe, run everything, print the markdown.
fn parent(options: &Options) -> Result<(), String> {
    let started = Instant::now();
    std::fs::create_dir_all(&options.dir).map_err(|e| format!("{}: {e}", options.dir.display()))?;
    eprintln!("lightning-benches: probing the machine ...");
    let machine =
        probes::Machine::probe(&options.dir).map_err(|e| format!("machine probe: {e}"))?;
    eprintln!("  {}", machine.line());
    if machine.filesystem.starts_with("tmpfs") {
        eprintln!(
            "  warning: {} is on tmpfs: fsync is free there; pass --dir on a disk",
            options.dir.display()
        );
    }
    let sizes = Sizes::new(options.scale, options.ycsb_secs);
    let rows: Vec<_> =
        rows::rows(&sizes).into_iter().filter(|row| options.rows.contains(&row.id)).collect();
    let child_args = vec![
        "--scale".to_owned(),
        options.scale.to_string(),
        "--ycsb-secs".to_owned(),
        options.ycsb_secs.to_string(),
    ];
    let plan = runner::Plan {
        engines: options.engines.clone(),
        rows,
        runs: options.runs,
        dir: options.dir.clone(),
        child_args,
    };
    let outcome = runner::run(&plan).map_err(|e| format!("running the engines: {e}"))?;
    let _ = std::fs::remove_dir(&options.dir); // only if empty: never someone else's files
    let elapsed = started.elapsed().as_secs();
    println!("**Machine:** {}.\n", machine.line());
    println!(
        "**Run:** scale {} ({} keys of 24 B + 150 B values), {} run(s) per engine, median shown, \
         engine order rotated between runs, each engine-run in a child process and a fresh \
         directory; wall time {} min {} s.\n",
        options.scale,
        thousands(sizes.load_keys),
        options.runs,
        elapsed / 60,
        elapsed % 60
    );
    print!("{}", table::render(&runner::table(&plan, &outcome)));
    for (engine, reason) in &outcome.unsupported {
        println!("\n- `{engine}` n/a: {reason}");
    }
    for failure in &outcome.failures {
        println!("\n- failed: {failure}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprint!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Some(engine) = &options.child {
        return child(&options, engine);
    }
    match parent(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &str) -> Vec<String> {
        words.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn quick_sets_small_defaults_that_flags_override() {
        let quick = parse(&args("--quick --dir d")).unwrap();
        assert_eq!((quick.scale, quick.ycsb_secs, quick.runs), (0.02, 0.25, 3));
        let both = parse(&args("--scale 0.5 --quick --runs 1 --dir d")).unwrap();
        assert_eq!((both.scale, both.runs), (0.5, 1));
    }

    #[test]
    fn engines_and_workloads_are_checked_and_kept_in_report_order() {
        let options =
            parse(&args("--engines redb,heed --workloads range,bulk,ycsb --dir d")).unwrap();
        let ids: Vec<_> = options.engines.iter().map(|engine| engine.id).collect();
        assert_eq!(ids, ["redb", "lmdb"]);
        assert_eq!(
            options.rows,
            ["bulk", "range", "ycsb-a", "ycsb-b", "ycsb-c", "ycsb-e", "ycsb-f"]
        );
        assert!(parse(&args("--engines sqlite")).is_err());
        assert!(parse(&args("--workloads nothing")).is_err());
        assert!(parse(&args("--runs 0")).is_err());
        assert!(parse(&args("--scale")).is_err());
        assert!(parse(&args("--frobnicate")).is_err());
    }
}

//! `check`: the engine's integrity check, as a readable summary; exit status 1 on any problem.

use std::{io::Write, path::PathBuf};

use super::{Context, OpenMode, close, finish_output, stdout};
use crate::error::{CliError, CliResult};

/// `check [DIR]`: DIR, or `--db`.
pub fn run(context: &Context, dir: Option<PathBuf>) -> CliResult {
    let mut context = context.clone();
    if dir.is_some() {
        context.db = dir;
    }
    let path = context.db_dir("check")?.to_path_buf();
    let db = context.open("check", OpenMode::MustExist)?;
    let report = db.check()?;
    close(db)?;
    let mut out = stdout();
    writeln!(out, "database  {}", path.display())?;
    writeln!(out, "engine    {}", report.engine)?;
    for (name, count) in &report.counts {
        writeln!(out, "{:<16}  {count}", name.replace('_', " "))?;
    }
    for problem in &report.problems {
        writeln!(out, "PROBLEM at {}: {}", problem.location, problem.what)?;
    }
    let problems = report.problems.len();
    if problems == 0 {
        writeln!(out, "ok: no problems found")?;
    }
    finish_output(out)?;
    match problems {
        0 => Ok(()),
        1 => Err(CliError::Runtime("the integrity check found 1 problem".into())),
        n => Err(CliError::Runtime(format!("the integrity check found {n} problems"))),
    }
}

//! `stats`: the facade's `Stats`, in its human-readable form.

use std::io::Write;

use super::{Context, OpenMode, close, finish_output, stdout};
use crate::error::CliResult;

/// `stats`.
pub fn run(context: &Context) -> CliResult {
    let db = context.open("stats", OpenMode::MustExist)?;
    let stats = db.stats()?;
    close(db)?;
    let mut out = stdout();
    writeln!(out, "{stats}")?;
    finish_output(out)
}

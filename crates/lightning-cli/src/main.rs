//! `lightning`: the command line tool of Lightning DB.
//!
//! Data commands (`put`, `get`, `del`, `scan`), `stats`, a portable `dump`/`load`, and a
//! db_bench-style `bench`, all through the `lightning-db` facade and nothing below it. See the
//! crate README for usage, the dump formats and the bench output format.
//!
//! **Walls:** depends on `lightning-db` only among the project's crates; holds no storage
//! logic. **Invariants:** every failure is one `lightning: error: ...` line on stderr with exit
//! status 1 (2 for usage errors); bytes from the command line, a dump or the database never
//! make it panic; `dump` then `load` reproduces every key and value exactly.

#![forbid(unsafe_code)]

mod bench;
mod cli;
mod commands;
mod dump_format;
mod error;
mod format;
mod table;
mod units;

use std::process::ExitCode;

use clap::{Parser, error::ErrorKind};

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            // Help and version go to stdout (exit 0); a missing command shows the help (exit 2).
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
            _ => {
                let line = error::usage_line(&e.render().to_string());
                return error::CliError::Usage(line).report();
            }
        },
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}

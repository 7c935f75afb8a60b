//! The command line grammar (clap derive): global options, the commands and their arguments.
//!
//! Keys, values and scan bounds are `OsString`s so that any byte string given on the command
//! line reaches the database unchanged (`--hex` switches them to hex). Everything here is pure
//! parsing; the commands themselves live in `commands/`.

use std::{ffi::OsString, path::PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{bench::workloads::Workload, units};

/// The help heading of the options every command accepts.
const GLOBAL: &str = "Global options";

/// Examples shown at the end of `lightning --help`.
const EXAMPLES: &str = "\
Examples:
  lightning --db ./mydb put user:1 ada
  lightning --db ./mydb get user:1
  lightning --db ./mydb scan --prefix user: --limit 10
  lightning --db ./mydb --hex put 00ff 0a0b          # keys and values in hex
  lightning --db ./mydb dump --output backup.dump
  lightning --db ./copy load --input backup.dump
  lightning check ./mydb                              # integrity check; exit 1 on damage
  lightning bench --num 100000 --workloads fillrandom,readrandom

Exit status: 0 on success, 1 on a runtime error or a missing key, 2 on a usage error.";

/// The command line tool of Lightning DB, an embedded transactional key-value database.
#[derive(Debug, Parser)]
#[command(name = "lightning", version, after_help = EXAMPLES, max_term_width = 100)]
pub struct Cli {
    /// Database directory (created by `put` and `load` if missing; `bench` uses a fresh
    /// temporary directory when omitted).
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "DIR")]
    pub db: Option<PathBuf>,

    /// Storage engine of a new database; an existing database must be opened with the engine
    /// it was created with.
    #[arg(long, global = true, help_heading = GLOBAL, value_enum, default_value_t = EngineArg::Btree)]
    pub engine: EngineArg,

    /// When writes become durable [default: immediate; for `bench`: eventual, like db_bench's
    /// sync=false].
    #[arg(long, global = true, help_heading = GLOBAL, value_enum)]
    pub durability: Option<DurabilityArg>,

    /// Page cache size in bytes; suffixes KiB/MiB/GiB (or K/M/G) are powers of 1024 and
    /// KB/MB/GB powers of 1000, e.g. 64MiB.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "BYTES", value_parser = units::parse_size)]
    pub cache_size: Option<u64>,

    /// Give keys, values and scan bounds in hex on the command line, and show them in hex.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub hex: bool,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The storage engines, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// The page-based B+Tree (read-optimised).
    Btree,
    /// The LSM tree (write-optimised).
    Lsm,
}

/// The durability levels, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DurabilityArg {
    /// Every acknowledged write survives power loss.
    Immediate,
    /// Acknowledged writes survive a process crash; synced in the background.
    Eventual,
    /// Writes are durable at the next flush or close.
    None,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set KEY to VALUE.
    Put {
        /// The key (raw bytes of the argument, or hex with --hex).
        key: OsString,
        /// The value (raw bytes of the argument, or hex with --hex; may be empty).
        value: OsString,
    },
    /// Print the value of KEY (exit status 1 and "key not found" on stderr if it has none).
    Get {
        /// The key (raw bytes of the argument, or hex with --hex).
        key: OsString,
        /// Write the value's exact bytes, without the trailing newline (ignored with --hex).
        #[arg(long)]
        raw: bool,
    },
    /// Delete KEY (deleting a missing key is not an error).
    #[command(visible_alias = "delete")]
    Del {
        /// The key (raw bytes of the argument, or hex with --hex).
        key: OsString,
    },
    /// List entries in key order, as an aligned table or as JSON lines.
    Scan(ScanArgs),
    /// Print statistics of the engine, cache, write-ahead log and transactions.
    Stats,
    /// Check the integrity of a database (every page read from disk and verified, key order,
    /// space accounting) and print a summary; exit status 1 if anything is wrong.
    Check {
        /// The database directory (instead of --db).
        dir: Option<PathBuf>,
    },
    /// Write every entry of a keyspace to a portable dump (text or binary) that `load` reads back.
    Dump(DumpArgs),
    /// Read a dump written by `dump` into the database (the format is detected).
    Load(LoadArgs),
    /// Run db_bench-style workloads and print their throughput and latency percentiles.
    Bench(BenchArgs),
}

/// Arguments of `scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Only keys starting with P.
    #[arg(long, value_name = "P")]
    pub prefix: Option<OsString>,
    /// Only keys >= A (inclusive).
    #[arg(long, value_name = "A")]
    pub from: Option<OsString>,
    /// Only keys < B (exclusive).
    #[arg(long, value_name = "B")]
    pub to: Option<OsString>,
    /// Walk from the last key to the first.
    #[arg(long)]
    pub reverse: bool,
    /// Stop after N entries.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Output format: an aligned table for people, or one JSON object per line for scripts.
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,
}

/// Output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// KEY and VALUE columns; non-printable bytes escaped as \xHH, backslash as \\.
    Table,
    /// JSON lines: {"key":..,"value":..}; bytes as a string when valid UTF-8, else {"hex":".."}.
    Json,
}

/// Arguments of `dump`.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Dump format: `text` (one escaped line per entry) or `binary` (length-prefixed,
    /// checksummed).
    #[arg(long, value_enum, default_value_t = DumpFormatArg::Text)]
    pub format: DumpFormatArg,
    /// Dump the named keyspace instead of the default one (a dump holds one keyspace).
    #[arg(long, value_name = "NAME")]
    pub keyspace: Option<String>,
}

/// Dump formats, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DumpFormatArg {
    /// One line per entry: escaped key, TAB, escaped value; readable and diffable.
    Text,
    /// Length-prefixed entries between a header and a checksummed trailer; compact.
    Binary,
}

/// Arguments of `load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from FILE instead of standard input (a file is verified completely before the
    /// first write, so a damaged dump changes nothing).
    #[arg(long, short, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Load into a database that already holds entries (dumped keys overwrite existing ones;
    /// others are kept). Without it, `load` refuses a non-empty database.
    #[arg(long)]
    pub merge: bool,
    /// Load into the named keyspace (created if missing) instead of the default one.
    #[arg(long, value_name = "NAME")]
    pub keyspace: Option<String>,
}

/// Arguments of `bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Comma-separated workloads, run in order: fillseq, fillrandom, overwrite, readrandom,
    /// readseq, seekrandom, readwhilewriting.
    #[arg(
        long,
        value_delimiter = ',',
        value_parser = Workload::parse,
        default_value = "fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom,readwhilewriting"
    )]
    pub workloads: Vec<Workload>,
    /// Operations per workload, split evenly across the threads (also the number of distinct
    /// keys).
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub num: u64,
    /// Bytes per key (keys are zero-padded decimal numbers).
    #[arg(long, value_name = "BYTES", default_value_t = 16)]
    pub key_size: usize,
    /// Bytes per value (pseudo-random, incompressible).
    #[arg(long, value_name = "BYTES", default_value_t = 100)]
    pub value_size: usize,
    /// Client threads per workload (readwhilewriting adds one writer thread).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub threads: usize,
}

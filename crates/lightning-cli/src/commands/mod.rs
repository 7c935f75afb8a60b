//! The commands: what each one does with the database. [`run`] dispatches; [`Context`] holds
//! the global options and opens the database the way every command needs it.

mod bench;
mod check;
mod data;
mod dump;
mod scan;
mod stats;

use std::{
    ffi::OsStr,
    io::{self, BufWriter, StdoutLock, Write},
    os::unix::ffi::OsStrExt,
    path::{Path, PathBuf},
};

use lightning_db::{Config, Database, Durability, Engine};

use crate::{
    cli::{Cli, Command, DurabilityArg, EngineArg},
    error::{CliError, CliResult},
    format,
};

/// The global options, resolved.
#[derive(Debug, Clone)]
pub struct Context {
    /// `--db`.
    pub db: Option<PathBuf>,
    /// `--engine`.
    pub engine: Engine,
    /// `--durability`, if given.
    pub durability: Option<Durability>,
    /// `--cache-size`, if given.
    pub cache_size_bytes: Option<u64>,
    /// `--hex`.
    pub hex: bool,
}

/// Whether opening may create a missing database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the database if the directory does not hold one (writing commands).
    CreateIfMissing,
    /// The database must exist (reading commands).
    MustExist,
}

impl Context {
    /// Resolves the global options of `cli`.
    pub fn new(cli: &Cli) -> Context {
        Context {
            db: cli.db.clone(),
            engine: match cli.engine {
                EngineArg::Btree => Engine::BTree,
                EngineArg::Lsm => Engine::Lsm,
            },
            durability: cli.durability.map(|d| match d {
                DurabilityArg::Immediate => Durability::Immediate,
                DurabilityArg::Eventual => Durability::Eventual,
                DurabilityArg::None => Durability::None,
            }),
            cache_size_bytes: cli.cache_size,
            hex: cli.hex,
        }
    }

    /// The database configuration; `default_durability` applies when `--durability` is not
    /// given.
    pub fn config(&self, default_durability: Durability) -> Config {
        let mut config = Config::default()
            .engine(self.engine)
            .durability(self.durability.unwrap_or(default_durability));
        if let Some(bytes) = self.cache_size_bytes {
            config = config.cache_size_bytes(bytes);
        }
        config
    }

    /// The `--db` directory, required by `command`.
    pub fn db_dir(&self, command: &str) -> CliResult<&Path> {
        self.db.as_deref().ok_or_else(|| {
            CliError::Usage(format!("`{command}` needs --db DIR (the database directory)"))
        })
    }

    /// Opens the `--db` database for `command`.
    pub fn open(&self, command: &str, mode: OpenMode) -> CliResult<Database> {
        let dir = self.db_dir(command)?;
        if mode == OpenMode::MustExist && !dir.exists() {
            return Err(CliError::Runtime(format!(
                "no database at {} (`put` or `load` creates one)",
                dir.display()
            )));
        }
        let config =
            self.config(Durability::Immediate).create_if_missing(mode == OpenMode::CreateIfMissing);
        open_with(dir, config)
    }

    /// The bytes of a key, value or bound given on the command line: the argument's raw
    /// bytes, or its hex decoding with `--hex`.
    pub fn arg_bytes(&self, what: &str, arg: &OsStr) -> CliResult<Vec<u8>> {
        let raw = arg.as_bytes();
        if !self.hex {
            return Ok(raw.to_vec());
        }
        format::from_hex(raw)
            .map_err(|e| CliError::Usage(format!("{what} is not hex (--hex): {e}")))
    }

    /// How keys and values are shown.
    pub fn show(&self, bytes: &[u8]) -> String {
        format::show(bytes, self.hex)
    }
}

/// Opens `dir` with `config`, turning the facade's errors into one clear line.
pub fn open_with(dir: &Path, config: Config) -> CliResult<Database> {
    Database::open(dir, config).map_err(CliError::from)
}

/// Closes `db`, reporting a failure to make everything durable.
pub fn close(db: Database) -> CliResult {
    db.close().map_err(|e| CliError::Runtime(format!("closing the database: {e}")))
}

/// Buffered standard output.
pub fn stdout() -> BufWriter<StdoutLock<'static>> {
    BufWriter::new(io::stdout().lock())
}

/// Flushes `out` (a closed pipe is not an error).
pub fn finish_output(mut out: impl Write) -> CliResult {
    out.flush()?;
    Ok(())
}

/// Runs the command of `cli`.
pub fn run(cli: Cli) -> CliResult {
    let context = Context::new(&cli);
    match cli.command {
        Command::Put { key, value } => data::put(&context, &key, &value),
        Command::Get { key, raw } => data::get(&context, &key, raw),
        Command::Del { key } => data::del(&context, &key),
        Command::Scan(args) => scan::run(&context, &args),
        Command::Stats => stats::run(&context),
        Command::Check { dir } => check::run(&context, dir),
        Command::Dump(args) => dump::dump(&context, &args),
        Command::Load(args) => dump::load(&context, &args),
        Command::Bench(args) => bench::run(&context, &args),
    }
}

//! `dump` and `load`: every entry of one keyspace (the default one, or `--keyspace NAME`) to a
//! portable dump and back. A dump of the default keyspace says on standard error which named
//! keyspaces it left out, so that nobody takes it for a backup of everything.
//!
//! `dump` reads one consistent snapshot (the facade's iterator) and writes a file atomically
//! (a temporary file renamed into place). `load` applies the entries in atomic batches; when
//! reading a file, it verifies the whole dump first, so a damaged file writes nothing.

use std::{
    fs::File,
    io::{self, BufRead, BufReader, BufWriter, Write},
    path::Path,
};

use lightning_db::{Database, Iter, Keyspace, MAX_KEY_LEN, MAX_VALUE_LEN, WriteBatch};

use super::{Context, OpenMode, close, stdout};
use crate::{
    cli::{DumpArgs, DumpFormatArg, LoadArgs},
    dump_format::{DumpError, DumpReader, DumpWriter, Format, Limits},
    error::{CliError, CliResult},
};

/// Entries per atomic batch written by `load`.
const LOAD_BATCH_ENTRIES: usize = 1024;
/// Key and value bytes per atomic batch written by `load`.
const LOAD_BATCH_BYTES: usize = 4 << 20;

const LIMITS: Limits = Limits { max_key_len: MAX_KEY_LEN, max_value_len: MAX_VALUE_LEN };

/// `dump`.
pub fn dump(context: &Context, args: &DumpArgs) -> CliResult {
    let format = match args.format {
        DumpFormatArg::Text => Format::Text,
        DumpFormatArg::Binary => Format::Binary,
    };
    let db = context.open("dump", OpenMode::MustExist)?;
    let keyspace = match &args.keyspace {
        Some(name) => Some(existing_keyspace(&db, name)?),
        None => None,
    };
    match &args.output {
        None => {
            let entries = entries(&db, keyspace.as_ref())?;
            write_dump(entries, stdout(), format, "standard output")?;
        }
        Some(path) => {
            let file_error = |e| CliError::io(format!("writing {}", path.display()), e);
            let dir = match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            let temp = tempfile::NamedTempFile::new_in(dir).map_err(file_error)?;
            let target = path.display().to_string();
            let entries = entries(&db, keyspace.as_ref())?;
            let count = write_dump(entries, BufWriter::new(temp.as_file()), format, &target)?;
            temp.as_file().sync_all().map_err(file_error)?;
            temp.persist(path).map_err(|e| file_error(e.error))?;
            eprintln!("dumped {count} entries to {}", path.display());
        }
    }
    if keyspace.is_none() {
        let named = db.keyspaces()?;
        if !named.is_empty() {
            eprintln!(
                "note: this dump holds the default keyspace only; not in it: {} \
                 (dump each with --keyspace NAME)",
                named.join(", ")
            );
        }
    }
    close(db)
}

/// Every entry of `keyspace`, or of the default keyspace.
fn entries(db: &Database, keyspace: Option<&Keyspace>) -> CliResult<Iter> {
    Ok(match keyspace {
        Some(keyspace) => keyspace.iter()?,
        None => db.iter()?,
    })
}

/// The keyspace `name`, which must exist (dumping a keyspace must not create it).
fn existing_keyspace(db: &Database, name: &str) -> CliResult<Keyspace> {
    let names = db.keyspaces()?;
    if !names.iter().any(|n| n == name) {
        let known = if names.is_empty() { "none".to_owned() } else { names.join(", ") };
        return Err(CliError::Runtime(format!(
            "no keyspace named {name:?} in this database (named keyspaces: {known})"
        )));
    }
    Ok(db.keyspace(name)?)
}

/// Writes every entry of `entries` to `out`; returns the number of entries.
/// `target` names the output in error messages.
fn write_dump(entries: Iter, out: impl Write, format: Format, target: &str) -> CliResult<u64> {
    let write_error = |e| CliError::io(format!("writing {target}"), e);
    let mut writer = DumpWriter::new(out, format).map_err(write_error)?;
    for entry in entries {
        let (key, value) = entry?;
        writer.entry(&key, &value).map_err(write_error)?;
    }
    let (count, _) = writer.finish().map_err(write_error)?;
    Ok(count)
}

/// `load`.
pub fn load(context: &Context, args: &LoadArgs) -> CliResult {
    let dir = context.db_dir("load")?;
    // Read the header before opening (and perhaps creating) the database, so that a wrong
    // input leaves no empty database behind.
    match &args.input {
        Some(path) => {
            let source = path.display().to_string();
            verify(path, &source)?;
            let reader = open_dump(open_input(path)?, &source)?;
            load_from(context, args, dir, reader, &source)
        }
        None => {
            let source = "standard input";
            let reader = open_dump(io::stdin().lock(), source)?;
            load_from(context, args, dir, reader, source)
        }
    }
}

fn load_from(
    context: &Context,
    args: &LoadArgs,
    dir: &Path,
    reader: DumpReader<impl BufRead>,
    source: &str,
) -> CliResult {
    let db = context.open("load", OpenMode::CreateIfMissing)?;
    let keyspace = args.keyspace.as_deref().map(|name| db.keyspace(name)).transpose()?;
    // The iterator is dropped at once: a live one would keep the database from closing.
    let occupied = entries(&db, keyspace.as_ref())?.next().transpose()?.is_some();
    if !args.merge && occupied {
        let what = match &args.keyspace {
            Some(name) => format!("keyspace {name:?} of the database at {}", dir.display()),
            None => format!("the database at {}", dir.display()),
        };
        return Err(CliError::Runtime(format!(
            "{what} is not empty; load into a new directory, or pass --merge"
        )));
    }
    let format = reader.format();
    let count = apply(&db, keyspace.as_ref(), reader, source)?;
    close(db)?;
    let kind = if format == Format::Text { "text" } else { "binary" };
    let into = match &args.keyspace {
        Some(name) => format!("keyspace {name:?} of {}", dir.display()),
        None => dir.display().to_string(),
    };
    eprintln!("loaded {count} entries ({kind} dump) from {source} into {into}");
    Ok(())
}

fn open_input(path: &Path) -> CliResult<BufReader<File>> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| CliError::io(format!("reading {}", path.display()), e))
}

fn dump_error(source: &str, e: DumpError) -> CliError {
    CliError::Runtime(format!("{source}: {e}"))
}

fn open_dump<R: BufRead>(input: R, source: &str) -> CliResult<DumpReader<R>> {
    DumpReader::open(input, LIMITS).map_err(|e| dump_error(source, e))
}

/// Reads the whole dump at `path`, checking every entry and the trailer.
fn verify(path: &Path, source: &str) -> CliResult {
    let mut reader = open_dump(open_input(path)?, source)?;
    while reader.next_entry().map_err(|e| dump_error(source, e))?.is_some() {}
    Ok(())
}

/// Writes the entries of the dump in `reader` to `db` (into `keyspace`, or the default one) in
/// atomic batches; returns how many.
fn apply(
    db: &Database,
    keyspace: Option<&Keyspace>,
    mut reader: DumpReader<impl BufRead>,
    source: &str,
) -> CliResult<u64> {
    let mut batch = WriteBatch::new();
    let (mut batch_bytes, mut written) = (0usize, 0u64);
    let partial = |written: u64, e: CliError| {
        if written == 0 {
            e
        } else {
            CliError::Runtime(format!("{e} ({written} entries were loaded before the error)"))
        }
    };
    loop {
        let entry = reader.next_entry().map_err(|e| partial(written, dump_error(source, e)))?;
        let done = entry.is_none();
        if let Some((key, value)) = entry {
            batch_bytes += key.len() + value.len();
            match keyspace {
                Some(keyspace) => batch.put_in(keyspace, key, value),
                None => batch.put(key, value),
            };
        }
        if !batch.is_empty()
            && (done || batch.len() >= LOAD_BATCH_ENTRIES || batch_bytes >= LOAD_BATCH_BYTES)
        {
            let entries = batch.len() as u64;
            db.write(std::mem::take(&mut batch)).map_err(|e| partial(written, e.into()))?;
            written += entries;
            batch_bytes = 0;
        }
        if done {
            return Ok(written);
        }
    }
}

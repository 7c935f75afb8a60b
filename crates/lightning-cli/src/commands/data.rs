//! `put`, `get` and `del`: one key at a time.

use std::{ffi::OsStr, io::Write};

use super::{Context, OpenMode, close, finish_output, stdout};
use crate::error::{CliError, CliResult};

/// `put KEY VALUE`.
pub fn put(context: &Context, key: &OsStr, value: &OsStr) -> CliResult {
    let key = context.arg_bytes("KEY", key)?;
    let value = context.arg_bytes("VALUE", value)?;
    let db = context.open("put", OpenMode::CreateIfMissing)?;
    db.put(&key, &value)?;
    close(db)
}

/// `get KEY`: the value and a newline (exact bytes with `--raw`, hex with `--hex`); a missing
/// key is an error (exit status 1).
pub fn get(context: &Context, key: &OsStr, raw: bool) -> CliResult {
    let key = context.arg_bytes("KEY", key)?;
    let db = context.open("get", OpenMode::MustExist)?;
    let value = db.get(&key)?;
    close(db)?;
    let Some(value) = value else {
        return Err(CliError::Runtime(format!("key not found: {}", context.show(&key))));
    };
    let mut out = stdout();
    if context.hex {
        writeln!(out, "{}", context.show(&value))?;
    } else {
        out.write_all(&value)?;
        if !raw {
            out.write_all(b"\n")?;
        }
    }
    finish_output(out)
}

/// `del KEY`.
pub fn del(context: &Context, key: &OsStr) -> CliResult {
    let key = context.arg_bytes("KEY", key)?;
    let db = context.open("del", OpenMode::MustExist)?;
    db.delete(&key)?;
    close(db)
}

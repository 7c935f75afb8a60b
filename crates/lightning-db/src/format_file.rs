//! The `FORMAT` file at the root of a database directory: which on-disk format version and
//! which engine the directory holds, so a mismatch is refused clearly instead of misread.
//!
//! It is a few lines of text (`lightning-db`, `format <n>`, `engine <name>`) followed by
//! `checksum <16 hex digits>`, the xxh3-64 of the lines above it. Written under a temporary
//! name, synced, renamed into place, and the directory synced.

use std::path::Path;

use lightning_core_storage::vfs::{OpenMode, Vfs};
use xxhash_rust::xxh3::xxh3_64;

use crate::{Engine, Error, Result};

/// The database directory format this code writes.
pub(crate) const FORMAT_VERSION: u32 = 1;
pub(crate) const FILE_NAME: &str = "FORMAT";

fn body(engine: Engine) -> String {
    format!("lightning-db\nformat {FORMAT_VERSION}\nengine {}\n", engine.name())
}

/// Reads the FORMAT file of `dir`, if there is one, and returns the engine it names.
pub(crate) fn read(vfs: &dyn Vfs, dir: &Path) -> Result<Option<Engine>> {
    let path = dir.join(FILE_NAME);
    if !vfs.exists(&path)? {
        return Ok(None);
    }
    let file = vfs.open(&path, OpenMode::Read)?;
    let len = file.len()? as usize;
    let bad = |what: &str| Error::Corruption {
        what: what.to_string(),
        location: path.display().to_string(),
    };
    if len > 4096 {
        return Err(bad("FORMAT file is implausibly large"));
    }
    let mut bytes = vec![0; len];
    file.read_exact_at(&mut bytes, 0)?;
    let text = String::from_utf8(bytes).map_err(|_| bad("FORMAT file is not text"))?;
    let (content, checksum_line) = text
        .trim_end_matches('\n')
        .rsplit_once('\n')
        .ok_or_else(|| bad("FORMAT file is truncated"))?;
    let content = format!("{content}\n");
    let stored = checksum_line.strip_prefix("checksum ").ok_or_else(|| bad("no checksum line"))?;
    if stored != format!("{:016x}", xxh3_64(content.as_bytes())) {
        return Err(bad("FORMAT file checksum mismatch"));
    }
    let mut lines = content.lines();
    if lines.next() != Some("lightning-db") {
        return Err(bad("not a Lightning DB directory"));
    }
    let version: u32 = lines
        .next()
        .and_then(|l| l.strip_prefix("format "))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| bad("no format version"))?;
    if version != FORMAT_VERSION {
        return Err(Error::Unsupported(format!(
            "{} has format version {version}; this build reads version {FORMAT_VERSION}",
            dir.display()
        )));
    }
    let engine = lines
        .next()
        .and_then(|l| l.strip_prefix("engine "))
        .and_then(Engine::from_name)
        .ok_or_else(|| bad("unknown engine"))?;
    Ok(Some(engine))
}

/// Writes the FORMAT file of a new database, crash-safely.
pub(crate) fn write(vfs: &dyn Vfs, dir: &Path, engine: Engine) -> Result<()> {
    let content = body(engine);
    let text = format!("{content}checksum {:016x}\n", xxh3_64(content.as_bytes()));
    let temp = dir.join(format!("{FILE_NAME}.tmp"));
    let file = vfs.open(&temp, OpenMode::CreateOrOpen)?;
    file.set_len(0)?;
    file.write_all_at(text.as_bytes(), 0)?;
    file.sync_data()?;
    vfs.rename(&temp, &dir.join(FILE_NAME))?;
    vfs.sync_dir(dir)?;
    Ok(())
}

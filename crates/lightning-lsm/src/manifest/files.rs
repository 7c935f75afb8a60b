//! The manifest's file operations: reading and switching CURRENT, writing a new manifest.
//!
//! Every step is ordered for power cuts: a new manifest is complete and synced, and its name
//! durable, before CURRENT names it; CURRENT is replaced by renaming a synced `CURRENT.tmp`
//! and syncing the directory, so after a crash it names either the old manifest or the new one.

use std::path::Path;

use lightning_core_storage::{
    Error, Result,
    vfs::{FileHandle, OpenMode, Vfs},
};

use super::format::{CURRENT, CURRENT_TMP, MAX_CURRENT_BYTES, manifest_name, parse_manifest_name};

/// Reads the whole of a file.
pub fn read_all(file: &FileHandle) -> Result<Vec<u8>> {
    let len = file.len()?;
    let len = usize::try_from(len).map_err(|_| {
        Error::corruption(format!("{len} bytes is too long"), file.path().display().to_string())
    })?;
    let mut bytes = vec![0; len];
    file.read_exact_at(&mut bytes, 0)?;
    Ok(bytes)
}

/// The manifest name and number CURRENT holds (`MANIFEST-<digits>` and a newline).
pub fn read_current(vfs: &dyn Vfs, dir: &Path) -> Result<(String, u64)> {
    let file = vfs.open(&dir.join(CURRENT), OpenMode::Read)?;
    if file.len()? > MAX_CURRENT_BYTES {
        return Err(Error::corruption(
            format!("CURRENT is longer than {MAX_CURRENT_BYTES} bytes"),
            CURRENT,
        ));
    }
    let bytes = read_all(&file)?;
    let parsed = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|text| text.strip_suffix('\n'))
        .and_then(|name| parse_manifest_name(name).map(|number| (name.to_owned(), number)));
    parsed.ok_or_else(|| {
        Error::corruption(
            format!(
                "CURRENT does not hold a manifest name and a newline: {:?}",
                String::from_utf8_lossy(&bytes)
            ),
            CURRENT,
        )
    })
}

/// Makes CURRENT name `manifest`: writes and syncs `CURRENT.tmp`, renames it over CURRENT and
/// syncs the directory. Durable on return.
pub fn install_current(vfs: &dyn Vfs, dir: &Path, manifest: &str) -> Result<()> {
    let tmp = dir.join(CURRENT_TMP);
    let file = vfs.open(&tmp, OpenMode::CreateOrOpen)?;
    file.set_len(0)?;
    file.write_all_at(format!("{manifest}\n").as_bytes(), 0)?;
    file.sync_data()?;
    drop(file);
    vfs.rename(&tmp, &dir.join(CURRENT))?;
    vfs.sync_dir(dir)
}

/// Creates manifest `number` holding `first_record` (replacing a leftover of that name from an
/// interrupted switch), syncs it and its directory entry. Returns the open file.
pub fn create_manifest(
    vfs: &dyn Vfs,
    dir: &Path,
    number: u64,
    first_record: &[u8],
) -> Result<FileHandle> {
    let path = dir.join(manifest_name(number));
    if vfs.exists(&path)? {
        vfs.remove(&path)?;
    }
    let file = vfs.open(&path, OpenMode::CreateNew)?;
    file.write_all_at(first_record, 0)?;
    file.sync_data()?;
    vfs.sync_dir(dir)?;
    Ok(file)
}

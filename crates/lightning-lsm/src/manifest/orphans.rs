//! [`orphan_files`]: the files of an LSM directory that no state references.

use std::path::Path;

use lightning_core_storage::{Result, vfs::Vfs};

use super::{
    RecoveredState,
    format::{CURRENT_TMP, parse_manifest_name},
};

/// The number of a table file's name (`<digits>.sst`), or `None` if `name` is not one.
pub fn parse_table_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".sst")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The names in `dir` that are tables (`<n>.sst`) not in `state`'s version, manifests other
/// than `current_manifest`, or a leftover `CURRENT.tmp`: what an interrupted flush,
/// compaction or manifest switch left behind, for the engine to delete on open. Files of any
/// other name are never listed.
pub fn orphan_files(
    vfs: &dyn Vfs,
    dir: &Path,
    state: &RecoveredState,
    current_manifest: &str,
) -> Result<Vec<String>> {
    let live = state.version.live_file_numbers();
    let orphans = vfs
        .list(dir)?
        .into_iter()
        .filter(|name| match (parse_table_name(name), parse_manifest_name(name)) {
            (Some(table), _) => !live.contains(&table),
            (None, Some(_)) => name != current_manifest,
            (None, None) => name == CURRENT_TMP,
        })
        .collect();
    Ok(orphans)
}

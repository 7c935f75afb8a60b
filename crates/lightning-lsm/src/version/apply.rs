//! [`Version::apply`]: the next version from an edit, refusing edits that break the invariants.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use lightning_core_storage::{Error, Result};

use super::{Version, VersionEdit};
use crate::table_meta::TableMeta;

/// The location named by a [`Version::apply`] error; the manifest replaces it with the file
/// and offset of the record that carried the edit.
pub const EDIT_LOCATION: &str = "version edit";

fn bad_edit(what: String) -> Error {
    Error::corruption(what, EDIT_LOCATION)
}

impl Version {
    /// The version after `edit`: removals first, then additions.
    ///
    /// `Corruption` (location [`EDIT_LOCATION`]) if the edit removes a table its level does
    /// not hold, names a level beyond the version, adds a file number that is already live,
    /// adds a table whose smallest key is after its largest, or leaves two overlapping tables
    /// in a level below L0. `self` is unchanged either way.
    pub fn apply(&self, edit: &VersionEdit) -> Result<Version> {
        let num_levels = self.levels.len();
        let mut removed: HashMap<(usize, u64), bool> = HashMap::new();
        for &(level, number) in &edit.removed {
            if level >= num_levels {
                return Err(bad_edit(format!(
                    "edit removes table {number} from level {level}, beyond the {num_levels} levels"
                )));
            }
            if removed.insert((level, number), false).is_some() {
                return Err(bad_edit(format!("edit removes table {number} twice")));
            }
        }
        let mut levels: Vec<Vec<Arc<TableMeta>>> = Vec::with_capacity(num_levels);
        for (level, tables) in self.levels.iter().enumerate() {
            let mut kept = Vec::with_capacity(tables.len() + edit.added.len());
            for table in tables {
                match removed.get_mut(&(level, table.file_number)) {
                    Some(found) => *found = true,
                    None => kept.push(Arc::clone(table)),
                }
            }
            levels.push(kept);
        }
        if let Some(((level, number), _)) = removed.iter().find(|(_, found)| !**found) {
            return Err(bad_edit(format!(
                "edit removes table {number} from level {level}, which does not hold it"
            )));
        }

        let mut live: HashSet<u64> = levels.iter().flatten().map(|t| t.file_number).collect();
        let mut touched = vec![false; num_levels];
        for (level, table) in &edit.added {
            let level = *level;
            if level >= num_levels {
                return Err(bad_edit(format!(
                    "edit adds table {} to level {level}, beyond the {num_levels} levels",
                    table.file_number
                )));
            }
            if !live.insert(table.file_number) {
                return Err(bad_edit(format!(
                    "edit adds table {}, which is already live",
                    table.file_number
                )));
            }
            if table.smallest > table.largest {
                return Err(bad_edit(format!(
                    "edit adds table {} whose smallest key is after its largest",
                    table.file_number
                )));
            }
            levels[level].push(Arc::new(table.clone()));
            touched[level] = true;
        }

        for (level, tables) in levels.iter_mut().enumerate() {
            if !touched[level] {
                continue;
            }
            if level == 0 {
                tables.sort_by_key(|t| std::cmp::Reverse(t.file_number));
                continue;
            }
            tables.sort_by(|a, b| a.smallest.cmp(&b.smallest));
            if let Some(pair) = tables.windows(2).find(|w| w[0].largest.key >= w[1].smallest.key) {
                return Err(bad_edit(format!(
                    "edit leaves tables {} and {} overlapping in level {level}",
                    pair[0].file_number, pair[1].file_number
                )));
            }
        }
        Ok(Version { levels })
    }
}

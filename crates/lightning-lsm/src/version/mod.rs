//! [`Version`]: an immutable snapshot of which tables make up each level, and [`VersionEdit`],
//! the change from one version to the next that the manifest logs.
//!
//! Invariants of a version (checked by [`Version::check_invariants`], enforced by
//! [`Version::apply`]):
//! - **L0** holds tables flushed from memtables; their key ranges may overlap. They are kept
//!   newest first, by file number descending (a later flush always gets a larger number).
//! - **L1 and below** each hold a sorted run: tables ordered by smallest key whose user-key
//!   ranges do not overlap, so one user key is in at most one table of the level (a key's
//!   versions are never split across two tables of a level).
//! - No file number appears twice in a version.
//!
//! A version is never modified: [`Version::apply`] builds the next one (sharing the
//! `Arc<TableMeta>`s) and the engine swaps an `Arc<Version>` atomically, so readers keep the
//! version they started with.

mod apply;
mod edit;
mod invariants;
#[cfg(test)]
mod tests;

use std::{collections::BTreeSet, sync::Arc};

pub use apply::EDIT_LOCATION;
pub use edit::VersionEdit;

use crate::table_meta::TableMeta;

/// An immutable snapshot of the levels: `Arc`'d, swapped atomically by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// `levels[0]` newest first; `levels[1..]` sorted by smallest key, non-overlapping.
    levels: Vec<Vec<Arc<TableMeta>>>,
}

impl Version {
    /// A version with `num_levels` empty levels.
    pub fn empty(num_levels: usize) -> Self {
        Version { levels: vec![Vec::new(); num_levels] }
    }

    /// How many levels the version has (L0 included).
    pub fn num_levels(&self) -> usize {
        self.levels.len()
    }

    /// Every level's tables: L0 newest first (by file number descending); L1+ sorted by
    /// smallest key and non-overlapping.
    pub fn levels(&self) -> &[Vec<Arc<TableMeta>>] {
        &self.levels
    }

    /// The tables of one level (empty for a level beyond [`Version::num_levels`]).
    pub fn level(&self, level: usize) -> &[Arc<TableMeta>] {
        self.levels.get(level).map_or(&[], Vec::as_slice)
    }

    /// The tables of `level` that may hold `key`: on L0 every table whose range covers it,
    /// newest first; on L1+ at most one. Borrowed, without allocating: this is on every point read's path.
    pub fn tables_for_key<'a>(
        &'a self,
        level: usize,
        key: &'a [u8],
    ) -> impl Iterator<Item = &'a Arc<TableMeta>> + 'a {
        let tables = self.level(level);
        let candidates = if level == 0 {
            tables
        } else {
            // A sorted run: only the first table ending at or after `key` can cover it.
            let first = tables.partition_point(|t| t.largest.key.as_slice() < key);
            &tables[first..tables.len().min(first + 1)]
        };
        candidates.iter().filter(move |t| t.overlaps(Some(key), Some(key)))
    }

    /// The tables of `level` whose user-key range overlaps `[start, end]` (inclusive; `None`
    /// is unbounded), in the level's order (L0 newest first, L1+ by key).
    pub fn overlapping(
        &self,
        level: usize,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
    ) -> Vec<Arc<TableMeta>> {
        let tables = self.level(level);
        if level == 0 {
            return tables.iter().filter(|t| t.overlaps(start, end)).cloned().collect();
        }
        // A sorted run: the first table ending at or after `start`, then every table that
        // begins at or before `end`.
        let first = match start {
            Some(start) => tables.partition_point(|t| t.largest.key.as_slice() < start),
            None => 0,
        };
        tables[first..]
            .iter()
            .take_while(|t| end.is_none_or(|end| t.smallest.key.as_slice() <= end))
            .cloned()
            .collect()
    }

    /// The sum of the file sizes of `level`'s tables (0 for a level beyond the version),
    /// saturating: the sizes come from the manifest and nothing bounds them.
    pub fn level_bytes(&self, level: usize) -> u64 {
        self.level(level).iter().fold(0u64, |sum, t| sum.saturating_add(t.file_size))
    }

    /// The number of tables in every level together.
    pub fn table_count(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }

    /// The file numbers of every table in the version.
    pub fn live_file_numbers(&self) -> BTreeSet<u64> {
        self.levels.iter().flatten().map(|t| t.file_number).collect()
    }

    /// The largest file number of any table in the version.
    pub fn max_file_number(&self) -> Option<u64> {
        self.levels.iter().flatten().map(|t| t.file_number).max()
    }

    /// The level and metadata of table `file_number`, if the version holds it.
    pub fn find(&self, file_number: u64) -> Option<(usize, &Arc<TableMeta>)> {
        self.levels.iter().enumerate().find_map(|(level, tables)| {
            tables.iter().find(|t| t.file_number == file_number).map(|t| (level, t))
        })
    }

    /// The deepest level holding at least one table, if any table exists.
    pub fn deepest_non_empty_level(&self) -> Option<usize> {
        self.levels.iter().rposition(|tables| !tables.is_empty())
    }
}

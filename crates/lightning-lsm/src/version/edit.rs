//! [`VersionEdit`]: the difference between two versions, as the manifest logs it.

use lightning_core_storage::{Lsn, Timestamp};

use super::Version;
use crate::table_meta::TableMeta;

/// A change to a [`Version`] plus the engine counters that travel with it.
///
/// Applying an edit removes `removed` first, then adds `added` (so a trivial move is one edit
/// removing a table from level `n` and adding it to level `n + 1`). The counters are absolute
/// values, not deltas: across a manifest the last edit that carries one wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionEdit {
    /// Tables added, with the level each joins.
    pub added: Vec<(usize, TableMeta)>,
    /// Tables removed, as (level, file number).
    pub removed: Vec<(usize, u64)>,
    /// The next file number the engine will hand out (every live table's number is below it).
    pub next_file_number: Option<u64>,
    /// Every write at or below this LSN is in a table (the WAL may be truncated up to it).
    pub durable_lsn: Option<Lsn>,
    /// The largest commit timestamp in any table.
    pub max_commit_ts: Option<Timestamp>,
}

impl VersionEdit {
    /// An edit that changes nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `table` to `level`.
    pub fn add_table(&mut self, level: usize, table: TableMeta) -> &mut Self {
        self.added.push((level, table));
        self
    }

    /// Removes table `file_number` from `level`.
    pub fn remove_table(&mut self, level: usize, file_number: u64) -> &mut Self {
        self.removed.push((level, file_number));
        self
    }

    /// True if the edit changes no table and carries no counter.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.next_file_number.is_none()
            && self.durable_lsn.is_none()
            && self.max_commit_ts.is_none()
    }

    /// The edit that builds `version` from an empty one and sets every counter: what a new
    /// manifest starts with.
    pub fn snapshot(
        version: &Version,
        next_file_number: u64,
        durable_lsn: Lsn,
        max_commit_ts: Timestamp,
    ) -> Self {
        let added = version
            .levels()
            .iter()
            .enumerate()
            // L0 is stored newest first; adding oldest first keeps the log readable in order.
            .flat_map(|(level, tables)| {
                let mut tables: Vec<_> = tables.iter().map(|t| (level, (**t).clone())).collect();
                if level == 0 {
                    tables.reverse();
                }
                tables
            })
            .collect();
        VersionEdit {
            added,
            removed: Vec::new(),
            next_file_number: Some(next_file_number),
            durable_lsn: Some(durable_lsn),
            max_commit_ts: Some(max_commit_ts),
        }
    }
}

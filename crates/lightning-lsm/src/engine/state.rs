//! [`SuperVersion`]: everything a read needs, in one `Arc` swapped atomically — the memtables,
//! the levels and every live table, open.
//!
//! A reader clones the `Arc` and then holds no engine lock: flushes and compactions install a
//! new one, and the tables a reader's snapshot names stay open (and their files on disk,
//! see [`super::Shared::delete_obsolete`]) until the last snapshot naming them is dropped.

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
};

use lightning_core_storage::{Error, Result};

use crate::{
    InternalIter,
    level_iter::{LevelIter, LevelRun},
    memtable::{Memtable, MemtableIter},
    merge::MergingIter,
    sstable::Table,
    version::Version,
};

/// One consistent view of the engine's sources.
#[derive(Debug)]
pub(crate) struct SuperVersion {
    /// The memtable writes go to.
    pub(crate) active: Arc<Memtable>,
    /// Full memtables waiting to be flushed, newest first.
    pub(crate) immutables: Vec<Arc<Memtable>>,
    /// The levels.
    pub(crate) version: Arc<Version>,
    /// Every table of `version`, open, by file number.
    pub(crate) tables: Arc<HashMap<u64, Arc<Table>>>,
    /// Each level below L0 as a run of open tables, built by the first scan of this view and
    /// shared by every later one (a short scan must not cost a walk of every table).
    pub(crate) level_runs: OnceLock<Vec<LevelRun>>,
}

impl SuperVersion {
    /// The memtables, newest first.
    pub(crate) fn memtables(&self) -> impl Iterator<Item = &Arc<Memtable>> {
        std::iter::once(&self.active).chain(self.immutables.iter())
    }

    /// The open table `file_number` of the version.
    pub(crate) fn table(&self, file_number: u64) -> Result<&Arc<Table>> {
        self.tables.get(&file_number).ok_or_else(|| {
            Error::corruption(
                "the version names a table the engine has not opened",
                crate::TableMeta::file_name(file_number),
            )
        })
    }

    /// The runs of every level (L0's empty: its tables may overlap and are merged one by one).
    fn level_runs(&self) -> Result<&Vec<LevelRun>> {
        if let Some(runs) = self.level_runs.get() {
            return Ok(runs);
        }
        let mut runs = Vec::with_capacity(self.version.levels().len());
        for (level, tables) in self.version.levels().iter().enumerate() {
            let run: Vec<_> = if level == 0 {
                Vec::new()
            } else {
                tables
                    .iter()
                    .map(|meta| Ok((Arc::clone(meta), Arc::clone(self.table(meta.file_number)?))))
                    .collect::<Result<_>>()?
            };
            runs.push(LevelRun::from(run));
        }
        Ok(self.level_runs.get_or_init(|| runs))
    }

    /// A merge of every source, newest first: memtables, L0 tables one by one, then one
    /// cursor per deeper level.
    pub(crate) fn merged(&self) -> Result<MergingIter> {
        let mut children: Vec<Box<dyn InternalIter>> = Vec::new();
        for memtable in self.memtables() {
            if !memtable.is_empty() {
                children.push(Box::new(MemtableIter::new(Arc::clone(memtable))));
            }
        }
        for (level, tables) in self.version.levels().iter().enumerate() {
            if tables.is_empty() {
                continue;
            }
            if level == 0 {
                for meta in tables {
                    children.push(Box::new(self.table(meta.file_number)?.iter()));
                }
            } else {
                children.push(Box::new(LevelIter::new(Arc::clone(&self.level_runs()?[level]))));
            }
        }
        Ok(MergingIter::new(children))
    }
}

//! [`LevelIter`]: one cursor over a level below L0, a run of tables sorted by key that do not
//! overlap, positioned in one table at a time (as LevelDB's level file iterator).

use std::{cmp::Ordering, sync::Arc};

use lightning_core_storage::{Result, Timestamp};

use crate::{
    InternalIter, TableMeta, compare_internal,
    sstable::{Table, TableIter},
};

/// A level's tables with their open files, sorted by smallest key.
pub type LevelRun = Arc<[(Arc<TableMeta>, Arc<Table>)]>;

/// A cursor over a sorted, non-overlapping run of tables.
#[derive(Debug)]
pub struct LevelIter {
    tables: LevelRun,
    /// The table the cursor is in, and its cursor.
    current: Option<(usize, TableIter)>,
}

impl LevelIter {
    /// A cursor over `tables` (sorted by smallest key, non-overlapping). A run shared as an
    /// [`LevelRun`] is not copied: scans of one snapshot share it.
    pub fn new(tables: impl Into<LevelRun>) -> Self {
        LevelIter { tables: tables.into(), current: None }
    }

    fn open(&mut self, index: usize) -> &mut TableIter {
        let iter = self.tables[index].1.iter();
        &mut self.current.insert((index, iter)).1
    }

    /// Moves to later tables while the cursor is exhausted.
    fn skip_forward(&mut self) -> Result<()> {
        while let Some((index, iter)) = &self.current {
            if iter.valid() {
                break;
            }
            let next = index + 1;
            if next >= self.tables.len() {
                self.current = None;
                break;
            }
            self.open(next).seek_to_first()?;
        }
        Ok(())
    }

    /// Moves to earlier tables while the cursor is exhausted.
    fn skip_backward(&mut self) -> Result<()> {
        while let Some((index, iter)) = &self.current {
            if iter.valid() {
                break;
            }
            let Some(previous) = index.checked_sub(1) else {
                self.current = None;
                break;
            };
            self.open(previous).seek_to_last()?;
        }
        Ok(())
    }

    fn iter(&self) -> &TableIter {
        &self.current.as_ref().expect("REQUIRES: the level cursor is valid").1
    }

    fn iter_mut(&mut self) -> &mut TableIter {
        &mut self.current.as_mut().expect("REQUIRES: the level cursor is valid").1
    }
}

impl InternalIter for LevelIter {
    fn valid(&self) -> bool {
        self.current.as_ref().is_some_and(|(_, iter)| iter.valid())
    }

    fn seek_to_first(&mut self) -> Result<()> {
        self.current = None;
        if !self.tables.is_empty() {
            self.open(0).seek_to_first()?;
            self.skip_forward()?;
        }
        Ok(())
    }

    fn seek_to_last(&mut self) -> Result<()> {
        self.current = None;
        if let Some(last) = self.tables.len().checked_sub(1) {
            self.open(last).seek_to_last()?;
            self.skip_backward()?;
        }
        Ok(())
    }

    fn seek(&mut self, key: &[u8], ts: Timestamp) -> Result<()> {
        self.current = None;
        // The first table whose largest key is at or after the target.
        let index = self.tables.partition_point(|(meta, _)| {
            compare_internal(&meta.largest.key, meta.largest.ts, key, ts) == Ordering::Less
        });
        if index < self.tables.len() {
            self.open(index).seek(key, ts)?;
            self.skip_forward()?;
        }
        Ok(())
    }

    fn seek_for_prev(&mut self, key: &[u8], ts: Timestamp) -> Result<()> {
        self.current = None;
        // The last table whose smallest key is at or before the target.
        let after = self.tables.partition_point(|(meta, _)| {
            compare_internal(&meta.smallest.key, meta.smallest.ts, key, ts) != Ordering::Greater
        });
        if let Some(index) = after.checked_sub(1) {
            self.open(index).seek_for_prev(key, ts)?;
            self.skip_backward()?;
        }
        Ok(())
    }

    fn next(&mut self) -> Result<()> {
        self.iter_mut().next()?;
        self.skip_forward()
    }

    fn prev(&mut self) -> Result<()> {
        self.iter_mut().prev()?;
        self.skip_backward()
    }

    fn key(&self) -> &[u8] {
        self.iter().key()
    }

    fn ts(&self) -> Timestamp {
        self.iter().ts()
    }

    fn value(&self) -> Option<&[u8]> {
        self.iter().value()
    }
}

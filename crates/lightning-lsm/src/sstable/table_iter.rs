//! [`TableIter`]: a cursor over every version of a table, a two-level cursor (as LevelDB's
//! `TwoLevelIterator`): a cursor over the pinned index block picks the data block, a cursor
//! over that block walks its entries. Blocks are fetched through the table (and its cache).

use std::cmp::Ordering;
use std::sync::Arc;

use lightning_core_storage::{Result, Timestamp};

use super::block::BlockIter;
use super::format::BlockHandle;
use super::table::Table;
use crate::internal_key::compare_internal;
use crate::iter::InternalIter;

/// A cursor over a table's versions in internal-key order. It owns an `Arc` of its table.
#[derive(Debug)]
pub struct TableIter {
    table: Arc<Table>,
    index: BlockIter,
    data: Option<(BlockHandle, BlockIter)>,
    fill_cache: bool,
}

impl TableIter {
    pub(crate) fn new(table: Arc<Table>, fill_cache: bool) -> TableIter {
        let index = BlockIter::new(Arc::clone(table.index_block()));
        TableIter { table, index, data: None, fill_cache }
    }

    /// The table this cursor reads.
    pub fn table(&self) -> &Arc<Table> {
        &self.table
    }

    fn data_valid(&self) -> bool {
        self.data.as_ref().is_some_and(|(_, data)| data.valid())
    }

    fn data(&mut self) -> Option<&mut BlockIter> {
        self.data.as_mut().map(|(_, data)| data)
    }

    /// Points the data cursor at the block the index cursor names (unpositioned), reusing the
    /// current block when it is the same one.
    fn load_data_block(&mut self) -> Result<()> {
        if !self.index.valid() {
            self.data = None;
            return Ok(());
        }
        let handle = self.table.handle_of(&self.index)?;
        let block = match &self.data {
            Some((current, data)) if *current == handle => Arc::clone(data.block()),
            _ => self.table.data_block(handle, self.fill_cache)?,
        };
        self.data = Some((handle, BlockIter::new(block)));
        Ok(())
    }

    /// Moves on to later blocks while the data cursor is exhausted.
    fn skip_forward(&mut self) -> Result<()> {
        while !self.data_valid() {
            if !self.index.valid() {
                self.data = None;
                return Ok(());
            }
            self.index.next()?;
            self.load_data_block()?;
            if let Some(data) = self.data() {
                data.seek_to_first()?;
            }
        }
        Ok(())
    }

    /// Moves back to earlier blocks while the data cursor is exhausted.
    fn skip_backward(&mut self) -> Result<()> {
        while !self.data_valid() {
            if !self.index.valid() {
                self.data = None;
                return Ok(());
            }
            self.index.prev()?;
            self.load_data_block()?;
            if let Some(data) = self.data() {
                data.seek_to_last()?;
            }
        }
        Ok(())
    }

    fn try_seek(&mut self, key: &[u8], ts: Timestamp) -> Result<()> {
        self.index.seek(key, ts)?;
        self.load_data_block()?;
        if let Some(data) = self.data() {
            data.seek(key, ts)?;
        }
        self.skip_forward()
    }

    fn try_seek_to_last(&mut self) -> Result<()> {
        self.index.seek_to_last()?;
        self.load_data_block()?;
        if let Some(data) = self.data() {
            data.seek_to_last()?;
        }
        self.skip_backward()
    }

    fn try_seek_for_prev(&mut self, key: &[u8], ts: Timestamp) -> Result<()> {
        self.try_seek(key, ts)?;
        if !self.valid() {
            return self.try_seek_to_last();
        }
        if compare_internal(self.key(), self.ts(), key, ts) == Ordering::Greater {
            return self.try_prev();
        }
        Ok(())
    }

    fn try_prev(&mut self) -> Result<()> {
        if let Some(data) = self.data() {
            data.prev()?;
        }
        self.skip_backward()
    }

    /// Runs a move; on an error the cursor is left invalid.
    fn guarded(&mut self, step: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        let result = step(self);
        if result.is_err() {
            self.data = None;
        }
        result
    }
}

impl InternalIter for TableIter {
    fn valid(&self) -> bool {
        self.data_valid()
    }

    fn seek_to_first(&mut self) -> Result<()> {
        self.guarded(|it| {
            it.index.seek_to_first()?;
            it.load_data_block()?;
            if let Some(data) = it.data() {
                data.seek_to_first()?;
            }
            it.skip_forward()
        })
    }

    fn seek_to_last(&mut self) -> Result<()> {
        self.guarded(Self::try_seek_to_last)
    }

    fn seek(&mut self, key: &[u8], ts: Timestamp) -> Result<()> {
        self.guarded(|it| it.try_seek(key, ts))
    }

    fn seek_for_prev(&mut self, key: &[u8], ts: Timestamp) -> Result<()> {
        self.guarded(|it| it.try_seek_for_prev(key, ts))
    }

    fn next(&mut self) -> Result<()> {
        debug_assert!(self.valid(), "next on an invalid table cursor");
        self.guarded(|it| {
            if let Some(data) = it.data() {
                data.next()?;
            }
            it.skip_forward()
        })
    }

    fn prev(&mut self) -> Result<()> {
        debug_assert!(self.valid(), "prev on an invalid table cursor");
        self.guarded(Self::try_prev)
    }

    fn key(&self) -> &[u8] {
        self.data.as_ref().map_or(&[], |(_, data)| data.key())
    }

    fn ts(&self) -> Timestamp {
        self.data.as_ref().map_or(Timestamp::ZERO, |(_, data)| data.ts())
    }

    fn value(&self) -> Option<&[u8]> {
        self.data.as_ref().and_then(|(_, data)| data.value())
    }
}

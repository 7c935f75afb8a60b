//! [`MemtableIter`]: an [`InternalIter`] over one memtable that owns an `Arc` of it.
//!
//! The cursor keeps a copy of the entry it is on and finds its neighbours by searching the
//! skiplist from that key, so it borrows nothing and stays valid while writers insert.

use std::{ops::Bound, sync::Arc};

use lightning_core_storage::{Result, Timestamp};

use super::Memtable;
use crate::{InternalIter, internal_key::InternalKey};

/// A cursor over a memtable's versions (see the module docs). The copy of the current entry
/// reuses its buffers from step to step.
#[derive(Debug)]
pub struct MemtableIter {
    memtable: Arc<Memtable>,
    valid: bool,
    key: InternalKey,
    value: Vec<u8>,
    tombstone: bool,
}

type Entry<'a> = crossbeam_skiplist::map::Entry<'a, InternalKey, Option<Vec<u8>>>;

impl MemtableIter {
    /// An unpositioned cursor over `memtable`.
    pub fn new(memtable: Arc<Memtable>) -> Self {
        MemtableIter {
            memtable,
            valid: false,
            key: InternalKey::new(Vec::new(), Timestamp::ZERO),
            value: Vec::new(),
            tombstone: false,
        }
    }

    fn set(&mut self, entry: Option<Entry<'_>>) {
        self.valid = entry.is_some();
        if let Some(entry) = entry {
            self.key.key.clear();
            self.key.key.extend_from_slice(&entry.key().key);
            self.key.ts = entry.key().ts;
            self.value.clear();
            match entry.value() {
                Some(value) => {
                    self.value.extend_from_slice(value);
                    self.tombstone = false;
                }
                None => self.tombstone = true,
            }
        }
    }

    fn assert_valid(&self) {
        assert!(self.valid, "REQUIRES: the memtable cursor is valid");
    }
}

impl InternalIter for MemtableIter {
    fn valid(&self) -> bool {
        self.valid
    }

    fn seek_to_first(&mut self) -> Result<()> {
        let memtable = Arc::clone(&self.memtable);
        self.set(memtable.map().front());
        Ok(())
    }

    fn seek_to_last(&mut self) -> Result<()> {
        let memtable = Arc::clone(&self.memtable);
        self.set(memtable.map().back());
        Ok(())
    }

    fn seek(&mut self, key: &[u8], ts: Timestamp) -> Result<()> {
        let memtable = Arc::clone(&self.memtable);
        self.set(memtable.map().lower_bound(Bound::Included(&InternalKey::new(key, ts))));
        Ok(())
    }

    fn seek_for_prev(&mut self, key: &[u8], ts: Timestamp) -> Result<()> {
        let memtable = Arc::clone(&self.memtable);
        self.set(memtable.map().upper_bound(Bound::Included(&InternalKey::new(key, ts))));
        Ok(())
    }

    fn next(&mut self) -> Result<()> {
        self.assert_valid();
        let memtable = Arc::clone(&self.memtable);
        let found = memtable.map().lower_bound(Bound::Excluded(&self.key));
        self.set(found);
        Ok(())
    }

    fn prev(&mut self) -> Result<()> {
        self.assert_valid();
        let memtable = Arc::clone(&self.memtable);
        let found = memtable.map().upper_bound(Bound::Excluded(&self.key));
        self.set(found);
        Ok(())
    }

    fn key(&self) -> &[u8] {
        self.assert_valid();
        &self.key.key
    }

    fn ts(&self) -> Timestamp {
        self.assert_valid();
        self.key.ts
    }

    fn value(&self) -> Option<&[u8]> {
        self.assert_valid();
        (!self.tombstone).then_some(self.value.as_slice())
    }
}

//! [`MemtableIter`]: an [`InternalIter`] over one memtable that owns an `Arc` of it.
//!
//! The cursor keeps a copy of the entry it is on and finds its neighbours by searching the
//! skiplist from that key, so it borrows nothing and stays valid while writers insert.

use std::{ops::Bound, sync::Arc};

use lightning_core_storage::{Result, Timestamp};

use super::Memtable;
use crate::{InternalIter, internal_key::InternalKey};

/// A cursor over a memtable's versions (see the module docs).
#[derive(Debug)]
pub struct MemtableIter {
    memtable: Arc<Memtable>,
    current: Option<(InternalKey, Option<Vec<u8>>)>,
}

impl MemtableIter {
    /// An unpositioned cursor over `memtable`.
    pub fn new(memtable: Arc<Memtable>) -> Self {
        MemtableIter { memtable, current: None }
    }

    fn set(
        &mut self,
        entry: Option<crossbeam_skiplist::map::Entry<'_, InternalKey, Option<Vec<u8>>>>,
    ) {
        self.current = entry.map(|e| (e.key().clone(), e.value().clone()));
    }

    fn current(&self) -> &(InternalKey, Option<Vec<u8>>) {
        self.current.as_ref().expect("REQUIRES: the cursor is valid")
    }
}

impl InternalIter for MemtableIter {
    fn valid(&self) -> bool {
        self.current.is_some()
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
        let memtable = Arc::clone(&self.memtable);
        let at = self.current.take().map(|(key, _)| key);
        self.set(at.and_then(|key| memtable.map().lower_bound(Bound::Excluded(&key))));
        Ok(())
    }

    fn prev(&mut self) -> Result<()> {
        let memtable = Arc::clone(&self.memtable);
        let at = self.current.take().map(|(key, _)| key);
        self.set(at.and_then(|key| memtable.map().upper_bound(Bound::Excluded(&key))));
        Ok(())
    }

    fn key(&self) -> &[u8] {
        &self.current().0.key
    }

    fn ts(&self) -> Timestamp {
        self.current().0.ts
    }

    fn value(&self) -> Option<&[u8]> {
        self.current().1.as_deref()
    }
}

//! sled 0.34.7: a lock-free Bw-tree-like log-structured store. Its last release is from 2021
//! and it does not reliably fsync, so its durable rows print "n/a" (it still runs them, as
//! the later rows need their data).
//!
//! Mapping: individual writes are `insert` (atomic per key); bulk loads, batches and deletes
//! are one atomic `Batch` (`apply_batch`; sled's `transaction` API holds everything in memory
//! and is far slower for a million keys); no flush on commit in either mode (sled flushes in
//! the background every 500 ms by default). Reads see the latest data (sled has no
//! snapshots). No compaction API: the compacted-size row is measured after close + reopen.

use std::path::Path;

use sled::{Batch, Db};

use crate::driver::{BenchResult, CACHE_BYTES, Driver, Durability, Entry, Reader};
use crate::workloads::{KEY_LEN, fingerprint};

struct Sled {
    db: Db,
}

/// Opens (creating) the database in `dir`. Both modes are the same (see the file header).
pub fn open(dir: &Path, _durability: Durability) -> BenchResult<Box<dyn Driver>> {
    let db = sled::Config::new().path(dir).cache_capacity(CACHE_BYTES).open()?;
    Ok(Box::new(Sled { db }))
}

impl Driver for Sled {
    fn bulk_load(&self, entries: &mut dyn Iterator<Item = Entry<'_>>) -> BenchResult<()> {
        let mut batch = Batch::default();
        for (key, value) in entries {
            batch.insert(&key[..], value);
        }
        Ok(self.db.apply_batch(batch)?)
    }

    fn put(&self, key: &[u8], value: &[u8]) -> BenchResult<()> {
        self.db.insert(key, value)?;
        Ok(())
    }

    fn write_batch(&self, entries: &mut dyn Iterator<Item = Entry<'_>>) -> BenchResult<()> {
        self.bulk_load(entries)
    }

    fn delete_all(&self, keys: &mut dyn Iterator<Item = [u8; KEY_LEN]>) -> BenchResult<()> {
        let mut batch = Batch::default();
        for key in keys {
            batch.remove(&key[..]);
        }
        Ok(self.db.apply_batch(batch)?)
    }

    fn read_modify_write(&self, key: &[u8], value: &[u8]) -> BenchResult<()> {
        std::hint::black_box(self.get(key)?);
        self.put(key, value)
    }

    fn reader(&self) -> BenchResult<Box<dyn Reader + '_>> {
        Ok(Box::new(SledReader { db: &self.db }))
    }

    fn compact(&mut self) -> BenchResult<bool> {
        Ok(false)
    }

    fn close(self: Box<Self>) -> BenchResult<()> {
        self.db.flush()?;
        Ok(())
    }
}

struct SledReader<'db> {
    db: &'db Db,
}

impl Reader for SledReader<'_> {
    fn get(&mut self, key: &[u8]) -> BenchResult<Option<u64>> {
        Ok(self.db.get(key)?.map(|value| fingerprint(&value)))
    }

    fn scan(&mut self, start: &[u8], count: usize) -> BenchResult<usize> {
        let mut read = 0;
        for entry in self.db.range(start..).take(count) {
            let (_, value) = entry?;
            std::hint::black_box(fingerprint(&value));
            read += 1;
        }
        Ok(read)
    }
}

//! Lightning DB through its public facade (`lightning-db`) only: the B+Tree engine, and the
//! LSM engine once it stops answering `Unsupported` (then its column fills in by itself).
//!
//! Mapping: durable = `Durability::Immediate` (the log is fsynced before a commit returns);
//! no-sync = `Durability::None`. Bulk load and deletes: one `Transaction`; individual writes:
//! `Database::put` (one atomic commit); batches: `Database::write(WriteBatch)`; YCSB F:
//! `Database::transaction` (retried on conflict); reads: a `Snapshot` (range reads with its
//! copy-free `scan_with`). The B+Tree's faster
//! `bulk_load` is not reachable through the facade and is not used. No compaction API: the
//! compacted-size row is measured after close + reopen.

use std::{
    ops::{Bound, ControlFlow},
    path::Path,
};

use lightning_db::{Config, Database, Engine, Error, Snapshot, WriteBatch};

use crate::driver::{BenchError, BenchResult, CACHE_BYTES, Driver, Durability, Entry, Reader};
use crate::workloads::{KEY_LEN, fingerprint};

/// An open Lightning DB.
struct Lightning {
    db: Database,
}

/// Opens the B+Tree engine.
pub fn open_btree(dir: &Path, durability: Durability) -> BenchResult<Box<dyn Driver>> {
    open(dir, durability, Engine::BTree)
}

/// Opens the LSM engine (today: `Unsupported`, shown as "n/a").
pub fn open_lsm(dir: &Path, durability: Durability) -> BenchResult<Box<dyn Driver>> {
    open(dir, durability, Engine::Lsm)
}

fn open(dir: &Path, durability: Durability, engine: Engine) -> BenchResult<Box<dyn Driver>> {
    let durability = match durability {
        Durability::Durable => lightning_db::Durability::Immediate,
        Durability::NoSync => lightning_db::Durability::None,
    };
    let config =
        Config::default().engine(engine).durability(durability).cache_size_bytes(CACHE_BYTES);
    match Database::open(dir, config) {
        Ok(db) => Ok(Box::new(Lightning { db })),
        Err(Error::Unsupported(reason)) => Err(BenchError::Unsupported(reason)),
        Err(error) => Err(error.into()),
    }
}

impl Driver for Lightning {
    fn bulk_load(&self, entries: &mut dyn Iterator<Item = Entry<'_>>) -> BenchResult<()> {
        let mut tx = self.db.begin()?;
        for (key, value) in entries {
            tx.put(key, value)?;
        }
        Ok(tx.commit()?)
    }

    fn put(&self, key: &[u8], value: &[u8]) -> BenchResult<()> {
        Ok(self.db.put(key, value)?)
    }

    fn write_batch(&self, entries: &mut dyn Iterator<Item = Entry<'_>>) -> BenchResult<()> {
        let mut batch = WriteBatch::new();
        for (key, value) in entries {
            batch.put(key, value);
        }
        Ok(self.db.write(batch)?)
    }

    fn delete_all(&self, keys: &mut dyn Iterator<Item = [u8; KEY_LEN]>) -> BenchResult<()> {
        let mut tx = self.db.begin()?;
        for key in keys {
            tx.delete(key)?;
        }
        Ok(tx.commit()?)
    }

    fn read_modify_write(&self, key: &[u8], value: &[u8]) -> BenchResult<()> {
        Ok(self.db.transaction(|tx| {
            tx.get(key)?;
            tx.put(key, value)
        })?)
    }

    fn reader(&self) -> BenchResult<Box<dyn Reader + '_>> {
        Ok(Box::new(LightningReader { snapshot: self.db.snapshot()? }))
    }

    fn get(&self, key: &[u8]) -> BenchResult<Option<u64>> {
        Ok(self.db.get(key)?.map(|value| fingerprint(&value)))
    }

    fn compact(&mut self) -> BenchResult<bool> {
        Ok(false)
    }

    fn close(self: Box<Self>) -> BenchResult<()> {
        Ok(self.db.close()?)
    }
}

struct LightningReader {
    snapshot: Snapshot,
}

impl Reader for LightningReader {
    fn get(&mut self, key: &[u8]) -> BenchResult<Option<u64>> {
        Ok(self.snapshot.get(key)?.map(|value| fingerprint(&value)))
    }

    /// The copy-free `Snapshot::scan_with` (entries lent as slices, as the peers' cursors
    /// lend theirs); the owning `Snapshot::range` iterator copies each entry.
    fn scan(&mut self, start: &[u8], count: usize) -> BenchResult<usize> {
        let range = (Bound::Included(start), Bound::Unbounded);
        let mut read = 0;
        if count > 0 {
            self.snapshot.scan_with::<&[u8]>(range, |_, value| {
                std::hint::black_box(fingerprint(value));
                read += 1;
                if read < count { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
            })?;
        }
        Ok(read)
    }

    /// The owning `Snapshot::range` iterator, as a user reads a short range:
    /// `range(start..).take(count)`.
    fn scan_iter(&mut self, start: &[u8], count: usize) -> BenchResult<usize> {
        let mut read = 0;
        for entry in self.snapshot.range(start..)?.take(count) {
            let (_, value) = entry?;
            std::hint::black_box(fingerprint(&value));
            read += 1;
        }
        Ok(read)
    }
}

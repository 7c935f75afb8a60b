//! LMDB through heed 0.22: one memory-mapped B+tree file, readers never block the writer.
//!
//! Mapping: durable = default environment flags (`mdb_txn_commit` fsyncs the data and the
//! meta page); no-sync = `EnvFlags::NO_SYNC`. Every write method is one `RwTxn`; readers are a
//! `RoTxn` (one per thread, as LMDB requires); one-shot reads open a read transaction each.
//! LMDB has no compaction in place (only a compacting copy): the compacted-size row is measured
//! after close + reopen. Sorted input uses ordinary puts, not `MDB_APPEND`, like every engine.
//!
//! The only `unsafe` of the harness lives here: heed marks opening an environment (a memory
//! map) and the `NO_SYNC` flag unsafe.
#![allow(unsafe_code)]

use std::path::Path;

use heed::{Database, Env, EnvFlags, EnvOpenOptions, RoTxn, WithTls, types::Bytes};

use crate::driver::{BenchResult, Driver, Durability, Entry, Reader};
use crate::workloads::{KEY_LEN, fingerprint};

/// Address space reserved for the map; the file grows only as pages are used.
const MAP_SIZE_BYTES: usize = 64 << 30;

struct Lmdb {
    env: Env,
    db: Database<Bytes, Bytes>,
}

/// Opens (creating) the environment in `dir`.
pub fn open(dir: &Path, durability: Durability) -> BenchResult<Box<dyn Driver>> {
    std::fs::create_dir_all(dir)?;
    let mut options = EnvOpenOptions::new();
    options.map_size(MAP_SIZE_BYTES);
    if durability == Durability::NoSync {
        // SAFETY: NO_SYNC only gives up durability after an OS crash or power loss, which is
        // exactly what the no-sync rows measure (and state); it does not affect memory safety
        // of this process, and nothing here relies on the data surviving a crash.
        unsafe { options.flags(EnvFlags::NO_SYNC) };
    }
    // SAFETY: the directory is fresh (made by this benchmark run for this engine) and the
    // environment is opened once at a time by this one process (the previous `Env` is closed
    // and waited for before a reopen); nothing else maps, truncates or modifies its files.
    let env = unsafe { options.open(dir) }?;
    let mut txn = env.write_txn()?;
    let db = env.create_database(&mut txn, None)?;
    txn.commit()?;
    Ok(Box::new(Lmdb { env, db }))
}

impl Driver for Lmdb {
    fn bulk_load(&self, entries: &mut dyn Iterator<Item = Entry<'_>>) -> BenchResult<()> {
        let mut txn = self.env.write_txn()?;
        for (key, value) in entries {
            self.db.put(&mut txn, &key, value)?;
        }
        Ok(txn.commit()?)
    }

    fn put(&self, key: &[u8], value: &[u8]) -> BenchResult<()> {
        let mut txn = self.env.write_txn()?;
        self.db.put(&mut txn, key, value)?;
        Ok(txn.commit()?)
    }

    fn write_batch(&self, entries: &mut dyn Iterator<Item = Entry<'_>>) -> BenchResult<()> {
        self.bulk_load(entries)
    }

    fn delete_all(&self, keys: &mut dyn Iterator<Item = [u8; KEY_LEN]>) -> BenchResult<()> {
        let mut txn = self.env.write_txn()?;
        for key in keys {
            self.db.delete(&mut txn, &key)?;
        }
        Ok(txn.commit()?)
    }

    fn read_modify_write(&self, key: &[u8], value: &[u8]) -> BenchResult<()> {
        let mut txn = self.env.write_txn()?;
        std::hint::black_box(self.db.get(&txn, key)?.map(fingerprint));
        self.db.put(&mut txn, key, value)?;
        Ok(txn.commit()?)
    }

    fn reader(&self) -> BenchResult<Box<dyn Reader + '_>> {
        Ok(Box::new(LmdbReader { txn: self.env.read_txn()?, db: self.db }))
    }

    fn compact(&mut self) -> BenchResult<bool> {
        Ok(false)
    }

    fn close(self: Box<Self>) -> BenchResult<()> {
        let Lmdb { env, .. } = *self;
        env.prepare_for_closing().wait();
        Ok(())
    }
}

struct LmdbReader<'env> {
    txn: RoTxn<'env, WithTls>,
    db: Database<Bytes, Bytes>,
}

impl Reader for LmdbReader<'_> {
    fn get(&mut self, key: &[u8]) -> BenchResult<Option<u64>> {
        Ok(self.db.get(&self.txn, key)?.map(fingerprint))
    }

    fn scan(&mut self, start: &[u8], count: usize) -> BenchResult<usize> {
        let range = (std::ops::Bound::Included(start), std::ops::Bound::Unbounded);
        let mut read = 0;
        for entry in self.db.range(&self.txn, &range)?.take(count) {
            let (_, value) = entry?;
            std::hint::black_box(fingerprint(value));
            read += 1;
        }
        Ok(read)
    }
}

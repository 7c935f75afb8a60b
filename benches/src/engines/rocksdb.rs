//! RocksDB through the `rocksdb` crate 0.24 (RocksDB 10.x, C++), behind the opt-in cargo feature
//! `rocksdb` (it needs `libclang-dev` and ~10 minutes of build; see docs/BENCHMARKS.md).
//!
//! Mapping: every write method is one atomic `WriteBatch` (RocksDB's idiomatic atomic write;
//! plain `DB`, not `TransactionDB`); durable = `WriteOptions::set_sync(true)` (the WAL is
//! fsynced before the write returns); no-sync = `set_sync(false)`. Block cache = the shared
//! cache size, 10-bit bloom filters, no compression (as for every engine). Readers are a
//! `Snapshot`; YCSB F is a read then a write (not atomic on a plain `DB`). Compaction:
//! `compact_range` over everything.

use std::path::Path;

use rocksdb::{
    BlockBasedOptions, Cache, DB, DBCompressionType, Options, SnapshotWithThreadMode, WriteBatch,
    WriteOptions,
};

use crate::driver::{BenchResult, CACHE_BYTES, Driver, Durability, Entry, Reader};
use crate::workloads::{KEY_LEN, fingerprint};

struct Rocks {
    db: DB,
    sync: bool,
}

/// Opens (creating) the database in `dir`.
pub fn open(dir: &Path, durability: Durability) -> BenchResult<Box<dyn Driver>> {
    let cache = Cache::new_lru_cache(CACHE_BYTES as usize);
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(&cache);
    table.set_bloom_filter(10.0, false);
    let mut options = Options::default();
    options.create_if_missing(true);
    options.set_compression_type(DBCompressionType::None);
    options.set_block_based_table_factory(&table);
    options
        .increase_parallelism(std::thread::available_parallelism().map_or(2, |n| n.get()) as i32);
    let db = DB::open(&options, dir)?;
    Ok(Box::new(Rocks { db, sync: durability == Durability::Durable }))
}

impl Rocks {
    fn write(&self, batch: WriteBatch) -> BenchResult<()> {
        let mut options = WriteOptions::default();
        options.set_sync(self.sync);
        Ok(self.db.write_opt(batch, &options)?)
    }
}

impl Driver for Rocks {
    fn bulk_load(&self, entries: &mut dyn Iterator<Item = Entry<'_>>) -> BenchResult<()> {
        let mut batch = WriteBatch::default();
        for (key, value) in entries {
            batch.put(key, value);
        }
        self.write(batch)
    }

    fn put(&self, key: &[u8], value: &[u8]) -> BenchResult<()> {
        let mut batch = WriteBatch::default();
        batch.put(key, value);
        self.write(batch)
    }

    fn write_batch(&self, entries: &mut dyn Iterator<Item = Entry<'_>>) -> BenchResult<()> {
        self.bulk_load(entries)
    }

    fn delete_all(&self, keys: &mut dyn Iterator<Item = [u8; KEY_LEN]>) -> BenchResult<()> {
        let mut batch = WriteBatch::default();
        for key in keys {
            batch.delete(key);
        }
        self.write(batch)
    }

    fn read_modify_write(&self, key: &[u8], value: &[u8]) -> BenchResult<()> {
        std::hint::black_box(self.get(key)?);
        self.put(key, value)
    }

    fn reader(&self) -> BenchResult<Box<dyn Reader + '_>> {
        Ok(Box::new(RocksReader { snapshot: self.db.snapshot() }))
    }

    fn get(&self, key: &[u8]) -> BenchResult<Option<u64>> {
        Ok(self.db.get_pinned(key)?.map(|value| fingerprint(&value)))
    }

    fn compact(&mut self) -> BenchResult<bool> {
        self.db.compact_range(None::<&[u8]>, None::<&[u8]>);
        Ok(true)
    }

    fn close(self: Box<Self>) -> BenchResult<()> {
        self.db.flush_wal(true)?;
        Ok(())
    }
}

struct RocksReader<'db> {
    snapshot: SnapshotWithThreadMode<'db, DB>,
}

impl Reader for RocksReader<'_> {
    fn get(&mut self, key: &[u8]) -> BenchResult<Option<u64>> {
        Ok(self.snapshot.get(key)?.map(|value| fingerprint(&value)))
    }

    fn scan(&mut self, start: &[u8], count: usize) -> BenchResult<usize> {
        let mut iter = self.snapshot.raw_iterator();
        iter.seek(start);
        let mut read = 0;
        while read < count {
            let Some(value) = iter.value() else { break };
            std::hint::black_box(fingerprint(value));
            read += 1;
            iter.next();
        }
        iter.status()?;
        Ok(read)
    }
}

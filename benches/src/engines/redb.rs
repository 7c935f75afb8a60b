//! redb 4.x: one file, a copy-on-write B-tree with a user-space page cache.
//!
//! Mapping: durable = `redb::Durability::Immediate` (redb's default: the commit is fsynced
//! before `commit` returns); no-sync = `Durability::None`. Every write method is one
//! `WriteTransaction` on one table; readers are a `ReadTransaction`'s table; one-shot reads open
//! a read transaction each. Compaction: `Database::compact`, repeated until it reports nothing
//! left to do.

use std::path::Path;

use redb::{Database, ReadOnlyTable, ReadableDatabase, ReadableTable, Table, TableDefinition};

use crate::driver::{BenchResult, CACHE_BYTES, Driver, Durability, Entry, Reader};
use crate::workloads::{KEY_LEN, fingerprint};

const TABLE: TableDefinition<'static, &'static [u8], &'static [u8]> = TableDefinition::new("bench");

/// `compact` calls after which the harness stops asking for more.
const MAX_COMPACTIONS: usize = 64;

struct Redb {
    db: Database,
    durability: redb::Durability,
}

/// Opens `dir/bench.redb`, creating the table so that readers find it.
pub fn open(dir: &Path, durability: Durability) -> BenchResult<Box<dyn Driver>> {
    std::fs::create_dir_all(dir)?;
    let db =
        Database::builder().set_cache_size(CACHE_BYTES as usize).create(dir.join("bench.redb"))?;
    let durability = match durability {
        Durability::Durable => redb::Durability::Immediate,
        Durability::NoSync => redb::Durability::None,
    };
    let redb = Redb { db, durability };
    redb.write(|_| Ok(()))?;
    Ok(Box::new(redb))
}

impl Redb {
    /// Runs `body` on the table in one write transaction and commits it.
    fn write(
        &self,
        body: impl FnOnce(&mut Table<'_, &[u8], &[u8]>) -> BenchResult<()>,
    ) -> BenchResult<()> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(self.durability)?;
        {
            let mut table = txn.open_table(TABLE)?;
            body(&mut table)?;
        }
        Ok(txn.commit()?)
    }
}

impl Driver for Redb {
    fn bulk_load(&self, entries: &mut dyn Iterator<Item = Entry<'_>>) -> BenchResult<()> {
        self.write(|table| {
            for (key, value) in entries {
                table.insert(&key[..], value)?;
            }
            Ok(())
        })
    }

    fn put(&self, key: &[u8], value: &[u8]) -> BenchResult<()> {
        self.write(|table| {
            table.insert(key, value)?;
            Ok(())
        })
    }

    fn write_batch(&self, entries: &mut dyn Iterator<Item = Entry<'_>>) -> BenchResult<()> {
        self.bulk_load(entries)
    }

    fn delete_all(&self, keys: &mut dyn Iterator<Item = [u8; KEY_LEN]>) -> BenchResult<()> {
        self.write(|table| {
            for key in keys {
                table.remove(&key[..])?;
            }
            Ok(())
        })
    }

    fn read_modify_write(&self, key: &[u8], value: &[u8]) -> BenchResult<()> {
        self.write(|table| {
            let old = table.get(key)?.map(|guard| fingerprint(guard.value()));
            std::hint::black_box(old);
            table.insert(key, value)?;
            Ok(())
        })
    }

    fn reader(&self) -> BenchResult<Box<dyn Reader + '_>> {
        let table = self.db.begin_read()?.open_table(TABLE)?;
        Ok(Box::new(RedbReader { table }))
    }

    fn compact(&mut self) -> BenchResult<bool> {
        for _ in 0..MAX_COMPACTIONS {
            if !self.db.compact()? {
                break;
            }
        }
        Ok(true)
    }

    fn close(self: Box<Self>) -> BenchResult<()> {
        Ok(self.db.close()?)
    }
}

struct RedbReader {
    table: ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl Reader for RedbReader {
    fn get(&mut self, key: &[u8]) -> BenchResult<Option<u64>> {
        Ok(self.table.get(key)?.map(|guard| fingerprint(guard.value())))
    }

    fn scan(&mut self, start: &[u8], count: usize) -> BenchResult<usize> {
        let mut read = 0;
        for entry in self.table.range(start..)?.take(count) {
            let (_, value) = entry?;
            std::hint::black_box(fingerprint(value.value()));
            read += 1;
        }
        Ok(read)
    }
}

//! fjall 3.x: a pure-Rust LSM tree (journal + memtables + sorted tables), built without its
//! default LZ4 feature so that no engine in the table compresses.
//!
//! Mapping: every write method is one atomic `OwnedWriteBatch` (fjall's atomic multi-key
//! write) on one keyspace; durable = the batch commits with `PersistMode::SyncAll` (the
//! journal is fsynced before `commit` returns); no-sync = no persist (the journal reaches the
//! OS when its buffer fills). Readers are a `Snapshot`; one-shot reads go to the keyspace.
//! YCSB F's read-modify-write is a read then a one-write batch: plain fjall has no read-write
//! transaction (its transactional databases are a different API), so F is not atomic here.
//! Compaction: rotate the memtable into a table, then `Keyspace::major_compact`.

use std::path::Path;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode, Readable, Snapshot};

use crate::driver::{BenchResult, CACHE_BYTES, Driver, Durability, Entry, Reader};
use crate::workloads::{KEY_LEN, fingerprint};

struct Fjall {
    db: Database,
    keyspace: Keyspace,
    persist: Option<PersistMode>,
}

/// Opens (creating) the database in `dir` with one keyspace.
pub fn open(dir: &Path, durability: Durability) -> BenchResult<Box<dyn Driver>> {
    let db = Database::builder(dir).cache_size(CACHE_BYTES).open()?;
    let keyspace = db.keyspace("bench", KeyspaceCreateOptions::default)?;
    let persist = match durability {
        Durability::Durable => Some(PersistMode::SyncAll),
        Durability::NoSync => None,
    };
    Ok(Box::new(Fjall { db, keyspace, persist }))
}

impl Fjall {
    fn commit(&self, entries: &mut dyn Iterator<Item = Entry<'_>>) -> BenchResult<()> {
        let mut batch = self.db.batch().durability(self.persist);
        for (key, value) in entries {
            batch.insert(&self.keyspace, key.to_vec(), value);
        }
        Ok(batch.commit()?)
    }
}

impl Driver for Fjall {
    fn bulk_load(&self, entries: &mut dyn Iterator<Item = Entry<'_>>) -> BenchResult<()> {
        self.commit(entries)
    }

    fn put(&self, key: &[u8], value: &[u8]) -> BenchResult<()> {
        let mut batch = self.db.batch().durability(self.persist);
        batch.insert(&self.keyspace, key, value);
        Ok(batch.commit()?)
    }

    fn write_batch(&self, entries: &mut dyn Iterator<Item = Entry<'_>>) -> BenchResult<()> {
        self.commit(entries)
    }

    fn delete_all(&self, keys: &mut dyn Iterator<Item = [u8; KEY_LEN]>) -> BenchResult<()> {
        let mut batch = self.db.batch().durability(self.persist);
        for key in keys {
            batch.remove(&self.keyspace, key.to_vec());
        }
        Ok(batch.commit()?)
    }

    fn read_modify_write(&self, key: &[u8], value: &[u8]) -> BenchResult<()> {
        std::hint::black_box(self.get(key)?);
        self.put(key, value)
    }

    fn reader(&self) -> BenchResult<Box<dyn Reader + '_>> {
        Ok(Box::new(FjallReader { snapshot: self.db.snapshot(), keyspace: &self.keyspace }))
    }

    fn get(&self, key: &[u8]) -> BenchResult<Option<u64>> {
        Ok(self.keyspace.get(key)?.map(|value| fingerprint(&value)))
    }

    fn compact(&mut self) -> BenchResult<bool> {
        self.keyspace.rotate_memtable_and_wait()?;
        self.keyspace.major_compact()?;
        Ok(true)
    }

    fn close(self: Box<Self>) -> BenchResult<()> {
        self.db.persist(PersistMode::SyncAll)?;
        Ok(())
    }
}

struct FjallReader<'db> {
    snapshot: Snapshot,
    keyspace: &'db Keyspace,
}

impl Reader for FjallReader<'_> {
    fn get(&mut self, key: &[u8]) -> BenchResult<Option<u64>> {
        Ok(self.snapshot.get(self.keyspace, key)?.map(|value| fingerprint(&value)))
    }

    fn scan(&mut self, start: &[u8], count: usize) -> BenchResult<usize> {
        let mut read = 0;
        for guard in self.snapshot.range(self.keyspace, start..).take(count) {
            let (_, value) = guard.into_inner()?;
            std::hint::black_box(fingerprint(&value));
            read += 1;
        }
        Ok(read)
    }
}

//! Flushing: an immutable memtable becomes an L0 table, the manifest records it with the LSN
//! now durable, and only then does the memtable leave the super version.

use std::sync::{Arc, atomic::Ordering};

use lightning_core_storage::{Lsn, Result, engine::DurableState};

use super::{Shared, state::SuperVersion};
use crate::{
    TableMeta,
    manifest::Manifest,
    memtable::Memtable,
    sstable::{Table, TableWriter},
    version::VersionEdit,
};

impl Shared {
    /// Flushes the oldest immutable memtable, if there is one; true if it did.
    pub(crate) fn flush_oldest(&self) -> Result<bool> {
        let _flush = self.flush_lock.lock();
        let Some(memtable) = self.current().immutables.last().cloned() else {
            return Ok(false);
        };
        self.flush_memtable(&memtable).inspect_err(|e| self.fail(e))?;
        Ok(true)
    }

    /// Makes everything applied so far durable: switches the active memtable and flushes every
    /// memtable up to it. Returns the durable state.
    pub(crate) fn flush_all(&self) -> Result<DurableState> {
        self.check_writable()?;
        let last_id = {
            let _gate = self.apply_gate.write();
            let sv = self.current();
            if sv.active.has_batches() {
                self.switch_memtable(&sv);
            }
            self.current().immutables.first().map(|m| m.id())
        };
        // Taken even with nothing to flush: the flush thread may have installed the last
        // memtable's table but not yet raised the durable LSN, which it does under this lock.
        let _flush = self.flush_lock.lock();
        if let Some(last_id) = last_id {
            while let Some(memtable) = self.current().immutables.last().cloned() {
                if memtable.id() > last_id {
                    break;
                }
                self.flush_memtable(&memtable).inspect_err(|e| self.fail(e))?;
            }
        }
        Ok(*self.durable.lock())
    }

    /// Writes `memtable` as an L0 table (none if it holds no version), logs the edit and
    /// installs it. REQUIRES: the flush lock; `memtable` is the oldest immutable one.
    fn flush_memtable(&self, memtable: &Arc<Memtable>) -> Result<()> {
        self.check_writable()?;
        let written = if !memtable.is_empty() {
            let number = self.next_file_number.fetch_add(1, Ordering::Relaxed);
            Some(self.write_table(number, memtable)?)
        } else {
            None
        };
        let previous = *self.durable.lock();
        let lsn = self.flushed_lsn(memtable, previous.lsn);
        let max_commit_ts = previous.max_commit_ts.max(memtable.max_ts());
        if lsn > previous.lsn {
            // The log first: the manifest must not claim LSNs the log could still lose (a
            // `Durability::None` commit's record may be buffered in memory only).
            let barrier = self.log_barrier.lock().clone();
            if let Some(barrier) = barrier {
                barrier.make_durable(lsn)?;
            }
        }
        let mut edit = VersionEdit::new();
        edit.next_file_number = Some(self.next_file_number.load(Ordering::Relaxed));
        edit.durable_lsn = Some(lsn);
        edit.max_commit_ts = Some(max_commit_ts);
        let mut added = Vec::new();
        if let Some((meta, table)) = written {
            self.counters.bytes_flushed.fetch_add(meta.file_size, Ordering::Relaxed);
            edit.add_table(0, meta);
            added.push(table);
        }
        let mut manifest = self.manifest.lock();
        self.install(&mut manifest, &edit, added, Some(memtable.id()))?;
        drop(manifest);
        *self.durable.lock() = DurableState { lsn, log_floor: lsn, max_commit_ts };
        self.counters.flushes.fetch_add(1, Ordering::Relaxed);
        self.signal.progress();
        self.signal.work();
        Ok(())
    }

    /// The LSN durable once `memtable` is in a table: its highest, but below any LSN still in
    /// a younger memtable (every lower LSN must be flushed), and never below `durable`.
    fn flushed_lsn(&self, memtable: &Memtable, durable: Lsn) -> Lsn {
        let sv = self.current();
        let younger_min =
            sv.memtables().filter(|m| m.id() > memtable.id()).filter_map(|m| m.min_lsn()).min();
        let mut lsn = memtable.max_lsn();
        if let Some(min) = younger_min {
            lsn = lsn.min(Lsn(min.0.saturating_sub(1)));
        }
        lsn.max(durable)
    }

    /// Writes table `number` from `memtable`'s versions, syncs the directory and opens it.
    fn write_table(&self, number: u64, memtable: &Memtable) -> Result<(TableMeta, Arc<Table>)> {
        let path = self.table_path(number);
        let written = (|| {
            let mut writer = TableWriter::create(&*self.vfs, &path, number, &self.options.table)?;
            for entry in memtable.map().iter() {
                writer.add(&entry.key().key, entry.key().ts, entry.value().as_deref())?;
            }
            let meta = writer.finish()?;
            self.vfs.sync_dir(&self.dir)?;
            let table = Table::open(&*self.vfs, &path, number, self.cache.clone())?;
            Ok((meta, table))
        })();
        if written.is_err() {
            // Best effort: a leftover is an orphan, deleted on the next open.
            let _ = self.vfs.remove(&path);
        }
        written
    }

    /// Logs `edit` and installs its result as the current super version: `added` tables
    /// opened, removed ones moved to the obsolete list, the flushed memtable (if any) gone.
    /// REQUIRES: the manifest lock (`manifest`).
    pub(crate) fn install(
        &self,
        manifest: &mut Manifest,
        edit: &VersionEdit,
        added: Vec<Arc<Table>>,
        flushed_memtable: Option<u64>,
    ) -> Result<()> {
        manifest.log_edit(edit).inspect_err(|e| self.fail(e))?;
        let version = Arc::new(manifest.version().clone());
        let mut state = self.state.write();
        let mut tables = (*state.tables).clone();
        let mut removed = Vec::new();
        for (_, number) in &edit.removed {
            if let Some(table) = tables.remove(number) {
                removed.push(table);
            }
        }
        for table in added {
            tables.insert(table.file_number(), table);
        }
        let immutables =
            state.immutables.iter().filter(|m| Some(m.id()) != flushed_memtable).cloned().collect();
        *state = Arc::new(SuperVersion {
            active: Arc::clone(&state.active),
            immutables,
            version,
            tables: Arc::new(tables),
            level_runs: std::sync::OnceLock::new(),
        });
        drop(state);
        self.obsolete.lock().extend(removed);
        Ok(())
    }

    /// Deletes the files of obsolete tables no snapshot holds any more.
    pub(crate) fn delete_obsolete(&self) {
        let mut obsolete = self.obsolete.lock();
        obsolete.retain(|table| {
            if Arc::strong_count(table) > 1 {
                return true;
            }
            let path = self.table_path(table.file_number());
            if let Some(cache) = &self.cache {
                cache.invalidate_file(table.file_number());
            }
            match self.vfs.remove(&path) {
                Ok(()) => tracing::debug!(table = %path.display(), "deleted a compacted table"),
                Err(e) => tracing::warn!(table = %path.display(), error = %e,
                    "could not delete a compacted table; it is left as an orphan for the next open"),
            }
            false
        });
    }
}

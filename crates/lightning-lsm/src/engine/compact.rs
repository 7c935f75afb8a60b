//! Compactions from the engine's side: picking a job and claiming its tables, running it
//! (a trivial move, or a merge through [`crate::compaction::run`]), logging the edit and
//! retiring the inputs; `compact_range` and full garbage collection.

use std::sync::{Arc, atomic::Ordering};

use lightning_core_storage::Result;

use super::Shared;
use crate::{
    InternalIter,
    compaction::{
        pick::{CompactionJob, pick_compaction, pick_range},
        run::{OutputSpec, merge_into_tables},
    },
    level_iter::LevelIter,
    merge::MergingIter,
    sstable::Table,
    version::VersionEdit,
};

/// The outcome of trying to claim a job's tables.
enum Claim {
    /// Nothing to do.
    Nothing,
    /// Some table is in another compaction: wait and pick again.
    Busy,
    /// The job, its tables marked busy.
    Job(CompactionJob),
}

impl Shared {
    /// Runs one background compaction if some level needs one; true if it did.
    pub(crate) fn compact_once(&self) -> Result<bool> {
        self.check_writable()?;
        let job = {
            let _manifest = self.manifest.lock();
            let sv = self.current();
            let mut busy = self.busy.lock();
            let picked = pick_compaction(&sv.version, &self.options.compaction, &busy)
                .or_else(|| tombstone_job(&sv.version, self.horizon(), &busy));
            let Some(job) = picked else {
                return Ok(false);
            };
            busy.extend(job_tables(&job));
            job
        };
        let dropped = self.run_claimed(&job)?;
        self.unreported_dropped.fetch_add(dropped, Ordering::Relaxed);
        Ok(true)
    }

    /// Pushes every table overlapping `[start, end]` down to the last level, then rewrites
    /// the last level's overlapping tables there (dropping garbage below the horizon).
    /// Returns the versions dropped.
    pub(crate) fn compact_range(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<u64> {
        let levels = self.options.compaction.num_levels;
        let mut dropped = 0;
        for level in 0..levels {
            loop {
                self.check_writable()?;
                match self.claim(|sv| {
                    pick_range(&sv.version, &self.options.compaction, start, end, level)
                }) {
                    Claim::Nothing => break,
                    Claim::Busy => {
                        self.signal.wait_for_progress(std::time::Duration::from_millis(20))
                    }
                    Claim::Job(job) => {
                        dropped += self.run_claimed(&job)?;
                        break;
                    }
                }
            }
        }
        self.delete_obsolete();
        Ok(dropped)
    }

    fn claim(
        &self,
        pick: impl FnOnce(&super::state::SuperVersion) -> Option<CompactionJob>,
    ) -> Claim {
        let _manifest = self.manifest.lock();
        let sv = self.current();
        let Some(job) = pick(&sv) else {
            return Claim::Nothing;
        };
        let mut busy = self.busy.lock();
        if job_tables(&job).any(|n| busy.contains(&n)) {
            return Claim::Busy;
        }
        busy.extend(job_tables(&job));
        Claim::Job(job)
    }

    /// Runs a claimed job and releases its tables whatever happens. Returns versions dropped.
    fn run_claimed(&self, job: &CompactionJob) -> Result<u64> {
        let result = self.run_job(job).inspect_err(|e| self.fail(e));
        {
            let mut busy = self.busy.lock();
            for number in job_tables(job) {
                busy.remove(&number);
            }
        }
        self.signal.progress();
        self.signal.work();
        result
    }

    fn run_job(&self, job: &CompactionJob) -> Result<u64> {
        let mut edit = VersionEdit::new();
        for meta in &job.inputs {
            edit.remove_table(job.input_level, meta.file_number);
        }
        if job.trivial_move {
            for meta in &job.inputs {
                edit.add_table(job.output_level, (**meta).clone());
            }
            let mut manifest = self.manifest.lock();
            self.install_keeping_tables(&mut manifest, &edit)?;
            self.counters.trivial_moves.fetch_add(1, Ordering::Relaxed);
            return Ok(0);
        }
        for meta in &job.overlapping {
            edit.remove_table(job.output_level, meta.file_number);
        }
        let sv = self.current();
        let open = |metas: &[Arc<crate::TableMeta>]| -> Result<Vec<_>> {
            metas
                .iter()
                .map(|m| Ok((Arc::clone(m), Arc::clone(sv.table(m.file_number)?))))
                .collect()
        };
        let mut children: Vec<Box<dyn InternalIter>> = Vec::new();
        if job.input_level == 0 {
            for (_, table) in open(&job.inputs)? {
                children.push(Box::new(table.iter()));
            }
        } else {
            children.push(Box::new(LevelIter::new(open(&job.inputs)?)));
        }
        if !job.overlapping.is_empty() {
            children.push(Box::new(LevelIter::new(open(&job.overlapping)?)));
        }
        // An in-place rewrite must not span the gaps between its inputs (see `split_before`).
        let split_before: Vec<Vec<u8>> = if job.input_level == job.output_level {
            job.inputs.iter().skip(1).map(|m| m.smallest.key.clone()).collect()
        } else {
            Vec::new()
        };
        let spec = OutputSpec {
            vfs: &*self.vfs,
            dir: &self.dir,
            table: &self.options.table,
            target_file_size: self.options.compaction.target_file_size,
            horizon: self.horizon(),
            bottommost: job.bottommost,
            split_before: &split_before,
        };
        let mut next_number = || self.next_file_number.fetch_add(1, Ordering::Relaxed);
        let output = merge_into_tables(MergingIter::new(children), &spec, &mut next_number)?;
        let opened = (|| {
            self.vfs.sync_dir(&self.dir)?;
            output
                .tables
                .iter()
                .map(|meta| {
                    let path = self.table_path(meta.file_number);
                    Table::open(&*self.vfs, &path, meta.file_number, self.cache.clone())
                })
                .collect::<Result<Vec<_>>>()
        })();
        let opened = match opened {
            Ok(opened) => opened,
            Err(e) => {
                for meta in &output.tables {
                    let _ = self.vfs.remove(&self.table_path(meta.file_number));
                }
                return Err(e);
            }
        };
        let written: u64 = output.tables.iter().map(|m| m.file_size).sum();
        for meta in output.tables {
            edit.add_table(job.output_level, meta);
        }
        edit.next_file_number = Some(self.next_file_number.load(Ordering::Relaxed));
        let mut manifest = self.manifest.lock();
        self.install(&mut manifest, &edit, opened, None)?;
        drop(manifest);
        self.counters.bytes_compacted.fetch_add(written, Ordering::Relaxed);
        self.counters.compactions.fetch_add(1, Ordering::Relaxed);
        self.counters.versions_dropped.fetch_add(output.versions_dropped, Ordering::Relaxed);
        tracing::debug!(
            from = job.input_level,
            to = job.output_level,
            inputs = job.inputs.len() + job.overlapping.len(),
            versions = output.versions_in,
            dropped = output.versions_dropped,
            "compaction done"
        );
        Ok(output.versions_dropped)
    }

    /// Installs an edit that moves tables between levels: the open tables stay as they are.
    fn install_keeping_tables(
        &self,
        manifest: &mut crate::manifest::Manifest,
        edit: &VersionEdit,
    ) -> Result<()> {
        let sv = self.current();
        let moved = edit
            .removed
            .iter()
            .map(|(_, number)| sv.table(*number).map(Arc::clone))
            .collect::<Result<Vec<_>>>()?;
        self.install(manifest, edit, moved, None)?;
        // `install` retired the moved tables; they are still live under their new level.
        let mut obsolete = self.obsolete.lock();
        obsolete
            .retain(|t| !edit.added.iter().any(|(_, meta)| meta.file_number == t.file_number()));
        Ok(())
    }
}

/// The file numbers a job reads.
fn job_tables(job: &CompactionJob) -> impl Iterator<Item = u64> + '_ {
    job.inputs.iter().chain(job.overlapping.iter()).map(|m| m.file_number)
}

/// When no level needs compacting: a rewrite in place of one last-level table whose
/// tombstones are all at or below the GC horizon (none is newer than it), so that they and the
/// versions they hide are dropped (as RocksDB compacts bottommost files marked for it). The
/// rewritten table holds no tombstone, so the same table is never picked twice.
fn tombstone_job(
    version: &crate::version::Version,
    horizon: lightning_core_storage::Timestamp,
    busy: &std::collections::HashSet<u64>,
) -> Option<CompactionJob> {
    let last = version.num_levels().checked_sub(1)?;
    let table = version
        .level(last)
        .iter()
        .find(|t| t.tombstones > 0 && t.max_ts <= horizon && !busy.contains(&t.file_number))?;
    Some(CompactionJob {
        input_level: last,
        output_level: last,
        inputs: vec![Arc::clone(table)],
        overlapping: Vec::new(),
        trivial_move: false,
        bottommost: true,
    })
}

//! [`Wal`]: the public handle of an open log.

use std::{fmt, path::Path, sync::Arc, thread::JoinHandle, time::Duration};

use lightning_core_storage::{
    Lsn, Poison,
    vfs::{OpenMode, Vfs, create_dir_durably},
};
use lightning_security::SEAL_OVERHEAD;
use parking_lot::Mutex;

use crate::{
    encoder::{Encoder, Position},
    error::{Error, Result},
    format::{FormatVersion, SegmentHeader},
    group_commit::{Goal, Io, Published, Shared, State},
    options::{Durability, WalOptions},
    recovery,
    replay::WalIter,
    segment::{
        SegmentIndex, SegmentMeta, create_segment, list_segments, remove_segment, segment_path,
    },
    stats::WalStats,
    syncer,
    transform::Transform,
};

/// Records appended with [`Durability::None`] are written out (not synced) once this many
/// encoded bytes wait in memory, so the buffer stays bounded.
pub const MAX_BUFFERED_BYTES: usize = 4 << 20;

/// Records appended by [`Wal::append_deferred`], not yet written or synced as asked.
#[derive(Debug)]
#[must_use = "wait() meets the durability the records were appended with"]
pub struct PendingAppend<'w> {
    shared: &'w Shared,
    lsn: u64,
    goal: Option<Goal>,
}

impl PendingAppend<'_> {
    /// The LSN of the last record appended.
    pub fn lsn(&self) -> Lsn {
        Lsn(self.lsn)
    }

    /// Waits until the records are written or durable as their durability asks (leading or
    /// joining a group-commit round) and returns the last LSN.
    ///
    /// # Errors
    /// The I/O error that failed the write or sync (the log is then poisoned), or
    /// [`Error::Poisoned`].
    pub fn wait(self) -> Result<Lsn> {
        if let Some(goal) = self.goal {
            self.shared.wait(self.shared.state.lock(), self.lsn, goal)?;
        }
        Ok(Lsn(self.lsn))
    }
}

/// An open write-ahead log. `Send + Sync`: share it between threads with an `Arc`.
///
/// One `Wal` per directory at a time (the database's `LOCK` file guarantees it).
pub struct Wal {
    shared: Arc<Shared>,
    syncer: Option<JoinHandle<()>>,
    /// The directory held no segment when the log was opened (see [`Wal::opened_empty`]).
    opened_empty: bool,
}

impl fmt::Debug for Wal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wal").field("dir", &self.shared.dir).finish_non_exhaustive()
    }
}

impl Wal {
    /// Opens the log in `dir` (e.g. `<db>/wal`), creating the directory if missing. Scans the
    /// existing segments, judges any damage by `options.recovery_mode`, cuts a torn tail so new
    /// appends follow the last good record, and starts the background syncer.
    ///
    /// # Errors
    /// [`Error::Corruption`] for damage the recovery mode does not accept;
    /// [`Error::InvalidOptions`]; [`Error::Storage`] for I/O failures.
    pub fn open(vfs: Arc<dyn Vfs>, dir: &Path, options: WalOptions) -> Result<Wal> {
        options.validate()?;
        create_dir_durably(vfs.as_ref(), dir)?;
        let numbers = list_segments(vfs.as_ref(), dir)?;
        let scan = recovery::scan(vfs.as_ref(), dir, &numbers)?;
        recovery::judge(scan.damage.as_ref(), options.recovery_mode)?;
        recovery::repair(vfs.as_ref(), dir, &numbers, &scan)?;
        let mut index = SegmentIndex::default();
        // A version-1 tail segment kept from an older build gets no sync marks.
        let mut marks = true;
        let (file, tail) = match scan.clean_end {
            Some(end) => {
                for meta in scan.segments.iter().filter(|m| m.number <= end.segment) {
                    index.insert(*meta);
                }
                let file = vfs.open(&segment_path(dir, end.segment), OpenMode::ReadWrite)?;
                // What a crashed process left in the page cache becomes durable before it is
                // reported durable.
                file.sync_data()?;
                let mut header = [0u8; crate::format::SEGMENT_HEADER_LEN];
                file.read_exact_at(&mut header, 0)?;
                marks =
                    FormatVersion::of_header(&header).is_some_and(FormatVersion::has_sync_marks);
                (file, end)
            }
            None => {
                let number = numbers.last().map_or(1, |n| n + 1);
                let header = SegmentHeader { number, first_lsn: scan.next_lsn, continues: false };
                let file = create_segment(vfs.as_ref(), dir, &header)?;
                index.insert(SegmentMeta::from(header));
                let offset = crate::format::SEGMENT_HEADER_LEN as u64;
                (file, Position { segment: number, offset })
            }
        };
        let last_lsn = scan.next_lsn - 1;
        let encoder =
            Encoder::new(options.segment_size_bytes, tail, scan.next_lsn).with_sync_marks(marks);
        let state = State {
            encoder,
            written_lsn: last_lsn,
            durable_lsn: last_lsn,
            written_end: tail,
            io_in_progress: false,
            round_last_lsn: 0,
            round_syncs: false,
            sync_wanted: 0,
            shutdown: false,
            unsynced_since: None,
            recent_groups: [0; 2],
            last_sync: Duration::ZERO,
            sleepers: Vec::new(),
        };
        let shared = Arc::new(Shared {
            vfs,
            dir: dir.to_path_buf(),
            transform: Transform::new(options.compression, options.encryption),
            sync_interval: Duration::from_millis(options.sync_interval_ms),
            segment_size: options.segment_size_bytes,
            state: Mutex::new(state),
            round_done: Default::default(),
            next_round: Default::default(),
            syncer_wake: Default::default(),
            io: Mutex::new(Io { file, segment: tail.segment, allocated: tail.offset }),
            segments: Mutex::new(index),
            counters: Default::default(),
            published: Published::at(last_lsn),
            poison: Poison::new(),
        });
        let syncer = syncer::spawn(Arc::clone(&shared))?;
        Ok(Wal { shared, syncer: Some(syncer), opened_empty: numbers.is_empty() })
    }

    /// Appends one record (opaque bytes, empty or larger than a segment) and returns its LSN
    /// once `durability` is met. LSNs are 1, 2, 3, ... with no gaps, across restarts and
    /// truncation.
    ///
    /// # Errors
    /// The I/O error that failed this append's write or sync (the log is then poisoned);
    /// [`Error::Poisoned`] after an earlier failure; [`Error::RecordTooLarge`].
    pub fn append(&self, record: &[u8], durability: Durability) -> Result<Lsn> {
        self.append_batch(&[record], durability)
    }

    /// Appends records with consecutive LSNs in one step and returns the last LSN (the current
    /// last LSN for an empty batch). A group commit of one.
    ///
    /// # Errors
    /// As [`Wal::append`].
    pub fn append_batch(&self, records: &[&[u8]], durability: Durability) -> Result<Lsn> {
        self.append_deferred(records, durability)?.wait()
    }

    /// Appends records like [`Wal::append_batch`] but does no I/O: the records are encoded
    /// and their LSNs fixed, and the returned [`PendingAppend`] meets `durability` (for
    /// [`Durability::None`]: writes the buffer out if it passed [`MAX_BUFFERED_BYTES`]) when
    /// waited on. The way to append under a caller's lock (so LSN order is the caller's
    /// order) and wait for the write or sync outside it.
    ///
    /// # Errors
    /// As [`Wal::append`], for the encoding; the I/O errors come from [`PendingAppend::wait`].
    pub fn append_deferred(
        &self,
        records: &[&[u8]],
        durability: Durability,
    ) -> Result<PendingAppend<'_>> {
        let transform = &self.shared.transform;
        let mut payloads = Vec::with_capacity(records.len());
        for record in records {
            payloads.push(transform.compress(record)?);
        }
        let mut state = self.shared.state.lock();
        self.shared.check_poisoned()?;
        if state.shutdown {
            return Err(Error::Closed);
        }
        let durable = state.durable_lsn;
        state.encoder.note_durable(durable);
        let overhead = if transform.encrypts() { SEAL_OVERHEAD } else { 0 };
        for (payload, flags) in payloads {
            let at = state.encoder.start_record(payload.len() + overhead);
            let lsn = state.encoder.next_lsn();
            let sealed = transform.seal(payload, flags, at.segment, at.offset, lsn);
            let (stored, flags) = match sealed {
                Ok(sealed) => sealed,
                Err(error) => {
                    // Earlier records of the batch are encoded: poison rather than half-append.
                    self.shared.poison(&mut state, &error);
                    return Err(error);
                }
            };
            state.encoder.push_record(flags, &stored);
        }
        self.shared.counters.appended(records.len() as u64);
        let last = state.encoder.next_lsn() - 1;
        self.shared.published.encoded.store(last, std::sync::atomic::Ordering::Release);
        let goal = match durability {
            Durability::Immediate => Some(Goal::Durable),
            Durability::Eventual => Some(Goal::Written),
            Durability::None if state.encoder.pending_bytes() > MAX_BUFFERED_BYTES => {
                Some(Goal::Written)
            }
            Durability::None => None,
        };
        Ok(PendingAppend { shared: &self.shared, lsn: last, goal })
    }

    /// Makes everything appended so far durable and returns the durable LSN.
    ///
    /// # Errors
    /// The I/O error of the sync (the log is then poisoned) or [`Error::Poisoned`].
    pub fn sync(&self) -> Result<Lsn> {
        let mut state = self.shared.state.lock();
        let last = state.encoder.next_lsn() - 1;
        self.shared.wait_for(&mut state, last, Goal::Durable)?;
        Ok(Lsn(state.durable_lsn))
    }

    /// Waits until record `lsn` (and every record before it) is durable, leading or joining a
    /// group-commit round: the way for a record appended with [`Durability::None`] under a
    /// caller's lock to become durable outside it, sharing the fsync with concurrent callers.
    /// An `lsn` beyond the last record appended waits for the last record.
    ///
    /// # Errors
    /// As [`Wal::sync`].
    pub fn sync_to(&self, lsn: Lsn) -> Result<()> {
        let state = self.shared.state.lock();
        let lsn = lsn.get().min(state.encoder.next_lsn() - 1);
        self.shared.wait(state, lsn, Goal::Durable)
    }

    /// The LSN of the last record appended (durable or not); `Lsn(0)` for an empty log.
    pub fn last_lsn(&self) -> Lsn {
        Lsn(self.shared.state.lock().encoder.next_lsn() - 1)
    }

    /// The LSN of the oldest record still in the log: records below it were truncated away
    /// (or never existed). `last_lsn() + 1` for a log that holds no record.
    pub fn oldest_lsn(&self) -> Lsn {
        let next = self.shared.state.lock().encoder.next_lsn();
        let oldest = self.shared.segments.lock().oldest_lsn().unwrap_or(next);
        Lsn(oldest.min(next))
    }

    /// True if the directory held no segment file at all when this log was opened: a new log,
    /// or one whose files were deleted. (The log never removes its active segment, so a log
    /// that has been opened once always keeps at least one.) Recovery uses it to refuse an
    /// engine that is durable past LSN 0 over a log that is gone.
    pub fn opened_empty(&self) -> bool {
        self.opened_empty
    }

    /// The [`WalBarrier`](crate::WalBarrier) for an engine over this log: it syncs the log up
    /// to the LSN the engine is about to make durable (install it with
    /// `StorageEngine::set_log_barrier`).
    pub fn barrier(&self) -> crate::WalBarrier {
        crate::WalBarrier::new(&self.shared)
    }

    /// Every record up to this LSN is durable.
    pub fn durable_lsn(&self) -> Lsn {
        Lsn(self.shared.state.lock().durable_lsn)
    }

    /// The records with LSN `>= from`, in order: everything appended before this call (records
    /// still in memory are written out first, not synced). Records below the oldest segment
    /// kept by [`Wal::truncate_before`] are gone.
    ///
    /// # Errors
    /// [`Error::Storage`] if the write-out fails. Damage met while iterating is yielded as
    /// [`Error::Corruption`] by the iterator.
    pub fn replay(&self, from: Lsn) -> Result<WalIter> {
        let end = {
            let mut state = self.shared.state.lock();
            let last = state.encoder.next_lsn() - 1;
            if !self.shared.poison.is_poisoned() {
                self.shared.wait_for(&mut state, last, Goal::Written)?;
            }
            state.written_end
        };
        let segments = self.shared.segments.lock();
        let start = segments.replay_start(from.get()).unwrap_or(end.segment);
        let list = segments.up_to(end.segment).into_iter().filter(|m| m.number >= start).collect();
        drop(segments);
        let key = self.shared.transform.key().cloned();
        Ok(WalIter::new(
            Arc::clone(&self.shared.vfs),
            self.shared.dir.clone(),
            list,
            end,
            from.get(),
            key,
        ))
    }

    /// Deletes the segments that hold only records below `lsn` (what the engines report
    /// durable), oldest first, each removal made durable before the next: a crash at any point
    /// leaves a readable log. Never deletes the active segment or a segment holding a record
    /// `>= lsn`. Records below `lsn` are synced first if they are not yet durable.
    ///
    /// # Errors
    /// I/O errors (the log is then poisoned) or [`Error::Poisoned`].
    pub fn truncate_before(&self, lsn: Lsn) -> Result<()> {
        let durable = {
            let mut state = self.shared.state.lock();
            self.shared.check_poisoned()?;
            let needed = lsn.get().saturating_sub(1).min(state.encoder.next_lsn() - 1);
            if state.durable_lsn < needed {
                self.shared.wait_for(&mut state, needed, Goal::Durable)?;
            }
            state.durable_lsn
        };
        let mut segments = self.shared.segments.lock();
        let removable = segments.removable(lsn.get(), durable);
        if let (Some(first), Some(last)) = (removable.first(), removable.last()) {
            tracing::debug!(
                below_lsn = lsn.get(),
                segments = removable.len(),
                first,
                last,
                "truncating the write-ahead log"
            );
        }
        for number in removable {
            if let Err(error) = remove_segment(self.shared.vfs.as_ref(), &self.shared.dir, number) {
                drop(segments);
                self.shared.poison(&mut self.shared.state.lock(), &error);
                return Err(error);
            }
            segments.remove(number);
            self.shared.counters.segment_removed();
        }
        Ok(())
    }

    /// What the log has done since it was opened, and where it stands.
    pub fn stats(&self) -> WalStats {
        let mut stats = self.shared.counters.snapshot();
        {
            let state = self.shared.state.lock();
            stats.last_lsn = Lsn(state.encoder.next_lsn() - 1);
            stats.durable_lsn = Lsn(state.durable_lsn);
            stats.buffered_bytes = state.encoder.pending_bytes() as u64;
        }
        let segments = self.shared.segments.lock();
        stats.segments = segments.len() as u64;
        stats.active_segment = segments.active().unwrap_or(0);
        stats
    }

    /// The failure that poisoned the log, if one did.
    pub fn poisoned(&self) -> Option<String> {
        self.shared.poison.reason()
    }

    /// Makes everything appended durable, ends the log with a `Synced` fragment recording
    /// that (so damage found in its records at the next open is corruption, never mistaken
    /// for a torn tail: `docs/format/wal.md`, rule 4), then stops and joins the background
    /// syncer.
    ///
    /// # Errors
    /// As [`Wal::sync`]; the syncer is stopped either way.
    pub fn close(mut self) -> Result<()> {
        let result = self.sync().and_then(|_| self.write_closing_mark());
        self.stop();
        result
    }

    /// Writes and syncs the closing `Synced` fragment. REQUIRES: everything appended is
    /// durable.
    fn write_closing_mark(&self) -> Result<()> {
        let mut state = self.shared.state.lock();
        let durable = state.durable_lsn;
        state.encoder.note_durable(durable);
        if state.encoder.push_closing_mark() {
            self.shared.write_out(&mut state)?;
        }
        Ok(())
    }

    fn stop(&mut self) {
        syncer::stop(&self.shared);
        if let Some(handle) = self.syncer.take()
            && handle.join().is_err()
        {
            let error = Error::Poisoned { reason: "the WAL syncer thread panicked".into() };
            self.shared.poison(&mut self.shared.state.lock(), &error);
        }
    }
}

impl Drop for Wal {
    /// Stops and joins the background syncer. Records appended with [`Durability::None`] and
    /// not yet written are dropped (call [`Wal::close`] or [`Wal::sync`] to keep them).
    fn drop(&mut self) {
        self.stop();
    }
}

//! Group commit: the shared state of an open log and the leader/follower protocol that turns
//! many concurrent appends into one write and one `fdatasync`.
//!
//! Appenders encode their records under the state lock (see [`crate::encoder`]), then wait for
//! their LSN to be written or durable. If no I/O round is running, the waiter becomes the
//! *leader*: it takes everything encoded so far, releases the lock, writes it (creating
//! segments as the batch says) and syncs if anyone asked for durability, then publishes the new
//! written and durable LSNs and wakes everyone. Appenders that arrive while a round runs only
//! encode and wait; the next leader carries all of them in one write and one sync. Each waits
//! only until the published LSN covers its own.
//!
//! Lock order: `state` is never held while taking `io` or `segments`; `io` may be held while
//! taking `segments`.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    thread::{self, Thread},
    time::{Duration, Instant},
};

use lightning_core_storage::{
    Poison,
    vfs::{FileHandle, Vfs},
};
use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::{
    encoder::{Batch, Encoder, Position},
    error::{Error, Result},
    segment::{SegmentIndex, SegmentMeta, create_segment},
    stats::Counters,
    transform::Transform,
};

/// What a waiter needs of its LSN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Goal {
    /// Handed to the operating system (`write(2)` returned).
    Written,
    /// `fdatasync` returned.
    Durable,
}

impl Goal {
    /// True if record `lsn` has reached this goal, given the written and durable LSNs.
    fn met(self, lsn: u64, written: u64, durable: u64) -> bool {
        match self {
            Goal::Written => written >= lsn,
            Goal::Durable => durable >= lsn,
        }
    }
}

/// The mutable state of the log, behind [`Shared::state`].
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) encoder: Encoder,
    /// Every record up to this LSN is written.
    pub(crate) written_lsn: u64,
    /// Every record up to this LSN is durable.
    pub(crate) durable_lsn: u64,
    /// Where the written bytes end.
    pub(crate) written_end: Position,
    /// A leader is doing I/O (it alone may lock [`Shared::io`]).
    pub(crate) io_in_progress: bool,
    /// The round in progress writes records up to this LSN (`u64::MAX` while its leader
    /// gathers: everything encoded until then joins the round)...
    pub(crate) round_last_lsn: u64,
    /// ...and syncs them.
    pub(crate) round_syncs: bool,
    /// The highest LSN someone waits to see durable.
    pub(crate) sync_wanted: u64,
    /// The background syncer must stop.
    pub(crate) shutdown: bool,
    /// When written-but-unsynced data first appeared (the syncer's deadline starts there).
    pub(crate) unsynced_since: Option<Instant>,
    /// Records made durable by the last two syncing rounds (the newest first): the estimate of
    /// how many committers are active, used to gather a group before syncing.
    pub(crate) recent_groups: [u64; 2],
    /// How long the last sync took (bounds how long a leader gathers).
    pub(crate) last_sync: Duration,
    /// Appenders asleep until a round in progress publishes their LSN (see [`Shared::wait`]).
    pub(crate) sleepers: Vec<Sleeper>,
}

/// An appender parked until its LSN reaches its goal (or the log is poisoned).
#[derive(Debug)]
pub(crate) struct Sleeper {
    lsn: u64,
    goal: Goal,
    thread: Thread,
}

impl State {
    /// Records a waiter for `lsn` at `goal`: a durable one makes the next round sync.
    fn want(&mut self, lsn: u64, goal: Goal) {
        debug_assert!(lsn < self.encoder.next_lsn(), "waiting for an LSN never assigned");
        if goal == Goal::Durable {
            self.sync_wanted = self.sync_wanted.max(lsn);
        }
    }

    /// True once record `lsn` has reached `goal`.
    fn reached(&self, lsn: u64, goal: Goal) -> bool {
        goal.met(lsn, self.written_lsn, self.durable_lsn)
    }

    /// True if the round in progress will publish `lsn` at `goal` (or poison the log).
    fn covered(&self, lsn: u64, goal: Goal) -> bool {
        self.io_in_progress
            && self.round_last_lsn >= lsn
            && (goal == Goal::Written || self.round_syncs)
    }
}

/// Longest a follower yields before it parks (see [`Shared::sleep`]).
const MAX_YIELD: Duration = Duration::from_micros(500);

/// Longest pause between two arrivals while a leader gathers a group: past it, everyone
/// active has most likely arrived.
const GATHER_IDLE: Duration = Duration::from_micros(25);

/// How far ahead of the log's end the active segment is filled with zeros (and synced), so
/// that appends overwrite allocated space: an `fdatasync` then flushes data only, not the file
/// size and block allocation too (measured about 1.6x faster). Capped at the segment size.
pub const PREALLOCATE_BYTES: u64 = 4 << 20;

/// The file being appended to. REQUIRES: locked only by the leader of the current round.
#[derive(Debug)]
pub(crate) struct Io {
    pub(crate) file: FileHandle,
    pub(crate) segment: u64,
    /// The file is written (with data or zeros) and synced up to here: writes below it
    /// overwrite allocated space. Never below the end of the data written.
    pub(crate) allocated: u64,
}

/// Everything the public handle, the syncer and replay share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) vfs: Arc<dyn Vfs>,
    pub(crate) dir: PathBuf,
    pub(crate) transform: Transform,
    pub(crate) sync_interval: Duration,
    pub(crate) segment_size: u64,
    pub(crate) state: Mutex<State>,
    /// Signalled when a round ends (LSNs published or the log poisoned): waited on by the
    /// callers of [`Shared::wait_for`] (sync, replay, truncation, the syncer) whose LSN the
    /// round in progress covers. Appenders wait as sleepers instead ([`Shared::wait`]).
    pub(crate) round_done: Condvar,
    /// Waited on by those who need another round: one is woken to lead when a round ends; all
    /// when a round starts (to move to `round_done` if it covers them). Waking only the
    /// waiters a round concerns keeps a crowd of committers from thundering at every fsync.
    pub(crate) next_round: Condvar,
    /// Signalled when the background syncer has work or must stop.
    pub(crate) syncer_wake: Condvar,
    pub(crate) io: Mutex<Io>,
    pub(crate) segments: Mutex<SegmentIndex>,
    pub(crate) counters: Counters,
    /// Copies of the last encoded LSN, `written_lsn` and `durable_lsn`, stored under the state
    /// lock (Release) before anyone is woken: followers and a gathering leader read them
    /// without the lock.
    pub(crate) published: Published,
    /// Set (under the state lock, before anyone is woken) by a failed write or sync; read
    /// without the lock by followers and a gathering leader.
    pub(crate) poison: Poison,
}

/// What a parked appender reads when it wakes.
#[derive(Debug)]
pub(crate) struct Published {
    /// The last LSN encoded (a gathering leader watches it without the lock).
    pub(crate) encoded: AtomicU64,
    pub(crate) written: AtomicU64,
    pub(crate) durable: AtomicU64,
}

impl Published {
    /// A log opened with every record up to `last_lsn` written and durable.
    pub(crate) fn at(last_lsn: u64) -> Published {
        Published {
            encoded: AtomicU64::new(last_lsn),
            written: AtomicU64::new(last_lsn),
            durable: AtomicU64::new(last_lsn),
        }
    }
}

impl Shared {
    /// The error every operation returns once the log is poisoned.
    pub(crate) fn check_poisoned(&self) -> Result<()> {
        match self.poison.reason() {
            Some(reason) => Err(Error::Poisoned { reason }),
            None => Ok(()),
        }
    }

    /// Poisons the log with `error`'s description (the first failure wins) and wakes everyone.
    /// REQUIRES: `state` is the locked state.
    pub(crate) fn poison(&self, state: &mut State, error: &Error) {
        self.poison.poison(error);
        for sleeper in state.sleepers.drain(..) {
            sleeper.thread.unpark();
        }
        self.wake_all();
    }

    /// Publishes the state's written and durable LSNs and takes the sleepers they satisfy
    /// (to unpark once the lock is released). REQUIRES: `state` is the locked state.
    fn publish(&self, state: &mut State) -> Vec<Thread> {
        self.published.written.store(state.written_lsn, Ordering::Release);
        self.published.durable.store(state.durable_lsn, Ordering::Release);
        let (written, durable) = (state.written_lsn, state.durable_lsn);
        let mut woken = Vec::new();
        state.sleepers.retain(|sleeper| {
            let reached = sleeper.goal.met(sleeper.lsn, written, durable);
            if reached {
                woken.push(sleeper.thread.clone());
            }
            !reached
        });
        woken
    }

    /// [`Shared::wait_for`] for an appender that needs nothing of the state afterwards: when a
    /// round in progress covers its LSN, it waits without the lock (see [`Shared::sleep`]) and,
    /// once the LSN is published, returns without taking it again (only a poisoned log is
    /// reported under the lock). Waking a crowd through a condition variable hands the lock
    /// from one waiter to the next, one wake-up at a time; across vCPUs each costs ~20 µs.
    /// REQUIRES: as [`Shared::wait_for`].
    pub(crate) fn wait(
        &self,
        mut state: MutexGuard<'_, State>,
        lsn: u64,
        goal: Goal,
    ) -> Result<()> {
        state.want(lsn, goal);
        // Bounded as `wait_for`: a covered LSN is published (or the log poisoned) by the round
        // in progress; otherwise this thread leads a round that covers it.
        loop {
            self.check_poisoned()?;
            if state.reached(lsn, goal) {
                return Ok(());
            }
            if !state.io_in_progress {
                self.lead_guarded(&mut state, goal == Goal::Durable)?;
            } else if state.covered(lsn, goal) {
                state.sleepers.push(Sleeper { lsn, goal, thread: thread::current() });
                let expected = state.last_sync + GATHER_IDLE;
                drop(state);
                return self.sleep(lsn, goal, expected);
            } else {
                self.next_round.wait(&mut state);
            }
        }
    }

    /// Parks until `lsn` is published at `goal` or the log is poisoned. REQUIRES: this thread
    /// is registered as a sleeper, and the state lock is not held.
    fn sleep(&self, lsn: u64, goal: Goal, expected: Duration) -> Result<()> {
        let published = match goal {
            Goal::Written => &self.published.written,
            Goal::Durable => &self.published.durable,
        };
        // Yield (not busy-spin) for about as long as the round should take before parking:
        // a parked thread costs a wake-up across vCPUs (~20 µs here) that a yielding one
        // does not, and the committers of a group wake together. Bounded by the budget.
        let yield_until = Instant::now() + expected.min(MAX_YIELD);
        while Instant::now() < yield_until {
            if published.load(Ordering::Acquire) >= lsn || self.poison.is_poisoned() {
                break;
            }
            thread::yield_now();
        }
        // Bounded: the round covering `lsn` publishes it or poisons the log, and either
        // unparks this thread; a spurious wake-up only re-checks.
        loop {
            // Poison first, as `wait_for` checks it: no success is reported after a failure.
            if self.poison.is_poisoned() {
                return self.check_poisoned();
            }
            if published.load(Ordering::Acquire) >= lsn {
                return Ok(());
            }
            thread::park();
        }
    }

    /// Wakes every waiter (poisoning, shutdown).
    pub(crate) fn wake_all(&self) {
        self.round_done.notify_all();
        self.next_round.notify_all();
        self.syncer_wake.notify_all();
    }

    /// Waits until record `lsn` reaches `goal`, leading I/O rounds when none is running. The
    /// leader whose I/O fails gets that error; everyone else, then and later, `Poisoned`.
    /// REQUIRES: `state` is the locked state, and `lsn` was encoded (`< encoder.next_lsn()`).
    pub(crate) fn wait_for(
        &self,
        state: &mut MutexGuard<'_, State>,
        lsn: u64,
        goal: Goal,
    ) -> Result<()> {
        state.want(lsn, goal);
        // Bounded: every pass either returns, or waits for a round, or runs one that writes
        // everything encoded so far; two rounds always cover `lsn`.
        loop {
            self.check_poisoned()?;
            if state.reached(lsn, goal) {
                return Ok(());
            }
            if !state.io_in_progress {
                self.lead_guarded(state, goal == Goal::Durable)?;
            } else if state.covered(lsn, goal) {
                self.round_done.wait(state);
            } else {
                self.next_round.wait(state);
            }
        }
    }

    /// Writes and syncs everything encoded, records or not (the closing `Synced` fragment),
    /// in a round of its own once no other round runs.
    /// REQUIRES: `state` is the locked state.
    pub(crate) fn write_out(&self, state: &mut MutexGuard<'_, State>) -> Result<()> {
        // Bounded: rounds in progress end (or poison the log), then this one runs.
        loop {
            self.check_poisoned()?;
            if !state.io_in_progress {
                return self.lead_guarded(state, true);
            }
            self.round_done.wait(state);
        }
    }

    /// Before a syncing round, when the last round carried several committers, waits a
    /// moment for them to arrive, so that they share this fsync instead of splitting into two
    /// alternating halves (committers acknowledged by one round re-commit while the next is
    /// in flight). Expected: the records the last round made durable (one per committer, who
    /// come back; a multi-record batch inflates the estimate, which the deadline bounds),
    /// plus those already waiting, less one (this leader is usually one of the former). It
    /// stops when that many records wait, when no one arrived for [`GATHER_IDLE`], after half
    /// the last sync's duration (at most 500 µs), or when the log is poisoned. A lone
    /// committer never waits.
    /// REQUIRES: `state` is the locked state and this thread leads the round.
    fn gather(&self, state: &mut MutexGuard<'_, State>) {
        let pending = state.encoder.next_lsn() - 1 - state.written_lsn;
        let expected = (state.recent_groups[0] + pending).saturating_sub(1);
        if state.recent_groups[0] <= 1 || expected <= pending {
            return;
        }
        let deadline = Instant::now() + (state.last_sync / 2).min(Duration::from_micros(500));
        let written = state.written_lsn;
        // Without the lock, yielding: the committers need it to encode, and a leader asleep
        // on a condition variable would cost a cross-vCPU wake-up once they are all in.
        // Bounded by the deadline.
        MutexGuard::unlocked(state, || {
            let (mut seen, mut changed) = (pending, Instant::now());
            loop {
                let now = Instant::now();
                let pending =
                    self.published.encoded.load(Ordering::Acquire).saturating_sub(written);
                if pending >= expected || now >= deadline || self.poison.is_poisoned() {
                    return;
                }
                if pending != seen {
                    (seen, changed) = (pending, now);
                } else if now - changed >= GATHER_IDLE {
                    return;
                }
                thread::yield_now();
            }
        });
    }

    /// [`Shared::lead`], with a panic anywhere in it (a metrics recorder is user code) turned
    /// into a poisoned log, so that no waiter is left parked behind a round that never ends.
    /// REQUIRES: as [`Shared::lead`].
    fn lead_guarded(&self, state: &mut MutexGuard<'_, State>, sync_requested: bool) -> Result<()> {
        // The guard is locked again when the closure unwinds (`MutexGuard::unlocked` re-locks
        // on unwind too), so `state` is usable afterwards.
        match catch_unwind(AssertUnwindSafe(|| self.lead(state, sync_requested))) {
            Ok(result) => result,
            Err(_) => {
                state.io_in_progress = false;
                let error = Error::Poisoned { reason: "a WAL leader panicked".into() };
                self.poison(state, &error);
                Err(error)
            }
        }
    }

    /// Runs one I/O round as leader: write everything encoded, sync if asked or wanted.
    /// REQUIRES: `state` is the locked state and no round is in progress.
    fn lead(&self, state: &mut MutexGuard<'_, State>, sync_requested: bool) -> Result<()> {
        debug_assert!(!state.io_in_progress, "one leader at a time");
        state.io_in_progress = true;
        let sync = sync_requested || state.sync_wanted > state.durable_lsn;
        // Everything encoded before `take` below is in this round's batch, so while the
        // leader gathers (without the lock) the round covers every LSN: appenders arriving
        // now become followers of it instead of waiting for the next one.
        state.round_last_lsn = u64::MAX;
        state.round_syncs = sync;
        if sync {
            self.gather(state);
            if let Err(error) = self.check_poisoned() {
                // A half-encoded batch may be pending (its appender poisoned the log): write
                // nothing more. Everyone waiting was woken by the poisoning.
                state.io_in_progress = false;
                return Err(error);
            }
        }
        let batch = state.encoder.take();
        let durable_before = state.durable_lsn;
        state.round_last_lsn = batch.last_lsn;
        state.round_syncs = sync;
        // Those waiting for a round: this one may cover them (they re-check while it runs).
        self.next_round.notify_all();
        let result = MutexGuard::unlocked(state, || {
            let mut io = self.io.lock();
            match catch_unwind(AssertUnwindSafe(|| io.write_batch(self, &batch, sync))) {
                Ok(result) => result,
                Err(_) => Err(Error::Poisoned { reason: "a WAL writer panicked".into() }),
            }
        });
        state.io_in_progress = false;
        match result {
            Ok(latency) => {
                state.written_lsn = batch.last_lsn;
                state.written_end = batch.end;
                if let Some(latency) = latency {
                    state.durable_lsn = state.written_lsn;
                    let group = state.durable_lsn - durable_before;
                    self.counters.synced(group, latency);
                    state.recent_groups = [group, state.recent_groups[0]];
                    state.last_sync = latency;
                }
                let woken = self.publish(state);
                if state.durable_lsn < state.written_lsn {
                    if state.unsynced_since.is_none() {
                        state.unsynced_since = Some(Instant::now());
                        self.syncer_wake.notify_one();
                    }
                } else {
                    state.unsynced_since = None;
                }
                self.round_done.notify_all();
                self.next_round.notify_one();
                if !woken.is_empty() {
                    MutexGuard::unlocked(state, || woken.into_iter().for_each(|t| t.unpark()));
                }
                Ok(())
            }
            Err(error) => {
                self.poison(state, &error);
                Err(error)
            }
        }
    }
}

impl Io {
    /// Writes a batch: for a chunk that starts a segment, first makes the sealed segment
    /// durable, then creates the new one durably (create, header, sync, directory sync). Syncs
    /// at the end if `sync`, returning how long the sync took.
    fn write_batch(
        &mut self,
        shared: &Shared,
        batch: &Batch,
        sync: bool,
    ) -> Result<Option<Duration>> {
        for chunk in &batch.chunks {
            if let Some(header) = &chunk.create {
                self.file.sync_data()?;
                let file = create_segment(shared.vfs.as_ref(), &shared.dir, header)?;
                shared.segments.lock().insert(SegmentMeta::from(*header));
                shared.counters.segment_created();
                shared.counters.written(crate::format::SEGMENT_HEADER_LEN as u64);
                self.file = file;
                self.segment = header.number;
                self.allocated = crate::format::SEGMENT_HEADER_LEN as u64;
            }
            debug_assert_eq!(chunk.segment, self.segment, "chunks follow the active segment");
            if !chunk.bytes.is_empty() {
                self.preallocate(chunk.offset + chunk.bytes.len() as u64, shared.segment_size)?;
                self.file.write_all_at(&chunk.bytes, chunk.offset)?;
                shared.counters.written(chunk.bytes.len() as u64);
            }
        }
        if !sync {
            return Ok(None);
        }
        let started = Instant::now();
        self.file.sync_data()?;
        Ok(Some(started.elapsed()))
    }

    /// Makes sure the file is allocated up to `end`: if not, fills the next
    /// [`PREALLOCATE_BYTES`] (at least up to `end`, at most the segment size) with zeros and
    /// syncs them. Zeros after the log's end read as its clean end (`docs/format/wal.md`).
    fn preallocate(&mut self, end: u64, segment_size: u64) -> Result<()> {
        if end <= self.allocated {
            return Ok(());
        }
        let target = end.max((self.allocated + PREALLOCATE_BYTES).min(segment_size));
        let zeros = vec![0u8; (target - self.allocated).min(1 << 20) as usize];
        let mut at = self.allocated;
        // Bounded: each pass advances by at least one byte up to `target`.
        while at < target {
            let n = (target - at).min(zeros.len() as u64) as usize;
            self.file.write_all_at(&zeros[..n], at)?;
            at += n as u64;
        }
        self.file.sync_data()?;
        self.allocated = target;
        Ok(())
    }
}

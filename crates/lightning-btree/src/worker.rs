//! The background thread: checkpoints on a dirty-bytes or time trigger, and vacuum.
//!
//! It owns nothing but an `Arc` of the shared state; [`Signal`] wakes it (after writes, on a
//! new vacuum horizon) and stops it. A panic inside its work poisons the engine for writes
//! and ends the thread. Writers that outrun it are slowed: once four times the checkpoint
//! threshold is dirty, a writer waits (boundedly) for the next checkpoint to finish — in
//! `StorageEngine::admit_write`, before it is logged, never inside `apply` (where it would hold
//! up every later commit's apply turn).

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, atomic::Ordering},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use parking_lot::{Condvar, Mutex};

use lightning_core_storage::{Error, Result, Timestamp};

use crate::{BTreeOptions, engine::Shared};

/// Leaves vacuumed per round of the background thread.
const GC_LEAVES_PER_ROUND: usize = 64;
/// The longest a writer waits for a checkpoint when too much is dirty.
const MAX_STALL: Duration = Duration::from_secs(10);
/// How often a nearly full hot set is swept (the CLOCK hand's period).
const SWEEP_PERIOD: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Flags {
    stop: bool,
    wake: bool,
    checkpoints: u64,
}

/// Wakes and stops the background thread; lets writers wait for checkpoints.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    flags: Mutex<Flags>,
    work: Condvar,
    checkpointed: Condvar,
}

impl Signal {
    /// Asks the thread to end.
    pub(crate) fn stop(&self) {
        self.flags.lock().stop = true;
        self.work.notify_all();
        self.checkpointed.notify_all();
    }

    /// Asks the thread to look for work now.
    pub(crate) fn wake(&self) {
        self.flags.lock().wake = true;
        self.work.notify_all();
    }

    /// Records a finished checkpoint (releasing stalled writers).
    pub(crate) fn checkpointed(&self) {
        self.flags.lock().checkpoints += 1;
        self.checkpointed.notify_all();
    }

    /// Called after every write with the dirty bytes now held: wakes the thread when a
    /// checkpoint is due by size. Never waits.
    pub(crate) fn after_write(&self, options: &BTreeOptions, dirty: u64) {
        let threshold = options.checkpoint_dirty_bytes;
        if threshold > 0 && dirty >= threshold {
            self.wake();
        }
    }

    /// Called before a write is logged (`StorageEngine::admit_write`): once four times the
    /// checkpoint threshold is dirty, waits (at most [`MAX_STALL`]) for the next checkpoint.
    /// REQUIRES: no engine lock held, and the caller holds no lock other writers need (the
    /// transaction layer calls it before its commit lock and apply turn).
    pub(crate) fn admit(&self, options: &BTreeOptions, shared: &Shared) {
        let threshold = options.checkpoint_dirty_bytes;
        let limit = threshold.saturating_mul(4);
        if threshold == 0 || shared.dirty_bytes.load(Ordering::Relaxed) < limit {
            return;
        }
        self.wake();
        let deadline = Instant::now() + MAX_STALL;
        let mut flags = self.flags.lock();
        let seen = flags.checkpoints;
        while flags.checkpoints == seen && !flags.stop && Instant::now() < deadline {
            if shared.dirty_bytes.load(Ordering::Relaxed) < limit {
                break;
            }
            self.checkpointed.wait_until(&mut flags, deadline);
        }
    }
}

/// Starts the thread.
pub(crate) fn spawn(shared: Arc<Shared>) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("lightning-btree".into())
        .spawn(move || run(&shared))
        .map_err(|e| Error::io("spawn", "lightning-btree background thread", e))
}

fn tick(options: &BTreeOptions) -> Duration {
    match options.checkpoint_interval_ms {
        0 => Duration::from_secs(1),
        ms => Duration::from_millis((ms / 4).clamp(10, 1000)),
    }
}

/// When the thread last did its periodic chores.
struct Clock {
    checkpoint: Instant,
    sweep: Instant,
}

fn run(shared: &Shared) {
    let mut clock = Clock { checkpoint: Instant::now(), sweep: Instant::now() };
    loop {
        {
            let mut flags = shared.signal.flags.lock();
            if !flags.wake && !flags.stop {
                shared.signal.work.wait_for(&mut flags, tick(&shared.options));
            }
            if flags.stop {
                return;
            }
            flags.wake = false;
        }
        let round = catch_unwind(AssertUnwindSafe(|| work(shared, &mut clock)));
        if round.is_err() {
            shared.poison(&"the B+Tree background thread panicked");
            return;
        }
    }
}

/// One round: a checkpoint if one is due, a sweep of the hot set if it is nearly full, then a
/// slice of vacuum.
fn work(shared: &Shared, clock: &mut Clock) {
    let options = &shared.options;
    let dirty = shared.dirty_bytes.load(Ordering::Relaxed);
    let by_size = options.checkpoint_dirty_bytes > 0 && dirty >= options.checkpoint_dirty_bytes;
    let interval = Duration::from_millis(options.checkpoint_interval_ms);
    let by_time = options.checkpoint_interval_ms > 0 && clock.checkpoint.elapsed() >= interval;
    if by_size || by_time {
        // A failure poisons the engine; writers see it on their next call.
        let _ = shared.checkpoint();
        clock.checkpoint = Instant::now();
    }
    if clock.sweep.elapsed() >= SWEEP_PERIOD {
        clock.sweep = Instant::now();
        let needs_sweep = shared.tree.read().hot.needs_sweep();
        if needs_sweep {
            shared.tree.write().hot.sweep(&shared.store);
        }
    }
    // Continues a pass a caller started; never starts one itself.
    let _ = shared.vacuum_round(Timestamp::ZERO, GC_LEAVES_PER_ROUND, false);
    if shared.gc.lock().1.wants_more() {
        shared.signal.wake();
    }
}

//! The background threads: one flushes immutable memtables, the others run compactions. They
//! sleep on a [`Signal`] until writes, flushes or a GC request give them work.

use std::{sync::Arc, thread::JoinHandle, time::Duration};

use lightning_core_storage::{Error, Result};
use parking_lot::{Condvar, Mutex};

use super::Shared;

/// How long an idle worker sleeps before looking for work on its own.
const IDLE_WAIT: Duration = Duration::from_millis(200);

#[derive(Debug, Default)]
struct SignalState {
    stop: bool,
    /// Bumped whenever there may be new work.
    work: u64,
    /// Bumped whenever a flush or compaction finished.
    progress: u64,
}

/// Wakes workers when there is work and stalled writers when there was progress.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    state: Mutex<SignalState>,
    work_ready: Condvar,
    progressed: Condvar,
}

impl Signal {
    /// There may be work: wake the workers.
    pub(crate) fn work(&self) {
        self.state.lock().work += 1;
        self.work_ready.notify_all();
    }

    /// A flush or compaction finished: wake stalled writers.
    pub(crate) fn progress(&self) {
        self.state.lock().progress += 1;
        self.progressed.notify_all();
    }

    /// Wakes everyone (after a failure, or to stop).
    pub(crate) fn notify_all(&self) {
        self.work_ready.notify_all();
        self.progressed.notify_all();
    }

    /// Tells the workers to stop.
    pub(crate) fn stop(&self) {
        self.state.lock().stop = true;
        self.notify_all();
    }

    fn stopped(&self) -> bool {
        self.state.lock().stop
    }

    /// Waits until a flush or compaction finishes, or `timeout` passes.
    pub(crate) fn wait_for_progress(&self, timeout: Duration) {
        let mut state = self.state.lock();
        let seen = state.progress;
        if !state.stop {
            self.progressed.wait_while_for(&mut state, |s| s.progress == seen && !s.stop, timeout);
        }
    }

    /// Waits until there may be work after `seen` (the work count when the caller last looked),
    /// or stop, or the idle timeout. Returns the work count now.
    fn wait_for_work(&self, seen: u64) -> u64 {
        let mut state = self.state.lock();
        if state.work == seen && !state.stop {
            self.work_ready.wait_for(&mut state, IDLE_WAIT);
        }
        state.work
    }

    fn work_count(&self) -> u64 {
        self.state.lock().work
    }
}

/// Starts the flush thread and `compaction_threads` compaction threads.
pub(crate) fn spawn(shared: &Arc<Shared>) -> Result<Vec<JoinHandle<()>>> {
    let mut handles = Vec::new();
    handles.push(spawn_loop(shared, "lsm-flush", Shared::flush_oldest)?);
    for i in 0..shared.options.compaction_threads {
        let name = if i == 0 { "lsm-compact" } else { "lsm-compact-n" };
        handles.push(spawn_loop(shared, name, |s: &Shared| {
            let did = s.compact_once()?;
            s.delete_obsolete();
            Ok(did)
        })?);
    }
    Ok(handles)
}

/// A thread running `job` while it finds work, sleeping on the signal when it finds none.
fn spawn_loop(
    shared: &Arc<Shared>,
    name: &'static str,
    job: fn(&Shared) -> Result<bool>,
) -> Result<JoinHandle<()>> {
    let shared = Arc::clone(shared);
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let _guard = shared.poison.guard(name);
            let mut seen = shared.signal.work_count();
            while !shared.signal.stopped() {
                if shared.poison.is_poisoned() {
                    seen = shared.signal.wait_for_work(seen);
                    continue;
                }
                match job(&shared) {
                    Ok(true) => {}
                    Ok(false) => seen = shared.signal.wait_for_work(seen),
                    Err(e) => {
                        tracing::error!(thread = name, error = %e, "LSM background work failed");
                        shared.fail(&e);
                    }
                }
            }
        })
        .map_err(|e| Error::io("spawn", format!("{name} thread"), e))
}

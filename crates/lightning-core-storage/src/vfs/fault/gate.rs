//! [`SyncGate`]: holds file syncs at the door so a test can act while one is in progress (for
//! example, prove that a read does not wait for a commit's fsync).
//!
//! A sync waits at the gate *before* it takes the file system's lock, so everything else keeps
//! working while it is held.

use parking_lot::{Condvar, Mutex};

#[derive(Debug, Default)]
struct GateState {
    closed: bool,
    /// Syncs waiting at the gate now.
    waiting: u64,
}

/// The gate every `sync_data`/`sync_all` of a `FaultFs` passes.
#[derive(Debug, Default)]
pub(super) struct SyncGate {
    state: Mutex<GateState>,
    changed: Condvar,
}

impl SyncGate {
    /// From now on syncs wait until [`SyncGate::open`].
    pub(super) fn close(&self) {
        self.state.lock().closed = true;
    }

    /// Lets every waiting and later sync through.
    pub(super) fn open(&self) {
        self.state.lock().closed = false;
        self.changed.notify_all();
    }

    /// Blocks until at least `n` syncs wait at the gate.
    pub(super) fn wait_for_waiting(&self, n: u64) {
        let mut state = self.state.lock();
        while state.waiting < n {
            self.changed.wait(&mut state);
        }
    }

    /// Called by a sync before it runs: waits while the gate is closed.
    pub(super) fn pass(&self) {
        let mut state = self.state.lock();
        if !state.closed {
            return;
        }
        state.waiting += 1;
        self.changed.notify_all();
        while state.closed {
            self.changed.wait(&mut state);
        }
        state.waiting -= 1;
    }
}

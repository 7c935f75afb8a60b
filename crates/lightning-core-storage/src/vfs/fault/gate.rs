//! [`OpGate`]: holds one kind of file operation (syncs, or writes) at the door so a test can
//! act while one is in progress (for example, prove that a read does not wait for a commit's
//! fsync, or that a commit lock is not held across a log write).
//!
//! An operation waits at the gate *before* it takes the file system's lock, so everything else
//! keeps working while it is held.

use parking_lot::{Condvar, Mutex};

#[derive(Debug, Default)]
struct GateState {
    closed: bool,
    /// Operations waiting at the gate now.
    waiting: u64,
}

/// A gate every operation of one kind of a `FaultFs` passes.
#[derive(Debug, Default)]
pub(super) struct OpGate {
    state: Mutex<GateState>,
    changed: Condvar,
}

impl OpGate {
    /// From now on operations wait until [`OpGate::open`].
    pub(super) fn close(&self) {
        self.state.lock().closed = true;
    }

    /// Lets every waiting and later operation through.
    pub(super) fn open(&self) {
        self.state.lock().closed = false;
        self.changed.notify_all();
    }

    /// Blocks until at least `n` operations wait at the gate.
    pub(super) fn wait_for_waiting(&self, n: u64) {
        let mut state = self.state.lock();
        while state.waiting < n {
            self.changed.wait(&mut state);
        }
    }

    /// Called by an operation before it runs: waits while the gate is closed.
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

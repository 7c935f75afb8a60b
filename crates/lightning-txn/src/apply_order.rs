//! Applying commits to the engine in log order.
//!
//! Commits get their LSNs in order under the commit lock, but each waits for its own fsync
//! outside it. If they then applied in whatever order they woke, an engine checkpoint taken
//! between two applies could claim "durable up to LSN 2" while LSN 1 is not yet in the engine:
//! recovery would replay from 3 and lose commit 1 — an acknowledged commit and a hole in the
//! prefix. So each commit waits for its turn: LSN n is applied only after LSN n - 1. Group
//! commit still shares the fsync; only the (in-memory) applies are serialized.

use parking_lot::{Condvar, Mutex};

use lightning_core_storage::Lsn;

/// The turnstile: whose LSN applies next.
#[derive(Debug)]
pub(crate) struct ApplyOrder {
    next: Mutex<u64>,
    turn: Condvar,
}

impl ApplyOrder {
    /// The next commit to apply will have LSN `next`.
    pub(crate) fn new(next: Lsn) -> Self {
        ApplyOrder { next: Mutex::new(next.0), turn: Condvar::new() }
    }

    /// Runs `apply` when every lower LSN has been applied (or given up by a failure), and
    /// passes the turn on. Returns `None` without running it if `stop()` says to give up
    /// (the store was poisoned while this commit waited).
    pub(crate) fn in_turn<T>(
        &self,
        lsn: Lsn,
        stop: impl Fn() -> bool,
        apply: impl FnOnce() -> T,
    ) -> Option<T> {
        let mut next = self.next.lock();
        while *next != lsn.0 {
            if stop() {
                return None;
            }
            self.turn.wait(&mut next);
        }
        let result = apply();
        *next += 1;
        drop(next);
        self.turn.notify_all();
        Some(result)
    }

    /// Wakes every waiter so it can see that the store was poisoned.
    pub(crate) fn wake_all(&self) {
        let _next = self.next.lock();
        self.turn.notify_all();
    }
}

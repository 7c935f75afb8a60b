//! The background syncer: makes `Durability::Eventual` records durable within
//! `sync_interval_ms` of being written, by running a sync round as any appender would.
//!
//! It sleeps until unsynced data appears, then until the interval since then has passed, then
//! syncs (joining or leading a group-commit round). A failure poisons the log like any other;
//! the syncer then idles until it is stopped. [`crate::Wal::close`] and `Drop` stop and join it.

use std::{
    sync::Arc,
    thread::{self, JoinHandle},
    time::Instant,
};

use crate::{
    error::{Error, Result},
    group_commit::{Goal, Shared},
};

/// Starts the syncer thread.
pub(crate) fn spawn(shared: Arc<Shared>) -> Result<JoinHandle<()>> {
    thread::Builder::new().name("lightning-wal-syncer".into()).spawn(move || run(&shared)).map_err(
        |e| Error::Storage(lightning_core_storage::Error::io("spawn syncer", "lightning-wal", e)),
    )
}

fn run(shared: &Shared) {
    let mut state = shared.state.lock();
    // Runs until shutdown; every pass either syncs or sleeps on the condition variable.
    loop {
        if state.shutdown {
            return;
        }
        let due = match state.unsynced_since {
            Some(since) if !shared.poison.is_poisoned() => since + shared.sync_interval,
            _ => {
                shared.syncer_wake.wait(&mut state);
                continue;
            }
        };
        if Instant::now() < due {
            shared.syncer_wake.wait_until(&mut state, due);
            continue;
        }
        let target = state.written_lsn;
        // A failure has poisoned the log and is reported to the next appender.
        let _ = shared.wait_for(&mut state, target, Goal::Durable);
    }
}

/// Asks the syncer to stop. REQUIRES: the state lock is not held by the caller.
pub(crate) fn stop(shared: &Shared) {
    shared.state.lock().shutdown = true;
    shared.wake_all();
}

//! The background worker: periodic checkpoints (which let the log be truncated) and garbage
//! collection of versions no reader can see (a bounded incremental step per period, which
//! does nothing when there is no new garbage). Stopped and joined on close.

use std::{
    sync::{Arc, mpsc},
    thread,
    time::Duration,
};

use lightning_txn::TxnStore;

/// A running maintenance thread.
#[derive(Debug)]
pub(crate) struct Worker {
    stop: mpsc::Sender<()>,
    handle: thread::JoinHandle<()>,
}

impl Worker {
    /// Starts the worker on `store`, waking every `interval`.
    pub(crate) fn start(store: TxnStore, interval: Duration) -> Worker {
        let (stop, stopped) = mpsc::channel::<()>();
        let store = Arc::new(store);
        let handle = thread::Builder::new()
            .name("lightning-maintenance".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    if store.poisoned().is_some() {
                        continue;
                    }
                    if let Err(e) = store.collect_garbage_step() {
                        tracing::warn!(error = %e, "background garbage collection failed");
                    }
                    if let Err(e) = store.checkpoint() {
                        tracing::warn!(error = %e, "background checkpoint failed");
                    }
                }
            })
            .expect("spawning the maintenance thread");
        Worker { stop, handle }
    }

    /// Stops the worker and waits for it.
    pub(crate) fn stop(self) {
        let _ = self.stop.send(());
        if self.handle.join().is_err() {
            tracing::error!("the maintenance thread panicked");
        }
    }
}

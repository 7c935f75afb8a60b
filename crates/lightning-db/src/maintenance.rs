//! The background worker: periodic checkpoints (which let the log be truncated) and garbage
//! collection of versions no reader can see (a bounded incremental step per period, which
//! does nothing when there is no new garbage). Stopped and joined on close.
//!
//! A panic in the worker poisons the database (its [`Poison`]): writes fail with
//! `Error::Poisoned` from then on instead of running without checkpoints unnoticed.

use std::{
    sync::{Arc, mpsc},
    thread,
    time::Duration,
};

use lightning_core_storage::Poison;
use lightning_txn::TxnStore;

/// A running maintenance thread.
#[derive(Debug)]
pub(crate) struct Worker {
    stop: mpsc::Sender<()>,
    handle: thread::JoinHandle<()>,
}

impl Worker {
    /// Starts the worker on `store`, waking every `interval`; a panic in it poisons `poison`.
    pub(crate) fn start(store: TxnStore, interval: Duration, poison: Poison) -> Worker {
        let store = Arc::new(store);
        Worker::spawn(interval, poison, move || {
            if store.poisoned().is_some() {
                return;
            }
            if let Err(e) = store.collect_garbage_step() {
                tracing::warn!(error = %e, "background garbage collection failed");
            }
            if let Err(e) = store.checkpoint() {
                tracing::warn!(error = %e, "background checkpoint failed");
            }
        })
    }

    /// Runs `tick` every `interval` on a new thread until stopped, under a guard that poisons
    /// `poison` if `tick` panics.
    fn spawn(interval: Duration, poison: Poison, tick: impl Fn() + Send + 'static) -> Worker {
        let (stop, stopped) = mpsc::channel::<()>();
        let handle = thread::Builder::new()
            .name("lightning-maintenance".into())
            .spawn(move || {
                let _guard = poison.guard("the maintenance thread");
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    if poison.is_poisoned() {
                        return;
                    }
                    tick();
                }
            })
            .expect("spawning the maintenance thread");
        Worker { stop, handle }
    }

    /// Stops the worker and waits for it.
    pub(crate) fn stop(self) {
        let _ = self.stop.send(());
        if self.handle.join().is_err() {
            tracing::error!("the maintenance thread panicked; the database refuses writes");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_maintenance_thread_poisons_the_database() {
        let poison = Poison::new();
        let worker =
            Worker::spawn(Duration::from_millis(1), poison.clone(), || panic!("maintenance bug"));
        let _ = worker.handle.join();
        assert_eq!(poison.reason().as_deref(), Some("the maintenance thread panicked"));
    }

    #[test]
    fn a_poisoned_database_refuses_writes_and_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::Database::open(dir.path(), crate::Config::default()).unwrap();
        db.put("k", "v").unwrap();
        db.inner.poison.poison("the maintenance thread panicked");
        let poisoned = |r: crate::Result<()>| matches!(r, Err(crate::Error::Poisoned(ref m)) if m.contains("maintenance"));
        assert!(poisoned(db.put("k", "w")));
        assert!(poisoned(db.write(crate::WriteBatch::new())));
        assert!(poisoned(db.begin().map(drop)));
        assert!(poisoned(db.keyspace("new").map(drop)));
        assert!(poisoned(db.flush()));
        assert_eq!(db.get("k").unwrap().as_deref(), Some(&b"v"[..]));
        assert!(poisoned(db.close()), "close says the database is poisoned");
    }
}

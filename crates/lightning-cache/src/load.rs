//! `get_or_load`: a missing entry is loaded once even when many threads miss it at once.
//!
//! The first thread to miss a key registers a [`LoadSlot`] in the key's shard and runs the
//! loader without holding any lock; later missers find the slot and sleep on its condition
//! variable. When the loader returns, the loading thread caches the value (unless the key was
//! inserted, removed or invalidated meanwhile) and removes the slot in one critical section,
//! so there is no instant at which the key is neither resident nor in flight; then it wakes
//! the waiters, who all get the same `Arc<V>`, or the same `Arc<E>` if the loader failed
//! (errors are not cached: the next call loads again). If the loader panics, the slot is
//! abandoned and the waiters retry, one of them becoming the next loader.

use std::any::Any;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;
use std::thread::{self, ThreadId};

use parking_lot::{Condvar, Mutex};

use crate::ArcCache;
use crate::shard::{InFlight, Shard, ShardState};

/// How a load ended.
#[derive(Debug)]
enum Outcome<V> {
    Pending,
    Loaded(Arc<V>),
    /// The loader's error, type-erased because the in-flight table is shared by callers with
    /// different error types; each waiter downcasts it to its own.
    Failed(Arc<dyn Any + Send + Sync>),
    /// The loader panicked.
    Abandoned,
}

impl<V> Clone for Outcome<V> {
    fn clone(&self) -> Self {
        match self {
            Self::Pending => Self::Pending,
            Self::Loaded(value) => Self::Loaded(Arc::clone(value)),
            Self::Failed(error) => Self::Failed(Arc::clone(error)),
            Self::Abandoned => Self::Abandoned,
        }
    }
}

/// The rendezvous of one in-flight load.
#[derive(Debug)]
pub(crate) struct LoadSlot<V> {
    outcome: Mutex<Outcome<V>>,
    ready: Condvar,
    loader: ThreadId,
}

impl<V> LoadSlot<V> {
    fn new() -> Self {
        Self {
            outcome: Mutex::new(Outcome::Pending),
            ready: Condvar::new(),
            loader: thread::current().id(),
        }
    }

    /// Blocks until the load ends. REQUIRES: no shard lock held.
    fn wait(&self) -> Outcome<V> {
        assert_ne!(
            self.loader,
            thread::current().id(),
            "get_or_load: a loader asked the cache for the key it is loading (it would wait for itself)"
        );
        let mut outcome = self.outcome.lock();
        while matches!(*outcome, Outcome::Pending) {
            self.ready.wait(&mut outcome);
        }
        outcome.clone()
    }

    fn finish(&self, outcome: Outcome<V>) {
        *self.outcome.lock() = outcome;
        self.ready.notify_all();
    }
}

/// Ends a load: on drop without [`LoadGuard::finish`] (the loader panicked) it withdraws the
/// slot and wakes the waiters so that they retry.
struct LoadGuard<'a, K: Eq, V> {
    shard: &'a Shard<K, V>,
    slot: Arc<LoadSlot<V>>,
    finished: bool,
}

impl<K: Eq, V> LoadGuard<'_, K, V> {
    /// Withdraws the slot, lets `settle` act on the shard in the same critical section (cache
    /// the value, count a failure), then publishes `outcome` to the waiters.
    fn finish(
        mut self,
        outcome: Outcome<V>,
        settle: impl FnOnce(&mut ShardState<K, V>, InFlight<K, V>),
    ) {
        let mut state = self.shard.lock();
        let record = state.take_inflight(&self.slot);
        debug_assert!(record.is_some(), "the in-flight record of a load vanished");
        if let Some(record) = record {
            settle(&mut state, record);
        }
        drop(state);
        self.finished = true;
        self.slot.finish(outcome);
    }
}

impl<K: Eq, V> Drop for LoadGuard<'_, K, V> {
    fn drop(&mut self) {
        if !self.finished {
            self.shard.lock().take_inflight(&self.slot);
            self.slot.finish(Outcome::Abandoned);
        }
    }
}

impl<K: Hash + Eq + Clone, V, S: BuildHasher> ArcCache<K, V, S> {
    /// Returns the value of `key`, calling `loader` to produce it (and its size in bytes) if it
    /// is not resident. Concurrent callers missing the same key wait for one load and share
    /// its value or its error; errors are not cached. A value that cannot be cached (larger
    /// than a shard, or everything in reach pinned) is still returned.
    ///
    /// REQUIRES: `loader` does not call `get_or_load` for the same key (that would wait for
    /// itself; it panics instead) and holds no value lock that a waiter's thread might need.
    pub fn get_or_load<E, F>(&self, key: &K, loader: F) -> Result<Arc<V>, Arc<E>>
    where
        F: FnOnce() -> Result<(V, usize), E>,
        E: Send + Sync + 'static,
    {
        let (hash, shard) = self.locate(key);
        let mut counted = false;
        loop {
            let mut state = shard.lock();
            let value = state.core.get(hash, key);
            if !counted {
                state.core.count_lookup(value.is_some());
                counted = true;
            }
            if let Some(value) = value {
                return Ok(value);
            }
            if let Some(slot) = state.inflight_of(hash, key).map(|f| Arc::clone(&f.slot)) {
                state.core.counters.load_waits += 1;
                drop(state);
                match slot.wait() {
                    Outcome::Loaded(value) => return Ok(value),
                    Outcome::Failed(error) => match error.downcast::<E>() {
                        Ok(error) => return Err(error),
                        // A caller with another error type loaded; load with ours instead.
                        Err(_) => continue,
                    },
                    Outcome::Abandoned | Outcome::Pending => continue,
                }
            }
            let slot = Arc::new(LoadSlot::new());
            let record =
                InFlight { key: key.clone(), hash, slot: Arc::clone(&slot), discard: false };
            state.inflight.push(record);
            state.core.counters.loads += 1;
            drop(state);

            let guard = LoadGuard { shard, slot, finished: false };
            return match loader() {
                Ok((value, size_bytes)) => {
                    let value = Arc::new(value);
                    let cached = Arc::clone(&value);
                    guard.finish(Outcome::Loaded(Arc::clone(&value)), |state, record| {
                        if !record.discard {
                            state.core.insert(hash, record.key, cached, size_bytes);
                        }
                    });
                    Ok(value)
                }
                Err(error) => {
                    let error = Arc::new(error);
                    let erased: Arc<dyn Any + Send + Sync> = Arc::clone(&error) as _;
                    guard.finish(Outcome::Failed(erased), |state, _| {
                        state.core.counters.load_failures += 1
                    });
                    Err(error)
                }
            };
        }
    }
}

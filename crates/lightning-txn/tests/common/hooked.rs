//! [`Hooked`]: an engine that delegates to another, running a test's hooks first — one
//! wrapper instead of a hand-written delegating `StorageEngine` per test.

use std::sync::Arc;

use lightning_core_storage::{
    Lsn, Result, Timestamp,
    engine::{
        Direction, DurableState, EngineBatch, EngineIter, EngineStats, KeyRange, StorageEngine,
        Version,
    },
};

/// What a test changes about an engine; each default delegates unchanged.
pub trait EngineHooks: Send + Sync + 'static {
    /// Runs before `get` of `key` (a reader may be paused here).
    fn before_get(&self, _key: &[u8]) {}

    /// The engine's `admit_write` (the default admits at once, as the trait's default does).
    fn admit_write(&self) -> Result<()> {
        Ok(())
    }

    /// The engine's `apply`: the default hands the batch to `inner`.
    fn apply(
        &self,
        inner: &dyn StorageEngine,
        batch: &EngineBatch,
        commit_ts: Timestamp,
        lsn: Lsn,
    ) -> Result<()> {
        inner.apply(batch, commit_ts, lsn)
    }
}

/// `inner` with `hooks` run first. Every other method delegates unchanged.
pub struct Hooked<H> {
    name: &'static str,
    pub inner: Arc<dyn StorageEngine>,
    pub hooks: H,
}

impl<H: EngineHooks> Hooked<H> {
    pub fn new(name: &'static str, inner: Arc<dyn StorageEngine>, hooks: H) -> Self {
        Hooked { name, inner, hooks }
    }
}

impl<H: EngineHooks> StorageEngine for Hooked<H> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn admit_write(&self) -> Result<()> {
        self.hooks.admit_write()
    }
    fn get(&self, key: &[u8], read_ts: Timestamp) -> Result<Option<Version>> {
        self.hooks.before_get(key);
        self.inner.get(key, read_ts)
    }
    fn scan(&self, range: KeyRange, ts: Timestamp, d: Direction) -> Result<EngineIter> {
        self.inner.scan(range, ts, d)
    }
    fn apply(&self, batch: &EngineBatch, commit_ts: Timestamp, lsn: Lsn) -> Result<()> {
        self.hooks.apply(self.inner.as_ref(), batch, commit_ts, lsn)
    }
    fn durable_state(&self) -> DurableState {
        self.inner.durable_state()
    }
    fn checkpoint(&self) -> Result<DurableState> {
        self.inner.checkpoint()
    }
    fn collect_garbage(&self, horizon: Timestamp) -> Result<u64> {
        self.inner.collect_garbage(horizon)
    }
    fn stats(&self) -> Result<EngineStats> {
        self.inner.stats()
    }
}

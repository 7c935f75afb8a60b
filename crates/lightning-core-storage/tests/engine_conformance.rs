//! The reference `MemoryEngine` passes the engine conformance suite; the suite itself catches
//! a broken engine.

use lightning_core_storage::{
    Lsn, Result, Timestamp,
    engine::{
        Direction, DurableState, EngineBatch, EngineIter, EngineStats, KeyRange, MemoryEngine,
        StorageEngine, Version,
        conformance::{self, EngineHarness},
    },
};

struct Memory;

impl EngineHarness for Memory {
    type Engine = MemoryEngine;
    fn create(&mut self) -> MemoryEngine {
        MemoryEngine::new()
    }
    fn reopen(&mut self, engine: MemoryEngine) -> MemoryEngine {
        engine.crash_and_reopen()
    }
}

#[test]
fn memory_engine_passes_the_suite() {
    conformance::run_all(&mut Memory);
}

#[test]
fn memory_engine_passes_longer_model_runs() {
    for seed in 1..=4 {
        conformance::model_test(&mut Memory, seed, 5_000);
    }
}

/// An engine that forgets tombstones: reads of deleted keys return the older value.
struct ForgetsDeletes(MemoryEngine);

impl StorageEngine for ForgetsDeletes {
    fn name(&self) -> &'static str {
        "broken"
    }
    fn get(&self, key: &[u8], read_ts: Timestamp) -> Result<Option<Version>> {
        self.0.get(key, read_ts)
    }
    fn scan(
        &self,
        range: KeyRange,
        read_ts: Timestamp,
        direction: Direction,
    ) -> Result<EngineIter> {
        self.0.scan(range, read_ts, direction)
    }
    fn apply(&self, batch: &EngineBatch, commit_ts: Timestamp, lsn: Lsn) -> Result<()> {
        let mut kept = EngineBatch::new();
        for op in batch.ops().iter().filter(|op| op.value().is_some()) {
            kept.push(op.clone());
        }
        self.0.apply(&kept, commit_ts, lsn)
    }
    fn durable_state(&self) -> DurableState {
        self.0.durable_state()
    }
    fn checkpoint(&self) -> Result<DurableState> {
        self.0.checkpoint()
    }
    fn collect_garbage(&self, horizon: Timestamp) -> Result<u64> {
        self.0.collect_garbage(horizon)
    }
    fn stats(&self) -> Result<EngineStats> {
        self.0.stats()
    }
}

struct Broken;

impl EngineHarness for Broken {
    type Engine = ForgetsDeletes;
    fn create(&mut self) -> ForgetsDeletes {
        ForgetsDeletes(MemoryEngine::new())
    }
    fn reopen(&mut self, engine: ForgetsDeletes) -> ForgetsDeletes {
        ForgetsDeletes(engine.0.crash_and_reopen())
    }
}

#[test]
fn the_suite_rejects_an_engine_that_loses_deletes() {
    let outcome = std::panic::catch_unwind(|| conformance::versions_by_timestamp(&mut Broken));
    assert!(outcome.is_err(), "a lost tombstone must fail the suite");
    let outcome = std::panic::catch_unwind(|| conformance::model_test(&mut Broken, 7, 2_000));
    assert!(outcome.is_err(), "the model test must notice too");
}

#[test]
fn memory_engine_loses_only_what_was_not_checkpointed() {
    let engine = MemoryEngine::new();
    let mut batch = EngineBatch::new();
    batch.put("a", "1");
    engine.apply(&batch, Timestamp(1), Lsn(1)).unwrap();
    assert_eq!(
        engine.checkpoint().unwrap(),
        DurableState { lsn: Lsn(1), log_floor: Lsn(1), max_commit_ts: Timestamp(1) }
    );
    let mut batch = EngineBatch::new();
    batch.put("b", "2");
    engine.apply(&batch, Timestamp(2), Lsn(2)).unwrap();
    let reopened = engine.crash_and_reopen();
    assert!(reopened.get(b"a", Timestamp::MAX).unwrap().is_some());
    assert!(reopened.get(b"b", Timestamp::MAX).unwrap().is_none());
    assert_eq!(reopened.stats().unwrap().versions, 1);
}

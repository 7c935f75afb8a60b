//! The LSM engine against a `BTreeMap` model: 100,000 random operations (puts, deletes, gets
//! and scans both ways at random timestamps, flushes, GC steps, compactions) with 16 KiB
//! memtables and 16 KiB tables, so that flushes and compactions happen many times, and
//! power cuts at random points followed by a replay of the batches above the durable LSN (as
//! the write-ahead log would replay them). Nothing acknowledged durable is ever lost.

mod common;

use std::ops::Bound;

use common::Model;
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine, Version, VersionedEntry},
    rng::SplitMix64,
    vfs::{FaultFs, PowerCut},
};
use lightning_lsm::{LsmEngine, LsmOptions};

const OPERATIONS: usize = 100_000;
const KEYS: u64 = 2_000;
const SCAN_LIMIT: usize = 40;

struct Run {
    fs: FaultFs,
    options: LsmOptions,
    engine: Option<LsmEngine>,
    /// Engine counters summed over every engine of the run.
    totals: std::collections::BTreeMap<String, u64>,
    model: Model,
    /// Batches not yet known to be durable: what the log would replay.
    log: Vec<(u64, u64, EngineBatch)>,
    rng: SplitMix64,
    now: u64,
    lsn: u64,
    horizon: u64,
}

fn key(i: u64) -> Vec<u8> {
    format!("key{i:05}").into_bytes()
}

/// True if `v` may read as absent: a tombstone at or below the GC horizon may be dropped.
fn droppable(v: &Version, horizon: u64) -> bool {
    v.value.is_none() && v.commit_ts.0 <= horizon
}

impl Run {
    fn new(seed: u64) -> Run {
        let fs = FaultFs::new();
        let options = LsmOptions::tiny();
        let engine = common::open(&fs, &options).expect("open");
        Run {
            fs,
            options,
            engine: Some(engine),
            totals: Default::default(),
            model: Model::default(),
            log: Vec::new(),
            rng: SplitMix64::new(seed),
            now: 1,
            lsn: 0,
            horizon: 0,
        }
    }

    fn write(&mut self, deletes: bool) {
        let mut batch = EngineBatch::new();
        for _ in 0..=self.rng.below(4) {
            let k = key(self.rng.below(KEYS));
            if deletes {
                batch.delete(k);
            } else {
                let len = self.rng.below(160) as usize;
                batch.put(k, vec![(self.now % 251) as u8; len]);
            }
        }
        self.lsn += 1;
        self.engine().admit_write().expect("admit");
        self.engine().apply(&batch, Timestamp(self.now), Lsn(self.lsn)).expect("apply");
        self.model.apply(&batch, self.now);
        self.log.push((self.lsn, self.now, batch));
        self.now += 1;
    }

    fn read_ts(&mut self) -> u64 {
        self.horizon + self.rng.below(self.now - self.horizon + 1)
    }

    fn check_get(&mut self, step: usize) {
        let k = key(self.rng.below(KEYS));
        let at = self.read_ts();
        let got = self.engine().get(&k, Timestamp(at)).expect("get");
        let expected = self.model.get(&k, at);
        let same = got == expected
            || (got.is_none() && expected.as_ref().is_some_and(|v| droppable(v, self.horizon)));
        assert!(same, "step {step}: get {k:?} at {at}: {got:?}, model {expected:?}");
    }

    fn check_scan(&mut self, step: usize) {
        let (a, b) = (self.rng.below(KEYS + 1), self.rng.below(KEYS + 1));
        let (lo, hi) = (key(a.min(b)), (a.max(b) < KEYS).then(|| key(a.max(b))));
        let at = self.read_ts();
        let reverse = self.rng.below(2) == 0;
        let horizon = self.horizon;
        let hide = |e: &VersionedEntry| e.value.is_none() && e.commit_ts.0 <= horizon;
        let range = KeyRange {
            start: Bound::Included(lo.clone()),
            end: hi.clone().map_or(Bound::Unbounded, Bound::Excluded),
        };
        let direction = if reverse { Direction::Reverse } else { Direction::Forward };
        let got: Vec<VersionedEntry> = self
            .engine()
            .scan(range, Timestamp(at), direction)
            .expect("scan")
            .map(|e| e.expect("scan entry"))
            .filter(|e| !hide(e))
            .take(SCAN_LIMIT)
            .collect();
        let expected = self.model.scan(&lo, hi.as_deref(), at, reverse, SCAN_LIMIT, hide);
        assert_eq!(got, expected, "step {step}: scan {lo:?}..{hi:?} at {at} reverse {reverse}");
    }

    /// A power cut and reopen, then the log's replay of what was not durable.
    fn crash_and_recover(&mut self, step: usize) {
        let acknowledged = self.engine().durable_state().lsn;
        self.add_counters();
        drop(self.engine.take());
        self.fs.power_cut(PowerCut::DropUnsynced);
        let engine = common::open(&self.fs, &self.options).expect("reopen");
        let durable = engine.durable_state().lsn;
        assert!(
            durable >= acknowledged,
            "step {step}: durable {durable:?} < acknowledged {acknowledged:?}"
        );
        let report = engine.check().expect("check");
        assert!(report.is_clean(), "step {step}: check after reopen: {:?}", report.problems);
        self.log.retain(|(lsn, _, _)| *lsn > durable.0);
        for (lsn, ts, batch) in &self.log {
            engine.apply(batch, Timestamp(*ts), Lsn(*lsn)).expect("replay");
        }
        self.engine = Some(engine);
    }

    fn engine(&self) -> &LsmEngine {
        self.engine.as_ref().expect("the engine is open")
    }

    /// Adds the engine's flush and compaction counters to the run's totals.
    fn add_counters(&mut self) {
        let stats = self.engine().stats().expect("stats");
        for (name, value) in stats.extra {
            *self.totals.entry(name).or_insert(0) += value;
        }
    }
}

#[test]
fn one_hundred_thousand_random_operations_match_a_btreemap() {
    let mut run = Run::new(0x15a1);
    for step in 0..OPERATIONS {
        match run.rng.below(1000) {
            0..=449 => run.write(false),
            450..=549 => run.write(true),
            550..=799 => run.check_get(step),
            800..=879 => run.check_scan(step),
            880..=889 => {
                let state = run.engine().checkpoint().expect("checkpoint");
                assert_eq!(state.lsn, Lsn(run.lsn), "step {step}: checkpoint covers every batch");
                run.log.clear();
            }
            890..=894 => {
                let horizon = run.now.saturating_sub(300).max(run.horizon);
                run.engine().collect_garbage_step(Timestamp(horizon)).expect("gc step");
                run.horizon = horizon;
            }
            895 => run.engine().compact_range(None, None).expect("compact_range"),
            896..=897 => run.crash_and_recover(step),
            _ => run.check_get(step),
        }
    }
    run.add_counters();
    let count = |name: &str| run.totals.get(name).copied().unwrap_or(0);
    assert!(count("flushes") >= 200, "flushes happened many times: {:?}", run.totals);
    assert!(count("compactions") >= 20, "compactions happened many times: {:?}", run.totals);
}

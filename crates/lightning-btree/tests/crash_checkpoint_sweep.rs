//! Crash safety of checkpoints: a power cut at every durability point of a workload (after the
//! point with unsynced data dropped; before it with unsynced writes torn or reordered) always
//! reopens, to exactly the last completed checkpoint (or the one in flight, if its meta page
//! landed), with `check()` clean: no page lost, none both used and free.

use std::{collections::BTreeMap, path::Path, sync::Arc};

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine, VersionedEntry},
    vfs::{FaultFs, FaultKind, Vfs},
};

const DIR: &str = "/db/tree";

/// Every version the engine holds, in order.
type Dump = Vec<VersionedEntry>;

fn open(fs: &FaultFs) -> lightning_core_storage::Result<BTreeEngine> {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    let options =
        BTreeOptions { cache_size_bytes: 1 << 20, ..BTreeOptions::default() }.manual_checkpoints();
    Ok(BTreeEngine::open(vfs, Path::new(DIR), options)?)
}

fn dump(engine: &BTreeEngine) -> lightning_core_storage::Result<Dump> {
    engine.scan_versions(KeyRange::all(), Direction::Forward).collect()
}

fn value(round: u64, i: u64) -> Vec<u8> {
    let len = match i % 50 {
        0 => 40_000 + (round * 977) as usize % 20_000, // several overflow pages
        1 => 6_000,                                    // one overflow page
        _ => ((i * 31 + round * 7) % 300) as usize,
    };
    (0..len).map(|b| (b as u64 ^ i ^ round) as u8).collect()
}

/// The states of completed checkpoints by LSN (LSN 0: nothing checkpointed), and the state of
/// a checkpoint that failed in flight. Stops at the first error.
fn workload(fs: &FaultFs) -> (BTreeMap<u64, Dump>, Option<(u64, Dump)>) {
    let mut states = BTreeMap::from([(0, Vec::new())]);
    let mut in_flight = None;
    let mut run = || -> lightning_core_storage::Result<()> {
        let engine = open(fs)?;
        let mut lsn = 0;
        for round in 0..6u64 {
            for b in 0..8u64 {
                let mut batch = EngineBatch::new();
                for i in 0..60u64 {
                    let k = (i * 37 + b * 11 + round * 5) % 700;
                    let key = format!("key{k:05}").into_bytes();
                    if (i + round) % 9 == 0 {
                        batch.delete(key);
                    } else {
                        batch.put(key, value(round, i));
                    }
                }
                lsn += 1;
                engine.apply(&batch, Timestamp(round * 100 + b + 1), Lsn(lsn))?;
            }
            if round >= 2 {
                // Vacuum frees pages and overflow chains for later checkpoints to reuse.
                engine.collect_garbage(Timestamp((round - 1) * 100))?;
            }
            let expected = dump(&engine)?;
            in_flight = Some((lsn, expected.clone()));
            assert_eq!(engine.checkpoint()?.lsn, Lsn(lsn));
            in_flight = None;
            states.insert(lsn, expected);
        }
        Ok(())
    };
    let _ = run();
    (states, in_flight)
}

#[test]
fn a_power_cut_at_any_durability_point_recovers_a_checkpoint() {
    let dry = FaultFs::new();
    let (states, in_flight) = workload(&dry);
    assert!(in_flight.is_none() && states.len() == 7, "the dry run completes");
    let points = dry.durability_points();
    assert!(points >= 12, "two syncs per checkpoint at least ({points})");
    let mut outcomes = BTreeMap::new();
    for point in 1..=points {
        for crash in FaultKind::crashes_at(point) {
            let fs = FaultFs::new();
            fs.inject(crash);
            let (states, in_flight) = workload(&fs);
            assert!(fs.is_dead(), "{crash:?}: the crash happened");
            fs.restart();
            let engine = open(&fs).unwrap_or_else(|e| panic!("{crash:?}: reopen failed: {e}"));
            let durable = engine.durable_state().lsn.0;
            let expected = match (states.get(&durable), &in_flight) {
                (Some(state), _) => state,
                (None, Some((lsn, state))) if *lsn == durable => state,
                _ => panic!("{crash:?}: reopened at lsn {durable}, not a checkpoint"),
            };
            let got = dump(&engine).unwrap_or_else(|e| panic!("{crash:?}: dump: {e}"));
            assert_eq!(&got, expected, "{crash:?}: the tree equals checkpoint {durable}");
            let report = engine.check().unwrap_or_else(|e| panic!("{crash:?}: check: {e}"));
            assert_eq!(report.versions, expected.len() as u64);
            *outcomes.entry(durable).or_insert(0) += 1;
            // The recovered engine keeps working: write, checkpoint, reopen.
            let mut batch = EngineBatch::new();
            batch.put("after", "crash");
            engine.apply(&batch, Timestamp(10_000), Lsn(durable + 1)).expect("apply after");
            engine.checkpoint().expect("checkpoint after");
            drop(engine);
            let engine = open(&fs).expect("second reopen");
            assert_eq!(
                engine.get(b"after", Timestamp::MAX).expect("get").map(|v| v.value),
                Some(Some(b"crash".to_vec()))
            );
            engine.check().expect("check after the second reopen");
        }
    }
    assert!(outcomes.len() >= 7, "crashes landed on every checkpoint: {outcomes:?}");
}

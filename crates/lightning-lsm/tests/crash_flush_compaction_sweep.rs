//! Crash safety of flushes and compactions: a power cut at every durability point of a
//! workload that flushes many tiny memtables, compacts (in the background and by
//! `compact_range`) and collects garbage always reopens, with `check()` clean, no orphan
//! table left in the directory, every batch at or below the reopened durable LSN present and
//! the durable LSN at least what the last successful checkpoint acknowledged. Replaying the
//! batches above it (as the log would) restores the full state.

mod common;

use std::{collections::BTreeSet, path::Path, sync::Arc};

use common::{DIR, Model};
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine, VersionedEntry},
    vfs::{FaultFs, FaultKind, Vfs},
};
use lightning_lsm::{LsmEngine, LsmOptions, TableMeta, manifest::Manifest};

const ROUNDS: u64 = 6;
const BATCHES: u64 = 6;

fn options() -> LsmOptions {
    let mut options = LsmOptions::tiny();
    options.memtable_bytes = 8 << 10;
    options.compaction.l0_trigger = 2;
    options
}

fn batch(round: u64, b: u64) -> EngineBatch {
    let mut batch = EngineBatch::new();
    for i in 0..25u64 {
        let k = (i * 37 + b * 11 + round * 5) % 300;
        let key = format!("key{k:04}").into_bytes();
        if (i + round).is_multiple_of(7) {
            batch.delete(key);
        } else {
            batch.put(key, vec![(round * 10 + b) as u8; 40 + (i as usize * 13) % 100]);
        }
    }
    batch
}

/// Every batch of the workload in order: (lsn, commit ts, batch).
fn batches() -> Vec<(u64, u64, EngineBatch)> {
    let mut all = Vec::new();
    for round in 0..ROUNDS {
        for b in 0..BATCHES {
            let lsn = round * BATCHES + b + 1;
            all.push((lsn, lsn * 10, batch(round, b)));
        }
    }
    all
}

/// Runs the workload until an error (the power cut); returns the LSN the last successful
/// checkpoint acknowledged and the compactions the engine ran.
fn workload(fs: &FaultFs) -> (u64, u64) {
    let mut acknowledged = 0;
    let mut compactions = 0;
    let mut run = || -> lightning_core_storage::Result<()> {
        let engine = common::open(fs, &options())?;
        for (lsn, ts, batch) in batches() {
            engine.apply(&batch, Timestamp(ts), Lsn(lsn))?;
            if lsn.is_multiple_of(BATCHES) {
                acknowledged = engine.checkpoint()?.lsn.0;
                let round = lsn / BATCHES;
                if round == 3 {
                    engine.collect_garbage(Timestamp((lsn - 4) * 10))?;
                } else if round == 5 {
                    engine.compact_range(None, None)?;
                }
            }
        }
        let stats = engine.stats()?;
        compactions = stats.extra.iter().filter(|(n, _)| n == "compactions").map(|(_, v)| v).sum();
        Ok(())
    };
    let _ = run();
    (acknowledged, compactions)
}

/// The newest visible value per key at `Timestamp::MAX`, tombstones left out (GC may drop
/// them, which reads the same).
fn live(entries: Vec<VersionedEntry>) -> Vec<(Vec<u8>, Vec<u8>)> {
    entries.into_iter().filter_map(|e| e.value.map(|v| (e.key, v))).collect()
}

fn dump(engine: &LsmEngine) -> Vec<(Vec<u8>, Vec<u8>)> {
    let entries = engine
        .scan(KeyRange::all(), Timestamp::MAX, Direction::Forward)
        .expect("scan")
        .collect::<Result<Vec<_>, _>>()
        .expect("scan entry");
    live(entries)
}

fn model_at(lsn: u64) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut model = Model::default();
    for (_, ts, batch) in batches().into_iter().filter(|(l, _, _)| *l <= lsn) {
        model.apply(&batch, ts);
    }
    live(model.scan(b"", None, u64::MAX, false, usize::MAX, |_| false))
}

/// The table files in the directory, and the tables the manifest names. Called with no engine
/// open (a running one may be writing a compaction's outputs).
fn tables_on_disk_and_live(fs: &FaultFs) -> (BTreeSet<String>, BTreeSet<String>) {
    let on_disk =
        fs.list(Path::new(DIR)).expect("list").into_iter().filter(|n| n.ends_with(".sst"));
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    let (manifest, _) =
        Manifest::open(vfs, Path::new(DIR), options().compaction.num_levels).expect("manifest");
    let live = manifest.live_file_numbers().into_iter().map(TableMeta::file_name).collect();
    (on_disk.collect(), live)
}

fn verify(fs: &FaultFs, acknowledged: u64, label: &str) -> u64 {
    let engine = common::open(fs, &options()).unwrap_or_else(|e| panic!("{label}: reopen: {e}"));
    let durable = engine.durable_state().lsn.0;
    assert!(durable >= acknowledged, "{label}: durable {durable} < acknowledged {acknowledged}");
    let report = engine.check().unwrap_or_else(|e| panic!("{label}: check: {e}"));
    assert!(report.is_clean(), "{label}: check: {:?}", report.problems);
    assert_eq!(dump(&engine), model_at(durable), "{label}: the state at durable lsn {durable}");
    for (lsn, ts, batch) in batches().into_iter().filter(|(l, _, _)| *l > durable) {
        engine.apply(&batch, Timestamp(ts), Lsn(lsn)).expect("replay");
    }
    let all = batches().len() as u64;
    assert_eq!(dump(&engine), model_at(all), "{label}: the replay restores everything");
    engine.checkpoint().unwrap_or_else(|e| panic!("{label}: checkpoint after replay: {e}"));
    drop(engine);
    let (on_disk, live) = tables_on_disk_and_live(fs);
    assert_eq!(on_disk, live, "{label}: every table on disk is live (orphans deleted)");
    durable
}

#[test]
fn a_power_cut_at_any_durability_point_of_flushes_and_compactions_loses_nothing() {
    let dry = FaultFs::new();
    let (acknowledged, compactions) = workload(&dry);
    assert_eq!(acknowledged, ROUNDS * BATCHES, "the dry run completes");
    assert!(compactions >= 3, "the workload compacts ({compactions} compactions)");
    let points = dry.durability_points();
    assert!(points >= 30, "flushes and compactions have many durability points ({points})");
    verify(&dry, acknowledged, "dry run");

    let mut durable_seen = BTreeSet::new();
    // Background threads move the points between runs: go somewhat past the dry run's count.
    for point in 1..=points + points / 4 {
        for crash in FaultKind::crashes_at(point) {
            let fs = FaultFs::new();
            fs.inject(crash);
            let (acknowledged, _) = workload(&fs);
            fs.finish_with_crash();
            durable_seen.insert(verify(&fs, acknowledged, &format!("{crash:?}")));
        }
    }
    assert!(durable_seen.len() >= 4, "cuts landed between many checkpoints: {durable_seen:?}");
}

//! Power-cut sweeps over `Manifest`: a crash at every durability point of creation,
//! `log_edit` and the manifest rewrite (and every torn write) leaves a directory that opens to
//! the state before or after the interrupted edit — never an error, never a mix — and whose
//! orphans are only leftovers.

use std::{path::Path, sync::Arc};

use lightning_core_storage::{
    Lsn, Result, Timestamp,
    vfs::{FaultFs, FaultKind, OpenMode, Vfs},
};
use lightning_lsm::{
    InternalKey, TableMeta,
    manifest::{Manifest, ManifestOptions, RecoveredState, orphan_files},
    version::VersionEdit,
};

const DIR: &str = "/db/lsm";
const LEVELS: usize = 4;
/// Small enough that the workload rewrites the manifest twice.
const OPTIONS: ManifestOptions = ManifestOptions { max_log_bytes: u64::MAX, max_log_edits: 3 };

fn table(number: u64, first: &str, last: &str) -> TableMeta {
    // Long keys make records span several sectors, so torn writes tear inside them.
    let key = |k: &str| format!("{k}{}", "-".repeat(600)).into_bytes();
    TableMeta {
        file_number: number,
        file_size: 4096 * number,
        smallest: InternalKey::new(key(first), Timestamp(100)),
        largest: InternalKey::new(key(last), Timestamp(1)),
        entries: 5,
        tombstones: 0,
        min_ts: Timestamp(1),
        max_ts: Timestamp(100),
    }
}

/// The workload's edits: flushes, a compaction, a trivial move, a counter-only edit.
fn edits() -> Vec<VersionEdit> {
    let flush = |n: u64| {
        let mut edit = VersionEdit::new();
        edit.add_table(0, table(n, "a", "m"));
        edit.next_file_number = Some(n + 1);
        edit.durable_lsn = Some(Lsn(n * 10));
        edit.max_commit_ts = Some(Timestamp(n * 100));
        edit
    };
    let mut compaction = VersionEdit::new();
    compaction
        .remove_table(0, 1)
        .remove_table(0, 2)
        .add_table(1, table(4, "a", "f"))
        .add_table(1, table(5, "g", "m"));
    compaction.next_file_number = Some(6);
    let mut trivial_move = VersionEdit::new();
    trivial_move.remove_table(0, 3).add_table(2, table(3, "a", "m"));
    let mut counters = VersionEdit::new();
    counters.durable_lsn = Some(Lsn(999));
    vec![flush(1), flush(2), flush(3), compaction, trivial_move, flush(6), counters, flush(7)]
}

fn open(fs: &FaultFs) -> Result<(Manifest, RecoveredState)> {
    Manifest::open_with_options(Arc::new(fs.clone()), Path::new(DIR), LEVELS, OPTIONS)
}

/// Opens (creating) and logs `edits`; `acked` counts the edits `log_edit` acknowledged.
fn workload(fs: &FaultFs, edits: &[VersionEdit], acked: &mut usize) -> Result<()> {
    let (mut manifest, _) = open(fs)?;
    for edit in edits {
        manifest.log_edit(edit)?;
        *acked += 1;
    }
    Ok(())
}

/// The state after each prefix of `edits`, from a run without faults.
fn expected_states(edits: &[VersionEdit]) -> Vec<RecoveredState> {
    let fs = FaultFs::new();
    let (mut manifest, state) = open(&fs).expect("create");
    let mut states = vec![state];
    for edit in edits {
        manifest.log_edit(edit).expect("clean run");
        states.push(manifest.state().clone());
    }
    assert!(manifest.number() >= 3, "the workload must rewrite the manifest at least twice");
    states
}

/// After a crash with `acked` edits acknowledged: reopen succeeds with the state before or
/// after the next edit; deleting the orphans leaves only CURRENT and the live manifest; the
/// next edit then logs and survives another reopen. Returns how many edits were recovered.
fn check_recovery(fs: &FaultFs, states: &[RecoveredState], acked: usize, case: &str) -> usize {
    let (manifest, state) =
        open(fs).unwrap_or_else(|e| panic!("{case}: reopen failed after {acked} acked edits: {e}"));
    let recovered =
        (acked..=(acked + 1).min(states.len() - 1)).find(|&i| states[i] == state).unwrap_or_else(
            || panic!("{case}: {acked} acked, recovered state matches neither: {state:?}"),
        );
    let dir = Path::new(DIR);
    for orphan in orphan_files(fs, dir, &state, &manifest.current_name()).expect("orphans") {
        fs.remove(&dir.join(orphan)).expect("delete orphan");
    }
    let mut names = fs.list(dir).expect("list");
    names.retain(|name| name != "CURRENT" && *name != manifest.current_name());
    assert!(names.is_empty(), "{case}: left after orphan cleanup: {names:?}");
    drop(manifest);
    recovered
}

fn continue_after_recovery(fs: &FaultFs, states: &[RecoveredState], recovered: usize, case: &str) {
    let all = edits();
    let (mut manifest, _) = open(fs).expect("reopen");
    if let Some(next) = all.get(recovered) {
        manifest.log_edit(next).unwrap_or_else(|e| panic!("{case}: next edit after recovery: {e}"));
        drop(manifest);
        let (_, state) = open(fs).expect("reopen after the next edit");
        assert_eq!(state, states[recovered + 1], "{case}: the edit logged after recovery");
    }
}

#[test]
fn a_crash_at_every_durability_point_recovers_before_or_after_the_edit() {
    let edits = edits();
    let states = expected_states(&edits);
    let dry = FaultFs::new();
    let mut acked = 0;
    workload(&dry, &edits, &mut acked).expect("dry run");
    let points = dry.durability_points();
    assert!(
        points > 2 * edits.len() as u64,
        "creation, {} appends and two rewrites: {points} points",
        edits.len()
    );

    let mut cases = 0;
    for n in 1..=points {
        for kind in FaultKind::crashes_at(n) {
            let fs = FaultFs::new();
            fs.inject(kind);
            let mut acked = 0;
            let result = workload(&fs, &edits, &mut acked);
            assert!(result.is_err() || acked == edits.len(), "{kind:?}");
            fs.finish_with_crash();
            let case = format!("{kind:?}");
            let recovered = check_recovery(&fs, &states, acked, &case);
            continue_after_recovery(&fs, &states, recovered, &case);
            cases += 1;
        }
    }
    assert_eq!(cases, 3 * points);
}

#[test]
fn a_torn_write_anywhere_recovers_before_or_after_the_edit() {
    let edits = edits();
    let states = expected_states(&edits);
    let mut torn = 0;
    for n in 1.. {
        let fs = FaultFs::new();
        fs.inject(FaultKind::TearWrite { n });
        let mut acked = 0;
        let result = workload(&fs, &edits, &mut acked);
        if !fs.is_dead() {
            result.expect("a run whose write did not tear completes");
            break;
        }
        torn += 1;
        fs.finish_with_crash();
        let case = format!("torn write {n}");
        let recovered = check_recovery(&fs, &states, acked, &case);
        continue_after_recovery(&fs, &states, recovered, &case);
        assert!(n < 10_000, "the workload writes a bounded number of times");
    }
    assert!(torn > edits.len(), "every append and every rewrite's writes were torn: {torn}");
}

#[test]
fn a_crash_while_cutting_off_a_torn_tail_recovers() {
    let edits = edits();
    let states = expected_states(&edits);
    // A manifest with two edits and a torn third append that survived the power cut.
    let setup = |fs: &FaultFs| {
        let (mut manifest, _) = open(fs).expect("create");
        manifest.log_edit(&edits[0]).expect("edit 1");
        manifest.log_edit(&edits[1]).expect("edit 2");
        let path = Path::new(DIR).join(manifest.current_name());
        let file = fs.open(&path, OpenMode::ReadWrite).expect("open");
        file.write_all_at(&[0xee; 900], manifest.log_bytes()).expect("garbage");
        file.sync_data().expect("sync");
    };
    let run = |fs: &FaultFs, acked: &mut usize| -> Result<()> {
        let (mut manifest, _) = open(fs)?;
        *acked = 2;
        manifest.log_edit(&edits[2])?;
        *acked = 3;
        Ok(())
    };
    let dry = FaultFs::new();
    setup(&dry);
    let start = dry.durability_points();
    run(&dry, &mut 0).expect("dry run");
    for n in start + 1..=dry.durability_points() {
        for kind in FaultKind::crashes_at(n) {
            let fs = FaultFs::new();
            setup(&fs);
            fs.inject(kind);
            let mut acked = 2;
            let _ = run(&fs, &mut acked);
            fs.finish_with_crash();
            let case = format!("{kind:?} during the cut");
            let recovered = check_recovery(&fs, &states, acked, &case);
            continue_after_recovery(&fs, &states, recovered, &case);
        }
    }
}

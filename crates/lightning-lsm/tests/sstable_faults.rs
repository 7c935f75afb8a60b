//! Tables and failures of the file system (FaultFs): a failed write or sync is reported and the
//! writer refuses more work; a power cut at any point of writing a table leaves either no
//! file, a file that fails to open as `Corruption`, or — once `finish` returned — the whole
//! table. A torn table is never read as valid.

mod sstable_support;

use std::path::PathBuf;
use std::sync::Arc;

use lightning_core_storage::Error;
use lightning_core_storage::vfs::{FaultFs, FaultKind, OpKind, PowerCut, Vfs};
use lightning_lsm::sstable::{Table, TableOptions, TableWriter};
use sstable_support::*;

fn fault_fs() -> (Arc<FaultFs>, PathBuf) {
    let fault = Arc::new(FaultFs::new());
    fault.create_dir_all(std::path::Path::new("/db")).expect("mkdir");
    fault.sync_dir(std::path::Path::new("/")).expect("the directory is durable");
    (fault, PathBuf::from("/db/000001.sst"))
}

fn options() -> TableOptions {
    // Many writes: blocks are small and the writer's buffer fills often.
    TableOptions { block_size: 256, ..TableOptions::default() }
}

#[test]
fn a_failed_write_is_reported_and_the_writer_refuses_more_work() {
    let model = sample_model(8_000, 1);
    let (fault, path) = fault_fs();
    fault.inject(FaultKind::FailNth { op: Some(OpKind::Write), n: 1, persistent: false });
    let mut writer = TableWriter::create(fault.as_ref(), &path, 1, &options()).expect("create");
    let mut failure = None;
    for (key, value) in &model {
        if let Err(error) = writer.add(&key.key, key.ts, value.as_deref()) {
            failure = Some(error);
            break;
        }
    }
    assert!(matches!(failure, Some(Error::Io { .. })), "the write error surfaces: {failure:?}");
    let again = writer.add(b"zzz", lightning_core_storage::Timestamp(1), None);
    assert!(matches!(again, Err(Error::Poisoned { .. })), "{again:?}");
    assert!(matches!(writer.finish(), Err(Error::Poisoned { .. })));
}

#[test]
fn a_failed_sync_fails_finish() {
    let model = sample_model(100, 2);
    let (fault, path) = fault_fs();
    let mut writer = TableWriter::create(fault.as_ref(), &path, 1, &options()).expect("create");
    for (key, value) in &model {
        writer.add(&key.key, key.ts, value.as_deref()).expect("add");
    }
    fault.fail_next_sync(false);
    assert!(matches!(writer.finish(), Err(Error::Io { .. })));
}

/// Writes the model as table 1, syncing the directory after the create and after `finish`,
/// stopping at the first error; true if it all succeeded.
fn write_until_failure(fault: &FaultFs, path: &std::path::Path, model: &Model) -> bool {
    let Ok(mut writer) = TableWriter::create(fault, path, 1, &options()) else {
        return false;
    };
    // The name made durable at once, so that crashes leave partial files behind.
    if fault.sync_dir(std::path::Path::new("/db")).is_err() {
        return false;
    }
    for (key, value) in model {
        if writer.add(&key.key, key.ts, value.as_deref()).is_err() {
            return false;
        }
    }
    // The caller's part: make the new name durable.
    writer.finish().is_ok() && fault.sync_dir(std::path::Path::new("/db")).is_ok()
}

/// After a crash: no file, a table that is refused as Corruption, or (if it was finished)
/// the whole table.
fn check_after_crash(
    fault: &FaultFs,
    path: &std::path::Path,
    model: &Model,
    finished: bool,
    case: &str,
) -> &'static str {
    if !fault.exists(path).expect("exists") {
        assert!(!finished, "{case}: a finished table survives");
        return "no file";
    }
    match Table::open(fault, path, 1, None) {
        Ok(table) => {
            let contents = collect_forward(&mut table.iter());
            let expected: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            assert!(contents == expected, "{case}: a table that opens holds everything");
            assert_eq!(table.check().expect("check"), Vec::new(), "{case}");
            "whole table"
        }
        Err(error) => {
            assert!(!finished, "{case}: a finished table must open: {error}");
            assert!(error.is_corruption(), "{case}: {error}");
            "refused as corruption"
        }
    }
}

#[test]
fn a_power_cut_at_any_write_or_durability_point_never_yields_a_partial_table() {
    let model = sample_model(2_500, 3);
    // A dry run numbers the writes and durability points.
    let (dry, path) = fault_fs();
    let points_before = dry.durability_points();
    let ops_before = dry.operations();
    assert!(write_until_failure(&dry, &path, &model));
    let points = dry.durability_points() - points_before;
    let writes = dry.operations() - ops_before; // an upper bound on the writes
    assert!(points >= 2, "create and sync are durability points");

    let mut outcomes = std::collections::BTreeSet::new();
    for n in 1..=writes {
        let (fault, path) = fault_fs();
        fault.inject(FaultKind::TearWrite { n });
        let finished = write_until_failure(&fault, &path, &model);
        fault.finish_with_crash();
        outcomes.insert(check_after_crash(
            &fault,
            &path,
            &model,
            finished,
            &format!("torn write {n}"),
        ));
    }
    for n in 1..=points + 1 {
        for kind in FaultKind::crashes_at(points_before + n) {
            let (fault, path) = fault_fs();
            fault.inject(kind);
            let finished = write_until_failure(&fault, &path, &model);
            fault.finish_with_crash();
            outcomes.insert(check_after_crash(
                &fault,
                &path,
                &model,
                finished,
                &format!("{kind:?}"),
            ));
        }
    }
    // And a cut with every unsynced write kept in some order, after the last add.
    let (fault, path) = fault_fs();
    let mut writer = TableWriter::create(fault.as_ref(), &path, 1, &options()).expect("create");
    for (key, value) in &model {
        writer.add(&key.key, key.ts, value.as_deref()).expect("add");
    }
    fault.power_cut(PowerCut::ReorderUnsynced { seed: 7 });
    outcomes.insert(check_after_crash(&fault, &path, &model, false, "cut before finish"));
    let all: std::collections::BTreeSet<_> =
        ["no file", "refused as corruption", "whole table"].into_iter().collect();
    assert_eq!(outcomes, all, "the sweep reaches every outcome");
}

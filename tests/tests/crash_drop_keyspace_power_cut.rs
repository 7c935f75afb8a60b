//! `Database::drop_keyspace` under power cuts at every durability point of the drop (its
//! catalog batch, the purge batches, the marker's removal, the close): after the reopen the
//! keyspace is either whole (the drop had not become durable) or gone with none of its entries
//! (a purge cut short is finished by the open); once `drop_keyspace` returned it is gone; the
//! other keyspaces are untouched; the name can be created again, empty.
//! `LIGHTNING_CRASH_SEEDS` sets the number of crash cases (default 12; large: every point).

use std::{path::Path, sync::Arc, time::Duration};

mod common;

use common::ENGINES;
use lightning_db::{
    Config, Database, Engine, WriteBatch,
    vfs::{FaultFs, FaultKind, Vfs},
};

const DIR: &str = "/db";
const DOOMED_ENTRIES: usize = 1500; // two purge batches

fn open(fs: &FaultFs, engine: Engine) -> lightning_db::Result<Database> {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    let config = Config::default().engine(engine).checkpoint_interval(Duration::from_millis(3));
    Database::open_with_vfs(vfs, Path::new(DIR), config)
}

/// A closed database with keyspaces "doomed" (many entries) and "kept".
fn setup(fs: &FaultFs, engine: Engine) {
    let db = open(fs, engine).unwrap();
    let (doomed, kept) = (db.keyspace("doomed").unwrap(), db.keyspace("kept").unwrap());
    let mut batch = WriteBatch::new();
    for i in 0..DOOMED_ENTRIES {
        batch.put_in(&doomed, format!("d{i:05}"), "x");
    }
    for i in 0..10 {
        batch.put_in(&kept, format!("k{i}"), "y");
    }
    db.write(batch).unwrap();
    drop((doomed, kept));
    db.close().unwrap();
}

/// Reopens, drops "doomed", closes; true if `drop_keyspace` returned Ok.
fn run(fs: &FaultFs, engine: Engine) -> bool {
    let Ok(db) = open(fs, engine) else { return false };
    let dropped = db.drop_keyspace("doomed").is_ok();
    let _ = db.close();
    dropped
}

fn verify(fs: &FaultFs, engine: Engine, dropped: bool, label: &str) {
    let db = open(fs, engine).unwrap_or_else(|e| panic!("{label}: reopen failed: {e}"));
    let names = db.keyspaces().unwrap();
    assert!(names.contains(&"kept".to_string()), "{label}: {names:?}");
    assert_eq!(db.keyspace("kept").unwrap().iter().unwrap().count(), 10, "{label}");
    let doomed_listed = names.contains(&"doomed".to_string());
    assert!(!(dropped && doomed_listed), "{label}: the drop returned but \"doomed\" is back");
    let doomed = db.keyspace("doomed").unwrap();
    let left = doomed.iter().unwrap().count();
    if doomed_listed {
        assert_eq!(left, DOOMED_ENTRIES, "{label}: a keyspace that was not dropped is whole");
    } else {
        assert_eq!(left, 0, "{label}: a dropped keyspace's name comes back empty");
    }
    assert!(db.check().unwrap().is_clean(), "{label}: integrity check");
    drop(doomed);
    db.close().unwrap();
}

/// `LIGHTNING_CRASH_SEEDS`: how many crash cases (default 12, spread over the drop's points).
fn crash_cases() -> usize {
    std::env::var("LIGHTNING_CRASH_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(12)
}

#[test]
fn power_cut_during_drop_keyspace_leaves_it_whole_or_gone() {
    for &engine in ENGINES {
        let dry = FaultFs::new();
        setup(&dry, engine);
        let before = dry.durability_points();
        assert!(run(&dry, engine));
        let after = dry.durability_points();
        verify(&dry, engine, true, "dry run");
        // Background checkpoints move the points a little between runs; go a little past the end.
        let cases: Vec<FaultKind> =
            (before + 1..=after + after / 4).flat_map(FaultKind::crashes_at).collect();
        let step = cases.len().div_ceil(crash_cases().max(1)).max(1);
        for crash in cases.into_iter().step_by(step) {
            let fs = FaultFs::new();
            setup(&fs, engine);
            fs.inject(crash);
            let dropped = run(&fs, engine); // Ok means durably dropped, whatever the cut did after
            fs.restart();
            verify(&fs, engine, dropped, &format!("{engine:?} {crash:?}"));
        }
    }
}

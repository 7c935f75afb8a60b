//! Power cuts under the whole database as it ships: the facade over `FaultFs`, its maintenance
//! thread checkpointing every few milliseconds, the engine's checkpoints, the WAL's group
//! commit and background sync, and the catalog of keyspaces (one created midway).
//!
//! After a cut at a durability point (just after it with unsynced data lost, or just before
//! it with unsynced data torn or reordered), the reopened database must hold exactly the state
//! after some prefix of the commits: every commit acknowledged as durable (an `Immediate`
//! commit, or any commit before a successful `sync`/`flush`) present, and no commit torn
//! across keyspaces. Background threads make the durability points differ between runs, so
//! crash point `n` is "the n-th point of this run", and the check is the same whatever it is.
//!
//! `LIGHTNING_CRASH_SEEDS` sets how many crash cases run (default 60, spread evenly over the
//! points; at six times the dry run's points or more, every point is visited).

mod common;

use std::{path::Path, sync::Arc, time::Duration};

use common::ENGINES;
use lightning_db::{
    Config, Database, Durability, Engine, Keyspace,
    vfs::{FaultFs, FaultKind, Vfs},
};

const DIR: &str = "/db";
const COMMITS: u64 = 90;
/// The commit after which keyspace "late" is created.
const LATE_KEYSPACE_AFTER: u64 = 30;

fn config(engine: Engine) -> Config {
    Config::default()
        .engine(engine)
        .checkpoint_interval(Duration::from_millis(3))
        .sync_interval(Duration::from_millis(2))
        .wal_segment_size_bytes(4096)
        .durability(Durability::Eventual)
}

fn open(fs: &FaultFs, engine: Engine) -> lightning_db::Result<Database> {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    Database::open_with_vfs(vfs, Path::new(DIR), config(engine))
}

fn durability_of(k: u64) -> Durability {
    match k % 5 {
        0 | 3 => Durability::Immediate,
        1 => Durability::None,
        _ => Durability::Eventual,
    }
}

fn value_of(k: u64, keyspace: &str) -> Vec<u8> {
    let mut value = format!("{keyspace}:{k}:").into_bytes();
    value.resize(20 + (k as usize * 37) % 700, b'a' + (k % 26) as u8);
    value
}

/// What the workload did before it stopped.
#[derive(Debug, Default)]
struct Outcome {
    /// Commits attempted (commit `k` is the k-th attempt, from 1).
    attempted: u64,
    /// Every commit up to this one was acknowledged as durable.
    durable: u64,
    /// Creating keyspace "late" was acknowledged.
    late_created: bool,
}

/// Commit `k` writes, in one transaction, `n` = k and `k<k>` in the default keyspace, and
/// `last` = k and `k<k>` in every named keyspace that exists by then.
fn run(fs: &FaultFs, engine: Engine, out: &mut Outcome) -> lightning_db::Result<()> {
    let db = open(fs, engine)?;
    let mut spaces: Vec<Keyspace> = vec![db.keyspace("alpha")?, db.keyspace("beta")?];
    for k in 1..=COMMITS {
        out.attempted = k;
        let mut tx = db.begin()?;
        tx.put("n", k.to_be_bytes())?;
        tx.put(format!("k{k:03}"), value_of(k, "default"))?;
        for space in &spaces {
            let mut in_space = tx.keyspace(space);
            in_space.put("last", k.to_be_bytes())?;
            in_space.put(format!("k{k:03}"), value_of(k, space.name()))?;
        }
        tx.commit_with(durability_of(k))?;
        if durability_of(k) == Durability::Immediate {
            out.durable = k;
        }
        if k % 17 == 0 {
            db.sync()?;
            out.durable = k;
        }
        if k % 41 == 0 {
            db.flush()?;
            out.durable = k;
        }
        if k == LATE_KEYSPACE_AFTER {
            spaces.push(db.keyspace("late")?);
            out.late_created = true;
        }
    }
    db.close()?;
    out.durable = COMMITS;
    Ok(())
}

fn as_number(bytes: Option<Vec<u8>>, label: &str) -> u64 {
    bytes.map_or(0, |b| u64::from_be_bytes(b.try_into().unwrap_or_else(|_| panic!("{label}"))))
}

/// Checks that the reopened database holds exactly the state after commits `1..=m` for some
/// `m` with `durable <= m <= attempted`; returns `m`.
fn verify(fs: &FaultFs, engine: Engine, out: &Outcome, label: &str) -> u64 {
    let db = open(fs, engine).unwrap_or_else(|e| panic!("{label}: reopen failed: {e}"));
    let m = as_number(db.get("n").unwrap(), label);
    assert!(m >= out.durable, "{label}: durable commit {} lost (recovered {m})", out.durable);
    assert!(m <= out.attempted, "{label}: commit {m} was never attempted");
    let names = db.keyspaces().unwrap();
    let late_present = names.iter().any(|n| n == "late");
    assert!(!out.late_created || late_present, "{label}: acknowledged keyspace \"late\" lost");
    assert!(m <= LATE_KEYSPACE_AFTER || late_present, "{label}: commit {m} wrote to \"late\"");
    let mut expected_spaces = vec![("default", None)];
    for name in ["alpha", "beta", "late"] {
        if names.iter().any(|n| n == name) {
            expected_spaces.push((name, Some(db.keyspace(name).unwrap())));
        } else {
            assert!(name == "late" || m == 0, "{label}: keyspace {name} lost at commit {m}");
        }
    }
    for (name, space) in &expected_spaces {
        let first = if *name == "late" { LATE_KEYSPACE_AFTER + 1 } else { 1 };
        let entries: Vec<(Vec<u8>, Vec<u8>)> = match space {
            Some(space) => space.iter().unwrap().collect::<Result<_, _>>().unwrap(),
            None => db.iter().unwrap().collect::<Result<_, _>>().unwrap(),
        };
        let mut expected: Vec<(Vec<u8>, Vec<u8>)> =
            (first..=m).map(|k| (format!("k{k:03}").into_bytes(), value_of(k, name))).collect();
        if m >= first {
            let counter = if space.is_some() { "last" } else { "n" };
            expected.push((counter.as_bytes().to_vec(), m.to_be_bytes().to_vec()));
        }
        assert_eq!(entries.len(), expected.len(), "{label}: keyspace {name} at commit {m}");
        assert_eq!(entries, expected, "{label}: keyspace {name} is not the state after {m}");
    }
    assert!(db.check().unwrap().is_clean(), "{label}: integrity check after recovery");
    // The database goes on where it stopped.
    db.put("after", "recovery").unwrap();
    db.close().unwrap_or_else(|e| panic!("{label}: close after recovery: {e}"));
    let db = open(fs, engine).unwrap_or_else(|e| panic!("{label}: second reopen: {e}"));
    assert_eq!(db.get("after").unwrap().as_deref(), Some(&b"recovery"[..]), "{label}");
    db.close().unwrap();
    m
}

fn crash_cases() -> u64 {
    std::env::var("LIGHTNING_CRASH_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60)
}

#[test]
fn power_cut_at_durability_points_keeps_a_prefix_of_commits_across_keyspaces() {
    for &engine in ENGINES {
        crash_sweep(engine);
    }
}

fn crash_sweep(engine: Engine) {
    let dry = FaultFs::new();
    let mut outcome = Outcome::default();
    run(&dry, engine, &mut outcome).expect("dry run");
    let points = dry.durability_points();
    assert!(points > COMMITS / 2, "syncs, checkpoints, segment rolls: {points} points");
    assert_eq!(verify(&dry, engine, &outcome, "dry run"), COMMITS);

    // Background checkpoints add points as time passes, so a slower run has more of them than
    // the dry run: crash points go up to twice the dry run's count (past a run's end, the run
    // completes and the check is the same).
    let cases: Vec<FaultKind> = (1..=2 * points).flat_map(FaultKind::crashes_at).collect();
    let step = (cases.len() as u64).div_ceil(crash_cases().max(1)).max(1) as usize;
    let mut recovered = Vec::new();
    for crash in cases.into_iter().step_by(step) {
        let fs = FaultFs::new();
        fs.inject(crash);
        let mut outcome = Outcome::default();
        // An error is the power cut (or a cut that landed after `close` made everything durable).
        let _ = run(&fs, engine, &mut outcome);
        fs.finish_with_crash(); // the armed cut, or one now if the run ended before it
        recovered.push(verify(&fs, engine, &outcome, &format!("{engine:?} {crash:?}")));
    }
    assert!(
        recovered.iter().any(|&m| m < COMMITS),
        "{engine:?}: some cut landed mid-workload: {recovered:?}"
    );
}

//! A commit's durability is honoured, through the facade over `FaultFs`: these fail if the
//! durability of a commit were ignored. A power cut that keeps no unsynced data loses exactly
//! what was not made durable, so an `Immediate` commit (by the configuration, by
//! `Transaction::commit_with`, by `Database::write_with`) and everything before a successful
//! `Database::sync` must be there after the reopen. Background checkpoints are held off, so
//! nothing else makes the writes durable.

mod common;

use std::time::Duration;

use common::{ENGINES, no_background_checkpoints, open_on, power_cut_and_reopen};
use lightning_db::{Database, Durability, WriteBatch, vfs::FaultFs};

fn count(db: &Database) -> usize {
    db.iter().unwrap().count()
}

#[test]
fn commit_with_immediate_survives_a_power_cut_under_durability_none() {
    for &engine in ENGINES {
        let fs = FaultFs::new();
        let config = no_background_checkpoints().engine(engine).durability(Durability::None);
        let db = open_on(&fs, config.clone());
        let mut tx = db.begin().unwrap();
        tx.put("tx", "immediate").unwrap();
        tx.commit_with(Durability::Immediate).unwrap();
        let db = power_cut_and_reopen(&fs, db, config);
        assert_eq!(db.get("tx").unwrap().as_deref(), Some(&b"immediate"[..]));
    }
}

#[test]
fn put_under_durability_immediate_survives_a_power_cut_that_keeps_no_unsynced_data() {
    for &engine in ENGINES {
        let fs = FaultFs::new();
        let config = no_background_checkpoints().engine(engine); // Durability::Immediate is the default
        let db = open_on(&fs, config.clone());
        db.put("acknowledged", "durable").unwrap();
        db.keyspace("other").unwrap().put("also", "durable").unwrap();
        let db = power_cut_and_reopen(&fs, db, config);
        assert_eq!(db.get("acknowledged").unwrap().as_deref(), Some(&b"durable"[..]));
        assert_eq!(
            db.keyspace("other").unwrap().get("also").unwrap().as_deref(),
            Some(&b"durable"[..])
        );
    }
}

#[test]
fn write_with_immediate_survives_a_power_cut_under_durability_none() {
    for &engine in ENGINES {
        let fs = FaultFs::new();
        let config = no_background_checkpoints().engine(engine).durability(Durability::None);
        let db = open_on(&fs, config.clone());
        let mut batch = WriteBatch::new();
        batch.put("a", "1").put("b", "2");
        db.write_with(batch, Durability::Immediate).unwrap();
        let db = power_cut_and_reopen(&fs, db, config);
        assert_eq!(count(&db), 2, "both writes of the batch survived");
    }
}

#[test]
fn sync_makes_eventual_and_none_writes_survive_a_power_cut() {
    for &engine in ENGINES {
        for durability in [Durability::Eventual, Durability::None] {
            let fs = FaultFs::new();
            let config = no_background_checkpoints()
                .engine(engine)
                .durability(durability)
                .sync_interval(Duration::from_secs(3600));
            let db = open_on(&fs, config.clone());
            for i in 0..50 {
                db.put(format!("k{i:02}"), "v").unwrap();
            }
            db.sync().unwrap();
            let db = power_cut_and_reopen(&fs, db, config);
            assert_eq!(count(&db), 50, "{durability:?}: all 50 synced writes");
        }
    }
}

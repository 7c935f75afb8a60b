//! Regression: a database whose `wal/` directory had lost every segment opened anyway. The log
//! restarted at LSN 1, recovery padded it up to the engine's durable LSN and went on: every
//! commit after the engine's last checkpoint was gone without a word. (Found by an independent
//! review of issue #12's recovery rules.) It must fail with `Corruption` instead.

mod common;

use std::path::Path;

use common::{ENGINES, FAULT_DIR, no_background_checkpoints, open_on};
use lightning_db::{
    Config, Database, Error,
    vfs::{FaultFs, PowerCut, Vfs},
};

#[test]
fn a_deleted_log_under_a_checkpointed_engine_is_corruption() {
    for &engine in ENGINES {
        let fs = FaultFs::new();
        let config = no_background_checkpoints().engine(engine);
        let db = open_on(&fs, config.clone());
        for i in 0..100u32 {
            db.put(format!("checkpointed{i:03}"), i.to_le_bytes()).unwrap();
        }
        db.flush().unwrap();
        for i in 0..100u32 {
            db.put(format!("only-in-the-log{i:03}"), i.to_le_bytes()).unwrap();
        }
        // A crash: the last 100 commits are durable only in the log.
        fs.power_cut(PowerCut::DropUnsynced);
        drop(db);
        let wal = Path::new(FAULT_DIR).join("wal");
        for name in fs.list(&wal).unwrap() {
            fs.remove(&wal.join(name)).unwrap();
        }

        let vfs: std::sync::Arc<dyn Vfs> = std::sync::Arc::new(fs.clone());
        match Database::open_with_vfs(vfs, Path::new(FAULT_DIR), config) {
            Err(Error::Corruption { what, .. }) => {
                assert!(what.contains("holds no segment"), "says what is missing: {what}");
            }
            Err(other) => panic!("expected Corruption, got {other}"),
            Ok(db) => panic!(
                "opened with the log gone; only-in-the-log000 = {:?}",
                db.get("only-in-the-log000")
            ),
        }
    }
}

#[test]
fn a_new_database_still_opens_and_reopens() {
    for &engine in ENGINES {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path(), Config::default().engine(engine)).unwrap();
        db.put(b"k", b"v").unwrap();
        db.close().unwrap();
        let db = Database::open(dir.path(), Config::default().engine(engine)).unwrap();
        assert_eq!(db.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
    }
}

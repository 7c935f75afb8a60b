//! Opening, closing, reopening, locking, engine checks and durability settings.

mod common;

use std::process::Command;

use common::{ENGINES, collect, temp_db};
use lightning_db::{Config, Database, Durability, Engine, Error};

#[test]
fn reopen_after_close_keeps_everything() {
    for &engine in ENGINES {
        let (dir, db) = temp_db(engine);
        for i in 0..1000u32 {
            db.put(format!("key{i:05}"), i.to_le_bytes()).unwrap();
        }
        db.delete(b"key00007").unwrap();
        let clone = db.clone();
        db.close().unwrap();
        assert!(matches!(clone.get(b"key00001"), Err(Error::Closed)), "other handles see Closed");
        drop(clone);
        let db = Database::open(dir.path(), Config::default().engine(engine)).unwrap();
        assert_eq!(collect(db.iter().unwrap()).len(), 999);
        assert_eq!(db.get(b"key00999").unwrap().unwrap(), 999u32.to_le_bytes());
        assert_eq!(db.get(b"key00007").unwrap(), None);
        drop(db); // dropping closes cleanly too
        let db = Database::open(dir.path(), Config::default().engine(engine)).unwrap();
        assert_eq!(collect(db.iter().unwrap()).len(), 999);
    }
}

#[test]
fn every_durability_level_works_and_flush_persists() {
    for &engine in ENGINES {
        for durability in [Durability::Immediate, Durability::Eventual, Durability::None] {
            let dir = tempfile::tempdir().unwrap();
            let config = Config::default().engine(engine).durability(durability);
            let db = Database::open(dir.path(), config.clone()).unwrap();
            db.put(b"k", b"v").unwrap();
            db.flush().unwrap();
            db.close().unwrap();
            let db = Database::open(dir.path(), config).unwrap();
            assert_eq!(db.get(b"k").unwrap().unwrap(), b"v", "{durability:?}");
        }
    }
}

#[test]
fn opening_with_another_engine_fails_clearly() {
    let (dir, db) = temp_db(Engine::BTree);
    db.close().unwrap();
    let err = Database::open(dir.path(), Config::default().engine(Engine::Lsm)).unwrap_err();
    assert!(
        matches!(err, Error::EngineMismatch { found: Engine::BTree, asked: Engine::Lsm, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("btree"), "{err}");
}

#[test]
fn the_lsm_engine_opens_its_own_directory_and_is_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new");
    let db = Database::open(&path, Config::default().engine(Engine::Lsm)).unwrap();
    db.put(b"k", b"v").unwrap();
    db.close().unwrap();
    assert!(path.join("lsm").join("CURRENT").exists(), "the LSM lives in <dir>/lsm");
    assert!(!path.join("btree").exists(), "no silent fallback to the B+Tree");
    let err = Database::open(&path, Config::default().engine(Engine::BTree)).unwrap_err();
    assert!(
        matches!(err, Error::EngineMismatch { found: Engine::Lsm, asked: Engine::BTree, .. }),
        "{err}"
    );
    let db = Database::open(&path, Config::default().engine(Engine::Lsm)).unwrap();
    assert_eq!(db.get(b"k").unwrap().unwrap(), b"v");
}

#[test]
fn a_missing_database_is_not_created_when_asked_not_to() {
    let dir = tempfile::tempdir().unwrap();
    let err = Database::open(dir.path().join("absent"), Config::default().create_if_missing(false));
    assert!(matches!(err, Err(Error::InvalidInput(_))));
}

const CHILD_ENV: &str = "LIGHTNING_LOCK_TEST_DIR";

/// Run as a child process by `a_second_process_cannot_open_the_database`: tries to open the
/// database and reports the outcome on stdout. Run directly, it checks the same lock within
/// one process.
#[test]
fn lock_probe() {
    match std::env::var(CHILD_ENV) {
        Ok(dir) => match Database::open(&dir, Config::default()) {
            Ok(_) => println!("OPENED"),
            Err(e) => println!("REFUSED: {e}"),
        },
        Err(_) => {
            let (dir, _db) = temp_db(Engine::BTree);
            let err = Database::open(dir.path(), Config::default()).unwrap_err();
            assert!(matches!(err, Error::Locked { .. }), "{err}");
        }
    }
}

#[test]
fn a_second_process_cannot_open_the_database() {
    let (dir, db) = temp_db(Engine::BTree);
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "lock_probe", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("REFUSED"), "child output: {stdout}");
    assert!(stdout.contains("in use by another process"), "a clear message: {stdout}");
    db.close().unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "lock_probe", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("OPENED"), "free after close");
}

#[test]
fn close_waits_for_live_transactions_and_then_releases_the_directory() {
    for &engine in ENGINES {
        let (dir, db) = temp_db(engine);
        let users = db.keyspace("users").unwrap();
        users.put(b"1", b"ada").unwrap();
        let tx = db.begin().unwrap();
        let err = db.clone().close().unwrap_err();
        assert!(err.to_string().contains("still alive"), "{err}");
        db.put(b"still", b"open").unwrap();
        drop(tx);
        db.clone().close().unwrap();
        assert!(matches!(users.get(b"1"), Err(Error::Closed)), "keyspace handles see Closed");
        assert!(matches!(db.begin(), Err(Error::Closed)));
        // Handles still exist, but the directory is free again.
        let reopened = Database::open(dir.path(), Config::default().engine(engine)).unwrap();
        assert_eq!(reopened.get(b"still").unwrap().unwrap(), b"open");
        assert_eq!(reopened.keyspace("users").unwrap().get(b"1").unwrap().unwrap(), b"ada");
    }
}

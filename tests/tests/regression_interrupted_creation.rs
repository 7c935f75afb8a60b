//! Regression: a crash while creating a database (after `LOCK` is taken, before `FORMAT` is
//! renamed into place) used to leave a directory that refused to open ("not empty and holds
//! no FORMAT file"). Opening it again must finish the creation.

mod common;

use std::{fs, path::Path};

use common::ENGINES;
use lightning_db::{Config, Database, Engine};

fn opens_and_works(dir: &Path, engine: Engine) {
    let db = Database::open(dir, Config::default().engine(engine)).unwrap();
    db.put(b"k", b"v").unwrap();
    db.close().unwrap();
    let db = Database::open(dir, Config::default().engine(engine)).unwrap();
    assert_eq!(db.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
    db.close().unwrap();
    assert!(dir.join("FORMAT").exists());
    assert!(!dir.join("FORMAT.tmp").exists(), "the temporary FORMAT was renamed into place");
}

#[test]
fn directory_left_with_lock_and_partial_format_tmp_opens() {
    for &engine in ENGINES {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("LOCK"), b"").unwrap();
        fs::write(dir.path().join("FORMAT.tmp"), b"lightning-db\nfor").unwrap();
        opens_and_works(dir.path(), engine);
    }
}

#[test]
fn directory_left_with_lock_format_tmp_and_empty_wal_opens() {
    for &engine in ENGINES {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("LOCK"), b"").unwrap();
        fs::write(dir.path().join("FORMAT.tmp"), b"").unwrap();
        fs::create_dir(dir.path().join("wal")).unwrap();
        opens_and_works(dir.path(), engine);
    }
}

#[test]
fn directory_left_with_engine_and_log_but_no_format_opens() {
    for &engine in ENGINES {
        // What a crash just before the FORMAT rename leaves: the new engine file and log.
        let dir = tempfile::tempdir().unwrap();
        Database::open(dir.path(), Config::default().engine(engine)).unwrap().close().unwrap();
        fs::remove_file(dir.path().join("FORMAT")).unwrap();
        fs::write(dir.path().join("FORMAT.tmp"), b"lightning-db\n").unwrap();
        opens_and_works(dir.path(), engine);
    }
}

#[test]
fn directory_with_foreign_files_and_no_format_still_refuses() {
    for &engine in ENGINES {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("LOCK"), b"").unwrap();
        fs::write(dir.path().join("notes.txt"), b"mine").unwrap();
        let error = Database::open(dir.path(), Config::default().engine(engine)).unwrap_err();
        assert!(error.to_string().contains("notes.txt"), "{error}");
        assert!(!dir.path().join("FORMAT").exists());
    }
}

//! Regression: a database whose FORMAT file exists but whose engine file is gone used to open
//! as an empty database (the B+Tree recreated `btree.ldb`), losing everything below the log's
//! truncation point without a word. It must fail with `Corruption` naming the file.

use lightning_db::{Config, Database, Engine, Error};

#[test]
fn missing_engine_file_of_an_existing_database_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), Config::default()).unwrap();
    for i in 0..100u32 {
        db.put(format!("key{i:03}"), i.to_le_bytes()).unwrap();
    }
    db.close().unwrap();
    let engine_file = dir.path().join("btree").join("btree.ldb");
    std::fs::remove_file(&engine_file).unwrap();

    match Database::open(dir.path(), Config::default()) {
        Err(Error::Corruption { location, .. }) => {
            assert!(location.contains("btree.ldb"), "names the missing file: {location}");
        }
        Err(other) => panic!("expected Corruption, got {other}"),
        Ok(db) => panic!("opened with the engine file missing; key000 = {:?}", db.get("key000")),
    }
    assert!(!engine_file.exists(), "the failed open did not recreate the engine file");
}

#[test]
fn missing_lsm_current_file_of_an_existing_database_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::default().engine(Engine::Lsm);
    let db = Database::open(dir.path(), config.clone()).unwrap();
    for i in 0..100u32 {
        db.put(format!("key{i:03}"), i.to_le_bytes()).unwrap();
    }
    db.close().unwrap();
    let current = dir.path().join("lsm").join("CURRENT");
    std::fs::remove_file(&current).unwrap();
    match Database::open(dir.path(), config) {
        Err(Error::Corruption { location, .. }) => {
            assert!(location.contains("CURRENT"), "names the missing file: {location}");
        }
        Err(other) => panic!("expected Corruption, got {other}"),
        Ok(db) => panic!("opened with CURRENT missing; key000 = {:?}", db.get("key000")),
    }
    assert!(!current.exists(), "the failed open did not recreate an empty engine");
}

#[test]
fn missing_lsm_table_named_by_the_manifest_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::default().engine(Engine::Lsm);
    let db = Database::open(dir.path(), config.clone()).unwrap();
    for i in 0..100u32 {
        db.put(format!("key{i:03}"), i.to_le_bytes()).unwrap();
    }
    db.close().unwrap(); // the closing checkpoint flushes the memtable into a table
    let lsm = dir.path().join("lsm");
    let table = std::fs::read_dir(&lsm)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|name| name.ends_with(".sst"))
        .expect("the checkpoint wrote a table");
    std::fs::remove_file(lsm.join(&table)).unwrap();
    match Database::open(dir.path(), config) {
        Err(Error::Corruption { location, .. }) => {
            assert!(location.contains(&table), "names the missing table {table}: {location}");
        }
        Err(other) => panic!("expected Corruption, got {other}"),
        Ok(db) => panic!("opened with a table missing; key000 = {:?}", db.get("key000")),
    }
}

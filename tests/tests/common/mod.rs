//! Shared helpers: the engines every facade test runs on, and temp databases.

#![allow(dead_code)]

use lightning_db::{Config, Database, Engine};

/// Every engine the facade tests run on. Adding the LSM engine is one entry here.
pub const ENGINES: &[Engine] = &[Engine::BTree];

/// A database in a fresh temporary directory (kept alive by the returned guard).
pub fn temp_db(engine: Engine) -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path(), Config::default().engine(engine)).unwrap();
    (dir, db)
}

pub fn collect(
    iter: impl Iterator<Item = lightning_db::Result<(Vec<u8>, Vec<u8>)>>,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    iter.collect::<Result<Vec<_>, _>>().unwrap()
}

pub fn keys_of(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<String> {
    pairs.iter().map(|(k, _)| String::from_utf8_lossy(k).into_owned()).collect()
}

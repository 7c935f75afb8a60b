//! Shared helpers: the engines every facade test runs on, temp databases, and databases over
//! `FaultFs` with power cuts.

#![allow(dead_code)]

use std::{path::Path, sync::Arc, time::Duration};

use lightning_db::{
    Config, Database, Engine,
    vfs::{FaultFs, PowerCut, Vfs},
};

/// Where the databases over `FaultFs` live (its in-memory namespace).
pub const FAULT_DIR: &str = "/db";

/// Every engine the facade tests run on. Adding the LSM engine is one entry here.
pub const ENGINES: &[Engine] = &[Engine::BTree, Engine::Lsm];

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

/// A config whose background checkpoints never run during a test: what survives a power cut
/// is then only what the commits' own durability made durable.
pub fn no_background_checkpoints() -> Config {
    Config::default().checkpoint_interval(Duration::from_secs(3600))
}

/// The database at [`FAULT_DIR`] over `fs`.
pub fn open_on(fs: &FaultFs, config: Config) -> Database {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    Database::open_with_vfs(vfs, Path::new(FAULT_DIR), config).expect("open over FaultFs")
}

/// Cuts the power under a live database (unsynced bytes lost), drops it, and reopens.
pub fn power_cut_and_reopen(fs: &FaultFs, db: Database, config: Config) -> Database {
    fs.power_cut(PowerCut::DropUnsynced);
    drop(db); // its closing checkpoint fails on the dead files, as a crashed process's would
    open_on(fs, config)
}

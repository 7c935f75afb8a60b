//! Shared by the B+Tree's damage tests: the engine on a `FaultFs` with manual checkpoints, its
//! file, and the check that an error is corruption located at a given page.

#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use lightning_btree::{BTreeEngine, BTreeOptions, FILE_NAME};
use lightning_core_storage::{
    Error,
    vfs::{FaultFs, Vfs},
};

/// Where the engine lives on the fault-injecting file system.
pub const DIR: &str = "/db";

/// The engine in [`DIR`] over `fs`: a 1 MiB cache, checkpoints only when asked.
pub fn open(fs: &FaultFs) -> Result<BTreeEngine, Error> {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    let options =
        BTreeOptions { cache_size_bytes: 1 << 20, ..BTreeOptions::default() }.manual_checkpoints();
    Ok(BTreeEngine::open(vfs, Path::new(DIR), options)?)
}

/// The engine's file.
pub fn file() -> PathBuf {
    Path::new(DIR).join(FILE_NAME)
}

/// True if `error` is corruption located at page `page` of the file.
pub fn names_page(error: &Error, page: u64) -> bool {
    matches!(error, Error::Corruption { location, .. }
        if *location == format!("{} page {page}", file().display()))
}

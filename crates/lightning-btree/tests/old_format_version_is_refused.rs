//! A file written by B+Tree format version 1 (no write stamps) must fail to open with an error
//! naming the version, never be read as version 2.

use std::{path::Path, sync::Arc};

use lightning_btree::{BTreeEngine, BTreeOptions, FILE_NAME};
use lightning_core_storage::{
    page::{PageFormat, PageSize},
    page_manager::PageManager,
    vfs::{FaultFs, Vfs},
};

const DIR: &str = "/db";

#[test]
fn a_version_1_file_fails_to_open_naming_its_version() {
    let fs = FaultFs::new();
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    let options = BTreeOptions::default().manual_checkpoints();
    BTreeEngine::open(Arc::clone(&vfs), Path::new(DIR), options.clone())
        .expect("create")
        .close()
        .expect("close");
    // The 80-byte record of version 1: magic, version 1, height 1, root 2, the rest zero.
    let mut record = vec![0u8; 80];
    record[..8].copy_from_slice(b"LDBTREE\0");
    record[8..12].copy_from_slice(&1u32.to_le_bytes());
    record[12..16].copy_from_slice(&1u32.to_le_bytes());
    record[16..24].copy_from_slice(&2u64.to_le_bytes());
    let path = Path::new(DIR).join(FILE_NAME);
    let format = PageFormat::plain(PageSize::new(16 * 1024).expect("page size"));
    let pm = PageManager::open(&*vfs, &path, format).expect("open the paged file");
    pm.commit(&record).expect("write the old record");
    drop(pm);
    let error = BTreeEngine::open(vfs, Path::new(DIR), options).expect_err("version 1 is refused");
    let message = error.to_string();
    assert!(message.contains("older format version 1"), "{message}");
    assert!(message.contains("dump"), "the error says what to do: {message}");
}

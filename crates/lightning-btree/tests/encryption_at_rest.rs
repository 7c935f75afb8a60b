//! Encrypted trees: every page is sealed (no plaintext on disk), reopening needs the key, and
//! a wrong or missing key cannot read the data.

use std::{path::Path, sync::Arc};

use lightning_btree::{BTreeEngine, BTreeOptions, FILE_NAME};
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{EngineBatch, StorageEngine},
    vfs::{FaultFs, Vfs},
};
use lightning_security::DataKey;

fn open(fs: &FaultFs, key: Option<DataKey>) -> Result<BTreeEngine, lightning_btree::Error> {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    let options = BTreeOptions { encryption: key, ..BTreeOptions::default() }.manual_checkpoints();
    BTreeEngine::open(vfs, Path::new("/db"), options)
}

#[test]
fn sealed_pages_need_the_key() {
    let fs = FaultFs::new();
    let key = DataKey::from_bytes([7; 32]);
    let engine = open(&fs, Some(key.clone())).expect("open");
    let mut batch = EngineBatch::new();
    for i in 0..2000u32 {
        batch.put(format!("secret-key-{i:05}"), format!("secret value number {i}"));
    }
    batch.put("large", vec![0x5a; 100_000]);
    engine.apply(&batch, Timestamp(1), Lsn(1)).expect("apply");
    engine.checkpoint().expect("checkpoint");
    engine.close().expect("close");
    let bytes = fs.file_contents(&Path::new("/db").join(FILE_NAME)).expect("file");
    let needle = b"secret value number";
    assert!(!bytes.windows(needle.len()).any(|w| w == needle), "no plaintext value on disk");
    assert!(!bytes.windows(64).any(|w| w.iter().all(|&b| b == 0x5a)), "no plaintext overflow page");
    let engine = open(&fs, Some(key)).expect("reopen with the key");
    let got = engine.get(b"secret-key-01234", Timestamp(1)).expect("get").and_then(|v| v.value);
    assert_eq!(got, Some(b"secret value number 1234".to_vec()));
    assert_eq!(
        engine.get(b"large", Timestamp(1)).expect("get").and_then(|v| v.value),
        Some(vec![0x5a; 100_000])
    );
    engine.check().expect("check");
    drop(engine);
    assert!(open(&fs, None).is_err(), "no key, no access");
    assert!(open(&fs, Some(DataKey::from_bytes([8; 32]))).is_err(), "a wrong key cannot open it");
}

//! Regression (found by `concurrency_readers_writer` while making the owning iterator lazy): a
//! scan batch that continues in the leaf the previous batch ended in, and walks to the end of
//! that leaf, must go on right after the leaf's exact last entry. Seeking past that entry's
//! whole key skipped the key when its versions continue in the next leaf — here `m`, whose
//! only version visible at timestamp 1 is its oldest, two leaves further on.

use std::{path::Path, sync::Arc};

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine},
    vfs::{FaultFs, Vfs},
};

#[test]
fn a_scan_in_small_batches_sees_a_key_whose_versions_straddle_leaves() {
    let vfs: Arc<dyn Vfs> = Arc::new(FaultFs::new());
    let engine = BTreeEngine::open(vfs, Path::new("/db"), BTreeOptions::default()).unwrap();
    let mut batch = EngineBatch::new();
    for i in 0..10 {
        batch.put(format!("a{i:03}"), vec![b'a'; 100]);
    }
    batch.put(b"m".to_vec(), b"oldest".to_vec());
    batch.put(b"z".to_vec(), b"last".to_vec());
    engine.apply(&batch, Timestamp(1), Lsn(1)).unwrap();
    // 400 newer versions of `m`: they fill several leaves, newest first, before `m`@1.
    for ts in 2..=401 {
        let mut batch = EngineBatch::new();
        batch.put(b"m".to_vec(), vec![b'm'; 100]);
        engine.apply(&batch, Timestamp(ts), Lsn(ts)).unwrap();
    }
    assert!(engine.btree_stats().leaf_pages >= 3, "the versions of m span leaves");
    let keys: Vec<Vec<u8>> = engine
        .scan(KeyRange::all(), Timestamp(1), Direction::Forward)
        .unwrap()
        .map(|entry| entry.unwrap().key)
        .collect();
    let mut expected: Vec<Vec<u8>> = (0..10).map(|i| format!("a{i:03}").into_bytes()).collect();
    expected.push(b"m".to_vec());
    expected.push(b"z".to_vec());
    assert_eq!(keys, expected);
    let mut lent = Vec::new();
    engine
        .scan_with(&KeyRange::all(), Timestamp(1), Direction::Forward, &mut |entry| {
            lent.push(entry.key.to_vec());
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(lent, expected);
}

//! Regression: a value in an overflow chain was read from the file on every `get` (the node
//! cache held only tree nodes). Chains now go through the cache: a repeated read costs no I/O.

use std::{path::Path, sync::Arc};

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine},
    vfs::{FaultFs, Vfs},
};

#[test]
fn a_checkpointed_overflow_value_is_read_from_disk_once_not_on_every_get() {
    let vfs: Arc<dyn Vfs> = Arc::new(FaultFs::new());
    let engine = BTreeEngine::open(vfs, Path::new("/db"), BTreeOptions::default()).unwrap();
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut batch = EngineBatch::new();
    batch.put(b"big".to_vec(), big.clone());
    batch.put(b"small".to_vec(), b"s".to_vec());
    engine.apply(&batch, Timestamp(1), Lsn(1)).unwrap();
    engine.checkpoint().unwrap();
    assert!(engine.btree_stats().overflow_pages > 1, "the value is in an overflow chain");

    let read = |engine: &BTreeEngine| {
        let version = engine.get(b"big", Timestamp(1)).unwrap().unwrap();
        assert_eq!(version.value.as_deref(), Some(&big[..]));
    };
    read(&engine);
    let after_first = engine.btree_stats().pages_read;
    for _ in 0..10 {
        read(&engine);
    }
    let scanned: Vec<_> = engine
        .scan(KeyRange::all(), Timestamp(1), Direction::Forward)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(scanned[0].value.as_deref(), Some(&big[..]));
    assert_eq!(
        engine.btree_stats().pages_read,
        after_first,
        "pages read from the file by ten more gets and a scan of a cached overflow value"
    );
}

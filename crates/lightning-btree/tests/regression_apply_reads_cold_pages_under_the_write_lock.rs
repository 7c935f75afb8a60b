//! Regression: `apply` read the cold pages a batch needed while holding the tree write lock
//! (every reader waited for that I/O). A batch now reads missing pages under the read lock
//! and takes the write lock only once its pages are in memory.

use std::{path::Path, sync::Arc};

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{EngineBatch, StorageEngine},
    vfs::{FaultFs, Vfs},
};

const KEYS: u64 = 40_000;

fn key(i: u64) -> Vec<u8> {
    format!("key{:08}", i.wrapping_mul(2_654_435_761) % KEYS).into_bytes()
}

#[test]
fn a_batch_over_cold_pages_reads_them_before_taking_the_write_lock() {
    let vfs: Arc<dyn Vfs> = Arc::new(FaultFs::new());
    // A tree of several MiB over a 4 MiB node cache: most leaves are cold after a checkpoint.
    let options = BTreeOptions { cache_size_bytes: 4 << 20, ..BTreeOptions::default() };
    let engine = BTreeEngine::open(vfs, Path::new("/db"), options.manual_checkpoints()).unwrap();
    for chunk in 0..KEYS / 2_000 {
        let mut batch = EngineBatch::new();
        for i in chunk * 2_000..(chunk + 1) * 2_000 {
            batch.put(key(i), vec![(i % 251) as u8; 200]);
        }
        engine.apply(&batch, Timestamp(1), Lsn(chunk + 1)).unwrap();
        engine.checkpoint().unwrap();
    }
    let mut lsn = 100;
    for (round, size) in [1u64, 50, 1, 100].into_iter().enumerate() {
        let before = engine.btree_stats();
        let mut batch = EngineBatch::new();
        for j in 0..size {
            batch.put(key(j * 7_919 + round as u64 * 13), b"new".to_vec());
        }
        lsn += 1;
        engine.apply(&batch, Timestamp(10 + round as u64), Lsn(lsn)).unwrap();
        let after = engine.btree_stats();
        assert!(after.pages_read > before.pages_read, "round {round}: the batch needed cold pages");
        assert_eq!(
            after.pages_read_under_write_lock, before.pages_read_under_write_lock,
            "round {round}: pages read from the file under the tree write lock by a {size}-key batch"
        );
    }
    assert_eq!(engine.get(&key(0), Timestamp::MAX).unwrap().unwrap().value.unwrap(), b"new");
}

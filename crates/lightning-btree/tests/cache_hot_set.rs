//! The node cache under pressure: with a cache far smaller than the tree, reads stay correct,
//! the hot set stays within its bound, and the background sweep hands cold nodes back to the
//! ARC cache so that what is read now can become resident.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use lightning_btree::{BTreeEngine, BTreeOptions};
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::StorageEngine,
    vfs::{FaultFs, Vfs},
};

fn key(i: u32) -> Vec<u8> {
    format!("key{i:07}").into_bytes()
}

#[test]
fn a_small_cache_serves_a_large_tree_and_adapts_to_the_working_set() {
    let vfs: Arc<dyn Vfs> = Arc::new(FaultFs::new());
    // 2 MiB: 64 resident nodes and 64 nodes in the ARC cache, for a tree of ~300 leaves.
    let options =
        BTreeOptions { cache_size_bytes: 2 << 20, ..BTreeOptions::default() }.manual_checkpoints();
    let engine = BTreeEngine::open(vfs, Path::new("/db"), options).expect("open");
    let entries = 60_000u32;
    let input = (0..entries).map(|i| (key(i), vec![(i % 256) as u8; 60]));
    engine.bulk_load(input, Timestamp(1), Lsn(1)).expect("bulk load");
    let read = |i: u32| {
        let got = engine.get(&key(i), Timestamp(1)).expect("get").and_then(|v| v.value);
        assert_eq!(got, Some(vec![(i % 256) as u8; 60]), "key {i}");
    };
    for i in (0..entries).step_by(7) {
        read(i);
    }
    let stats = engine.btree_stats();
    assert!(stats.leaf_pages > 200, "the tree is larger than the cache: {stats:?}");
    assert_eq!(stats.resident_nodes, 64, "the hot set fills to its bound: {stats:?}");
    // Read only the last tenth for a while: sweeps return the cold nodes to the ARC cache and
    // the nodes read now become resident, until a pass over them needs no cache lookup at all.
    let deadline = Instant::now() + Duration::from_secs(30);
    let hot = entries - entries / 10..entries;
    loop {
        let before = engine.btree_stats().cache;
        for i in hot.clone().step_by(13) {
            read(i);
        }
        let after = engine.btree_stats().cache;
        if after.hits + after.misses == before.hits + before.misses {
            break;
        }
        assert!(Instant::now() < deadline, "the working set never became resident: {after:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    for i in (0..entries).step_by(3) {
        read(i);
    }
    assert!(engine.btree_stats().resident_nodes <= 64);
    engine.check().expect("check");
}

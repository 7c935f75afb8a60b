//! Bulk load: sorted input becomes a tree of full pages, durable at once; bad input or a
//! non-empty tree is refused without changing anything or leaking a page.

use std::{path::Path, sync::Arc};

use lightning_btree::{BTreeEngine, BTreeOptions, Error, MAX_KEY_LEN};
use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine},
    vfs::{FaultFs, Vfs},
};

fn open(fs: &FaultFs) -> BTreeEngine {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    BTreeEngine::open(vfs, Path::new("/db"), BTreeOptions::default().manual_checkpoints())
        .expect("open")
}

fn input(n: u64) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut entries: Vec<(Vec<u8>, Vec<u8>)> = (0..n)
        .map(|i| {
            let value = if i % 5000 == 1 {
                vec![i as u8; 70_000]
            } else {
                format!("value-{i}").into_bytes()
            };
            (format!("user:{i:08}").into_bytes(), value)
        })
        .collect();
    entries.push((vec![0xff; MAX_KEY_LEN], b"the largest key".to_vec()));
    entries
}

#[test]
fn sorted_input_becomes_full_pages_and_is_durable() {
    let fs = FaultFs::new();
    let engine = open(&fs);
    let entries = input(60_000);
    let loaded = engine.bulk_load(entries.clone(), Timestamp(5), Lsn(9)).expect("bulk load");
    assert_eq!(loaded, entries.len() as u64);
    assert_eq!(engine.durable_state().lsn, Lsn(9), "bulk load checkpoints");
    let stats = engine.btree_stats();
    assert!(stats.fill_factor > 0.9, "leaves are full: {stats:?}");
    assert!(stats.height >= 2 && stats.overflow_pages > 0, "{stats:?}");
    let report = engine.check().expect("check");
    assert_eq!(report.underfull_pages, 0, "no nearly empty last node: {report:?}");
    drop(engine);
    let engine = open(&fs);
    for (key, value) in entries.iter().step_by(97) {
        let got = engine.get(key, Timestamp(5)).expect("get").expect("present");
        assert_eq!((got.commit_ts, got.value.as_ref()), (Timestamp(5), Some(value)));
    }
    assert_eq!(engine.get(b"user:", Timestamp(5)).expect("get"), None);
    assert_eq!(
        engine.get(&entries[10].0, Timestamp(4)).expect("get"),
        None,
        "invisible before its ts"
    );
    let reverse: Vec<Vec<u8>> = engine
        .scan(KeyRange::prefix(b"user:0005"), Timestamp(5), Direction::Reverse)
        .expect("scan")
        .map(|e| e.expect("entry").key)
        .collect();
    let mut want: Vec<Vec<u8>> =
        (50_000..60_000).map(|i| format!("user:{i:08}").into_bytes()).collect();
    want.reverse();
    assert_eq!(reverse, want);
    // Ordinary writes into the full pages split them.
    let mut batch = EngineBatch::new();
    for i in (0..60_000).step_by(7) {
        batch.put(format!("user:{i:08}x"), b"inserted".to_vec());
    }
    engine.apply(&batch, Timestamp(6), Lsn(10)).expect("apply");
    engine.checkpoint().expect("checkpoint");
    assert!(engine.btree_stats().leaf_pages > stats.leaf_pages);
    engine.check().expect("check after inserts");
}

#[test]
fn bad_input_and_non_empty_trees_are_refused_cleanly() {
    let fs = FaultFs::new();
    let engine = open(&fs);
    let mut unsorted = input(3000);
    unsorted.swap(1500, 1501);
    let err = engine.bulk_load(unsorted, Timestamp(1), Lsn(1)).unwrap_err();
    assert!(matches!(err, Error::Unsorted { index: 1501 }), "{err}");
    let mut duplicate = input(3000);
    duplicate[2000].0 = duplicate[1999].0.clone();
    assert!(matches!(
        engine.bulk_load(duplicate, Timestamp(1), Lsn(1)),
        Err(Error::Unsorted { index: 2000 })
    ));
    let too_long = vec![(vec![1u8; MAX_KEY_LEN + 1], b"v".to_vec())];
    assert!(matches!(
        engine.bulk_load(too_long, Timestamp(1), Lsn(1)),
        Err(Error::KeyTooLarge { .. })
    ));
    assert_eq!(engine.btree_stats().versions, 0, "nothing was loaded");
    engine.checkpoint().expect("checkpoint");
    engine.check().expect("the pages of failed loads are free again");
    assert_eq!(
        engine.bulk_load(Vec::<(Vec<u8>, Vec<u8>)>::new(), Timestamp(1), Lsn(1)).expect("empty"),
        0
    );
    let mut batch = EngineBatch::new();
    batch.put("k", "v");
    engine.apply(&batch, Timestamp(2), Lsn(2)).expect("apply");
    let err = engine.bulk_load(input(10), Timestamp(3), Lsn(3)).unwrap_err();
    assert!(matches!(err, Error::NotEmpty { versions: 1 }), "{err}");
    engine.check().expect("check");
}

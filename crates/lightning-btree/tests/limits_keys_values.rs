//! The documented limits: keys up to `MAX_KEY_LEN` (4 KiB + 64) and values up to `MAX_VALUE_LEN`
//! (at least 16 MiB) work, through checkpoints and reopens; one byte more is a clear error and
//! the batch that carried it changes nothing.

use std::{path::Path, sync::Arc};

use lightning_btree::{BTreeEngine, BTreeOptions, MAX_KEY_LEN, MAX_VALUE_LEN};
use lightning_core_storage::{
    Error, Lsn, Timestamp,
    engine::{Direction, EngineBatch, KeyRange, StorageEngine},
    vfs::{FaultFs, Vfs},
};

fn open(fs: &FaultFs) -> BTreeEngine {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    BTreeEngine::open(vfs, Path::new("/db"), BTreeOptions::default().manual_checkpoints())
        .expect("open")
}

fn put(engine: &BTreeEngine, key: &[u8], value: &[u8], ts: u64) -> Result<(), Error> {
    let mut batch = EngineBatch::new();
    batch.put(key, value);
    engine.apply(&batch, Timestamp(ts), Lsn(ts))
}

// The limits the facade promises, checked when this test compiles.
const _: () = assert!(MAX_KEY_LEN >= 4096 && BTreeEngine::MAX_KEY_LEN == MAX_KEY_LEN);
const _: () = assert!(MAX_VALUE_LEN >= 16 << 20 && BTreeEngine::MAX_VALUE_LEN == MAX_VALUE_LEN);

#[test]
fn keys_of_the_maximum_length_work_and_one_more_byte_is_an_error() {
    let fs = FaultFs::new();
    let engine = open(&fs);
    // Many maximal keys: a leaf holds only three.
    let keys: Vec<Vec<u8>> = (0..200u32)
        .map(|i| {
            (0..MAX_KEY_LEN).map(|j| (i.wrapping_mul(2_654_435_761) >> (j % 24)) as u8).collect()
        })
        .collect();
    for (i, key) in keys.iter().enumerate() {
        put(&engine, key, format!("v{i}").as_bytes(), i as u64 + 1).expect("a maximal key");
    }
    assert_eq!((engine.max_key_len(), engine.max_value_len()), (MAX_KEY_LEN, MAX_VALUE_LEN));
    let too_long = vec![7u8; MAX_KEY_LEN + 1];
    let mut batch = EngineBatch::new();
    batch.put(b"fine".to_vec(), b"but in a bad batch".to_vec());
    batch.put(too_long.clone(), b"x".to_vec());
    let err = engine.apply(&batch, Timestamp(1000), Lsn(1000)).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(m) if m.contains(&MAX_KEY_LEN.to_string())),
        "{err}"
    );
    assert_eq!(
        engine.get(b"fine", Timestamp::MAX).expect("get"),
        None,
        "the batch is all or nothing"
    );
    engine.checkpoint().expect("checkpoint");
    drop(engine);
    let engine = open(&fs);
    let stats = engine.btree_stats();
    assert!(
        stats.height >= 2 && stats.leaf_pages >= 200 / 3,
        "a node holds 3 maximal keys: {stats:?}"
    );
    for (i, key) in keys.iter().enumerate() {
        let got = engine.get(key, Timestamp::MAX).expect("get").and_then(|v| v.value);
        assert_eq!(got, Some(format!("v{i}").into_bytes()));
    }
    let mut sorted = keys.clone();
    sorted.sort();
    let scanned: Vec<Vec<u8>> = engine
        .scan(KeyRange::all(), Timestamp::MAX, Direction::Reverse)
        .expect("scan")
        .map(|e| e.expect("entry").key)
        .collect();
    sorted.reverse();
    assert_eq!(scanned, sorted);
    engine.check().expect("check");
}

#[test]
fn a_sixteen_mebibyte_value_round_trips_and_a_too_large_one_is_an_error() {
    let fs = FaultFs::new();
    let engine = open(&fs);
    let big: Vec<u8> =
        (0..16u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    put(&engine, b"big", &big, 1).expect("16 MiB value");
    assert_eq!(
        engine.get(b"big", Timestamp(1)).expect("get").and_then(|v| v.value).as_ref(),
        Some(&big)
    );
    engine.checkpoint().expect("checkpoint");
    drop(engine);
    let engine = open(&fs);
    assert_eq!(
        engine.get(b"big", Timestamp(1)).expect("get").and_then(|v| v.value).as_ref(),
        Some(&big)
    );
    assert!(engine.btree_stats().overflow_pages >= 1000, "16 MiB take ~1,030 overflow pages");
    let err = put(&engine, b"huge", &vec![0u8; MAX_VALUE_LEN + 1], 2).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(m) if m.contains(&MAX_VALUE_LEN.to_string())),
        "{err}"
    );
    // Replacing the value frees its chain for reuse.
    put(&engine, b"big", b"small now", 3).expect("overwrite");
    assert_eq!(engine.collect_garbage(Timestamp(3)).expect("gc"), 1);
    engine.checkpoint().expect("checkpoint");
    let stats = engine.btree_stats();
    assert!(stats.overflow_pages == 0 && stats.free_pages >= 1000, "{stats:?}");
    engine.check().expect("check");
}

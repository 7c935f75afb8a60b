//! Tables read back what was written: every version in order both ways, point reads at any
//! read timestamp, seeks, metadata and properties, with every codec, over StdFs and FaultFs.

mod sstable_support;

use std::sync::Arc;

use lightning_cache::CacheConfig;
use lightning_core_storage::Timestamp;
use lightning_core_storage::codec::{CodecId, Compression};
use lightning_lsm::InternalIter;
use lightning_lsm::internal_key::InternalKey;
use lightning_lsm::sstable::{BlockCache, Table, TableOptions, TableWriter};
use sstable_support::*;

fn check_contents(table: &Arc<Table>, model: &Model) {
    let expected: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let forward = collect_forward(&mut table.iter());
    assert_eq!(forward.len(), expected.len());
    assert!(forward == expected, "forward iteration differs from what was written");
    let mut backward = collect_backward(&mut table.iter());
    backward.reverse();
    assert!(backward == expected, "reverse iteration is not forward reversed");
    for (key, _) in model.iter().step_by(3) {
        for read_ts in [key.ts, Timestamp(key.ts.0 + 1), Timestamp(key.ts.0 - 1), Timestamp::MAX] {
            let got = table.get(&key.key, read_ts).expect("get");
            assert_eq!(got, model_get(model, &key.key, read_ts), "get({:?}, {read_ts})", key.key);
        }
    }
    assert_eq!(table.check().expect("check"), Vec::new());
}

#[test]
fn many_keys_versions_tombstones_and_large_values_round_trip_on_both_file_systems() {
    let model = sample_model(3_000, 7);
    assert!(model.values().any(|v| v.as_ref().is_some_and(|v| v.len() > 8_192)));
    assert!(
        model.values().any(Option::is_none) && model.values().any(|v| v.as_deref() == Some(&[]))
    );
    for fs in both_file_systems() {
        let options = TableOptions::default();
        let meta = write_table(fs.vfs.as_ref(), &fs.table_path(1), 1, &options, &model);
        let table = fs.open(1);
        assert_eq!(table.meta(), meta, "{}", fs.name);
        assert_eq!(
            meta.file_size,
            fs.vfs
                .open(&fs.table_path(1), lightning_core_storage::vfs::OpenMode::Read)
                .and_then(|f| f.len())
                .expect("len")
        );
        let props = table.properties();
        assert_eq!(props.entries, model.len() as u64);
        assert_eq!(props.tombstones, model.values().filter(|v| v.is_none()).count() as u64);
        assert_eq!(props.distinct_keys, 3_000);
        assert_eq!(props.smallest, *model.keys().next().expect("first"));
        assert_eq!(props.largest, *model.keys().next_back().expect("last"));
        assert_eq!(props.min_ts, model.keys().map(|k| k.ts).min().expect("min"));
        assert_eq!(props.max_ts, model.keys().map(|k| k.ts).max().expect("max"));
        assert_eq!(props.compression, CodecId::Lz4);
        assert!(props.data_blocks > 50, "{} blocks: data is split into blocks", props.data_blocks);
        check_contents(&table, &model);
    }
}

#[test]
fn every_codec_and_restart_interval_reads_back() {
    let model = sample_model(800, 11);
    let fs = both_file_systems().remove(1);
    let codecs =
        [Compression::None, Compression::Lz4, Compression::Snappy, Compression::Zstd { level: 3 }];
    for (i, compression) in codecs.into_iter().enumerate() {
        for (j, restart_interval) in [1, 2, 16, 1_000].into_iter().enumerate() {
            let number = (10 * i + j + 1) as u64;
            let options = TableOptions { compression, restart_interval, ..TableOptions::default() };
            write_table(fs.vfs.as_ref(), &fs.table_path(number), number, &options, &model);
            check_contents(&fs.open(number), &model);
        }
    }
}

#[test]
fn seek_lands_on_the_newest_version_at_or_below_the_read_timestamp() {
    let mut model = Model::new();
    for ts in [30, 20, 10] {
        model.insert(InternalKey::new(*b"b", Timestamp(ts)), Some(format!("b{ts}").into_bytes()));
    }
    model.insert(InternalKey::new(*b"d", Timestamp(5)), None);
    let fs = both_file_systems().remove(0);
    let options = TableOptions { block_size: 1, restart_interval: 1, ..TableOptions::default() };
    write_table(fs.vfs.as_ref(), &fs.table_path(3), 3, &options, &model);
    let table = fs.open(3);
    assert_eq!(table.properties().data_blocks, 4, "one entry per block crosses block edges");
    let mut iter = table.iter();
    let at = |iter: &lightning_lsm::sstable::TableIter| (iter.key().to_vec(), iter.ts().0);
    iter.seek(b"b", Timestamp(25)).expect("seek");
    assert_eq!(at(&iter), (b"b".to_vec(), 20));
    iter.seek(b"b", Timestamp(30)).expect("seek");
    assert_eq!(at(&iter), (b"b".to_vec(), 30));
    iter.seek(b"b", Timestamp(9)).expect("seek");
    assert_eq!(at(&iter), (b"d".to_vec(), 5), "no version of b at 9: the next key");
    iter.seek(b"a", Timestamp::MAX).expect("seek");
    assert_eq!(at(&iter), (b"b".to_vec(), 30));
    iter.seek(b"e", Timestamp::MAX).expect("seek");
    assert!(!iter.valid());
    iter.seek_for_prev(b"b", Timestamp(25)).expect("seek_for_prev");
    assert_eq!(at(&iter), (b"b".to_vec(), 30));
    iter.seek_for_prev(b"c", Timestamp::MAX).expect("seek_for_prev");
    assert_eq!(at(&iter), (b"b".to_vec(), 10));
    iter.seek_for_prev(b"z", Timestamp::ZERO).expect("seek_for_prev");
    assert_eq!(at(&iter), (b"d".to_vec(), 5));
    iter.seek_for_prev(b"a", Timestamp::ZERO).expect("seek_for_prev");
    assert!(!iter.valid());
    assert_eq!(table.get(b"b", Timestamp(9)).expect("get"), None);
    let tombstone = table.get(b"d", Timestamp(7)).expect("get").expect("a tombstone is a version");
    assert_eq!((tombstone.commit_ts, tombstone.value), (Timestamp(5), None));
}

#[test]
fn out_of_order_and_duplicate_versions_are_refused_and_an_empty_table_cannot_finish() {
    let fs = both_file_systems().remove(1);
    let options = TableOptions::default();
    let mut writer =
        TableWriter::create(fs.vfs.as_ref(), &fs.table_path(4), 4, &options).expect("create");
    writer.add(b"k", Timestamp(5), Some(b"v")).expect("first");
    let older_first = writer.add(b"k", Timestamp(6), Some(b"v"));
    assert!(
        matches!(older_first, Err(lightning_core_storage::Error::InvalidInput(_))),
        "{older_first:?}"
    );
    assert!(writer.add(b"k", Timestamp(5), None).is_err(), "the same version twice");
    assert!(writer.add(b"a", Timestamp(9), None).is_err(), "a smaller key");
    writer.add(b"k", Timestamp(4), None).expect("an older version of the same key");
    writer.add(b"l", Timestamp(9), None).expect("a larger key");
    assert_eq!(writer.entries(), 3);
    writer.finish().expect("finish");
    let empty =
        TableWriter::create(fs.vfs.as_ref(), &fs.table_path(5), 5, &options).expect("create");
    assert!(matches!(empty.finish(), Err(lightning_core_storage::Error::InvalidInput(_))));
    assert!(
        TableWriter::create(fs.vfs.as_ref(), &fs.table_path(4), 4, &options).is_err(),
        "tables are never overwritten"
    );
}

#[test]
fn estimated_size_grows_with_the_data_and_ends_near_the_file_size() {
    let fs = both_file_systems().remove(1);
    let options = TableOptions { compression: Compression::None, ..TableOptions::default() };
    let mut writer =
        TableWriter::create(fs.vfs.as_ref(), &fs.table_path(6), 6, &options).expect("create");
    let mut last = 0;
    for i in 0..5_000u32 {
        writer.add(&i.to_be_bytes(), Timestamp(1), Some(&[7u8; 100])).expect("add");
        let now = writer.estimated_size();
        assert!(now >= last, "estimated size never shrinks");
        last = now;
    }
    assert!(last >= 5_000 * 100, "at least the raw values: {last}");
    let meta = writer.finish().expect("finish");
    assert!(
        meta.file_size >= last && meta.file_size < last + last / 10,
        "{} vs {last}",
        meta.file_size
    );
}

#[test]
fn data_blocks_go_through_the_shared_cache_and_the_filter_counts_its_answers() {
    let fs = both_file_systems().remove(1);
    let model = sample_model(2_000, 3);
    write_table(fs.vfs.as_ref(), &fs.table_path(7), 7, &TableOptions::default(), &model);
    let cache = Arc::new(BlockCache::new(CacheConfig::new(1 << 24).with_shards(1)).expect("cache"));
    let table =
        Table::open(fs.vfs.as_ref(), &fs.table_path(7), 7, Some(cache.clone())).expect("open");
    let key = model.keys().nth(100).expect("a key").clone();
    assert!(table.get(&key.key, Timestamp::MAX).expect("get").is_some());
    assert_eq!(cache.len(), 1, "the block read is cached");
    let hits = cache.stats().total.hits;
    assert!(table.get(&key.key, Timestamp::MAX).expect("get").is_some());
    assert_eq!(cache.stats().total.hits, hits + 1, "the second read hits the cache");
    let before = cache.stats().total.hits;
    assert_eq!(collect_forward(&mut table.iter_without_caching()).len(), model.len());
    assert_eq!(cache.len(), 1, "a compaction's scan adds nothing to the cache");
    assert_eq!(cache.stats().total.hits, before + 1, "but uses what is cached");
    assert_eq!(collect_forward(&mut table.iter()).len(), model.len());
    assert_eq!(cache.len() as u64, table.properties().data_blocks, "a scan caches every block");

    for i in 0..2_000u32 {
        assert_eq!(table.get(format!("absent-{i}").as_bytes(), Timestamp::MAX).expect("get"), None);
    }
    let counters = table.filter_counters();
    assert_eq!(counters.useful + counters.false_positive, 2_000);
    assert!(counters.useful > 1_900, "{counters:?}");
    assert!(model.keys().all(|k| table.may_contain(&k.key)));

    let no_filter = TableOptions { bloom_bits_per_key: 0, ..TableOptions::default() };
    write_table(fs.vfs.as_ref(), &fs.table_path(8), 8, &no_filter, &model);
    let unfiltered = fs.open(8);
    assert!(unfiltered.may_contain(b"absent-1"));
    assert_eq!(unfiltered.get(b"absent-1", Timestamp::MAX).expect("get"), None);
    assert_eq!(unfiltered.filter_counters(), Default::default());
    assert_eq!(unfiltered.properties().bloom_bits_per_key, 0);
}

#[test]
fn one_table_serves_many_threads_through_one_cache() {
    let fs = both_file_systems().remove(0);
    let model = Arc::new(sample_model(1_500, 8));
    write_table(fs.vfs.as_ref(), &fs.table_path(9), 9, &TableOptions::default(), &model);
    // A cache smaller than the table, so that threads evict and reload blocks.
    let cache =
        Arc::new(BlockCache::new(CacheConfig::new(64 * 1024).with_shards(4)).expect("cache"));
    let table = Table::open(fs.vfs.as_ref(), &fs.table_path(9), 9, Some(cache)).expect("open");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (table, model) = (Arc::clone(&table), Arc::clone(&model));
            std::thread::spawn(move || {
                for (key, _) in model.iter().skip(t).step_by(4) {
                    let got = table.get(&key.key, key.ts).expect("get");
                    assert_eq!(got, model_get(&model, &key.key, key.ts));
                }
                collect_forward(&mut table.iter()).len()
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().expect("no reader panics"), model.len());
    }
}

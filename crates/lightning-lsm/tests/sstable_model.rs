//! Property test: a table behaves as a sorted vector of its versions under any sequence of
//! seeks and steps in both directions, for any block size and restart interval.

mod sstable_support;

use lightning_core_storage::Timestamp;
use lightning_core_storage::codec::Compression;
use lightning_lsm::InternalIter;
use lightning_lsm::internal_key::InternalKey;
use lightning_lsm::sstable::TableOptions;
use proptest::prelude::*;
use sstable_support::*;

#[derive(Debug, Clone)]
enum Op {
    First,
    Last,
    Seek(Vec<u8>, u64),
    SeekForPrev(Vec<u8>, u64),
    Next,
    Prev,
    Get(Vec<u8>, u64),
}

fn small_key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(vec![b'a', b'b', b'c']), 0..4)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::First),
        Just(Op::Last),
        (small_key(), 0u64..12).prop_map(|(k, t)| Op::Seek(k, t)),
        (small_key(), 0u64..12).prop_map(|(k, t)| Op::SeekForPrev(k, t)),
        Just(Op::Next),
        Just(Op::Next),
        Just(Op::Prev),
        Just(Op::Prev),
        (small_key(), 0u64..12).prop_map(|(k, t)| Op::Get(k, t)),
    ]
}

fn entries() -> impl Strategy<Value = Model> {
    let value = prop::option::weighted(0.8, prop::collection::vec(any::<u8>(), 0..40));
    prop::collection::btree_map((small_key(), 1u64..10), value, 1..80).prop_map(|map| {
        map.into_iter()
            .map(|((key, ts), value)| (InternalKey::new(key, Timestamp(ts)), value))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_table_moves_like_a_sorted_vector(
        model in entries(),
        ops in prop::collection::vec(op(), 1..60),
        block_size in prop::sample::select(vec![1usize, 40, 200, 4096]),
        restart_interval in 1usize..5,
    ) {
        let fs = both_file_systems().remove(1);
        let options = TableOptions {
            block_size,
            restart_interval,
            compression: Compression::None,
            bloom_bits_per_key: 10,
        };
        write_table(fs.vfs.as_ref(), &fs.table_path(1), 1, &options, &model);
        let table = fs.open(1);
        let sorted: Vec<(InternalKey, Option<Vec<u8>>)> = model.clone().into_iter().collect();
        let mut iter = table.iter();
        let mut at: Option<usize> = None;
        for op in ops {
            match &op {
                Op::First => {
                    iter.seek_to_first().expect("seek_to_first");
                    at = (!sorted.is_empty()).then_some(0);
                }
                Op::Last => {
                    iter.seek_to_last().expect("seek_to_last");
                    at = sorted.len().checked_sub(1);
                }
                Op::Seek(key, ts) => {
                    iter.seek(key, Timestamp(*ts)).expect("seek");
                    let target = InternalKey::new(key.clone(), Timestamp(*ts));
                    at = sorted.iter().position(|(k, _)| *k >= target);
                }
                Op::SeekForPrev(key, ts) => {
                    iter.seek_for_prev(key, Timestamp(*ts)).expect("seek_for_prev");
                    let target = InternalKey::new(key.clone(), Timestamp(*ts));
                    at = sorted.iter().rposition(|(k, _)| *k <= target);
                }
                Op::Next if at.is_some() => {
                    iter.next().expect("next");
                    at = at.map(|i| i + 1).filter(|i| *i < sorted.len());
                }
                Op::Prev if at.is_some() => {
                    iter.prev().expect("prev");
                    at = at.and_then(|i| i.checked_sub(1));
                }
                Op::Next | Op::Prev => {}
                Op::Get(key, ts) => {
                    let got = table.get(key, Timestamp(*ts)).expect("get");
                    prop_assert_eq!(got, model_get(&model, key, Timestamp(*ts)));
                }
            }
            prop_assert_eq!(iter.valid(), at.is_some(), "after {:?}", op);
            if let Some(i) = at {
                prop_assert_eq!(iter.key(), sorted[i].0.key.as_slice(), "after {:?}", op);
                prop_assert_eq!(iter.ts(), sorted[i].0.ts);
                prop_assert_eq!(iter.value(), sorted[i].1.as_deref());
            }
        }
        prop_assert!(table.check().expect("check").is_empty());
    }
}

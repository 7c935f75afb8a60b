//! Unit tests of the memtable and its cursor.

use std::sync::Arc;

use lightning_core_storage::{Lsn, Timestamp, engine::Version};

use super::{Memtable, MemtableIter};
use crate::InternalIter;

fn filled() -> Arc<Memtable> {
    let m = Memtable::new(1);
    m.insert(b"b", Timestamp(5), Some(b"b5"));
    m.insert(b"a", Timestamp(3), Some(b"a3"));
    m.insert(b"a", Timestamp(7), None);
    m.insert(b"c", Timestamp(1), Some(b""));
    Arc::new(m)
}

fn all_forward(it: &mut MemtableIter) -> Vec<(Vec<u8>, u64)> {
    let mut out = Vec::new();
    it.seek_to_first().unwrap();
    while it.valid() {
        out.push((it.key().to_vec(), it.ts().0));
        it.next().unwrap();
    }
    out
}

#[test]
fn get_returns_the_newest_version_at_or_below_the_read_timestamp() {
    let m = filled();
    assert_eq!(m.get(b"a", Timestamp(2)), None);
    assert_eq!(
        m.get(b"a", Timestamp(6)),
        Some(Version { commit_ts: Timestamp(3), value: Some(b"a3".to_vec()) })
    );
    assert_eq!(m.get(b"a", Timestamp::MAX), Some(Version { commit_ts: Timestamp(7), value: None }));
    assert_eq!(m.get(b"c", Timestamp(1)).unwrap().value, Some(Vec::new()));
    assert_eq!(m.get(b"bb", Timestamp::MAX), None);
}

#[test]
fn iterator_walks_internal_order_both_ways_and_seeks() {
    let m = filled();
    let mut it = MemtableIter::new(Arc::clone(&m));
    let expected =
        vec![(b"a".to_vec(), 7), (b"a".to_vec(), 3), (b"b".to_vec(), 5), (b"c".to_vec(), 1)];
    assert_eq!(all_forward(&mut it), expected);

    let mut reverse = Vec::new();
    it.seek_to_last().unwrap();
    while it.valid() {
        reverse.push((it.key().to_vec(), it.ts().0));
        it.prev().unwrap();
    }
    assert_eq!(reverse, expected.iter().rev().cloned().collect::<Vec<_>>());

    it.seek(b"a", Timestamp(5)).unwrap();
    assert_eq!((it.key(), it.ts()), (&b"a"[..], Timestamp(3)));
    it.seek_for_prev(b"b", Timestamp(4)).unwrap();
    assert_eq!((it.key(), it.ts()), (&b"b"[..], Timestamp(5)));
    it.seek_for_prev(b"a", Timestamp(8)).unwrap();
    assert!(!it.valid(), "nothing at or before (a, 8)");
    it.seek(b"d", Timestamp::MAX).unwrap();
    assert!(!it.valid());
}

#[test]
fn iterator_sees_inserts_made_after_it_was_positioned() {
    let m = filled();
    let mut it = MemtableIter::new(Arc::clone(&m));
    it.seek(b"a", Timestamp(3)).unwrap();
    m.insert(b"aa", Timestamp(9), Some(b"new"));
    it.next().unwrap();
    assert_eq!((it.key(), it.value()), (&b"aa"[..], Some(&b"new"[..])));
}

#[test]
fn reinserting_a_version_replaces_it_and_sizes_grow_with_content() {
    let m = Memtable::new(1);
    assert!(m.is_empty() && !m.has_batches());
    m.insert(b"k", Timestamp(1), Some(b"one"));
    let after_one = m.approximate_bytes();
    assert!(after_one >= 4);
    m.insert(b"k", Timestamp(1), Some(b"two"));
    assert_eq!(m.len(), 1, "same internal key, one entry");
    assert_eq!(m.get(b"k", Timestamp(1)).unwrap().value, Some(b"two".to_vec()));
    m.insert(b"big", Timestamp(2), Some(&[0u8; 1000]));
    assert!(m.approximate_bytes() >= after_one + 1000);
}

#[test]
fn batches_are_recorded_even_when_empty() {
    let m = Memtable::new(1);
    assert!(!m.has_batches());
    assert_eq!(m.min_lsn(), None);
    m.record_batch(Lsn(7), Timestamp(3));
    m.record_batch(Lsn(5), Timestamp(9));
    assert!(m.has_batches() && m.is_empty(), "empty batches write no version");
    assert_eq!((m.min_lsn(), m.max_lsn(), m.max_ts()), (Some(Lsn(5)), Lsn(7), Timestamp(9)));
}

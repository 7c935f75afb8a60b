//! Unit tests of [`Version`], [`VersionEdit`] and [`Version::apply`].

use std::sync::Arc;

use lightning_core_storage::{Lsn, Timestamp};

use super::{Version, VersionEdit};
use crate::{internal_key::InternalKey, table_meta::TableMeta};

fn table(number: u64, first: &str, last: &str) -> TableMeta {
    TableMeta {
        file_number: number,
        file_size: 100 * number,
        smallest: InternalKey::new(first.as_bytes(), Timestamp(9)),
        largest: InternalKey::new(last.as_bytes(), Timestamp(1)),
        entries: 2,
        tombstones: 0,
        min_ts: Timestamp(1),
        max_ts: Timestamp(9),
    }
}

fn numbers<'a>(tables: impl IntoIterator<Item = &'a Arc<TableMeta>>) -> Vec<u64> {
    tables.into_iter().map(|t| t.file_number).collect()
}

fn version_with(added: &[(usize, TableMeta)]) -> Version {
    let edit = VersionEdit { added: added.to_vec(), ..VersionEdit::default() };
    Version::empty(4).apply(&edit).expect("edit applies")
}

#[test]
fn l0_is_kept_newest_first_and_l1_by_key_whatever_the_edit_order() {
    let v = version_with(&[
        (0, table(3, "a", "z")),
        (0, table(7, "c", "d")),
        (0, table(5, "b", "q")),
        (1, table(2, "m", "p")),
        (1, table(1, "a", "c")),
        (1, table(4, "x", "y")),
    ]);
    assert_eq!(numbers(v.level(0)), vec![7, 5, 3]);
    assert_eq!(numbers(v.level(1)), vec![1, 2, 4]);
    assert!(v.check_invariants().is_empty(), "{:?}", v.check_invariants());
    assert_eq!(v.table_count(), 6);
    assert_eq!(v.live_file_numbers().into_iter().collect::<Vec<_>>(), vec![1, 2, 3, 4, 5, 7]);
}

#[test]
fn tables_for_key_returns_every_covering_l0_table_and_at_most_one_below() {
    let v = version_with(&[
        (0, table(3, "a", "f")),
        (0, table(4, "e", "k")),
        (0, table(5, "x", "z")),
        (1, table(1, "a", "c")),
        (1, table(2, "e", "g")),
    ]);
    assert_eq!(numbers(v.tables_for_key(0, b"e")), vec![4, 3]);
    assert_eq!(numbers(v.tables_for_key(0, b"l")), Vec::<u64>::new());
    assert_eq!(numbers(v.tables_for_key(1, b"c")), vec![1]);
    assert_eq!(numbers(v.tables_for_key(1, b"e")), vec![2]);
    assert_eq!(numbers(v.tables_for_key(1, b"d")), Vec::<u64>::new(), "in the gap");
    assert_eq!(numbers(v.tables_for_key(1, b"h")), Vec::<u64>::new(), "past the end");
    assert_eq!(numbers(v.tables_for_key(9, b"a")), Vec::<u64>::new(), "no such level");
}

#[test]
fn overlapping_uses_inclusive_bounds_and_none_as_unbounded() {
    let v = version_with(&[
        (2, table(1, "a", "c")),
        (2, table(2, "e", "g")),
        (2, table(3, "i", "k")),
        (0, table(4, "b", "b")),
        (0, table(5, "h", "z")),
    ]);
    assert_eq!(numbers(&v.overlapping(2, Some(b"c"), Some(b"e"))), vec![1, 2]);
    assert_eq!(numbers(&v.overlapping(2, Some(b"d"), Some(b"d"))), Vec::<u64>::new());
    assert_eq!(numbers(&v.overlapping(2, None, Some(b"f"))), vec![1, 2]);
    assert_eq!(numbers(&v.overlapping(2, Some(b"h"), None)), vec![3]);
    assert_eq!(numbers(&v.overlapping(2, None, None)), vec![1, 2, 3]);
    assert_eq!(numbers(&v.overlapping(0, Some(b"a"), Some(b"i"))), vec![5, 4]);
}

#[test]
fn level_bytes_sums_file_sizes() {
    let v =
        version_with(&[(1, table(1, "a", "b")), (1, table(2, "c", "d")), (0, table(3, "a", "z"))]);
    assert_eq!(v.level_bytes(1), 300);
    assert_eq!(v.level_bytes(0), 300);
    assert_eq!(v.level_bytes(3), 0);
    assert_eq!(v.level_bytes(99), 0);
}

#[test]
fn apply_removes_before_adding_so_a_move_is_one_edit() {
    let v = version_with(&[(1, table(1, "a", "c"))]);
    let mut edit = VersionEdit::new();
    edit.remove_table(1, 1).add_table(2, table(1, "a", "c"));
    let moved = v.apply(&edit).expect("a move applies");
    assert!(moved.level(1).is_empty());
    assert_eq!(numbers(moved.level(2)), vec![1]);
    assert_eq!(moved.find(1).map(|(level, _)| level), Some(2));
    assert_eq!(numbers(v.level(1)), vec![1], "the old version is unchanged");
}

#[test]
fn apply_refuses_removing_a_table_the_level_does_not_hold() {
    let v = version_with(&[(1, table(1, "a", "c"))]);
    let mut edit = VersionEdit::new();
    edit.remove_table(2, 1);
    let err = v.apply(&edit).expect_err("table 1 is in level 1, not 2");
    assert!(err.is_corruption(), "{err}");
    assert!(err.to_string().contains("table 1 from level 2"), "{err}");
}

#[test]
fn apply_refuses_a_duplicate_file_number_an_overlap_and_a_level_out_of_range() {
    let v = version_with(&[(1, table(1, "a", "c"))]);
    for (edit, expected) in [
        (vec![(0, table(1, "x", "y"))], "already live"),
        (vec![(1, table(2, "c", "d"))], "overlapping in level 1"),
        (vec![(4, table(3, "a", "b"))], "beyond the 4 levels"),
        (vec![(1, table(4, "q", "p"))], "smallest key is after its largest"),
    ] {
        let edit = VersionEdit { added: edit, ..VersionEdit::default() };
        let err = v.apply(&edit).expect_err(expected);
        assert!(err.is_corruption() && err.to_string().contains(expected), "{err}");
    }
}

#[test]
fn l0_tables_may_overlap_and_share_keys() {
    let v = version_with(&[(0, table(1, "a", "m")), (0, table(2, "a", "m"))]);
    assert!(v.check_invariants().is_empty());
    assert_eq!(numbers(v.tables_for_key(0, b"a")), vec![2, 1]);
}

#[test]
fn a_user_key_shared_by_two_l1_tables_is_an_overlap() {
    // Versions of one user key split across two tables of a level would make a point read
    // consult two tables: the level must keep them together.
    let mut first = table(1, "a", "c");
    first.largest = InternalKey::new(*b"c", Timestamp(5));
    let mut second = table(2, "c", "e");
    second.smallest = InternalKey::new(*b"c", Timestamp(4));
    let edit = VersionEdit { added: vec![(1, first), (1, second)], ..VersionEdit::default() };
    let err = Version::empty(3).apply(&edit).expect_err("user key c in two tables");
    assert!(err.to_string().contains("overlapping"), "{err}");
}

#[test]
fn check_invariants_names_each_broken_rule() {
    let bad = Version {
        levels: vec![
            vec![Arc::new(table(1, "a", "b")), Arc::new(table(2, "a", "b"))],
            vec![Arc::new(table(3, "d", "f")), Arc::new(table(4, "a", "b"))],
            vec![Arc::new(table(5, "a", "d")), Arc::new(table(6, "c", "e"))],
            vec![Arc::new(table(1, "x", "y")), Arc::new(table(7, "z", "q"))],
        ],
    };
    let problems = bad.check_invariants().join("\n");
    for expected in [
        "level 0: table 1 is listed before table 2 but is not newer",
        "level 1: tables 3 and 4 are out of key order",
        "level 2: tables 5 and 6 overlap",
        "table 1 appears twice (level 0 and level 3)",
        "level 3: table 7 has its smallest key after its largest",
    ] {
        assert!(problems.contains(expected), "missing {expected:?} in:\n{problems}");
    }
}

#[test]
fn a_snapshot_edit_rebuilds_the_version_from_empty() {
    let v = version_with(&[
        (0, table(5, "a", "z")),
        (0, table(6, "b", "c")),
        (1, table(1, "a", "c")),
        (3, table(2, "d", "e")),
    ]);
    let snapshot = VersionEdit::snapshot(&v, 9, Lsn(4), Timestamp(77));
    assert_eq!(snapshot.next_file_number, Some(9));
    assert_eq!(snapshot.durable_lsn, Some(Lsn(4)));
    assert_eq!(snapshot.max_commit_ts, Some(Timestamp(77)));
    assert!(snapshot.removed.is_empty());
    assert_eq!(Version::empty(4).apply(&snapshot).expect("snapshot applies"), v);
}

#[test]
fn an_empty_edit_is_empty_and_changes_nothing() {
    let v = version_with(&[(1, table(1, "a", "c"))]);
    assert!(VersionEdit::new().is_empty());
    assert_eq!(v.apply(&VersionEdit::new()).expect("applies"), v);
    let mut edit = VersionEdit::new();
    edit.durable_lsn = Some(Lsn(1));
    assert!(!edit.is_empty());
    assert_eq!(v.deepest_non_empty_level(), Some(1));
    assert_eq!(Version::empty(3).deepest_non_empty_level(), None);
}

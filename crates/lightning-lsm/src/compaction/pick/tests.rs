//! Unit tests of compaction picking: one test per rule of the module docs.

use std::collections::HashSet;

use lightning_core_storage::Timestamp;

use super::{CompactionOptions, level_scores, level_targets, pick_compaction, pick_range};
use crate::{
    internal_key::InternalKey,
    table_meta::TableMeta,
    version::{Version, VersionEdit},
};

const MIB: u64 = 1 << 20;

fn table(number: u64, first: &str, last: &str, size: u64) -> TableMeta {
    TableMeta {
        file_number: number,
        file_size: size,
        smallest: InternalKey::new(first.as_bytes(), Timestamp(10)),
        largest: InternalKey::new(last.as_bytes(), Timestamp(1)),
        entries: 1,
        tombstones: 0,
        min_ts: Timestamp(1),
        max_ts: Timestamp(10),
    }
}

/// A 7-level version of `(level, number, first key, last key, bytes)`.
fn version(tables: &[(usize, u64, &str, &str, u64)]) -> Version {
    let mut edit = VersionEdit::new();
    for &(level, number, first, last, size) in tables {
        edit.add_table(level, table(number, first, last, size));
    }
    Version::empty(7).apply(&edit).expect("a valid version")
}

fn numbers(tables: &[std::sync::Arc<TableMeta>]) -> Vec<u64> {
    tables.iter().map(|t| t.file_number).collect()
}

fn busy(numbers: &[u64]) -> HashSet<u64> {
    numbers.iter().copied().collect()
}

#[test]
fn an_empty_tree_compacts_l0_straight_into_the_last_level() {
    let targets = level_targets(&Version::empty(7), &CompactionOptions::default());
    assert_eq!(targets.base_level, 6);
    assert_eq!(targets.target_bytes, vec![0, 0, 0, 0, 0, 0, 64 * MIB]);
}

#[test]
fn targets_are_computed_from_the_bottom_level_up_by_the_ratio() {
    let v = version(&[(6, 1, "a", "z", 100 << 30)]);
    let targets = level_targets(&v, &CompactionOptions::default());
    // 100 GiB / 10^4 = 10 737 418 bytes at L2: the first level whose size fits 64 MiB.
    assert_eq!(targets.base_level, 2);
    assert_eq!(
        targets.target_bytes,
        vec![0, 0, 10_737_418, 107_374_180, 1_073_741_800, 10_737_418_000, 107_374_180_000]
    );
}

#[test]
fn a_small_bottom_level_is_the_base_level_with_the_minimum_target() {
    let v = version(&[(6, 1, "a", "z", MIB)]);
    let targets = level_targets(&v, &CompactionOptions::default());
    assert_eq!(targets.base_level, 6);
    assert_eq!(targets.target_bytes[6], 64 * MIB / 10 + 1);
}

#[test]
fn a_huge_tree_caps_the_l1_target_at_base_level_bytes_and_no_level_below_it() {
    let v = version(&[(6, 1, "a", "z", 10 << 40)]);
    let targets = level_targets(&v, &CompactionOptions::default());
    assert_eq!(targets.base_level, 1);
    assert_eq!(targets.target_bytes[1], 64 * MIB);
    assert_eq!(targets.target_bytes[2], 640 * MIB);
    let shallow = version(&[(6, 1, "a", "z", 7 * MIB)]);
    let targets = level_targets(&shallow, &CompactionOptions::default());
    assert_eq!(targets.base_level, 6, "7 MiB / 1 > 6.4 MiB but fits 64 MiB");
    assert_eq!(targets.target_bytes[6], 7 * MIB);
}

#[test]
fn l0_scores_idle_files_over_the_trigger_and_the_last_level_scores_zero() {
    let v = version(&[
        (0, 1, "a", "b", MIB),
        (0, 2, "a", "b", MIB),
        (0, 3, "a", "b", MIB),
        (0, 4, "a", "b", MIB),
        (0, 5, "a", "b", MIB),
        (6, 6, "a", "z", 1 << 40),
    ]);
    let options = CompactionOptions::default();
    let scores = level_scores(&v, &options);
    assert_eq!(scores[0], 5.0 / 4.0);
    assert_eq!(scores[6], 0.0, "nothing below the last level");
    assert_eq!(scores[1], 0.0, "an unused level above the base level");
    let job = pick_compaction(&v, &options, &busy(&[])).expect("L0 is due");
    assert_eq!(job.input_level, 0);
    assert_eq!(pick_compaction(&v, &options, &busy(&[1])), None, "one L0 job at a time");
}

#[test]
fn nothing_is_picked_while_every_score_is_below_one() {
    let v = version(&[(0, 1, "a", "b", MIB), (0, 2, "c", "d", MIB), (6, 3, "a", "z", MIB)]);
    assert!(level_scores(&v, &CompactionOptions::default()).iter().all(|&s| s < 1.0));
    assert_eq!(pick_compaction(&v, &CompactionOptions::default(), &busy(&[])), None);
}

#[test]
fn l0_takes_the_oldest_file_and_its_overlap_closure_into_the_base_level() {
    // 1 (oldest) overlaps 3, which overlaps 4; 2 and 5 overlap none of them.
    let v = version(&[
        (0, 1, "a", "c", MIB),
        (0, 2, "x", "z", MIB),
        (0, 3, "c", "f", MIB),
        (0, 4, "e", "h", MIB),
        (0, 5, "p", "q", MIB),
        (5, 10, "a", "b", MIB),
        (5, 11, "g", "k", MIB),
        (5, 12, "m", "n", MIB),
        (6, 20, "a", "z", 500 * MIB),
    ]);
    let options = CompactionOptions::default();
    assert_eq!(level_targets(&v, &options).base_level, 5);
    let job = pick_compaction(&v, &options, &busy(&[])).expect("L0 is due");
    assert_eq!((job.input_level, job.output_level), (0, 5));
    assert_eq!(numbers(&job.inputs), vec![4, 3, 1], "newest first, closure of file 1");
    assert_eq!(numbers(&job.overlapping), vec![10, 11]);
    assert!(!job.trivial_move);
    assert!(!job.bottommost, "L6 overlaps");
}

#[test]
fn an_l0_job_waits_while_an_overlapping_base_table_is_busy() {
    let v = version(&[
        (0, 1, "a", "c", MIB),
        (0, 2, "a", "c", MIB),
        (0, 3, "a", "c", MIB),
        (0, 4, "a", "c", MIB),
        (6, 10, "a", "b", MIB),
    ]);
    let options = CompactionOptions::default();
    assert!(pick_compaction(&v, &options, &busy(&[])).is_some());
    assert_eq!(pick_compaction(&v, &options, &busy(&[10])), None);
}

/// L1 over target (base 64 MiB capped, L6 huge) with three candidate tables; any two of them
/// (one busy) are still over target.
fn level_one_choice() -> Version {
    version(&[
        (1, 1, "a", "c", 40 * MIB),
        (1, 2, "d", "f", 40 * MIB),
        (1, 3, "g", "i", 40 * MIB),
        (2, 10, "a", "b", 50 * MIB),
        (2, 11, "c", "c", 50 * MIB),
        (2, 12, "d", "e", 10 * MIB),
        (2, 13, "g", "i", 40 * MIB),
        (6, 20, "a", "z", 10 << 40),
    ])
}

#[test]
fn a_level_compaction_takes_the_table_with_the_least_overlap_with_the_next_level() {
    let v = level_one_choice();
    let options = CompactionOptions::default();
    assert!(level_scores(&v, &options)[1] > 1.0, "{:?}", level_scores(&v, &options));
    let job = pick_compaction(&v, &options, &busy(&[])).expect("L1 is due");
    assert_eq!((job.input_level, job.output_level), (1, 2));
    assert_eq!(numbers(&job.inputs), vec![2], "overlap 10 MiB per 40 MiB");
    assert_eq!(numbers(&job.overlapping), vec![12]);
}

#[test]
fn busy_tables_are_skipped_as_inputs_and_as_overlap() {
    let v = level_one_choice();
    let options = CompactionOptions::default();
    let job = pick_compaction(&v, &options, &busy(&[2])).expect("another table");
    assert_eq!(numbers(&job.inputs), vec![3], "table 2 busy: 3 overlaps 40 MiB");
    let job = pick_compaction(&v, &options, &busy(&[12, 13])).expect("table 1");
    assert_eq!(numbers(&job.inputs), vec![1], "2 and 3 overlap busy tables");
    assert_eq!(pick_compaction(&v, &options, &busy(&[1, 2, 3])), None);
}

#[test]
fn one_input_with_no_overlap_is_a_trivial_move() {
    let v =
        version(&[(1, 1, "a", "c", 70 * MIB), (2, 2, "x", "z", MIB), (6, 3, "a", "z", 10 << 40)]);
    let job = pick_compaction(&v, &CompactionOptions::default(), &busy(&[])).expect("L1 is due");
    assert!(job.trivial_move && job.overlapping.is_empty());
    assert_eq!(numbers(&job.inputs), vec![1]);
}

#[test]
fn a_job_is_bottommost_only_when_no_deeper_level_overlaps_its_range() {
    let deeper = version(&[(1, 1, "a", "c", 70 * MIB), (6, 3, "b", "z", 10 << 40)]);
    let job = pick_compaction(&deeper, &CompactionOptions::default(), &busy(&[])).expect("due");
    assert!(!job.bottommost);
    let clear = version(&[(1, 1, "a", "c", 70 * MIB), (6, 3, "d", "z", 10 << 40)]);
    let job = pick_compaction(&clear, &CompactionOptions::default(), &busy(&[])).expect("due");
    assert!(job.bottommost, "L6 holds only keys above c");
}

#[test]
fn inputs_widen_to_the_combined_range_when_no_output_table_is_added() {
    let v = version(&[
        (1, 1, "a", "c", 40 * MIB),
        (1, 2, "d", "f", 40 * MIB),
        (2, 10, "a", "f", 10 * MIB),
        (6, 20, "a", "z", 10 << 40),
    ]);
    let job = pick_compaction(&v, &CompactionOptions::default(), &busy(&[])).expect("due");
    assert_eq!(numbers(&job.inputs), vec![1, 2], "table 10 spans both: take both");
    assert_eq!(numbers(&job.overlapping), vec![10]);
    assert_eq!(job.key_range(), (b"a".to_vec(), b"f".to_vec()));
    assert_eq!(job.file_numbers(), vec![1, 2, 10]);
    assert_eq!(job.input_bytes(), 90 * MIB);
}

#[test]
fn inputs_do_not_widen_when_that_would_add_an_output_table_or_a_busy_one() {
    let grows = version(&[
        (1, 1, "a", "c", 40 * MIB),
        (1, 2, "d", "f", 40 * MIB),
        (2, 10, "a", "e", 10 * MIB),
        (2, 11, "f", "g", 90 * MIB),
        (6, 20, "a", "z", 10 << 40),
    ]);
    let job = pick_compaction(&grows, &CompactionOptions::default(), &busy(&[])).expect("due");
    assert_eq!(numbers(&job.inputs), vec![1], "taking 2 would pull in table 11");
    let spans = version(&[
        (1, 1, "a", "c", 40 * MIB),
        (1, 2, "d", "f", 40 * MIB),
        (2, 10, "a", "f", 10 * MIB),
        (6, 20, "a", "z", 10 << 40),
    ]);
    let small = CompactionOptions { target_file_size: 2 * MIB, ..CompactionOptions::default() };
    let job = pick_compaction(&spans, &small, &busy(&[])).expect("due");
    assert_eq!(numbers(&job.inputs), vec![1], "90 MiB is over 25 target files of 2 MiB");
}

#[test]
fn pick_range_pushes_each_level_down_and_rewrites_the_last_in_place() {
    let v = version(&[
        (0, 1, "a", "c", MIB),
        (0, 2, "c", "e", MIB),
        (0, 3, "x", "z", MIB),
        (5, 10, "a", "b", MIB),
        (6, 20, "a", "m", MIB),
        (6, 21, "n", "z", MIB),
    ]);
    let options = CompactionOptions::default();
    let l0 = pick_range(&v, &options, Some(b"a"), Some(b"b"), 0).expect("L0 in range");
    assert_eq!((l0.input_level, l0.output_level), (0, 5));
    assert_eq!(numbers(&l0.inputs), vec![2, 1], "file 2 shares key c with file 1");
    assert_eq!(numbers(&l0.overlapping), vec![10]);
    let l5 = pick_range(&v, &options, None, None, 5).expect("L5");
    assert_eq!((l5.output_level, numbers(&l5.overlapping)), (6, vec![20]));
    assert!(l5.bottommost);
    let last = pick_range(&v, &options, Some(b"p"), None, 6).expect("the last level");
    assert_eq!((last.input_level, last.output_level), (6, 6));
    assert_eq!(numbers(&last.inputs), vec![21]);
    assert!(last.overlapping.is_empty() && !last.trivial_move && last.bottommost);
    assert_eq!(pick_range(&v, &options, Some(b"d"), Some(b"m"), 5), None, "no table there");
    assert_eq!(pick_range(&v, &options, None, None, 7), None, "no such level");
}

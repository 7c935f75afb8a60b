//! Growing a job's inputs: the L0 overlap closure and the clean-cut expansion.

use std::{collections::HashSet, sync::Arc};

use super::CompactionOptions;
use crate::{table_meta::TableMeta, version::Version};

/// The sum of the tables' file sizes.
pub fn total_bytes(tables: &[Arc<TableMeta>]) -> u64 {
    tables.iter().map(|t| t.file_size).sum()
}

/// The smallest and largest user keys of `tables`. REQUIRES: `tables` is not empty.
pub fn key_range(tables: &[Arc<TableMeta>]) -> (&[u8], &[u8]) {
    debug_assert!(!tables.is_empty(), "a key range of no tables");
    let start = tables.iter().map(|t| t.smallest.key.as_slice()).min().unwrap_or_default();
    let end = tables.iter().map(|t| t.largest.key.as_slice()).max().unwrap_or_default();
    (start, end)
}

/// `seed` plus every L0 table overlapping the range so far, until nothing more overlaps: no
/// L0 table left behind shares a user key with a chosen one, so no key's versions are split
/// between the job and L0. Newest first, like L0.
pub fn l0_closure(version: &Version, seed: &[Arc<TableMeta>]) -> Vec<Arc<TableMeta>> {
    let mut chosen: Vec<Arc<TableMeta>> = seed.to_vec();
    loop {
        let (start, end) = key_range(&chosen);
        let wider = version.overlapping(0, Some(start), Some(end));
        if wider.len() == chosen.len() {
            return wider;
        }
        chosen = wider;
    }
}

/// Widens `inputs` to every input-level table within the key range of inputs and overlap
/// together, if that brings in no busy table, no new output-level table, and stays within
/// [`CompactionOptions::max_compaction_bytes`]; else returns `inputs` unchanged.
pub fn expand_inputs(
    version: &Version,
    options: &CompactionOptions,
    busy: &HashSet<u64>,
    input_level: usize,
    inputs: Vec<Arc<TableMeta>>,
    overlapping: &[Arc<TableMeta>],
    overlap_of: impl Fn(&[Arc<TableMeta>]) -> Vec<Arc<TableMeta>>,
) -> Vec<Arc<TableMeta>> {
    let all: Vec<Arc<TableMeta>> = inputs.iter().chain(overlapping).cloned().collect();
    let (start, end) = key_range(&all);
    let mut wider = version.overlapping(input_level, Some(start), Some(end));
    if input_level == 0 {
        wider = l0_closure(version, &wider);
    }
    let grows = wider.len() > inputs.len();
    let fits = total_bytes(&wider) + total_bytes(overlapping) <= options.max_compaction_bytes();
    let idle = !wider.iter().any(|t| busy.contains(&t.file_number));
    if grows && fits && idle && overlap_of(&wider).len() == overlapping.len() {
        wider
    } else {
        inputs
    }
}

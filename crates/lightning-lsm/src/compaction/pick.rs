//! Choosing the next compaction, as RocksDB's leveled picker does with dynamic level sizes
//! (`level_compaction_dynamic_level_bytes`).
//!
//! - **Scores.** L0 scores its (not busy) files over `l0_trigger`; L1 up to the level above
//!   the last score their (not busy) bytes over their target from [`level_targets`]; the last
//!   level and the unused levels above the base level score 0. The level with the highest
//!   score ≥ 1 that can start a job is compacted.
//! - **L0 → base level.** The oldest L0 file and every L0 file overlapping the inputs so far,
//!   transitively, so that no user key's versions are split between inputs and files left in
//!   L0 (a newer version must never sink below an older one). Only one L0 job at a time: L0 is
//!   skipped while any of its files is busy.
//! - **Ln → Ln+1, which table.** The table with the least overlap with the next level (bytes
//!   of next-level tables it overlaps per byte of its own; ties to the older file), RocksDB's
//!   default `kMinOverlappingRatio`. Chosen over a round-robin cursor because it is stateless
//!   (the picker needs nothing but the version) and writes the fewest bytes per byte moved
//!   down, the write-amplification row this engine must win.
//! - **Clean cuts.** The output level's tables overlapping the inputs' key range join the job,
//!   and the inputs are widened to every input-level table inside the combined range when that
//!   adds no output-level table (RocksDB's `SetupOtherInputs` expansion, bounded by 25 target
//!   file sizes), so no user key is split across the job's boundary.
//! - **Busy tables** (inputs of running jobs) are never chosen, as inputs or as overlap.
//! - **Trivial move** when there is one input and no overlap: the engine relinks the file.
//! - **Bottommost** when no level below the output level overlaps the key range: tombstones
//!   and versions below the GC horizon may be dropped.

mod inputs;
mod targets;
#[cfg(test)]
mod tests;

use std::{collections::HashSet, sync::Arc};

pub use targets::{LevelTargets, level_targets};

use crate::{table_meta::TableMeta, version::Version};
use inputs::{expand_inputs, key_range, l0_closure, total_bytes};

/// The compaction policy's knobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactionOptions {
    /// L0 files that make L0 score 1 (start compacting it).
    pub l0_trigger: usize,
    /// L0 files at which writes are slowed down.
    pub l0_slowdown: usize,
    /// L0 files at which writes stop until compaction catches up.
    pub l0_stop: usize,
    /// The base level's maximum target bytes (RocksDB's `max_bytes_for_level_base`).
    pub base_level_bytes: u64,
    /// The size ratio between adjacent levels (at least 2 is used).
    pub level_ratio: u64,
    /// The size at which the runner splits output tables.
    pub target_file_size: u64,
    /// Levels, L0 included.
    pub num_levels: usize,
}

impl Default for CompactionOptions {
    fn default() -> Self {
        CompactionOptions {
            l0_trigger: 4,
            l0_slowdown: 20,
            l0_stop: 36,
            base_level_bytes: 64 << 20,
            level_ratio: 10,
            target_file_size: 8 << 20,
            num_levels: 7,
        }
    }
}

impl CompactionOptions {
    /// The most input bytes an expansion may grow a job to (RocksDB's default
    /// `max_compaction_bytes`: 25 target file sizes).
    pub fn max_compaction_bytes(&self) -> u64 {
        self.target_file_size.saturating_mul(25)
    }
}

/// One compaction to run: merge `inputs` (from `input_level`) with `overlapping` (from
/// `output_level`) into new tables of `output_level`.
#[derive(Debug, Clone, PartialEq)]
pub struct CompactionJob {
    /// The level the inputs come from.
    pub input_level: usize,
    /// The level the outputs go to (`input_level + 1`, the base level for L0, or the level
    /// itself when [`pick_range`] rewrites the last level).
    pub output_level: usize,
    /// The input-level tables (L0: newest first; L1+: by key).
    pub inputs: Vec<Arc<TableMeta>>,
    /// The output-level tables the inputs overlap, by key; they are replaced too.
    pub overlapping: Vec<Arc<TableMeta>>,
    /// One input and no overlap: move the file to the output level without rewriting it.
    pub trivial_move: bool,
    /// True if no level below `output_level` overlaps the key range: tombstones may be dropped.
    pub bottommost: bool,
}

impl CompactionJob {
    /// Every table the job reads (inputs then overlap): what to mark busy while it runs.
    pub fn all_tables(&self) -> impl Iterator<Item = &Arc<TableMeta>> {
        self.inputs.iter().chain(&self.overlapping)
    }

    /// The file numbers of [`CompactionJob::all_tables`].
    pub fn file_numbers(&self) -> Vec<u64> {
        self.all_tables().map(|t| t.file_number).collect()
    }

    /// The bytes the job reads.
    pub fn input_bytes(&self) -> u64 {
        total_bytes(&self.inputs) + total_bytes(&self.overlapping)
    }

    /// The smallest and largest user keys the job covers.
    pub fn key_range(&self) -> (Vec<u8>, Vec<u8>) {
        let all: Vec<Arc<TableMeta>> = self.all_tables().cloned().collect();
        let (start, end) = key_range(&all);
        (start.to_vec(), end.to_vec())
    }
}

/// Every level's score (see the module docs): compaction is due where a score is ≥ 1.
pub fn level_scores(version: &Version, options: &CompactionOptions) -> Vec<f64> {
    scores_with_busy(version, options, &HashSet::new())
}

fn scores_with_busy(
    version: &Version,
    options: &CompactionOptions,
    busy: &HashSet<u64>,
) -> Vec<f64> {
    let num_levels = version.num_levels();
    let targets = level_targets(version, options);
    let idle =
        |level: usize| version.level(level).iter().filter(|t| !busy.contains(&t.file_number));
    (0..num_levels)
        .map(|level| {
            if level == 0 {
                idle(0).count() as f64 / options.l0_trigger.max(1) as f64
            } else if level + 1 >= num_levels || level < targets.base_level {
                0.0
            } else {
                let bytes: u64 = idle(level).map(|t| t.file_size).sum();
                bytes as f64 / targets.target_bytes[level].max(1) as f64
            }
        })
        .collect()
}

/// The most urgent compaction that can start now, or `None` when no level scores ≥ 1 or
/// every due level is blocked by `busy` tables (file numbers of running jobs' tables).
pub fn pick_compaction(
    version: &Version,
    options: &CompactionOptions,
    busy: &HashSet<u64>,
) -> Option<CompactionJob> {
    if version.num_levels() < 2 {
        return None;
    }
    let scores = scores_with_busy(version, options, busy);
    let mut due: Vec<usize> = (0..scores.len()).filter(|&l| scores[l] >= 1.0).collect();
    due.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let base_level = level_targets(version, options).base_level;
    due.into_iter().find_map(|level| {
        if level == 0 {
            pick_l0(version, options, busy, base_level)
        } else {
            pick_level(version, options, busy, level)
        }
    })
}

fn is_busy(tables: &[Arc<TableMeta>], busy: &HashSet<u64>) -> bool {
    tables.iter().any(|t| busy.contains(&t.file_number))
}

fn pick_l0(
    version: &Version,
    options: &CompactionOptions,
    busy: &HashSet<u64>,
    base_level: usize,
) -> Option<CompactionJob> {
    if is_busy(version.level(0), busy) {
        return None;
    }
    let oldest = version.level(0).last()?;
    let inputs = l0_closure(version, &[Arc::clone(oldest)]);
    build_job(version, options, busy, 0, base_level, inputs)
}

fn pick_level(
    version: &Version,
    options: &CompactionOptions,
    busy: &HashSet<u64>,
    level: usize,
) -> Option<CompactionJob> {
    let mut best: Option<(f64, &Arc<TableMeta>)> = None;
    for table in version.level(level) {
        if busy.contains(&table.file_number) {
            continue;
        }
        let start = Some(table.smallest.key.as_slice());
        let end = Some(table.largest.key.as_slice());
        let overlap = version.overlapping(level + 1, start, end);
        if is_busy(&overlap, busy) {
            continue;
        }
        let ratio = total_bytes(&overlap) as f64 / table.file_size.max(1) as f64;
        let better = match best {
            None => true,
            Some((best_ratio, best_table)) => {
                ratio < best_ratio
                    || (ratio == best_ratio && table.file_number < best_table.file_number)
            }
        };
        if better {
            best = Some((ratio, table));
        }
    }
    let (_, table) = best?;
    build_job(version, options, busy, level, level + 1, vec![Arc::clone(table)])
}

/// The job for `inputs` of `input_level` into `output_level`: overlap, expansion, flags.
/// `None` if an overlapping output table is busy.
fn build_job(
    version: &Version,
    options: &CompactionOptions,
    busy: &HashSet<u64>,
    input_level: usize,
    output_level: usize,
    inputs: Vec<Arc<TableMeta>>,
) -> Option<CompactionJob> {
    let overlap_of = |tables: &[Arc<TableMeta>]| {
        let (start, end) = key_range(tables);
        version.overlapping(output_level, Some(start), Some(end))
    };
    let overlapping = if output_level == input_level { Vec::new() } else { overlap_of(&inputs) };
    if is_busy(&overlapping, busy) {
        return None;
    }
    let inputs = if overlapping.is_empty() {
        inputs
    } else {
        expand_inputs(version, options, busy, input_level, inputs, &overlapping, overlap_of)
    };
    let trivial_move = inputs.len() == 1 && overlapping.is_empty() && input_level != output_level;
    let all: Vec<Arc<TableMeta>> = inputs.iter().chain(&overlapping).cloned().collect();
    let (start, end) = key_range(&all);
    let bottommost = (output_level + 1..version.num_levels())
        .all(|level| version.overlapping(level, Some(start), Some(end)).is_empty());
    Some(CompactionJob { input_level, output_level, inputs, overlapping, trivial_move, bottommost })
}

/// The job for `compact_range(start, end)` at `level`: every table of `level` overlapping
/// `[start, end]` (for L0 widened to the overlap closure) with the next level's overlapping
/// tables; L0 goes to the base level, Ln to Ln+1. At the last level the job rewrites the
/// level's overlapping tables in place (input and output level equal, always bottommost) so
/// that tombstones and old versions are dropped; the engine runs it once. `None` when `level`
/// has no table in the range or is beyond the version. Busy tables are not considered: the
/// caller waits for running jobs first.
pub fn pick_range(
    version: &Version,
    options: &CompactionOptions,
    start: Option<&[u8]>,
    end: Option<&[u8]>,
    level: usize,
) -> Option<CompactionJob> {
    let num_levels = version.num_levels();
    if level >= num_levels {
        return None;
    }
    let mut inputs = version.overlapping(level, start, end);
    if inputs.is_empty() {
        return None;
    }
    let output_level = match level {
        0 if num_levels == 1 => 0,
        0 => level_targets(version, options).base_level,
        _ => (level + 1).min(num_levels - 1),
    };
    if level == 0 {
        inputs = l0_closure(version, &inputs);
    }
    build_job(version, options, &HashSet::new(), level, output_level, inputs)
}

//! Stand-in picker used until the manifest helper's `pick.rs` is merged (replaced then).

use std::{collections::HashSet, sync::Arc};

use crate::{TableMeta, version::Version};

/// Level sizing and triggers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactionOptions {
    /// L0 files that trigger a compaction.
    pub l0_trigger: usize,
    /// L0 files at which writers slow down.
    pub l0_slowdown: usize,
    /// L0 files at which writers stop.
    pub l0_stop: usize,
    /// Target size of L1.
    pub base_level_bytes: u64,
    /// Size ratio between levels.
    pub level_ratio: u64,
    /// Output file size.
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

/// One compaction.
#[derive(Debug, Clone)]
pub struct CompactionJob {
    /// Level read.
    pub input_level: usize,
    /// Level written.
    pub output_level: usize,
    /// Tables of the input level.
    pub inputs: Vec<Arc<TableMeta>>,
    /// Tables of the output level overlapping the inputs.
    pub overlapping: Vec<Arc<TableMeta>>,
    /// Move without rewriting.
    pub trivial_move: bool,
    /// No deeper level overlaps.
    pub bottommost: bool,
}

fn range_of(tables: &[Arc<TableMeta>]) -> (Vec<u8>, Vec<u8>) {
    let lo = tables.iter().map(|t| t.smallest.key.clone()).min().unwrap_or_default();
    let hi = tables.iter().map(|t| t.largest.key.clone()).max().unwrap_or_default();
    (lo, hi)
}

fn job(version: &Version, level: usize, inputs: Vec<Arc<TableMeta>>) -> CompactionJob {
    let (lo, hi) = range_of(&inputs);
    let overlapping = version.overlapping(level + 1, Some(&lo), Some(&hi));
    let bottommost = (level + 2..version.levels().len())
        .all(|l| version.overlapping(l, Some(&lo), Some(&hi)).is_empty());
    let trivial_move = overlapping.is_empty() && inputs.len() == 1 && level > 0;
    CompactionJob {
        input_level: level,
        output_level: level + 1,
        inputs,
        overlapping,
        trivial_move,
        bottommost,
    }
}

/// Scores per level.
pub fn level_scores(version: &Version, options: &CompactionOptions) -> Vec<f64> {
    let mut target = options.base_level_bytes as f64;
    (0..version.levels().len())
        .map(|level| {
            if level == 0 {
                return version.levels()[0].len() as f64 / options.l0_trigger as f64;
            }
            let score = version.level_bytes(level) as f64 / target;
            target *= options.level_ratio as f64;
            score
        })
        .collect()
}

/// The most urgent compaction, if any level scores >= 1.
pub fn pick_compaction(
    version: &Version,
    options: &CompactionOptions,
    busy: &HashSet<u64>,
) -> Option<CompactionJob> {
    let scores = level_scores(version, options);
    let last = version.levels().len() - 1;
    let (level, score) = scores[..last]
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(l, s)| (l, *s))?;
    if score < 1.0 {
        return None;
    }
    let inputs: Vec<Arc<TableMeta>> = if level == 0 {
        version.levels()[0].clone()
    } else {
        version.levels()[level].iter().take(1).cloned().collect()
    };
    let job = job(version, level, inputs);
    let free = job.inputs.iter().chain(&job.overlapping).all(|t| !busy.contains(&t.file_number));
    free.then_some(job)
}

/// The job for compact_range at `level`.
pub fn pick_range(
    version: &Version,
    _options: &CompactionOptions,
    start: Option<&[u8]>,
    end: Option<&[u8]>,
    level: usize,
) -> Option<CompactionJob> {
    if level + 1 >= version.levels().len() {
        return None;
    }
    let inputs = if level == 0 {
        let hit = version.overlapping(0, start, end);
        if hit.is_empty() {
            return None;
        }
        version.levels()[0].clone()
    } else {
        version.overlapping(level, start, end)
    };
    (!inputs.is_empty()).then(|| job(version, level, inputs))
}

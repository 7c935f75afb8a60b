//! Level size targets as RocksDB computes them with `level_compaction_dynamic_level_bytes`:
//! from the bottom level's actual size upwards, so the last level holds ~90% of the data
//! whatever the total, and the levels between L0 and the *base level* stay empty until the
//! tree is big enough to need them.

use super::CompactionOptions;
use crate::version::Version;

/// Which level L0 compacts into, and every level's size target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelTargets {
    /// The level L0 compacts into: the shallowest level with a target.
    pub base_level: usize,
    /// Target bytes per level; 0 for L0 (scored by file count) and for the unused levels
    /// between L0 and the base level.
    pub target_bytes: Vec<u64>,
}

/// The dynamic level targets of `version` (RocksDB's `CalculateBaseBytes`):
///
/// - with no data below L0, the base level is the last level (L0 compacts straight into it);
/// - else, starting from the largest level's size, divide by `level_ratio` once per level up to
///   the first non-empty level; if that is at most `base_level_bytes / ratio`, that level is
///   the base with target `base_level_bytes / ratio + 1`; else move the base up a level and
///   divide again while the size exceeds `base_level_bytes` (at L1 it is capped at it);
/// - each level below the base targets `ratio` times the one above, never below
///   `base_level_bytes` (which would make the tree an hourglass).
pub fn level_targets(version: &Version, options: &CompactionOptions) -> LevelTargets {
    let num_levels = version.num_levels();
    let mut target_bytes = vec![0; num_levels];
    if num_levels < 2 {
        return LevelTargets { base_level: 0, target_bytes };
    }
    let ratio = options.level_ratio.max(2);
    let base_bytes_max = options.base_level_bytes.max(1);
    let base_bytes_min = (base_bytes_max / ratio).max(1);
    let last = num_levels - 1;
    let max_level_size = (1..num_levels).map(|l| version.level_bytes(l)).max().unwrap_or(0);
    let first_non_empty = (1..num_levels).find(|&l| version.level_bytes(l) > 0);

    let (base_level, base_size) = match first_non_empty {
        None => (last, base_bytes_max),
        Some(first) => {
            let mut size = max_level_size;
            for _ in first..last {
                size /= ratio;
            }
            if size <= base_bytes_min {
                (first, base_bytes_min + 1)
            } else {
                let mut base = first;
                while base > 1 && size > base_bytes_max {
                    base -= 1;
                    size /= ratio;
                }
                (base, size.min(base_bytes_max).max(1))
            }
        }
    };
    target_bytes[base_level] = base_size;
    let mut size = base_size;
    for target in target_bytes.iter_mut().skip(base_level + 1) {
        size = size.saturating_mul(ratio);
        *target = size.max(base_bytes_max);
    }
    LevelTargets { base_level, target_bytes }
}

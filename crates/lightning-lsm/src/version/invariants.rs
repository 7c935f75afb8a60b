//! [`Version::check_invariants`]: every rule of a version's shape, as messages (for `check()`).

use std::collections::HashMap;

use super::Version;

impl Version {
    /// Every broken invariant, one message each (empty when the version is sound): tables
    /// whose smallest key is after their largest, a file number in two places, L0 not newest
    /// first, an L1+ level not sorted or with overlapping tables.
    pub fn check_invariants(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen: HashMap<u64, usize> = HashMap::new();
        for (level, tables) in self.levels.iter().enumerate() {
            for table in tables {
                if table.smallest > table.largest {
                    problems.push(format!(
                        "level {level}: table {} has its smallest key after its largest",
                        table.file_number
                    ));
                }
                if let Some(first) = seen.insert(table.file_number, level) {
                    problems.push(format!(
                        "table {} appears twice (level {first} and level {level})",
                        table.file_number
                    ));
                }
            }
            for pair in tables.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                if level == 0 {
                    if a.file_number <= b.file_number {
                        problems.push(format!(
                            "level 0: table {} is listed before table {} but is not newer",
                            a.file_number, b.file_number
                        ));
                    }
                } else if a.smallest > b.smallest {
                    problems.push(format!(
                        "level {level}: tables {} and {} are out of key order",
                        a.file_number, b.file_number
                    ));
                } else if a.largest.key >= b.smallest.key {
                    problems.push(format!(
                        "level {level}: tables {} and {} overlap",
                        a.file_number, b.file_number
                    ));
                }
            }
        }
        problems
    }
}

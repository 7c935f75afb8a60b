//! [`Table::check`]: reads every data block from the file (not the cache) and verifies the
//! table against itself: checksums, key order within and across blocks, that each index entry
//! names its block's last key and the blocks tile the data region, that the properties' counts
//! and ranges are what the blocks hold, and that the filter answers "maybe" for every key.

use std::cmp::Ordering;
use std::sync::Arc;

use lightning_core_storage::engine::CheckProblem;
use lightning_core_storage::{Error, Result, Timestamp};

use super::block::BlockIter;
use super::table::Table;
use crate::internal_key::{InternalKey, compare_internal};
use crate::iter::InternalIter;

/// What the blocks hold, counted while walking them.
#[derive(Debug, Default)]
struct Tally {
    entries: u64,
    tombstones: u64,
    distinct_keys: u64,
    data_blocks: u64,
    data_size_bytes: u64,
    min_ts: Option<Timestamp>,
    max_ts: Option<Timestamp>,
    first: Option<InternalKey>,
    last: Option<InternalKey>,
}

/// Turns a corruption error into a problem; any other error stops the check.
fn problem_of(error: Error) -> Result<CheckProblem> {
    match error {
        Error::Corruption { what, location } => Ok(CheckProblem { location, what }),
        other => Err(other),
    }
}

impl Table {
    /// Verifies every block and the agreement of index, filter and properties with the data.
    /// Damage is reported as problems (location `"<file name> offset <n>"`); an I/O error is
    /// returned as `Err`.
    pub fn check(&self) -> Result<Vec<CheckProblem>> {
        let mut problems = Vec::new();
        let mut tally = Tally::default();
        let mut every_block_read = true;
        let index_location = self.location(self.footer().index.offset);
        if let Err(error) = self.index_block().check_restarts() {
            problems.push(problem_of(error)?);
        }
        let mut index = BlockIter::new(Arc::clone(self.index_block()));
        let mut step = index.seek_to_first();
        let mut expected_offset = 0;
        let mut previous_index_key: Option<InternalKey> = None;
        loop {
            if let Err(error) = step {
                problems.push(problem_of(error)?);
                every_block_read = false;
                break;
            }
            if !index.valid() {
                break;
            }
            let index_key = InternalKey::new(index.key(), index.ts());
            if previous_index_key.as_ref().is_some_and(|p| *p >= index_key) {
                problems.push(CheckProblem {
                    location: index_location.clone(),
                    what: format!("index keys out of order at {index_key:?}"),
                });
            }
            match self.handle_of(&index) {
                Err(error) => {
                    problems.push(problem_of(error)?);
                    every_block_read = false;
                    break;
                }
                Ok(handle) => {
                    if handle.offset != expected_offset {
                        problems.push(CheckProblem {
                            location: index_location.clone(),
                            what: format!(
                                "data block at {} where the previous one ended at {expected_offset}",
                                handle.offset
                            ),
                        });
                    }
                    expected_offset = handle.end();
                    tally.data_blocks += 1;
                    tally.data_size_bytes += handle.length;
                    match self.check_data_block(handle, &index_key, &mut tally) {
                        Ok(block_problems) => {
                            every_block_read &= block_problems.is_empty();
                            problems.extend(block_problems);
                        }
                        Err(error) => {
                            problems.push(problem_of(error)?);
                            every_block_read = false;
                        }
                    }
                }
            }
            previous_index_key = Some(index_key);
            step = index.next();
        }
        if every_block_read && expected_offset != self.footer().index.offset {
            problems.push(CheckProblem {
                location: index_location,
                what: format!(
                    "data blocks end at {expected_offset}, the index starts at {}",
                    self.footer().index.offset
                ),
            });
        }
        if every_block_read {
            self.compare_properties(&tally, &mut problems);
        }
        Ok(problems)
    }

    /// Walks one data block (read from the file), adding to `tally`; returns the problems
    /// found inside it. `Err` is a block that cannot be read or decoded at all.
    fn check_data_block(
        &self,
        handle: super::BlockHandle,
        index_key: &InternalKey,
        tally: &mut Tally,
    ) -> Result<Vec<CheckProblem>> {
        let block = Arc::new(self.load_data_block(handle)?);
        let location = block.location().to_owned();
        let mut problems = Vec::new();
        if let Err(error) = block.check_restarts() {
            problems.push(problem_of(error)?);
        }
        let mut data = BlockIter::new(block);
        let mut step = data.seek_to_first();
        loop {
            if let Err(error) = step {
                problems.push(problem_of(error)?);
                return Ok(problems);
            }
            if !data.valid() {
                break;
            }
            let (key, ts) = (data.key(), data.ts());
            match &mut tally.last {
                Some(last) => {
                    match compare_internal(&last.key, last.ts, key, ts) {
                        Ordering::Less => {}
                        _ => problems.push(CheckProblem {
                            location: location.clone(),
                            what: format!(
                                "({key:?}, {ts}) does not sort after the entry before it"
                            ),
                        }),
                    }
                    if last.key != key {
                        tally.distinct_keys += 1;
                        self.check_filter(key, &location, &mut problems);
                    }
                    last.key.clear();
                    last.key.extend_from_slice(key);
                    last.ts = ts;
                }
                None => {
                    tally.distinct_keys += 1;
                    self.check_filter(key, &location, &mut problems);
                    tally.first = Some(InternalKey::new(key, ts));
                    tally.last = Some(InternalKey::new(key, ts));
                }
            }
            tally.entries += 1;
            tally.tombstones += u64::from(data.value().is_none());
            tally.min_ts = Some(tally.min_ts.map_or(ts, |min| min.min(ts)));
            tally.max_ts = Some(tally.max_ts.map_or(ts, |max| max.max(ts)));
            step = data.next();
        }
        if tally.last.as_ref() != Some(index_key) {
            problems.push(CheckProblem {
                location,
                what: format!("the index names {index_key:?} as this block's last key, it is not"),
            });
        }
        Ok(problems)
    }

    fn check_filter(&self, key: &[u8], location: &str, problems: &mut Vec<CheckProblem>) {
        if self.filter().is_some_and(|filter| !filter.may_contain(key)) {
            problems.push(CheckProblem {
                location: location.to_owned(),
                what: format!("the filter says {key:?} is absent, but the block holds it"),
            });
        }
    }

    fn compare_properties(&self, tally: &Tally, problems: &mut Vec<CheckProblem>) {
        let p = self.properties();
        let location = self.location(self.footer().properties.offset);
        let counts = [
            ("entries", p.entries, tally.entries),
            ("tombstones", p.tombstones, tally.tombstones),
            ("distinct keys", p.distinct_keys, tally.distinct_keys),
            ("data blocks", p.data_blocks, tally.data_blocks),
            ("data bytes", p.data_size_bytes, tally.data_size_bytes),
            ("min ts", p.min_ts.0, tally.min_ts.unwrap_or_default().0),
            ("max ts", p.max_ts.0, tally.max_ts.unwrap_or_default().0),
        ];
        for (name, recorded, counted) in counts {
            if recorded != counted {
                problems.push(CheckProblem {
                    location: location.clone(),
                    what: format!("properties say {recorded} {name}, the blocks hold {counted}"),
                });
            }
        }
        if tally.first.as_ref() != Some(&p.smallest) || tally.last.as_ref() != Some(&p.largest) {
            problems.push(CheckProblem {
                location,
                what: "the properties' key range is not the blocks' first and last key".to_owned(),
            });
        }
    }
}

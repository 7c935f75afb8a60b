//! Segment files: naming, listing, durable creation and removal, and the in-memory index of
//! which LSNs each segment holds.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use lightning_core_storage::vfs::{FileHandle, OpenMode, Vfs};

use crate::{
    error::Result,
    format::{SegmentHeader, parse_segment_file_name, segment_file_name},
};

/// The path of segment `number` in `dir`.
pub(crate) fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(segment_file_name(number))
}

/// The segment numbers present in `dir`, ascending; other files are ignored.
pub(crate) fn list_segments(vfs: &dyn Vfs, dir: &Path) -> Result<Vec<u64>> {
    let mut numbers: Vec<u64> =
        vfs.list(dir)?.iter().filter_map(|name| parse_segment_file_name(name)).collect();
    numbers.sort_unstable();
    Ok(numbers)
}

/// Creates a segment durably: create the file, write its header, sync the file, sync the
/// directory. Only then may records go into it.
pub(crate) fn create_segment(
    vfs: &dyn Vfs,
    dir: &Path,
    header: &SegmentHeader,
) -> Result<FileHandle> {
    let file = vfs.open(&segment_path(dir, header.number), OpenMode::CreateNew)?;
    file.write_all_at(&header.encode(), 0)?;
    file.sync_data()?;
    vfs.sync_dir(dir)?;
    Ok(file)
}

/// Removes a segment and syncs the directory, so removals become durable in the order made.
pub(crate) fn remove_segment(vfs: &dyn Vfs, dir: &Path, number: u64) -> Result<()> {
    vfs.remove(&segment_path(dir, number))?;
    vfs.sync_dir(dir)?;
    Ok(())
}

/// What the log knows of one segment without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentMeta {
    pub(crate) number: u64,
    pub(crate) first_lsn: u64,
    pub(crate) continues: bool,
}

impl From<SegmentHeader> for SegmentMeta {
    fn from(header: SegmentHeader) -> Self {
        SegmentMeta {
            number: header.number,
            first_lsn: header.first_lsn,
            continues: header.continues,
        }
    }
}

/// The segments on disk, by number. The largest is the active one (being written).
#[derive(Debug, Default)]
pub(crate) struct SegmentIndex {
    segments: BTreeMap<u64, SegmentMeta>,
}

impl SegmentIndex {
    pub(crate) fn insert(&mut self, meta: SegmentMeta) {
        self.segments.insert(meta.number, meta);
    }

    pub(crate) fn remove(&mut self, number: u64) {
        self.segments.remove(&number);
    }

    pub(crate) fn len(&self) -> usize {
        self.segments.len()
    }

    pub(crate) fn active(&self) -> Option<u64> {
        self.segments.keys().next_back().copied()
    }

    /// All segments up to and including `last`, ascending.
    pub(crate) fn up_to(&self, last: u64) -> Vec<SegmentMeta> {
        self.segments.range(..=last).map(|(_, meta)| *meta).collect()
    }

    /// The largest LSN any fragment of segment `number` can hold, known once its successor
    /// exists: the successor's first LSN, less one unless the successor continues a record.
    pub(crate) fn max_lsn(&self, number: u64) -> Option<u64> {
        let next = self.segments.get(&number.checked_add(1)?)?;
        Some(if next.continues { next.first_lsn } else { next.first_lsn - 1 })
    }

    /// The segments `truncate_before(lsn)` deletes, oldest first: each holds only records
    /// below `lsn`, all of them durable (`<= durable_lsn`). Never the active segment; stops at
    /// the first segment that must stay, so what is left is contiguous.
    pub(crate) fn removable(&self, lsn: u64, durable_lsn: u64) -> Vec<u64> {
        let active = self.active();
        let mut out = Vec::new();
        for &number in self.segments.keys() {
            if Some(number) == active {
                break;
            }
            match self.max_lsn(number) {
                Some(max) if max < lsn && max <= durable_lsn => out.push(number),
                _ => break,
            }
        }
        out
    }

    /// The LSN of the oldest record whose start is still on disk: the first segment's first
    /// LSN, or the one after it when that segment opens with the tail of an older record.
    /// `None` for an empty index.
    pub(crate) fn oldest_lsn(&self) -> Option<u64> {
        let (_, first) = self.segments.first_key_value()?;
        Some(first.first_lsn + u64::from(first.continues))
    }

    /// The first segment that can hold a record with LSN `>= from`.
    pub(crate) fn replay_start(&self, from: u64) -> Option<u64> {
        let mut start = None;
        for &number in self.segments.keys() {
            start.get_or_insert(number);
            match self.max_lsn(number) {
                Some(max) if max < from => start = Some(number + 1),
                _ => break,
            }
        }
        start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(metas: &[(u64, u64, bool)]) -> SegmentIndex {
        let mut index = SegmentIndex::default();
        for &(number, first_lsn, continues) in metas {
            index.insert(SegmentMeta { number, first_lsn, continues });
        }
        index
    }

    #[test]
    fn max_lsn_counts_a_record_continued_into_the_next_segment() {
        let idx = index(&[(1, 1, false), (2, 11, false), (3, 20, true), (4, 30, false)]);
        assert_eq!(idx.max_lsn(1), Some(10));
        assert_eq!(idx.max_lsn(2), Some(20), "record 20 starts in 2 and continues into 3");
        assert_eq!(idx.max_lsn(3), Some(29));
        assert_eq!(idx.max_lsn(4), None, "the active segment is open-ended");
        assert_eq!(idx.active(), Some(4));
    }

    #[test]
    fn removable_segments_are_wholly_below_and_durable_never_active() {
        let idx = index(&[(1, 1, false), (2, 11, false), (3, 20, true), (4, 30, false)]);
        assert_eq!(idx.removable(10, 100), Vec::<u64>::new(), "segment 1 holds record 10");
        assert_eq!(idx.removable(11, 100), vec![1]);
        assert_eq!(idx.removable(20, 100), vec![1], "segment 2 holds part of record 20");
        assert_eq!(idx.removable(21, 100), vec![1, 2]);
        assert_eq!(idx.removable(1000, 100), vec![1, 2, 3], "never the active one");
        assert_eq!(idx.removable(1000, 15), vec![1], "not while records are not durable");
    }

    #[test]
    fn replay_starts_at_the_first_segment_that_can_hold_the_lsn() {
        let idx = index(&[(1, 1, false), (2, 11, false), (3, 20, true), (4, 30, false)]);
        assert_eq!(idx.replay_start(1), Some(1));
        assert_eq!(idx.replay_start(10), Some(1));
        assert_eq!(idx.replay_start(11), Some(2));
        assert_eq!(idx.replay_start(20), Some(2));
        assert_eq!(idx.replay_start(21), Some(3));
        assert_eq!(idx.replay_start(500), Some(4));
        assert_eq!(SegmentIndex::default().replay_start(1), None);
    }

    #[test]
    fn oldest_lsn_skips_a_record_continued_from_a_removed_segment() {
        assert_eq!(index(&[(3, 20, true), (4, 30, false)]).oldest_lsn(), Some(21));
        assert_eq!(index(&[(4, 30, false)]).oldest_lsn(), Some(30));
        assert_eq!(SegmentIndex::default().oldest_lsn(), None);
    }
}

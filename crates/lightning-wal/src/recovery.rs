//! Opening a log: scan every segment, find where the good log ends, judge the damage by the
//! [`RecoveryMode`], and repair the files so new appends follow the last good record.
//!
//! Rules (also in `docs/format/wal.md`):
//! - a segment other than the last must have a valid header (number and first LSN continuing
//!   its predecessor), valid fragments in LSN order, and end with an `End` fragment;
//! - in the last segment, the first slot that is not a valid fragment ends the log. It is a
//!   *torn tail* (never acknowledged) if it is cut off by the end of the file, or is zeroed
//!   space or a damaged fragment that no later `Synced` fragment proves fsynced (whatever
//!   follows: a crash may persist a later part of an unsynced write and not an earlier one);
//!   it is mid-log corruption if a later `Synced` fragment proves the records it should hold
//!   were fsynced (a cleanly closed log ends with one), or, in a version-1 segment (no such
//!   fragments), if a damaged fragment is followed by a valid one. A record left incomplete at
//!   the end of the log is a torn tail too;
//! - a missing segment number, a header that does not continue its predecessor, or a valid
//!   fragment out of sequence is mid-log corruption.

use std::path::Path;

use lightning_core_storage::vfs::{OpenMode, Vfs};

use crate::{
    encoder::Position,
    error::{Error, Result},
    format::{FormatVersion, FragmentType, SEGMENT_HEADER_LEN},
    options::RecoveryMode,
    reader::{SegmentReader, Slot},
    segment::{SegmentMeta, remove_segment, segment_path},
};

/// Damage found by a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Damage {
    pub(crate) segment: u64,
    pub(crate) offset: u64,
    pub(crate) what: String,
    /// True for a torn tail (only the unacknowledged end of the log is affected).
    pub(crate) tail: bool,
}

impl Damage {
    fn into_error(self, mode: RecoveryMode) -> Error {
        let kind = if self.tail { "torn or damaged tail" } else { "damage before the tail" };
        Error::corruption(self.segment, self.offset, format!("{kind}: {} ({mode:?})", self.what))
    }
}

/// What a scan found.
#[derive(Debug)]
pub(crate) struct Scan {
    /// Segments up to the one holding `clean_end`, with valid headers.
    pub(crate) segments: Vec<SegmentMeta>,
    /// Just after the last complete record (or the header of a segment no record is in progress
    /// across); `None` if no segment is usable.
    pub(crate) clean_end: Option<Position>,
    /// The LSN the next record gets.
    pub(crate) next_lsn: u64,
    /// The first damage, if any; scanning stopped there.
    pub(crate) damage: Option<Damage>,
}

/// A record whose fragments are being followed.
#[derive(Debug, Clone, Copy)]
struct InProgress {
    lsn: u64,
    /// Where its first fragment is (the segment's header end if it began in a removed one).
    start: Position,
}

/// The walk through the segments.
#[derive(Debug)]
struct Scanner {
    segments: Vec<SegmentMeta>,
    clean_end: Option<Position>,
    next_lsn: u64,
    in_progress: Option<InProgress>,
    /// What the next segment's header must say, from the previous `End` fragment.
    expect: Option<(u64, u64, bool)>,
}

enum Walk {
    /// The segment ended with an `End` fragment at this offset.
    Sealed,
    /// The log ends here (end of file or zeroed space) with nothing wrong.
    Clean(u64),
    /// Zeroed space followed by data at this offset.
    Zeroed(u64),
    /// Something is wrong at this offset.
    Bad(u64, String, bool),
}

fn mid(segment: u64, offset: u64, what: impl Into<String>) -> Damage {
    Damage { segment, offset, what: what.into(), tail: false }
}

fn tail(segment: u64, offset: u64, what: impl Into<String>) -> Damage {
    Damage { segment, offset, what: what.into(), tail: true }
}

/// Scans the segments `numbers` (ascending) of `dir`.
pub(crate) fn scan(vfs: &dyn Vfs, dir: &Path, numbers: &[u64]) -> Result<Scan> {
    let mut scanner = Scanner {
        segments: Vec::new(),
        clean_end: None,
        next_lsn: 1,
        in_progress: None,
        expect: None,
    };
    let damage = scanner.run(vfs, dir, numbers)?;
    Ok(Scan {
        segments: scanner.segments,
        clean_end: scanner.clean_end,
        next_lsn: scanner.next_lsn,
        damage,
    })
}

impl Scanner {
    fn run(&mut self, vfs: &dyn Vfs, dir: &Path, numbers: &[u64]) -> Result<Option<Damage>> {
        for (i, &number) in numbers.iter().enumerate() {
            let last = i + 1 == numbers.len();
            if i > 0 && numbers[i - 1].checked_add(1) != Some(number) {
                let what = format!("segment {} is missing", numbers[i - 1] + 1);
                return Ok(Some(mid(number, 0, what)));
            }
            let file = vfs.open(&segment_path(dir, number), OpenMode::Read)?;
            let mut reader = SegmentReader::new(file, number)?;
            if let Some(damage) = self.header(&mut reader, number, i == 0, last)? {
                return Ok(Some(damage));
            }
            let walk = self.walk(&mut reader, number)?;
            if !last {
                let (offset, what) = match walk {
                    Walk::Sealed => continue,
                    Walk::Clean(offset) => {
                        (offset, "segment is not sealed, yet a later segment exists".to_owned())
                    }
                    Walk::Zeroed(offset) => {
                        (offset, "zeroed space in a segment a later one follows".to_owned())
                    }
                    Walk::Bad(offset, what, _) => (offset, what),
                };
                return Ok(Some(mid(number, offset, what)));
            }
            match walk {
                Walk::Sealed | Walk::Clean(_) => {}
                Walk::Zeroed(offset) => {
                    if !reader.zero_from(offset)? {
                        let gap_lsn = self.gap_lsn();
                        if let Some((at, synced)) = reader.sync_mark_after(offset, gap_lsn)? {
                            let what = format!(
                                "zeroed space where record {gap_lsn} belongs, yet a write at \
                                 offset {at} records every record up to {synced} as fsynced: \
                                 synced data was lost"
                            );
                            return Ok(Some(mid(number, offset, what)));
                        }
                        let what = "unwritten space followed by data (unsynced writes reordered)";
                        return Ok(Some(tail(number, offset, what)));
                    }
                }
                Walk::Bad(offset, what, false) => return Ok(Some(mid(number, offset, what))),
                Walk::Bad(offset, what, true) => {
                    return damaged_then_data(&mut reader, number, offset, what, self.gap_lsn());
                }
            }
            if let Some(progress) = self.in_progress {
                let what = format!("record {} is incomplete at the end of the log", progress.lsn);
                let at = progress.start;
                return Ok(Some(tail(at.segment, at.offset, what)));
            }
        }
        Ok(None)
    }

    /// The LSN of the record the slot where the log stopped belongs to.
    fn gap_lsn(&self) -> u64 {
        self.in_progress.map_or(self.next_lsn, |p| p.lsn)
    }

    /// Checks segment `number`'s header. REQUIRES: called once per segment, in order.
    fn header(
        &mut self,
        reader: &mut SegmentReader,
        number: u64,
        first: bool,
        last: bool,
    ) -> Result<Option<Damage>> {
        let header = match reader.header()? {
            Ok(header) => header,
            Err(why) => {
                let unwritten = reader.len() < SEGMENT_HEADER_LEN as u64 || reader.zero_from(0)?;
                let fresh = first && number == 1;
                return Ok(Some(if last && unwritten && (!first || fresh) {
                    tail(number, 0, format!("segment creation did not complete: {why}"))
                } else {
                    mid(number, 0, why)
                }));
            }
        };
        if header.number != number {
            return Ok(Some(mid(number, 0, format!("header names segment {}", header.number))));
        }
        match self.expect {
            None if first => {
                self.next_lsn = header.first_lsn;
                if header.continues {
                    // The record's start was truncated away: follow it without keeping it.
                    let start = Position { segment: number, offset: SEGMENT_HEADER_LEN as u64 };
                    self.in_progress = Some(InProgress { lsn: header.first_lsn, start });
                    self.next_lsn = header.first_lsn + 1;
                }
            }
            Some((n, lsn, continues))
                if n == number && lsn == header.first_lsn && continues == header.continues => {}
            _ => {
                let what = format!(
                    "header (first LSN {}, continues {}) does not follow the previous segment",
                    header.first_lsn, header.continues
                );
                return Ok(Some(mid(number, 0, what)));
            }
        }
        self.segments.push(SegmentMeta::from(header));
        if self.in_progress.is_none() {
            self.clean_end = Some(Position { segment: number, offset: SEGMENT_HEADER_LEN as u64 });
        }
        Ok(None)
    }

    /// Follows the fragments of one segment.
    fn walk(&mut self, reader: &mut SegmentReader, number: u64) -> Result<Walk> {
        let mut offset = SEGMENT_HEADER_LEN as u64;
        let len = reader.len();
        let marks_allowed = reader.version()?.is_some_and(FormatVersion::has_sync_marks);
        // Bounded: every fragment advances the offset by at least its header.
        for _ in 0..=len / 24 + 1 {
            let fragment = match reader.slot(offset, len, None)? {
                Slot::Fragment(fragment) => fragment,
                Slot::End => return Ok(Walk::Clean(offset)),
                Slot::Zeroed => return Ok(Walk::Zeroed(offset)),
                Slot::Truncated(why) | Slot::Damaged(why) => {
                    return Ok(Walk::Bad(offset, why, true));
                }
            };
            let progress = self.in_progress.map(|p| p.lsn);
            let in_sequence = match fragment.kind {
                FragmentType::Full | FragmentType::First => {
                    progress.is_none() && fragment.lsn == self.next_lsn
                }
                FragmentType::Middle | FragmentType::Last => progress == Some(fragment.lsn),
                FragmentType::End => fragment.lsn == progress.unwrap_or(self.next_lsn),
                FragmentType::Synced => {
                    marks_allowed && progress.is_none() && fragment.lsn == self.next_lsn
                }
            };
            if !in_sequence {
                let what = format!(
                    "{:?} fragment with LSN {} out of sequence (next LSN {}, in progress {progress:?})",
                    fragment.kind, fragment.lsn, self.next_lsn
                );
                return Ok(Walk::Bad(offset, what, false));
            }
            match fragment.kind {
                FragmentType::Full | FragmentType::Last => {
                    self.in_progress = None;
                    self.next_lsn = fragment.lsn + 1;
                    self.clean_end = Some(Position { segment: number, offset: fragment.next });
                }
                FragmentType::First => {
                    let start = Position { segment: number, offset };
                    self.in_progress = Some(InProgress { lsn: fragment.lsn, start });
                }
                FragmentType::Middle | FragmentType::Synced => {}
                FragmentType::End => {
                    self.expect = Some((number + 1, fragment.lsn, self.in_progress.is_some()));
                    return Ok(Walk::Sealed);
                }
            }
            offset = fragment.next;
        }
        Ok(Walk::Bad(offset, "more fragments than the segment can hold".into(), false))
    }
}

/// Judges a damaged fragment at `offset` of the last segment `number`, where record `gap_lsn`
/// belongs (rule 4 of `docs/format/wal.md`): with no valid fragment after it, a torn tail;
/// with one, damage before the tail if a later `Synced` fragment proves the record was fsynced
/// (or the segment is version 1, which has no such fragments to tell), else a torn tail too —
/// a crash that persisted a later part of one unsynced write but not an earlier part (nothing
/// in it was acknowledged as durable).
fn damaged_then_data(
    reader: &mut SegmentReader,
    number: u64,
    offset: u64,
    what: String,
    gap_lsn: u64,
) -> Result<Option<Damage>> {
    let Some(at) = reader.valid_fragment_after(offset, gap_lsn)? else {
        return Ok(Some(tail(number, offset, what)));
    };
    if !reader.version()?.is_some_and(FormatVersion::has_sync_marks) {
        return Ok(Some(mid(number, offset, format!("{what}; a valid fragment follows at {at}"))));
    }
    Ok(Some(match reader.sync_mark_after(offset, gap_lsn)? {
        Some((mark, synced)) => mid(
            number,
            offset,
            format!(
                "{what} where record {gap_lsn} belongs, yet a write at offset {mark} records \
                 every record up to {synced} as fsynced: synced data is damaged"
            ),
        ),
        None => tail(
            number,
            offset,
            format!(
                "{what}; valid data follows at {at}, but nothing proves record {gap_lsn} was \
                 fsynced (an unsynced write torn or reordered by a crash)"
            ),
        ),
    }))
}

/// Applies the recovery mode: `Ok` if the log may open (after [`repair`]), else the error.
pub(crate) fn judge(damage: Option<&Damage>, mode: RecoveryMode) -> Result<()> {
    let accepted = match (damage, mode) {
        (None, _) => return Ok(()),
        (Some(d), RecoveryMode::PointInTime) => d,
        (Some(d), RecoveryMode::TolerateCorruptedTail) if d.tail => d,
        (Some(d), _) => return Err(d.clone().into_error(mode)),
    };
    tracing::warn!(
        segment = accepted.segment,
        offset = accepted.offset,
        torn_tail = accepted.tail,
        mode = ?mode,
        what = %accepted.what,
        "write-ahead log damage accepted by the recovery mode; the log is cut back to the last \
         good record"
    );
    Ok(())
}

/// Cuts the log back to `scan.clean_end`: removes every later segment (newest first, each
/// removal made durable before the next), then truncates the segment holding the clean end and
/// syncs it. Crash-safe: an interrupted repair leaves a log the same scan repairs again.
pub(crate) fn repair(vfs: &dyn Vfs, dir: &Path, numbers: &[u64], scan: &Scan) -> Result<()> {
    let keep = scan.clean_end.map(|end| end.segment);
    for &number in numbers.iter().rev() {
        if keep.is_none_or(|keep| number > keep) {
            let bytes = vfs.open(&segment_path(dir, number), OpenMode::Read)?.len()?;
            remove_segment(vfs, dir, number)?;
            tracing::warn!(
                segment = number,
                bytes,
                "removed a write-ahead log segment past the last good record"
            );
        }
    }
    if let Some(end) = scan.clean_end {
        let file = vfs.open(&segment_path(dir, end.segment), OpenMode::ReadWrite)?;
        let len = file.len()?;
        if len != end.offset {
            file.set_len(end.offset)?;
            file.sync_data()?;
            let bytes = len.saturating_sub(end.offset);
            if scan.damage.is_some() {
                tracing::warn!(
                    segment = end.segment,
                    offset = end.offset,
                    bytes,
                    "cut the write-ahead log's tail after the last good record"
                );
            } else {
                // Only never-written (preallocated) space follows the records.
                tracing::debug!(segment = end.segment, offset = end.offset, bytes, "trimmed");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use lightning_core_storage::vfs::FaultFs;

    use super::*;

    #[test]
    fn the_modes_accept_what_they_promise() {
        let torn = tail(3, 100, "cut off");
        let broken = mid(2, 64, "checksum mismatch");
        use RecoveryMode::*;
        for mode in [AbsoluteConsistency, TolerateCorruptedTail, PointInTime] {
            assert!(judge(None, mode).is_ok(), "{mode:?} opens an undamaged log");
        }
        assert!(judge(Some(&torn), AbsoluteConsistency).is_err());
        assert!(judge(Some(&torn), TolerateCorruptedTail).is_ok());
        assert!(judge(Some(&torn), PointInTime).is_ok());
        let err = judge(Some(&broken), TolerateCorruptedTail).unwrap_err();
        assert!(matches!(err, Error::Corruption { segment: 2, offset: 64, .. }), "{err}");
        assert!(err.to_string().contains("before the tail"), "{err}");
        assert!(judge(Some(&broken), PointInTime).is_ok());
    }

    #[test]
    fn an_empty_directory_scans_to_a_fresh_log() {
        let fs = FaultFs::new();
        let scan = scan(&fs, Path::new("/wal"), &[]).unwrap();
        assert_eq!((scan.next_lsn, scan.clean_end, scan.damage), (1, None, None));
        assert!(scan.segments.is_empty());
    }
}

//! [`WalIter`]: the records of a log snapshot, in LSN order, each checked and decoded.
//!
//! A replay reads the segments as they were when it started, up to the end of what was written
//! then. Inside that range nothing may be wrong: any bad fragment, missing end marker, header
//! that does not continue its predecessor or LSN out of sequence is [`Error::Corruption`] with
//! the segment and offset (open has already dealt with torn tails by the recovery mode).

use std::{path::PathBuf, sync::Arc};

use lightning_core_storage::{
    Lsn,
    vfs::{OpenMode, Vfs},
};
use lightning_security::DataKey;

use crate::{
    encoder::Position,
    error::{Error, Result},
    format::{FRAGMENT_HEADER_LEN, FragmentType, SEGMENT_HEADER_LEN},
    reader::{SegmentReader, Slot},
    segment::{SegmentMeta, segment_path},
    transform::{MAX_STORED_LEN, decode},
};

/// One record of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalRecord {
    /// Its log sequence number.
    pub lsn: Lsn,
    /// The bytes given to `append`.
    pub payload: Vec<u8>,
}

/// A record whose fragments are being collected.
#[derive(Debug)]
struct Partial {
    lsn: u64,
    flags: u8,
    /// Where its first fragment is (bound into encryption's associated data).
    start: Position,
    data: Vec<u8>,
    /// Its start was truncated away: follow its fragments, never yield it.
    orphan: bool,
}

/// The segment being read.
#[derive(Debug)]
struct Current {
    reader: SegmentReader,
    meta: SegmentMeta,
    offset: u64,
    limit: u64,
}

/// An iterator over the records with LSN `>= from` of a log snapshot. Yields an error at most
/// once, then ends.
#[derive(Debug)]
pub struct WalIter {
    vfs: Arc<dyn Vfs>,
    dir: PathBuf,
    /// Segments still to open, in reverse order (the next one is last).
    pending: Vec<SegmentMeta>,
    end: Position,
    from: u64,
    key: Option<DataKey>,
    current: Option<Current>,
    partial: Option<Partial>,
    /// The LSN the next record must have (`None` until the first header says).
    expect_lsn: Option<u64>,
    /// What the next header must say (first LSN, continues), from the last end marker.
    expect_header: Option<(u64, bool)>,
    /// Fragments left to read before giving up: a bound derived from the file lengths.
    budget: u64,
    done: bool,
}

impl WalIter {
    pub(crate) fn new(
        vfs: Arc<dyn Vfs>,
        dir: PathBuf,
        mut segments: Vec<SegmentMeta>,
        end: Position,
        from: u64,
        key: Option<DataKey>,
    ) -> Self {
        segments.reverse();
        WalIter {
            vfs,
            dir,
            pending: segments,
            end,
            from,
            key,
            current: None,
            partial: None,
            expect_lsn: None,
            expect_header: None,
            budget: 0,
            done: false,
        }
    }

    /// Opens the next segment; false at the end of the snapshot.
    fn open_next(&mut self) -> Result<bool> {
        let Some(meta) = self.pending.pop() else {
            return Ok(false);
        };
        let file = self.vfs.open(&segment_path(&self.dir, meta.number), OpenMode::Read)?;
        let mut reader = SegmentReader::new(file, meta.number)?;
        let header = reader.header()?.map_err(|why| Error::corruption(meta.number, 0, why))?;
        if SegmentMeta::from(header) != meta {
            return Err(Error::corruption(meta.number, 0, "header changed while the log was open"));
        }
        match self.expect_header {
            Some(expected) if expected != (header.first_lsn, header.continues) => {
                return Err(Error::corruption(
                    meta.number,
                    0,
                    "header does not follow the end marker",
                ));
            }
            Some(_) => {}
            None => {
                // The first segment of the replay: a record continued from before is skipped.
                self.expect_lsn = Some(header.first_lsn + u64::from(header.continues));
                if header.continues {
                    let start =
                        Position { segment: meta.number, offset: SEGMENT_HEADER_LEN as u64 };
                    let lsn = header.first_lsn;
                    let data = Vec::new();
                    self.partial = Some(Partial { lsn, flags: 0, start, data, orphan: true });
                }
            }
        }
        let limit = if meta.number == self.end.segment { self.end.offset } else { reader.len() };
        self.budget += limit / FRAGMENT_HEADER_LEN as u64 + 2;
        let offset = SEGMENT_HEADER_LEN as u64;
        self.current = Some(Current { reader, meta, offset, limit });
        Ok(true)
    }

    /// Reads until a record with LSN `>= from` is complete, or the snapshot ends.
    fn advance(&mut self) -> Result<Option<WalRecord>> {
        // Bounded by `budget`: every pass reads one fragment or opens one segment.
        loop {
            let Some(current) = self.current.as_mut() else {
                if !self.open_next()? {
                    return Ok(None);
                }
                continue;
            };
            self.budget = self.budget.checked_sub(1).ok_or_else(|| {
                Error::corruption(current.meta.number, current.offset, "more fragments than bytes")
            })?;
            let (number, offset) = (current.meta.number, current.offset);
            let at = Position { segment: number, offset };
            let skip = self.partial.as_ref().is_some_and(|p| p.orphan || p.lsn < self.from);
            let mut scratch = Vec::new();
            let sink = match self.partial.as_mut() {
                Some(partial) if !skip => &mut partial.data,
                _ => &mut scratch,
            };
            let fragment = match current.reader.slot(offset, current.limit, Some(sink))? {
                Slot::Fragment(fragment) => fragment,
                Slot::End if number == self.end.segment && offset == self.end.offset => {
                    if let Some(partial) = &self.partial {
                        let what = format!("record {} is incomplete at the end", partial.lsn);
                        return Err(Error::corruption(number, offset, what));
                    }
                    return Ok(None);
                }
                Slot::End => {
                    let what = "segment ends before its end marker or the written end";
                    return Err(Error::corruption(number, offset, what));
                }
                Slot::Zeroed => return Err(Error::corruption(number, offset, "zeroed space")),
                Slot::Truncated(why) | Slot::Damaged(why) => {
                    return Err(Error::corruption(number, offset, why));
                }
            };
            current.offset = fragment.next;
            let out_of_sequence = || {
                let what = format!(
                    "{:?} fragment with LSN {} out of sequence",
                    fragment.kind, fragment.lsn
                );
                Error::corruption(number, offset, what)
            };
            match fragment.kind {
                FragmentType::Full | FragmentType::First => {
                    if self.partial.is_some() || self.expect_lsn != Some(fragment.lsn) {
                        return Err(out_of_sequence());
                    }
                    let (lsn, flags) = (fragment.lsn, fragment.flags);
                    let partial = Partial { lsn, flags, start: at, data: scratch, orphan: false };
                    if fragment.kind == FragmentType::First {
                        self.partial = Some(partial);
                        continue;
                    }
                    self.expect_lsn = Some(lsn + 1);
                    if let Some(record) = self.finish(partial)? {
                        return Ok(Some(record));
                    }
                }
                FragmentType::Middle | FragmentType::Last => {
                    let Some(partial) = self.partial.as_ref() else {
                        return Err(out_of_sequence());
                    };
                    if partial.lsn != fragment.lsn || (!skip && partial.flags != fragment.flags) {
                        return Err(out_of_sequence());
                    }
                    if partial.data.len() > MAX_STORED_LEN {
                        return Err(Error::corruption(
                            number,
                            offset,
                            "record longer than the limit",
                        ));
                    }
                    if fragment.kind == FragmentType::Last {
                        let partial = self.partial.take().expect("checked above");
                        self.expect_lsn = Some(partial.lsn + 1);
                        if let Some(record) = self.finish(partial)? {
                            return Ok(Some(record));
                        }
                    }
                }
                FragmentType::Synced => {
                    if self.partial.is_some() || self.expect_lsn != Some(fragment.lsn) {
                        return Err(out_of_sequence());
                    }
                }
                FragmentType::End => {
                    let next = self.partial.as_ref().map_or(self.expect_lsn, |p| Some(p.lsn));
                    if next != Some(fragment.lsn) || number >= self.end.segment {
                        return Err(out_of_sequence());
                    }
                    self.expect_header = Some((fragment.lsn, self.partial.is_some()));
                    self.current = None;
                }
            }
        }
    }

    /// Decodes a complete record, or `None` if it is below `from`.
    fn finish(&self, partial: Partial) -> Result<Option<WalRecord>> {
        if partial.orphan || partial.lsn < self.from {
            return Ok(None);
        }
        let Partial { lsn, flags, start, data, .. } = partial;
        let payload = decode(self.key.as_ref(), flags, data, start.segment, start.offset, lsn)?;
        Ok(Some(WalRecord { lsn: Lsn(lsn), payload }))
    }
}

impl Iterator for WalIter {
    type Item = Result<WalRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.advance() {
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }
}

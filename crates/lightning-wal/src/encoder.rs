//! Lays records out as fragments at their final place in the log, in memory.
//!
//! Appenders encode under the log's state lock, so every record gets its LSN and its position
//! (segment, offset) in one step and the bytes are final: the group-commit leader only copies
//! the pending [`Chunk`]s to their files. When a segment is full the encoder seals it with an
//! `End` fragment and opens the next one *logically*: the chunk for the new segment carries the
//! header the leader must create it with.
//!
//! Before the first record encoded after the log became durable further than the last mark
//! said, the encoder puts a `Synced` fragment recording that durable LSN (only in segments of
//! a version that has them). Recovery uses it to tell a gap in synced data (corruption) from a
//! torn unsynced tail.

use crate::format::{
    FRAGMENT_HEADER_LEN, FragmentType, SEGMENT_HEADER_LEN, SYNCED_FRAGMENT_LEN, SegmentHeader,
    encode_fragment,
};

/// A place in the log: a segment and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Position {
    pub(crate) segment: u64,
    pub(crate) offset: u64,
}

/// Bytes to write at `offset` of `segment`, after creating the segment if `create` says so.
#[derive(Debug)]
pub(crate) struct Chunk {
    pub(crate) segment: u64,
    pub(crate) offset: u64,
    pub(crate) create: Option<SegmentHeader>,
    pub(crate) bytes: Vec<u8>,
}

/// Everything encoded since the last [`Encoder::take`].
#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) chunks: Vec<Chunk>,
    /// The last LSN encoded so far (whole records only).
    pub(crate) last_lsn: u64,
    /// Where the log ends after the batch.
    pub(crate) end: Position,
}

/// The logical tail of the log and the bytes not yet handed to a leader.
#[derive(Debug)]
pub(crate) struct Encoder {
    segment_size: u64,
    tail: Position,
    next_lsn: u64,
    chunks: Vec<Chunk>,
    pending_bytes: usize,
    /// Every record up to this LSN is durable (as last told by [`Encoder::note_durable`]).
    durable_lsn: u64,
    /// The durable LSN the last `Synced` fragment recorded.
    marked_lsn: u64,
    /// The tail segment's version has `Synced` fragments (false in a version-1 segment kept
    /// from an older build; every segment this encoder starts has them).
    marks: bool,
}

/// The longest payload one fragment carries.
const MAX_FRAGMENT_PAYLOAD: u64 = u32::MAX as u64;

impl Encoder {
    /// An encoder whose next record goes at `tail` with LSN `next_lsn`.
    pub(crate) fn new(segment_size: u64, tail: Position, next_lsn: u64) -> Self {
        debug_assert!(tail.offset >= SEGMENT_HEADER_LEN as u64, "the tail is past the header");
        debug_assert!(next_lsn >= 1, "LSNs start at 1");
        Encoder {
            segment_size,
            tail,
            next_lsn,
            chunks: Vec::new(),
            pending_bytes: 0,
            durable_lsn: 0,
            marked_lsn: 0,
            marks: true,
        }
    }

    /// Whether the tail segment may hold `Synced` fragments (false for a version-1 segment).
    pub(crate) fn with_sync_marks(mut self, marks: bool) -> Self {
        self.marks = marks;
        self
    }

    /// Every record up to `lsn` is durable: the next record will be preceded by a `Synced`
    /// fragment saying so.
    pub(crate) fn note_durable(&mut self, lsn: u64) {
        self.durable_lsn = self.durable_lsn.max(lsn);
    }

    /// The durable LSN a `Synced` fragment before the next record would record, if one is due.
    fn mark_due(&self) -> Option<u64> {
        (self.marks && self.durable_lsn > self.marked_lsn).then_some(self.durable_lsn)
    }

    pub(crate) fn next_lsn(&self) -> u64 {
        self.next_lsn
    }

    pub(crate) fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// The last offset a fragment may reach: room for the `End` fragment is always kept.
    fn limit(&self) -> u64 {
        self.segment_size - FRAGMENT_HEADER_LEN as u64
    }

    fn room(&self) -> u64 {
        self.limit().saturating_sub(self.tail.offset)
    }

    /// Where the next record's first fragment goes (its position is bound into encryption's
    /// associated data): rolls to a new segment first if not even a fragment header and one
    /// payload byte (none for an empty payload) fit.
    pub(crate) fn start_record(&mut self, stored_len: usize) -> Position {
        let mark_len = if self.mark_due().is_some() { SYNCED_FRAGMENT_LEN } else { 0 };
        let need = (mark_len + FRAGMENT_HEADER_LEN + stored_len.min(1)) as u64;
        if self.room() < need {
            self.roll(false, self.next_lsn);
        }
        if let Some(durable) = self.mark_due() {
            self.emit(FragmentType::Synced, 0, self.next_lsn, &durable.to_le_bytes());
            self.marked_lsn = durable;
        }
        self.tail
    }

    /// Encodes a `Synced` fragment with no record after it, if one is due: written when the
    /// log closes cleanly, so that its end proves every record in it was fsynced (recovery
    /// then treats damage anywhere in them as corruption, not as a torn tail). Rolls to a new
    /// segment if it does not fit. Returns false if none was due.
    pub(crate) fn push_closing_mark(&mut self) -> bool {
        let Some(durable) = self.mark_due() else {
            return false;
        };
        if self.room() < SYNCED_FRAGMENT_LEN as u64 {
            self.roll(false, self.next_lsn);
        }
        self.emit(FragmentType::Synced, 0, self.next_lsn, &durable.to_le_bytes());
        self.marked_lsn = durable;
        true
    }

    /// Encodes one record with LSN `next_lsn()`, split into fragments as space requires.
    /// REQUIRES: [`Encoder::start_record`] was the last call, with this payload's length.
    pub(crate) fn push_record(&mut self, flags: u8, payload: &[u8]) -> u64 {
        let lsn = self.next_lsn;
        let mut rest = payload;
        let mut first = true;
        loop {
            if self.room() < (FRAGMENT_HEADER_LEN + rest.len().min(1)) as u64 {
                debug_assert!(!first, "start_record made room for the first fragment");
                self.roll(true, lsn);
            }
            let fits = (self.room() - FRAGMENT_HEADER_LEN as u64).min(MAX_FRAGMENT_PAYLOAD);
            let take = rest.len().min(usize::try_from(fits).unwrap_or(usize::MAX));
            let last = take == rest.len();
            let kind = match (first, last) {
                (true, true) => FragmentType::Full,
                (true, false) => FragmentType::First,
                (false, false) => FragmentType::Middle,
                (false, true) => FragmentType::Last,
            };
            self.emit(kind, flags, lsn, &rest[..take]);
            rest = &rest[take..];
            first = false;
            if last {
                break;
            }
        }
        self.next_lsn += 1;
        lsn
    }

    /// Seals the current segment and moves the tail to the start of the next one, whose first
    /// fragment will have LSN `first_lsn` (and continue a record if `continues`).
    fn roll(&mut self, continues: bool, first_lsn: u64) {
        self.emit(FragmentType::End, 0, first_lsn, &[]);
        let number = self.tail.segment + 1;
        let header = SegmentHeader { number, first_lsn, continues };
        self.tail = Position { segment: number, offset: SEGMENT_HEADER_LEN as u64 };
        self.marks = true; // a new segment is written in the current version
        self.chunks.push(Chunk {
            segment: number,
            offset: self.tail.offset,
            create: Some(header),
            bytes: Vec::new(),
        });
    }

    fn emit(&mut self, kind: FragmentType, flags: u8, lsn: u64, payload: &[u8]) {
        let tail = self.tail;
        let contiguous = self.chunks.last().is_some_and(|chunk| {
            chunk.segment == tail.segment && chunk.offset + chunk.bytes.len() as u64 == tail.offset
        });
        if !contiguous {
            self.chunks.push(Chunk {
                segment: tail.segment,
                offset: tail.offset,
                create: None,
                bytes: Vec::with_capacity(4096),
            });
        }
        let chunk = self.chunks.last_mut().expect("a chunk was just ensured");
        // One growth to the size needed, not a doubling chain copying a large record again.
        chunk.bytes.reserve(FRAGMENT_HEADER_LEN + payload.len());
        let before = chunk.bytes.len();
        encode_fragment(&mut chunk.bytes, tail.segment, kind, flags, lsn, payload);
        let written = chunk.bytes.len() - before;
        self.tail.offset += written as u64;
        self.pending_bytes += written;
    }

    /// Hands everything encoded so far to a leader.
    pub(crate) fn take(&mut self) -> Batch {
        let batch = Batch {
            chunks: std::mem::take(&mut self.chunks),
            last_lsn: self.next_lsn - 1,
            end: self.tail,
        };
        self.pending_bytes = 0;
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{FragmentHeader, verify_fragment};

    const SIZE: u64 = 512;

    /// Splits the chunk bytes back into (segment, offset, type, lsn, payload length).
    fn fragments(batch: &Batch) -> Vec<(u64, u64, FragmentType, u64, usize)> {
        let mut out = Vec::new();
        for chunk in &batch.chunks {
            let mut at = 0;
            while at < chunk.bytes.len() {
                let header: [u8; FRAGMENT_HEADER_LEN] =
                    chunk.bytes[at..at + FRAGMENT_HEADER_LEN].try_into().unwrap();
                let parsed = FragmentHeader::parse(&header);
                let len = parsed.length as usize;
                let payload =
                    &chunk.bytes[at + FRAGMENT_HEADER_LEN..at + FRAGMENT_HEADER_LEN + len];
                assert!(verify_fragment(chunk.segment, &header, payload));
                let kind = parsed.plausible_type().unwrap();
                out.push((chunk.segment, chunk.offset + at as u64, kind, parsed.lsn, len));
                at += FRAGMENT_HEADER_LEN + len;
            }
            assert!(chunk.offset + chunk.bytes.len() as u64 <= SIZE, "no chunk passes the size");
        }
        out
    }

    fn encoder() -> Encoder {
        Encoder::new(SIZE, Position { segment: 1, offset: SEGMENT_HEADER_LEN as u64 }, 1)
    }

    #[test]
    fn small_records_are_full_fragments_back_to_back() {
        let mut enc = encoder();
        for payload in [&b"a"[..], b"", b"bcd"] {
            enc.start_record(payload.len());
            enc.push_record(0, payload);
        }
        let batch = enc.take();
        assert_eq!(batch.last_lsn, 3);
        let frags = fragments(&batch);
        assert_eq!(frags.len(), 3);
        assert!(frags.iter().all(|f| f.2 == FragmentType::Full));
        assert_eq!(frags[1].1, 40 + 24 + 1, "the empty record follows the first");
        assert_eq!(batch.end, Position { segment: 1, offset: 40 + 24 * 3 + 4 });
        assert_eq!(enc.take().chunks.len(), 0, "take empties the encoder");
    }

    #[test]
    fn a_record_larger_than_a_segment_spans_sealed_segments() {
        let mut enc = encoder();
        let payload = vec![9u8; 1500];
        enc.start_record(payload.len());
        enc.push_record(0, &payload);
        let batch = enc.take();
        let frags = fragments(&batch);
        let kinds: Vec<FragmentType> = frags.iter().map(|f| f.2).collect();
        use FragmentType::*;
        assert_eq!(kinds[0], First);
        assert_eq!(*kinds.last().unwrap(), Last);
        assert!(kinds.iter().filter(|k| **k == End).count() >= 3, "{kinds:?}");
        let total: usize = frags.iter().filter(|f| f.2 != End).map(|f| f.4).sum();
        assert_eq!(total, 1500);
        let created: Vec<SegmentHeader> = batch.chunks.iter().filter_map(|c| c.create).collect();
        assert!(created.iter().all(|h| h.continues && h.first_lsn == 1));
        assert_eq!(created.len() as u64, batch.end.segment - 1);
        for (i, frag) in frags.iter().enumerate() {
            if frag.2 == End {
                assert_eq!(frag.1 + 24, SIZE, "a segment the record filled ends exactly full");
                assert_eq!(frags[i + 1].0, frag.0 + 1);
            }
        }
    }

    #[test]
    fn a_record_that_does_not_start_in_the_space_left_rolls_first() {
        let mut enc = encoder();
        let big = vec![1u8; (SIZE as usize) - 40 - 24 - 24 - 10];
        enc.start_record(big.len());
        enc.push_record(0, &big);
        let at = enc.start_record(5);
        assert_eq!(at, Position { segment: 2, offset: 40 }, "10 bytes hold no fragment: roll");
        let mut enc = encoder();
        let big = vec![1u8; (SIZE as usize) - 40 - 24 - 24 - 30];
        enc.start_record(big.len());
        enc.push_record(0, &big);
        let at = enc.start_record(20);
        assert_eq!(at, Position { segment: 1, offset: SIZE - 24 - 30 }, "30 bytes are room enough");
        enc.push_record(0, b"12345678901234567890");
        let at = enc.start_record(0);
        assert_eq!(at.segment, 2);
        let batch = enc.take();
        let header = batch.chunks.iter().find_map(|c| c.create).unwrap();
        assert_eq!(header, SegmentHeader { number: 2, first_lsn: 2, continues: true });
    }

    #[test]
    fn an_oversized_tail_from_a_larger_segment_size_rolls_immediately() {
        let mut enc = Encoder::new(SIZE, Position { segment: 4, offset: 10_000 }, 50);
        let at = enc.start_record(3);
        assert_eq!(at, Position { segment: 5, offset: 40 });
        enc.push_record(0, b"abc");
        let batch = enc.take();
        let frags = fragments_unbounded(&batch);
        assert_eq!(frags[0], (4, 10_000, FragmentType::End, 50));
        assert_eq!(
            batch.chunks[1].create,
            Some(SegmentHeader { number: 5, first_lsn: 50, continues: false })
        );
    }

    fn fragments_unbounded(batch: &Batch) -> Vec<(u64, u64, FragmentType, u64)> {
        let mut out = Vec::new();
        for chunk in &batch.chunks {
            let mut at = 0;
            while at < chunk.bytes.len() {
                let header: [u8; FRAGMENT_HEADER_LEN] =
                    chunk.bytes[at..at + FRAGMENT_HEADER_LEN].try_into().unwrap();
                let parsed = FragmentHeader::parse(&header);
                out.push((
                    chunk.segment,
                    chunk.offset + at as u64,
                    parsed.plausible_type().unwrap(),
                    parsed.lsn,
                ));
                at += FRAGMENT_HEADER_LEN + parsed.length as usize;
            }
        }
        out
    }
}

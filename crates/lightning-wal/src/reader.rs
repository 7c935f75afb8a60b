//! Reading fragments out of a segment file, through a window buffer, and saying exactly what
//! is at a given offset: a valid fragment, the end, never-written space, a cut-off fragment or
//! a damaged one. Recovery and replay decide what each means.

use lightning_core_storage::vfs::FileHandle;

use crate::{
    error::Result,
    format::{
        FRAGMENT_HEADER_LEN, FormatVersion, FragmentHeader, FragmentType, SEGMENT_HEADER_LEN,
        SYNCED_PAYLOAD_LEN, SegmentHeader, verify_fragment,
    },
};

/// How much a read fetches at once.
const WINDOW_BYTES: u64 = 256 << 10;

/// A valid fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fragment {
    pub(crate) kind: FragmentType,
    pub(crate) flags: u8,
    pub(crate) lsn: u64,
    pub(crate) length: u32,
    /// The offset just after it.
    pub(crate) next: u64,
    /// For a `Synced` fragment: the LSN up to which the log was durable when it was written.
    pub(crate) synced: Option<u64>,
}

/// What is at an offset of a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Slot {
    /// A fragment whose checks all pass.
    Fragment(Fragment),
    /// The offset is the end of the readable bytes.
    End,
    /// A header of zeros: space never written.
    Zeroed,
    /// Bytes stop before the header or the payload it announces is complete.
    Truncated(String),
    /// A complete fragment that fails its checks.
    Damaged(String),
}

/// Positional reads of one segment file through a window buffer.
#[derive(Debug)]
pub(crate) struct SegmentReader {
    file: FileHandle,
    number: u64,
    len: u64,
    buf: Vec<u8>,
    buf_start: u64,
}

impl SegmentReader {
    /// A reader of `file`, segment `number`, whose length is read now.
    pub(crate) fn new(file: FileHandle, number: u64) -> Result<Self> {
        let len = file.len()?;
        Ok(SegmentReader { file, number, len, buf: Vec::new(), buf_start: 0 })
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// `len` bytes at `offset`. REQUIRES: `offset + len <= self.len`.
    fn fetch(&mut self, offset: u64, len: usize) -> Result<&[u8]> {
        debug_assert!(offset + len as u64 <= self.len, "fetch within the file");
        let buf_end = self.buf_start + self.buf.len() as u64;
        if offset < self.buf_start || offset + len as u64 > buf_end {
            let want = (len as u64).max(WINDOW_BYTES).min(self.len - offset);
            self.buf.resize(want as usize, 0);
            self.file.read_exact_at(&mut self.buf, offset)?;
            self.buf_start = offset;
        }
        let at = (offset - self.buf_start) as usize;
        Ok(&self.buf[at..at + len])
    }

    /// The segment header, or what is wrong with it.
    pub(crate) fn header(&mut self) -> Result<std::result::Result<SegmentHeader, String>> {
        if self.len < SEGMENT_HEADER_LEN as u64 {
            return Ok(Err(format!("{} bytes is shorter than a segment header", self.len)));
        }
        let bytes = self.fetch(0, SEGMENT_HEADER_LEN)?;
        Ok(SegmentHeader::decode(bytes))
    }

    /// The format version of a segment whose header verified.
    pub(crate) fn version(&mut self) -> Result<Option<FormatVersion>> {
        if self.len < SEGMENT_HEADER_LEN as u64 {
            return Ok(None);
        }
        Ok(FormatVersion::of_header(self.fetch(0, SEGMENT_HEADER_LEN)?))
    }

    /// True if every byte from `offset` to the end of the file is zero.
    pub(crate) fn zero_from(&mut self, offset: u64) -> Result<bool> {
        let mut at = offset;
        // Bounded: each round advances by at least one byte, up to the file length.
        while at < self.len {
            let n = (self.len - at).min(WINDOW_BYTES) as usize;
            if self.fetch(at, n)?.iter().any(|b| *b != 0) {
                return Ok(false);
            }
            at += n as u64;
        }
        Ok(true)
    }

    /// What is at `offset`, reading no further than `limit` (at most the file length). The
    /// payload of a valid fragment is appended to `payload` if given.
    pub(crate) fn slot(
        &mut self,
        offset: u64,
        limit: u64,
        payload: Option<&mut Vec<u8>>,
    ) -> Result<Slot> {
        let limit = limit.min(self.len);
        if offset >= limit {
            return Ok(if offset == limit {
                Slot::End
            } else {
                Slot::Truncated(format!("offset {offset} is past the end {limit}"))
            });
        }
        if limit - offset < FRAGMENT_HEADER_LEN as u64 {
            let tail = self.fetch(offset, (limit - offset) as usize)?;
            return Ok(if tail.iter().all(|b| *b == 0) {
                Slot::Zeroed
            } else {
                Slot::Truncated(format!("{} bytes cannot hold a fragment header", limit - offset))
            });
        }
        let header: [u8; FRAGMENT_HEADER_LEN] =
            self.fetch(offset, FRAGMENT_HEADER_LEN)?.try_into().expect("header length");
        if header.iter().all(|b| *b == 0) {
            return Ok(Slot::Zeroed);
        }
        let parsed = FragmentHeader::parse(&header);
        let Some(kind) = parsed.plausible_type() else {
            return Ok(Slot::Damaged(format!(
                "malformed fragment header (type {}, flags {:#x}, reserved {}, lsn {})",
                parsed.type_byte, parsed.flags, parsed.reserved, parsed.lsn
            )));
        };
        let start = offset + FRAGMENT_HEADER_LEN as u64;
        let next = start + u64::from(parsed.length);
        if next > limit {
            return Ok(Slot::Truncated(format!(
                "fragment of {} bytes runs past the end of the segment ({limit})",
                parsed.length
            )));
        }
        if kind == FragmentType::End && parsed.length != 0 {
            return Ok(Slot::Damaged("end marker with a payload".into()));
        }
        if kind == FragmentType::Synced && parsed.length as usize != SYNCED_PAYLOAD_LEN {
            return Ok(Slot::Damaged(format!("sync mark of {} bytes", parsed.length)));
        }
        let number = self.number;
        let body = self.fetch(start, parsed.length as usize)?;
        if !verify_fragment(number, &header, body) {
            return Ok(Slot::Damaged("fragment checksum mismatch".into()));
        }
        let synced = (kind == FragmentType::Synced)
            .then(|| u64::from_le_bytes(body.try_into().expect("length checked above")));
        if synced.is_some_and(|synced| synced >= parsed.lsn) {
            return Ok(Slot::Damaged("sync mark claims its own or a later record".into()));
        }
        if let Some(out) = payload {
            out.extend_from_slice(body);
        }
        Ok(Slot::Fragment(Fragment {
            kind,
            flags: parsed.flags,
            lsn: parsed.lsn,
            length: parsed.length,
            next,
            synced,
        }))
    }

    /// The offset of the first valid fragment after `offset` whose LSN is at least `min_lsn`
    /// (recovery uses it to tell damage followed by good records from a torn tail). Checks
    /// every byte offset up to the end of the file.
    pub(crate) fn valid_fragment_after(
        &mut self,
        offset: u64,
        min_lsn: u64,
    ) -> Result<Option<u64>> {
        Ok(self.fragment_after(offset, min_lsn, |_| true)?.map(|(at, _)| at))
    }

    /// The first valid `Synced` fragment after `offset` (LSN at least `min_lsn`) recording the
    /// log durable up to `min_lsn` or beyond: proof that a record at or above `min_lsn` was
    /// fsynced before it. Returns its offset and the synced LSN.
    pub(crate) fn sync_mark_after(
        &mut self,
        offset: u64,
        min_lsn: u64,
    ) -> Result<Option<(u64, u64)>> {
        let proves = |f: &Fragment| f.synced.is_some_and(|synced| synced >= min_lsn);
        Ok(self
            .fragment_after(offset, min_lsn, proves)?
            .map(|(at, f)| (at, f.synced.expect("a sync mark"))))
    }

    /// The first valid fragment after `offset` with LSN at least `min_lsn` that `accept`s.
    fn fragment_after(
        &mut self,
        offset: u64,
        min_lsn: u64,
        accept: impl Fn(&Fragment) -> bool,
    ) -> Result<Option<(u64, Fragment)>> {
        let max_lsn = min_lsn.saturating_add(self.len / FRAGMENT_HEADER_LEN as u64 + 1);
        let mut at = offset + 1;
        // Bounded by the file length.
        while at + FRAGMENT_HEADER_LEN as u64 <= self.len {
            let header: [u8; FRAGMENT_HEADER_LEN] =
                self.fetch(at, FRAGMENT_HEADER_LEN)?.try_into().expect("header length");
            let parsed = FragmentHeader::parse(&header);
            let plausible = parsed.plausible_type().is_some()
                && (min_lsn..=max_lsn).contains(&parsed.lsn)
                && at + FRAGMENT_HEADER_LEN as u64 + u64::from(parsed.length) <= self.len;
            if plausible
                && let Slot::Fragment(fragment) = self.slot(at, self.len, None)?
                && accept(&fragment)
            {
                return Ok(Some((at, fragment)));
            }
            at += 1;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use std::{path::Path, sync::Arc};

    use lightning_core_storage::vfs::{FaultFs, OpenMode, Vfs};

    use super::*;
    use crate::format::encode_fragment;

    fn reader_over(bytes: &[u8]) -> SegmentReader {
        let fs = FaultFs::new();
        let file = fs.open(Path::new("/seg"), OpenMode::CreateNew).unwrap();
        file.write_all_at(bytes, 0).unwrap();
        SegmentReader::new(Arc::clone(&file), 1).unwrap()
    }

    fn two_fragments() -> Vec<u8> {
        let mut bytes =
            SegmentHeader { number: 1, first_lsn: 1, continues: false }.encode().to_vec();
        encode_fragment(&mut bytes, 1, FragmentType::Full, 0, 1, b"first");
        encode_fragment(&mut bytes, 1, FragmentType::Full, 0, 2, b"second");
        bytes
    }

    #[test]
    fn reads_fragments_then_the_end() {
        let bytes = two_fragments();
        let mut reader = reader_over(&bytes);
        assert_eq!(reader.header().unwrap().unwrap().first_lsn, 1);
        let mut payload = Vec::new();
        let Slot::Fragment(first) = reader.slot(40, reader.len(), Some(&mut payload)).unwrap()
        else {
            panic!("a fragment at 40");
        };
        assert_eq!((first.lsn, first.next), (1, 40 + 24 + 5));
        let Slot::Fragment(second) =
            reader.slot(first.next, reader.len(), Some(&mut payload)).unwrap()
        else {
            panic!("a second fragment");
        };
        assert_eq!(payload, b"firstsecond");
        assert_eq!(reader.slot(second.next, reader.len(), None).unwrap(), Slot::End);
        assert_eq!(
            reader.slot(first.next, first.next, None).unwrap(),
            Slot::End,
            "limit is honoured"
        );
    }

    #[test]
    fn classifies_cut_zeroed_and_damaged_bytes() {
        let bytes = two_fragments();
        let cut = reader_over(&bytes[..bytes.len() - 3]).slot(69, u64::MAX, None).unwrap();
        assert!(matches!(cut, Slot::Truncated(_)), "{cut:?}");
        let short = reader_over(&bytes[..69 + 10]).slot(69, u64::MAX, None).unwrap();
        assert!(matches!(short, Slot::Truncated(_)), "{short:?}");
        let mut zeroed = bytes[..69].to_vec();
        zeroed.extend_from_slice(&[0u8; 100]);
        assert_eq!(reader_over(&zeroed).slot(69, u64::MAX, None).unwrap(), Slot::Zeroed);
        assert!(reader_over(&zeroed).zero_from(69).unwrap());
        assert!(!reader_over(&bytes).zero_from(69).unwrap());
        let mut damaged = bytes.clone();
        damaged[40 + 24 + 2] ^= 0x01;
        let mut reader = reader_over(&damaged);
        assert!(matches!(reader.slot(40, u64::MAX, None).unwrap(), Slot::Damaged(_)));
        assert_eq!(reader.valid_fragment_after(40, 1).unwrap(), Some(69), "good record follows");
        assert_eq!(reader.valid_fragment_after(40, 3).unwrap(), None, "not if its LSN is too low");
        let mut bad_type = bytes;
        bad_type[40 + 12] = 9;
        assert!(matches!(
            reader_over(&bad_type).slot(40, u64::MAX, None).unwrap(),
            Slot::Damaged(_)
        ));
    }

    #[test]
    fn short_or_foreign_headers_are_reported() {
        assert!(reader_over(&[1, 2, 3]).header().unwrap().is_err());
        let mut bytes = two_fragments();
        bytes[0] = b'X';
        let err = reader_over(&bytes).header().unwrap().unwrap_err();
        assert!(err.contains("magic"), "{err}");
    }
}

//! The binary dump: a 16-byte header, length-prefixed entries, and a trailer holding the entry
//! count and an xxh3-64 checksum of everything before it. All integers little-endian.
//!
//! ```text
//! offset  size  field
//! 0       8     magic "LTNGDUMP"
//! 8       4     format version (u32) = 1
//! 12      4     flags (u32) = 0, reserved
//! 16      ...   entries: key_len (u32) | value_len (u32) | key | value
//!         4     end marker (u32) = 0xFFFF_FFFF, in place of a key_len
//!         8     entry count (u64)
//!         8     checksum (u64): xxh3-64 of every byte from offset 0 through the count
//! ```

use std::{
    fmt,
    io::{self, BufRead, Write},
};

use xxhash_rust::xxh3::Xxh3;

use super::{DETECT_LEN, DumpError, Entry, Limits, check_limits};

/// The first bytes of a binary dump.
pub const MAGIC: &[u8; 8] = b"LTNGDUMP";
const VERSION_OFFSET: usize = MAGIC.len();
const FLAGS_OFFSET: usize = VERSION_OFFSET + 4;
/// Bytes of header before the first entry.
pub const HEADER_LEN: usize = FLAGS_OFFSET + 4;
/// The `key_len` value that marks the trailer.
const END_MARKER: u32 = u32::MAX;
/// Bytes of an entry's length prefix.
const ENTRY_PREFIX_LEN: usize = 8;

const _: () = assert!(HEADER_LEN == 16, "the header layout is 16 bytes");
const _: () = assert!(DETECT_LEN == MAGIC.len(), "the magic is what tells the formats apart");

/// Versions of the binary format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum FormatVersion {
    /// The first version.
    V1 = 1,
}

impl FormatVersion {
    /// The version this build writes.
    pub const CURRENT: FormatVersion = FormatVersion::V1;

    fn from_u32(value: u32) -> Option<FormatVersion> {
        (value == 1).then_some(FormatVersion::V1)
    }
}

/// Writes a binary dump.
pub struct Writer<W: Write> {
    out: W,
    /// Boxed: the hasher's state is large and the enums holding readers and writers small.
    hasher: Box<Xxh3>,
    count: u64,
}

impl<W: Write> fmt::Debug for Writer<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("binary::Writer").field("count", &self.count).finish_non_exhaustive()
    }
}

impl<W: Write> Writer<W> {
    /// Starts a dump, writing the header.
    pub fn new(out: W) -> io::Result<Self> {
        let mut writer = Writer { out, hasher: Box::new(Xxh3::new()), count: 0 };
        let mut header = [0u8; HEADER_LEN];
        header[..VERSION_OFFSET].copy_from_slice(MAGIC);
        header[VERSION_OFFSET..FLAGS_OFFSET]
            .copy_from_slice(&(FormatVersion::CURRENT as u32).to_le_bytes());
        header[FLAGS_OFFSET..HEADER_LEN].copy_from_slice(&0u32.to_le_bytes());
        writer.write(&header)?;
        Ok(writer)
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hasher.update(bytes);
        self.out.write_all(bytes)
    }

    /// Appends one entry.
    pub fn entry(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        let too_long =
            |what| io::Error::new(io::ErrorKind::InvalidInput, format!("{what} too long"));
        let key_len = u32::try_from(key.len())
            .ok()
            .filter(|&len| len != END_MARKER)
            .ok_or_else(|| too_long("key"))?;
        let value_len = u32::try_from(value.len()).map_err(|_| too_long("value"))?;
        let mut prefix = [0u8; ENTRY_PREFIX_LEN];
        prefix[..4].copy_from_slice(&key_len.to_le_bytes());
        prefix[4..].copy_from_slice(&value_len.to_le_bytes());
        self.write(&prefix)?;
        self.write(key)?;
        self.write(value)?;
        self.count += 1;
        Ok(())
    }

    /// Writes the trailer and flushes.
    pub fn finish(mut self) -> io::Result<(u64, W)> {
        self.write(&END_MARKER.to_le_bytes())?;
        self.write(&self.count.to_le_bytes())?;
        let checksum = self.hasher.digest();
        self.out.write_all(&checksum.to_le_bytes())?;
        self.out.flush()?;
        Ok((self.count, self.out))
    }
}

/// Reads a binary dump.
pub struct Reader<R: BufRead> {
    input: R,
    limits: Limits,
    /// Boxed: the hasher's state is large and the enums holding readers and writers small.
    hasher: Box<Xxh3>,
    /// Bytes consumed so far, for error messages.
    offset: u64,
    count: u64,
    done: bool,
}

impl<R: BufRead> fmt::Debug for Reader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("binary::Reader")
            .field("offset", &self.offset)
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> Reader<R> {
    /// Reads the rest of the header; the magic was read by the detector.
    pub fn new(input: R, limits: Limits) -> Result<Self, DumpError> {
        let mut hasher = Box::new(Xxh3::new());
        hasher.update(MAGIC);
        let mut reader =
            Reader { input, limits, hasher, offset: MAGIC.len() as u64, count: 0, done: false };
        let version = reader.read_u32()?;
        if FormatVersion::from_u32(version).is_none() {
            return Err(DumpError::Malformed(format!(
                "unsupported binary dump version {version} (this build reads version 1)"
            )));
        }
        let flags = reader.read_u32()?;
        if flags != 0 {
            return Err(DumpError::Malformed(format!("unknown header flags {flags:#x}")));
        }
        Ok(reader)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), DumpError> {
        match self.input.read_exact(buf) {
            Ok(()) => {
                self.hasher.update(buf);
                self.offset += buf.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(DumpError::Malformed(
                format!("the dump ends at byte {} without its trailer (truncated?)", self.offset),
            )),
            Err(e) => Err(DumpError::Io(e)),
        }
    }

    fn read_u32(&mut self) -> Result<u32, DumpError> {
        let mut bytes = [0u8; 4];
        self.read_exact(&mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn read_u64(&mut self) -> Result<u64, DumpError> {
        let mut bytes = [0u8; 8];
        self.read_exact(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    /// The next entry, or `None` after a verified trailer.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, DumpError> {
        if self.done {
            return Ok(None);
        }
        let at = format!("entry at byte {}", self.offset);
        let key_len = self.read_u32()?;
        if key_len == END_MARKER {
            self.trailer()?;
            return Ok(None);
        }
        let value_len = self.read_u32()?;
        // Check the lengths before allocating for them.
        let (key_len, value_len) = (key_len as usize, value_len as usize);
        check_limits(key_len, value_len, self.limits, &at)?;
        let mut key = vec![0u8; key_len];
        let mut value = vec![0u8; value_len];
        self.read_exact(&mut key)?;
        self.read_exact(&mut value)?;
        self.count += 1;
        Ok(Some((key, value)))
    }

    /// Reads the count and checksum after the end marker and checks that nothing follows.
    fn trailer(&mut self) -> Result<(), DumpError> {
        let expected = self.read_u64()?;
        let digest = self.hasher.digest();
        let mut checksum = [0u8; 8];
        self.input.read_exact(&mut checksum).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => {
                DumpError::Malformed("the dump ends inside its trailer (truncated?)".into())
            }
            _ => DumpError::Io(e),
        })?;
        if u64::from_le_bytes(checksum) != digest {
            return Err(DumpError::Malformed("checksum mismatch: the dump is damaged".into()));
        }
        if expected != self.count {
            return Err(DumpError::Malformed(format!(
                "the trailer says {expected} entries but the dump holds {}",
                self.count
            )));
        }
        let mut extra = [0u8; 1];
        if self.input.read(&mut extra)? != 0 {
            return Err(DumpError::Malformed("bytes after the end of the trailer".into()));
        }
        self.done = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{DumpReader, DumpWriter, Format};
    use super::*;

    const LIMITS: Limits = Limits { max_key_len: 16, max_value_len: 16 };

    fn dump(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut writer = DumpWriter::new(Vec::new(), Format::Binary).unwrap();
        for (k, v) in entries {
            writer.entry(k, v).unwrap();
        }
        writer.finish().unwrap().1
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<Entry>, DumpError> {
        let mut reader = DumpReader::open(bytes, LIMITS)?;
        std::iter::from_fn(|| reader.next_entry().transpose()).collect()
    }

    #[test]
    fn layout_is_as_documented() {
        let bytes = dump(&[(b"k", b"\x00v")]);
        assert_eq!(&bytes[..8], b"LTNGDUMP");
        assert_eq!(&bytes[8..16], &[1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&bytes[16..27], &[1, 0, 0, 0, 2, 0, 0, 0, b'k', 0, b'v']);
        assert_eq!(&bytes[27..31], &[0xff; 4]);
        assert_eq!(&bytes[31..39], &1u64.to_le_bytes());
        let checksum = xxhash_rust::xxh3::xxh3_64(&bytes[..39]);
        assert_eq!(&bytes[39..], &checksum.to_le_bytes());
        let trailer_len = 4 + 8 + 8;
        assert_eq!(bytes.len(), HEADER_LEN + 8 + 3 + trailer_len);
    }

    #[test]
    fn any_flipped_byte_is_detected() {
        let bytes = dump(&[(b"key", b"value"), (b"", b"")]);
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x01;
            assert!(read_all(&damaged).is_err(), "flip at byte {i} went unnoticed");
        }
    }

    #[test]
    fn bad_headers_and_huge_lengths_are_refused_without_allocating() {
        let mut bytes = dump(&[]);
        bytes[8] = 2;
        assert!(read_all(&bytes).unwrap_err().to_string().contains("version 2"));
        let mut bytes = dump(&[]);
        bytes[12] = 1;
        assert!(read_all(&bytes).unwrap_err().to_string().contains("flags"));
        let mut bytes = dump(&[]);
        bytes.truncate(HEADER_LEN);
        bytes.extend_from_slice(&[0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff]);
        let e = read_all(&bytes).unwrap_err().to_string();
        assert!(e.contains("entry at byte 16: value of 4294967294 bytes"), "{e}");
    }
}

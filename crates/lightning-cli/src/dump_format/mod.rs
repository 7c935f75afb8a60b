//! The portable dump written by `lightning dump` and read by `lightning load`: two formats
//! (see the crate README for both, byte by byte), one writer and one reader each, and the
//! detection of the format from the first bytes of a dump.
//!
//! A dump round-trips any byte string exactly: `load` of a dump followed by `dump` in the same
//! format reproduces the same bytes. Both formats end with a trailer holding the entry count
//! (the binary one also a checksum), so a truncated dump is an error, never a silent partial
//! load. Nothing in a dump can make the reader panic or allocate beyond the [`Limits`].

pub mod binary;
pub mod text;

use std::{
    fmt,
    io::{self, BufRead, Read, Write},
};

/// The two dump formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One escaped line per entry.
    Text,
    /// Length-prefixed entries with a checksummed trailer.
    Binary,
}

/// Bounds a reader enforces on every entry (the database's own limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest key accepted, in bytes.
    pub max_key_len: usize,
    /// The longest value accepted, in bytes.
    pub max_value_len: usize,
}

/// Why a dump could not be read.
#[derive(Debug)]
pub enum DumpError {
    /// Reading failed.
    Io(io::Error),
    /// The bytes are not a valid dump: what and where.
    Malformed(String),
}

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DumpError::Io(e) => write!(f, "reading the dump: {e}"),
            DumpError::Malformed(what) => write!(f, "not a valid dump: {what}"),
        }
    }
}

impl std::error::Error for DumpError {}

impl From<io::Error> for DumpError {
    fn from(e: io::Error) -> Self {
        DumpError::Io(e)
    }
}

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Bytes at the start of every dump that tell the formats apart.
pub const DETECT_LEN: usize = 8;

/// Writes a dump in either format: header at creation, then entries, then the trailer.
#[derive(Debug)]
pub enum DumpWriter<W: Write> {
    /// The text format.
    Text(text::Writer<W>),
    /// The binary format.
    Binary(binary::Writer<W>),
}

impl<W: Write> DumpWriter<W> {
    /// Starts a dump in `format`, writing its header.
    pub fn new(out: W, format: Format) -> io::Result<Self> {
        Ok(match format {
            Format::Text => DumpWriter::Text(text::Writer::new(out)?),
            Format::Binary => DumpWriter::Binary(binary::Writer::new(out)?),
        })
    }

    /// Appends one entry.
    pub fn entry(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        match self {
            DumpWriter::Text(w) => w.entry(key, value),
            DumpWriter::Binary(w) => w.entry(key, value),
        }
    }

    /// Writes the trailer and flushes; returns the number of entries and the output.
    pub fn finish(self) -> io::Result<(u64, W)> {
        match self {
            DumpWriter::Text(w) => w.finish(),
            DumpWriter::Binary(w) => w.finish(),
        }
    }
}

/// Reads a dump of either format, detected from its first bytes.
#[derive(Debug)]
pub enum DumpReader<R: BufRead> {
    /// The text format.
    Text(text::Reader<R>),
    /// The binary format.
    Binary(binary::Reader<R>),
}

impl<R: BufRead> DumpReader<R> {
    /// Reads the header of the dump in `input` and prepares to read its entries.
    pub fn open(mut input: R, limits: Limits) -> Result<Self, DumpError> {
        let mut head = Vec::with_capacity(DETECT_LEN);
        (&mut input).take(DETECT_LEN as u64).read_to_end(&mut head)?;
        if head.as_slice() == binary::MAGIC.as_slice() {
            Ok(DumpReader::Binary(binary::Reader::new(input, limits)?))
        } else if text::HEADER.starts_with(&head) && head.len() == DETECT_LEN {
            Ok(DumpReader::Text(text::Reader::new(input, &head, limits)?))
        } else if head.is_empty() {
            Err(DumpError::Malformed("the input is empty".into()))
        } else {
            Err(DumpError::Malformed(
                "unknown header (a Lightning DB dump starts with `lightning-dump text` or \
                 `LTNGDUMP`)"
                    .into(),
            ))
        }
    }

    /// The format detected.
    pub fn format(&self) -> Format {
        match self {
            DumpReader::Text(_) => Format::Text,
            DumpReader::Binary(_) => Format::Binary,
        }
    }

    /// The next entry, or `None` once the trailer has been read and verified.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, DumpError> {
        match self {
            DumpReader::Text(r) => r.next_entry(),
            DumpReader::Binary(r) => r.next_entry(),
        }
    }
}

/// Checks an entry's lengths against the limits; `at` says where it was read.
fn check_limits(
    key_len: usize,
    value_len: usize,
    limits: Limits,
    at: &str,
) -> Result<(), DumpError> {
    if key_len > limits.max_key_len {
        return Err(DumpError::Malformed(format!(
            "{at}: key of {key_len} bytes exceeds the maximum of {}",
            limits.max_key_len
        )));
    }
    if value_len > limits.max_value_len {
        return Err(DumpError::Malformed(format!(
            "{at}: value of {value_len} bytes exceeds the maximum of {}",
            limits.max_value_len
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits { max_key_len: 64, max_value_len: 1024 };

    fn entries() -> Vec<Entry> {
        vec![
            (Vec::new(), b"empty key".to_vec()),
            (b"\x00".to_vec(), Vec::new()),
            (b"a\tb\nc\\d".to_vec(), b"\xff\xfe\x00 x".to_vec()),
            ("k\u{e9}".as_bytes().to_vec(), vec![0xff; 300]),
            (vec![0xff; 64], (0..=255).collect()),
        ]
    }

    fn write(format: Format, entries: &[Entry]) -> Vec<u8> {
        let mut writer = DumpWriter::new(Vec::new(), format).unwrap();
        for (k, v) in entries {
            writer.entry(k, v).unwrap();
        }
        let (count, bytes) = writer.finish().unwrap();
        assert_eq!(count, entries.len() as u64);
        bytes
    }

    fn read(bytes: &[u8]) -> Result<Vec<Entry>, DumpError> {
        let mut reader = DumpReader::open(bytes, LIMITS)?;
        let mut out = Vec::new();
        while let Some(entry) = reader.next_entry()? {
            out.push(entry);
        }
        Ok(out)
    }

    #[test]
    fn both_formats_round_trip_any_bytes_and_are_detected() {
        for format in [Format::Text, Format::Binary] {
            let bytes = write(format, &entries());
            assert_eq!(DumpReader::open(bytes.as_slice(), LIMITS).unwrap().format(), format);
            let back = read(&bytes).unwrap();
            assert_eq!(back, entries(), "{format:?}");
            assert_eq!(write(format, &back), bytes, "{format:?} re-encodes identically");
            assert_eq!(read(&write(format, &[])).unwrap(), Vec::<Entry>::new());
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        for format in [Format::Text, Format::Binary] {
            let bytes = write(format, &entries());
            for len in 0..bytes.len() {
                assert!(read(&bytes[..len]).is_err(), "{format:?} truncated to {len} bytes");
            }
        }
    }

    #[test]
    fn trailing_garbage_and_unknown_headers_are_errors() {
        for format in [Format::Text, Format::Binary] {
            let mut bytes = write(format, &entries());
            bytes.push(b'x');
            assert!(read(&bytes).unwrap_err().to_string().contains("after the end"));
        }
        assert!(read(b"").unwrap_err().to_string().contains("empty"));
        assert!(read(b"hello world\n").unwrap_err().to_string().contains("unknown header"));
    }

    #[test]
    fn entries_beyond_the_limits_are_refused() {
        let big_key = vec![(vec![b'k'; 65], Vec::new())];
        let big_value = vec![(Vec::new(), vec![b'v'; 1025])];
        for format in [Format::Text, Format::Binary] {
            let e = read(&write(format, &big_key)).unwrap_err().to_string();
            assert!(e.contains("key of 65 bytes"), "{e}");
            let e = read(&write(format, &big_value)).unwrap_err().to_string();
            assert!(e.contains("value of 1025 bytes"), "{e}");
        }
    }
}

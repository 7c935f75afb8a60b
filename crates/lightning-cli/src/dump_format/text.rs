//! The text dump: a header line, one line per entry (escaped key, TAB, escaped value), and an
//! `end <count>` line. 7-bit ASCII, LF line endings, readable and diffable.
//!
//! ```text
//! lightning-dump text v1
//! user:1<TAB>ada
//! \x00\xff<TAB>
//! end 2
//! ```
//!
//! Keys and values use the escape of [`crate::format::escape_ascii`]: printable ASCII as is,
//! `\\` for a backslash, `\xHH` for every other byte. A TAB is therefore never part of a key,
//! so an entry line has exactly one; the `end` line has none.

use std::io::{self, BufRead, Read, Write};

use super::{DumpError, Entry, Limits, check_limits};
use crate::format::{escape_ascii, unescape};

/// The first line of a text dump, newline included.
pub const HEADER: &[u8] = b"lightning-dump text v1\n";
/// What every version's header starts with.
const HEADER_STEM: &[u8] = b"lightning-dump text v";

/// Writes a text dump.
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: W,
    count: u64,
    line: Vec<u8>,
}

impl<W: Write> Writer<W> {
    /// Starts a dump, writing the header line.
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(HEADER)?;
        Ok(Writer { out, count: 0, line: Vec::new() })
    }

    /// Appends one entry line.
    pub fn entry(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.line.clear();
        escape_ascii(key, &mut self.line);
        self.line.push(b'\t');
        escape_ascii(value, &mut self.line);
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.count += 1;
        Ok(())
    }

    /// Writes the `end` line and flushes.
    pub fn finish(mut self) -> io::Result<(u64, W)> {
        writeln!(self.out, "end {}", self.count)?;
        self.out.flush()?;
        Ok((self.count, self.out))
    }
}

/// Reads a text dump.
#[derive(Debug)]
pub struct Reader<R: BufRead> {
    input: R,
    limits: Limits,
    /// Line number of the last line read (1-based; the header is line 1).
    line_number: u64,
    count: u64,
    done: bool,
    line: Vec<u8>,
}

impl<R: BufRead> Reader<R> {
    /// Finishes reading the header line, whose first bytes `head` were read by the detector.
    pub fn new(mut input: R, head: &[u8], limits: Limits) -> Result<Self, DumpError> {
        let mut header = head.to_vec();
        (&mut input).take(HEADER.len() as u64).read_until(b'\n', &mut header)?;
        if header != HEADER {
            let what = if header.starts_with(HEADER_STEM) {
                "unsupported text dump version (this build reads `lightning-dump text v1`)"
            } else {
                "line 1: not a `lightning-dump text v1` header"
            };
            return Err(DumpError::Malformed(what.into()));
        }
        Ok(Reader { input, limits, line_number: 1, count: 0, done: false, line: Vec::new() })
    }

    /// The longest line a valid entry can have: every byte escaped to four, a TAB, a newline.
    fn max_line_len(&self) -> u64 {
        4 * (self.limits.max_key_len as u64 + self.limits.max_value_len as u64) + 2
    }

    /// The next entry, or `None` after a verified `end` line.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, DumpError> {
        if self.done {
            return Ok(None);
        }
        self.line.clear();
        let limit = self.max_line_len();
        (&mut self.input).take(limit).read_until(b'\n', &mut self.line)?;
        self.line_number += 1;
        let at = format!("line {}", self.line_number);
        if self.line.is_empty() {
            return Err(DumpError::Malformed(format!(
                "{at}: the dump ends without its `end` line (truncated?)"
            )));
        }
        if self.line.pop() != Some(b'\n') {
            let what = if self.line.len() as u64 + 1 >= limit {
                "is longer than any valid entry"
            } else {
                "is cut short (truncated?)"
            };
            return Err(DumpError::Malformed(format!("{at} {what}")));
        }
        let Some(tab) = self.line.iter().position(|&b| b == b'\t') else {
            return self.end_line(&at).map(|()| None);
        };
        let bad = |what: String| DumpError::Malformed(format!("{at}: {what}"));
        let key = unescape(&self.line[..tab], true).map_err(|e| bad(format!("key: {e}")))?;
        let value =
            unescape(&self.line[tab + 1..], true).map_err(|e| bad(format!("value: {e}")))?;
        check_limits(key.len(), value.len(), self.limits, &at)?;
        self.count += 1;
        Ok(Some((key, value)))
    }

    /// Checks the `end <count>` line in `self.line` and that nothing follows it.
    fn end_line(&mut self, at: &str) -> Result<(), DumpError> {
        let expected: Option<u64> = self
            .line
            .strip_prefix(b"end ")
            .and_then(|digits| std::str::from_utf8(digits).ok())
            .and_then(|digits| digits.parse().ok());
        match expected {
            None => {
                Err(DumpError::Malformed(format!("{at}: expected KEY<TAB>VALUE or `end <count>`")))
            }
            Some(expected) if expected != self.count => Err(DumpError::Malformed(format!(
                "{at}: the dump says {expected} entries but holds {}",
                self.count
            ))),
            Some(_) => {
                let mut extra = [0u8; 1];
                if self.input.read(&mut extra)? != 0 {
                    return Err(DumpError::Malformed(format!("bytes after the end line ({at})")));
                }
                self.done = true;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{DumpReader, DumpWriter, Format};
    use super::*;

    const LIMITS: Limits = Limits { max_key_len: 16, max_value_len: 16 };

    fn read_all(bytes: &[u8]) -> Result<Vec<Entry>, DumpError> {
        let mut reader = DumpReader::open(bytes, LIMITS)?;
        std::iter::from_fn(|| reader.next_entry().transpose()).collect()
    }

    #[test]
    fn layout_is_as_documented() {
        let mut writer = DumpWriter::new(Vec::new(), Format::Text).unwrap();
        writer.entry(b"user:1", b"ada").unwrap();
        writer.entry(b"\x00\xff", b"").unwrap();
        writer.entry(b"", b"back\\slash").unwrap();
        let (_, bytes) = writer.finish().unwrap();
        let expected =
            "lightning-dump text v1\nuser:1\tada\n\\x00\\xff\t\n\tback\\\\slash\nend 3\n";
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let cases: [(&[u8], &str); 7] = [
            (b"lightning-dump text v2\nend 0\n", "unsupported text dump version"),
            (b"lightning-dump text\nend 0\n", "line 1"),
            (b"lightning-dump text v1\nno tab here\nend 1\n", "line 2: expected KEY<TAB>VALUE"),
            (
                b"lightning-dump text v1\na\tb\nend 2\n",
                "line 3: the dump says 2 entries but holds 1",
            ),
            (b"lightning-dump text v1\na\\q\tb\nend 1\n", "line 2: key: unknown escape"),
            (b"lightning-dump text v1\na\tb\r\nend 1\n", "line 2: value: unescaped byte 0x0d"),
            (b"lightning-dump text v1\na\tb\n", "line 3: the dump ends without its `end` line"),
        ];
        for (bytes, message) in cases {
            let e = read_all(bytes).unwrap_err().to_string();
            assert!(e.contains(message), "{e:?} should contain {message:?}");
        }
    }

    #[test]
    fn overlong_lines_stop_at_the_bound() {
        let mut bytes = HEADER.to_vec();
        bytes.extend(std::iter::repeat_n(b'a', 1000));
        let e = read_all(&bytes).unwrap_err().to_string();
        assert!(e.contains("line 2 is longer than any valid entry"), "{e}");
    }
}

//! `scan`: entries of a key range (from `--prefix`, `--from`, `--to`, combined) in either
//! direction, as an aligned table or as JSON lines.

use std::{io::Write, ops::Bound};

use super::{Context, OpenMode, close, finish_output, stdout};
use crate::{
    cli::{ScanArgs, ScanFormat},
    error::CliResult,
    format,
    table::{Align, Table},
};

/// Rows buffered to size the table's columns; later rows reuse those widths.
const TABLE_PAGE_ROWS: usize = 10_000;

/// A range of keys: start and end bounds.
pub type KeyBounds = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// The smallest key greater than every key starting with `prefix`, if there is one.
fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let last = prefix.iter().rposition(|&b| b != 0xff)?;
    let mut successor = prefix[..=last].to_vec();
    successor[last] += 1;
    Some(successor)
}

/// The keys that start with `prefix`, are >= `from` and < `to` (each optional), or `None` when
/// no key can satisfy all three.
pub fn scan_bounds(
    prefix: Option<&[u8]>,
    from: Option<&[u8]>,
    to: Option<&[u8]>,
) -> Option<KeyBounds> {
    let start = [prefix, from].into_iter().flatten().max().map(<[u8]>::to_vec);
    let prefix_end = prefix.and_then(prefix_successor);
    let end = [prefix_end.as_deref(), to].into_iter().flatten().min().map(<[u8]>::to_vec);
    if let (Some(start), Some(end)) = (&start, &end)
        && start >= end
    {
        return None;
    }
    Some((
        start.map_or(Bound::Unbounded, Bound::Included),
        end.map_or(Bound::Unbounded, Bound::Excluded),
    ))
}

/// `scan`.
pub fn run(context: &Context, args: &ScanArgs) -> CliResult {
    let prefix = args.prefix.as_deref().map(|p| context.arg_bytes("--prefix", p)).transpose()?;
    let from = args.from.as_deref().map(|a| context.arg_bytes("--from", a)).transpose()?;
    let to = args.to.as_deref().map(|b| context.arg_bytes("--to", b)).transpose()?;
    let db = context.open("scan", OpenMode::MustExist)?;
    let bounds = scan_bounds(prefix.as_deref(), from.as_deref(), to.as_deref());
    let mut printer = Printer::new(context, args.format);
    if let Some(bounds) = bounds {
        let iter = db.range(bounds)?;
        let entries: Box<dyn Iterator<Item = _>> =
            if args.reverse { Box::new(iter.rev()) } else { Box::new(iter) };
        let limit = args.limit.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
        for entry in entries.take(limit) {
            let (key, value) = entry?;
            printer.entry(&key, &value)?;
        }
    }
    printer.finish()?;
    close(db)
}

/// Writes entries in the chosen format as they come.
struct Printer<'a> {
    context: &'a Context,
    format: ScanFormat,
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    table: Table,
    /// Column widths, fixed once the first page has been printed.
    widths: Option<Vec<usize>>,
    count: u64,
}

impl<'a> Printer<'a> {
    fn new(context: &'a Context, format: ScanFormat) -> Self {
        Printer {
            context,
            format,
            out: stdout(),
            table: Table::new(&[("KEY", Align::Left), ("VALUE", Align::Left)]),
            widths: None,
            count: 0,
        }
    }

    fn entry(&mut self, key: &[u8], value: &[u8]) -> CliResult {
        self.count += 1;
        match self.format {
            ScanFormat::Json => {
                writeln!(self.out, "{}", format::json_entry(key, value, self.context.hex))?;
            }
            ScanFormat::Table => {
                self.table.push(vec![self.context.show(key), self.context.show(value)]);
                if self.table.len() >= TABLE_PAGE_ROWS {
                    self.flush_rows()?;
                }
            }
        }
        Ok(())
    }

    /// Prints the buffered table rows (and the header, the first time).
    fn flush_rows(&mut self) -> CliResult {
        let widths = match &self.widths {
            Some(widths) => widths.clone(),
            None => {
                let widths = self.table.widths();
                writeln!(self.out, "{}", self.table.header(&widths))?;
                self.widths = Some(widths.clone());
                widths
            }
        };
        for row in self.table.take_rows() {
            writeln!(self.out, "{}", self.table.format_row(&row, &widths))?;
        }
        Ok(())
    }

    fn finish(mut self) -> CliResult {
        if self.format == ScanFormat::Table {
            self.flush_rows()?;
            let noun = if self.count == 1 { "entry" } else { "entries" };
            writeln!(self.out, "({} {noun})", self.count)?;
        }
        finish_output(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inc(key: &[u8]) -> Bound<Vec<u8>> {
        Bound::Included(key.to_vec())
    }

    fn exc(key: &[u8]) -> Bound<Vec<u8>> {
        Bound::Excluded(key.to_vec())
    }

    #[test]
    fn prefix_successor_skips_trailing_ff() {
        assert_eq!(prefix_successor(b"user:"), Some(b"user;".to_vec()));
        assert_eq!(prefix_successor(b"a\xff\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_successor(b"\xff\xff"), None);
        assert_eq!(prefix_successor(b""), None);
    }

    #[test]
    fn bounds_combine_prefix_from_and_to() {
        assert_eq!(scan_bounds(None, None, None), Some((Bound::Unbounded, Bound::Unbounded)));
        assert_eq!(scan_bounds(Some(b"u:"), None, None), Some((inc(b"u:"), exc(b"u;"))));
        assert_eq!(scan_bounds(None, Some(b"a"), Some(b"m")), Some((inc(b"a"), exc(b"m"))));
        assert_eq!(scan_bounds(Some(b"u:"), Some(b"u:5"), None), Some((inc(b"u:5"), exc(b"u;"))));
        assert_eq!(
            scan_bounds(Some(b"u:"), Some(b"a"), Some(b"u:5")),
            Some((inc(b"u:"), exc(b"u:5")))
        );
        assert_eq!(scan_bounds(Some(b"\xff"), None, None), Some((inc(b"\xff"), Bound::Unbounded)));
        assert_eq!(scan_bounds(Some(b""), None, None), Some((inc(b""), Bound::Unbounded)));
    }

    #[test]
    fn empty_ranges_are_none() {
        assert_eq!(scan_bounds(None, Some(b"m"), Some(b"a")), None);
        assert_eq!(scan_bounds(None, Some(b"m"), Some(b"m")), None);
        assert_eq!(scan_bounds(Some(b"b"), Some(b"c"), None), None);
        assert_eq!(scan_bounds(Some(b"b"), None, Some(b"a")), None);
    }
}

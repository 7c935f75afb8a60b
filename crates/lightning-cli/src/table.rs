//! Aligned text tables: a header row and left- or right-aligned columns separated by two spaces.
//!
//! Widths are measured in `char`s (the display form of bytes is mostly ASCII; wide characters
//! may misalign a row, never lose data). Trailing spaces are never printed.

/// How a column's cells are aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text columns.
    Left,
    /// Number columns.
    Right,
}

/// A table being built: fixed columns, rows appended, rendered at the end.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<String>,
    aligns: Vec<Align>,
    rows: Vec<Vec<String>>,
}

fn width(cell: &str) -> usize {
    cell.chars().count()
}

impl Table {
    /// A table with these column headers and alignments.
    pub fn new(columns: &[(&str, Align)]) -> Self {
        Table {
            headers: columns.iter().map(|(name, _)| (*name).to_owned()).collect(),
            aligns: columns.iter().map(|(_, align)| *align).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; it must have one cell per column.
    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.headers.len(), "a row needs one cell per column");
        self.rows.push(row);
    }

    /// Number of rows so far.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// The width of every column: its widest cell or header.
    pub fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        widths
    }

    /// Formats one row with the given widths (cells wider than their column push the rest
    /// right rather than being cut).
    pub fn format_row(&self, row: &[String], widths: &[usize]) -> String {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = widths.get(i).copied().unwrap_or(0).saturating_sub(width(cell));
            match self.aligns.get(i).copied().unwrap_or(Align::Left) {
                Align::Left => {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad));
                }
                Align::Right => {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                }
            }
        }
        line.truncate(line.trim_end().len());
        line
    }

    /// The header line for `widths`.
    pub fn header(&self, widths: &[usize]) -> String {
        self.format_row(&self.headers, widths)
    }

    /// Takes the rows out, leaving the table empty (for streaming in pages).
    pub fn take_rows(&mut self) -> Vec<Vec<String>> {
        std::mem::take(&mut self.rows)
    }

    /// The whole table: header, then every row, each line ending in a newline.
    pub fn render(&self) -> String {
        let widths = self.widths();
        let mut out = self.header(&widths);
        out.push('\n');
        for row in &self.rows {
            out.push_str(&self.format_row(row, &widths));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_aligned_and_lines_have_no_trailing_space() {
        let mut table = Table::new(&[("KEY", Align::Left), ("VALUE", Align::Left)]);
        table.push(vec!["a".into(), "1".into()]);
        table.push(vec!["longer".into(), String::new()]);
        assert_eq!(table.render(), "KEY     VALUE\na       1\nlonger\n");
    }

    #[test]
    fn numbers_align_right() {
        let mut table = Table::new(&[("name", Align::Left), ("ops/s", Align::Right)]);
        table.push(vec!["fillseq".into(), "12".into()]);
        table.push(vec!["readseq".into(), "12345678".into()]);
        assert_eq!(table.render(), "name        ops/s\nfillseq        12\nreadseq  12345678\n");
    }

    #[test]
    fn wide_cells_push_rather_than_cut() {
        let table = Table::new(&[("K", Align::Left), ("V", Align::Left)]);
        let line = table.format_row(&["abcdef".into(), "v".into()], &[2, 1]);
        assert_eq!(line, "abcdef  v");
    }
}

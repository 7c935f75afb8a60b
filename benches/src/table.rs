//! The markdown table: rows = workloads, columns = engines, the best cell of each row in
//! bold, and one more column per Lightning DB engine with its ratio to the best peer.
//!
//! The ratio is a *cost* ratio, so that one rule reads every row: Lightning's time, size or
//! write amplification divided by the best peer's, and for throughput rows the best peer's
//! operations per second divided by Lightning's. Above 1.00 Lightning is behind.

use crate::rows::{Metric, Row, RowDurability};

/// One measured (median) value, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// The median, with a marker such as "†" (printed after it).
    Value { value: f64, marker: String },
    /// Not applicable: engine unavailable in this build, or a durable row for an engine that
    /// does not fsync.
    NotApplicable,
    /// Every run of this engine failed before producing this row.
    Failed,
}

/// One engine column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    /// Lightning DB's own engines get a ratio column and are not peers.
    pub lightning: bool,
}

/// Everything the renderer needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    /// Each row's cells, one per column.
    pub rows: Vec<(Row, Vec<Cell>)>,
}

/// Lower is better for every cost.
pub fn cost(metric: Metric, value: f64) -> f64 {
    match metric {
        Metric::Throughput => 1.0 / value,
        Metric::Time | Metric::Bytes | Metric::Factor => value,
    }
}

/// Three significant digits.
fn significant(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// A value as a human reads it.
pub fn format_value(metric: Metric, value: f64) -> String {
    match metric {
        Metric::Time if value >= 1.0 => format!("{} s", significant(value)),
        Metric::Time if value >= 1e-3 => format!("{} ms", significant(value * 1e3)),
        Metric::Time => format!("{} µs", significant(value * 1e6)),
        Metric::Throughput if value >= 1e6 => format!("{}M", significant(value / 1e6)),
        Metric::Throughput if value >= 1e3 => format!("{}k", significant(value / 1e3)),
        Metric::Throughput => significant(value),
        Metric::Bytes if value >= f64::from(1u32 << 30) => {
            format!("{} GiB", significant(value / f64::from(1u32 << 30)))
        }
        Metric::Bytes if value >= f64::from(1u32 << 20) => {
            format!("{} MiB", significant(value / f64::from(1u32 << 20)))
        }
        Metric::Bytes => format!("{} KiB", significant(value / 1024.0)),
        Metric::Factor => format!("{}×", significant(value)),
    }
}

fn durability_text(durability: RowDurability) -> &'static str {
    match durability {
        RowDurability::Durable => "durable",
        RowDurability::NoSync => "no sync",
        RowDurability::None => "—",
    }
}

fn value_of(cell: &Cell) -> Option<f64> {
    match cell {
        Cell::Value { value, .. } if value.is_finite() && *value > 0.0 => Some(*value),
        _ => None,
    }
}

/// Lightning's cost over the best peer's for one row, when both exist.
pub fn ratio(
    table: &Table,
    cells: &[Cell],
    metric: Metric,
    lightning_column: usize,
) -> Option<f64> {
    let ours = value_of(&cells[lightning_column])?;
    let best_peer = table
        .columns
        .iter()
        .zip(cells)
        .filter(|(column, _)| !column.lightning)
        .filter_map(|(_, cell)| value_of(cell))
        .map(|value| cost(metric, value))
        .min_by(f64::total_cmp)?;
    Some(cost(metric, ours) / best_peer)
}

fn ratio_text(ratio: Option<f64>) -> String {
    match ratio {
        None => "—".to_owned(),
        Some(r) if r > 1.005 => format!("{r:.2} behind"),
        Some(r) if r < 0.995 => format!("{r:.2} ahead"),
        Some(r) => format!("{r:.2} even"),
    }
}

/// The table in GitHub markdown, followed by its legend.
pub fn render(table: &Table) -> String {
    let ratio_columns: Vec<usize> = (0..table.columns.len())
        .filter(|&c| table.columns[c].lightning)
        .filter(|&c| table.rows.iter().any(|(_, cells)| value_of(&cells[c]).is_some()))
        .collect();
    let mut header = vec!["workload".to_owned(), "durability".to_owned()];
    header.extend(table.columns.iter().map(|column| column.name.clone()));
    header.extend(ratio_columns.iter().map(|&c| format!("{} ÷ best peer", table.columns[c].name)));
    let mut out = format!("| {} |\n", header.join(" | "));
    let aligns = ["---", "---"].into_iter().chain(std::iter::repeat_n("---:", header.len() - 2));
    out.push_str(&format!("|{}|\n", aligns.collect::<Vec<_>>().join("|")));

    for (row, cells) in &table.rows {
        let best =
            cells.iter().filter_map(value_of).map(|v| cost(row.metric, v)).min_by(f64::total_cmp);
        let mut line = vec![row.label.clone(), durability_text(row.durability).to_owned()];
        for cell in cells {
            line.push(match cell {
                Cell::Value { value, marker } => {
                    let text = format_value(row.metric, *value);
                    let bold = best.is_some_and(|b| cost(row.metric, *value) <= b)
                        && value_of(cell).is_some();
                    let text = if bold { format!("**{text}**") } else { text };
                    if marker.is_empty() { text } else { format!("{text} {marker}") }
                }
                Cell::NotApplicable => "n/a".to_owned(),
                Cell::Failed => "failed".to_owned(),
            });
        }
        for &c in &ratio_columns {
            line.push(ratio_text(ratio(table, cells, row.metric, c)));
        }
        out.push_str(&format!("| {} |\n", line.join(" | ")));
    }
    out.push_str(LEGEND);
    out
}

/// Printed under every table.
pub const LEGEND: &str = "\n\
Times are wall-clock (lower is better); YCSB rows are operations per second over both client \
threads (higher is better); sizes are the apparent size of every file in the engine's \
directory. Bold: the best engine of the row. \"÷ best peer\": Lightning's cost divided by the \
best other engine's (time, size, write amplification; for YCSB the peer's ops/s over \
Lightning's), so above 1.00 Lightning is behind. durable = fsync before every commit is \
acknowledged; no sync = the engine's commit without fsync. n/a: the engine is not available in \
this build, or the row is durable and the engine does not reliably fsync (sled). †: the engine \
has no compaction; size after close + reopen.\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &'static str, durability: RowDurability, metric: Metric) -> Row {
        Row { id, label: format!("{id} row"), durability, metric }
    }

    fn value(value: f64) -> Cell {
        Cell::Value { value, marker: String::new() }
    }

    fn sample() -> Table {
        let columns =
            [("Lightning B+Tree", true), ("Lightning LSM", true), ("redb", false), ("sled", false)]
                .map(|(name, lightning)| Column { name: name.to_owned(), lightning })
                .to_vec();
        let rows = vec![
            (
                row("bulk", RowDurability::Durable, Metric::Time),
                vec![value(2.5), Cell::NotApplicable, value(1.25), Cell::NotApplicable],
            ),
            (
                row("reads1", RowDurability::None, Metric::Time),
                vec![value(0.000_42), Cell::NotApplicable, value(0.0021), value(0.0125)],
            ),
            (
                row("ycsb-a", RowDurability::NoSync, Metric::Throughput),
                vec![value(250_000.0), Cell::NotApplicable, value(125_000.0), Cell::Failed],
            ),
            (
                row("size-compact", RowDurability::None, Metric::Bytes),
                vec![
                    Cell::Value { value: 300.0 * 1048576.0, marker: "†".to_owned() },
                    Cell::NotApplicable,
                    value(150.0 * 1048576.0),
                    Cell::Value { value: 2048.0, marker: "†".to_owned() },
                ],
            ),
            (
                row("wamp", RowDurability::Durable, Metric::Factor),
                vec![value(3.0), Cell::NotApplicable, value(3.0), Cell::NotApplicable],
            ),
        ];
        Table { columns, rows }
    }

    #[test]
    fn renders_the_sample_table() {
        insta::assert_snapshot!(render(&sample()));
    }

    #[test]
    fn ratios_are_costs_over_the_best_peer() {
        let table = sample();
        let ratios: Vec<Option<f64>> =
            table.rows.iter().map(|(row, cells)| ratio(&table, cells, row.metric, 0)).collect();
        let expected = [2.0, 0.2, 0.5, 300.0 * 1048576.0 / 2048.0, 1.0];
        for (ratio, expected) in ratios.iter().zip(expected) {
            let ratio = ratio.expect("both sides measured");
            assert!((ratio / expected - 1.0).abs() < 1e-9, "{ratio} != {expected}");
        }
        // The LSM column has no values: no ratio column for it.
        let text = render(&table);
        assert!(text.contains("Lightning B+Tree ÷ best peer"));
        assert!(!text.contains("Lightning LSM ÷ best peer"));
    }

    #[test]
    fn values_format_with_their_units() {
        assert_eq!(format_value(Metric::Time, 12.345), "12.3 s");
        assert_eq!(format_value(Metric::Time, 1.5), "1.50 s");
        assert_eq!(format_value(Metric::Time, 0.123_4), "123 ms");
        assert_eq!(format_value(Metric::Time, 0.000_042), "42.0 µs");
        assert_eq!(format_value(Metric::Throughput, 1_234_567.0), "1.23M");
        assert_eq!(format_value(Metric::Throughput, 45_600.0), "45.6k");
        assert_eq!(format_value(Metric::Throughput, 512.0), "512");
        assert_eq!(format_value(Metric::Bytes, 3.0 * 1073741824.0), "3.00 GiB");
        assert_eq!(format_value(Metric::Bytes, 1536.0), "1.50 KiB");
        assert_eq!(format_value(Metric::Factor, 2.345), "2.35×");
        assert_eq!(ratio_text(Some(1.5)), "1.50 behind");
        assert_eq!(ratio_text(Some(0.5)), "0.50 ahead");
        assert_eq!(ratio_text(Some(1.0)), "1.00 even");
        assert_eq!(ratio_text(None), "—");
    }
}

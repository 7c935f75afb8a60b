//! Running a compaction's merge: the versions of its input tables, merged in internal order,
//! written into new tables of the output level with the versions no read at or above the GC
//! horizon can see left out.
//!
//! Per user key (versions arrive newest first): every version above the horizon stays; the
//! newest version at or below it stays (it is what reads at the horizon see) unless it is a
//! tombstone and the output is bottommost (no deeper level can hold an older version for it to
//! hide); older versions go. Output tables close at the target file size, but only between
//! user keys, so no key's versions are split across two tables of a level.

use std::path::Path;

use lightning_core_storage::{Result, Timestamp, vfs::Vfs};

use crate::{
    InternalIter, TableMeta,
    merge::MergingIter,
    sstable::{TableOptions, TableWriter},
};

/// Where and how a compaction writes its output.
#[derive(Debug)]
pub struct OutputSpec<'a> {
    /// The file system.
    pub vfs: &'a dyn Vfs,
    /// The engine directory.
    pub dir: &'a Path,
    /// How tables are written.
    pub table: &'a TableOptions,
    /// An output table closes once it reaches this many bytes (at a user-key boundary).
    pub target_file_size: u64,
    /// Versions no read at or above it can see are dropped.
    pub horizon: Timestamp,
    /// Tombstones at or below the horizon may be dropped.
    pub bottommost: bool,
    /// Sorted user keys an output table never spans: one closes before the first key at or
    /// after each. An in-place rewrite of a level passes its inputs' smallest keys (all but
    /// the first), so its outputs stay inside its inputs' ranges and never overlap a table
    /// moved into a gap between them meanwhile.
    pub split_before: &'a [Vec<u8>],
}

/// What a compaction merge wrote.
#[derive(Debug, Default)]
pub struct MergeOutput {
    /// The tables written, in key order.
    pub tables: Vec<TableMeta>,
    /// Versions read from the inputs.
    pub versions_in: u64,
    /// Versions left out (garbage).
    pub versions_dropped: u64,
}

/// Merges `inputs` (positioned or not) into new tables numbered by `next_number`, which hands
/// out a fresh file number per call. On an error the tables already written are removed.
pub fn merge_into_tables(
    mut inputs: MergingIter,
    spec: &OutputSpec<'_>,
    next_number: &mut dyn FnMut() -> u64,
) -> Result<MergeOutput> {
    let mut output = MergeOutput::default();
    let result = merge_loop(&mut inputs, spec, next_number, &mut output);
    if result.is_err() {
        for table in &output.tables {
            let _ = spec.vfs.remove(&spec.dir.join(TableMeta::file_name(table.file_number)));
        }
    }
    result.map(|()| output)
}

fn merge_loop(
    inputs: &mut MergingIter,
    spec: &OutputSpec<'_>,
    next_number: &mut dyn FnMut() -> u64,
    output: &mut MergeOutput,
) -> Result<()> {
    let mut writer: Option<(u64, TableWriter)> = None;
    let mut key: Vec<u8> = Vec::new();
    let mut last_ts: Option<Timestamp> = None;
    let mut kept_visible = false;
    let mut boundaries = spec.split_before.iter().peekable();
    inputs.seek_to_first()?;
    while inputs.valid() {
        let (ts, value) = (inputs.ts(), inputs.value());
        if last_ts.is_none() || inputs.key() != key.as_slice() {
            key.clear();
            key.extend_from_slice(inputs.key());
            kept_visible = false;
            let mut crossed = false;
            while boundaries.next_if(|b| b.as_slice() <= key.as_slice()).is_some() {
                crossed = true;
            }
            let full = writer
                .as_ref()
                .is_some_and(|(_, w)| crossed || w.estimated_size() >= spec.target_file_size);
            if let Some((number, w)) = writer.take_if(|_| full) {
                finish(number, w, spec, output)?;
            }
        } else if last_ts == Some(ts) {
            // The same version from two inputs (a replayed batch): keep one.
            inputs.next()?;
            continue;
        }
        last_ts = Some(ts);
        output.versions_in += 1;
        let keep = if ts > spec.horizon {
            true
        } else if kept_visible {
            false
        } else {
            kept_visible = true;
            !(value.is_none() && spec.bottommost)
        };
        if keep {
            if writer.is_none() {
                let number = next_number();
                let path = spec.dir.join(TableMeta::file_name(number));
                writer = Some((number, TableWriter::create(spec.vfs, &path, number, spec.table)?));
            }
            if let Some((_, w)) = writer.as_mut() {
                w.add(&key, ts, value)?;
            }
        } else {
            output.versions_dropped += 1;
        }
        inputs.next()?;
    }
    if let Some((number, w)) = writer.take() {
        finish(number, w, spec, output)?;
    }
    Ok(())
}

fn finish(
    number: u64,
    writer: TableWriter,
    spec: &OutputSpec<'_>,
    output: &mut MergeOutput,
) -> Result<()> {
    match writer.finish() {
        Ok(meta) => {
            output.tables.push(meta);
            Ok(())
        }
        Err(e) => {
            let _ = spec.vfs.remove(&spec.dir.join(TableMeta::file_name(number)));
            Err(e)
        }
    }
}

//! The read path: point reads through memtables and levels, and scans over the merge of every
//! source.
//!
//! A read clones the current super version and holds no engine lock while it walks tables.
//! The active memtable (the only one taking inserts) is read under the apply gate (for
//! reading) so a batch being applied is seen all or nothing; scans that merge it take the gate
//! for one bounded step at a time ([`STEP_BUDGET`] versions examined) and never while a
//! `scan_with` visitor runs; scans of immutable sources take no lock at all.

use std::{ops::ControlFlow, sync::Arc};

use lightning_core_storage::{
    Result, Timestamp,
    engine::{Direction, EngineIter, KeyRange, Version, VersionedEntry, Visitor},
};

use super::{Shared, state::SuperVersion};
use crate::merge::{MergingIter, Step, VisibleIter};

/// Versions a scan examines per hold of the apply gate.
pub(crate) const STEP_BUDGET: usize = 256;

/// Entries a `scan_with` copies under its first hold of the gate before lending them; each
/// later hold copies twice as many, up to [`MAX_LEND_BATCH`]: a short range (seek + 10) copies
/// little more than it lends, a long one takes the gate rarely.
const FIRST_LEND_BATCH: usize = 4;

/// The most entries a `scan_with` copies per hold of the gate.
const MAX_LEND_BATCH: usize = 64;

impl Shared {
    /// The newest version of `key` at or below `read_ts`: memtables newest first, then L0
    /// newest first, then one table per deeper level; the first source holding one answers.
    pub(crate) fn get(&self, key: &[u8], read_ts: Timestamp) -> Result<Option<Version>> {
        let sv = self.current();
        {
            // Only the active memtable takes inserts: the gate is for it alone.
            let _gate = self.apply_gate.read();
            if let Some(found) = sv.active.get(key, read_ts) {
                return Ok(Some(found));
            }
        }
        for memtable in &sv.immutables {
            if let Some(found) = memtable.get(key, read_ts) {
                return Ok(Some(found));
            }
        }
        get_from_levels(&sv, key, read_ts)
    }
}

/// The point read below the memtables.
pub(crate) fn get_from_levels(
    sv: &SuperVersion,
    key: &[u8],
    read_ts: Timestamp,
) -> Result<Option<Version>> {
    for level in 0..sv.version.levels().len() {
        for meta in sv.version.tables_for_key(level, key) {
            if let Some(found) = sv.table(meta.file_number)?.get(key, read_ts)? {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

/// A scan cursor: the visible walk of a snapshot's merge, stepped under the apply gate.
struct Scan {
    shared: Arc<Shared>,
    /// Keeps the snapshot's memtables and tables alive.
    _sv: Arc<SuperVersion>,
    visible: VisibleIter<MergingIter>,
    /// The merge reads the active memtable (which takes inserts): steps take the gate.
    needs_gate: bool,
}

impl Scan {
    fn new(
        shared: &Arc<Shared>,
        range: KeyRange,
        read_ts: Timestamp,
        dir: Direction,
    ) -> Result<Scan> {
        let sv = shared.current();
        let merged = sv.merged()?;
        // An active memtable empty now is left out of the merge (`SuperVersion::merged`), so
        // inserts into it later are not seen at all, never half a batch.
        let needs_gate = !sv.active.is_empty();
        Ok(Scan {
            shared: Arc::clone(shared),
            _sv: sv,
            visible: VisibleIter::new(merged, range, read_ts, dir),
            needs_gate,
        })
    }

    /// The next entry (`None` at the end), taking the gate per bounded step.
    fn next_entry(&mut self) -> Result<Option<VersionedEntry>> {
        loop {
            let step = {
                let _gate = self.needs_gate.then(|| self.shared.apply_gate.read());
                self.visible.step(&mut STEP_BUDGET.clone())?
            };
            match step {
                Step::Entry(entry) => return Ok(Some(entry)),
                Step::Done => return Ok(None),
                Step::Paused => {}
            }
        }
    }

    /// Up to `max` entries into `out`, within one hold of the gate; false once the range ends.
    fn fill(&mut self, out: &mut Vec<VersionedEntry>, max: usize) -> Result<bool> {
        let _gate = self.needs_gate.then(|| self.shared.apply_gate.read());
        let mut budget = STEP_BUDGET;
        while out.len() < max && budget > 0 {
            match self.visible.step(&mut budget)? {
                Step::Entry(entry) => out.push(entry),
                Step::Done => return Ok(false),
                Step::Paused => {}
            }
        }
        Ok(true)
    }
}

impl Iterator for Scan {
    type Item = Result<VersionedEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry().transpose()
    }
}

/// [`lightning_core_storage::engine::StorageEngine::scan`].
pub(crate) fn scan(
    shared: &Arc<Shared>,
    range: KeyRange,
    read_ts: Timestamp,
    direction: Direction,
) -> Result<EngineIter> {
    let mut scan = Scan::new(shared, range, read_ts, direction)?;
    let mut failed = false;
    Ok(Box::new(std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let item = scan.next();
        failed = matches!(item, Some(Err(_)));
        item
    })))
}

/// [`lightning_core_storage::engine::StorageEngine::scan_with`]: copies a bounded batch under
/// the gate, then lends it with no lock held.
pub(crate) fn scan_with(
    shared: &Arc<Shared>,
    range: &KeyRange,
    read_ts: Timestamp,
    direction: Direction,
    visit: &mut Visitor<'_>,
) -> Result<()> {
    let mut scan = Scan::new(shared, range.clone(), read_ts, direction)?;
    if !scan.needs_gate {
        // Only immutable sources: no lock is held at all, so each entry is lent as it is found.
        while let Some(entry) = scan.next_entry()? {
            if visit(entry.as_ref()) == ControlFlow::Break(()) {
                break;
            }
        }
        return Ok(());
    }
    let mut batch = Vec::with_capacity(FIRST_LEND_BATCH);
    let mut batch_len = FIRST_LEND_BATCH;
    loop {
        batch.clear();
        let more = scan.fill(&mut batch, batch_len)?;
        for entry in &batch {
            if visit(entry.as_ref()) == ControlFlow::Break(()) {
                return Ok(());
            }
        }
        if !more {
            return Ok(());
        }
        batch_len = (batch_len * 2).min(MAX_LEND_BATCH);
    }
}

//! [`Manifest`]: the durable record of which tables make up the levels.
//!
//! A `MANIFEST-<n>` file is a log of checksummed records, each one encoded [`VersionEdit`];
//! the first is a snapshot of the whole state, the rest are changes. `CURRENT` names the live
//! manifest. Opening replays the log into a [`RecoveredState`]; [`Manifest::log_edit`] appends
//! an edit and syncs it; when the log grows past a bound the state is written as one snapshot
//! into a new manifest and CURRENT is switched to it atomically. The format is specified byte
//! by byte in `docs/format/manifest.md`.
//!
//! Crash rules (what open decides, so that a power cut at any moment leaves the state before
//! or after the interrupted edit, never a mix, and never starts empty over data):
//! - a damaged tail after the last valid record is an interrupted append: dropped, logged with
//!   its size, and cut off before the next append;
//! - a damaged record followed by a valid one is `Corruption` naming the file and offset;
//! - CURRENT naming a missing manifest, a manifest without a valid snapshot, or manifests
//!   (or tables) present without CURRENT are `Corruption` — except the one trace an
//!   interrupted *creation* leaves: `MANIFEST-000001` holding a prefix of the initial empty
//!   snapshot and nothing else, which is created afresh.

mod codec;
mod files;
pub mod format;
mod open;
mod orphans;
mod replay;
#[cfg(test)]
mod tests;

use std::{collections::BTreeSet, path::PathBuf, sync::Arc};

use lightning_core_storage::{
    Error, Lsn, Poison, Result, Timestamp,
    vfs::{FileHandle, Vfs},
};

pub use orphans::orphan_files;

use crate::version::{Version, VersionEdit};
use format::{RecordKind, frame_record, manifest_name};

/// When a manifest's log is rewritten as one snapshot in a new manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManifestOptions {
    /// Rewrite once the live manifest is longer than this many bytes (default 4 MiB).
    pub max_log_bytes: u64,
    /// Rewrite once this many edits follow the snapshot (default 10 000), which bounds the
    /// work of replaying the log on open.
    pub max_log_edits: u64,
}

impl Default for ManifestOptions {
    fn default() -> Self {
        ManifestOptions { max_log_bytes: 4 << 20, max_log_edits: 10_000 }
    }
}

/// What the manifest knows after replaying its log: the levels and the engine's counters
/// (for each counter the last edit that carried one wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveredState {
    /// The levels.
    pub version: Version,
    /// The next file number to hand out; above every live table's number.
    pub next_file_number: u64,
    /// Every write at or below this LSN is in a table.
    pub durable_lsn: Lsn,
    /// The largest commit timestamp in any table.
    pub max_commit_ts: Timestamp,
}

impl RecoveredState {
    /// The state of a new, empty engine.
    pub fn empty(num_levels: usize) -> Self {
        RecoveredState {
            version: Version::empty(num_levels),
            next_file_number: 1,
            durable_lsn: Lsn::ZERO,
            max_commit_ts: Timestamp::ZERO,
        }
    }

    /// The snapshot edit that rebuilds this state from nothing.
    pub fn snapshot_edit(&self) -> VersionEdit {
        VersionEdit::snapshot(
            &self.version,
            self.next_file_number,
            self.durable_lsn,
            self.max_commit_ts,
        )
    }

    /// The state after `edit` (whose tables have been applied to give `version`).
    fn with_edit(&self, version: Version, edit: &VersionEdit) -> RecoveredState {
        let mut next = RecoveredState {
            version,
            next_file_number: edit.next_file_number.unwrap_or(self.next_file_number),
            durable_lsn: edit.durable_lsn.unwrap_or(self.durable_lsn),
            max_commit_ts: edit.max_commit_ts.unwrap_or(self.max_commit_ts),
        };
        // Never hand out a live table's number again, whatever the edits said.
        if let Some(highest) = next.version.max_file_number() {
            next.next_file_number = next.next_file_number.max(highest.saturating_add(1));
        }
        next
    }
}

/// The live manifest, open for appending. Not shared: the engine serialises its edits (one
/// `&mut` holder, typically behind the engine's version lock).
#[derive(Debug)]
pub struct Manifest {
    vfs: Arc<dyn Vfs>,
    dir: PathBuf,
    options: ManifestOptions,
    /// The live manifest's number (its checksum seed) and open file.
    number: u64,
    file: FileHandle,
    /// Where the next record goes.
    log_len: u64,
    /// Delta records after the snapshot.
    edits_in_log: u64,
    state: RecoveredState,
    /// Set by any failed write or sync: what is durable is then unknown until reopen.
    poison: Poison,
}

impl Manifest {
    /// The live manifest's file name (`MANIFEST-<n>`).
    pub fn current_name(&self) -> String {
        manifest_name(self.number)
    }

    /// The live manifest's number.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The state as of the last logged edit.
    pub fn state(&self) -> &RecoveredState {
        &self.state
    }

    /// The levels as of the last logged edit.
    pub fn version(&self) -> &Version {
        &self.state.version
    }

    /// The file numbers of every table the state references.
    pub fn live_file_numbers(&self) -> BTreeSet<u64> {
        self.state.version.live_file_numbers()
    }

    /// The live manifest's length in bytes.
    pub fn log_bytes(&self) -> u64 {
        self.log_len
    }

    /// Edits logged after the live manifest's snapshot.
    pub fn edits_in_log(&self) -> u64 {
        self.edits_in_log
    }

    /// The directory the manifest lives in.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Appends `edit` and syncs it: durable on return. Then, if the log has grown past the
    /// bounds of [`ManifestOptions`], rewrites it (see [`Manifest::rewrite`]).
    ///
    /// `InvalidInput` (nothing written, still usable) if the edit does not apply to the state
    /// (removes a table that is not there, overlaps a level...) or cannot be encoded. Any I/O
    /// failure poisons the manifest: every later call fails with `Poisoned`, and only a reopen
    /// settles whether the edit is durable.
    pub fn log_edit(&mut self, edit: &VersionEdit) -> Result<()> {
        self.poison.check()?;
        let version = self.state.version.apply(edit).map_err(|e| {
            Error::InvalidInput(format!("version edit does not apply to the manifest: {e}"))
        })?;
        let payload = codec::encode_payload(RecordKind::Delta, edit)?;
        let record = frame_record(self.number, &payload);
        let appended =
            self.file.write_all_at(&record, self.log_len).and_then(|()| self.file.sync_data());
        if let Err(e) = appended {
            return Err(self.poison.fail(e));
        }
        self.log_len += record.len() as u64;
        self.edits_in_log += 1;
        self.state = self.state.with_edit(version, edit);
        if self.log_len > self.options.max_log_bytes
            || self.edits_in_log >= self.options.max_log_edits
        {
            self.rewrite()?;
        }
        Ok(())
    }

    /// Writes the state as one snapshot into manifest `n + 1`, switches CURRENT to it and
    /// removes the old manifest. A power cut at any point leaves CURRENT naming one of the two,
    /// each complete and holding the same state. A failure poisons the manifest.
    pub fn rewrite(&mut self) -> Result<()> {
        self.poison.check()?;
        let old_name = self.current_name();
        let number = self.number + 1;
        let payload = codec::encode_payload(RecordKind::Snapshot, &self.state.snapshot_edit())
            .map_err(|e| self.poison.fail(e))?;
        let record = frame_record(number, &payload);
        let file = files::create_manifest(&*self.vfs, &self.dir, number, &record)
            .and_then(|file| {
                files::install_current(&*self.vfs, &self.dir, &manifest_name(number))?;
                Ok(file)
            })
            .map_err(|e| self.poison.fail(e))?;
        self.number = number;
        self.file = file;
        self.log_len = record.len() as u64;
        self.edits_in_log = 0;
        // Not synced: if the removal is lost, the old manifest is an orphan, deleted on open.
        if let Err(e) = self.vfs.remove(&self.dir.join(&old_name)) {
            tracing::warn!(manifest = %old_name, error = %e, "could not remove the old manifest; it is left as an orphan");
        }
        tracing::debug!(manifest = %self.current_name(), bytes = self.log_len, "manifest rewritten as a snapshot");
        Ok(())
    }
}

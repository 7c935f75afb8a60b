//! [`Manifest::open`]: create the first manifest in an empty directory, or replay the live one.

use std::{path::Path, sync::Arc};

use lightning_core_storage::{
    Error, Poison, Result,
    vfs::{OpenMode, Vfs, create_dir_durably},
};

use super::{
    Manifest, ManifestOptions, RecoveredState, codec,
    files::{create_manifest, install_current, read_all, read_current},
    format::{CURRENT, RecordKind, frame_record, manifest_name, parse_manifest_name},
    replay::{location, read_log},
};
use crate::version::EDIT_LOCATION;

/// The most levels a manifest can record (a level is stored in one byte).
pub const MAX_LEVELS: usize = 256;

/// The number of the first manifest a directory gets.
const FIRST_MANIFEST: u64 = 1;

impl Manifest {
    /// Opens the manifest of `dir` with the default [`ManifestOptions`]: creates
    /// `MANIFEST-000001` and CURRENT if the directory holds no manifest and no table, else
    /// reads CURRENT and replays the live manifest. Returns the manifest, open for appending,
    /// and the state it holds.
    pub fn open(
        vfs: Arc<dyn Vfs>,
        dir: &Path,
        num_levels: usize,
    ) -> Result<(Manifest, RecoveredState)> {
        Self::open_with_options(vfs, dir, num_levels, ManifestOptions::default())
    }

    /// [`Manifest::open`] with chosen rewrite bounds.
    pub fn open_with_options(
        vfs: Arc<dyn Vfs>,
        dir: &Path,
        num_levels: usize,
        options: ManifestOptions,
    ) -> Result<(Manifest, RecoveredState)> {
        Self::open_inner(vfs, dir, num_levels, options, true)
    }

    /// Opens an existing manifest only: a directory without CURRENT is `Corruption` (for
    /// opening a database that must already exist).
    pub fn open_existing(
        vfs: Arc<dyn Vfs>,
        dir: &Path,
        num_levels: usize,
        options: ManifestOptions,
    ) -> Result<(Manifest, RecoveredState)> {
        Self::open_inner(vfs, dir, num_levels, options, false)
    }

    fn open_inner(
        vfs: Arc<dyn Vfs>,
        dir: &Path,
        num_levels: usize,
        options: ManifestOptions,
        may_create: bool,
    ) -> Result<(Manifest, RecoveredState)> {
        if num_levels == 0 || num_levels > MAX_LEVELS {
            return Err(Error::InvalidInput(format!(
                "num_levels must be 1..={MAX_LEVELS}, not {num_levels}"
            )));
        }
        if !vfs.exists(dir)? {
            if !may_create {
                return Err(missing_current(dir));
            }
            create_dir_durably(&*vfs, dir)?;
        }
        let names = vfs.list(dir)?;
        if names.iter().any(|name| name == CURRENT) {
            return Self::replay(vfs, dir, num_levels, options);
        }
        if !may_create {
            return Err(missing_current(dir));
        }
        refuse_data_without_current(&*vfs, dir, &names)?;
        Self::create(vfs, dir, num_levels, options)
    }

    /// A new directory's first manifest: the empty state as its snapshot, then CURRENT.
    fn create(
        vfs: Arc<dyn Vfs>,
        dir: &Path,
        num_levels: usize,
        options: ManifestOptions,
    ) -> Result<(Manifest, RecoveredState)> {
        let state = RecoveredState::empty(num_levels);
        let record = initial_record()?;
        let file = create_manifest(&*vfs, dir, FIRST_MANIFEST, &record)?;
        install_current(&*vfs, dir, &manifest_name(FIRST_MANIFEST))?;
        let manifest = Manifest {
            vfs,
            dir: dir.to_path_buf(),
            options,
            number: FIRST_MANIFEST,
            file,
            log_len: record.len() as u64,
            snapshot_len: record.len() as u64,
            edits_in_log: 0,
            state: state.clone(),
            poison: Poison::new(),
        };
        Ok((manifest, state))
    }

    /// Reads CURRENT, replays the manifest it names and cuts off a torn tail.
    fn replay(
        vfs: Arc<dyn Vfs>,
        dir: &Path,
        num_levels: usize,
        options: ManifestOptions,
    ) -> Result<(Manifest, RecoveredState)> {
        let (name, number) = read_current(&*vfs, dir)?;
        let path = dir.join(&name);
        if !vfs.exists(&path)? {
            return Err(Error::corruption(
                format!("CURRENT names {name}, which does not exist"),
                CURRENT,
            ));
        }
        let file = vfs.open(&path, OpenMode::ReadWrite)?;
        let log = read_log(&read_all(&file)?, number, &name)?;
        let Some(first) = log.records.first() else {
            return Err(Error::corruption(
                "the manifest holds no valid record",
                location(&name, 0),
            ));
        };
        if first.kind != RecordKind::Snapshot {
            return Err(Error::corruption(
                "the manifest's first record is not a snapshot",
                location(&name, first.offset),
            ));
        }
        let mut state = RecoveredState::empty(num_levels);
        for record in &log.records {
            if record.kind == RecordKind::Snapshot && record.offset != first.offset {
                return Err(Error::corruption(
                    "a snapshot record after the first record",
                    location(&name, record.offset),
                ));
            }
            let version = state.version.apply(&record.edit).map_err(|e| match e {
                Error::Corruption { what, location: at } if at == EDIT_LOCATION => {
                    Error::corruption(what, location(&name, record.offset))
                }
                other => other,
            })?;
            state = state.with_edit(version, &record.edit);
        }
        if log.torn_bytes() > 0 {
            tracing::warn!(
                manifest = %name,
                offset = log.valid_len,
                bytes = log.torn_bytes(),
                "dropping a torn tail after the last valid manifest record (an append cut short by a crash)"
            );
            file.set_len(log.valid_len)?;
            file.sync_data()?;
        }
        let manifest = Manifest {
            vfs,
            dir: dir.to_path_buf(),
            options,
            number,
            file,
            log_len: log.valid_len,
            snapshot_len: log.records.get(1).map_or(log.valid_len, |second| second.offset),
            edits_in_log: log.records.len() as u64 - 1,
            state: state.clone(),
            poison: Poison::new(),
        };
        Ok((manifest, state))
    }
}

fn missing_current(dir: &Path) -> Error {
    Error::corruption(
        "no CURRENT file: the LSM directory holds no manifest",
        dir.display().to_string(),
    )
}

/// The first record of `MANIFEST-000001`: the empty state as a snapshot.
fn initial_record() -> Result<Vec<u8>> {
    let snapshot = RecoveredState::empty(1).snapshot_edit();
    Ok(frame_record(FIRST_MANIFEST, &codec::encode_payload(RecordKind::Snapshot, &snapshot)?))
}

/// Without CURRENT, the directory must hold no data: no table, and no manifest except the
/// trace of an interrupted creation (`MANIFEST-000001` holding a prefix of the initial record),
/// which is logged and replaced. Anything else is `Corruption`: never start empty over data.
fn refuse_data_without_current(vfs: &dyn Vfs, dir: &Path, names: &[String]) -> Result<()> {
    if let Some(table) = names.iter().find(|name| name.ends_with(".sst")) {
        return Err(Error::corruption(
            format!("table {table} is present but there is no CURRENT file"),
            dir.display().to_string(),
        ));
    }
    let manifests: Vec<&String> =
        names.iter().filter(|name| parse_manifest_name(name).is_some()).collect();
    let first = manifest_name(FIRST_MANIFEST);
    match manifests.as_slice() {
        [] => Ok(()),
        [only] if **only == first => {
            let bytes = read_all(&vfs.open(&dir.join(&first), OpenMode::Read)?)?;
            if initial_record()?.starts_with(&bytes) {
                tracing::warn!(
                    manifest = %first,
                    bytes = bytes.len(),
                    "no CURRENT and an unfinished first manifest: an interrupted creation, starting it again"
                );
                Ok(())
            } else {
                Err(Error::corruption(
                    format!("{first} holds data but there is no CURRENT file"),
                    dir.display().to_string(),
                ))
            }
        }
        _ => Err(Error::corruption(
            format!(
                "manifests {} are present but there is no CURRENT file",
                manifests.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
            dir.display().to_string(),
        )),
    }
}

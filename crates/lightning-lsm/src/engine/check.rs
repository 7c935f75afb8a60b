//! [`Shared::check`]: every table's own check (checksums, key order, index, filter and
//! properties), the level invariants of the version, and the manifest's agreement with the
//! directory (each live table exists with the size recorded).

use lightning_core_storage::{
    Result,
    engine::{CheckProblem, CheckReport},
    vfs::OpenMode,
};

use super::Shared;
use crate::TableMeta;

impl Shared {
    /// Checks the engine; damage is a problem in the report, `Err` only if the check could not
    /// run.
    pub(crate) fn check(&self) -> Result<CheckReport> {
        // Under the manifest lock, the current version is the one the manifest last logged.
        let manifest = self.manifest.lock();
        let sv = self.current();
        let mut problems = Vec::new();
        let mut tables = 0u64;
        let mut table_versions = 0u64;
        for what in sv.version.check_invariants() {
            problems
                .push(CheckProblem { location: format!("{} version", self.dir.display()), what });
        }
        {
            let recorded = manifest.live_file_numbers();
            let held: std::collections::BTreeSet<u64> =
                sv.version.levels().iter().flatten().map(|m| m.file_number).collect();
            if recorded != held {
                problems.push(CheckProblem {
                    location: manifest.current_name(),
                    what: format!(
                        "the manifest names tables {recorded:?}, the engine reads {held:?}"
                    ),
                });
            }
        }
        drop(manifest);
        for meta in sv.version.levels().iter().flatten() {
            tables += 1;
            table_versions += meta.entries;
            let name = TableMeta::file_name(meta.file_number);
            let path = self.table_path(meta.file_number);
            if !self.vfs.exists(&path)? {
                problems.push(CheckProblem {
                    location: name,
                    what: "a live table's file is missing".into(),
                });
                continue;
            }
            let size = self.vfs.open(&path, OpenMode::Read)?.len()?;
            if size != meta.file_size {
                problems.push(CheckProblem {
                    location: name.clone(),
                    what: format!(
                        "the file is {size} bytes, the manifest recorded {}",
                        meta.file_size
                    ),
                });
            }
            problems.extend(sv.table(meta.file_number)?.check()?);
        }
        let memtable_versions: u64 = sv.memtables().map(|m| m.len() as u64).sum();
        let counts = vec![
            ("levels".to_string(), sv.version.levels().len() as u64),
            ("tables".to_string(), tables),
            ("table_versions".to_string(), table_versions),
            ("memtables".to_string(), sv.memtables().count() as u64),
            ("memtable_versions".to_string(), memtable_versions),
        ];
        Ok(CheckReport { engine: "lsm".into(), counts, problems })
    }
}

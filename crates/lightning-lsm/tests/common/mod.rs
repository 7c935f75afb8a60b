//! Shared by the LSM engine's tests: a model of the versions a workload wrote, and the engine
//! on a `FaultFs`.

#![allow(dead_code)]

use std::{collections::BTreeMap, path::Path, sync::Arc};

use lightning_core_storage::{
    Lsn, Timestamp,
    engine::{EngineBatch, StorageEngine, Version, VersionedEntry},
    vfs::{FaultFs, Vfs},
};
use lightning_lsm::{LsmEngine, LsmOptions};

/// Where the engine lives on the fault-injecting file system.
pub const DIR: &str = "/db/lsm";

/// The engine in [`DIR`] over `fs`.
pub fn open(fs: &FaultFs, options: &LsmOptions) -> lightning_core_storage::Result<LsmEngine> {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    LsmEngine::open(vfs, Path::new(DIR), options.clone())
}

/// The engine-specific counter `name` of `engine`'s stats (0 if it reports none).
pub fn stat(engine: &LsmEngine, name: &str) -> u64 {
    let stats = engine.stats().expect("stats");
    stats.extra.iter().find(|(n, _)| n == name).map_or(0, |(_, v)| *v)
}

/// Applies one put of `key` at timestamp and LSN `at`.
pub fn put(engine: &LsmEngine, key: &[u8], value: &[u8], at: u64) {
    let mut batch = EngineBatch::new();
    batch.put(key, value);
    engine.apply(&batch, Timestamp(at), Lsn(at)).expect("apply");
}

/// Puts 100-byte values under keys `k000001`, ... until a memtable is waiting to be flushed;
/// returns the next unused timestamp.
pub fn fill_until_immutable(engine: &LsmEngine) -> u64 {
    let mut at = 1;
    while stat(engine, "immutable_memtables") < 1 {
        put(engine, format!("k{at:06}").as_bytes(), &[7; 100], at);
        at += 1;
    }
    at
}

/// Every version written, by key and timestamp: what an engine without GC would hold.
#[derive(Debug, Default, Clone)]
pub struct Model {
    versions: BTreeMap<(Vec<u8>, u64), Option<Vec<u8>>>,
}

impl Model {
    /// Records `batch` applied at `ts` (a later write of a key in the batch wins).
    pub fn apply(&mut self, batch: &EngineBatch, ts: u64) {
        for op in batch.ops() {
            self.versions.insert((op.key().to_vec(), ts), op.value().map(<[u8]>::to_vec));
        }
    }

    /// The newest version of `key` at or below `at`.
    pub fn get(&self, key: &[u8], at: u64) -> Option<Version> {
        self.versions
            .range((key.to_vec(), 0)..=(key.to_vec(), at))
            .next_back()
            .map(|((_, ts), value)| Version { commit_ts: Timestamp(*ts), value: value.clone() })
    }

    /// The first distinct key at or after `from` (`None` past the end).
    fn key_at_or_after(&self, from: &[u8]) -> Option<&Vec<u8>> {
        self.versions.range((from.to_vec(), 0)..).next().map(|((k, _), _)| k)
    }

    /// The last distinct key before `before` (`None` for unbounded: the very last).
    fn key_before(&self, before: Option<&[u8]>) -> Option<&Vec<u8>> {
        match before {
            Some(b) => self.versions.range(..(b.to_vec(), 0)).next_back().map(|((k, _), _)| k),
            None => self.versions.keys().next_back().map(|(k, _)| k),
        }
    }

    /// Up to `limit` visible entries at `at` in `[lo, hi)` (forward or reverse), skipping
    /// those `hide` rejects.
    pub fn scan(
        &self,
        lo: &[u8],
        hi: Option<&[u8]>,
        at: u64,
        reverse: bool,
        limit: usize,
        hide: impl Fn(&VersionedEntry) -> bool,
    ) -> Vec<VersionedEntry> {
        let mut out = Vec::new();
        let mut cursor: Option<Vec<u8>> =
            if reverse { self.key_before(hi).cloned() } else { self.key_at_or_after(lo).cloned() };
        while let Some(key) = cursor {
            let inside = key.as_slice() >= lo && hi.is_none_or(|h| key.as_slice() < h);
            if !inside || out.len() >= limit {
                break;
            }
            if let Some(v) = self.get(&key, at) {
                let entry =
                    VersionedEntry { key: key.clone(), commit_ts: v.commit_ts, value: v.value };
                if !hide(&entry) {
                    out.push(entry);
                }
            }
            cursor = if reverse {
                self.key_before(Some(&key)).cloned()
            } else {
                let mut next = key.clone();
                next.push(0);
                self.key_at_or_after(&next).cloned()
            };
        }
        out
    }
}

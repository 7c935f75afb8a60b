//! [`MemoryEngine`]: the reference implementation of the engine trait, in memory.
//!
//! It is the executable statement of the contract: the conformance suite runs against it, and
//! the layers above use it for fast tests. "Durable" here means "kept by the last checkpoint":
//! [`MemoryEngine::crash_and_reopen`] throws away everything applied since, as a process crash
//! would for a real engine.

use std::{cmp::Reverse, collections::BTreeMap, ops::Bound, sync::Arc};

use parking_lot::{Mutex, RwLock};

use super::{
    CheckProblem, CheckReport, Direction, DurableState, EngineBatch, EngineIter, EngineStats,
    KeyRange, StorageEngine, Version, VersionedEntry,
};
use crate::{Lsn, Result, Timestamp};

/// Versions by key, newest first within a key.
type Versions = BTreeMap<(Vec<u8>, Reverse<Timestamp>), Option<Vec<u8>>>;

#[derive(Debug, Default, Clone)]
struct Contents {
    versions: Versions,
    /// Highest LSN applied.
    applied_lsn: Lsn,
    max_commit_ts: Timestamp,
}

/// An in-memory engine whose checkpoints survive a simulated crash.
#[derive(Debug, Clone, Default)]
pub struct MemoryEngine {
    live: Arc<RwLock<Contents>>,
    /// What the last checkpoint kept: the engine's "disk".
    checkpointed: Arc<Mutex<Contents>>,
}

impl MemoryEngine {
    /// An empty engine.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new engine holding what this one had checkpointed: what a real engine would hold after
    /// a crash and reopen.
    pub fn crash_and_reopen(&self) -> MemoryEngine {
        let durable = self.checkpointed.lock().clone();
        MemoryEngine {
            live: Arc::new(RwLock::new(durable.clone())),
            checkpointed: Arc::new(Mutex::new(durable)),
        }
    }
}

fn newest_at(versions: &Versions, key: &[u8], read_ts: Timestamp) -> Option<Version> {
    let from = (key.to_vec(), Reverse(read_ts));
    versions
        .range(from..)
        .next()
        .filter(|((k, _), _)| k.as_slice() == key)
        .map(|((_, Reverse(ts)), value)| Version { commit_ts: *ts, value: value.clone() })
}

impl StorageEngine for MemoryEngine {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn get(&self, key: &[u8], read_ts: Timestamp) -> Result<Option<Version>> {
        Ok(newest_at(&self.live.read().versions, key, read_ts))
    }

    fn scan(
        &self,
        range: KeyRange,
        read_ts: Timestamp,
        direction: Direction,
    ) -> Result<EngineIter> {
        let contents = self.live.read();
        let start = match &range.start {
            Bound::Included(k) => Bound::Included((k.clone(), Reverse(Timestamp::MAX))),
            Bound::Excluded(k) => Bound::Excluded((k.clone(), Reverse(Timestamp::ZERO))),
            Bound::Unbounded => Bound::Unbounded,
        };
        let mut entries: Vec<VersionedEntry> = Vec::new();
        for ((key, Reverse(ts)), value) in contents.versions.range((start, Bound::Unbounded)) {
            let past_end = match &range.end {
                Bound::Included(end) => key > end,
                Bound::Excluded(end) => key >= end,
                Bound::Unbounded => false,
            };
            if past_end {
                break;
            }
            if *ts > read_ts || entries.last().is_some_and(|e| &e.key == key) {
                continue;
            }
            entries.push(VersionedEntry { key: key.clone(), commit_ts: *ts, value: value.clone() });
        }
        if direction == Direction::Reverse {
            entries.reverse();
        }
        Ok(Box::new(entries.into_iter().map(Ok)))
    }

    fn apply(&self, batch: &EngineBatch, commit_ts: Timestamp, lsn: Lsn) -> Result<()> {
        let mut contents = self.live.write();
        for op in batch.ops() {
            let key = (op.key().to_vec(), Reverse(commit_ts));
            contents.versions.insert(key, op.value().map(<[u8]>::to_vec));
        }
        contents.applied_lsn = contents.applied_lsn.max(lsn);
        contents.max_commit_ts = contents.max_commit_ts.max(commit_ts);
        Ok(())
    }

    fn durable_state(&self) -> DurableState {
        let durable = self.checkpointed.lock();
        DurableState {
            lsn: durable.applied_lsn,
            log_floor: durable.applied_lsn,
            max_commit_ts: durable.max_commit_ts,
        }
    }

    fn checkpoint(&self) -> Result<DurableState> {
        let snapshot = self.live.read().clone();
        let state = DurableState {
            lsn: snapshot.applied_lsn,
            log_floor: snapshot.applied_lsn,
            max_commit_ts: snapshot.max_commit_ts,
        };
        *self.checkpointed.lock() = snapshot;
        Ok(state)
    }

    fn collect_garbage(&self, horizon: Timestamp) -> Result<u64> {
        let mut contents = self.live.write();
        let mut doomed = Vec::new();
        let mut current_key: Option<&[u8]> = None;
        let mut seen_visible = false;
        for ((key, Reverse(ts)), value) in &contents.versions {
            if current_key != Some(key.as_slice()) {
                current_key = Some(key.as_slice());
                seen_visible = false;
            }
            if *ts > horizon {
                continue;
            }
            // The newest version at or below the horizon is what reads at the horizon see; it
            // stays unless it is a tombstone (then "absent" reads the same). Older ones go.
            if seen_visible || value.is_none() {
                doomed.push((key.clone(), Reverse(*ts)));
            }
            seen_visible = true;
        }
        for key in &doomed {
            contents.versions.remove(key);
        }
        Ok(doomed.len() as u64)
    }

    fn stats(&self) -> Result<EngineStats> {
        let contents = self.live.read();
        let memory_bytes = contents
            .versions
            .iter()
            .map(|((k, _), v)| (k.len() + 8 + v.as_ref().map_or(0, Vec::len)) as u64)
            .sum();
        Ok(EngineStats {
            engine: self.name().to_string(),
            versions: contents.versions.len() as u64,
            disk_bytes: 0,
            memory_bytes,
            durable_lsn: self.durable_state().lsn,
            extra: Vec::new(),
        })
    }

    /// Checks what the engine can get wrong in memory: versions above the highest commit
    /// timestamp applied.
    fn check(&self) -> Result<CheckReport> {
        let contents = self.live.read();
        let problems = contents
            .versions
            .keys()
            .filter(|(_, Reverse(ts))| *ts > contents.max_commit_ts)
            .map(|(key, Reverse(ts))| CheckProblem {
                location: format!("memory engine key {key:02x?}"),
                what: format!("version at {ts:?} is above the highest commit timestamp applied"),
            })
            .collect();
        Ok(CheckReport {
            engine: self.name().to_string(),
            counts: vec![("versions".to_string(), contents.versions.len() as u64)],
            problems,
        })
    }
}

//! Plain data exchanged through the engine trait.

use std::ops::{Bound, RangeBounds};

use crate::{Lsn, Result, Timestamp};

/// One write of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    /// Sets `key` to `value` (the empty value is a value).
    Put {
        /// The key.
        key: Vec<u8>,
        /// The value.
        value: Vec<u8>,
    },
    /// Deletes `key` (stores a tombstone version).
    Delete {
        /// The key.
        key: Vec<u8>,
    },
}

impl WriteOp {
    /// The key written.
    pub fn key(&self) -> &[u8] {
        match self {
            WriteOp::Put { key, .. } | WriteOp::Delete { key } => key,
        }
    }

    /// The value, or `None` for a delete.
    pub fn value(&self) -> Option<&[u8]> {
        match self {
            WriteOp::Put { value, .. } => Some(value),
            WriteOp::Delete { .. } => None,
        }
    }
}

/// Writes applied together at one commit timestamp. If a key appears twice, the later write
/// wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineBatch {
    ops: Vec<WriteOp>,
    size_bytes: usize,
}

impl EngineBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a put.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.push(WriteOp::Put { key: key.into(), value: value.into() });
    }

    /// Adds a delete.
    pub fn delete(&mut self, key: impl Into<Vec<u8>>) {
        self.push(WriteOp::Delete { key: key.into() });
    }

    /// Adds a write.
    pub fn push(&mut self, op: WriteOp) {
        self.size_bytes += op.key().len() + op.value().map_or(0, <[u8]>::len);
        self.ops.push(op);
    }

    /// The writes in order.
    pub fn ops(&self) -> &[WriteOp] {
        &self.ops
    }

    /// Number of writes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True if the batch has no writes.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Bytes of keys and values.
    pub fn size_bytes(&self) -> usize {
        self.size_bytes
    }
}

/// One version of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// When it was committed.
    pub commit_ts: Timestamp,
    /// The value, or `None` for a tombstone.
    pub value: Option<Vec<u8>>,
}

/// A key and one of its versions, as scans yield them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedEntry {
    /// The key.
    pub key: Vec<u8>,
    /// When this version was committed.
    pub commit_ts: Timestamp,
    /// The value, or `None` for a tombstone.
    pub value: Option<Vec<u8>>,
}

/// A key and one of its versions, borrowed from the engine for the duration of a
/// [`StorageEngine::scan_with`](super::StorageEngine::scan_with) call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    /// The key.
    pub key: &'a [u8],
    /// When this version was committed.
    pub commit_ts: Timestamp,
    /// The value, or `None` for a tombstone.
    pub value: Option<&'a [u8]>,
}

impl EntryRef<'_> {
    /// An owned copy.
    pub fn to_owned(&self) -> VersionedEntry {
        VersionedEntry {
            key: self.key.to_vec(),
            commit_ts: self.commit_ts,
            value: self.value.map(<[u8]>::to_vec),
        }
    }
}

impl VersionedEntry {
    /// A borrowed view.
    pub fn as_ref(&self) -> EntryRef<'_> {
        EntryRef { key: &self.key, commit_ts: self.commit_ts, value: self.value.as_deref() }
    }
}

/// What [`StorageEngine::scan_with`](super::StorageEngine::scan_with) calls for each entry:
/// `Break` ends the scan.
pub type Visitor<'v> = dyn FnMut(EntryRef<'_>) -> std::ops::ControlFlow<()> + 'v;

/// Scan order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Ascending keys.
    Forward,
    /// Descending keys.
    Reverse,
}

/// An iterator over a scan's entries. It owns its state, so it can outlive the engine borrow.
pub type EngineIter = Box<dyn Iterator<Item = Result<VersionedEntry>> + Send>;

/// A range of keys with owned bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    /// Lower bound.
    pub start: Bound<Vec<u8>>,
    /// Upper bound.
    pub end: Bound<Vec<u8>>,
}

impl KeyRange {
    /// Every key.
    pub fn all() -> Self {
        KeyRange { start: Bound::Unbounded, end: Bound::Unbounded }
    }

    /// The keys within `bounds`.
    pub fn new<K: AsRef<[u8]>>(bounds: impl RangeBounds<K>) -> Self {
        let own = |b: Bound<&K>| match b {
            Bound::Included(k) => Bound::Included(k.as_ref().to_vec()),
            Bound::Excluded(k) => Bound::Excluded(k.as_ref().to_vec()),
            Bound::Unbounded => Bound::Unbounded,
        };
        KeyRange { start: own(bounds.start_bound()), end: own(bounds.end_bound()) }
    }

    /// Every key that starts with `prefix`.
    pub fn prefix(prefix: &[u8]) -> Self {
        let end = prefix_successor(prefix).map_or(Bound::Unbounded, Bound::Excluded);
        KeyRange { start: Bound::Included(prefix.to_vec()), end }
    }

    /// True if no key can be in the range (start above end, or equal with an end excluded).
    /// `BTreeMap::range` panics on such bounds; callers check this first.
    pub fn is_empty(&self) -> bool {
        match (&self.start, &self.end) {
            (Bound::Unbounded, _) | (_, Bound::Unbounded) => false,
            (Bound::Included(s), Bound::Included(e)) => s > e,
            (Bound::Included(s), Bound::Excluded(e))
            | (Bound::Excluded(s), Bound::Included(e))
            | (Bound::Excluded(s), Bound::Excluded(e)) => s >= e,
        }
    }

    /// True if `key` is in the range.
    pub fn contains(&self, key: &[u8]) -> bool {
        let above_start = match &self.start {
            Bound::Included(s) => key >= s.as_slice(),
            Bound::Excluded(s) => key > s.as_slice(),
            Bound::Unbounded => true,
        };
        let below_end = match &self.end {
            Bound::Included(e) => key <= e.as_slice(),
            Bound::Excluded(e) => key < e.as_slice(),
            Bound::Unbounded => true,
        };
        above_start && below_end
    }

    /// The bounds as borrowed slices, for `BTreeMap::range` and friends.
    pub fn as_slices(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        fn borrow(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
            b.as_ref().map(Vec::as_slice)
        }
        (borrow(&self.start), borrow(&self.end))
    }
}

/// The smallest key greater than every key starting with `prefix`, if there is one (there is
/// none when the prefix is empty or all `0xff`).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// What an engine has made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DurableState {
    /// Every batch at or below this LSN survives a crash.
    pub lsn: Lsn,
    /// The LSN of the oldest durable state the engine may fall back to at open (the B+Tree's
    /// older meta slot, should the newest be damaged); at most `lsn`. The log must keep every
    /// record above it: truncate only below `log_floor + 1`.
    pub log_floor: Lsn,
    /// The highest commit timestamp among durable versions (the timestamp oracle restarts
    /// above it).
    pub max_commit_ts: Timestamp,
}

/// Counters an engine reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EngineStats {
    /// The engine's name.
    pub engine: String,
    /// Versions stored (tombstones included), exact or estimated.
    pub versions: u64,
    /// Bytes on disk.
    pub disk_bytes: u64,
    /// Bytes held in memory (memtables, dirty pages).
    pub memory_bytes: u64,
    /// The durable LSN.
    pub durable_lsn: Lsn,
    /// Engine-specific counters, by name.
    pub extra: Vec<(String, u64)>,
}

/// What [`super::StorageEngine::check`] found: plain data, the same shape for every engine.
///
/// A clean engine has no `problems`; `counts` holds what the check walked (pages, versions,
/// levels), named by the engine, for a human-readable summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// The engine's name.
    pub engine: String,
    /// What the check walked, by name (`"versions"`, `"leaf_pages"`, ...), in a stable order.
    pub counts: Vec<(String, u64)>,
    /// Every inconsistency found; empty when the engine is consistent.
    pub problems: Vec<CheckProblem>,
}

impl CheckReport {
    /// True when the check found nothing wrong.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One inconsistency found by an integrity check: what is wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckProblem {
    /// Where it was found (for example `"btree.ldb page 17"`).
    pub location: String,
    /// What is wrong.
    pub what: String,
}

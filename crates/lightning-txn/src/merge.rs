//! [`TxnIter`]: a scan's entries as a transaction sees them — the engine's committed versions
//! at the read timestamp, overlaid with the transaction's own buffered writes, deletes hidden.

use std::{cmp::Ordering, sync::Arc};

use lightning_core_storage::engine::{Direction, EngineIter, VersionedEntry};

use crate::Result;

/// A key and its value.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// A transaction's buffered write: the key and its new value (`None` = delete).
pub(crate) type OwnWrite = (Vec<u8>, Option<Vec<u8>>);

/// Iterator over `(key, value)` pairs of a scan, in the scan's direction.
pub struct TxnIter {
    engine: std::iter::Peekable<EngineIter>,
    /// The transaction's writes in the range, in scan order (`None` = delete).
    own: std::iter::Peekable<std::vec::IntoIter<OwnWrite>>,
    direction: Direction,
    /// Keeps the read timestamp registered while the iterator lives.
    guard: Option<ReadHold>,
    /// The snapshot was checked once the engine's entries ran out (see [`TxnIter::at_end`]).
    end_checked: bool,
}

impl std::fmt::Debug for TxnIter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxnIter").field("direction", &self.direction).finish_non_exhaustive()
    }
}

impl TxnIter {
    /// Merges `engine` (newest version per key at the read timestamp) with `own` writes, both
    /// already in `direction` order.
    pub(crate) fn new(engine: EngineIter, own: Vec<OwnWrite>, direction: Direction) -> Self {
        TxnIter {
            engine: engine.peekable(),
            own: own.into_iter().peekable(),
            direction,
            guard: None,
            end_checked: false,
        }
    }

    /// Checks the snapshot once, when the engine's entries run out: the engine read that found
    /// the end may have run after the snapshot expired and garbage collection dropped versions
    /// it should have seen, so an expired snapshot's scan ends with `SnapshotTooOld`, never
    /// with a silently short result.
    fn at_end(&mut self) -> Option<crate::Error> {
        if std::mem::replace(&mut self.end_checked, true) {
            return None;
        }
        self.guard.as_ref().and_then(|guard| guard.check().err())
    }

    /// Holds `guard` (a registration of the read timestamp) for as long as the iterator lives.
    pub(crate) fn with_guard(mut self, guard: crate::snapshot::SnapshotGuard) -> Self {
        self.guard = Some(ReadHold::Guard(guard));
        self
    }

    /// Holds `snapshot` (whose registration covers the read timestamp) for as long as the
    /// iterator lives: an `Arc` clone instead of a new registration under the registry lock.
    pub(crate) fn with_snapshot(mut self, snapshot: Arc<crate::Snapshot>) -> Self {
        self.guard = Some(ReadHold::Snapshot(snapshot));
        self
    }
}

/// What keeps an iterator's read timestamp registered (so GC keeps what it reads).
#[derive(Debug)]
enum ReadHold {
    /// A hold of its own on the timestamp.
    Guard(crate::snapshot::SnapshotGuard),
    /// The snapshot it reads, kept alive (its registration lasts as long as it does).
    Snapshot(Arc<crate::Snapshot>),
}

impl ReadHold {
    /// Fails with `SnapshotTooOld` once the held timestamp is expired (call after a read).
    fn check(&self) -> Result<()> {
        match self {
            ReadHold::Guard(guard) => guard.check(),
            ReadHold::Snapshot(snapshot) => snapshot.check(),
        }
    }
}

impl TxnIter {
    /// The next entry when no own write is left to merge (always, for a snapshot's scan):
    /// straight from the engine, deletes skipped, each entry checked after it is read (and the
    /// end too: see [`TxnIter::at_end`]).
    fn next_committed(&mut self) -> Option<Result<KeyValue>> {
        loop {
            let entry = match self.engine.next() {
                None => return self.at_end().map(Err),
                Some(Ok(entry)) => entry,
                Some(Err(error)) => return Some(Err(error.into())),
            };
            // Read, then checked: an expired snapshot's entries are never handed out.
            if let Some(Err(error)) = self.guard.as_ref().map(ReadHold::check) {
                return Some(Err(error));
            }
            if let VersionedEntry { key, value: Some(value), .. } = entry {
                return Some(Ok((key, value)));
            }
        }
    }
}

/// How an engine key compares with an own-write key in scan order.
fn order(direction: Direction, engine_key: &[u8], own_key: &[u8]) -> Ordering {
    match direction {
        Direction::Forward => engine_key.cmp(own_key),
        Direction::Reverse => own_key.cmp(engine_key),
    }
}

impl Iterator for TxnIter {
    type Item = Result<KeyValue>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.own.len() == 0 {
            return self.next_committed();
        }
        loop {
            let take_own = match (self.engine.peek(), self.own.peek()) {
                (None, None) => return self.at_end().map(Err),
                (Some(Err(_)), _) => {
                    let err = self.engine.next().and_then(Result::err)?;
                    return Some(Err(err.into()));
                }
                (None, Some(_)) => {
                    if let Some(error) = self.at_end() {
                        return Some(Err(error));
                    }
                    true
                }
                (Some(Ok(_)), None) => false,
                (Some(Ok(entry)), Some((own_key, _))) => {
                    match order(self.direction, &entry.key, own_key) {
                        Ordering::Less => false,
                        Ordering::Greater => true,
                        Ordering::Equal => {
                            self.engine.next(); // shadowed by the transaction's own write
                            true
                        }
                    }
                }
            };
            if take_own {
                let (key, value) = self.own.next()?;
                if let Some(value) = value {
                    return Some(Ok((key, value)));
                }
            } else {
                let entry = self.engine.next();
                // Read, then checked: an expired snapshot's entries are never handed out.
                if let Some(Err(error)) = self.guard.as_ref().map(|guard| guard.check()) {
                    return Some(Err(error));
                }
                if let Some(Ok(VersionedEntry { key, value: Some(value), .. })) = entry {
                    return Some(Ok((key, value)));
                }
            }
            // A delete (own or committed tombstone): skip it.
        }
    }
}

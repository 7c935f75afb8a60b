//! [`Iter`]: a double-ended iterator over a consistent view of a key range.
//!
//! The two ends are separate scans of the *same* view (one snapshot timestamp, or one
//! transaction), created lazily for a snapshot view; iteration stops when the ends meet, so
//! mixing `next` and `next_back` yields every entry exactly once.
//!
//! Lazy: an end reads nothing ahead of the caller (the engine walks one leaf at a time and
//! copies out only the entry asked for), so `range(start..).take(n)` costs what `n` entries
//! cost. Each item is an owned key and value, two allocations and copies per entry; a hot loop
//! over short ranges is cheaper through [`Snapshot::scan_with`](crate::Snapshot::scan_with),
//! which lends borrowed slices (see `docs/BENCHMARKS.md` for the difference).

use std::sync::Arc;

use lightning_core_storage::engine::{Direction, KeyRange};
use lightning_txn::TxnIter;

use crate::{Result, keys::PREFIX_LEN};

/// Where the two ends come from.
enum Source {
    /// A snapshot view: ends are opened on first use.
    Snapshot(Arc<lightning_txn::Snapshot>, KeyRange),
    /// A transaction's view: both ends were opened up front (the transaction is borrowed
    /// mutably only while the iterator is made).
    Opened,
}

/// An iterator over `(key, value)` pairs in key order; `.rev()` or `next_back` walks from the
/// end. Each item is a `Result`: a damaged page surfaces as an error, not a panic.
pub struct Iter {
    source: Source,
    front: Option<TxnIter>,
    back: Option<TxnIter>,
    /// The user key handed out last by each end (buffers reused from item to item).
    front_last: Option<Vec<u8>>,
    back_last: Option<Vec<u8>>,
    done: bool,
    /// Keeps the database open while the iterator lives. Declared last so that it is dropped
    /// last: if it is the last handle, the scans are gone when the database closes.
    _db: crate::Database,
}

impl std::fmt::Debug for Iter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iter").field("done", &self.done).finish_non_exhaustive()
    }
}

impl Iter {
    pub(crate) fn from_snapshot(
        db: crate::Database,
        snapshot: Arc<lightning_txn::Snapshot>,
        range: KeyRange,
    ) -> Self {
        Iter {
            _db: db,
            source: Source::Snapshot(snapshot, range),
            front: None,
            back: None,
            front_last: None,
            back_last: None,
            done: false,
        }
    }

    pub(crate) fn from_scans(db: crate::Database, front: TxnIter, back: TxnIter) -> Self {
        Iter {
            _db: db,
            source: Source::Opened,
            front: Some(front),
            back: Some(back),
            front_last: None,
            back_last: None,
            done: false,
        }
    }

    fn end(&mut self, direction: Direction) -> Result<&mut TxnIter> {
        let slot = match direction {
            Direction::Forward => &mut self.front,
            Direction::Reverse => &mut self.back,
        };
        if slot.is_none() {
            let Source::Snapshot(snapshot, range) = &self.source else {
                unreachable!("opened iterators have both ends from the start");
            };
            *slot = Some(snapshot.scan_shared(range.clone(), direction)?);
        }
        Ok(slot.as_mut().expect("just opened"))
    }

    fn step(&mut self, direction: Direction) -> Option<Result<(Vec<u8>, Vec<u8>)>> {
        if self.done {
            return None;
        }
        let item = match self.end(direction) {
            Ok(end) => end.next().map(|kv| kv.map_err(crate::Error::from)),
            Err(e) => Some(Err(e)),
        };
        let (mut key, value) = match item {
            None => {
                self.done = true;
                return None;
            }
            Some(Err(e)) => {
                self.done = true;
                return Some(Err(e));
            }
            Some(Ok(kv)) => kv,
        };
        // Every key of one iterator has the same keyspace prefix: drop it in place and
        // compare user keys (no second copy of the key).
        key.drain(..PREFIX_LEN.min(key.len()));
        let crossed = match direction {
            Direction::Forward => self.back_last.as_ref().is_some_and(|b| &key >= b),
            Direction::Reverse => self.front_last.as_ref().is_some_and(|f| &key <= f),
        };
        if crossed {
            self.done = true;
            return None;
        }
        let last = match direction {
            Direction::Forward => &mut self.front_last,
            Direction::Reverse => &mut self.back_last,
        };
        match last {
            Some(buffer) => {
                buffer.clear();
                buffer.extend_from_slice(&key);
            }
            None => *last = Some(key.clone()),
        }
        Some(Ok((key, value)))
    }
}

impl Iterator for Iter {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.step(Direction::Forward)
    }
}

impl DoubleEndedIterator for Iter {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.step(Direction::Reverse)
    }
}

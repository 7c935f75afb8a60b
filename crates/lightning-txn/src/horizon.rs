//! The registry of live snapshots, the GC horizon they hold down, and the bounds past which an
//! old snapshot is *expired* so the horizon can move on.
//!
//! - The horizon is the oldest registered snapshot that is not expired, or `visible` when
//!   there is none: versions and committed-table entries at or below it may be dropped.
//! - A snapshot is expired when its timestamp is below the *floor*. The floor rises (never
//!   above `visible`) when the oldest snapshot was held longer than
//!   [`SnapshotLimits::max_age`], or when more than [`SnapshotLimits::max_retained_versions`]
//!   key versions were committed above it. An expired snapshot stays registered until it is
//!   dropped, but holds nothing down: its reads and its commit fail with
//!   [`Error::SnapshotTooOld`] ([`Horizon::check`], called after each engine read, so a read
//!   that garbage collection may have disturbed is never returned).

use std::{
    collections::{BTreeMap, VecDeque},
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use lightning_core_storage::Timestamp;
use parking_lot::Mutex;

use crate::{Error, Result, SnapshotBound};

/// How many floor moves are remembered to explain a `SnapshotTooOld`.
const EXPLAINED_MOVES: usize = 32;

/// The bounds on how far back a snapshot may hold the horizon (see the module docs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SnapshotLimits {
    /// Longest a snapshot may be held while newer commits exist.
    pub max_age: Option<Duration>,
    /// Most key versions committed above the oldest snapshot.
    pub max_retained_versions: usize,
}

#[derive(Debug, Default)]
struct Registry {
    /// Registered snapshots: timestamp → (count, when the first of them was taken).
    active: BTreeMap<Timestamp, (usize, Instant)>,
    /// The last floor moves, oldest first: (floor after the move, the bound that moved it).
    moves: VecDeque<(Timestamp, SnapshotBound)>,
}

impl Registry {
    /// The oldest snapshot at or above `floor` (not expired).
    fn oldest_unexpired(&self, floor: Timestamp) -> Option<(Timestamp, Instant)> {
        self.active.range(floor..).next().map(|(ts, (_, since))| (*ts, *since))
    }
}

/// See the module docs.
#[derive(Debug)]
pub(crate) struct Horizon {
    registry: Mutex<Registry>,
    /// Snapshots below this timestamp are expired. Stored under the registry lock.
    floor: AtomicU64,
    limits: SnapshotLimits,
}

impl Horizon {
    pub fn new(limits: SnapshotLimits) -> Self {
        Horizon { registry: Mutex::default(), floor: AtomicU64::new(0), limits }
    }

    /// The bounds this registry applies.
    pub fn limits(&self) -> &SnapshotLimits {
        &self.limits
    }

    fn floor(&self) -> Timestamp {
        Timestamp(self.floor.load(Ordering::SeqCst))
    }

    /// Registers a snapshot at `visible` (read under the registry lock, so a horizon computed
    /// concurrently is never above it) and returns its timestamp.
    pub fn register(&self, visible: &AtomicU64) -> Timestamp {
        let mut registry = self.registry.lock();
        let ts = Timestamp(visible.load(Ordering::Acquire));
        registry.active.entry(ts).or_insert((0, Instant::now())).0 += 1;
        ts
    }

    /// Adds a hold on a registered timestamp. REQUIRES: `ts` is registered now.
    pub fn retain(&self, ts: Timestamp) {
        let mut registry = self.registry.lock();
        debug_assert!(registry.active.contains_key(&ts), "retain of an unregistered snapshot");
        registry.active.entry(ts).or_insert((0, Instant::now())).0 += 1;
    }

    /// Releases one hold on `ts`.
    pub fn release(&self, ts: Timestamp) {
        let mut registry = self.registry.lock();
        if let Some((count, _)) = registry.active.get_mut(&ts) {
            *count -= 1;
            if *count == 0 {
                registry.active.remove(&ts);
            }
        }
    }

    /// The oldest unexpired snapshot, or `visible` when there is none.
    pub fn horizon(&self, visible: &AtomicU64) -> Timestamp {
        let registry = self.registry.lock();
        match registry.oldest_unexpired(self.floor()) {
            Some((ts, _)) => ts,
            None => Timestamp(visible.load(Ordering::Acquire)),
        }
    }

    /// Applies the bounds, then returns the horizon. `prune_point`: the timestamp at or below
    /// which committed writes must go to keep at most `max_retained_versions` of them (from
    /// the committed table). REQUIRES: the commit lock is held (so `visible` and the table
    /// agree), or `prune_point` is `None`.
    pub fn enforce(&self, visible: &AtomicU64, prune_point: Option<Timestamp>) -> Timestamp {
        let mut registry = self.registry.lock();
        let visible = Timestamp(visible.load(Ordering::Acquire));
        if let Some(point) = prune_point {
            let bound =
                SnapshotBound::RetainedVersions { limit: self.limits.max_retained_versions };
            self.raise_floor(&mut registry, point.min(visible), bound);
        }
        if let Some(limit) = self.limits.max_age {
            let now = Instant::now();
            while let Some((ts, since)) = registry.oldest_unexpired(self.floor()) {
                // A snapshot at `visible` holds nothing back: there is nothing newer to keep.
                if ts >= visible || now.saturating_duration_since(since) <= limit {
                    break;
                }
                self.raise_floor(&mut registry, Timestamp(ts.0 + 1), SnapshotBound::Age { limit });
            }
        }
        registry.oldest_unexpired(self.floor()).map_or(visible, |(ts, _)| ts)
    }

    /// Expires every snapshot below `floor` (if that raises the floor), remembering why.
    fn raise_floor(&self, registry: &mut Registry, floor: Timestamp, bound: SnapshotBound) {
        if floor <= self.floor() {
            return;
        }
        if registry.active.range(..floor).next().is_some() {
            if registry.moves.len() == EXPLAINED_MOVES {
                registry.moves.pop_front();
            }
            registry.moves.push_back((floor, bound));
        }
        self.floor.store(floor.0, Ordering::SeqCst);
    }

    /// Fails with [`Error::SnapshotTooOld`] if the snapshot at `ts` is expired. Call it after
    /// reading at `ts`: a read that passes was not disturbed by garbage collection, which
    /// drops versions only after the floor passed `ts`.
    pub fn check(&self, ts: Timestamp) -> Result<()> {
        let floor = self.floor();
        if ts >= floor {
            return Ok(());
        }
        let registry = self.registry.lock();
        let bound = registry
            .moves
            .iter()
            .find(|(moved_to, _)| *moved_to > ts)
            .or(registry.moves.front())
            .map(|(_, bound)| *bound)
            .unwrap_or(SnapshotBound::RetainedVersions {
                limit: self.limits.max_retained_versions,
            });
        Err(Error::SnapshotTooOld { snapshot: ts, horizon: floor, bound })
    }

    /// The oldest registered snapshot (expired or not) and when it was taken.
    pub fn oldest(&self) -> Option<(Timestamp, Instant)> {
        let registry = self.registry.lock();
        registry.active.iter().next().map(|(ts, (_, since))| (*ts, *since))
    }

    /// True if any snapshot (transactions included) is registered, expired or not.
    pub fn any_registered(&self) -> bool {
        !self.registry.lock().active.is_empty()
    }

    /// Number of registered snapshots (transactions included).
    pub fn live(&self) -> usize {
        self.registry.lock().active.values().map(|(count, _)| count).sum()
    }
}

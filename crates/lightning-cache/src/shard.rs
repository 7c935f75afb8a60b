//! One shard of the cache: an ARC and the loads in flight for its keys, behind one lock.
//!
//! Lock order: a shard lock is a leaf with respect to the rest of the crate. While holding
//! it, code never takes another shard's lock and never waits on a load slot; values dropped
//! under it may take their own locks (a pooled buffer returning to its pool), which never
//! call back into the cache.
//!
//! Layout: a hit writes the lock word, a hit counter and the head of list T2. `Shard` is
//! aligned to 128 bytes and `ShardState`, `ArcCore` and `LinkedSlab` are `repr(C)` with
//! those fields first, so all three share the lock's cache line: with several cores, a hit
//! moves one contended line between them instead of three (a test checks the placement).

use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};

use crate::arc::ArcCore;
use crate::load::LoadSlot;

/// A shard, aligned so that two shards' locks never share a cache line.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct Shard<K, V> {
    state: Mutex<ShardState<K, V>>,
}

impl<K: Eq, V> Shard<K, V> {
    pub(crate) fn new(capacity_bytes: usize) -> Self {
        Self {
            state: Mutex::new(ShardState {
                core: ArcCore::new(capacity_bytes),
                inflight: Vec::new(),
            }),
        }
    }

    /// REQUIRES: the caller holds no other shard's lock and waits on no load slot while
    /// holding this one.
    pub(crate) fn lock(&self) -> MutexGuard<'_, ShardState<K, V>> {
        self.state.lock()
    }
}

/// What a shard lock protects. `repr(C)`, the ARC first (see the module doc).
#[derive(Debug)]
#[repr(C)]
pub(crate) struct ShardState<K, V> {
    pub(crate) core: ArcCore<K, V>,
    /// Loads in flight for keys of this shard. Its length is bounded by the number of threads
    /// loading at once, so it is a short vector scanned linearly, touched only on misses.
    pub(crate) inflight: Vec<InFlight<K, V>>,
}

/// One key being loaded by a `get_or_load` caller.
#[derive(Debug)]
pub(crate) struct InFlight<K, V> {
    pub(crate) key: K,
    pub(crate) hash: u64,
    pub(crate) slot: Arc<LoadSlot<V>>,
    /// Set when the key was inserted, removed or invalidated during the load: the loaded value
    /// may be stale, so it is handed to the waiting callers but not cached.
    pub(crate) discard: bool,
}

impl<K: Eq, V> ShardState<K, V> {
    /// The in-flight load of `key`, if any.
    pub(crate) fn inflight_of(&self, hash: u64, key: &K) -> Option<&InFlight<K, V>> {
        self.inflight.iter().find(|f| f.hash == hash && f.key == *key)
    }

    /// Marks the in-flight loads of matching keys as not to be cached.
    pub(crate) fn discard_inflight(&mut self, mut matches: impl FnMut(&K) -> bool) {
        for load in self.inflight.iter_mut().filter(|f| matches(&f.key)) {
            load.discard = true;
        }
    }

    /// Takes the in-flight record of `slot` out of the list.
    pub(crate) fn take_inflight(&mut self, slot: &Arc<LoadSlot<V>>) -> Option<InFlight<K, V>> {
        let pos = self.inflight.iter().position(|f| Arc::ptr_eq(&f.slot, slot))?;
        Some(self.inflight.swap_remove(pos))
    }
}

#[cfg(test)]
mod tests {
    use std::mem::offset_of;

    use super::{Shard, ShardState};
    use crate::arc::HOT_PREFIX_BYTES;

    #[test]
    fn the_fields_a_hit_writes_share_the_lock_cache_line() {
        type State = ShardState<u64, u64>;
        let shard = Shard::<u64, u64>::new(1024);
        let base = std::ptr::from_ref(&shard).addr();
        assert_eq!(base % 128, 0, "shards start on a cache line");
        // The lock word precedes the protected data within the mutex.
        let data = shard.state.data_ptr().addr() - base;
        assert!(data <= 8, "the lock word and the data start in the same 8 bytes, data at {data}");
        let hot_end = data + offset_of!(State, core) + HOT_PREFIX_BYTES;
        assert!(hot_end <= 64, "the counters and T2's head end at byte {hot_end}");
    }
}

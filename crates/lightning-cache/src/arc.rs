//! The Adaptive Replacement Cache of one shard (Megiddo & Modha, FAST '03), sized in bytes.
//!
//! Four lists share one slab: T1 (resident, seen once recently), T2 (resident, seen at least
//! twice), and the ghost lists B1 and B2 that remember only the key and size of entries evicted
//! from T1 and T2. The adaptive target `p` is the share of the capacity `c` that T1 should hold:
//! a re-inserted B1 ghost means T1 was too small and grows `p`; a B2 ghost shrinks it.
//!
//! The paper counts pages of one size; here every entry has a caller-given size in bytes
//! (at least 1) and every bound of the paper is a byte bound:
//!
//! * `|T1| + |T2| <= c`: resident bytes never exceed the capacity;
//! * `|T1| + |B1| <= c` and `|T1| + |T2| + |B1| + |B2| <= 2c`: the ghosts are bounded too
//!   (at most `2c` remembered bytes, hence at most `2c` ghost keys);
//! * `0 <= p <= c`; each resident entry is at most `c` bytes.
//!
//! The paper's adaptation step is one page; here it is the size of the re-inserted entry
//! times `max(|B2| / |B1|, 1)` (or the mirror for B2).
//!
//! Pinning: values are shared as `Arc<V>`; an entry whose `Arc` is held outside the cache
//! (strong count above 1) is pinned and is skipped when choosing a victim. Only the cache
//! hands out clones, and only under the shard lock, so a count of 1 seen under the lock
//! stays 1 until the lock is released. When no victim can be found (everything in reach
//! pinned), the new entry is refused and returned to the caller uncached: capacity is never
//! exceeded. Explicit removal ignores pins (a reader keeps its handle).

#[cfg(test)]
mod tests;

use std::sync::Arc;

use hashbrown::HashTable;

use crate::list::{LIST_HEAD_BYTES, LinkedSlab};
use crate::stats::{Counters, ShardStats};

/// Resident entries seen at least twice recently. List 0: every hit writes its head, which
/// therefore sits in the lock's cache line (see `shard.rs`).
const T2: usize = 0;
/// Resident entries seen once recently.
const T1: usize = 1;
/// Ghosts of entries evicted from T1.
const B1: usize = 2;
/// Ghosts of entries evicted from T2.
const B2: usize = 3;

/// The most pinned entries skipped on one list while looking for one victim. Pins are held by
/// readers for the duration of a page access, so a long pinned run means a saturated cache;
/// the bound keeps eviction O(1) and the entry is refused instead.
const MAX_PINNED_SKIPS: usize = 64;

/// Bytes from the start of an `ArcCore` to the end of the fields every hit writes: the lookup
/// counters and T2's list head (the same for every `K` and `V`, by `repr(C)`).
pub(crate) const HOT_PREFIX_BYTES: usize =
    std::mem::offset_of!(ArcCore<(), ()>, slab) + LIST_HEAD_BYTES;
const _: () = assert!(std::mem::offset_of!(ArcCore<(), ()>, misses) < HOT_PREFIX_BYTES);
const _: () = assert!(std::mem::offset_of!(ArcCore<(), ()>, hits) < HOT_PREFIX_BYTES);

/// The largest shard capacity: sums of list sizes stay below `3 * MAX_CAPACITY` bytes, so the
/// byte arithmetic below cannot overflow.
const MAX_CAPACITY: usize = usize::MAX / 4;

/// One node's payload: the key, its hash (for rehashing the index), and the value while
/// resident (`None` on the ghost lists).
#[derive(Debug)]
struct Entry<K, V> {
    key: K,
    hash: u64,
    value: Option<Arc<V>>,
}

/// One shard's ARC state. Not synchronised: REQUIRES the caller to hold the shard lock.
///
/// `repr(C)`: the fields every hit writes (the lookup counters, then the slab whose first
/// bytes are T2's head) come first, to share the cache line of the shard lock.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct ArcCore<K, V> {
    /// Lookups that found a resident entry.
    pub(crate) hits: u64,
    /// Lookups that did not.
    pub(crate) misses: u64,
    slab: LinkedSlab<Entry<K, V>, 4>,
    capacity: usize,
    /// ARC's `p`: the target size of T1 in bytes.
    target_t1: usize,
    /// Maps a key (by its hash) to its slab index (`u32`: slabs hold at most
    /// [`MAX_NODES`](crate::list::MAX_NODES)); covers resident and ghost entries.
    index: HashTable<u32>,
    pub(crate) counters: Counters,
}

impl<K: Eq, V> ArcCore<K, V> {
    /// An empty ARC holding at most `capacity` bytes (clamped to [`MAX_CAPACITY`]).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            hits: 0,
            misses: 0,
            slab: LinkedSlab::new(),
            capacity: capacity.min(MAX_CAPACITY),
            target_t1: 0,
            index: HashTable::new(),
            counters: Counters::default(),
        }
    }

    #[inline]
    fn find(&self, hash: u64, key: &K) -> Option<usize> {
        self.index.find(hash, |&i| self.slab.item(i as usize).key == *key).map(|&i| i as usize)
    }

    fn resident(&self) -> usize {
        self.slab.weight_of(T1) + self.slab.weight_of(T2)
    }

    fn total(&self) -> usize {
        self.resident() + self.slab.weight_of(B1) + self.slab.weight_of(B2)
    }

    /// ARC case I: a resident `key` moves to the MRU end of T2 and its value is returned.
    /// Ghosts are not hits. Counts nothing (the caller counts hits and misses, once per
    /// lookup, with [`ArcCore::count_lookup`]).
    #[inline]
    pub(crate) fn get(&mut self, hash: u64, key: &K) -> Option<Arc<V>> {
        let idx = self.find(hash, key)?;
        if self.slab.list_of(idx) >= B1 {
            return None;
        }
        self.slab.move_to_front(idx, T2);
        self.slab.item(idx).value.clone()
    }

    /// Counts one lookup as a hit or a miss.
    #[inline]
    pub(crate) fn count_lookup(&mut self, hit: bool) {
        if hit {
            self.hits += 1;
        } else {
            self.misses += 1;
        }
    }

    /// Whether `key` is resident, without touching recency or counters.
    pub(crate) fn contains(&self, hash: u64, key: &K) -> bool {
        self.find(hash, key).is_some_and(|idx| self.slab.list_of(idx) < B1)
    }

    /// Inserts or replaces `key`. Returns whether the entry is now resident; when it is not
    /// (too large, or no unpinned victim) any older entry for `key` is gone too.
    pub(crate) fn insert(&mut self, hash: u64, key: K, value: Arc<V>, size_bytes: usize) -> bool {
        let size = size_bytes.max(1);
        let existing = self.find(hash, &key);
        if size > self.capacity {
            // Never cacheable here; an older version of the entry must not survive.
            if let Some(idx) = existing {
                self.unlink(idx);
            }
            self.counters.rejected += 1;
            return false;
        }
        let (list, from_b2) = match existing.map(|idx| (idx, self.slab.list_of(idx))) {
            None => (T1, false),
            Some((idx, T1 | T2)) => {
                self.unlink(idx);
                (T2, false)
            }
            Some((idx, ghost)) => {
                self.adapt(ghost, size);
                self.unlink(idx);
                (T2, ghost == B2)
            }
        };
        // A slab of MAX_NODES nodes needs over 4 GiB of capacity per shard spent on 1-byte
        // entries; refusing there keeps every link within a u32.
        let admitted = self.make_room(list, size, from_b2) && !self.slab.is_full();
        if admitted {
            let idx = self.slab.push_front(list, size, Entry { key, hash, value: Some(value) });
            let slab = &self.slab;
            self.index.insert_unique(hash, idx as u32, |&i| slab.item(i as usize).hash);
            self.counters.inserts += 1;
        } else {
            self.counters.rejected += 1;
        }
        debug_assert!(self.resident() <= self.capacity, "resident bytes over capacity");
        debug_assert!(self.slab.weight_of(T1) + self.slab.weight_of(B1) <= self.capacity);
        debug_assert!(self.total() <= 2 * self.capacity, "ghost bytes over bound");
        admitted
    }

    /// ARC cases II and III: a ghost of `size` bytes re-inserted from `ghost` moves `p`.
    fn adapt(&mut self, ghost: usize, size: usize) {
        let (b1, b2) = (self.slab.weight_of(B1), self.slab.weight_of(B2));
        if ghost == B1 {
            let delta = size.saturating_mul((b2 / b1.max(1)).max(1));
            self.target_t1 = self.target_t1.saturating_add(delta).min(self.capacity);
            self.counters.ghost_hits_b1 += 1;
        } else {
            let delta = size.saturating_mul((b1 / b2.max(1)).max(1));
            self.target_t1 = self.target_t1.saturating_sub(delta);
            self.counters.ghost_hits_b2 += 1;
        }
    }

    /// Frees room for `size` bytes going to `list`: trims ghosts so that the bounds hold after
    /// the insertion, then evicts residents (ARC's REPLACE) until they fit. Returns false if
    /// the residents cannot be made to fit because the candidates are pinned.
    fn make_room(&mut self, list: usize, size: usize, from_b2: bool) -> bool {
        let c = self.capacity;
        // ARC case IV(A): L1 = T1 + B1 is full; drop B1's LRU, or T1's when B1 is empty.
        while list == T1 && self.slab.weight_of(T1) + self.slab.weight_of(B1) + size > c {
            if let Some(idx) = self.slab.back(B1) {
                self.unlink(idx);
            } else if let Some(idx) = self.unpinned_lru(T1) {
                self.unlink(idx);
                self.counters.evictions += 1;
            } else {
                return false;
            }
        }
        // ARC case IV(B): the directory holds 2c; drop the LRU ghost of B2 (else B1).
        while self.total() + size > 2 * c {
            match self.slab.back(B2).or_else(|| self.slab.back(B1)) {
                Some(idx) => drop(self.unlink(idx)),
                None => break,
            }
        }
        while self.resident() + size > c {
            if !self.replace(from_b2) {
                return false;
            }
        }
        true
    }

    /// ARC's REPLACE: demotes the LRU resident of T1 (if T1 is over its target `p`) or of T2
    /// to the matching ghost list; falls back to the other list when the first has no
    /// unpinned candidate. REPLACE keeps `|T1| + |B1|` and the directory size unchanged.
    fn replace(&mut self, from_b2: bool) -> bool {
        let t1 = self.slab.weight_of(T1);
        let prefer_t1 = t1 > 0 && (t1 > self.target_t1 || (from_b2 && t1 == self.target_t1));
        let order = if prefer_t1 { [T1, T2] } else { [T2, T1] };
        for list in order {
            if let Some(idx) = self.unpinned_lru(list) {
                let ghost = if list == T1 { B1 } else { B2 };
                let value = self.slab.item_mut(idx).value.take();
                self.slab.move_to_front(idx, ghost);
                self.counters.evictions += 1;
                drop(value);
                return true;
            }
        }
        false
    }

    /// The least recently used entry of the resident `list` that no reader holds, looking at
    /// most `MAX_PINNED_SKIPS + 1` entries.
    fn unpinned_lru(&self, list: usize) -> Option<usize> {
        let mut cur = self.slab.back(list);
        for _ in 0..=MAX_PINNED_SKIPS {
            let idx = cur?;
            let pinned =
                self.slab.item(idx).value.as_ref().is_some_and(|v| Arc::strong_count(v) > 1);
            if !pinned {
                return Some(idx);
            }
            cur = self.slab.newer(idx);
        }
        None
    }

    /// Removes node `idx` from the slab and the index; returns its value if it was resident.
    fn unlink(&mut self, idx: usize) -> Option<Arc<V>> {
        let hash = self.slab.item(idx).hash;
        match self.index.find_entry(hash, |&i| i as usize == idx) {
            Ok(entry) => drop(entry.remove()),
            Err(_) => debug_assert!(false, "slab node {idx} missing from the index"),
        }
        self.slab.remove(idx).value
    }

    /// Removes `key` (resident or ghost). Returns its value if it was resident.
    pub(crate) fn remove(&mut self, hash: u64, key: &K) -> Option<Arc<V>> {
        let value = self.unlink(self.find(hash, key)?);
        if value.is_some() {
            self.counters.removals += 1;
        }
        value
    }

    /// Removes every entry (resident or ghost) whose key matches; returns how many resident
    /// entries went. O(entries of this shard).
    pub(crate) fn remove_if(&mut self, mut matches: impl FnMut(&K) -> bool) -> usize {
        let doomed: Vec<usize> =
            self.slab.occupied_indices().filter(|&i| matches(&self.slab.item(i).key)).collect();
        let mut removed = 0;
        for idx in doomed {
            if self.unlink(idx).is_some() {
                removed += 1;
            }
        }
        self.counters.removals += removed as u64;
        removed
    }

    /// Drops every entry and ghost and resets `p`; counters are kept.
    pub(crate) fn clear(&mut self) {
        self.counters.removals += (self.slab.len(T1) + self.slab.len(T2)) as u64;
        self.slab.clear();
        self.index = HashTable::new();
        self.target_t1 = 0;
    }

    /// Number of resident entries.
    pub(crate) fn len(&self) -> usize {
        self.slab.len(T1) + self.slab.len(T2)
    }

    /// Resident bytes.
    pub(crate) fn resident_bytes(&self) -> usize {
        self.resident()
    }

    /// A snapshot of the counters and list sizes.
    pub(crate) fn stats(&self) -> ShardStats {
        let w = |list| self.slab.weight_of(list) as u64;
        ShardStats {
            hits: self.hits,
            misses: self.misses,
            entries: self.len() as u64,
            resident_bytes: self.resident() as u64,
            t1_bytes: w(T1),
            t2_bytes: w(T2),
            b1_bytes: w(B1),
            b2_bytes: w(B2),
            ghost_entries: (self.slab.len(B1) + self.slab.len(B2)) as u64,
            target_t1_bytes: self.target_t1 as u64,
            capacity_bytes: self.capacity as u64,
            ..ShardStats::default()
        }
        .with_counters(&self.counters)
    }

    /// Checks every invariant of the module doc, plus list/index consistency. O(entries).
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        self.slab.check()?;
        let (c, w) = (self.capacity, |list| self.slab.weight_of(list));
        let bounds = [
            ("|T1|+|T2| <= c", w(T1) + w(T2) <= c),
            ("|T1|+|B1| <= c", w(T1) + w(B1) <= c),
            ("|T1|+|T2|+|B1|+|B2| <= 2c", self.total() <= 2 * c),
            ("p <= c", self.target_t1 <= c),
        ];
        if let Some((name, _)) = bounds.iter().find(|(_, ok)| !ok) {
            return Err(format!(
                "ARC bound {name} violated: c={c} p={} T1={} T2={} B1={} B2={}",
                self.target_t1,
                w(T1),
                w(T2),
                w(B1),
                w(B2)
            ));
        }
        if self.index.len() != self.slab.occupied() {
            return Err(format!(
                "index has {} keys, slab {}",
                self.index.len(),
                self.slab.occupied()
            ));
        }
        for idx in self.slab.occupied_indices() {
            let entry = self.slab.item(idx);
            if self.find(entry.hash, &entry.key) != Some(idx) {
                return Err(format!("slab node {idx} is not what the index finds for its key"));
            }
            let resident = self.slab.list_of(idx) < B1;
            if entry.value.is_some() != resident || self.slab.weight(idx) == 0 {
                return Err(format!("slab node {idx}: value presence or weight is wrong"));
            }
        }
        Ok(())
    }
}

//! Property test: random operations (at least 10,000 per case) against the cache and a
//! model, checking after every operation that
//!
//! * the resident bytes never exceed any shard's capacity (nor the total capacity);
//! * the ghost lists stay within their bounds and `0 <= p <= c` per shard;
//! * lists and index agree (`check_invariants`);
//! * a value handed out and still held is never evicted (pinning);
//! * with nothing pinned, any entry that fits a shard is admitted;
//! * a lookup returns the value last inserted or loaded for its key;
//! * every lookup counts once as a hit or a miss.

use std::collections::HashMap;
use std::sync::Arc;

use lightning_cache::{ArcCache, CacheConfig, ShardStats};
use proptest::prelude::*;

const CAPACITY: usize = 8_192;
const KEYS: u64 = 96;
const FILES: u64 = 4;
const MAX_PINS: usize = 6;

type Key = (u64, u64);
/// The key and the version of its value.
type Value = (Key, u64);

#[derive(Debug, Clone)]
enum Op {
    Insert { key: u64, size: usize },
    Get { key: u64 },
    GetOrLoad { key: u64, size: usize, fail: bool },
    Remove { key: u64 },
    InvalidateFile { file: u64 },
    Pin { key: u64 },
    Unpin { slot: usize },
}

fn size() -> impl Strategy<Value = usize> {
    prop_oneof![
        20 => 1..=700usize,
        1 => Just(0usize),
        1 => CAPACITY / 2..=CAPACITY * 2,
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..KEYS;
    prop_oneof![
        6 => (key.clone(), size()).prop_map(|(key, size)| Op::Insert { key, size }),
        8 => key.clone().prop_map(|key| Op::Get { key }),
        4 => (key.clone(), size(), prop::bool::weighted(0.1))
            .prop_map(|(key, size, fail)| Op::GetOrLoad { key, size, fail }),
        2 => key.clone().prop_map(|key| Op::Remove { key }),
        1 => (0..FILES).prop_map(|file| Op::InvalidateFile { file }),
        2 => key.prop_map(|key| Op::Pin { key }),
        2 => (0..MAX_PINS).prop_map(|slot| Op::Unpin { slot }),
    ]
}

fn key_of(key: u64) -> Key {
    (key % FILES, key)
}

/// The model: the latest version of each key's value, and the handles held.
struct Model {
    latest: HashMap<Key, u64>,
    version: u64,
    /// Handles held, with whether the cache should still hold the same value (false once
    /// the key was replaced, removed or invalidated).
    pins: Vec<(Arc<Value>, bool)>,
    lookups: u64,
}

impl Model {
    fn next_value(&mut self, key: Key) -> Value {
        self.version += 1;
        self.latest.insert(key, self.version);
        (key, self.version)
    }

    fn forget(&mut self, matches: impl Fn(&Key) -> bool) {
        for (pin, live) in &mut self.pins {
            if matches(&pin.0) {
                *live = false;
            }
        }
    }

    fn check_value(&self, value: &Value) -> Result<(), TestCaseError> {
        let latest = self.latest.get(&value.0).copied();
        prop_assert_eq!(Some(value.1), latest, "stale value for {:?}", value.0);
        Ok(())
    }
}

fn apply(
    cache: &ArcCache<Key, Value>,
    model: &mut Model,
    op: &Op,
    shard_capacity: usize,
) -> Result<(), TestCaseError> {
    match *op {
        Op::Insert { key, size } => {
            let key = key_of(key);
            model.forget(|k| *k == key);
            let value = model.next_value(key);
            let admitted = cache.insert(key, value, size);
            if model.pins.is_empty() && size <= shard_capacity {
                prop_assert!(admitted, "nothing pinned, {} bytes fit, yet refused", size);
            }
            if !admitted {
                model.latest.remove(&key);
            }
        }
        Op::Get { key } => {
            model.lookups += 1;
            if let Some(value) = cache.get(&key_of(key)) {
                model.check_value(&value)?;
            }
        }
        Op::GetOrLoad { key, size, fail } => {
            model.lookups += 1;
            let key = key_of(key);
            let resident = cache.contains(&key);
            let mut loaded = None;
            let result = cache.get_or_load(&key, || {
                if fail {
                    Err("disk error")
                } else {
                    Ok((*loaded.insert(model.next_value(key)), size))
                }
            });
            match result {
                Ok(value) => model.check_value(&value)?,
                Err(error) => prop_assert!(!resident && fail && *error == "disk error"),
            }
            if loaded.is_some() && !cache.contains(&key) {
                model.latest.remove(&key); // loaded but not cacheable
            }
        }
        Op::Remove { key } => {
            let key = key_of(key);
            model.forget(|k| *k == key);
            model.latest.remove(&key);
            cache.remove(&key);
            prop_assert!(!cache.contains(&key));
        }
        Op::InvalidateFile { file } => {
            model.forget(|k| k.0 == file);
            model.latest.retain(|k, _| k.0 != file);
            cache.invalidate_file(file);
        }
        Op::Pin { key } => {
            model.lookups += 1;
            if let Some(value) = cache.get(&key_of(key)) {
                model.check_value(&value)?;
                if model.pins.len() == MAX_PINS {
                    model.pins.remove(0);
                }
                model.pins.push((value, true));
            }
        }
        Op::Unpin { slot } => {
            if slot < model.pins.len() {
                model.pins.remove(slot);
            }
        }
    }
    Ok(())
}

fn check(
    cache: &ArcCache<Key, Value>,
    model: &Model,
    shard_capacity: usize,
) -> Result<(), TestCaseError> {
    if let Err(e) = cache.check_invariants() {
        return Err(TestCaseError::fail(e));
    }
    let stats = cache.stats();
    for s in &stats.shards {
        let ShardStats {
            resident_bytes,
            t1_bytes,
            b1_bytes,
            b2_bytes,
            target_t1_bytes,
            capacity_bytes,
            ..
        } = *s;
        prop_assert!(capacity_bytes as usize <= shard_capacity + 1);
        prop_assert!(
            resident_bytes <= capacity_bytes,
            "resident {} > capacity {}",
            resident_bytes,
            capacity_bytes
        );
        prop_assert!(t1_bytes + b1_bytes <= capacity_bytes);
        prop_assert!(resident_bytes + b1_bytes + b2_bytes <= 2 * capacity_bytes);
        prop_assert!(target_t1_bytes <= capacity_bytes);
    }
    prop_assert!(stats.total.resident_bytes as usize <= CAPACITY);
    prop_assert_eq!(stats.total.hits + stats.total.misses, model.lookups);
    for (pin, live) in &model.pins {
        // `contains` neither counts nor touches recency; a live pin's key was not replaced.
        prop_assert!(!*live || cache.contains(&pin.0), "pinned {:?} was evicted", pin.0);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, max_shrink_iters: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_every_invariant(
        shards in prop::sample::select(vec![1usize, 2, 4]),
        ops in prop::collection::vec(op(), 10_000..=10_000),
    ) {
        let cache = ArcCache::new(CacheConfig::new(CAPACITY).with_shards(shards)).unwrap();
        let shard_capacity = CAPACITY / shards;
        let mut model = Model { latest: HashMap::new(), version: 0, pins: Vec::new(), lookups: 0 };
        for op in &ops {
            apply(&cache, &mut model, op, shard_capacity)?;
            check(&cache, &model, shard_capacity)?;
        }
        let s = cache.stats().total;
        prop_assert!(s.evictions > 0 && s.inserts > 0, "the run exercised eviction: {:?}", s);
    }
}

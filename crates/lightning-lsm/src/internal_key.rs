//! The order of versions inside the engine: an *internal key* is a user key and a commit
//! timestamp, ordered by user key ascending (bytewise) and then by timestamp **descending**, so
//! that the newest version of a key comes first and "the newest version at or below `read_ts`"
//! is the first entry at or after `(key, read_ts)`.
//!
//! Every sorted structure of the engine (memtables, data blocks, index blocks, levels, merging
//! iterators) uses [`compare_internal`]; nothing else defines an order.

use std::cmp::Ordering;

use lightning_core_storage::Timestamp;

/// Compares two internal keys: user key ascending, then commit timestamp descending.
pub fn compare_internal(a_key: &[u8], a_ts: Timestamp, b_key: &[u8], b_ts: Timestamp) -> Ordering {
    a_key.cmp(b_key).then_with(|| b_ts.cmp(&a_ts))
}

/// An owned internal key, ordered by [`compare_internal`] (usable as a skiplist or map key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InternalKey {
    /// The user key.
    pub key: Vec<u8>,
    /// The commit timestamp of the version.
    pub ts: Timestamp,
}

impl InternalKey {
    /// An internal key.
    pub fn new(key: impl Into<Vec<u8>>, ts: Timestamp) -> Self {
        InternalKey { key: key.into(), ts }
    }

    /// The smallest internal key of `key`: its newest possible version.
    pub fn first_of(key: impl Into<Vec<u8>>) -> Self {
        InternalKey { key: key.into(), ts: Timestamp::MAX }
    }

    /// The largest internal key of `key`: its oldest possible version.
    pub fn last_of(key: impl Into<Vec<u8>>) -> Self {
        InternalKey { key: key.into(), ts: Timestamp::ZERO }
    }
}

impl Ord for InternalKey {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_internal(&self.key, self.ts, &other.key, other.ts)
    }
}

impl PartialOrd for InternalKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_versions_of_a_key_sort_first_and_keys_sort_bytewise() {
        let mut keys = [
            InternalKey::new(*b"b", Timestamp(1)),
            InternalKey::new(*b"a", Timestamp(1)),
            InternalKey::new(*b"a", Timestamp(9)),
            InternalKey::new(*b"ab", Timestamp(5)),
        ];
        keys.sort();
        let order: Vec<(&[u8], u64)> = keys.iter().map(|k| (k.key.as_slice(), k.ts.0)).collect();
        assert_eq!(order, vec![(&b"a"[..], 9), (&b"a"[..], 1), (&b"ab"[..], 5), (&b"b"[..], 1)]);
    }

    #[test]
    fn first_and_last_of_a_key_bound_all_its_versions() {
        let v = InternalKey::new(*b"k", Timestamp(7));
        assert!(InternalKey::first_of(*b"k") < v);
        assert!(v < InternalKey::last_of(*b"k"));
        assert!(InternalKey::last_of(*b"k") < InternalKey::first_of(*b"k\0"));
    }
}

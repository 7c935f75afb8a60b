//! Keyspaces on disk: every stored key is a 2-byte big-endian keyspace id followed by the
//! user's key, so each keyspace is one contiguous, ordered range.
//!
//! Keyspace 0 is the system keyspace (the catalog of named keyspaces lives there under
//! `keyspace/<name>` → id); keyspace 1 is the default one the `Database` methods use.

use std::ops::{Bound, RangeBounds};

use lightning_core_storage::engine::{KeyRange, prefix_successor};

use crate::{Error, Result};

/// The id of a keyspace.
pub(crate) type KeyspaceId = u16;

/// The system keyspace.
pub(crate) const SYSTEM: KeyspaceId = 0;
/// The default keyspace.
pub(crate) const DEFAULT: KeyspaceId = 1;
/// Bytes of keyspace prefix on every stored key.
pub(crate) const PREFIX_LEN: usize = 2;

/// The longest key a user may store, in bytes.
pub const MAX_KEY_LEN: usize = 4096;
/// The longest value a user may store, in bytes (16 MiB).
pub const MAX_VALUE_LEN: usize = 16 << 20;

pub(crate) fn check_key(key: &[u8]) -> Result<()> {
    if key.len() > MAX_KEY_LEN {
        return Err(Error::KeyTooLarge { len: key.len(), max: MAX_KEY_LEN });
    }
    Ok(())
}

pub(crate) fn check_value(value: &[u8]) -> Result<()> {
    if value.len() > MAX_VALUE_LEN {
        return Err(Error::ValueTooLarge { len: value.len(), max: MAX_VALUE_LEN });
    }
    Ok(())
}

/// The stored form of `key` in keyspace `id`.
pub(crate) fn encode(id: KeyspaceId, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(PREFIX_LEN + key.len());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(key);
    out
}

/// The stored range for a user range within keyspace `id`.
pub(crate) fn range<K: AsRef<[u8]>>(id: KeyspaceId, bounds: impl RangeBounds<K>) -> KeyRange {
    let start = match bounds.start_bound() {
        Bound::Included(k) => Bound::Included(encode(id, k.as_ref())),
        Bound::Excluded(k) => Bound::Excluded(encode(id, k.as_ref())),
        Bound::Unbounded => Bound::Included(id.to_be_bytes().to_vec()),
    };
    let end = match bounds.end_bound() {
        Bound::Included(k) => Bound::Included(encode(id, k.as_ref())),
        Bound::Excluded(k) => Bound::Excluded(encode(id, k.as_ref())),
        Bound::Unbounded => {
            prefix_successor(&id.to_be_bytes()).map_or(Bound::Unbounded, Bound::Excluded)
        }
    };
    KeyRange { start, end }
}

/// The stored range of user keys starting with `prefix` in keyspace `id`.
pub(crate) fn prefix(id: KeyspaceId, prefix: &[u8]) -> KeyRange {
    let full = encode(id, prefix);
    let end = prefix_successor(&full).map_or(Bound::Unbounded, Bound::Excluded);
    KeyRange { start: Bound::Included(full), end }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyspaces_are_disjoint_ranges() {
        let all_default = range::<&[u8]>(DEFAULT, ..);
        assert!(all_default.contains(&encode(DEFAULT, b"")));
        assert!(all_default.contains(&encode(DEFAULT, &[0xff; 10])));
        assert!(!all_default.contains(&encode(SYSTEM, b"x")));
        assert!(!all_default.contains(&encode(2, b"")));
        let p = prefix(DEFAULT, b"user:");
        assert!(p.contains(&encode(DEFAULT, b"user:1")));
        assert!(!p.contains(&encode(DEFAULT, b"user;")));
        let last = prefix(KeyspaceId::MAX, &[0xff]);
        assert!(last.contains(&encode(KeyspaceId::MAX, &[0xff, 0xff])));
    }
}

//! The internal key order of the tree and the key arithmetic built on it.
//!
//! Every entry of the tree is a *version*: a user key and a commit timestamp. Entries are
//! ordered by `(user key ascending, commit timestamp descending)`, so the versions of one key
//! are adjacent, newest first, and "the newest version at or below `read_ts`" is simply the
//! first entry at or after `(key, read_ts)`: one descent, never a scan of versions.
//!
//! The pair is compared structurally ([`cmp_internal`]); keys and timestamps are never
//! concatenated into one byte string, so no escaping is needed.

use std::cmp::Ordering;

/// The largest timestamp; truncated separators carry it (it sorts first among equal keys).
pub(crate) const TS_MAX: u64 = u64::MAX;

/// Compares `(a_key, a_ts)` with `(b_key, b_ts)` in the internal order.
#[inline]
pub(crate) fn cmp_internal(a_key: &[u8], a_ts: u64, b_key: &[u8], b_ts: u64) -> Ordering {
    match a_key.cmp(b_key) {
        Ordering::Equal => b_ts.cmp(&a_ts),
        other => other,
    }
}

/// Where a key lies relative to the set of keys that start with a node's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrefixRel<'a> {
    /// Before every key with the prefix.
    Below,
    /// The key has the prefix; this is the rest of it.
    Within(&'a [u8]),
    /// After every key with the prefix.
    Above,
}

/// Relates `key` to the keys starting with `prefix`. Keys sharing a prefix form one contiguous
/// interval of the order, so a key without the prefix is either before or after all of them.
#[inline]
pub(crate) fn relate_to_prefix<'a>(key: &'a [u8], prefix: &[u8]) -> PrefixRel<'a> {
    if prefix.is_empty() {
        return PrefixRel::Within(key);
    }
    if let Some(rest) = key.strip_prefix(prefix) {
        return PrefixRel::Within(rest);
    }
    let n = key.len().min(prefix.len());
    match key[..n].cmp(&prefix[..n]) {
        Ordering::Less => PrefixRel::Below,
        Ordering::Greater => PrefixRel::Above,
        // `key` is a proper prefix of `prefix`: shorter, so smaller than every extension.
        Ordering::Equal => PrefixRel::Below,
    }
}

/// Length of the longest common prefix of `a` and `b`.
#[inline]
pub(crate) fn common_prefix_len(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// The shortest separator `(s, ts)` with `left < (s, ts) <= right` in the internal order.
///
/// REQUIRES: `(left_key, left_ts) < (right_key, right_ts)`.
pub(crate) fn separator(
    left_key: &[u8],
    left_ts: u64,
    right_key: &[u8],
    right_ts: u64,
) -> (Vec<u8>, u64) {
    debug_assert_eq!(
        cmp_internal(left_key, left_ts, right_key, right_ts),
        Ordering::Less,
        "separator of unordered entries"
    );
    if left_key == right_key {
        return (right_key.to_vec(), right_ts);
    }
    // The first byte where `right_key` exceeds `left_key` (or the byte after `left_key` ends).
    let n = common_prefix_len(left_key, right_key);
    let candidate = &right_key[..n + 1];
    if candidate == right_key {
        // Truncation saved nothing; the right entry itself is the tightest separator.
        return (right_key.to_vec(), right_ts);
    }
    (candidate.to_vec(), TS_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_newest_first_within_a_key() {
        assert_eq!(cmp_internal(b"a", 5, b"a", 3), Ordering::Less);
        assert_eq!(cmp_internal(b"a", 3, b"a", 5), Ordering::Greater);
        assert_eq!(cmp_internal(b"a", 1, b"b", 9), Ordering::Less);
        assert_eq!(cmp_internal(b"", 0, b"\0", TS_MAX), Ordering::Less);
        assert_eq!(cmp_internal(b"ab", 1, b"ab", 1), Ordering::Equal);
    }

    #[test]
    fn prefix_relation_matches_the_order() {
        assert_eq!(relate_to_prefix(b"abc", b"ab"), PrefixRel::Within(b"c"));
        assert_eq!(relate_to_prefix(b"a", b"ab"), PrefixRel::Below);
        assert_eq!(relate_to_prefix(b"aa", b"ab"), PrefixRel::Below);
        assert_eq!(relate_to_prefix(b"b", b"ab"), PrefixRel::Above);
        assert_eq!(relate_to_prefix(b"", b""), PrefixRel::Within(b""));
    }

    #[test]
    fn separators_are_short_and_between() {
        let cases: &[(&[u8], u64, &[u8], u64)] = &[
            (b"apple", 5, b"banana", 9),
            (b"ab", 1, b"abc", 7),
            (b"k", 9, b"k", 3),
            (b"abc", 2, b"abd", 2),
            (b"", 0, b"\0", 4),
        ];
        for &(lk, lt, rk, rt) in cases {
            let (s, ts) = separator(lk, lt, rk, rt);
            assert_eq!(cmp_internal(lk, lt, &s, ts), Ordering::Less, "{lk:?} < sep");
            assert_ne!(cmp_internal(&s, ts, rk, rt), Ordering::Greater, "sep <= {rk:?}");
            assert!(s.len() <= rk.len());
        }
        assert_eq!(separator(b"apple", 5, b"banana", 9), (b"b".to_vec(), TS_MAX));
    }
}

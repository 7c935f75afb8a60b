//! Finding keys in a node: binary search over the slot hints, and child selection.

use std::cmp::Ordering;

use super::{
    E_SUFFIX_LEN, E_TS, ENTRY_HEADER, Node, S_HINT, S_OFFSET, SLOT_LEN, hint_of, u16_at, u64_at,
};
use crate::key::{PrefixRel, cmp_internal, relate_to_prefix};

impl Node {
    /// Compares entry `i` with `(key, ts)` in the internal order.
    pub(crate) fn cmp_entry(&self, i: usize, key: &[u8], ts: u64) -> Ordering {
        match relate_to_prefix(key, self.prefix()) {
            PrefixRel::Below => Ordering::Greater,
            PrefixRel::Above => Ordering::Less,
            PrefixRel::Within(rest) => cmp_internal(self.suffix(i), self.ts(i), rest, ts),
        }
    }

    /// The index of the first entry `>= (key, ts)` (`upper == false`) or `> (key, ts)`
    /// (`upper == true`); `count` if there is none.
    #[inline]
    pub(crate) fn search(&self, key: &[u8], ts: u64, upper: bool) -> usize {
        let rest = match relate_to_prefix(key, self.prefix()) {
            PrefixRel::Below => return 0,
            PrefixRel::Above => return self.count(),
            PrefixRel::Within(rest) => rest,
        };
        let target = hint_of(rest);
        let body = self.body();
        let slots = self.slots_start();
        let (mut lo, mut hi) = (0, self.count());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let slot = slots + SLOT_LEN * mid;
            let hint = u32::from_le_bytes([
                body[slot + S_HINT],
                body[slot + S_HINT + 1],
                body[slot + S_HINT + 2],
                body[slot + S_HINT + 3],
            ]);
            let ord = if hint == target {
                let at = u16_at(body, slot + S_OFFSET);
                let len = u16_at(body, at + E_SUFFIX_LEN);
                let suffix = &body[at + ENTRY_HEADER..at + ENTRY_HEADER + len];
                cmp_internal(suffix, u64_at(body, at + E_TS), rest, ts)
            } else {
                hint.cmp(&target)
            };
            let right = if upper { ord != Ordering::Greater } else { ord == Ordering::Less };
            if right {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The child of a branch whose key range holds `(key, ts)`: separators are inclusive lower
    /// bounds of the child to their right.
    #[inline]
    pub(crate) fn child_index(&self, key: &[u8], ts: u64) -> usize {
        self.search(key, ts, true)
    }
}

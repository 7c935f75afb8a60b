//! [`IdMap`]: hash maps keyed by page or virtual ids, with a hasher made for them.
//!
//! The default SipHash resists collision attacks on untrusted keys at a cost the read path
//! would pay on every level of every descent. Ids are chosen by the engine (page numbers and
//! a counter), not by users, so a fast integer mixer is enough.

use std::{
    collections::HashMap,
    hash::{BuildHasherDefault, Hasher},
};

/// A map keyed by ids.
pub(crate) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Mixes one `u64` (the finaliser of MurmurHash3): every input bit affects every output bit,
/// so both the low bits (bucket) and the high bits (control byte) are well spread.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 ^= id;
    }
}

#[cfg(test)]
mod tests {
    use super::IdMap;

    #[test]
    fn sequential_and_virtual_ids_spread_and_round_trip() {
        let mut map: IdMap<u64> = IdMap::default();
        for id in (2..20_000u64).chain((1..20_000).map(|v| v | 1 << 63)) {
            map.insert(id, id.wrapping_mul(3));
        }
        assert_eq!(map.len(), 19_998 + 19_999);
        assert_eq!(map.get(&77), Some(&231));
        assert_eq!(map.get(&(5 | 1 << 63)), Some(&(5u64 | 1 << 63).wrapping_mul(3)));
        assert_eq!(map.get(&1), None);
    }
}

//! [`TableMeta`]: what the manifest and the levels know of one table file without opening it.

use lightning_core_storage::Timestamp;

use crate::internal_key::InternalKey;

/// One table (SSTable) file as the manifest records it: written once, never modified, removed
/// when a compaction replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMeta {
    /// The file's number; the file is `<number:06>.sst` in the engine directory.
    pub file_number: u64,
    /// The file's length in bytes.
    pub file_size: u64,
    /// The smallest internal key in the table.
    pub smallest: InternalKey,
    /// The largest internal key in the table.
    pub largest: InternalKey,
    /// Versions in the table, tombstones included.
    pub entries: u64,
    /// Tombstones in the table.
    pub tombstones: u64,
    /// The smallest commit timestamp in the table.
    pub min_ts: Timestamp,
    /// The largest commit timestamp in the table.
    pub max_ts: Timestamp,
}

impl TableMeta {
    /// The file name of table `file_number`.
    pub fn file_name(file_number: u64) -> String {
        format!("{file_number:06}.sst")
    }

    /// True if the table's user-key range overlaps `[start, end]` (both inclusive; `None` is
    /// unbounded).
    pub fn overlaps(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> bool {
        let below_end = end.is_none_or(|end| self.smallest.key.as_slice() <= end);
        let above_start = start.is_none_or(|start| self.largest.key.as_slice() >= start);
        below_end && above_start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(first: &[u8], last: &[u8]) -> TableMeta {
        TableMeta {
            file_number: 7,
            file_size: 100,
            smallest: InternalKey::new(first, Timestamp(9)),
            largest: InternalKey::new(last, Timestamp(1)),
            entries: 2,
            tombstones: 0,
            min_ts: Timestamp(1),
            max_ts: Timestamp(9),
        }
    }

    #[test]
    fn overlap_is_by_user_key_with_inclusive_bounds() {
        let t = table(b"c", b"f");
        assert!(t.overlaps(Some(b"a"), Some(b"c")));
        assert!(t.overlaps(Some(b"f"), None));
        assert!(t.overlaps(None, None));
        assert!(!t.overlaps(Some(b"g"), None));
        assert!(!t.overlaps(None, Some(b"b")));
    }

    #[test]
    fn file_names_are_zero_padded() {
        assert_eq!(TableMeta::file_name(42), "000042.sst");
    }
}

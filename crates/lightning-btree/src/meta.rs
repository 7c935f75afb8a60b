//! The engine's record in the page manager's meta page: where the tree is and what it holds.
//!
//! Layout of the owner's bytes of the meta page (little-endian; see `docs/format/btree.md`):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `LDBTREE\0` |
//! | 8 | 4 | B+Tree format version (2) |
//! | 12 | 4 | height: levels of nodes, 1 = the root is a leaf |
//! | 16 | 8 | root page |
//! | 24 | 8 | checkpoint LSN: every batch at or below it is in this tree |
//! | 32 | 8 | highest commit timestamp in this tree |
//! | 40 | 8 | versions (leaf entries) |
//! | 48 | 8 | leaf pages |
//! | 56 | 8 | branch pages |
//! | 64 | 8 | overflow pages |
//! | 72 | 8 | bytes used in leaves (prefixes, slots, entries) |
//! | 80 | 8 | write stamp of the root page |
//! | 88 | 8 | generation: the write stamp of this checkpoint |
//!
//! A file whose owner bytes are empty was just created: it holds an empty tree.

use lightning_core_storage::{Error, Lsn, Result, Timestamp, page_manager::USER_META_CAPACITY};

use crate::MAX_DEPTH;

/// Magic opening the record.
pub(crate) const MAGIC: [u8; 8] = *b"LDBTREE\0";
/// The record version this code writes.
pub(crate) const VERSION: u32 = 2;

const O_MAGIC: usize = 0;
const O_VERSION: usize = O_MAGIC + 8;
const O_HEIGHT: usize = O_VERSION + 4;
const O_ROOT: usize = O_HEIGHT + 4;
const O_LSN: usize = O_ROOT + 8;
const O_MAX_TS: usize = O_LSN + 8;
const O_VERSIONS: usize = O_MAX_TS + 8;
const O_LEAVES: usize = O_VERSIONS + 8;
const O_BRANCHES: usize = O_LEAVES + 8;
const O_OVERFLOW: usize = O_BRANCHES + 8;
const O_LEAF_USED: usize = O_OVERFLOW + 8;
const O_ROOT_STAMP: usize = O_LEAF_USED + 8;
const O_GENERATION: usize = O_ROOT_STAMP + 8;
/// Length of the record.
pub(crate) const LEN: usize = O_GENERATION + 8;

const _: () = assert!(LEN == 96 && LEN <= USER_META_CAPACITY, "the record fits the meta page");

/// Counters kept exactly for the live tree and recorded at every checkpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    /// Leaf entries (versions, tombstones included).
    pub(crate) versions: u64,
    /// Leaf nodes.
    pub(crate) leaf_pages: u64,
    /// Branch nodes.
    pub(crate) branch_pages: u64,
    /// Overflow pages (pending values counted by the pages they will take).
    pub(crate) overflow_pages: u64,
    /// Bytes used in leaves.
    pub(crate) leaf_used: u64,
}

/// The decoded record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TreeMeta {
    /// Levels of nodes.
    pub(crate) height: u32,
    /// The root page.
    pub(crate) root: u64,
    /// The write stamp the root page was written with.
    pub(crate) root_stamp: u64,
    /// The write stamp of the checkpoint that wrote this record (the last stamp used).
    pub(crate) generation: u64,
    /// Checkpoint LSN.
    pub(crate) lsn: Lsn,
    /// Highest commit timestamp.
    pub(crate) max_commit_ts: Timestamp,
    /// Counters of the tree.
    pub(crate) counters: Counters,
}

impl TreeMeta {
    /// Encodes the record.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = vec![0u8; LEN];
        out[O_MAGIC..O_VERSION].copy_from_slice(&MAGIC);
        out[O_VERSION..O_HEIGHT].copy_from_slice(&VERSION.to_le_bytes());
        out[O_HEIGHT..O_ROOT].copy_from_slice(&self.height.to_le_bytes());
        let c = &self.counters;
        let words = [
            (O_ROOT, self.root),
            (O_LSN, self.lsn.0),
            (O_MAX_TS, self.max_commit_ts.0),
            (O_VERSIONS, c.versions),
            (O_LEAVES, c.leaf_pages),
            (O_BRANCHES, c.branch_pages),
            (O_OVERFLOW, c.overflow_pages),
            (O_LEAF_USED, c.leaf_used),
            (O_ROOT_STAMP, self.root_stamp),
            (O_GENERATION, self.generation),
        ];
        for (at, value) in words {
            out[at..at + 8].copy_from_slice(&value.to_le_bytes());
        }
        out
    }

    /// Decodes the record; `None` for a freshly created file (empty owner bytes).
    pub(crate) fn decode(bytes: &[u8], location: &str) -> Result<Option<TreeMeta>> {
        if bytes.is_empty() {
            return Ok(None);
        }
        let bad = |what: String| Error::corruption(what, location.to_string());
        if bytes.len() < O_HEIGHT || bytes[O_MAGIC..O_VERSION] != MAGIC {
            return Err(bad(format!(
                "B+Tree meta record of {} bytes has no valid magic",
                bytes.len()
            )));
        }
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        let version = u32_at(O_VERSION);
        if version < VERSION {
            return Err(Error::Unsupported(format!(
                "{location}: B+Tree file created by the older format version {version}; this \
                 build reads version {VERSION} only: dump it with the build that wrote it and \
                 load it into a new database"
            )));
        }
        if version != VERSION {
            return Err(bad(format!("unknown B+Tree format version {version}")));
        }
        if bytes.len() != LEN {
            return Err(bad(format!("B+Tree meta record of {} bytes, not {LEN}", bytes.len())));
        }
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let height = u32_at(O_HEIGHT);
        if height == 0 || height as usize > MAX_DEPTH {
            return Err(bad(format!("tree height {height} out of range")));
        }
        Ok(Some(TreeMeta {
            height,
            root: u64_at(O_ROOT),
            root_stamp: u64_at(O_ROOT_STAMP),
            generation: u64_at(O_GENERATION),
            lsn: Lsn(u64_at(O_LSN)),
            max_commit_ts: Timestamp(u64_at(O_MAX_TS)),
            counters: Counters {
                versions: u64_at(O_VERSIONS),
                leaf_pages: u64_at(O_LEAVES),
                branch_pages: u64_at(O_BRANCHES),
                overflow_pages: u64_at(O_OVERFLOW),
                leaf_used: u64_at(O_LEAF_USED),
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_damage() {
        let meta = TreeMeta {
            height: 3,
            root: 42,
            root_stamp: 11,
            generation: 12,
            lsn: Lsn(7),
            max_commit_ts: Timestamp(99),
            counters: Counters {
                versions: 5,
                leaf_pages: 2,
                branch_pages: 1,
                overflow_pages: 4,
                leaf_used: 77,
            },
        };
        let bytes = meta.encode();
        assert_eq!(TreeMeta::decode(&bytes, "m").unwrap(), Some(meta));
        assert_eq!(TreeMeta::decode(&[], "m").unwrap(), None);
        let mut bad = bytes.clone();
        bad[0] ^= 1;
        assert!(TreeMeta::decode(&bad, "m").unwrap_err().is_corruption());
        let mut deep = bytes.clone();
        deep[O_HEIGHT] = 200;
        assert!(TreeMeta::decode(&deep, "m").unwrap_err().is_corruption());
    }

    #[test]
    fn a_record_of_the_older_format_version_is_refused_by_name() {
        let mut old = vec![0u8; 80];
        old[O_MAGIC..O_VERSION].copy_from_slice(&MAGIC);
        old[O_VERSION..O_HEIGHT].copy_from_slice(&1u32.to_le_bytes());
        let error = TreeMeta::decode(&old, "m").unwrap_err();
        assert!(matches!(error, Error::Unsupported(_)), "{error:?}");
        assert!(error.to_string().contains("older format version 1"), "{error}");
    }
}

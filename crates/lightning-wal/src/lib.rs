//! # lightning-wal
//!
//! The write-ahead log: segmented log files under `wal/`, checksummed records, group commit
//! (concurrent committers share one fsync), replay from an LSN, and truncation below what the
//! engines made durable.
//!
//! **Walls:** Depends only on `lightning-core-storage` (VFS, errors, codecs) and `lightning-security`.
//! Knows nothing of engines, transactions or the cache.
//!
//! **Status:** Not implemented yet: this crate holds no code until its issue (#3) lands.
//! It exists now so that the workspace, its layering and its publishing order are fixed from
//! the start.

#![forbid(unsafe_code)]

//! # lightning-lsm
//!
//! The LSM-tree engine: memtable, SSTables, manifest and leveled compaction. Implements the
//! engine trait of `lightning-core-storage`.
//!
//! **Walls:** Depends on `lightning-core-storage` and `lightning-cache`; never on `lightning-btree`.
//!
//! **Status:** Not implemented yet: this crate holds no code until its issue lands.
//! It exists now so that the workspace, its layering and its publishing order are fixed from
//! the start.

#![forbid(unsafe_code)]

//! # lightning-btree
//!
//! The B+Tree engine: slotted pages from the page manager, read through the ARC cache,
//! copy-on-write checkpoints flipping one of two meta pages. Implements the engine trait of
//! `lightning-core-storage`.
//!
//! **Walls:** Depends on `lightning-core-storage` and `lightning-cache`; never on `lightning-lsm`, the WAL or
//! transactions: versions arrive as plain data through the engine trait.
//!
//! **Status:** Not implemented yet: this crate holds no code until its issue (#5) lands.
//! It exists now so that the workspace, its layering and its publishing order are fixed from
//! the start.

#![forbid(unsafe_code)]

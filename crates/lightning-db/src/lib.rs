//! # lightning-db
//!
//! The facade users touch: `Database`, `Config`, transactions, snapshots, keyspaces.
//!
//! **Walls:** Thin wiring and re-exports; the logic lives in the crates below.
//!
//! **Status:** Not implemented yet: this crate holds no code until its issue (#7) lands.
//! It exists now so that the workspace, its layering and its publishing order are fixed from
//! the start.

#![forbid(unsafe_code)]

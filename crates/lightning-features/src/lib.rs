//! # lightning-features
//!
//! Operational features: background compaction scheduling, backup and restore, integrity
//! check and repair, migration, metrics and health, memory monitoring.
//!
//! **Walls:** Depends on the layers below it; the facade wires it in.
//!
//! **Status:** Not implemented yet: this crate holds no code until its issue lands.
//! It exists now so that the workspace, its layering and its publishing order are fixed from
//! the start.

#![forbid(unsafe_code)]

//! # lightning-server
//!
//! The network edge: a Redis-protocol (RESP2/RESP3) server and an HTTP admin API (health,
//! Prometheus metrics, stats, backup, compaction), with authentication and audit.
//!
//! **Walls:** Depends only on the facade `lightning-db` and the crates below it.
//!
//! **Status:** Not implemented yet: this crate holds no code until its issue lands.
//! It exists now so that the workspace, its layering and its publishing order are fixed from
//! the start.

#![forbid(unsafe_code)]

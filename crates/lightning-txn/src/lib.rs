//! # lightning-txn
//!
//! MVCC transactions over any engine: the timestamp oracle, snapshots, isolation levels
//! (read committed, snapshot, serializable), a lock manager with deadlock detection, and recovery
//! by WAL replay.
//!
//! **Walls:** Written against the engine trait only; it must never name a concrete engine.
//!
//! **Status:** Not implemented yet: this crate holds no code until its issue (#6) lands.
//! It exists now so that the workspace, its layering and its publishing order are fixed from
//! the start.

#![forbid(unsafe_code)]

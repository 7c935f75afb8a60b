//! # Lightning DB
//!
//! An embedded, transactional, ordered key-value database: byte-string keys and values, range
//! scans in both directions, MVCC transactions (snapshot, serializable, read committed),
//! named keyspaces, a write-ahead log with group commit, and crash recovery.
//!
//! ```
//! use lightning_db::{Config, Database, Durability, Isolation, WriteBatch};
//!
//! # fn main() -> lightning_db::Result<()> {
//! let dir = tempfile::tempdir().unwrap();
//! let db = Database::open(dir.path(), Config::default())?;
//! db.put(b"user:1", b"ada")?;
//! db.put(b"user:2", b"grace")?;
//! assert_eq!(db.get(b"user:1")?.as_deref(), Some(&b"ada"[..]));
//!
//! let names: Vec<Vec<u8>> = db.prefix(b"user:")?.rev().map(|kv| kv.map(|(_, v)| v)).collect::<Result<_, _>>()?;
//! assert_eq!(names, vec![b"grace".to_vec(), b"ada".to_vec()]);
//!
//! let mut batch = WriteBatch::new();
//! batch.put(b"a", b"1").delete(b"user:2");
//! db.write(batch)?;
//!
//! let mut tx = db.begin_with(Isolation::Serializable)?;
//! let a = tx.get(b"a")?.unwrap_or_default();
//! tx.put(b"b", &a)?;
//! tx.commit()?;
//!
//! db.transaction(|tx| tx.put(b"counter", b"1"))?;
//! db.close()?;
//! # Ok(())
//! # }
//! ```
//!
//! **Durability:** `Durability::Immediate` (default) — an acknowledged write survives power
//! loss; `Eventual` — survives a process crash, synced within `Config::sync_interval`; `None` —
//! durable at the next `flush`. After a crash the database holds a prefix of acknowledged
//! commits, never a torn transaction. `Transaction::commit_with` and `Database::write_with`
//! choose one commit's durability; `Database::sync` makes everything acknowledged durable.
//!
//! **Integrity and file systems:** `Database::check` runs the engine's integrity check;
//! `Database::open_with_vfs` opens a database on any [`vfs::Vfs`] (the crash tests use
//! [`vfs::FaultFs`]).
//!
//! **Walls:** thin wiring over `lightning-txn`, `lightning-wal` and the engines; no storage
//! logic lives here.

#![forbid(unsafe_code)]

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod batch;
mod catalog;
mod config;
mod database;
mod error;
mod format_file;
mod iter;
mod keys;
mod keyspace;
mod maintenance;
mod open;
mod snapshot;
mod stats;
mod transaction;

pub use batch::WriteBatch;
pub use config::{Config, Engine};
pub use database::Database;
pub use error::{Error, Result};
pub use iter::Iter;
pub use keys::{MAX_KEY_LEN, MAX_VALUE_LEN};
pub use keyspace::Keyspace;
pub use lightning_core_storage::{
    engine::{CheckProblem, CheckReport},
    page::PageSize,
};
pub use lightning_txn::Isolation;
pub use lightning_wal::Durability;
pub use snapshot::Snapshot;
pub use stats::Stats;
pub use transaction::{Transaction, TxKeyspace};

/// The file systems a database can be opened on ([`Database::open_with_vfs`]): the real one
/// ([`vfs::StdFs`], what [`Database::open`] uses) and a fault-injecting one for tests
/// ([`vfs::FaultFs`]: I/O errors, power cuts that drop unsynced writes).
pub mod vfs {
    pub use lightning_core_storage::vfs::{FaultFs, FaultKind, OpKind, PowerCut, StdFs, Vfs};
}

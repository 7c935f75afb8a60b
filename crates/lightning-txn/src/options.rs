//! Isolation levels and the limits a transactional store enforces.

use std::time::Duration;

use lightning_wal::Durability;

/// How much a transaction is protected from concurrent ones. Anomaly names follow Adya and
/// Berenson et al.; `tests/isolation_hermitage.rs` checks exactly this table.
///
/// | anomaly | `ReadCommitted` | `Snapshot` | `Serializable` |
/// |---|---|---|---|
/// | G0 dirty write | prevented | prevented | prevented |
/// | G1a aborted read | prevented | prevented | prevented |
/// | G1b intermediate read | prevented | prevented | prevented |
/// | G1c circular information flow | prevented | prevented | prevented |
/// | OTV observed transaction vanishes | prevented | prevented | prevented |
/// | PMP predicate-many-preceders | **allowed** | prevented | prevented |
/// | P4 lost update | **allowed** | prevented | prevented |
/// | G-single read skew | **allowed** | prevented | prevented |
/// | G2-item write skew | **allowed** | **allowed** | prevented |
/// | G2 anti-dependency cycles (predicates) | **allowed** | **allowed** | prevented |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Isolation {
    /// Every read sees the latest committed data; writes are buffered and applied at commit,
    /// last committer wins (no conflict check). Registers no snapshot, so an open read-committed
    /// transaction does not hold garbage collection back.
    ReadCommitted,
    /// Reads come from one snapshot taken at `begin`; of two concurrent transactions writing the
    /// same key, the later committer aborts with `Conflict` (first committer wins).
    #[default]
    Snapshot,
    /// Snapshot isolation plus validation at commit that nothing the transaction read — keys
    /// and scanned ranges — was changed by a transaction that committed after it began.
    Serializable,
}

/// Options of a transactional store.
#[derive(Debug, Clone)]
pub struct TxnOptions {
    /// Durability of commits unless a commit says otherwise.
    pub durability: Durability,
    /// Most writes one transaction may buffer.
    pub max_write_set_entries: usize,
    /// Most bytes of keys and values one transaction may buffer.
    pub max_write_set_bytes: usize,
    /// Most keys plus ranges a serializable transaction may track as read.
    pub max_read_set_entries: usize,
    /// How long a lock request waits before `LockTimeout`.
    pub lock_timeout: Duration,
    /// Longest a snapshot (or snapshot-isolated transaction) may hold garbage collection back
    /// while newer commits exist; past it, it is expired at the next commit or collection and
    /// its reads and commit fail with `SnapshotTooOld`. `None` (the default): no age bound.
    pub max_snapshot_age: Option<Duration>,
    /// Most key versions that may be committed after the oldest snapshot before it is
    /// expired (as with `max_snapshot_age`): bounds the conflict table and the old versions a
    /// forgotten snapshot keeps alive. Default 1,048,576.
    pub max_retained_versions: usize,
}

impl Default for TxnOptions {
    fn default() -> Self {
        TxnOptions {
            durability: Durability::Immediate,
            max_write_set_entries: 1_000_000,
            max_write_set_bytes: 256 << 20,
            max_read_set_entries: 1_000_000,
            lock_timeout: Duration::from_secs(10),
            max_snapshot_age: None,
            max_retained_versions: 1 << 20,
        }
    }
}

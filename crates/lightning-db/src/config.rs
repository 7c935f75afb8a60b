//! [`Config`]: how a database is opened, as a builder.

use std::time::Duration;

use lightning_core_storage::page::PageSize;
use lightning_txn::{Isolation, TxnOptions};
use lightning_wal::Durability;

/// Which storage engine holds the data. Fixed when a database is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Engine {
    /// The page-based B+Tree: read-optimised (the default).
    #[default]
    BTree,
    /// The LSM tree: write-optimised.
    Lsm,
}

impl Engine {
    /// The engine's name as written in the database's FORMAT file and shown in stats.
    pub fn name(self) -> &'static str {
        match self {
            Engine::BTree => "btree",
            Engine::Lsm => "lsm",
        }
    }

    /// Parses a name written by [`Engine::name`].
    pub fn from_name(name: &str) -> Option<Engine> {
        match name {
            "btree" => Some(Engine::BTree),
            "lsm" => Some(Engine::Lsm),
            _ => None,
        }
    }
}

/// Options for [`crate::Database::open`]. Start from `Config::default()` and chain setters.
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) engine: Engine,
    pub(crate) durability: Durability,
    pub(crate) isolation: Isolation,
    pub(crate) cache_size_bytes: u64,
    pub(crate) page_size: PageSize,
    pub(crate) wal_segment_size_bytes: u64,
    pub(crate) sync_interval: Duration,
    pub(crate) checkpoint_interval: Duration,
    pub(crate) lock_timeout: Duration,
    pub(crate) max_snapshot_age: Option<Duration>,
    pub(crate) max_retained_versions: usize,
    pub(crate) create_if_missing: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            engine: Engine::BTree,
            durability: Durability::Immediate,
            isolation: Isolation::Snapshot,
            cache_size_bytes: 64 << 20,
            page_size: PageSize::new(16 * 1024).expect("16 KiB is a valid page size"),
            wal_segment_size_bytes: 64 << 20,
            sync_interval: Duration::from_millis(100),
            checkpoint_interval: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(10),
            max_snapshot_age: TxnOptions::default().max_snapshot_age,
            max_retained_versions: TxnOptions::default().max_retained_versions,
            create_if_missing: true,
        }
    }
}

impl Config {
    /// The storage engine (for a new database; an existing one keeps its own and refuses
    /// another).
    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// Durability of writes and commits: `Immediate` (default: survives power loss once
    /// acknowledged), `Eventual` (survives a process crash; synced within `sync_interval`), or
    /// `None` (durable at the next flush).
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Isolation of transactions started with `begin()` (default `Snapshot`).
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = isolation;
        self
    }

    /// Bytes of page cache.
    pub fn cache_size_bytes(mut self, bytes: u64) -> Self {
        self.cache_size_bytes = bytes;
        self
    }

    /// Page size of a new B+Tree database (16 KiB by default, the B+Tree's minimum: a page
    /// must hold several maximum-size keys).
    pub fn page_size(mut self, page_size: PageSize) -> Self {
        self.page_size = page_size;
        self
    }

    /// Size of each write-ahead-log segment file.
    pub fn wal_segment_size_bytes(mut self, bytes: u64) -> Self {
        self.wal_segment_size_bytes = bytes;
        self
    }

    /// Upper bound on how long an `Eventual` commit stays unsynced.
    pub fn sync_interval(mut self, interval: Duration) -> Self {
        self.sync_interval = interval;
        self
    }

    /// How often the engine is checkpointed and the log truncated in the background: the one
    /// timer of checkpoints (the engine checkpoints on its own only when a lot of data is
    /// dirty). A checkpoint makes every write so far durable, `Durability::None` ones too.
    pub fn checkpoint_interval(mut self, interval: Duration) -> Self {
        self.checkpoint_interval = interval;
        self
    }

    /// How long `get_for_update` waits for a lock.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Longest a snapshot (a `Snapshot`, an iterator, or a snapshot/serializable transaction)
    /// may hold garbage collection back while newer commits exist. Past it, the snapshot is
    /// expired at the next commit or background collection: its reads and its commit fail
    /// with [`crate::Error::SnapshotTooOld`], and old versions are collected again. No age
    /// bound by default (see [`Config::max_retained_versions`] for the bound that applies).
    pub fn max_snapshot_age(mut self, age: Duration) -> Self {
        self.max_snapshot_age = Some(age);
        self
    }

    /// Most key versions that may be committed after the oldest live snapshot before it is
    /// expired (as with [`Config::max_snapshot_age`]): bounds the memory and the old versions
    /// a forgotten snapshot keeps alive. Default 1,048,576.
    pub fn max_retained_versions(mut self, versions: usize) -> Self {
        self.max_retained_versions = versions;
        self
    }

    /// Whether `open` may create a missing database (default true).
    pub fn create_if_missing(mut self, create: bool) -> Self {
        self.create_if_missing = create;
        self
    }
}

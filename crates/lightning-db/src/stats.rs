//! [`Stats`]: what `Database::stats` reports, with a human-readable `Display`.

use std::fmt;

use lightning_core_storage::engine::EngineStats;
use lightning_txn::TxnStats;
use lightning_wal::WalStats;

use crate::{Database, Result};

/// Statistics of an open database.
#[derive(Debug, Clone)]
pub struct Stats {
    /// The engine's counters (name, versions, bytes, durable LSN, engine-specific extras such
    /// as cache hits).
    pub engine: EngineStats,
    /// The write-ahead log's counters.
    pub wal: WalStats,
    /// Transaction counters, live snapshots and the oldest one's age.
    pub transactions: TxnStats,
    /// Number of named keyspaces.
    pub keyspaces: usize,
}

impl Stats {
    pub(crate) fn collect(db: &Database, store: &lightning_txn::TxnStore) -> Result<Stats> {
        Ok(Stats {
            engine: store.engine().stats()?,
            wal: store.wal().stats(),
            transactions: store.stats(),
            keyspaces: db.inner.catalog.len(),
        })
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.engine;
        let t = &self.transactions;
        writeln!(f, "engine            {}", e.engine)?;
        writeln!(f, "versions          {}", e.versions)?;
        writeln!(f, "disk bytes        {}", e.disk_bytes)?;
        writeln!(f, "memory bytes      {}", e.memory_bytes)?;
        writeln!(f, "durable lsn       {}", e.durable_lsn)?;
        for (name, value) in &e.extra {
            writeln!(f, "{name:<17} {value}")?;
        }
        writeln!(f, "keyspaces         {}", self.keyspaces)?;
        writeln!(f, "commits           {}", t.commits)?;
        writeln!(f, "aborts            {}", t.aborts)?;
        writeln!(f, "conflicts         {}", t.conflicts)?;
        writeln!(f, "live snapshots    {}", t.live_snapshots)?;
        let age = t.oldest_snapshot_age.as_secs_f64();
        match t.oldest_snapshot_ts {
            Some(ts) => writeln!(f, "oldest snapshot   ts {ts}, held {age:.3} s")?,
            None => writeln!(f, "oldest snapshot   none")?,
        }
        let w = &self.wal;
        writeln!(f, "wal segments      {}", w.segments)?;
        writeln!(f, "wal last lsn      {}", w.last_lsn)?;
        writeln!(f, "wal durable lsn   {}", w.durable_lsn)?;
        writeln!(f, "wal bytes         {}", w.bytes_written)?;
        writeln!(f, "wal records       {}", w.records_appended)?;
        write!(f, "wal syncs         {} (largest group commit {})", w.syncs, w.max_group_size)
    }
}

//! [`LsmOptions`]: the engine's knobs.

use lightning_core_storage::{Error, Result};

use crate::{compaction::pick::CompactionOptions, sstable::TableOptions};

/// How an [`super::LsmEngine`] sizes its memtables, tables, levels, cache and threads.
#[derive(Debug, Clone)]
pub struct LsmOptions {
    /// A memtable becomes immutable (and is flushed) once it holds this many bytes (estimated
    /// with per-entry overhead). Default 64 MiB.
    pub memtable_bytes: usize,
    /// Writers stop in `admit_write` while this many immutable memtables wait to be flushed
    /// (and slow down at one fewer). Default 2.
    pub max_immutable_memtables: usize,
    /// How tables are written.
    pub table: TableOptions,
    /// Level sizes, triggers and the L0 slowdown/stop thresholds.
    pub compaction: CompactionOptions,
    /// Bytes of the shared data-block cache (0: no cache). Default 64 MiB.
    pub cache_size_bytes: u64,
    /// Background compaction threads (flushes have a thread of their own). Default 1.
    pub compaction_threads: usize,
    /// How long a slowed-down writer waits in `admit_write`, in microseconds. Default 1000.
    pub slowdown_micros: u64,
}

impl Default for LsmOptions {
    fn default() -> Self {
        LsmOptions {
            memtable_bytes: 64 << 20,
            max_immutable_memtables: 2,
            table: TableOptions::default(),
            compaction: CompactionOptions::default(),
            cache_size_bytes: 64 << 20,
            compaction_threads: 1,
            slowdown_micros: 1000,
        }
    }
}

impl LsmOptions {
    /// Options scaled down for tests: tiny memtables and tables so that flushes and
    /// compactions happen often.
    pub fn tiny() -> Self {
        LsmOptions {
            memtable_bytes: 16 << 10,
            table: TableOptions { block_size: 512, ..TableOptions::default() },
            compaction: CompactionOptions {
                base_level_bytes: 64 << 10,
                target_file_size: 16 << 10,
                ..CompactionOptions::default()
            },
            cache_size_bytes: 1 << 20,
            ..LsmOptions::default()
        }
    }

    /// Refuses options the engine cannot run with.
    pub fn validate(&self) -> Result<()> {
        let fail = |what: &str| Err(Error::InvalidInput(format!("LSM options: {what}")));
        if self.memtable_bytes == 0 {
            return fail("memtable_bytes must be above zero");
        }
        if self.max_immutable_memtables == 0 {
            return fail("max_immutable_memtables must be at least 1");
        }
        if self.compaction.num_levels < 2 {
            return fail("num_levels must be at least 2");
        }
        if self.compaction_threads == 0 {
            return fail("compaction_threads must be at least 1");
        }
        let c = &self.compaction;
        if !(c.l0_trigger <= c.l0_slowdown && c.l0_slowdown <= c.l0_stop) {
            return fail("L0 thresholds must satisfy trigger <= slowdown <= stop");
        }
        Ok(())
    }
}

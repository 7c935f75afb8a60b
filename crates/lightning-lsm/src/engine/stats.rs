//! [`Shared::stats`]: what the engine holds (per level: files and bytes), the work it did
//! (flushes, compactions, write amplification), stalls and the filters' usefulness.

use std::sync::atomic::Ordering;

use lightning_core_storage::engine::EngineStats;

use super::Shared;

impl Shared {
    /// The engine's counters.
    pub(crate) fn stats(&self) -> EngineStats {
        let sv = self.current();
        let c = &self.counters;
        let mut extra: Vec<(String, u64)> = Vec::new();
        let mut disk_bytes = 0;
        let mut versions: u64 = sv.memtables().map(|m| m.len() as u64).sum();
        for (level, tables) in sv.version.levels().iter().enumerate() {
            let bytes = sv.version.level_bytes(level);
            disk_bytes += bytes;
            versions += tables.iter().map(|m| m.entries).sum::<u64>();
            extra.push((format!("l{level}_files"), tables.len() as u64));
            extra.push((format!("l{level}_bytes"), bytes));
        }
        let (mut useful, mut false_positive) = (0, 0);
        for table in sv.tables.values() {
            let f = table.filter_counters();
            useful += f.useful;
            false_positive += f.false_positive;
        }
        let applied = c.bytes_applied.load(Ordering::Relaxed);
        let flushed = c.bytes_flushed.load(Ordering::Relaxed);
        let compacted = c.bytes_compacted.load(Ordering::Relaxed);
        let write_amp_x100 = ((flushed + compacted) * 100).checked_div(applied).unwrap_or(0);
        let load = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
        extra.extend(
            [
                ("memtables", sv.memtables().count() as u64),
                ("immutable_memtables", sv.immutables.len() as u64),
                ("flushes", load(&c.flushes)),
                ("compactions", load(&c.compactions)),
                ("trivial_moves", load(&c.trivial_moves)),
                ("versions_dropped", load(&c.versions_dropped)),
                ("bytes_applied", applied),
                ("bytes_flushed", flushed),
                ("bytes_compacted", compacted),
                ("write_amplification_x100", write_amp_x100),
                ("stall_slowdowns", load(&c.slowdowns)),
                ("stall_stops", load(&c.stops)),
                ("filter_useful", useful),
                ("filter_false_positive", false_positive),
                ("block_cache_bytes", self.cache.as_ref().map_or(0, |b| b.resident_bytes() as u64)),
            ]
            .map(|(name, value)| (name.to_string(), value)),
        );
        EngineStats {
            engine: "lsm".into(),
            versions,
            disk_bytes,
            memory_bytes: sv.memtables().map(|m| m.approximate_bytes() as u64).sum(),
            durable_lsn: self.durable.lock().lsn,
            extra,
        }
    }
}

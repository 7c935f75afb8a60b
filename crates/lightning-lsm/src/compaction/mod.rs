//! Leveled compaction: [`pick`] chooses what to compact (RocksDB's dynamic level sizes and
//! scores); the engine's runner merges the chosen tables into new ones.

pub mod pick;

//! Leveled compaction: [`pick`] chooses what to compact (RocksDB's dynamic level sizes and
//! scores); [`run`] merges the chosen tables into new ones.

pub mod pick;
pub mod run;

//! Leveled compaction: choosing what to compact ([`pick`]) and running the merge ([`run`]).

pub mod pick;
pub mod run;

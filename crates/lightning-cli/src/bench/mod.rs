//! The built-in benchmark: db_bench-style workloads, a latency histogram, the runner and the
//! report. Everything but [`run`] is pure and unit-tested without a database.

pub mod histogram;
pub mod report;
pub mod run;
pub mod workloads;

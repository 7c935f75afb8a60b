//! The engines under test: one adapter per file, and the table that names them.
//!
//! Each adapter maps the [`Driver`](crate::driver::Driver) contract onto the engine's own
//! idiomatic API (its write transaction or atomic write batch, its read transaction or
//! snapshot), with the durability of [`Durability`](crate::driver::Durability) matched as
//! closely as the engine allows; the mapping is stated in each file's header.

mod fjall;
mod heed;
mod lightning;
mod redb;
#[cfg(feature = "rocksdb")]
mod rocksdb;
mod sled;

use crate::driver::OpenFn;

/// One column of the table.
#[derive(Debug, Clone, Copy)]
pub struct EngineSpec {
    /// What `--engines` accepts.
    pub id: &'static str,
    /// The column header.
    pub column: &'static str,
    /// Lightning DB's own engines get a ratio column.
    pub lightning: bool,
    /// False for an engine that does not reliably fsync: its durable rows print "n/a".
    pub syncs: bool,
    pub open: OpenFn,
}

/// Every engine compiled into this build, in column order.
pub fn all() -> Vec<EngineSpec> {
    let engines = vec![
        EngineSpec {
            id: "lightning",
            column: "Lightning B+Tree",
            lightning: true,
            syncs: true,
            open: lightning::open_btree,
        },
        EngineSpec {
            id: "lightning-lsm",
            column: "Lightning LSM",
            lightning: true,
            syncs: true,
            open: lightning::open_lsm,
        },
        EngineSpec {
            id: "redb",
            column: "redb 4.6",
            lightning: false,
            syncs: true,
            open: redb::open,
        },
        EngineSpec {
            id: "lmdb",
            column: "LMDB (heed 0.22)",
            lightning: false,
            syncs: true,
            open: heed::open,
        },
        EngineSpec {
            id: "fjall",
            column: "fjall 3.1",
            lightning: false,
            syncs: true,
            open: fjall::open,
        },
        EngineSpec {
            id: "sled",
            column: "sled 0.34",
            lightning: false,
            syncs: false,
            open: sled::open,
        },
    ];
    #[cfg(feature = "rocksdb")]
    let engines = {
        let mut engines = engines;
        engines.push(EngineSpec {
            id: "rocksdb",
            column: "RocksDB 0.24",
            lightning: false,
            syncs: true,
            open: rocksdb::open,
        });
        engines
    };
    engines
}

/// The engine `id` (`heed` is accepted for `lmdb`).
pub fn find(id: &str) -> Option<EngineSpec> {
    let id = if id == "heed" { "lmdb" } else { id };
    all().into_iter().find(|engine| engine.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_findable() {
        let engines = all();
        for (index, engine) in engines.iter().enumerate() {
            assert!(engines[..index].iter().all(|other| other.id != engine.id));
            assert_eq!(find(engine.id).map(|found| found.id), Some(engine.id));
        }
        assert_eq!(find("heed").map(|found| found.id), Some("lmdb"));
        assert!(find("sqlite").is_none());
        assert!(engines.iter().filter(|engine| !engine.syncs).all(|engine| engine.id == "sled"));
    }
}

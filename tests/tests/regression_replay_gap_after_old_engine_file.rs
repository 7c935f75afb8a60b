//! Regression: an engine file older than the log's oldest record must not open with a hole.
//!
//! Writing 18,000 commits with 64 KiB WAL segments and a `flush()` every 3,000 truncates the
//! log as it goes. Putting back a copy of the engine's files taken after the second flush (what
//! a lost write or a restored old file amounts to) leaves the engine durable at LSN ~6,000 and
//! the log starting thousands of records later. Recovery used to replay what was there and
//! open without an error, silently losing every commit in between; it must fail with
//! `Corruption` naming both LSNs.

mod common;

use std::{fs, path::Path};

use common::ENGINES;
use lightning_db::{Config, Database, Durability, Error};

const COMMITS: u32 = 18_000;
const FLUSH_EVERY: u32 = 3_000;

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn reopening_with_an_older_engine_file_than_the_log_covers_is_corruption() {
    for &engine in ENGINES {
        let dir = tempfile::tempdir().unwrap();
        let saved = tempfile::tempdir().unwrap();
        let config = Config::default()
            .engine(engine)
            .wal_segment_size_bytes(64 << 10)
            .durability(Durability::None)
            .checkpoint_interval(std::time::Duration::from_secs(3600));
        let db = Database::open(dir.path(), config.clone()).unwrap();
        for i in 1..=COMMITS {
            db.put(format!("key{i:06}"), i.to_le_bytes()).unwrap();
            if i % FLUSH_EVERY == 0 {
                db.flush().unwrap();
                if i == 2 * FLUSH_EVERY {
                    copy_dir(&dir.path().join(engine.name()), saved.path());
                }
            }
        }
        db.close().unwrap();
        fs::remove_dir_all(dir.path().join(engine.name())).unwrap();
        copy_dir(saved.path(), &dir.path().join(engine.name()));

        match Database::open(dir.path(), config) {
            Err(Error::Corruption { what, .. }) => {
                assert!(what.contains("LSN"), "the error names the LSNs: {what}");
            }
            Err(other) => panic!("expected Corruption, got {other}"),
            Ok(db) => {
                let present = (1..=COMMITS)
                    .filter(|i| db.get(format!("key{i:06}")).unwrap().is_some())
                    .count();
                panic!("opened with a hole: {} of {COMMITS} commits present", present);
            }
        }
    }
}

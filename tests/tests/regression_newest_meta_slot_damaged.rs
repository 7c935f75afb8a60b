//! Regression: a damaged newest meta slot in the engine file used to fall back silently to the
//! older slot, whose pages the following writes had already reused and whose log records had
//! been truncated: the database opened with a hole, or with pages holding other data. Now the
//! older slot's pages are kept until the commit after next and the log is truncated only below
//! the older checkpoint, so the fallback replays the gap and every acknowledged commit is there.

use std::{fs, path::Path};

use lightning_db::{Config, Database, Durability};

const KEYS: u32 = 300;
const ROUNDS: u32 = 5;
const PAGE_SIZE: u64 = 16 * 1024;

/// About 400 bytes: a round logs well over two 64 KiB segments, so truncation has work to do.
fn value(key: u32, round: u32) -> Vec<u8> {
    format!("value of {key} in round {round} {}", "x".repeat(380)).into_bytes()
}

/// The generation recorded in a meta slot (page header 32 bytes, generation at body offset 16).
fn generation(file: &[u8], slot: u64) -> u64 {
    let at = (slot * PAGE_SIZE + 32 + 16) as usize;
    u64::from_le_bytes(file[at..at + 8].try_into().unwrap())
}

fn damage_newest_meta_slot(engine_file: &Path) {
    let mut bytes = fs::read(engine_file).unwrap();
    let newest = if generation(&bytes, 0) > generation(&bytes, 1) { 0 } else { 1 };
    bytes[(newest * PAGE_SIZE + 100) as usize] ^= 0x5a;
    fs::write(engine_file, bytes).unwrap();
}

#[test]
fn damaged_newest_meta_slot_reopens_with_every_acknowledged_commit() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::default()
        .durability(Durability::Immediate)
        .wal_segment_size_bytes(64 << 10)
        .checkpoint_interval(std::time::Duration::from_secs(3600));
    let db = Database::open(dir.path(), config.clone()).unwrap();
    for round in 0..ROUNDS {
        // Every key rewritten each round: the tree copies its pages and frees the old ones.
        let mut batch = lightning_db::WriteBatch::new();
        for key in 0..KEYS {
            if (key + round).is_multiple_of(7) {
                batch.delete(format!("key{key:04}"));
            } else {
                batch.put(format!("key{key:04}"), value(key, round));
            }
        }
        db.write(batch).unwrap();
        for key in (0..KEYS).step_by(3) {
            db.put(format!("single{key:04}"), value(key, round)).unwrap();
        }
        db.flush().unwrap();
    }
    // Acknowledged after the last checkpoint: only in the log.
    for key in 0..50u32 {
        db.put(format!("late{key:04}"), value(key, ROUNDS)).unwrap();
    }
    drop(db);

    damage_newest_meta_slot(&dir.path().join("btree").join("btree.ldb"));

    let db = Database::open(dir.path(), config).unwrap();
    let last = ROUNDS - 1;
    for key in 0..KEYS {
        let expected = (!(key + last).is_multiple_of(7)).then(|| value(key, last));
        assert_eq!(db.get(format!("key{key:04}")).unwrap(), expected, "key{key:04}");
    }
    for key in (0..KEYS).step_by(3) {
        assert_eq!(db.get(format!("single{key:04}")).unwrap(), Some(value(key, last)));
    }
    for key in 0..50u32 {
        assert_eq!(db.get(format!("late{key:04}")).unwrap(), Some(value(key, ROUNDS)));
    }
}

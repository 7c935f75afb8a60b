//! Regression: a damaged newest meta slot in the engine file used to fall back silently to the
//! older slot, whose pages the following writes had already reused and whose log records had
//! been truncated: the database opened with a hole, or with pages holding other data. Now the
//! older slot's pages are kept until the commit after next and the log is truncated only below
//! the older checkpoint, so the fallback replays the gap and every acknowledged commit is there.
//! The second test is the crash the rule exists for: a checkpoint whose page writes reached the
//! disk but whose meta page did not, and a damaged newest slot.

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

fn newest_slot(file: &[u8]) -> u64 {
    if generation(file, 0) > generation(file, 1) { 0 } else { 1 }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// One round of writes: every key rewritten (the tree copies its pages and frees the old ones).
fn write_round(db: &Database, round: u32) {
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
}

fn assert_round(db: &Database, round: u32) {
    for key in 0..KEYS {
        let expected = (!(key + round).is_multiple_of(7)).then(|| value(key, round));
        assert_eq!(db.get(format!("key{key:04}")).unwrap(), expected, "key{key:04}");
    }
    for key in (0..KEYS).step_by(3) {
        assert_eq!(db.get(format!("single{key:04}")).unwrap(), Some(value(key, round)));
    }
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
        write_round(&db, round);
        db.flush().unwrap();
    }
    // Acknowledged after the last checkpoint: only in the log.
    for key in 0..50u32 {
        db.put(format!("late{key:04}"), value(key, ROUNDS)).unwrap();
    }
    drop(db);

    damage_newest_meta_slot(&dir.path().join("btree").join("btree.ldb"));

    let db = Database::open(dir.path(), config).unwrap();
    assert_round(&db, ROUNDS - 1);
    for key in 0..50u32 {
        assert_eq!(db.get(format!("late{key:04}")).unwrap(), Some(value(key, ROUNDS)));
    }
}

/// Keys of the torn-checkpoint test: written once, then every 20th rewritten each round, so
/// every leaf is copied by each checkpoint while most of its entries exist only in the pages.
const BASE_KEYS: u32 = 2_000;

fn write_sparse_round(db: &Database, round: u32) {
    let mut batch = lightning_db::WriteBatch::new();
    for key in (0..BASE_KEYS).filter(|key| round == 0 || key.is_multiple_of(20)) {
        batch.put(format!("base{key:05}"), value(key, round));
    }
    db.write(batch).unwrap();
}

#[test]
fn checkpoint_torn_before_its_meta_page_then_a_damaged_newest_slot_keeps_every_commit() {
    let dir = tempfile::tempdir().unwrap();
    let saved = tempfile::tempdir().unwrap();
    let config = Config::default()
        .durability(Durability::Immediate)
        .checkpoint_interval(std::time::Duration::from_secs(3600));
    let engine_file = dir.path().join("btree").join("btree.ldb");
    let db = Database::open(dir.path(), config.clone()).unwrap();
    for round in 0..ROUNDS - 1 {
        write_sparse_round(&db, round);
        db.flush().unwrap();
    }
    // The engine file after checkpoint k, and the log before checkpoint k + 1 (which a crash
    // during that checkpoint would leave: its truncation comes after its meta page).
    let after_k = fs::read(&engine_file).unwrap();
    // Checkpoint k + 1 writes leaves of another key range: had it reused the pages checkpoint
    // k freed, checkpoint k - 1's tree would lead to leaves holding other keys.
    let mut batch = lightning_db::WriteBatch::new();
    for key in 0..BASE_KEYS {
        batch.put(format!("zz{key:05}"), value(key, ROUNDS));
    }
    db.write(batch).unwrap();
    copy_dir(&dir.path().join("wal"), &saved.path().join("wal"));
    db.flush().unwrap();
    drop(db);

    // Checkpoint k + 1's pages are on disk but its meta page is not: put back the slot it
    // overwrote (checkpoint k - 1). Then damage slot k, the newest left.
    let mut file = fs::read(&engine_file).unwrap();
    let overwritten = newest_slot(&file);
    let page = |slot: u64| (slot * PAGE_SIZE) as usize..((slot + 1) * PAGE_SIZE) as usize;
    file[page(overwritten)].copy_from_slice(&after_k[page(overwritten)]);
    let newest_left = newest_slot(&file);
    assert_ne!(newest_left, overwritten, "slot k is now the newest");
    file[(newest_left * PAGE_SIZE + 100) as usize] ^= 0x5a;
    fs::write(&engine_file, file).unwrap();
    fs::remove_dir_all(dir.path().join("wal")).unwrap();
    copy_dir(&saved.path().join("wal"), &dir.path().join("wal"));

    // Open falls back to checkpoint k - 1, whose pages checkpoint k + 1 must not have reused
    // (most entries are only there: the log replays just the rewritten ones).
    let db = Database::open(dir.path(), config).unwrap();
    for key in 0..BASE_KEYS {
        let round = if key.is_multiple_of(20) { ROUNDS - 2 } else { 0 };
        let found = db.get(format!("base{key:05}"));
        assert_eq!(found.unwrap(), Some(value(key, round)), "base{key:05}");
        assert_eq!(db.get(format!("zz{key:05}")).unwrap(), Some(value(key, ROUNDS)));
    }
}

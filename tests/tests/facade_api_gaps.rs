//! The API a redb or RocksDB user reaches for at once: dropping a keyspace, reading named
//! keyspaces from a snapshot, and the integrity check `Database::check`. (Per-commit
//! durability and `Database::sync` are tested in `crash_commit_durability_ignored.rs`.)

mod common;

use std::{path::Path, sync::Arc};

use common::{
    ENGINES, FAULT_DIR as DIR, collect, keys_of, no_background_checkpoints, open_on,
    power_cut_and_reopen, temp_db,
};
use lightning_db::{Database, Durability, Error, vfs::FaultFs};

#[test]
fn dropped_keyspace_loses_its_entries_and_its_name_comes_back_empty() {
    for &engine in ENGINES {
        let (_dir, db) = temp_db(engine);
        let users = db.keyspace("users").unwrap();
        let other = db.keyspace("other").unwrap();
        for i in 0..3000 {
            users.put(format!("u{i:05}"), "x").unwrap(); // more than one purge batch
        }
        other.put("keep", "me").unwrap();
        db.put("default", "stays").unwrap();

        assert!(db.drop_keyspace("users").unwrap());
        assert!(!db.drop_keyspace("users").unwrap(), "dropping twice finds nothing");
        assert_eq!(db.keyspaces().unwrap(), vec!["other".to_string()]);
        assert!(
            matches!(users.get("u00001"), Err(Error::KeyspaceDropped { ref name }) if name == "users")
        );
        assert!(matches!(users.put("k", "v"), Err(Error::KeyspaceDropped { .. })));
        assert!(matches!(users.iter(), Err(Error::KeyspaceDropped { .. })));
        let mut tx = db.begin().unwrap();
        assert!(matches!(tx.keyspace(&users).put("k", "v"), Err(Error::KeyspaceDropped { .. })));
        drop(tx);
        let mut batch = lightning_db::WriteBatch::new();
        batch.put_in(&users, "k", "v");
        assert!(matches!(db.write(batch), Err(Error::KeyspaceDropped { .. })), "batch");

        let again = db.keyspace("users").unwrap();
        assert!(collect(again.iter().unwrap()).is_empty(), "a re-created keyspace is empty");
        again.put("new", "1").unwrap();
        assert!(matches!(users.get("new"), Err(Error::KeyspaceDropped { .. })), "old handle");
        assert_eq!(other.get("keep").unwrap().as_deref(), Some(&b"me"[..]));
        assert_eq!(db.get("default").unwrap().as_deref(), Some(&b"stays"[..]));
        assert!(db.check().unwrap().is_clean());
    }
}

#[test]
fn dropped_keyspace_stays_dropped_after_a_power_cut() {
    let fs = FaultFs::new();
    let config = no_background_checkpoints().durability(Durability::None);
    let db = open_on(&fs, config.clone());
    let logs = db.keyspace("logs").unwrap();
    for i in 0..200 {
        logs.put(format!("l{i:03}"), "x").unwrap();
    }
    db.sync().unwrap();
    assert!(db.drop_keyspace("logs").unwrap());
    let db = power_cut_and_reopen(&fs, db, config);
    assert!(db.keyspaces().unwrap().is_empty(), "the drop was durable when it returned");
    let logs = db.keyspace("logs").unwrap();
    assert!(collect(logs.iter().unwrap()).is_empty(), "no entry of the dropped keyspace is back");
}

#[test]
fn snapshot_reads_named_keyspaces_as_of_when_it_was_taken() {
    let (_dir, db) = temp_db(ENGINES[0]);
    let colors = db.keyspace("colors").unwrap();
    colors.put("apple", "red").unwrap();
    colors.put("banana", "yellow").unwrap();
    db.put("apple", "default keyspace").unwrap();
    let snapshot = db.snapshot().unwrap();
    colors.put("cherry", "dark red").unwrap();
    colors.delete("apple").unwrap();

    assert_eq!(snapshot.get_in(&colors, "apple").unwrap().as_deref(), Some(&b"red"[..]));
    assert_eq!(keys_of(&collect(snapshot.iter_in(&colors).unwrap())), ["apple", "banana"]);
    assert_eq!(keys_of(&collect(snapshot.range_in(&colors, "b"..).unwrap())), ["banana"]);
    assert_eq!(keys_of(&collect(snapshot.prefix_in(&colors, "ap").unwrap().rev())), ["apple"]);
    assert_eq!(keys_of(&collect(snapshot.iter().unwrap())), ["apple"], "default keyspace apart");
}

#[test]
fn check_of_a_clean_database_reports_what_it_walked_and_no_problem() {
    let (_dir, db) = temp_db(ENGINES[0]);
    for i in 0..2000 {
        db.put(format!("key{i:05}"), [i as u8; 100]).unwrap();
    }
    db.flush().unwrap();
    let report = db.check().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.engine, "btree");
    let count = |name: &str| report.counts.iter().find(|(n, _)| n == name).map(|(_, c)| *c);
    assert!(count("versions").unwrap() >= 2000, "{report:?}");
    assert!(count("leaf_pages").unwrap() > 1, "{report:?}");
}

#[test]
fn check_reports_a_flipped_byte_as_a_problem_naming_the_page() {
    let fs = FaultFs::new();
    let config = no_background_checkpoints();
    let db = open_on(&fs, config.clone());
    for i in 0..2000 {
        db.put(format!("key{i:05}"), [i as u8; 100]).unwrap();
    }
    db.close().unwrap();
    let file = Path::new(DIR).join("btree").join("btree.ldb");
    let len = fs.file_contents(&file).expect("the engine's file").len() as u64;
    let page = 16 * 1024; // Config's default page size
    let mut reported = 0;
    // One data page at a time: flip a byte in its middle, open, check, flip it back.
    for number in 2..len / page {
        let offset = number * page + page / 2;
        assert!(fs.corrupt_byte(&file, offset, 0x40));
        match Database::open_with_vfs(Arc::new(fs.clone()), Path::new(DIR), config.clone()) {
            Ok(db) => {
                let report = db.check().unwrap();
                if let Some(problem) = report.problems.first() {
                    let expected = format!("{} page {number}", file.display());
                    assert_eq!(problem.location, expected, "{:?}", report.problems);
                    reported += 1;
                }
                db.close().unwrap();
            }
            // Open reads some pages itself (the root, the free list) and names them.
            Err(Error::Corruption { location, .. }) => assert!(location.contains("page")),
            Err(other) => panic!("page {number}: {other}"),
        }
        assert!(fs.corrupt_byte(&file, offset, 0x40), "restored");
    }
    assert!(reported > 0, "some damaged page was found by check, not by open");
}

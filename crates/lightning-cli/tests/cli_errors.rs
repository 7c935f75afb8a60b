//! Failures through the built binary: each is one `lightning: error: ...` line with exit status 1
//! (runtime) or 2 (usage), snapshotted; a database locked by another process and an engine
//! other than the database's are named clearly.

mod common;

use common::{fails, lightning, ok};
use lightning_db::{Config, Database};

#[test]
fn an_unknown_option_is_a_one_line_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    insta::assert_snapshot!("unknown_option", fails(dir.path(), &["scan", "--prefx", "a"], 2));
    insta::assert_snapshot!("missing_argument", fails(dir.path(), &["put", "k"], 2));
    insta::assert_snapshot!(
        "bad_size",
        fails(dir.path(), &["--cache-size", "5parsecs", "stats"], 2)
    );
    insta::assert_snapshot!("unknown_command", fails(dir.path(), &["frobnicate"], 2));
}

#[test]
fn a_command_without_db_is_a_usage_error() {
    let output = lightning().args(["get", "k"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    insta::assert_snapshot!("missing_db", String::from_utf8(output.stderr).unwrap());
}

#[test]
fn the_lsm_engine_stores_and_reads_back() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("new");
    ok(&dir, &["--engine", "lsm", "put", "k", "v"]);
    assert!(dir.join("lsm").join("CURRENT").exists(), "an LSM database was made");
    assert_eq!(common::ok_text(&dir, &["--engine", "lsm", "get", "k"]), "v\n");
}

#[test]
fn another_engine_than_the_database_was_created_with_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["put", "k", "v"]);
    insta::assert_snapshot!(
        "engine_mismatch",
        fails(dir.path(), &["--engine", "lsm", "get", "k"], 1)
    );
}

#[test]
fn a_database_open_in_another_process_is_named() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["put", "k", "v"]);
    let db = Database::open(dir.path(), Config::default()).unwrap();
    for args in [&["get", "k"][..], &["put", "k", "w"], &["scan"], &["stats"]] {
        let stderr = fails(dir.path(), args, 1);
        assert_eq!(
            stderr,
            "lightning: error: [DB] is in use by another process (only one process may open a \
             database)\n",
            "{args:?}"
        );
    }
    db.close().unwrap();
    assert_eq!(ok(dir.path(), &["get", "k"]), b"v\n");
}

#[test]
fn limits_of_the_database_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let key = "k".repeat(5000);
    let stderr = fails(dir.path(), &["put", &key, "v"], 1);
    assert_eq!(stderr, "lightning: error: key of 5000 bytes exceeds the maximum of 4096 bytes\n");
}

#[test]
fn a_missing_dump_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.dump");
    let stderr = fails(dir.path(), &["load", "--input", missing.to_str().unwrap()], 1);
    assert!(stderr.starts_with("lightning: error: reading [DB]/nope.dump: "), "{stderr}");
    let stderr = fails(dir.path(), &["dump", "--output", "/nonexistent-dir/x.dump"], 1);
    assert!(stderr.contains("no database") || stderr.contains("/nonexistent-dir"), "{stderr}");
}

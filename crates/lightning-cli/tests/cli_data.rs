//! The data commands through the built binary: `put`, `get`, `del`, `scan` (every option, both
//! formats), `stats`, and the byte handling of arguments (raw bytes, `--hex`).

mod common;

use std::{ffi::OsStr, os::unix::ffi::OsStrExt};

use common::{fails, ok, ok_text, on, put_hex};

fn fruit_db() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (key, value) in
        [("apple", "red"), ("banana", "yellow"), ("cherry", "dark red"), ("date", "brown")]
    {
        ok(dir.path(), &["put", key, value]);
    }
    ok(dir.path(), &["put", "user:1", "ada"]);
    ok(dir.path(), &["put", "user:2", "grace"]);
    dir
}

fn json_keys(output: &str) -> Vec<String> {
    output
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            value["key"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn scan_keys(dir: &std::path::Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["scan", "--format", "json"];
    all.extend_from_slice(args);
    json_keys(&ok_text(dir, &all))
}

#[test]
fn put_then_get_prints_the_value_and_a_newline() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["put", "user:1", "ada"]);
    assert_eq!(ok_text(dir.path(), &["get", "user:1"]), "ada\n");
    assert_eq!(ok(dir.path(), &["get", "--raw", "user:1"]), b"ada");
    ok(dir.path(), &["put", "user:1", "lovelace"]);
    assert_eq!(ok_text(dir.path(), &["get", "user:1"]), "lovelace\n");
}

#[test]
fn a_missing_key_exits_1_with_key_not_found() {
    let dir = fruit_db();
    let stderr = fails(dir.path(), &["get", "fig"], 1);
    assert_eq!(stderr, "lightning: error: key not found: fig\n");
    on(dir.path()).args(["get", "fig"]).assert().failure().code(1).stdout("");
}

#[test]
fn del_removes_a_key_and_deleting_a_missing_key_is_fine() {
    let dir = fruit_db();
    ok(dir.path(), &["del", "apple"]);
    fails(dir.path(), &["get", "apple"], 1);
    ok(dir.path(), &["del", "apple"]);
    ok(dir.path(), &["delete", "banana"]);
    assert_eq!(scan_keys(dir.path(), &["--limit", "1"]), ["cherry"]);
}

#[test]
fn an_empty_value_is_a_value() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["put", "k", ""]);
    assert_eq!(ok(dir.path(), &["get", "--raw", "k"]), b"");
    assert_eq!(
        ok_text(dir.path(), &["scan", "--format", "json"]),
        "{\"key\":\"k\",\"value\":\"\"}\n"
    );
}

#[test]
fn arguments_are_taken_as_raw_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let key = OsStr::from_bytes(b"bin\xff\x01");
    let value = OsStr::from_bytes(b"\xfe\xff");
    on(dir.path()).arg("put").arg(key).arg(value).assert().success();
    let got = on(dir.path()).args(["get", "--raw"]).arg(key).output().unwrap();
    assert_eq!(got.stdout, b"\xfe\xff");
    assert_eq!(ok_text(dir.path(), &["--hex", "get", "62696eff01"]), "feff\n");
    assert_eq!(
        ok_text(dir.path(), &["scan"]),
        "KEY          VALUE\nbin\\xff\\x01  \\xfe\\xff\n(1 entry)\n"
    );
}

#[test]
fn hex_mode_gives_and_shows_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    put_hex(dir.path(), &[("00ff00", "00"), ("", "ff"), ("61", "")]);
    assert_eq!(ok_text(dir.path(), &["--hex", "get", "00FF00"]), "00\n");
    assert_eq!(ok(dir.path(), &["get", "--raw", "a"]), b"");
    let table = ok_text(dir.path(), &["--hex", "scan"]);
    assert_eq!(table, "KEY     VALUE\n        ff\n00ff00  00\n61\n(3 entries)\n");
    let json = ok_text(dir.path(), &["--hex", "scan", "--format", "json", "--from", "01"]);
    assert_eq!(json, "{\"key\":\"61\",\"value\":\"\"}\n");
    let stderr = fails(dir.path(), &["--hex", "get", "xyz"], 2);
    assert_eq!(stderr, "lightning: error: KEY is not hex (--hex): odd number of hex digits (3)\n");
}

#[test]
fn scan_walks_forward_and_backward_with_a_limit() {
    let dir = fruit_db();
    let all = ["apple", "banana", "cherry", "date", "user:1", "user:2"];
    assert_eq!(scan_keys(dir.path(), &[]), all);
    let mut reversed = all;
    reversed.reverse();
    assert_eq!(scan_keys(dir.path(), &["--reverse"]), reversed);
    assert_eq!(scan_keys(dir.path(), &["--limit", "2"]), ["apple", "banana"]);
    assert_eq!(scan_keys(dir.path(), &["--reverse", "--limit", "2"]), ["user:2", "user:1"]);
    assert_eq!(scan_keys(dir.path(), &["--limit", "0"]), Vec::<String>::new());
}

#[test]
fn scan_prefix_and_from_to_combine() {
    let dir = fruit_db();
    assert_eq!(scan_keys(dir.path(), &["--prefix", "user:"]), ["user:1", "user:2"]);
    assert_eq!(scan_keys(dir.path(), &["--prefix", "user:", "--reverse"]), ["user:2", "user:1"]);
    assert_eq!(scan_keys(dir.path(), &["--from", "b", "--to", "d"]), ["banana", "cherry"]);
    assert_eq!(scan_keys(dir.path(), &["--from", "banana", "--to", "date"]), ["banana", "cherry"]);
    assert_eq!(
        scan_keys(dir.path(), &["--from", "cherry"]),
        ["cherry", "date", "user:1", "user:2"]
    );
    assert_eq!(scan_keys(dir.path(), &["--to", "b", "--reverse"]), ["apple"]);
    assert_eq!(scan_keys(dir.path(), &["--prefix", "user:", "--from", "user:2"]), ["user:2"]);
    assert_eq!(scan_keys(dir.path(), &["--prefix", "user:", "--to", "user:2"]), ["user:1"]);
    assert_eq!(scan_keys(dir.path(), &["--from", "z", "--to", "a"]), Vec::<String>::new());
    assert_eq!(scan_keys(dir.path(), &["--prefix", "zz"]), Vec::<String>::new());
}

#[test]
fn scan_json_uses_strings_for_utf8_and_a_hex_marker_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["put", "caf\u{e9}", "cr\u{e8}me \"br\u{fb}l\u{e9}e\""]);
    put_hex(dir.path(), &[("ff00", "00"), ("ff01", "c3")]);
    let json = ok_text(dir.path(), &["scan", "--format", "json"]);
    let lines: Vec<serde_json::Value> =
        json.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["key"], "caf\u{e9}");
    assert_eq!(lines[0]["value"], "cr\u{e8}me \"br\u{fb}l\u{e9}e\"");
    assert_eq!(lines[1]["key"]["hex"], "ff00");
    assert_eq!(lines[1]["value"], "\u{0}");
    assert_eq!(lines[2]["value"]["hex"], "c3");
}

#[test]
fn scan_table_is_aligned_and_escapes_unprintable_bytes() {
    let dir = fruit_db();
    put_hex(dir.path(), &[("00", "0a09"), ("5c", "ff")]);
    insta::assert_snapshot!("scan_table", ok_text(dir.path(), &["scan"]));
    insta::assert_snapshot!(
        "scan_table_prefix_reverse",
        ok_text(dir.path(), &["scan", "--prefix", "user:", "--reverse"])
    );
    assert_eq!(ok_text(dir.path(), &["scan", "--prefix", "nothing"]), "KEY  VALUE\n(0 entries)\n");
}

#[test]
fn stats_prints_the_engine() {
    let dir = fruit_db();
    let stats = ok_text(dir.path(), &["stats"]);
    let first = stats.lines().next().unwrap();
    assert!(first.starts_with("engine") && first.ends_with("btree"), "{stats}");
}

#[test]
fn reading_commands_do_not_create_a_database() {
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("missing");
    for args in [&["get", "k"][..], &["del", "k"], &["scan"], &["stats"], &["dump"]] {
        let stderr = fails(&missing, args, 1);
        assert_eq!(stderr, "lightning: error: no database at [DB] (`put` or `load` creates one)\n");
    }
    assert!(!missing.exists());
}

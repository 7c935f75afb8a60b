//! `dump` and `load` through the built binary: a dump loaded into a new database gives the same
//! database (same scan, same dump bytes) in both formats and across formats, any bytes
//! included; damaged or truncated dumps are refused; the committed v1 fixtures still load.

mod common;

use std::path::{Path, PathBuf};

use common::{fails, ok, ok_text, on, put_hex};
use lightning_db::{Config, Database, Durability, WriteBatch};

/// Entries every test database holds, in hex: empty key, 0x00 and 0xff bytes, empty values.
const TRICKY: [(&str, &str); 7] = [
    ("", "656d707479206b6579"),
    ("00", ""),
    ("00ff", "ff00"),
    ("5c78", "5c5c0a0d09"),
    ("ff", "00"),
    ("ffff", ""),
    ("75736572", "e29c93"),
];

/// A database with the tricky entries (through the CLI), 3000 generated ones (more than one
/// load batch) and a 1 MiB value (through the library).
fn populated() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    put_hex(dir.path(), &TRICKY);
    let db = Database::open(dir.path(), Config::default().durability(Durability::None)).unwrap();
    for chunk in (0u32..3000).collect::<Vec<_>>().chunks(500) {
        let mut batch = WriteBatch::new();
        for &i in chunk {
            let key = [b"gen:".as_slice(), &i.to_be_bytes()].concat();
            batch.put(&key, i.to_le_bytes().repeat(i as usize % 40));
        }
        db.write(batch).unwrap();
    }
    let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
    db.put(b"big", &big).unwrap();
    db.close().unwrap();
    dir
}

fn dump_to(dir: &Path, format: &str, file: &Path) -> Vec<u8> {
    let file_arg = file.to_str().unwrap();
    ok(dir, &["dump", "--format", format, "--output", file_arg]);
    std::fs::read(file).unwrap()
}

fn load_from(dir: &Path, file: &Path) {
    ok(dir, &["load", "--input", file.to_str().unwrap()]);
}

fn fresh(parent: &tempfile::TempDir, name: &str) -> PathBuf {
    parent.path().join(name)
}

#[test]
fn dump_then_load_gives_an_identical_database_in_both_formats() {
    let source = populated();
    let work = tempfile::tempdir().unwrap();
    let scan = ok(source.path(), &["--hex", "scan", "--format", "json"]);
    assert_eq!(scan.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count(), 3008);
    for format in ["text", "binary"] {
        let first = dump_to(source.path(), format, &work.path().join(format!("first.{format}")));
        let copy = fresh(&work, &format!("copy-{format}"));
        load_from(&copy, &work.path().join(format!("first.{format}")));
        assert_eq!(ok(&copy, &["--hex", "scan", "--format", "json"]), scan, "{format}");
        let second = dump_to(&copy, format, &work.path().join(format!("second.{format}")));
        assert!(first == second, "{format} dump of the copy differs from the original's");
        assert_eq!(ok(&copy, &["--hex", "get", "00ff"]), b"ff00\n");
        assert_eq!(ok(&copy, &["--hex", "get", ""]), b"656d707479206b6579\n");
    }
}

#[test]
fn a_dump_converts_between_formats_without_loss() {
    let source = populated();
    let work = tempfile::tempdir().unwrap();
    let text = dump_to(source.path(), "text", &work.path().join("a.txt"));
    let binary = dump_to(source.path(), "binary", &work.path().join("a.bin"));
    let via_text = fresh(&work, "via-text");
    load_from(&via_text, &work.path().join("a.txt"));
    assert!(dump_to(&via_text, "binary", &work.path().join("b.bin")) == binary);
    let via_binary = fresh(&work, "via-binary");
    load_from(&via_binary, &work.path().join("a.bin"));
    assert!(dump_to(&via_binary, "text", &work.path().join("b.txt")) == text);
}

#[test]
fn dump_to_stdout_and_load_from_stdin() {
    let source = tempfile::tempdir().unwrap();
    put_hex(source.path(), &TRICKY);
    let work = tempfile::tempdir().unwrap();
    for format in ["text", "binary"] {
        let bytes = ok(source.path(), &["dump", "--format", format]);
        assert_eq!(bytes, dump_to(source.path(), format, &work.path().join(format)));
        let copy = fresh(&work, &format!("stdin-{format}"));
        on(&copy).arg("load").write_stdin(bytes.clone()).assert().success();
        assert_eq!(ok(&copy, &["dump", "--format", format]), bytes);
    }
}

#[test]
fn the_text_dump_is_readable() {
    let source = tempfile::tempdir().unwrap();
    put_hex(source.path(), &TRICKY);
    insta::assert_snapshot!("text_dump", ok_text(source.path(), &["dump"]));
}

#[test]
fn load_refuses_a_non_empty_database_unless_merging() {
    let source = tempfile::tempdir().unwrap();
    put_hex(source.path(), &TRICKY);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("dump.txt");
    dump_to(source.path(), "text", &file);
    let target = fresh(&work, "target");
    ok(&target, &["put", "zzz", "kept"]);
    ok(&target, &["put", "ff", "overwritten"]);
    let stderr = fails(&target, &["load", "--input", file.to_str().unwrap()], 1);
    assert_eq!(
        stderr,
        "lightning: error: the database at [DB] is not empty; load into a new directory, or pass \
         --merge\n"
    );
    ok(&target, &["load", "--merge", "--input", file.to_str().unwrap()]);
    assert_eq!(ok_text(&target, &["get", "zzz"]), "kept\n");
    assert_eq!(ok_text(&target, &["--hex", "get", "ff"]), "00\n");
}

#[test]
fn a_damaged_dump_file_changes_nothing() {
    let source = populated();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("dump.bin");
    let mut bytes = dump_to(source.path(), "binary", &file);
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&file, &bytes).unwrap();
    let target = fresh(&work, "target");
    let stderr = fails(&target, &["load", "--input", file.to_str().unwrap()], 1);
    assert!(
        stderr.contains("checksum mismatch") || stderr.contains("not a valid dump"),
        "{stderr}"
    );
    assert!(!target.exists(), "a failed load of a file creates nothing");
}

#[test]
fn truncated_and_foreign_input_is_refused() {
    let source = tempfile::tempdir().unwrap();
    put_hex(source.path(), &TRICKY);
    let work = tempfile::tempdir().unwrap();
    for format in ["text", "binary"] {
        let bytes = ok(source.path(), &["dump", "--format", format]);
        let target = fresh(&work, format);
        let output =
            on(&target).arg("load").write_stdin(&bytes[..bytes.len() - 3]).output().unwrap();
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains("standard input: not a valid dump"), "{stderr}");
    }
    let foreign = fresh(&work, "foreign");
    let output = on(&foreign).arg("load").write_stdin("key,value\n").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("load_foreign_input", String::from_utf8(output.stderr).unwrap());
    assert!(!foreign.exists(), "nothing is created for input that is not a dump");
}

/// The committed version-1 dumps load, and dumping them again gives the same bytes: the formats
/// have not drifted.
#[test]
fn version_1_fixtures_still_load_byte_for_byte() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let work = tempfile::tempdir().unwrap();
    for (name, format) in [("dump-v1.txt", "text"), ("dump-v1.bin", "binary")] {
        let fixture = fixtures.join(name);
        let db = fresh(&work, name);
        load_from(&db, &fixture);
        let again = dump_to(&db, format, &work.path().join(format!("again-{name}")));
        assert!(again == std::fs::read(&fixture).unwrap(), "{name} re-dumps differently");
        assert_eq!(ok(&db, &["--hex", "get", "00ff"]), b"ff00\n");
    }
}

/// Entries of keyspace `name` (or the default one), read through the library.
fn entries_of(dir: &Path, name: Option<&str>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let db = Database::open(dir, Config::default()).unwrap();
    let iter = match name {
        Some(name) => db.keyspace(name).unwrap().iter().unwrap(),
        None => db.iter().unwrap(),
    };
    let entries = iter.collect::<Result<Vec<_>, _>>().unwrap();
    db.close().unwrap();
    entries
}

#[test]
fn named_keyspaces_dump_and_load_with_keyspace_and_are_never_silently_left_out() {
    let source = tempfile::tempdir().unwrap();
    let db = Database::open(source.path(), Config::default()).unwrap();
    db.put("in-default", "d").unwrap();
    let users = db.keyspace("users").unwrap();
    users.put("alice", "1").unwrap();
    users.put("in-default", "shadow: same key, other keyspace").unwrap();
    db.keyspace("empty").unwrap();
    db.close().unwrap();
    let work = tempfile::tempdir().unwrap();

    // The default keyspace's dump says what it left out.
    let default_dump = fresh(&work, "default.dump");
    let output = on(source.path())
        .args(["dump", "--output", default_dump.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("not in it: empty, users"), "{stderr}");

    // A named keyspace dumps on its own and loads into a keyspace of another database.
    let users_dump = fresh(&work, "users.dump");
    ok(source.path(), &["dump", "--keyspace", "users", "--output", users_dump.to_str().unwrap()]);
    let target = fresh(&work, "target");
    load_from(&target, &default_dump);
    ok(&target, &["load", "--keyspace", "users", "--input", users_dump.to_str().unwrap()]);
    assert_eq!(entries_of(&target, None), entries_of(source.path(), None));
    assert_eq!(entries_of(&target, Some("users")), entries_of(source.path(), Some("users")));
    assert_eq!(entries_of(&target, Some("users")).len(), 2);

    // Loading a keyspace twice needs --merge; dumping a missing keyspace is an error that
    // does not create it.
    let users_arg = users_dump.to_str().unwrap();
    let refused = fails(&target, &["load", "--keyspace", "users", "--input", users_arg], 1);
    assert!(refused.contains("keyspace \"users\"") && refused.contains("--merge"), "{refused}");
    let missing = fails(&target, &["dump", "--keyspace", "nope"], 1);
    assert!(
        missing.contains("no keyspace named \"nope\"") && missing.contains("users"),
        "{missing}"
    );
    let db = Database::open(&target, Config::default()).unwrap();
    assert_eq!(db.keyspaces().unwrap(), ["users"]);
    db.close().unwrap();
}

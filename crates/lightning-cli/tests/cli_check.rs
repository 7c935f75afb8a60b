//! `lightning check DIR` through the built binary: a clean database prints what was walked and
//! exits 0; a database with a flipped byte in a page prints the problem naming the page and
//! exits 1.

mod common;

use std::{
    fs::OpenOptions,
    io::{Read, Seek, SeekFrom, Write},
    path::Path,
};

use common::lightning;
use lightning_db::{Config, Database};

/// The default page size of a new database.
const PAGE: u64 = 16 * 1024;

fn build(dir: &Path) {
    let db = Database::open(dir, Config::default()).unwrap();
    for i in 0..2000u32 {
        db.put(format!("key{i:05}"), [i as u8; 100]).unwrap();
    }
    db.close().unwrap();
}

fn flip(file: &Path, offset: u64) {
    let mut f = OpenOptions::new().read(true).write(true).open(file).unwrap();
    let mut byte = [0u8];
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.read_exact(&mut byte).unwrap();
    byte[0] ^= 0x40;
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(&byte).unwrap();
}

#[test]
fn check_of_a_clean_database_exits_zero_with_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let output = lightning().arg("check").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout} {:?}", output.stderr);
    assert!(output.stderr.is_empty());
    assert!(stdout.contains("engine    btree"), "{stdout}");
    assert!(stdout.contains("versions"), "{stdout}");
    assert!(stdout.ends_with("ok: no problems found\n"), "{stdout}");
    // `--db DIR` works as well.
    let output = lightning().arg("--db").arg(dir.path()).arg("check").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn check_of_a_database_with_a_flipped_byte_exits_one_naming_the_page() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let file = dir.path().join("btree").join("btree.ldb");
    let pages = std::fs::metadata(&file).unwrap().len() / PAGE;
    let mut found_by_check = 0;
    for number in 2..pages {
        let offset = number * PAGE + PAGE / 2;
        flip(&file, offset);
        let output = lightning().arg("check").arg(dir.path()).output().unwrap();
        let (stdout, stderr) =
            (String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap());
        let location = format!("btree.ldb page {number}");
        if stdout.contains("PROBLEM at ") {
            assert_eq!(output.status.code(), Some(1), "page {number}: {stdout}");
            assert!(stdout.contains(&location), "page {number}: {stdout}");
            assert!(stderr.contains("the integrity check found"), "page {number}: {stderr}");
            found_by_check += 1;
        } else if output.status.code() == Some(1) {
            // Opening reads some pages itself (the root, the free list) and names them.
            assert!(stderr.contains("corruption") && stderr.contains(&location), "{stderr}");
        } else {
            // A free page holds nothing the database reads.
            assert_eq!(output.status.code(), Some(0), "page {number}: {stdout} {stderr}");
        }
        flip(&file, offset);
    }
    assert!(found_by_check > 0, "check found damage that opening did not read");
}

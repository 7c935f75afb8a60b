//! Tests of the docs-truth rules over hand-made trees in a scratch directory.

use std::fs;
use std::path::{Path, PathBuf};

use super::{check_crate_status, check_doc_paths, has_code, named_doc_paths};

/// `docs/`, assembled so that this file names no documentation path itself (tidy reads it too).
const D: &str = concat!("do", "cs/");

/// A fresh, empty directory for one test (removed when dropped).
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("xtask-truth-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn write(&self, path: &str, contents: &str) -> PathBuf {
        let path = self.0.join(path);
        fs::create_dir_all(path.parent().expect("a parent")).expect("dirs");
        fs::write(&path, contents).expect("write");
        path
    }

    fn root(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn doc_paths_are_found_with_their_lines_and_relative_prefix() {
    let contents = format!(
        "//! see `{D}format/wal.md`.\n\
         // and [spec](../../{D}format/page.md), not my{D}x.md or {D}dir/\n\
         // two: {D}a.md, {D}b.md.\n"
    );
    assert_eq!(
        named_doc_paths(&contents),
        vec![
            (1, format!("{D}format/wal.md")),
            (2, format!("../../{D}format/page.md")),
            (3, format!("{D}a.md")),
            (3, format!("{D}b.md")),
        ]
    );
}

#[test]
fn a_missing_named_doc_is_an_offence_and_a_present_one_is_not() {
    let scratch = Scratch::new("paths");
    scratch.write(&format!("{D}format/real.md"), "# real\n");
    let file = scratch.write("crates/c/src/lib.rs", "");
    let contents = format!("//! Real: {D}format/real.md; missing: {D}format/txn-record.md\n");
    let offences = check_doc_paths(scratch.root(), &file, "crates/c/src/lib.rs", &contents);
    assert_eq!(offences.len(), 1, "{offences:?}");
    assert_eq!(offences[0].line, Some(1));
    assert!(offences[0].message.contains(&format!("{D}format/txn-record.md")));

    let readme = scratch.write("crates/c/README.md", "");
    let relative = format!("[a](../../{D}format/real.md) [b](../../{D}gone.md)\n");
    let offences = check_doc_paths(scratch.root(), &readme, "crates/c/README.md", &relative);
    assert_eq!(offences.len(), 1, "{offences:?}");
    assert!(offences[0].message.contains(&format!("../../{D}gone.md")));
}

#[test]
fn code_is_anything_but_comments_blank_lines_and_inner_attributes() {
    assert!(!has_code("//! A crate.\n\n#![forbid(unsafe_code)]\n// note\n"));
    assert!(has_code("//! A crate.\npub const X: u8 = 1;\n"));
}

#[test]
fn a_crate_with_code_may_not_claim_it_has_none() {
    let scratch = Scratch::new("status");
    let dir = scratch.root().join("crates/lightning-x");
    scratch.write("crates/lightning-x/README.md", "# x\n\n**Status:** not implemented yet.\n");
    scratch.write(
        "crates/lightning-x/src/lib.rs",
        "//! X.\n//! Not built yet.\n#![forbid(unsafe_code)]\n",
    );
    assert_eq!(check_crate_status(scratch.root(), &dir).expect("walk"), Vec::new(), "no code yet");

    scratch.write("crates/lightning-x/src/engine.rs", "//! The engine.\npub struct Engine;\n");
    let offences = check_crate_status(scratch.root(), &dir).expect("walk");
    let places: Vec<(String, Option<usize>)> =
        offences.iter().map(|o| (o.path.clone(), o.line)).collect();
    assert_eq!(
        places,
        vec![
            ("crates/lightning-x/README.md".to_owned(), Some(3)),
            ("crates/lightning-x/src/lib.rs".to_owned(), Some(2)),
        ]
    );
}

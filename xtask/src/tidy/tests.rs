//! Tests of each tidy rule over hand-written file contents, and of tidy over its own sources.

use super::{FORBIDDEN, MAX_LINES, Offence, check_file};

const GOOD_HEAD: &str = "//! What this file is for.\n\nfn main() {}\n";

fn lines_of(offences: &[Offence]) -> Vec<Option<usize>> {
    offences.iter().map(|offence| offence.line).collect()
}

#[test]
fn a_file_opening_with_a_doc_comment_is_clean() {
    assert_eq!(check_file("src/lib.rs", GOOD_HEAD), Vec::new());
}

#[test]
fn blank_lines_and_a_byte_order_mark_before_the_doc_are_allowed() {
    let contents = format!("\u{feff}\n   \n{GOOD_HEAD}");
    assert_eq!(check_file("src/lib.rs", &contents), Vec::new());
}

#[test]
fn a_file_without_a_leading_doc_comment_is_caught() {
    for contents in [
        "fn main() {}\n",
        "// a plain comment\n//! doc too late\n",
        "#![forbid(unsafe_code)]\n//! doc after the attribute\n",
        "/// an outer doc comment\nfn f() {}\n",
    ] {
        let offences = check_file("tests/it.rs", contents);
        assert_eq!(lines_of(&offences), vec![Some(1)], "for {contents:?}");
        assert!(offences[0].message.contains("`//!`"));
        assert!(offences[0].to_string().starts_with("tests/it.rs:1: "));
    }
}

#[test]
fn an_empty_file_is_caught() {
    let offences = check_file("src/empty.rs", "\n  \n");
    assert_eq!(lines_of(&offences), vec![None]);
    assert!(offences[0].message.contains("empty file"));
}

#[test]
fn a_file_of_exactly_the_limit_is_allowed() {
    let contents = format!("//! doc\n{}", "x();\n".repeat(MAX_LINES - 1));
    assert_eq!(contents.lines().count(), MAX_LINES);
    assert_eq!(check_file("src/big.rs", &contents), Vec::new());
}

#[test]
fn a_file_over_the_limit_is_caught() {
    let contents = format!("//! doc\n{}", "x();\n".repeat(MAX_LINES));
    let offences = check_file("src/big.rs", &contents);
    assert_eq!(lines_of(&offences), vec![None]);
    assert!(offences[0].message.contains(&format!("{} lines", MAX_LINES + 1)));
}

#[test]
fn each_forbidden_string_is_caught_with_its_line() {
    for &(needle, _) in FORBIDDEN {
        let contents = format!("//! doc\nfn f() {{\n    // {needle}\n    {needle}\n}}\n");
        let offences = check_file("src/f.rs", &contents);
        assert_eq!(lines_of(&offences), vec![Some(3), Some(4)], "for {needle}");
        assert!(offences[0].message.contains(needle));
    }
}

/// Realistic lines, spelled independently of `FORBIDDEN` (split so this file stays tidy).
#[test]
fn the_house_rules_catch_realistic_lines() {
    for line in [
        format!("    {}!()", "todo"),
        format!("    {}!(\"later\")", "todo"),
        format!("    {}!()", "unimplemented"),
        format!("#[{}]", "ignore"),
        format!("#[{} = \"slow\"]", "ignore"),
    ] {
        let contents = format!("//! doc\n{line}\n");
        assert_eq!(lines_of(&check_file("src/f.rs", &contents)), vec![Some(2)], "{line}");
    }
    let harmless = "//! doc\nlet todo = 1; // unimplemented feature; ignore this\n";
    assert_eq!(check_file("src/f.rs", harmless), Vec::new());
}

#[test]
fn all_rules_are_reported_together() {
    let (needle, _) = FORBIDDEN[0];
    let contents = format!("fn f() {{ {needle}) }}\n{}", "\n".repeat(MAX_LINES));
    let offences = check_file("src/f.rs", &contents);
    assert_eq!(lines_of(&offences), vec![Some(1), None, Some(1)]);
}

/// Tidy's own sources must pass tidy without any exemption.
#[test]
fn tidy_passes_its_own_sources() {
    for (path, contents) in [
        ("xtask/src/tidy.rs", include_str!("../tidy.rs")),
        ("xtask/src/tidy/tests.rs", include_str!("tests.rs")),
    ] {
        assert_eq!(check_file(path, contents), Vec::new(), "{path}");
    }
}

#[test]
fn the_walk_finds_this_file_and_skips_target() {
    let root = crate::shell::workspace_root();
    let files = super::rust_files(&root).expect("the workspace can be walked");
    assert!(files.iter().any(|file| file.ends_with("xtask/src/tidy/tests.rs")));
    assert!(!files.iter().any(|file| file.starts_with(root.join("target"))));
    assert!(!files.iter().any(|file| file.starts_with(root.join(".git"))));
}

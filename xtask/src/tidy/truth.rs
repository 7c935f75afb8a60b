//! Tidy rules that keep the documentation true to the tree.
//!
//! - **Named docs exist.** Every `docs/….md` path named in a `.rs` file or a crate's
//!   `README.md` must exist: a format spec cited by the code that reads the format is the
//!   contract, and a citation of a missing file is a contract nobody wrote. A path starting
//!   with `../` is resolved from the naming file's directory, any other from the workspace root.
//! - **No stale "not implemented".** A crate whose `src/` holds code (any line that is not blank,
//!   a comment or an inner attribute) must not say in its `README.md` or `src/lib.rs` that it is
//!   not implemented or not built yet: a newcomer reading the status would be misled.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Offence, relative, rust_files};
use crate::error::Result;

/// Phrases that claim a crate has no implementation (matched case-insensitively).
pub const NOT_IMPLEMENTED: &[&str] = &["not implemented", "not built yet"];

/// Characters a documentation path is made of.
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')
}

/// The `docs/….md` paths named in `contents`, each with its 1-based line, as written (a leading
/// run of `../` included).
pub fn named_doc_paths(contents: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (index, line) in contents.lines().enumerate() {
        let mut from = 0;
        while let Some(at) = line[from..].find("docs/").map(|at| at + from) {
            from = at + "docs/".len();
            let before = line[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                continue; // part of another name, such as `mydocs/`
            }
            let mut start = at;
            while line[..start].ends_with("../") {
                start -= "../".len();
            }
            let end = line[at..].find(|c: char| !is_path_char(c)).map_or(line.len(), |e| at + e);
            let path = line[start..end].trim_end_matches('.');
            if path.ends_with(".md") {
                found.push((index + 1, path.to_owned()));
            }
        }
    }
    found
}

/// Offences for `docs/….md` paths named in the file at `file` (relative `label`) that do not
/// exist under `root`.
pub fn check_doc_paths(root: &Path, file: &Path, label: &str, contents: &str) -> Vec<Offence> {
    let base = file.parent().unwrap_or(root);
    named_doc_paths(contents)
        .into_iter()
        .filter(|(_, path)| {
            let target = if path.starts_with("../") { base.join(path) } else { root.join(path) };
            !target.is_file()
        })
        .map(|(line, path)| Offence {
            path: label.to_owned(),
            line: Some(line),
            message: format!("names `{path}`, which does not exist: write it or fix the path"),
        })
        .collect()
}

/// True if `contents` (Rust source) holds anything besides blank lines, comments and inner
/// attributes.
pub fn has_code(contents: &str) -> bool {
    contents
        .lines()
        .map(str::trim)
        .any(|line| !(line.is_empty() || line.starts_with("//") || line.starts_with("#![")))
}

/// Offences for a crate at `dir` that has code but claims, in `README.md` or `src/lib.rs`, to
/// have none.
pub fn check_crate_status(root: &Path, dir: &Path) -> Result<Vec<Offence>> {
    let src = dir.join("src");
    if !src.is_dir() {
        return Ok(Vec::new());
    }
    let mut with_code = false;
    for file in rust_files(&src)? {
        if has_code(&fs::read_to_string(&file)?) {
            with_code = true;
            break;
        }
    }
    if !with_code {
        return Ok(Vec::new());
    }
    let mut offences = Vec::new();
    for claim in [dir.join("README.md"), src.join("lib.rs")] {
        let Ok(contents) = fs::read_to_string(&claim) else { continue };
        for (index, line) in contents.lines().enumerate() {
            let lower = line.to_lowercase();
            if let Some(phrase) = NOT_IMPLEMENTED.iter().find(|p| lower.contains(*p)) {
                offences.push(Offence {
                    path: relative(root, &claim),
                    line: Some(index + 1),
                    message: format!(
                        "says \"{phrase}\" but the crate has code: say what works today"
                    ),
                });
            }
        }
    }
    Ok(offences)
}

/// Every crate directory under `root/crates`, sorted.
pub fn crate_dirs(root: &Path) -> Result<Vec<PathBuf>> {
    let crates = root.join("crates");
    if !crates.is_dir() {
        return Ok(Vec::new());
    }
    let mut dirs = Vec::new();
    for entry in fs::read_dir(crates)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    Ok(dirs)
}

#[cfg(test)]
mod tests;

//! `cargo xtask tidy`: house rules that rustfmt and clippy do not check, over every `.rs` file.
//!
//! - the first non-empty line is a `//!` doc comment (each file says what it is for);
//! - at most [`MAX_LINES`] lines (small files split by concept);
//! - no leftover placeholder macros (`todo`, `unimplemented`) and no `ignore` test attribute,
//!   not even in comments or strings;
//! - the docs stay true ([`truth`]): every `docs/….md` path named in code or a crate README
//!   exists, and no crate with code says it is not implemented.
//!
//! The forbidden strings are assembled with `concat!` so that this file and its tests never
//! contain them and tidy needs no exemption for itself.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The most lines a source file may have.
pub const MAX_LINES: usize = 800;

/// Strings no source file may contain, with the reason given in the offence.
pub const FORBIDDEN: &[(&str, &str)] = &[
    (concat!("todo", "!("), "unfinished code: finish it or return an error"),
    (concat!("unimplemented", "!("), "unfinished code: finish it or return an error"),
    (concat!("#[", "ignore"), "ignored test: fix it, make it fast, or delete it"),
];

/// Directories (relative to the workspace root) that are never walked.
const SKIPPED_DIRS: &[&str] = &["target", ".git", "fuzz/target"];

/// One broken rule in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offence {
    /// The file, relative to the workspace root, with `/` separators.
    pub path: String,
    /// The 1-based line, when the rule is about one line.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Offence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// Checks one file; `path` is only used to label the offences.
pub fn check_file(path: &str, contents: &str) -> Vec<Offence> {
    let offence =
        |line: Option<usize>, message: String| Offence { path: path.to_owned(), line, message };
    let mut offences = Vec::new();
    let contents = contents.strip_prefix('\u{feff}').unwrap_or(contents);

    match contents.lines().enumerate().find(|(_, line)| !line.trim().is_empty()) {
        Some((_, line)) if line.trim_start().starts_with("//!") => {}
        Some((index, _)) => offences.push(offence(
            Some(index + 1),
            "the first line must be a `//!` doc comment saying what this file is for".to_owned(),
        )),
        None => offences.push(offence(
            None,
            "empty file: it needs at least a `//!` doc comment saying what it is for".to_owned(),
        )),
    }

    let line_count = contents.lines().count();
    if line_count > MAX_LINES {
        offences.push(offence(
            None,
            format!("{line_count} lines, more than {MAX_LINES}: split it by concept"),
        ));
    }

    for (index, line) in contents.lines().enumerate() {
        for &(needle, reason) in FORBIDDEN {
            if line.contains(needle) {
                offences.push(offence(Some(index + 1), format!("`{needle}`: {reason}")));
            }
        }
    }
    offences
}

/// Every `.rs` file under `root`, sorted, skipping [`SKIPPED_DIRS`] and not following symlinks.
pub fn rust_files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            let file_type = entry.file_type()?;
            if file_type.is_dir() {
                if !SKIPPED_DIRS.contains(&relative(root, &path).as_str()) {
                    pending.push(path);
                }
            } else if file_type.is_file() && path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// `path` relative to `root`, with `/` separators on every platform.
fn relative(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> =
        relative.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
    parts.join("/")
}

/// Checks every `.rs` file under `root`, and every crate's README and status.
pub fn check_tree(root: &Path) -> Result<(usize, Vec<Offence>)> {
    let files = rust_files(root)?;
    let mut offences = Vec::new();
    for file in &files {
        let path = relative(root, file);
        match fs::read(file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(contents) => {
                    offences.extend(check_file(&path, &contents));
                    offences.extend(truth::check_doc_paths(root, file, &path, &contents));
                }
                Err(_) => offences.push(Offence {
                    path,
                    line: None,
                    message: "not valid UTF-8".to_owned(),
                }),
            },
            Err(error) => return Err(Error::failed(format!("cannot read {path}: {error}"))),
        }
    }
    for dir in truth::crate_dirs(root)? {
        let readme = dir.join("README.md");
        if let Ok(contents) = fs::read_to_string(&readme) {
            offences.extend(truth::check_doc_paths(
                root,
                &readme,
                &relative(root, &readme),
                &contents,
            ));
        }
        offences.extend(truth::check_crate_status(root, &dir)?);
    }
    Ok((files.len(), offences))
}

/// `cargo xtask tidy`
pub fn run(root: &Path) -> Result {
    let (file_count, offences) = check_tree(root)?;
    if offences.is_empty() {
        println!("xtask tidy: {file_count} .rs files, all tidy");
        return Ok(());
    }
    for offence in &offences {
        eprintln!("tidy: {offence}");
    }
    let mut files: Vec<&str> = offences.iter().map(|o| o.path.as_str()).collect();
    files.dedup();
    Err(Error::failed(format!(
        "tidy: {} offence(s) in {} of {file_count} .rs files",
        offences.len(),
        files.len()
    )))
}

pub mod truth;

#[cfg(test)]
mod tests;

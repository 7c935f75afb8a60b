//! Helpers shared by the CLI tests: the `lightning` binary as an `assert_cmd` command, with a
//! clean environment so output does not depend on the terminal or the caller's settings.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::Path;

use assert_cmd::Command;

/// The built `lightning` binary.
pub fn lightning() -> Command {
    let mut command = Command::cargo_bin("lightning").expect("the lightning binary is built");
    command.env_remove("COLUMNS").env_remove("RUST_LOG");
    command
}

/// `lightning --db DIR`.
pub fn on(dir: &Path) -> Command {
    let mut command = lightning();
    command.arg("--db").arg(dir);
    command
}

/// Runs `lightning --db DIR ARGS...`, asserts success and returns stdout.
pub fn ok(dir: &Path, args: &[&str]) -> Vec<u8> {
    let output = on(dir).args(args).output().expect("lightning runs");
    assert!(
        output.status.success(),
        "lightning {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Like [`ok`], as text.
pub fn ok_text(dir: &Path, args: &[&str]) -> String {
    String::from_utf8(ok(dir, args)).expect("UTF-8 output")
}

/// Runs `lightning --db DIR ARGS...`, asserts it fails with `code` and returns stderr with `dir`
/// replaced by `[DB]` (for snapshots).
pub fn fails(dir: &Path, args: &[&str], code: i32) -> String {
    let output = on(dir).args(args).output().expect("lightning runs");
    assert_eq!(
        output.status.code(),
        Some(code),
        "lightning {args:?}: stdout {:?} stderr {:?}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8(output.stderr).expect("UTF-8 errors");
    assert_eq!(stderr.lines().count(), 1, "one error line: {stderr:?}");
    assert!(stderr.starts_with("lightning: error: "), "{stderr:?}");
    stderr.replace(dir.to_str().expect("UTF-8 temp path"), "[DB]")
}

/// Puts each `(key, value)` (given in hex) into the database at `dir`.
pub fn put_hex(dir: &Path, entries: &[(&str, &str)]) {
    for (key, value) in entries {
        ok(dir, &["--hex", "put", key, value]);
    }
}

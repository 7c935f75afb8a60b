//! The packaging step of the release dry run: let cargo build the `.crate` files.
//!
//! Cargo 1.90 and later package several workspace crates that depend on each other in one
//! `cargo package --workspace` run: it packages them in dependency order into a temporary local
//! registry overlaid on crates.io, so each crate's dependencies on not-yet-published siblings
//! resolve. Older cargo cannot, and we fall back to `cargo package --list -p <crate>` per crate,
//! which checks the manifest and the file list but not dependency resolution — and say so.

use std::path::Path;

use crate::error::{Error, Result};
use crate::shell;

/// The first cargo that packages interdependent workspace crates together.
const WORKSPACE_PACKAGING_SINCE: (u64, u64) = (1, 90);

/// `(major, minor)` from the output of `cargo --version`, e.g. `cargo 1.95.0 (f2d3ce0bd ...)`.
pub fn parse_cargo_version(text: &str) -> Option<(u64, u64)> {
    let version = text.split_whitespace().nth(1)?;
    let mut parts = version.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Packages the crates in `order` (without building them), excluding the `excluded` members.
pub fn check(root: &Path, order: &[String], excluded: &[&str]) -> Result {
    let version_text = shell::capture(&mut shell::cargo(root, &["--version"]))?;
    let version = parse_cargo_version(&version_text).ok_or_else(|| {
        Error::failed(format!("cannot read the cargo version from `{}`", version_text.trim()))
    })?;
    if version >= WORKSPACE_PACKAGING_SINCE {
        package_workspace(root, excluded)
    } else {
        println!(
            "packaging: {} cannot package unpublished interdependent crates together; \
             falling back to `cargo package --list` per crate, which checks manifests and \
             file lists but NOT that dependencies resolve",
            version_text.trim()
        );
        list_each(root, order)
    }
}

fn package_workspace(root: &Path, excluded: &[&str]) -> Result {
    let mut args = vec!["package", "--workspace", "--no-verify", "--allow-dirty"];
    for name in excluded {
        args.extend(["--exclude", name]);
    }
    let mut command = shell::cargo(root, &args);
    println!("packaging: {}", shell::display(&command));
    shell::run(&mut command)?;
    println!(
        "packaging: every publishable crate packaged against its packaged siblings \
         (.crate files in target/package)"
    );
    Ok(())
}

fn list_each(root: &Path, order: &[String]) -> Result {
    for name in order {
        let mut command =
            shell::cargo(root, &["package", "--list", "--allow-dirty", "--package", name]);
        let files = shell::capture(&mut command)?;
        println!("packaging: {name}: {} files", files.lines().count());
    }
    Ok(())
}

//! `cargo xtask release --dry-run`: is every publishable crate ready for crates.io?
//!
//! Three checks, all run, any failure fails the command:
//! 1. the metadata crates.io needs ([`check_publish_metadata`]);
//! 2. a publish order in which every crate comes after the workspace crates it depends on
//!    ([`order::publish_order`]), printed numbered;
//! 3. packaging with cargo itself ([`package`]).
//!
//! Nothing is ever published from here: without `--dry-run` the command refuses. Publishing is
//! a human's decision, made by hand.

mod order;
mod package;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::layers;
use crate::metadata::{self, DepKind};

pub use order::publish_order;

/// Something that would stop one crate from being published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The crate.
    pub krate: String,
    /// What is missing or wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.krate, self.message)
    }
}

/// Checks the crates.io metadata of every publishable workspace crate.
///
/// `file_exists` is asked about readme paths (a parameter so tests need no files).
pub fn check_publish_metadata(meta: &Value, file_exists: &dyn Fn(&Path) -> bool) -> Vec<Problem> {
    let packages = metadata::workspace_packages(meta);
    let unpublishable: BTreeSet<&str> = packages
        .iter()
        .filter(|package| !package.publishable)
        .map(|package| package.name)
        .collect();
    let mut problems = Vec::new();
    for package in packages.iter().filter(|package| package.publishable) {
        let mut problem = |message: String| {
            problems.push(Problem { krate: package.name.to_owned(), message });
        };
        if package.field("description").is_none() {
            problem("no `description`".to_owned());
        }
        if package.field("license").is_none() && package.field("license_file").is_none() {
            problem("no `license` or `license-file`".to_owned());
        }
        if package.field("repository").is_none() {
            problem("no `repository`".to_owned());
        }
        match package.field("readme") {
            None => problem("no `readme` (add `readme = \"README.md\"` and the file)".to_owned()),
            Some(readme) => {
                let path = package.dir().join(readme);
                if !file_exists(&path) {
                    problem(format!("readme `{readme}` does not exist ({})", path.display()));
                }
            }
        }
        for dep in &package.dependencies {
            let needs_version = match dep.kind {
                DepKind::Normal | DepKind::Build => true,
                // Cargo strips versionless path dev-dependencies when packaging, but the
                // workspace's own crates are always declared with a version: keep it so.
                DepKind::Dev => dep.name.starts_with("lightning-"),
            };
            if dep.path.is_some() && needs_version && !dep.has_version() {
                problem(format!(
                    "path {} `{}` has no version requirement (use `{}.workspace = true`, \
                     whose workspace entry carries the version)",
                    dep.kind.section(),
                    dep.name,
                    dep.name
                ));
            }
            if dep.kind != DepKind::Dev && unpublishable.contains(dep.name) {
                problem(format!(
                    "{} on `{}`, which has `publish = false`",
                    dep.kind.section(),
                    dep.name
                ));
            }
        }
    }
    problems
}

/// The publishable workspace crates, each with the publishable workspace crates it depends on
/// (normal, build and dev dependencies: dev ones too, so a crate's tests can always resolve).
pub fn dependency_graph(meta: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let packages = metadata::workspace_packages(meta);
    let publishable: BTreeSet<&str> =
        packages.iter().filter(|package| package.publishable).map(|package| package.name).collect();
    packages
        .iter()
        .filter(|package| package.publishable)
        .map(|package| {
            let deps = package
                .dependencies
                .iter()
                .map(|dep| dep.name)
                .filter(|&name| name != package.name && publishable.contains(name))
                .map(str::to_owned)
                .collect();
            (package.name.to_owned(), deps)
        })
        .collect()
}

/// `cargo xtask release [--dry-run]`
pub fn run_command(root: &Path, args: &[String]) -> Result {
    match args {
        [flag] if flag == "--dry-run" => dry_run(root),
        [] => Err(Error::failed(
            "xtask release never publishes: a human does that by hand. \
             Run `cargo xtask release --dry-run` to check the workspace is ready.",
        )),
        _ => Err(Error::usage(format!(
            "release: unexpected arguments {args:?} (usage: cargo xtask release --dry-run)"
        ))),
    }
}

fn dry_run(root: &Path) -> Result {
    let meta = metadata::load(root)?;
    let mut failed = Vec::new();

    println!("== release 1/3: crates.io metadata");
    let problems = check_publish_metadata(&meta, &|path| path.is_file());
    for problem in &problems {
        eprintln!("release: {problem}");
    }
    if problems.is_empty() {
        println!("metadata: complete for every publishable crate");
    } else {
        failed.push(format!("metadata ({} problem(s))", problems.len()));
    }

    println!("== release 2/3: publish order");
    let graph = dependency_graph(&meta);
    let order = match publish_order(&graph) {
        Ok(order) => {
            for (index, name) in order.iter().enumerate() {
                match layers::table_layer(name) {
                    Some(layer) => println!("{:>3}. {name} (layer {layer})", index + 1),
                    None => println!("{:>3}. {name}", index + 1),
                }
            }
            order
        }
        Err(cycle) => {
            eprintln!("release: dependency cycle among {}", cycle.join(", "));
            failed.push("publish order (cycle)".to_owned());
            graph.keys().cloned().collect()
        }
    };

    println!("== release 3/3: packaging");
    let excluded: Vec<&str> = metadata::workspace_packages(&meta)
        .iter()
        .filter(|package| !package.publishable)
        .map(|package| package.name)
        .collect();
    if let Err(error) = package::check(root, &order, &excluded) {
        eprintln!("release: {error}");
        failed.push("packaging".to_owned());
    }

    if failed.is_empty() {
        println!(
            "xtask release --dry-run: {} crates ready to publish in the order above \
             (nothing was published)",
            order.len()
        );
        Ok(())
    } else {
        Err(Error::failed(format!("release --dry-run failed: {}", failed.join(", "))))
    }
}

#[cfg(test)]
mod tests;

//! `cargo xtask layers`: the one layering rule of the architecture brief, enforced.
//!
//! Every `lightning-*` crate has a layer (the table below, mirrored in each crate's
//! `[package.metadata.lightning] layer`), and may depend — through `[dependencies]`,
//! `[build-dependencies]` or `[dev-dependencies]` — only on lightning crates of a **lower** layer.
//! Workspace crates outside the table with `publish = false` (xtask, the benchmark crate) are
//! tooling and exempt; a publishable `lightning-*` crate outside the table is an error, so a new
//! crate cannot slip in without a layer.

use std::fmt;
use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::metadata::{self, DepKind};

/// The layer table of `docs/ARCHITECTURE.md` and the architecture brief. Change both together.
pub const LAYER_TABLE: &[(&str, u64)] = &[
    ("lightning-security", 0),
    ("lightning-core-storage", 1),
    ("lightning-wal", 2),
    ("lightning-cache", 2),
    ("lightning-btree", 3),
    ("lightning-lsm", 3),
    ("lightning-txn", 4),
    ("lightning-features", 5),
    ("lightning-db", 6),
    ("lightning-server", 7),
    ("lightning-cli", 8),
];

/// The layer of `name` in [`LAYER_TABLE`].
pub fn table_layer(name: &str) -> Option<u64> {
    LAYER_TABLE.iter().find(|(crate_name, _)| *crate_name == name).map(|&(_, layer)| layer)
}

fn is_lightning(name: &str) -> bool {
    name.starts_with("lightning-")
}

/// One breach of the layering rule or of the table's agreement with the manifests.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Violation {
    /// `from` depends on `to`, whose layer is the same or higher.
    NotLower { from: String, from_layer: u64, to: String, to_layer: u64, kind: DepKind },
    /// `from` depends on a lightning crate that has no layer.
    UnlayeredDependency { from: String, from_layer: u64, to: String, kind: DepKind },
    /// A publishable lightning crate that the table does not know.
    NotInTable { krate: String },
    /// The manifest's `package.metadata.lightning.layer` is missing or differs from the table.
    LayerMismatch { krate: String, table: u64, manifest: Option<u64> },
    /// A crate in the table that is not a workspace member.
    MissingFromWorkspace { krate: String, layer: u64 },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotLower { from, from_layer, to, to_layer, kind } => {
                let relation = if to_layer == from_layer { "the same" } else { "a higher" };
                write!(
                    f,
                    "{from} (layer {from_layer}) has a {} on {to} (layer {to_layer}): \
                     {relation} layer; a crate may depend only on lower layers",
                    kind.section()
                )
            }
            Self::UnlayeredDependency { from, from_layer, to, kind } => write!(
                f,
                "{from} (layer {from_layer}) has a {} on {to} (no layer): {to} is not in \
                 the layer table in xtask/src/layers.rs",
                kind.section()
            ),
            Self::NotInTable { krate } => write!(
                f,
                "{krate} (no layer) is a publishable lightning crate missing from the layer \
                 table in xtask/src/layers.rs: give it a layer there and in \
                 docs/ARCHITECTURE.md, or set `publish = false` if it is tooling"
            ),
            Self::LayerMismatch { krate, table, manifest: Some(manifest) } => write!(
                f,
                "{krate} (layer {table} in the table) says layer {manifest} in its \
                 [package.metadata.lightning]: make them agree"
            ),
            Self::LayerMismatch { krate, table, manifest: None } => write!(
                f,
                "{krate} (layer {table} in the table) has no integer \
                 [package.metadata.lightning] layer in its Cargo.toml: add `layer = {table}`"
            ),
            Self::MissingFromWorkspace { krate, layer } => write!(
                f,
                "{krate} (layer {layer}) is in the layer table but not a workspace member"
            ),
        }
    }
}

/// Checks the layering rule over `cargo metadata` output; empty means the workspace is clean.
///
/// Self-dependencies (a crate as its own dev-dependency, to turn on features in tests) are not
/// edges in the layer graph and are allowed.
pub fn check_layers(meta: &Value) -> Vec<Violation> {
    let packages = metadata::workspace_packages(meta);
    let mut violations = Vec::new();
    for package in &packages {
        let Some(layer) = table_layer(package.name) else {
            if is_lightning(package.name) && package.publishable {
                violations.push(Violation::NotInTable { krate: package.name.to_owned() });
            }
            continue;
        };
        let manifest = package.metadata_layer();
        if manifest != Some(layer) {
            violations.push(Violation::LayerMismatch {
                krate: package.name.to_owned(),
                table: layer,
                manifest,
            });
        }
        for dep in &package.dependencies {
            if dep.name == package.name || !is_lightning(dep.name) {
                continue;
            }
            match table_layer(dep.name) {
                Some(to_layer) if to_layer < layer => {}
                Some(to_layer) => violations.push(Violation::NotLower {
                    from: package.name.to_owned(),
                    from_layer: layer,
                    to: dep.name.to_owned(),
                    to_layer,
                    kind: dep.kind,
                }),
                None => violations.push(Violation::UnlayeredDependency {
                    from: package.name.to_owned(),
                    from_layer: layer,
                    to: dep.name.to_owned(),
                    kind: dep.kind,
                }),
            }
        }
    }
    for &(name, layer) in LAYER_TABLE {
        if !packages.iter().any(|package| package.name == name) {
            violations.push(Violation::MissingFromWorkspace { krate: name.to_owned(), layer });
        }
    }
    violations.sort();
    violations.dedup();
    violations
}

/// `cargo xtask layers`
pub fn run(root: &Path) -> Result {
    let meta = metadata::load(root)?;
    let violations = check_layers(&meta);
    if violations.is_empty() {
        println!(
            "xtask layers: {} lightning crates, every dependency points to a lower layer",
            LAYER_TABLE.len()
        );
        return Ok(());
    }
    for violation in &violations {
        eprintln!("layers: {violation}");
    }
    Err(Error::failed(format!("layers: {} violation(s) of the layering rule", violations.len())))
}

#[cfg(test)]
mod tests;

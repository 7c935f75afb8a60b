//! `cargo metadata`, read as JSON: the workspace's packages and their declared dependencies.
//!
//! Only `--no-deps` metadata is needed: each package's `dependencies` list already holds every
//! declared dependency (normal, build and dev, path and registry), which is all the layering and
//! release checks look at. The accessors are lenient (a missing field reads as absent) so the
//! checks above them stay pure functions over a `serde_json::Value` and are easy to test with
//! hand-written JSON.

use std::path::Path;

use serde_json::Value;

use crate::error::Result;
use crate::shell;

/// Runs `cargo metadata --format-version 1 --no-deps` for the workspace at `root`.
pub fn load(root: &Path) -> Result<Value> {
    let stdout = shell::capture(&mut shell::cargo(
        root,
        &["metadata", "--format-version", "1", "--no-deps"],
    ))?;
    Ok(serde_json::from_str(&stdout)?)
}

/// Which section of `Cargo.toml` a dependency is declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DepKind {
    /// `[dependencies]`
    Normal,
    /// `[build-dependencies]`
    Build,
    /// `[dev-dependencies]`
    Dev,
}

impl DepKind {
    fn from_json(kind: &Value) -> Self {
        match kind.as_str() {
            Some("dev") => Self::Dev,
            Some("build") => Self::Build,
            _ => Self::Normal,
        }
    }

    /// The name of the section, for messages.
    pub fn section(self) -> &'static str {
        match self {
            Self::Normal => "dependency",
            Self::Build => "build-dependency",
            Self::Dev => "dev-dependency",
        }
    }
}

/// One declared dependency of a package.
#[derive(Debug)]
pub struct Dependency<'a> {
    /// The package name (not the `rename`d alias).
    pub name: &'a str,
    /// The section it is declared in.
    pub kind: DepKind,
    /// The local path, for path dependencies.
    pub path: Option<&'a str>,
    /// The version requirement; cargo reports `*` when none was written.
    pub req: &'a str,
}

impl Dependency<'_> {
    /// Whether a version requirement was written (cargo needs one to publish a path dependency).
    pub fn has_version(&self) -> bool {
        self.req != "*"
    }
}

/// One workspace package.
#[derive(Debug)]
pub struct Package<'a> {
    /// The package name.
    pub name: &'a str,
    /// The path of its `Cargo.toml`.
    pub manifest_path: &'a str,
    /// False for `publish = false` (cargo reports `"publish": []`).
    pub publishable: bool,
    /// Its declared dependencies, in manifest order.
    pub dependencies: Vec<Dependency<'a>>,
    /// The whole package object, for fields the checks read directly.
    pub json: &'a Value,
}

impl<'a> Package<'a> {
    fn from_json(json: &'a Value) -> Self {
        let publishable = match json.get("publish") {
            Some(Value::Array(registries)) => !registries.is_empty(),
            Some(Value::Bool(publish)) => *publish,
            _ => true,
        };
        let dependencies = json
            .get("dependencies")
            .and_then(Value::as_array)
            .map(|deps| deps.iter().map(dependency_from_json).collect())
            .unwrap_or_default();
        Self {
            name: str_field(json, "name").unwrap_or(""),
            manifest_path: str_field(json, "manifest_path").unwrap_or(""),
            publishable,
            dependencies,
            json,
        }
    }

    /// A string field of the package, `None` when absent, null or empty.
    pub fn field(&self, key: &str) -> Option<&'a str> {
        str_field(self.json, key).filter(|value| !value.trim().is_empty())
    }

    /// `[package.metadata.lightning] layer`, when present and a non-negative integer.
    pub fn metadata_layer(&self) -> Option<u64> {
        self.json.pointer("/metadata/lightning/layer").and_then(Value::as_u64)
    }

    /// The directory holding the package's `Cargo.toml`.
    pub fn dir(&self) -> &'a Path {
        Path::new(self.manifest_path).parent().unwrap_or_else(|| Path::new(""))
    }
}

fn dependency_from_json(json: &Value) -> Dependency<'_> {
    Dependency {
        name: str_field(json, "name").unwrap_or(""),
        kind: DepKind::from_json(json.get("kind").unwrap_or(&Value::Null)),
        path: str_field(json, "path"),
        req: str_field(json, "req").unwrap_or("*"),
    }
}

fn str_field<'a>(json: &'a Value, key: &str) -> Option<&'a str> {
    json.get(key).and_then(Value::as_str)
}

/// The workspace members in `meta`, sorted by name.
///
/// With `--no-deps` every package is a member; with full metadata, `workspace_members` picks
/// them out of the resolved dependency packages.
pub fn workspace_packages(meta: &Value) -> Vec<Package<'_>> {
    let members: Option<Vec<&str>> = meta
        .get("workspace_members")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_str).collect());
    let mut packages: Vec<Package<'_>> = meta
        .get("packages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|json| match (&members, str_field(json, "id")) {
            (Some(members), Some(id)) => members.contains(&id),
            _ => true,
        })
        .map(Package::from_json)
        .collect();
    packages.sort_by(|a, b| a.name.cmp(b.name));
    packages
}

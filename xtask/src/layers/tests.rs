//! Tests of the layering check over small hand-written `cargo metadata` JSON, and one run over
//! the real workspace.

use serde_json::{Value, json};

use super::{LAYER_TABLE, Violation, check_layers};
use crate::metadata::DepKind;

/// A package as `cargo metadata --no-deps` prints it (only the fields the check reads).
/// `deps` are `(name, kind)` with kind `""`, `"dev"` or `"build"`.
fn package(name: &str, layer: Option<u64>, deps: &[(&str, &str)]) -> Value {
    let dependencies: Vec<Value> = deps
        .iter()
        .map(|&(dep, kind)| {
            json!({
                "name": dep,
                "req": "^0.1.0",
                "kind": if kind.is_empty() { Value::Null } else { json!(kind) },
                "path": format!("/ws/crates/{dep}"),
            })
        })
        .collect();
    json!({
        "name": name,
        "id": format!("path+file:///ws/crates/{name}#0.1.0"),
        "manifest_path": format!("/ws/crates/{name}/Cargo.toml"),
        "publish": null,
        "metadata": layer.map(|layer| json!({ "lightning": { "layer": layer } })),
        "dependencies": dependencies,
    })
}

fn tooling(name: &str, deps: &[(&str, &str)]) -> Value {
    let mut package = package(name, None, deps);
    package["publish"] = json!([]);
    package
}

/// Metadata holding `packages` plus every table crate they leave out, as a clean leaf.
fn workspace(mut packages: Vec<Value>) -> Value {
    for &(name, layer) in LAYER_TABLE {
        if !packages.iter().any(|package| package["name"] == name) {
            packages.push(package(name, Some(layer), &[]));
        }
    }
    let members: Vec<Value> = packages.iter().map(|package| package["id"].clone()).collect();
    json!({ "packages": packages, "workspace_members": members })
}

fn not_lower(from: &str, from_layer: u64, to: &str, to_layer: u64, kind: DepKind) -> Violation {
    Violation::NotLower { from: from.to_owned(), from_layer, to: to.to_owned(), to_layer, kind }
}

#[test]
fn clean_graph_passes() {
    let packages = vec![
        package("lightning-security", Some(0), &[]),
        package(
            "lightning-core-storage",
            Some(1),
            &[("lightning-security", ""), ("thiserror", "")],
        ),
        package("lightning-wal", Some(2), &[("lightning-core-storage", ""), ("tempfile", "dev")]),
        package("lightning-cache", Some(2), &[("lightning-core-storage", "")]),
        package("lightning-btree", Some(3), &[("lightning-cache", ""), ("lightning-wal", "dev")]),
        package(
            "lightning-lsm",
            Some(3),
            &[("lightning-cache", ""), ("lightning-core-storage", "build")],
        ),
        package(
            "lightning-txn",
            Some(4),
            &[("lightning-wal", ""), ("lightning-btree", "dev"), ("lightning-lsm", "dev")],
        ),
        package(
            "lightning-features",
            Some(5),
            &[("lightning-txn", ""), ("lightning-security", "")],
        ),
        package(
            "lightning-db",
            Some(6),
            &[("lightning-features", ""), ("lightning-btree", ""), ("lightning-lsm", "")],
        ),
        package("lightning-server", Some(7), &[("lightning-db", ""), ("lightning-db", "dev")]),
        package("lightning-cli", Some(8), &[("lightning-server", ""), ("lightning-db", "")]),
        tooling("lightning-benches", &[("lightning-cli", ""), ("lightning-db", "")]),
        tooling("xtask", &[("serde_json", "")]),
    ];
    let meta = json!({ "packages": packages });
    assert_eq!(check_layers(&meta), Vec::new());
}

#[test]
fn upward_dependency_is_caught() {
    let meta = workspace(vec![package(
        "lightning-core-storage",
        Some(1),
        &[("lightning-security", ""), ("lightning-wal", "")],
    )]);
    let violations = check_layers(&meta);
    assert_eq!(
        violations,
        vec![not_lower("lightning-core-storage", 1, "lightning-wal", 2, DepKind::Normal)]
    );
    let line = violations[0].to_string();
    assert!(!line.contains('\n'), "one line per violation: {line}");
    for part in ["lightning-core-storage (layer 1)", "lightning-wal (layer 2)", "higher"] {
        assert!(line.contains(part), "`{line}` should mention `{part}`");
    }
}

#[test]
fn same_layer_dependency_is_caught() {
    let meta = workspace(vec![package("lightning-btree", Some(3), &[("lightning-lsm", "")])]);
    let violations = check_layers(&meta);
    assert_eq!(
        violations,
        vec![not_lower("lightning-btree", 3, "lightning-lsm", 3, DepKind::Normal)]
    );
    assert!(violations[0].to_string().contains("the same layer"));
}

#[test]
fn upward_dev_dependency_is_caught() {
    let meta = workspace(vec![package(
        "lightning-wal",
        Some(2),
        &[("lightning-core-storage", ""), ("lightning-txn", "dev")],
    )]);
    let violations = check_layers(&meta);
    assert_eq!(violations, vec![not_lower("lightning-wal", 2, "lightning-txn", 4, DepKind::Dev)]);
    assert!(violations[0].to_string().contains("dev-dependency"));
}

#[test]
fn upward_build_dependency_is_caught() {
    let meta =
        workspace(vec![package("lightning-security", Some(0), &[("lightning-cli", "build")])]);
    assert_eq!(
        check_layers(&meta),
        vec![not_lower("lightning-security", 0, "lightning-cli", 8, DepKind::Build)]
    );
}

#[test]
fn metadata_disagreeing_with_the_table_is_caught() {
    let meta = workspace(vec![
        package("lightning-wal", Some(3), &[]),
        package("lightning-cache", None, &[]),
    ]);
    let violations = check_layers(&meta);
    assert_eq!(
        violations,
        vec![
            Violation::LayerMismatch {
                krate: "lightning-cache".to_owned(),
                table: 2,
                manifest: None,
            },
            Violation::LayerMismatch {
                krate: "lightning-wal".to_owned(),
                table: 2,
                manifest: Some(3),
            },
        ]
    );
    assert!(violations[0].to_string().contains("add `layer = 2`"));
    assert!(violations[1].to_string().contains("says layer 3"));
}

#[test]
fn a_layer_that_is_not_an_integer_is_a_mismatch() {
    let mut wal = package("lightning-wal", None, &[]);
    wal["metadata"] = json!({ "lightning": { "layer": "2" } });
    let violations = check_layers(&workspace(vec![wal]));
    assert_eq!(
        violations,
        vec![Violation::LayerMismatch {
            krate: "lightning-wal".to_owned(),
            table: 2,
            manifest: None,
        }]
    );
}

#[test]
fn a_publishable_lightning_crate_outside_the_table_is_caught() {
    let meta = workspace(vec![package("lightning-replication", Some(5), &[])]);
    assert_eq!(
        check_layers(&meta),
        vec![Violation::NotInTable { krate: "lightning-replication".to_owned() }]
    );
}

#[test]
fn tooling_crates_outside_the_table_are_exempt() {
    let meta = workspace(vec![
        tooling("lightning-benches", &[("lightning-cli", ""), ("lightning-db", "dev")]),
        tooling("xtask", &[("serde_json", "")]),
        package("some-helper", None, &[("lightning-cli", "")]),
    ]);
    assert_eq!(check_layers(&meta), Vec::new());
}

#[test]
fn a_dependency_on_a_crate_without_a_layer_is_caught() {
    let meta = workspace(vec![
        tooling("lightning-benches", &[]),
        package("lightning-db", Some(6), &[("lightning-benches", "dev")]),
    ]);
    let violations = check_layers(&meta);
    assert_eq!(
        violations,
        vec![Violation::UnlayeredDependency {
            from: "lightning-db".to_owned(),
            from_layer: 6,
            to: "lightning-benches".to_owned(),
            kind: DepKind::Dev,
        }]
    );
}

#[test]
fn a_table_crate_missing_from_the_workspace_is_caught() {
    let mut meta = workspace(Vec::new());
    let packages = meta["packages"].as_array_mut().expect("packages is an array");
    packages.retain(|package| package["name"] != "lightning-cli");
    assert_eq!(
        check_layers(&meta),
        vec![Violation::MissingFromWorkspace { krate: "lightning-cli".to_owned(), layer: 8 }]
    );
}

#[test]
fn a_crate_may_dev_depend_on_itself() {
    let meta = workspace(vec![package("lightning-wal", Some(2), &[("lightning-wal", "dev")])]);
    assert_eq!(check_layers(&meta), Vec::new());
}

#[test]
fn packages_that_are_not_workspace_members_are_ignored() {
    let mut meta = workspace(Vec::new());
    let outsider = package("lightning-invoice", None, &[("lightning-cli", "")]);
    let packages = meta["packages"].as_array_mut().expect("packages is an array");
    packages.push(outsider);
    assert_eq!(check_layers(&meta), Vec::new());
}

#[test]
fn the_table_matches_the_architecture_brief() {
    let mut names: Vec<&str> = LAYER_TABLE.iter().map(|&(name, _)| name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), LAYER_TABLE.len(), "no crate twice in the table");
    assert!(names.iter().all(|name| name.starts_with("lightning-")));
    assert_eq!(super::table_layer("lightning-security"), Some(0));
    assert_eq!(super::table_layer("lightning-cli"), Some(8));
    assert_eq!(super::table_layer("lightning-btree"), super::table_layer("lightning-lsm"));
    assert_eq!(super::table_layer("lightning-benches"), None);
}

/// The real workspace obeys the rule (this runs `cargo metadata`, which reads no network).
#[test]
fn the_real_workspace_has_no_violations() {
    let root = crate::shell::workspace_root();
    let meta = crate::metadata::load(&root).expect("cargo metadata runs on the workspace");
    let violations = check_layers(&meta);
    let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(violations.is_empty(), "layer violations:\n{}", lines.join("\n"));
}

//! Tests of the release checks over hand-written `cargo metadata` JSON: metadata, publish
//! order (with cycles) and the cargo version parsing that picks the packaging method.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Value, json};

use super::package::parse_cargo_version;
use super::{Problem, check_publish_metadata, dependency_graph, publish_order};

/// A publishable package with complete metadata; `deps` are `(name, kind, req)` path deps.
fn package(name: &str, deps: &[(&str, &str, &str)]) -> Value {
    let dependencies: Vec<Value> = deps
        .iter()
        .map(|&(dep, kind, req)| {
            json!({
                "name": dep,
                "req": req,
                "kind": if kind.is_empty() { Value::Null } else { json!(kind) },
                "path": format!("/ws/crates/{dep}"),
            })
        })
        .collect();
    json!({
        "name": name,
        "manifest_path": format!("/ws/crates/{name}/Cargo.toml"),
        "publish": null,
        "description": "A crate.",
        "license": "MIT OR Apache-2.0",
        "license_file": null,
        "repository": "https://example.org/repo",
        "readme": "README.md",
        "dependencies": dependencies,
    })
}

fn meta(packages: Vec<Value>) -> Value {
    json!({ "packages": packages })
}

fn always(_: &Path) -> bool {
    true
}

fn problems_of(meta: &Value) -> Vec<String> {
    check_publish_metadata(meta, &always).iter().map(Problem::to_string).collect()
}

#[test]
fn complete_metadata_passes() {
    let meta = meta(vec![
        package("lightning-security", &[]),
        package("lightning-core-storage", &[("lightning-security", "", "^0.1.0")]),
    ]);
    assert_eq!(problems_of(&meta), Vec::<String>::new());
}

#[test]
fn missing_fields_are_each_reported() {
    let mut bare = package("lightning-wal", &[]);
    for key in ["description", "license", "repository", "readme"] {
        bare[key] = Value::Null;
    }
    let problems = problems_of(&meta(vec![bare]));
    assert_eq!(problems.len(), 4, "{problems:#?}");
    for word in ["description", "license", "repository", "readme"] {
        assert!(problems.iter().any(|p| p.contains(word)), "{word}: {problems:#?}");
    }
    assert!(problems.iter().all(|p| p.starts_with("lightning-wal: ")));
}

#[test]
fn a_license_file_stands_in_for_a_license_and_blank_fields_count_as_missing() {
    let mut package = package("lightning-wal", &[]);
    package["license"] = Value::Null;
    package["license_file"] = json!("LICENSE");
    package["description"] = json!("  ");
    assert_eq!(
        problems_of(&meta(vec![package])),
        vec!["lightning-wal: no `description`".to_owned()]
    );
}

#[test]
fn a_readme_that_does_not_exist_is_reported() {
    let meta = meta(vec![package("lightning-wal", &[])]);
    let asked = std::cell::RefCell::new(Vec::new());
    let problems = check_publish_metadata(&meta, &|path: &Path| {
        asked.borrow_mut().push(path.to_path_buf());
        false
    });
    assert_eq!(asked.into_inner(), vec![Path::new("/ws/crates/lightning-wal/README.md")]);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].message.contains("does not exist"));
}

#[test]
fn path_dependencies_without_a_version_are_reported() {
    let meta = meta(vec![package(
        "lightning-db",
        &[
            ("lightning-txn", "", "*"),
            ("codegen", "build", "*"),
            ("lightning-wal", "dev", "*"),
            ("test-support", "dev", "*"),
            ("lightning-btree", "dev", "^0.1.0"),
        ],
    )]);
    let problems = problems_of(&meta);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].contains("path dependency `lightning-txn` has no version"));
    assert!(problems[1].contains("path build-dependency `codegen`"));
    assert!(problems[2].contains("path dev-dependency `lightning-wal`"));
}

#[test]
fn unpublishable_crates_are_not_checked_nor_depended_upon() {
    let mut benches = package("lightning-benches", &[("lightning-db", "", "*")]);
    benches["publish"] = json!([]);
    benches["description"] = Value::Null;
    let meta = meta(vec![benches, package("lightning-db", &[("lightning-benches", "", "^0.1.0")])]);
    let problems = problems_of(&meta);
    assert_eq!(
        problems,
        vec!["lightning-db: dependency on `lightning-benches`, which has `publish = false`"]
    );
}

fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
    edges
        .iter()
        .map(|&(name, deps)| {
            let deps = deps.iter().map(|&dep| dep.to_owned()).collect();
            (name.to_owned(), deps)
        })
        .collect()
}

#[test]
fn the_order_puts_dependencies_first_and_is_stable() {
    let graph = graph(&[
        ("db", &["txn", "btree", "lsm"]),
        ("txn", &["wal", "core"]),
        ("btree", &["core"]),
        ("lsm", &["core", "serde"]),
        ("wal", &["core"]),
        ("core", &["security"]),
        ("security", &[]),
    ]);
    let order = publish_order(&graph).expect("no cycle");
    assert_eq!(order, ["security", "core", "btree", "lsm", "wal", "txn", "db"]);
}

#[test]
fn ties_are_broken_by_layer_then_name() {
    let graph = graph(&[
        ("lightning-cli", &[]),
        ("lightning-wal", &["lightning-security"]),
        ("lightning-cache", &[]),
        ("lightning-security", &[]),
        ("a-helper", &[]),
    ]);
    let order = publish_order(&graph).expect("no cycle");
    assert_eq!(
        order,
        ["lightning-security", "lightning-cache", "lightning-wal", "lightning-cli", "a-helper"]
    );
}

#[test]
fn a_cycle_is_detected_and_named_without_its_dependents() {
    let graph = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &["a"]), ("e", &[])]);
    assert_eq!(publish_order(&graph), Err(vec!["a".into(), "b".into(), "c".into()]));
}

#[test]
fn a_dev_dependency_cycle_is_a_cycle_but_a_self_dependency_is_not() {
    let meta = meta(vec![
        package("lightning-wal", &[("lightning-wal", "dev", "^0.1.0")]),
        package("lightning-txn", &[("lightning-wal", "", "^0.1.0")]),
    ]);
    assert_eq!(
        publish_order(&dependency_graph(&meta)),
        Ok(vec!["lightning-wal".to_owned(), "lightning-txn".to_owned()])
    );
    let cyclic = self::meta(vec![
        package("lightning-wal", &[("lightning-txn", "dev", "^0.1.0")]),
        package("lightning-txn", &[("lightning-wal", "", "^0.1.0")]),
    ]);
    assert_eq!(
        publish_order(&dependency_graph(&cyclic)),
        Err(vec!["lightning-txn".to_owned(), "lightning-wal".to_owned()])
    );
}

#[test]
fn the_graph_leaves_out_unpublishable_and_third_party_crates() {
    let mut xtask = package("xtask", &[("lightning-db", "", "*")]);
    xtask["publish"] = json!([]);
    let meta = meta(vec![
        xtask,
        package("lightning-db", &[("thiserror", "", "^2"), ("xtask", "dev", "*")]),
    ]);
    let graph = dependency_graph(&meta);
    assert_eq!(graph.keys().collect::<Vec<_>>(), ["lightning-db"]);
    assert!(graph["lightning-db"].is_empty());
}

#[test]
fn cargo_versions_parse() {
    assert_eq!(parse_cargo_version("cargo 1.95.0 (f2d3ce0bd 2026-03-21)"), Some((1, 95)));
    assert_eq!(parse_cargo_version("cargo 1.97.0-nightly (abc 2026-05-01)\n"), Some((1, 97)));
    assert_eq!(parse_cargo_version("cargo 1.89.0"), Some((1, 89)));
    assert_eq!(parse_cargo_version("cargo"), None);
    assert_eq!(parse_cargo_version("cargo version unknown"), None);
}

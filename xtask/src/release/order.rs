//! The publish order: a topological sort of the workspace dependency graph (Kahn's algorithm),
//! with cycle detection. Ties are broken by layer, then by name, so the order is stable and reads
//! bottom-up like the layer table.

use std::collections::{BTreeMap, BTreeSet};

use crate::layers;

/// The tie-break key: crates outside the layer table come after those in it.
fn rank(name: &str) -> (u64, &str) {
    (layers::table_layer(name).unwrap_or(u64::MAX), name)
}

/// Orders the crates of `graph` (crate → the crates it depends on) so that every crate comes
/// after its dependencies. Dependencies that are not keys of `graph` are outside it and ignored.
///
/// On a cycle, returns the crates on (or between) cycles, sorted, leaving out crates that merely
/// depend on a cycle.
pub fn publish_order(
    graph: &BTreeMap<String, BTreeSet<String>>,
) -> Result<Vec<String>, Vec<String>> {
    let inside = |name: &&String| graph.contains_key(name.as_str());
    let mut unmet: BTreeMap<&str, usize> = graph
        .iter()
        .map(|(name, deps)| (name.as_str(), deps.iter().filter(inside).count()))
        .collect();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, deps) in graph {
        for dep in deps.iter().filter(inside) {
            dependents.entry(dep).or_default().push(name);
        }
    }

    let mut ready: BTreeSet<(u64, &str)> =
        unmet.iter().filter(|&(_, &count)| count == 0).map(|(&name, _)| rank(name)).collect();
    let mut order = Vec::with_capacity(graph.len());
    while let Some((_, name)) = ready.pop_first() {
        order.push(name.to_owned());
        for &dependent in dependents.get(name).into_iter().flatten() {
            let count = unmet.get_mut(dependent).expect("every dependent is a node of the graph");
            *count -= 1;
            if *count == 0 {
                ready.insert(rank(dependent));
            }
        }
    }
    if order.len() == graph.len() {
        return Ok(order);
    }

    // Every crate left waits on another crate left. Peel off the ones no crate left depends
    // on: they hang below a cycle without being on one.
    let mut left: BTreeSet<&str> =
        unmet.into_iter().filter(|&(_, count)| count > 0).map(|(name, _)| name).collect();
    loop {
        let needed: BTreeSet<&str> =
            left.iter().flat_map(|&name| &graph[name]).map(String::as_str).collect();
        let before = left.len();
        left.retain(|name| needed.contains(name));
        if left.len() == before {
            break;
        }
    }
    Err(left.into_iter().map(str::to_owned).collect())
}

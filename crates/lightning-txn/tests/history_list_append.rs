//! An Elle-style list-append history check: concurrent transactions read lists and append
//! unique elements; from the recorded history we infer write-write, write-read and read-write
//! dependencies and look for cycles the isolation level forbids.
//!
//! - Serializable: no cycle at all.
//! - Snapshot: no cycle of write-write and write-read edges (G0, G1c), and no cycle with exactly
//!   one read-write edge (G-single); cycles with two adjacent read-write edges (write skew) are
//!   allowed.

mod common;

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    thread,
};

use common::{ENGINES, Harness};
use lightning_txn::{Isolation, TxnStore};

const KEYS: u64 = 4;
const THREADS: u64 = 2;
const TXNS_PER_THREAD: u64 = 5_000;

#[derive(Debug, Clone)]
enum Op {
    Read { key: u64, list: Vec<u64> },
    Append { key: u64, element: u64 },
}

#[derive(Debug, Clone)]
struct Committed {
    /// Serial position: commit timestamp × 2, + 1 for read-only transactions.
    ts: u64,
    ops: Vec<Op>,
}

fn key(k: u64) -> Vec<u8> {
    format!("list:{k}").into_bytes()
}

fn decode(bytes: Option<Vec<u8>>) -> Vec<u64> {
    bytes
        .map(|b| b.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect())
        .unwrap_or_default()
}

fn run_history(store: &TxnStore, isolation: Isolation) -> Vec<Committed> {
    let history = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (store, history) = (store.clone(), history.clone());
            thread::spawn(move || {
                let mut x = 0x9e37_79b9u64 * (t + 1);
                let mut next = || {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x
                };
                // Each thread commits TXNS_PER_THREAD transactions; aborted attempts are retried
                // as new transactions (with new elements).
                let (mut committed, mut attempt) = (0, 0u64);
                while committed < TXNS_PER_THREAD {
                    attempt += 1;
                    let txn_number = (t << 40) | attempt;
                    let mut tx = store.begin(isolation).unwrap();
                    let mut ops = Vec::new();
                    for op_index in 0..1 + next() % 3 {
                        let element = txn_number * 4 + op_index; // unique across the run
                        std::thread::yield_now(); // let the other thread interleave
                        let k = next() % KEYS;
                        if next() % 2 == 0 {
                            let list = decode(tx.get(&key(k)).unwrap());
                            ops.push(Op::Read { key: k, list });
                        } else {
                            let mut bytes = tx.get(&key(k)).unwrap().unwrap_or_default();
                            bytes.extend_from_slice(&element.to_le_bytes());
                            tx.put(&key(k), &bytes).unwrap();
                            ops.push(Op::Append { key: k, element });
                        }
                    }
                    if let Ok(ts) = tx.commit() {
                        committed += 1;
                        // A read-only transaction "commits" at its snapshot, after every commit
                        // it sees: order it just after the writer with the same timestamp.
                        let read_only = ops.iter().all(|op| matches!(op, Op::Read { .. }));
                        let ts = ts.0 * 2 + u64::from(read_only);
                        history.lock().unwrap().push(Committed { ts, ops });
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    Arc::try_unwrap(history).unwrap().into_inner().unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Edge {
    WriteWrite,
    WriteRead,
    ReadWrite,
}

/// Dependency edges between committed transactions (indices into `history`).
fn dependencies(store: &TxnStore, history: &[Committed]) -> Vec<(usize, usize, Edge)> {
    let snapshot = store.snapshot();
    let mut writer_of: HashMap<u64, usize> = HashMap::new();
    for (t, txn) in history.iter().enumerate() {
        for op in &txn.ops {
            if let Op::Append { element, .. } = op {
                writer_of.insert(*element, t);
            }
        }
    }
    let mut edges = Vec::new();
    let mut finals: HashMap<u64, Vec<u64>> = HashMap::new();
    for k in 0..KEYS {
        let list = decode(snapshot.get(&key(k)).unwrap());
        let unique: HashSet<u64> = list.iter().copied().collect();
        assert_eq!(unique.len(), list.len(), "no element appended twice (key {k})");
        for element in &list {
            assert!(
                writer_of.contains_key(element),
                "element {element} from no committed txn (G1a)"
            );
        }
        // Version order: consecutive appends are write-write dependencies.
        for pair in list.windows(2) {
            let (a, b) = (writer_of[&pair[0]], writer_of[&pair[1]]);
            if a != b {
                edges.push((a, b, Edge::WriteWrite));
            }
        }
        finals.insert(k, list);
    }
    for txn in history {
        for op in &txn.ops {
            if let Op::Append { key: k, element } = op {
                assert!(
                    finals[k].contains(element),
                    "committed append {element} to key {k} was lost"
                );
            }
        }
    }
    for (t, txn) in history.iter().enumerate() {
        for op in &txn.ops {
            let Op::Read { key: k, list } = op else { continue };
            let full = &finals[k];
            assert!(full.starts_with(list), "read of key {k} is not a prefix of its final list");
            if let Some(last) = list.last() {
                let writer = writer_of[last];
                if writer != t {
                    edges.push((writer, t, Edge::WriteRead));
                }
            }
            if let Some(next) = full.get(list.len()) {
                let overwriter = writer_of[next];
                if overwriter != t {
                    edges.push((t, overwriter, Edge::ReadWrite));
                }
            }
        }
    }
    edges
}

/// Strongly connected components (iterative Tarjan); returns components of size > 1.
fn cycles(nodes: usize, edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut adjacency = vec![Vec::new(); nodes];
    for &(a, b) in edges {
        adjacency[a].push(b);
    }
    let (mut index, mut low, mut on_stack) =
        (vec![usize::MAX; nodes], vec![0; nodes], vec![false; nodes]);
    let (mut stack, mut components, mut counter) = (Vec::new(), Vec::new(), 0);
    for root in 0..nodes {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work = vec![(root, 0usize)];
        while let Some((node, child)) = work.pop() {
            if child == 0 {
                index[node] = counter;
                low[node] = counter;
                counter += 1;
                stack.push(node);
                on_stack[node] = true;
            }
            if let Some(&next) = adjacency[node].get(child) {
                work.push((node, child + 1));
                if index[next] == usize::MAX {
                    work.push((next, 0));
                } else if on_stack[next] {
                    low[node] = low[node].min(index[next]);
                }
                continue;
            }
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    components.push(component);
                }
            }
        }
    }
    components
}

fn check(isolation: Isolation) {
    for &engine in ENGINES {
        let mut harness = Harness::new(engine);
        harness.options.durability = lightning_wal::Durability::None;
        let store = harness.open();
        let history = run_history(&store, isolation);
        assert_eq!(
            history.len() as u64,
            THREADS * TXNS_PER_THREAD,
            "10,000 committed transactions"
        );
        let edges = dependencies(&store, &history);
        let no_rw: Vec<(usize, usize)> =
            edges.iter().filter(|e| e.2 != Edge::ReadWrite).map(|e| (e.0, e.1)).collect();
        let g1 = cycles(history.len(), &no_rw);
        assert!(
            g1.is_empty(),
            "{isolation:?}: G0/G1c cycle among {:?}",
            &g1[0][..g1[0].len().min(8)]
        );
        let all: Vec<(usize, usize)> = edges.iter().map(|e| (e.0, e.1)).collect();
        match isolation {
            Isolation::Serializable => {
                let found = cycles(history.len(), &all);
                assert!(found.is_empty(), "Serializable: dependency cycle (G2) found");
            }
            Isolation::Snapshot => {
                // Write-write and write-read edges follow commit order under snapshot isolation.
                for &(a, b) in &no_rw {
                    assert!(
                        history[a].ts < history[b].ts,
                        "Snapshot: ww/wr edge against commit order"
                    );
                }
                // G-single: a cycle with exactly one read-write edge `from -> to` is a ww/wr path
                // from `to` back to `from`; such a path only visits commit timestamps between.
                let mut reach: HashMap<usize, Vec<usize>> = HashMap::new();
                for (a, b) in &no_rw {
                    reach.entry(*a).or_default().push(*b);
                }
                for &(from, to, kind) in &edges {
                    if kind != Edge::ReadWrite || history[to].ts > history[from].ts {
                        continue;
                    }
                    let limit = history[from].ts;
                    let mut seen = HashSet::from([to]);
                    let mut frontier = vec![to];
                    while let Some(node) = frontier.pop() {
                        assert_ne!(node, from, "Snapshot: G-single cycle through {from} -> {to}");
                        for &next in reach.get(&node).into_iter().flatten() {
                            if history[next].ts <= limit && seen.insert(next) {
                                frontier.push(next);
                            }
                        }
                    }
                }
            }
            Isolation::ReadCommitted => unreachable!("not checked here"),
        }
    }
}

#[test]
fn serializable_histories_have_no_dependency_cycles() {
    check(Isolation::Serializable);
}

#[test]
fn snapshot_histories_have_no_g0_g1c_or_g_single() {
    check(Isolation::Snapshot);
}

#[test]
fn the_checker_finds_a_planted_cycle() {
    let edges = [(0, 1), (1, 2), (2, 0), (3, 4)];
    let found = cycles(5, &edges);
    assert_eq!(found.len(), 1);
    let mut members = found[0].clone();
    members.sort();
    assert_eq!(members, vec![0, 1, 2]);
    assert!(cycles(3, &[(0, 1), (1, 2)]).is_empty());
}

//! [`BTreeEngine::check`]: a full consistency check of the live tree and of the file's space.
//!
//! It reads every page the tree references from disk (bypassing the cache, so checksums are
//! verified again; a cached copy that differs from disk is reported too) and verifies: the
//! structure of every node; key order within nodes and against the bounds the parent's
//! separators impose; levels; fill (a non-root node using under a quarter of its capacity is
//! counted as underfull); overflow chains; pending values referenced exactly once; the exact
//! counters; and that every page of the file is exactly one of: used by the tree, awaiting
//! release by the next checkpoint, free, or holding the free list. It holds the checkpoint
//! lock and the tree read lock throughout: readers run, writers wait.

use std::collections::{HashMap, HashSet};

use lightning_core_storage::{Error as CoreError, PageId, page_manager::FIRST_DATA_PAGE};

use crate::{
    BTreeEngine, Result,
    key::cmp_internal,
    meta::Counters,
    node::{Node, ValueRef, is_virtual, validate},
    overflow,
    store::Store,
    tree::{Release, TreeState},
};

/// What [`BTreeEngine::check`] found in a consistent tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Levels of nodes.
    pub height: usize,
    /// Versions found.
    pub versions: u64,
    /// Leaf nodes found.
    pub leaf_pages: u64,
    /// Branch nodes found.
    pub branch_pages: u64,
    /// Overflow pages found (pending values counted by the pages they will take).
    pub overflow_pages: u64,
    /// Nodes held dirty in memory.
    pub dirty_nodes: u64,
    /// Non-root nodes using less than a quarter of their capacity.
    pub underfull_pages: u64,
    /// Pages in the file.
    pub file_pages: u64,
    /// Pages free now or after the next checkpoint, and free-list pages.
    pub free_pages: u64,
}

type Bound = Option<(Vec<u8>, u64)>;
/// A node to visit: its id, the write stamp recorded for it, and its parent (`None`: the root).
type Reference = (u64, u64, Option<u64>);

struct Checker<'a> {
    store: &'a Store,
    state: &'a TreeState,
    problems: Vec<(String, String)>,
    owners: HashMap<u64, &'static str>,
    found: Counters,
    blobs: HashSet<u64>,
    dirty_seen: usize,
    report: CheckReport,
}

impl Checker<'_> {
    fn problem(&mut self, location: String, what: impl Into<String>) {
        self.problems.push((location, what.into()));
    }

    /// Records a corruption error at the place it names.
    fn corrupt(&mut self, error: CoreError) {
        match error {
            CoreError::Corruption { what, location } => self.problems.push((location, what)),
            other => self.problems.push(("B+Tree".into(), other.to_string())),
        }
    }

    fn own(&mut self, page: u64, owner: &'static str) {
        if let Some(previous) = self.owners.insert(page, owner) {
            self.problem(self.store.location(page), format!("page is both {previous} and {owner}"));
        }
    }

    fn location(&self, id: u64) -> String {
        if is_virtual(id) { format!("in-memory node {id:#x}") } else { self.store.location(id) }
    }

    /// The node `id`, validated and (for a page) carrying the write stamp `stamp` its parent
    /// (`referrer`, for the report) recorded; `None` (with a problem recorded) if it is bad.
    fn node(&mut self, id: u64, stamp: u64, referrer: &str) -> Result<Option<Node>> {
        if is_virtual(id) {
            let Some(dirty) = self.state.dirty.get(&id) else {
                self.problem(self.location(id), "referenced but missing");
                return Ok(None);
            };
            self.dirty_seen += 1;
            let mut node = Node::clone(&dirty.node);
            node.compact();
            if let Err(what) = validate::validate(&node, validate::IN_MEMORY) {
                self.problem(self.location(id), what);
                return Ok(None);
            }
            return Ok(Some(node));
        }
        self.own(id, "a tree node");
        match self.store.read_node(id).and_then(|node| {
            self.store.check_stamp(node.stamp(), id, stamp).map_err(|e| match e {
                CoreError::Corruption { what, location } => CoreError::Corruption {
                    what: format!("{what}; referenced by {referrer}"),
                    location,
                },
                other => other,
            })?;
            Ok(node)
        }) {
            Ok(node) => {
                if self.store.cache.get(&id).is_some_and(|cached| *cached != node) {
                    self.problem(
                        self.location(id),
                        "the cached copy differs from the page on disk",
                    );
                }
                if self.state.hot.peek(id).is_some_and(|copy| **copy != node) {
                    let what = "the resident copy differs from the page on disk";
                    self.problem(self.location(id), what);
                }
                Ok(Some(node))
            }
            Err(e) if e.is_corruption() => {
                self.corrupt(e);
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn walk(&mut self) -> Result<()> {
        let root = (self.state.root, self.state.root_stamp, None);
        let mut stack: Vec<(Reference, usize, Bound, Bound)> =
            vec![(root, self.state.height - 1, None, None)];
        while let Some(((id, stamp, parent), level, low, high)) = stack.pop() {
            let referrer = match parent {
                Some(parent) => self.location(parent),
                None => "the meta record".to_string(),
            };
            let Some(node) = self.node(id, stamp, &referrer)? else { continue };
            let here = self.location(id);
            if usize::from(node.level()) != level {
                self.problem(
                    here.clone(),
                    format!("level {} where {level} was expected", node.level()),
                );
                continue;
            }
            let count = node.count();
            if count > 0 {
                if let Some((k, ts)) = &low
                    && cmp_internal(&node.key(0), node.ts(0), k, *ts).is_lt()
                {
                    self.problem(here.clone(), "first entry below the parent's separator");
                }
                if let Some((k, ts)) = &high
                    && cmp_internal(&node.key(count - 1), node.ts(count - 1), k, *ts).is_ge()
                {
                    self.problem(here.clone(), "last entry at or above the next separator");
                }
            }
            let root = id == self.state.root;
            if !root && node.used() < self.store.geometry.min_fill {
                self.report.underfull_pages += 1;
            }
            if node.is_leaf() {
                if !root && count == 0 {
                    self.problem(here.clone(), "empty non-root leaf");
                }
                self.found.versions += count as u64;
                self.found.leaf_pages += 1;
                self.found.leaf_used += node.used() as u64;
                for i in 0..count {
                    self.check_value(&node, i, &here)?;
                }
                continue;
            }
            self.found.branch_pages += 1;
            for c in 0..=count {
                let lo = if c == 0 { low.clone() } else { Some((node.key(c - 1), node.ts(c - 1))) };
                let hi = if c == count { high.clone() } else { Some((node.key(c), node.ts(c))) };
                let child = (node.child(c), node.child_stamp(c), Some(id));
                stack.push((child, level - 1, lo, hi));
            }
        }
        Ok(())
    }

    fn check_value(&mut self, node: &Node, i: usize, here: &str) -> Result<()> {
        let ValueRef::Overflow { len, first, stamp } = node.value(i) else { return Ok(()) };
        let len = len as usize;
        if is_virtual(first) {
            match self.state.blobs.get(&first) {
                Some(blob) if blob.len() == len => {}
                _ => self.problem(
                    here.to_string(),
                    format!("entry {i}: pending value missing or of the wrong size"),
                ),
            }
            if !self.blobs.insert(first) {
                self.problem(
                    here.to_string(),
                    format!("entry {i}: pending value referenced twice"),
                );
            }
            self.found.overflow_pages += self.store.geometry.overflow_pages(len);
            return Ok(());
        }
        self.chain(first, len, Some(stamp), "an overflow page", true)
    }

    /// Claims the pages of a chain for `owner`; a live chain (`stamp` given) must carry the
    /// write stamp its leaf recorded on every page.
    fn chain(
        &mut self,
        first: u64,
        len: usize,
        stamp: Option<u64>,
        owner: &'static str,
        count: bool,
    ) -> Result<()> {
        let pm = &self.store.pm;
        let mut pages = Vec::new();
        let read = |id: PageId| {
            let page = pm.read_page(id)?;
            if let Some(expected) = stamp {
                self.store.check_stamp(page.lsn().0, id.0, expected)?;
            }
            Ok(page)
        };
        match overflow::walk_chain_with(pm, first, len, read, |id, _| pages.push(id))
            .map(|()| pages)
        {
            Ok(pages) => {
                for page in pages {
                    self.own(page.0, owner);
                    self.found.overflow_pages += u64::from(count);
                }
            }
            Err(e) if e.is_corruption() => self.corrupt(e),
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// Every page of the file is owned exactly once.
    fn space(&mut self) -> Result<()> {
        let dirty: Vec<u64> = self.state.dirty.values().filter_map(|d| d.origin).collect();
        for origin in dirty {
            self.own(origin, "replaced by a dirty node");
        }
        for release in self.state.to_free.clone() {
            match release {
                Release::Page(page) => self.own(page, "released"),
                Release::Chain { first, len } => self.chain(first, len, None, "released", false)?,
            }
        }
        let map = self.store.pm.space_map();
        for &page in map.free.iter().chain(&map.pending_free) {
            self.own(page.0, "free");
        }
        for &page in &map.free_list_pages {
            self.own(page.0, "a free-list page");
        }
        for page in FIRST_DATA_PAGE.0..map.page_count {
            if !self.owners.contains_key(&page) {
                self.problem(self.store.location(page), "page is lost: neither used nor free");
            }
        }
        if let Some(&beyond) = self.owners.keys().find(|&&p| p >= map.page_count) {
            self.problem(self.store.location(beyond), "page beyond the end of the file");
        }
        self.report.file_pages = map.page_count;
        self.report.free_pages =
            (map.free.len() + map.pending_free.len() + map.free_list_pages.len()) as u64;
        Ok(())
    }

    fn counters(&mut self) {
        let stray: Vec<u64> = self
            .state
            .hot
            .iter()
            .map(|(id, _)| id)
            .filter(|id| self.owners.get(id) != Some(&"a tree node"))
            .collect();
        for id in stray {
            self.problem(self.store.location(id), "resident in memory but not in the tree");
        }
        let live = self.state.counters;
        if live != self.found {
            self.problem(
                "B+Tree counters".into(),
                format!("recorded {live:?}, found {:?}", self.found),
            );
        }
        if self.dirty_seen != self.state.dirty.len() {
            let held = self.state.dirty.len();
            self.problem(
                "B+Tree dirty nodes".into(),
                format!("{held} held, {} reachable", self.dirty_seen),
            );
        }
        let reachable = self.blobs.len();
        if reachable != self.state.blobs.len() {
            self.problem(
                "B+Tree pending values".into(),
                format!("{} held, {reachable} referenced", self.state.blobs.len()),
            );
        }
        let bytes: u64 = self.state.blobs.values().map(|b| b.len() as u64).sum();
        if bytes != self.state.blob_bytes {
            self.problem(
                "B+Tree pending values".into(),
                format!("{bytes} bytes held, {} recorded", self.state.blob_bytes),
            );
        }
    }
}

impl BTreeEngine {
    /// Checks the whole tree and the file's space (see the module docs). Returns the report,
    /// or `Corruption` naming the first bad place and summarising the others.
    pub fn check(&self) -> Result<CheckReport> {
        let shared = &self.shared;
        let _guard = shared.checkpoint_lock.lock();
        let state = shared.tree.read();
        let mut checker = Checker {
            store: &shared.store,
            state: &state,
            problems: Vec::new(),
            owners: HashMap::new(),
            found: Counters::default(),
            blobs: HashSet::new(),
            dirty_seen: 0,
            report: CheckReport {
                height: state.height,
                dirty_nodes: state.dirty.len() as u64,
                ..CheckReport::default()
            },
        };
        checker.walk()?;
        checker.space()?;
        checker.counters();
        let found = checker.found;
        if let Some((location, what)) = checker.problems.first() {
            let more: Vec<String> =
                checker.problems.iter().skip(1).take(4).map(|(l, w)| format!("{l}: {w}")).collect();
            let what =
                format!("{what} ({} problems in all; {})", checker.problems.len(), more.join("; "));
            return Err(CoreError::corruption(what, location.clone()).into());
        }
        let mut report = checker.report;
        report.versions = found.versions;
        report.leaf_pages = found.leaf_pages;
        report.branch_pages = found.branch_pages;
        report.overflow_pages = found.overflow_pages;
        Ok(report)
    }
}

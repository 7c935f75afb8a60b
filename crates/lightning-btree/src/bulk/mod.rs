//! Bulk load: sorted input into an empty tree, built bottom-up from full pages.
//!
//! Leaves are filled to capacity and written straight to freshly allocated pages (values that
//! do not fit inline go to overflow chains first), so the data never sits dirty in memory.
//! One leaf is held back so that the last two can be rebalanced and the last one is not left
//! nearly empty. Then each branch level is packed the same way from the separators between
//! the nodes of the level below, until one root remains; the new tree replaces the empty one
//! and a checkpoint commits it.

mod loader;

use lightning_core_storage::{Lsn, Timestamp};

use crate::{
    BTreeEngine,
    error::{Error, Result},
};
use loader::{Loaded, Loader};

impl BTreeEngine {
    /// Loads `sorted` (strictly increasing keys) into an empty tree at `commit_ts` as log
    /// record `lsn`, building full pages bottom-up, and checkpoints. Returns the number of
    /// entries loaded. Fails with [`Error::Unsorted`] or [`Error::NotEmpty`] (and changes
    /// nothing) if the input is out of order or the tree already holds versions.
    pub fn bulk_load(
        &self,
        sorted: impl IntoIterator<Item = (impl AsRef<[u8]>, impl AsRef<[u8]>)>,
        commit_ts: Timestamp,
        lsn: Lsn,
    ) -> Result<u64> {
        let shared = &self.shared;
        let _guard = shared.checkpoint_lock.lock();
        shared.check_writable()?;
        let not_empty = |state: &crate::tree::TreeState| {
            (state.counters.versions > 0 || state.height > 1)
                .then_some(Error::NotEmpty { versions: state.counters.versions })
        };
        if let Some(e) = not_empty(&shared.tree.read()) {
            return Err(e);
        }
        let stamp = shared.tree.write().take_stamp();
        let mut loader = Loader::new(&shared.store, commit_ts, stamp);
        let mut count = 0u64;
        let load = || -> Result<Option<Loaded>> {
            for (key, value) in sorted {
                let key = key.as_ref();
                if loader.last_key().is_some_and(|last| last >= key) {
                    return Err(Error::Unsorted { index: count });
                }
                loader.push(key, value.as_ref())?;
                count += 1;
            }
            loader.finish()
        };
        let loaded = load();
        let abandon = |loader: &Loader<'_>| {
            for &page in &loader.allocated {
                shared.store.cache.remove(&page.0);
                // Fresh pages are reusable at once; a failure here only leaves them unused
                // until the next open.
                let _ = shared.store.pm.free(page);
            }
        };
        let loaded = match loaded {
            Ok(loaded) => loaded,
            Err(e) => {
                abandon(&loader);
                return Err(e);
            }
        };
        {
            let mut state = shared.tree.write();
            if let Some(e) = not_empty(&state) {
                abandon(&loader);
                return Err(e);
            }
            if let Some(loaded) = loaded {
                let old_root = state.root;
                state.release_node(&shared.store, old_root);
                state.root = loaded.root;
                state.root_stamp = loaded.root_stamp;
                state.height = loaded.height;
                state.counters = loaded.counters;
                for (page, node) in loaded.branches {
                    state.hot.insert(&shared.store, page, node);
                }
            }
            state.applied_lsn = state.applied_lsn.max(lsn);
            state.max_commit_ts = state.max_commit_ts.max(commit_ts);
        }
        shared.checkpoint_locked()?;
        Ok(count)
    }
}

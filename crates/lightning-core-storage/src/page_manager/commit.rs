//! [`PageManager::commit`]: the free list, the syncs and the meta page, with no lock on the
//! page manager's state across the I/O.
//!
//! A commit runs in three steps. Under the state lock (briefly): plan where the new free list
//! goes, and mark every page allocated so far as part of this commit. Under the commit lock
//! only: write the list, sync, write the meta page, sync — reads, allocations, frees and page
//! writes go on meanwhile. Under the state lock again: install the result. Pages allocated
//! during the I/O come from the free set (never from a page either meta slot references) and
//! are not part of this commit; pages freed during it become pending for the next one.

use std::{collections::BTreeSet, sync::atomic::Ordering};

use super::{Meta, PageManager, State, USER_META_CAPACITY, free_list};
use crate::{Error, PageId, Result, page::PageType};

/// Where the next commit's free list goes and what it holds.
#[derive(Debug)]
struct FreeListPlan {
    /// The ids the new list records as free (free after the commit).
    free: BTreeSet<PageId>,
    /// The ids the new list records as held (reusable after the commit after it).
    held: BTreeSet<PageId>,
    /// The pages that will hold the list.
    list_pages: Vec<PageId>,
}

/// Everything the I/O of a commit needs, taken under the state lock.
#[derive(Debug)]
struct Prepared {
    plan: FreeListPlan,
    /// The meta the commit writes (its owner's bytes filled in by the caller).
    meta: Meta,
    /// The slot it goes into.
    slot: u64,
}

impl PageManager {
    /// Makes every page written so far durable, with `user` as the owner's meta bytes. Reads
    /// and allocations do not wait for its writes and syncs.
    pub fn commit(&self, user: &[u8]) -> Result<()> {
        if user.len() > USER_META_CAPACITY {
            return Err(Error::InvalidInput(format!(
                "owner's meta of {} bytes exceeds {USER_META_CAPACITY}",
                user.len()
            )));
        }
        let _one_at_a_time = self.inner.commit_lock.lock();
        let prepared = {
            let mut state = self.inner.state.lock();
            self.check_writable()?;
            self.prepare(&mut state, user)
        };
        let result = self.write_commit(&prepared);
        let mut state = self.inner.state.lock();
        match result {
            Ok(()) => {
                let Prepared { plan, meta, slot } = prepared;
                state.older = Some(std::mem::replace(&mut state.meta, meta));
                state.active_slot = slot;
                // Free now: what stayed free (less what was allocated during the I/O), plus
                // what the slot just overwritten was holding.
                let released = std::mem::replace(&mut state.held, plan.held);
                state.free.extend(released);
                let held = &state.held;
                let still_pending: BTreeSet<PageId> =
                    state.pending_free.iter().copied().filter(|id| !held.contains(id)).collect();
                state.pending_free = still_pending;
                state.list_pages = plan.list_pages;
                Ok(())
            }
            Err(e) => Err(self.poison(e)),
        }
    }

    /// Plans the commit. REQUIRES: the commit lock and the state lock.
    fn prepare(&self, state: &mut State, user: &[u8]) -> Prepared {
        let format = &self.inner.format;
        let plan = plan_free_list(state, format.body_len());
        self.inner.page_count.store(state.page_count, Ordering::Release);
        // Pages allocated so far are written by this commit: from now on, freeing one makes it
        // pending (the new meta references it), not free at once.
        state.fresh.clear();
        let meta = Meta {
            page_size: format.page_size().bytes() as u32,
            generation: state.meta.generation + 1,
            page_count: state.page_count,
            free_head: plan.list_pages.first().copied().unwrap_or(PageId::ZERO),
            free_count: plan.free.len() as u64,
            free_list_pages: plan.list_pages.len() as u64,
            held_count: plan.held.len() as u64,
            holds_older: true,
            user: user.to_vec(),
        };
        Prepared { plan, meta, slot: 1 - state.active_slot }
    }

    /// Writes the list and the meta page, each made durable in order. REQUIRES: the commit
    /// lock; not the state lock.
    fn write_commit(&self, prepared: &Prepared) -> Result<()> {
        let format = &self.inner.format;
        let plan = &prepared.plan;
        let per_page = free_list::ids_per_page(format.body_len());
        let ids: Vec<PageId> = plan.free.iter().chain(&plan.held).copied().collect();
        let mut chunks = ids.chunks(per_page);
        let mut bytes = Vec::new();
        for (i, &id) in plan.list_pages.iter().enumerate() {
            let next = plan.list_pages.get(i + 1).copied().unwrap_or(PageId::ZERO);
            let mut page = format.new_page(PageType::FREE_LIST, id);
            free_list::encode(&mut page, next, chunks.next().unwrap_or(&[]));
            format.encode(&page, &mut bytes)?;
            self.inner.file.write_all_at(&bytes, id.0 * bytes.len() as u64)?;
        }
        debug_assert!(chunks.next().is_none(), "every free id has a place in the list");
        // Everything the new meta will reference (and the file's new length) first.
        self.inner.file.sync_data()?;
        let slot = PageId(prepared.slot);
        let mut page = format.new_page(PageType::META, slot);
        prepared.meta.encode(&mut page);
        format.encode(&page, &mut bytes)?;
        self.inner.file.write_all_at(&bytes, slot.0 * bytes.len() as u64)?;
        self.inner.file.sync_data()?;
        Ok(())
    }
}

/// Chooses pages for the new free list. REQUIRES: the state lock.
///
/// After the commit, free = free now + held now, minus the pages used for the new list; held =
/// pending + the old list's pages (the commit about to become the older slot references them).
/// The list's pages come only from pages free *now* (referenced by neither meta slot) or from
/// growing the file, so both slots stay intact until the new meta is durable.
fn plan_free_list(state: &mut State, body_len: usize) -> FreeListPlan {
    let per_page = free_list::ids_per_page(body_len);
    let mut free: BTreeSet<PageId> = state.free.clone();
    free.extend(state.held.iter().copied());
    let mut held: BTreeSet<PageId> = state.pending_free.clone();
    held.extend(state.list_pages.iter().copied());
    let mut candidates = state.free.iter().rev().copied().collect::<Vec<_>>().into_iter();
    let mut list_pages = Vec::new();
    // Each page taken from the free set also shrinks what the list must hold.
    while list_pages.len() < (free.len() + held.len()).div_ceil(per_page) {
        let page = match candidates.next() {
            Some(id) => {
                free.remove(&id);
                state.free.remove(&id);
                id
            }
            None => {
                state.page_count += 1;
                PageId(state.page_count - 1)
            }
        };
        list_pages.push(page);
    }
    FreeListPlan { free, held, list_pages }
}

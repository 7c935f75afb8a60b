//! The page manager: one file of fixed-size pages with allocation, a persistent free list and
//! crash-safe commits.
//!
//! Pages 0 and 1 are the two meta slots ([`meta`]); data pages start at [`FIRST_DATA_PAGE`].
//! Changes become durable only through [`PageManager::commit`], which:
//!
//! 1. writes the new free list into pages that were already free at the last commit (or into
//!    new pages at the end of the file), never into a page the durable state still uses;
//! 2. syncs the file, so every written page and any growth of the file is durable *before* a
//!    meta page can point at it;
//! 3. writes the inactive meta slot with the next generation and syncs again.
//!
//! A crash at any point leaves the previous meta valid and everything it references intact.
//!
//! **Both meta slots stay openable.** A page freed between commits N and N+1 is still used by
//! commit N, which the older slot keeps after N+1 is durable; so commit N+1 records it as
//! *held*, not free, and it becomes reusable only once commit N+2 has overwritten slot N. The
//! free-list pages of commit N are held the same way. So if the newest meta page is damaged, or
//! the newest commit's writes were lost, open falls back to the older slot and finds every page
//! it references intact (and says so through `tracing::warn!`); the owner replays its log from
//! the older commit (see `docs/ARCHITECTURE.md`, "Recovery and durability rules"). No lock
//! that reads or allocations take is held across a commit's I/O (see `commit.rs`: commits are
//! serialised by their own lock; `read_page` takes no lock at all). A failed write or
//! sync poisons the manager: every later write fails with [`Error::Poisoned`].

mod commit;
pub mod free_list;
pub mod meta;
mod open;

use std::{
    collections::{BTreeSet, HashSet},
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use parking_lot::Mutex;

use crate::{
    Error, PageId, Poison, Result,
    page::{Page, PageFormat, PageType},
    vfs::{FileHandle, Vfs},
};
pub use meta::{Meta, USER_META_CAPACITY};

/// The first page that can hold data; pages 0 and 1 are the meta slots.
pub const FIRST_DATA_PAGE: PageId = PageId(2);

/// Counters describing a paged file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageManagerStats {
    /// Page size in bytes.
    pub page_size: usize,
    /// Pages in the file, meta pages included.
    pub page_count: u64,
    /// Pages free for allocation now.
    pub free_pages: u64,
    /// Pages freed but not reusable yet: since the last commit (reusable after the next two), or
    /// by it (the older meta slot still uses them; reusable after the next one).
    pub pending_free_pages: u64,
    /// Pages holding the durable free list.
    pub free_list_pages: u64,
    /// Commits so far.
    pub generation: u64,
}

/// Which pages are not in use, for consistency checks by the file's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceMap {
    /// Pages in the file, meta pages included.
    pub page_count: u64,
    /// Free now.
    pub free: BTreeSet<PageId>,
    /// Freed but not reusable yet: since the last commit, or by it (held for the older slot).
    pub pending_free: BTreeSet<PageId>,
    /// Holding the durable free list.
    pub free_list_pages: BTreeSet<PageId>,
}

#[derive(Debug)]
struct State {
    /// The meta of the last durable commit.
    meta: Meta,
    /// The slot (0 or 1) holding `meta`.
    active_slot: u64,
    /// The meta of the other slot, if it is valid and older: the commit open falls back to.
    older: Option<Meta>,
    /// Pages in the file now (grows between commits).
    page_count: u64,
    /// Free in the durable state and not allocated since: reusable now.
    free: BTreeSet<PageId>,
    /// Allocated since the last commit: no durable state references them.
    fresh: HashSet<PageId>,
    /// Freed since the last commit; the durable state may still reference them.
    pending_free: BTreeSet<PageId>,
    /// Freed by the last commit (and its predecessor's free-list pages): the older meta slot
    /// may still reference them, so they become free only after the next commit.
    held: BTreeSet<PageId>,
    /// Pages of the durable free-list chain.
    list_pages: Vec<PageId>,
}

/// A file of pages. Cheap to share (`Arc` inside); reads run concurrently.
#[derive(Debug, Clone)]
pub struct PageManager {
    inner: Arc<Inner>,
}

/// Lock order: `commit_lock`, then `state`. `state` is never held across I/O.
#[derive(Debug)]
struct Inner {
    file: FileHandle,
    path: PathBuf,
    name: String,
    format: PageFormat,
    /// Serialises commits; held across a commit's writes and syncs (the state lock is not).
    commit_lock: Mutex<()>,
    /// `State::page_count`, readable without the state lock (by `read_page`). Written only
    /// under the state lock.
    page_count: AtomicU64,
    state: Mutex<State>,
    /// Set by a failed write or sync: every later write is refused.
    poison: Poison,
}

impl PageManager {
    /// Creates a new paged file at `path` (which must not exist), crash-safely: it is written
    /// under a temporary name, synced, renamed into place and the directory synced.
    pub fn create(vfs: &dyn Vfs, path: &Path, format: PageFormat) -> Result<PageManager> {
        open::create(vfs, path, format)
    }

    /// Opens an existing paged file, picking the newest valid meta slot. The page size is the
    /// one the file was created with, whatever `format` says.
    pub fn open(vfs: &dyn Vfs, path: &Path, format: PageFormat) -> Result<PageManager> {
        open::open(vfs, path, format)
    }

    fn from_parts(file: FileHandle, path: &Path, format: PageFormat, state: State) -> Self {
        let name = path.display().to_string();
        let inner = Inner {
            file,
            path: path.to_path_buf(),
            name,
            format,
            commit_lock: Mutex::new(()),
            page_count: AtomicU64::new(state.page_count),
            poison: Poison::new(),
            state: Mutex::new(state),
        };
        PageManager { inner: Arc::new(inner) }
    }

    /// The page format (size, encryption) of this file.
    pub fn format(&self) -> &PageFormat {
        &self.inner.format
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The owner's bytes stored in the last committed meta page.
    pub fn user_meta(&self) -> Vec<u8> {
        self.inner.state.lock().meta.user.clone()
    }

    /// The owner's bytes of the older meta slot, if it is valid: the commit open would fall
    /// back to if the newest meta page were damaged. Everything it references is intact.
    /// `None` also when the newest slot is a meta-version-1 commit, which held nothing for the
    /// older slot (its pages may have been reused), until the next commit.
    pub fn older_user_meta(&self) -> Option<Vec<u8>> {
        self.inner.state.lock().older.as_ref().map(|meta| meta.user.clone())
    }

    /// A new page with a zeroed body, for `id` (which the caller allocated).
    pub fn new_page(&self, page_type: PageType, id: PageId) -> Page {
        self.inner.format.new_page(page_type, id)
    }

    /// Allocates a page: the lowest free one, or a new one at the end of the file.
    pub fn allocate(&self) -> Result<PageId> {
        let mut state = self.inner.state.lock();
        self.check_writable()?;
        let id = match state.free.pop_first() {
            Some(id) => id,
            None => {
                state.page_count += 1;
                self.inner.page_count.store(state.page_count, Ordering::Release);
                PageId(state.page_count - 1)
            }
        };
        state.fresh.insert(id);
        Ok(id)
    }

    /// Frees a page. A page allocated since the last commit is reusable at once; any other
    /// becomes reusable once the next commit is durable. Freeing a page that is not in use is
    /// an error.
    pub fn free(&self, id: PageId) -> Result<()> {
        let mut state = self.inner.state.lock();
        self.check_writable()?;
        if id < FIRST_DATA_PAGE || id.0 >= state.page_count {
            return Err(Error::InvalidInput(format!("cannot free page {id}: not a data page")));
        }
        if state.free.contains(&id)
            || state.pending_free.contains(&id)
            || state.held.contains(&id)
            || state.list_pages.contains(&id)
        {
            return Err(Error::InvalidInput(format!("page {id} freed twice")));
        }
        if state.fresh.remove(&id) {
            state.free.insert(id);
        } else {
            state.pending_free.insert(id);
        }
        Ok(())
    }

    /// Reads and verifies page `id`. Takes no lock: never waits for a commit's I/O.
    pub fn read_page(&self, id: PageId) -> Result<Page> {
        let page_count = self.inner.page_count.load(Ordering::Acquire);
        if id.0 >= page_count {
            return Err(Error::corruption(
                format!("reference to page {id} beyond the end of the file ({page_count} pages)"),
                self.inner.name.clone(),
            ));
        }
        let size = self.inner.format.page_size().bytes();
        let mut bytes = vec![0; size];
        self.inner.file.read_exact_at(&mut bytes, id.0 * size as u64)?;
        self.inner.format.decode(bytes, id, &self.inner.name)
    }

    /// Writes a data page. It is durable after the next [`PageManager::commit`].
    pub fn write_page(&self, page: &Page) -> Result<()> {
        {
            let state = self.inner.state.lock();
            self.check_writable()?;
            if page.id() < FIRST_DATA_PAGE || page.id().0 >= state.page_count {
                return Err(Error::InvalidInput(format!(
                    "cannot write page {}: not an allocated data page",
                    page.id()
                )));
            }
        }
        self.write_raw(page)
    }

    fn write_raw(&self, page: &Page) -> Result<()> {
        let mut bytes = Vec::new();
        self.inner.format.encode(page, &mut bytes)?;
        let offset = page.id().0 * bytes.len() as u64;
        self.inner.file.write_all_at(&bytes, offset).map_err(|e| self.poison(e))
    }

    /// Records `error` as the reason no more writes are accepted, and returns it.
    fn poison(&self, error: Error) -> Error {
        self.inner.poison.fail(error)
    }

    /// Counters for stats output.
    pub fn stats(&self) -> PageManagerStats {
        let state = self.inner.state.lock();
        PageManagerStats {
            page_size: self.inner.format.page_size().bytes(),
            page_count: state.page_count,
            free_pages: state.free.len() as u64,
            pending_free_pages: (state.pending_free.len() + state.held.len()) as u64,
            free_list_pages: state.list_pages.len() as u64,
            generation: state.meta.generation,
        }
    }

    /// Which pages are not in use, for the owner's consistency check.
    pub fn space_map(&self) -> SpaceMap {
        let state = self.inner.state.lock();
        SpaceMap {
            page_count: state.page_count,
            free: state.free.clone(),
            pending_free: state.pending_free.union(&state.held).copied().collect(),
            free_list_pages: state.list_pages.iter().copied().collect(),
        }
    }

    /// Why writes are refused, if they are.
    pub fn poisoned(&self) -> Option<String> {
        self.inner.poison.reason()
    }

    /// Fails with [`Error::Poisoned`] after a failed write or sync.
    fn check_writable(&self) -> Result<()> {
        self.inner.poison.check()
    }
}

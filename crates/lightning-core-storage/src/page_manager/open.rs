//! Creating and opening paged files: meta slot selection, free-list loading, validation.
//!
//! Open uses the valid meta slot with the higher generation. A damaged slot is not an error
//! while the other is valid, but it is never silent: the fallback is logged through
//! `tracing::warn!` with both slots' generations and what was wrong.

use std::{
    collections::{BTreeSet, HashSet},
    path::Path,
};

use super::{FIRST_DATA_PAGE, Meta, PageManager, State, free_list};
use crate::{
    Error, PageId, Result,
    page::{PageFormat, PageSize, PageType},
    vfs::{FileHandle, OpenMode, Vfs, parent_dir},
};

/// See [`PageManager::create`].
pub(super) fn create(vfs: &dyn Vfs, path: &Path, format: PageFormat) -> Result<PageManager> {
    if vfs.exists(path)? {
        return Err(Error::InvalidInput(format!("{} already exists", path.display())));
    }
    let mut temp_name = path.as_os_str().to_owned();
    temp_name.push(".creating");
    let temp = Path::new(&temp_name);
    if vfs.exists(temp)? {
        vfs.remove(temp)?; // Left by a crash during an earlier create: never in use.
    }
    let file = vfs.open(temp, OpenMode::CreateNew)?;
    let meta = Meta {
        page_size: format.page_size().bytes() as u32,
        generation: 1,
        page_count: FIRST_DATA_PAGE.0,
        free_head: PageId::ZERO,
        free_count: 0,
        free_list_pages: 0,
        held_count: 0,
        holds_older: true,
        user: Vec::new(),
    };
    let older = Meta { generation: 0, ..meta.clone() };
    let mut bytes = Vec::new();
    for slot in [0u64, 1] {
        // Slot 1 starts one generation older, so slot 0 is the active one.
        let slot_meta = Meta { generation: meta.generation - slot, ..meta.clone() };
        let mut page = format.new_page(PageType::META, PageId(slot));
        slot_meta.encode(&mut page);
        format.encode(&page, &mut bytes)?;
        file.write_all_at(&bytes, slot * bytes.len() as u64)?;
    }
    file.sync_data()?;
    drop(file);
    vfs.rename(temp, path)?;
    vfs.sync_dir(&parent_dir(path))?;
    let file = vfs.open(path, OpenMode::ReadWrite)?;
    let state = State {
        meta,
        active_slot: 0,
        older: Some(older),
        page_count: FIRST_DATA_PAGE.0,
        free: BTreeSet::new(),
        fresh: HashSet::new(),
        pending_free: BTreeSet::new(),
        held: BTreeSet::new(),
        list_pages: Vec::new(),
    };
    Ok(PageManager::from_parts(file, path, format, state))
}

/// See [`PageManager::open`].
pub(super) fn open(vfs: &dyn Vfs, path: &Path, format: PageFormat) -> Result<PageManager> {
    let file = vfs.open(path, OpenMode::ReadWrite)?;
    let name = path.display().to_string();
    let file_len = file.len()?;
    // The caller's page size first, then every other allowed size: only the size the file was
    // created with makes a meta page's checksum and recorded size agree.
    let sizes = std::iter::once(format.page_size())
        .chain(PageSize::all().filter(|s| *s != format.page_size()));
    let mut first_error = None;
    for size in sizes {
        let sized = format.with_page_size(size);
        match read_best_meta(&file, &sized, &name) {
            Ok(best) => {
                if !best.rejected.is_empty() {
                    tracing::warn!(
                        file = %name,
                        slot = best.slot,
                        generation = best.meta.generation,
                        rejected = %best.rejected.join("; "),
                        "a meta slot is damaged; opening the other (an older commit if the \
                         damaged one was the newest: its owner replays its log from there)"
                    );
                }
                return finish_open(file, path, sized, best, file_len);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| Error::corruption("no valid meta page", name)))
}

/// What [`read_best_meta`] found.
struct BestMeta {
    /// The slot to open.
    slot: u64,
    /// Its meta.
    meta: Meta,
    /// The other slot's meta, if it is valid and older.
    older: Option<Meta>,
    /// What was wrong with a slot that did not verify.
    rejected: Vec<String>,
}

/// Reads both meta slots and returns the valid one with the higher generation.
fn read_best_meta(file: &FileHandle, format: &PageFormat, name: &str) -> Result<BestMeta> {
    let size = format.page_size().bytes();
    let mut valid: Vec<(u64, Meta)> = Vec::new();
    let mut errors = Vec::new();
    for slot in [0u64, 1] {
        let location = format!("{name} meta slot {slot}");
        let mut bytes = vec![0; size];
        let decoded = file
            .read_exact_at(&mut bytes, slot * size as u64)
            .and_then(|()| format.decode(bytes, PageId(slot), name))
            .and_then(|page| Meta::decode(&page, &location));
        match decoded {
            Ok(meta) if meta.page_size as usize != size => {
                errors.push(format!("slot {slot}: records page size {}", meta.page_size));
            }
            Ok(meta) => valid.push((slot, meta)),
            Err(e) => errors.push(format!("slot {slot}: {e}")),
        }
    }
    valid.sort_by_key(|(_, meta)| std::cmp::Reverse(meta.generation));
    let mut valid = valid.into_iter();
    let Some((slot, meta)) = valid.next() else {
        return Err(Error::corruption(
            format!("no valid meta page ({})", errors.join("; ")),
            name.to_string(),
        ));
    };
    let older = valid.next().map(|(_, older)| older).filter(|o| o.generation < meta.generation);
    // A version-1 commit did not hold the pages its older slot references: they may have been
    // reused since, so that slot is no state to fall back to (its owner must not rely on it).
    let older = match older {
        Some(older) if !meta.holds_older => {
            tracing::info!(
                file = name,
                generation = meta.generation,
                older_generation = older.generation,
                "the newest meta slot is meta version 1 (no held pages): the older slot is \
                 not recoverable until the next commit"
            );
            None
        }
        older => older,
    };
    Ok(BestMeta { slot, meta, older, rejected: errors })
}

fn finish_open(
    file: FileHandle,
    path: &Path,
    format: PageFormat,
    best: BestMeta,
    file_len: u64,
) -> Result<PageManager> {
    let BestMeta { slot: active_slot, meta, older, .. } = best;
    let name = path.display().to_string();
    let size = format.page_size().bytes() as u64;
    if meta.page_count < FIRST_DATA_PAGE.0 {
        return Err(Error::corruption(format!("page count {} < 2", meta.page_count), name));
    }
    if meta.page_count.checked_mul(size).is_none_or(|needed| needed > file_len) {
        return Err(Error::corruption(
            format!(
                "meta says {} pages but the file holds only {} bytes (truncated file)",
                meta.page_count, file_len
            ),
            name,
        ));
    }
    let pm = PageManager::from_parts(
        file,
        path,
        format,
        State {
            meta: meta.clone(),
            active_slot,
            older,
            page_count: meta.page_count,
            free: BTreeSet::new(),
            fresh: HashSet::new(),
            pending_free: BTreeSet::new(),
            held: BTreeSet::new(),
            list_pages: Vec::new(),
        },
    );
    let (free, held, list_pages) = load_free_list(&pm, &meta)?;
    {
        let mut state = pm.inner.state.lock();
        state.free = free;
        state.held = held;
        state.list_pages = list_pages;
    }
    Ok(pm)
}

/// The free ids, the held ids and the pages of a free-list chain.
type LoadedList = (BTreeSet<PageId>, BTreeSet<PageId>, Vec<PageId>);

/// Walks the free-list chain, bounded by what the meta records, rejecting cycles, duplicates
/// and ids outside the file. The first `free_count` ids are free, the rest held.
fn load_free_list(pm: &PageManager, meta: &Meta) -> Result<LoadedList> {
    let name = &pm.inner.name;
    let mut ids = Vec::new();
    let mut seen = BTreeSet::new();
    let mut list_pages = Vec::new();
    let mut next = meta.free_head;
    while next != PageId::ZERO {
        if list_pages.len() as u64 >= meta.free_list_pages {
            return Err(Error::corruption(
                format!(
                    "free-list chain is longer than the {} pages recorded",
                    meta.free_list_pages
                ),
                name.clone(),
            ));
        }
        if next < FIRST_DATA_PAGE || next.0 >= meta.page_count || list_pages.contains(&next) {
            return Err(Error::corruption(
                format!("free-list chain links to invalid page {next}"),
                name.clone(),
            ));
        }
        let page = pm.read_page(next)?;
        let location = format!("{name} free-list page {next}");
        if page.page_type() != PageType::FREE_LIST {
            return Err(Error::corruption(
                "page in the free-list chain is not a free-list page",
                location,
            ));
        }
        list_pages.push(next);
        next = free_list::decode(&page, meta.page_count, &mut ids, &mut seen, &location)?;
    }
    let recorded = meta.free_count.checked_add(meta.held_count);
    if list_pages.len() as u64 != meta.free_list_pages || Some(ids.len() as u64) != recorded {
        return Err(Error::corruption(
            format!(
                "free list holds {} ids in {} pages; meta records {} free and {} held in {}",
                ids.len(),
                list_pages.len(),
                meta.free_count,
                meta.held_count,
                meta.free_list_pages
            ),
            name.clone(),
        ));
    }
    if let Some(page) = list_pages.iter().find(|p| seen.contains(p)) {
        return Err(Error::corruption(
            format!("page {page} is both a free-list page and listed as free"),
            name.clone(),
        ));
    }
    let held = ids.split_off(meta.free_count as usize);
    Ok((ids.into_iter().collect(), held.into_iter().collect(), list_pages))
}

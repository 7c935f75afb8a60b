//! Overflow chains: values too large to sit inline in a leaf.
//!
//! A chain is a singly linked list of overflow pages (page type 18). Body layout (after the
//! 32-byte page header; little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | next page of the chain (0 = last page) |
//! | 8 | 4 | value bytes in this page |
//! | 12 | 4 | reserved, zero |
//! | 16 | n | value bytes |
//!
//! Every page but the last is full. The leaf entry records the value's total length and the
//! first page, so a reader knows how many pages to expect: a chain that is longer, shorter,
//! cyclic or inconsistent with that length is `Corruption` naming the page.

use std::borrow::Borrow;

use lightning_core_storage::{Error, Lsn, PageId, Result, page::Page, page_manager::PageManager};

use crate::node::OVERFLOW;

/// Body offset of the next-page link.
pub(crate) const NEXT: usize = 0;
/// Body offset of the byte count of this page.
pub(crate) const LEN: usize = NEXT + 8;
/// Body offset of the reserved word.
pub(crate) const RESERVED: usize = LEN + 4;
/// Body offset of the value bytes.
pub(crate) const DATA: usize = RESERVED + 4;

const _: () = assert!(DATA == 16, "overflow page header is 16 bytes");

/// Value bytes one overflow page holds, for a page body of `body_len` bytes.
pub(crate) fn chunk_len(body_len: usize) -> usize {
    body_len - DATA
}

/// `"<file> page <id>"`, the location used in corruption errors.
pub(crate) fn location(pm: &PageManager, id: u64) -> String {
    format!("{} page {id}", pm.path().display())
}

/// Allocates pages for `value` and writes it as a chain; returns the pages, first first.
/// The pages are durable after the next commit.
pub(crate) fn write_chain(pm: &PageManager, value: &[u8], lsn: Lsn) -> Result<Vec<PageId>> {
    debug_assert!(!value.is_empty(), "empty values are stored inline");
    let chunk = chunk_len(pm.format().body_len());
    let pages =
        (0..value.len().div_ceil(chunk)).map(|_| pm.allocate()).collect::<Result<Vec<_>>>()?;
    for (i, (data, &id)) in value.chunks(chunk).zip(&pages).enumerate() {
        let next = pages.get(i + 1).map_or(0, |p| p.0);
        let mut page = pm.new_page(OVERFLOW, id);
        page.set_lsn(lsn);
        let body = page.body_mut();
        body[NEXT..LEN].copy_from_slice(&next.to_le_bytes());
        body[LEN..RESERVED].copy_from_slice(&(data.len() as u32).to_le_bytes());
        body[DATA..DATA + data.len()].copy_from_slice(data);
        pm.write_page(&page)?;
    }
    Ok(pages)
}

/// Walks the chain of a `len`-byte value from `first`, checking every page, and calls
/// `visit(page id, value bytes of that page)` for each. Pages are read from the file.
pub(crate) fn walk_chain(
    pm: &PageManager,
    first: u64,
    len: usize,
    visit: impl FnMut(PageId, &[u8]),
) -> Result<()> {
    walk_chain_with(pm, first, len, |id| pm.read_page(id), visit)
}

/// [`walk_chain`], reading each page with `read` (the node cache, for a reader).
pub(crate) fn walk_chain_with<P: Borrow<Page>>(
    pm: &PageManager,
    first: u64,
    len: usize,
    mut read: impl FnMut(PageId) -> Result<P>,
    mut visit: impl FnMut(PageId, &[u8]),
) -> Result<()> {
    let chunk = chunk_len(pm.format().body_len());
    let pages = len.div_ceil(chunk);
    let mut next = first;
    let mut remaining = len;
    for index in 0..pages {
        if next == 0 {
            return Err(Error::corruption(
                format!("overflow chain ends after {index} of {pages} pages"),
                location(pm, first),
            ));
        }
        let page = read(PageId(next))?;
        let page: &Page = page.borrow();
        let body = page.body();
        let here = u32::from_le_bytes(body[LEN..RESERVED].try_into().expect("4 bytes")) as usize;
        let expected = remaining.min(chunk);
        if page.page_type() != OVERFLOW || here != expected || body[RESERVED..DATA] != [0; 4] {
            return Err(Error::corruption(
                format!("not the overflow page expected ({here} bytes, wanted {expected})"),
                location(pm, next),
            ));
        }
        visit(PageId(next), &body[DATA..DATA + here]);
        remaining -= here;
        next = u64::from_le_bytes(body[NEXT..LEN].try_into().expect("8 bytes"));
    }
    if next != 0 {
        return Err(Error::corruption(
            "overflow chain is longer than its value",
            location(pm, first),
        ));
    }
    Ok(())
}

/// The pages of the chain of a `len`-byte value starting at `first`.
pub(crate) fn chain_pages(pm: &PageManager, first: u64, len: usize) -> Result<Vec<PageId>> {
    let mut pages = Vec::new();
    walk_chain(pm, first, len, |id, _| pages.push(id))?;
    Ok(pages)
}

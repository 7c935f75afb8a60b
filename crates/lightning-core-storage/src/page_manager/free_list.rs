//! The persistent free list: a chain of pages holding the ids of free pages, then the ids of
//! held pages (freed by the last commit, still referenced by the older meta slot); the meta
//! page records how many of each.
//!
//! Body layout of a free-list page (after the page header; little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | next free-list page (0 = end of chain) |
//! | 8 | 4 | number of ids in this page |
//! | 12 | 4 | reserved, zero |
//! | 16 | 8 × n | free page ids |

use std::collections::BTreeSet;

use crate::{Error, PageId, Result, page::Page};

const NEXT: usize = 0;
const COUNT: usize = NEXT + 8;
const RESERVED: usize = COUNT + 4;
const IDS: usize = RESERVED + 4;

/// How many page ids one free-list page holds, for a page body of `body_len` bytes.
pub fn ids_per_page(body_len: usize) -> usize {
    (body_len - IDS) / 8
}

/// Fills a free-list page with `ids` and a link to `next`.
pub fn encode(page: &mut Page, next: PageId, ids: &[PageId]) {
    let body = page.body_mut();
    debug_assert!(ids.len() <= ids_per_page(body.len()), "too many ids for one page");
    body.fill(0);
    body[NEXT..COUNT].copy_from_slice(&next.0.to_le_bytes());
    body[COUNT..RESERVED].copy_from_slice(&(ids.len() as u32).to_le_bytes());
    for (slot, id) in body[IDS..].chunks_exact_mut(8).zip(ids) {
        slot.copy_from_slice(&id.0.to_le_bytes());
    }
}

/// Reads one free-list page: its ids are appended to `into` in chain order (checked against
/// `page_count`, and for duplicates against `seen`); returns the next page of the chain.
pub fn decode(
    page: &Page,
    page_count: u64,
    into: &mut Vec<PageId>,
    seen: &mut BTreeSet<PageId>,
    location: &str,
) -> Result<PageId> {
    let body = page.body();
    let bad = |what: String| Error::corruption(what, location.to_string());
    let next = PageId(u64::from_le_bytes(body[NEXT..COUNT].try_into().expect("8 bytes")));
    let count = u32::from_le_bytes(body[COUNT..RESERVED].try_into().expect("4 bytes")) as usize;
    if count > ids_per_page(body.len()) {
        return Err(bad(format!("free-list page claims {count} ids, more than fit")));
    }
    for slot in body[IDS..].chunks_exact(8).take(count) {
        let id = PageId(u64::from_le_bytes(slot.try_into().expect("8 bytes")));
        if id.0 < super::FIRST_DATA_PAGE.0 || id.0 >= page_count {
            return Err(bad(format!("free page id {id} is outside the file")));
        }
        if !seen.insert(id) {
            return Err(bad(format!("page {id} is listed as free twice")));
        }
        into.push(id);
    }
    Ok(next)
}

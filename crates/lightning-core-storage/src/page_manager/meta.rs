//! The meta page: the root of everything durable in a paged file.
//!
//! Pages 0 and 1 are meta slots. A commit writes the *inactive* slot with the next generation
//! and syncs it; open reads both and takes the valid one with the higher generation, so a crash
//! in the middle of writing a meta page falls back to the previous commit. The older slot stays
//! openable too (its pages are kept until the commit after next; see the module docs of
//! [`super`]).
//!
//! Body layout (after the 32-byte page header; little-endian; see `docs/format/page.md`):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `LDBMETA\0` |
//! | 8 | 4 | page size in bytes |
//! | 12 | 4 | meta format version (2; 1 is read) |
//! | 16 | 8 | generation (commit counter, starts at 1) |
//! | 24 | 8 | page count: pages `[0, page count)` belong to the file |
//! | 32 | 8 | first free-list page (0 = none) |
//! | 40 | 8 | number of free page ids in the list (they come first in the chain) |
//! | 48 | 8 | number of free-list pages |
//! | 56 | 8 | number of held page ids, after the free ones in the chain (version 2 only) |
//! | 64 | 2 | length of the owner's bytes (at 56 in version 1) |
//! | 66 | n | the owner's bytes (engine root, checkpoint LSN...), at most [`USER_META_CAPACITY`] |

use crate::{Error, PageId, Result, page::Page};

/// Magic opening the meta body.
pub const META_MAGIC: [u8; 8] = *b"LDBMETA\0";
/// The meta body format version this code writes.
pub const META_VERSION: u32 = 2;
/// The first version, read for compatibility: no held count (nothing held), the owner's
/// length at [`V1_USER_LEN`].
const META_VERSION_1: u32 = 1;
/// Bytes available to the file's owner in each meta page.
pub const USER_META_CAPACITY: usize = 256;

const MAGIC: usize = 0;
const PAGE_SIZE: usize = MAGIC + 8;
const VERSION: usize = PAGE_SIZE + 4;
const GENERATION: usize = VERSION + 4;
const PAGE_COUNT: usize = GENERATION + 8;
const FREE_HEAD: usize = PAGE_COUNT + 8;
const FREE_COUNT: usize = FREE_HEAD + 8;
const FREE_PAGES: usize = FREE_COUNT + 8;
const HELD_COUNT: usize = FREE_PAGES + 8;
const USER_LEN: usize = HELD_COUNT + 8;
/// Where version 1 keeps the owner's length (it has no held count).
const V1_USER_LEN: usize = FREE_PAGES + 8;
const USER: usize = USER_LEN + 2;
/// Bytes of the body the meta record uses at most.
pub const META_BODY_LEN: usize = USER + USER_META_CAPACITY;

const _: () = assert!(META_BODY_LEN + 32 + 40 <= 4096, "meta fits the smallest sealed page");

/// The decoded contents of a meta page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// Page size the file was created with.
    pub page_size: u32,
    /// Commit counter; the higher valid slot wins at open.
    pub generation: u64,
    /// Pages `[0, page_count)` belong to the file.
    pub page_count: u64,
    /// First page of the free-list chain, or `PageId(0)` for none.
    pub free_head: PageId,
    /// Number of free page ids stored in the chain.
    pub free_count: u64,
    /// Number of pages in the chain.
    pub free_list_pages: u64,
    /// Number of held page ids stored in the chain after the free ones: pages this commit
    /// freed, which the older meta slot still references (reusable after the next commit).
    pub held_count: u64,
    /// This commit kept the pages the older meta slot references (version 2, which holds
    /// them). A version-1 commit made them free at once, so after it the older slot may point
    /// at reused pages and is not a state to fall back to. Not stored: every commit writes
    /// version 2.
    pub holds_older: bool,
    /// The owner's bytes.
    pub user: Vec<u8>,
}

impl Meta {
    /// Writes the meta record into a meta page's body.
    pub fn encode(&self, page: &mut Page) {
        debug_assert!(self.user.len() <= USER_META_CAPACITY);
        let body = page.body_mut();
        body.fill(0);
        body[MAGIC..PAGE_SIZE].copy_from_slice(&META_MAGIC);
        body[PAGE_SIZE..VERSION].copy_from_slice(&self.page_size.to_le_bytes());
        body[VERSION..GENERATION].copy_from_slice(&META_VERSION.to_le_bytes());
        body[GENERATION..PAGE_COUNT].copy_from_slice(&self.generation.to_le_bytes());
        body[PAGE_COUNT..FREE_HEAD].copy_from_slice(&self.page_count.to_le_bytes());
        body[FREE_HEAD..FREE_COUNT].copy_from_slice(&self.free_head.0.to_le_bytes());
        body[FREE_COUNT..FREE_PAGES].copy_from_slice(&self.free_count.to_le_bytes());
        body[FREE_PAGES..HELD_COUNT].copy_from_slice(&self.free_list_pages.to_le_bytes());
        body[HELD_COUNT..USER_LEN].copy_from_slice(&self.held_count.to_le_bytes());
        body[USER_LEN..USER].copy_from_slice(&(self.user.len() as u16).to_le_bytes());
        body[USER..USER + self.user.len()].copy_from_slice(&self.user);
    }

    /// Reads a meta record from a verified meta page; `location` names it in errors.
    pub fn decode(page: &Page, location: &str) -> Result<Meta> {
        let body = page.body();
        let bad = |what: String| Error::corruption(what, location.to_string());
        if body.len() < META_BODY_LEN {
            return Err(bad(format!("meta body of {} bytes is too short", body.len())));
        }
        if body[MAGIC..PAGE_SIZE] != META_MAGIC {
            return Err(bad("bad meta magic".into()));
        }
        let version = u32::from_le_bytes(body[VERSION..GENERATION].try_into().expect("4 bytes"));
        let u64_at = |at: usize| u64::from_le_bytes(body[at..at + 8].try_into().expect("8 bytes"));
        let (user_len_at, held_count) = match version {
            META_VERSION => (USER_LEN, u64_at(HELD_COUNT)),
            META_VERSION_1 => (V1_USER_LEN, 0),
            other => return Err(bad(format!("unknown meta format version {other}"))),
        };
        let user_at = user_len_at + 2;
        let user_len = u16::from_le_bytes([body[user_len_at], body[user_len_at + 1]]) as usize;
        if user_len > USER_META_CAPACITY {
            return Err(bad(format!("owner's meta length {user_len} exceeds the capacity")));
        }
        Ok(Meta {
            page_size: u32::from_le_bytes(body[PAGE_SIZE..VERSION].try_into().expect("4 bytes")),
            generation: u64_at(GENERATION),
            page_count: u64_at(PAGE_COUNT),
            free_head: PageId(u64_at(FREE_HEAD)),
            free_count: u64_at(FREE_COUNT),
            free_list_pages: u64_at(FREE_PAGES),
            held_count,
            holds_older: version == META_VERSION,
            user: body[user_at..user_at + user_len].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::{PageFormat, PageSize, PageType};

    fn sample() -> Meta {
        Meta {
            page_size: 4096,
            generation: 7,
            page_count: 40,
            free_head: PageId(9),
            free_count: 5,
            free_list_pages: 1,
            held_count: 3,
            holds_older: true,
            user: b"owner".to_vec(),
        }
    }

    #[test]
    fn round_trips_version_2() {
        let format = PageFormat::plain(PageSize::DEFAULT);
        let mut page = format.new_page(PageType::META, PageId(0));
        sample().encode(&mut page);
        assert_eq!(Meta::decode(&page, "m").unwrap(), sample());
    }

    #[test]
    fn reads_version_1_as_holding_nothing() {
        // Version 1: the owner's length right after the free-list page count.
        let format = PageFormat::plain(PageSize::DEFAULT);
        let mut page = format.new_page(PageType::META, PageId(0));
        let expected = Meta { held_count: 0, holds_older: false, ..sample() };
        expected.encode(&mut page);
        let body = page.body_mut();
        body[VERSION..GENERATION].copy_from_slice(&META_VERSION_1.to_le_bytes());
        let user = expected.user.clone();
        body[HELD_COUNT..].fill(0);
        body[V1_USER_LEN..V1_USER_LEN + 2].copy_from_slice(&(user.len() as u16).to_le_bytes());
        body[V1_USER_LEN + 2..V1_USER_LEN + 2 + user.len()].copy_from_slice(&user);
        assert_eq!(Meta::decode(&page, "m").unwrap(), expected);
        page.body_mut()[VERSION] = 3;
        assert!(Meta::decode(&page, "m").unwrap_err().is_corruption());
    }
}

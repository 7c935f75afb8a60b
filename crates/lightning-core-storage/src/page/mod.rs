//! The page format: fixed-size pages with a checksummed header, optionally sealed with AEAD.
//!
//! Byte layout (specified in `docs/format/page.md`; the constants in [`layout`] are the only
//! description of it in code):
//!
//! ```text
//! 0        8      12  13  14     16        24        32                     page_size
//! +--------+------+---+---+------+---------+---------+--------------------------+
//! |checksum| magic|ver|typ|flags | page id |   lsn   | body                     |
//! +--------+------+---+---+------+---------+---------+--------------------------+
//!  xxh3-64 of bytes [8, page_size)
//! ```
//!
//! A sealed (encrypted) page keeps the same header in the clear and spends 40 bytes of the body
//! on the envelope: a 24-byte nonce right after the header and a 16-byte tag at the very end;
//! between them is the ciphertext of the body. Plain pages do not pay for that room.

mod format;
pub mod layout;

pub use format::{PageFormat, PageSize};

use crate::{Lsn, PageId};

/// What a page holds. Core storage defines the types it uses itself; engines define theirs
/// from [`PageType::FIRST_ENGINE_TYPE`] up.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PageType(pub u8);

impl PageType {
    /// One of the two meta pages of a paged file.
    pub const META: PageType = PageType(1);
    /// A page of the persistent free list.
    pub const FREE_LIST: PageType = PageType(2);
    /// The first value available to engines.
    pub const FIRST_ENGINE_TYPE: u8 = 16;
}

/// One page in memory: always in plaintext, with the header fields decoded.
///
/// Its body is the bytes an owner (page manager, engine) lays out; the header is written by
/// [`PageFormat::encode`] when the page goes to disk.
#[derive(Clone, PartialEq, Eq)]
pub struct Page {
    page_type: PageType,
    id: PageId,
    lsn: Lsn,
    body: Box<[u8]>,
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("type", &self.page_type)
            .field("id", &self.id)
            .field("lsn", &self.lsn)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl Page {
    /// The page's type.
    pub fn page_type(&self) -> PageType {
        self.page_type
    }

    /// The page's number in its file.
    pub fn id(&self) -> PageId {
        self.id
    }

    /// The log position of the last change to this page.
    pub fn lsn(&self) -> Lsn {
        self.lsn
    }

    /// Records the log position of the last change.
    pub fn set_lsn(&mut self, lsn: Lsn) {
        self.lsn = lsn;
    }

    /// Moves the page to another number (copy-on-write relocation).
    pub fn set_id(&mut self, id: PageId) {
        self.id = id;
    }

    /// The body: [`PageFormat::body_len`] bytes for the page's owner to lay out.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body, writable.
    pub fn body_mut(&mut self) -> &mut [u8] {
        &mut self.body
    }
}

//! Byte offsets of the page header: the one description of the layout in code.
//!
//! Each offset is the previous one plus its field's size, so a change cannot leave a gap or an
//! overlap unnoticed. `docs/format/page.md` documents the same table.

/// Offset of the xxh3-64 checksum of bytes `[CHECKSUM_END, page_size)`.
pub const CHECKSUM: usize = 0;
/// End of the checksum field; everything from here on is covered by it.
pub const CHECKSUM_END: usize = CHECKSUM + 8;
/// Offset of the 4-byte magic [`MAGIC`].
pub const MAGIC_OFFSET: usize = CHECKSUM_END;
/// Offset of the format version byte.
pub const VERSION: usize = MAGIC_OFFSET + 4;
/// Offset of the page type byte.
pub const PAGE_TYPE: usize = VERSION + 1;
/// Offset of the 16-bit flags.
pub const FLAGS: usize = PAGE_TYPE + 1;
/// Offset of the 64-bit page id.
pub const PAGE_ID: usize = FLAGS + 2;
/// Offset of the 64-bit LSN.
pub const LSN: usize = PAGE_ID + 8;
/// Length of the header; the body starts here.
pub const HEADER_LEN: usize = LSN + 8;

/// Magic bytes that open every page header.
pub const MAGIC: [u8; 4] = *b"LDBP";
/// The page format version this code writes.
pub const FORMAT_VERSION: u8 = 1;
/// Flag bit: the body is sealed with the AEAD envelope.
pub const FLAG_SEALED: u16 = 1;
/// Every flag bit this version understands; a page with others set is rejected.
pub const KNOWN_FLAGS: u16 = FLAG_SEALED;

/// Bytes of a sealed page spent on the envelope: nonce after the header, tag at the end.
pub const SEAL_OVERHEAD: usize = lightning_security::SEAL_OVERHEAD;
/// Length of the nonce that follows the header of a sealed page.
pub const NONCE_LEN: usize = lightning_security::NONCE_LEN;
/// Length of the tag that ends a sealed page.
pub const TAG_LEN: usize = lightning_security::TAG_LEN;

const _: () = assert!(HEADER_LEN == 32, "the page header is 32 bytes");
const _: () = assert!(NONCE_LEN + TAG_LEN == SEAL_OVERHEAD);

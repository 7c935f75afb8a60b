//! [`PageFormat`]: turning [`Page`]s into the bytes on disk and back, verifying every read.

use std::fmt;

use lightning_security::{AssociatedData, DataKey};
use xxhash_rust::xxh3::xxh3_64;

use super::{Page, PageType, layout as l};
use crate::{Error, FileId, Lsn, PageId, Result};

/// A page size: a power of two from 4 KiB to 64 KiB, fixed when a file is created.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PageSize(u32);

impl PageSize {
    /// The smallest allowed page size, 4 KiB.
    pub const MIN: PageSize = PageSize(4096);
    /// The largest allowed page size, 64 KiB.
    pub const MAX: PageSize = PageSize(65536);
    /// The default, 4 KiB: the usual size of an OS page and of an atomic device write.
    pub const DEFAULT: PageSize = PageSize::MIN;

    /// Validates a page size in bytes.
    pub fn new(bytes: u32) -> Result<PageSize> {
        if bytes.is_power_of_two() && (Self::MIN.0..=Self::MAX.0).contains(&bytes) {
            Ok(PageSize(bytes))
        } else {
            Err(Error::InvalidInput(format!(
                "page size {bytes} is not a power of two between 4096 and 65536"
            )))
        }
    }

    /// Every allowed page size, smallest first.
    pub fn all() -> impl Iterator<Item = PageSize> {
        (12..=16).map(|shift| PageSize(1 << shift))
    }

    /// The size in bytes.
    pub fn bytes(self) -> usize {
        self.0 as usize
    }
}

impl Default for PageSize {
    fn default() -> Self {
        PageSize::DEFAULT
    }
}

/// How pages of one file are encoded: their size and, when encryption is on, the key and the
/// file id that binds each sealed page to its place.
#[derive(Clone)]
pub struct PageFormat {
    size: PageSize,
    sealing: Option<(DataKey, FileId)>,
}

impl fmt::Debug for PageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageFormat")
            .field("size", &self.size)
            .field("encrypted", &self.sealing.is_some())
            .finish()
    }
}

impl PageFormat {
    /// Plain pages of `size` bytes.
    pub fn plain(size: PageSize) -> Self {
        PageFormat { size, sealing: None }
    }

    /// Pages sealed with `key`; `file` goes into every page's associated data, so a page copied
    /// from another file (or another place in this one) fails to open.
    pub fn encrypted(size: PageSize, key: DataKey, file: FileId) -> Self {
        PageFormat { size, sealing: Some((key, file)) }
    }

    /// The same format with another page size (used when opening a file whose size is
    /// recorded in its meta page).
    pub fn with_page_size(&self, size: PageSize) -> Self {
        PageFormat { size, sealing: self.sealing.clone() }
    }

    /// The page size.
    pub fn page_size(&self) -> PageSize {
        self.size
    }

    /// True if pages are sealed.
    pub fn is_encrypted(&self) -> bool {
        self.sealing.is_some()
    }

    /// Bytes of body each page offers its owner.
    pub fn body_len(&self) -> usize {
        let overhead = if self.is_encrypted() { l::SEAL_OVERHEAD } else { 0 };
        self.size.bytes() - l::HEADER_LEN - overhead
    }

    /// A new page with a zeroed body.
    pub fn new_page(&self, page_type: PageType, id: PageId) -> Page {
        Page { page_type, id, lsn: Lsn::ZERO, body: vec![0; self.body_len()].into_boxed_slice() }
    }

    /// The bytes to write to disk for `page`, into `out` (resized to the page size).
    pub fn encode(&self, page: &Page, out: &mut Vec<u8>) -> Result<()> {
        debug_assert_eq!(page.body.len(), self.body_len(), "page body of the wrong size");
        out.clear();
        out.resize(self.size.bytes(), 0);
        out[l::MAGIC_OFFSET..l::VERSION].copy_from_slice(&l::MAGIC);
        out[l::VERSION] = l::FORMAT_VERSION;
        out[l::PAGE_TYPE] = page.page_type.0;
        let flags = if self.is_encrypted() { l::FLAG_SEALED } else { 0 };
        out[l::FLAGS..l::PAGE_ID].copy_from_slice(&flags.to_le_bytes());
        out[l::PAGE_ID..l::LSN].copy_from_slice(&page.id.0.to_le_bytes());
        out[l::LSN..l::HEADER_LEN].copy_from_slice(&page.lsn.0.to_le_bytes());
        match &self.sealing {
            None => out[l::HEADER_LEN..].copy_from_slice(&page.body),
            Some((key, file)) => {
                let aad = associated_data(out, *file, page.id, page.lsn);
                let body_start = l::HEADER_LEN + l::NONCE_LEN;
                let tag_start = out.len() - l::TAG_LEN;
                out[body_start..tag_start].copy_from_slice(&page.body);
                let (nonce, tag) = key.seal_in_place(&mut out[body_start..tag_start], &aad)?;
                out[l::HEADER_LEN..body_start].copy_from_slice(&nonce);
                out[tag_start..].copy_from_slice(&tag);
            }
        }
        let checksum = xxh3_64(&out[l::CHECKSUM_END..]);
        out[l::CHECKSUM..l::CHECKSUM_END].copy_from_slice(&checksum.to_le_bytes());
        Ok(())
    }

    /// Verifies and decodes page `expected` read from `file_name`: checksum, magic, version,
    /// flags, page id, then (for sealed pages) the AEAD tag. Any mismatch is
    /// [`Error::Corruption`] naming the page.
    pub fn decode(&self, mut bytes: Vec<u8>, expected: PageId, file_name: &str) -> Result<Page> {
        let location = || format!("{file_name} page {expected}");
        if bytes.len() != self.size.bytes() {
            return Err(Error::corruption(
                format!("page is {} bytes, expected {}", bytes.len(), self.size.bytes()),
                location(),
            ));
        }
        let stored = read_u64(&bytes, l::CHECKSUM);
        let computed = xxh3_64(&bytes[l::CHECKSUM_END..]);
        if stored != computed {
            let what = if bytes.iter().all(|&b| b == 0) {
                "page is all zeros (never written, or lost)".to_string()
            } else {
                format!("checksum mismatch (stored {stored:#018x}, computed {computed:#018x})")
            };
            return Err(Error::corruption(what, location()));
        }
        if bytes[l::MAGIC_OFFSET..l::VERSION] != l::MAGIC {
            return Err(Error::corruption("bad page magic", location()));
        }
        if bytes[l::VERSION] != l::FORMAT_VERSION {
            return Err(Error::corruption(
                format!("unknown page format version {}", bytes[l::VERSION]),
                location(),
            ));
        }
        let flags = u16::from_le_bytes([bytes[l::FLAGS], bytes[l::FLAGS + 1]]);
        if flags & !l::KNOWN_FLAGS != 0 {
            return Err(Error::corruption(format!("unknown page flags {flags:#x}"), location()));
        }
        let id = PageId(read_u64(&bytes, l::PAGE_ID));
        if id != expected {
            return Err(Error::corruption(
                format!("page claims to be page {id} (misdirected write or read)"),
                location(),
            ));
        }
        let lsn = Lsn(read_u64(&bytes, l::LSN));
        let page_type = PageType(bytes[l::PAGE_TYPE]);
        let sealed = flags & l::FLAG_SEALED != 0;
        let body = match (&self.sealing, sealed) {
            (None, false) => bytes.split_off(l::HEADER_LEN),
            (Some((key, file)), true) => {
                let aad = associated_data(&bytes, *file, id, lsn);
                let body_start = l::HEADER_LEN + l::NONCE_LEN;
                let tag_start = bytes.len() - l::TAG_LEN;
                let nonce: [u8; l::NONCE_LEN] =
                    bytes[l::HEADER_LEN..body_start].try_into().expect("nonce slice length");
                let tag: [u8; l::TAG_LEN] = bytes[tag_start..].try_into().expect("tag length");
                key.open_in_place(&mut bytes[body_start..tag_start], &aad, &nonce, &tag).map_err(
                    |e| Error::corruption(format!("sealed page does not open: {e}"), location()),
                )?;
                bytes.truncate(tag_start);
                bytes.split_off(body_start)
            }
            (None, true) => {
                return Err(Error::InvalidInput(format!(
                    "{} is encrypted: open the database with its key",
                    location()
                )));
            }
            (Some(_), false) => {
                return Err(Error::corruption(
                    "plain page in an encrypted file (downgrade or substitution)",
                    location(),
                ));
            }
        };
        Ok(Page { page_type, id, lsn, body: body.into_boxed_slice() })
    }
}

/// The associated data of a sealed page: where it belongs (file, page), which version (LSN),
/// and the clear header bytes (magic, version, type, flags), so none can be swapped.
fn associated_data(header: &[u8], file: FileId, id: PageId, lsn: Lsn) -> [u8; 32] {
    let mut aad = [0u8; 32];
    let place = AssociatedData { file_id: file.0, block_id: id.0, version: lsn.0 };
    aad[..24].copy_from_slice(&place.to_bytes());
    aad[24..].copy_from_slice(&header[l::MAGIC_OFFSET..l::PAGE_ID]);
    aad
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8-byte field inside the header"))
}

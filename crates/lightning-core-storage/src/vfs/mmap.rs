//! [`MmapFs`]: read-only file access through memory maps (memmap2).
//!
//! Reads copy out of a shared read-only mapping instead of issuing a `pread` per call. Every
//! write operation is refused with [`Error::Unsupported`].
//!
//! Safety: a memory map is undefined behaviour if another process truncates the file while it
//! is mapped (the access faults with `SIGBUS`). Lightning DB holds the database's `LOCK` file for
//! as long as it is open, so no other Lightning DB process writes these files; a user who edits
//! the files by hand while the database is open is outside the contract. Within the process,
//! files are only ever extended while readers hold maps, and a read beyond the mapped length
//! remaps rather than touching memory past the map.

use std::{
    fs::File,
    path::{Path, PathBuf},
    sync::Arc,
};

use memmap2::Mmap;
use parking_lot::RwLock;

use super::{FileHandle, OpenMode, StdFs, Vfs, VfsFile, VfsLock};
use crate::{Error, Result};

/// A read-only file system over memory maps. Naming, listing and locking go to [`StdFs`].
#[derive(Debug, Default, Clone, Copy)]
pub struct MmapFs {
    names: StdFs,
}

impl MmapFs {
    /// A new handle.
    pub fn new() -> Self {
        MmapFs { names: StdFs }
    }
}

#[derive(Debug)]
struct MmapFile {
    file: File,
    path: PathBuf,
    /// `None` while the file is empty (a zero-length map is not allowed).
    map: RwLock<Option<Mmap>>,
}

impl MmapFile {
    fn remap(&self) -> Result<()> {
        let len = self.file.metadata().map_err(|e| Error::io("stat", &self.path, e))?.len();
        let mut guard = self.map.write();
        if len == 0 {
            *guard = None;
            return Ok(());
        }
        // SAFETY: the map is read-only and the database directory's LOCK file keeps every
        // other Lightning DB process from modifying or truncating this file while it is mapped
        // (see the module documentation for the contract).
        #[allow(unsafe_code)]
        let map = unsafe { Mmap::map(&self.file) }.map_err(|e| Error::io("mmap", &self.path, e))?;
        *guard = Some(map);
        Ok(())
    }

    fn refused(&self, op: &str) -> Error {
        Error::Unsupported(format!("{op} on {}: MmapFs is read-only", self.path.display()))
    }
}

impl Vfs for MmapFs {
    fn open(&self, path: &Path, mode: OpenMode) -> Result<FileHandle> {
        if mode.writable() {
            return Err(Error::Unsupported(format!(
                "opening {} for writing: MmapFs is read-only",
                path.display()
            )));
        }
        let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
        let handle = MmapFile { file, path: path.to_path_buf(), map: RwLock::new(None) };
        handle.remap()?;
        Ok(Arc::new(handle))
    }

    fn remove(&self, path: &Path) -> Result<()> {
        Err(Error::Unsupported(format!("removing {}: MmapFs is read-only", path.display())))
    }

    fn rename(&self, from: &Path, _to: &Path) -> Result<()> {
        Err(Error::Unsupported(format!("renaming {}: MmapFs is read-only", from.display())))
    }

    fn list(&self, dir: &Path) -> Result<Vec<String>> {
        self.names.list(dir)
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        self.names.exists(path)
    }

    fn create_dir_all(&self, dir: &Path) -> Result<()> {
        Err(Error::Unsupported(format!("creating {}: MmapFs is read-only", dir.display())))
    }

    fn sync_dir(&self, _dir: &Path) -> Result<()> {
        // Nothing is ever written through this file system, so there is nothing to sync.
        Ok(())
    }

    fn lock(&self, path: &Path) -> Result<Box<dyn VfsLock>> {
        self.names.lock(path)
    }
}

impl VfsFile for MmapFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let end = offset.checked_add(buf.len() as u64).ok_or_else(|| {
            Error::InvalidInput(format!("read at offset {offset} overflows the file offset"))
        })?;
        for attempt in 0..2 {
            {
                let guard = self.map.read();
                let mapped = guard.as_ref().map_or(0, |m| m.len() as u64);
                if end <= mapped
                    && let Some(map) = guard.as_ref()
                {
                    buf.copy_from_slice(&map[offset as usize..end as usize]);
                    return Ok(());
                }
            }
            // The file may have grown since it was mapped: map it again, once.
            if attempt == 0 {
                self.remap()?;
            }
        }
        Err(Error::corruption(
            format!("read of {} bytes at offset {offset} runs past the end", buf.len()),
            self.path.display().to_string(),
        ))
    }

    fn write_all_at(&self, _buf: &[u8], _offset: u64) -> Result<()> {
        Err(self.refused("write"))
    }

    fn sync_data(&self) -> Result<()> {
        Ok(())
    }

    fn sync_all(&self) -> Result<()> {
        Ok(())
    }

    fn len(&self) -> Result<u64> {
        Ok(self.file.metadata().map_err(|e| Error::io("stat", &self.path, e))?.len())
    }

    fn set_len(&self, _len: u64) -> Result<()> {
        Err(self.refused("truncate"))
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

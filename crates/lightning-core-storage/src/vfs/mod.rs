//! The virtual file system: the only way Lightning DB touches files.
//!
//! Every crate reads and writes through [`Vfs`] and [`VfsFile`], as LevelDB does through its
//! `Env` and redb through its `StorageBackend`. That one seam lets tests swap the real disk for
//! [`FaultFs`], which fails chosen operations and simulates power cuts, so crash behaviour is
//! tested for real rather than assumed.
//!
//! Implementations:
//! - [`StdFs`]: the operating system, with positional I/O (`pread`/`pwrite`), `fdatasync`,
//!   directory fsync and an advisory lock file.
//! - [`MmapFs`]: read-only access through memory maps (writes are refused).
//! - [`FaultFs`]: in memory, with fault injection and power cuts.
//!
//! Durability model (what every implementation promises and [`FaultFs`] enforces): bytes written
//! to a file are durable only after [`VfsFile::sync_data`] (or `sync_all`) on that file returns
//! `Ok`; a file's existence under a name (after create, rename or remove) is durable only after
//! [`Vfs::sync_dir`] on its parent directory returns `Ok`.

mod fault;
mod mmap;
mod std_fs;

use std::{
    fmt::Debug,
    path::{Path, PathBuf},
    sync::Arc,
};

pub use fault::{FaultFs, FaultKind, OpKind, PowerCut};
pub use mmap::MmapFs;
pub use std_fs::StdFs;

use crate::Result;

/// How to open a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Open an existing file for reading only.
    Read,
    /// Open an existing file for reading and writing.
    ReadWrite,
    /// Open for reading and writing, creating the file if it does not exist.
    CreateOrOpen,
    /// Create a new file for reading and writing; fail if it exists.
    CreateNew,
}

impl OpenMode {
    /// True if the mode permits writes.
    pub fn writable(self) -> bool {
        !matches!(self, OpenMode::Read)
    }
}

/// A shared handle to an open file.
pub type FileHandle = Arc<dyn VfsFile>;

/// A file system: opening, naming and locking files.
pub trait Vfs: Send + Sync + Debug {
    /// Opens `path` as `mode` says.
    fn open(&self, path: &Path, mode: OpenMode) -> Result<FileHandle>;
    /// Removes a file. Durable after [`Vfs::sync_dir`] on its parent.
    fn remove(&self, path: &Path) -> Result<()>;
    /// Renames `from` to `to`, replacing `to` if it exists. Durable after [`Vfs::sync_dir`].
    fn rename(&self, from: &Path, to: &Path) -> Result<()>;
    /// The names (not full paths) of the entries of a directory, sorted.
    fn list(&self, dir: &Path) -> Result<Vec<String>>;
    /// True if a file or directory exists at `path`.
    fn exists(&self, path: &Path) -> Result<bool>;
    /// Creates a directory and its missing parents (durable after `sync_dir` of each parent).
    fn create_dir_all(&self, dir: &Path) -> Result<()>;
    /// Makes the directory's entries (creates, renames, removes) durable.
    fn sync_dir(&self, dir: &Path) -> Result<()>;
    /// Takes the exclusive lock `path` (creating the file), so that no other process can open
    /// the same database. The lock is released when the returned guard is dropped.
    fn lock(&self, path: &Path) -> Result<Box<dyn VfsLock>>;
}

/// An open file with positional I/O.
pub trait VfsFile: Send + Sync + Debug {
    /// Reads exactly `buf.len()` bytes at `offset`; reading past the end is an error.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<()>;
    /// Writes all of `buf` at `offset`, extending the file if needed.
    fn write_all_at(&self, buf: &[u8], offset: u64) -> Result<()>;
    /// Makes written data (and the file length) durable: `fdatasync`.
    fn sync_data(&self) -> Result<()>;
    /// Makes data and all metadata durable: `fsync`.
    fn sync_all(&self) -> Result<()>;
    /// The current length in bytes.
    fn len(&self) -> Result<u64>;
    /// True if the file is empty.
    fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
    /// Truncates or extends (with zeros) to `len` bytes. Durable after `sync_data`.
    fn set_len(&self, len: u64) -> Result<()>;
    /// The path the file was opened under (for error messages).
    fn path(&self) -> &Path;
}

/// A held lock; dropping it releases the lock.
pub trait VfsLock: Send + Sync + Debug {
    /// The lock file's path.
    fn path(&self) -> &Path;
}

/// Creates `dir` and any missing ancestors, and makes each new entry durable in its parent
/// (outermost first: an entry is durable only once its parent's is). The parent of `dir` is
/// synced even if `dir` existed: an earlier run may have created it and died before the sync.
pub fn create_dir_durably(vfs: &dyn Vfs, dir: &Path) -> Result<()> {
    let mut missing = Vec::new();
    let mut at = dir.to_path_buf();
    // Bounded by the depth of the path.
    for _ in 0..at.components().count() {
        if vfs.exists(&at)? {
            break;
        }
        missing.push(at.clone());
        at = parent_dir(&at);
    }
    vfs.create_dir_all(dir)?;
    if missing.is_empty() {
        missing.push(dir.to_path_buf());
    }
    for created in missing.iter().rev() {
        vfs.sync_dir(&parent_dir(created))?;
    }
    Ok(())
}

/// The parent directory of `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

//! [`StdFs`]: the real file system through `std`, with positional I/O, `fdatasync`, directory
//! fsync and an advisory `flock`-style lock.

use std::{
    fs::{self, File, OpenOptions},
    io::ErrorKind,
    os::unix::fs::FileExt,
    path::{Path, PathBuf},
    sync::Arc,
};

use super::{FileHandle, OpenMode, Vfs, VfsFile, VfsLock};
use crate::{Error, Result};

/// The operating system's file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdFs;

impl StdFs {
    /// A new handle (it holds no state).
    pub fn new() -> Self {
        StdFs
    }
}

#[derive(Debug)]
struct StdFile {
    file: File,
    path: PathBuf,
}

#[derive(Debug)]
struct StdLock {
    // Held only for its lock; released when the file is closed on drop.
    _file: File,
    path: PathBuf,
}

impl VfsLock for StdLock {
    fn path(&self) -> &Path {
        &self.path
    }
}

impl Vfs for StdFs {
    fn open(&self, path: &Path, mode: OpenMode) -> Result<FileHandle> {
        let mut options = OpenOptions::new();
        options.read(true);
        match mode {
            OpenMode::Read => {}
            OpenMode::ReadWrite => {
                options.write(true);
            }
            OpenMode::CreateOrOpen => {
                options.write(true).create(true);
            }
            OpenMode::CreateNew => {
                options.write(true).create_new(true);
            }
        }
        let file = options.open(path).map_err(|e| Error::io("open", path, e))?;
        Ok(Arc::new(StdFile { file, path: path.to_path_buf() }))
    }

    fn remove(&self, path: &Path) -> Result<()> {
        fs::remove_file(path).map_err(|e| Error::io("remove", path, e))
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        fs::rename(from, to).map_err(|e| Error::io("rename", from, e))
    }

    fn list(&self, dir: &Path) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| Error::io("list", dir, e))? {
            let entry = entry.map_err(|e| Error::io("list", dir, e))?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        path.try_exists().map_err(|e| Error::io("stat", path, e))
    }

    fn create_dir_all(&self, dir: &Path) -> Result<()> {
        fs::create_dir_all(dir).map_err(|e| Error::io("create_dir", dir, e))
    }

    fn sync_dir(&self, dir: &Path) -> Result<()> {
        let handle = File::open(dir).map_err(|e| Error::io("open_dir", dir, e))?;
        handle.sync_all().map_err(|e| Error::io("sync_dir", dir, e))
    }

    fn lock(&self, path: &Path) -> Result<Box<dyn VfsLock>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::io("open_lock", path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(Box::new(StdLock { _file: file, path: path.to_path_buf() })),
            Err(fs::TryLockError::WouldBlock) => Err(Error::Locked { path: path.to_path_buf() }),
            Err(fs::TryLockError::Error(e)) => Err(Error::io("lock", path, e)),
        }
    }
}

impl VfsFile for StdFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        self.file.read_exact_at(buf, offset).map_err(|e| {
            if e.kind() == ErrorKind::UnexpectedEof {
                Error::corruption(
                    format!("read of {} bytes at offset {offset} runs past the end", buf.len()),
                    self.path.display().to_string(),
                )
            } else {
                Error::io("read", &self.path, e)
            }
        })
    }

    fn write_all_at(&self, buf: &[u8], offset: u64) -> Result<()> {
        self.file.write_all_at(buf, offset).map_err(|e| Error::io("write", &self.path, e))
    }

    fn sync_data(&self) -> Result<()> {
        self.file.sync_data().map_err(|e| Error::io("sync", &self.path, e))
    }

    fn sync_all(&self) -> Result<()> {
        self.file.sync_all().map_err(|e| Error::io("sync", &self.path, e))
    }

    fn len(&self) -> Result<u64> {
        Ok(self.file.metadata().map_err(|e| Error::io("stat", &self.path, e))?.len())
    }

    fn set_len(&self, len: u64) -> Result<()> {
        self.file.set_len(len).map_err(|e| Error::io("truncate", &self.path, e))
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

//! Helpers shared by the integration tests: opening logs on `FaultFs`, reading them back, a
//! seeded random generator (core-storage's SplitMix64) and a VFS wrapper with slow fsyncs.

#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    thread,
    time::Duration,
};

use lightning_core_storage::vfs::{FaultFs, FileHandle, OpenMode, Vfs, VfsFile, VfsLock};
use lightning_wal::{Lsn, RecoveryMode, Wal, WalOptions};

/// The log directory every FaultFs test uses.
pub const DIR: &str = "/db/wal";

pub fn dir() -> &'static Path {
    Path::new(DIR)
}

/// The path of segment `number` under [`DIR`].
pub fn segment(number: u64) -> PathBuf {
    dir().join(format!("{number:020}.log"))
}

/// Options with small segments, so tests roll often, and a background syncer that never runs
/// on its own during a test (deterministic durability points).
pub fn small(segment_size_bytes: u64) -> WalOptions {
    WalOptions { segment_size_bytes, sync_interval_ms: 3_600_000, ..WalOptions::default() }
}

pub fn with_mode(options: WalOptions, recovery_mode: RecoveryMode) -> WalOptions {
    WalOptions { recovery_mode, ..options }
}

pub fn open(fs: &FaultFs, options: WalOptions) -> lightning_wal::Result<Wal> {
    Wal::open(Arc::new(fs.clone()), dir(), options)
}

/// Every record from `from`, panicking on an error.
pub fn replay(wal: &Wal, from: u64) -> Vec<(u64, Vec<u8>)> {
    wal.replay(Lsn(from))
        .expect("replay starts")
        .map(|r| r.map(|r| (r.lsn.get(), r.payload)).expect("replay yields records"))
        .collect()
}

/// A payload that says which record it is, of a length that varies with `i`.
pub fn payload(i: u64, len: usize) -> Vec<u8> {
    let mut out = format!("record-{i}:").into_bytes();
    out.resize(len.max(out.len()), b'a' + (i % 26) as u8);
    out.truncate(len);
    out
}

/// The shared seeded generator (same sequence as before for a given seed). Not every test
/// binary that includes this module uses it.
#[allow(unused_imports)]
pub use lightning_core_storage::rng::SplitMix64 as Rng;

/// A VFS whose file syncs take `delay`, as a real disk's do, so concurrent committers pile up
/// behind an fsync in flight. Counts the file syncs.
#[derive(Debug)]
pub struct SlowSyncFs {
    pub inner: FaultFs,
    pub delay: Duration,
    pub syncs: Arc<std::sync::atomic::AtomicU64>,
}

#[derive(Debug)]
struct SlowFile {
    inner: FileHandle,
    delay: Duration,
    syncs: Arc<std::sync::atomic::AtomicU64>,
}

impl Vfs for SlowSyncFs {
    fn open(&self, path: &Path, mode: OpenMode) -> lightning_core_storage::Result<FileHandle> {
        let inner = self.inner.open(path, mode)?;
        Ok(Arc::new(SlowFile { inner, delay: self.delay, syncs: Arc::clone(&self.syncs) }))
    }
    fn remove(&self, path: &Path) -> lightning_core_storage::Result<()> {
        self.inner.remove(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> lightning_core_storage::Result<()> {
        self.inner.rename(from, to)
    }
    fn list(&self, dir: &Path) -> lightning_core_storage::Result<Vec<String>> {
        self.inner.list(dir)
    }
    fn exists(&self, path: &Path) -> lightning_core_storage::Result<bool> {
        self.inner.exists(path)
    }
    fn create_dir_all(&self, dir: &Path) -> lightning_core_storage::Result<()> {
        self.inner.create_dir_all(dir)
    }
    fn sync_dir(&self, dir: &Path) -> lightning_core_storage::Result<()> {
        self.inner.sync_dir(dir)
    }
    fn lock(&self, path: &Path) -> lightning_core_storage::Result<Box<dyn VfsLock>> {
        self.inner.lock(path)
    }
}

impl VfsFile for SlowFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> lightning_core_storage::Result<()> {
        self.inner.read_exact_at(buf, offset)
    }
    fn write_all_at(&self, buf: &[u8], offset: u64) -> lightning_core_storage::Result<()> {
        self.inner.write_all_at(buf, offset)
    }
    fn sync_data(&self) -> lightning_core_storage::Result<()> {
        thread::sleep(self.delay);
        self.syncs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.sync_data()
    }
    fn sync_all(&self) -> lightning_core_storage::Result<()> {
        self.sync_data()
    }
    fn len(&self) -> lightning_core_storage::Result<u64> {
        self.inner.len()
    }
    fn set_len(&self, len: u64) -> lightning_core_storage::Result<()> {
        self.inner.set_len(len)
    }
    fn path(&self) -> &Path {
        self.inner.path()
    }
}

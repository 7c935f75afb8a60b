//! [`FaultFs`]: an in-memory file system that fails on command and loses power on command.
//!
//! It keeps two images of everything: what a running process sees, and what would survive a
//! power cut. File bytes reach the durable image only through `sync_data`/`sync_all` on that file;
//! names (create, rename, remove) only through `sync_dir` on their parent directory. A power cut
//! throws away everything else, so a test can prove that a crash at any moment leaves a state
//! the code can recover from.
//!
//! Faults it can inject (see [`FaultKind`]): fail the Nth operation of a kind, once or from then
//! on (`EIO`, as a failed disk would); tear the Nth write at a sector boundary and cut the power
//! in the middle of it; cut the power right after the Nth durability point (a sync, directory
//! sync, rename, create or remove), which is how crash sweeps visit every point of a workload.
//!
//! After an automatic cut the file system is *dead*: every operation fails, as if the process
//! had died with the machine, until [`FaultFs::restart`]. Handles opened before a cut stay dead
//! even after the restart; reopen files as a fresh process would.

use std::{
    collections::{BTreeMap, HashMap},
    io,
    path::{Path, PathBuf},
    sync::Arc,
};

use parking_lot::Mutex;

use super::{FileHandle, OpenMode, Vfs, VfsFile, VfsLock, parent_dir};
use crate::{Error, Result};

mod gate;
mod image;

use gate::OpGate;
use image::{Image, Inode};

/// The size of a device sector: the unit in which [`FaultKind::TearWrite`] tears.
pub const SECTOR_SIZE: usize = 512;

/// The kinds of operation that faults can be aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// Opening or creating a file.
    Open,
    /// Reading from a file.
    Read,
    /// Writing to a file.
    Write,
    /// `sync_data` or `sync_all` on a file.
    Sync,
    /// `sync_dir` on a directory.
    SyncDir,
    /// Renaming a file.
    Rename,
    /// Removing a file.
    Remove,
    /// Changing a file's length.
    SetLen,
    /// Listing a directory, checking existence, creating directories, taking a lock.
    Metadata,
}

/// A fault to inject. Counts start at 1. Operation counts (`FailNth`, `TearWrite`) start when
/// the fault is armed; durability points count from the creation of the file system, so a
/// sweep can arm `CrashAfterPoint { n }` before its workload and number points as
/// [`FaultFs::durability_points`] reported on a dry run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// The `n`-th operation of kind `op` (any kind if `None`) fails with `EIO`; with
    /// `persistent`, so does every later one.
    FailNth {
        /// Which operations count.
        op: Option<OpKind>,
        /// Which one fails first.
        n: u64,
        /// Keep failing after the first failure.
        persistent: bool,
    },
    /// The `n`-th write stops after a whole number of sectors (about half of it, at least one
    /// sector short of the whole) and the power is cut at that moment: every write issued
    /// before it is kept, as a disk that writes in order would keep them.
    TearWrite {
        /// Which write tears.
        n: u64,
    },
    /// The power is cut right after the `n`-th durability point (sync, directory sync, rename,
    /// create, remove) completes; the operation itself reports success.
    CrashAfterPoint {
        /// Which durability point.
        n: u64,
        /// What the cut keeps of unsynced data.
        cut: PowerCut,
    },
    /// The power is cut just before the `n`-th durability point would run: the operation fails
    /// and does nothing, and unsynced writes issued before it are kept as `cut` says. This is
    /// where missing ordering (a meta page written before what it points to is durable) shows.
    CrashBeforePoint {
        /// Which durability point.
        n: u64,
        /// What the cut keeps of unsynced data.
        cut: PowerCut,
    },
}

impl FaultKind {
    /// The crashes a power-cut sweep tries at durability point `n`: just after it with every
    /// unsynced write lost, and just before it with unsynced writes torn, or reordered
    /// (seeded by `n`, so a failing case replays).
    pub fn crashes_at(n: u64) -> [FaultKind; 3] {
        [
            FaultKind::CrashAfterPoint { n, cut: PowerCut::DropUnsynced },
            FaultKind::CrashBeforePoint { n, cut: PowerCut::TearUnsynced { seed: n } },
            FaultKind::CrashBeforePoint { n, cut: PowerCut::ReorderUnsynced { seed: n } },
        ]
    }
}

/// What a power cut keeps of the bytes that were written but not synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerCut {
    /// Nothing: every unsynced write and unsynced name change is lost.
    DropUnsynced,
    /// For each file, a random prefix (seeded) of its unsynced writes, the last of them torn at
    /// a sector boundary. Unsynced name changes are lost.
    TearUnsynced {
        /// Seed for the random choices, so a failing case can be replayed.
        seed: u64,
    },
    /// For each file, a random subset (seeded) of its unsynced writes, in any combination: a
    /// disk that reorders writes between flushes. Unsynced name changes are lost.
    ReorderUnsynced {
        /// Seed for the random choices.
        seed: u64,
    },
}

#[derive(Debug, Clone, Copy)]
struct ArmedFault {
    kind: FaultKind,
    seen: u64,
    fired: bool,
}

#[derive(Debug, Default)]
struct State {
    image: Image,
    faults: Vec<ArmedFault>,
    /// Bumped by every power cut; handles from an older generation are dead.
    generation: u64,
    /// True after an automatic power cut, until `restart`.
    dead: bool,
    operations: u64,
    durability_points: u64,
    power_cuts: u64,
}

/// An in-memory file system with fault injection and power-cut simulation.
///
/// Cloning gives another handle to the same file system.
#[derive(Debug, Clone, Default)]
pub struct FaultFs {
    state: Arc<Mutex<State>>,
    sync_gate: Arc<OpGate>,
    write_gate: Arc<OpGate>,
}

fn eio(op: &'static str, path: &Path, why: &str) -> Error {
    Error::io(op, path, io::Error::other(format!("injected fault: {why}")))
}

impl FaultFs {
    /// An empty file system with no faults armed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Arms a fault. Several may be armed at once.
    pub fn inject(&self, kind: FaultKind) {
        self.state.lock().faults.push(ArmedFault { kind, seen: 0, fired: false });
    }

    /// Convenience: the next `sync_data`/`sync_all` fails, once or from now on.
    pub fn fail_next_sync(&self, persistent: bool) {
        self.inject(FaultKind::FailNth { op: Some(OpKind::Sync), n: 1, persistent });
    }

    /// Holds every later file sync (`sync_data`/`sync_all`) before it runs, until
    /// [`FaultFs::release_syncs`]; other operations go on. For tests of what must not wait for
    /// an fsync.
    pub fn hold_syncs(&self) {
        self.sync_gate.close();
    }

    /// Lets held syncs run, and later ones pass freely.
    pub fn release_syncs(&self) {
        self.sync_gate.open();
    }

    /// Blocks until at least `n` syncs are held by [`FaultFs::hold_syncs`].
    pub fn wait_for_held_syncs(&self, n: u64) {
        self.sync_gate.wait_for_waiting(n);
    }

    /// Holds every later file write (`write_all_at`) before it runs, until
    /// [`FaultFs::release_writes`]; other operations go on. For tests of what must not wait for
    /// a write (a lock not held across I/O).
    pub fn hold_writes(&self) {
        self.write_gate.close();
    }

    /// Lets held writes run, and later ones pass freely.
    pub fn release_writes(&self) {
        self.write_gate.open();
    }

    /// Blocks until at least `n` writes are held by [`FaultFs::hold_writes`].
    pub fn wait_for_held_writes(&self, n: u64) {
        self.write_gate.wait_for_waiting(n);
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.state.lock().faults.clear();
    }

    /// Cuts the power now and restarts: keeps only what `mode` says survives. Every handle
    /// opened before the cut is dead afterwards.
    pub fn power_cut(&self, mode: PowerCut) {
        let mut state = self.state.lock();
        cut(&mut state, mode);
        state.dead = false;
    }

    /// Brings the file system back after an automatic power cut and disarms every fault.
    pub fn restart(&self) {
        let mut state = self.state.lock();
        state.dead = false;
        state.faults.clear();
    }

    /// Ends one run of a crash sweep so that it always ends in a crash: if the armed crash
    /// fired, restarts; if the run finished before reaching it (background threads moved the
    /// durability points), disarms the faults and cuts the power now, keeping only what was
    /// synced. Afterwards the file system is up with no fault armed.
    pub fn finish_with_crash(&self) {
        if !self.is_dead() {
            self.clear_faults();
            self.power_cut(PowerCut::DropUnsynced);
        }
        self.restart();
    }

    /// True if an automatic power cut happened and [`FaultFs::restart`] has not been called.
    pub fn is_dead(&self) -> bool {
        self.state.lock().dead
    }

    /// Operations performed so far (every kind).
    pub fn operations(&self) -> u64 {
        self.state.lock().operations
    }

    /// Durability points passed so far: syncs, directory syncs, renames, creates and removes.
    /// A crash sweep runs the workload once to count them, then once per point with
    /// [`FaultKind::CrashAfterPoint`].
    pub fn durability_points(&self) -> u64 {
        self.state.lock().durability_points
    }

    /// How many power cuts (manual or injected) have happened.
    pub fn power_cuts(&self) -> u64 {
        self.state.lock().power_cuts
    }

    /// The bytes of the file at `path` as a running process would read them (for tests that
    /// inspect or damage files).
    pub fn file_contents(&self, path: &Path) -> Option<Vec<u8>> {
        let state = self.state.lock();
        state.image.inode_of(path).map(|inode| state.image.inodes[&inode].data.clone())
    }

    /// Flips bits of the byte at `offset` in the file at `path`, in both the live and the
    /// durable image, as a decaying disk would. Returns false if there is no such byte.
    pub fn corrupt_byte(&self, path: &Path, offset: u64, xor_mask: u8) -> bool {
        let mut state = self.state.lock();
        let Some(id) = state.image.inode_of(path) else {
            return false;
        };
        let inode = state.image.inodes.get_mut(&id).expect("named inode exists");
        inode.corrupt(offset as usize, xor_mask)
    }

    /// Runs `op` under the lock after fault checks. `point` marks a durability point.
    fn run<T>(
        &self,
        kind: OpKind,
        path: &Path,
        generation: Option<u64>,
        point: bool,
        op: impl FnOnce(&mut State) -> Result<T>,
    ) -> Result<T> {
        let mut guard = self.state.lock();
        let state = &mut *guard;
        if state.dead {
            return Err(eio(op_name(kind), path, "the power was cut (call FaultFs::restart)"));
        }
        if generation.is_some_and(|g| g != state.generation) {
            return Err(eio(op_name(kind), path, "handle opened before a power cut"));
        }
        state.operations += 1;
        if let Some(why) = check_fail(&mut state.faults, kind) {
            return Err(eio(op_name(kind), path, why));
        }
        if point
            && let Some(mode) =
                crash_point_reached(&mut state.faults, state.durability_points + 1, true)
        {
            cut(state, mode);
            return Err(eio(op_name(kind), path, "the power was cut before this operation"));
        }
        let value = op(state)?;
        if point {
            state.durability_points += 1;
            if let Some(mode) =
                crash_point_reached(&mut state.faults, state.durability_points, false)
            {
                cut(state, mode);
            }
        }
        Ok(value)
    }
}

fn op_name(kind: OpKind) -> &'static str {
    match kind {
        OpKind::Open => "open",
        OpKind::Read => "read",
        OpKind::Write => "write",
        OpKind::Sync => "sync",
        OpKind::SyncDir => "sync_dir",
        OpKind::Rename => "rename",
        OpKind::Remove => "remove",
        OpKind::SetLen => "truncate",
        OpKind::Metadata => "metadata",
    }
}

fn check_fail(faults: &mut [ArmedFault], kind: OpKind) -> Option<&'static str> {
    let mut failed = None;
    for fault in faults.iter_mut() {
        if let FaultKind::FailNth { op, n, persistent } = fault.kind {
            if op.is_some_and(|o| o != kind) {
                continue;
            }
            fault.seen += 1;
            if fault.seen == n || (persistent && fault.seen > n) {
                fault.fired = true;
                failed = Some(if persistent { "persistent I/O error" } else { "I/O error" });
            }
        }
    }
    failed
}

/// The cut to make if durability point `point` (counted since the file system was created)
/// is one a crash fault is armed for, `before` or after it runs.
fn crash_point_reached(faults: &mut [ArmedFault], point: u64, before: bool) -> Option<PowerCut> {
    let mut crash = None;
    for fault in faults.iter_mut() {
        let (n, mode) = match (fault.kind, before) {
            (FaultKind::CrashAfterPoint { n, cut }, false) => (n, cut),
            (FaultKind::CrashBeforePoint { n, cut }, true) => (n, cut),
            _ => continue,
        };
        if !fault.fired && point == n {
            fault.fired = true;
            crash = Some(mode);
        }
    }
    crash
}

/// Returns `Some(n_bytes_to_keep)` if this write is the one to tear.
fn tear_point(faults: &mut [ArmedFault], len: usize) -> Option<usize> {
    let mut keep = None;
    for fault in faults.iter_mut() {
        if let FaultKind::TearWrite { n } = fault.kind {
            fault.seen += 1;
            if fault.seen == n {
                fault.fired = true;
                let sectors = len.saturating_sub(1) / SECTOR_SIZE;
                keep = Some(sectors.div_ceil(2) * SECTOR_SIZE);
            }
        }
    }
    keep
}

/// The power cut itself: the image falls back to what survives, handles die, locks go.
fn cut(state: &mut State, mode: PowerCut) {
    state.image.power_cut(mode);
    state.generation += 1;
    state.power_cuts += 1;
    state.dead = true;
}

#[derive(Debug)]
struct FaultFile {
    fs: FaultFs,
    inode: u64,
    generation: u64,
    path: PathBuf,
}

#[derive(Debug)]
struct FaultLock {
    fs: FaultFs,
    path: PathBuf,
    generation: u64,
}

impl VfsLock for FaultLock {
    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FaultLock {
    fn drop(&mut self) {
        let mut state = self.fs.state.lock();
        if state.generation == self.generation {
            state.image.locks.remove(&self.path);
        }
    }
}

impl Vfs for FaultFs {
    fn open(&self, path: &Path, mode: OpenMode) -> Result<FileHandle> {
        let exists = self.state.lock().image.inode_of(path).is_some();
        let creates = !exists && matches!(mode, OpenMode::CreateOrOpen | OpenMode::CreateNew);
        let (inode, generation) = self.run(OpKind::Open, path, None, creates, |state| {
            let inode = match (state.image.inode_of(path), mode) {
                (Some(_), OpenMode::CreateNew) => {
                    return Err(Error::io("open", path, io::ErrorKind::AlreadyExists.into()));
                }
                (Some(inode), _) => inode,
                (None, OpenMode::Read | OpenMode::ReadWrite) => {
                    return Err(Error::io("open", path, io::ErrorKind::NotFound.into()));
                }
                (None, _) => state.image.create(path)?,
            };
            Ok((inode, state.generation))
        })?;
        Ok(Arc::new(FaultFile { fs: self.clone(), inode, generation, path: path.to_path_buf() }))
    }

    fn remove(&self, path: &Path) -> Result<()> {
        self.run(OpKind::Remove, path, None, true, |state| state.image.remove(path))
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<()> {
        self.run(OpKind::Rename, from, None, true, |state| state.image.rename(from, to))
    }

    fn list(&self, dir: &Path) -> Result<Vec<String>> {
        self.run(OpKind::Metadata, dir, None, false, |state| Ok(state.image.list(dir)))
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        self.run(OpKind::Metadata, path, None, false, |state| Ok(state.image.exists(path)))
    }

    fn create_dir_all(&self, dir: &Path) -> Result<()> {
        self.run(OpKind::Metadata, dir, None, false, |state| state.image.create_dir_all(dir))
    }

    fn sync_dir(&self, dir: &Path) -> Result<()> {
        self.run(OpKind::SyncDir, dir, None, true, |state| state.image.sync_dir(dir))
    }

    fn lock(&self, path: &Path) -> Result<Box<dyn VfsLock>> {
        let generation = self.run(OpKind::Metadata, path, None, false, |state| {
            if !state.image.locks.insert(path.to_path_buf()) {
                return Err(Error::Locked { path: path.to_path_buf() });
            }
            if state.image.inode_of(path).is_none() {
                state.image.create(path)?;
            }
            Ok(state.generation)
        })?;
        Ok(Box::new(FaultLock { fs: self.clone(), path: path.to_path_buf(), generation }))
    }
}

impl FaultFile {
    fn with_inode<T>(
        &self,
        kind: OpKind,
        point: bool,
        op: impl FnOnce(&mut Inode) -> Result<T>,
    ) -> Result<T> {
        self.fs.run(kind, &self.path, Some(self.generation), point, |state| {
            let inode = state.image.inodes.get_mut(&self.inode).ok_or_else(|| {
                Error::io("access", &self.path, io::Error::other("file was removed"))
            })?;
            op(inode)
        })
    }
}

impl VfsFile for FaultFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let path = self.path.clone();
        self.with_inode(OpKind::Read, false, |inode| {
            let start = offset as usize;
            match start.checked_add(buf.len()) {
                Some(end) if end <= inode.data.len() => {
                    buf.copy_from_slice(&inode.data[start..end]);
                    Ok(())
                }
                _ => Err(Error::corruption(
                    format!("read of {} bytes at offset {offset} runs past the end", buf.len()),
                    path.display().to_string(),
                )),
            }
        })
    }

    fn write_all_at(&self, buf: &[u8], offset: u64) -> Result<()> {
        self.fs.write_gate.pass();
        let torn = {
            let mut state = self.fs.state.lock();
            if state.dead || state.generation != self.generation {
                None
            } else {
                tear_point(&mut state.faults, buf.len()).map(|keep| (keep, state.generation))
            }
        };
        if let Some((keep, _)) = torn {
            let mut state = self.fs.state.lock();
            if let Some(inode) = state.image.inodes.get_mut(&self.inode) {
                inode.write(offset as usize, &buf[..keep]);
            }
            state.image.persist_all_writes();
            cut(&mut state, PowerCut::DropUnsynced);
            return Err(eio("write", &self.path, "torn write: the power was cut mid-write"));
        }
        self.with_inode(OpKind::Write, false, |inode| {
            inode.write(offset as usize, buf);
            Ok(())
        })
    }

    fn sync_data(&self) -> Result<()> {
        self.fs.sync_gate.pass();
        self.with_inode(OpKind::Sync, true, |inode| {
            inode.sync();
            Ok(())
        })
    }

    fn sync_all(&self) -> Result<()> {
        self.sync_data()
    }

    fn len(&self) -> Result<u64> {
        self.with_inode(OpKind::Metadata, false, |inode| Ok(inode.data.len() as u64))
    }

    fn set_len(&self, len: u64) -> Result<()> {
        self.with_inode(OpKind::SetLen, false, |inode| {
            inode.set_len(len as usize);
            Ok(())
        })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

/// Directory entries by full path: a file's inode, or `None` for a directory.
type Names = BTreeMap<PathBuf, Option<u64>>;

fn children<'a>(
    names: &'a Names,
    dir: &'a Path,
) -> impl Iterator<Item = (&'a PathBuf, &'a Option<u64>)> {
    names.iter().filter(move |(path, _)| parent_dir(path) == dir)
}

/// Used by `image` to keep `HashMap` out of its public surface.
type Inodes = HashMap<u64, Inode>;

//! The two images behind [`super::FaultFs`]: the live one a process sees and the durable one
//! a power cut leaves.

use std::{
    collections::HashSet,
    io,
    path::{Path, PathBuf},
};

use super::{Inodes, Names, PowerCut, SECTOR_SIZE, children};
use crate::{Error, Result, rng::SplitMix64, vfs::parent_dir};

/// A change to a file's bytes not yet made durable.
#[derive(Debug, Clone)]
enum Pending {
    Write { offset: usize, bytes: Vec<u8> },
    SetLen(usize),
}

/// One file's contents, live and durable.
#[derive(Debug, Default)]
pub(super) struct Inode {
    /// What reads see.
    pub(super) data: Vec<u8>,
    /// What survives a power cut.
    durable: Vec<u8>,
    /// Changes since the last sync, in order.
    pending: Vec<Pending>,
}

fn apply(target: &mut Vec<u8>, change: &Pending) {
    match change {
        Pending::Write { offset, bytes } => {
            let end = offset + bytes.len();
            if target.len() < end {
                target.resize(end, 0);
            }
            target[*offset..end].copy_from_slice(bytes);
        }
        Pending::SetLen(len) => target.resize(*len, 0),
    }
}

impl Inode {
    pub(super) fn write(&mut self, offset: usize, bytes: &[u8]) {
        let change = Pending::Write { offset, bytes: bytes.to_vec() };
        apply(&mut self.data, &change);
        self.pending.push(change);
    }

    pub(super) fn set_len(&mut self, len: usize) {
        let change = Pending::SetLen(len);
        apply(&mut self.data, &change);
        self.pending.push(change);
    }

    pub(super) fn sync(&mut self) {
        for change in self.pending.drain(..) {
            apply(&mut self.durable, &change);
        }
        debug_assert_eq!(self.durable, self.data, "after a sync the durable image is the live one");
    }

    pub(super) fn corrupt(&mut self, offset: usize, xor_mask: u8) -> bool {
        if offset >= self.data.len() {
            return false;
        }
        self.data[offset] ^= xor_mask;
        if offset < self.durable.len() {
            self.durable[offset] ^= xor_mask;
        }
        for change in &mut self.pending {
            if let Pending::Write { offset: start, bytes } = change
                && (*start..*start + bytes.len()).contains(&offset)
            {
                bytes[offset - *start] ^= xor_mask;
            }
        }
        true
    }

    /// Keeps what a power cut leaves of this file.
    fn power_cut(&mut self, mode: PowerCut, rng: &mut SplitMix64) {
        let pending = std::mem::take(&mut self.pending);
        if let PowerCut::TearUnsynced { .. } = mode {
            let kept = rng.below(pending.len() as u64 + 1) as usize;
            for (i, change) in pending.iter().take(kept).enumerate() {
                match change {
                    Pending::Write { offset, bytes }
                        if i + 1 == kept && bytes.len() > SECTOR_SIZE =>
                    {
                        let sectors = rng.below((bytes.len() / SECTOR_SIZE) as u64 + 1) as usize;
                        let keep = (sectors * SECTOR_SIZE).min(bytes.len());
                        apply(
                            &mut self.durable,
                            &Pending::Write { offset: *offset, bytes: bytes[..keep].to_vec() },
                        );
                    }
                    change => apply(&mut self.durable, change),
                }
            }
        }
        if let PowerCut::ReorderUnsynced { .. } = mode {
            for change in &pending {
                if rng.below(2) == 0 {
                    apply(&mut self.durable, change);
                }
            }
        }
        self.data = self.durable.clone();
    }
}

/// The whole file system: inodes, names live and durable, locks.
#[derive(Debug, Default)]
pub(super) struct Image {
    pub(super) inodes: Inodes,
    /// Names a running process sees.
    names: Names,
    /// Names that survive a power cut.
    durable_names: Names,
    next_inode: u64,
    pub(super) locks: HashSet<PathBuf>,
}

fn is_root(dir: &Path) -> bool {
    dir == Path::new("/") || dir == Path::new(".") || dir.as_os_str().is_empty()
}

fn not_found(op: &'static str, path: &Path) -> Error {
    Error::io(op, path, io::ErrorKind::NotFound.into())
}

impl Image {
    pub(super) fn inode_of(&self, path: &Path) -> Option<u64> {
        self.names.get(path).copied().flatten()
    }

    fn dir_exists(&self, dir: &Path) -> bool {
        is_root(dir) || matches!(self.names.get(dir), Some(None))
    }

    pub(super) fn exists(&self, path: &Path) -> bool {
        is_root(path) || self.names.contains_key(path)
    }

    pub(super) fn create(&mut self, path: &Path) -> Result<u64> {
        if !self.dir_exists(&parent_dir(path)) {
            return Err(not_found("create", path));
        }
        self.next_inode += 1;
        let inode = self.next_inode;
        self.inodes.insert(inode, Inode::default());
        self.names.insert(path.to_path_buf(), Some(inode));
        Ok(inode)
    }

    pub(super) fn remove(&mut self, path: &Path) -> Result<()> {
        match self.names.get(path) {
            Some(Some(_)) => {
                // The inode lives on: open handles keep working (as after POSIX unlink) and the
                // durable name may still bring it back after a power cut.
                self.names.remove(path);
                Ok(())
            }
            Some(None) => Err(Error::io("remove", path, io::Error::other("is a directory"))),
            None => Err(not_found("remove", path)),
        }
    }

    pub(super) fn rename(&mut self, from: &Path, to: &Path) -> Result<()> {
        let Some(Some(inode)) = self.names.get(from).copied() else {
            return Err(not_found("rename", from));
        };
        if !self.dir_exists(&parent_dir(to)) {
            return Err(not_found("rename", to));
        }
        self.names.remove(from);
        self.names.insert(to.to_path_buf(), Some(inode));
        Ok(())
    }

    pub(super) fn list(&self, dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = children(&self.names, dir)
            .filter_map(|(path, _)| path.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        names.sort();
        names
    }

    pub(super) fn create_dir_all(&mut self, dir: &Path) -> Result<()> {
        if is_root(dir) {
            return Ok(());
        }
        match self.names.get(dir) {
            Some(None) => return Ok(()),
            Some(Some(_)) => {
                return Err(Error::io("create_dir", dir, io::Error::other("a file has this name")));
            }
            None => {}
        }
        self.create_dir_all(&parent_dir(dir))?;
        self.names.insert(dir.to_path_buf(), None);
        Ok(())
    }

    /// Makes the entries directly inside `dir` durable as they are now.
    pub(super) fn sync_dir(&mut self, dir: &Path) -> Result<()> {
        if !self.dir_exists(dir) {
            return Err(not_found("sync_dir", dir));
        }
        let gone: Vec<PathBuf> =
            children(&self.durable_names, dir).map(|(path, _)| path.clone()).collect();
        for path in gone {
            self.durable_names.remove(&path);
        }
        let now: Vec<(PathBuf, Option<u64>)> =
            children(&self.names, dir).map(|(path, entry)| (path.clone(), *entry)).collect();
        self.durable_names.extend(now);
        Ok(())
    }

    /// In a write-in-order tear, everything written before the tearing write reached the disk.
    pub(super) fn persist_all_writes(&mut self) {
        for inode in self.inodes.values_mut() {
            inode.sync();
        }
    }

    pub(super) fn power_cut(&mut self, mode: PowerCut) {
        let seed = match mode {
            PowerCut::TearUnsynced { seed } | PowerCut::ReorderUnsynced { seed } => seed,
            PowerCut::DropUnsynced => 0,
        };
        let mut rng = SplitMix64::new(seed);
        // Names first: an entry survives only if every directory above it survived too.
        let mut names = Names::new();
        for (path, entry) in &self.durable_names {
            let parent = parent_dir(path);
            if is_root(&parent) || matches!(names.get(&parent), Some(None)) {
                names.insert(path.clone(), *entry);
            }
        }
        self.names = names.clone();
        self.durable_names = names;
        self.locks.clear();
        self.collect_garbage();
        let mut ids: Vec<u64> = self.inodes.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(inode) = self.inodes.get_mut(&id) {
                inode.power_cut(mode, &mut rng);
            }
        }
    }

    /// Drops inodes that no name refers to. Only done at a power cut, when every handle dies,
    /// so that a removed file stays readable through handles opened before its removal.
    fn collect_garbage(&mut self) {
        let referenced: HashSet<u64> = self
            .names
            .values()
            .chain(self.durable_names.values())
            .filter_map(|entry| *entry)
            .collect();
        self.inodes.retain(|id, _| referenced.contains(id));
    }
}

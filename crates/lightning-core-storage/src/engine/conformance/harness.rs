//! [`DirHarness`]: the [`EngineHarness`] of an engine that keeps its files in a directory —
//! each engine the suite creates gets a directory of its own, and a reopen drops the engine
//! (after a power cut, if asked) and opens the directory again.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
};

use super::EngineHarness;
use crate::{
    engine::StorageEngine,
    vfs::{FaultFs, PowerCut, StdFs, Vfs},
};

/// Why the harness opens an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// A fresh engine in a new, empty directory.
    Create,
    /// The engine a dropped (or power-cut) one left in its directory.
    Reopen,
}

/// Engines on one file system, engine `n` in `<root>/<n>`, opened by `open`.
pub struct DirHarness<E, F> {
    vfs: Arc<dyn Vfs>,
    /// Set for a harness over [`FaultFs`] that cuts the power before every reopen.
    power_cut: Option<FaultFs>,
    root: PathBuf,
    dir: PathBuf,
    engines: u32,
    open: F,
    _engine: std::marker::PhantomData<fn() -> E>,
}

impl<E, F> fmt::Debug for DirHarness<E, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirHarness")
            .field("root", &self.root)
            .field("engines", &self.engines)
            .field("power_cut", &self.power_cut.is_some())
            .finish_non_exhaustive()
    }
}

impl<E, F> DirHarness<E, F>
where
    E: StorageEngine,
    F: FnMut(Arc<dyn Vfs>, &Path, Opening) -> E,
{
    /// Engines under `/db` on `fs`; with `power_cut`, every reopen first drops what was not
    /// synced ([`PowerCut::DropUnsynced`]).
    pub fn fault_fs(fs: &FaultFs, power_cut: bool, open: F) -> Self {
        DirHarness {
            vfs: Arc::new(fs.clone()),
            power_cut: power_cut.then(|| fs.clone()),
            root: PathBuf::from("/db"),
            dir: PathBuf::new(),
            engines: 0,
            open,
            _engine: std::marker::PhantomData,
        }
    }

    /// Engines under `root` (which must exist) on the real file system.
    pub fn std_fs(root: &Path, open: F) -> Self {
        DirHarness {
            vfs: Arc::new(StdFs::new()),
            power_cut: None,
            root: root.to_path_buf(),
            dir: PathBuf::new(),
            engines: 0,
            open,
            _engine: std::marker::PhantomData,
        }
    }
}

impl<E, F> EngineHarness for DirHarness<E, F>
where
    E: StorageEngine,
    F: FnMut(Arc<dyn Vfs>, &Path, Opening) -> E,
{
    type Engine = E;

    fn create(&mut self) -> E {
        self.engines += 1;
        self.dir = self.root.join(self.engines.to_string());
        (self.open)(Arc::clone(&self.vfs), &self.dir, Opening::Create)
    }

    fn reopen(&mut self, engine: E) -> E {
        drop(engine);
        if let Some(fs) = &self.power_cut {
            fs.power_cut(PowerCut::DropUnsynced);
        }
        (self.open)(Arc::clone(&self.vfs), &self.dir, Opening::Reopen)
    }
}

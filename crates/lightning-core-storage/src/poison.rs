//! [`Poison`]: the one way a component stops accepting writes after a failure it cannot undo.
//!
//! After a failed fsync the kernel may have dropped the dirty pages, so retrying and reporting
//! success would be a lie; after a panic half-way through an update, memory and disk may
//! disagree. Either way the component *poisons* itself: every later write fails with
//! [`Error::Poisoned`] naming the first failure, until the database is reopened and recovery
//! settles what is durable.
//!
//! - **First reason kept.** Later failures are usually consequences of the first; the first is
//!   what a user needs to see.
//! - **Shared.** `Clone` shares the state: a component and its background threads hold clones
//!   of one poison.
//! - **Poisons on panic.** A [`PoisonGuard`] poisons when it is dropped while its thread is
//!   panicking, so a panic past a point of no return (or in a background worker) cannot leave
//!   the component accepting writes.
//! - **Cheap to check.** [`Poison::is_poisoned`] is one atomic load: write paths check it on
//!   every operation.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use parking_lot::Mutex;

use crate::{Error, Result};

#[derive(Default)]
struct PoisonState {
    poisoned: AtomicBool,
    /// The first reason; set once, under the lock, before `poisoned` becomes true.
    reason: Mutex<Option<String>>,
}

/// A shared "no more writes" flag with the reason of the first failure. See the module docs.
#[derive(Clone, Default)]
pub struct Poison {
    state: Arc<PoisonState>,
}

impl fmt::Debug for Poison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poison").field("reason", &self.reason()).finish()
    }
}

impl Poison {
    /// A poison that has not been set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Poisons with `reason`, unless already poisoned (the first reason is kept). Returns true
    /// if this call poisoned it.
    pub fn poison(&self, reason: impl fmt::Display) -> bool {
        let mut slot = self.state.reason.lock();
        if slot.is_some() {
            return false;
        }
        *slot = Some(reason.to_string());
        self.state.poisoned.store(true, Ordering::Release);
        true
    }

    /// True once poisoned.
    pub fn is_poisoned(&self) -> bool {
        self.state.poisoned.load(Ordering::Acquire)
    }

    /// The first reason, if poisoned.
    pub fn reason(&self) -> Option<String> {
        if !self.is_poisoned() {
            return None;
        }
        self.state.reason.lock().clone()
    }

    /// `Err(Error::Poisoned)` with the first reason once poisoned; `Ok` before.
    pub fn check(&self) -> Result<()> {
        match self.reason() {
            Some(reason) => Err(Error::Poisoned { reason }),
            None => Ok(()),
        }
    }

    /// Poisons with `error`'s message and returns `error`: `return Err(poison.fail(e))`.
    pub fn fail<E: fmt::Display>(&self, error: E) -> E {
        self.poison(&error);
        error
    }

    /// A guard that poisons this with "`what` panicked" if it is dropped while its thread is
    /// panicking. Hold it across a section that must not be left half done, or for the whole
    /// life of a background thread.
    pub fn guard(&self, what: &'static str) -> PoisonGuard {
        PoisonGuard { poison: self.clone(), what }
    }
}

/// Poisons its [`Poison`] when dropped during a panic (see [`Poison::guard`]).
#[derive(Debug)]
#[must_use = "the guard poisons only while it is held"]
pub struct PoisonGuard {
    poison: Poison,
    what: &'static str,
}

impl Drop for PoisonGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.poison.poison(format!("{} panicked", self.what));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use super::*;

    #[test]
    fn the_first_reason_is_kept_and_clones_share_it() {
        let poison = Poison::new();
        let shared = poison.clone();
        assert!(!poison.is_poisoned());
        assert_eq!(poison.reason(), None);
        assert!(poison.check().is_ok());
        assert!(shared.poison("fsync failed"));
        assert!(!poison.poison("a later consequence"), "already poisoned");
        assert!(poison.is_poisoned());
        assert_eq!(poison.reason().as_deref(), Some("fsync failed"));
        match poison.check() {
            Err(Error::Poisoned { reason }) => assert_eq!(reason, "fsync failed"),
            other => panic!("{other:?}"),
        }
        assert_eq!(Poison::new().fail("boom"), "boom");
    }

    #[test]
    fn a_guard_poisons_when_its_thread_panics_and_not_otherwise() {
        let poison = Poison::new();
        {
            let _guard = poison.guard("a clean section");
        }
        assert!(!poison.is_poisoned(), "dropped normally");
        let in_thread = poison.clone();
        let outcome = std::thread::spawn(move || {
            let _guard = in_thread.guard("the background worker");
            panic!("worker bug");
        })
        .join();
        assert!(outcome.is_err());
        assert_eq!(poison.reason().as_deref(), Some("the background worker panicked"));

        let other = Poison::new();
        let caught = catch_unwind(AssertUnwindSafe(|| {
            let _guard = other.guard("apply");
            panic!("half done");
        }));
        assert!(caught.is_err());
        assert!(other.check().is_err());
    }
}

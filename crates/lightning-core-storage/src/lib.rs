//! # lightning-core-storage
//!
//! The storage foundation every other Lightning DB crate stands on:
//!
//! - [`Error`] and [`Result`], shared by the layers above;
//! - newtype ids ([`PageId`], [`Lsn`], [`Timestamp`], [`FileId`]);
//! - the [`vfs`] through which *all* file access goes: [`vfs::StdFs`] (pread/pwrite, fdatasync,
//!   directory fsync, `LOCK` file), [`vfs::MmapFs`] (read-only mmap) and [`vfs::FaultFs`]
//!   (fault injection and simulated power cuts, for tests in every crate);
//! - the [`page`] format (fixed-size pages with a checksummed header) and the [`page_manager`]
//!   (allocation, a persistent free list, two alternating meta pages);
//! - the compression [`codec`]s behind one trait, with a self-describing block header;
//! - the [`engine`] trait both storage engines implement, with its conformance suite;
//! - [`Poison`], the one "no more writes after a failure" flag every component uses (first
//!   reason kept, poisons on panic).
//!
//! **Walls:** depends only on `lightning-security`. It knows nothing of B+Trees, LSM trees,
//! logs or transactions: the engine trait is traits and plain data only.

#![deny(unsafe_code)]

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub mod codec;
pub mod engine;
mod error;
mod ids;
mod log_capture;
pub mod page;
pub mod page_manager;
mod poison;
pub mod rng;
pub mod vfs;

pub use error::{Error, Result};
pub use ids::{FileId, Lsn, PageId, Timestamp};
pub use log_capture::LogCapture;
pub use poison::{Poison, PoisonGuard};

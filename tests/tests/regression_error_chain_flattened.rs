//! The facade's `Error` used to flatten every lower error into a string: the `source()` chain
//! and the `io::ErrorKind` were lost, and a caller could not tell a full disk from a missing
//! file. Now an I/O failure is `Error::Io` whose chain ends at the operating system's
//! `io::Error`; damage on disk stays `Corruption` with its location; a write after a failed
//! fsync is `Poisoned`.

use std::{error::Error as _, io, path::Path, sync::Arc, time::Duration};

mod common;

use common::ENGINES;
use lightning_db::{
    Config, Database, Engine, Error,
    vfs::{FaultFs, Vfs},
};

const DIR: &str = "/db";

fn config(engine: Engine) -> Config {
    Config::default().engine(engine).checkpoint_interval(Duration::from_secs(3600))
}

fn open_on(fs: &FaultFs, engine: Engine) -> lightning_db::Result<Database> {
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    Database::open_with_vfs(vfs, Path::new(DIR), config(engine))
}

/// The `io::Error` at the end of `error`'s source chain.
fn io_error_in_chain(error: &Error) -> Option<&io::Error> {
    let mut next = error.source();
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return Some(io);
        }
        next = e.source();
    }
    None
}

#[test]
fn an_injected_fsync_failure_reaches_the_user_with_its_io_error_and_then_poisons() {
    for &engine in ENGINES {
        let fs = FaultFs::new();
        let db = open_on(&fs, engine).unwrap();
        db.put("before", "ok").unwrap();
        fs.fail_next_sync(false);
        let error = db.put("k", "v").expect_err("the commit's fsync failed");
        assert!(matches!(error, Error::Io { .. }), "{error:?}");
        assert_eq!(error.io_error_kind(), Some(io::ErrorKind::Other), "{error:?}");
        let io = io_error_in_chain(&error).expect("the chain ends at the io::Error");
        assert!(io.to_string().contains("injected fault"), "{io}");
        assert!(error.to_string().contains("sync"), "the message names the operation: {error}");

        let after = db.put("k2", "v2").expect_err("no write after a failed fsync");
        assert!(matches!(after, Error::Poisoned(_)), "{after:?}");
        assert_eq!(db.get("before").unwrap().as_deref(), Some(&b"ok"[..]), "reads still work");
    }
}

#[test]
fn close_after_a_failed_fsync_says_poisoned_instead_of_ok() {
    for &engine in ENGINES {
        let fs = FaultFs::new();
        let db = open_on(&fs, engine).unwrap();
        fs.fail_next_sync(false);
        assert!(db.put("k", "v").is_err());
        let closed = db.close();
        assert!(
            matches!(closed, Err(Error::Poisoned(_))),
            "close must not claim durability: {closed:?}"
        );
        let db = open_on(&fs, engine).expect("the database closed and reopens");
        db.put("after", "reopen").unwrap();
        db.close().unwrap();
    }
}

#[test]
fn an_operating_system_error_keeps_its_kind() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let error = Database::open(file.join("db"), Config::default()).expect_err("under a file");
    assert!(matches!(error, Error::Io { .. }), "{error:?}");
    assert_eq!(error.io_error_kind(), Some(io::ErrorKind::NotADirectory), "{error:?}");
    assert!(io_error_in_chain(&error).is_some(), "{error:?}");
}

/// B+Tree only: it damages the B+Tree's pages by their layout (the LSM's damage tests are in
/// crates/lightning-lsm/tests).
#[test]
fn damage_on_disk_stays_corruption_with_its_location() {
    let fs = FaultFs::new();
    let db = open_on(&fs, Engine::BTree).unwrap();
    for i in 0..2000 {
        db.put(format!("key{i:05}"), [i as u8; 100]).unwrap();
    }
    db.close().unwrap();
    let file = Path::new(DIR).join("btree").join("btree.ldb");
    let page = 16 * 1024;
    let len = fs.file_contents(&file).unwrap().len() as u64;
    let mut corruptions = 0;
    for number in 2..len / page {
        let offset = number * page + 100;
        assert!(fs.corrupt_byte(&file, offset, 0x01));
        let result = open_on(&fs, Engine::BTree).and_then(|db| {
            let read = db.iter()?.try_for_each(|kv| kv.map(drop));
            db.close()?;
            read
        });
        if let Err(error) = result {
            let Error::Corruption { location, .. } = &error else {
                panic!("page {number}: damage must be Corruption, got {error:?}");
            };
            assert_eq!(*location, format!("{} page {number}", file.display()), "{error}");
            assert_eq!(error.io_error_kind(), None);
            corruptions += 1;
        }
        assert!(fs.corrupt_byte(&file, offset, 0x01), "restored");
    }
    assert!(corruptions > 0, "a damaged page of the tree was read");
}

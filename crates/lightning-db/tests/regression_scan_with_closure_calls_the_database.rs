//! Regression: `Snapshot::scan_with` ran its closure under the B+Tree's read lock, so a closure
//! that wrote to the database waited for itself, and one that read while another thread
//! waited to write deadlocked against the (writer-preferring) lock. The closure now runs with
//! no engine lock held. A watchdog turns a deadlock into a failure instead of a hang.

use std::{ops::ControlFlow, sync::mpsc, thread, time::Duration};

use lightning_db::{Config, Database};

/// How long a test body may take before it counts as deadlocked (generous: debug builds on a
/// loaded machine; a deadlock never finishes at all).
const WATCHDOG: Duration = Duration::from_secs(60);

/// Runs `body` on its own thread and fails if it does not finish before the watchdog.
fn without_deadlock(what: &str, body: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let handle = thread::spawn(move || {
        body();
        let _ = done.send(());
    });
    match finished.recv_timeout(WATCHDOG) {
        Ok(()) => handle.join().expect("the test body panicked"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(handle.join().expect_err("the body ended without a result"))
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("deadlock: {what} did not finish"),
    }
}

fn filled_db(dir: &std::path::Path) -> Database {
    let db = Database::open(dir, Config::default()).unwrap();
    for i in 0..300u32 {
        db.put(format!("key{i:05}"), format!("value{i}")).unwrap();
    }
    db
}

#[test]
fn a_scan_with_closure_that_writes_to_the_database_does_not_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let db = filled_db(dir.path());
    without_deadlock("a put from inside scan_with", move || {
        let snapshot = db.snapshot().unwrap();
        let mut seen = 0;
        snapshot
            .scan_with("key".."kez", |key, _| {
                db.put([b"copy-".as_slice(), key].concat(), b"x").unwrap();
                seen += 1;
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(seen, 300, "the snapshot sees the keys before the scan, not its writes");
        assert_eq!(db.get("copy-key00299").unwrap().as_deref(), Some(&b"x"[..]));
    });
}

#[test]
fn a_scan_with_closure_that_reads_while_a_writer_waits_does_not_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let db = filled_db(dir.path());
    without_deadlock("a get from inside scan_with with a writer waiting", move || {
        let snapshot = db.snapshot().unwrap();
        let mut writer = None;
        let mut read = 0;
        snapshot
            .scan_with("key".."kez", |key, value| {
                if writer.is_none() {
                    let db = db.clone();
                    writer = Some(thread::spawn(move || db.put("written-meanwhile", "w")));
                    // Give the writer time to queue for the tree's write lock (with the old
                    // code the scan held the read lock here; the get below then waited
                    // behind the writer, which waited for the scan).
                    thread::sleep(Duration::from_millis(200));
                }
                assert_eq!(db.get(key).unwrap().as_deref(), Some(value));
                read += 1;
                ControlFlow::Continue(())
            })
            .unwrap();
        writer.expect("the closure ran").join().unwrap().unwrap();
        assert_eq!(read, 300);
        assert_eq!(db.get("written-meanwhile").unwrap().as_deref(), Some(&b"w"[..]));
    });
}

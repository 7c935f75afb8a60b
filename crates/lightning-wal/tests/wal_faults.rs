//! Failures of the disk: a failed fsync or write poisons the log with its reason, nothing is
//! retried, and a reopen recovers exactly what was durable.

mod common;

use std::{
    sync::{Arc, Barrier},
    thread,
    time::{Duration, Instant},
};

use common::{SlowSyncFs, dir, open, payload, replay, small};
use lightning_core_storage::vfs::{FaultFs, FaultKind, OpKind, PowerCut};
use lightning_wal::{Durability, Error, Lsn, Wal, WalOptions};

fn fail(fs: &FaultFs, op: OpKind) {
    fs.inject(FaultKind::FailNth { op: Some(op), n: 1, persistent: false });
}

#[test]
fn a_failed_fsync_poisons_the_log_and_says_why() {
    let fs = FaultFs::new();
    let wal = open(&fs, small(4096)).unwrap();
    wal.append(b"safe", Durability::Immediate).unwrap();
    fs.fail_next_sync(false);
    let err = wal.append(b"doomed", Durability::Immediate).unwrap_err();
    assert!(matches!(err, Error::Storage(_)), "the append that hit it gets the I/O error: {err}");
    assert!(err.to_string().contains("injected fault"), "{err}");
    let reason = wal.poisoned().expect("the log is poisoned");
    assert!(reason.contains("sync") && reason.contains("injected fault"), "{reason}");
    // The disk works again, but the log never retries and pretends.
    for attempt in [
        wal.append(b"later", Durability::Immediate).map(|_| ()),
        wal.append(b"later", Durability::None).map(|_| ()),
        wal.sync().map(|_| ()),
        wal.truncate_before(Lsn(1)),
    ] {
        match attempt.unwrap_err() {
            Error::Poisoned { reason: r } => assert_eq!(r, reason, "the original reason is kept"),
            other => panic!("expected Poisoned, got {other}"),
        }
    }
    assert_eq!(wal.durable_lsn(), Lsn(1), "the failed sync made nothing durable");
    assert_eq!(
        replay(&wal, 1),
        vec![(1, b"safe".to_vec())],
        "reads still work, up to the last round that succeeded"
    );
    assert!(wal.close().unwrap_err().is_poisoned());
    fs.power_cut(PowerCut::DropUnsynced);
    let wal = open(&fs, small(4096)).unwrap();
    assert_eq!(replay(&wal, 1), vec![(1, b"safe".to_vec())]);
    assert_eq!(wal.append(b"again", Durability::Immediate).unwrap(), Lsn(2));
}

#[test]
fn eio_on_write_surfaces_and_poisons() {
    let fs = FaultFs::new();
    let wal = open(&fs, small(4096)).unwrap();
    wal.append(b"one", Durability::Eventual).unwrap();
    fail(&fs, OpKind::Write);
    let err = wal.append(b"two", Durability::Eventual).unwrap_err();
    assert!(err.to_string().contains("write") && err.to_string().contains("I/O error"), "{err}");
    assert!(wal.append(b"three", Durability::Eventual).unwrap_err().is_poisoned());
    drop(wal);
    let wal = open(&fs, small(4096)).unwrap();
    assert_eq!(replay(&wal, 1), vec![(1, b"one".to_vec())]);
}

#[test]
fn a_failure_while_creating_a_segment_poisons() {
    for op in [OpKind::Open, OpKind::SyncDir, OpKind::Sync] {
        let fs = FaultFs::new();
        let wal = open(&fs, small(600)).unwrap();
        wal.append(&payload(1, 300), Durability::Immediate).unwrap();
        fail(&fs, op);
        let err = wal.append(&payload(2, 300), Durability::Immediate).unwrap_err();
        assert!(matches!(err, Error::Storage(_)), "{op:?}: {err}");
        assert!(wal.append(b"x", Durability::None).unwrap_err().is_poisoned(), "{op:?}");
        drop(wal);
        fs.power_cut(PowerCut::DropUnsynced);
        let wal = open(&fs, small(600)).unwrap();
        let records = replay(&wal, 1);
        assert_eq!(records[0], (1, payload(1, 300)), "{op:?}");
        assert!(records.len() <= 2, "{op:?}");
    }
}

#[test]
fn a_failed_background_sync_poisons_the_log() {
    let fs = FaultFs::new();
    let options =
        WalOptions { sync_interval_ms: 5, segment_size_bytes: 4096, ..Default::default() };
    let wal = open(&fs, options).unwrap();
    wal.append(b"first", Durability::Immediate).unwrap();
    fs.fail_next_sync(false);
    wal.append(b"eventual", Durability::Eventual).unwrap();
    let started = Instant::now();
    while wal.poisoned().is_none() {
        assert!(started.elapsed() < Duration::from_secs(5), "the syncer never synced");
        thread::sleep(Duration::from_millis(2));
    }
    let err = wal.append(b"next", Durability::Eventual).unwrap_err();
    assert!(err.to_string().contains("injected fault"), "{err}");
    assert_eq!(wal.durable_lsn(), Lsn(1));
}

#[test]
fn followers_of_a_failed_group_commit_are_not_acknowledged() {
    let fs = FaultFs::new();
    let syncs = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let slow = SlowSyncFs { inner: fs.clone(), delay: Duration::from_millis(5), syncs };
    let wal = Arc::new(Wal::open(Arc::new(slow), dir(), small(1 << 20)).unwrap());
    fs.inject(FaultKind::FailNth { op: Some(OpKind::Sync), n: 3, persistent: true });
    let barrier = Arc::new(Barrier::new(6));
    let handles: Vec<_> = (0..6u64)
        .map(|t| {
            let wal = Arc::clone(&wal);
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                let mut acked = Vec::new();
                for i in 0..20 {
                    match wal.append(&payload(t * 100 + i, 50), Durability::Immediate) {
                        Ok(lsn) => acked.push(lsn),
                        Err(e) => {
                            assert!(e.is_poisoned() || e.to_string().contains("injected"), "{e}");
                            break;
                        }
                    }
                }
                acked
            })
        })
        .collect();
    let acked: Vec<Lsn> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let durable = wal.durable_lsn();
    assert!(acked.iter().all(|lsn| *lsn <= durable), "every ack was covered by a good fsync");
    assert!(wal.poisoned().is_some());
    drop(wal);
    fs.clear_faults();
    fs.power_cut(PowerCut::DropUnsynced);
    let wal = open(&fs, small(1 << 20)).unwrap();
    let recovered = replay(&wal, 1);
    assert!(recovered.len() as u64 >= durable.get());
    assert!(acked.iter().all(|lsn| recovered.iter().any(|r| r.0 == lsn.get())));
}

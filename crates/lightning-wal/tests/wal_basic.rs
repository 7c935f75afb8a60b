//! The log through its public API: appends and replay, LSNs across reopen, empty and
//! oversized records, batches, replay from the middle, stats and metrics.

mod common;

use common::{dir, open, payload, replay, segment, small};
use lightning_core_storage::vfs::{FaultFs, OpenMode, StdFs, Vfs};
use lightning_wal::{Durability, Error, Lsn, MAX_RECORD_LEN, Wal, WalOptions};
use std::sync::Arc;

#[test]
fn appends_replay_in_order_and_lsns_start_at_one() {
    let fs = FaultFs::new();
    let wal = open(&fs, WalOptions::default()).unwrap();
    assert_eq!(wal.last_lsn(), Lsn(0));
    assert_eq!(replay(&wal, 1), vec![]);
    for i in 1..=20u64 {
        assert_eq!(
            wal.append(&payload(i, 10 + i as usize), Durability::Immediate).unwrap(),
            Lsn(i)
        );
    }
    assert_eq!(wal.last_lsn(), Lsn(20));
    assert_eq!(wal.durable_lsn(), Lsn(20));
    let records = replay(&wal, 1);
    assert_eq!(records.len(), 20);
    for (i, (lsn, bytes)) in records.iter().enumerate() {
        assert_eq!(*lsn, i as u64 + 1);
        assert_eq!(*bytes, payload(*lsn, 10 + *lsn as usize));
    }
    assert_eq!(replay(&wal, 15).first().map(|r| r.0), Some(15));
    assert_eq!(replay(&wal, 21), vec![]);
    wal.close().unwrap();
}

#[test]
fn reopen_continues_lsns_and_keeps_every_record() {
    let fs = FaultFs::new();
    let mut expected = Vec::new();
    for round in 0..4u64 {
        let wal = open(&fs, small(1024)).unwrap();
        assert_eq!(wal.last_lsn(), Lsn(round * 30));
        assert_eq!(wal.durable_lsn(), Lsn(round * 30), "what is recovered is durable");
        for i in 0..30u64 {
            let lsn = round * 30 + i + 1;
            let bytes = payload(lsn, (lsn as usize * 7) % 300);
            assert_eq!(wal.append(&bytes, Durability::Eventual).unwrap(), Lsn(lsn));
            expected.push((lsn, bytes));
        }
        assert_eq!(replay(&wal, 1), expected);
        wal.close().unwrap();
    }
    let wal = open(&fs, small(1024)).unwrap();
    assert_eq!(replay(&wal, 1), expected);
    assert!(wal.stats().segments > 5, "small segments rolled: {:?}", wal.stats());
}

#[test]
fn empty_records_and_records_larger_than_a_segment() {
    let fs = FaultFs::new();
    let wal = open(&fs, small(1024)).unwrap();
    let big = payload(2, 5000);
    let huge = payload(4, 20_000);
    let records: Vec<Vec<u8>> = vec![vec![], big.clone(), vec![], huge.clone(), b"x".to_vec()];
    for (i, record) in records.iter().enumerate() {
        assert_eq!(wal.append(record, Durability::Immediate).unwrap(), Lsn(i as u64 + 1));
    }
    let read: Vec<Vec<u8>> = replay(&wal, 1).into_iter().map(|r| r.1).collect();
    assert_eq!(read, records);
    assert_eq!(replay(&wal, 4)[0].1, huge, "replay from a record that spans segments");
    assert_eq!(replay(&wal, 5)[0].1, b"x");
    assert!(wal.stats().active_segment > 20, "the 20 KB record spans many 1 KB segments");
    wal.close().unwrap();
    let wal = open(&fs, small(1024)).unwrap();
    let read: Vec<Vec<u8>> = replay(&wal, 1).into_iter().map(|r| r.1).collect();
    assert_eq!(read, records, "and after reopening");
    let segment_bytes = fs.file_contents(&segment(2)).unwrap();
    assert!(segment_bytes.len() <= 1024, "no segment grows past its size");
}

#[test]
fn append_batch_gives_consecutive_lsns() {
    let fs = FaultFs::new();
    let wal = open(&fs, WalOptions::default()).unwrap();
    wal.append(b"first", Durability::Immediate).unwrap();
    let last = wal.append_batch(&[b"a", b"bb", b"", b"dddd"], Durability::Immediate).unwrap();
    assert_eq!(last, Lsn(5));
    assert_eq!(wal.append_batch(&[], Durability::Immediate).unwrap(), Lsn(5));
    let payloads: Vec<Vec<u8>> = replay(&wal, 2).into_iter().map(|r| r.1).collect();
    assert_eq!(payloads, vec![b"a".to_vec(), b"bb".to_vec(), vec![], b"dddd".to_vec()]);
}

#[test]
fn replay_on_an_open_log_sees_buffered_records() {
    let fs = FaultFs::new();
    let wal = open(&fs, WalOptions::default()).unwrap();
    wal.append(b"one", Durability::None).unwrap();
    wal.append(b"two", Durability::None).unwrap();
    assert_eq!(wal.durable_lsn(), Lsn(0));
    assert!(wal.stats().buffered_bytes > 0);
    let records = replay(&wal, 1);
    assert_eq!(records, vec![(1, b"one".to_vec()), (2, b"two".to_vec())]);
    assert_eq!(wal.stats().buffered_bytes, 0, "replay wrote the buffer out");
    assert_eq!(wal.durable_lsn(), Lsn(0), "but did not sync it");
    assert_eq!(wal.sync().unwrap(), Lsn(2));
}

#[test]
fn replay_is_a_snapshot_while_appends_continue() {
    let fs = FaultFs::new();
    let wal = open(&fs, small(2048)).unwrap();
    for i in 1..=50 {
        wal.append(&payload(i, 100), Durability::Eventual).unwrap();
    }
    let iter = wal.replay(Lsn(1)).unwrap();
    for i in 51..=100 {
        wal.append(&payload(i, 100), Durability::Eventual).unwrap();
    }
    let seen: Vec<u64> = iter.map(|r| r.unwrap().lsn.get()).collect();
    assert_eq!(seen, (1..=50).collect::<Vec<_>>());
}

#[test]
fn oversized_records_and_bad_options_are_refused() {
    let fs = FaultFs::new();
    let err =
        open(&fs, WalOptions { segment_size_bytes: 10, ..WalOptions::default() }).unwrap_err();
    assert!(matches!(err, Error::InvalidOptions(_)), "{err}");
    let wal = open(&fs, WalOptions::default()).unwrap();
    let too_big = vec![0u8; MAX_RECORD_LEN + 1];
    let err = wal.append(&too_big, Durability::None).unwrap_err();
    assert!(matches!(err, Error::RecordTooLarge), "{err}");
    assert_eq!(wal.last_lsn(), Lsn(0), "nothing was appended");
    assert!(wal.poisoned().is_none(), "a refused record does not poison the log");
    assert_eq!(wal.append(b"ok", Durability::Immediate).unwrap(), Lsn(1));
}

#[test]
fn segment_files_are_numbered_and_other_files_ignored() {
    let fs = FaultFs::new();
    let wal = open(&fs, small(600)).unwrap();
    for i in 1..=30 {
        wal.append(&payload(i, 60), Durability::Eventual).unwrap();
    }
    wal.close().unwrap();
    let names = fs.list(dir()).unwrap();
    assert!(names.len() > 3);
    assert!(names.iter().all(|n| n.len() == 24 && n.ends_with(".log")), "{names:?}");
    let stray = fs.open(&dir().join("NOTES.txt"), OpenMode::CreateNew).unwrap();
    stray.write_all_at(b"not a segment", 0).unwrap();
    let wal = open(&fs, small(600)).unwrap();
    assert_eq!(replay(&wal, 1).len(), 30);
}

#[test]
fn stats_and_metrics_count_what_happened() {
    use metrics_util_free::Capture;
    let capture = Capture::default();
    let fs = FaultFs::new();
    let stats = metrics::with_local_recorder(&capture, || {
        let wal = open(&fs, small(1024)).unwrap();
        for i in 1..=40 {
            wal.append(&payload(i, 100), Durability::Immediate).unwrap();
        }
        wal.append(b"lazy", Durability::None).unwrap();
        wal.stats()
    });
    assert_eq!(stats.records_appended, 41);
    assert_eq!(stats.syncs, 40);
    assert_eq!(stats.last_lsn, Lsn(41));
    assert_eq!(stats.durable_lsn, Lsn(40));
    assert!(stats.buffered_bytes >= 4 + 24);
    assert!(stats.bytes_written >= 40 * (100 + 24));
    assert!(stats.segments_created >= 4, "{stats:?}");
    assert_eq!(stats.segments, stats.segments_created + 1, "plus the first one");
    assert_eq!(capture.counter(lightning_wal::METRIC_RECORDS_APPENDED), 41);
    assert_eq!(capture.counter(lightning_wal::METRIC_SYNCS), 40);
    assert_eq!(capture.counter(lightning_wal::METRIC_BYTES_WRITTEN), stats.bytes_written);
    assert_eq!(capture.histogram_count(lightning_wal::METRIC_SYNC_SECONDS), 40);
    assert_eq!(capture.histogram_count(lightning_wal::METRIC_GROUP_SIZE), 40);
}

#[test]
fn works_on_real_files() {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("db").join("wal");
    let wal = Wal::open(Arc::new(StdFs::new()), &path, small(4096)).unwrap();
    for i in 1..=100 {
        wal.append(&payload(i, 150), Durability::Immediate).unwrap();
    }
    wal.close().unwrap();
    let wal = Wal::open(Arc::new(StdFs::new()), &path, small(4096)).unwrap();
    let records = replay(&wal, 1);
    assert_eq!(records.len(), 100);
    assert_eq!(records[99], (100, payload(100, 150)));
}

/// A minimal in-test recorder (the `metrics` facade only, no exporter crate needed).
mod metrics_util_free {
    use std::{
        collections::HashMap,
        sync::{
            Arc, Mutex,
            atomic::{AtomicU64, Ordering},
        },
    };

    use metrics::{
        Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
        SharedString, Unit,
    };

    #[derive(Debug, Default)]
    struct Cell(AtomicU64);

    impl CounterFn for Cell {
        fn increment(&self, value: u64) {
            self.0.fetch_add(value, Ordering::SeqCst);
        }
        fn absolute(&self, value: u64) {
            self.0.store(value, Ordering::SeqCst);
        }
    }

    impl HistogramFn for Cell {
        fn record(&self, _value: f64) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Records counter totals and histogram sample counts by metric name.
    #[derive(Debug, Default)]
    pub struct Capture {
        counters: Mutex<HashMap<String, Arc<Cell>>>,
        histograms: Mutex<HashMap<String, Arc<Cell>>>,
    }

    impl Capture {
        pub fn counter(&self, name: &str) -> u64 {
            self.counters.lock().unwrap().get(name).map_or(0, |c| c.0.load(Ordering::SeqCst))
        }
        pub fn histogram_count(&self, name: &str) -> u64 {
            self.histograms.lock().unwrap().get(name).map_or(0, |c| c.0.load(Ordering::SeqCst))
        }
    }

    impl Recorder for Capture {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            let mut map = self.counters.lock().unwrap();
            Counter::from_arc(Arc::clone(map.entry(key.name().to_owned()).or_default()))
        }
        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::noop()
        }
        fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
            let mut map = self.histograms.lock().unwrap();
            Histogram::from_arc(Arc::clone(map.entry(key.name().to_owned()).or_default()))
        }
    }
}

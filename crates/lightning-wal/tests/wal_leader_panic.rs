//! A panic inside a leader's round (here: the installed `metrics` recorder, which is user code,
//! panics when the round records its fsync) poisons the log instead of leaving the round's
//! followers parked forever. Its own test binary: the recorder is process-wide.

mod common;

use std::{
    sync::{Arc, Barrier, mpsc},
    thread,
    time::Duration,
};

use common::{open, payload, small};
use lightning_core_storage::vfs::FaultFs;
use lightning_wal::Durability;
use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};

/// A recorder whose histograms panic on their first record.
struct PanickingHistograms;

struct Panics;

impl HistogramFn for Panics {
    fn record(&self, _value: f64) {
        panic!("the metrics recorder failed");
    }
}

impl Recorder for PanickingHistograms {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::noop()
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Panics))
    }
}

#[test]
fn a_panicking_round_poisons_the_log_and_releases_every_waiter() {
    let fs = FaultFs::new();
    let wal = Arc::new(open(&fs, small(1 << 20)).unwrap());
    wal.append(b"before the recorder", Durability::Immediate).unwrap();
    metrics::set_global_recorder(PanickingHistograms).expect("no recorder installed yet");
    let barrier = Arc::new(Barrier::new(8));
    let (done, finished) = mpsc::channel();
    for t in 0..8u64 {
        let (wal, barrier, done) = (Arc::clone(&wal), Arc::clone(&barrier), done.clone());
        thread::spawn(move || {
            barrier.wait();
            let result = wal.append(&payload(t, 32), Durability::Immediate);
            done.send(result.map_err(|e| e.to_string())).unwrap();
        });
    }
    for _ in 0..8 {
        let result = finished
            .recv_timeout(Duration::from_secs(30))
            .expect("every committer returns: none is left parked behind the failed round");
        let error = result.expect_err("no commit is acknowledged by a round that panicked");
        assert!(error.contains("panicked"), "{error}");
    }
    assert!(wal.poisoned().is_some_and(|reason| reason.contains("leader panicked")));
}

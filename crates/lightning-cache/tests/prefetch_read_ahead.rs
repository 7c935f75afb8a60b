//! Read-ahead on the background thread: a sequential stream loads its window ahead of the
//! reader, cancelling (or dropping) a stream stops its outstanding pages, a full queue drops
//! jobs instead of blocking, a panicking loader does not kill the worker, and pages read
//! ahead through `get_or_load` are cache hits for the reader.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use lightning_cache::{ArcCache, CacheConfig, PrefetchConfig, Prefetcher, PrefetcherStats};

const TIMEOUT: Duration = Duration::from_secs(30);

fn config(window_pages: u32) -> PrefetchConfig {
    PrefetchConfig { window_pages, ..PrefetchConfig::default() }
}

fn wait_for_stats(
    prefetcher: &Prefetcher,
    done: impl Fn(&PrefetcherStats) -> bool,
) -> PrefetcherStats {
    let start = Instant::now();
    loop {
        let stats = prefetcher.stats();
        if done(&stats) {
            return stats;
        }
        assert!(start.elapsed() < TIMEOUT, "prefetcher stuck: {stats:?}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// A loader that reports each page and then blocks until released once per page.
fn gated_loader() -> (impl Fn(u64) + Send + Sync + 'static, Receiver<u64>, Sender<()>) {
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, release_rx) = (Mutex::new(started_tx), Mutex::new(release_rx));
    let loader = move |page| {
        started_tx.lock().unwrap().send(page).unwrap();
        release_rx.lock().unwrap().recv_timeout(TIMEOUT).expect("released");
    };
    (loader, started_rx, release_tx)
}

#[test]
fn a_sequential_stream_reads_its_window_ahead() {
    let prefetcher = Prefetcher::new(8).unwrap();
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let mut stream =
        prefetcher.stream(config(8), move |page| tx.lock().unwrap().send(page).unwrap()).unwrap();
    assert_eq!(stream.access(40), None);
    assert_eq!(stream.access(41), None);
    let queued = stream.access(42).expect("pattern confirmed");
    assert_eq!((queued.first_page, queued.count), (43, 8));
    let loaded: Vec<u64> = (0..8).map(|_| rx.recv_timeout(TIMEOUT).unwrap()).collect();
    assert_eq!(loaded, (43..=50).collect::<Vec<_>>());
    let s = wait_for_stats(&prefetcher, |s| s.pages_loaded == 8);
    assert_eq!((s.jobs_queued, s.jobs_dropped, s.pages_cancelled), (1, 0, 0));
}

#[test]
fn dropping_a_stream_cancels_its_outstanding_pages() {
    let prefetcher = Prefetcher::new(8).unwrap();
    let (loader, started, release) = gated_loader();
    let mut stream = prefetcher.stream(config(8), loader).unwrap();
    for page in 0..3 {
        stream.access(page);
    }
    assert_eq!(started.recv_timeout(TIMEOUT).unwrap(), 3, "the first page is being read");
    drop(stream);
    release.send(()).unwrap();
    let s = wait_for_stats(&prefetcher, |s| s.pages_loaded + s.pages_cancelled == 8);
    assert_eq!((s.pages_loaded, s.pages_cancelled), (1, 7), "only the page in progress was read");
    assert!(started.try_recv().is_err(), "no page started after the cancel");
}

#[test]
fn a_cancel_handle_stops_a_stream_from_elsewhere() {
    let prefetcher = Prefetcher::new(8).unwrap();
    let (loader, started, release) = gated_loader();
    let mut stream = prefetcher.stream(config(4), loader).unwrap();
    let handle = stream.cancel_handle();
    for page in [10, 20, 30] {
        stream.access(page);
    }
    assert_eq!(started.recv_timeout(TIMEOUT).unwrap(), 40);
    thread::spawn(move || handle.cancel()).join().unwrap();
    release.send(()).unwrap();
    let s = wait_for_stats(&prefetcher, |s| s.pages_loaded + s.pages_cancelled == 4);
    assert_eq!((s.pages_loaded, s.pages_cancelled), (1, 3));
    assert_eq!(stream.access(40), None, "a cancelled stream queues nothing more");
}

#[test]
fn a_full_queue_drops_jobs_instead_of_blocking_the_reader() {
    let prefetcher = Prefetcher::new(1).unwrap();
    let (loader, started, release) = gated_loader();
    let loader = Arc::new(loader);
    let mut streams: Vec<_> = (0..3)
        .map(|_| {
            let loader = loader.clone();
            prefetcher.stream(config(1), move |page| loader(page)).unwrap()
        })
        .collect();
    for page in 0..3 {
        streams[0].access(page); // job 1: the worker takes it and blocks
    }
    started.recv_timeout(TIMEOUT).unwrap();
    for stream in &mut streams[1..] {
        for page in 0..3 {
            stream.access(page); // job 2 waits in the queue; job 3 finds it full
        }
    }
    let s = prefetcher.stats();
    assert_eq!((s.jobs_queued, s.jobs_dropped), (2, 1));
    release.send(()).unwrap();
    release.send(()).unwrap();
    wait_for_stats(&prefetcher, |s| s.pages_loaded == 2);
    drop(streams);
    drop(prefetcher); // joins the worker
}

#[test]
fn a_panicking_loader_skips_its_job_and_the_worker_lives_on() {
    let prefetcher = Prefetcher::new(4).unwrap();
    let mut bad =
        prefetcher.stream(config(4), |page| assert_ne!(page, 4, "page 4 is corrupt")).unwrap();
    for page in 0..3 {
        bad.access(page);
    }
    let s = wait_for_stats(&prefetcher, |s| s.loader_panics == 1 && s.pages_cancelled == 3);
    assert_eq!(s.pages_loaded, 1, "page 3 loaded, page 4 panicked, 5 and 6 skipped");
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let mut good =
        prefetcher.stream(config(2), move |page| tx.lock().unwrap().send(page).unwrap()).unwrap();
    for page in [7, 8, 9] {
        good.access(page);
    }
    let pages: Vec<u64> = (0..2).map(|_| rx.recv_timeout(TIMEOUT).unwrap()).collect();
    assert_eq!(pages, [10, 11]);
}

#[test]
fn pages_read_ahead_into_the_cache_are_hits_for_the_reader() {
    let cache: Arc<ArcCache<(u64, u64), Vec<u8>>> =
        Arc::new(ArcCache::new(CacheConfig::new(1 << 20)).unwrap());
    let read_page = |page: u64| Ok::<_, String>((vec![page as u8; 512], 512));
    let prefetcher = Prefetcher::new(4).unwrap();
    let file = 12;
    let mut stream = {
        let cache = cache.clone();
        prefetcher
            .stream(config(16), move |page| {
                drop(cache.get_or_load(&(file, page), || read_page(page)))
            })
            .unwrap()
    };
    for page in 0..3 {
        cache.get_or_load(&(file, page), || read_page(page)).unwrap();
        stream.access(page);
    }
    wait_for_stats(&prefetcher, |s| s.pages_loaded == 16);
    let before = cache.stats().total;
    for page in 3..19 {
        let value = cache.get_or_load(&(file, page), || read_page(page)).unwrap();
        assert_eq!(value[0], page as u8);
    }
    let after = cache.stats().total;
    assert_eq!(after.hits - before.hits, 16, "every page the reader wanted was read ahead");
    assert_eq!(after.loads, 19, "no page was read twice");
}

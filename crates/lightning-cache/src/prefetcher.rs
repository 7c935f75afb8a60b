//! Read-ahead on one small background thread, bounded and cancellable.
//!
//! A [`Prefetcher`] owns a worker thread and a bounded job queue. Each reader (a range
//! iterator) opens a [`PrefetchStream`] with its own pattern detector and its own loader
//! (typically a `get_or_load` of the page into the cache, errors ignored: read-ahead is
//! advisory). When the detector asks for pages, the stream queues a job; if the queue is full
//! the job is dropped and counted, never waited for. Dropping the stream, or calling
//! [`CancelHandle::cancel`] on it, cancels its outstanding work: the worker checks the flag
//! before every page, so at most the page being loaded at that moment is still read.
//! Dropping the `Prefetcher` cancels everything queued and joins the worker.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use parking_lot::Mutex;

use crate::{CacheError, PrefetchConfig, ReadAhead, StreamDetector};

/// The loader a stream reads ahead with: called with a page number on the worker thread.
pub type PageLoader = Arc<dyn Fn(u64) + Send + Sync>;

/// A flag that cancels the outstanding read-ahead of one stream.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle(Arc<AtomicBool>);

impl CancelHandle {
    /// A handle not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels: pages not yet started are skipped.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Counters of a [`Prefetcher`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrefetcherStats {
    /// Read-ahead jobs queued.
    pub jobs_queued: u64,
    /// Jobs dropped because the queue was full or the prefetcher was shutting down.
    pub jobs_dropped: u64,
    /// Pages the loaders were called for.
    pub pages_loaded: u64,
    /// Pages skipped because their job was cancelled (or a loader panicked).
    pub pages_cancelled: u64,
    /// Loader calls that panicked (the panic is caught; the job's other pages are skipped).
    pub loader_panics: u64,
}

#[derive(Debug, Default)]
struct Counters {
    jobs_queued: AtomicU64,
    jobs_dropped: AtomicU64,
    pages_loaded: AtomicU64,
    pages_cancelled: AtomicU64,
    loader_panics: AtomicU64,
}

struct Job {
    read_ahead: ReadAhead,
    cancel: CancelHandle,
    loader: PageLoader,
}

struct Shared {
    /// `None` once the prefetcher is dropped. REQUIRES: a leaf lock.
    sender: Mutex<Option<SyncSender<Job>>>,
    shutdown: AtomicBool,
    counters: Counters,
}

impl Shared {
    fn submit(&self, job: Job) -> bool {
        let sent = match self.sender.lock().as_ref() {
            Some(sender) => match sender.try_send(job) {
                Ok(()) => true,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
            },
            None => false,
        };
        let counter = if sent { &self.counters.jobs_queued } else { &self.counters.jobs_dropped };
        counter.fetch_add(1, Ordering::Relaxed);
        sent
    }
}

/// A background read-ahead worker with a bounded queue.
pub struct Prefetcher {
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
}

impl fmt::Debug for Prefetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prefetcher").field("stats", &self.stats()).finish_non_exhaustive()
    }
}

impl Prefetcher {
    /// Starts the worker thread with room for `queue_depth` waiting jobs.
    pub fn new(queue_depth: usize) -> Result<Self, CacheError> {
        if queue_depth == 0 {
            return Err(CacheError::Zero { what: "queue_depth" });
        }
        let (sender, receiver) = sync_channel(queue_depth);
        let shared = Arc::new(Shared {
            sender: Mutex::new(Some(sender)),
            shutdown: AtomicBool::new(false),
            counters: Counters::default(),
        });
        let worker_shared = Arc::clone(&shared);
        let worker = std::thread::Builder::new()
            .name("lightning-prefetch".to_owned())
            .spawn(move || run_worker(&receiver, &worker_shared))
            .map_err(CacheError::SpawnWorker)?;
        Ok(Self { shared, worker: Some(worker) })
    }

    /// Opens a stream that detects its own access pattern and reads ahead with `loader`.
    pub fn stream(
        &self,
        config: PrefetchConfig,
        loader: impl Fn(u64) + Send + Sync + 'static,
    ) -> Result<PrefetchStream, CacheError> {
        config.validate()?;
        Ok(PrefetchStream {
            detector: StreamDetector::new(config),
            cancel: CancelHandle::new(),
            loader: Arc::new(loader),
            shared: Arc::clone(&self.shared),
        })
    }

    /// Queues `read_ahead` (from a [`PatternDetector`](crate::PatternDetector) the caller
    /// runs itself) under `cancel`; returns false if it was dropped.
    pub fn submit(&self, read_ahead: ReadAhead, cancel: &CancelHandle, loader: PageLoader) -> bool {
        self.shared.submit(Job { read_ahead, cancel: cancel.clone(), loader })
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> PrefetcherStats {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        PrefetcherStats {
            jobs_queued: get(&c.jobs_queued),
            jobs_dropped: get(&c.jobs_dropped),
            pages_loaded: get(&c.pages_loaded),
            pages_cancelled: get(&c.pages_cancelled),
            loader_panics: get(&c.loader_panics),
        }
    }
}

impl Drop for Prefetcher {
    /// Cancels the queued work and joins the worker. REQUIRES: loaders return.
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        drop(self.shared.sender.lock().take());
        if let Some(worker) = self.worker.take() {
            // The worker catches loader panics, so it can only have ended normally.
            let joined = worker.join();
            debug_assert!(joined.is_ok(), "the prefetch worker panicked");
        }
    }
}

fn run_worker(receiver: &Receiver<Job>, shared: &Shared) {
    let c = &shared.counters;
    while let Ok(job) = receiver.recv() {
        let total = u64::from(job.read_ahead.count);
        let mut done = 0;
        for page in job.read_ahead.pages() {
            if job.cancel.is_cancelled() || shared.shutdown.load(Ordering::Acquire) {
                break;
            }
            if catch_unwind(AssertUnwindSafe(|| (job.loader)(page))).is_err() {
                c.loader_panics.fetch_add(1, Ordering::Relaxed);
                break;
            }
            done += 1;
            c.pages_loaded.fetch_add(1, Ordering::Relaxed);
        }
        c.pages_cancelled.fetch_add(total - done, Ordering::Relaxed);
    }
}

/// One reader's read-ahead: a pattern detector, a loader and a cancel flag. Dropping it
/// cancels its outstanding read-ahead.
pub struct PrefetchStream {
    detector: StreamDetector,
    cancel: CancelHandle,
    loader: PageLoader,
    shared: Arc<Shared>,
}

impl fmt::Debug for PrefetchStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrefetchStream")
            .field("detector", &self.detector)
            .field("cancelled", &self.cancel.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl PrefetchStream {
    /// Records that the reader read `page`; if that establishes or continues a pattern,
    /// queues the read-ahead and returns it. Returns `None` when nothing is due, when the
    /// stream is cancelled, or when the queue dropped the job (the detector still counts
    /// those pages as asked for: read-ahead is advisory).
    pub fn access(&mut self, page: u64) -> Option<ReadAhead> {
        if self.cancel.is_cancelled() {
            return None;
        }
        let read_ahead = self.detector.record(page)?;
        let job = Job { read_ahead, cancel: self.cancel.clone(), loader: Arc::clone(&self.loader) };
        self.shared.submit(job).then_some(read_ahead)
    }

    /// A handle that cancels this stream from elsewhere.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// Cancels the outstanding read-ahead and any later one.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

impl Drop for PrefetchStream {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

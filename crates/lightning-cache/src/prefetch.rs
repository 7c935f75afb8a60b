//! Access-pattern detection for read-ahead: sequential and strided page access per stream.
//!
//! A stream is one file, or one range iterator over a file. Its [`StreamDetector`] watches the
//! page numbers it reads: once the same stride (the difference between consecutive pages,
//! 1 for a forward scan, -1 for a reverse scan, `k` for every k-th page) has been seen
//! `min_confirmations` times in a row, it asks for the next `window_pages` pages along the
//! stride. It then asks again only when the reader has consumed half of what was asked for,
//! so that a steady scan yields one request per half window rather than one per page. Any
//! other stride resets the detector. Nothing here does I/O: the answer is a [`ReadAhead`]
//! range for the caller, or for a [`Prefetcher`](crate::Prefetcher), to schedule.
//!
//! Bounds: a read-ahead has at most `window_pages` pages; strides beyond `max_stride_pages`
//! count as random access; a [`PatternDetector`] tracks at most `max_streams` streams,
//! forgetting the least recently used. Page arithmetic never overflows: ranges stop at page
//! 0 and at `u64::MAX`.

use std::collections::HashMap;

use crate::CacheError;

/// Identifies an access stream: a file, or one iterator over a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(pub u64);

/// Tuning of the pattern detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefetchConfig {
    /// Consecutive equal strides needed before reading ahead (2: pages 10, 11, 12 trigger).
    pub min_confirmations: u32,
    /// Pages to keep read ahead of the reader.
    pub window_pages: u32,
    /// The largest stride (in pages, either direction) taken as a pattern.
    pub max_stride_pages: u64,
    /// The most streams a [`PatternDetector`] tracks.
    pub max_streams: usize,
}

impl Default for PrefetchConfig {
    fn default() -> Self {
        Self { min_confirmations: 2, window_pages: 16, max_stride_pages: 64, max_streams: 256 }
    }
}

impl PrefetchConfig {
    /// Checks that every field is at least 1.
    pub fn validate(&self) -> Result<(), CacheError> {
        let fields = [
            ("min_confirmations", u64::from(self.min_confirmations)),
            ("window_pages", u64::from(self.window_pages)),
            ("max_stride_pages", self.max_stride_pages),
            ("max_streams", self.max_streams as u64),
        ];
        match fields.iter().find(|(_, v)| *v == 0) {
            Some((what, _)) => Err(CacheError::Zero { what }),
            None => Ok(()),
        }
    }
}

/// Pages to read ahead: `count` pages starting at `first_page`, `stride` apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadAhead {
    /// The first page to read.
    pub first_page: u64,
    /// Distance between consecutive pages (negative for a reverse scan; never 0).
    pub stride: i64,
    /// Number of pages (at least 1, at most the window).
    pub count: u32,
}

impl ReadAhead {
    /// The pages, in the order the reader will want them.
    pub fn pages(&self) -> impl Iterator<Item = u64> + '_ {
        let (first, stride) = (i128::from(self.first_page), i128::from(self.stride));
        // The detector only builds ranges that stay within 0..=u64::MAX.
        (0..i128::from(self.count)).filter_map(move |k| u64::try_from(first + stride * k).ok())
    }
}

/// The pattern state of one stream.
#[derive(Debug, Clone)]
pub struct StreamDetector {
    config: PrefetchConfig,
    last_page: Option<u64>,
    stride: i64,
    /// Consecutive accesses at `stride`.
    run: u32,
    /// The furthest page already asked for along the current stride.
    issued_until: Option<u64>,
}

impl StreamDetector {
    /// A detector that has seen nothing. REQUIRES: `config` passes [`PrefetchConfig::validate`].
    pub fn new(config: PrefetchConfig) -> Self {
        debug_assert!(config.validate().is_ok(), "invalid prefetch config {config:?}");
        Self { config, last_page: None, stride: 0, run: 0, issued_until: None }
    }

    /// Records a read of `page`; returns the pages to read ahead, if any.
    pub fn record(&mut self, page: u64) -> Option<ReadAhead> {
        let last = self.last_page.replace(page)?;
        let delta = i128::from(page) - i128::from(last);
        if delta == 0 {
            return None; // The same page again says nothing about the pattern.
        }
        let delta = match i64::try_from(delta) {
            Ok(d) if d.unsigned_abs() <= self.config.max_stride_pages => d,
            _ => {
                self.reset_pattern();
                return None;
            }
        };
        if delta == self.stride {
            self.run = self.run.saturating_add(1);
        } else {
            self.reset_pattern();
            self.stride = delta;
            self.run = 1;
        }
        if self.run < self.config.min_confirmations {
            return None;
        }
        self.plan(page)
    }

    /// The read-ahead due at `page` on an established stride, topping the window up once
    /// at most half of it is left ahead of the reader.
    fn plan(&mut self, page: u64) -> Option<ReadAhead> {
        let (x, s, window) =
            (i128::from(page), i128::from(self.stride), i128::from(self.config.window_pages));
        // Pages already asked for that are still ahead of the reader.
        let ahead =
            self.issued_until.map(|u| (i128::from(u) - x) / s).filter(|&k| k > 0).unwrap_or(0);
        if ahead > window / 2 {
            return None;
        }
        // The furthest k with page + s*k inside 0..=u64::MAX.
        let room = if s > 0 { (i128::from(u64::MAX) - x) / s } else { x / -s };
        let (first_k, last_k) = (ahead + 1, window.min(room));
        if first_k > last_k {
            return None;
        }
        let last_page = u64::try_from(x + s * last_k).ok()?;
        let first_page = u64::try_from(x + s * first_k).ok()?;
        self.issued_until = Some(last_page);
        let count = u32::try_from(last_k - first_k + 1).ok()?;
        debug_assert!(count >= 1 && count <= self.config.window_pages);
        Some(ReadAhead { first_page, stride: self.stride, count })
    }

    fn reset_pattern(&mut self) {
        self.stride = 0;
        self.run = 0;
        self.issued_until = None;
    }
}

/// Pattern detectors for many streams, at most `max_streams` of them (least recently used
/// forgotten first).
#[derive(Debug)]
pub struct PatternDetector {
    config: PrefetchConfig,
    streams: HashMap<StreamId, (StreamDetector, u64)>,
    clock: u64,
}

impl PatternDetector {
    /// An empty detector.
    pub fn new(config: PrefetchConfig) -> Result<Self, CacheError> {
        config.validate()?;
        Ok(Self { config, streams: HashMap::new(), clock: 0 })
    }

    /// Records a read of `page` by `stream`; returns the pages to read ahead, if any.
    pub fn record(&mut self, stream: StreamId, page: u64) -> Option<ReadAhead> {
        self.clock += 1;
        if !self.streams.contains_key(&stream) && self.streams.len() >= self.config.max_streams {
            // O(max_streams), only when a new stream arrives at a full table.
            let oldest = self.streams.iter().min_by_key(|(_, (_, used))| *used).map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                self.streams.remove(&oldest);
            }
        }
        let clock = self.clock;
        let (detector, used) =
            self.streams.entry(stream).or_insert_with(|| (StreamDetector::new(self.config), clock));
        *used = clock;
        detector.record(page)
    }

    /// Forgets `stream` (its iterator ended or its file is gone).
    pub fn forget(&mut self, stream: StreamId) {
        self.streams.remove(&stream);
    }

    /// Number of streams tracked.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// Whether no stream is tracked.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }
}

#[cfg(test)]
mod tests;

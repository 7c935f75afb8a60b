//! Unit tests of the access-pattern detector.

use super::{PatternDetector, PrefetchConfig, ReadAhead, StreamDetector, StreamId};

fn config(window_pages: u32) -> PrefetchConfig {
    PrefetchConfig { window_pages, ..PrefetchConfig::default() }
}

fn pages(read_ahead: Option<ReadAhead>) -> Vec<u64> {
    read_ahead.map(|r| r.pages().collect()).unwrap_or_default()
}

#[test]
fn sequential_scan_triggers_after_confirmations_and_tops_up_at_half_window() {
    let mut d = StreamDetector::new(config(8));
    assert_eq!(d.record(100), None);
    assert_eq!(d.record(101), None, "one stride is not a pattern yet");
    assert_eq!(pages(d.record(102)), (103..=110).collect::<Vec<_>>());
    for page in 103..=105 {
        assert_eq!(d.record(page), None, "more than half the window is still ahead at {page}");
    }
    assert_eq!(pages(d.record(106)), (111..=114).collect::<Vec<_>>(), "topped up to 8 ahead");
}

#[test]
fn steady_scan_asks_for_every_page_once() {
    let mut d = StreamDetector::new(config(16));
    let mut asked = Vec::new();
    for page in 0..1000 {
        asked.extend(pages(d.record(page)));
    }
    let last = *asked.last().unwrap();
    assert!((1000..=999 + 16).contains(&last), "kept up to a window ahead, last {last}");
    assert_eq!(asked, (3..=last).collect::<Vec<_>>(), "no page twice, none skipped");
    assert!(asked.len() / 8 >= 100, "asked in batches of half a window");
}

#[test]
fn strided_and_reverse_patterns_are_recognised() {
    let mut d = StreamDetector::new(config(4));
    for page in [10, 13] {
        assert_eq!(d.record(page), None);
    }
    let r = d.record(16).expect("stride 3 confirmed twice");
    assert_eq!((r.stride, r.count), (3, 4));
    assert_eq!(pages(Some(r)), [19, 22, 25, 28]);

    let mut d = StreamDetector::new(config(4));
    d.record(50);
    d.record(49);
    assert_eq!(pages(d.record(48)), [47, 46, 45, 44]);
}

#[test]
fn random_access_and_broken_patterns_read_nothing_ahead() {
    let mut d = StreamDetector::new(config(8));
    for page in [5, 900, 17, 4000, 3, 77, 78, 200] {
        assert_eq!(d.record(page), None, "no pattern at {page}");
    }
    // A pattern, broken, then re-established from scratch.
    let mut d = StreamDetector::new(config(8));
    for page in [1, 2, 3] {
        d.record(page);
    }
    assert_eq!(d.record(10), None, "a new stride resets the run");
    assert_eq!(d.record(10), None, "re-reading a page is neutral");
    assert_eq!(d.record(11), None);
    assert_eq!(pages(d.record(12)), (13..=20).collect::<Vec<_>>(), "issued pages were reset too");
}

#[test]
fn strides_beyond_the_limit_are_random_access() {
    let mut d =
        StreamDetector::new(PrefetchConfig { max_stride_pages: 10, ..PrefetchConfig::default() });
    for page in [0, 100, 200, 300, 400] {
        assert_eq!(d.record(page), None);
    }
}

#[test]
fn ranges_stop_at_the_ends_of_the_page_space() {
    let mut d = StreamDetector::new(config(8));
    for page in [4, 3] {
        d.record(page);
    }
    assert_eq!(pages(d.record(2)), [1, 0], "a reverse scan stops at page 0");
    assert_eq!(d.record(1), None);
    assert_eq!(d.record(0), None, "nothing is left below page 0");

    let top = u64::MAX;
    let mut d = StreamDetector::new(config(8));
    for page in [top - 4, top - 3] {
        d.record(page);
    }
    assert_eq!(pages(d.record(top - 2)), [top - 1, top], "a forward scan stops at u64::MAX");
    let mut d = StreamDetector::new(config(8));
    assert_eq!(d.record(0), None);
    assert_eq!(d.record(u64::MAX), None, "a stride beyond i64 is random access");
}

#[test]
fn pattern_detector_keeps_streams_apart_and_bounded() {
    let cfg = PrefetchConfig { max_streams: 2, window_pages: 4, ..PrefetchConfig::default() };
    let mut d = PatternDetector::new(cfg).unwrap();
    let (a, b, c) = (StreamId(1), StreamId(2), StreamId(3));
    // Interleaved streams do not disturb each other.
    for i in 0..2 {
        assert_eq!(d.record(a, 10 + i), None);
        assert_eq!(d.record(b, 500 - 2 * i), None);
    }
    assert_eq!(pages(d.record(a, 12)), [13, 14, 15, 16]);
    assert_eq!(pages(d.record(b, 496)), [494, 492, 490, 488]);
    assert_eq!(d.len(), 2);
    d.record(c, 7); // evicts the least recently used stream, a
    assert_eq!(d.len(), 2);
    assert_eq!(d.record(a, 13), None, "stream a starts over");
    d.forget(c);
    assert_eq!(d.len(), 1);
    assert!(PatternDetector::new(PrefetchConfig { window_pages: 0, ..cfg }).is_err());
}

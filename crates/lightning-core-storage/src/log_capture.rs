//! [`LogCapture`]: a minimal `tracing` subscriber that records every event as a line of text,
//! for tests that check what a component logs (recovery must never repair silently, so its
//! tests assert the repair was logged). Public so that every crate's tests share one copy; no
//! production code uses it.

use std::{
    fmt::Write as _,
    sync::{Arc, Mutex},
};

use tracing::{
    Event, Metadata, Subscriber,
    field::{Field, Visit},
    span,
};

/// Records each event as `field=value ` pairs (the message is the field `message`). `Clone`
/// shares the recorded lines.
#[derive(Debug, Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<String>>>);

impl LogCapture {
    /// A capture that has recorded nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `body` with this capture as the thread's subscriber and returns what it returned.
    pub fn during<T>(&self, body: impl FnOnce() -> T) -> T {
        tracing::subscriber::with_default(self.clone(), body)
    }

    /// The lines recorded so far, in order.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl Subscriber for LogCapture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = Line(String::new());
        event.record(&mut line);
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(line.0);
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_each_event_with_its_fields() {
        let capture = LogCapture::new();
        let answer = capture.during(|| {
            tracing::warn!(segment = 3, bytes = 10, "tail cut");
            42
        });
        assert_eq!(answer, 42);
        let lines = capture.lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("tail cut") && lines[0].contains("segment=3"), "{lines:?}");
        tracing::warn!("not captured: outside `during`");
        assert_eq!(capture.lines().len(), 1);
    }
}
